//! Platform exports through the command line: facts stored per person and
//! period, metrics derived where possible and left empty (never zero) where
//! the source cannot say, one person across sources, re-import idempotent.

use crate::common::{TestDb, cli, fixture};

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
    use crate::common::web::TestApp;
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
    assert_eq!(history[0].status.as_str(), "done");
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

// ---------------------------------------------------------------------------
// Facts keyed by source, report, period and refresh date

const TEAMS_D30: &str = "TeamsUserActivityUserDetail_5_20_2024.csv";
const TEAMS_D7: &str = "TeamsUserActivityUserDetail_D7_5_20_2024.csv";

fn export_as_of(url: &str, day: &str) -> String {
    let (code, out, err) = cli(url, &["metrics", "export", "--as-of", day]);
    assert_eq!(code, 0, "{err}");
    out
}

/// One person's value of an export column.
fn cell(export: &str, user: &str, column: &str) -> String {
    let cols = header(export);
    let col = cols.iter().position(|c| c == column).unwrap_or_else(|| panic!("no {column} in {cols:?}"));
    let row = rows(export).into_iter().find(|r| &r[0] == user).unwrap_or_else(|| panic!("{user} not exported"));
    row[col].to_string()
}

/// A Teams CSV (CRLF, as Microsoft ships it) with some cells changed:
/// (user principal name, column, new value).
fn teams_with(text: &str, changes: &[(&str, &str, &str)]) -> String {
    let mut lines: Vec<Vec<String>> = text.split("\r\n").map(|l| l.split(',').map(str::to_string).collect()).collect();
    let cols: Vec<String> = lines[0].iter().map(|c| c.trim_start_matches('\u{feff}').to_string()).collect();
    let at = |name: &str| cols.iter().position(|c| c == name).unwrap();
    for (user, column, value) in changes {
        let line = lines.iter_mut().find(|l| l[0].eq_ignore_ascii_case(user)).expect("the user is in the file");
        line[at(column)] = value.to_string();
    }
    lines.iter().map(|l| l.join(",")).collect::<Vec<_>>().join("\r\n")
}

fn import(url: &str, format: &str, file: &str) -> String {
    let (code, out, err) = cli(url, &["import", format, file]);
    assert_eq!(code, 0, "{err}");
    out
}

