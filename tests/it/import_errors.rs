//! Bad input stops with `FILE:LINE: what is wrong`, exit status 1, and
//! nothing of that file stored.

use std::io::Write;

use crate::common::{TestDb, cli};
use undercurrent::storage::dataset::{Totals, totals};

const GOOD: &str = "user_id,timestamp,event,channel\nu1,2026-05-01T10:00:00Z,message_sent,c1\nu2,2026-05-01T10:01:00Z,message_sent,c1\n";

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Imports a file that must fail; checks the message and that the database
/// is exactly as before.
async fn assert_rejected(t: &TestDb, file: &str, expected: &[&str]) {
    let before = totals(&t.db).await.unwrap();
    let (code, out, err) = cli(&t.url, &["import", "events", file]);
    assert_eq!(code, 1, "exit status for {file}: stdout {out} stderr {err}");
    for e in expected {
        assert!(err.contains(e), "error for {file} should contain {e:?}, got:\n{err}");
    }
    assert_eq!(totals(&t.db).await.unwrap(), before, "nothing of {file} may be stored");
}

#[tokio::test]
async fn every_bad_input_is_refused_with_its_place_and_stores_nothing() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A good file first, so "nothing stored" is checked against real data.
    let good = write(d, "good.csv", GOOD.as_bytes());
    assert_eq!(cli(&t.url, &["import", "events", &good]).0, 0);
    let stored = totals(&t.db).await.unwrap();
    assert_eq!((stored.people, stored.events), (2, 2));

    // Every bad file has good rows before the bad one: they must not stay.
    let prefix = "user_id,timestamp,event\nu3,2026-05-01T10:00:00Z,login\nu4,2026-05-01T10:00:00Z,login\n";

    let f = write(d, "missing.csv", b"user_id,event\nu3,login\n");
    assert_rejected(&t, &f, &["missing.csv:1:", "missing column `timestamp`"]).await;

    let f = write(d, "badtime.csv", format!("{prefix}u5,31/02/2026 10:00,login\n").as_bytes());
    assert_rejected(&t, &f, &["badtime.csv:4:", "column `timestamp`", "expected RFC 3339"]).await;

    // Windows line endings count lines the same way.
    let f = write(d, "crlf.csv", format!("{prefix}u5,31/02/2026 10:00,login\n").replace('\n', "\r\n").as_bytes());
    assert_rejected(&t, &f, &["crlf.csv:4:", "column `timestamp`"]).await;

    let f = write(d, "noid.csv", format!("{prefix}  ,2026-05-01T10:00:00Z,login\n").as_bytes());
    assert_rejected(&t, &f, &["noid.csv:4:", "column `user_id`", "empty user id"]).await;

    // Bytes that are not UTF-8 after a long ASCII start (the encoding is
    // detected from the first 256 KiB, which look like UTF-8): refused at
    // their line, saying what the file probably is.
    let ascii_rows = 10_000;
    let mut bytes = prefix.as_bytes().to_vec();
    for i in 0..ascii_rows {
        bytes.extend_from_slice(format!("u{i},2026-05-01T10:00:00Z,login\n").as_bytes());
    }
    bytes.extend_from_slice(b"Jos\xe9 M\xfcller,2026-05-01T10:00:00Z,login\n");
    let f = write(d, "latin1.csv", &bytes);
    let line = format!("latin1.csv:{}:", 4 + ascii_rows);
    assert_rejected(&t, &f, &[&line, "column `user_id`", "not valid UTF-8; the file looks like Windows-1252"]).await;

    let mut bytes = Vec::new();
    for _ in 0..ascii_rows {
        bytes.extend_from_slice(b"{\"user_id\":\"u3\",\"timestamp\":1777629600,\"event\":\"login\"}\n");
    }
    bytes.extend_from_slice(b"{\"user_id\":\"Fran\xe7ois\",\"timestamp\":1777629600,\"event\":\"login\"}\n");
    let f = write(d, "latin1.ndjson", &bytes);
    let line = format!("latin1.ndjson:{}:", ascii_rows + 1);
    assert_rejected(&t, &f, &[&line, "not valid UTF-8", "--encoding"]).await;

    let f = write(
        d,
        "broken.ndjson",
        b"{\"user_id\":\"u3\",\"timestamp\":1777629600,\"event\":\"login\"}\n{\"user_id\": \"u4\",\n",
    );
    assert_rejected(&t, &f, &["broken.ndjson:2:", "JSON"]).await;

    let big: String = (0..20_000).map(|i| format!("u{i},2026-05-01T10:00:00Z,login\n")).collect();
    let zipped = gzip(format!("user_id,timestamp,event\n{big}").as_bytes());
    let f = write(d, "cut.csv.gz", &zipped[..zipped.len() / 2]);
    assert_rejected(&t, &f, &["cut.csv.gz:", "gzip data is truncated or corrupt"]).await;

    // A 2 GB line: text, then a sparse file's zeros, so the test costs no
    // disk (the text is long enough that the check for binary data, which
    // looks at the start, passes).
    let path = d.join("huge.csv");
    {
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(prefix.as_bytes()).unwrap();
        file.write_all(&[b'x'; 16 * 1024]).unwrap();
        file.set_len(prefix.len() as u64 + (2u64 << 30)).unwrap();
    }
    let f = path.display().to_string();
    assert_rejected(&t, &f, &["huge.csv:4:", "line longer than"]).await;

    // Not text at all: refused at line 1 with what it is.
    let f = write(d, "zeros.csv", &[0u8; 4096]);
    assert_rejected(&t, &f, &["zeros.csv:1:", "binary data"]).await;
    let f = write(d, "sheet.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00");
    assert_rejected(&t, &f, &["sheet.csv:1:", "Excel workbook", "save the sheet as CSV"]).await;

    // A quote left open makes one record of everything after it: refused
    // at its start, before it can grow without bound.
    let mut bytes = format!("{prefix}u5,\"2026-05-01T10:00:00Z,login\n").into_bytes();
    for i in 0..400_000 {
        bytes.extend_from_slice(format!("u{i},x,y\n").as_bytes());
    }
    let f = write(d, "open-quote.csv", &bytes);
    assert_rejected(&t, &f, &["open-quote.csv:4:", "quote"]).await;

    let f = write(d, "fields.csv", format!("{prefix}u5,2026-05-01T10:00:00Z\n").as_bytes());
    assert_rejected(&t, &f, &["fields.csv:4:", "expected 3 fields"]).await;

    let f = write(d, "people.csv", b"user_id,start_date\nu9,2026-01-01\nu10,01/02/2026\n");
    let before = totals(&t.db).await.unwrap();
    let (code, _, err) = cli(&t.url, &["import", "people", &f]);
    assert_eq!(code, 1);
    assert!(err.contains("people.csv:3: column `start_date`"), "{err}");
    assert_eq!(totals(&t.db).await.unwrap(), before);

    // The database still has exactly the good file.
    assert_eq!(totals(&t.db).await.unwrap(), Totals { channels: 1, ..stored });
    t.finish().await;
}

