//! Opening an input: gzip detected from its first bytes, the encoding
//! detected (or forced) and the text converted to UTF-8 as it streams, a
//! bound on line length so that a runaway line cannot exhaust memory, and a
//! line counter for error messages. The one message for text in the wrong
//! encoding lives here too ([`not_utf8`]).

use std::io::{self, BufRead, BufReader, Read};

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{
    BIG5, Decoder, DecoderResult, EUC_KR, Encoding, GB18030, GBK, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252,
};
use flate2::bufread::MultiGzDecoder;

use super::InputError;
use super::inflate::{Counted, InflateGuard, InflateLimitCrossed};
use crate::domain::settings::InflateLimits;

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

/// A readable input with its display name, gzip already undone and the
/// text converted to UTF-8.
pub struct Input {
    pub name: String,
    pub gzipped: bool,
    /// The encoding the text was converted from; `None` when it was read
    /// as UTF-8 (nothing to say).
    pub encoding: Option<&'static Encoding>,
    pub reader: Box<dyn Read + Send>,
}

impl Input {
    /// The name of the encoding the file was converted from (encoding_rs's
    /// name: `GBK`, `UTF-16LE`, `windows-1252`), for the import summary.
    pub fn encoding_name(&self) -> Option<String> {
        self.encoding.map(|e| e.name().to_string())
    }
}

/// Wraps a raw byte stream: detects gzip by its magic bytes, detects the
/// text's encoding and converts it to UTF-8, and guards line length.
pub fn open(name: &str, raw: impl Read + Send + 'static) -> Result<Input, InputError> {
    open_as(name, raw, None)
}

/// Like [`open`], with the encoding `forced` instead of detected when given
/// (`--encoding`, the import form's Encoding select).
pub fn open_as(
    name: &str,
    raw: impl Read + Send + 'static,
    forced: Option<&'static Encoding>,
) -> Result<Input, InputError> {
    open_limited(name, raw, forced, InflateLimits::default())
}

/// Like [`open_as`], with gzip inflating at most as far as `limits` allow
/// (the `import.*` settings; see [`super::inflate`]).
pub fn open_limited(
    name: &str,
    raw: impl Read + Send + 'static,
    forced: Option<&'static Encoding>,
    limits: InflateLimits,
) -> Result<Input, InputError> {
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered.fill_buf().map_err(|e| InputError::new(name, 1, format!("cannot read: {e}")))?;
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    let (encoding, reader) = if gzipped {
        let (counted, compressed) = Counted::new(buffered);
        let guarded = InflateGuard::new(MultiGzDecoder::new(counted), compressed, limits);
        let inner = BufReader::with_capacity(64 * 1024, guarded);
        text(name, inner, true, forced)?
    } else {
        text(name, buffered, false, forced)?
    };
    Ok(Input { name: name.to_string(), gzipped, encoding, reader })
}

/// Decides how a (decompressed) stream is read as text and wraps it: as is
/// when it is UTF-8, through a converter otherwise.
fn text<R: BufRead + Send + 'static>(
    name: &str,
    mut inner: R,
    gzipped: bool,
    forced: Option<&'static Encoding>,
) -> Result<(Option<&'static Encoding>, Box<dyn Read + Send>), InputError> {
    let head = inner.fill_buf().map_err(|e| read_error(name, 1, gzipped, &e))?;
    check_binary_formats(name, head)?;
    let encoding = match forced {
        Some(e) => e,
        None => {
            let encoding = detect(head);
            if encoding != UTF_16LE && encoding != UTF_16BE {
                check_nul(name, head)?;
            }
            encoding
        }
    };
    if encoding == UTF_8 {
        repair_bom(&mut inner);
        return Ok((None, Box::new(LineGuard::new(inner))));
    }
    let decoder = encoding.new_decoder_with_bom_removal();
    let mut converted = BufReader::with_capacity(64 * 1024, Transcoder::new(inner, decoder, encoding));
    // The first bytes are converted now, so that a file that is not in the
    // forced encoding at all fails here, at line 1.
    converted.fill_buf().map_err(|e| read_error(name, 1, gzipped, &e))?;
    repair_bom(&mut converted);
    Ok((Some(encoding), Box::new(LineGuard::new(converted))))
}

