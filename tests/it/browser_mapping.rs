//! Column mapping in headless Chromium, as a person would: upload a
//! DingTalk-like export, check the guessed columns, translate its event
//! words, preview, save the mapping as a preset, import; then upload the
//! next month's file with the preset and import it the same way.

use crate::common::browser::{Browser, available};
use crate::common::web::{PASSWORD, TestApp};
use undercurrent::app::settings;
use undercurrent::storage::dataset;

const APRIL: &str = "用户ID,时间,行为,会话,消息内容\n\
                     u0001@corp.example,2026/4/28 09:00,登录,,\n\
                     u0001@corp.example,2026/4/28 09:01,发送消息,g-sales,first secret words\n\
                     u0002@corp.example,2026/4/28 09:03,发送消息,g-sales,second secret words\n\
                     u0002@corp.example,2026/4/28 09:30,签到,,\n";

const MAY: &str = "用户ID,时间,行为,会话,消息内容\n\
                   u0003@corp.example,2026/5/4 10:00,签到,,\n\
                   u0003@corp.example,2026/5/4 10:02,发送消息,g-ops,more secret words\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_a_dingtalk_export_and_reusing_the_preset() {
    if !available() {
        return;
    }
    let app = TestApp::with_accounts().await;
    settings::set(&app.t.db, "timezone", "Asia/Shanghai").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let april = tmp.path().join("dingtalk-april.csv");
    let may = tmp.path().join("dingtalk-may.csv");
    std::fs::write(&april, APRIL).unwrap();
    std::fs::write(&may, MAY).unwrap();

    let b = Browser::start().await;
    let base = &app.base;
    b.goto(&format!("{base}/login")).await;
    b.type_into("input[name=email]", "analyst@test.example").await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.stack button").await;
    b.wait_for("header nav").await;

    // From the imports page to the mapping page.
    b.goto(&format!("{base}/imports")).await;
    b.wait_for("#mapping-link a").await;
    b.click("#mapping-link a").await;
    b.wait_for("#upload-form").await;
    assert!(b.text("#content-warning").await.contains("Message content is never imported"));

    // Upload: the first rows, content hidden, columns and time format guessed.
    b.send_keys("#mapping-file", &april.display().to_string()).await;
    b.click("#upload-form button").await;
    b.wait_for("#sample").await;
    assert!(!b.source().await.contains("secret words"), "message content is never shown");
    assert!(b.text("#content-columns").await.contains("消息内容"));
    let value = |css: &str| format!("return document.querySelector('{css}').value");
    assert_eq!(b.script(&value("#col-user_id")).await, "用户ID");
    assert_eq!(b.script(&value("#col-timestamp")).await, "时间");
    assert_eq!(b.script(&value("#col-event")).await, "行为");
    assert_eq!(b.script(&value("#time-format")).await, "%Y/%m/%d %H:%M");
    assert_eq!(b.count("#col-channel option[value='消息内容']").await, 0, "content is never offered");
    b.screenshot("mapping-upload").await;

    // Translate the event words, then preview: nothing stored yet.
    b.type_into("#event-values", "发送消息 = message_sent\n签到 = check_in\n登录 = login").await;
    b.click("#preview-button").await;
    b.wait_for("#preview-rows").await;
    assert!(b.text("#preview-sentence").await.contains("every one can be imported"));
    let rows = b.text("#preview-rows").await;
    assert!(
        rows.contains("message_sent") && rows.contains("check_in") && rows.contains("28 Apr 2026 09:01:00 +08:00"),
        "{rows}"
    );
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 0);
    b.script("document.getElementById('preview').scrollIntoView(); return true").await;
    b.screenshot("mapping-preview").await;

    // Switching language mid-mapping keeps the work: the same file, the
    // same choices, now in Chinese.
    b.click("#lang-select option[value='zh-CN']").await;
    b.wait_for("html[lang='zh-CN'] #mapping-form").await;
    assert_eq!(b.script(&value("#col-user_id")).await, "用户ID", "the mapping is still there");
    let values = b.script(&value("#event-values")).await;
    let values = values.as_str().unwrap_or_default();
    for line in ["发送消息 = message_sent", "签到 = check_in", "登录 = login"] {
        assert!(values.lines().any(|l| l == line), "{values}");
    }
    assert!(b.count("#preview-rows").await > 0, "and its preview");
    b.click("#lang-select option[value='en']").await;
    b.wait_for("html[lang='en'] #mapping-form").await;

    // Save as a preset, then import.
    b.type_into("#preset-name", "钉钉导出").await;
    b.click("#save-button").await;
    b.wait_for("#mapping-message").await;
    assert!(b.text("#mapping-message").await.contains("钉钉导出"));
    assert!(b.text("#presets").await.contains("钉钉导出"));
    b.click("#import-button").await;
    b.wait_for("#import-outcome").await;
    let outcome = b.text("#import-outcome").await;
    assert!(outcome.contains("dingtalk-april.csv was imported."), "{outcome}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 4);
    b.screenshot("mapping-imported").await;

    // The next file, with the preset.
    b.click("#upload-preset option:nth-child(2)").await;
    b.send_keys("#mapping-file", &may.display().to_string()).await;
    b.click("#upload-form button").await;
    b.wait_for("#sample").await;
    let values = b.script(&value("#event-values")).await;
    assert!(values.as_str().unwrap_or_default().contains("发送消息 = message_sent"), "{values}");
    assert_eq!(b.script(&value("#preset-name")).await, "钉钉导出");
    b.click("#preview-button").await;
    b.wait_for("#preview-rows").await;
    assert!(b.text("#preview-rows").await.contains("u0003@corp.example"));
    b.click("#import-button").await;
    b.wait_for("#import-outcome").await;
    assert!(b.text("#import-outcome").await.contains("dingtalk-may.csv was imported."));
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 6);

    // Both are in the history.
    b.goto(&format!("{base}/imports")).await;
    b.wait_for("#import-history").await;
    let history = b.text("#import-history").await;
    assert!(history.contains("dingtalk-april.csv") && history.contains("dingtalk-may.csv"), "{history}");

    // The page in Chinese.
    b.goto(&format!("{base}/imports/mapping")).await;
    b.wait_for("#lang-select").await;
    b.click("#lang-select option[value='zh-CN']").await;
    b.wait_for("html[lang='zh-CN']").await;
    assert!(b.source().await.contains("映射列"));
    b.screenshot("mapping-zh-CN").await;

    b.quit().await;
    app.finish().await;
}
