//! One record (a CSV row or a JSON object) read field by field: counts,
//! booleans, dates and person ids, each error naming its line and column.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde_json::Value;

use super::super::InputError;
use super::super::timestamp::shorten;
use super::*;

#[derive(Clone, Copy)]
pub(super) enum Val<'a> {
    /// The column or key is not there.
    Missing,
    Text(&'a str),
    Json(&'a Value),
}

pub(super) struct Cell<'a> {
    /// The column name as written in the file, or the key.
    pub(super) column: &'a str,
    pub(super) value: Val<'a>,
}

pub(super) static MISSING_CELL: Cell<'static> = Cell { column: "", value: Val::Missing };

/// One record's values for a format's fields, indexed by `Field::index`.
pub(super) struct Row<'a> {
    pub(super) file: &'a str,
    pub(super) line: u64,
    pub(super) cells: Vec<Cell<'a>>,
    /// The order of slashed dates, when known (see `dates`).
    pub(super) dates: Option<DateOrder>,
    /// The thousands separator counts may carry besides spaces: `,` in a
    /// comma or tab separated file, `.` in a `;` separated one (European
    /// Excel); none in JSON.
    pub(super) group: Option<char>,
}

pub(super) const COUNT: &str = "expected a whole number >= 0";

/// A count, maybe with thousands separators as spreadsheets write them:
/// `1,234` (or `1.234` when `group` is `.`), `1 234` with a space or a
/// non-breaking space. Groups must be whole: `1,2` and `12,34` are not counts.
pub(super) fn parse_count(text: &str, group: Option<char>) -> Result<u32, String> {
    let t = text.trim();
    let ungrouped = ungroup(t, group);
    let t = ungrouped.as_deref().unwrap_or(t);
    if let Ok(n) = t.parse::<u64>() {
        return u32::try_from(n).map_err(|_| format!("{n} is too large; {COUNT} below 4294967296"));
    }
    if let Some(rest) = t.strip_prefix('-')
        && rest.parse::<u64>().is_ok()
    {
        return Err(format!("{t} is negative; {COUNT}"));
    }
    Err(format!("`{}` is not a whole number; {COUNT}", shorten(t)))
}

/// The digits of `text` without its thousands separators, when it is a
/// grouped number: 1 to 3 digits, then groups of exactly 3, one separator
/// throughout (any kind of space counts as one).
pub(super) fn ungroup(text: &str, group: Option<char>) -> Option<String> {
    let is_sep = |c: char| Some(c) == group || matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}');
    let sep = text.chars().find(|c| !c.is_ascii_digit())?;
    if !is_sep(sep) {
        return None;
    }
    let same = |c: char| c == sep || (sep != ',' && sep != '.' && is_sep(c) && c != ',' && c != '.');
    let groups: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).collect();
    let separators_ok = text.chars().filter(|c| !c.is_ascii_digit()).all(same);
    let (first, rest) = groups.split_first()?;
    let shaped = (1..=3).contains(&first.len()) && !rest.is_empty() && rest.iter().all(|g| g.len() == 3);
    (separators_ok && shaped).then(|| groups.concat())
}

pub(super) fn json_count(n: &serde_json::Number) -> Result<u32, String> {
    if let Some(u) = n.as_u64() {
        return u32::try_from(u).map_err(|_| format!("{u} is too large; {COUNT} below 4294967296"));
    }
    if n.as_i64().is_some() {
        return Err(format!("{n} is negative; {COUNT}"));
    }
    match n.as_f64() {
        Some(f) if f < 0.0 => Err(format!("{n} is negative; {COUNT}")),
        Some(f) if f.fract() == 0.0 && f <= f64::from(u32::MAX) => Ok(f as u32),
        _ => Err(format!("{n} is not a whole number; {COUNT}")),
    }
}

pub(super) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        // Excel translates the booleans it recognises when it saves a CSV
        // under German, French, Spanish / Italian and Dutch settings.
        "wahr" | "vrai" | "verdadero" | "vero" | "waar" => Some(true),
        "falsch" | "faux" | "falso" | "onwaar" => Some(false),
        _ => None,
    }
}

