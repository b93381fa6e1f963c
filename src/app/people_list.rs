//! The people list's rules: which people match the filters and in what
//! order, with the tier counts of those matching every filter but the tier.
//! Pages and the CSV download share them; the handlers only parse the query
//! and render.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::app::evaluate::Computed;
use crate::domain::dataset::Person;
use crate::domain::decimal::Ratio;
use crate::domain::evaluation::PersonResult;
use crate::domain::tier::Tier;
use crate::storage::directory::{Directory, DirectoryEntry};

/// A column of the list, which is also a sort key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    UserId,
    Name,
    Department,
    Tier,
    ActiveDays,
    InteractiveDays,
    Sessions,
    LoginDepth,
    MessagesSent,
    FeatureBreadth,
    MedianReply,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::UserId,
        Column::Name,
        Column::Department,
        Column::Tier,
        Column::ActiveDays,
        Column::InteractiveDays,
        Column::Sessions,
        Column::LoginDepth,
        Column::MessagesSent,
        Column::FeatureBreadth,
        Column::MedianReply,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::UserId => "user_id",
            Column::Name => "name",
            Column::Department => "department",
            Column::Tier => "tier",
            Column::ActiveDays => "active_days",
            Column::InteractiveDays => "interactive_days",
            Column::Sessions => "sessions",
            Column::LoginDepth => "login_depth",
            Column::MessagesSent => "messages_sent",
            Column::FeatureBreadth => "feature_breadth",
            Column::MedianReply => "median_reply_minutes",
        }
    }

    pub fn parse(s: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == s)
    }

    pub fn numeric(self) -> bool {
        !matches!(self, Column::UserId | Column::Name | Column::Department | Column::Tier)
    }

    pub fn label_key(self) -> String {
        format!("people.col.{}", self.key())
    }
}

/// The list's filters, sort and page, checked.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub as_of: Option<NaiveDate>,
    pub window: Option<u32>,
    pub q: String,
    pub tier: Option<Tier>,
    pub department: String,
    pub attr: String,
    pub value: String,
    pub sort: Option<Column>,
    pub desc: bool,
    pub page: usize,
}

impl Filters {
    pub fn sort_column(&self) -> Column {
        self.sort.unwrap_or(Column::UserId)
    }

    /// Whether any filter narrows the list (the date and window do not).
    pub fn narrows(&self) -> bool {
        !self.q.is_empty()
            || self.tier.is_some()
            || !self.department.is_empty()
            || (!self.attr.is_empty() && !self.value.is_empty())
    }

    /// The date and window, as query parameters.
    pub fn window_params(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(d) = self.as_of {
            out.push(("as_of", d.to_string()));
        }
        if let Some(w) = self.window {
            out.push(("window", w.to_string()));
        }
        out
    }

    /// The filters (not sort or page), as query parameters.
    pub fn filter_params(&self) -> Vec<(&'static str, String)> {
        let mut out = self.window_params();
        if !self.q.is_empty() {
            out.push(("q", self.q.clone()));
        }
        if let Some(t) = self.tier {
            out.push(("tier", t.as_str().to_string()));
        }
        if !self.department.is_empty() {
            out.push(("department", self.department.clone()));
        }
        if !self.attr.is_empty() && !self.value.is_empty() {
            out.push(("attr", self.attr.clone()));
            out.push(("value", self.value.clone()));
        }
        out
    }

    pub fn sort_params(&self, column: Column, desc: bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if column != Column::UserId {
            out.push(("sort", column.key().to_string()));
        }
        if desc {
            out.push(("dir", "desc".to_string()));
        }
        out
    }

    /// The query parameters of the list with these filters, a sort and a
    /// page.
    pub fn params(&self, column: Column, desc: bool, page: usize) -> Vec<(&'static str, String)> {
        let mut params = self.filter_params();
        params.extend(self.sort_params(column, desc));
        if page > 1 {
            params.push(("page", page.to_string()));
        }
        params
    }
}

/// A listed person with what the list shows about them.
pub struct Item<'a> {
    /// Position in the evaluation (user id order).
    pub pos: usize,
    pub result: &'a PersonResult,
    pub person: &'a Person,
    pub entry: Option<&'a DirectoryEntry>,
}

