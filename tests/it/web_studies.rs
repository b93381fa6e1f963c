//! The researcher's side over HTTP: a study from a template, validation,
//! a draw with reasons and strata, sending, the funnel and the outbox on the
//! study page, availability, the interviewer's calendar and outcomes.

use crate::common::web::{TestApp, import_fixture};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::app::participant;
use undercurrent::domain::account::Role;
use undercurrent::storage::{accounts, bookings, invitations, outbox, studies};

/// The study form as a browser would send it, from the template page.
fn form_of(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let value = |tag: &str, attr: &str| -> Option<String> {
        let i = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
        Some(tag[i..i + tag[i..].find('"')?].to_string())
    };
    let unescape = |s: &str| {
        s.replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#43;", "+")
            .replace("&amp;", "&")
    };
    let mut rest = page;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if tag.starts_with("<input") {
            let checkbox = tag.contains("type=\"checkbox\"");
            if let (Some(name), false) = (value(tag, "name"), checkbox && !tag.contains(" checked")) {
                out.push((name, unescape(&value(tag, "value").unwrap_or_default())));
            }
        } else if tag.starts_with("<textarea") {
            let name = value(tag, "name").unwrap();
            let body = &rest[end + 1..];
            out.push((name, unescape(&body[..body.find("</textarea>").unwrap()])));
        } else if tag.starts_with("<select") {
            let name = value(tag, "name").unwrap();
            let body = &rest[end + 1..rest.find("</select>").unwrap()];
            let chosen =
                body.split("<option").find(|o| o.contains(" selected")).or(body.split("<option").nth(1)).unwrap_or("");
            out.push((name, value(chosen, "value").unwrap_or_default()));
        }
        rest = &rest[1..];
    }
    out
}

fn set(form: &mut Vec<(String, String)>, name: &str, value: &str) {
    form.retain(|(n, _)| n != name);
    form.push((name.into(), value.into()));
}

