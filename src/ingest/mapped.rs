//! CSV files in any layout, read through a column mapping
//! (`domain::mapping`): streamed one record at a time, plain or gzipped
//! (`source::open`), with the delimiter (comma, semicolon, tab or bar)
//! recognised from the header line. Columns the mapping does not use (such
//! as message content) are never decoded.

use chrono_tz::Tz;
use csv::ByteRecord;

use super::InputError;
use super::csv_file::CsvFile;
use super::events::RawEvent;
use super::people::DirectoryRow;
use super::source::{Input, normalise_header};
use crate::domain::mapping::{Bound, Field, Mapping, Record, Target, describe};

impl Record for ByteRecord {
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }
}

pub use super::csv_file::sniff_delimiter;

/// Opens a CSV input and reads its header, as written (BOM and surrounding
/// spaces removed). The header is the first of the top lines that
/// `recognise` accepts (lines above it, such as a title row, are skipped),
/// else line 1. A `flexible` reader accepts rows of any length (for samples).
fn open_csv(
    input: Input,
    flexible: bool,
    recognise: &dyn Fn(&[String]) -> bool,
) -> Result<(CsvFile, Vec<String>), InputError> {
    let Input { name, gzipped, reader, .. } = input;
    let mut csv = CsvFile::open(&name, gzipped, reader, recognise, flexible)?;
    let header = csv.header()?;
    Ok((csv, header))
}

/// A header line for a file in an unknown layout: at least two named
/// columns (a title row has one, however many empty cells Excel pads it with).
fn looks_like_a_header(names: &[String]) -> bool {
    names.len() >= 2
}

/// The header and first rows of a file, to show before mapping it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub header: Vec<String>,
    /// Up to the requested number of rows, each with the header's length.
    pub rows: Vec<Vec<String>>,
    /// Whether the file has more rows than shown.
    pub more: bool,
}

/// Reads the header and the first `n` rows (invalid UTF-8 shown replaced).
pub fn sample(input: Input, n: usize) -> Result<Sample, InputError> {
    let (mut csv, header) = open_csv(input, true, &looks_like_a_header)?;
    let mut rows = Vec::new();
    let mut record = ByteRecord::new();
    let mut more = false;
    while let Some(read) = csv.read(&mut record) {
        read?;
        if rows.len() == n {
            more = true;
            break;
        }
        let mut row: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        row.resize(header.len(), String::new());
        rows.push(row);
    }
    Ok(Sample { header, rows, more })
}

/// Streams the records of a file through a mapping.
pub struct MappedReader {
    file: String,
    csv: CsvFile,
    header: Vec<String>,
    record: ByteRecord,
    bound: Bound,
}

impl MappedReader {
    /// Opens the file and binds the mapping to its header; `org_tz` reads
    /// naive times when the mapping names no zone.
    pub fn new(input: Input, mapping: &Mapping, org_tz: Tz) -> Result<MappedReader, InputError> {
        // The header is the first line with every column the mapping names.
        let named: Vec<String> = mapping.columns.values().map(|c| normalise_header(c)).collect();
        let fits = |names: &[String]| {
            !named.is_empty() && named.iter().all(|c| names.iter().any(|n| normalise_header(n) == *c))
        };
        let (csv, header) = open_csv(input, false, &fits)?;
        let file = csv.file.clone();
        let bound = mapping.bind(&header, org_tz).map_err(|problems| {
            InputError::new(
                &file,
                csv.header_at.line,
                format!("the column mapping does not fit this file: {}", describe(&problems)),
            )
        })?;
        Ok(MappedReader { file, csv, header, record: ByteRecord::new(), bound })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn bound(&self) -> &Bound {
        &self.bound
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The header's line, when lines above it were skipped.
    pub fn header_line(&self) -> Option<u64> {
        Some(self.csv.header_at.line).filter(|l| *l > 1)
    }

    /// Reads the next record; its line number, or `None` at the end.
    fn advance(&mut self) -> Option<Result<u64, InputError>> {
        self.csv.read(&mut self.record)
    }
}

fn for_target(input: Input, mapping: &Mapping, org_tz: Tz, want: Target) -> Result<MappedReader, InputError> {
    if mapping.target != want {
        return Err(InputError::new(
            &input.name,
            1,
            format!("the column mapping is for {} files, not {want}", mapping.target),
        ));
    }
    MappedReader::new(input, mapping, org_tz)
}

/// Events from a mapped file.
pub struct MappedEvents(MappedReader);

impl MappedEvents {
    pub fn new(input: Input, mapping: &Mapping, org_tz: Tz) -> Result<MappedEvents, InputError> {
        for_target(input, mapping, org_tz, Target::Events).map(MappedEvents)
    }

    pub fn reader(&self) -> &MappedReader {
        &self.0
    }
}

impl Iterator for MappedEvents {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.0;
        Some(r.advance()?.and_then(|line| r.bound.event(&r.file, line, &r.record)))
    }
}

/// Directory rows from a mapped file.
pub struct MappedPeople(MappedReader);

impl MappedPeople {
    pub fn new(input: Input, mapping: &Mapping, org_tz: Tz) -> Result<MappedPeople, InputError> {
        for_target(input, mapping, org_tz, Target::People).map(MappedPeople)
    }

