//! Interviewers' own calendars: the private feed of their interviews
//! (secret URL, revocable, served as text/calendar).

use crate::common::outreach::booked_interview;
use crate::common::web::TestApp;
use reqwest::StatusCode;
use undercurrent::domain::account::Role;

fn feed_url(page: &str) -> String {
    let i = page.find("id=\"feed-url\"").expect("the new feed URL is shown");
    let rest = &page[i..];
    let start = rest.find("<code>").unwrap() + 6;
    rest[start..start + rest[start..].find("</code>").unwrap()].to_string()
}

async fn fetch(url: &str) -> (StatusCode, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

#[tokio::test]
async fn an_interviewer_subscribes_to_a_private_feed_of_their_interviews_and_revokes_it() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    crate::common::outreach::people(&db, 1).await;
    let booking = booked_interview(&db, &app.base, "p000").await;
    let mut r = app.signed_in(Role::Researcher).await;
    let (_, page) = r.get("/availability").await;
    assert!(!page.contains("id=\"feed-issued\""), "{page}");

    let (status, page, _) = r.post("/availability/feed", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let url = feed_url(&page);
    assert!(url.starts_with(&format!("{}/feeds/", app.base)), "{url}");
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".ics").to_string();
    assert_eq!(token.len(), 64);
    // Stored only hashed, and shown once: the page no longer shows it.
    let (_, page) = r.get("/availability").await;
    assert!(page.contains("id=\"feed-issued\"") && !page.contains(&token), "{page}");
    assert!(undercurrent::storage::interviewer_feeds::account_of(&db, &token).await.unwrap().is_none());

    // The feed: text/calendar, the interview at its UTC time, its page, no
    // participant's name.
    let (status, kind, body) = fetch(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(kind.starts_with("text/calendar"), "{kind}");
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"), "{body}");
    let all = undercurrent::storage::bookings::calendar(&db, None, 0).await.unwrap();
    let entry = all.iter().find(|e| e.id == booking).unwrap();
    let start = chrono::DateTime::from_timestamp(entry.starts_at, 0).unwrap().format("%Y%m%dT%H%M%SZ").to_string();
    assert!(body.contains(&format!("DTSTART:{start}\r\n")), "{body}");
    assert!(body.contains(&format!("URL:{}/interviews/{booking}", app.base)), "{body}");
    assert!(body.contains("SUMMARY:Interview: Silent colleagues"), "{body}");
    assert!(!body.contains("Person 0"), "the participant is not named: {body}");
    assert_eq!(body.matches("BEGIN:VEVENT").count(), 1, "{body}");

    // Another interviewer's feed does not show it; junk and unknown tokens
    // are 404.
    assert_eq!(fetch(&format!("{}/feeds/{}.ics", app.base, "0".repeat(64))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&format!("{}/feeds/junk.ics", app.base)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&format!("{}/feeds/{token}", app.base)).await.0, StatusCode::NOT_FOUND);

    // A new address revokes the old one.
    let (_, page, _) = r.post("/availability/feed", &[]).await;
    let second = feed_url(&page);
    assert_ne!(second, url);
    assert_eq!(fetch(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&second).await.0, StatusCode::OK);

    // Turning it off ends it; a manager cannot make one.
    let (status, _, _) = r.post("/availability/feed/revoke", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(fetch(&second).await.0, StatusCode::NOT_FOUND);
    let (_, page) = r.get("/availability").await;
    assert!(!page.contains("id=\"feed-issued\""), "{page}");
    let mut m = app.signed_in(Role::Manager).await;
    assert_eq!(m.post("/availability/feed", &[]).await.0, StatusCode::FORBIDDEN);
    app.finish().await;
}
