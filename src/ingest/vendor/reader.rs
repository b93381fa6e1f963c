//! Streaming a recognised export record by record into facts.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use chrono::NaiveDate;
use csv::ByteRecord;
use serde_json::{Map, Value};

use super::super::InputError;
use super::super::csv_file::{CsvFile, Deferred};
use super::super::source::{Input, read_error};
use super::*;
use crate::domain::facts::PeriodFact;

/// What turns a record into a fact.
#[derive(Clone, Copy, Debug)]
pub(super) enum Parse {
    /// `day`: the day a daily report is for, as the import names it.
    Teams {
        day: Option<NaiveDate>,
    },
    SlackDashboard {
        start: NaiveDate,
        end: NaiveDate,
    },
    SlackApi,
    Feishu,
    GoogleChat,
}

impl Parse {
    pub(super) fn format(self) -> VendorFormat {
        match self {
            Parse::Teams { .. } => VendorFormat::Teams,
            Parse::SlackDashboard { .. } => VendorFormat::SlackDashboard,
            Parse::SlackApi => VendorFormat::SlackApi,
            Parse::Feishu => VendorFormat::Feishu,
            Parse::GoogleChat => VendorFormat::GoogleChat,
        }
    }

    pub(super) fn fact(self, row: &Row) -> Result<PeriodFact, InputError> {
        match self {
            Parse::Teams { day } => teams::fact(row, day),
            Parse::SlackDashboard { start, end } => slack::dashboard_fact(row, start, end),
            Parse::SlackApi => slack::api_fact(row),
            Parse::Feishu => feishu::fact(row),
            Parse::GoogleChat => google::fact(row),
        }
    }
}

pub(super) type Stream = Box<dyn Read + Send>;

pub(super) enum Rows {
    Csv(Box<CsvRows>),
    Ndjson { reader: BufReader<Stream>, line: u64, buf: Vec<u8> },
    Array(JsonArray),
}

/// A CSV export's records, with what decides its dates.
///
/// Streaming until a slashed date such as `5/6/2025` could be either order
/// and the file has not yet shown which: from there, records are held until
/// one proves the order or the file ends (a value with a part above 12
/// anywhere in the file decides it). The cost: an export whose slashed
/// dates are all ambiguous is held whole in memory, as raw records (about
/// its size on disk plus some 100 bytes a row: 30 MB for a 100,000-person
/// Teams report). A file with ISO dates, dotted dates, or one early
/// unambiguous date is streamed as before.
pub(super) struct CsvRows {
    pub(super) csv: CsvFile,
    /// Header names as written.
    pub(super) headers: Vec<String>,
    /// Column of each field, by `Field::index`.
    pub(super) index: Vec<Option<usize>>,
    pub(super) group: Option<char>,
    pub(super) dates: dates::DateEvidence,
    /// Records read but not yet turned into facts, with their lines.
    pub(super) held: VecDeque<(u64, ByteRecord)>,
    /// Records to reuse.
    pub(super) spare: Vec<ByteRecord>,
    pub(super) ended: bool,
}

impl CsvRows {
    /// The next record ready to become a fact (the order of its dates
    /// known or not needed), or an error.
    pub(super) fn next_record(&mut self) -> Option<Result<(u64, ByteRecord), InputError>> {
        loop {
            if !self.held.is_empty() && !self.dates.pending() {
                return self.held.pop_front().map(Ok);
            }
            if self.ended {
                if self.held.is_empty() {
                    return None;
                }
                // Held records wait for an order the file never gave.
                let (line, column, value) = self.dates.first_ambiguous.clone()?;
                self.held.clear();
                return Some(Err(InputError::in_column(&self.csv.file, line, &column, dates::ask_for_order(&value))));
            }
            let mut record = self.spare.pop().unwrap_or_default();
            let line = match self.csv.read(&mut record) {
                None => {
                    self.ended = true;
                    continue;
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(line)) => line,
            };
            for i in self.index.iter().flatten() {
                let Some(text) = record.get(*i).and_then(|b| std::str::from_utf8(b).ok()) else {
                    continue;
                };
                let column = self.headers.get(*i).map(String::as_str).unwrap_or_default();
                if let Err(m) = self.dates.note(line, column, text) {
                    return Some(Err(InputError::new(&self.csv.file, line, m)));
                }
            }
            self.held.push_back((line, record));
        }
    }
}

