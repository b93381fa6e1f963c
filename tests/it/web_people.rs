//! The People area: the list (filters, sort, pages), its CSV download and
//! the person page, over the activity-small fixture and generated
//! directories.

use std::collections::HashMap;

use crate::common::fixture;
use crate::common::web::*;
use reqwest::StatusCode;
use undercurrent::domain::account::Role;
use undercurrent::storage::audit;

const AS_OF: &str = "as_of=2026-05-29&window=28";

async fn import_people(app: &TestApp, name: &str, bytes: Vec<u8>) {
    let input = undercurrent::ingest::source::open(name, std::io::Cursor::new(bytes)).unwrap();
    undercurrent::app::import::import_people(&app.t.db, input).await.unwrap();
}

async fn import_events(app: &TestApp, name: &str, bytes: Vec<u8>) {
    let tz = undercurrent::app::settings::load(&app.t.db).await.unwrap().timezone;
    let input = undercurrent::ingest::source::open(name, std::io::Cursor::new(bytes)).unwrap();
    undercurrent::app::import::import_events(&app.t.db, tz, input).await.unwrap();
}

/// GET with the body's character references in their named form (askama
/// writes `&#60;` for `<`), so that assertions read naturally.
async fn get(c: &mut Client, path: &str) -> (StatusCode, String) {
    let (status, body) = c.get(path).await;
    let body = body
        .replace("&#38;", "&amp;")
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#34;", "&quot;")
        .replace("&#39;", "&apos;");
    (status, body)
}

/// The activity-small fixture, imported as its README says.
async fn load_fixture(app: &TestApp) {
    undercurrent::app::settings::set(&app.t.db, "timezone", "Asia/Shanghai").await.unwrap();
    let dir = fixture("activity-small");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    import_people(app, "people.csv", read("people.csv")).await;
    import_events(app, "events_a.csv", read("events_a.csv")).await;
    import_events(app, "events_b.ndjson", read("events_b.ndjson")).await;
}

fn records(path: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(fixture("activity-small").join(path)).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect()
}

/// The fixture's expected export rows.
fn expected() -> Vec<HashMap<String, String>> {
    records("expected.csv")
}

