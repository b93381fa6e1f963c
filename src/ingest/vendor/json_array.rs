//! A top-level JSON array (or an envelope's array) streamed element by
//! element, each element at most one line's limit.

use std::io::{self, BufRead, BufReader};

use super::super::InputError;
use super::super::source::{LineTooLong, MAX_LINE_BYTES, read_error};
use super::super::timestamp::shorten;
use super::*;

/// Streams the objects of a top-level JSON array, or of the records array
/// inside each page of a raw API response (an envelope), one at a time, each
/// at most `MAX_LINE_BYTES`. The rest of an envelope is skipped without
/// being kept, apart from Feishu's `code` and `msg`.
pub(super) struct JsonArray {
    pub(super) reader: BufReader<Stream>,
    /// The line of the next byte.
    pub(super) line: u64,
    /// The current element.
    pub(super) buf: Vec<u8>,
    pub(super) state: ArrayState,
    /// The key path of the records array in each page, for an envelope.
    pub(super) envelope: Option<&'static [&'static str]>,
    /// Envelope objects open around the current position.
    pub(super) open: usize,
    /// The page's `code` and `msg` (Feishu: a non-zero code is an error).
    pub(super) code: Option<String>,
    pub(super) msg: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ArrayState {
    /// Before the `[`.
    Start,
    /// After `[`: an element or `]`.
    First,
    /// After an element: `,` or `]`.
    After,
    Done,
}

pub(super) enum ScanError {
    Io(io::Error),
    Bad(u64, String),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> ScanError {
        ScanError::Io(e)
    }
}

impl JsonArray {
    pub(super) fn new(reader: Stream) -> JsonArray {
        JsonArray {
            reader: BufReader::with_capacity(256 * 1024, reader),
            line: 1,
            buf: Vec::new(),
            state: ArrayState::Start,
            envelope: None,
            open: 0,
            code: None,
            msg: None,
        }
    }

