//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: `add`, `replace`
//! and `remove`, with or without a path, filtered paths
//! (`emails[type eq "work"].value`, `members[value eq "…"]`), the
//! enterprise extension by its URN, and the forms Entra ID and Okta send.

use serde_json::{Map, Value, json};

use super::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, ScimError, USER_SCHEMA, get_ci, key_ci, object, parse_filter, text};

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
    use crate::domain::scim::tests::user;
    use crate::domain::scim::{PATCH_SCHEMA, user_from_json};

    fn patch(resource: &mut Value, ops: Value) -> Result<(), ScimError> {
        apply_patch(resource, &json!({"schemas": [PATCH_SCHEMA], "Operations": ops}))
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
}
