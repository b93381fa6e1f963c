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
fn key_ci(object: &Map<String, Value>, name: &str) -> String {
    object.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string())
}

fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match get_ci(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ScimError::invalid_value(format!("`{name}` must be a string"))),
    }
}

/// A boolean, also written as the strings "True" and "False" (Entra ID).
fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!("`{name}` must be true or false"))),
    }
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ScimError> {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// A PATCH path: an attribute (inside the enterprise extension or not),
/// an optional `[attribute eq "value"]` filter and an optional sub-attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Path {
    extension: bool,
    attribute: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

fn parse_path(path: &str) -> Result<Path, ScimError> {
    let bad = || ScimError::new(400, Some("invalidPath"), format!("cannot read the path `{path}`"));
    let mut rest = path.trim();
    let mut extension = false;
    let lower = rest.to_ascii_lowercase();
    let enterprise = ENTERPRISE_SCHEMA.to_ascii_lowercase();
    if lower == enterprise {
        return Ok(Path { extension: false, attribute: ENTERPRISE_SCHEMA.into(), filter: None, sub: None });
    }
    if lower.starts_with(&format!("{enterprise}:")) {
        extension = true;
        rest = &rest[enterprise.len() + 1..];
    } else {
        for schema in [USER_SCHEMA, GROUP_SCHEMA] {
            if lower.starts_with(&format!("{}:", schema.to_ascii_lowercase())) {
                rest = &rest[schema.len() + 1..];
            }
        }
    }
    let (attribute, filter, sub) = match rest.split_once('[') {
        Some((attribute, tail)) => {
            let (inside, after) = tail.split_once(']').ok_or_else(bad)?;
            let f = parse_filter(inside).map_err(|_| bad())?;
            let sub = match after {
                "" => None,
                s => Some(s.strip_prefix('.').ok_or_else(bad)?.to_string()),
            };
            (attribute.to_string(), Some((f.attribute, f.value)), sub)
        }
        None => match rest.split_once('.') {
            Some((a, s)) => (a.to_string(), None, Some(s.to_string())),
            None => (rest.to_string(), None, None),
        },
    };
    if attribute.is_empty() || sub.as_deref() == Some("") {
        return Err(bad());
    }
    Ok(Path { extension, attribute, filter, sub })
}

/// The object a path's attribute lives in (created on add and replace).
fn container<'a>(resource: &'a mut Map<String, Value>, path: &Path, op: Op) -> Option<&'a mut Map<String, Value>> {
    if !path.extension {
        return Some(resource);
    }
    let key = key_ci(resource, ENTERPRISE_SCHEMA);
    if op == Op::Remove && !resource.contains_key(&key) {
        return None;
    }
    let slot = resource.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

fn matches(element: &Value, filter: &(String, String)) -> bool {
    let Some(o) = element.as_object() else { return false };
    match get_ci(o, &filter.0) {
        Some(Value::String(s)) => s.eq_ignore_ascii_case(&filter.1),
        Some(other) => other.to_string().eq_ignore_ascii_case(&filter.1),
        None => false,
    }
}

/// Sets `key` of `target` to `value`; objects given for an object merge
/// into it, one key at a time.
fn set_value(target: &mut Map<String, Value>, key: String, value: Value) {
    match (target.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(given)) => {
            for (k, v) in given {
                let k = key_ci(existing, &k);
                set_value(existing, k, v);
            }
        }
        (_, value) => {
            target.insert(key, value);
        }
    }
}

/// The same element by its `value` (members, e-mails), or equal as a whole.
fn same_element(a: &Value, b: &Value) -> bool {
    let value = |v: &Value| v.as_object().and_then(|o| get_ci(o, "value")).cloned();
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn apply_filtered(target: &mut Map<String, Value>, key: String, path: &Path, op: Op, value: Option<Value>) {
    let filter = path.filter.as_ref().expect("a filtered path");
    if op == Op::Remove {
        if let Some(Value::Array(list)) = target.get_mut(&key) {
            match &path.sub {
                Some(sub) => list.iter_mut().filter(|e| matches(e, filter)).for_each(|e| {
                    if let Some(o) = e.as_object_mut() {
                        let k = key_ci(o, sub);
                        o.remove(&k);
                    }
                }),
                None => list.retain(|e| !matches(e, filter)),
            }
        }
        return;
    }
    let slot = target.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    let list = slot.as_array_mut().expect("an array");
    if !list.iter().any(|e| matches(e, filter)) {
        list.push(json!({ filter.0.clone(): filter.1.clone() }));
    }
    let value = value.unwrap_or(Value::Null);
    for element in list.iter_mut().filter(|e| matches(e, filter)) {
        let Some(o) = element.as_object_mut() else { continue };
        match &path.sub {
            Some(sub) => {
                let k = key_ci(o, sub);
                o.insert(k, value.clone());
            }
            None => {
                if let Value::Object(given) = &value {
                    for (k, v) in given {
                        let k = key_ci(o, k);
                        o.insert(k, v.clone());
                    }
                }
            }
        }
    }
}

fn apply_plain(target: &mut Map<String, Value>, key: String, op: Op, value: Option<Value>) {
    match (op, target.get_mut(&key), value) {
        // Removing some members (or e-mails) given as a list (Entra ID).
        (Op::Remove, Some(Value::Array(list)), Some(Value::Array(gone))) => {
            list.retain(|e| !gone.iter().any(|g| same_element(e, g)));
        }
        (Op::Remove, _, _) => {
            target.remove(&key);
        }
        (Op::Add, Some(Value::Array(list)), Some(value)) => {
            let added = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            for item in added {
                if !list.iter().any(|e| same_element(e, &item)) {
                    list.push(item);
                }
            }
        }
        (Op::Add | Op::Replace, _, Some(value)) => set_value(target, key, value),
        (Op::Add | Op::Replace, _, None) => {}
    }
}

fn apply_at(resource: &mut Map<String, Value>, path: &Path, op: Op, value: Option<Value>) -> Result<(), ScimError> {
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax("an add or replace operation needs a `value`"));
    }
    let Some(target) = container(resource, path, op) else { return Ok(()) };
    let key = key_ci(target, &path.attribute);
    if path.filter.is_some() {
        apply_filtered(target, key, path, op, value);
        return Ok(());
    }
    match &path.sub {
        Some(sub) => {
            if op == Op::Remove {
                if let Some(Value::Object(o)) = target.get_mut(&key) {
                    let k = key_ci(o, sub);
                    o.remove(&k);
                }
                return Ok(());
            }
            let slot = target.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let o = slot.as_object_mut().expect("an object");
            let k = key_ci(o, sub);
            o.insert(k, value.unwrap_or(Value::Null));
        }
        None => apply_plain(target, key, op, value),
    }
    Ok(())
}