impl<'a> Row<'a> {
    pub(super) fn cell(&self, f: &Field) -> &Cell<'a> {
        self.cells.get(f.index).unwrap_or(&MISSING_CELL)
    }

    /// The column name for messages: as written in the file when present.
    pub(super) fn column(&self, f: &Field) -> &'a str {
        match self.cell(f) {
            Cell { column, value: Val::Text(_) | Val::Json(_) } if !column.is_empty() => column,
            _ => f.name,
        }
    }

    pub(super) fn err(&self, f: &Field, message: impl Into<String>) -> InputError {
        InputError::in_column(self.file, self.line, self.column(f), message)
    }

    /// Whether the column or key is there (a JSON `null` counts as absent).
    pub(super) fn present(&self, f: &Field) -> bool {
        !matches!(self.cell(f).value, Val::Missing | Val::Json(Value::Null))
    }

    /// The trimmed text, `None` when absent or empty.
    pub(super) fn text(&self, f: &Field) -> Result<Option<Cow<'a, str>>, InputError> {
        let text: Cow<'a, str> = match self.cell(f).value {
            Val::Missing | Val::Json(Value::Null) => return Ok(None),
            Val::Text(t) => Cow::Borrowed(t.trim()),
            Val::Json(Value::String(s)) => Cow::Borrowed(s.trim()),
            Val::Json(Value::Number(n)) => Cow::Owned(n.to_string()),
            Val::Json(Value::Bool(b)) => Cow::Owned(b.to_string()),
            Val::Json(Value::Array(_)) => return Err(self.err(f, "is a JSON array; expected text or a number")),
            Val::Json(Value::Object(_)) => return Err(self.err(f, "is a JSON object; expected text or a number")),
        };
        Ok(if text.is_empty() { None } else { Some(text) })
    }

    /// A count; `None` when absent or empty.
    pub(super) fn count(&self, f: &Field) -> Result<Option<u32>, InputError> {
        if let Val::Json(Value::Number(n)) = self.cell(f).value {
            return json_count(n).map(Some).map_err(|m| self.err(f, m));
        }
        match self.text(f)? {
            None => Ok(None),
            Some(t) => parse_count(&t, self.group).map(Some).map_err(|m| self.err(f, m)),
        }
    }

    /// A count where an empty value means 0; `None` only when the column is
    /// not there at all.
    pub(super) fn count_or_zero(&self, f: &Field) -> Result<Option<u32>, InputError> {
        Ok(match self.count(f)? {
            Some(n) => Some(n),
            None if self.present(f) => Some(0),
            None => None,
        })
    }

    /// A yes/no value (`Yes`, `True`, `1`, JSON `true` ...); `None` when
    /// absent or empty. `expected` names the vendor's own spelling.
    pub(super) fn boolean(&self, f: &Field, expected: &str) -> Result<Option<bool>, InputError> {
        let value = match self.cell(f).value {
            Val::Json(Value::Bool(b)) => Some(*b),
            Val::Json(Value::Number(n)) => match n.as_u64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => return Err(self.err(f, format!("{n} is not {expected}"))),
            },
            _ => match self.text(f)? {
                None => None,
                Some(t) => {
                    Some(parse_bool(&t).ok_or_else(|| self.err(f, format!("`{}` is not {expected}", shorten(&t))))?)
                }
            },
        };
        Ok(value)
    }

    /// A date read with `parse` (the vendor's own form), else in a form a
    /// spreadsheet writes when it saves the file again (`dates`); `None`
    /// when absent or empty.
    pub(super) fn date(
        &self,
        f: &Field,
        parse: fn(&str) -> Option<NaiveDate>,
        expected: &str,
    ) -> Result<Option<NaiveDate>, InputError> {
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        if let Some(d) = parse(&t) {
            return Ok(Some(d));
        }
        match dates::parse(&t, self.dates) {
            Ok(d) => Ok(Some(d)),
            Err(dates::DateError::Ambiguous) => Err(self.err(f, dates::ask_for_order(&shorten(&t)))),
            Err(dates::DateError::Invalid(why)) => {
                let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
                Err(self.err(
                    f,
                    format!(
                        "`{}` is not a date{why}; expected {expected}, or a date as a spreadsheet writes it \
                         (5/20/2024, 20/05/2024, 20.05.2024, 20 May 2024)",
                        shorten(&t)
                    ),
                ))
            }
        }
    }

    /// Like `date` but an empty or missing value is an error.
    pub(super) fn required_date(
        &self,
        f: &Field,
        parse: fn(&str) -> Option<NaiveDate>,
        expected: &str,
    ) -> Result<NaiveDate, InputError> {
        self.date(f, parse, expected)?.ok_or_else(|| self.err(f, format!("empty; expected {expected}")))
    }
}

/// A `YYYY-MM-DD` date.
pub(super) fn iso_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Sums counts that may be absent: `None` if all are, else the total of
/// those present.
pub(super) fn sum(row: &Row, parts: &[(&Field, Option<u32>)]) -> Result<Option<u32>, InputError> {
    let mut total: Option<u32> = None;
    for (f, v) in parts {
        if let Some(v) = v {
            let t = total.unwrap_or(0).checked_add(*v).ok_or_else(|| row.err(f, "the total is too large"))?;
            total = Some(t);
        }
    }
    Ok(total)
}

/// Lower-cased e-mail when given, else the lower-cased user id.
pub(super) fn person_id(
    row: &Row,
    email_field: &Field,
    user_id: &Field,
) -> Result<(String, Option<String>), InputError> {
    let email = row.text(email_field)?.map(|e| e.to_lowercase());
    let id = match (&email, row.text(user_id)?) {
        (Some(e), _) => e.clone(),
        (None, Some(id)) => id.to_lowercase(),
        (None, None) => {
            return Err(row.err(
                user_id,
                format!("empty, and `{}` is empty too; every record needs one of them", row.column(email_field)),
            ));
        }
    };
    Ok((id, email))
}
