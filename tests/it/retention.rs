//! Retention (`retention.days`): a run deletes raw events older than the
//! horizon in batches and audits it; facts, people (with their first
//! event), imports and studies stay; numbers for a date inside the horizon
//! are exactly those before the run; a date before it says it is not
//! measurable, on the command line, in the API and on the pages.

use reqwest::StatusCode;
use sqlx::Row;
use undercurrent::app::import::{import_events, import_people};
use undercurrent::app::settings;
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::ingest::source::open;
use undercurrent::on_db;
use undercurrent::storage::{Db, audit};

use crate::common::web::TestApp;
use crate::common::{TestDb, cli, fixture, outreach};

const END: &str = "2026-05-29";
/// `retention.days = 40` counted back from 2026-05-30: events before
/// 2026-04-20 (Asia/Shanghai) go.
const CUTOFF: i64 = 1_776_614_400; // 2026-04-20T00:00+08:00

/// 60 demo people over the 90 days to 2026-05-29, a Teams export (facts
/// from 2024) and a study round: something of every kind retention keeps.
async fn organisation(db: &Db, url: &str, dir: &std::path::Path) {
    undercurrent::cli::demo::generate(60, 90, 1, dir, Some(END.parse().unwrap())).unwrap();
    settings::set(db, "timezone", "Asia/Shanghai").await.unwrap();
    let tz = settings::load(db).await.unwrap().timezone;
    let file = |name: &str| {
        let path = dir.join(name);
        open(&path.display().to_string(), std::fs::File::open(&path).unwrap()).unwrap()
    };
    import_people(db, file("people.csv")).await.unwrap();
    import_events(db, tz, file("events.csv")).await.unwrap();
    let teams = fixture("vendor/TeamsUserActivityUserDetail_2024-05-17.csv").display().to_string();
    let (code, _, err) = cli(url, &["import", "teams", &teams]);
    assert_eq!(code, 0, "{err}");
    let study = outreach::study(db, &[], ContactRules::default()).await;
    outreach::round(db, &study, &["p00001@demo.example", "p00002@demo.example"], outreach::utc(2026, 5, 1, 9, 0)).await;
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    on_db!(db, pool => sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap().get::<i64, _>(0))
}

/// Row counts of everything retention must keep.
async fn kept(db: &Db) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in ["people", "person_facts", "imports", "person_identifiers", "studies", "invitations", "rounds"] {
        out.push((table, scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await));
    }
    out.push(("events added", scalar(db, "SELECT CAST(COALESCE(SUM(events_added), 0) AS BIGINT) FROM imports").await));
    out
}

async fn first_events(db: &Db) -> Vec<(String, Option<i64>)> {
    on_db!(db, pool => sqlx::query_as("SELECT user_id, first_event_ts FROM people ORDER BY id")
        .fetch_all(pool).await.unwrap())
}

fn export(url: &str, as_of: &str) -> (i32, String, String) {
    cli(url, &["metrics", "export", "--as-of", as_of, "--format", "json"])
}