#[tokio::test]
async fn a_teams_d7_and_d30_of_one_refresh_date_give_the_d30_numbers_for_a_28_day_window_in_either_order() {
    let d30_only = TestDb::new().await;
    import(&d30_only.url, "teams", &vendor(TEAMS_D30));
    let expected = export_as_of(&d30_only.url, "2024-05-20");
    d30_only.finish().await;

    let t = TestDb::new().await;
    import(&t.url, "teams", &vendor(TEAMS_D7));
    let d7 = export_as_of(&t.url, "2024-05-20");
    assert_ne!(d7, expected, "the fixtures differ");
    let out = import(&t.url, "teams", &vendor(TEAMS_D30));
    assert!(out.contains("facts added         6") && out.contains("facts already known 0"), "{out}");
    assert_eq!(export_as_of(&t.url, "2024-05-20"), expected, "D7 then D30");
    t.finish().await;

    let t = TestDb::new().await;
    import(&t.url, "teams", &vendor(TEAMS_D30));
    let out = import(&t.url, "auto", &vendor(TEAMS_D7));
    assert!(out.contains("facts added         6") && !out.contains("facts replaced"), "{out}");
    let both = export_as_of(&t.url, "2024-05-20");
    assert_eq!(both, expected, "D30 then D7");
    // A 7-day window takes the 7-day report.
    let (code, week, err) = cli(&t.url, &["metrics", "export", "--as-of", "2024-05-20", "--window", "7"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cell(&week, "alex.wu@contoso.com", "messages_sent"), cell(&d7, "alex.wu@contoso.com", "messages_sent"));
    t.finish().await;
}

#[tokio::test]
async fn a_corrected_re_download_replaces_the_old_facts_and_says_how_many() {
    let t = TestDb::new().await;
    let original = std::fs::read_to_string(fixture("vendor").join(TEAMS_D30)).unwrap();
    import(&t.url, "teams", &vendor(TEAMS_D30));
    let before = export_as_of(&t.url, "2024-05-20");
    assert_eq!(cell(&before, "sam.okafor@contoso.com", "tier"), "dormant");

    // Microsoft re-published the same report: two people's counts changed.
    let corrected = teams_with(
        &original,
        &[("alex.wu@contoso.com", "Private Chat Message Count", "90"), ("sam.okafor@contoso.com", "Call Count", "2")],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(TEAMS_D30);
    std::fs::write(&path, &corrected).unwrap();
    let out = import(&t.url, "teams", &path.display().to_string());
    assert!(out.contains("facts replaced      2"), "{out}");
    assert!(out.contains("facts added         0") && out.contains("facts already known 4"), "{out}");
    let after = export_as_of(&t.url, "2024-05-20");
    let messages = |e: &str| cell(e, "alex.wu@contoso.com", "messages_sent").parse::<u32>().unwrap();
    assert_eq!(messages(&after), messages(&before) + 3, "the numbers follow the correction");
    assert_ne!(cell(&after, "sam.okafor@contoso.com", "tier"), "dormant", "two calls: no longer dormant");
    let history = undercurrent::storage::imports::recent(&t.db, 1).await.unwrap();
    assert_eq!(history[0].summary.details.facts_replaced, 2);
    assert_eq!((history[0].summary.events_added, history[0].summary.duplicates_skipped), (0, 4));

    // The corrected file alone gives the same numbers: nothing of the old
    // values is left.
    let fresh = TestDb::new().await;
    import(&fresh.url, "teams", &path.display().to_string());
    assert_eq!(export_as_of(&fresh.url, "2024-05-20"), after);
    fresh.finish().await;
    t.finish().await;
}

#[tokio::test]
async fn the_same_teams_file_twice_changes_no_number_and_replaces_nothing() {
    let t = TestDb::new().await;
    let out = import(&t.url, "teams", &vendor(TEAMS_D30));
    assert!(out.contains("facts added         6"), "{out}");
    let first = export_as_of(&t.url, "2024-05-20");
    let out = import(&t.url, "teams", &vendor(TEAMS_D30));
    assert!(out.contains("facts added         0") && out.contains("facts already known 6"), "{out}");
    assert!(!out.contains("facts replaced"), "{out}");
    assert_eq!(export_as_of(&t.url, "2024-05-20"), first);
    let history = undercurrent::storage::imports::recent(&t.db, 1).await.unwrap();
    assert_eq!(history[0].summary.details.facts_replaced, 0);
    t.finish().await;
}

#[tokio::test]
async fn two_report_kinds_of_one_source_do_not_overwrite_each_other() {
    use undercurrent::domain::facts::{Counts, FactSource, PeriodFact};
    use undercurrent::storage::{Db, facts};
    let t = TestDb::new().await;
    import(&t.url, "teams", &vendor(TEAMS_D30));
    let before = export_as_of(&t.url, "2024-05-20");
    let sql = "SELECT id FROM people WHERE user_id = 'alex.wu@contoso.com'";
    let alex: i64 = match &t.db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    };
    // Another Teams report kind (no importer reads one yet) for the same
    // person, period and refresh date.
    let day = |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let other = PeriodFact {
        user_id: "alex.wu@contoso.com".into(),
        start: day("2024-04-21"),
        end: day("2024-05-20"),
        counts: Counts { messages: Some(0), ..Counts::default() },
        ..PeriodFact::default()
    };
    let store = |report: &'static str| {
        let (db, other) = (&t.db, other.clone());
        async move {
            let mut tx = db.begin().await.unwrap();
            let done = facts::upsert(&mut tx, 0, FactSource::Teams, report, &[(alex, other)]).await.unwrap();
            tx.commit().await.unwrap();
            done
        }
    };
    assert_eq!(store("teams_other_report").await.added, 1, "a fact of its own, not a replacement");
    assert_eq!(store("teams_other_report").await.unchanged, 1);
    let stored = facts::ending_between(
        &t.db,
        day("2024-05-20"),
        day("2024-05-20"),
        &std::collections::HashMap::from([(alex, 0u32)]),
    )
    .await
    .unwrap();
    let mut reports: Vec<(&str, Option<u32>)> = stored.iter().map(|f| (f.report.as_str(), f.counts.messages)).collect();
    reports.sort();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0], ("teams_other_report", Some(0)));
    assert_eq!(reports[1].0, "teams_user_activity");
    assert!(reports[1].1 > Some(0), "the user activity facts are intact: {reports:?}");
    // Importing the user activity report again finds its own facts unchanged.
    let out = import(&t.url, "teams", &vendor(TEAMS_D30));
    assert!(out.contains("facts already known 6") && !out.contains("facts replaced"), "{out}");
    // (Between two reports of one tool with the same period the window takes
    // one, by report name: here the user activity report.)
    assert_eq!(export_as_of(&t.url, "2024-05-20"), before, "the other report did not overwrite the numbers");
    t.finish().await;
}