/// Applies a PATCH body (RFC 7644 §3.5.2) to a resource's JSON.
pub fn apply_patch(resource: &mut Value, body: &Value) -> Result<(), ScimError> {
    let o = object(body, "a PATCH body")?;
    let ops = match get_ci(o, "Operations") {
        Some(Value::Array(ops)) => ops,
        _ => return Err(ScimError::invalid_syntax("a PATCH body needs an `Operations` list")),
    };
    let target = resource.as_object_mut().ok_or_else(|| ScimError::invalid_syntax("not a resource"))?;
    for operation in ops {
        let operation = object(operation, "an operation")?;
        let op = match text(operation, "op")?.map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => return Err(ScimError::invalid_syntax("`op` must be add, replace or remove")),
        };
        let value = get_ci(operation, "value").cloned();
        match text(operation, "path")? {
            Some(path) => apply_at(target, &parse_path(&path)?, op, value)?,
            None if op == Op::Remove => {
                return Err(ScimError::new(400, Some("noTarget"), "a remove operation needs a `path`"));
            }
            None => {
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::invalid_syntax("an operation without a path needs an object `value`"));
                };
                for (k, v) in values {
                    apply_at(target, &parse_path(&k)?, op, Some(v))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Value {
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

    fn patch(resource: &mut Value, ops: Value) -> Result<(), ScimError> {
        apply_patch(resource, &json!({"schemas": [PATCH_SCHEMA], "Operations": ops}))
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
    fn entra_style_replace_of_active_as_a_string() {
        let mut r = user();
        patch(&mut r, json!([{"op": "Replace", "path": "active", "value": "False"}])).unwrap();
        assert!(!user_from_json(&r).unwrap().active);
    }

    #[test]
    fn path_less_values_with_paths_as_keys() {
        let mut r = user();
        let value = json!({
            "active": false,
            "name.givenName": "Augusta",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Maths",
            "title": "Countess",
        });
        patch(&mut r, json!([{"op": "replace", "value": value}])).unwrap();
        let u = user_from_json(&r).unwrap();
        assert_eq!(u.given_name.as_deref(), Some("Augusta"));
        assert_eq!(u.department.as_deref(), Some("Maths"));
        assert_eq!(u.employee_number.as_deref(), Some("E1"), "the rest of the extension is kept");
        assert_eq!(u.title.as_deref(), Some("Countess"));
        assert!(!u.active);
    }

    #[test]
    fn filtered_paths_set_and_remove_elements() {
        let mut r = user();
        patch(&mut r, json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@x.example"}]))
            .unwrap();
        assert_eq!(user_from_json(&r).unwrap().emails[0], "a@x.example");
        patch(&mut r, json!([{"op": "remove", "path": "members[value eq \"a\"]"}])).unwrap();
        assert_eq!(r["members"], json!([{"value": "b"}]));
    }

    #[test]
    fn members_are_added_once_and_removed_by_a_value_list() {
        let mut r = user();
        patch(&mut r, json!([{"op": "Add", "path": "members", "value": [{"value": "b"}, {"value": "c"}]}])).unwrap();
        assert_eq!(r["members"].as_array().unwrap().len(), 3);
        patch(&mut r, json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "c"}]}])).unwrap();
        assert_eq!(r["members"], json!([{"value": "b"}]));
        patch(&mut r, json!([{"op": "remove", "path": "members"}])).unwrap();
        assert!(r.get("members").is_none());
    }

    #[test]
    fn bad_operations_are_scim_errors() {
        let mut r = user();
        let e = patch(&mut r, json!([{"op": "move", "path": "active"}])).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
        let e = patch(&mut r, json!([{"op": "remove"}])).unwrap_err();
        assert_eq!(e.scim_type, Some("noTarget"));
        let e = patch(&mut r, json!([{"op": "add", "path": "emails[type eq"}])).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidPath"));
        assert!(apply_patch(&mut r, &json!({"Operations": "x"})).is_err());
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