/// Blank lines, a title row and lines above the header do not shift the line
/// an error names: it is the line in the file, as an editor shows it, for
/// the events reader and for a file read through a column mapping.
#[tokio::test]
async fn errors_name_the_real_file_line_after_blank_lines_and_a_title_row() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Line 6 is the bad row: two blank lines before it (lines 3 and 5).
    let text = "user_id,timestamp,event\n\
                u1,2026-05-01T10:00:00Z,login\n\
                \n\
                u2,2026-05-01T10:01:00Z,login\n\
                \n\
                u3,yesterday,login\n";
    let f = write(d, "blank.csv", text.as_bytes());
    assert_rejected(&t, &f, &["blank.csv:6:", "column `timestamp`"]).await;
    // The same with Windows line ends.
    let f = write(d, "blank-crlf.csv", text.replace('\n', "\r\n").as_bytes());
    assert_rejected(&t, &f, &["blank-crlf.csv:6:", "column `timestamp`"]).await;
    // A short row after blank lines.
    let f = write(d, "short.csv", b"user_id,timestamp,event\n\n\nu1,2026-05-01T10:00:00Z\n");
    assert_rejected(&t, &f, &["short.csv:4:", "expected 3 fields"]).await;
    // A title row and a blank line above the header (as a sheet saved as
    // CSV has them): the header is found on line 3, the bad row is line 6.
    let titled =
        "Activity export,,\n,,\nuser_id,timestamp,event\nu1,2026-05-01T10:00:00Z,login\n\nu2,2026-05-01T10:01:00Z,\n";
    let f = write(d, "titled.csv", titled.as_bytes());
    assert_rejected(&t, &f, &["titled.csv:6:", "column `event`", "empty event kind"]).await;
    // And a good file with both imports every row.
    let good = "Activity export,,\n\nuser_id,timestamp,event\n\nu1,2026-05-01T10:00:00Z,login\n\nu2,2026-05-01T10:01:00Z,login\n";
    let f = write(d, "good-titled.csv", good.as_bytes());
    let (code, out, err) = cli(&t.url, &["import", "events", &f]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(totals(&t.db).await.unwrap().events, 2);

    // Through a column mapping: blank lines and a title row above the header.
    let mut m = undercurrent::domain::mapping::Mapping::new(undercurrent::domain::mapping::Target::Events);
    m.columns.insert(undercurrent::domain::mapping::Field::UserId, "用户".into());
    m.columns.insert(undercurrent::domain::mapping::Field::Timestamp, "时间".into());
    m.event_constant = Some("login".into());
    undercurrent::storage::mappings::save(&t.db, "sheet", &m).await.unwrap();
    let mapped = "打卡记录,\r\n\r\n用户,时间\r\nu1,2026-05-01T10:00:00Z\r\n\r\n\r\nu2,昨天\r\n";
    let f = write(d, "mapped.csv", mapped.as_bytes());
    let before = totals(&t.db).await.unwrap();
    let (code, _, err) = cli(&t.url, &["import", "events", "--mapping", "sheet", &f]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("mapped.csv:7: column `时间`"), "{err}");
    assert_eq!(totals(&t.db).await.unwrap(), before);
    t.finish().await;
}
