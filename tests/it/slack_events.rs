//! Slack's per-event files (issue 18): the workspace export ZIP and the
//! audit log, each on its own and combined into one timeline per person,
//! with coverage when the login source is missing. Numbers below are
//! computed by hand from the fixtures (tests/fixtures/vendor/slack-*/README.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::web::TestApp;
use crate::common::{TestDb, cli, fixture, postgres_server};
use reqwest::StatusCode;
use undercurrent::domain::account::Role;

const AS_OF: &str = "2026-03-03";

/// Zips a folder's files (relative names, sorted) into `zip`, deflated.
fn zip_folder(folder: &Path, zip: &Path) {
    let mut files = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut w = zip::ZipWriter::new(std::fs::File::create(zip).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for f in files {
        let name = f.strip_prefix(folder).unwrap().to_string_lossy().replace('\\', "/");
        w.start_file(name, options).unwrap();
        w.write_all(&std::fs::read(&f).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

/// The export fixture as a ZIP in `dir`.
fn export_zip(dir: &Path) -> PathBuf {
    let zip = dir.join("Acme Slack export Mar 2 2026 - Mar 3 2026.zip");
    zip_folder(&fixture("vendor/slack-export/export"), &zip);
    zip
}

fn audit_log() -> String {
    fixture("vendor/slack-audit/audit_logs.json").display().to_string()
}

fn run(url: &str, args: &[&str]) -> String {
    let (code, out, err) = cli(url, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// The metrics export: header and rows by user id.
fn export(url: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let out = run(url, &["metrics", "export", "--as-of", AS_OF]);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    (header, r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect())
}

/// `(sessions, engaged_sessions, login_depth, tier, depth_gap)` per person.
fn sessions(url: &str) -> Vec<(String, String, String, String, String, String)> {
    let (header, rows) = export(url);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    rows.iter()
        .map(|r| {
            (
                r[0].clone(),
                r[col("sessions")].clone(),
                r[col("engaged_sessions")].clone(),
                r[col("login_depth")].clone(),
                r[col("tier")].clone(),
                r[col("depth_gap")].clone(),
            )
        })
        .collect()
}

fn row(
    who: &str,
    s: &str,
    e: &str,
    d: &str,
    tier: &str,
    gap: &str,
) -> (String, String, String, String, String, String) {
    (who.into(), s.into(), e.into(), d.into(), tier.into(), gap.into())
}

/// No grace period, so that people onboarded by the fixture's first day
/// are tiered on the next.
fn no_grace(url: &str) {
    run(url, &["settings", "set", "grace_days", "0"]);
}

#[tokio::test]
async fn the_workspace_export_becomes_messages_and_files_by_person() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let out = run(&t.url, &["import", "slack-export", &zip.display().to_string()]);
    // 10 people's messages, one with a file.
    assert!(out.contains("events added        11"), "{out}");
    assert!(out.contains("people created      4"), "alice, bob, carol and deleted dave; no bots: {out}");
    assert!(out.contains("reactions (the export gives them no time): 2"), "{out}");
    for left in
        ["messages of subtype channel_join: 1", "messages of subtype bot_message: 1", "subtype channel_topic: 1"]
    {
        assert!(out.contains(left), "{left}: {out}");
    }
    assert!(out.contains("bots in users.json: 2"), "{out}");
    no_grace(&t.url);
    let (header, rows) = export(&t.url);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["alice@acme.example", "bob@acme.example", "dave@acme.example", "u03carol"]);
    let get = |who: &str, c: &str| rows.iter().find(|r| r[0] == who).unwrap()[col(c)].clone();
    assert_eq!(get("alice@acme.example", "messages_sent"), "4");
    // Alice answers Bob's direct message a minute later.
    assert_eq!(get("alice@acme.example", "median_reply_minutes"), "1");
    // Bob's thread reply counts against the channel's previous message.
    assert_eq!(get("bob@acme.example", "median_reply_minutes"), "5");
    assert_eq!(get("bob@acme.example", "messages_sent"), "3");
    assert_eq!(get("u03carol", "feature_breadth"), "2", "a message with a file: text and files");
    assert_eq!(get("dave@acme.example", "messages_sent"), "1", "a deleted person is kept");

    // Importing it again changes nothing.
    let again = run(&t.url, &["import", "slack-export", &zip.display().to_string()]);
    assert!(again.contains("events added        0") && again.contains("duplicates skipped  11"), "{again}");
    assert_eq!(export(&t.url), (header, rows), "re-import changes nothing");
    t.finish().await;
}

#[tokio::test]
async fn the_audit_log_becomes_logins_logouts_and_files_and_matches_people_by_id_or_email() {
    let t = TestDb::new().await;
    let out = run(&t.url, &["import", "slack-audit", &audit_log()]);
    // 11 entries, a channel join left out; Carol's upload and share in one second count once.
    assert!(out.contains("events added        9"), "{out}");
    assert!(out.contains("duplicates skipped  1"), "{out}");
    assert!(out.contains("audit action user_channel_join: 1"), "{out}");
    assert!(out.contains("file_downloaded: 1"), "a passive kind of its own: {out}");
    assert!(out.contains("people created      3"), "{out}");
    let again = run(&t.url, &["import", "slack-audit", &audit_log()]);
    assert!(again.contains("events added        0"), "{again}");
    t.finish().await;
}

#[tokio::test]
async fn export_and_audit_log_combine_into_one_timeline_with_hand_computed_sessions() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    no_grace(&t.url);
    run(&t.url, &["import", "auto", &zip.display().to_string()]);
    // Messages only: depth is not measurable for anyone.
    assert_eq!(
        sessions(&t.url),
        vec![
            row("alice@acme.example", "2", "2", "1", "unmeasured", "slack_export.no_presence"),
            row("bob@acme.example", "2", "2", "1", "unmeasured", "slack_export.no_presence"),
            row("dave@acme.example", "1", "1", "1", "unmeasured", "slack_export.no_presence"),
            row("u03carol", "2", "2", "1", "unmeasured", "slack_export.no_presence"),
        ]
    );
    let out = run(&t.url, &["import", "auto", &audit_log()]);
    // Carol's file: once in the export, twice in the log, one event.
    assert!(out.contains("events added        8") && out.contains("duplicates skipped  2"), "{out}");
    assert!(out.contains("people created      0"), "Bob and Carol found by their Slack ids: {out}");
    assert_eq!(
        sessions(&t.url),
        vec![
            // 08:50 login, messages at 09:00, 09:20, 09:31, logout 09:40;
            // a login at 13:00 alone (idle); a message the next day.
            row("alice@acme.example", "3", "2", "0.667", "shallow", ""),
            // 09:04 login, 09:05 reply, 09:30 message; 14:00 message, 14:30
            // download (30 minutes: same session), 14:31 session
            // invalidated; a login alone the next morning.
            row("bob@acme.example", "3", "2", "0.667", "shallow", ""),
            // No login source has Dave: still not measurable.
            row("dave@acme.example", "1", "1", "1", "unmeasured", "slack_export.no_presence"),
            row("u03carol", "2", "2", "1", "shallow", ""),
        ]
    );
    t.finish().await;
}

#[tokio::test]
async fn without_a_login_source_the_pages_say_depth_is_not_measurable() {
    let app = TestApp::with_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    no_grace(&app.t.url);
    run(&app.t.url, &["import", "slack-export", &zip.display().to_string()]);
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, page) = admin.get(&format!("/?as_of={AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Depth is not measurable from these sources for any of the 4 people")
            && page.contains("4 people from Slack workspace exports without a login source (messages only)"),
        "the overview says why"
    );
    assert!(page.contains("import the Slack audit log"), "and what to import");
    let (_, person) = admin.get(&format!("/people/bob@acme.example?as_of={AS_OF}")).await;
    assert!(
        person.contains("a Slack workspace export records messages only, and no login source"),
        "the person page says why"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_browser_imports_both_files_from_the_exports_form() {
    let app = TestApp::with_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let mut analyst = app.signed_in(Role::Analyst).await;
    let _ = analyst.get("/imports").await;
    for (path, mime) in [(zip, "application/zip"), (PathBuf::from(audit_log()), "application/json")] {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let part =
            reqwest::multipart::Part::bytes(std::fs::read(&path).unwrap()).file_name(name).mime_str(mime).unwrap();
        let form = reqwest::multipart::Form::new().part("files", part);
        let (status, page) = analyst.post_multipart("/imports/exports", form).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("import-result done"), "{page}");
    }
    let (_, page) = analyst.get("/imports").await;
    assert!(page.contains("Slack workspace export") && page.contains("Slack audit log"), "the history names them");
    assert_eq!(sessions(&app.t.url).len(), 4);
    app.finish().await;
}

#[tokio::test]
async fn the_records_left_out_are_said_in_chinese_with_slacks_own_names_as_code() {
    let app = TestApp::with_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let mut analyst = app.signed_in(Role::Analyst).await;
    analyst.post("/language", &[("lang", "zh-CN"), ("back", "/imports")]).await;
    let mut said = String::new();
    for path in [zip, PathBuf::from(audit_log())] {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let form = reqwest::multipart::Form::new()
            .part("files", reqwest::multipart::Part::bytes(std::fs::read(&path).unwrap()).file_name(name));
        let (status, page) = analyst.post_multipart("/imports/exports", form).await;
        assert_eq!(status, StatusCode::OK);
        let (skipped, words) = crate::common::reading::stat_values(&page, "跳过的记录");
        assert!(words.is_empty(), "English words among the reasons: {words:?} in {skipped}");
        said.push_str(&skipped);
    }
    for reason in [
        "表情回应（导出文件未给出其时间）：2",
        "子类型为 <code>channel_join</code> 的消息：1",
        "子类型为 <code>bot_message</code> 的消息：1",
        "users.json 中的机器人：2",
        "审计操作 <code>user_channel_join</code>：1",
    ] {
        assert!(said.contains(reason), "{reason}: {said}");
    }
    // Neither the English words nor the stored keys outside the vendor's names.
    let words = crate::common::reading::without(&said, "<code", "</code>");
    for english in ["no time", "messages of", "bots in", "audit action", "reactions_without_time", "subtype:"] {
        assert!(!words.contains(english), "{english}: {said}");
    }
    app.finish().await;
}

/// Every text stored anywhere, searched for the fixture's codename.
async fn stored_anywhere(t: &TestDb, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    if postgres_server().is_some() {
        let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'json', 'jsonb')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table, column) in columns {
            let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\"::TEXT ILIKE $1");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(format!("%{needle}%"))
                .fetch_one(&pool)
                .await
                .unwrap();
            if n > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
        pool.close().await;
    } else {
        // Every byte of the database's files, the write-ahead log included.
        let file = t.url.trim_start_matches("sqlite://");
        let folder = Path::new(file).parent().unwrap();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap().to_ascii_lowercase();
            if bytes.windows(needle.len()).any(|w| w == needle.to_ascii_lowercase().as_bytes()) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn no_message_text_or_file_name_is_stored() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    run(&t.url, &["import", "slack-export", &zip.display().to_string()]);
    run(&t.url, &["import", "slack-audit", &audit_log()]);
    assert_eq!(stored_anywhere(&t, "BLUEHERON").await, Vec::<String>::new());
    assert_eq!(stored_anywhere(&t, "Good morning team").await, Vec::<String>::new());
    t.finish().await;
}

/// Rebuilds the export ZIP from the fixture with `change` applied to a copy.
fn changed_export(dir: &Path, change: impl FnOnce(&Path)) -> PathBuf {
    let copy = dir.join("export");
    let mut stack = vec![fixture("vendor/slack-export/export")];
    let root = stack[0].clone();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let to = copy.join(path.strip_prefix(&root).unwrap());
            if path.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                stack.push(path);
            } else {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&path, &to).unwrap();
            }
        }
    }
    change(&copy);
    let zip = dir.join("export.zip");
    zip_folder(&copy, &zip);
    zip
}

