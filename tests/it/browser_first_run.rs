//! In headless Chromium, from an empty database: set-up (the zone comes
//! from the browser), the first overview with its checklist and empty
//! states, then the same overview after the imports. Screenshots under
//! target/screenshots/first-run-*.png.

use crate::common::browser::{Browser, available};
use crate::common::web::{PASSWORD, TestApp, import_fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_an_empty_database_to_a_first_overview() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    let b = Browser::start().await;
    let base = &app.base;
    b.emulate_timezone("Asia/Shanghai").await;

    // An empty install leads to set-up; the zone is the browser's.
    b.goto(&format!("{base}/")).await;
    b.wait_for("#setup-form").await;
    assert!(b.url().await.ends_with("/setup"), "{}", b.url().await);
    assert_eq!(b.value("select[name=timezone]").await, "Asia/Shanghai", "detected in the browser");
    b.type_into("input[name=email]", "boss@corp.example").await;
    b.type_into("input[name=name]", "Boss").await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.type_into("input[name=organisation]", "Acme").await;
    b.set_value("#setup-profile", "customer_service").await;
    b.screenshot("first-run-setup").await;
    b.click("#setup-form button").await;

    // The first overview: the checklist, and what to do instead of axes.
    b.wait_for("#first-run").await;
    assert_eq!(b.count("#first-run .step").await, 4);
    assert_eq!(b.count("#first-run .step.done").await, 0);
    assert_eq!(b.count("#first-run .step a").await, 4, "an administrator may take every step");
    assert!(b.text("#empty-state").await.contains("No activity imported yet"));
    assert_eq!(b.count("svg.chart-empty").await, 4, "four charts, each an empty state");
    assert_eq!(b.count("svg .tick").await, 0, "no axes without data");
    assert!(b.text("h1").await.contains("Acme"));
    let (overflow, what) = b.overflow_x().await;
    assert!(overflow <= 0, "the first overview fits: {what}");
    b.screenshot("first-run-overview").await;
    let stored = undercurrent::app::settings::stored(&app.t.db).await.unwrap();
    assert_eq!(stored.get("timezone").map(String::as_str), Some("Asia/Shanghai"));
    assert_eq!(stored.get("profile").map(String::as_str), Some("customer_service"));

    // The same in Chinese.
    b.click("#lang-select option[value='zh-CN']").await;
    b.wait_for("html[lang='zh-CN']").await;
    assert!(b.text("#empty-state").await.contains("尚未导入任何活动数据"));
    assert!(b.text("#first-run").await.contains("导入通讯录"));
    b.screenshot("first-run-overview-zh-CN").await;
    b.click("#lang-select option[value='en']").await;
    b.wait_for("html[lang='en']").await;

    // The checklist's link leads to the imports page.
    b.click("#step-directory a").await;
    b.wait_for("#events-files").await;
    assert!(b.url().await.contains("/imports"));

    // After the imports: figures, two steps ticked, charts with axes.
    import_fixture(&app.t.db).await;
    b.goto(&format!("{base}/")).await;
    b.wait_for("#login-rate").await;
    assert_eq!(b.count("#first-run .step.done").await, 2);
    assert_eq!(b.count("#empty-state").await, 0);
    assert_eq!(b.count("svg.chart-empty").await, 0);
    b.screenshot("first-run-after-imports").await;
    b.set_width(390).await;
    b.goto(&format!("{base}/")).await;
    b.wait_for("#first-run").await;
    b.screenshot("first-run-after-imports-390").await;
    b.quit().await;
    app.finish().await;
}
