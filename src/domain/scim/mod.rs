//! SCIM 2.0 resources (RFC 7643) and the protocol's rules that need no I/O
//! (RFC 7644): reading a User or Group from its JSON, PATCH operations
//! (applied to the resource's JSON, which is then read like a PUT body, so
//! PUT and PATCH share one reading), list filters and pagination.
//!
//! Identity providers differ in the details; these are accepted: attribute
//! names in any case, `"active": "False"` as a string (Entra ID), path-less
//! PATCH values whose keys are paths (`"name.givenName"`, the enterprise
//! extension's `urn:...:User:department`), `op` in any case, and removing
//! members by a value list (Entra ID) or a filter (Okta).

use serde_json::{Map, Value, json};

mod patch;
pub use patch::apply_patch;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The most resources one list answer carries.
pub const MAX_COUNT: usize = 200;

/// A SCIM error (RFC 7644 §3.12): an HTTP status, the `scimType` where the
/// RFC names one, and a detail for the client's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> ScimError {
        ScimError { status, scim_type, detail: detail.into() }
    }

    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some("invalidValue"), detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some("invalidSyntax"), detail)
    }

    pub fn not_found(what: &str, id: &str) -> ScimError {
        ScimError::new(404, None, format!("{what} {id} not found"))
    }

    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some("uniqueness"), detail)
    }

    /// The error's body.
    pub fn body(&self) -> Value {
        let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            body["scimType"] = Value::String(t.to_string());
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for ScimError {}

/// A User as SCIM writes it, read from its JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScimUser {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `displayName`, else `name.formatted`, else given and family names.
    pub display_name: Option<String>,
    /// E-mail addresses, the primary one first.
    pub emails: Vec<String>,
    pub active: bool,
    pub title: Option<String>,
    pub department: Option<String>,
    pub employee_number: Option<String>,
}

/// A Group as SCIM writes it: its name and its members' SCIM user ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScimGroup {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

/// A member of an object by name, in any case (SCIM attribute names are
/// case-insensitive).
pub fn get_ci<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The key an object holds `name` under, or `name` when it has none.
pub(super) fn key_ci(object: &Map<String, Value>, name: &str) -> String {
    object.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string())
}

pub(super) fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match get_ci(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ScimError::invalid_value(format!("`{name}` must be a string"))),
    }
}

/// A boolean, also written as the strings "True" and "False" (Entra ID).
pub(super) fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!("`{name}` must be true or false"))),
    }
}

pub(super) fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ScimError> {
    value.as_object().ok_or_else(|| ScimError::invalid_syntax(format!("{what} must be a JSON object")))
}

fn sub_object<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Map<String, Value>>, ScimError> {
    match get_ci(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(ScimError::invalid_value(format!("`{name}` must be an object"))),
    }
}

fn emails(o: &Map<String, Value>) -> Result<Vec<String>, ScimError> {
    let list = match get_ci(o, "emails") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ScimError::invalid_value("`emails` must be a list")),
    };
    let mut out: Vec<(bool, String)> = Vec::new();
    for e in list {
        let e = object(e, "an e-mail")?;
        let Some(value) = text(e, "value")? else { continue };
        let primary = get_ci(e, "primary").map(|p| boolean(p, "primary")).transpose()?.unwrap_or(false);
        out.push((primary, value));
    }
    // The primary address first; otherwise the order given.
    out.sort_by_key(|(primary, _)| !primary);
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

