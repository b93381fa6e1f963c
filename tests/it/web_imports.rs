//! The Imports page: uploading directory and event files in the browser,
//! the per-file summary or error, the history, and who may do it.

use std::io::Write;

use crate::common::fixture;
use crate::common::web::*;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use undercurrent::domain::account::Role;
use undercurrent::storage::{audit, dataset};

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture("activity-small").join(name)).unwrap()
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_string()).mime_str("application/octet-stream").unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The text of the element with `id`, up to its closing `</table>`.
fn table<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in:\n{body}"));
    let end = body[start..].find("</table>").map_or(body.len(), |e| start + e);
    &body[start..end]
}

/// The part of the page above the upload forms: this upload's results.
fn results(body: &str) -> &str {
    let end = body.find("class=\"grid import-forms\"").expect("the upload forms");
    &body[..end]
}

const BAD_EVENTS: &str = "user_id,timestamp,event\n\
                          u0001@corp.example,2026-05-01T09:00:00Z,login\n\
                          u0001@corp.example,yesterday at noon,message_sent\n\
                          u0002@corp.example,2026-05-01T10:00:00Z,login\n";

#[tokio::test]
async fn directory_then_events_show_summaries_and_history() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;

    let (status, body) = admin.get("/imports").await;
    assert_eq!(status, StatusCode::OK);
    // Directory, events, platform exports.
    assert_eq!(body.matches("enctype=\"multipart/form-data\"").count(), 3);
    assert_eq!(body.matches("data-upload").count(), 3);
    assert_eq!(body.matches("<progress hidden").count(), 3);
    assert!(body.contains("name=\"files\" multiple"), "several event files at once");
    assert!(body.contains("Nothing has been imported yet."));

    let form = Form::new().part("file", file("people.csv", fixture_bytes("people.csv")));
    let (status, body) = admin.post_multipart("/imports/people", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    assert!(top.contains("people.csv was imported."), "{top}");
    assert!(top.contains("Rows read</dt><dd>101</dd>"), "{top}");
    assert!(top.contains("People created</dt><dd>101</dd>"), "{top}");
    assert!(!top.contains("role=\"alert\""));

    let form = Form::new().part("files", file("events_a.csv", fixture_bytes("events_a.csv")));
    let (status, body) = admin.post_multipart("/imports/events", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let totals = dataset::totals(&app.t.db).await.unwrap();
    assert!(totals.events > 7000, "{totals:?}");
    let top = results(&body);
    assert!(top.contains("events_a.csv was imported."), "{top}");
    assert!(top.contains("Rows read</dt><dd>7,474</dd>"), "{top}");
    let added = undercurrent::web::i18n::integer(totals.events);
    assert!(top.contains(&format!("Events added</dt><dd>{added}</dd>")), "{top}");
    assert!(
        top.contains("Duplicates skipped</dt>") && top.contains("Time range</dt><dd>") && top.contains(" 2026, "),
        "{top}"
    );

    // The history lists both, newest first.
    let (_, body) = admin.get("/imports").await;
    let history = table(&body, "import-history");
    let (events_at, people_at) = (history.find("events_a.csv").unwrap(), history.find("people.csv").unwrap());
    assert!(events_at < people_at, "newest first:\n{history}");
    assert_eq!(history.matches("Imported").count(), 2, "{history}");
    assert!(history.contains(">7,474<") && history.contains(">101<"), "{history}");

    // Importing the same file again adds nothing.
    let form = Form::new().part("files", file("events_a.csv", fixture_bytes("events_a.csv")));
    let (_, body) = admin.post_multipart("/imports/events", form).await;
    assert!(results(&body).contains("Events added</dt><dd>0</dd>"), "{}", results(&body));
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, totals.events);

    let log = audit::recent(&app.t.db, 20, 0).await.unwrap();
    let imports: Vec<_> = log.iter().filter(|e| e.action == "import").collect();
    assert_eq!(imports.len(), 3);
    assert!(imports.iter().any(|e| e.target.as_deref() == Some("import:people")
        && e.detail.as_deref().is_some_and(|d| d.starts_with("people.csv: 101 rows read"))));
    assert!(imports.iter().all(|e| e.account_email.as_deref() == Some("admin@test.example")));
    app.finish().await;
}