/// The encoding of a text whose first bytes are `head` (the reader's
/// first buffer). A BOM decides; UTF-16 without one is told by where its NUL
/// bytes fall; text that is valid UTF-8 is UTF-8; anything else is guessed
/// by chardetng (GBK, Big5, Shift_JIS, Windows-1252...).
pub fn detect(head: &[u8]) -> &'static Encoding {
    if head.starts_with(b"\xef\xbb\xbf") {
        return UTF_8;
    }
    if head.starts_with(&[0xff, 0xfe]) {
        return UTF_16LE;
    }
    if head.starts_with(&[0xfe, 0xff]) {
        return UTF_16BE;
    }
    if let Some(utf16) = utf16_by_nul_pattern(head) {
        return utf16;
    }
    match std::str::from_utf8(head) {
        Ok(_) => return UTF_8,
        // Cut inside a character at the end of the buffer: still UTF-8.
        Err(e) if e.error_len().is_none() => return UTF_8,
        Err(_) => {}
    }
    guess(head)
}

/// chardetng's guess for text that is not UTF-8 (`bytes`: a prefix of it).
fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, false);
    detector.guess(None, Utf8Detection::Deny)
}

/// UTF-16 without a BOM: ASCII characters (the header, digits, commas)
/// carry a NUL byte, always on the same side of each pair.
fn utf16_by_nul_pattern(head: &[u8]) -> Option<&'static Encoding> {
    let pairs = head[..head.len().min(8192) & !1].chunks_exact(2);
    let total = pairs.len();
    let (mut le, mut be) = (0usize, 0usize);
    for pair in pairs {
        match (pair[0], pair[1]) {
            (0, 0) => return None,
            (_, 0) => le += 1,
            (0, _) => be += 1,
            _ => {}
        }
    }
    // Both patterns, or too few NULs for text: binary data, not UTF-16.
    let enough = |n: usize| n * 4 >= total && n > 0;
    match (le, be) {
        (n, 0) if enough(n) => Some(UTF_16LE),
        (0, n) if enough(n) => Some(UTF_16BE),
        _ => None,
    }
}

/// The UTF-8 BOM read as Windows-1252 and saved again as UTF-8 (`ï»¿`, a
/// known problem of Graph report downloads).
const MOJIBAKE_BOM: &[u8] = b"\xc3\xaf\xc2\xbb\xc2\xbf";

/// Drops a doubly-encoded BOM at the very start of a UTF-8 stream.
fn repair_bom<R: BufRead>(reader: &mut R) {
    if reader.fill_buf().is_ok_and(|head| head.starts_with(MOJIBAKE_BOM)) {
        reader.consume(MOJIBAKE_BOM.len());
    }
}

/// Raised inside the reader chain when the text is not valid in the
/// encoding it is converted from.
#[derive(Debug)]
pub struct NotEncodedAs {
    pub line: u64,
    pub encoding: &'static Encoding,
    /// The bytes around the bad sequence, to guess what the file is.
    pub sample: Vec<u8>,
}

impl std::fmt::Display for NotEncodedAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is not valid {}", self.line, self.encoding.name())
    }
}

impl std::error::Error for NotEncodedAs {}

/// Converts a stream to UTF-8 as it is read, a buffer at a time; a byte
/// sequence that is not valid in the encoding is an error, not a
/// replacement character, so a wrong forced encoding is reported.
struct Transcoder<R> {
    inner: R,
    decoder: Decoder,
    encoding: &'static Encoding,
    out: Vec<u8>,
    pos: usize,
    done: bool,
    /// Lines completed in the output so far, for errors.
    line: u64,
}

impl<R: BufRead> Transcoder<R> {
    fn new(inner: R, decoder: Decoder, encoding: &'static Encoding) -> Transcoder<R> {
        Transcoder { inner, decoder, encoding, out: Vec::new(), pos: 0, done: false, line: 1 }
    }
}

