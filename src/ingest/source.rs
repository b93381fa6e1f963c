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
        RecordGuard { inner, quoted: false, line: 1, record_start: 1, record_len: 0 }
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
        Box::new(LineGuard::new(MultiGzDecoder::new(buffered)))
    } else {
        Box::new(LineGuard::new(buffered))
    };
    Ok(Input { name: name.to_string(), gzipped, reader })
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

    #[test]
    fn headers_are_compared_loosely() {
        assert_eq!(normalise_header("\u{feff} User   ID "), "user id");
    }
}