#[tokio::test]
async fn a_bad_line_stops_the_file_and_stores_nothing_of_it() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    admin_page_loads(&mut analyst).await;

    let form = Form::new().part("files", file("bad.csv", BAD_EVENTS.as_bytes().to_vec()));
    let (status, body) = analyst.post_multipart("/imports/events", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    assert!(top.contains("role=\"alert\""), "{top}");
    assert!(top.contains("bad.csv:3:"), "{top}");
    assert!(top.contains("column `timestamp`"), "{top}");
    assert!(top.contains("bad.csv was not imported: nothing of it was stored."), "{top}");
    let totals = dataset::totals(&app.t.db).await.unwrap();
    assert_eq!((totals.events, totals.people), (0, 0), "nothing of the file is stored");

    let history = table(&body, "import-history").to_string();
    assert!(history.contains("Failed") && history.contains("bad.csv:3:"), "{history}");
    let log = audit::recent(&app.t.db, 5, 0).await.unwrap();
    assert!(log.iter().any(|e| e.action == "import"
        && e.target.as_deref() == Some("import:events")
        && e.detail.as_deref().is_some_and(|d| d.contains("failed") && d.contains("bad.csv:3:"))));
    app.finish().await;
}

async fn admin_page_loads(client: &mut Client) {
    let (status, _) = client.get("/imports").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn several_files_are_each_all_or_nothing_and_gzip_works() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let form = Form::new()
        .part("files", file("events_b.ndjson.gz", gzip(&fixture_bytes("events_b.ndjson"))))
        .part("files", file("bad.csv", BAD_EVENTS.as_bytes().to_vec()));
    let (status, body) = admin.post_multipart("/imports/events", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    assert!(top.contains("1 imported, 1 not imported."), "{top}");
    assert!(top.contains("events_b.ndjson.gz was imported."), "{top}");
    assert!(top.contains("bad.csv:3:"), "{top}");
    // The unknown kind of the fixture is listed with its count.
    assert!(top.contains("<code>presence_ping</code> <span class=\"count\">97</span>"), "{top}");
    let totals = dataset::totals(&app.t.db).await.unwrap();
    assert!(totals.events > 7000, "the good file stays imported: {totals:?}");
    app.finish().await;
}

#[tokio::test]
async fn folders_are_stripped_from_file_names_and_an_empty_choice_is_explained() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let form = Form::new().part("file", file("C:\\fakepath\\people.csv", fixture_bytes("people.csv")));
    let (_, body) = admin.post_multipart("/imports/people", form).await;
    assert!(results(&body).contains("people.csv was imported."), "{body}");
    assert!(!body.contains("fakepath"));

    let form = Form::new().part("file", file("", Vec::new()));
    let (status, body) = admin.post_multipart("/imports/people", form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<p class=\"error\" role=\"alert\">Choose a file to upload first.</p>"), "{body}");
    app.finish().await;
}

#[tokio::test]
async fn the_page_speaks_chinese() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    admin.post("/language", &[("lang", "zh-CN"), ("back", "/imports")]).await;
    let (status, body) = admin.get("/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("导入记录") && body.contains("导入名录"), "{body}");
    app.finish().await;
}

#[tokio::test]
async fn only_admins_and_analysts_may_import() {
    let app = TestApp::with_accounts().await;
    for role in [Role::Manager, Role::Researcher] {
        let mut c = app.signed_in(role).await;
        assert_eq!(c.get("/imports").await.0, StatusCode::FORBIDDEN, "{role}");
        let form = Form::new().part("file", file("people.csv", fixture_bytes("people.csv")));
        assert_eq!(c.post_multipart("/imports/people", form).await.0, StatusCode::FORBIDDEN, "{role}");
        let form = Form::new().part("files", file("events_a.csv", fixture_bytes("events_a.csv")));
        assert_eq!(c.post_multipart("/imports/events", form).await.0, StatusCode::FORBIDDEN, "{role}");
    }
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().people, 0);

    // Not signed in: to the sign-in page.
    let (status, _, location) = app.client().get_full("/imports").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login?next=/imports"));
    app.finish().await;
}

