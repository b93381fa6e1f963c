//! The command line as a user meets it: settings, exports in both formats,
//! the summary, gzip input and demo data.

use std::io::Write;

use crate::common::{TestDb, cli, fixture};

fn path(f: &str) -> String {
    fixture("activity-small").join(f).display().to_string()
}

async fn fixture_db() -> TestDb {
    let t = TestDb::new().await;
    assert_eq!(cli(&t.url, &["settings", "set", "timezone", "Asia/Shanghai"]).0, 0);
    assert_eq!(cli(&t.url, &["import", "people", &path("people.csv")]).0, 0);
    assert_eq!(cli(&t.url, &["import", "events", &path("events_a.csv"), &path("events_b.ndjson")]).0, 0);
    t
}

#[tokio::test]
async fn settings_are_validated_listed_and_reset() {
    let t = TestDb::new().await;
    let (code, _, err) = cli(&t.url, &["settings", "set", "timezone", "Asia/Shangai"]);
    assert_eq!(code, 1);
    assert!(err.contains("not an IANA time zone"), "{err}");
    assert_eq!(cli(&t.url, &["settings", "get", "timezone"]).1.trim(), "UTC");
    assert_eq!(cli(&t.url, &["settings", "set", "timezone", "Europe/Berlin"]).0, 0);
    assert_eq!(cli(&t.url, &["settings", "get", "timezone"]).1.trim(), "Europe/Berlin");

    assert_eq!(cli(&t.url, &["settings", "set", "profile", "customer_service"]).0, 0);
    assert_eq!(cli(&t.url, &["settings", "set", "window_days", "14"]).0, 0);
    let (code, _, err) = cli(&t.url, &["settings", "set", "deep.min_login_depth", "2"]);
    assert_eq!(code, 1, "{err}");
    let (_, list, _) = cli(&t.url, &["settings", "list"]);
    assert!(
        list.lines().any(|l| l.starts_with("profile") && l.contains("customer_service") && l.contains("set")),
        "{list}"
    );
    assert!(list.lines().any(|l| l.starts_with("grace_days") && l.contains("14") && l.contains("default")), "{list}");

    assert_eq!(cli(&t.url, &["settings", "unset", "window_days"]).0, 0);
    assert_eq!(cli(&t.url, &["settings", "get", "window_days"]).1.trim(), "28");
    assert_eq!(cli(&t.url, &["settings", "unset", "colour"]).0, 1);
    t.finish().await;
}