    pub fn reader(&self) -> &MappedReader {
        &self.0
    }

    /// The directory fields the file fills (not `user_id`).
    pub fn fields(&self) -> Vec<Field> {
        self.0.bound.fields().into_iter().filter(|f| *f != Field::UserId).collect()
    }

    /// Columns kept as attributes.
    pub fn attribute_columns(&self) -> Vec<String> {
        self.0.bound.attribute_columns()
    }
}

impl Iterator for MappedPeople {
    type Item = Result<DirectoryRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.0;
        Some(r.advance()?.and_then(|line| r.bound.person(&r.file, line, &r.record)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping::TimeFormat;
    use crate::ingest::source::open;

    fn input(name: &str, text: &str) -> Input {
        open(name, std::io::Cursor::new(text.as_bytes().to_vec())).unwrap()
    }

    #[test]
    fn a_sample_shows_the_header_and_first_rows() {
        let s = sample(input("x.csv", "\u{feff} 用户ID ;时间\nu1;2026/03/02 09:15\nu2\nu3;x\n"), 2).unwrap();
        assert_eq!(s.header, vec!["用户ID", "时间"]);
        assert_eq!(s.rows, vec![vec!["u1", "2026/03/02 09:15"], vec!["u2", ""]]);
        assert!(s.more);
        let e = sample(input("empty.csv", ""), 20).unwrap_err();
        assert_eq!(e.to_string(), "empty.csv:1: empty file; expected a header row");
    }

    #[test]
    fn events_stream_through_a_mapping_with_line_numbers() {
        let text = "用户ID,时间,行为,内容\n\
                    U1,2026/03/02 09:15,发送消息,\"hello, world\"\n\
                    u2,2026/3/2 9:16,签到,\n\
                    u3,bad,签到,\n";
        let mut m = Mapping::suggest(Target::Events, &["用户ID".into(), "时间".into(), "行为".into()], &[]);
        m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
        m.event_values.insert("发送消息".into(), "message_sent".into());
        m.event_values.insert("签到".into(), "check_in".into());
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let items: Vec<_> = MappedEvents::new(input("d.csv", text), &m, tz).unwrap().collect();
        assert_eq!(items.len(), 3);
        let first = items[0].as_ref().unwrap();
        assert_eq!((first.line, first.user_id.as_str(), first.kind.as_str()), (2, "u1", "message_sent"));
        assert_eq!(first.ts, 1_772_414_100);
        assert_eq!(items[1].as_ref().unwrap().kind, "check_in");
        let e = items[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (4, Some("时间")));

        let e = MappedPeople::new(input("d.csv", text), &m, tz).err().unwrap();
        assert!(e.to_string().contains("is for events files, not people"), "{e}");
        m.columns.insert(Field::Channel, "群".into());
        let e = MappedEvents::new(input("d.csv", text), &m, tz).err().unwrap();
        assert!(e.to_string().starts_with("d.csv:1: the column mapping does not fit this file: column `群`"), "{e}");
    }

    #[test]
    fn gzip_and_unused_bad_bytes_are_fine() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"uid,when,note\nu1,1772414100,\xff\xfe\n").unwrap();
        let bytes = gz.finish().unwrap();
        let mut m = Mapping::new(Target::Events);
        m.columns.insert(Field::UserId, "uid".into());
        m.columns.insert(Field::Timestamp, "when".into());
        m.event_constant = Some("login".into());
        let input = open("x.csv.gz", std::io::Cursor::new(bytes)).unwrap();
        let items: Vec<_> = MappedEvents::new(input, &m, chrono_tz::UTC).unwrap().collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().kind, "login");
    }
}
