//! Opening a CSV file as people really save it, for every CSV reader here
//! (platform exports, the directory, column mapping): the delimiter
//! recognised from the header line (Excel in much of Europe saves `;`), the
//! header found below a title row, blank lines or PowerShell's `#TYPE`
//! line, CRLF line ends, and every record and error located on the file's
//! real line.
//!
//! Why the line bookkeeping: the csv crate (1.4) reports a record's position
//! as the point just after the previous record, so a record after a blank
//! line is reported one line early per blank line, and with CRLF line ends
//! (Excel on Windows) every record is reported one line early. Here CRLF
//! becomes LF before the parser, the offsets of blank lines are noted as the
//! bytes go by, and [`CsvFile::line`] moves a position past them.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use csv::{ByteRecord, Position};

use super::InputError;
use super::source::{RecordGuard, not_utf8, read_error};

/// How many lines from the top may sit above the header row.
pub const MAX_LINES_ABOVE_HEADER: usize = 20;

/// How much of the input is read ahead to find the header.
const HEAD_BYTES: usize = 64 * 1024;

type Stream = Box<dyn Read + Send>;

/// The most common of `,`, `;`, tab and `|` in the first line (outside
/// quotes); a comma when there is none.
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for b in line {
        if *b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| d == b) {
            c.1 += 1;
        }
    }
    counts.iter().fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best }).0
}

/// Where the header row is and how its fields are separated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderAt {
    /// The header's line in the file, 1-based.
    pub line: u64,
    /// Bytes before the header line (skipped).
    pub offset: usize,
    pub delimiter: u8,
    /// The header's names as written (BOM and surrounding spaces removed,
    /// empty names dropped).
    pub names: Vec<String>,
}

/// The header row among the first [`MAX_LINES_ABOVE_HEADER`] lines of
/// `head`: the first line whose names `recognise` accepts, each line's
/// delimiter sniffed on its own. When no line is recognised, line 1 (so
/// that the caller's own message about the header applies to it).
pub fn find_header(head: &[u8], recognise: &dyn Fn(&[String]) -> bool) -> HeaderAt {
    let mut first = None;
    let mut offset = 0;
    for (i, raw) in head.split_inclusive(|b| *b == b'\n').take(MAX_LINES_ABOVE_HEADER + 1).enumerate() {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if i == 0 { line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line) } else { line };
        let delimiter = sniff_delimiter(line);
        let at = HeaderAt { line: i as u64 + 1, offset, delimiter, names: line_names(line, delimiter) };
        if recognise(&at.names) {
            return at;
        }
        first.get_or_insert(at);
        offset += raw.len();
    }
    first.unwrap_or(HeaderAt { line: 1, offset: 0, delimiter: b',', names: Vec::new() })
}

