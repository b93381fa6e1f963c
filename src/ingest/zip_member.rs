//! The one data file inside an export that vendors ship as a ZIP around a
//! JSON-lines file: `mmctl export create` writes `import.jsonl` (and the
//! attachments under `data/`) into a ZIP. The member is read in place from
//! the archive, never unpacked to disk. A Slack workspace export (a ZIP with
//! `users.json`) is not such an archive.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Where a member's compressed bytes lie in the archive, and how they are
/// compressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub data_start: u64,
    pub compressed_size: u64,
    pub deflated: bool,
}

/// The single `.jsonl` member of the ZIP archive at `path`, if it is such an
/// archive; `None` for a file that is not a ZIP, a ZIP with `users.json`
/// (a Slack export), or one without exactly one `.jsonl` member outside
/// `data/`.
pub fn jsonl_member(path: &Path) -> io::Result<Option<Member>> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path)?;
    if file.read(&mut magic)? < 4 || &magic != b"PK\x03\x04" {
        return Ok(None);
    }
    let Ok(mut archive) = zip::ZipArchive::new(File::open(path)?) else { return Ok(None) };
    let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_string();
    if archive.file_names().any(|n| matches!(base(n).as_str(), "users.json" | "org_users.json")) {
        return Ok(None);
    }
    let members: Vec<usize> = (0..archive.len())
        .filter(|&i| {
            archive.name_for_index(i).is_some_and(|n| n.to_lowercase().ends_with(".jsonl") && !n.starts_with("data/"))
        })
        .collect();
    let [index] = members[..] else { return Ok(None) };
    let entry = archive.by_index_raw(index).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let deflated = match entry.compression() {
        zip::CompressionMethod::Deflated => true,
        zip::CompressionMethod::Stored => false,
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is compressed with {other}; expected deflate or none", entry.name()),
            ));
        }
    };
    Ok(Some(Member {
        name: entry.name().to_string(),
        data_start: entry.data_start(),
        compressed_size: entry.compressed_size(),
        deflated,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(members: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, body) in members {
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            zip.start_file(*name, options).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    #[test]
    fn the_one_jsonl_member_is_found_and_slack_exports_are_not_taken() {
        let mattermost = archive(&[("import.jsonl", b"{\"type\":\"version\"}\n"), ("data/a.png", b"x")]);
        let m = jsonl_member(mattermost.path()).unwrap().unwrap();
        assert_eq!((m.name.as_str(), m.deflated), ("import.jsonl", true));
        let slack = archive(&[("users.json", b"[]"), ("x.jsonl", b"{}")]);
        assert_eq!(jsonl_member(slack.path()).unwrap(), None);
        let two = archive(&[("a.jsonl", b"{}"), ("b.jsonl", b"{}")]);
        assert_eq!(jsonl_member(two.path()).unwrap(), None);
        let text = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(text.path(), "{\"type\":\"version\"}\n").unwrap();
        assert_eq!(jsonl_member(text.path()).unwrap(), None);
    }
}
