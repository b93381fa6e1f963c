//! The interview workspace over HTTP: frozen and current metrics, the
//! guide, consent, notes, codes and quotes; saves that never lose notes
//! (double submits, a save from an older version, autosave); withdrawn
//! consent deleting what it must; roles.

use crate::common::outreach::*;
use crate::common::web::{TestApp, import_fixture};
use reqwest::StatusCode;
use undercurrent::domain::account::Role;
use undercurrent::domain::codebook::Consent;
use undercurrent::storage::interviews;

async fn booked(app: &TestApp) -> i64 {
    let db = &app.t.db;
    import_fixture(db).await;
    people(db, 1).await;
    booked_interview(db, &app.base, "p000").await
}

fn version_of(page: &str) -> String {
    let i = page.find("name=\"version\" value=\"").unwrap() + 22;
    page[i..].chars().take_while(char::is_ascii_digit).collect()
}

fn code_ids(page: &str) -> Vec<String> {
    page.match_indices("name=\"code\" value=\"")
        .map(|(i, _)| page[i + 19..].chars().take_while(char::is_ascii_digit).collect())
        .collect()
}

#[tokio::test]
async fn a_researcher_records_an_interview_without_ever_losing_notes() {
    let app = TestApp::with_accounts().await;
    let booking = booked(&app).await;
    let path = format!("/interviews/{booking}");
    let mut r = app.signed_in(Role::Researcher).await;
    let (status, page) = r.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"metrics\""), "{page}");
    assert!(page.contains("What do you use it for?"), "the study's guide");
    assert!(page.contains("Only check-ins and notifications"), "the default codebook");
    let codes = code_ids(&page);
    assert_eq!(codes.len(), 8);
    let v0 = version_of(&page);

    // Quotes need consent first.
    let (_, page, _) = r.post(&format!("{path}/quotes"), &[("text", "I only open it to punch in.")]).await;
    assert!(page.contains("id=\"error\""), "{page}");

    let form = |version: &str, notes: &str| -> Vec<(String, String)> {
        vec![
            ("version".into(), version.into()),
            ("consent".into(), "yes".into()),
            ("consent_on".into(), "2026-12-01".into()),
            ("notes".into(), notes.into()),
            ("code".into(), codes[1].clone()),
            ("code".into(), codes[3].clone()),
            ("code".into(), codes[4].clone()),
            ("root_cause".into(), "check_in_only".into()),
            ("follow_up".into(), "Invite to the team channel pilot".into()),
        ]
    };
    let post = |f: Vec<(String, String)>| f;
    let first = post(form(&v0, "Uses WeChat with customers.\r\nOpens the tool at 9:00 to punch in."));
    let refs: Vec<(&str, &str)> = first.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, _, location) = r.post(&path, &refs).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().contains("saved=1"));
    // The same submit again (a double click) is not a conflict.
    let (status, _, _) = r.post(&path, &refs).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let i = interviews::for_booking(&app.t.db, booking, 0).await.unwrap();
    assert_eq!(i.notes, "Uses WeChat with customers.\nOpens the tool at 9:00 to punch in.");
    assert_eq!((i.consent.map(Consent::as_str), i.root_cause.as_str()), (Some("yes"), "check_in_only"));
    assert_eq!(interviews::codes_of(&app.t.db, i.id).await.unwrap().len(), 3);

    // A second tab still on version 0 saves different notes: nothing is
    // overwritten, both texts are on the page, and the next save wins.
    let stale = post(form(&v0, "Notes typed in another tab"));
    let refs: Vec<(&str, &str)> = stale.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, page, _) = r.post(&path, &refs).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Notes typed in another tab"), "mine kept in the form");
    assert!(page.contains("Uses WeChat with customers."), "theirs shown");
    assert_eq!(interviews::for_booking(&app.t.db, booking, 0).await.unwrap().notes, i.notes, "nothing overwritten");
    let merged = post(form(&version_of(&page), "Uses WeChat with customers. Also: notes from the other tab."));
    let refs: Vec<(&str, &str)> = merged.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(r.post(&path, &refs).await.0, StatusCode::SEE_OTHER);

    // Autosave answers in JSON.
    let current = interviews::for_booking(&app.t.db, booking, 0).await.unwrap();
    let auto = post(form(&current.version.to_string(), "Autosaved text"));
    let url = format!("{}{path}?csrf={}", app.base, r.csrf);
    let resp = r.http.post(&url).header("X-Autosave", "1").form(&auto).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["saved"], true);
    assert_eq!(answer["version"], current.version + 1);
    let resp = r.http.post(&url).header("X-Autosave", "1").form(&post(form("0", "stale"))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // Quotes: two added (one cleared for managers), a repeated submit adds nothing.
    for (text, shareable) in [("I only open it to punch in.", true), ("My team lives in WeChat.", false)] {
        let mut f = vec![("text", text), ("code", codes[3].as_str())];
        if shareable {
            f.push(("shareable", "1"));
        }
        assert_eq!(r.post(&format!("{path}/quotes"), &f).await.0, StatusCode::SEE_OTHER);
        r.post(&format!("{path}/quotes"), &f).await;
    }
    let quotes = interviews::quotes(&app.t.db, current.id).await.unwrap();
    assert_eq!(quotes.len(), 2);
    assert_eq!(quotes.iter().filter(|q| q.shareable == 1).count(), 1);
    let (_, page) = r.get(&path).await;
    assert!(page.contains("My team lives in WeChat."));

    // Managers and analysts never see interviews.
    for role in [Role::Manager, Role::Analyst] {
        let mut c = app.signed_in(role).await;
        assert_eq!(c.get(&path).await.0, StatusCode::FORBIDDEN);
    }

    // Withdrawn consent deletes notes and quotes; codes stay for counts.
    let (_, page) = r.get(&path).await;
    let mut withdrawn = post(form(&version_of(&page), "should not be kept"));
    withdrawn.retain(|(k, _)| k != "consent");
    withdrawn.push(("consent".into(), "withdrawn".into()));
    let refs: Vec<(&str, &str)> = withdrawn.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(r.post(&path, &refs).await.0, StatusCode::SEE_OTHER);
    let after = interviews::for_booking(&app.t.db, booking, 0).await.unwrap();
    assert_eq!((after.consent.map(Consent::as_str), after.notes.as_str()), (Some("withdrawn"), ""));
    assert!(interviews::quotes(&app.t.db, after.id).await.unwrap().is_empty());
    assert_eq!(interviews::codes_of(&app.t.db, after.id).await.unwrap().len(), 3);
    app.finish().await;
}