#[tokio::test]
async fn json_export_and_summary_agree_with_the_csv() {
    let t = fixture_db().await;
    let (_, csv_text, _) = cli(&t.url, &["metrics", "export", "--as-of", "2026-05-29"]);
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(csv_text.as_bytes()).records().map(Result::unwrap).collect();

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let (code, _, err) = cli(
        &t.url,
        &["metrics", "export", "--as-of", "2026-05-29", "--format", "json", "--output", &out.display().to_string()],
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let people = doc["people"].as_array().unwrap();
    assert_eq!(people.len(), rows.len());
    assert_eq!(doc["profile"], "internal_collaboration");
    let first = &people[0];
    assert_eq!(first["user_id"], rows[0][0]);
    assert_eq!(first["sessions"].as_i64().unwrap().to_string(), rows[0][4]);

    // Headline figures from the export by hand.
    let not_new: Vec<_> = rows.iter().filter(|r| &r[1] != "new").collect();
    let logged_in = not_new.iter().filter(|r| r[2].parse::<u32>().unwrap() >= 1).count();
    let deep = not_new.iter().filter(|r| &r[1] == "deep").count();
    let (_, json, _) = cli(&t.url, &["metrics", "summary", "--as-of", "2026-05-29", "--format", "json"]);
    let s: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(s["overall"]["base"].as_u64().unwrap() as usize, not_new.len());
    let login_rate = s["overall"]["login_rate"].as_f64().unwrap();
    assert!((login_rate - logged_in as f64 / not_new.len() as f64).abs() < 1e-12);
    assert!((s["overall"]["deep_rate"].as_f64().unwrap() - deep as f64 / not_new.len() as f64).abs() < 1e-12);
    assert_eq!(s["overall"]["tiers"]["deep"].as_u64().unwrap() as usize, deep);
    let departments = s["departments"].as_array().unwrap();
    let listed: u64 = departments.iter().map(|d| d["people"].as_u64().unwrap()).sum();
    assert_eq!(listed as usize, rows.len(), "departments partition the listed people");

    let (code, text, _) = cli(&t.url, &["metrics", "summary", "--as-of", "2026-05-29"]);
    assert_eq!(code, 0);
    assert!(text.contains("Login rate") && text.contains("Deep rate") && text.contains("Engineering"), "{text}");
    t.finish().await;
}

#[tokio::test]
async fn gzipped_files_import_like_plain_ones() {
    let plain = fixture_db().await;
    let (_, want, _) = cli(&plain.url, &["metrics", "export", "--as-of", "2026-05-29"]);
    plain.finish().await;

    let dir = tempfile::tempdir().unwrap();
    let mut gz_paths = Vec::new();
    for f in ["events_a.csv", "events_b.ndjson"] {
        let gz = dir.path().join(format!("{f}.gz"));
        let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(&std::fs::read(path(f)).unwrap()).unwrap();
        enc.finish().unwrap();
        gz_paths.push(gz.display().to_string());
    }
    let t = TestDb::new().await;
    assert_eq!(cli(&t.url, &["settings", "set", "timezone", "Asia/Shanghai"]).0, 0);
    assert_eq!(cli(&t.url, &["import", "people", &path("people.csv")]).0, 0);
    let (code, _, err) = cli(&t.url, &["import", "events", &gz_paths[0], &gz_paths[1]]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cli(&t.url, &["metrics", "export", "--as-of", "2026-05-29"]).1, want);
    t.finish().await;
}

#[test]
fn demo_data_is_the_same_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let generate = |seed: &str, out: &str| {
        let out = dir.path().join(out).display().to_string();
        let (code, _, err) = cli(
            "sqlite://unused",
            &["demo", "generate", "--people", "60", "--days", "30", "--seed", seed, "--out", &out],
        );
        assert_eq!(code, 0, "{err}");
        (std::fs::read(format!("{out}/people.csv")).unwrap(), std::fs::read(format!("{out}/events.csv")).unwrap())
    };
    let a = generate("5", "a");
    let b = generate("5", "b");
    let c = generate("6", "c");
    assert_eq!(a, b);
    assert_ne!(a.1, c.1);
    let header = String::from_utf8_lossy(&a.1[..80]).into_owned();
    assert!(header.starts_with("user_id,timestamp,event,channel,channel_type"), "{header}");
}

#[test]
fn backup_and_restore_bring_back_what_the_backup_held() {
    if crate::common::postgres_server().is_some() {
        // PostgreSQL is backed up with pg_dump: the command says so and stops.
        let (code, _, err) = cli("postgres://postgres@127.0.0.1:5432/postgres", &["backup", "/tmp/never.db"]);
        assert_eq!(code, 2);
        assert!(err.contains("pg_dump"), "{err}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("uc.db").display());
    let people = fixture("activity-small").join("people.csv");
    assert_eq!(cli(&url, &["import", "people", people.to_str().unwrap()]).0, 0);
    let backup = dir.path().join("backup.db");
    let (code, out, err) = cli(&url, &["backup", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Backed up"));
    // A second backup to the same file is refused.
    assert_eq!(cli(&url, &["backup", backup.to_str().unwrap()]).0, 1);
    // The data changes after the backup...
    assert_eq!(cli(&url, &["settings", "set", "privacy_floor", "9"]).0, 0);
    assert_eq!(cli(&url, &["settings", "get", "privacy_floor"]).1.trim(), "9");
    // ... a file that is not a backup is refused and changes nothing ...
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let (code, _, err) = cli(&url, &["restore", junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not an Undercurrent SQLite backup"), "{err}");
    assert_eq!(cli(&url, &["settings", "get", "privacy_floor"]).1.trim(), "9");
    // ... and the restore brings back the state of the backup.
    let (code, out, err) = cli(&url, &["restore", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(cli(&url, &["settings", "get", "privacy_floor"]).1.trim(), "5");
    let (_, summary, _) = cli(&url, &["metrics", "summary", "--format", "json"]);
    assert!(summary.contains("\"Engineering\""), "the restored directory: {summary}");
}