#[tokio::test]
async fn facts_stored_before_the_report_key_keep_their_values_and_are_found_by_a_new_import() {
    use undercurrent::storage::Db;
    const KEYED_BY_REPORT: i64 = 20261204000002;
    let (url, server, _dir) = crate::common::unmigrated_database("facts_upgrade").await;
    let old = Db::connect_without_migrating(&url).await.unwrap();
    let migrator = crate::common::migrations_before(server.is_some(), KEYED_BY_REPORT).await;
    // Facts as the previous schema stored them: Alex's Teams 30-day fact
    // with out-of-date figures, and a Slack API day.
    let setup = [
        "INSERT INTO people (user_id, created_at) VALUES ('alex.wu@contoso.com', 0)",
        "INSERT INTO person_facts (person_id, source, period_start, period_end, messages, calls, passive, import_id) \
         SELECT id, 'teams', '2024-04-21', '2024-05-20', 1, 0, 0, 1 FROM people",
        "INSERT INTO person_facts (person_id, source, period_start, period_end, messages, passive, import_id) \
         SELECT id, 'slack_api', '2024-05-19', '2024-05-19', 4, 0, 1 FROM people",
    ];
    match &old {
        Db::Sqlite(p) => {
            migrator.run(p).await.unwrap();
            for sql in setup {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
        Db::Postgres(p) => {
            migrator.run(p).await.unwrap();
            for sql in setup {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
    }
    old.close().await;

    let db = Db::connect(&url).await.expect("migrating");
    let day = |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let sql = "SELECT id FROM people";
    let alex: i64 = match &db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    };
    let index = std::collections::HashMap::from([(alex, 0u32)]);
    let mut stored =
        undercurrent::storage::facts::ending_between(&db, day("2024-05-01"), day("2024-05-31"), &index).await.unwrap();
    stored.sort_by_key(|f| f.end);
    let seen: Vec<(&str, String, String, Option<u32>)> = stored
        .iter()
        .map(|f| (f.report.as_str(), f.start.to_string(), f.refreshed.to_string(), f.counts.messages))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("slack_member_analytics", "2024-05-19".to_string(), "2024-05-19".to_string(), Some(4)),
            ("teams_user_activity", "2024-04-21".to_string(), "2024-05-20".to_string(), Some(1)),
        ]
    );
    db.close().await;
    // The report as downloaded now: Alex's old fact is the same report,
    // period and refresh date, so it is replaced, not doubled.
    let out = import(&url, "teams", &vendor(TEAMS_D30));
    assert!(out.contains("facts replaced      1") && out.contains("facts added         5"), "{out}");
    if let Some((server, name)) = server {
        let admin = sqlx::PgPool::connect(&server).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&admin)
            .await;
        admin.close().await;
    }
}

// ---------------------------------------------------------------------------
// Issue 12: each report read as its vendor defines it (see
// tests/fixtures/vendor/README.md for the documentation each fixture follows).

const TEAMS_JSON_D30: &str = "TeamsUserActivityUserDetail_D30_2024-05-20.csv";
const EMAIL: &str = "EmailActivityUserDetail_D30_2024-05-20.csv";
const DEVICES: &str = "TeamsDeviceUsageUserDetail_D30_2024-05-20.csv";

