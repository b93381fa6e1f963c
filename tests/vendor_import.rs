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

// ---------------------------------------------------------------------------
// Issue 12: each report read as its vendor defines it (see
// tests/fixtures/vendor/README.md for the documentation each fixture follows).

const TEAMS_D30: &str = "TeamsUserActivityUserDetail_D30_2024-05-20.csv";
const EMAIL: &str = "EmailActivityUserDetail_D30_2024-05-20.csv";
const DEVICES: &str = "TeamsDeviceUsageUserDetail_D30_2024-05-20.csv";

/// `metrics export` as (user_id -> column -> value).
fn export_by_person(url: &str, as_of: &str) -> (String, std::collections::BTreeMap<String, Vec<(String, String)>>) {
    let (code, export, err) = cli(url, &["metrics", "export", "--as-of", as_of]);
    assert_eq!(code, 0, "{err}");
    let cols = header(&export);
    let people = rows(&export)
        .into_iter()
        .map(|r| (r[0].to_string(), cols.iter().cloned().zip(r.iter().map(str::to_string)).collect()))
        .collect();
    (export, people)
}

fn value<'a>(people: &'a std::collections::BTreeMap<String, Vec<(String, String)>>, who: &str, col: &str) -> &'a str {
    let person = people.get(who).unwrap_or_else(|| panic!("{who} is not listed: {people:?}"));
    person.iter().find(|(c, _)| c == col).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no column {col}"))
}

#[tokio::test]
async fn teams_counts_presence_and_calls_as_microsoft_defines_them() {
    let t = TestDb::new().await;
    let (code, out, err) = cli(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("facts added         5"), "{out}");
    let (_, people) = export_by_person(&t.url, "2024-05-20");
    // Team chat already includes posts and replies: 12 + 87, and 5 (= 2 + 3).
    assert_eq!(value(&people, "alex.wu@contoso.com", "messages_sent"), "99");
    assert_eq!(value(&people, "chris.lee@contoso.com", "messages_sent"), "5");
    // Last Activity Date inside the period and nothing counted: present, silent.
    assert_eq!(value(&people, "dana.ng@contoso.com", "tier"), "silent");
    // An hour of calls: not dormant, and the voice family.
    assert_eq!(value(&people, "evan.ross@contoso.com", "tier"), "shallow");
    assert_eq!(value(&people, "evan.ross@contoso.com", "feature_breadth"), "1");
    assert_eq!(value(&people, "fay.sun@contoso.com", "tier"), "dormant");
    // The older 12-column report gives the same numbers.
    let old = TestDb::new().await;
    let file = vendor("TeamsUserActivityUserDetail_12_columns_2024-05-20.csv");
    assert_eq!(cli(&old.url, &["import", "auto", &file]).0, 0);
    let (_, people) = export_by_person(&old.url, "2024-05-20");
    assert_eq!(value(&people, "alex.wu@contoso.com", "messages_sent"), "99");
    assert_eq!(value(&people, "chris.lee@contoso.com", "messages_sent"), "5");
    old.finish().await;
    t.finish().await;
}

#[tokio::test]
async fn the_email_report_after_the_real_teams_report_is_refused_and_changes_nothing() {
    let t = TestDb::new().await;
    assert_eq!(cli(&t.url, &["import", "teams", &vendor(TEAMS_D30)]).0, 0);
    let (before, people) = export_by_person(&t.url, "2024-05-20");
    assert_eq!(value(&people, "alex.wu@contoso.com", "messages_sent"), "99");
    assert_eq!(value(&people, "alex.wu@contoso.com", "tier"), "shallow");
    for command in ["auto", "teams"] {
        let (code, out, err) = cli(&t.url, &["import", command, &vendor(EMAIL)]);
        assert_eq!(code, 1, "import {command} of the Email report: {out}");
        assert!(!out.contains("teams"), "never called Teams: {out}");
        assert!(
            err.contains(&format!(
                "{}:1: this is the Microsoft 365 Email activity user detail report, not Teams user activity",
                vendor(EMAIL)
            )),
            "{err}"
        );
        let (code, _, err) = cli(&t.url, &["import", command, &vendor(DEVICES)]);
        assert_eq!(code, 1);
        assert!(
            err.contains(":1: this is the Teams device usage user detail report, not Teams user activity"),
            "{err}"
        );
    }
    let (after, _) = export_by_person(&t.url, "2024-05-20");
    assert_eq!(after, before, "the real Teams facts are untouched");
    t.finish().await;
}

