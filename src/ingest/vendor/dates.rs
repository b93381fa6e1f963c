//! Dates as spreadsheets write them when a vendor export is opened and saved
//! again: Excel writes a date cell in the short-date form of the computer's
//! regional settings, not as the vendor wrote it.
//!
//! - Year first, always year-month-day: `2025-01-05`, `2025/1/5` (Chinese,
//!   Japanese and Korean settings), `2025.01.05`.
//! - Dotted, day first: `05.01.2025` (German, Russian, Polish ... settings).
//! - Slashed or dashed with the year last: `1/5/2025` (United States) or
//!   `05/01/2025` (United Kingdom, France ...; `05-01-2025` in the
//!   Netherlands). The order is not in the value: it is decided for the
//!   whole file (see [`DateEvidence`]) or given by the user.
//! - Month names: `5 Jan 2025`, `5-Jan-2025`, `Jan 5, 2025`, `5 January 2025`.
//!
//! A time of day after the date (`5/20/2024 0:00`, as Excel writes a cell it
//! read as a date-time) is ignored.

use chrono::NaiveDate;

/// The order of day and month in slashed dates such as `5/1/2025`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateOrder {
    /// `5/1/2025` is 5 January (most of the world).
    DayFirst,
    /// `5/1/2025` is May 1 (United States).
    MonthFirst,
}

impl DateOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::DayFirst => "day-first",
            DateOrder::MonthFirst => "month-first",
        }
    }

    /// `day-first` or `month-first` (also `dmy` / `mdy`).
    pub fn parse(text: &str) -> Option<DateOrder> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "day-first" | "dmy" | "dd/mm/yyyy" => Some(DateOrder::DayFirst),
            "month-first" | "mdy" | "mm/dd/yyyy" => Some(DateOrder::MonthFirst),
            _ => None,
        }
    }
}

impl std::fmt::Display for DateOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one value says about the order of its file's slashed dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A first part above 12 (`20/05/2024`): day first.
    DayFirst,
    /// A second part above 12 (`5/20/2024`): month first.
    MonthFirst,
    /// Both parts 12 or less (`5/6/2024`): either.
    Ambiguous,
}

/// Why a text is not read as a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateError {
    /// A slashed date that could be either order, and none is known.
    Ambiguous,
    /// Not a date in any form read here; the text says what is wrong when
    /// it is close to one (`13/13/2024`).
    Invalid(Option<String>),
}

/// A slashed (or dashed) date with the year last: its two leading parts.
fn year_last(text: &str) -> Option<(u32, u32, i32)> {
    let sep = if text.contains('/') { '/' } else { '-' };
    let mut parts = text.split(sep);
    let (a, b, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || a.len() > 2 || b.len() > 2 {
        return None;
    }
    let number = |p: &str| (!p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())).then(|| p.parse().ok()).flatten();
    Some((number(a)?, number(b)?, i32::try_from(number(y)?).ok()?))
}

/// What `text` says about the day/month order, if it is a slashed date
/// with the year last. Dotted dates are day first by convention and prove
/// nothing about slashed ones.
pub fn evidence(text: &str) -> Option<Evidence> {
    let (a, b, _) = year_last(date_part(text))?;
    Some(match (a > 12, b > 12) {
        (true, false) => Evidence::DayFirst,
        (false, true) => Evidence::MonthFirst,
        (false, false) => Evidence::Ambiguous,
        // Neither order makes it a date: the parser says so.
        (true, true) => return None,
    })
}

/// `text` without a time of day after the date.
fn date_part(text: &str) -> &str {
    let t = text.trim();
    if let Some((date, time)) = t.split_once([' ', 'T'])
        && is_time(time)
    {
        return date.trim();
    }
    t
}

