//! Results computed once and stored (`app::results`): what a page serves
//! while new results are computed, and what a restart reads back.

use std::sync::Arc;

use crate::common::TestDb;
use crate::common::web::*;
use undercurrent::app::results;
use undercurrent::domain::account::Role;
use undercurrent::web::cache::EvaluationCache;

/// A newcomer with events on the fixture's last days: one more person listed.
const NEWCOMER: &str = "event_id,user_id,timestamp,event,channel,channel_type,duration_seconds\n\
    new-1,zz-newcomer@corp.example,2026-05-28T09:00:00Z,login,,,\n\
    new-2,zz-newcomer@corp.example,2026-05-28T09:05:00Z,message_sent,g-newcomers,group,\n";

async fn import_newcomer(db: &undercurrent::storage::Db) {
    let tz = undercurrent::app::settings::load(db).await.unwrap().timezone;
    let input = undercurrent::ingest::source::open("newcomer.csv", std::io::Cursor::new(NEWCOMER.as_bytes())).unwrap();
    undercurrent::app::import::import_events(db, tz, input).await.unwrap();
}

/// A page without the note (the rest must be the previous page exactly).
fn without_note(body: &str) -> String {
    match (body.find("<p class=\"notice\" id=\"results-updating\""), body.find("</p>")) {
        (Some(start), Some(_)) => {
            let end = start + body[start..].find("</p>").unwrap() + "</p>".len();
            format!("{}{}", &body[..start], &body[end..])
        }
        _ => body.to_string(),
    }
}

#[tokio::test]
async fn a_page_during_a_recomputation_shows_the_previous_results_and_the_note() {
    let mut cache: Option<Arc<EvaluationCache>> = None;
    let app = TestApp::serve(TestDb::new().await, |s| cache = Some(s.cache.clone()));
    let cache = cache.unwrap();
    app.add_accounts().await;
    import_fixture(&app.t.db).await;
    let mut admin = app.signed_in(Role::Admin).await;
    let pages = ["/", "/adoption", "/people"];
    let mut before = Vec::new();
    for path in pages {
        let (status, body) = admin.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.contains("results-updating"), "{path}: no note while the results are current");
        before.push(body);
    }

    // New data arrives; its results wait for the test to let them start.
    let held = cache.hold().await;
    import_newcomer(&app.t.db).await;
    for (path, previous) in pages.iter().zip(&before) {
        let (status, body) = admin.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("id=\"results-updating\""), "{path}: the note is shown");
        assert!(body.contains("Updating: the data or settings changed at"), "{path}");
        assert_eq!(without_note(&body), *previous, "{path}: exactly the previous results");
    }
    let (_, people) = admin.get("/people?q=zz-newcomer").await;
    assert!(!people.contains("zz-newcomer@corp.example</a>"), "the new person is not in the previous results");
    // In Chinese too.
    let zh = admin.http.get(format!("{}/", admin.base)).header("Accept-Language", "zh-CN").send().await.unwrap();
    assert!(zh.text().await.unwrap().contains("正在更新：数据或设置于"), "the note in Chinese");

    drop(held);
    cache.settled().await;
    for (path, previous) in pages.iter().zip(&before) {
        let (_, body) = admin.get(path).await;
        assert!(!body.contains("results-updating"), "{path}: the new results are current");
        if *path == "/people" {
            assert_ne!(body, *previous, "{path}: the new results count the newcomer");
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn stored_results_read_back_equal_to_the_computed_ones() {
    let t = TestDb::new().await;
    import_fixture(&t.db).await;
    let current = results::current(&t.db).await.unwrap();
    let view = results::view(&t.db, &current.settings, None, None, results::WEEKS).await.unwrap();
    assert!(results::stored(&t.db, &current, view).await.unwrap().is_none(), "nothing stored yet");
    let computed = results::compute(&t.db, &current.settings, view).await.unwrap();
    results::store(&t.db, &current, view, true, &computed).await.unwrap();

    let read = results::stored(&t.db, &current, view).await.unwrap().expect("stored");
    let (a, b) = (&computed.computed, &read.computed);
    assert!(!a.evaluation.results.is_empty());
    assert_eq!(format!("{:?}", a.evaluation.results), format!("{:?}", b.evaluation.results));
    assert_eq!(a.person_ids, b.person_ids);
    let people = |c: &undercurrent::app::evaluate::Computed| {
        c.data
            .people
            .iter()
            .map(|p| (p.user_id.clone(), p.department.clone(), p.start_date, p.first_event))
            .collect::<Vec<_>>()
    };
    assert_eq!(people(a), people(b));
    assert_eq!(a.evaluation.window.as_of, b.evaluation.window.as_of);
    assert_eq!(a.evaluation.window.days, b.evaluation.window.days);
    assert_eq!(a.span, b.span);
    assert_eq!(computed.weekly.len(), read.weekly.len());
    for (x, y) in computed.weekly.iter().zip(&read.weekly) {
        assert_eq!(x.as_of, y.as_of);
        assert_eq!(x.overall, y.overall);
        assert_eq!(x.departments, y.departments);
    }
    assert_eq!(computed.daily_active, read.daily_active);
    assert_eq!((computed.weekly_active, computed.monthly_active), (read.weekly_active, read.monthly_active));
    assert_eq!(a.evaluation.summary(&a.profile), b.evaluation.summary(&b.profile));

    // Another version (new data) is not served from the old one's row.
    import_fixture(&t.db).await;
    let newer = results::current(&t.db).await.unwrap();
    assert_ne!(newer.version, current.version);
    assert!(results::stored(&t.db, &newer, view).await.unwrap().is_none());
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_showing_previous_results_offers_a_reload_once_the_new_ones_are_stored() {
    if !crate::common::browser::available() {
        return;
    }
    let mut cache: Option<Arc<EvaluationCache>> = None;
    let app = TestApp::serve(TestDb::new().await, |s| cache = Some(s.cache.clone()));
    let cache = cache.unwrap();
    app.add_accounts().await;
    import_fixture(&app.t.db).await;
    let b = crate::common::browser::Browser::start().await;
    b.sign_in(&app.base, "admin@test.example", PASSWORD).await;
    b.goto(&format!("{}/", app.base)).await;
    b.wait_for("#login-rate").await;
    assert_eq!(b.count("#results-updating").await, 0);

    let held = cache.hold().await;
    import_newcomer(&app.t.db).await;
    b.goto(&format!("{}/", app.base)).await;
    b.wait_for("#results-updating").await;
    assert_eq!(b.count("#results-ready:not([hidden])").await, 0, "no reload offered while the results are computed");
    drop(held);
    cache.settled().await;
    // The page looks again by itself and offers the reload.
    b.wait_for("#results-ready:not([hidden])").await;
    assert!(b.text("#results-ready").await.contains("New results are ready"));
    b.screenshot("results-updating-ready").await;
    b.click("#results-ready").await;
    b.wait_for("#login-rate").await;
    assert_eq!(b.count("#results-updating").await, 0, "the reloaded page shows the new results");
    b.quit().await;
    app.finish().await;
}
