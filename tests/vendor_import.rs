//! Platform exports through the command line: facts stored per person and
//! period, metrics derived where possible and left empty (never zero) where
//! the source cannot say, one person across sources, re-import idempotent.

mod common;

use common::{TestDb, cli, fixture};

fn vendor(f: &str) -> String {
    fixture("vendor").join(f).display().to_string()
}

fn rows(csv_text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(csv_text.as_bytes()).records().map(Result::unwrap).collect()
}

fn header(csv_text: &str) -> Vec<String> {
    csv::Reader::from_reader(csv_text.as_bytes()).headers().unwrap().iter().map(str::to_string).collect()
}

#[tokio::test]
async fn slack_dashboard_facts_become_metrics_with_what_the_source_cannot_say_left_empty() {
    let t = TestDb::new().await;
    let file = vendor("Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv");
    let (code, out, err) = cli(&t.url, &["import", "auto", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("slack_dashboard") && out.contains("not available from this source"), "{out}");
    let (_, export, _) = cli(&t.url, &["metrics", "export", "--as-of", "2026-04-17"]);
    let cols = header(&export);
    let col = |name: &str| cols.iter().position(|c| c == name).unwrap();
    let dana =
        rows(&export).into_iter().find(|r| &r[0] == "dana.whitfield@acme.com").expect("Dana is listed by e-mail");
    assert_eq!(&dana[col("active_days")], "22");
    assert_eq!(&dana[col("messages_sent")], "143");
    assert_eq!(&dana[col("sessions")], "", "no sessions in an aggregated source");
    assert_eq!(&dana[col("login_depth")], "");
    assert_eq!(&dana[col("median_reply_minutes")], "");
    assert_eq!(&dana[col("interactive_days")], "", "a period source has no interactive days");
    assert_eq!(&dana[col("source")], "slack_dashboard");
    // Messages, files and huddles: text, files and voice.
    assert_eq!(&dana[col("feature_breadth")], "3");
    assert_eq!(&dana[col("tier")], "deep");
    let kenji = rows(&export).into_iter().find(|r| &r[0] == "u03nomail01").expect("no e-mail: the Slack id");
    assert_eq!(&kenji[col("tier")], "dormant");

    let (_, again, _) = cli(&t.url, &["import", "auto", &file]);
    assert!(again.contains("facts added         0"), "{again}");
    assert_eq!(cli(&t.url, &["metrics", "export", "--as-of", "2026-04-17"]).1, export, "re-import changes nothing");
    t.finish().await;
}

#[tokio::test]
async fn a_person_seen_in_events_and_in_an_export_is_one_person_and_events_win() {
    let t = TestDb::new().await;
    let events = "user_id,timestamp,event,channel\nDana.Whitfield@acme.com,2026-04-16T09:00:00Z,message_sent,c1\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.csv");
    std::fs::write(&path, events).unwrap();
    assert_eq!(cli(&t.url, &["import", "events", &path.display().to_string()]).0, 0);
    let file = vendor("Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv");
    assert_eq!(cli(&t.url, &["import", "slack", &file]).0, 0);
    let (_, export, _) = cli(&t.url, &["metrics", "export", "--as-of", "2026-04-17"]);
    let cols = header(&export);
    let dana: Vec<_> = rows(&export).into_iter().filter(|r| &r[0] == "dana.whitfield@acme.com").collect();
    assert_eq!(dana.len(), 1, "one person");
    let source = cols.iter().position(|c| c == "source").unwrap();
    assert_eq!(&dana[0][source], "events");
    assert_eq!(&dana[0][cols.iter().position(|c| c == "sessions").unwrap()], "1");
    t.finish().await;
}

#[tokio::test]
async fn a_bad_export_is_refused_with_its_place_and_stores_nothing() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let teams = std::fs::read_to_string(fixture("vendor").join("TeamsUserActivityUserDetail_5_20_2024.csv")).unwrap();
    // Break the third line's report period.
    let mut lines: Vec<String> = teams.lines().map(str::to_string).collect();
    let cols: Vec<&str> = lines[0].trim_start_matches('\u{feff}').split(',').collect();
    let period = cols.iter().position(|c| c.trim() == "Report Period").unwrap();
    let mut third: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    third[period] = "forever".into();
    lines[2] = third.join(",");
    let path = dir.path().join("teams.csv");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let (code, _, err) = cli(&t.url, &["import", "teams", &path.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("teams.csv:3:") && err.contains("Report Period"), "{err}");
    let totals = undercurrent::storage::dataset::totals(&t.db).await.unwrap();
    assert_eq!(totals.people, 0, "nothing stored");
    t.finish().await;
}

#[tokio::test]
async fn exports_upload_in_the_browser_flow() {
    use common::web::TestApp;
    use undercurrent::domain::account::Role;
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/imports").await;
    assert!(page.contains("/imports/exports?csrf="), "the exports form is on the page");
    let bytes = std::fs::read(fixture("vendor").join("google_chat_user_usage.csv")).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("period_from", "")
        .text("period_to", "")
        .part("files", reqwest::multipart::Part::bytes(bytes).file_name("google_chat_user_usage.csv"));
    let (status, body) = analyst.post_multipart("/imports/exports", form).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(body.contains("Google Chat report") && body.contains("Facts added"), "{body}");
    let history = undercurrent::storage::imports::recent(&app.t.db, 5).await.unwrap();
    assert_eq!(history[0].summary.source, "google_chat");
    assert_eq!(history[0].status, "done");
    app.finish().await;
}