/// Streams the per-person facts of one vendor export.
pub struct VendorReader {
    file: String,
    gzipped: bool,
    parse: Parse,
    /// Accepted JSON keys of each field, by `Field::index`.
    keys: Vec<Vec<String>>,
    rows: Rows,
    /// The order of slashed dates given by the user.
    date_order: Option<DateOrder>,
    /// Set after an error that ends the stream (I/O, broken JSON array).
    done: bool,
}

impl Parse {
    /// How rows of `format` are read, with what the file name or the
    /// import's options say of their dates.
    fn of(format: VendorFormat, name: &str, options: &VendorOptions) -> Result<Parse, InputError> {
        Ok(match format {
            // The day a daily report is for: in the file name, else a
            // one-day period given with the import (see `teams`).
            VendorFormat::Teams => Parse::Teams {
                day: teams::day_from_name(name).or(options.period.filter(|(a, b)| a == b).map(|(a, _)| a)),
            },
            VendorFormat::SlackDashboard => {
                let (start, end) = slack::dashboard_period(name, options)?;
                Parse::SlackDashboard { start, end }
            }
            VendorFormat::SlackApi => Parse::SlackApi,
            VendorFormat::Feishu => Parse::Feishu,
            VendorFormat::GoogleChat => Parse::GoogleChat,
        })
    }
}

impl VendorReader {
    /// Opens an export, recognising its format when `format` is `None`.
    pub fn new(
        input: Input,
        format: Option<VendorFormat>,
        options: &VendorOptions,
    ) -> Result<VendorReader, InputError> {
        let Input { name, gzipped, mut reader, .. } = input;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        // An error after some bytes (a small truncated gzip file) is kept for
        // when the stream reaches it, so the records before it are read.
        let deferred = match (&mut reader).take(HEAD_BYTES as u64).read_to_end(&mut head) {
            Ok(_) => None,
            Err(e) if head.is_empty() => return Err(read_error(&name, 1, gzipped, &e)),
            Err(e) => Some(e),
        };
        let sniff = sniff(&name, &head);
        if matches!(format, None | Some(VendorFormat::Teams))
            && let Some(message) = other_microsoft_365_report(&sniff.names)
        {
            return Err(InputError::new(&name, 1, message));
        }
        let Some(format) = format.or(sniff.format) else {
            return Err(not_recognised(&name, &sniff));
        };
        let parse = Parse::of(format, &name, options)?;
        let fields = format.fields();
        let stream: Stream = match deferred {
            None => Box::new(io::Cursor::new(head).chain(reader)),
            Some(e) => Box::new(io::Cursor::new(head).chain(Deferred(Some(e)))),
        };
        let rows = match sniff.container {
            Container::Csv => {
                // The header is the first top line with the format's required
                // columns: a title row or PowerShell's `#TYPE` line above it
                // is skipped.
                let mut csv = CsvFile::open(&name, gzipped, stream, &|names| has_required(format, names), false)?;
                let (headers, index) = csv_columns(&mut csv, format)?;
                if let Some(message) = lacks_own_columns(format, &headers, &index) {
                    return Err(InputError::new(&name, csv.header_at.line, message));
                }
                let group = Some(if csv.header_at.delimiter == b';' { '.' } else { ',' });
                Rows::Csv(Box::new(CsvRows {
                    csv,
                    headers,
                    index,
                    group,
                    dates: dates::DateEvidence::new(options.date_order),
                    held: VecDeque::new(),
                    spare: Vec::new(),
                    ended: false,
                }))
            }
            Container::Ndjson => Rows::Ndjson {
                reader: BufReader::with_capacity(256 * 1024, stream),
                line: 0,
                buf: Vec::with_capacity(1024),
            },
            Container::Array => Rows::Array(JsonArray::new(stream)),
            Container::Envelope(path) => Rows::Array(JsonArray::envelope(stream, path)),
        };
        Ok(VendorReader {
            file: name,
            gzipped,
            parse,
            keys: fields.iter().map(Field::keys).collect(),
            rows,
            date_order: options.date_order,
            done: false,
        })
    }

