//! The first run, over HTTP: set-up asks the organisation's name, zone and
//! profile; the overview of an empty install says what to do next (not a
//! chart of invented zeros) and shows a checklist whose steps tick as the
//! data arrives; empty pages say what to do next.

use reqwest::StatusCode;
use undercurrent::app::settings;
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::ContactRules;

use crate::common::outreach::study;
use crate::common::web::{PASSWORD, TestApp, csrf_of, import_fixture};

/// Whether the checklist's step `id` is shown, and ticked.
fn step(page: &str, id: &str) -> Option<bool> {
    let at = page.find(&format!(r#"id="step-{id}""#))?;
    let tag = &page[at..at + page[at..].find('>').unwrap()];
    Some(tag.contains(r#"data-done="true""#))
}

#[tokio::test]
async fn from_an_empty_install_through_set_up_to_a_checklist_that_ticks() {
    let app = TestApp::spawn().await;
    let mut c = app.client();
    let (status, page) = c.get("/setup").await;
    assert_eq!(status, StatusCode::OK);
    for field in [r#"name="organisation""#, r#"select name="timezone""#, r#"select name="profile""#] {
        assert!(page.contains(field), "set-up asks {field}");
    }
    assert!(page.contains("data-detect-zone"), "the browser's zone replaces the default");
    assert!(page.contains(r#"<option value="Asia/Shanghai">"#) && page.contains(r#"value="customer_service""#));
    c.csrf = csrf_of(&page).unwrap();

    // A zone not in the list is refused, and no account is created for it.
    let bad = [
        ("email", "boss@corp.example"),
        ("password", PASSWORD),
        ("organisation", "Acme"),
        ("timezone", "Mars/Olympus"),
        ("profile", "customer_service"),
    ];
    let (status, body, _) = c.post("/setup", &bad).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("role=\"alert\"") && body.contains("time zone"), "{body}");
    assert!(body.contains(r#"value="Acme""#), "the form keeps what was typed");
    assert_eq!(undercurrent::storage::accounts::count(&app.t.db).await.unwrap(), 0);

    let form = [
        ("email", "boss@corp.example"),
        ("name", "Boss"),
        ("password", PASSWORD),
        ("organisation", "Acme 云"),
        ("timezone", "Asia/Shanghai"),
        ("profile", "customer_service"),
    ];
    let (status, _, location) = c.post("/setup", &form).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let stored = settings::stored(&app.t.db).await.unwrap();
    assert_eq!(stored.get("timezone").map(String::as_str), Some("Asia/Shanghai"));
    assert_eq!(stored.get("profile").map(String::as_str), Some("customer_service"));
    assert_eq!(stored.get("org_name").map(String::as_str), Some("Acme 云"));

    // The first overview: what to do, with links, and no invented chart.
    let (status, page) = c.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Acme 云") && page.contains("customer service"), "the organisation and its profile");
    assert!(page.contains(r#"id="first-run""#), "the checklist");
    for (id, href) in [
        ("directory", "/imports#people-title"),
        ("activity", "/imports#events-title"),
        ("teammates", "/accounts"),
        ("study", "/studies/new"),
    ] {
        assert_eq!(step(&page, id), Some(false), "{id} is still to do");
        assert!(page.contains(&format!(r#"<a href="{href}">"#)), "{id} links to {href}");
    }
    assert!(page.contains("Unlocks the tiers"), "each step says what it unlocks");
    assert!(page.contains(r#"data-empty="no-activity""#) && page.contains("No activity imported yet"));
    assert!(page.contains(r#"href="/imports" class="button""#), "an administrator is led to the imports");
    assert!(!page.contains("Nothing to show for this date"), "not the old, ambiguous notice");
    assert!(!page.contains("label tick"), "no axes without data");
    assert_eq!(page.matches("chart-empty").count(), 4, "four empty charts");

    // The directory first: one step ticks, the overview still has no activity.
    {
        use undercurrent::app::import::import_people;
        use undercurrent::ingest::source::open;
        let dir = crate::common::fixture("activity-small");
        import_people(&app.t.db, open("people.csv", std::fs::File::open(dir.join("people.csv")).unwrap()).unwrap())
            .await
            .unwrap();
    }
    let (_, page) = c.get("/").await;
    assert_eq!(step(&page, "directory"), Some(true));
    assert_eq!(step(&page, "activity"), Some(false));
    assert!(page.contains(r#"data-empty="no-activity""#), "a directory alone is no activity");

    // Then the activity: the headline, and two steps ticked.
    import_fixture(&app.t.db).await;
    let (_, page) = c.get("/").await;
    assert_eq!((step(&page, "directory"), step(&page, "activity")), (Some(true), Some(true)));
    assert_eq!((step(&page, "teammates"), step(&page, "study")), (Some(false), Some(false)));
    assert!(page.contains(r#"id="login-rate""#) && !page.contains("empty-state"), "figures now");

    // A teammate invited, a study created: every step done, the checklist goes.
    let (status, _, _) = c.post("/accounts", &[("email", "lin@corp.example"), ("role", "researcher")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let (_, page) = c.get("/").await;
    assert_eq!(step(&page, "teammates"), Some(true));
    study(&app.t.db, &[], ContactRules::default()).await;
    let (_, page) = c.get("/").await;
    assert!(!page.contains(r#"id="first-run""#), "all done: no checklist");
    app.finish().await;
}

#[tokio::test]
async fn the_checklist_can_be_dismissed_and_others_are_told_whom_to_ask() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, page) = admin.get("/").await;
    assert!(page.contains(r#"id="first-run""#) && page.contains("/first-run/dismiss"));

    // A manager can import nothing: no checklist, and whom to ask.
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get("/").await;
    assert!(!page.contains(r#"id="first-run""#));
    assert!(page.contains(r#"data-empty="no-activity""#) && page.contains("ask an administrator"), "{page}");
    assert!(!page.contains(r#"href="/imports""#));
    let (status, _, _) = manager.post("/first-run/dismiss", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only an administrator dismisses it");

    // A researcher sees the checklist, with a link only where they may act.
    let mut researcher = app.signed_in(Role::Researcher).await;
    let (_, page) = researcher.get("/").await;
    assert!(page.contains(r#"<a href="/studies/new">"#) && !page.contains(r#"<a href="/accounts">"#));
    assert!(!page.contains("/first-run/dismiss"));

    let (status, _, location) = admin.post("/first-run/dismiss", &[]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let (_, page) = admin.get("/").await;
    assert!(!page.contains(r#"id="first-run""#), "dismissed");
    assert!(page.contains(r#"data-empty="no-activity""#), "the empty state stays until data comes");
    app.finish().await;
}

#[tokio::test]
async fn no_data_and_a_group_below_the_privacy_floor_are_told_apart() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    settings::set(&app.t.db, "privacy_floor", "1000").await.unwrap();
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get("/").await;
    assert!(page.contains(r#"data-empty="below-floor""#), "{page}");
    assert!(page.contains("fewer people than the privacy floor (1000)") && !page.contains("No activity imported"));
    assert!(!page.contains("label tick"), "hidden figures are no axes of zeros");
    // A date long before the data: measured people none, and said so.
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/?as_of=2020-01-01").await;
    assert!(page.contains(r#"data-empty="nothing-on-date""#), "{page}");
    app.finish().await;
}

#[tokio::test]
async fn empty_pages_say_what_to_do_next() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    for (path, next) in [
        ("/people", r#"<a href="/imports">"#),
        ("/adoption", r#"<a href="/imports">"#),
        ("/studies", "start the first study"),
        ("/calendar", r#"<a href="/availability">"#),
    ] {
        let (status, page) = admin.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(page.contains(next), "{path} leads on with {next}");
    }
    let (_, page) = admin.get("/adoption").await;
    assert!(page.contains("No department to compare yet") && !page.contains(r#"id="comparison""#));
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/adoption").await;
    assert!(page.contains(r#"<a href="/imports">"#), "an analyst may import");
    let mut researcher = app.signed_in(Role::Researcher).await;
    let (_, page) = researcher.get("/people").await;
    assert!(page.contains("ask an administrator") && !page.contains(r#"<a href="/imports">"#));
    app.finish().await;
}

/// The y axis's tick labels of every chart on a page.
fn ticks(page: &str) -> Vec<String> {
    page.split(r#"<text class="label tick""#)
        .skip(1)
        .map(|t| t.split('>').nth(1).unwrap().split('<').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn charts_on_the_pages_draw_no_invented_points() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let mut analyst = app.signed_in(Role::Analyst).await;

    // Adoption: a week whose rate the table shows as "–" has no point.
    let (_, page) = analyst.get("/adoption").await;
    let mut dashes = 0;
    for section in page.split("<h3>").skip(1) {
        let rows = section.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
        for row in rows.split("<tr>").skip(1) {
            let week = row.split("<th scope=\"row\">").nth(1).unwrap().split('<').next().unwrap();
            let cells: Vec<&str> =
                row.split("<td class=\"num\">").skip(1).map(|c| c.split('<').next().unwrap()).collect();
            if cells[0] == "–" {
                dashes += 1;
                assert!(!section.contains(&format!("Login rate — {week}: ")), "week {week} has no login rate");
            }
        }
    }
    assert!(dashes > 0, "the fixture has weeks in the grace period");

    // The person page counts days and sessions: whole numbers on its axes.
    let (_, page) = analyst.get("/people/u0000@corp.example").await;
    let labels = ticks(&page);
    assert!(!labels.is_empty() && labels.iter().all(|t| t.parse::<u32>().is_ok()), "{labels:?}");
    let (_, page) = analyst.get("/").await;
    let counts: Vec<String> = ticks(&page).into_iter().filter(|t| !t.ends_with('%')).collect();
    assert!(counts.iter().all(|t| t.replace(',', "").parse::<u32>().is_ok()), "{counts:?}");
    app.finish().await;
}
