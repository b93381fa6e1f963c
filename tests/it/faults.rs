//! Faults during an import: the process killed (`kill -9`) in the middle of
//! a file leaves every number as it was before that file, and running the
//! import again completes it with the same numbers as an import that was
//! never interrupted; a disk that fills up while a file is written stops it
//! with a clear error and nothing half-written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TestDb;
use crate::common::web::TestApp;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use undercurrent::domain::account::Role;
use undercurrent::storage::api_tokens::Scope;
use undercurrent::storage::{dataset, imports};
use undercurrent::web::api::issue;

/// Whether an import is in the middle of writing events: it runs, and has
/// committed some of them (in batches, not counted until its end).
async fn writing(t: &TestDb) -> bool {
    let sql = "SELECT COUNT(*) FROM events WHERE import_id IN (SELECT id FROM imports WHERE status = 'running')";
    let n: Result<i64, _> = match &t.db {
        undercurrent::storage::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        undercurrent::storage::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    };
    n.is_ok_and(|n| n > 0)
}

#[tokio::test]
async fn an_import_killed_midway_leaves_nothing_and_a_second_run_completes_it() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    // A few hundred thousand events: long enough to be killed midway.
    let (code, _, err) = crate::common::cli(
        &t.url,
        &["demo", "generate", "--people", "800", "--days", "60", "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let people = out.join("people.csv");
    let events = out.join("events.csv");
    assert_eq!(crate::common::cli(&t.url, &["import", "people", people.to_str().unwrap()]).0, 0);
    let before = dataset::totals(&t.db).await.unwrap();

    // Kill it while it is writing: some batches committed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_undercurrent"))
        .args(["--database-url", &t.url, "import", "events", events.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "the import finished before it could be killed");
        assert!(Instant::now() < deadline, "the import never started writing");
        if writing(&t).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let after_kill = dataset::totals(&t.db).await.unwrap();
    // (Channel names are a lookup table: a name stored counts nothing.)
    assert_eq!((before.people, before.events), (after_kill.people, after_kill.events), "the killed import counts");

    let started = Instant::now();
    let (code, _, err) = crate::common::cli(&t.url, &["import", "events", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let done = dataset::totals(&t.db).await.unwrap();
    assert!(done.events > 100_000, "{done:?} after {:?}", started.elapsed());
    // Importing the same file again changes nothing.
    assert_eq!(crate::common::cli(&t.url, &["import", "events", events.to_str().unwrap()]).0, 0);
    assert_eq!(format!("{done:?}"), format!("{:?}", dataset::totals(&t.db).await.unwrap()));
    t.finish().await;
}

/// A file system of its own, small enough to fill: a tmpfs mounted for the
/// test. Mounting needs root, which CI has; elsewhere the disk tests say
/// they were skipped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts `megabytes` owned by `owner` (a user id), or None without the
    /// right to mount (a failure under CI, where it must work).
    fn mount(megabytes: u32, owner: Option<u32>) -> Option<SmallDisk> {
        let dir = tempfile::Builder::new().prefix("uc-small-disk-").tempdir().unwrap();
        let mut options = format!("size={megabytes}m,mode=0755");
        if let Some(uid) = owner {
            options += &format!(",uid={uid}");
        }
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(std::env::var_os("CI").is_none(), "CI must be able to mount a tmpfs (run the tests as root)");
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk but for about `room` bytes; deleting the returned
    /// file frees the space again.
    fn fill(&self, room: u64) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        while let Ok(n @ 1..) = file.write(&chunk) {
            written += n as u64;
        }
        file.set_len(written.saturating_sub(room)).unwrap();
        file.sync_all().unwrap();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // A PostgreSQL database left on the disk (a test that failed before
        // its clean-up) goes first: a tablespace whose folder vanishes
        // would make every later checkpoint, and so every DROP DATABASE, fail.
        if let Some(server) = crate::common::postgres_server() {
            let location = self.path().display().to_string().replace('\'', "''");
            let psql = |sql: &str| {
                Command::new("psql")
                    .args([server.as_str(), "-Atqc", sql])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect::<Vec<_>>())
            };
            let spaces =
                psql(&format!("SELECT spcname FROM pg_tablespace WHERE pg_tablespace_location(oid) = '{location}'"))
                    .unwrap_or_default();
            for space in spaces {
                let databases = psql(&format!(
                    "SELECT datname FROM pg_database d JOIN pg_tablespace t ON d.dattablespace = t.oid \
                     WHERE t.spcname = '{space}'"
                ))
                .unwrap_or_default();
                for db in databases {
                    let _ = psql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
                }
                let _ = psql(&format!("DROP TABLESPACE IF EXISTS {space}"));
            }
        }
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// The user id PostgreSQL's server runs as, when it runs on this machine
/// (a tablespace must be owned by it); None for SQLite.
fn database_owner() -> Option<Option<u32>> {
    let Some(server) = crate::common::postgres_server() else { return Some(None) };
    if !(server.contains("@127.0.0.1") || server.contains("@localhost")) {
        eprintln!("skipped: the PostgreSQL server is not on this machine");
        return None;
    }
    let out = Command::new("id").args(["-u", "postgres"]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok().map(Some)
}

/// Writes the demo's events split in two files (each with the header).
fn two_event_files(dir: &Path, url: &str) -> (PathBuf, PathBuf, PathBuf) {
    let out = dir.join("demo");
    let args = ["demo", "generate", "--people", "300", "--days", "40", "--out", out.to_str().unwrap()];
    let (code, _, err) = crate::common::cli(url, &args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    let write = |name: &str, rows: &[&str]| {
        let path = dir.join(name);
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        path
    };
    (out.join("people.csv"), write("events_a.csv", a), write("events_b.csv", b))
}

/// Everything an import changes, as text: totals and every person's metrics.
async fn state_of(t: &TestDb) -> String {
    let (code, export, err) = crate::common::cli(&t.url, &["metrics", "export"]);
    assert_eq!(code, 0, "{err}");
    format!("{:?}\n{export}", dataset::totals(&t.db).await.unwrap())
}

#[tokio::test]
async fn a_full_disk_stops_an_import_with_a_clear_error_and_nothing_half_written() {
    let Some(owner) = database_owner() else { return };
    let Some(disk) = SmallDisk::mount(64, owner) else { return };
    let t = TestDb::in_folder(disk.path()).await;
    let work = tempfile::tempdir().unwrap();
    let (people, a, b) = two_event_files(work.path(), &t.url);
    let arg = |p: &Path| p.to_str().unwrap().to_string();
    assert_eq!(crate::common::cli(&t.url, &["import", "people", &arg(&people)]).0, 0);
    assert_eq!(crate::common::cli(&t.url, &["import", "events", &arg(&a)]).0, 0);
    let before = state_of(&t).await;
    let (_, token) = issue(&t.db, "pusher", &[Scope::Ingest], None).await.unwrap();

    // Half of the demo's events need megabytes; the disk keeps a few
    // hundred kilobytes: the import starts writing and runs out.
    let filler = disk.fill(300 * 1024);
    let (code, out, err) = crate::common::cli(&t.url, &["import", "events", &arg(&b)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("events_b.csv: the disk is full"), "{err}");
    assert!(err.contains("nothing of this file was stored"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(state_of(&t).await, before, "nothing of the file is stored");

    // The push API meets the same disk: 507, and nothing stored.
    let text = std::fs::read_to_string(&b).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (user, time) = (column("user_id"), column("timestamp"));
    let body: String = text
        .lines()
        .skip(1)
        .take(5000)
        .enumerate()
        .map(|(i, row)| {
            let f: Vec<&str> = row.split(',').collect();
            let (u, ts) = (f[user], f[time]);
            format!(
                "{{\"event_id\":\"push-{i}\",\"user_id\":\"{u}\",\"timestamp\":\"{ts}\",\"event\":\"message_sent\"}}\n"
            )
        })
        .collect();
    let app = TestApp::serve(t, |_| {});
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/events", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(r.text().await.unwrap().contains("disk is full"));
    let t = app.t;
    assert_eq!(state_of(&t).await, before, "nothing of the request is stored");

    // Space again: the same file imports completely, and a second time
    // changes nothing.
    std::fs::remove_file(filler).unwrap();
    let (code, _, err) = crate::common::cli(&t.url, &["import", "events", &arg(&b)]);
    assert_eq!(code, 0, "{err}");
    let after = state_of(&t).await;
    assert_ne!(after, before);
    let rows = std::fs::read_to_string(&b).unwrap().lines().count() as u64 - 1;
    let totals = dataset::totals(&t.db).await.unwrap();
    let rows_a = std::fs::read_to_string(&a).unwrap().lines().count() as u64 - 1;
    assert_eq!(totals.events as u64, rows_a + rows, "every event of both files, once");
    assert_eq!(crate::common::cli(&t.url, &["import", "events", &arg(&b)]).0, 0);
    assert_eq!(state_of(&t).await, after);
    t.finish().await;
}

#[tokio::test]
async fn an_upload_that_finds_the_disk_full_is_refused_clearly_and_leaves_no_file() {
    let Some(disk) = SmallDisk::mount(4, None) else { return };
    let app = TestApp::serve(TestDb::new().await, |state| state.upload_dir = disk.path().into());
    app.add_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    analyst.get("/imports").await;
    let _filler = disk.fill(0);

    let mut events = String::from("user_id,timestamp,event\n");
    for i in 0..20_000 {
        events += &format!("u{:04}@corp.example,2026-05-01T09:{:02}:00Z,message_sent\n", i % 100, i % 60);
    }
    let part = Part::bytes(events.into_bytes()).file_name("may.csv").mime_str("text/csv").unwrap();
    let (status, body) = analyst.post_multipart("/imports/events", Form::new().part("files", part)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("may.csv: the disk is full"), "{body}");
    assert!(body.contains("disk is full, so nothing of the file was kept"), "the advice: {body}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 0);
    let left: Vec<_> = std::fs::read_dir(disk.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "filler")
        .collect();
    assert!(left.is_empty(), "the half-written upload is removed: {left:?}");
    let history = imports::recent(&app.t.db, 5).await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].status.as_str(), "failed");
    assert!(history[0].error.as_deref().is_some_and(|e| e.contains("the disk is full")), "{history:?}");
    app.finish().await;
}