#[tokio::test]
async fn a_researcher_runs_a_study_from_template_to_outcome() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let mut r = app.signed_in(Role::Researcher).await;

    // A study starts from a scenario template, in Chinese here.
    let (status, page) = r.get("/studies/new?scenario=customer_service&language=zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    let mut form = form_of(&page);
    assert!(form.iter().any(|(n, v)| n == "invitation_body" && v.contains("{link}") && v.contains("您")), "{form:?}");
    assert!(form.iter().any(|(n, v)| n == "guide" && v.lines().count() >= 6));
    assert!(form.iter().any(|(n, v)| n == "interviewer" && !v.is_empty()), "the researcher interviews by default");

    // Invalid: no link in the invitation, a typo'd placeholder, no tier.
    let mut bad = form.clone();
    set(&mut bad, "invitation_body", "Hello {name}, see {lnk}");
    bad.retain(|(n, _)| n != "tier");
    let refs: Vec<(&str, &str)> = bad.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, page, _) = r.post("/studies", &refs).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("{link}"), "{page}");
    assert!(page.contains("{lnk}"), "{page}");
    assert!(studies::list(&db).await.unwrap().is_empty(), "nothing stored");

    set(&mut form, "title", "Why agents log in but do not answer");
    set(&mut form, "round_size", "3");
    let refs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, _, location) = r.post("/studies", &refs).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let study_path = location.unwrap();
    let study = studies::list(&db).await.unwrap().remove(0);
    assert_eq!(study_path, format!("/studies/{}", study.id));
    assert_eq!(study.language, "zh-CN");

    // The study page says where e-mail goes (no SMTP here: the outbox folder).
    let (status, page) = r.get(&study_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"mail-mode\""), "{page}");

    // Draw with a recorded seed; the round shows reasons and strata.
    let (status, _, location) = r.post(&format!("{study_path}/rounds"), &[("as_of", ""), ("seed", "12345")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let round_path = location.unwrap();
    assert_eq!(round_path, format!("{study_path}/rounds/1"));
    let (_, page) = r.get(&round_path).await;
    assert!(page.contains("12345"));
    assert!(page.contains("class=\"reason\""), "{page}");
    let round = studies::round(&db, study.id, 1).await.unwrap().unwrap();
    let drawn = invitations::for_round(&db, round.id).await.unwrap();
    assert!(!drawn.is_empty() && drawn.len() <= 3, "{}", drawn.len());
    assert!(drawn.iter().all(|i| i.tier == "silent" || i.tier == "shallow"));
    // Each drawn person links to their page.
    for i in &drawn {
        assert!(page.contains(&format!("href=\"/people/{}\"", i.user_id.replace('@', "%40"))), "{page}");
    }

    // Drop one, add one by hand, then send.
    let dropped = drawn[0].clone();
    let (status, _, _) = r.post(&format!("{study_path}/invitations/{}/drop", dropped.id), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page, _) = r.post(&format!("{round_path}/add"), &[("user_id", "nobody@corp.example")]).await;
    assert!(page.contains("nobody@corp.example"), "unknown person named: {page}");
    let (status, _, _) = r.post(&format!("{round_path}/add"), &[("user_id", &dropped.user_id)]).await;
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _, location) = r.post(&format!("{round_path}/send"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().contains("sent="));
    let queued: Vec<_> = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.kind == "invitation").collect();
    let invited = invitations::for_round(&db, round.id).await.unwrap();
    let invited: Vec<_> = invited.iter().filter(|i| i.status.as_str() == "invited").collect();
    assert_eq!(queued.len(), invited.len());
    assert!(!queued.is_empty());
    // Links point at this server (no public_url set) and carry the opt-out.
    assert!(queued[0].body.contains(&format!("{}/i/", app.base)), "{}", queued[0].body);
    // Sending again changes nothing.
    r.post(&format!("{round_path}/send"), &[]).await;
    assert_eq!(outbox::all(&db).await.unwrap().iter().filter(|m| m.kind == "invitation").count(), queued.len());

    // Availability: weekly hours and a one-off window, checked.
    let (_, page, _) = r.post("/availability/weekly", &[("weekday", "0"), ("hours", "12:00-09:00")]).await;
    assert!(page.contains("id=\"error\""), "{page}");
    let (status, _, _) = r.post("/availability/weekly", &[("weekday", "0"), ("hours", "09:00-12:00")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) =
        r.post("/availability", &[("timezone", "UTC"), ("buffer_minutes", "0"), ("min_notice_hours", "0")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let day = (Utc::now() + TimeDelta::days(3)).date_naive();
    let (status, _, _) =
        r.post("/availability/one-off", &[("start", &format!("{day}T14:00")), ("end", &format!("{day}T15:00"))]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = r.get("/availability").await;
    assert!(page.contains("09:00–12:00"), "{page}");
    assert!(page.contains(&format!("{}, 14:00", day.format("%-d %b %Y"))), "{page}");

    // A participant books the one-off slot; the interviewer sees it, and
    // records the outcome after the fact.
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0;
    let inv = invitations::get(&db, invited[0].id).await.unwrap().unwrap();
    let study = studies::get(&db, study.id).await.unwrap().unwrap();
    let (out, _) = undercurrent::app::settings::outreach(&db, &app.base).await.unwrap();
    let start = day.and_hms_opt(14, 0, 0).unwrap().and_utc();
    let token = "t".repeat(64); // only the hash is checked here: book by the app function
    participant::book(&db, &out, &token, &inv, &study, me.id, start, chrono_tz::UTC, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let (_, page) = r.get("/calendar").await;
    assert!(page.contains(&day.format("%a %-d %b %Y 14:00").to_string()), "the day and weekday in words: {page}");
    assert!(page.contains(&inv.user_id) || inv.name.as_deref().is_some_and(|n| page.contains(n)), "{page}");
    let booking = bookings::for_invitation(&db, inv.id).await.unwrap().remove(0);
    let (status, _, _) = r.post(&format!("/bookings/{}/outcome", booking.id), &[("outcome", "no_show_host")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = r.post(&format!("/bookings/{}/outcome", booking.id), &[("outcome", "completed")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(invitations::get(&db, inv.id).await.unwrap().unwrap().status.as_str(), "completed");

    // The funnel by tier on the study page.
    let (_, page) = r.get(&study_path).await;
    assert!(page.contains("id=\"funnel\""), "{page}");
    assert!(page.contains("id=\"outbox\""), "{page}");
    let histories = invitations::histories(&db).await.unwrap();
    assert_eq!(histories[&inv.person_id].interviews.len(), 1, "a completed interview counts against the yearly limit");
    assert_eq!(histories[&inv.person_id].no_shows, 0, "the host's no-show was corrected and never counted");

    // Managers and analysts cannot open studies.
    for role in [Role::Manager, Role::Analyst] {
        let mut c = app.signed_in(role).await;
        assert_eq!(c.get(&study_path).await.0, StatusCode::FORBIDDEN);
        assert_eq!(c.get(&round_path).await.0, StatusCode::FORBIDDEN);
    }

    // Closing ends the study.
    let (status, _, _) = r.post(&format!("{study_path}/close"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!studies::get(&db, study.id).await.unwrap().unwrap().is_open());
    app.finish().await;
}

/// The `person` checkboxes of the people list.
fn chosen_boxes(page: &str) -> Vec<String> {
    page.split("name=\"person\" value=\"").skip(1).map(|rest| rest.split('"').next().unwrap().to_string()).collect()
}

#[tokio::test]
async fn people_chosen_on_the_list_join_a_study_under_its_contact_rules() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let mut r = app.signed_in(Role::Researcher).await;
    let (_, page) = r.get("/studies/new?scenario=internal_collaboration&language=en").await;
    let mut form = form_of(&page);
    set(&mut form, "title", "Quiet teams");
    set(&mut form, "round_size", "1");
    let refs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, _, location) = r.post("/studies", &refs).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let study_path = location.unwrap();
    let study = studies::list(&db).await.unwrap().remove(0);
    // Round 1: one person drawn, one set aside as the holdout.
    let (status, _, _) = r.post(&format!("{study_path}/rounds"), &[("as_of", ""), ("seed", "7")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let round1 = studies::round(&db, study.id, 1).await.unwrap().unwrap();
    let drawn = invitations::for_round(&db, round1.id).await.unwrap().remove(0).user_id;
    let held = undercurrent::storage::holdouts::for_study(&db, study.id).await.unwrap().remove(0).user_id;

    // The list offers a checkbox per person to those who run studies only.
    let (_, page) = r.get("/people?tier=silent").await;
    assert!(page.contains("id=\"add-form\""), "{page}");
    let silent = chosen_boxes(&page);
    let (_, page) = r.get("/people?tier=shallow").await;
    let shallow = chosen_boxes(&page);
    let free: Vec<&String> = silent.iter().chain(&shallow).filter(|u| **u != drawn && **u != held).collect();
    assert!(free.len() >= 2, "the fixture has silent and shallow people: {free:?}");
    let (ok, opted_out) = (free[0].clone(), free[1].clone());
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/people").await;
    assert!(chosen_boxes(&page).is_empty() && !page.contains("add-form"), "{page}");
    assert_eq!(analyst.get("/studies/add-people").await.0, StatusCode::FORBIDDEN);

    // A person's page offers the same path for one person.
    let (_, person) = r.get(&format!("/people/{}", ok.replace('@', "%40"))).await;
    assert!(person.contains(&format!("href=\"/studies/add-people?person={}\"", ok.replace('@', "%40"))), "{person}");
    let (_, person) = analyst.get(&format!("/people/{}", ok.replace('@', "%40"))).await;
    assert!(!person.contains("add-people"), "{person}");

    // One of them opted out of every study.
    let mut tx = db.begin().await.unwrap();
    let ids = undercurrent::storage::people::lookup(&mut tx, &[opted_out.as_str()]).await.unwrap();
    invitations::opt_out(&mut tx, ids[&opted_out], None, None, Utc::now().timestamp()).await.unwrap();
    tx.commit().await.unwrap();

    // Each chosen person's verdict, for round 1 (not sent yet).
    let chosen = [ok.as_str(), opted_out.as_str(), held.as_str(), drawn.as_str(), "ghost@corp.example"];
    let query: Vec<String> = chosen.iter().map(|u| format!("person={}", u.replace('@', "%40"))).collect();
    let (status, page) = r.get(&format!("/studies/add-people?{}&to={}:1", query.join("&"), study.id)).await;
    assert_eq!(status, StatusCode::OK);
    let row = |user: &str| {
        let at = page.find(&format!("data-user=\"{user}\"")).unwrap_or_else(|| panic!("{user}: {page}"));
        page[at..at + page[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(row(&ok).contains("class=\"passes\""), "{}", row(&ok));
    assert!(row(&opted_out).contains("opted out"), "{}", row(&opted_out));
    assert!(row(&held).contains("holdout"), "{}", row(&held));
    assert!(row(&drawn).contains("already in this round"), "{}", row(&drawn));
    assert!(row("ghost@corp.example").contains("No person"), "{page}");
    assert!(page.contains("Add 1 people") || page.contains("id=\"add\""), "{page}");
    // Nothing changed by looking.
    assert_eq!(invitations::for_round(&db, round1.id).await.unwrap().len(), 1);

    // Without the session token nothing is added.
    let mut pairs: Vec<(&str, &str)> = chosen.iter().map(|u| ("person", *u)).collect();
    let to_new = format!("{}:new", study.id);
    pairs.push(("to", &to_new));
    let (status, _, _) = r.post_raw("/studies/add-people", &pairs).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(studies::rounds(&db, study.id).await.unwrap().len(), 1);

    // Into a new round: only the one who passes joins it, by hand.
    let (status, _, location) = r.post("/studies/add-people", &pairs).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(format!("{study_path}/rounds/2").as_str()));
    let round2 = studies::round(&db, study.id, 2).await.unwrap().unwrap();
    assert_eq!(round2.allocation, "by_hand");
    let added = invitations::for_round(&db, round2.id).await.unwrap();
    // (The person drawn in round 1 is in the study already.)
    assert_eq!(added.iter().map(|i| i.user_id.as_str()).collect::<Vec<_>>(), vec![ok.as_str()]);
    assert_eq!(added[0].added_by_hand, 1);
    assert!(added[0].reason.contains("days"), "the reason is frozen as in a draw: {}", added[0].reason);
    let (_, page) = r.get(&format!("{study_path}/rounds/2")).await;
    assert!(page.contains(&format!("data-user=\"{ok}\"")), "{page}");
    assert!(!page.contains("id=\"seed\""), "a round chosen by hand has no seed: {page}");
    let (_, page) =
        r.get(&format!("/studies/add-people?person={}&to={}:new", drawn.replace('@', "%40"), study.id)).await;
    assert!(page.contains("Already in round 1 of this study"), "{page}");
    // Adding the same people again adds nobody and says why.
    let to_two = format!("{}:2", study.id);
    let again: Vec<(&str, &str)> = [("person", ok.as_str()), ("to", to_two.as_str())].into();
    let (status, page, _) = r.post("/studies/add-people", &again).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"error\"") && page.contains("already in this round"), "{page}");
    app.finish().await;
}

/// With no mail server, messages are written to a folder: the study's
/// message table says so instead of "Sent".
#[tokio::test]
async fn messages_written_to_the_folder_are_not_called_sent() {
    use crate::common::outreach::*;
    use std::sync::Arc;
    use undercurrent::app::outbox::Worker;
    use undercurrent::app::studies as outreach_app;
    use undercurrent::domain::sampling::ContactRules;
    use undercurrent::mail::transport::Mailer;
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    people(&db, 2).await;
    let host = interviewer(&db, "ivy@corp.example", "UTC", utc(2026, 12, 3, 1, 0), utc(2026, 12, 3, 4, 0)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let now = utc(2026, 12, 1, 8, 0);
    let r = round(&db, &s, &["p000", "p001"], now).await;
    let out = outreach(&app.base);
    outreach_app::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let worker = Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(None, folder.path()).unwrap()),
        name: "w".into(),
        from: out.from,
    };
    assert_eq!(worker.drain_once(now).await.unwrap().sent, 2);
    let mut researcher = app.signed_in(Role::Researcher).await;
    let (_, page) = researcher.get(&format!("/studies/{}", s.id)).await;
    let table = &page[page.find("outbox-sent").expect("the message rows")..];
    assert!(table.contains("Written to the folder, not sent"), "{table}");
    assert!(!table[..table.find("</tbody>").unwrap()].contains(">Sent<"), "{table}");
    app.finish().await;
}
