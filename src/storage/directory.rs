//! Directory details of people (name, e-mail, title, location, start date and
//! the free-form attributes of spec section 1) for the people pages. The
//! engine's dataset carries only what the metrics need; these are read here,
//! everyone in one query, never one query per person.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use chrono::NaiveDate;
use sqlx::Row;

use super::Db;
use crate::on_db;

/// One person's directory row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The database id (`people.id`).
    pub id: i64,
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub start_date: Option<NaiveDate>,
    /// Directory columns beyond the known ones.
    pub attributes: BTreeMap<String, String>,
    /// When directory sync (SCIM) deactivated them; they are kept, with
    /// their history, and shown as deactivated.
    pub deactivated_at: Option<i64>,
}

impl DirectoryEntry {
    /// A directory attribute by name: `title` and `location` are columns,
    /// anything else a free-form attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        match name {
            "title" => self.title.as_deref(),
            "location" => self.location.as_deref(),
            _ => self.attributes.get(name).map(String::as_str),
        }
    }
}

/// Everyone's directory details, by database id.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    entries: HashMap<i64, DirectoryEntry>,
    /// Every free-form attribute name that some person has, sorted.
    pub attribute_names: Vec<String>,
}

impl Directory {
    pub fn get(&self, id: i64) -> Option<&DirectoryEntry> {
        self.entries.get(&id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn from_entries(entries: impl IntoIterator<Item = DirectoryEntry>) -> Directory {
        let entries: HashMap<i64, DirectoryEntry> = entries.into_iter().map(|e| (e.id, e)).collect();
        let names: BTreeSet<&str> = entries.values().flat_map(|e| e.attributes.keys().map(String::as_str)).collect();
        let attribute_names = names.into_iter().map(str::to_string).collect();
        Directory { entries, attribute_names }
    }
}

const COLUMNS: &str = "id, user_id, name, email, department, title, location, start_date, attributes, deactivated_at";

fn parse_attributes(json: &str) -> BTreeMap<String, String> {
    if json.trim() == "{}" {
        return BTreeMap::new();
    }
    // Values are stored as strings; anything else is shown as its JSON text.
    match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(json) {
        Ok(map) => map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        Err(_) => BTreeMap::new(),
    }
}

fn parse_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

macro_rules! entry_from_row {
    ($r:expr) => {{
        let r = $r;
        let attributes: Option<String> = r.try_get("attributes")?;
        Ok::<_, anyhow::Error>(DirectoryEntry {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            department: r.try_get("department")?,
            title: r.try_get("title")?,
            location: r.try_get("location")?,
            start_date: parse_date(r.try_get("start_date")?),
            attributes: attributes.as_deref().map(parse_attributes).unwrap_or_default(),
            deactivated_at: r.try_get("deactivated_at")?,
        })
    }};
}

/// Everyone's directory details, in one query.
pub async fn load(db: &Db) -> Result<Directory> {
    let sql = format!("SELECT {COLUMNS} FROM people");
    let entries: Vec<DirectoryEntry> = on_db!(db, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| entry_from_row!(r))
            .collect::<Result<Vec<_>>>()?
    });
    Ok(Directory::from_entries(entries))
}

/// One person's directory details by database id.
pub async fn get(db: &Db, id: i64) -> Result<Option<DirectoryEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE id = $1");
    let entry = on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await? {
            Some(r) => Some(entry_from_row!(&r)?),
            None => None,
        }
    });
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_parse_leniently() {
        assert!(parse_attributes("{}").is_empty());
        assert!(parse_attributes("not json").is_empty());
        let a = parse_attributes(r#"{"cost_center":"CC1","floor":3}"#);
        assert_eq!(a.get("cost_center").map(String::as_str), Some("CC1"));
        assert_eq!(a.get("floor").map(String::as_str), Some("3"));
    }

    #[test]
    fn attribute_names_are_collected_and_known_columns_resolved() {
        let mut a = DirectoryEntry { id: 1, title: Some("Staff".into()), ..Default::default() };
        a.attributes.insert("cost_center".into(), "CC1".into());
        let mut b = DirectoryEntry { id: 2, location: Some("Paris".into()), ..Default::default() };
        b.attributes.insert("badge".into(), "7".into());
        b.attributes.insert("cost_center".into(), "CC2".into());
        let d = Directory::from_entries([a, b]);
        assert_eq!(d.attribute_names, vec!["badge".to_string(), "cost_center".to_string()]);
        assert_eq!(d.get(1).and_then(|e| e.attribute("title")), Some("Staff"));
        assert_eq!(d.get(2).and_then(|e| e.attribute("location")), Some("Paris"));
        assert_eq!(d.get(2).and_then(|e| e.attribute("cost_center")), Some("CC2"));
        assert_eq!(d.get(1).and_then(|e| e.attribute("badge")), None);
        assert_eq!(d.len(), 2);
    }
}