/// The non-empty fields of one line read as a CSV record.
fn line_names(line: &[u8], delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(line);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// A CSV file positioned at its header row.
pub struct CsvFile {
    pub file: String,
    pub gzipped: bool,
    pub header_at: HeaderAt,
    reader: csv::Reader<Lines>,
}

impl CsvFile {
    /// Reads ahead to find the header (see [`find_header`]) and opens a
    /// reader from it. `flexible` accepts records of any length.
    pub fn open(
        file: &str,
        gzipped: bool,
        mut stream: Stream,
        recognise: &dyn Fn(&[String]) -> bool,
        flexible: bool,
    ) -> Result<CsvFile, InputError> {
        let mut head = Vec::with_capacity(HEAD_BYTES);
        // An error after some bytes is kept for when the parser reaches it.
        let deferred = match (&mut stream).take(HEAD_BYTES as u64).read_to_end(&mut head) {
            Ok(_) => None,
            Err(e) if head.is_empty() => return Err(read_error(file, 1, gzipped, &e)),
            Err(e) => Some(e),
        };
        let header_at = find_header(&head, recognise);
        head.drain(..header_at.offset);
        let rest: Stream = match deferred {
            None => stream,
            Some(e) => Box::new(Deferred(Some(e))),
        };
        let guarded = RecordGuard::starting_at(io::Cursor::new(head).chain(rest), header_at.line);
        let unix = CrlfToLf { inner: BufReader::with_capacity(256 * 1024, Box::new(guarded)), pending_cr: false };
        let lines = Lines { inner: unix, offset: 0, after_newline: true, blanks: VecDeque::new() };
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(flexible)
            .delimiter(header_at.delimiter)
            // After CrlfToLf only LF ends a line; a lone CR is data.
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(lines);
        Ok(CsvFile { file: file.to_string(), gzipped, header_at, reader })
    }

    /// The header row's fields, as written (BOM and surrounding white space
    /// removed, empty ones kept); an error for an empty file or a header
    /// that is not UTF-8.
    pub fn header(&mut self) -> Result<Vec<String>, InputError> {
        let raw = match self.reader.byte_headers() {
            Ok(raw) => raw.clone(),
            Err(e) => return Err(self.error(e)),
        };
        let line = self.header_at.line;
        if raw.is_empty() || (raw.len() == 1 && raw[0].is_empty()) {
            return Err(InputError::new(&self.file, line, "empty file; expected a header row"));
        }
        raw.iter()
            .map(|h| {
                std::str::from_utf8(h)
                    .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                    .map_err(|_| super::source::not_utf8(&self.file, line, None, raw.as_slice()))
            })
            .collect()
    }

    /// Reads the next record into `record`: its line in the file, or `None`
    /// at the end.
    pub fn read(&mut self, record: &mut ByteRecord) -> Option<Result<u64, InputError>> {
        match self.reader.read_byte_record(record) {
            Ok(false) => None,
            Ok(true) => {
                let position = record.position().cloned().unwrap_or_else(Position::new);
                Some(Ok(self.line(&position)))
            }
            Err(e) => Some(Err(self.error(e))),
        }
    }

    /// A csv error as an input error on the file's real line.
    fn error(&mut self, e: csv::Error) -> InputError {
        let position = match e.kind() {
            csv::ErrorKind::UnequalLengths { pos: Some(p), .. } | csv::ErrorKind::Utf8 { pos: Some(p), .. } => {
                Some(p.clone())
            }
            _ => None,
        };
        let mut err = csv_error(&self.file, self.gzipped, e);
        if let Some(p) = position {
            err.line = self.line(&p);
        }
        err
    }

    /// The file line of the record the parser reports at `position`:
    /// past any blank lines, shifted by the lines above the header.
    fn line(&mut self, position: &Position) -> u64 {
        let blanks = &mut self.reader.get_mut().blanks;
        let (mut line, mut byte) = (position.line(), position.byte());
        while let Some(&b) = blanks.front() {
            if b < byte {
                blanks.pop_front();
            } else if b == byte {
                blanks.pop_front();
                line += 1;
                byte += 1;
            } else {
                break;
            }
        }
        line + self.header_at.line - 1
    }
}

/// Passes bytes through, noting the offset of every LF that starts a line
/// (a blank line: the parser skips it without counting it in a record's
/// position).
struct Lines {
    inner: CrlfToLf,
    /// Bytes passed so far.
    offset: u64,
    after_newline: bool,
    blanks: VecDeque<u64>,
}

impl Read for Lines {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        for (i, &b) in out[..n].iter().enumerate() {
            if b == b'\n' && self.after_newline {
                self.blanks.push_back(self.offset + i as u64);
            }
            self.after_newline = b == b'\n';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Fails once with a stored error, then reads as empty.
pub struct Deferred(pub Option<io::Error>);

impl Read for Deferred {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Turns CRLF line ends into LF before the CSV reader (see the module
/// comment). A CRLF inside a quoted field becomes LF too; a lone CR is kept.
pub struct CrlfToLf {
    pub inner: BufReader<Stream>,
    /// A CR ended the last chunk read; whether it is dropped depends on the
    /// next byte.
    pub pending_cr: bool,
}

impl Read for CrlfToLf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if self.pending_cr {
                self.pending_cr = false;
                if input.first() != Some(&b'\n') {
                    out[0] = b'\r';
                    return Ok(1);
                }
            }
            let (mut r, mut w) = (0, 0);
            while let Some(&b) = input.get(r) {
                if w == out.len() {
                    break;
                }
                if b == b'\r' {
                    match input.get(r + 1) {
                        Some(b'\n') => {
                            r += 1;
                            continue;
                        }
                        Some(_) => {}
                        None if w > 0 => break,
                        None => {
                            r += 1;
                            self.pending_cr = true;
                            break;
                        }
                    }
                }
                out[w] = b;
                w += 1;
                r += 1;
            }
            self.inner.consume(r);
            if w > 0 || r == 0 {
                return Ok(w);
            }
        }
    }
}

/// Maps a CSV error to an input error.
pub fn csv_error(file: &str, gzipped: bool, err: csv::Error) -> InputError {
    let line = err.position().map(|p| p.line()).unwrap_or(1);
    match err.into_kind() {
        csv::ErrorKind::Io(e) => read_error(file, line, gzipped, &e),
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => InputError::new(
            file,
            pos.map(|p| p.line()).unwrap_or(line),
            format!("expected {expected_len} fields as in the header, found {len}"),
        ),
        csv::ErrorKind::Utf8 { pos, .. } => not_utf8(file, pos.map(|p| p.line()).unwrap_or(line), None, &[]),
        other => InputError::new(file, line, format!("not valid CSV: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(names: &[String]) -> bool {
        names.len() >= 2
    }

    fn lines_of(text: &[u8], recognise: &dyn Fn(&[String]) -> bool) -> (Vec<String>, Vec<u64>) {
        let mut csv =
            CsvFile::open("f.csv", false, Box::new(io::Cursor::new(text.to_vec())), recognise, false).unwrap();
        let header = csv.header().unwrap();
        let mut record = ByteRecord::new();
        let mut lines = Vec::new();
        while let Some(line) = csv.read(&mut record) {
            lines.push(line.unwrap());
        }
        (header, lines)
    }

    #[test]
    fn delimiters_are_recognised_from_the_header() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y\",b\n"), b',');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }

    #[test]
    fn records_are_on_their_real_lines_with_lf_crlf_and_blank_lines() {
        assert_eq!(lines_of(b"a,b\nu1,1\nu2,2\nu3,3\n", &any).1, vec![2, 3, 4]);
        assert_eq!(lines_of(b"a,b\r\nu1,1\r\nu2,2\r\nu3,3\r\n", &any).1, vec![2, 3, 4]);
        assert_eq!(lines_of(b"a,b\n\nu1,1\n\n\nu2,2\n", &any).1, vec![3, 6]);
        assert_eq!(lines_of(b"a,b\r\n\r\nu1,1\r\nu2,2", &any).1, vec![3, 4]);
        assert_eq!(lines_of(b"a,b\n\"x\n\ny\",1\n\nu2,2\n", &any).1, vec![2, 6]);
    }

    #[test]
    fn the_header_is_found_below_a_title_row_blank_lines_or_a_type_line() {
        let text =
            b"\xef\xbb\xbfAcme Member Analytics,,,\r\n\r\nName;Days active;Messages posted\r\nDana;3;\"1.234\"\r\n";
        let (header, lines) = lines_of(text, &any);
        assert_eq!(header, vec!["Name", "Days active", "Messages posted"]);
        assert_eq!(lines, vec![4]);
        let ps = b"#TYPE System.Management.Automation.PSCustomObject\n\"a\",\"b\"\n\"1\",\"2\"\n";
        assert_eq!(lines_of(ps, &any), (vec!["a".to_string(), "b".to_string()], vec![3]));
        // Nothing recognised: line 1 is the header.
        let at = find_header(b"x\ny\n", &any);
        assert_eq!((at.line, at.offset, at.names), (1, 0, vec!["x".to_string()]));
    }

    #[test]
    fn a_short_record_is_reported_on_its_line() {
        let mut csv = CsvFile::open(
            "f.csv",
            false,
            Box::new(io::Cursor::new(b"title\r\n\r\na,b\r\n1,2\r\n\r\n3\r\n".to_vec())),
            &any,
            false,
        )
        .unwrap();
        csv.header().unwrap();
        let mut record = ByteRecord::new();
        assert_eq!(csv.read(&mut record).unwrap().unwrap(), 4);
        let err = csv.read(&mut record).unwrap().unwrap_err();
        assert_eq!(err.line, 6, "{err}");
    }

    #[test]
    fn crlf_becomes_lf_across_chunk_ends() {
        let text = b"a,b\r\n1,2\r\r\n\rx\r".to_vec();
        for capacity in 1..6 {
            let inner = BufReader::with_capacity(capacity, Box::new(io::Cursor::new(text.clone())) as Stream);
            let mut unix = CrlfToLf { inner, pending_cr: false };
            let mut out = Vec::new();
            let mut chunk = [0u8; 3];
            loop {
                let n = unix.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(out, b"a,b\n1,2\r\n\rx\r".to_vec(), "capacity {capacity}");
        }
    }
}
