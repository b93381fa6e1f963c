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
// Files as people save them (issue 12): resaved by Excel, PowerShell's
// `#TYPE` line, title rows, thousands separators, day/month order.

/// `metrics export` after importing `args` into a fresh database; the
/// import's stdout.
async fn export_after(args: &[&str], as_of: &str) -> (String, String) {
    let t = TestDb::new().await;
    let (code, out, err) = cli(&t.url, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    let (_, export, _) = cli(&t.url, &["metrics", "export", "--as-of", as_of]);
    t.finish().await;
    (out, export)
}

#[tokio::test]
async fn teams_files_resaved_by_excel_or_written_by_powershell_read_as_the_original() {
    let (_, original) =
        export_after(&["import", "teams", &vendor("TeamsUserActivityUserDetail_5_20_2024.csv")], "2024-05-20").await;
    assert!(original.contains("alex.wu@contoso.com"), "{original}");
    // Excel, United States: `5/20/2024`, `FALSE`, CRLF.
    let us = vendor("excel-en-US/TeamsUserActivityUserDetail_5_20_2024.csv");
    let (out, export) = export_after(&["import", "teams", &us], "2024-05-20").await;
    assert_eq!(export, original, "Excel en-US");
    assert!(out.contains("dates read as       month-first"), "{out}");
    // Excel, Germany: `;`, `20.05.2024`, `WAHR` / `FALSCH`; recognised by `import auto` too.
    let de = vendor("excel-de-DE/TeamsUserActivityUserDetail_5_20_2024.csv");
    let (out, export) = export_after(&["import", "auto", &de], "2024-05-20").await;
    assert_eq!(export, original, "Excel de-DE");
    assert!(out.contains("source              teams") && !out.contains("dates read as"), "{out}");
    // PowerShell's Export-Csv: a `#TYPE` line above the quoted header.
    let ps = vendor("powershell/TeamsUserActivityUserDetail_5_20_2024.csv");
    let (out, export) = export_after(&["import", "auto", &ps], "2024-05-20").await;
    assert_eq!(export, original, "PowerShell Export-Csv");
    assert!(out.contains("header found        on line 2"), "{out}");
}

const SLACK: &str = "Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv";

fn column(export: &str, user: &str, name: &str) -> String {
    let cols = header(export);
    let col = cols.iter().position(|c| c == name).unwrap();
    let row = rows(export).into_iter().find(|r| &r[0] == user).unwrap_or_else(|| panic!("{user} in {export}"));
    row[col].to_string()
}

#[tokio::test]
async fn slack_dashboard_files_resaved_by_spreadsheets_read_as_the_original() {
    let (_, original) = export_after(&["import", "slack", &vendor(SLACK)], "2026-04-17").await;
    // `1/5/2026` with a quoted `"1,143"`.
    let (out, us) = export_after(&["import", "slack", &vendor(&format!("excel-en-US/{SLACK}"))], "2026-04-17").await;
    assert!(out.contains("dates read as       month-first"), "{out}");
    assert_eq!(column(&us, "dana.whitfield@acme.com", "messages_sent"), "1143");
    // `05.01.2026`, `;`, `1.143`.
    let (_, de) = export_after(&["import", "auto", &vendor(&format!("excel-de-DE/{SLACK}"))], "2026-04-17").await;
    assert_eq!(de, us, "Excel de-DE reads as Excel en-US");
    // A title row, a period row and a blank row above the header; `5 Jan 2026`.
    let (out, titled) = export_after(&["import", "auto", &vendor(&format!("title-row/{SLACK}"))], "2026-04-17").await;
    assert_eq!(titled, original, "title rows");
    assert!(out.contains("header found        on line 4"), "{out}");
    // `2026/1/5`, as Excel writes it under Chinese settings.
    let (_, zh) = export_after(&["import", "slack", &vendor(&format!("excel-zh-CN/{SLACK}"))], "2026-04-17").await;
    assert_eq!(zh, original, "Excel zh-CN");
}

#[tokio::test]
async fn an_undecided_date_order_is_asked_for_and_given_with_date_order() {
    let t = TestDb::new().await;
    let gb = vendor(&format!("excel-en-GB/{SLACK}"));
    let (code, _, err) = cli(&t.url, &["import", "slack", &gb]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "{SLACK}:2: column `Account created (UTC)`: `12/02/2021` could be day-first or month-first"
        )) && err.contains("--date-order day-first"),
        "{err}"
    );
    assert_eq!(undercurrent::storage::dataset::totals(&t.db).await.unwrap().people, 0, "nothing stored");
    let (code, out, err) = cli(&t.url, &["import", "slack", "--date-order", "day-first", &gb]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dates read as       day-first") && out.contains("facts added         4"), "{out}");
    let (code, _, err) = cli(&t.url, &["import", "auto", "--date-order", "sideways", &gb]);
    assert_ne!(code, 0);
    assert!(err.contains("expected day-first or month-first"), "{err}");

    // Both orders proven in one file: an error naming both lines.
    let us = std::fs::read_to_string(vendor(&format!("excel-en-US/{SLACK}"))).unwrap();
    let contradictory = us.replacen("1/5/2026,1/6/2026", "13/1/2026,1/6/2026", 1);
    assert_ne!(contradictory, us);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SLACK);
    std::fs::write(&path, contradictory).unwrap();
    let (code, _, err) = cli(&t.url, &["import", "slack", &path.display().to_string()]);
    assert_eq!(code, 1);
    assert!(
        err.contains(":3: the dates in this file contradict each other: `13/1/2026` (line 3")
            && err.contains("`2/16/2021` (line 2"),
        "{err}"
    );
    t.finish().await;
}