impl<R: BufRead> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            let src = self.inner.fill_buf()?;
            let last = src.is_empty();
            let src = &src[..src.len().min(32 * 1024)];
            let room = self.decoder.max_utf8_buffer_length_without_replacement(src.len()).unwrap_or(128 * 1024);
            self.out.clear();
            self.out.resize(room.max(16), 0);
            self.pos = 0;
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(src, &mut self.out, last);
            let sample_end = read.min(src.len());
            let sample = src[sample_end.saturating_sub(64)..(sample_end + 64).min(src.len())].to_vec();
            self.out.truncate(written);
            self.inner.consume(read);
            match result {
                DecoderResult::InputEmpty => self.done = last,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(..) => {
                    let line = self.line + self.out.iter().filter(|&&b| b == b'\n').count() as u64;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        NotEncodedAs { line, encoding: self.encoding, sample },
                    ));
                }
            }
            self.line += self.out.iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
}

/// Refuses, before anything is read as rows, a file that is not text:
/// a spreadsheet, a PDF.
fn check_binary_formats(name: &str, head: &[u8]) -> Result<(), InputError> {
    let what = if head.starts_with(b"PK\x03\x04") {
        "an Excel workbook or another ZIP archive, not text; save the sheet as CSV (UTF-8)"
    } else if head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        "an old Excel (.xls) or Office file, not text; save the sheet as CSV (UTF-8)"
    } else if head.starts_with(b"%PDF") {
        "a PDF, not text; export the data as CSV or NDJSON"
    } else {
        return Ok(());
    };
    Err(InputError::new(name, 1, format!("the file is {what}")))
}

/// Refuses NUL bytes in what was taken for 8-bit text: binary data.
fn check_nul(name: &str, head: &[u8]) -> Result<(), InputError> {
    if head.iter().take(8192).any(|&b| b == 0) {
        return Err(InputError::new(
            name,
            1,
            "the file is binary data, not CSV or NDJSON text; is this the right file?",
        ));
    }
    Ok(())
}

/// How an encoding is described to the user and named on the command line.
fn describe(encoding: &'static Encoding) -> (String, String) {
    let (what, label) = if encoding == GBK || encoding == GB18030 {
        ("GBK (Excel's default in a Chinese locale)", "gbk")
    } else if encoding == BIG5 {
        ("Big5 (traditional Chinese; Excel's default in Taiwan and Hong Kong)", "big5")
    } else if encoding == SHIFT_JIS {
        ("Shift_JIS (Excel's default in a Japanese locale)", "shift_jis")
    } else if encoding == EUC_KR {
        ("EUC-KR (Excel's default in a Korean locale)", "euc-kr")
    } else if encoding == WINDOWS_1252 {
        ("Windows-1252 (Excel's default in Western Europe and the Americas)", "windows-1252")
    } else if encoding == UTF_8 {
        ("UTF-8", "utf-8")
    } else if encoding == UTF_16LE || encoding == UTF_16BE {
        ("UTF-16 (Excel's \"Unicode text\")", if encoding == UTF_16LE { "utf-16le" } else { "utf-16be" })
    } else {
        return (encoding.name().to_string(), encoding.name().to_lowercase());
    };
    (what.to_string(), label.to_string())
}

/// What the command line says to force an encoding; [`in_browser`] turns it
/// into the import form's words.
const FORCE_FLAG: &str = "import it again with --encoding ";

/// The error for text that is not valid UTF-8 at `line` (and `column`):
/// what the file probably is, guessed from `sample` (the record's bytes),
/// and how to import it.
pub fn not_utf8(file: &str, line: u64, column: Option<&str>, sample: &[u8]) -> InputError {
    not_encoded_as(file, line, column, UTF_8, sample)
}