#[tokio::test]
async fn a_study_edits_its_own_codebook() {
    let app = TestApp::with_accounts().await;
    let booking = booked(&app).await;
    let mut r = app.signed_in(Role::Researcher).await;
    let b = undercurrent::storage::bookings::get(&app.t.db, booking).await.unwrap().unwrap();
    let inv = undercurrent::storage::invitations::get(&app.t.db, b.invitation_id).await.unwrap().unwrap();
    let path = format!("/studies/{}/codebook", inv.study_id);
    let (status, page) = r.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Prefers another channel") && page.contains("偏好其他渠道"), "{page}");
    let codes = interviews::codes(&app.t.db, inv.study_id).await.unwrap();
    let other = codes.iter().find(|c| c.key == "other_channel").unwrap();
    let (status, _, _) = r
        .post(
            &format!("{path}/{}", other.id),
            &[
                ("label_en", "Prefers WeChat or phone"),
                ("label_zh", "偏好微信或电话"),
                ("description_en", "Customers are on WeChat."),
                ("description_zh", "客户都在微信上。"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let learning = codes.iter().find(|c| c.key == "learning_cost").unwrap();
    let archive =
        [("label_en", learning.label_en.as_str()), ("label_zh", learning.label_zh.as_str()), ("archived", "1")];
    assert_eq!(r.post(&format!("{path}/{}", learning.id), &archive).await.0, StatusCode::SEE_OTHER);
    let (status, _, _) = r.post(&path, &[("label_en", "Too many groups"), ("label_zh", "群太多")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page, _) = r.post(&path, &[("label_en", "Too many groups")]).await;
    assert!(page.contains("id=\"error\""), "a second code of the same name is refused");
    let codes = interviews::codes(&app.t.db, inv.study_id).await.unwrap();
    assert_eq!(codes.len(), 9);
    assert_eq!(codes.last().unwrap().key, "too_many_groups");
    // The interview offers the renamed and new codes, not the archived one.
    let (_, page) = r.get(&format!("/interviews/{booking}")).await;
    assert!(page.contains("Prefers WeChat or phone") && page.contains("Too many groups"));
    assert!(!page.contains(&learning.label_en), "{page}");
    // Each code says how often it is used.
    let me = undercurrent::storage::accounts::find_for_login(&app.t.db, "researcher@test.example")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
    let i = interviews::for_booking(&app.t.db, booking, 0).await.unwrap();
    let record = interviews::Record { codes: vec![other.id], ..Default::default() };
    interviews::save(&app.t.db, i.id, i.version, &record, me, 0).await.unwrap();
    interviews::add_quote(&app.t.db, i.id, "All on WeChat.", false, Some(other.id), me, 0).await.unwrap();
    let (_, page) = r.get(&path).await;
    let card = &page[page.find("Prefers WeChat or phone").unwrap()..];
    let card = &card[..card.find("</li>").unwrap()];
    assert!(card.contains("Filed under it: 1 interview(s), 1 quote(s)"), "{card}");
    assert!(page.contains("Filed under it: 0 interview(s), 0 quote(s)"), "unused codes say so");
    // Managers cannot edit a codebook.
    let mut m = app.signed_in(Role::Manager).await;
    assert_eq!(m.get(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(m.post(&path, &[("label_en", "x")]).await.0, StatusCode::FORBIDDEN);
    app.finish().await;
}

#[tokio::test]
async fn the_person_page_links_a_booking_to_its_interview_and_the_interviewer_mail_does_too() {
    let app = TestApp::with_accounts().await;
    let booking = booked(&app).await;
    let mut r = app.signed_in(Role::Researcher).await;
    let (status, page) = r.get("/people/p000").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Drawn in round 1: "), "{page}");
    assert!(page.contains("Interview booked: "), "{page}");
    assert!(page.contains(&format!("href=\"/interviews/{booking}\"")), "{page}");
    let host = undercurrent::storage::outbox::all(&app.t.db)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "booked_host")
        .expect("the interviewer's message");
    assert!(host.body.contains(&format!("{}/interviews/{booking}", app.base)), "{}", host.body);
    let (status, _) = r.get(&format!("/interviews/{booking}")).await;
    assert_eq!(status, StatusCode::OK);
    app.finish().await;
}
