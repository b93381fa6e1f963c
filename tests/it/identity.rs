//! One person across identifiers: a directory carrying `email` and
//! `aliases` ties a person's user id to the UPN, Slack ids or e-mail other
//! files key them by; every import (command line, browser upload, push
//! API) finds them by any of those, case-insensitively; people stored
//! separately before the directory said they are one are merged with their
//! history; two rows claiming one identifier stop the file.

use crate::common::web::*;
use crate::common::{TestDb, cli, fixture};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use undercurrent::domain::account::Role;
use undercurrent::storage::{Db, dataset};

const TEAMS_D30: &str = "TeamsUserActivityUserDetail_D30_2024-05-20.csv";
const SLACK_DASHBOARD: &str = "Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv";
const SLACK_API: &str = "slack_member_analytics_2026-04-15.ndjson";

fn vendor(f: &str) -> String {
    fixture("vendor").join(f).display().to_string()
}

/// Writes `text` to `name` in a fresh folder; returns (folder, path).
fn file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let p = path.display().to_string();
    (dir, p)
}

fn run(url: &str, args: &[&str]) -> String {
    let (code, out, err) = cli(url, args);
    assert_eq!(code, 0, "{args:?}: {err}\n{out}");
    out
}

/// `metrics export` as of a day: the header and rows.
fn export(url: &str, as_of: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let text = run(url, &["metrics", "export", "--as-of", as_of]);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    (header, r.records().map(Result::unwrap).collect())
}

/// A person's exported row by user id, as column -> value.
fn row_of(export: &(Vec<String>, Vec<csv::StringRecord>), user: &str) -> Option<Vec<(String, String)>> {
    let (header, rows) = export;
    rows.iter().find(|r| &r[0] == user).map(|r| header.iter().cloned().zip(r.iter().map(str::to_string)).collect())
}

fn value<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    &row.iter().find(|(c, _)| c == column).unwrap_or_else(|| panic!("no column {column}")).1
}

/// The metrics a platform export gives, as exported.
fn numbers(row: &[(String, String)]) -> Vec<String> {
    ["tier", "active_days", "messages_sent", "feature_breadth", "source"]
        .iter()
        .map(|c| value(row, c).to_string())
        .collect()
}

async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

const DIRECTORY: &str = "user_id,name,email,department\nEMP001,Alex Wu,alex.wu@contoso.com,Sales\n";

