//! Chinese as complete as English: every page a role can open, read in
//! zh-CN, carries no English word outside an allow-list of data values
//! (names, departments, addresses from the imported files and the study),
//! product and brand names, and units. Visible text and the attributes a
//! reader meets (placeholder, title, aria-label, alt) are both checked.

use crate::common::outreach::*;
use crate::common::reading::{allowed_words, foreign_words, latin_words};
use crate::common::web::{Client, TestApp, import_fixture};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::app::participant;
use undercurrent::domain::account::Role;
use undercurrent::domain::codebook::Consent;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::storage::{accounts, interviews};

async fn get_zh(c: &mut Client, path: &str) -> (StatusCode, String) {
    c.get(path).await
}

/// An organisation with something on every page: the activity fixture, a
/// Chinese study with two rounds (one person kept out by a rule), a booked
/// and coded interview with a quote.
pub struct EveryPage {
    pub app: TestApp,
    /// Every page a signed-in role may open.
    pub pages: Vec<String>,
    /// Participants' invitation paths (`/i/TOKEN`): booked, and not.
    pub participant_pages: Vec<String>,
    pub study: i64,
}

impl EveryPage {
    pub async fn new() -> EveryPage {
        let app = TestApp::with_accounts().await;
        let db = app.t.db.clone();
        import_fixture(&db).await;
        people(&db, 4).await;
        let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
        let start = (Utc::now() + TimeDelta::days(2)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
        free(&db, me, "UTC", start, start + TimeDelta::hours(4)).await;
        let mut f = fields("安静的同事", ContactRules::default());
        f.goal = "了解为什么有人只打卡".into();
        f.participant_title = "您对消息工具的体验".into();
        f.participant_description = "我们想听听这个工具对您是否好用。".into();
        f.invitation_subject = "访谈邀请：{study}".into();
        f.invitation_body = "{name}，您好：请选择时间 {link}\n退出：{opt_out_link}\n".into();
        f.consent = "我们会做笔记。".into();
        f.guide = "您用它做什么？".into();
        f.language = "zh-CN".into();
        let id = undercurrent::storage::studies::insert(&db, &f, None, Utc::now().timestamp()).await.unwrap();
        undercurrent::storage::studies::set_interviewers(&db, id, &[me]).await.unwrap();
        let s = undercurrent::storage::studies::get(&db, id).await.unwrap().unwrap();
        let now = Utc::now();
        let r = round(&db, &s, &["p000", "p001", "p002", "p003"], now).await;
        let invited = invite_all(&db, &r, now).await;
        // A second round: one person kept out at send time by a contact rule,
        // stored as the rule so each page says it in its language.
        let r2 = round(&db, &s, &["u0001@corp.example"], now).await;
        {
            use undercurrent::domain::sampling::Exclusion;
            use undercurrent::storage::invitations;
            let mut tx = db.begin().await.unwrap();
            let inv = invitations::drawn_in_round(&mut tx, r2.id).await.unwrap().remove(0);
            let why = serde_json::to_string(&Exclusion::ContactedRecently { days_ago: 3, min_days: 90 }).unwrap();
            invitations::mark_excluded(&mut tx, inv.id, &why).await.unwrap();
            tx.commit().await.unwrap();
        }
        let codes = interviews::codes(&db, s.id).await.unwrap();
        let out = outreach(&app.base);
        let (inv, token) = &invited[0];
        let b = participant::book(&db, &out, token, inv, &s, me, start, chrono_tz::UTC, now).await.unwrap().unwrap();
        // Its reminder dropped, as when the interview has an outcome: the
        // study's outbox says why in the reader's language.
        let mut tx = db.begin().await.unwrap();
        let dropped = undercurrent::storage::outbox::drop_for_booking(
            &mut tx,
            b,
            "reminder",
            undercurrent::app::outbox::HAS_OUTCOME,
            now.timestamp(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(dropped > 0, "the booking's reminders");
        let interview = interviews::for_booking(&db, b, 0).await.unwrap();
        let record = interviews::Record {
            consent: Some(Consent::Yes),
            codes: vec![codes[0].id],
            notes: "只用来打卡。".into(),
            ..Default::default()
        };
        interviews::save(&db, interview.id, interview.version, &record, me, 0).await.unwrap();
        interviews::add_quote(&db, interview.id, "我只打卡。", true, Some(codes[0].id), me, 0).await.unwrap();
        let sid = s.id;
        let pages: Vec<String> = vec![
            "/".into(),
            "/adoption".into(),
            "/people".into(),
            "/people/p000".into(),
            "/people/u0000@corp.example".into(),
            "/imports".into(),
            "/imports/mapping".into(),
            "/settings".into(),
            "/settings/identity".into(),
            "/accounts".into(),
            "/tokens".into(),
            "/audit".into(),
            "/account/password".into(),
            "/studies".into(),
            "/studies/new".into(),
            format!("/studies/{sid}"),
            format!("/studies/{sid}/edit"),
            format!("/studies/{sid}/rounds/1"),
            format!("/studies/{sid}/rounds/2"),
            format!("/studies/{sid}/report"),
            format!("/studies/{sid}/codebook"),
            format!("/studies/{sid}/surveys"),
            "/studies/add-people?user=p001".into(),
            "/report".into(),
            "/availability".into(),
            "/availability/place".into(),
            "/calendar".into(),
            format!("/interviews/{}", interview.id),
        ];
        let participant_pages = vec![format!("/i/{}", invited[1].1), format!("/i/{token}")];
        EveryPage { app, pages, participant_pages, study: sid }
    }
}

#[tokio::test]
async fn every_page_in_chinese_for_every_role_has_no_untranslated_words() {
    let EveryPage { app, pages, participant_pages, study: sid } = EveryPage::new().await;
    let allowed = allowed_words();
    let mut problems = Vec::new();
    for role in [Role::Admin, Role::Researcher, Role::Analyst, Role::Manager] {
        let mut c = app.signed_in(role).await;
        let (status, _, _) = c.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        for path in &pages {
            let (status, page) = get_zh(&mut c, path).await;
            if status == StatusCode::FORBIDDEN {
                continue;
            }
            assert!(page.contains("lang=\"zh-CN\""), "{role} {path}: {status}");
            let foreign = foreign_words(latin_words(&page), &allowed);
            if !foreign.is_empty() {
                problems.push(format!("{role} {path}: {foreign:?}"));
            }
        }
    }
    // The participant's page, in the study's language and the browser's.
    let anon = reqwest::Client::new();
    for path in participant_pages {
        let page = anon
            .get(format!("{}{path}", app.base))
            .header("Accept-Language", "zh-CN,zh;q=0.9")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let foreign = foreign_words(latin_words(&page), &allowed);
        if !foreign.is_empty() {
            problems.push(format!("participant {path}: {foreign:?}"));
        }
    }
    assert!(problems.is_empty(), "English words on Chinese pages:\n{}", problems.join("\n"));
    // The reasons and the exclusion, said in Chinese.
    let mut researcher = app.signed_in(Role::Researcher).await;
    researcher.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    // Weekdays on the calendar in Chinese.
    let (_, page) = researcher.get("/calendar").await;
    assert!(
        ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"].iter().any(|d| page.contains(d)),
        "{page}"
    );
    let (_, page) = researcher.get(&format!("/studies/{sid}/rounds/2")).await;
    assert!(page.contains("3 天前已联系过（两次联系至少间隔 90 天）"), "{page}");
    let (_, page) = researcher.get(&format!("/studies/{sid}/rounds/1")).await;
    assert!(page.contains("此数据源无法提供登录天数，此数据源无法提供消息数，使用 0 类功能"), "{page}");
    app.finish().await;
}

/// The audit log says what happened in words, in the organisation's time
/// zone, and a visit that reloads a page is one entry.
#[tokio::test]
async fn the_audit_log_speaks_in_words_in_the_organisations_zone_once_per_visit() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await; // sets Asia/Shanghai
    let mut admin = app.signed_in(Role::Admin).await;
    for _ in 0..3 {
        let (status, _) = admin.get("/people/u0000@corp.example").await;
        assert_eq!(status, StatusCode::OK);
    }
    let views = undercurrent::storage::audit::recent(&db, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "person.view")
        .count();
    assert_eq!(views, 1, "three loads in one visit are one view");
    let detail = undercurrent::storage::audit::detail(
        "audit.detail.send",
        &[("round", "2".into()), ("queued", "3".into()), ("excluded", "1".into())],
    );
    undercurrent::storage::audit::record(&db, None, "study.send", Some("study:1"), Some(&detail)).await.unwrap();
    // A rollout date and a count in the reader's format.
    let audit = |action: &'static str, target: &'static str, detail: String| {
        let db = db.clone();
        async move { undercurrent::storage::audit::record(&db, None, action, Some(target), Some(&detail)).await.unwrap() }
    };
    audit("rollout.set", "department:Sales", "2026-03-01".into()).await;
    audit("rollout.set", "department:Legal", "default".into()).await;
    let rows = undercurrent::storage::audit::detail("audit.detail.rows", &[("n", "1386".into())]);
    audit("people.export", "people", rows).await;
    // Large numbers carry their thousands separator in tables too.
    let (_, imports) = admin.get("/imports").await;
    assert!(imports.contains(">7,474</td>") && !imports.contains(">7474</td>"), "{imports}");
    let (_, page) = admin.get("/audit").await;
    assert!(page.contains("Viewed a person") && page.contains("Signed in"), "{page}");
    assert!(page.contains("Person #"), "targets in words: {page}");
    assert!(!page.contains(">person.view<") && !page.contains(">sign_in<") && !page.contains("person:"), "{page}");
    assert!(page.contains("Asia/Shanghai") && !page.contains(" UTC<"), "{page}");
    assert!(page.contains("round 2: 3 queued, 1 excluded") && page.contains("Study #1"), "{page}");
    assert!(page.contains("<td>1 Mar 2026</td>") && !page.contains("2026-03-01"), "{page}");
    assert!(page.contains("Rollout date taken from the data again") && page.contains("1,386 rows"), "{page}");
    let shanghai = Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%-d %b %Y, %H:").to_string();
    assert!(page.contains(&shanghai), "times in the organisation's zone ({shanghai}): {page}");
    admin.post("/language", &[("lang", "zh-CN"), ("back", "/audit")]).await;
    let (_, page) = admin.get("/audit").await;
    assert!(page.contains("查看个人") && page.contains("登录") && page.contains("人员 #"), "{page}");
    assert!(page.contains("第 2 轮：3 封待发，1 人被排除") && page.contains("研究 #1"), "{page}");
    assert!(page.contains("<td>2026年3月1日</td>") && page.contains("上线日期改回根据数据推断"), "{page}");
    app.finish().await;
}

/// A Chinese study's messages (the booking's confirmation and
/// the interviewer's notice, reminders, calendar files) use full-width
/// punctuation after Chinese text: no `改期或取消: ` with an ASCII colon.
#[tokio::test]
async fn chinese_messages_use_full_width_punctuation() {
    let every = EveryPage::new().await;
    let db = every.app.t.db.clone();
    let messages = undercurrent::storage::outbox::for_study(&db, every.study).await.unwrap();
    let kinds: std::collections::BTreeSet<&str> = messages.iter().map(|m| m.kind.as_str()).collect();
    assert!(kinds.contains("booked") && kinds.contains("booked_host") && kinds.contains("reminder"), "{kinds:?}");
    let cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c) || "）”".contains(c);
    let mut problems = Vec::new();
    for m in &messages {
        for text in [&m.subject, &m.body, m.ics.as_ref().unwrap_or(&String::new())] {
            let chars: Vec<char> = text.chars().collect();
            for w in chars.windows(2) {
                if cjk(w[0]) && ":,;?!(".contains(w[1]) {
                    let at = text.find(&format!("{}{}", w[0], w[1])).unwrap_or(0);
                    let line = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                    problems.push(format!("{} ({}): {}", m.kind, m.subject, &text[line..end]));
                }
            }
        }
    }
    assert!(problems.is_empty(), "ASCII punctuation after Chinese text:\n{}", problems.join("\n"));
    every.app.finish().await;
}
