//! The fields of each report: their names and keys, which are required,
//! and what a missing one means.

use super::super::source::normalise_header;

/// Whether a field must be present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Need {
    Optional,
    Required,
    /// Required unless the field with this index is present.
    Unless(usize),
}

/// A column (CSV) or key (JSON) a format reads. Each format lists its fields
/// in a slice where `FIELDS[f.index]` is `f`.
#[derive(Debug)]
pub(super) struct Field {
    pub(super) index: usize,
    /// The name as the vendor documents it; used in messages.
    pub(super) name: &'static str,
    /// Other accepted names.
    pub(super) also: &'static [&'static str],
    pub(super) need: Need,
}

impl Field {
    pub(super) const fn new(index: usize, name: &'static str) -> Field {
        Field { index, name, also: &[], need: Need::Optional }
    }

    pub(super) const fn required(self) -> Field {
        Field { need: Need::Required, ..self }
    }

    pub(super) const fn unless(self, other: &Field) -> Field {
        Field { need: Need::Unless(other.index), ..self }
    }

    pub(super) const fn or(self, also: &'static [&'static str]) -> Field {
        Field { also, ..self }
    }

    /// Every accepted name, normalised.
    pub(super) fn keys(&self) -> Vec<String> {
        std::iter::once(self.name).chain(self.also.iter().copied()).map(key).collect()
    }
}

/// A header name or JSON key compared loosely: see the module comment. A
/// single camelCase word (Graph's `teamChatMessageCount`, Google's
/// `userEmail`) becomes snake_case first (`team_chat_message_count`).
pub(super) fn key(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}').trim();
    let camel = !name.contains(|c: char| c.is_whitespace() || c == '_')
        && name.contains(|c: char| c.is_ascii_lowercase())
        && name.contains(|c: char| c.is_ascii_uppercase());
    if !camel {
        return normalise_header(name).replace(' ', "_");
    }
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        previous = Some(c);
    }
    out
}

/// True when `key(k) == k`, to skip the allocation for ordinary JSON keys.
pub(super) fn is_key_form(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_:()-".contains(&b))
}

/// The message for a missing field, or `None` if the needs are met.
pub(super) fn missing(fields: &[Field], present: impl Fn(usize) -> bool) -> Option<(&'static str, String)> {
    for f in fields {
        match f.need {
            Need::Optional => {}
            Need::Required if !present(f.index) => return Some((f.name, String::new())),
            Need::Unless(other) if !present(f.index) && !present(other) => {
                let other = fields.get(other).map(|o| o.name).unwrap_or("?");
                return Some((f.name, format!(" (or `{other}`)")));
            }
            Need::Required | Need::Unless(_) => {}
        }
    }
    None
}