/// The error for text that is not valid in `tried`, naming what it probably
/// is instead.
pub fn not_encoded_as(
    file: &str,
    line: u64,
    column: Option<&str>,
    tried: &'static Encoding,
    sample: &[u8],
) -> InputError {
    let likely = if sample.is_ascii() {
        // Nothing to tell the encoding by.
        tried
    } else if tried != UTF_8 && std::str::from_utf8(sample).is_ok() {
        UTF_8
    } else {
        guess(sample)
    };
    let message = if likely == tried {
        format!(
            "not valid {}; name the file's encoding: {FORCE_FLAG}NAME (gbk, big5, windows-1252, utf-16le...), or save it as \"CSV UTF-8\"",
            tried.name()
        )
    } else {
        let (what, label) = describe(likely);
        format!(
            "not valid {}; the file looks like {what}: {FORCE_FLAG}{label}, or save it as \"CSV UTF-8\"",
            tried.name()
        )
    };
    match column {
        Some(column) => InputError::in_column(file, line, column, message),
        None => InputError::new(file, line, message),
    }
}

/// The choices of the import forms' Encoding select: (value, label).
pub const FORM_ENCODINGS: [(&str, &str); 6] = [
    ("", "automatic"),
    ("utf-8", "UTF-8"),
    ("gbk", "GBK (GB18030)"),
    ("big5", "Big5"),
    ("utf-16", "UTF-16"),
    ("windows-1252", "Windows-1252"),
];

/// An encoding from a `--encoding` flag or a form's select: any label
/// encoding_rs knows (`utf-8`, `gbk`, `gb18030`, `big5`, `utf-16le`,
/// `windows-1252`, `shift_jis`...). Empty or `auto` means detect.
pub fn parse_encoding(label: &str) -> Result<Option<&'static Encoding>, String> {
    let label = label.trim();
    if label.is_empty() || label.eq_ignore_ascii_case("auto") || label.eq_ignore_ascii_case("automatic") {
        return Ok(None);
    }
    match Encoding::for_label(label.as_bytes()) {
        Some(e) if e != encoding_rs::REPLACEMENT => Ok(Some(e)),
        _ => Err(format!(
            "unknown encoding `{label}`; use a name such as utf-8, gbk, gb18030, big5, utf-16le, utf-16be, windows-1252 or shift_jis"
        )),
    }
}

/// An error text as the browser shows it: the import form's Encoding select
/// named instead of the command line's `--encoding` flag.
pub fn in_browser(message: &str) -> String {
    let Some(at) = message.find(FORCE_FLAG) else {
        return message.to_string();
    };
    let rest = &message[at + FORCE_FLAG.len()..];
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    let label = &rest[..end];
    let option = parse_encoding(label)
        .ok()
        .flatten()
        .and_then(|wanted| {
            FORM_ENCODINGS.iter().find(|(value, _)| parse_encoding(value).ok().flatten() == Some(wanted))
        })
        .map_or("automatic", |(_, shown)| shown);
    format!("{}upload it again with Encoding set to \"{option}\"{}", &message[..at], &rest[end..])
}

/// Turns an I/O error met while reading into an input error at `line`.
pub fn read_error(file: &str, line: u64, gzipped: bool, err: &io::Error) -> InputError {
    if let Some(crossed) = err.get_ref().and_then(|e| e.downcast_ref::<InflateLimitCrossed>()) {
        return InputError::new(file, crossed.line, crossed.message.clone());
    }
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
    if let Some(bad) = err.get_ref().and_then(|e| e.downcast_ref::<NotEncodedAs>()) {
        return not_encoded_as(file, bad.line, None, bad.encoding, &bad.sample);
    }
    if gzipped
        && matches!(err.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData)
    {
        return InputError::new(file, line, format!("the gzip data is truncated or corrupt ({err})"));
    }
    InputError::new(file, line, format!("cannot read: {err}"))
}