/// Imports `file` by `kind`, expecting failure: the error text.
fn refused(url: &str, kind: &str, file: &Path) -> String {
    let (code, out, err) = cli(url, &["import", kind, &file.display().to_string()]);
    assert_eq!(code, 1, "{out}{err}");
    err
}

fn nothing_stored(url: &str) {
    let (_, out, _) = cli(url, &["metrics", "export", "--as-of", AS_OF]);
    assert_eq!(out.lines().count(), 1, "nothing stored: {out}");
}

#[tokio::test]
async fn bad_files_are_refused_with_their_place_and_store_nothing() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();

    // A ZIP that is not a Slack export.
    let other = dir.path().join("photos.zip");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&other).unwrap());
        w.start_file("holiday.jpg", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(b"not a photo").unwrap();
        w.finish().unwrap();
    }
    let err = refused(&t.url, "slack-export", &other);
    assert!(err.contains("photos.zip") && err.contains("not a Slack export: users.json is missing"), "{err}");
    let err = refused(&t.url, "auto", &other);
    assert!(err.contains("not a Slack export"), "auto takes a ZIP for an export: {err}");

    // A truncated ZIP.
    let good = export_zip(dir.path());
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = refused(&t.url, "slack-export", &cut);
    assert!(err.contains("cut.zip") && err.contains("not a complete ZIP archive"), "{err}");

    // A day file whose JSON breaks: file, entry, line and column.
    let sub = tempfile::tempdir().unwrap();
    let broken = changed_export(sub.path(), |root| {
        let day = root.join("random/2026-03-02.json");
        let text = std::fs::read_to_string(&day).unwrap();
        std::fs::write(&day, text.replace("\"user\": \"U02BOB\",", "\"user\": \"U02BOB\"")).unwrap();
    });
    let err = refused(&t.url, "slack-export", &broken);
    assert!(err.contains("export.zip: random/2026-03-02.json:6: column 9: expected `,` or `}`"), "{err}");
    nothing_stored(&t.url);

    // An audit log line that breaks.
    let ndjson = dir.path().join("audit.ndjson");
    let lines = [
        r#"{"id":"a1","date_create":1772441400,"action":"user_login","actor":{"type":"user","user":{"id":"U01ALICE","email":"alice@acme.example"}}}"#,
        r#"{"id":"a2","date_create":1772444400,"action":"user_logout","actor":{"type":"user","user":{"id":"U01ALICE""#,
    ];
    std::fs::write(&ndjson, lines.join("\n") + "\n").unwrap();
    let err = refused(&t.url, "slack-audit", &ndjson);
    assert!(err.contains("audit.ndjson:2: column"), "{err}");
    nothing_stored(&t.url);
    t.finish().await;
}