    pub fn format(&self) -> VendorFormat {
        self.parse.format()
    }

    /// The header's line in a CSV file, when lines above it were skipped.
    pub fn header_line(&self) -> Option<u64> {
        match &self.rows {
            Rows::Csv(rows) => Some(rows.csv.header_at.line).filter(|l| *l > 1),
            _ => None,
        }
    }

    /// How slashed dates were read, when the file has any.
    pub fn date_order(&self) -> Option<DateOrder> {
        match &self.rows {
            Rows::Csv(rows) if rows.dates.slashed => rows.dates.order(),
            _ => None,
        }
    }

    /// The next fact, an error, or `None` at the end of the file.
    pub fn next_fact(&mut self) -> Option<Result<PeriodFact, InputError>> {
        if self.done {
            return None;
        }
        let (file, gzipped, parse) = (self.file.as_str(), self.gzipped, self.parse);
        let fields = parse.format().fields();
        let date_order = self.date_order;
        let result = match &mut self.rows {
            Rows::Csv(rows) => match rows.next_record() {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok((line, record))) => {
                    let order = rows.dates.order();
                    let fact = csv_row(file, line, fields, &rows.headers, &rows.index, &record)
                        .map(|row| Row { dates: order, group: rows.group, ..row })
                        .and_then(|row| parse.fact(&row));
                    rows.spare.push(record);
                    Some(fact)
                }
            },
            Rows::Ndjson { reader, line, buf } => match next_line(file, gzipped, reader, line, buf) {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok(bytes)) => Some(json_fact(file, *line, 1, bytes, parse, &self.keys, date_order)),
            },
            Rows::Array(array) => match array.next_object(file, gzipped) {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok(start)) => Some(json_fact(file, start, start, &array.buf, parse, &self.keys, date_order)),
            },
        };
        if result.is_none() {
            self.done = true;
        }
        result
    }
}

impl Iterator for VendorReader {
    type Item = Result<PeriodFact, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_fact()
    }
}

/// Why a CSV is refused when it has none of its report's own count columns
/// (every person would import as zeros): Google Chat's `num_28day_*`.
pub(super) fn lacks_own_columns(format: VendorFormat, headers: &[String], index: &[Option<usize>]) -> Option<String> {
    let counts = match format {
        VendorFormat::GoogleChat => google::COUNTS,
        _ => return None,
    };
    if counts.iter().any(|f| index.get(f.index).is_some_and(Option::is_some)) {
        return None;
    }
    let names: Vec<String> = counts.iter().map(|f| format!("`{}`", f.name)).collect();
    Some(format!(
        "none of the {} columns ({}): every person would import as zeros; export the report with its chat \
         parameters (the header has: {})",
        format.label(),
        names.join(", "),
        headers.join(", ")
    ))
}

/// Reads the header and finds each field's column.
pub(super) fn csv_columns(
    csv: &mut CsvFile,
    format: VendorFormat,
) -> Result<(Vec<String>, Vec<Option<usize>>), InputError> {
    let headers: Vec<String> =
        csv.header()?.iter().map(|h| h.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let normalised: Vec<String> = headers.iter().map(|h| key(h)).collect();
    let fields = format.fields();
    let index: Vec<Option<usize>> = fields
        .iter()
        .map(|f| {
            // The first accepted name wins, then the first column with it.
            f.keys().iter().find_map(|k| normalised.iter().position(|h| h == k))
        })
        .collect();
    if let Some((name, alternative)) = missing(fields, |i| index.get(i).is_some_and(Option::is_some)) {
        return Err(InputError::in_column(
            &csv.file,
            csv.header_at.line,
            name,
            format!(
                "missing column{alternative}; a {} has it (the header has: {})",
                format.label(),
                headers.join(", ")
            ),
        ));
    }
    Ok((headers, index))
}

pub(super) fn csv_row<'a>(
    file: &'a str,
    line: u64,
    fields: &'static [Field],
    headers: &'a [String],
    index: &[Option<usize>],
    record: &'a ByteRecord,
) -> Result<Row<'a>, InputError> {
    let mut cells = Vec::with_capacity(fields.len());
    for f in fields {
        let cell = match index.get(f.index).copied().flatten() {
            None => Cell { column: f.name, value: Val::Missing },
            Some(i) => {
                let column = headers.get(i).map(String::as_str).unwrap_or(f.name);
                let text = std::str::from_utf8(record.get(i).unwrap_or_default())
                    .map_err(|_| crate::ingest::source::not_utf8(file, line, Some(column), record.as_slice()))?;
                Cell { column, value: Val::Text(text) }
            }
        };
        cells.push(cell);
    }
    Ok(Row { file, line, cells, dates: None, group: None })
}

