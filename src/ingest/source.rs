//! Opening an input: gzip detected from its first bytes, a bound on line
//! length so that a runaway line cannot exhaust memory, and a line counter
//! for error messages.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use super::InputError;

/// The longest line accepted, in bytes. Real event and directory rows are a
/// few hundred bytes; this leaves room for wide directories.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Raised inside the reader chain when a line is too long.
#[derive(Debug)]
pub struct LineTooLong {
    pub line: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is longer than {} bytes", self.line, MAX_LINE_BYTES)
    }
}

impl std::error::Error for LineTooLong {}

/// Counts lines and fails once one grows past `MAX_LINE_BYTES`.
pub struct LineGuard<R> {
    inner: R,
    line: u64,
    current_len: usize,
    limit: usize,
}

impl<R: Read> LineGuard<R> {
    pub fn new(inner: R) -> LineGuard<R> {
        LineGuard { inner, line: 1, current_len: 0, limit: MAX_LINE_BYTES }
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for chunk in buf[..n].split_inclusive(|&b| b == b'\n') {
            self.current_len += chunk.len();
            if self.current_len > self.limit + 1 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong { line: self.line }));
            }
            if chunk.last() == Some(&b'\n') {
                self.line += 1;
                self.current_len = 0;
            }
        }
        Ok(n)
    }
}

/// The longest CSV record accepted: a quoted field may span lines, so the
/// line guard alone does not bound a record left open by a stray quote.
pub const MAX_RECORD_BYTES: usize = 4 * MAX_LINE_BYTES;

/// Raised when a CSV record grows past `MAX_RECORD_BYTES`.
#[derive(Debug)]
pub struct RecordTooLong {
    /// The line the record started on.
    pub line: u64,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record starting on line {} is longer than {} bytes", self.line, MAX_RECORD_BYTES)
    }
}

impl std::error::Error for RecordTooLong {}

/// Counts CSV records (newlines outside double quotes) and fails once one
/// grows past `MAX_RECORD_BYTES`, e.g. after an unmatched quote.
pub struct RecordGuard<R> {
    inner: R,
    quoted: bool,
    line: u64,
    record_start: u64,
    record_len: usize,
}

impl<R: Read> RecordGuard<R> {
    pub fn new(inner: R) -> RecordGuard<R> {
        RecordGuard::starting_at(inner, 1)
    }

    /// A guard over input whose first byte is on file line `line`.
    pub fn starting_at(inner: R, line: u64) -> RecordGuard<R> {
        RecordGuard { inner, quoted: false, line, record_start: line, record_len: 0 }
    }
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.record_len += 1;
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' => {
                    self.line += 1;
                    if !self.quoted {
                        self.record_start = self.line;
                        self.record_len = 0;
                    }
                }
                _ => {}
            }
            if self.record_len > MAX_RECORD_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong { line: self.record_start }));
            }
        }
        Ok(n)
    }
}

/// A readable input with its display name, gzip already undone.
pub struct Input {
    pub name: String,
    pub gzipped: bool,
    pub reader: Box<dyn Read + Send>,
}

/// Wraps a raw byte stream: detects gzip by its magic bytes and guards line
/// length.
pub fn open(name: &str, raw: impl Read + Send + 'static) -> Result<Input, InputError> {
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered.fill_buf().map_err(|e| InputError::new(name, 1, format!("cannot read: {e}")))?;
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read + Send> = if gzipped {
        let mut inner = BufReader::with_capacity(64 * 1024, MultiGzDecoder::new(buffered));
        let head = inner.fill_buf().map_err(|e| read_error(name, 1, true, &e))?;
        check_text(name, head)?;
        Box::new(LineGuard::new(inner))
    } else {
        check_text(name, head)?;
        Box::new(LineGuard::new(buffered))
    };
    Ok(Input { name: name.to_string(), gzipped, reader })
}

