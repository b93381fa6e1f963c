//! The combined report: codes by tier and quotes against hand-computed
//! numbers, what a manager sees under the privacy floor against what the
//! research team sees, and the downloads.

use crate::common::outreach::*;
use crate::common::web::{TestApp, import_fixture};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::app::{participant, settings};
use undercurrent::domain::account::Role;
use undercurrent::domain::codebook::Consent;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::storage::{Db, accounts, interviews};

async fn set_tier(db: &Db, invitation: i64, tier: &str) {
    let sql = "UPDATE invitations SET tier = $1 WHERE id = $2";
    match db {
        Db::Sqlite(p) => sqlx::query(sql).bind(tier).bind(invitation).execute(p).await.map(drop).unwrap(),
        Db::Postgres(p) => sqlx::query(sql).bind(tier).bind(invitation).execute(p).await.map(drop).unwrap(),
    }
}

#[tokio::test]
async fn the_report_counts_reasons_by_tier_and_respects_roles_and_the_floor() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    people(&db, 4).await;
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let start = (Utc::now() + TimeDelta::days(2)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    free(&db, me, "UTC", start, start + TimeDelta::hours(2)).await;
    let s = study(&db, &[me], ContactRules::default()).await;
    let now = Utc::now();
    let r = round(&db, &s, &["p000", "p001", "p002", "p003"], now).await;
    let invited = invite_all(&db, &r, now).await;
    let codes = interviews::codes(&db, s.id).await.unwrap();
    let code = |key: &str| codes.iter().find(|c| c.key == key).unwrap().id;
    // Three silent people and one shallow, with their codes and quotes.
    type Plan<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, bool)]);
    let plan: [Plan; 4] = [
        ("silent", &["check_in_only", "other_channel"], &[("I only punch in.", true)]),
        ("silent", &["check_in_only"], &[("Secret: my boss reads it.", false)]),
        ("silent", &["check_in_only", "learning_cost"], &[]),
        ("shallow", &["learning_cost"], &[("Nobody showed me how.", true)]),
    ];
    let out = outreach(&app.base);
    for (k, ((inv, token), (tier, keys, quotes))) in invited.iter().zip(plan.iter()).enumerate() {
        set_tier(&db, inv.id, tier).await;
        let slot = start + TimeDelta::minutes(30 * k as i64);
        let b = participant::book(&db, &out, token, inv, &s, me, slot, chrono_tz::UTC, now).await.unwrap().unwrap();
        let i = interviews::for_booking(&db, b, 0).await.unwrap();
        let record = interviews::Record {
            consent: Some(Consent::Yes),
            codes: keys.iter().map(|k| code(k)).collect(),
            ..Default::default()
        };
        interviews::save(&db, i.id, i.version, &record, me, 0).await.unwrap();
        for (text, shareable) in quotes.iter() {
            interviews::add_quote(&db, i.id, text, *shareable, Some(code(keys[0])), me, 0).await.unwrap();
        }
    }

    let path = format!("/studies/{}/report", s.id);
    let mut researcher = app.signed_in(Role::Researcher).await;
    let (status, page) = researcher.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    for id in ["summary", "headline", "findings", "evidence", "why", "voices", "after", "surveys", "actions"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    // The summary comes first, its charts after it.
    let at = |id: &str| page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id}"));
    assert!(
        at("summary") < at("evidence") && at("evidence") < at("departments-chart") && at("why") < at("reasons-chart")
    );
    assert!(at("reasons-chart") < at("codes-by-tier"), "each chart keeps its table");
    // Hand-computed: silent n = 3 (check-ins 3, other channel 1, learning 1); shallow n = 1 (learning 1).
    assert!(page.contains("Silent (n = 3)") && page.contains("Shallow (n = 1)"), "{page}");
    let row = |label: &str| {
        let i = page.find(&format!("<th scope=\"row\">{label}</th>")).unwrap_or_else(|| panic!("{label} row"));
        page[i..i + page[i..].find("</tr>").unwrap()].to_string()
    };
    let checkins = row("Only check-ins and notifications");
    assert!(checkins.contains("<td>0 (0%)</td>") && checkins.contains("<td>3 (100%)</td>"), "{checkins}");
    let learning = row("Learning cost / still adapting");
    assert!(learning.contains("<td>1 (100%)</td>") && learning.contains("<td>1 (33"), "{learning}");
    // The research team sees every quote, the uncleared one marked.
    assert!(page.contains("Secret: my boss reads it.") && page.contains("Research team only"));
    assert!(
        page.contains("Find the work problems") || page.contains("Move one real workflow"),
        "actions follow the top codes"
    );

    // A manager, with the floor at 2: the shallow tier (1 interview) is
    // below it; shown beside the total of 4, silent (3) would give it away,
    // so the two tiers are counted together. Quotes show only from tiers
    // shown on their own: the page says how many are held back, and why.
    settings::set(&db, "privacy_floor", "2").await.unwrap();
    let mut manager = app.signed_in(Role::Manager).await;
    let (status, page) = manager.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Shallow, Silent together (n = 4)"), "{page}");
    assert!(!page.contains("Silent (n = 3)"), "silent alone would reveal shallow's 1");
    let checkins = page[page.find("<th scope=\"row\">Only check-ins and notifications</th>").unwrap()..].to_string();
    assert!(checkins[..checkins.find("</tr>").unwrap()].contains("<td>3 (75%)</td>"), "{checkins}");
    assert!(!page.contains("Shallow (n = 1)"), "{page}");
    assert!(page.contains("id=\"hidden-tiers\""));
    assert!(!page.contains("I only punch in."), "a quote from a tier not shown on its own");
    assert!(
        page.contains("Among Shallow, Silent together (n = 4), the top reason is “Only check-ins and notifications” (3 of 4, 75%)."),
        "the silent finding reads the merged group: {page}"
    );
    assert!(!page.contains("id=\"summary-quotes\""), "no quote a manager may not read reaches the summary");
    assert!(page.contains("2 quotes were cleared for sharing and are not shown here"), "{page}");
    assert!(!page.contains("No quotes cleared for sharing yet"));
    assert!(!page.contains(&format!("href=\"/studies/{}\"", s.id)), "no link to a page a manager may not open");
    assert!(!page.contains("Secret: my boss reads it."), "uncleared quotes never reach managers");
    assert!(!page.contains("Nobody showed me how."), "a quote from a tier below the floor");
    for p in ["p000", "Person 0", "p000@corp.example"] {
        assert!(!page.contains(p), "no person is named: {p}");
    }
    // With the default floor of 5 nothing of the interviews shows, and the
    // report says what exists and why it is not broken down.
    settings::set(&db, "privacy_floor", "5").await.unwrap();
    let (_, page) = manager.get(&path).await;
    assert!(!page.contains("I only punch in.") && !page.contains("Silent (n = 3)"));
    assert!(!page.contains("together (n ="), "4 interviews cannot reach a floor of 5 even together");
    assert!(page.contains("4 interviews were coded; tiers with fewer than 5 are not broken down"), "{page}");
    assert!(page.contains("4 interviews were coded, too few to break down under the privacy floor (5)"), "{page}");
    assert!(!page.contains("Among silent people"), "{page}");
    assert!(page.contains("(total: 4)"), "the headline's total matches what the report says exists");
    for silent in ["No interviews recorded yet", "No quotes cleared for sharing yet", "once interviews are coded"] {
        assert!(!page.contains(silent), "nothing is said to be missing that exists: {silent}");
    }
    assert!(page.contains("2 quotes were cleared for sharing"), "{page}");
    assert!(page.contains("which show once at least 5 interviews are coded (4 so far)"), "{page}");

    // Downloads follow the same rules.
    let (status, body) = manager.get(&format!("{path}.json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["quotes"].as_array().unwrap().len(), 0);
    assert_eq!(json["privacy_floor"], 5);
    assert_eq!((json["interviews_coded"].as_u64(), json["interviews"].as_u64()), (Some(4), Some(0)));
    assert_eq!((json["interviews_not_broken_down"].as_bool(), json["quotes_withheld"].as_u64()), (Some(true), Some(2)));
    assert!(json["codes"].as_array().unwrap().is_empty() && json["tier_columns"].as_array().unwrap().len() == 1);
    let (status, body) = researcher.get(&format!("{path}.json")).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["interviews"], 4);
    // The findings: the department with the widest gap (read back from the
    // departments table), the top reason among silent people, outreach.
    let findings: Vec<&str> = json["findings"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(findings.len(), 3, "{findings:?}");
    assert_eq!(findings[0], widest_gap_sentence(&json), "{findings:?}");
    assert_eq!(
        findings[1],
        "Among silent people interviewed (n = 3), the top reason is “Only check-ins and notifications” (3 of 3, 100%)."
    );
    assert!(findings[2].contains("outreach"), "{findings:?}");
    let tops = json["top_reasons"].as_array().unwrap();
    assert_eq!(tops.iter().map(|t| t["tier"].as_str().unwrap()).collect::<Vec<_>>(), ["Shallow", "Silent"]);
    assert_eq!(tops[1]["reasons"][0], "Only check-ins and notifications (100%)");
    let summary_quotes: Vec<&str> =
        json["summary_quotes"].as_array().unwrap().iter().map(|q| q["text"].as_str().unwrap()).collect();
    assert_eq!(
        summary_quotes,
        ["I only punch in.", "Nobody showed me how.", "Secret: my boss reads it."],
        "cleared first"
    );
    assert_eq!(json["codes"][0]["key"], "check_in_only");
    assert_eq!(json["codes"][0]["total"], 3);
    let (status, body) = researcher.get(&format!("{path}.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("codes_by_tier,Only check-ins and notifications"), "{body}");
    assert!(body.contains("departments,"), "{body}");
    app.finish().await;
}

/// The gap finding's sentence as the departments table of a report's JSON
/// gives it: the widest login-minus-deep gap among departments with at
/// least 10 people whose depth is measurable.
fn widest_gap_sentence(json: &serde_json::Value) -> String {
    let columns: Vec<&str> =
        json["department_columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let col = |name: &str| columns.iter().position(|c| *c == name).unwrap_or_else(|| panic!("{name}: {columns:?}"));
    let (login, deep, base) = (col("Login rate"), col("Deep rate"), col("Deep rate over (people)"));
    let pct = |s: &str| s.trim_end_matches('%').parse::<f64>().ok();
    let mut best: Option<(f64, Vec<String>)> = None;
    for row in json["departments"].as_array().unwrap() {
        let row: Vec<String> = row.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        let n: u32 = row[base].replace(',', "").parse().unwrap();
        let (Some(l), Some(d)) = (pct(&row[login]), pct(&row[deep])) else { continue };
        if n >= 10 && best.as_ref().is_none_or(|(g, _)| l - d > *g + 1e-9) {
            best = Some((l - d, row));
        }
    }
    let (gap, row) = best.expect("a department of at least 10");
    format!(
        "{} has the widest gap: {} of its people log in, but only {} use the tool deeply ({} points, n = {}).",
        row[0],
        row[login],
        row[deep],
        format!("{gap:.1}").trim_end_matches(".0"),
        row[base]
    )
}

/// The report's print stylesheet puts the study, the date and the people
/// at the foot of every printed page, escaped as CSS, and a manager under
/// the floor reads no head count there either.
#[tokio::test]
async fn every_printed_page_names_the_study_the_date_and_the_people() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    let mut manager = app.signed_in(Role::Manager).await;
    let (status, page) = manager.get(&format!("/studies/{}/report", s.id)).await;
    assert_eq!(status, StatusCode::OK);
    let sheet = format!("/studies/{}/report.print.css", s.id);
    assert!(page.contains(&format!("<link rel=\"stylesheet\" href=\"{sheet}\" media=\"print\">")), "{page}");
    let (status, css) = manager.get(&sheet).await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.starts_with("@page { @bottom-left { content: \""), "{css}");
    let people = page.split("class=\"report-meta\">").nth(1).unwrap().split(" people").next().unwrap();
    let people = people.rsplit(' ').next().unwrap();
    assert!(people.replace(',', "").parse::<u32>().unwrap() > 50, "{people}");
    assert!(css.contains("Numbers as of ") && css.contains(&format!("{people} people")), "{css}");
    assert_eq!(css.matches('"').count(), 2, "one string, its own quotes escaped: {css}");
    // Under the floor: no count.
    settings::set(&db, "privacy_floor", "1000").await.unwrap();
    let (_, css) = manager.get(&sheet).await;
    assert!(css.contains("fewer than 1000 people") && !css.contains(&format!("{people} people")), "{css}");
    let (_, page) = manager.get(&format!("/studies/{}/report", s.id)).await;
    assert!(page.contains("fewer than 1000 people"), "{page}");
    let mut anonymous = app.client();
    assert_eq!(anonymous.get(&sheet).await.0, StatusCode::SEE_OTHER);
    let mut zh = app.signed_in(Role::Researcher).await;
    zh.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    let (_, css) = zh.get("/report.print.css").await;
    assert!(css.contains("数据截至") && css.contains(" 人"), "{css}");
    app.finish().await;
}

#[tokio::test]
async fn the_overall_report_gathers_every_study_for_every_role() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let me = accounts::find_for_login(&app.t.db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let a = study(&app.t.db, &[me], ContactRules::default()).await;
    let b = study(&app.t.db, &[me], ContactRules::default()).await;
    for role in [Role::Admin, Role::Researcher, Role::Analyst, Role::Manager] {
        let mut c = app.signed_in(role).await;
        let (status, page) = c.get("/report").await;
        assert_eq!(status, StatusCode::OK, "{role}");
        assert!(page.contains("All studies"));
        assert!(
            page.contains(&format!("/studies/{}/report", a.id)) && page.contains(&format!("/studies/{}/report", b.id))
        );
        assert!(page.contains("href=\"/report\""), "the report is in the navigation");
        assert_eq!(c.get("/report.json").await.0, StatusCode::OK);
        assert_eq!(c.get("/report.csv").await.0, StatusCode::OK);
    }
    let mut anonymous = app.client();
    assert_eq!(anonymous.get("/report").await.0, StatusCode::SEE_OTHER);
    app.finish().await;
}

/// Survey results in the report: the research team sees every tier; a
/// manager sees tiers below the floor counted together, and the number of
/// responses always matches what the tables add up to.
#[tokio::test]
async fn survey_results_merge_small_tiers_for_managers_and_say_so() {
    use undercurrent::domain::survey::{Answer, parse_definition};
    use undercurrent::storage::surveys;
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    let questions = serde_json::to_string(&parse_definition("likert* Useful?\n").unwrap()).unwrap();
    let survey = surveys::insert(&db, s.id, "Pulse", &questions, me, 0).await.unwrap();
    let now = Utc::now().timestamp();
    for (tier, n) in [("deep", 5), ("silent", 2), ("shallow", 1)] {
        for _ in 0..n {
            let answers = serde_json::to_string(&vec![Some(Answer::Scale(4))]).unwrap();
            surveys::respond(&db, survey, None, Some(tier), None, &answers, now).await.unwrap();
        }
    }
    let path = format!("/studies/{}/report", s.id);
    let row = |page: &str, label: &str| -> Option<String> {
        let i = page.find(&format!("<th scope=\"row\">{label}</th>"))?;
        Some(page[i..i + page[i..].find("</tr>").unwrap()].to_string())
    };
    let mut researcher = app.signed_in(Role::Researcher).await;
    let (_, page) = researcher.get(&path).await;
    assert!(page.contains("responses: 8"), "{page}");
    assert!(row(&page, "Deep").unwrap().contains("<td>5</td>"));
    assert!(row(&page, "Shallow").unwrap().contains("<td>1</td>"));

    // Floor 3: silent (2) and shallow (1) together reach it; deep is shown alone.
    settings::set(&db, "privacy_floor", "3").await.unwrap();
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get(&path).await;
    assert!(page.contains("responses: 8"), "{page}");
    assert!(row(&page, "Deep").unwrap().contains("<td>5</td>"));
    assert!(row(&page, "Shallow, Silent together").unwrap().contains("<td>3</td>"), "{page}");
    assert!(row(&page, "Shallow").is_none() && row(&page, "Silent").is_none());
    assert!(page.contains("fewer responses than the privacy floor"), "the hint speaks of responses");

    // Floor 5: together they are 3, so deep joins them; nothing is shown
    // alone, and the 8 responses are all there.
    settings::set(&db, "privacy_floor", "5").await.unwrap();
    let (_, page) = manager.get(&path).await;
    assert!(row(&page, "Deep").is_none(), "deep alone beside the 8 responses would give the other 3 away");
    assert!(row(&page, "Deep, Shallow, Silent together").unwrap().contains("<td>8</td>"), "{page}");
    let (_, body) = manager.get(&format!("{path}.json")).await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["surveys"][0]["responses"], 8);
    assert_eq!(json["surveys"][0]["questions"][0]["rows"].as_array().unwrap().len(), 1);

    // Floor 9: not even all of them together; the report says so rather
    // than "no answers".
    settings::set(&db, "privacy_floor", "9").await.unwrap();
    let (_, page) = manager.get(&path).await;
    assert!(row(&page, "Deep, Shallow, Silent together").is_none());
    assert!(!page.contains("No answers yet") && page.contains("fewer responses than the privacy floor"), "{page}");
    app.finish().await;
}

/// Every voice: free-text answers reach the research team with the tier
/// and department at answer time, and managers only once cleared, without
/// the department and from tiers above the floor (the rest held back and
/// counted); distributions show each share with its n, a small NPS carries
/// a caution, and the CSV and JSON carry the same.
#[tokio::test]
async fn survey_voices_reach_managers_only_when_cleared_and_above_the_floor() {
    use undercurrent::domain::survey::{Answer, parse_definition};
    use undercurrent::storage::surveys;
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    let definition = "likert* Useful?\nsingle Where?\n- Here\n- Phone\nnps Recommend?\ntext Anything else?\n";
    let questions = serde_json::to_string(&parse_definition(definition).unwrap()).unwrap();
    let survey = surveys::insert(&db, s.id, "Pulse", &questions, me, 0).await.unwrap();
    let now = Utc::now().timestamp();
    // Deep: 5 responses (likert 4, 4, 4, 5, 2; "Here" 3 of 5; NPS 10 x4 and 3).
    // Silent: 2 responses; shallow: 1.
    let answers = |likert: u8, choice: usize, nps: u8, text: &str| {
        serde_json::to_string(&vec![
            Some(Answer::Scale(likert)),
            Some(Answer::Choice(choice)),
            Some(Answer::Scale(nps)),
            Some(Answer::Text(text.into())),
        ])
        .unwrap()
    };
    for (i, (l, c, n)) in [(4, 0, 10), (4, 0, 10), (4, 0, 10), (5, 1, 10), (2, 1, 3)].into_iter().enumerate() {
        let text = format!("Deep voice {i}");
        surveys::respond(&db, survey, None, Some("deep"), Some("Zebra Team"), &answers(l, c, n, &text), now)
            .await
            .unwrap();
    }
    for i in 0..2 {
        let text = format!("Silent voice {i}");
        surveys::respond(&db, survey, None, Some("silent"), Some("Quokka Team"), &answers(1, 1, 2, &text), now)
            .await
            .unwrap();
    }
    let shallow = answers(3, 0, 8, "Shallow voice 0");
    surveys::respond(&db, survey, None, Some("shallow"), Some("Quokka Team"), &shallow, now).await.unwrap();
    let stored = surveys::responses_with_ids(&db, survey).await.unwrap();
    let id_of = |text: &str| stored.iter().find(|r| r.answers.contains(text)).unwrap().id;

    // The research team: every answer, with tier and department, on the
    // survey's answers page and in the report.
    let mut researcher = app.signed_in(Role::Researcher).await;
    let answers_path = format!("/studies/{}/surveys/{survey}/answers", s.id);
    let (status, page) = researcher.get(&answers_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Deep voice 4") && page.contains("Silent voice 1") && page.contains("Quokka Team"), "{page}");
    let survey_page = format!("/studies/{}/surveys/{survey}", s.id);
    let (_, page) = researcher.get(&survey_page).await;
    assert!(page.contains("Free-text answers (8)"), "{page}");
    assert!(page.contains("60% (3 of 5)"), "a choice's share with its n: {page}");
    assert!(page.contains("<svg"), "the distribution as stacked bars");
    assert!(page.contains("Fewer than 30 answers"), "a small NPS is cautioned: {page}");

    // Clear two deep answers, a silent and a shallow one; one deep answer is
    // cleared and withdrawn again.
    for text in ["Deep voice 0", "Deep voice 1", "Silent voice 0", "Shallow voice 0", "Deep voice 2"] {
        let (status, _, _) =
            researcher.post(&format!("{answers_path}/{}/3/clear", id_of(text)), &[("cleared", "1")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    researcher.post(&format!("{answers_path}/{}/3/clear", id_of("Deep voice 2")), &[("cleared", "0")]).await;
    // Only text questions are cleared, only responses of this survey.
    let (status, _, _) =
        researcher.post(&format!("{answers_path}/{}/0/clear", id_of("Deep voice 3")), &[("cleared", "1")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = researcher.post(&format!("{answers_path}/12345/3/clear"), &[("cleared", "1")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let path = format!("/studies/{}/report", s.id);
    let (_, page) = researcher.get(&path).await;
    for i in 0..5 {
        assert!(page.contains(&format!("Deep voice {i}")), "{page}");
    }
    assert!(page.contains("Silent voice 1") && page.contains("Quokka Team"), "the research team reads departments");

    // A manager, floor 3: deep (5) is shown alone; silent (2) and shallow
    // (1) only together.
    settings::set(&db, "privacy_floor", "3").await.unwrap();
    let mut manager = app.signed_in(Role::Manager).await;
    let (status, page) = manager.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Deep voice 0") && page.contains("Deep voice 1"), "cleared answers reach managers: {page}");
    assert!(!page.contains("Deep voice 2"), "a withdrawn clearing");
    assert!(!page.contains("Deep voice 3") && !page.contains("Deep voice 4"), "uncleared answers never reach managers");
    assert!(!page.contains("Silent voice 0") && !page.contains("Shallow voice 0"), "cleared, but below the floor");
    assert!(page.contains("2 free-text answers were cleared for sharing and are not shown here"), "{page}");
    assert!(!page.contains("Zebra Team") && !page.contains("Quokka Team"), "no department reaches a manager");
    assert!(page.contains("60% (3 of 5)"), "shares with their n: {page}");
    assert_eq!(manager.get(&answers_path).await.0, StatusCode::FORBIDDEN);

    // The JSON and the CSV carry the same.
    let (_, body) = manager.get(&format!("{path}.json")).await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let texts: Vec<&str> =
        json["surveys"][0]["text_answers"].as_array().unwrap().iter().map(|a| a["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2);
    assert!(texts.contains(&"Deep voice 0") && texts.contains(&"Deep voice 1"));
    assert_eq!(json["surveys"][0]["text_withheld"], 2);
    assert!(json["surveys"][0]["text_answers"][0]["department"].is_null());
    assert!(json["surveys"][0]["questions"][2]["caution"].as_str().unwrap().contains("Fewer than 30"));
    let (_, csv) = manager.get(&format!("{path}.csv")).await;
    assert!(csv.contains("Deep voice 0") && !csv.contains("Deep voice 3") && !csv.contains("Silent voice"), "{csv}");
    assert!(csv.contains("survey_results") && csv.contains("60% (3 of 5)"), "{csv}");
    let (_, csv) = researcher.get(&format!("{path}.csv")).await;
    assert!(csv.contains("Deep voice 3") && csv.contains("Silent voice 1") && csv.contains("Quokka Team"), "{csv}");
    let (_, body) = researcher.get(&format!("{path}.json")).await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["surveys"][0]["text_answers"].as_array().unwrap().len(), 8);
    app.finish().await;
}
