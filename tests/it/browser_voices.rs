//! The voices flow in headless Chromium, end to end: the researcher writes
//! and sends a pulse survey, records an interview (consent, notes, codes, a
//! root cause) and two quotes, one cleared for managers; a person answers
//! the survey from their link without an account; the report then shows the
//! research team every quote (the uncleared one marked) and a manager only
//! the cleared one, no notes and no names; and the manager's report prints
//! to A4 in English and Chinese: the summary on the first page, no page
//! nearly empty, every page numbered ("2 / 3") with the study, the date and
//! the people at its foot, and no navigation. Screenshots (1440 and 390
//! pixels wide, both languages) and the PDFs go to target/screenshots.

use crate::common::browser::{Browser, available};
use crate::common::outreach::{invite_all, outreach, people, round, study};
use crate::common::web::{PASSWORD, TestApp, import_fixture};
use chrono::{TimeDelta, Utc};
use undercurrent::app::{participant, settings};
use undercurrent::domain::codebook::Consent;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::storage::{Db, accounts, availability, directory, interviews, outbox, surveys};

/// Fixture, people, the researcher free in two days, a study and a round
/// with p000 booked with the researcher (as tests/web_interviews.rs does);
/// returns the study and the booking.
async fn booked(app: &TestApp) -> (i64, i64) {
    let db = &app.t.db;
    import_fixture(db).await;
    people(db, 1).await;
    let me = accounts::find_for_login(db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let start = (Utc::now() + TimeDelta::days(2)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let profile =
        availability::Profile { account_id: me, timezone: "UTC".into(), buffer_minutes: 0, min_notice_minutes: 0 };
    availability::save_profile(db, &profile).await.unwrap();
    availability::add_one_off(db, me, start.timestamp(), (start + TimeDelta::hours(1)).timestamp()).await.unwrap();
    let s = study(db, &[me], ContactRules::default()).await;
    let now = Utc::now();
    let r = round(db, &s, &["p000"], now).await;
    let (inv, token) = invite_all(db, &r, now).await.remove(0);
    let booking = participant::book(db, &outreach(&app.base), &token, &inv, &s, me, start, chrono_tz::UTC, now)
        .await
        .unwrap()
        .unwrap();
    (s.id, booking)
}

/// The personal links of the survey e-mails in the outbox ("/s/" and 64 hex digits).
async fn survey_tokens(db: &Db) -> Vec<String> {
    let mut tokens = Vec::new();
    for m in outbox::all(db).await.unwrap().into_iter().filter(|m| m.kind == "survey") {
        // The outbox keeps placeholders; the links are rendered when sending.
        let body = undercurrent::app::outbox::rendered_body(db, &m).await.unwrap();
        let i = body.find("/s/").expect("a survey link") + 3;
        let token: String = body[i..].chars().take_while(char::is_ascii_hexdigit).collect();
        assert_eq!(token.len(), 64, "{body}");
        tokens.push(token);
    }
    tokens
}

/// Runs a poppler tool on a file; None when the tool is not installed.
fn poppler(tool: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(tool).args(args).output().ok()?;
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Pages of a PDF without a parser: page objects are `/Type /Page` (the
/// page tree is `/Type /Pages`); Chromium writes them uncompressed.
fn count_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let bare = text.replace("/Type /Pages", "");
    bare.matches("/Type /Page").count() + bare.matches("/Type/Page").count() - bare.matches("/Type/Pages").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voices_travel_from_interview_and_survey_to_the_report_and_its_pdf() {
    if !available() {
        return;
    }
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let (study_id, booking) = booked(&app).await;
    let base = &app.base;
    let codes = interviews::codes(&db, study_id).await.unwrap();
    let code = |key: &str| codes.iter().find(|c| c.key == key).unwrap_or_else(|| panic!("code {key}"));
    let notes = "Punches in at 9:00, then the whole team talks in WeChat groups.";
    let cleared = "I only open it to punch in.";
    let private = "My manager reads every channel, so I say nothing there.";
    let survey_title = "Pulse after the interviews";

    let b = Browser::start().await;
    b.sign_in(base, "researcher@test.example", PASSWORD).await;

    // A survey for the study from the example text (a Likert, a single
    // choice, an NPS and a free-text question), sent to two people.
    b.goto(&format!("{base}/studies/{study_id}/surveys")).await;
    b.wait_for("#new-survey").await;
    assert!(b.value("textarea[name=definition]").await.starts_with("likert* How useful"), "the example");
    b.type_into("#new-survey input[name=title]", survey_title).await;
    b.click("#create-survey").await;
    b.wait_for("#send-survey").await;
    assert_eq!(b.count("#error").await, 0);
    let survey = surveys::for_study(&db, study_id).await.unwrap().remove(0);
    assert_eq!(survey.title, survey_title);
    assert!(b.url().await.ends_with(&format!("/studies/{study_id}/surveys/{}", survey.id)), "{}", b.url().await);
    b.type_into("input[name=size]", "2").await;
    b.click("#send-survey").await;
    b.wait_for("#message").await;
    assert!(b.text("#message").await.contains("invitations queued"), "{}", b.text("#message").await);
    let sent = surveys::invitations(&db, survey.id).await.unwrap();
    let tokens = survey_tokens(&db).await;
    assert!(!sent.is_empty() && sent.len() <= 2, "{} sent", sent.len());
    assert_eq!(tokens.len(), sent.len(), "one e-mail per invitation");
    b.screenshot_full("survey-sent").await;

    // The interview: consent, notes, three codes, a root cause; saved.
    let path = format!("/interviews/{booking}");
    b.goto(&format!("{base}{path}")).await;
    b.wait_for("#interview-form").await;
    assert_eq!(b.count("#codes input[name=code]:checked").await, 0, "nothing recorded yet");
    b.click("#interview-form input[name=consent][value=yes]").await;
    b.set_value("#interview-form input[name=consent_on]", "2026-12-01").await;
    b.type_into("#notes", notes).await;
    let ticked = [code("check_in_only"), code("other_channel"), code("learning_cost")];
    for c in ticked {
        b.click(&format!("#codes input[name=code][value='{}']", c.id)).await;
    }
    assert_eq!(b.count("#codes input[name=code]:checked").await, 3);
    b.click("#root-cause option[value=check_in_only]").await;
    assert_eq!(b.value("#root-cause").await, "check_in_only");
    b.click("#save-interview").await;
    b.wait_for("#saved").await;
    assert_eq!(b.count("#error").await, 0);
    assert!(b.url().await.contains("saved=1"), "{}", b.url().await);
    // The page shows what was saved, and so does the database.
    assert_eq!(b.value("#notes").await, notes);
    assert_eq!(b.count("#interview-form input[name=consent][value=yes]:checked").await, 1);
    assert_eq!(b.value("#interview-form input[name=consent_on]").await, "2026-12-01");
    assert_eq!(b.count("#codes input[name=code]:checked").await, 3);
    assert_eq!(b.value("#root-cause").await, "check_in_only");
    let interview = interviews::for_booking(&db, booking, 0).await.unwrap();
    assert_eq!(
        (interview.consent.map(Consent::as_str), interview.consent_on.as_deref()),
        (Some("yes"), Some("2026-12-01"))
    );
    assert_eq!(interview.notes, notes);
    assert_eq!(interview.root_cause, "check_in_only");
    let mut stored = interviews::codes_of(&db, interview.id).await.unwrap();
    stored.sort();
    let mut expected: Vec<i64> = ticked.iter().map(|c| c.id).collect();
    expected.sort();
    assert_eq!(stored, expected);
    b.screenshot_full("interview-saved").await;

    // Two quotes, the first cleared for managers.
    for (n, (text, shareable, key)) in
        [(cleared, true, "check_in_only"), (private, false, "other_channel")].into_iter().enumerate()
    {
        b.type_into("#quotes textarea[name=text]", text).await;
        if shareable {
            b.click("#quotes input[name=shareable]").await;
        }
        b.click(&format!("#quotes select[name=code] option[value='{}']", code(key).id)).await;
        b.click("#add-quote").await;
        b.wait_for_count("#quotes ul.quotes > li", n + 1).await;
        assert_eq!(b.count("#error").await, 0);
    }
    let listed = b.texts("#quotes ul.quotes > li").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed[0].contains(cleared) && listed[0].contains("May be shown to managers"), "{listed:?}");
    assert!(listed[0].contains(&code("check_in_only").label_en), "{listed:?}");
    assert!(listed[1].contains(private) && listed[1].contains("Research team only"), "{listed:?}");
    let quotes = interviews::quotes(&db, interview.id).await.unwrap();
    assert_eq!(quotes.iter().map(|q| (q.text.as_str(), q.shareable)).collect::<Vec<_>>(), [(cleared, 1), (private, 0)]);
    b.screenshot_full("interview-quotes").await;

    // A person answers the survey from their e-mail, without an account.
    b.sign_out().await;
    b.goto(&format!("{base}/s/{}", tokens[0])).await;
    b.wait_for("#survey").await;
    assert_eq!(b.count("header nav").await, 0, "no account needed");
    assert_eq!(b.count("#survey fieldset.question").await, 4);
    assert!(b.text("#q0 legend").await.contains("How useful"), "{}", b.text("#q0 legend").await);
    b.click("#q0 input[value='4']").await;
    b.click("#q1 input[value='1']").await;
    b.click("#q2 input[value='9']").await;
    b.type_into("#q3 textarea", "Fewer groups elsewhere").await;
    b.screenshot_full("survey-answer").await;
    b.click("#submit-survey").await;
    b.wait_for("#thanks").await;
    assert_eq!(b.count("#error").await, 0);
    b.screenshot("survey-thanks").await;
    let answered = surveys::responses(&db, survey.id).await.unwrap();
    assert_eq!(answered.len(), 1);
    assert!(answered[0].2.contains("Fewer groups elsewhere"), "{:?}", answered[0]);
    let respondent = surveys::invitations(&db, survey.id).await.unwrap();
    let respondent = respondent.iter().find(|i| i.responded_at.is_some()).expect("the invitation is answered");
    let respondent = directory::get(&db, respondent.person_id).await.unwrap().unwrap();
    let interviewee = directory::get(&db, interview_person(&db, booking).await).await.unwrap().unwrap();

    // With a floor of 1 a manager may see these small groups.
    settings::set(&db, "privacy_floor", "1").await.unwrap();
    let report = format!("{base}/studies/{study_id}/report");
    let sections = ["summary", "evidence", "why", "voices", "after", "surveys", "actions"];

    // The research team: both quotes, the uncleared one marked.
    b.sign_in(base, "researcher@test.example", PASSWORD).await;
    b.goto(&report).await;
    b.wait_for("#voices").await;
    for id in sections {
        assert_eq!(b.count(&format!("section#{id}")).await, 1, "section {id}");
    }
    let voices = b.texts("#voices ul.quotes > li").await;
    assert_eq!(voices.len(), 2, "{voices:?}");
    let quote = |text: &str| voices.iter().find(|v| v.contains(text)).unwrap_or_else(|| panic!("{text}: {voices:?}"));
    assert!(quote(private).contains("Research team only"), "{voices:?}");
    assert!(!quote(cleared).contains("Research team only"), "{voices:?}");
    assert!(b.text("#why").await.contains(&code("other_channel").label_en), "the codes by tier");
    assert!(b.text("#surveys").await.contains(survey_title), "{}", b.text("#surveys").await);
    b.screenshot_full("report-researcher").await;
    b.sign_out().await;

    // A manager: the cleared quote only; no notes, no people.
    b.sign_in(base, "manager@test.example", PASSWORD).await;
    b.goto(&report).await;
    b.wait_for("#voices").await;
    for id in sections {
        assert_eq!(b.count(&format!("section#{id}")).await, 1, "section {id}");
    }
    let voices = b.texts("#voices ul.quotes > li").await;
    assert_eq!(voices.len(), 1, "{voices:?}");
    assert!(voices[0].contains(cleared) && !voices[0].contains("Research team only"), "{voices:?}");
    let page = b.source().await;
    let text = b.text("body").await;
    assert!(!page.contains(private), "an uncleared quote never reaches a manager");
    assert!(!page.contains(notes) && !page.contains("WeChat groups"), "interview notes never reach a manager");
    for person in [&interviewee, &respondent] {
        let name = person.name.clone().unwrap_or_default();
        let email = person.email.clone().unwrap_or_default();
        for p in [person.user_id.as_str(), name.as_str(), email.as_str()] {
            assert!(p.is_empty() || !page.contains(p), "no person is named on a manager's report: {p}");
        }
    }
    assert!(!page.contains("@corp.example"), "no address of anybody in the directory");
    assert_eq!(b.count("#hidden-tiers").await, 0, "nothing under the floor of 1");
    assert!(text.contains("Silent (n = 1)"), "the interviewed tier: {}", b.text("#why").await);
    assert!(b.text("#surveys").await.contains(survey_title), "{}", b.text("#surveys").await);
    assert!(b.count("#surveys table.survey-result").await > 0, "the survey answers, by tier");
    b.screenshot_full("report-manager").await;

    // The summary: the headline figures, three findings, reasons by tier
    // and the cleared quote.
    assert_eq!(b.count("#summary #headline .figure .value").await, 3);
    assert_eq!(b.count("#findings > li").await, 3);
    let findings = b.texts("#findings > li").await;
    assert!(findings[1].contains("Among silent people interviewed (n = 1)"), "{findings:?}");
    assert!(b.text("#summary-quotes").await.contains(cleared));
    assert!(b.count("#departments-chart svg").await == 1 && b.count("#reasons-chart svg").await == 1);
    let meta = b.text(".report-meta").await;
    let people = meta.split(" · ").nth(1).expect("the people in the numbers").to_string();
    assert!(people.ends_with(" people"), "{meta}");
    let count = people.split(' ').next().unwrap().to_string();

    // On a wide screen and on a phone, in both languages; nothing wider
    // than a phone's screen.
    for (lang, code) in [("en", "en"), ("zh", "zh-CN")] {
        if code != "en" {
            b.set_value("#lang-select", code).await;
            b.wait_for(&format!("html[lang='{code}']")).await;
            b.goto(&report).await;
            b.wait_for("#findings").await;
        }
        for width in [1440, 390] {
            b.set_width(width).await;
            let (over, what) = b.overflow_x().await;
            assert!(over <= 0, "{lang} at {width}px: {over}px too wide: {what}");
            b.screenshot_full(&format!("report-{lang}-{width}")).await;
        }
        b.set_width(1300).await;
        print_and_check(&b, lang, &count, [cleared, private, notes]).await;
    }
    b.quit().await;
    app.finish().await;
}

/// Prints the signed-in tab's report to A4 and checks it as a document:
/// the summary with the headline and findings on page 1; pages enough for
/// the content and none nearly empty; "n / N", the date and the people at
/// the foot of every page; the cleared quote, nothing uncleared, no
/// navigation. The issue asked for `chromium --print-to-pdf`, but that
/// starts a browser of its own with no session, and the report is only for
/// signed-in accounts (it would print the login page). WebDriver's "Print
/// Page" prints this signed-in tab through the same Chromium print path
/// (print media, @page size, margins and margin boxes, page breaks).
async fn print_and_check(b: &Browser, lang: &str, people: &str, [cleared, private, notes]: [&str; 3]) {
    let name = if lang == "en" { "report".to_string() } else { format!("report-{lang}") };
    let pdf = b.print_pdf(&name).await;
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/screenshots/{name}.pdf"));
    let file = file.to_str().unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let pages = match poppler("pdfinfo", &[file]) {
        Some(info) => {
            assert!(info.contains("(A4)"), "printed on A4: {info}");
            let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
            line["Pages:".len()..].trim().parse::<usize>().unwrap()
        }
        None => count_pages(&pdf),
    };
    let Some(text) = poppler("pdftotext", &["-layout", file, "-"]) else {
        eprintln!("pdftotext not installed (poppler-utils): the PDF's text is not checked");
        return;
    };
    // pdftotext ends every page with a form feed.
    let printed: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(printed.len(), pages, "{text}");
    let (as_of, headline, findings, summary) = match lang {
        "en" => ("Numbers as of", "of people log in", "What the numbers say", "Summary"),
        _ => ("数据截至", "的人会登录", "数据说明了什么", "摘要"),
    };
    let mut body_lines = 0;
    for (i, p) in printed.iter().enumerate() {
        let squeezed: String = p.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(squeezed.contains(&format!("{}/{pages}", i + 1)), "page {} of {pages} numbered: {p}", i + 1);
        assert!(p.contains(as_of) && p.contains(people), "the date and the people on page {}: {p}", i + 1);
        let lines = p.lines().filter(|l| !l.trim().is_empty() && !l.contains(as_of)).count();
        // A page holding two lines is a wasted sheet: every page but the
        // last is at least a third full, the last holds a few lines.
        let least = if i + 1 < pages { 15 } else { 3 };
        assert!(lines >= least, "{lang} page {} has only {lines} lines:\n{p}", i + 1);
        body_lines += lines;
    }
    // Pages enough for the content, no more: about 20 lines or more each.
    assert!(pages <= body_lines / 20 + 1, "{pages} pages for {body_lines} lines");
    let first = printed[0];
    for part in [summary, headline, findings] {
        assert!(first.contains(part), "the summary on page 1: {part}\n{first}");
    }
    assert!(text.contains(cleared) && !text.contains(private) && !text.contains(notes), "{text}");
    for chrome in ["Undercurrent", "Sign out", "manager@test.example", "CSV", "JSON", "English"] {
        assert!(!text.contains(chrome), "no navigation or links printed: {chrome}\n{text}");
    }
}

/// The person a booking is with.
async fn interview_person(db: &Db, booking: i64) -> i64 {
    use undercurrent::storage::{bookings, invitations};
    let b = bookings::get(db, booking).await.unwrap().unwrap();
    invitations::get(db, b.invitation_id).await.unwrap().unwrap().person_id
}