/// Reads a User from a POST or PUT body (or a patched resource).
pub fn user_from_json(body: &Value) -> Result<ScimUser, ScimError> {
    let o = object(body, "a User")?;
    let user_name = text(o, "userName")?.ok_or_else(|| ScimError::invalid_value("`userName` is required"))?;
    if user_name.chars().count() > 320 {
        return Err(ScimError::invalid_value("`userName` is longer than 320 characters"));
    }
    let name = sub_object(o, "name")?;
    let part = |n: &str| name.map(|m| text(m, n)).transpose().map(Option::flatten);
    let (given_name, family_name) = (part("givenName")?, part("familyName")?);
    let joined = [given_name.as_deref(), family_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let display_name =
        text(o, "displayName")?.or(part("formatted")?).or_else(|| Some(joined).filter(|s| !s.is_empty()));
    let active = get_ci(o, "active").filter(|v| !v.is_null()).map(|v| boolean(v, "active")).transpose()?;
    let enterprise = sub_object(o, ENTERPRISE_SCHEMA)?;
    let ext = |n: &str| enterprise.map(|m| text(m, n)).transpose().map(Option::flatten);
    Ok(ScimUser {
        user_name,
        external_id: text(o, "externalId")?,
        given_name,
        family_name,
        display_name,
        emails: emails(o)?,
        active: active.unwrap_or(true),
        title: text(o, "title")?,
        department: ext("department")?,
        employee_number: ext("employeeNumber")?,
    })
}

/// Reads a Group from a POST or PUT body (or a patched resource).
pub fn group_from_json(body: &Value) -> Result<ScimGroup, ScimError> {
    let o = object(body, "a Group")?;
    let display_name = text(o, "displayName")?.ok_or_else(|| ScimError::invalid_value("`displayName` is required"))?;
    let mut members = Vec::new();
    match get_ci(o, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for m in list {
                let id = text(object(m, "a member")?, "value")?
                    .ok_or_else(|| ScimError::invalid_value("a member needs a `value` (the user's id)"))?;
                if !members.contains(&id) {
                    members.push(id);
                }
            }
        }
        Some(_) => return Err(ScimError::invalid_value("`members` must be a list")),
    }
    Ok(ScimGroup { display_name, external_id: text(o, "externalId")?, members })
}

/// The common `meta` of a resource.
pub struct Meta<'a> {
    pub resource_type: &'a str,
    pub created: &'a str,
    pub last_modified: &'a str,
    pub location: &'a str,
}

fn meta_json(meta: &Meta) -> Value {
    json!({
        "resourceType": meta.resource_type,
        "created": meta.created,
        "lastModified": meta.last_modified,
        "location": meta.location,
    })
}

/// A User's JSON as the server answers it.
pub fn user_json(id: &str, user: &ScimUser, meta: &Meta) -> Value {
    let mut name = Map::new();
    for (k, v) in
        [("givenName", &user.given_name), ("familyName", &user.family_name), ("formatted", &user.display_name)]
    {
        if let Some(v) = v {
            name.insert(k.into(), Value::String(v.clone()));
        }
    }
    let emails: Vec<Value> =
        user.emails.iter().enumerate().map(|(i, e)| json!({ "value": e, "type": "work", "primary": i == 0 })).collect();
    let mut out = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": id,
        "userName": user.user_name,
        "name": name,
        "emails": emails,
        "active": user.active,
        ENTERPRISE_SCHEMA: {},
        "meta": meta_json(meta),
    });
    let optional = [("externalId", &user.external_id), ("displayName", &user.display_name), ("title", &user.title)];
    for (k, v) in optional {
        if let Some(v) = v {
            out[k] = Value::String(v.clone());
        }
    }
    for (k, v) in [("department", &user.department), ("employeeNumber", &user.employee_number)] {
        if let Some(v) = v {
            out[ENTERPRISE_SCHEMA][k] = Value::String(v.clone());
        }
    }
    out
}

/// A Group's JSON as the server answers it; members are (id, display, ref).
pub fn group_json(id: &str, group: &ScimGroup, members: &[(String, String, String)], meta: &Meta) -> Value {
    let members: Vec<Value> =
        members.iter().map(|(id, display, r)| json!({ "value": id, "display": display, "$ref": r })).collect();
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": id,
        "displayName": group.display_name,
        "members": members,
        "meta": meta_json(meta),
    });
    if let Some(e) = &group.external_id {
        out["externalId"] = Value::String(e.clone());
    }
    out
}

/// A list answer (RFC 7644 §3.4.2).
pub fn list_json(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A list's page: `startIndex` is 1-based (below 1 counts as 1), `count`
/// defaults to and is capped at [`MAX_COUNT`] (below 0 counts as 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub start_index: usize,
    pub count: usize,
}