#[tokio::test]
async fn teams_daily_reports_count_days() {
    let t = TestDb::new().await;
    let files =
        [vendor("TeamsUserActivityUserDetail_2024-05-18.csv"), vendor("TeamsUserActivityUserDetail_2024-05-19.csv")];
    let (code, _, err) = cli(&t.url, &["import", "auto", &files[0], &files[1]]);
    assert_eq!(code, 0, "{err}");
    let (_, people) = export_by_person(&t.url, "2024-05-19");
    assert_eq!(value(&people, "alex.wu@contoso.com", "active_days"), "2");
    assert_eq!(value(&people, "alex.wu@contoso.com", "interactive_days"), "2");
    // Active on the 18th by Last Activity Date only: one day, silent.
    assert_eq!(value(&people, "dana.ng@contoso.com", "active_days"), "1");
    assert_eq!(value(&people, "dana.ng@contoso.com", "tier"), "silent");
    assert_eq!(value(&people, "fay.sun@contoso.com", "active_days"), "0");
    assert_eq!(value(&people, "fay.sun@contoso.com", "tier"), "dormant");
    t.finish().await;
}

#[tokio::test]
async fn teams_graph_json_pages_import_like_the_csv() {
    let csv = TestDb::new().await;
    assert_eq!(cli(&csv.url, &["import", "teams", &vendor(TEAMS_D30)]).0, 0);
    let (want, _) = export_by_person(&csv.url, "2024-05-20");
    csv.finish().await;

    // Each page saved as a file.
    let t = TestDb::new().await;
    let pages =
        [vendor("teams_user_activity_graph_D30_page1.json"), vendor("teams_user_activity_graph_D30_page2.json")];
    let (code, out, err) = cli(&t.url, &["import", "teams", &pages[0], &pages[1]]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 rows read") && out.contains("3 rows read"), "{out}");
    assert_eq!(export_by_person(&t.url, "2024-05-20").0, want);
    t.finish().await;

    // The pages concatenated in one file, recognised by `import auto`.
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let joined = dir.path().join("teams_pages.json");
    let mut bytes = std::fs::read(&pages[0]).unwrap();
    bytes.extend(std::fs::read(&pages[1]).unwrap());
    std::fs::write(&joined, bytes).unwrap();
    let (code, out, err) = cli(&t.url, &["import", "auto", &joined.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("5 rows read") && out.contains("source              teams"), "{out}");
    assert_eq!(export_by_person(&t.url, "2024-05-20").0, want);
    t.finish().await;
}

#[tokio::test]
async fn feishu_and_google_raw_api_responses_import_through_their_own_commands() {
    let t = TestDb::new().await;
    let feishu = vendor("feishu_admin_user_stats_api_response.json");
    let (code, out, err) = cli(&t.url, &["import", "feishu", &feishu]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 rows read") && out.contains("source              feishu"), "{out}");
    let google = vendor("google_user_usage_report_api_response.json");
    let (code, out, err) = cli(&t.url, &["import", "google-chat", &google]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 rows read") && out.contains("source              google_chat"), "{out}");
    let (_, people) = export_by_person(&t.url, "2026-04-15");
    assert_eq!(value(&people, "ana.lima@example.org", "tier"), "shallow");
    // Read 40 conversations, sent nothing: silent, not dormant.
    assert_eq!(value(&people, "ben.cho@example.org", "tier"), "silent");
    assert_eq!(value(&people, "ou_7dab8a3d3cdcc9da365777c7ad535d62", "messages_sent"), "23");
    // Recognised without being told, too.
    let again = TestDb::new().await;
    let (code, out, err) = cli(&again.url, &["import", "auto", &feishu, &google]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("source              feishu") && out.contains("source              google_chat"), "{out}");
    again.finish().await;
    t.finish().await;
}

#[tokio::test]
async fn google_chat_readers_are_silent_and_a_csv_without_chat_columns_is_refused() {
    let t = TestDb::new().await;
    assert_eq!(cli(&t.url, &["import", "google-chat", &vendor("google_chat_user_usage.csv")]).0, 0);
    let (_, people) = export_by_person(&t.url, "2026-04-15");
    // 45 conversations read, nothing sent.
    assert_eq!(value(&people, "ben.cho@example.org", "tier"), "silent");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.csv");
    std::fs::write(&path, "date,user_email,accounts:num_28day_logins\n2026-04-15,dora@example.org,3\n").unwrap();
    let (code, _, err) = cli(&t.url, &["import", "google-chat", &path.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("usage.csv:1: none of the Google Chat user usage report columns"), "{err}");
    let (_, people) = export_by_person(&t.url, "2026-04-15");
    assert!(!people.contains_key("dora@example.org"), "nothing imported as zeros");
    t.finish().await;
}
