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
    assert!(page.contains(&format!("{day} 14:00")), "{page}");

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
    assert!(page.contains(&format!("{day} ")), "{page}");
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