/// The body of the people table, or "" when there is none.
fn people_tbody(body: &str) -> &str {
    let Some(table) = body.find(r#"<table id="people""#) else { return "" };
    let rest = &body[table..];
    let start = rest.find("<tbody>").unwrap();
    let end = rest.find("</tbody>").unwrap();
    &rest[start..end]
}

fn row_count(body: &str) -> usize {
    people_tbody(body).matches("<tr>").count()
}

/// The user ids of the listed rows, in order.
fn listed_ids(body: &str) -> Vec<String> {
    people_tbody(body)
        .split(r#"<th scope="row"><a href=""#)
        .skip(1)
        .map(|chunk| {
            let text = &chunk[chunk.find("\">").unwrap() + 2..];
            text[..text.find("</a>").unwrap()].to_string()
        })
        .collect()
}

/// The tiers of the listed rows, in order.
fn listed_tiers(body: &str) -> Vec<String> {
    people_tbody(body)
        .split(r#"class="tier-badge tier-"#)
        .skip(1)
        .map(|chunk| chunk[..chunk.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn managers_are_refused_and_visitors_sent_to_sign_in() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut manager = app.signed_in(Role::Manager).await;
    let mut visitor = app.client();
    for path in ["/people", "/people.csv", "/people/u0000%40corp.example"] {
        let (status, _) = manager.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "manager on {path}");
        let (status, _, location) = visitor.get_full(path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "visitor on {path}");
        assert!(location.unwrap_or_default().starts_with("/login"), "visitor on {path}");
    }
    // The roles that may see people.
    for role in [Role::Admin, Role::Researcher, Role::Analyst] {
        let mut c = app.signed_in(role).await;
        let (status, body) = get(&mut c, "/people").await;
        assert_eq!(status, StatusCode::OK, "{role}");
        assert!(body.contains(r#"href="/people" aria-current="page""#), "the navigation marks People");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_list_filters_by_tier_department_search_and_attribute() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut c = app.signed_in(Role::Analyst).await;
    let want = expected();

    // Default: every listed person, by user id, 50 a page.
    let (status, body) = get(&mut c, &format!("/people?{AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("of {} people", want.len())), "the total is shown");
    let ids: Vec<String> = want.iter().take(50).map(|r| r["user_id"].clone()).collect();
    assert_eq!(listed_ids(&body), ids);
    assert!(!body.contains("future@corp.example"), "people onboarded after the as-of date are not listed");

    // By tier.
    for tier in ["deep", "silent", "new"] {
        let (status, body) = get(&mut c, &format!("/people?{AS_OF}&tier={tier}")).await;
        assert_eq!(status, StatusCode::OK);
        let n = want.iter().filter(|r| r["tier"] == tier).count();
        let tiers = listed_tiers(&body);
        assert_eq!(tiers.len(), n.min(50), "{tier}");
        assert!(tiers.iter().all(|t| t == tier), "{tier}: {tiers:?}");
    }

    // By department: the select offers every department, the filter keeps its people.
    let directory = records("people.csv");
    let department_of: HashMap<&str, &str> =
        directory.iter().map(|r| (r["user_id"].as_str(), r["department"].as_str())).collect();
    assert!(body.contains(r#"<option value="Legal">Legal</option>"#));
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&department=Legal")).await;
    let legal: Vec<String> = want
        .iter()
        .filter(|r| department_of.get(r["user_id"].as_str()) == Some(&"Legal"))
        .map(|r| r["user_id"].clone())
        .collect();
    assert!(!legal.is_empty());
    assert_eq!(listed_ids(&body), legal);

    // Free text over user id, name and e-mail, any case.
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&q=PERSON%207")).await;
    let names: HashMap<&str, &str> = directory.iter().map(|r| (r["user_id"].as_str(), r["name"].as_str())).collect();
    let sevens: Vec<String> = want
        .iter()
        .filter(|r| names.get(r["user_id"].as_str()).is_some_and(|n| n.to_lowercase().contains("person 7")))
        .map(|r| r["user_id"].clone())
        .collect();
    assert!(sevens.len() > 1);
    assert_eq!(listed_ids(&body), sevens);
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&q=guest")).await;
    assert_eq!(listed_ids(&body).len(), 3, "people seen only in events are found by user id");

    // Any directory attribute, exact value in any case: the fixture's extra `cost_center` column.
    assert!(body.contains(r#"<option value="cost_center">cost_center</option>"#), "attributes are offered");
    assert!(body.contains(r#"<option value="title">"#) && body.contains(r#"<option value="location">"#));
    let (status, body) = get(&mut c, &format!("/people?{AS_OF}&attr=cost_center&value=cc1")).await;
    assert_eq!(status, StatusCode::OK);
    let cost_center: HashMap<&str, &str> =
        directory.iter().map(|r| (r["user_id"].as_str(), r["cost_center"].as_str())).collect();
    let cc1: Vec<String> = want
        .iter()
        .filter(|r| cost_center.get(r["user_id"].as_str()) == Some(&"CC1"))
        .map(|r| r["user_id"].clone())
        .collect();
    assert!(cc1.len() > 5);
    assert_eq!(listed_ids(&body), cc1);
    // The known column `title` is an attribute too; combined with a tier.
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&attr=title&value=staff&tier=dormant")).await;
    let dormant_staff =
        want.iter().filter(|r| r["tier"] == "dormant" && department_of.contains_key(r["user_id"].as_str())).count();
    assert_eq!(row_count(&body), dormant_staff);

    // Nothing matches: an empty state, not an empty table.
    let (status, body) = get(&mut c, &format!("/people?{AS_OF}&q=nobody-has-this")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row_count(&body), 0);
    assert!(body.contains("No people match these filters."));
    assert!(body.contains("Clear filters"));

    // Bad dates are refused, empty form fields are ignored.
    let (status, _) = get(&mut c, "/people?as_of=not-a-date").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&mut c, "/people?as_of=&window=&tier=&q=&page=").await;
    assert_eq!(status, StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn the_list_sorts_by_any_column_and_keeps_the_filters_in_links() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut c = app.signed_in(Role::Researcher).await;
    let want = expected();

    let (status, body) = get(&mut c, &format!("/people?{AS_OF}&sort=messages_sent&dir=desc")).await;
    assert_eq!(status, StatusCode::OK);
    let mut by_messages: Vec<(i64, String)> =
        want.iter().map(|r| (-r["messages_sent"].parse::<i64>().unwrap(), r["user_id"].clone())).collect();
    by_messages.sort();
    let ids: Vec<String> = by_messages.iter().take(50).map(|(_, id)| id.clone()).collect();
    assert_eq!(listed_ids(&body), ids, "largest first, ties by user id");
    assert!(body.contains(r#"aria-sort="descending""#));

    // Ascending; people without a value (no reply) come last either way.
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&sort=median_reply_minutes&page=3")).await;
    let ids = listed_ids(&body);
    let last = want.iter().find(|r| r["user_id"] == *ids.last().unwrap()).unwrap();
    assert_eq!(last["median_reply_minutes"], "", "empty values last");
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&sort=median_reply_minutes&dir=desc")).await;
    let first = want.iter().find(|r| r["user_id"] == listed_ids(&body)[0]).unwrap();
    let max = want.iter().filter_map(|r| r["median_reply_minutes"].parse::<f64>().ok()).fold(0.0, f64::max);
    assert_eq!(first["median_reply_minutes"].parse::<f64>().unwrap(), max);

    // Every column heading is a sort link that keeps the filters.
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&tier=shallow&q=corp")).await;
    for column in [
        "name",
        "department",
        "tier",
        "active_days",
        "interactive_days",
        "sessions",
        "login_depth",
        "messages_sent",
        "feature_breadth",
        "median_reply_minutes",
    ] {
        assert!(body.contains(&format!("tier=shallow&amp;sort={column}")), "{column}");
    }
    assert!(body.contains("q=corp&amp;tier=shallow"));
    let (_, body) = get(&mut c, &format!("/people?{AS_OF}&tier=shallow&sort=tier&dir=desc")).await;
    assert!(listed_tiers(&body).iter().all(|t| t == "shallow"));
    app.finish().await;
}

/// A directory of `n` people (`p000`...), without events.
fn directory_csv(n: usize) -> Vec<u8> {
    let mut out = String::from("user_id,name,email,department,title,location,start_date,badge\n");
    for i in 0..n {
        let dept = ["Sales", "Support", "Engineering"][i % 3];
        out.push_str(&format!("p{i:03},Person {i},p{i:03}@corp.example,{dept},Agent,Lyon,2026-01-01,B{}\n", i % 7));
    }
    out.into_bytes()
}

#[tokio::test]
async fn the_list_has_pages_of_fifty() {
    let app = TestApp::with_accounts().await;
    import_people(&app, "people.csv", directory_csv(120)).await;
    let mut c = app.signed_in(Role::Analyst).await;

    let (status, body) = get(&mut c, "/people").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row_count(&body), 50);
    assert!(body.contains("Showing 1–50 of 120 people"), "{body}");
    assert!(body.contains(r#"href="/people?page=2""#) && body.contains(r#"href="/people?page=3""#));
    assert!(body.contains(r#"rel="next""#) && !body.contains(r#"rel="prev""#));

    let (_, body) = get(&mut c, "/people?page=3").await;
    assert_eq!(row_count(&body), 20);
    assert!(body.contains("Showing 101–120 of 120 people"));
    assert_eq!(listed_ids(&body).first().map(String::as_str), Some("p100"));
    assert!(body.contains(r#"aria-current="page" aria-label="Page 3""#));
    assert!(!body.contains(r#"rel="next""#));

    // Past the end: the last page.
    let (_, body) = get(&mut c, "/people?page=99").await;
    assert_eq!(row_count(&body), 20);

    // Pages keep filter and sort; a filter narrows the count.
    let (_, body) = get(&mut c, "/people?department=Sales&sort=name&dir=desc").await;
    assert!(body.contains("Showing 1–40 of 40 people"));
    assert_eq!(listed_ids(&body).first().map(String::as_str), Some("p099"), "names sort as text, z first");
    let (_, body) = get(&mut c, "/people?attr=badge&value=b3").await;
    assert_eq!(row_count(&body), (0..120).filter(|i| i % 7 == 3).count());
    app.finish().await;
}

#[tokio::test]
async fn the_csv_has_the_filtered_rows_and_is_audited() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut c = app.signed_in(Role::Analyst).await;
    let want = expected();

    let r =
        c.http.get(format!("{}/people.csv?{AS_OF}&tier=silent&sort=sessions&dir=desc", c.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert_eq!(disposition, r#"attachment; filename="people-2026-05-29.csv""#);
    assert!(r.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let mut columns: Vec<&str> = undercurrent::app::export::LEADING_COLUMNS.to_vec();
    columns.extend(["department", "name", "email", "title", "location"]);
    assert_eq!(header, columns);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let silent: Vec<&HashMap<String, String>> = want.iter().filter(|r| r["tier"] == "silent").collect();
    assert_eq!(rows.len(), silent.len());
    // The export's values, in the list's order.
    for row in &rows {
        let w = want.iter().find(|r| r["user_id"] == row[0]).unwrap();
        for (i, column) in undercurrent::app::export::LEADING_COLUMNS.iter().enumerate() {
            assert_eq!(&row[i], w[*column].as_str(), "{} {column}", &row[0]);
        }
    }
    let sessions: Vec<u32> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
    assert!(sessions.windows(2).all(|w| w[0] >= w[1]), "sorted by sessions, largest first");
    let person_0007 = rows.iter().find(|r| &r[0] == "u0007@corp.example").unwrap();
    assert_eq!((&person_0007[11], &person_0007[13]), ("Person 7", "Staff"));

    let entries = audit::recent(&app.t.db, 10, 0).await.unwrap();
    let export = entries.iter().find(|e| e.action == "people.export").expect("the download is audited");
    let detail = audit::parse_detail(export.detail.as_deref().unwrap()).expect("a detail in words");
    assert_eq!(detail, ("audit.detail.rows".to_string(), vec![("n".to_string(), silent.len().to_string())]));
    assert_eq!(export.account_email.as_deref(), Some("analyst@test.example"));
    assert_eq!(export.target, None);

    // Without filters: every listed person, no pages, by user id like the export.
    let (status, text) = get(&mut c, &format!("/people.csv?{AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<String> =
        csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(ids, want.iter().map(|r| r["user_id"].clone()).collect::<Vec<_>>());
    let entries = audit::recent(&app.t.db, 10, 0).await.unwrap();
    let detail = audit::parse_detail(entries[0].detail.as_deref().unwrap()).expect("a detail in words");
    assert_eq!(detail.1, vec![("n".to_string(), want.len().to_string())]);
    app.finish().await;
}

#[tokio::test]
async fn the_person_page_shows_sessions_and_why_the_tier() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut c = app.signed_in(Role::Researcher).await;

    // u0000 is deep with 100 sessions in the window (expected.csv).
    let (status, body) = get(&mut c, &format!("/people/u0000%40corp.example?{AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Person 0</h1>"));
    assert!(body.contains(r#"<span class="tier-badge tier-deep">Deep</span>"#));
    assert!(body.contains("8+ interactive days, 2+ feature families and at least half of sessions engaged"));
    assert!(body.contains("The 30 most recent of 100 sessions in the window"));
    assert!(body.contains("Times in Asia/Shanghai."));
    let sessions = &body[body.find(r#"<table id="sessions">"#).unwrap()..];
    let sessions = &sessions[..sessions.find("</table>").unwrap()];
    assert_eq!(sessions.matches("<tr>").count(), 31, "a heading and 30 sessions");
    assert!(sessions.contains("+08:00"), "start times in the organisation's zone");
    // Newest first.
    let starts: Vec<&str> = sessions.split(r#"<time datetime=""#).skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    assert!(starts.windows(2).all(|w| w[0] > w[1]), "{starts:?}");
    assert!(body.contains("cost_center") && body.contains("CC0"), "other attributes are listed");
    assert!(body.contains("5 of the 5 families used in the window."));
    assert_eq!(body.matches("<svg").count(), 2, "two weekly charts");
    assert!(body.contains("Interactive days per week") && body.contains("Sessions per week"));
    // The charts carry data tables over 12 weeks.
    assert!(body.matches("<summary>").count() >= 2);

    // Other tiers explain themselves in plain words.
    let (_, body) = get(&mut c, &format!("/people/u0007%40corp.example?{AS_OF}")).await;
    assert!(body.contains("no interactive event in the window"), "silent");
    let (_, body) = get(&mut c, &format!("/people/u0003%40corp.example?{AS_OF}")).await;
    assert!(body.contains("No event in the window."), "dormant");
    assert!(body.contains("No session in the window."));
    let (_, body) = get(&mut c, &format!("/people/u0001%40corp.example?{AS_OF}")).await;
    assert!(body.contains("short of deep") && body.contains("interactive days: 4 (deep needs 8)"), "shallow");
    assert!(body.contains("sessions engaged: 23.5% (deep needs at least half)"), "shallow");
    let (_, body) = get(&mut c, &format!("/people/u0006%40corp.example?{AS_OF}")).await;
    assert!(body.contains("still in the grace period"), "new");

    // A person viewed is audited by id, never by name.
    let entries = audit::recent(&app.t.db, 20, 0).await.unwrap();
    let views: Vec<_> = entries.iter().filter(|e| e.action == "person.view").collect();
    assert_eq!(views.len(), 5);
    assert!(views.iter().all(|e| e.target.as_deref().is_some_and(|t| t.starts_with("person:"))));
    assert!(views.iter().all(|e| !format!("{e:?}").contains("Person ") && !format!("{e:?}").contains("@corp")));

    // Unknown, and known but not listed as of the date: not found.
    let (status, _) = get(&mut c, &format!("/people/nobody%40corp.example?{AS_OF}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&mut c, &format!("/people/future%40corp.example?{AS_OF}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // User ids compare in any case.
    let (status, _) = get(&mut c, &format!("/people/U0000%40CORP.EXAMPLE?{AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn directory_text_is_escaped_and_odd_ids_are_encoded() {
    let app = TestApp::with_accounts().await;
    let odd = "a/b c+d#e?f%g&h";
    let people = format!(
        "user_id,name,email,department,title,start_date\n\
         x1,<script>alert(1)</script>,x1@corp.example,\"<b>R&D</b>\",<i>t</i>,2026-01-01\n\
         \"{odd}\",Odd One,odd@corp.example,Sales,Staff,2026-01-01\n\
         x2,=1+2,x2@corp.example,Sales,Staff,2026-01-01\n"
    );
    import_people(&app, "people.csv", people.into_bytes()).await;
    let mut c = app.signed_in(Role::Admin).await;

    let (status, body) = get(&mut c, "/people").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("<script>alert(1)"));
    assert!(!body.contains("<b>R&D</b>") && body.contains("&lt;b&gt;R&amp;D&lt;/b&gt;"));
    let href = "/people/a%2Fb%20c%2Bd%23e%3Ff%25g%26h";
    assert!(body.contains(&format!(r#"href="{href}""#)), "the id is percent-encoded in the link");

    let (status, body) = get(&mut c, "/people/x1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("<script>alert(1)") && !body.contains("<i>t</i>"));
    let (status, body) = c.get(href).await;
    assert_eq!(status, StatusCode::OK, "the encoded link leads to the person");
    assert!(body.contains("<h1>Odd One</h1>"));

    // A department filter value with reserved characters round-trips.
    let (_, body) = get(&mut c, "/people?department=%3Cb%3ER%26D%3C%2Fb%3E").await;
    assert_eq!(listed_ids(&body), vec!["x1".to_string()]);
    // Formula-like directory text is neutralised in the CSV.
    let (_, text) = get(&mut c, "/people.csv?q=x2").await;
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][11], "'=1+2");
    app.finish().await;
}

#[tokio::test]
async fn the_pages_speak_chinese() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut c = app.signed_in(Role::Analyst).await;
    c.post("/language", &[("lang", "zh-CN"), ("back", "/people")]).await;
    let (status, body) = get(&mut c, &format!("/people?{AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>人员</h1>") && body.contains("全部分层"));
    assert!(body.contains("显示第 1–50 人，共 103 人"));
    let (_, body) = get(&mut c, &format!("/people/u0000%40corp.example?{AS_OF}")).await;
    assert!(body.contains("最近的会话"));
    app.finish().await;
}

/// 50,000 people: a page, a sorted and filtered page and a person stay quick
/// once the snapshot is computed. `cargo test --release --test web_people -- --ignored`
#[tokio::test]
#[ignore = "slow: imports 50,000 people"]
async fn fifty_thousand_people_stay_quick() {
    let app = TestApp::with_accounts().await;
    let n = 50_000;
    let mut people = String::from("user_id,name,email,department,title,location,start_date,cost_center\n");
    let mut events = String::from("user_id,timestamp,event,channel\n");
    for i in 0..n {
        people.push_str(&format!(
            "p{i:05},Person {i},p{i:05}@corp.example,D{},Agent,City {},2026-01-01,CC{}\n",
            i % 40,
            i % 9,
            i % 13
        ));
        for d in 0..(i % 5) {
            events.push_str(&format!("p{i:05},2026-05-{:02}T09:00:00Z,message_sent,c{}\n", 10 + d * 3, i % 100));
        }
    }
    import_people(&app, "people.csv", people.into_bytes()).await;
    import_events(&app, "events.csv", events.into_bytes()).await;
    let mut c = app.signed_in(Role::Analyst).await;
    let (status, _) = get(&mut c, "/people?as_of=2026-05-29").await; // computes the snapshot
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/people?as_of=2026-05-29",
        "/people?as_of=2026-05-29&sort=name&dir=desc&page=300",
        "/people?as_of=2026-05-29&q=person%2012&attr=cost_center&value=cc3&sort=messages_sent&dir=desc",
        "/people/p04242?as_of=2026-05-29",
    ] {
        let started = std::time::Instant::now();
        let (status, _) = get(&mut c, path).await;
        let took = started.elapsed();
        eprintln!("{path}: {took:?}");
        assert_eq!(status, StatusCode::OK);
        assert!(took < std::time::Duration::from_millis(1500), "{path} took {took:?}");
    }
    let started = std::time::Instant::now();
    let (status, text) = get(&mut c, "/people.csv?as_of=2026-05-29").await;
    eprintln!("csv: {:?}", started.elapsed());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text.lines().count(), n + 1);
    app.finish().await;
}

#[tokio::test]
async fn the_overview_and_adoption_lead_to_the_people_behind_each_tier_and_department() {
    let app = TestApp::with_accounts().await;
    load_fixture(&app).await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (status, page) = get(&mut analyst, &format!("/?{AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    // Each tier's bar opens the list filtered to it, keeping the date.
    for tier in ["deep", "shallow", "silent", "dormant"] {
        let href = format!("<a href=\"/people?tier={tier}&amp;as_of=2026-05-29&amp;window=28\">");
        assert!(page.contains(&href), "{tier}: {page}");
    }
    // Each department row too.
    let department = page
        .split("<a href=\"/people?department=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .expect("a department links to the people list")
        .to_string();
    let (_, list) = get(&mut analyst, &format!("/people?department={department}&{AS_OF}")).await;
    assert!(list.contains("<table id=\"people\""), "the filtered list has people: {list}");
    assert!(list.contains(" selected>"), "the department is chosen in the filter: {list}");
    let (_, list) = get(&mut analyst, &format!("/people?tier=silent&{AS_OF}")).await;
    assert!(list.contains("class=\"chip tier-silent\" href") && list.contains("aria-current=\"true\""), "{list}");
    // The adoption page's departments link there as well.
    let (_, adoption) = get(&mut analyst, &format!("/adoption?{AS_OF}")).await;
    assert!(adoption.contains("<a href=\"/people?department="), "{adoption}");

    // A manager sees aggregates only: no way into the list.
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = get(&mut manager, &format!("/?{AS_OF}")).await;
    assert!(!page.contains("href=\"/people?"), "{page}");
    let (_, adoption) = get(&mut manager, &format!("/adoption?{AS_OF}")).await;
    assert!(!adoption.contains("href=\"/people?"), "{adoption}");
    app.finish().await;
}
