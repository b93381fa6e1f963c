//! Pulse surveys over HTTP: written as text (with line-numbered errors),
//! sent to a sample through the outbox, answered once per invitation with
//! the tier kept and the person not, shared anonymously under the floor,
//! and read by tier.

use crate::common::outreach::*;
use crate::common::web::{TestApp, import_fixture};
use reqwest::StatusCode;
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::storage::{Db, invitations, outbox, surveys};

async fn responses(db: &Db, survey: i64) -> Vec<(Option<String>, Option<String>, String)> {
    surveys::responses(db, survey).await.unwrap()
}

#[tokio::test]
async fn a_survey_is_written_sent_answered_once_and_read_by_tier() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let me =
        undercurrent::storage::accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    let mut r = app.signed_in(Role::Researcher).await;
    let list = format!("/studies/{}/surveys", s.id);
    let (status, page) = r.get(&list).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("likert* How useful"), "an example to start from");

    let (_, page, _) = r.post(&list, &[("title", "Pulse"), ("definition", "likert How?\nfoo Bar?")]).await;
    assert!(page.contains("Line 2:"), "{page}");
    let definition = "likert* How useful is it? | 有多大帮助？\nsingle* Where do you talk? | 在哪里沟通？\n- Here | 这里\n- Phone | 电话\nnps Recommend? | 推荐？\ntext Anything else?";
    let (status, _, location) = r.post(&list, &[("title", "Pulse"), ("definition", definition)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let survey_path = location.unwrap();
    let survey = surveys::for_study(&db, s.id).await.unwrap().remove(0);

    // Sent to a sample of the study's target, each through the outbox.
    let (status, _, location) = r.post(&format!("{survey_path}/send"), &[("size", "3")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().contains("sent="));
    let sent = surveys::invitations(&db, survey.id).await.unwrap();
    assert!(!sent.is_empty() && sent.len() <= 3);
    assert!(sent.iter().all(|i| i.tier == "silent" || i.tier == "shallow"));
    let mails: Vec<_> = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.kind == "survey").collect();
    assert_eq!(mails.len(), sent.len());
    // The study's message table names them in words, in both languages.
    let (_, page) = r.get(&format!("/studies/{}", s.id)).await;
    assert!(page.contains("<td>Survey invitation</td>") && !page.contains("outbox.kind."), "{page}");
    r.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    let (_, page) = r.get(&format!("/studies/{}", s.id)).await;
    assert!(!page.contains("outbox.kind.") && !page.contains("<td>Survey invitation</td>"), "{page}");
    r.post("/language", &[("lang", "en"), ("back", "/")]).await;
    let token_of = |body: &str| {
        let i = body.find("/s/").unwrap() + 3;
        body[i..i + 64].to_string()
    };
    // The outbox keeps placeholders; the links are rendered when sending.
    assert!(mails[0].body.contains("{{link-token:s:"), "{}", mails[0].body);
    let token = token_of(&undercurrent::app::outbox::rendered_body(&db, &mails[0]).await.unwrap());
    assert!(mails[0].body.contains("/opt-out"));
    // Sending counts as contact: the study's contact rules keep them out of the next draw.
    let h = invitations::histories(&db).await.unwrap();
    assert!(sent.iter().all(|i| h[&i.person_id].last_contacted.is_some()));

    // The respondent: a missing required answer is marked, nothing stored.
    let mut p = app.client();
    let (status, page) = p.get(&format!("/s/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("How useful is it?") && page.contains("name=\"q2\""), "{page}");
    let (status, page, _) = p.post(&format!("/s/{token}"), &[("q1", "0")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"q0\"") && page.contains("question invalid"), "{page}");
    assert!(responses(&db, survey.id).await.is_empty());
    let answers = [("q0", "4"), ("q1", "1"), ("q2", "9"), ("q3", "Too many groups")];
    let (status, page, _) = p.post(&format!("/s/{token}"), &answers).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"thanks\""));
    // One response per invitation.
    p.post(&format!("/s/{token}"), &[("q0", "1"), ("q1", "0")]).await;
    let stored = responses(&db, survey.id).await;
    assert_eq!(stored.len(), 1);
    let (tier, _, json) = &stored[0];
    assert!(tier.as_deref() == Some("silent") || tier.as_deref() == Some("shallow"), "{tier:?}");
    assert!(json.contains("Too many groups"));

    // The results by tier, and the response rate.
    let (_, page) = r.get(&survey_path).await;
    assert!(page.contains("id=\"rates\""), "{page}");
    let table = |page: &str, marker: &str| {
        let from = &page[page.find(marker).unwrap_or_else(|| panic!("{marker}: {page}"))..];
        from[..from.find("</table>").unwrap()].to_string()
    };
    assert!(table(&page, "id=\"rates\"").contains("% (1 of "), "the response rate with its n: {page}");
    let (_, report) = r.get(&format!("/studies/{}/report", s.id)).await;
    assert!(table(&report, "class=\"survey-rates\"").contains("% (1 of "), "{report}");
    assert!(page.contains("<td>4.0</td>"), "the Likert mean: {page}");
    assert!(page.contains("<td>+100</td>"), "one promoter out of one: {page}");
    assert!(!page.contains("Too many groups"), "free text is not shown in the tables");

    // The anonymous link: a department is kept only above the floor (5).
    let (_, page, _) = r.post(&format!("{survey_path}/anonymous"), &[]).await;
    let i = page.find("/s/open/").expect("the link is shown once") + 8;
    let open = page[i..i + 64].to_string();
    let mut a = app.client();
    a.get(&format!("/s/open/{open}")).await;
    a.post(&format!("/s/open/{open}"), &[("q0", "2"), ("q1", "0"), ("department", "Engineering")]).await;
    let mut b = app.client();
    b.get(&format!("/s/open/{open}")).await;
    b.post(&format!("/s/open/{open}"), &[("q0", "3"), ("q1", "1"), ("department", "No such team")]).await;
    // (Responses are stored in no particular order: their ids are random.)
    let stored = responses(&db, survey.id).await;
    assert_eq!(stored.len(), 3);
    let open_answers: Vec<_> = stored.iter().filter(|r| r.0.is_none()).collect();
    assert_eq!(open_answers.len(), 2, "anonymous answers have no tier");
    let engineering = undercurrent::storage::surveys::department_size(&db, "Engineering").await.unwrap();
    let kept: Vec<&str> = open_answers.iter().filter_map(|r| r.1.as_deref()).collect();
    // An unknown or small department is not kept.
    assert_eq!(kept, if engineering >= 5 { vec!["Engineering"] } else { vec![] });

    // Opting out from the survey e-mail stops research contact.
    let other = token_of(&undercurrent::app::outbox::rendered_body(&db, &mails[mails.len() - 1]).await.unwrap());
    let mut o = app.client();
    o.get(&format!("/s/{other}")).await;
    let (status, page, _) = o.post(&format!("/s/{other}/opt-out"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"opted-out\""));
    let opted = invitations::histories(&db).await.unwrap().values().filter(|h| h.opted_out).count();
    assert_eq!(opted, 1);

    // Managers and analysts cannot manage surveys; unknown tokens are 404.
    let mut m = app.signed_in(Role::Manager).await;
    assert_eq!(m.get(&survey_path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(p.get(&format!("/s/{}", "a".repeat(64))).await.0, StatusCode::NOT_FOUND);
    app.finish().await;
}

/// The survey builder previews the survey as respondents will see it, from
/// the text being written; a line that does not read gives its number and
/// no preview.
#[tokio::test]
async fn the_builder_previews_the_survey_as_it_is_written() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let me =
        undercurrent::storage::accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    let mut r = app.signed_in(Role::Researcher).await;
    let list = format!("/studies/{}/surveys", s.id);
    let (_, page) = r.get(&list).await;
    let section = |page: &str| page[page.find("id=\"survey-preview\"").expect("a preview")..].to_string();
    assert!(section(&page).contains("<fieldset class=\"question"), "the example, previewed");

    let definition =
        "single* Where do you talk? | 在哪里沟通？\n- Here | 这里\n- Phone | 电话\nnps Recommend? | 推荐？";
    let (status, page, _) = r.post(&format!("{list}/preview"), &[("title", "Pulse"), ("definition", definition)]).await;
    assert_eq!(status, StatusCode::OK);
    let preview = section(&page);
    assert!(preview.contains("Where do you talk?") && preview.contains("type=\"radio\""), "{preview}");
    assert!(preview.contains("> Phone</label>") && preview.contains("value=\"10\""), "{preview}");
    assert!(page.contains("value=\"Pulse\""), "the form keeps what was written");
    assert!(surveys::for_study(&db, s.id).await.unwrap().is_empty(), "a preview saves nothing");

    r.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    let (_, page, _) = r.post(&format!("{list}/preview"), &[("title", "Pulse"), ("definition", definition)]).await;
    assert!(
        section(&page).contains("在哪里沟通？") && section(&page).contains("> 电话</label>"),
        "in the page's language"
    );

    let (_, page, _) = r.post(&format!("{list}/preview"), &[("definition", "likert How?\nfoo Bar?")]).await;
    assert!(page.contains("第 2 行") || page.contains("Line 2"), "{page}");
    assert!(!section(&page).contains("<fieldset"), "no preview of a survey that does not read");
    app.finish().await;
}