/// `H:MM`, `H:MM:SS` (a fraction allowed), maybe followed by AM / PM.
fn is_time(text: &str) -> bool {
    let t = text.trim();
    let t = ["AM", "PM", "am", "pm"].iter().find_map(|m| t.strip_suffix(m)).unwrap_or(t).trim();
    let mut parts = t.split(':');
    let (Some(h), Some(m)) = (parts.next(), parts.next()) else {
        return false;
    };
    let s = parts.next();
    let digits = |p: &str, max: usize| !p.is_empty() && p.len() <= max && p.bytes().all(|c| c.is_ascii_digit());
    let seconds_ok = s.is_none_or(|s| {
        let whole = s.split_once('.').map_or(s, |(w, _)| w);
        digits(whole, 2)
    });
    parts.next().is_none() && digits(h, 2) && digits(m, 2) && seconds_ok
}

/// Reads a date in any form above; `order` decides slashed dates, else a
/// slashed date decides itself when one part is above 12.
pub fn parse(text: &str, order: Option<DateOrder>) -> Result<NaiveDate, DateError> {
    let t = date_part(text);
    if t.is_empty() {
        return Err(DateError::Invalid(None));
    }
    // Four-digit years only: chrono would read `1/5/25` as the year 1.
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    let four = |p: Option<&&str>| p.is_some_and(|p| p.len() == 4);
    if parts.len() == 3 && four(parts.first()) {
        for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"] {
            if let Ok(d) = NaiveDate::parse_from_str(t, format) {
                return Ok(d);
            }
        }
    }
    if parts.len() == 3
        && four(parts.last())
        && let Ok(d) = NaiveDate::parse_from_str(t, "%d.%m.%Y")
    {
        return Ok(d);
    }
    if let Some((a, b, year)) = year_last(t) {
        let order = match (order, evidence(t)) {
            (Some(o), _) => o,
            (None, Some(Evidence::DayFirst)) => DateOrder::DayFirst,
            (None, Some(Evidence::MonthFirst)) => DateOrder::MonthFirst,
            (None, Some(Evidence::Ambiguous)) => return Err(DateError::Ambiguous),
            (None, None) => return Err(DateError::Invalid(Some(format!("neither {a} nor {b} is a month")))),
        };
        let (day, month) = match order {
            DateOrder::DayFirst => (a, b),
            DateOrder::MonthFirst => (b, a),
        };
        return NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
            DateError::Invalid(Some(if month > 12 {
                format!("read {order}, {month} is not a month")
            } else {
                format!("read {order}, there is no day {day} in month {month} of {year}")
            }))
        });
    }
    let spaced = t.replace(['-', ','], " ");
    let spaced = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    for format in ["%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(&spaced, format) {
            return Ok(d);
        }
    }
    Err(DateError::Invalid(None))
}

/// The day/month order of a file's slashed dates, decided from all of
/// them: a value with a first part above 12 proves day first, a second
/// part above 12 proves month first; both proofs in one file is an error.
#[derive(Clone, Debug, Default)]
pub struct DateEvidence {
    /// The order the user gave, if any.
    pub given: Option<DateOrder>,
    /// The first value proving each order: line, column, value.
    day_first: Option<(u64, String, String)>,
    month_first: Option<(u64, String, String)>,
    /// The first value that could be either: line, column, value.
    pub first_ambiguous: Option<(u64, String, String)>,
    /// Whether any slashed date was seen.
    pub slashed: bool,
}

impl DateEvidence {
    pub fn new(given: Option<DateOrder>) -> DateEvidence {
        DateEvidence { given, ..Default::default() }
    }

    /// The order in force: given, else proved by the file so far.
    pub fn order(&self) -> Option<DateOrder> {
        self.given.or(match (&self.day_first, &self.month_first) {
            (Some(_), None) => Some(DateOrder::DayFirst),
            (None, Some(_)) => Some(DateOrder::MonthFirst),
            _ => None,
        })
    }

    /// An ambiguous value waits for the file to decide.
    pub fn pending(&self) -> bool {
        self.first_ambiguous.is_some() && self.order().is_none()
    }

