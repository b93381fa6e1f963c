//! What the app writes out stays inert: every CSV it produces (web
//! downloads and CLI exports) neutralises cells a spreadsheet would
//! evaluate, and every link built from an id names that id's own record.

use crate::common::outreach::booked_interview;
use crate::common::web::*;
use reqwest::StatusCode;
use undercurrent::domain::account::Role;

async fn import_people(app: &TestApp, csv: Vec<u8>) {
    let input = undercurrent::ingest::source::open("people.csv", std::io::Cursor::new(csv)).unwrap();
    undercurrent::app::import::import_people(&app.t.db, input).await.unwrap();
}

async fn import_events(app: &TestApp, csv: Vec<u8>) {
    let tz = undercurrent::app::settings::load(&app.t.db).await.unwrap().timezone;
    let input = undercurrent::ingest::source::open("events.csv", std::io::Cursor::new(csv)).unwrap();
    undercurrent::app::import::import_events(&app.t.db, tz, input).await.unwrap();
}

/// A directory of `rows` (user_id, name, department) and a few messages
/// for each person in May 2026, written with proper CSV quoting.
async fn import_directory(app: &TestApp, rows: &[(&str, &str, &str)]) {
    let mut people = csv::Writer::from_writer(Vec::new());
    people.write_record(["user_id", "name", "email", "department", "title"]).unwrap();
    let mut events = csv::Writer::from_writer(Vec::new());
    events.write_record(["user_id", "timestamp", "event", "channel"]).unwrap();
    for (i, (id, name, dept)) in rows.iter().enumerate() {
        people.write_record([*id, *name, &format!("p{i}@corp.example"), *dept, "=1+1"]).unwrap();
        for d in 0..(i % 3 + 1) {
            events.write_record([*id, &format!("2026-05-{:02}T09:00:00Z", 10 + d * 4), "message_sent", "c1"]).unwrap();
            events.write_record([*id, &format!("2026-05-{:02}T08:00:00Z", 10 + d * 4), "login", ""]).unwrap();
        }
    }
    import_people(app, people.into_inner().unwrap()).await;
    import_events(app, events.into_inner().unwrap()).await;
}

const HOSTILE: [&str; 8] = [
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "+1+1@x",
    "-1+1@x",
    "＝1+1",
    "＋cmd",
    "－2+3",
    "＠SUM(1)",
];

/// A cell a spreadsheet would evaluate: it starts (maybe after spaces)
/// like a formula and is not a plain number.
fn evaluated(cell: &str) -> bool {
    let plain_number = {
        let s = cell.strip_prefix('-').unwrap_or(cell).trim_end_matches('%');
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.matches('.').count() <= 1
    };
    let first = cell.trim_start_matches([' ', '\u{3000}', '\u{a0}']).chars().next();
    let starts = cell.starts_with(['\t', '\r', '\n'])
        || first.is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠'));
    starts && !plain_number
}

/// Every cell of a CSV (header included), checked; returns the cells.
fn assert_inert(what: &str, text: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut cells = Vec::new();
    for record in r.records() {
        for cell in record.unwrap().iter() {
            assert!(!evaluated(cell), "{what}: a spreadsheet would evaluate {cell:?}\n{text}");
            cells.push(cell.to_string());
        }
    }
    assert!(cells.len() > 1, "{what} is empty: {text}");
    cells
}

fn contains_guarded(cells: &[String], value: &str) -> bool {
    cells.iter().any(|c| *c == format!("'{value}"))
}

