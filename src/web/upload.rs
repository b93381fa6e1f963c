//! Receiving uploaded files: each is streamed, chunk by chunk, to a private
//! temporary file (never held in memory), at most [`MAX_FILE_BYTES`]. The
//! imports page imports from there and removes it ([`TempUpload`]); the
//! column mapping keeps it under a random token between its steps
//! ([`upload_path`]), and uploads left over after a day are removed.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::storage::io_disk_full;
use crate::web::error::WebError;
use crate::web::session::random_token;

/// The largest file accepted: 2 GiB.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The limit in words ("2 GiB").
pub fn size_limit() -> String {
    format!("{} GiB", MAX_FILE_BYTES >> 30)
}

/// Mapping uploads older than this are removed.
const KEEP_UPLOADS: Duration = Duration::from_secs(24 * 3600);
const UPLOAD_PREFIX: &str = "undercurrent-mapping-";

/// The file name a browser sent, without any folder part (some browsers
/// send a full path) and without control characters.
pub fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars().filter(|c| !c.is_control()).collect::<String>().trim().chars().take(255).collect()
}

/// A temporary file that is removed when dropped, whatever happens.
pub struct TempUpload(pub PathBuf);

impl TempUpload {
    pub fn new(dir: &Path) -> TempUpload {
        TempUpload(dir.join(format!("undercurrent-upload-{}", random_token())))
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[derive(Debug)]
pub enum SpoolError {
    /// The file is larger than the limit; the rest of it was read and dropped.
    TooLarge,
    /// The upload itself broke off.
    Upload(String),
    /// The disk is full; the rest of the upload was read and dropped.
    DiskFull,
    /// Writing the temporary file failed.
    Io(std::io::Error),
}

impl Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpoolError::TooLarge => write!(f, "the file is larger than {}", size_limit()),
            SpoolError::Upload(e) => write!(f, "the upload broke off: {e}"),
            SpoolError::DiskFull => write!(f, "the server's disk is full"),
            SpoolError::Io(e) => write!(f, "writing the temporary file failed: {e}"),
        }
    }
}

impl From<std::io::Error> for SpoolError {
    fn from(e: std::io::Error) -> Self {
        SpoolError::Io(e)
    }
}

/// Reads and drops the rest of a stream, so that the next part of the
/// upload and the response still get through.
pub async fn drain<S, E>(stream: &mut S) -> Result<(), SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    while let Some(chunk) = stream.next().await {
        chunk.map_err(|e| SpoolError::Upload(e.to_string()))?;
    }
    Ok(())
}

/// Writes a stream of chunks to a new file at `path` (readable by this user
/// only), at most `limit` bytes; returns the bytes written.
pub async fn spool<S, E>(stream: &mut S, path: &Path, limit: u64) -> Result<u64, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| SpoolError::Upload(e.to_string()))?;
        written += chunk.len() as u64;
        if written > limit {
            drop(file);
            drain(stream).await?;
            return Err(SpoolError::TooLarge);
        }
        if let Err(e) = file.write_all(&chunk).await {
            if !io_disk_full(&e) {
                return Err(e.into());
            }
            drop(file);
            drain(stream).await?;
            return Err(SpoolError::DiskFull);
        }
    }
    if let Err(e) = file.flush().await {
        return Err(if io_disk_full(&e) { SpoolError::DiskFull } else { e.into() });
    }
    Ok(written)
}

/// Reads a short text field of a form (at most 64 bytes kept).
pub async fn small_text(part: &mut actix_multipart::Field) -> Result<String, SpoolError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|e| SpoolError::Upload(e.to_string()))?;
        if bytes.len() < 64 {
            bytes.extend_from_slice(&chunk[..chunk.len().min(64 - bytes.len())]);
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The temporary file of an upload token; `None` unless the token is the
/// 64 lower-case hex digits `random_token` makes.
pub fn upload_path(dir: &Path, token: &str) -> Option<PathBuf> {
    let valid = token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| dir.join(format!("{UPLOAD_PREFIX}{token}")))
}

/// Removes uploads older than a day.
pub fn sweep_old_uploads(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(UPLOAD_PREFIX) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > KEEP_UPLOADS);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Reads a small text part of a multipart form.
pub async fn text_part(part: &mut actix_multipart::Field) -> Result<String, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|e| WebError::BadRequest(format!("the upload broke off: {e}")))?;
        if bytes.len() + chunk.len() > 4096 {
            return Err(WebError::BadRequest("a form field is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[test]
    fn file_names_lose_their_folders() {
        assert_eq!(display_name("C:\\Users\\me\\events.csv"), "events.csv");
        assert_eq!(display_name("../../etc/people.csv"), "people.csv");
        assert_eq!(display_name("jan\u{0}.ndjson.gz"), "jan.ndjson.gz");
        assert_eq!(display_name(""), "");
    }

    #[test]
    fn only_hex_tokens_name_a_file() {
        let token = random_token();
        let dir = std::env::temp_dir();
        let path = upload_path(&dir, &token).unwrap();
        assert!(path.starts_with(&dir));
        assert!(path.file_name().unwrap().to_string_lossy().ends_with(&token));
        for bad in ["", "../../etc/passwd", &token.to_uppercase(), &token[..63], &format!("{}/", &token[..63])] {
            assert!(upload_path(&dir, bad).is_none(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_stream_is_written_whole_within_the_limit() {
        let temp = TempUpload::new(&std::env::temp_dir());
        let n = spool(&mut chunks(&[b"user_id\n", b"u1\n"]), &temp.0, 100).await.unwrap();
        assert_eq!(n, 11);
        assert_eq!(std::fs::read(&temp.0).unwrap(), b"user_id\nu1\n");
        let path = temp.0.clone();
        drop(temp);
        assert!(!path.exists(), "the temporary file is removed");
    }

    #[tokio::test]
    async fn a_stream_past_the_limit_is_refused_and_read_to_its_end() {
        let temp = TempUpload::new(&std::env::temp_dir());
        let mut stream = chunks(&[b"12345", b"67890", b"abc"]);
        assert!(matches!(spool(&mut stream, &temp.0, 8).await, Err(SpoolError::TooLarge)));
        assert!(stream.next().await.is_none());
    }
}