/// Alex's Teams numbers when Teams alone is imported.
async fn teams_alone() -> Vec<String> {
    let t = TestDb::new().await;
    run(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    let e = export(&t.url, "2024-05-20");
    let alex = row_of(&e, "alex.wu@contoso.com").expect("Alex by UPN");
    t.finish().await;
    numbers(&alex)
}

#[tokio::test]
async fn a_directory_keyed_by_employee_id_and_teams_keyed_by_upn_give_one_person() {
    let want = teams_alone().await;
    let t = TestDb::new().await;
    let (_d, dir) = file("people.csv", DIRECTORY);
    run(&t.url, &["import", "people", &dir]);
    let out = run(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    assert!(out.contains("matched by alias    1"), "{out}");
    assert!(out.contains("people created      4"), "the other five people of the report, less Alex: {out}");
    let e = export(&t.url, "2024-05-20");
    assert!(row_of(&e, "alex.wu@contoso.com").is_none(), "not a second Alex");
    let alex = row_of(&e, "emp001").expect("the directory's Alex");
    assert_eq!(value(&alex, "department"), "Sales");
    assert_eq!(numbers(&alex), want, "the Teams numbers on the directory's person");
    assert_ne!(value(&alex, "tier"), "dormant");
    assert_eq!(e.1.len(), 5, "five people in the report, Alex once");

    // Importing the report again changes no number.
    let again = run(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    assert!(again.contains("facts added         0") && again.contains("people created      0"), "{again}");
    assert_eq!(export(&t.url, "2024-05-20").1, e.1);
    t.finish().await;
}

fn part(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_string()).mime_str("application/octet-stream").unwrap()
}

/// The part of the page above the upload forms: this upload's results.
fn results(body: &str) -> &str {
    let end = body.find("class=\"grid import-forms\"").expect("the upload forms");
    &body[..end]
}

#[tokio::test]
async fn the_same_through_the_browser_and_the_person_page_says_known_as() {
    let want = teams_alone().await;
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let directory = "user_id,name,email,aliases,department\n\
                     EMP001,Alex Wu,Alex.Wu@Contoso.com,3F2504E0-4F89-11D3-9A0C-0305E82C3301; awu,Sales\n";
    let form = Form::new().part("file", part("people.csv", directory.as_bytes().to_vec()));
    let (status, body) = admin.post_multipart("/imports/people", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(results(&body).contains("People created</dt><dd>1</dd>"), "{}", results(&body));

    let bytes = std::fs::read(fixture("vendor").join(TEAMS_D30)).unwrap();
    let form = Form::new().text("period_from", "").text("period_to", "").part("files", part(TEAMS_D30, bytes));
    let (status, body) = admin.post_multipart("/imports/exports", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    assert!(top.contains("Matched by e-mail or alias</dt><dd>1</dd>"), "{top}");

    let e = export(&app.t.url, "2024-05-20");
    assert!(row_of(&e, "alex.wu@contoso.com").is_none());
    let alex = row_of(&e, "emp001").expect("one Alex");
    assert_eq!(value(&alex, "department"), "Sales");
    assert_eq!(numbers(&alex), want);

    let (status, page) = admin.get("/people/emp001?as_of=2024-05-20").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Known as"), "{page}");
    assert!(page.contains("3f2504e0-4f89-11d3-9a0c-0305e82c3301") && page.contains("awu"), "{page}");
    // The page by e-mail or alias is the person's page.
    let (status, _, location) = admin.get_full("/people/AWU?as_of=2024-05-20").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/people/emp001?as_of=2024-05-20"));
    let (status, _, location) = admin.get_full("/people/alex.wu@contoso.com").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/people/emp001"));
    assert_eq!(admin.get("/people/nobody@contoso.com").await.0, StatusCode::NOT_FOUND);
    app.finish().await;
}

#[tokio::test]
async fn slack_dashboard_and_api_files_of_one_workspace_give_one_person_each() {
    let t = TestDb::new().await;
    // The dashboard keys Kenji (no e-mail there) by User ID; the API file
    // keys everyone by e-mail.
    let (_d, dir) = file(
        "people.csv",
        "user_id,email,aliases,department\n\
         dana,dana.whitfield@acme.com,U01ABCDE123|W0AAA111,Design\n\
         kenji,kenji.sato@acme.com,U03NOMAIL01,Support\n\
         rosa,Rosa.Klein@acme.com,U02XYZ98765,Design\n",
    );
    run(&t.url, &["import", "people", &dir]);
    let out = run(&t.url, &["import", "slack", &vendor(SLACK_DASHBOARD)]);
    assert!(out.contains("matched by alias    3"), "{out}");
    let out = run(&t.url, &["import", "slack", &vendor(SLACK_API)]);
    assert!(out.contains("matched by alias    3"), "each person counted once: {out}");
    let e = export(&t.url, "2026-04-17");
    for alias in ["u03nomail01", "kenji.sato@acme.com", "dana.whitfield@acme.com", "rosa.klein@acme.com"] {
        assert!(row_of(&e, alias).is_none(), "{alias} is not a person of its own");
    }
    let kenji = row_of(&e, "kenji").expect("Kenji");
    assert_eq!(value(&kenji, "department"), "Support");
    let dana = row_of(&e, "dana").expect("Dana");
    assert_eq!(value(&dana, "department"), "Design");
    let users: Vec<&str> = e.1.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(users.len(), 5, "{users:?}");
    t.finish().await;
}

#[tokio::test]
async fn events_find_people_by_alias_whatever_the_case_and_spacing() {
    let t = TestDb::new().await;
    let (_d, dir) =
        file("people.csv", "user_id,email,aliases,department\nEMP001,ALEX.WU@contoso.com, Alex-W ; U01ABC ,Sales\n");
    run(&t.url, &["import", "people", &dir]);
    let (_e, events) = file(
        "e.csv",
        "user_id,timestamp,event,channel\n\
         Alex.Wu@Contoso.COM,2026-05-01T09:00:00Z,message_sent,c1\n\
         alex-w,2026-05-01T09:05:00Z,reaction,c1\n\
         u01abc ,2026-05-02T09:00:00Z,message_sent,c2\n\
         emp001,2026-05-03T09:00:00Z,login,\n",
    );
    let out = run(&t.url, &["import", "events", &events]);
    assert!(out.contains("people created      0"), "{out}");
    assert!(out.contains("matched by alias    3"), "{out}");
    let e = export(&t.url, "2026-05-03");
    assert_eq!(e.1.len(), 1, "one person");
    let alex = row_of(&e, "emp001").unwrap();
    assert_eq!(value(&alex, "active_days"), "3");
    assert_eq!(value(&alex, "messages_sent"), "2");
    t.finish().await;
}

#[tokio::test]
async fn teams_first_then_the_directory_merges_with_history_kept() {
    let t = TestDb::new().await;
    run(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    // Chat events keyed by another id of Alex's.
    let (_e, events) = file(
        "e.csv",
        "user_id,timestamp,event,channel\nawu,2024-05-19T09:00:00Z,message_sent,c1\nawu,2024-05-20T09:00:00Z,login,\n",
    );
    run(&t.url, &["import", "events", &events]);
    let before = export(&t.url, "2024-05-20");
    assert_eq!(before.1.len(), 6, "five from Teams and awu");
    let awu_before = row_of(&before, "awu").unwrap();
    let totals = dataset::totals(&t.db).await.unwrap();
    let facts = count(&t.db, "SELECT COUNT(*) FROM person_facts").await;
    // awu had opted out of research: that follows the merge.
    let opt_out = "INSERT INTO opt_outs (person_id, at) SELECT id, 0 FROM people WHERE user_id = 'awu'";
    match &t.db {
        Db::Sqlite(p) => sqlx::query(opt_out).execute(p).await.map(drop).unwrap(),
        Db::Postgres(p) => sqlx::query(opt_out).execute(p).await.map(drop).unwrap(),
    }

    let (_d, dir) =
        file("people.csv", "user_id,name,email,aliases,department\nEMP001,Alex Wu,alex.wu@contoso.com,awu,Sales\n");
    let out = run(&t.url, &["import", "people", &dir]);
    assert!(out.contains("people created      0"), "{out}");
    assert!(out.contains("people updated      1"), "{out}");
    assert!(out.contains("matched by alias    1"), "{out}");
    assert!(out.contains("people merged       1"), "{out}");

    let after = export(&t.url, "2024-05-20");
    assert_eq!(after.1.len(), 5, "Alex once");
    assert!(row_of(&after, "alex.wu@contoso.com").is_none() && row_of(&after, "awu").is_none());
    let alex = row_of(&after, "emp001").unwrap();
    assert_eq!(value(&alex, "department"), "Sales");
    // Events win over platform totals: the events are Alex's now.
    assert_eq!(value(&alex, "source"), "events");
    assert_eq!(value(&alex, "sessions"), value(&awu_before, "sessions"));
    assert_eq!(value(&alex, "messages_sent"), value(&awu_before, "messages_sent"));
    assert_eq!(dataset::totals(&t.db).await.unwrap().events, totals.events, "no event lost");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM person_facts").await, facts, "no fact lost");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM people").await, 5);
    let opted = "SELECT COUNT(*) FROM opt_outs o JOIN people p ON p.id = o.person_id WHERE p.user_id = 'emp001'";
    assert_eq!(count(&t.db, opted).await, 1, "the opt-out is the merged person's");

    // Again, and the other files again: no number changes.
    let again = run(&t.url, &["import", "people", &dir]);
    assert!(!again.contains("merged") && !again.contains("matched by alias"), "{again}");
    let teams = run(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    assert!(teams.contains("facts added         0") && teams.contains("people created      0"), "{teams}");
    let ev = run(&t.url, &["import", "events", &events]);
    assert!(ev.contains("events added        0") && ev.contains("people created      0"), "{ev}");
    assert_eq!(export(&t.url, "2024-05-20").1, after.1);
    t.finish().await;
}

#[tokio::test]
async fn two_people_with_different_figures_for_one_report_are_not_merged() {
    let t = TestDb::new().await;
    run(&t.url, &["import", "teams", &vendor(TEAMS_D30)]);
    // The same report, Alex under another UPN with other figures.
    let teams = std::fs::read_to_string(fixture("vendor").join(TEAMS_D30)).unwrap();
    let other = teams.replace(
        "alex.wu@contoso.com,2024-05-19,False,,MICROSOFT 365 E3,12",
        "awu@contoso.com,2024-05-19,False,,MICROSOFT 365 E3,13",
    );
    assert_ne!(other, teams);
    let (_o, path) = file(TEAMS_D30, &other);
    run(&t.url, &["import", "teams", &path]);
    let people = count(&t.db, "SELECT COUNT(*) FROM people").await;

    let (_d, dir) = file("people.csv", "user_id,email,aliases\nEMP001,alex.wu@contoso.com,awu@contoso.com\n");
    let (code, _, err) = cli(&t.url, &["import", "people", &dir]);
    assert_eq!(code, 1);
    assert!(err.contains("people.csv:2") && err.contains("emp001 and awu@contoso.com"), "{err}");
    assert!(err.contains("teams"), "names the figures in the way: {err}");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM people").await, people, "nothing imported");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM people WHERE user_id = 'emp001'").await, 0);
    t.finish().await;
}

#[tokio::test]
async fn a_directory_giving_one_identifier_to_two_people_is_refused_naming_both_lines() {
    let t = TestDb::new().await;
    let bad = "user_id,name,email,aliases,department\n\
               EMP001,Alex Wu,alex.wu@contoso.com,,Sales\n\
               EMP002,Chris Lee,chris.lee@contoso.com,,Sales\n\
               EMP003,Alex Wu (old),,ALEX.WU@contoso.com,Sales\n";
    let (_d, dir) = file("people.csv", bad);
    let (code, _, err) = cli(&t.url, &["import", "people", &dir]);
    assert_eq!(code, 1);
    assert!(
        err.contains("people.csv:4")
            && err.contains("alias alex.wu@contoso.com is already claimed by emp001 on line 2"),
        "{err}"
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM people").await, 0, "nothing imported");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM person_identifiers").await, 0);

    // A row's user id given as another row's alias, and an e-mail that is
    // not a bare address.
    let (_d2, dir) = file("people.csv", "user_id,aliases\nEMP001,emp009\nEMP009,\n");
    let (code, _, err) = cli(&t.url, &["import", "people", &dir]);
    assert_eq!(code, 1);
    assert!(
        err.contains("people.csv:3") && err.contains("user id emp009 is already claimed by emp001 on line 2"),
        "{err}"
    );
    let (_d3, dir) = file("people.csv", "user_id,email\nEMP001,Alex Wu <alex.wu@contoso.com>\n");
    let (code, _, err) = cli(&t.url, &["import", "people", &dir]);
    assert_eq!(code, 1);
    assert!(err.contains("people.csv:2") && err.contains("column `email`") && err.contains("bare"), "{err}");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM people").await, 0);

    // An e-mail another directory person already holds.
    let (_d4, dir) = file("people.csv", "user_id,email\nEMP001,alex.wu@contoso.com\n");
    run(&t.url, &["import", "people", &dir]);
    let (_d5, dir) = file("people.csv", "user_id,email\nEMP002,Alex.Wu@contoso.com\n");
    let (code, _, err) = cli(&t.url, &["import", "people", &dir]);
    assert_eq!(code, 1);
    assert!(err.contains("people.csv:2") && err.contains("already claimed by emp001 in the directory"), "{err}");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM people").await, 1);

    // The same through the browser.
    let app = TestApp::serve(t, |_| {});
    app.add_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let form = Form::new().part("file", part("people.csv", bad.as_bytes().to_vec()));
    let (status, body) = admin.post_multipart("/imports/people", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = results(&body);
    assert!(top.contains("already claimed by emp001 on line 2"), "{top}");
    assert_eq!(count(&app.t.db, "SELECT COUNT(*) FROM people").await, 1, "only the earlier directory's EMP001");
    app.finish().await;
}

#[tokio::test]
async fn pushed_events_keyed_by_an_alias_land_on_the_person() {
    use undercurrent::storage::api_tokens::Scope;
    use undercurrent::web::api::issue;
    let app = TestApp::spawn().await;
    let (_d, dir) = file("people.csv", "user_id,aliases,department\nEMP001,U01ABCDE123,Sales\n");
    run(&app.t.url, &["import", "people", &dir]);
    let token = issue(&app.t.db, "test", &[Scope::Ingest], None).await.unwrap().1;
    let body = "{\"event_id\":\"e1\",\"user_id\":\"U01ABCDE123\",\"timestamp\":\"2026-05-01T09:00:00Z\",\"event\":\"message_sent\",\"channel\":\"g-1\"}\n";
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/events", app.base))
        .header("content-type", "application/x-ndjson")
        .bearer_auth(&token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let e = export(&app.t.url, "2026-05-01");
    assert_eq!(e.1.len(), 1, "{:?}", e.1);
    let alex = row_of(&e, "emp001").unwrap();
    assert_eq!(value(&alex, "messages_sent"), "1");
    assert_eq!(value(&alex, "department"), "Sales");
    // The read API finds the person by the alias too.
    let read = issue(&app.t.db, "reader", &[Scope::Read], None).await.unwrap().1;
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/people/u01abcde123/metrics?as_of=2026-05-01", app.base))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let text = r.text().await.unwrap();
    assert!(text.contains("emp001"), "{text}");
    app.finish().await;
}

#[tokio::test]
async fn an_existing_database_is_migrated_and_its_two_alexes_merged_by_the_next_directory() {
    const IDENTIFIERS: i64 = 20261207000001;
    let (url, server, _dir) = crate::common::unmigrated_database("identity_upgrade").await;
    let old = Db::connect_without_migrating(&url).await.unwrap();
    let migrator = crate::common::migrations_before(server.is_some(), IDENTIFIERS).await;
    match &old {
        Db::Sqlite(p) => migrator.run(p).await.unwrap(),
        Db::Postgres(p) => migrator.run(p).await.unwrap(),
    }
    old.close().await;
    // The database as the previous release left it: the directory's Alex
    // (dormant, in Sales) and the Teams Alex, two people.
    let (_d, dir) = file("people.csv", DIRECTORY);
    let old = Db::connect_without_migrating(&url).await.unwrap();
    let setup = [
        "INSERT INTO people (user_id, email, department, in_directory, created_at) \
         VALUES ('emp001', 'Alex.Wu@contoso.com', 'Sales', 1, 0)",
        "INSERT INTO people (user_id, created_at) VALUES ('alex.wu@contoso.com', 0)",
        "INSERT INTO person_facts (person_id, source, report, period_start, period_end, refreshed, messages, \
         passive, import_id) SELECT id, 'teams', 'teams_user_activity', '2024-04-21', '2024-05-20', '2024-05-20', \
         7, 0, 1 FROM people WHERE user_id = 'alex.wu@contoso.com'",
    ];
    for sql in setup {
        match &old {
            Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
            Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
        }
    }
    old.close().await;

    let db = Db::connect(&url).await.expect("migrating");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM people").await, 2, "nobody lost");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM person_identifiers WHERE kind = 'user_id'").await, 2);
    db.close().await;
    let before = export(&url, "2024-05-20");
    assert_eq!(before.1.len(), 2, "two Alexes before");

    // The next directory import makes them one, keeping the Teams figures.
    let out = run(&url, &["import", "people", &dir]);
    assert!(out.contains("people merged       1"), "{out}");
    let after = export(&url, "2024-05-20");
    assert_eq!(after.1.len(), 1, "{:?}", after.1);
    let alex = row_of(&after, "emp001").unwrap();
    assert_eq!(value(&alex, "department"), "Sales");
    assert_eq!(value(&alex, "messages_sent"), "7");
    assert_eq!(value(&alex, "source"), "teams");

    if let Some((server, name)) = server {
        let admin = sqlx::PgPool::connect(&server).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&admin)
            .await;
        admin.close().await;
    }
}