    /// Notes what one value says; an error message (with the line it
    /// belongs to) when the file now proves both orders.
    pub fn note(&mut self, line: u64, column: &str, value: &str) -> Result<(), String> {
        let Some(evidence) = evidence(value) else {
            return Ok(());
        };
        self.slashed = true;
        let at = || Some((line, column.to_string(), value.trim().to_string()));
        match evidence {
            Evidence::DayFirst if self.day_first.is_none() => self.day_first = at(),
            Evidence::MonthFirst if self.month_first.is_none() => self.month_first = at(),
            Evidence::Ambiguous if self.first_ambiguous.is_none() => self.first_ambiguous = at(),
            _ => {}
        }
        if self.given.is_none()
            && let (Some((dl, dc, dv)), Some((ml, mc, mv))) = (&self.day_first, &self.month_first)
        {
            return Err(format!(
                "the dates in this file contradict each other: `{dv}` (line {dl}, column `{dc}`) can only be \
                 day-first, `{mv}` (line {ml}, column `{mc}`) can only be month-first; save the file again \
                 with one date format, or give the order with --date-order day-first|month-first"
            ));
        }
        Ok(())
    }
}

/// The message for an ambiguous value when the file never decides.
pub fn ask_for_order(value: &str) -> String {
    format!(
        "`{value}` could be day-first or month-first and no date in the file has a day above 12 to tell; \
         give the order: --date-order day-first or --date-order month-first on the command line, or \
         \"Order of dates like 5/6/2025\" on the import page"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn forms_excel_writes() {
        let jan5 = Ok(d(2025, 1, 5));
        assert_eq!(parse("2025-01-05", None), jan5);
        assert_eq!(parse("2025/1/5", None), jan5);
        assert_eq!(parse("05.01.2025", None), jan5);
        assert_eq!(parse("5.1.2025", None), jan5);
        assert_eq!(parse("5 Jan 2025", None), jan5);
        assert_eq!(parse("5-Jan-2025", None), jan5);
        assert_eq!(parse("Jan 5, 2025", None), jan5);
        assert_eq!(parse("5 January 2025", None), jan5);
        assert_eq!(parse("1/5/2025", Some(DateOrder::MonthFirst)), jan5);
        assert_eq!(parse("05/01/2025", Some(DateOrder::DayFirst)), jan5);
        assert_eq!(parse("05-01-2025", Some(DateOrder::DayFirst)), jan5);
        assert_eq!(parse("5/20/2024", None), Ok(d(2024, 5, 20)));
        assert_eq!(parse("20/05/2024", None), Ok(d(2024, 5, 20)));
        assert_eq!(parse("5/20/2024 0:00", None), Ok(d(2024, 5, 20)));
        assert_eq!(parse("20.05.2024 00:00:00", None), Ok(d(2024, 5, 20)));
        assert_eq!(parse("1/5/2025", None), Err(DateError::Ambiguous));
        assert!(
            matches!(parse("5/20/2024", Some(DateOrder::DayFirst)), Err(DateError::Invalid(Some(m))) if m.contains("20 is not a month"))
        );
        assert!(matches!(parse("13/13/2024", None), Err(DateError::Invalid(Some(_)))));
        for bad in ["", "yesterday", "1/5/25", "2025-13-01", "32.01.2025", "1//2025"] {
            assert!(matches!(parse(bad, None), Err(DateError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn the_file_decides_the_order() {
        let mut e = DateEvidence::new(None);
        e.note(2, "Last active (UTC)", "4/3/2026").unwrap();
        assert!(e.pending());
        e.note(3, "Last active (UTC)", "04.03.2026").unwrap();
        assert!(e.pending(), "dotted dates prove nothing about slashed ones");
        e.note(4, "Last active (UTC)", "4/13/2026").unwrap();
        assert_eq!(e.order(), Some(DateOrder::MonthFirst));
        let err = e.note(9, "Claimed Date (UTC)", "13/4/2026").unwrap_err();
        assert!(err.contains("line 4") && err.contains("line 9") && err.contains("13/4/2026"), "{err}");

        let mut given = DateEvidence::new(Some(DateOrder::DayFirst));
        given.note(2, "c", "1/2/2026").unwrap();
        assert!(!given.pending());
        assert_eq!(given.order(), Some(DateOrder::DayFirst));
        assert_eq!(DateOrder::parse("Month-First"), Some(DateOrder::MonthFirst));
        assert_eq!(DateOrder::parse("sideways"), None);
    }
}