#[tokio::test]
async fn counts_with_broken_thousands_groups_are_refused_at_their_line() {
    let t = TestDb::new().await;
    let us = std::fs::read_to_string(vendor(&format!("excel-en-US/{SLACK}"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SLACK);
    std::fs::write(&path, us.replacen("\"1,143\"", "\"11,43\"", 1)).unwrap();
    let (code, _, err) = cli(&t.url, &["import", "slack", &path.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains(":2: column `Messages posted`: `11,43` is not a whole number"), "{err}");
    t.finish().await;
}

#[tokio::test]
async fn a_semicolon_directory_with_a_title_row_is_read() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Mitarbeiter.csv");
    std::fs::write(
        &path,
        "\u{feff}Mitarbeiterverzeichnis;;\r\n;;\r\nuser_id;name;department\r\nalex.wu@contoso.com;Alex Wu;Vertrieb, Nord\r\n\r\nli.na@contoso.com;Li Na;Einkauf\r\n",
    )
    .unwrap();
    let (code, out, err) = cli(&t.url, &["import", "people", &path.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("people created      2") && out.contains("header found        on line 3"), "{out}");
    let (_, export, _) = cli(&t.url, &["metrics", "export", "--as-of", "2026-05-01"]);
    assert_eq!(column(&export, "alex.wu@contoso.com", "department"), "Vertrieb, Nord", "`;` separates, `,` is data");
    // A bad row after a blank line, CRLF: reported on its own line.
    std::fs::write(&path, "user_id;name;department\r\n\r\nli.na@contoso.com;Li Na\r\n").unwrap();
    let (code, _, err) = cli(&t.url, &["import", "people", &path.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("Mitarbeiter.csv:3: expected 3 fields"), "{err}");
    t.finish().await;
}

/// Finding 7: `import events --mapping` named the line before the bad one.
#[tokio::test]
async fn a_mapped_file_error_names_the_bad_line_with_lf_and_crlf() {
    use undercurrent::domain::mapping::{Field, Mapping, Target, TimeFormat};
    let t = TestDb::new().await;
    let mut m = Mapping::new(Target::Events);
    m.columns.insert(Field::UserId, "用户ID".into());
    m.columns.insert(Field::Timestamp, "时间".into());
    m.event_constant = Some("login".into());
    m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
    undercurrent::storage::mappings::save(&t.db, "dingtalk", &m).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, end) in [("lf.csv", "\n"), ("crlf.csv", "\r\n")] {
        let text = ["用户ID,时间", "u1,2026/5/1 9:00", "u2,2026/5/1 9:05", "u3,昨天", "u4,2026/5/1 9:10"].join(end);
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = cli(&t.url, &["import", "events", "--mapping", "dingtalk", &path.display().to_string()]);
        assert_eq!(code, 1);
        assert!(err.contains(&format!("{name}:4: column `时间`")), "{name}: {err}");
    }
    t.finish().await;
}