    pub(super) fn envelope(reader: Stream, path: &'static [&'static str]) -> JsonArray {
        JsonArray { envelope: Some(path), ..JsonArray::new(reader) }
    }

    pub(super) fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    /// The rest of a JSON string whose opening quote was read, decoded.
    pub(super) fn string(&mut self) -> Result<String, ScanError> {
        let start = self.line;
        let mut raw = vec![b'"'];
        let mut escape = false;
        loop {
            let Some(b) = self.byte()? else {
                return Err(ScanError::Bad(start, "the JSON ends inside a string (truncated file?)".into()));
            };
            raw.push(b);
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                break;
            }
            if raw.len() > MAX_LINE_BYTES {
                return Err(ScanError::Bad(start, format!("a JSON string longer than {MAX_LINE_BYTES} bytes")));
            }
        }
        serde_json::from_slice(&raw).map_err(|e| ScanError::Bad(start, format!("not a JSON string ({e})")))
    }

    /// Skips one JSON value; returns a scalar's text (a string decoded).
    pub(super) fn skip_value(&mut self) -> Result<Option<String>, ScanError> {
        let start = self.line;
        match self.token()? {
            None => Err(ScanError::Bad(start, "the JSON ends before a value (truncated file?)".into())),
            Some(b'"') => self.string().map(Some),
            Some(b'{' | b'[') => {
                let (mut depth, mut in_string, mut escape) = (1u32, false, false);
                while depth > 0 {
                    let Some(b) = self.byte()? else {
                        return Err(ScanError::Bad(start, "the JSON ends inside a value (truncated file?)".into()));
                    };
                    if in_string {
                        if escape {
                            escape = false;
                        } else if b == b'\\' {
                            escape = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                Ok(None)
            }
            Some(first) => {
                let mut text = vec![first];
                while let Some(b) = self.peek()? {
                    if b.is_ascii_whitespace() || b",}]".contains(&b) || text.len() > 64 {
                        break;
                    }
                    text.push(b);
                    self.reader.consume(1);
                }
                Ok(Some(String::from_utf8_lossy(&text).into_owned()))
            }
        }
    }

    /// Walks the keys of the open envelope objects. With `find`, stops just
    /// after the `[` of the records array (true) or when the page closed
    /// without it (false); without, skips to the end of the page.
    pub(super) fn walk(&mut self, path: &'static [&'static str], find: bool) -> Result<bool, ScanError> {
        while self.open > 0 {
            match self.token()? {
                Some(b'}') => {
                    self.open -= 1;
                    continue;
                }
                Some(b',') => continue,
                Some(b'"') => {}
                None => {
                    return Err(ScanError::Bad(self.line, "the JSON object is not closed (truncated file?)".into()));
                }
                Some(b) => {
                    return Err(ScanError::Bad(
                        self.line,
                        format!("expected a key in the API response object, found `{}`", char::from(b)),
                    ));
                }
            }
            let name = self.string()?;
            if self.token()? != Some(b':') {
                return Err(ScanError::Bad(self.line, format!("expected `:` after the key `{}`", shorten(&name))));
            }
            let wanted = path.get(self.open - 1).is_some_and(|k| *k == name);
            if find && wanted {
                let at = self.line;
                match (self.token()?, self.open == path.len()) {
                    (Some(b'['), true) => return Ok(true),
                    (Some(b'{'), false) => self.open += 1,
                    _ => {
                        return Err(ScanError::Bad(
                            at,
                            format!("`{name}` is not the records array this API response should carry"),
                        ));
                    }
                }
                continue;
            }
            let value = self.skip_value()?;
            if self.open == 1 && name == "code" {
                self.code = value;
            } else if self.open == 1 && name == "msg" {
                self.msg = value;
            }
        }
        // The page is closed: a non-zero `code` means the call failed.
        match (self.code.take(), self.msg.take()) {
            (Some(code), msg) if code != "0" => Err(ScanError::Bad(
                self.line,
                format!(
                    "the API answered code {} ({}) instead of records; nothing to import",
                    shorten(&code),
                    shorten(msg.as_deref().unwrap_or("no message"))
                ),
            )),
            _ => Ok(false),
        }
    }

    pub(super) fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = match self.reader.fill_buf()?.first() {
            Some(b) => *b,
            None => return Ok(None),
        };
        self.reader.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    /// The next byte that is not white space (nor a leading BOM).
    pub(super) fn token(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.byte()? {
                Some(b) if b.is_ascii_whitespace() => {}
                Some(0xef) if self.state == ArrayState::Start => {
                    // A BOM: EF BB BF.
                    if self.byte()? != Some(0xbb) || self.byte()? != Some(0xbf) {
                        return Ok(Some(0xef));
                    }
                }
                other => return Ok(other),
            }
        }
    }

    /// Reads the next element into `buf`; returns its first line.
    pub(super) fn next_object(&mut self, file: &str, gzipped: bool) -> Option<Result<u64, InputError>> {
        match self.advance() {
            Ok(None) => {
                self.state = ArrayState::Done;
                None
            }
            Ok(Some(start)) => Some(Ok(start)),
            Err(e) => {
                self.state = ArrayState::Done;
                Some(Err(match e {
                    ScanError::Bad(line, message) => InputError::new(file, line, message),
                    ScanError::Io(e) => match e.get_ref().and_then(|inner| inner.downcast_ref::<LineTooLong>()) {
                        Some(too_long) => InputError::new(
                            file,
                            too_long.line,
                            format!(
                                "line longer than {MAX_LINE_BYTES} bytes: a JSON array written on one line is \
                                 limited to that; write one object per line (NDJSON) or pretty-print the array"
                            ),
                        ),
                        None => read_error(file, self.line, gzipped, &e),
                    },
                }))
            }
        }
    }

    pub(super) fn advance(&mut self) -> Result<Option<u64>, ScanError> {
        loop {
            match self.state {
                ArrayState::Done => return Ok(None),
                ArrayState::Start => match (self.token()?, self.envelope) {
                    (Some(b'['), None) => self.state = ArrayState::First,
                    // A page of a raw API response (several may follow each other).
                    (Some(b'{'), Some(path)) => {
                        self.open = 1;
                        if self.walk(path, true)? {
                            self.state = ArrayState::First;
                        }
                        continue;
                    }
                    (None, _) => return Ok(None),
                    (Some(_), None) => {
                        return Err(ScanError::Bad(self.line, "expected a JSON array of objects".into()));
                    }
                    (Some(_), Some(_)) => {
                        return Err(ScanError::Bad(
                            self.line,
                            "expected the next page of the API response, `{`".into(),
                        ));
                    }
                },
                ArrayState::After => match self.token()? {
                    Some(b',') => match self.token()? {
                        Some(b'{') => return self.object().map(Some),
                        // A trailing comma before `]` is tolerated.
                        Some(b']') => self.state = ArrayState::Done,
                        other => return Err(self.unexpected(other)),
                    },
                    Some(b']') => self.state = ArrayState::Done,
                    None => {
                        return Err(ScanError::Bad(self.line, "the JSON array is not closed (truncated file?)".into()));
                    }
                    Some(b) => {
                        return Err(ScanError::Bad(
                            self.line,
                            format!("expected `,` or `]` after an array element, found `{}`", char::from(b)),
                        ));
                    }
                },
                ArrayState::First => match self.token()? {
                    Some(b'{') => return self.object().map(Some),
                    Some(b']') => self.state = ArrayState::Done,
                    other => return Err(self.unexpected(other)),
                },
            }
            if let (ArrayState::Done, Some(path)) = (self.state, self.envelope) {
                // The records array is closed: skip the rest of the page;
                // another page may follow.
                self.walk(path, false)?;
                self.state = ArrayState::Start;
                continue;
            }
            if self.state == ArrayState::Done {
                // Only white space may follow the array.
                if let Some(b) = self.token()? {
                    return Err(ScanError::Bad(
                        self.line,
                        format!("unexpected `{}` after the end of the JSON array", char::from(b)),
                    ));
                }
                return Ok(None);
            }
        }
    }

    pub(super) fn unexpected(&self, found: Option<u8>) -> ScanError {
        match found {
            None => ScanError::Bad(self.line, "the JSON array is not closed (truncated file?)".into()),
            Some(b) => {
                ScanError::Bad(self.line, format!("expected a JSON object as array element, found `{}`", char::from(b)))
            }
        }
    }

    /// Copies one object (its `{` already read) into `buf`.
    pub(super) fn object(&mut self) -> Result<u64, ScanError> {
        let start = self.line;
        let JsonArray { reader, line, buf, state, .. } = self;
        buf.clear();
        buf.push(b'{');
        let (mut depth, mut in_string, mut escape) = (1u32, false, false);
        loop {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                return Err(ScanError::Bad(*line, "the JSON array ends inside an object (truncated file?)".into()));
            }
            let mut used = available.len();
            let mut closed = false;
            for (i, &b) in available.iter().enumerate() {
                if b == b'\n' {
                    *line += 1;
                }
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    used = i + 1;
                    closed = true;
                    break;
                }
            }
            buf.extend_from_slice(&available[..used]);
            reader.consume(used);
            if buf.len() > MAX_LINE_BYTES {
                return Err(ScanError::Bad(
                    start,
                    format!("the JSON object starting here is longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
            if closed {
                *state = ArrayState::After;
                return Ok(start);
            }
        }
    }
}