/// `metrics export` as (user_id -> column -> value).
fn export_by_person(url: &str, as_of: &str) -> (String, std::collections::BTreeMap<String, Vec<(String, String)>>) {
    let export = export_as_of(url, as_of);
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
    let (code, out, err) = cli(&t.url, &["import", "teams", &vendor(TEAMS_JSON_D30)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("facts added         5"), "{out}");
    let (_, people) = export_by_person(&t.url, "2024-05-20");
    // Team chat already includes posts and replies: 12 + 87, and 5 (= 2 + 3).
    assert_eq!(value(&people, "alex.wu@contoso.com", "messages_sent"), "99");
    assert_eq!(value(&people, "chris.lee@contoso.com", "messages_sent"), "5");
    // Last Activity Date inside the period and nothing counted: present, silent.
    assert_eq!(value(&people, "dana.ng@contoso.com", "tier"), "silent");
    // An hour of calls: not dormant, and the voice family.
    // A Teams period report has no day counts: depth is not measurable.
    assert_eq!(value(&people, "evan.ross@contoso.com", "tier"), "unmeasured");
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
    assert_eq!(cli(&t.url, &["import", "teams", &vendor(TEAMS_JSON_D30)]).0, 0);
    let (before, people) = export_by_person(&t.url, "2024-05-20");
    assert_eq!(value(&people, "alex.wu@contoso.com", "messages_sent"), "99");
    assert_eq!(value(&people, "alex.wu@contoso.com", "tier"), "unmeasured");
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
    assert_eq!(cli(&csv.url, &["import", "teams", &vendor(TEAMS_JSON_D30)]).0, 0);
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
    // Rolling 28-day totals have no day counts: depth is not measurable.
    assert_eq!(value(&people, "ana.lima@example.org", "tier"), "unmeasured");
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

/// Excel's "CSV (Trennzeichen-getrennt)" (CSV, comma delimited) under German
/// settings: the list separator `;`, `16.02.2021`, and the text in the ANSI
/// code page, Windows-1252, without a BOM. Read as the "CSV UTF-8" save of
/// the same sheet, the names with their umlauts.
#[tokio::test]
async fn a_slack_export_saved_by_excel_in_windows_1252_reads_as_the_utf8_save() {
    let (_, utf8) = export_after(&["import", "auto", &vendor(&format!("excel-de-DE/{SLACK}"))], "2026-04-17").await;
    let t = TestDb::new().await;
    let ansi = vendor(&format!("excel-de-DE-ansi/{SLACK}"));
    assert!(std::fs::read(&ansi).unwrap().contains(&0xfc), "a ü in Windows-1252");
    let (code, out, err) = cli(&t.url, &["import", "auto", &ansi]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("encoding            windows-1252"), "{out}");
    let (_, export, _) = cli(&t.url, &["metrics", "export", "--as-of", "2026-04-17"]);
    assert_eq!(export, utf8, "the same facts as the UTF-8 save");
    t.finish().await;
    // The names come out as written: decoded from Windows-1252, not mangled.
    use undercurrent::ingest::vendor::{VendorOptions, VendorReader};
    let input = undercurrent::ingest::source::open(SLACK, std::fs::File::open(&ansi).unwrap()).unwrap();
    let names: Vec<String> = VendorReader::new(input, None, &VendorOptions::default())
        .unwrap()
        .map(|fact| fact.unwrap().display_name.unwrap_or_default())
        .collect();
    assert!(names.contains(&"Rosa Müller".to_string()), "{names:?}");
}

/// A daily report (`getTeamsUserActivityUserDetail(date=2024-05-17)`)
/// downloaded after the data were refreshed to 2024-05-20: every row says
/// `Report Refresh Date` 2024-05-20, `Report Period` 1, and its counts are
/// for the 17th, the day requested. The day counted is the 17th (from the
/// file name or the period given), never the refresh date.
#[tokio::test]
async fn a_teams_daily_report_counts_for_the_day_requested_not_its_refresh_date() {
    let t = TestDb::new().await;
    let day17 = vendor("TeamsUserActivityUserDetail_2024-05-17.csv");
    let text = std::fs::read_to_string(&day17).unwrap();
    assert!(text.lines().skip(1).all(|l| l.starts_with("2024-05-20,") && l.ends_with(",1")), "{text}");
    let files = [day17.clone(), vendor("TeamsUserActivityUserDetail_2024-05-18.csv")];
    let (code, _, err) = cli(&t.url, &["import", "auto", &files[0], &files[1]]);
    assert_eq!(code, 0, "{err}");
    let (_, people) = export_by_person(&t.url, "2024-05-18");
    // Alex: the 17th and the 18th; Dana: the 18th only (nothing on the 17th).
    assert_eq!(value(&people, "alex.wu@contoso.com", "active_days"), "2");
    assert_eq!(value(&people, "dana.ng@contoso.com", "active_days"), "1");
    assert_eq!(value(&people, "fay.sun@contoso.com", "active_days"), "0");
    t.finish().await;

    // The same file under a name without the day: refused, saying why,
    // unless the day is given.
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let unnamed = dir.path().join("teams daily.csv");
    std::fs::write(&unnamed, &text).unwrap();
    let unnamed = unnamed.display().to_string();
    let (code, _, err) = cli(&t.url, &["import", "teams", &unnamed]);
    assert_eq!(code, 1);
    assert!(
        err.contains("teams daily.csv:2: column `Report Period`: 1 day: a daily report")
            && err.contains("Report Refresh Date (2024-05-20) is when Microsoft last refreshed the data"),
        "{err}"
    );
    assert_eq!(undercurrent::storage::dataset::totals(&t.db).await.unwrap().people, 0, "nothing stored");
    let (code, _, err) = cli(&t.url, &["import", "teams", "--period", "2024-05-17..2024-05-17", &unnamed]);
    assert_eq!(code, 0, "{err}");
    let (_, people) = export_by_person(&t.url, "2024-05-17");
    assert_eq!(value(&people, "alex.wu@contoso.com", "active_days"), "1");
    // A day after the refresh date cannot have data yet.
    let late = dir.path().join("TeamsUserActivityUserDetail_2024-05-21.csv");
    std::fs::write(&late, &text).unwrap();
    let (code, _, err) = cli(&t.url, &["import", "auto", &late.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains(":2: column `Report Refresh Date`: the day this daily report is for (2024-05-21)"), "{err}");
    t.finish().await;
}
