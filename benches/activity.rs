//! The foundation benchmark (`cargo bench --bench activity`): generates demo
//! data with the real binary, then measures on SQLite, and on PostgreSQL
//! when TEST_DATABASE_URL names a server:
//! - import throughput for a file of about 1,000,000 events (target 200,000 events/s);
//! - `metrics export` for 10,000 people over about 5,000,000 stored events (target < 1 s);
//! - peak memory while importing the 5,000,000-event file (target < 256 MB).
//!
//! A benchmark, not a test: it prints figures and asserts nothing. Data goes
//! to target/bench-data and is generated again when missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_undercurrent");

fn run(url: &str, args: &[&str]) {
    let status = Command::new(BIN)
        .args(["--database-url", url])
        .args(args)
        .stdout(Stdio::null())
        .env_remove("DATABASE_URL")
        .status()
        .expect("running undercurrent");
    assert!(status.success(), "undercurrent {args:?} failed");
}

/// Runs the binary; returns wall time and the peak resident memory seen
/// (VmHWM, polled while it runs).
fn measure(url: &str, args: &[&str]) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(["--database-url", url])
        .args(args)
        .stdout(Stdio::null())
        .env_remove("DATABASE_URL")
        .spawn()
        .expect("running undercurrent");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().expect("waiting") {
            assert!(status.success(), "undercurrent {args:?} failed");
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (start.elapsed(), peak_kb)
}

fn generate(dir: &Path, people: u32, days: u32) -> PathBuf {
    if !dir.join("events.csv").exists() {
        let out = dir.display().to_string();
        let (p, d) = (people.to_string(), days.to_string());
        let status = Command::new(BIN)
            .args(["demo", "generate", "--people", &p, "--days", &d, "--seed", "7"])
            .args(["--end", "2026-05-29", "--out", &out])
            .status()
            .expect("generating demo data");
        assert!(status.success());
    }
    dir.to_path_buf()
}

fn count_lines(path: &Path) -> u64 {
    let text = std::fs::read(path).expect("reading events");
    text.iter().filter(|&&b| b == b'\n').count() as u64 - 1
}

struct Database {
    label: &'static str,
    url: String,
    cleanup: Option<(String, String)>,
}

fn fresh_database(label: &'static str, name: &str, scratch: &Path) -> Option<Database> {
    match label {
        "sqlite" => {
            let path = scratch.join(format!("{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Some(Database { label, url: format!("sqlite://{}", path.display()), cleanup: None })
        }
        _ => {
            let server = std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))?;
            let (base, _) = server.rsplit_once('/')?;
            let db = format!("uc_bench_{name}");
            let psql = |sql: &str| {
                Command::new("psql").args([&server, "-qc", sql]).stdout(Stdio::null()).status().map(|s| s.success())
            };
            psql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).ok()?;
            psql(&format!("CREATE DATABASE {db}")).ok()?;
            Some(Database { label, url: format!("{base}/{db}"), cleanup: Some((server, db)) })
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((server, db)) = &self.cleanup {
            let _ = Command::new("psql")
                .args([server, "-qc", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")])
                .status();
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is understood.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).expect("creating target/bench-data");
    let million = generate(&root.join("p2000-d120"), 2_000, 120);
    let large = generate(&root.join("p10000-d120"), 10_000, 120);
    let million_events = count_lines(&million.join("events.csv"));
    let large_events = count_lines(&large.join("events.csv"));
    println!("data: {million_events} events (2,000 people), {large_events} events (10,000 people), 120 days");

    for label in ["sqlite", "postgres"] {
        let Some(db) = fresh_database(label, "million", &root) else {
            println!("{label}: skipped (set TEST_DATABASE_URL=postgres://... to include it)");
            continue;
        };
        run(&db.url, &["settings", "set", "timezone", "Asia/Shanghai"]);
        run(&db.url, &["import", "people", &million.join("people.csv").display().to_string()]);
        let (time, _) = measure(&db.url, &["import", "events", &million.join("events.csv").display().to_string()]);
        println!(
            "{:<9} import {} events: {:.2} s, {:.0} events/s (target >= 200000)",
            db.label,
            million_events,
            time.as_secs_f64(),
            million_events as f64 / time.as_secs_f64()
        );
        drop(db);

        let Some(db) = fresh_database(label, "large", &root) else { continue };
        run(&db.url, &["settings", "set", "timezone", "Asia/Shanghai"]);
        run(&db.url, &["import", "people", &large.join("people.csv").display().to_string()]);
        let (time, peak) = measure(&db.url, &["import", "events", &large.join("events.csv").display().to_string()]);
        println!(
            "{:<9} import {} events: {:.2} s, {:.0} events/s, peak memory {:.0} MB (target < 256 MB)",
            db.label,
            large_events,
            time.as_secs_f64(),
            large_events as f64 / time.as_secs_f64(),
            peak as f64 / 1024.0
        );
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                measure(&db.url, &["metrics", "export", "--as-of", "2026-05-29", "--output", "/dev/null"])
                    .0
                    .as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{:<9} metrics export, 10000 people: median {:.3} s, min {:.3} s, max {:.3} s (target < 1 s)",
            db.label, times[2], times[0], times[4]
        );
    }
}