/// Refuses, before anything is read as rows, a file that is not text:
/// a spreadsheet, a PDF, UTF-16 text, or any binary data.
fn check_text(name: &str, head: &[u8]) -> Result<(), InputError> {
    let what = if head.starts_with(b"PK\x03\x04") {
        "an Excel workbook or another ZIP archive, not text; save the sheet as CSV (UTF-8)"
    } else if head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        "an old Excel (.xls) or Office file, not text; save the sheet as CSV (UTF-8)"
    } else if head.starts_with(b"%PDF") {
        "a PDF, not text; export the data as CSV or NDJSON"
    } else if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        "UTF-16 text (Excel's \"Unicode text\"); save it as CSV UTF-8"
    } else if head.iter().take(8192).any(|&b| b == 0) {
        "binary data, not CSV or NDJSON text; is this the right file?"
    } else {
        return Ok(());
    };
    Err(InputError::new(name, 1, format!("the file is {what}")))
}

/// Turns an I/O error met while reading into an input error at `line`.
pub fn read_error(file: &str, line: u64, gzipped: bool, err: &io::Error) -> InputError {
    if let Some(record) = err.get_ref().and_then(|e| e.downcast_ref::<RecordTooLong>()) {
        return InputError::new(
            file,
            record.line,
            format!("a record longer than {MAX_RECORD_BYTES} bytes starts here; is a quote (\") left open?"),
        );
    }
    if let Some(too_long) = err.get_ref().and_then(|e| e.downcast_ref::<LineTooLong>()) {
        return InputError::new(
            file,
            too_long.line,
            format!("line longer than {} bytes; is this the right file?", MAX_LINE_BYTES),
        );
    }
    if gzipped
        && matches!(err.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData)
    {
        return InputError::new(file, line, format!("the gzip data is truncated or corrupt ({err})"));
    }
    InputError::new(file, line, format!("cannot read: {err}"))
}

/// Normalises a header name: strips a UTF-8 BOM, trims, collapses inner white
/// space and lower-cases.
pub fn normalise_header(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}');
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_past_the_limit_is_refused_with_its_number() {
        let data =
            b"a,b\nok,1\n".iter().copied().chain(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10)).collect::<Vec<_>>();
        let mut guard = LineGuard::new(&data[..]);
        let mut sink = Vec::new();
        let err = guard.read_to_end(&mut sink).unwrap_err();
        let too_long = err.get_ref().unwrap().downcast_ref::<LineTooLong>().unwrap();
        assert_eq!(too_long.line, 3);
    }

    fn refusal(bytes: &'static [u8]) -> String {
        match open("upload.csv", bytes) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn files_that_are_not_text_are_refused_at_line_one_with_what_they_are() {
        assert!(refusal(b"PK\x03\x04\x14\x00\x06\x00").contains("upload.csv:1: the file is an Excel workbook"));
        assert!(refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1").contains("old Excel (.xls)"));
        assert!(refusal(b"%PDF-1.7\n").contains("a PDF"));
        assert!(refusal(b"\xff\xfeu\x00s\x00e\x00r\x00").contains("UTF-16"));
        assert!(refusal(b"user_id,timestamp\nu1\x00,x\n").contains("binary data"));
        // Text passes, with or without a UTF-8 BOM, and gzip is looked into.
        assert_eq!(refusal(b"\xef\xbb\xbfuser_id,timestamp\n"), "");
        assert_eq!(refusal(b"{\"user_id\":\"\xe5\xbc\xa0\"}\n"), "");
        let zipped = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, data).unwrap();
            e.finish().unwrap()
        };
        let pdf = zipped(b"%PDF-1.4 ...");
        assert!(open("x.csv.gz", std::io::Cursor::new(pdf)).err().unwrap().to_string().contains("a PDF"));
        assert!(open("x.csv.gz", std::io::Cursor::new(zipped(b"user_id\nu1\n"))).is_ok());
    }

    #[test]
    fn headers_are_compared_loosely() {
        assert_eq!(normalise_header("\u{feff} User   ID "), "user id");
    }
}