pub use crate::domain::mapping::normalise_header;

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

    fn read_all(input: Input) -> String {
        let mut out = String::new();
        let mut reader = input.reader;
        reader.read_to_string(&mut out).unwrap();
        out
    }

    fn opened(bytes: Vec<u8>, forced: Option<&'static Encoding>) -> Input {
        open_as("people.csv", std::io::Cursor::new(bytes), forced).unwrap()
    }

    const TEXT: &str = "user_id,name,department\nzw,张伟,技术部\nll,李丽,市场部\n";

    fn encoded(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        match encoding.name() {
            // encoding_rs encodes to UTF-8 for UTF-16 (per the WHATWG spec).
            "UTF-16LE" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            "UTF-16BE" => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            _ => encoding.encode(text).0.into_owned(),
        }
    }

    #[test]
    fn encodings_are_detected_from_the_first_bytes() {
        assert_eq!(detect(b"user_id,name\nu1,Alex\n"), UTF_8);
        assert_eq!(detect(TEXT.as_bytes()), UTF_8);
        assert_eq!(detect(b"\xef\xbb\xbfuser_id\n"), UTF_8);
        assert_eq!(detect(&[0xff, 0xfe, b'u', 0]), UTF_16LE);
        assert_eq!(detect(&[0xfe, 0xff, 0, b'u']), UTF_16BE);
        // Without a BOM, by where the NUL bytes of ASCII characters fall.
        assert_eq!(detect(&encoded(UTF_16LE, TEXT)), UTF_16LE);
        assert_eq!(detect(&encoded(UTF_16BE, TEXT)), UTF_16BE);
        assert_eq!(detect(&encoded(GBK, TEXT)), GBK);
        assert_eq!(detect(&encoded(BIG5, "user_id,name,department\nzw,張偉,技術部\nll,李麗,市場部\n")), BIG5);
        assert_eq!(detect(&encoded(WINDOWS_1252, "user_id,name\nu1,José Müller\nu2,François\n")), WINDOWS_1252);
        assert_eq!(detect(&encoded(SHIFT_JIS, "user_id,name\nu1,山田太郎\nu2,佐藤花子\n")), SHIFT_JIS);
        // UTF-8 cut inside a character at the end of the buffer is still UTF-8.
        assert_eq!(detect(&"张伟".as_bytes()[..5]), UTF_8);
    }

    #[test]
    fn text_in_another_encoding_is_converted_to_utf8_and_named() {
        for encoding in [GBK, UTF_16LE, UTF_16BE] {
            let input = opened(encoded(encoding, TEXT), None);
            assert_eq!(input.encoding_name().as_deref(), Some(encoding.name()));
            assert_eq!(read_all(input), TEXT, "{}", encoding.name());
        }
        // With a BOM, which is dropped.
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(encoded(UTF_16LE, TEXT));
        assert_eq!(read_all(opened(bytes, None)), TEXT);
        // UTF-8 is read as is and has nothing to say.
        let input = opened(TEXT.as_bytes().to_vec(), None);
        assert_eq!(input.encoding, None);
        assert_eq!(read_all(input), TEXT);
        // Gzip is undone first.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, &encoded(GBK, TEXT)).unwrap();
        let input = opened(e.finish().unwrap(), None);
        assert_eq!((input.gzipped, input.encoding), (true, Some(GBK)));
        assert_eq!(read_all(input), TEXT);
    }

    #[test]
    fn a_long_file_streams_through_the_converter_in_small_reads() {
        let text: String = (0..20_000).map(|i| format!("u{i},张伟{i},技术部\n")).collect();
        let mut input = opened(encoded(GBK, &text), None);
        let (mut out, mut buf) = (Vec::new(), [0u8; 7]);
        loop {
            let n = input.reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn the_bom_read_as_windows_1252_is_repaired() {
        let bytes = b"\xc3\xaf\xc2\xbb\xc2\xbfReport Refresh Date,User Principal Name\n".to_vec();
        assert_eq!(read_all(opened(bytes, None)), "Report Refresh Date,User Principal Name\n");
        // Also when the file was then saved as UTF-16.
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(encoded(UTF_16LE, "\u{ef}\u{bb}\u{bf}Report Refresh Date\n"));
        assert_eq!(read_all(opened(bytes, None)), "Report Refresh Date\n");
    }

    #[test]
    fn a_forced_encoding_wins_over_detection() {
        // Windows-1252 would be a guess for these bytes too; GBK is read.
        let input = opened(encoded(GBK, TEXT), Some(GBK));
        assert_eq!(read_all(input), TEXT);
        // UTF-8 forced: the bytes are passed on for the readers to refuse.
        let input = opened(encoded(GBK, TEXT), Some(UTF_8));
        assert_eq!(input.encoding, None);
        let mut bytes = Vec::new();
        let mut reader = input.reader;
        reader.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes, encoded(GBK, TEXT));
    }

    #[test]
    fn text_not_valid_in_the_forced_encoding_fails_at_its_line() {
        // A UTF-8 file forced as GBK: the first bad sequence is on line 3.
        let text = "user_id,name\nu1,Alex\nu2,€\n";
        let message = match open_as("people.csv", std::io::Cursor::new(text.as_bytes().to_vec()), Some(GBK)) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(message.starts_with("people.csv:3: not valid GBK; the file looks like UTF-8"), "{message}");
        assert!(message.contains("--encoding utf-8"), "{message}");
    }

    #[test]
    fn a_late_sequence_not_valid_in_the_forced_encoding_names_its_line() {
        let mut text: String = (0..30_000).map(|i| format!("u{i},Alex\n")).collect();
        text.push_str("u,€\n");
        let mut input = opened(text.into_bytes(), Some(GBK));
        let err = input.reader.read_to_end(&mut Vec::new()).unwrap_err();
        let message = read_error("people.csv", 1, false, &err).to_string();
        assert!(message.starts_with("people.csv:30001: not valid GBK"), "{message}");
    }

    #[test]
    fn the_wrong_encoding_message_says_what_the_file_probably_is() {
        let record = encoded(GBK, "zw张伟技术部北京");
        let e = not_utf8("people.csv", 4, Some("name"), &record);
        assert_eq!(
            e.to_string(),
            "people.csv:4: column `name`: not valid UTF-8; the file looks like GBK (Excel's default in a Chinese locale): \
             import it again with --encoding gbk, or save it as \"CSV UTF-8\""
        );
        let e = not_utf8("people.csv", 2, Some("name"), &encoded(WINDOWS_1252, "u1José Müller"));
        assert!(e.to_string().contains("looks like Windows-1252"), "{e}");
        assert!(e.to_string().contains("--encoding windows-1252"), "{e}");
        // Nothing to tell by: the flag is named without a guess.
        let e = not_utf8("people.csv", 2, None, b"");
        assert!(e.to_string().contains("--encoding NAME"), "{e}");
        // The browser names its form's select instead.
        let shown = in_browser(&not_utf8("people.csv", 4, Some("name"), &record).to_string());
        assert!(shown.contains("upload it again with Encoding set to \"GBK (GB18030)\", or save"), "{shown}");
        assert!(!shown.contains("--encoding"), "{shown}");
        assert_eq!(in_browser("people.csv:1: missing column"), "people.csv:1: missing column");
    }

    #[test]
    fn encoding_names_are_any_label_encoding_rs_knows() {
        assert_eq!(parse_encoding("GBK"), Ok(Some(GBK)));
        assert_eq!(parse_encoding("gb18030"), Ok(Some(GB18030)));
        assert_eq!(parse_encoding("utf-16le"), Ok(Some(UTF_16LE)));
        assert_eq!(parse_encoding("utf-16"), Ok(Some(UTF_16LE)));
        assert_eq!(parse_encoding("cp1252"), Ok(Some(WINDOWS_1252)));
        assert_eq!(parse_encoding(""), Ok(None));
        assert_eq!(parse_encoding("auto"), Ok(None));
        assert!(parse_encoding("klingon").unwrap_err().contains("unknown encoding `klingon`"));
        for (value, _) in FORM_ENCODINGS {
            assert!(parse_encoding(value).is_ok(), "{value}");
        }
    }

    #[test]
    fn headers_are_compared_loosely() {
        assert_eq!(normalise_header("\u{feff} User   ID "), "user id");
    }
}