impl Item<'_> {
    pub fn name(&self) -> Option<&str> {
        self.entry.and_then(|e| e.name.as_deref()).filter(|s| !s.trim().is_empty())
    }

    pub fn email(&self) -> Option<&str> {
        self.entry.and_then(|e| e.email.as_deref()).filter(|s| !s.trim().is_empty())
    }

    /// When directory sync deactivated them, if it did.
    pub fn deactivated_at(&self) -> Option<i64> {
        self.entry.and_then(|e| e.deactivated_at)
    }

    pub fn department(&self) -> Option<&str> {
        self.person.department.as_deref().filter(|s| !s.trim().is_empty())
    }
}

/// A sort value; `None` (no value) always sorts last.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Text(String),
    Number(u64),
    Exact(Ratio),
}

fn sort_value(item: &Item<'_>, column: Column) -> Option<SortValue> {
    let c = &item.result.counters;
    let n = |v: u32| Some(SortValue::Number(u64::from(v)));
    match column {
        Column::UserId => Some(SortValue::Number(item.pos as u64)),
        Column::Name => item.name().map(|s| SortValue::Text(s.to_lowercase())),
        Column::Department => item.department().map(|s| SortValue::Text(s.to_lowercase())),
        Column::Tier => {
            Some(SortValue::Number(Tier::ALL.iter().position(|t| *t == item.result.tier).unwrap_or(0) as u64))
        }
        Column::ActiveDays => n(c.active_days),
        Column::InteractiveDays => n(c.interactive_days),
        Column::Sessions => n(c.sessions),
        Column::LoginDepth => c.login_depth().map(SortValue::Exact),
        Column::MessagesSent => n(c.messages_sent),
        Column::FeatureBreadth => n(c.feature_breadth()),
        Column::MedianReply => c.median_reply_minutes().map(SortValue::Exact),
    }
}

/// The people matching the filters, in the requested order, with the tier
/// counts of those matching every filter but the tier.
pub struct Selection<'a> {
    pub items: Vec<Item<'a>>,
    pub tier_counts: BTreeMap<Tier, usize>,
    pub listed: usize,
}

pub fn select<'a>(c: &'a Computed, directory: &'a Directory, f: &Filters) -> Selection<'a> {
    let q = f.q.to_lowercase();
    let value = f.value.to_lowercase();
    let attr_filter = !f.attr.is_empty() && !value.is_empty();
    let mut tier_counts: BTreeMap<Tier, usize> = Tier::ALL.iter().map(|t| (*t, 0)).collect();
    let mut items = Vec::new();
    for (pos, result) in c.evaluation.results.iter().enumerate() {
        let person = &c.data.people[result.person];
        let entry = c.person_ids.get(result.person).and_then(|id| directory.get(*id));
        let item = Item { pos, result, person, entry };
        if !f.department.is_empty() && person.department.as_deref() != Some(f.department.as_str()) {
            continue;
        }
        if !q.is_empty() {
            let hit = person.user_id.to_lowercase().contains(&q)
                || item.name().is_some_and(|n| n.to_lowercase().contains(&q))
                || item.email().is_some_and(|e| e.to_lowercase().contains(&q));
            if !hit {
                continue;
            }
        }
        if attr_filter {
            let hit = entry.and_then(|e| e.attribute(&f.attr)).is_some_and(|v| v.trim().to_lowercase() == value);
            if !hit {
                continue;
            }
        }
        *tier_counts.entry(result.tier).or_default() += 1;
        if f.tier.is_some_and(|t| t != result.tier) {
            continue;
        }
        items.push(item);
    }
    let column = f.sort_column();
    if column != Column::UserId || f.desc {
        let mut keyed: Vec<(Option<SortValue>, Item<'a>)> =
            items.into_iter().map(|item| (sort_value(&item, column), item)).collect();
        keyed.sort_by(|(a, x), (b, y)| {
            match (a, b) {
                (Some(a), Some(b)) => {
                    let o = a.cmp(b);
                    if f.desc { o.reverse() } else { o }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
            .then(x.pos.cmp(&y.pos))
        });
        items = keyed.into_iter().map(|(_, item)| item).collect();
    }
    Selection { items, tier_counts, listed: c.evaluation.results.len() }
}
