//! The one CSV writer for every file the app produces (web downloads and CLI
//! exports). Spreadsheets evaluate a cell that starts like a formula, and
//! user ids, departments, names and reason labels come from outside; so
//! every text cell that a spreadsheet would evaluate gets a leading
//! apostrophe. Numbers the app computes are written as numbers: a cell
//! typed as a number that is not a plain number is guarded like text.

use std::borrow::Cow;
use std::io::Write;

/// One cell: outside or free text, or a number the app computed.
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(Cow<'a, str>),
}

impl<'a> Cell<'a> {
    pub fn text(s: impl Into<Cow<'a, str>>) -> Cell<'a> {
        Cell::Text(s.into())
    }

    pub fn number(s: impl Into<Cow<'a, str>>) -> Cell<'a> {
        Cell::Number(s.into())
    }

    /// The text written to the file.
    pub fn written(&self) -> Cow<'_, str> {
        match self {
            Cell::Number(s) if s.is_empty() || is_plain_number(s) => Cow::Borrowed(s),
            Cell::Text(s) | Cell::Number(s) => guard(s),
        }
    }
}

/// Characters that make a spreadsheet read a cell as a formula (or, for
/// tab, carriage return and line feed, that it strips before doing so),
/// with their full-width forms, which some spreadsheets normalise.
fn starts_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠')
}

/// `s` as a spreadsheet shows it, never as a formula: a leading apostrophe
/// when its first character, or its first after leading spaces, starts one.
pub fn guard(s: &str) -> Cow<'_, str> {
    let first = s.chars().next();
    let after_spaces = s.trim_start_matches([' ', '\u{3000}', '\u{a0}']).chars().next();
    if first.is_some_and(starts_formula) || after_spaces.is_some_and(starts_formula) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A number as the app writes it: an optional minus, digits, an optional
/// fraction and an optional percent sign (`-3`, `0.500`, `12.5%`).
fn is_plain_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let s = s.strip_suffix('%').unwrap_or(s);
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        None => digits(s),
        Some((whole, fraction)) => digits(whole) && digits(fraction),
    }
}

/// A CSV file whose rows may differ in width (the report holds two tables).
pub struct CsvOut<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> CsvOut<W> {
        CsvOut { inner: csv::WriterBuilder::new().flexible(true).from_writer(out) }
    }

    /// A row of text cells (column names, directory attributes).
    pub fn text_row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner.write_record(cells.into_iter().map(|s| guard(s.as_ref()).into_owned()))
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) -> csv::Result<()> {
        let written: Vec<String> = cells.into_iter().map(|c| c.written().into_owned()).collect();
        self.inner.write_record(&written)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    pub fn into_inner(self) -> anyhow::Result<W> {
        self.inner.into_inner().map_err(|e| anyhow::anyhow!("writing the CSV failed: {}", e.error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_starting_like_a_formula_is_guarded() {
        for s in [
            "@SUM(1+9)*cmd|' /C calc'!A0",
            "=HYPERLINK(\"http://x\")",
            "+1+1@x",
            "-1+1@x",
            "\tx",
            "\rx",
            "＝1+1",
            "＋1",
            "－1",
            "＠SUM(1)",
            "  =1+1",
        ] {
            assert_eq!(guard(s), format!("'{s}"), "{s:?}");
            assert_eq!(Cell::number(s).written(), format!("'{s}"), "a number cell that is no number: {s:?}");
        }
        for s in ["Sales", "", "u0001@corp.example", "2026-05-29", "1,500", "'=x"] {
            assert_eq!(guard(s), s);
        }
    }

    #[test]
    fn numbers_the_app_writes_stay_numbers() {
        for s in ["-3", "0", "0.500", "-12.5", "12.5%", "-0.25%", ""] {
            assert_eq!(Cell::number(s).written(), s);
        }
        assert_eq!(Cell::text("-3").written(), "'-3", "text is guarded even when it looks like a number");
        for s in ["-", "-.5", "1.", "1e3", "-1+1"] {
            assert!(!is_plain_number(s), "{s}");
        }
    }

    #[test]
    fn rows_are_written_guarded() {
        let mut w = CsvOut::new(Vec::new());
        w.text_row(["=a", "b"]).unwrap();
        w.row([Cell::text("-x"), Cell::number("-1"), Cell::number("-1-1")]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(out, "'=a,b\n'-x,-1,'-1-1\n");
    }
}
