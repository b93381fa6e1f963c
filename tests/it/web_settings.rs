//! The Settings page: values in force and defaults, validation next to the
//! field, saving only what changed (audited), the preview of tier changes,
//! and that only administrators get in.

use crate::common::fixture;
use crate::common::web::*;
use reqwest::StatusCode;
use undercurrent::app::import::{import_events, import_people};
use undercurrent::domain::account::Role;
use undercurrent::ingest::source::open;
use undercurrent::storage::{Db, audit, settings};

async fn stored(db: &Db) -> std::collections::BTreeMap<String, String> {
    let mut map = settings::all(db).await.unwrap();
    map.retain(|k, _| !k.starts_with('_'));
    map
}

async fn setting_changes(db: &Db) -> Vec<(Option<String>, Option<String>)> {
    audit::recent(db, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "settings.change")
        .map(|e| (e.target, e.detail))
        .collect()
}

/// The fixture organisation, imported directly, with its time zone.
async fn import_fixture(db: &Db) {
    undercurrent::app::settings::set(db, "timezone", "Asia/Shanghai").await.unwrap();
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let dir = fixture("activity-small");
    let input = |name: &str| open(name, std::fs::File::open(dir.join(name)).unwrap()).unwrap();
    import_people(db, input("people.csv")).await.unwrap();
    import_events(db, tz, input("events_a.csv")).await.unwrap();
    import_events(db, tz, input("events_b.ndjson")).await.unwrap();
}

#[tokio::test]
async fn the_form_shows_every_setting_in_force_and_its_default() {
    let app = TestApp::with_accounts().await;
    settings::set(&app.t.db, "window_days", "14").await.unwrap();
    settings::set(&app.t.db, "kind.presence_ping", "interactive:text").await.unwrap();
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, body) = admin.get("/settings").await;
    assert_eq!(status, StatusCode::OK);
    for key in [
        "timezone",
        "profile",
        "window_days",
        "grace_days",
        "deep.min_interactive_days",
        "deep.min_feature_breadth",
        "deep.min_login_depth",
        "privacy_floor",
    ] {
        assert!(body.contains(&format!("name=\"{key}\"")), "{key}");
    }
    assert!(body.contains("<option value=\"Asia/Shanghai\">"), "the time zone list");
    assert!(body.contains("<option value=\"customer_service\">customer service</option>"));
    assert!(body.contains("<option value=\"internal_collaboration\" selected>"));
    assert!(body.contains("id=\"s-window_days\" name=\"window_days\" value=\"14\""), "{body}");
    assert!(body.contains("In force: 14. Default: 28."), "{body}");
    assert!(body.contains("In force: UTC (the default)."));
    assert!(body.contains("aria-describedby=\"s-deep-min_login_depth-help s-deep-min_login_depth-state\""));
    assert!(body.contains("value=\"0.5\""), "login depth shown as a decimal");
    // Kind mappings, read-only.
    let kinds = &body[body.find("id=\"kinds\"").expect("the mappings table")..];
    assert!(kinds.contains("<code>presence_ping</code>") && kinds.contains("Interactive (text)"));
    app.finish().await;
}