#[tokio::test]
async fn a_run_deletes_old_events_in_batches_keeps_the_rest_and_numbers_inside_the_horizon() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    organisation(&t.db, &t.url, dir.path()).await;
    let before_rows = kept(&t.db).await;
    let before_first = first_events(&t.db).await;
    assert!(before_first.iter().any(|(_, ts)| ts.is_some_and(|ts| ts < CUTOFF)), "some first events get deleted");
    let old = scalar(&t.db, &format!("SELECT COUNT(*) FROM events WHERE ts < {CUTOFF}")).await;
    let total = scalar(&t.db, "SELECT COUNT(*) FROM events").await;
    assert!(old > 5_000 && total > old, "{old} of {total}");
    let old_people = scalar(&t.db, &format!("SELECT COUNT(DISTINCT person_id) FROM events WHERE ts < {CUTOFF}")).await;
    let (code, inside, err) = export(&t.url, END);
    assert_eq!(code, 0, "{err}");
    let (code, before_horizon, _) = export(&t.url, "2026-04-25");
    assert_eq!(code, 0);

    // Off by default: a run changes nothing.
    let (code, out, _) = cli(&t.url, &["retention", "run", "--today", "2026-05-30"]);
    assert_eq!(code, 0);
    assert!(out.contains("Retention is off"), "{out}");
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM events").await, total);

    let (code, _, err) = cli(&t.url, &["settings", "set", "retention.days", "3"]);
    assert_eq!(code, 1, "fewer than 7 days is refused");
    assert!(err.contains("from 7 to 36500"), "{err}");
    assert_eq!(cli(&t.url, &["settings", "set", "retention.days", "40"]).0, 0);
    let (code, out, err) = cli(&t.url, &["retention", "run", "--today", "2026-05-30", "--batch-size", "1000"]);
    assert_eq!(code, 0, "{err}");
    let batches = (old as u64).div_ceil(1000);
    assert!(out.contains(&format!("Deleted {old} raw events from before 2026-04-20")), "{out}");
    // Rows sharing the last instant of a batch go with it: at most the
    // ceiling of old / 1000 batches.
    let ran: u64 = out.split(" in ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    assert!(ran > 1 && ran <= batches, "{ran} batches for {old} events: {out}");

    assert_eq!(scalar(&t.db, &format!("SELECT COUNT(*) FROM events WHERE ts < {CUTOFF}")).await, 0);
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM events").await, total - old);
    assert_eq!(kept(&t.db).await, before_rows, "facts, people, imports and studies are kept");
    assert_eq!(first_events(&t.db).await, before_first, "first events are kept on the person");
    // Which people the import held is kept for the deleted events.
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM retained_presence").await, old_people);

    // Inside the horizon: exactly the same numbers.
    let (code, after, err) = export(&t.url, END);
    assert_eq!(code, 0, "{err}");
    assert_eq!(after, inside);
    // Before it: said, not wrong numbers.
    let (code, out, err) = export(&t.url, "2026-04-25");
    assert_eq!(code, 1);
    assert!(out.is_empty() && !before_horizon.is_empty());
    assert!(
        err.contains("not measurable from this source: raw events older than 40 days (before 2026-04-20) were deleted"),
        "{err}"
    );
    assert!(cli(&t.url, &["metrics", "summary", "--as-of", "2026-05-19"]).1.is_empty());
    assert_eq!(cli(&t.url, &["metrics", "summary", "--as-of", "2026-05-20"]).0, 0, "the earliest measurable date");

    // Audited: how many, in how many batches, before which day.
    let entry = audit::recent(&t.db, 10, 0).await.unwrap().into_iter().find(|e| e.action == "retention.run").unwrap();
    let (key, args) = audit::parse_detail(entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(key, "retention.audit.detail");
    let arg = |k: &str| args.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(
        (arg("n"), arg("batches"), arg("days"), arg("date")),
        (old.to_string(), ran.to_string(), "40".into(), "2026-04-20".into())
    );

    // A second run finds nothing more and writes no entry.
    let (_, out, _) = cli(&t.url, &["retention", "run", "--today", "2026-05-30"]);
    assert!(out.contains("Deleted 0 raw events"), "{out}");
    let runs = audit::recent(&t.db, 10, 0).await.unwrap().into_iter().filter(|e| e.action == "retention.run").count();
    assert_eq!(runs, 1);
    t.finish().await;
}

#[tokio::test]
async fn pages_before_the_horizon_say_so_and_the_setting_is_on_the_settings_page() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    organisation(&t.db, &t.url, dir.path()).await;
    assert_eq!(cli(&t.url, &["settings", "set", "retention.days", "40"]).0, 0);
    assert_eq!(cli(&t.url, &["retention", "run", "--today", "2026-05-30"]).0, 0);
    let app = TestApp::serve(t, |_| {});
    app.add_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let notice = "Not measurable from this source: raw events older than 40 days (before 20 Apr 2026) were deleted";
    for path in ["/", "/adoption", "/people", "/people/p00001@demo.example", "/people.csv"] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, body) = admin.get(&format!("{path}{sep}as_of=2026-04-25")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains(notice), "{path}: {body}");
        assert!(body.contains("as_of=2026-05-"), "{path}: a link to the earliest measurable date");
        let (status, body) = admin.get(&format!("{path}{sep}as_of={END}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.contains("retention-notice"), "{path}");
    }
    // In Chinese too.
    let zh = admin
        .http
        .get(format!("{}/?as_of=2026-04-25", app.base))
        .header("Accept-Language", "zh-CN")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains("无法从此数据源衡量"), "{zh}");

    // No round is drawn on a date that cannot be measured.
    let (status, body, _) = admin.post("/studies/1/rounds", &[("as_of", "2026-04-25"), ("seed", "1")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not measurable from this source"), "{body}");

    // The setting on the settings page: in force, changed and audited.
    let (_, body) = admin.get("/settings").await;
    assert!(body.contains("name=\"retention.days\" value=\"40\""), "{body}");
    assert!(body.contains("In force: 40 days. Default: kept for ever."), "{body}");
    let (status, _, _) = admin.post("/settings", &[("retention.days", "90"), ("intent", "save")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(settings::stored(&app.t.db).await.unwrap().get("retention.days").map(String::as_str), Some("90"));
    let (_, body, _) = admin.post("/settings", &[("retention.days", "5"), ("intent", "save")]).await;
    assert!(body.contains("Enter a whole number from 7 to 36500."), "{body}");
    let (status, _, _) = admin.post("/settings", &[("retention.days", ""), ("intent", "save")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!settings::stored(&app.t.db).await.unwrap().contains_key("retention.days"), "empty: off");
    // Turned off, the deleted past still says so.
    let (_, body) = admin.get("/?as_of=2026-04-25").await;
    assert!(body.contains("raw events before 20 Apr 2026 were deleted by the retention setting"), "{body}");

    // The audit log says what the run did, in words.
    let (_, body) = admin.get("/audit").await;
    assert!(body.contains("Deleted old raw events (retention)"), "{body}");
    assert!(body.contains("raw events before 20 Apr 2026 deleted in"), "{body}");
    // Only administrators change it.
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (status, _, _) = analyst.post("/settings", &[("retention.days", "7"), ("intent", "save")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.finish().await;
}

/// A messages-only source (Mattermost's export) measures login depth only
/// where an import of a presence source holds the person's events over the
/// window; when a run deletes that import's old events, the import still
/// counts as holding the person, so the window's numbers do not change.
#[tokio::test]
async fn presence_noted_before_deletion_keeps_login_depth_measurable() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let presence = dir.path().join("presence.csv");
    // Alice signs in only long ago; someone else on the window's last day,
    // so the import's period spans the window.
    std::fs::write(
        &presence,
        "user_id,timestamp,event\nalice.wu@example.com,2026-02-01T09:00:00Z,login\nzed@example.com,2026-03-02T09:00:00Z,login\n",
    )
    .unwrap();
    let mattermost = fixture("vendor/mattermost/export.jsonl").display().to_string();
    assert_eq!(cli(&t.url, &["import", "events", &presence.display().to_string()]).0, 0);
    assert_eq!(cli(&t.url, &["import", "mattermost", &mattermost]).0, 0);
    let export = || cli(&t.url, &["metrics", "export", "--as-of", "2026-03-02", "--window", "7"]);
    let (code, before, err) = export();
    assert_eq!(code, 0, "{err}");

    assert_eq!(cli(&t.url, &["settings", "set", "retention.days", "10"]).0, 0);
    let (code, out, err) = cli(&t.url, &["retention", "run", "--today", "2026-03-03"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Deleted 1 raw events from before 2026-02-21"), "{out}");
    assert_eq!(export().1, before, "the same numbers inside the horizon");

    // Without the pairs noted, Alice's depth would no longer be measurable.
    on_db!(&t.db, pool => sqlx::query("DELETE FROM retained_presence").execute(pool).await.map(drop).unwrap());
    assert_ne!(export().1, before);
    t.finish().await;
}

/// Several instances with the worker: the periodic run is claimed by one
/// of them per period.
#[tokio::test]
async fn one_instance_claims_each_periodic_run() {
    use undercurrent::storage::retention::claim;
    let t = TestDb::new().await;
    let period = 6 * 3600;
    assert!(claim(&t.db, 100_000, 100_000 - period).await.unwrap(), "the first claims");
    assert!(!claim(&t.db, 100_010, 100_010 - period).await.unwrap(), "another, 10 s later, does not");
    let later = 100_000 + period;
    assert!(claim(&t.db, later, later - period).await.unwrap(), "a period later, one claims again");
    assert!(!settings::stored(&t.db).await.unwrap().keys().any(|k| k.contains("claimed")), "not a setting");
    t.finish().await;
}
