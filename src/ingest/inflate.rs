//! Bounds on gzip: a small file that inflates to gigabytes (a decompression
//! bomb, or the wrong file) is stopped at the line where it crossed the
//! `import.max_inflated_mb` or `import.max_ratio` setting, long before it
//! has been read through.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::settings::InflateLimits;

/// Raised inside the reader chain when the inflated data crosses a limit.
#[derive(Debug)]
pub struct InflateLimitCrossed {
    /// The (inflated) line where the limit was crossed.
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for InflateLimitCrossed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InflateLimitCrossed {}

/// Counts the compressed bytes the decoder takes.
pub struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R) -> (Counted<R>, Arc<AtomicU64>) {
        let read = Arc::new(AtomicU64::new(0));
        (Counted { inner, read: read.clone() }, read)
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.read.fetch_add(amt as u64, Ordering::Relaxed);
        self.inner.consume(amt);
    }
}

/// Wraps the decoder's output: counts inflated bytes and lines, and fails
/// once a limit is crossed.
pub struct InflateGuard<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    limits: InflateLimits,
    inflated: u64,
    newlines: u64,
}

impl<R: Read> InflateGuard<R> {
    pub fn new(inner: R, compressed: Arc<AtomicU64>, limits: InflateLimits) -> InflateGuard<R> {
        InflateGuard { inner, compressed, limits, inflated: 0, newlines: 0 }
    }

    fn crossed(&self, chunk: &[u8], message: String) -> io::Error {
        let line = self.newlines + chunk.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        io::Error::new(io::ErrorKind::InvalidData, InflateLimitCrossed { line, message })
    }
}

impl<R: Read> Read for InflateGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.inflated + n as u64;
        let InflateLimits { max_bytes, max_ratio } = self.limits;
        if total > max_bytes {
            let within = (max_bytes - self.inflated) as usize;
            return Err(self.crossed(
                &buf[..within.min(n)],
                format!(
                    "the gzip data inflates past {} MiB here (the import.max_inflated_mb setting); \
                     is this a decompression bomb or the wrong file?",
                    max_bytes >> 20
                ),
            ));
        }
        let compressed = self.compressed.load(Ordering::Relaxed).max(1);
        if total > InflateLimits::RATIO_AFTER && total > compressed.saturating_mul(max_ratio) {
            return Err(self.crossed(
                &buf[..n],
                format!(
                    "the gzip data inflates more than {max_ratio} times its compressed size here \
                     ({total} bytes from {compressed}; the import.max_ratio setting); \
                     is this a decompression bomb or the wrong file?"
                ),
            ));
        }
        self.inflated = total;
        self.newlines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::bufread::MultiGzDecoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn inflate(data: &[u8], limits: InflateLimits) -> io::Result<Vec<u8>> {
        let (counted, read) = Counted::new(io::BufReader::new(data));
        let mut guard = InflateGuard::new(MultiGzDecoder::new(counted), read, limits);
        let mut out = Vec::new();
        guard.read_to_end(&mut out).map(|_| out)
    }

    fn crossed(e: io::Error) -> (u64, String) {
        let c = e.get_ref().and_then(|e| e.downcast_ref::<InflateLimitCrossed>()).unwrap();
        (c.line, c.message.clone())
    }

    #[test]
    fn ordinary_files_pass() {
        let text: String = (0..50_000).map(|i| format!("u{i},2026-05-0{}T09:00:00Z,login\n", i % 9 + 1)).collect();
        assert_eq!(inflate(&gz(text.as_bytes()), InflateLimits::default()).unwrap(), text.as_bytes());
    }

    #[test]
    fn a_bomb_stops_at_the_ratio() {
        let bomb = vec![b'\n'; 64 << 20];
        let (line, message) = crossed(inflate(&gz(&bomb), InflateLimits::default()).unwrap_err());
        assert!(message.contains("import.max_ratio"), "{message}");
        assert!(line > 1 << 20 && line < 8 << 20, "stopped early, at its line: {line}");
    }

    #[test]
    fn the_size_cap_names_its_line() {
        let text: String = (0..200_000).map(|i| format!("line {i}\n")).collect();
        let limits = InflateLimits { max_bytes: 1 << 20, max_ratio: 100_000 };
        let (line, message) = crossed(inflate(&gz(text.as_bytes()), limits).unwrap_err());
        assert!(message.contains("1 MiB") && message.contains("import.max_inflated_mb"), "{message}");
        // The byte at 1 MiB is on this line.
        let expected = text.as_bytes()[..1 << 20].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        assert_eq!(line, expected);
    }
}