impl Page {
    pub fn parse(start_index: Option<&str>, count: Option<&str>) -> Result<Page, ScimError> {
        let number = |s: Option<&str>, name: &str| {
            s.map(|s| {
                s.trim().parse::<i64>().map_err(|_| ScimError::invalid_value(format!("`{name}` must be an integer")))
            })
            .transpose()
        };
        let start = number(start_index, "startIndex")?.unwrap_or(1).max(1) as usize;
        let count = number(count, "count")?.map_or(MAX_COUNT, |c| c.clamp(0, MAX_COUNT as i64) as usize);
        Ok(Page { start_index: start, count })
    }

    pub fn offset(self) -> usize {
        self.start_index - 1
    }
}

/// A list filter: one attribute compared with `eq` to a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The attribute, lower-cased, without a schema prefix (`username`,
    /// `externalid`, `emails.value`, `displayname`, `id`).
    pub attribute: String,
    pub value: String,
}

/// Reads `attribute eq "value"`; other operators are refused as
/// `invalidFilter`.
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    let invalid = |why: &str| ScimError::new(400, Some("invalidFilter"), format!("{why}: {text}"));
    let t = text.trim();
    let (attribute, rest) = t.split_once(char::is_whitespace).ok_or_else(|| invalid("not `attribute eq \"value\"`"))?;
    let rest = rest.trim_start();
    let (op, value) = rest.split_once(char::is_whitespace).ok_or_else(|| invalid("not `attribute eq \"value\"`"))?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(invalid("only the `eq` operator is supported"));
    }
    let value = value.trim();
    let value = if value.starts_with('"') {
        serde_json::from_str::<String>(value).map_err(|_| invalid("the value is not a quoted string"))?
    } else {
        value.to_string()
    };
    let mut attribute = attribute.to_ascii_lowercase();
    for schema in [USER_SCHEMA, GROUP_SCHEMA] {
        if let Some(rest) = attribute.strip_prefix(&format!("{}:", schema.to_ascii_lowercase())) {
            attribute = rest.to_string();
        }
    }
    if attribute == "emails" {
        attribute = "emails.value".into();
    }
    Ok(Filter { attribute, value })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "userName": "ada@corp.example",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "other@corp.example"}, {"value": "ada@corp.example", "type": "work", "primary": true}],
            "active": true,
            ENTERPRISE_SCHEMA: {"department": "R&D", "employeeNumber": "E1"},
            "members": [{"value": "a"}, {"value": "b"}],
        })
    }

    #[test]
    fn a_user_is_read_with_its_primary_email_first_and_the_extension() {
        let u = user_from_json(&user()).unwrap();
        assert_eq!(u.emails, vec!["ada@corp.example", "other@corp.example"]);
        assert_eq!(u.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!((u.department.as_deref(), u.employee_number.as_deref()), (Some("R&D"), Some("E1")));
        assert!(u.active);
        let e = user_from_json(&json!({"name": {}})).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some("invalidValue")));
        assert_eq!(e.body()["schemas"][0], ERROR_SCHEMA);
        assert_eq!(e.body()["status"], "400");
    }

    #[test]
    fn filters_and_pages() {
        let f = parse_filter("userName eq \"Ada@Corp.example\"").unwrap();
        assert_eq!(f, Filter { attribute: "username".into(), value: "Ada@Corp.example".into() });
        assert_eq!(parse_filter("emails eq \"a\"").unwrap().attribute, "emails.value");
        assert_eq!(parse_filter("userName co \"a\"").unwrap_err().scim_type, Some("invalidFilter"));
        assert!(parse_filter("userName").is_err());
        assert_eq!(Page::parse(Some("0"), Some("-5")).unwrap(), Page { start_index: 1, count: 0 });
        assert_eq!(Page::parse(None, Some("9999")).unwrap().count, MAX_COUNT);
        assert!(Page::parse(Some("x"), None).is_err());
    }
}
