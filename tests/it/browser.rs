//! In headless Chromium, as a person would: sign in, read the dashboard,
//! switch to Chinese, filter people, open a person, upload a file with an
//! error and see its line number. Screenshots of each main page go to
//! target/screenshots.

use crate::common::browser::{Browser, available};
use crate::common::web::{PASSWORD, TestApp, import_fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_researchers_day_in_the_browser() {
    if !available() {
        return;
    }
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;

    let b = Browser::start().await;
    let base = &app.base;

    // Sign in and read the dashboard.
    b.goto(&format!("{base}/login")).await;
    b.type_into("input[name=email]", "admin@test.example").await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.stack button").await;
    b.wait_for("#login-rate").await;
    let login = b.text("#login-rate").await;
    let deep = b.text("#deep-rate").await;
    assert!(login.ends_with('%') && deep.ends_with('%'), "{login} {deep}");
    assert!(b.text(".sentence").await.contains("gap of"));
    assert_eq!(b.count("svg.chart").await, 4, "four charts on the dashboard");
    b.screenshot("dashboard").await;

    // Switch to Chinese: the select submits itself.
    b.click("#lang-select option[value='zh-CN']").await;
    b.wait_for("html[lang='zh-CN']").await;
    assert!(b.source().await.contains("总览"));
    assert_eq!(b.text("#login-rate").await, login, "the same numbers in Chinese");
    b.screenshot("dashboard-zh-CN").await;
    b.click("#lang-select option[value='en']").await;
    b.wait_for("html[lang='en']").await;

    // Filter people by tier.
    b.goto(&format!("{base}/people")).await;
    b.wait_for("select[name=tier]").await;
    let all_rows = b.count("tbody tr").await;
    b.click("select[name=tier] option[value='silent']").await;
    b.click("form.people-filters button").await;
    b.wait_for("select[name=tier] option[value='silent'][selected]").await;
    let rows = b.count("tbody tr").await;
    assert!(rows > 0 && rows < all_rows, "{rows} silent of {all_rows}");
    assert_eq!(b.count("tbody .tier-badge.tier-silent").await, rows, "every row is silent");
    b.screenshot("people").await;

    // Open the first person.
    b.click("tbody tr a").await;
    b.wait_for("h1").await;
    assert!(b.url().await.contains("/people/"), "{}", b.url().await);
    assert!(b.source().await.contains("silent") || b.source().await.contains("Silent"));
    b.screenshot("person").await;

    // Upload an events file whose third line is wrong.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad-events.csv");
    std::fs::write(&bad, "user_id,timestamp,event\nu1,2026-05-01T10:00:00Z,login\nu2,yesterday,login\n").unwrap();
    b.goto(&format!("{base}/imports")).await;
    b.send_keys("#events-files", &bad.display().to_string()).await;
    b.click("form[action^='/imports/events'] button").await;
    b.wait_for("[role=alert]").await;
    let alert = b.text("[role=alert]").await;
    assert!(alert.contains("bad-events.csv:3:"), "the error names the file and line: {alert}");
    b.screenshot("imports-error").await;

    for (path, name) in
        [("/adoption", "adoption"), ("/settings", "settings"), ("/audit", "audit"), ("/accounts", "accounts")]
    {
        b.goto(&format!("{base}{path}")).await;
        b.wait_for("h1").await;
        b.screenshot(name).await;
    }

    // On a phone every main page fits the screen: nothing to scroll sideways.
    b.set_width(390).await;
    for path in ["/", "/people", "/adoption", "/imports", "/report", "/settings"] {
        b.goto(&format!("{base}{path}")).await;
        b.wait_for("h1").await;
        let (over, what) = b.overflow_x().await;
        assert_eq!(over, 0, "{path} is wider than a 390px phone: {what}");
    }
    b.goto(&format!("{base}/people")).await;
    b.click("tbody tr a").await;
    b.wait_for("h1").await;
    let (over, what) = b.overflow_x().await;
    assert_eq!(over, 0, "a person's page is wider than a 390px phone: {what}");
    b.screenshot("person-390").await;
    b.quit().await;
    app.finish().await;
}
