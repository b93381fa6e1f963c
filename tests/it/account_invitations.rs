//! Accounts by invitation: an admin names the address and the role (the
//! least privileged by default); the invitee chooses their own password
//! through a one-time, expiring link sent through the outbox.

use crate::common::web::{PASSWORD, TestApp};
use reqwest::StatusCode;
use undercurrent::app::outbox::rendered_body;
use undercurrent::domain::account::Role;
use undercurrent::storage::{Db, accounts, outbox};

/// The invitation link in the last queued message to `to`, as it is sent.
async fn link_to(db: &Db, to: &str) -> String {
    let m = outbox::all(db).await.unwrap().into_iter().rev().find(|m| m.to_addr == to).expect("a message");
    assert_eq!(m.kind, "account_invitation");
    assert!(!m.body.contains("/welcome/0") && m.body.contains("{{link-token:a:"), "the queue keeps a placeholder");
    let body = rendered_body(db, &m).await.unwrap();
    let i = body.find("/welcome/").expect("a link") + "/welcome/".len();
    format!("/welcome/{}", &body[i..i + 64])
}

#[tokio::test]
async fn an_invited_person_sets_their_own_password_once_through_the_link() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, page) = admin.get("/accounts").await;
    // No password field for someone else's account; the least privileged
    // role comes first (the default).
    let form = &page[page.find("id=\"invite\"").unwrap()..];
    assert!(!form.contains("type=\"password\""), "{form}");
    let first = &form[form.find("<option").unwrap()..];
    assert!(first.starts_with("<option value=\"manager\">"), "{first}");

    let (status, _, location) =
        admin.post("/accounts", &[("email", "Lin@Corp.example"), ("name", "Lin"), ("role", "researcher")]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/accounts?created=1")));
    let (_, page) = admin.get("/accounts").await;
    assert!(page.contains("id=\"invited\"") && page.contains("lin@corp.example"), "{page}");
    assert!(accounts::find_for_login(&db, "lin@corp.example").await.unwrap().is_none(), "no account before the link");
    let link = link_to(&db, "lin@corp.example").await;

    let mut lin = app.client();
    let (status, page) = lin.get(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Researcher") && page.contains("lin@corp.example"), "{page}");
    let (status, page, _) = lin.post(&link, &[("password", "short")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("at least 10 characters"), "{page}");
    let (status, _, location) = lin.post(&link, &[("password", PASSWORD)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let (status, page) = lin.get("/studies").await;
    assert_eq!(status, StatusCode::OK, "signed in as a researcher: {page}");
    let (account, _) = accounts::find_for_login(&db, "lin@corp.example").await.unwrap().unwrap();
    assert_eq!((account.role, account.name.as_str()), (Role::Researcher, "Lin"));

    // The link works once.
    let mut again = app.client();
    let (status, page) = again.get(&link).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("does not work"), "{page}");
    again.csrf = lin.csrf.clone();
    let (status, _, _) = again.post(&link, &[("password", "Another-Password-9")]).await;
    assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{status}");
    let (_, hash) = accounts::find_for_login(&db, "lin@corp.example").await.unwrap().unwrap();
    assert!(undercurrent::app::accounts::verify_password(PASSWORD, &hash), "the password stays the owner's");
    // An existing account is not invited again.
    let (_, page, _) = admin.post("/accounts", &[("email", "lin@corp.example"), ("role", "manager")]).await;
    assert!(page.contains("already"), "{page}");
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_link_expires_and_a_made_up_one_does_not_work() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let mut admin = app.signed_in(Role::Admin).await;
    admin.post("/accounts", &[("email", "late@corp.example"), ("role", "manager")]).await;
    let link = link_to(&db, "late@corp.example").await;
    let expire = "UPDATE account_invitations SET expires_at = 0";
    match &db {
        Db::Sqlite(p) => drop(sqlx::query(expire).execute(p).await.unwrap()),
        Db::Postgres(p) => drop(sqlx::query(expire).execute(p).await.unwrap()),
    }
    let mut late = app.client();
    let (status, _) = late.get(&link).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = late.get(&format!("/welcome/{}", "ab".repeat(32))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = late.get("/welcome/not-a-token").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(accounts::find_for_login(&db, "late@corp.example").await.unwrap().is_none());
    app.finish().await;
}
