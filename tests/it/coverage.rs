//! Numbers only where the source supports them (issue 12, finding 6): a
//! person whose source cannot establish depth is "depth not measurable",
//! counted apart; rates keep their n; the gap is over the measurable people.

use crate::common::web::TestApp;
use crate::common::{TestDb, cli, fixture};
use reqwest::StatusCode;
use undercurrent::domain::account::Role;

const AS_OF: &str = "2024-05-20";

/// A Teams user activity user detail row, shaped as the fixture (Graph's
/// getTeamsUserActivityUserDetail CSV, 33 columns); `cells` override the
/// defaults (nothing done, no activity date).
fn teams_row(header: &[String], upn: &str, cells: &[(&str, &str)]) -> String {
    header
        .iter()
        .map(|h| {
            if let Some((_, v)) = cells.iter().find(|(k, _)| k == h) {
                return v.to_string();
            }
            match h.as_str() {
                "User Principal Name" => upn.to_string(),
                "Report Refresh Date" => AS_OF.to_string(),
                "Report Period" => "30".to_string(),
                "Is Licensed" => "Yes".to_string(),
                "Is Deleted" => "False".to_string(),
                "User Id" => "3f2504e0-4f89-11d3-9a0c-0305e82c3301".to_string(),
                "Tenant Display Name" => "Contoso".to_string(),
                "Assigned Products" => "MICROSOFT 365 E3".to_string(),
                "Has Other Action" => "No".to_string(),
                h if h.ends_with("Duration") => "PT0S".to_string(),
                "Deleted Date" | "Last Activity Date" | "Shared Channel Tenant Display Names" => String::new(),
                _ => "0".to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A Teams period report (30 days to 2024-05-20): `interacting` people who
/// chat and call, `silent` who only did "other actions", `dormant` with
/// nothing, under the given name prefix.
fn teams_report(prefix: &str, interacting: usize, silent: usize, dormant: usize) -> String {
    let text = std::fs::read_to_string(fixture("vendor").join("TeamsUserActivityUserDetail_5_20_2024.csv")).unwrap();
    let first = text.lines().next().unwrap();
    let header: Vec<String> = first.trim_start_matches('\u{feff}').split(',').map(str::to_string).collect();
    let mut out = vec![first.to_string()];
    for i in 0..interacting {
        out.push(teams_row(
            &header,
            &format!("{prefix}{i}@contoso.com"),
            &[
                ("Last Activity Date", "2024-05-19"),
                ("Private Chat Message Count", "40"),
                ("Call Count", "6"),
                ("Meetings Attended Count", "5"),
                ("Meeting Count", "5"),
            ],
        ));
    }
    for i in 0..silent {
        out.push(teams_row(
            &header,
            &format!("{prefix}silent{i}@contoso.com"),
            &[("Last Activity Date", "2024-05-18"), ("Has Other Action", "Yes")],
        ));
    }
    for i in 0..dormant {
        out.push(teams_row(&header, &format!("{prefix}dormant{i}@contoso.com"), &[]));
    }
    out.join("\r\n") + "\r\n"
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn summary(url: &str) -> serde_json::Value {
    let (code, json, err) = cli(url, &["metrics", "summary", "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&json).unwrap()
}

fn export(url: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (code, out, err) = cli(url, &["metrics", "export", "--as-of", AS_OF]);
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    (header, r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect())
}

/// Events for a mixed organisation: e0 deep (10 days of messages and calls
/// in engaged sessions), e1 shallow (one message), e2 silent (logins).
fn mixed_events() -> String {
    let mut lines = vec!["user_id,timestamp,event,channel".to_string()];
    for d in 10..=19 {
        lines.push(format!("e0@contoso.com,2024-05-{d:02}T09:00:00Z,message_sent,c1"));
        lines.push(format!("e0@contoso.com,2024-05-{d:02}T09:05:00Z,voice_call,c1"));
    }
    lines.push("e0@contoso.com,2024-05-01T09:00:00Z,login,".into());
    lines.push("e1@contoso.com,2024-05-02T09:00:00Z,login,".into());
    lines.push("e1@contoso.com,2024-05-15T09:00:00Z,message_sent,c2".into());
    lines.push("e2@contoso.com,2024-05-02T09:00:00Z,login,".into());
    lines.push("e2@contoso.com,2024-05-20T09:00:00Z,login,".into());
    lines.join("\n") + "\n"
}

#[tokio::test]
async fn a_teams_only_organisation_shows_no_gap_but_who_is_not_measurable_and_how_to_measure_them() {
    let app = TestApp::with_accounts().await;
    let report = teams_report("t", 8, 1, 1);
    // Through the browser, as an analyst uploads it.
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, _) = analyst.get("/imports").await;
    let form = reqwest::multipart::Form::new().text("period_from", "").text("period_to", "").part(
        "files",
        reqwest::multipart::Part::bytes(report.clone().into_bytes()).file_name("TeamsUserActivityUserDetail.csv"),
    );
    let (status, body) = analyst.post_multipart("/imports/exports", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let s = summary(&app.t.url);
    let all = &s["overall"];
    assert_eq!(all["base"], 10);
    assert_eq!(all["login_rate"].as_f64().unwrap(), 0.9);
    assert!(all["deep_rate"].is_null(), "no deep rate over nobody: {all}");
    assert!(all["gap_points"].is_null(), "no 90-point gap, an artifact of the source: {all}");
    assert_eq!(all["deep_rate_base"], 0);
    assert_eq!(all["depth_unmeasurable"]["teams.no_day_counts"], 10);
    assert_eq!(all["tiers"]["unmeasured"], 8, "interacting people are not pushed into shallow");
    assert_eq!(all["tiers"]["shallow"], 0);
    assert_eq!((all["tiers"]["silent"].as_u64(), all["tiers"]["dormant"].as_u64()), (Some(1), Some(1)));
    assert!(all["indicators"]["doc_collaboration"].is_null(), "Teams has no docs: not 0 but null: {all}");

    for role in [Role::Admin, Role::Manager] {
        let mut c = app.signed_in(role).await;
        let (status, page) = c.get(&format!("/?as_of={AS_OF}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"gap\">–<"), "{role:?}: no gap figure");
        assert!(!page.contains("90 points") && !page.contains("a gap of"), "{role:?}");
        assert!(
            page.contains("Depth is not measurable from these sources for any of the 10 people")
                && page.contains("10 people from Teams period reports (no day counts)"),
            "{role:?}: the coverage sentence"
        );
        assert!(page.contains("date=YYYY-MM-DD"), "{role:?}: how to get day counts");
        assert!(page.contains("Depth not measurable"), "{role:?}: the tier is shown apart");
        assert!(
            page.contains("Share of people editing documents</th><td class=\"num\">not available from this source"),
            "{role:?}: doc_collaboration is not available, not 0"
        );
    }
    // The privacy floor still applies: a manager sees no counts of a group
    // smaller than the floor, coverage included.
    undercurrent::app::settings::set(&app.t.db, "privacy_floor", "50").await.unwrap();
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get(&format!("/?as_of={AS_OF}")).await;
    assert!(!page.contains("people from Teams period reports"), "no coverage counts under the floor");
    app.finish().await;
}

#[tokio::test]
async fn the_person_page_says_depth_is_not_measurable_and_indicators_are_not_available() {
    let app = TestApp::with_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "TeamsUserActivityUserDetail.csv", &teams_report("t", 3, 0, 0));
    let (code, _, err) = cli(&app.t.url, &["import", "teams", &file]);
    assert_eq!(code, 0, "{err}");
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, page) = admin.get(&format!("/people/t0@contoso.com?as_of={AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Depth: not measurable from this source: Teams period reports have no day counts"),
        "the reason"
    );
    assert!(!page.contains("Interactive in the window, but short of deep"), "not called shallow");
    assert!(page.contains("<dd>not available from this source</dd>"), "doc edits are not 0");
    assert!(!page.contains("Document edits</dt><dd>0</dd>"), "doc edits are not 0");
    // Docs are a family Teams cannot see.
    assert!(page.contains("Docs: not available from this source"), "families the source cannot see");

    let (_, list) = admin.get(&format!("/people?as_of={AS_OF}")).await;
    assert!(list.contains("3 people from Teams period reports (no day counts)"), "the people list says so");
    let (header, rows) = export(&app.t.url);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    assert!(rows.iter().all(|r| r[col("tier")] == "unmeasured" && r[col("depth_gap")] == "teams.no_day_counts"));
    assert!(rows.iter().all(|r| r[col("doc_edits")].is_empty()));
    app.finish().await;
}

#[tokio::test]
async fn a_slack_dashboard_without_files_or_huddles_columns_forces_no_one_into_shallow() {
    let t = TestDb::new().await;
    let name = "Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv";
    let text = std::fs::read_to_string(fixture("vendor").join(name)).unwrap();
    // Slack's default column set leaves out the optional Files uploaded and
    // Slack Huddles columns.
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let keep: Vec<usize> =
        (0..header.len()).filter(|i| header[*i] != "Files uploaded" && header[*i] != "Slack Huddles").collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(keep.iter().map(|i| &header[*i])).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        w.write_record(keep.iter().map(|i| &rec[*i])).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), name, &String::from_utf8(w.into_inner().unwrap()).unwrap());
    let (code, _, err) = cli(&t.url, &["import", "slack", &file]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = cli(&t.url, &["metrics", "export", "--as-of", "2026-04-17"]);
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let cols: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col = |n: &str| cols.iter().position(|c| c == n).unwrap();
    let dana = rows.iter().find(|r| &r[0] == "dana.whitfield@acme.com").unwrap();
    assert_eq!(&dana[col("active_days")], "22");
    assert_eq!(&dana[col("tier")], "unmeasured", "22 days and 143 messages: not shallow for want of columns");
    assert_eq!(&dana[col("depth_gap")], "slack_dashboard.few_families");
    assert!(rows.iter().all(|r| &r[col("tier")] != "shallow" && &r[col("tier")] != "deep"), "{out}");

    let (_, text, _) = cli(&t.url, &["metrics", "summary", "--as-of", "2026-04-17"]);
    assert!(text.contains("people from Slack dashboard exports (too few feature families visible"), "{text}");
    assert!(text.contains("Files uploaded and Slack Huddles columns"), "how to get better data:\n{text}");
    assert!(!text.contains("Gap "), "no gap over nobody:\n{text}");
    t.finish().await;
}

#[tokio::test]
async fn a_mixed_organisation_has_rates_over_the_measurable_people_with_both_ns() {
    let app = TestApp::with_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let events = write(dir.path(), "events.csv", &mixed_events());
    let teams = write(dir.path(), "TeamsUserActivityUserDetail.csv", &teams_report("t", 3, 0, 1));
    let ids = ["e0", "e1", "e2", "t0", "t1", "t2", "tdormant0"];
    let people: String = ids.iter().map(|id| format!("{id}@contoso.com,Sales\n")).collect();
    let people = write(dir.path(), "people.csv", &format!("user_id,department\n{people}"));
    assert_eq!(cli(&app.t.url, &["import", "people", &people]).0, 0);
    assert_eq!(cli(&app.t.url, &["import", "events", &events]).0, 0);
    let (code, _, err) = cli(&app.t.url, &["import", "teams", &teams]);
    assert_eq!(code, 0, "{err}");

    let s = summary(&app.t.url);
    let all = &s["overall"];
    assert_eq!(all["base"], 7);
    assert_eq!(all["deep_rate_base"], 3, "e0, e1, e2 by events");
    assert_eq!(all["depth_unmeasurable"]["teams.no_day_counts"], 4);
    assert!((all["login_rate"].as_f64().unwrap() - 6.0 / 7.0).abs() < 1e-12, "presence is measured for all");
    assert!((all["deep_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12, "deep over the measurable 3");
    assert!((all["login_rate_measurable"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!((all["gap_points"].as_f64().unwrap() - 200.0 / 3.0).abs() < 1e-9, "gap over the measurable 3");
    assert_eq!(all["tiers"]["deep"], 1);
    assert_eq!(all["tiers"]["unmeasured"], 3);

    for role in [Role::Admin, Role::Manager] {
        let mut c = app.signed_in(role).await;
        let (status, page) = c.get(&format!("/?as_of={AS_OF}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"deep-rate\">33.3%<"), "{role:?}: deep rate over 3");
        assert!(page.contains("id=\"login-rate\">85.7%<"), "{role:?}: login rate over 7");
        assert!(page.contains("id=\"gap\">66.7<"), "{role:?}: the gap over 3");
        assert!(
            page.contains("Login rate over 7 people past their grace period; deep rate and gap over 3."),
            "{role:?}: both n's"
        );
        // The sentence under the figures names the measured people, so its
        // 100% login rate is not read against the 85.7% above it.
        assert!(
            page.contains(
                "Of the 3 people whose depth is measurable, 100% opened the tool in the last 28 days, but only 33.3%"
            ),
            "{role:?}: the headline sentence names its base"
        );
        assert!(
            page.contains("Deep rate and gap over the 3 people whose depth is measurable")
                && page.contains("4 people from Teams period reports (no day counts) are not."),
            "{role:?}: the coverage sentence"
        );
        let (status, report) = c.get("/report").await;
        assert_eq!(status, StatusCode::OK);
        assert!(report.contains("33.3%") && report.contains("(n = 3)") && report.contains("(n = 7)"), "{role:?}");
        assert!(report.contains("4 people from Teams period reports"), "{role:?}: the report states coverage");
    }
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (status, adoption) = analyst.get(&format!("/adoption?as_of={AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(adoption.contains("Sales: Deep rate and gap over the 3 people whose depth is measurable"), "{adoption}");
    assert!(adoption.contains("date=YYYY-MM-DD"), "how to get better data");
    let (_, csv) = analyst.get(&format!("/adoption.csv?as_of={AS_OF}")).await;
    assert!(csv.lines().next().unwrap_or_default().ends_with("deep_rate,deep_rate_base,depth_unmeasurable"), "{csv}");

    let (_, text, _) = cli(&app.t.url, &["metrics", "summary", "--as-of", AS_OF]);
    assert!(text.contains("33.3%   people in tier deep, over the 3 whose depth is measurable"), "{text}");
    assert!(text.contains("Deep rate and gap over the 3 people whose depth is measurable"), "{text}");
    assert!(text.contains("4 people from Teams period reports (no day counts)"), "{text}");
    app.finish().await;
}