#[tokio::test]
async fn every_csv_the_app_writes_neutralises_formulas() {
    let app = TestApp::with_accounts().await;
    undercurrent::app::settings::set(&app.t.db, "timezone", "UTC").await.unwrap();
    let mut rows: Vec<(&str, &str, &str)> = Vec::new();
    for h in HOSTILE {
        // Hostile as user id, as name and as department.
        rows.push((h, h, h));
    }
    rows.push(("plain@corp.example", "-cmd", "Sales"));
    import_directory(&app, &rows).await;
    // User ids are stored lower-cased.
    let ids: Vec<String> = HOSTILE.iter().map(|h| h.trim().to_lowercase()).collect();

    let mut admin = app.signed_in(Role::Admin).await;
    let as_of = "as_of=2026-05-29&window=28";

    let (status, people) = admin.get(&format!("/people.csv?{as_of}")).await;
    assert_eq!(status, StatusCode::OK);
    let cells = assert_inert("/people.csv", &people);
    for (id, h) in ids.iter().zip(HOSTILE) {
        assert!(contains_guarded(&cells, id), "/people.csv keeps user id {id:?}, guarded: {people}");
        assert!(contains_guarded(&cells, h), "/people.csv keeps name/department {h:?}, guarded: {people}");
    }
    assert!(contains_guarded(&cells, "=1+1"), "titles are guarded");

    let (status, adoption) = admin.get(&format!("/adoption.csv?{as_of}")).await;
    assert_eq!(status, StatusCode::OK);
    let cells = assert_inert("/adoption.csv", &adoption);
    assert!(HOSTILE.iter().all(|h| contains_guarded(&cells, h)), "{adoption}");

    for path in ["/report.csv".to_string()] {
        let (status, report) = admin.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let cells = assert_inert(&path, &report);
        assert!(HOSTILE.iter().all(|h| contains_guarded(&cells, h)), "{path}: {report}");
    }

    // The CLI export.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.csv");
    let (code, _, err) = crate::common::cli(
        &app.t.url,
        &["metrics", "export", "--as-of", "2026-05-29", "--format", "csv", "--output", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let export = std::fs::read_to_string(&out).unwrap();
    let cells = assert_inert("metrics export", &export);
    for (id, h) in ids.iter().zip(HOSTILE) {
        assert!(contains_guarded(&cells, id), "the export keeps user id {id:?}, guarded: {export}");
        assert!(contains_guarded(&cells, h), "the export keeps department {h:?}, guarded: {export}");
    }
    // ... and to standard output.
    let (code, stdout, err) = crate::common::cli(&app.t.url, &["metrics", "export", "--as-of", "2026-05-29"]);
    assert_eq!(code, 0, "{err}");
    assert_inert("metrics export (stdout)", &stdout);

    // The demo generator's files are CSVs the app writes too.
    let (code, _, err) = crate::common::cli(
        &app.t.url,
        &["demo", "generate", "--people", "20", "--days", "7", "--out", dir.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    for f in ["people.csv", "events.csv"] {
        assert_inert(f, &std::fs::read_to_string(dir.path().join(f)).unwrap());
    }
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Links built from ids.

const VICTIM: &str = "p00001@demo.example";
const TRICKY: [&str; 6] = ["x/../p00001@demo.example", "a?b#c", "%2e%2e", "with space", "张三", "r&d=1;x"];

/// A path segment as RFC 3986 writes it: every byte but the unreserved
/// characters percent-encoded.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `href`s of a page that start with `prefix`, entity-decoded.
fn hrefs(page: &str, prefix: &str) -> Vec<String> {
    let needle = format!("href=\"{prefix}");
    page.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &page[i + 6..];
            rest[..rest.find('"').unwrap()].replace("&#38;", "&").replace("&amp;", "&")
        })
        .collect()
}

fn decoded(page: &str) -> String {
    page.replace("&#38;", "&").replace("&amp;", "&").replace("&#39;", "'").replace("&#34;", "\"")
}

/// The person page at `href` is `id`'s, and its export link exports `id`.
async fn assert_person_link(c: &mut Client, href: &str, id: &str) {
    let (status, page) = c.get(href).await;
    assert_eq!(status, StatusCode::OK, "{href} for {id:?}");
    let page = decoded(&page);
    assert!(page.contains(&format!("Name of {id}")), "{href} shows {id:?}'s page");
    let export = hrefs(&page, "/people/").into_iter().find(|h| h.ends_with("/export.json")).expect("an export link");
    let (status, body) = c.get(&export).await;
    assert_eq!(status, StatusCode::OK, "{export} for {id:?}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(body.contains(&format!("\"Name of {id}\"")), "{export} exports {id:?}, not someone else: {json}");
    assert!(!body.contains("Name of p00001@demo.example") || id == VICTIM, "{export} exports the victim for {id:?}");
    // The erase form posts to the same person.
    let erase = page.find("/erase?csrf=").map(|i| &page[page[..i].rfind('"').unwrap() + 1..i]).unwrap();
    assert_eq!(erase, export.trim_end_matches("/export.json"), "the erase form names {id:?}");
}

#[tokio::test]
async fn links_built_from_ids_name_their_own_person() {
    let app = TestApp::with_accounts().await;
    undercurrent::app::settings::set(&app.t.db, "timezone", "UTC").await.unwrap();
    let names: Vec<String> = std::iter::once(VICTIM).chain(TRICKY).map(|id| format!("Name of {id}")).collect();
    let rows: Vec<(&str, &str, &str)> =
        std::iter::once(VICTIM).chain(TRICKY).zip(&names).map(|(id, n)| (id, n.as_str(), "Sales")).collect();
    import_directory(&app, &rows).await;

    let mut admin = app.signed_in(Role::Admin).await;
    let (status, list) = admin.get("/people?as_of=2026-05-29&window=28").await;
    assert_eq!(status, StatusCode::OK);
    let list = decoded(&list);
    for id in std::iter::once(VICTIM).chain(TRICKY) {
        // The list links each row's user id to its person page.
        let at = list.find(&format!(">{id}</a>")).unwrap_or_else(|| panic!("{id} listed"));
        let href = list[..at].rfind("href=\"").map(|i| &list[i + 6..]).unwrap();
        let href = &href[..href.find('"').unwrap()];
        assert_person_link(&mut admin, href, id).await;
        // Also typed by hand with the one encoding.
        assert_person_link(&mut admin, &format!("/people/{}", segment(id)), id).await;
    }

    // The interview page links to its participant.
    let db = &app.t.db;
    let booking = booked_interview(db, &app.base, TRICKY[0]).await;
    let (status, page) = admin.get(&format!("/interviews/{booking}")).await;
    assert_eq!(status, StatusCode::OK);
    let links = hrefs(&decoded(&page), "/people/");
    assert!(!links.is_empty(), "the interview links to its participant");
    for href in links {
        assert_person_link(&mut admin, &href, TRICKY[0]).await;
    }
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Gzip that inflates too far, and imports that hold no lock while parsing.

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn a_decompression_bomb_stops_early_at_its_line() {
    // 256 MiB of one repeated line: a few hundred KiB compressed.
    let line = b"u1@corp.example,2026-05-01T09:00:00Z,login\n";
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    {
        use std::io::Write;
        bomb.write_all(b"user_id,timestamp,event\n").unwrap();
        let block: Vec<u8> = line.iter().copied().cycle().take(line.len() * 100_000).collect();
        for _ in 0..(256 << 20) / block.len() {
            bomb.write_all(&block).unwrap();
        }
    }
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 3 << 20, "{}", bomb.len());
    // Signed in after the bomb is built, so the connection is fresh.
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let started = std::time::Instant::now();
    let part = reqwest::multipart::Part::bytes(bomb).file_name("bomb.csv.gz").mime_str("application/gzip").unwrap();
    let (status, body) =
        analyst.post_multipart("/imports/events", reqwest::multipart::Form::new().part("files", part)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = decoded(&body);
    assert!(body.contains("import.max_ratio"), "the error names the setting: {body}");
    assert!(body.contains("bomb.csv.gz:"), "the error names the file and line: {body}");
    assert!(body.contains("bomb.csv.gz was not imported"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "stopped early: {:?}", started.elapsed());
    let totals = undercurrent::storage::dataset::totals(&app.t.db).await.unwrap();
    assert_eq!((totals.events, totals.people), (0, 0), "nothing of the file is stored");
    app.finish().await;
}

#[tokio::test]
async fn the_inflated_size_cap_is_a_setting_and_names_its_line() {
    let t = crate::common::TestDb::new().await;
    // About 3 MiB of varied lines: an ordinary ratio, over a 1 MiB cap.
    let mut csv = String::from("user_id,timestamp,event\n");
    let mut n = 0u64;
    while csv.len() < 3 << 20 {
        n += 1;
        csv.push_str(&format!(
            "u{}@corp.example,2026-05-{:02}T{:02}:{:02}:{:02}Z,login\n",
            n * 7919 % 10007,
            n % 28 + 1,
            n % 24,
            n * 7 % 60,
            n * 13 % 60
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv.gz");
    std::fs::write(&path, gzip(csv.as_bytes())).unwrap();
    let file = path.to_str().unwrap();

    let (code, out, err) = crate::common::cli(&t.url, &["settings", "set", "import.max_inflated_mb", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = crate::common::cli(&t.url, &["import", "events", file]);
    assert_ne!(code, 0, "{out}");
    // The line holding the byte past 1 MiB.
    let line = csv.as_bytes()[..1 << 20].iter().filter(|b| **b == b'\n').count() + 1;
    assert!(err.contains(&format!("big.csv.gz:{line}:")), "the error names line {line}: {err}");
    assert!(err.contains("1 MiB") && err.contains("import.max_inflated_mb"), "{err}");

    let (code, out, err) = crate::common::cli(&t.url, &["settings", "set", "import.max_inflated_mb", "8"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = crate::common::cli(&t.url, &["import", "events", file]);
    assert_eq!(code, 0, "under the cap the file imports: {out}{err}");
    let (code, out, _) = crate::common::cli(&t.url, &["settings", "set", "import.max_ratio", "1"]);
    assert_ne!(code, 0, "a ratio below 2 is refused: {out}");
    t.finish().await;
}

/// Hands out `head`, then (once) signals `reached` and waits for `go`
/// before handing out `rest`: an import parked in the middle of parsing.
struct Gate {
    head: std::io::Cursor<Vec<u8>>,
    rest: std::io::Cursor<Vec<u8>>,
    reached: Option<std::sync::mpsc::Sender<()>>,
    go: std::sync::mpsc::Receiver<()>,
}

impl std::io::Read for Gate {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if let Some(reached) = self.reached.take() {
            let _ = reached.send(());
            let _ = self.go.recv();
        }
        self.rest.read(buf)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_writers_never_wait_on_an_import_that_is_parsing() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let line = |i: usize| format!("u{}@corp.example,2026-05-{:02}T09:{:02}:00Z,login\n", i % 50, i % 28 + 1, i % 60);
    let mut head = String::from("user_id,timestamp,event\n");
    let mut i = 0;
    while head.len() < 400 << 10 {
        head.push_str(&line(i));
        i += 1;
    }
    let rest: String = (i..i + 1000).map(line).collect();
    let (reached_tx, reached) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel();
    let gate = Gate {
        head: std::io::Cursor::new(head.into_bytes()),
        rest: std::io::Cursor::new(rest.into_bytes()),
        reached: Some(reached_tx),
        go: go_rx,
    };
    let input = undercurrent::ingest::source::open("slow.csv", gate).unwrap();
    let import =
        tokio::spawn(async move { undercurrent::app::import::import_events(&db, chrono_tz::UTC, input).await });
    tokio::task::spawn_blocking(move || reached.recv()).await.unwrap().expect("the import parses");

    // The import is parked mid-file: a sign-in (which writes a session) and
    // a settings change both complete before it is let go.
    let during = async {
        let mut c = app.client();
        let (status, body) = c.sign_in("analyst@test.example", PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        undercurrent::app::settings::set(&app.t.db, "privacy_floor", "7").await.unwrap();
    };
    let finished = tokio::time::timeout(std::time::Duration::from_secs(10), during).await;
    go.send(()).unwrap();
    let summary = import.await.unwrap().unwrap();
    assert!(finished.is_ok(), "a sign-in and a settings change waited on a parsing import");
    assert_eq!(summary.rows_read as usize, i + 1000);
    app.finish().await;
}