/// A large export for the benchmark: `people` people, `channels` channels,
/// `days` days, `per_day` messages per channel and day.
fn big_export(zip: &Path, people: usize, channels: usize, days: usize, per_day: usize) -> u64 {
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(zip).unwrap()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let users: Vec<String> = (0..people)
        .map(|i| format!(r#"{{"id":"U{i:06}","name":"p{i}","deleted":false,"is_bot":false,"profile":{{"email":"p{i}@big.example"}}}}"#))
        .collect();
    w.start_file("users.json", options).unwrap();
    w.write_all(format!("[{}]", users.join(",")).as_bytes()).unwrap();
    let chans: Vec<String> = (0..channels).map(|c| format!(r#"{{"id":"C{c:06}","name":"chan-{c}"}}"#)).collect();
    w.start_file("channels.json", options).unwrap();
    w.write_all(format!("[{}]", chans.join(",")).as_bytes()).unwrap();
    let start = 1_772_409_600i64;
    let mut n = 0u64;
    for c in 0..channels {
        for d in 0..days {
            let date = chrono::DateTime::from_timestamp(start + d as i64 * 86_400, 0).unwrap().format("%Y-%m-%d");
            w.start_file(format!("chan-{c}/{date}.json"), options).unwrap();
            let mut out = String::from("[");
            for m in 0..per_day {
                let ts = start + d as i64 * 86_400 + 8 * 3600 + (m as i64 * 37) % 36_000;
                let user = (c * 7919 + d * 31 + m * 13) % people;
                if m > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    r#"{{"client_msg_id":"{c}-{d}-{m}","type":"message","text":"Message number {m} of the day, with some words in it to be realistic about size","user":"U{user:06}","ts":"{ts}.{m:06}","team":"T01BIG","blocks":[{{"type":"rich_text","block_id":"b{m}","elements":[{{"type":"rich_text_section","elements":[{{"type":"text","text":"Message number {m}"}}]}}]}}]{}}}"#,
                    if m % 10 == 0 { r#","reactions":[{"name":"+1","users":["U000001"],"count":1}]"# } else { "" }
                ));
                n += 1;
            }
            out.push(']');
            w.write_all(out.as_bytes()).unwrap();
        }
    }
    w.finish().unwrap();
    n
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// `cargo test --release --test it slack_events::benchmark -- --ignored --nocapture`
/// (SLACK_BENCH_MESSAGES to change the size): prints figures, asserts none.
#[tokio::test]
#[ignore]
async fn benchmark_a_large_workspace_export() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    // `SLACK_BENCH_ZIP=PATH` keeps the generated export there (for a profiler).
    let zip =
        std::env::var("SLACK_BENCH_ZIP").map(std::path::PathBuf::from).unwrap_or_else(|_| dir.path().join("big.zip"));
    let target: usize = std::env::var("SLACK_BENCH_MESSAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let (channels, days) = (200, 50);
    let per_day = target.div_ceil(channels * days);
    let made = std::time::Instant::now();
    let n = big_export(&zip, 2_000, channels, days, per_day);
    let size = std::fs::metadata(&zip).unwrap().len();
    println!("generated {n} messages, {:.1} MB ZIP, in {:.1?}", size as f64 / 1e6, made.elapsed());
    let started = std::time::Instant::now();
    // `SLACK_BENCH_BIN=target/release/undercurrent` measures a release build.
    let bin = std::env::var("SLACK_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_undercurrent").to_string());
    let mut child = std::process::Command::new(bin)
        .args(["--database-url", &t.url, "import", "slack-export", &zip.display().to_string()])
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert!(out.status.success());
    println!("{}", String::from_utf8_lossy(&out.stdout));
    println!(
        "imported {n} messages in {secs:.1} s: {:.0} messages/s; peak RSS {:.1} MiB",
        n as f64 / secs,
        peak as f64 / 1024.0
    );
    t.finish().await;
}