#[tokio::test]
async fn a_directory_through_a_column_mapping_carries_aliases_too() {
    use undercurrent::app::import::import_mapped;
    use undercurrent::domain::mapping::{Field, Mapping, Target};
    let t = TestDb::new().await;
    let (_d, path) =
        file("通讯录.csv", "工号,姓名,邮箱,别名,部门\nEMP001,吴亚历,alex.wu@contoso.com,U01ABCDE123；awu,销售\n");
    let mut m = Mapping::new(Target::People);
    for (f, c) in [
        (Field::UserId, "工号"),
        (Field::Name, "姓名"),
        (Field::Email, "邮箱"),
        (Field::Aliases, "别名"),
        (Field::Department, "部门"),
    ] {
        m.columns.insert(f, c.to_string());
    }
    let input = undercurrent::ingest::source::open("通讯录.csv", std::fs::File::open(&path).unwrap()).unwrap();
    import_mapped(&t.db, chrono_tz::UTC, input, &m).await.unwrap();
    let (_e, events) = file(
        "e.csv",
        "user_id,timestamp,event\nu01abcde123,2026-05-01T09:00:00Z,message_sent\nAWU,2026-05-01T09:30:00Z,reaction\nALEX.WU@contoso.com,2026-05-01T10:00:00Z,message_sent\n",
    );
    let out = run(&t.url, &["import", "events", &events]);
    assert!(out.contains("people created      0") && out.contains("matched by alias    3"), "{out}");
    let e = export(&t.url, "2026-05-01");
    assert_eq!(e.1.len(), 1);
    assert_eq!(value(&row_of(&e, "emp001").unwrap(), "department"), "销售");
    t.finish().await;
}