#[tokio::test]
async fn an_upload_without_the_csrf_token_is_refused() {
    let app = TestApp::with_accounts().await;
    let admin = app.signed_in(Role::Admin).await;
    let form = Form::new().part("file", file("people.csv", fixture_bytes("people.csv")));
    let r = admin.http.post(format!("{}/imports/people", admin.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let form = Form::new().part("file", file("people.csv", fixture_bytes("people.csv")));
    let r = admin.http.post(format!("{}/imports/people?csrf={}", admin.base, "0".repeat(64))).multipart(form).send();
    assert_eq!(r.await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().people, 0);
    app.finish().await;
}

fn vendor_bytes(path: &str) -> Vec<u8> {
    std::fs::read(fixture("vendor").join(path)).unwrap()
}

/// Issue 12: exports as spreadsheets save them, through the browser, and the
/// date order asked for and given on the form.
#[tokio::test]
async fn resaved_exports_and_the_date_order_field_in_the_browser() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/imports").await;
    assert!(page.contains("name=\"date_order\"") && page.contains("value=\"day-first\""), "the form has the field");
    let slack = "Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv";
    let gb = vendor_bytes(&format!("excel-en-GB/{slack}"));
    let form = Form::new().text("date_order", "").part("files", file(slack, gb.clone()));
    let (status, body) = analyst.post_multipart("/imports/exports", form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("could be day-first or month-first") && body.contains(":2:"), "{body}");
    let form = Form::new().text("date_order", "day-first").part("files", file(slack, gb));
    let (_, body) = analyst.post_multipart("/imports/exports", form).await;
    assert!(body.contains("Facts added") && body.contains("day-first"), "{body}");
    let history = undercurrent::storage::imports::recent(&app.t.db, 5).await.unwrap();
    assert_eq!(history[0].summary.details.date_order.as_deref(), Some("day-first"));

    let ps = vendor_bytes("powershell/TeamsUserActivityUserDetail_5_20_2024.csv");
    let de = vendor_bytes("excel-de-DE/TeamsUserActivityUserDetail_5_20_2024.csv");
    let form = Form::new()
        .part("files", file("TeamsUserActivityUserDetail_5_20_2024.csv", ps))
        .part("files", file("TeamsUserActivityUserDetail_5_20_2024 (de).csv", de));
    let (_, body) = analyst.post_multipart("/imports/exports", form).await;
    assert_eq!(body.matches("Facts added").count(), 2, "{body}");
    let history = undercurrent::storage::imports::recent(&app.t.db, 5).await.unwrap();
    assert_eq!(history[1].summary.details.header_line, Some(2), "PowerShell's #TYPE line skipped");
    assert_eq!(history[0].status.as_str(), "done");
    app.finish().await;
}

/// Finding 7 in the browser: the column mapping page names the bad line of a
/// CRLF file.
#[tokio::test]
async fn the_mapping_import_names_the_bad_line_of_a_crlf_file() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let text = "用户ID,时间\r\nu1,2026/5/1 9:00\r\nu2,2026/5/1 9:05\r\nu3,昨天\r\n";
    let form = Form::new().text("target", "events").part("file", file("crlf.csv", text.as_bytes().to_vec()));
    let (status, body) = admin.post_multipart("/imports/mapping/upload", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let i = body.find("name=\"file\" value=\"").expect("an upload token");
    let token: String = body[i + 19..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    let form = [
        ("file", token.as_str()),
        ("name", "crlf.csv"),
        ("target", "events"),
        ("col_user_id", "用户ID"),
        ("col_timestamp", "时间"),
        ("event_constant", "login"),
        ("time_format", "%Y/%m/%d %H:%M"),
        ("time_pattern", ""),
        ("timezone", ""),
    ];
    let (_, body, _) = admin.post("/imports/mapping/import", &form).await;
    assert!(body.contains("crlf.csv:4:"), "{body}");
    assert!(!body.contains("crlf.csv:3:"), "{body}");
    app.finish().await;
}

fn teams_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture("vendor").join(name)).unwrap()
}

