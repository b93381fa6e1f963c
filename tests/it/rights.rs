//! Participant rights: the export holds what is stored about the person;
//! after erasure no table holds their id, user id, name or e-mail, and the
//! pages built on the data still render.

use crate::common::outreach::*;
use crate::common::web::{TestApp, import_fixture};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::app::participant;
use undercurrent::domain::account::Role;
use undercurrent::domain::codebook::Consent;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::storage::{Db, accounts, availability, interviews, rights};

/// Every cell of every table, as text, with its table and column.
pub(crate) async fn every_cell(db: &Db) -> Vec<(String, String, String)> {
    use sqlx::{Column, Row};
    let mut out = Vec::new();
    macro_rules! scan {
        ($pool:expr, $tables_sql:expr) => {{
            let tables: Vec<String> = sqlx::query_scalar($tables_sql).fetch_all($pool).await.unwrap();
            for t in tables {
                let rows =
                    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {t}"))).fetch_all($pool).await.unwrap();
                for r in rows {
                    for (i, c) in r.columns().iter().enumerate() {
                        let v = if let Ok(Some(n)) = r.try_get::<Option<i64>, _>(i) {
                            n.to_string()
                        } else if let Ok(Some(s)) = r.try_get::<Option<String>, _>(i) {
                            s
                        } else {
                            String::new()
                        };
                        out.push((t.clone(), c.name().to_string(), v));
                    }
                }
            }
        }};
    }
    match db {
        Db::Sqlite(p) => scan!(
            p,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
        ),
        Db::Postgres(p) => scan!(
            p,
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
        ),
    }
    out
}

#[tokio::test]
async fn an_erased_person_leaves_no_trace_and_the_pages_still_render() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    // The fixture's u0001 is also invited, booked and interviewed, with a quote.
    let user = "u0001@corp.example";
    let id = rights::person_id(&db, user).await.unwrap().unwrap();
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let start = (Utc::now() + TimeDelta::days(2)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    availability::save_profile(
        &db,
        &availability::Profile { account_id: me, timezone: "UTC".into(), buffer_minutes: 0, min_notice_minutes: 0 },
    )
    .await
    .unwrap();
    availability::add_one_off(&db, me, start.timestamp(), (start + TimeDelta::hours(1)).timestamp()).await.unwrap();
    let s = study(&db, &[me], ContactRules::default()).await;
    let now = Utc::now();
    let r = round(&db, &s, &[user, "u0002@corp.example"], now).await;
    let invited = invite_all(&db, &r, now).await;
    let (inv, token) = invited.iter().find(|(i, _)| i.user_id == user).unwrap().clone();
    let booking = participant::book(&db, &outreach(&app.base), &token, &inv, &s, me, start, chrono_tz::UTC, now)
        .await
        .unwrap()
        .unwrap();
    let interview = interviews::for_booking(&db, booking, 0).await.unwrap();
    let record =
        interviews::Record { consent: Some(Consent::Yes), notes: "Prefers phone.".into(), ..Default::default() };
    interviews::save(&db, interview.id, interview.version, &record, me, 0).await.unwrap();
    interviews::add_quote(&db, interview.id, "I call people instead.", true, None, me, 0).await.unwrap();
    let name = inv.name.clone().unwrap();

    let mut admin = app.signed_in(Role::Admin).await;
    // Someone viewed the person: the audit log has their id.
    assert_eq!(admin.get(&format!("/people/{user}")).await.0, StatusCode::OK);

    // The export holds everything.
    let (status, body) = admin.get(&format!("/people/{user}/export.json")).await;
    assert_eq!(status, StatusCode::OK);
    let export: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(export["person"][0]["user_id"], user);
    assert!(export["events"].as_array().unwrap().len() > 10);
    assert_eq!(export["bookings"].as_array().unwrap().len(), 1);
    assert_eq!(export["interviews"][0]["notes"], "Prefers phone.");
    assert_eq!(export["quotes"][0]["text"], "I call people instead.");
    assert!(!export["messages"].as_array().unwrap().is_empty());
    // Only administrators.
    let mut researcher = app.signed_in(Role::Researcher).await;
    assert_eq!(researcher.get(&format!("/people/{user}/export.json")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(researcher.post(&format!("/people/{user}/erase"), &[("confirm", user)]).await.0, StatusCode::FORBIDDEN);

    let before = every_cell(&db).await;
    assert!(before.iter().any(|(_, _, v)| v.contains(user)));
    // A wrong confirmation erases nothing.
    assert_eq!(
        admin.post(&format!("/people/{user}/erase"), &[("confirm", "someone")]).await.0,
        StatusCode::BAD_REQUEST
    );
    assert!(rights::person_id(&db, user).await.unwrap().is_some());
    let (status, _, _) = admin.post(&format!("/people/{user}/erase"), &[("confirm", user)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let email = inv.email.clone().unwrap();
    for (table, column, value) in every_cell(&db).await {
        for needle in [user, email.as_str(), "Prefers phone.", "I call people instead."] {
            assert!(!value.contains(needle), "{table}.{column} still holds {needle:?}: {value}");
        }
        // "Person 1" is a prefix of "Person 10": names are compared whole.
        assert_ne!(value, name, "{table}.{column} still holds the name");
        assert_ne!(value, format!("person:{id}"), "{table}.{column}");
        if column == "person_id" {
            assert_ne!(value, id.to_string(), "{table}.{column} still holds the person's id");
        }
    }
    // The erasure is in the audit log, without the person.
    let log = undercurrent::storage::audit::recent(&db, 5, 0).await.unwrap();
    assert!(log.iter().any(|e| e.action == "person.erase" && e.target.as_deref() == Some("person:erased")));
    // The other person's invitation and every page still work.
    assert!(rights::person_id(&db, "u0002@corp.example").await.unwrap().is_some());
    for page in [
        "/?as_of=2026-05-29",
        "/people?as_of=2026-05-29",
        "/adoption?as_of=2026-05-29",
        &format!("/studies/{}", s.id),
        "/calendar",
    ] {
        let (status, body) = admin.get(page).await;
        assert_eq!(status, StatusCode::OK, "{page}: {body}");
        assert!(!body.contains(user), "{page}");
    }
    assert_eq!(admin.get(&format!("/people/{user}")).await.0, StatusCode::NOT_FOUND);
    app.finish().await;
}
