//! One date and number format per language: every page a role can open,
//! in English and in Chinese, says dates in words ("29 May 2026",
//! "2026年5月29日") and shares as percentages, never a machine's
//! `2026-05-29` or `0.145` in the text a reader sees (form values, code and
//! machine attributes stay ISO).

use reqwest::StatusCode;
use undercurrent::domain::account::Role;

use crate::chinese::EveryPage;
use crate::common::reading::{machine_formats, visible_text};

#[tokio::test]
async fn no_page_shows_an_iso_date_or_a_bare_ratio_in_either_language() {
    let every = EveryPage::new().await;
    let app = &every.app;
    let mut problems = Vec::new();
    for role in [Role::Admin, Role::Researcher, Role::Analyst, Role::Manager] {
        let mut c = app.signed_in(role).await;
        for lang in ["en", "zh-CN"] {
            let (status, _, _) = c.post("/language", &[("lang", lang), ("back", "/")]).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            for path in &every.pages {
                let (status, page) = c.get(path).await;
                if status == StatusCode::FORBIDDEN {
                    continue;
                }
                assert_eq!(status, StatusCode::OK, "{role} {lang} {path}");
                let found = machine_formats(&visible_text(&page));
                if !found.is_empty() {
                    problems.push(format!("{role} {lang} {path}: {found:?}"));
                }
            }
        }
    }
    let anon = reqwest::Client::new();
    for lang in ["en", "zh-CN"] {
        for path in &every.participant_pages {
            let page = anon
                .get(format!("{}{path}", app.base))
                .header("Accept-Language", lang)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let found = machine_formats(&visible_text(&page));
            if !found.is_empty() {
                problems.push(format!("participant {lang} {path}: {found:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "machine formats in the text people read:\n{}", problems.join("\n"));
    every.app.finish().await;
}

#[test]
fn the_check_finds_iso_dates_and_bare_ratios_only() {
    use crate::common::reading::machine_formats;
    assert_eq!(machine_formats("as of 2026-05-29, 0.145 deep"), vec!["2026-05-29", "0.145"]);
    assert!(machine_formats("29 May 2026, 14.5%, 0.25 %, 0.5 min, 1,386, p000, v1.0.2, 12026-05-299").is_empty());
    assert!(machine_formats("2026年5月29日 14:05").is_empty());
}