async fn upload_export(client: &mut Client, name: &str, bytes: Vec<u8>) -> String {
    let form = Form::new().text("period_from", "").text("period_to", "").part("files", file(name, bytes));
    let (status, body) = client.post_multipart("/imports/exports", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    results(&body).to_string()
}

/// `metrics export` as of a day, through the command line.
fn metrics_export(url: &str, as_of: &str) -> String {
    let (code, out, err) = crate::common::cli(url, &["metrics", "export", "--as-of", as_of]);
    assert_eq!(code, 0, "{err}");
    out
}

#[tokio::test]
async fn teams_reports_of_two_periods_and_a_corrected_download_through_the_browser() {
    const D30: &str = "TeamsUserActivityUserDetail_5_20_2024.csv";
    const D7: &str = "TeamsUserActivityUserDetail_D7_5_20_2024.csv";
    // The 30-day report alone, and its corrected re-download alone (Alex's
    // private chat count 87 -> 90, as Microsoft re-published it).
    let original = String::from_utf8(teams_bytes(D30)).unwrap();
    let corrected = original.replacen(
        ",MICROSOFT 365 E3+MICROSOFT 365 COPILOT,87,",
        ",MICROSOFT 365 E3+MICROSOFT 365 COPILOT,90,",
        1,
    );
    assert_ne!(corrected, original);
    let alone = crate::common::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("d30.csv", &original), ("corrected.csv", &corrected)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = |f: &str| dir.path().join(f).display().to_string();
    assert_eq!(crate::common::cli(&alone.url, &["import", "teams", &path("d30.csv")]).0, 0);
    let d30_numbers = metrics_export(&alone.url, "2024-05-20");
    assert_eq!(crate::common::cli(&alone.url, &["import", "teams", &path("corrected.csv")]).0, 0);
    let corrected_numbers = metrics_export(&alone.url, "2024-05-20");
    assert_ne!(d30_numbers, corrected_numbers);
    alone.finish().await;

    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    upload_export(&mut analyst, D7, teams_bytes(D7)).await;
    let top = upload_export(&mut analyst, D30, teams_bytes(D30)).await;
    assert!(top.contains("Facts added</dt><dd>6</dd>") && !top.contains("Facts replaced"), "{top}");
    assert_eq!(
        metrics_export(&app.t.url, "2024-05-20"),
        d30_numbers,
        "a 28-day window takes the 30-day report, not the first imported"
    );

    let top = upload_export(&mut analyst, D30, corrected.clone().into_bytes()).await;
    assert!(top.contains("Facts replaced</dt><dd>1</dd>"), "{top}");
    assert!(top.contains("Facts added</dt><dd>0</dd>") && top.contains("Facts already known</dt><dd>5</dd>"), "{top}");
    assert_eq!(metrics_export(&app.t.url, "2024-05-20"), corrected_numbers, "the numbers follow the correction");

    let top = upload_export(&mut analyst, D30, corrected.into_bytes()).await;
    assert!(top.contains("Facts already known</dt><dd>6</dd>") && !top.contains("Facts replaced"), "{top}");
    assert_eq!(metrics_export(&app.t.url, "2024-05-20"), corrected_numbers, "the same file again changes nothing");
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Issue 12: platform reports in the browser, each recognised by its own
// columns (fixtures and their documentation: tests/fixtures/vendor/README.md).

fn vendor_part(name: &str) -> Part {
    file(name, std::fs::read(fixture("vendor").join(name)).unwrap())
}

fn exports_form(names: &[&str]) -> Form {
    names.iter().fold(Form::new().text("period_from", "").text("period_to", ""), |form, name| {
        form.part("files", vendor_part(name))
    })
}

/// `metrics export` through the command line, on the app's database.
#[tokio::test]
async fn the_email_report_after_the_teams_report_is_refused_in_the_browser() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let teams = "TeamsUserActivityUserDetail_D30_2024-05-20.csv";
    let (status, body) = analyst.post_multipart("/imports/exports", exports_form(&[teams])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(results(&body).contains(&format!("{teams} was imported.")), "{}", results(&body));
    let before = metrics_export(&app.t.url, "2024-05-20");
    assert!(before.contains("alex.wu@contoso.com,unmeasured"), "{before}");

    for (name, what) in [
        ("EmailActivityUserDetail_D30_2024-05-20.csv", "this is the Microsoft 365 Email activity user detail report"),
        ("TeamsDeviceUsageUserDetail_D30_2024-05-20.csv", "this is the Teams device usage user detail report"),
    ] {
        let (status, body) = analyst.post_multipart("/imports/exports", exports_form(&[name])).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let top = results(&body);
        assert!(top.contains("role=\"alert\""), "{top}");
        assert!(top.contains(&format!("{name}:1: {what}, not Teams user activity")), "{top}");
        assert!(top.contains(&format!("{name} was not imported: nothing of it was stored.")), "{top}");
    }
    assert_eq!(metrics_export(&app.t.url, "2024-05-20"), before, "the Teams facts are untouched");
    let history = undercurrent::storage::imports::recent(&app.t.db, 5).await.unwrap();
    assert_eq!(history.iter().filter(|h| h.summary.source == "teams").count(), 1, "only the real Teams report");
    app.finish().await;
}

#[tokio::test]
async fn graph_json_pages_and_raw_api_responses_upload_in_the_browser() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let names = [
        "teams_user_activity_graph_D30_page1.json",
        "teams_user_activity_graph_D30_page2.json",
        "feishu_admin_user_stats_api_response.json",
        "google_user_usage_report_api_response.json",
    ];
    let (status, body) = analyst.post_multipart("/imports/exports", exports_form(&names)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    for name in names {
        assert!(top.contains(&format!("{name} was imported.")), "{top}");
    }
    assert!(!top.contains("role=\"alert\""), "{top}");
    let mut sources: Vec<String> = undercurrent::storage::imports::recent(&app.t.db, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.summary.source)
        .collect();
    sources.sort();
    assert_eq!(sources, ["feishu", "google_chat", "teams", "teams"]);
    let teams = metrics_export(&app.t.url, "2024-05-20");
    // 12 team chat (posts and replies inside) + 87 private chat.
    assert!(teams.lines().any(|l| l.starts_with("alex.wu@contoso.com,unmeasured,") && l.contains(",99,")), "{teams}");
    assert!(teams.contains("dana.ng@contoso.com,silent"), "{teams}");
    let google = metrics_export(&app.t.url, "2026-04-15");
    assert!(google.contains("ben.cho@example.org,silent"), "{google}");
    // Google counts messages and reactions together, and says so.
    let (status, page) = analyst.get("/people/ana.lima@example.org?as_of=2026-04-15").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Messages and reactions sent"), "{page}");
    let (_, page) = analyst.get("/people/alex.wu@contoso.com?as_of=2024-05-20").await;
    assert!(page.contains("Messages sent") && !page.contains("Messages and reactions"), "{page}");
    app.finish().await;
}

/// An events file with blank lines before the bad row: the browser names the
/// row's line in the file and its column.
#[tokio::test]
async fn the_events_upload_names_the_real_line_after_blank_lines() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let text = "user_id,timestamp,event\r\n\r\nu1,2026-05-01T09:00:00Z,login\r\n\r\n\r\nu2,noon,login\r\n";
    let form = Form::new().part("files", file("blanks.csv", text.as_bytes().to_vec()));
    let (status, body) = admin.post_multipart("/imports/events", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    assert!(top.contains("blanks.csv:6:"), "{top}");
    assert!(top.contains("column `timestamp`"), "{top}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 0);
    app.finish().await;
}

/// A Teams daily report whose name does not carry its day is refused in the
/// browser, saying why; with From and To set to that day it is counted for
/// that day, not for its later Report Refresh Date.
#[tokio::test]
async fn a_teams_daily_report_takes_its_day_from_the_period_fields() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let bytes = teams_bytes("TeamsUserActivityUserDetail_2024-05-17.csv");
    let top = upload_export(&mut admin, "daily.csv", bytes.clone()).await;
    assert!(top.contains("daily.csv:2:") && top.contains("a daily report"), "{top}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().people, 0);
    let form = Form::new()
        .text("period_from", "2024-05-17")
        .text("period_to", "2024-05-17")
        .part("files", file("daily.csv", bytes));
    let (status, body) = admin.post_multipart("/imports/exports", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(results(&body).contains("daily.csv was imported."), "{}", results(&body));
    let export = metrics_export(&app.t.url, "2024-05-17");
    let alex = export.lines().find(|l| l.starts_with("alex.wu@contoso.com,")).expect("alex");
    assert!(alex.contains(",1,1,"), "one active and interactive day on the 17th: {alex}");
    app.finish().await;
}