#[tokio::test]
async fn a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    admin.get("/settings").await;
    let (status, body, _) = admin
        .post(
            "/settings",
            &[("intent", "save"), ("timezone", "Mars/Olympus"), ("window_days", "400"), ("privacy_floor", "3")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the form comes back");
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(body.contains("“Mars/Olympus” is not a time zone name."), "{body}");
    assert!(body.contains("id=\"s-timezone-error\""));
    assert!(
        body.contains("aria-describedby=\"s-timezone-help s-timezone-state s-timezone-error\" aria-invalid=\"true\"")
    );
    assert!(body.contains("id=\"s-window_days-error\">Enter a whole number from 1 to 366."), "{body}");
    assert!(body.contains("value=\"Mars/Olympus\""), "the value typed stays in the field");
    assert!(stored(&app.t.db).await.is_empty(), "nothing saved, not even the valid privacy floor");
    assert!(setting_changes(&app.t.db).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn saving_stores_only_what_changed_and_audits_each_change() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    admin.get("/settings").await;
    // The whole form as a browser sends it: unchanged values included.
    let form = [
        ("timezone", "Asia/Shanghai"),
        ("profile", "internal_collaboration"),
        ("window_days", "28"),
        ("grace_days", "7"),
        ("deep.min_interactive_days", "8"),
        ("deep.min_feature_breadth", "2"),
        ("deep.min_login_depth", "0.50"),
        ("privacy_floor", "5"),
        ("intent", "save"),
    ];
    let (status, _, location) = admin.post("/settings", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/settings?saved=1"));
    let map = stored(&app.t.db).await;
    assert_eq!(map.len(), 2, "{map:?}");
    assert_eq!(map["timezone"], "Asia/Shanghai");
    assert_eq!(map["grace_days"], "7");
    let mut changes = setting_changes(&app.t.db).await;
    changes.sort();
    assert_eq!(
        changes,
        vec![
            (Some("setting:grace_days".into()), Some("7".into())),
            (Some("setting:timezone".into()), Some("Asia/Shanghai".into())),
        ]
    );

    let (status, body) = admin.get("/settings?saved=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<p class=\"success\" role=\"status\">The settings were saved."), "{body}");
    assert!(body.contains("In force: Asia/Shanghai. Default: UTC."));

    // An empty field goes back to the default.
    let (status, _, _) = admin.post("/settings", &[("grace_days", ""), ("intent", "save")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let map = stored(&app.t.db).await;
    assert!(!map.contains_key("grace_days") && map.contains_key("timezone"), "{map:?}");
    let changes = setting_changes(&app.t.db).await;
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0].0.as_deref(), Some("setting:grace_days"), "newest first");
    app.finish().await;
}

#[tokio::test]
async fn a_preview_reports_tier_changes_and_saves_nothing() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let before = stored(&app.t.db).await;
    let mut admin = app.signed_in(Role::Admin).await;
    admin.get("/settings").await;
    let (status, body, _) = admin.post("/settings", &[("deep.min_interactive_days", "1"), ("intent", "preview")]).await;
    assert_eq!(status, StatusCode::OK);
    let preview = &body[body.find("id=\"preview\"").expect("a preview")..body.find("class=\"settings-form\"").unwrap()];
    assert!(preview.contains("Preview: nothing has been saved"));
    let sentence_start = preview.find("With these settings, ").expect(preview);
    let moved: String =
        preview[sentence_start + 21..].chars().take_while(|c| c.is_ascii_digit() || *c == ',').collect();
    assert!(moved.replace(',', "").parse::<u32>().unwrap() > 0, "{preview}");
    assert!(preview.contains("<th scope=\"row\">Minimum interactive days</th><td>8</td><td>1</td>"), "{preview}");
    let transitions = &preview[preview.find("id=\"transitions\"").expect(preview)..];
    assert!(transitions.contains("<td>Shallow</td><td>Deep</td>"), "{transitions}");
    assert!(!transitions.contains("<td>Deep</td><td>Shallow</td>"), "a lower bar moves no one down");
    let compared = &preview[preview.find("id=\"compared\"").unwrap()..];
    assert!(compared.contains("Login rate") && compared.contains("Deep rate") && compared.contains('%'));
    assert!(compared.contains("<th scope=\"row\">Deep</th><td class=\"num\">"), "{compared}");
    assert!(compared.contains(&format!("<td class=\"num change\">+{moved}</td>")), "deep grows by those who moved");
    assert!(compared.contains(" pts</td>"), "rates change in points");
    assert!(body.contains("name=\"deep.min_interactive_days\" value=\"1\""), "the proposal stays in the form");

    assert_eq!(stored(&app.t.db).await, before, "a preview saves nothing");
    assert!(setting_changes(&app.t.db).await.is_empty());

    // The same values as in force: nothing would change.
    let (_, body, _) = admin.post("/settings", &[("timezone", "Asia/Shanghai"), ("intent", "preview")]).await;
    assert!(body.contains("These values are the settings in force: nothing would change."), "{body}");
    app.finish().await;
}

#[tokio::test]
async fn only_administrators_reach_settings() {
    let app = TestApp::with_accounts().await;
    for role in [Role::Analyst, Role::Researcher, Role::Manager] {
        let mut c = app.signed_in(role).await;
        assert_eq!(c.get("/settings").await.0, StatusCode::FORBIDDEN, "{role}");
        let (status, _, _) = c.post("/settings", &[("timezone", "Asia/Shanghai"), ("intent", "save")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    // A post without the token is refused too.
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, _, _) = admin.post_raw("/settings", &[("timezone", "Asia/Shanghai"), ("intent", "save")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(stored(&app.t.db).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn the_page_speaks_chinese() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    admin.post("/language", &[("lang", "zh-CN"), ("back", "/settings")]).await;
    let (_, body) = admin.get("/settings").await;
    assert!(body.contains("时区") && body.contains("预览效果") && body.contains("内部协作"), "{body}");
    let (_, body, _) = admin.post("/settings", &[("window_days", "abc"), ("intent", "save")]).await;
    assert!(body.contains("请输入 1 到 366 之间的整数。"), "{body}");
    app.finish().await;
}
