//! The researcher's outreach pages in headless Chromium, as a person would
//! use them: start a study from the customer-service template in Chinese,
//! change its title and round size, draw a round with a recorded seed, read
//! why each person was chosen, send, add weekly hours and open the
//! calendar. Screenshots of each page go to target/screenshots.

use crate::common::browser::{Browser, available};
use crate::common::web::{PASSWORD, TestApp, import_fixture};
use undercurrent::storage::{accounts, availability, invitations, outbox, studies};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_researcher_runs_a_study_in_the_browser() {
    if !available() {
        return;
    }
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;

    let b = Browser::start().await;
    let base = &app.base;

    // Sign in through the login form.
    b.goto(&format!("{base}/login")).await;
    b.type_into("input[name=email]", "researcher@test.example").await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.stack button").await;
    b.wait_for("header nav").await;

    // The studies list: nothing yet; a new study from a template, in Chinese.
    b.goto(&format!("{base}/studies")).await;
    b.wait_for("form[action='/studies/new']").await;
    assert_eq!(b.count("#studies").await, 0, "no studies yet");
    b.click("select[name=scenario] option[value='customer_service']").await;
    b.click("select[name=language] option[value='zh-CN']").await;
    assert_eq!(b.value("select[name=scenario]").await, "customer_service");
    assert_eq!(b.value("select[name=language]").await, "zh-CN");
    b.screenshot("researcher-studies").await;
    b.click("form[action='/studies/new'] button").await;
    b.wait_for("#study-form").await;
    let url = b.url().await;
    assert!(url.contains("scenario=customer_service") && url.contains("language=zh-CN"), "{url}");

    // The study form, filled from the template.
    assert_eq!(b.value("#study-form select[name=scenario]").await, "customer_service");
    assert_eq!(b.value("#study-form select[name=language]").await, "zh-CN");
    let body = b.value("textarea[name=invitation_body]").await;
    assert!(body.contains("{link}") && body.contains("您"), "a Chinese invitation with a link: {body}");
    assert!(b.value("textarea[name=guide]").await.lines().count() >= 6, "an interview guide");
    assert_eq!(b.count("input[name=interviewer]:checked").await, 1, "the researcher interviews by default");
    assert!(b.count("input[name=tier]:checked").await > 0, "the template picks tiers");
    assert_eq!(b.count("#errors").await, 0);
    b.screenshot_full("researcher-study-form").await;

    // Change the title and the round size, and save.
    let title = "Why agents log in but do not answer";
    b.type_into("input[name=title]", title).await;
    b.type_into("input[name=round_size]", "3").await;
    b.click("#save-study").await;
    b.wait_for("#draw").await;
    assert_eq!(b.count("#errors").await, 0);
    let study = studies::list(&db).await.unwrap().remove(0);
    let study_path = format!("/studies/{}", study.id);
    assert!(b.url().await.ends_with(&study_path), "{}", b.url().await);
    assert_eq!(study.title, title);
    assert_eq!(study.round_size, 3);
    assert_eq!(study.language, "zh-CN");
    assert_eq!(study.scenario, "customer_service");

    // The study page: its title, where e-mail goes, no rounds yet.
    assert_eq!(b.text("h1").await, title);
    assert!(!b.text("#mail-mode").await.is_empty());
    assert_eq!(b.count("#rounds").await, 0, "no rounds yet");
    assert!(b.text("dl.facts").await.contains('3'), "the round size is shown: {}", b.text("dl.facts").await);
    b.screenshot_full("researcher-study").await;

    // Draw a round with a recorded seed.
    b.type_into("input[name=seed]", "777").await;
    b.click("#draw").await;
    b.wait_for("#seed").await;
    assert!(b.url().await.ends_with(&format!("{study_path}/rounds/1")), "{}", b.url().await);
    assert_eq!(b.text("#seed").await, "777");
    let reasons = b.texts("#drawn .reason").await;
    assert!(!reasons.is_empty() && reasons.len() <= 3, "{reasons:?}");
    assert!(reasons.iter().all(|r| !r.is_empty()), "every person drawn has a reason: {reasons:?}");
    assert_eq!(b.count("#drawn tbody tr").await, reasons.len());
    assert!(b.count("#strata tbody tr").await > 0, "the strata are shown");
    let round = studies::round(&db, study.id, 1).await.unwrap().unwrap();
    assert_eq!(round.seed, "777");
    let drawn = invitations::for_round(&db, round.id).await.unwrap();
    assert_eq!(drawn.len(), reasons.len());
    for inv in &drawn {
        let row = format!("#drawn tr[data-user='{}']", inv.user_id);
        assert_eq!(b.count(&row).await, 1, "{} is listed", inv.user_id);
    }
    b.screenshot_full("researcher-round").await;

    // Send: a success message, and the invitations are queued.
    b.click("#send").await;
    b.wait_for_url("sent=").await;
    b.wait_for("#message").await;
    let message = b.text("#message").await;
    assert!(message.contains("invitations queued"), "{message}");
    assert_eq!(b.count("#send").await, 0, "a sent round cannot be sent again");
    let queued = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.kind == "invitation").count();
    let invited = invitations::for_round(&db, round.id).await.unwrap();
    let invited = invited.iter().filter(|i| i.status.as_str() == "invited").count();
    assert!(queued > 0 && queued == invited, "{queued} queued, {invited} invited");
    assert!(message.contains(&invited.to_string()), "{message}");
    b.screenshot_full("researcher-round-sent").await;

    // Availability: weekly hours on a Wednesday.
    b.goto(&format!("{base}/availability")).await;
    b.wait_for("form[action^='/availability/weekly?'] input[name=hours]").await;
    assert_eq!(b.count("#weekly").await, 0, "no weekly hours yet");
    b.click("select[name=weekday] option[value='2']").await;
    b.type_into("input[name=hours]", "09:00-12:00").await;
    b.click("form[action^='/availability/weekly?'] button").await;
    b.wait_for("#weekly").await;
    assert_eq!(b.count("#error").await, 0);
    let weekly = b.text("#weekly").await;
    assert!(weekly.contains("Wednesday") && weekly.contains("09:00–12:00"), "{weekly}");
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0;
    let stored = availability::weekly(&db, me.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].weekday, stored[0].start_minute, stored[0].end_minute), (2, 9 * 60, 12 * 60));
    b.screenshot_full("researcher-availability").await;

    // The calendar: nobody has booked yet.
    b.click("a[href='/calendar']").await;
    b.wait_for("a[href='/calendar?all=1']").await;
    assert_eq!(b.count("#calendar").await, 0);
    assert!(b.text("p.notice").await.contains("No interviews booked"), "{}", b.text("p.notice").await);
    b.screenshot_full("researcher-calendar").await;

    // Back on the study page: the round, sent, and the outbox.
    b.goto(&format!("{base}{study_path}")).await;
    b.wait_for("#rounds").await;
    assert_eq!(b.count("#rounds tbody tr").await, 1);
    assert!(b.count("#outbox tbody tr").await >= invited);
    b.screenshot_full("researcher-study-after").await;

    // The studies list now has it, with its funnel counts.
    b.goto(&format!("{base}/studies")).await;
    b.wait_for("#studies").await;
    assert_eq!(b.count("#studies tbody tr").await, 1);
    let row = b.text("#studies tbody tr").await;
    assert!(row.contains(title) && row.contains(&invited.to_string()), "{row}");
    b.screenshot("researcher-studies-list").await;
    b.click(&format!("#studies a[href='{study_path}']")).await;
    b.wait_for("#rounds").await;

    b.quit().await;
    app.finish().await;
}

/// The survey builder's preview follows the text as it is typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_survey_preview_follows_the_text_as_it_is_typed() {
    if !available() {
        return;
    }
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = crate::common::outreach::study(&db, &[me], Default::default()).await;
    let b = Browser::start().await;
    b.sign_in(&app.base, "researcher@test.example", PASSWORD).await;
    b.goto(&format!("{}/studies/{}/surveys", app.base, s.id)).await;
    b.wait_for("#survey-preview fieldset.question").await;
    b.set_value("textarea[name=definition]", "text* What would make it worth opening? | 怎样才值得打开？").await;
    for _ in 0..50 {
        if b.text("#survey-preview").await.contains("What would make it worth opening?") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let preview = b.text("#survey-preview").await;
    assert!(preview.contains("What would make it worth opening?"), "{preview}");
    assert_eq!(b.count("#survey-preview textarea").await, 1, "a free-text question, as respondents will see it");
    b.set_value("textarea[name=definition]", "likert How?\nfoo Bar?").await;
    for _ in 0..50 {
        if b.count("#survey-preview fieldset").await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(b.count("#survey-preview fieldset").await, 0, "no preview of a survey that does not read");
    b.screenshot("survey-builder-preview").await;
    b.quit().await;
    app.finish().await;
}
