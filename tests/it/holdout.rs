//! The holdout: people of the same strata set aside when a round is drawn,
//! never contacted by the study (not at draw, not by hand, not at send, not
//! by its surveys), and the report's effect of outreach measured against
//! them only over activity after the first contact.

use std::collections::HashSet;

use crate::common::outreach::*;
use crate::common::web::{TestApp, import_fixture};
use reqwest::StatusCode;
use undercurrent::app::add_people::{AddRefusal, add_person};
use undercurrent::app::studies as outreach_app;
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::domain::sampling::Exclusion;
use undercurrent::storage::invitations::{self, NewInvitation};
use undercurrent::storage::{holdouts, outbox, studies};

#[tokio::test]
async fn a_holdout_is_never_contacted_by_its_study_and_the_report_compares_with_it() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let me =
        undercurrent::storage::accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    // Contacted on 1 May; the fixture's data end on 30 May, so the 28-day
    // window (from 3 May) lies wholly after the contact.
    let contact = utc(2026, 5, 1, 0, 0);

    let first = outreach_app::draw_round(&db, &s, None, Some(11), None, contact).await.unwrap();
    assert_eq!(first.draw.picked.len(), 5);
    assert_eq!(first.draw.held_out.len(), 5, "as many as the round invites, by default");
    let held: HashSet<String> = holdouts::for_study(&db, s.id).await.unwrap().into_iter().map(|h| h.user_id).collect();
    assert_eq!(held.len(), 5);
    let invited: HashSet<String> =
        invitations::for_study(&db, s.id).await.unwrap().into_iter().map(|i| i.user_id).collect();
    assert!(held.is_disjoint(&invited), "{held:?} {invited:?}");

    // Later rounds never draw them; nor can a researcher add one by hand.
    let second = outreach_app::draw_round(&db, &s, None, Some(12), None, contact).await.unwrap();
    let later: HashSet<&str> = second.draw.picked.iter().map(|p| p.person_key.as_str()).collect();
    assert!(later.iter().all(|u| !held.contains(*u)), "{later:?}");
    let round1 = studies::round(&db, s.id, first.number).await.unwrap().unwrap();
    let someone = held.iter().next().unwrap();
    let refused = add_person(&db, &s, &round1, someone, contact).await.unwrap();
    assert_eq!(refused, Err(AddRefusal::HeldOut));

    // Even an invitation slipped into the round by other means is not sent.
    let index = invitations::people_index(&db).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let slipped = NewInvitation {
        round_id: round1.id,
        study_id: s.id,
        person_id: index[someone.as_str()].0,
        tier: "silent",
        department: None,
        facts: "{}".into(),
        reason: "",
        added_by_hand: true,
    };
    invitations::insert(&mut tx, &slipped, contact.timestamp()).await.unwrap();
    tx.commit().await.unwrap();
    let out = outreach("http://127.0.0.1");
    let sent = outreach_app::send_round(&db, &s, &round1, &out.links, &out.from, contact).await.unwrap();
    assert_eq!(sent.queued, 5, "{sent:?}");
    assert!(sent.excluded.iter().any(|(u, why)| u == someone && *why == Exclusion::HeldOut), "{sent:?}");
    // (The fixture's user ids are the people's addresses.)
    let mails = outbox::all(&db).await.unwrap();
    assert_eq!(mails.len(), 5);
    for m in mails {
        assert!(!held.iter().any(|u| m.to_addr.contains(u.as_str())), "{} was mailed", m.to_addr);
    }

    // A person's page tells the research team what the study did with
    // them; an analyst does not see it.
    let mut r = app.signed_in(Role::Researcher).await;
    let (_, page) = r.get(&format!("/people/{someone}")).await;
    assert!(page.contains("id=\"history\""), "{page}");
    assert!(page.contains("Held out in round 1: never contacted by this study"), "{page}");
    assert!(page.contains(&format!("href=\"/studies/{}\"", s.id)), "{page}");
    let invited_one =
        invitations::for_round(&db, round1.id).await.unwrap().into_iter().find(|i| !held.contains(&i.user_id)).unwrap();
    let (_, page) = r.get(&format!("/people/{}", invited_one.user_id)).await;
    assert!(page.contains("Drawn in round 1: "), "{page}");
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (status, page) = analyst.get(&format!("/people/{someone}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"history\""), "analysts see no outreach history");

    // The report: contacted against the holdout, with n, and too few
    // people to tell at this size.
    let (status, page) = r.get(&format!("/studies/{}/report", s.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("People contacted since 1 May 2026 against the holdout"), "{page}");
    assert!(page.contains("Holdout (not contacted)"), "{page}");
    assert!(page.contains("Too few people to tell"), "{page}");
    let finding = "Too few people to tell whether outreach moved anyone deeper: each group needs at least 10.";
    assert!(page.contains(finding), "the summary's finding says so too: {page}");
    assert!(!page.contains("similar people"), "the old comparison is gone");
    let (_, json) = r.get(&format!("/studies/{}/report.json", s.id)).await;
    assert!(json.contains("\"effects\""), "{json}");
    // A manager, with a floor above both groups (5 each), reads neither
    // group's size; the research team does.
    undercurrent::app::settings::set(&db, "privacy_floor", "6").await.unwrap();
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get(&format!("/studies/{}/report", s.id)).await;
    let effect = &page[page.find("id=\"effect-1\"").unwrap()..];
    let effect = &effect[..effect.find("</table>").unwrap()];
    assert_eq!(effect.matches("<td class=\"num\">fewer than 6</td>").count(), 2, "{effect}");
    let (_, page) = r.get(&format!("/studies/{}/report", s.id)).await;
    assert!(!page.contains("fewer than 6"), "{page}");

    // Contacted after the data end: nothing can be measured yet, and the
    // page says from which date data are missing.
    let late = study(&db, &[me], ContactRules::default()).await;
    let december = utc(2026, 12, 1, 0, 0);
    let drawn = outreach_app::draw_round(&db, &late, None, Some(13), None, december).await.unwrap();
    let round = studies::round(&db, late.id, drawn.number).await.unwrap().unwrap();
    outreach_app::send_round(&db, &late, &round, &out.links, &out.from, december).await.unwrap();
    let (_, page) = r.get(&format!("/studies/{}/report", late.id)).await;
    assert!(page.contains("Not measurable yet: the first contact was on 1 Dec 2026"), "{page}");
    assert!(page.contains("must reach 29 Dec 2026"), "{page}");
    assert!(page.contains("they end on 30 May 2026"), "{page}");
    assert!(page.contains("The effect of outreach is not measurable yet: the activity data must reach 29 Dec 2026."));

    // A study whose rounds set no holdout aside says so.
    let none = study(&db, &[me], ContactRules::default()).await;
    holdouts::set_size(&db, none.id, Some(0)).await.unwrap();
    outreach_app::draw_round(&db, &none, None, Some(14), None, contact).await.unwrap();
    assert!(holdouts::for_study(&db, none.id).await.unwrap().is_empty());
    let (_, page) = r.get(&format!("/studies/{}/report", none.id)).await;
    assert!(page.contains("No round of this study set a holdout aside"), "{page}");
    assert!(page.contains("The effect of outreach cannot be measured: no round set a holdout aside."), "{page}");
    app.finish().await;
}