/// Parses one JSON object (an NDJSON line or an array element starting at
/// `line`; `first_line` is where serde's line 1 is) into a fact.
pub(super) fn json_fact(
    file: &str,
    line: u64,
    first_line: u64,
    bytes: &[u8],
    parse: Parse,
    keys: &[Vec<String>],
    dates: Option<DateOrder>,
) -> Result<PeriodFact, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| crate::ingest::source::not_utf8(file, line, None, bytes))?;
    let object: Map<String, Value> = serde_json::from_str(text).map_err(|e| {
        let at = first_line + (e.line() as u64).saturating_sub(1);
        InputError::new(file, at.max(line), format!("not a JSON object ({e}); expected one object per record"))
    })?;
    let object = match parse {
        Parse::GoogleChat => google::flatten(object).map_err(|m| InputError::new(file, line, m))?,
        _ => object,
    };
    let row = json_row(file, line, parse.format(), keys, &object)?;
    parse.fact(&Row { dates, ..row })
}

pub(super) fn json_row<'a>(
    file: &'a str,
    line: u64,
    format: VendorFormat,
    keys: &[Vec<String>],
    object: &'a Map<String, Value>,
) -> Result<Row<'a>, InputError> {
    let fields = format.fields();
    // For each field, the best-ranked accepted key found so far.
    let mut found: Vec<Option<(usize, &'a str, &'a Value)>> = vec![None; fields.len()];
    for (k, v) in object {
        let normalised: Cow<str> = if is_key_form(k) { Cow::Borrowed(k) } else { Cow::Owned(key(k)) };
        for (slot, accepted) in found.iter_mut().zip(keys) {
            if let Some(rank) = accepted.iter().position(|a| *a == *normalised)
                && slot.is_none_or(|(r, _, _)| rank < r)
            {
                *slot = Some((rank, k.as_str(), v));
            }
        }
    }
    let present = |i: usize| found.get(i).copied().flatten().is_some_and(|(_, _, v)| !v.is_null());
    if let Some((name, alternative)) = missing(fields, present) {
        return Err(InputError::in_column(
            file,
            line,
            name,
            format!("missing{alternative}; every {} record has it", format.label()),
        ));
    }
    let cells = fields
        .iter()
        .map(|f| match found.get(f.index).copied().flatten() {
            Some((_, column, value)) => Cell { column, value: Val::Json(value) },
            None => Cell { column: f.name, value: Val::Missing },
        })
        .collect();
    Ok(Row { file, line, cells, dates: None, group: None })
}

/// The next non-blank NDJSON line (BOM stripped on line 1).
pub(super) fn next_line<'b>(
    file: &str,
    gzipped: bool,
    reader: &mut BufReader<Stream>,
    line: &mut u64,
    buf: &'b mut Vec<u8>,
) -> Option<Result<&'b [u8], InputError>> {
    loop {
        buf.clear();
        *line += 1;
        match reader.read_until(b'\n', buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(read_error(file, *line, gzipped, &e))),
        }
        let bytes = if *line == 1 { strip_bom(buf) } else { &buf[..] };
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    let bytes = if *line == 1 { strip_bom(buf) } else { &buf[..] };
    Some(Ok(bytes))
}
