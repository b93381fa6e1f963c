//! The demo organisation tells the seed's story: departments whose
//! adoption curves differ and rise after their rollout, feature breadth
//! over its whole range, people near the deep rule's thresholds, numbers
//! that are the metrics export's, and (for `serve --demo`) a finished study
//! whose report has interviews, quotes, a survey and a holdout.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use reqwest::StatusCode;
use undercurrent::app::evaluate::compute;
use undercurrent::app::import::{import_events, import_people};
use undercurrent::app::settings;
use undercurrent::domain::demo::{DemoParams, rollout_dates};
use undercurrent::domain::evaluation::Summary;
use undercurrent::domain::settings::OrgSettings;
use undercurrent::ingest::source::open;
use undercurrent::storage::Db;

use crate::common::web::TestApp;
use crate::common::{TestDb, cli};

const END: &str = "2026-11-30";

/// Generates the demo (as `demo generate` does) and imports it (as
/// `serve --demo` does).
async fn import_demo(db: &Db, dir: &std::path::Path, people: u32) -> DemoParams {
    let end: NaiveDate = END.parse().unwrap();
    undercurrent::cli::demo::generate(people, 120, 1, dir, Some(end)).unwrap();
    settings::set(db, "timezone", "Asia/Shanghai").await.unwrap();
    let tz = settings::load(db).await.unwrap().timezone;
    let file = |name: &str| {
        let path = dir.join(name);
        open(&path.display().to_string(), std::fs::File::open(&path).unwrap()).unwrap()
    };
    import_people(db, file("people.csv")).await.unwrap();
    import_events(db, tz, file("events.csv")).await.unwrap();
    DemoParams { people, days: 120, seed: 1, end, tz }
}

fn rate(n: u32, of: u32) -> f64 {
    if of == 0 { f64::NAN } else { f64::from(n) / f64::from(of) }
}

#[tokio::test]
async fn the_demo_tells_a_story_that_differs_by_department_and_matches_the_export() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let p = import_demo(&t.db, dir.path(), 700).await;
    let org = settings::load(&t.db).await.unwrap();

    // Each department's curve on its own time line: login and deep rate
    // (of people past the grace period) at whole weeks since its rollout,
    // from the engine, as the adoption page reads them.
    let mut at: BTreeMap<NaiveDate, BTreeMap<String, Summary>> = BTreeMap::new();
    let mut curves: BTreeMap<&str, Vec<(i64, Summary)>> = BTreeMap::new();
    let rollouts = rollout_dates(&p);
    for (dept, rollout) in &rollouts {
        let mut week = 0;
        while let Some(as_of) = rollout.checked_add_days(chrono::Days::new(7 * week)).filter(|d| *d <= p.end) {
            if let std::collections::btree_map::Entry::Vacant(slot) = at.entry(as_of) {
                let c = compute(&t.db, &org, Some(as_of), None).await.unwrap();
                let by = c.evaluation.by_department(&c.data, &c.profile);
                slot.insert(by.into_iter().filter_map(|(d, s)| Some((d?.to_string(), s))).collect());
            }
            let s = at[&as_of].get(*dept).cloned();
            curves.entry(dept).or_default().push((week as i64, s.expect("a department is listed from its rollout")));
            week += 1;
        }
    }
    let login = |s: &Summary| rate(s.logged_in, s.base);
    let deep = |s: &Summary| rate(s.deep, s.base);
    let last = |dept: &str| curves[dept].last().unwrap().1.clone();
    let week = |dept: &str, w: usize| curves[dept][w].1.clone();
    let shape: Vec<String> = curves
        .iter()
        .map(|(d, c)| {
            let points: Vec<String> =
                c.iter().map(|(w, s)| format!("w{w} {:.2}/{:.2} ({})", login(s), deep(s), s.base)).collect();
            format!("{d}: {}", points.join(", "))
        })
        .collect();
    let shape = shape.join("\n");

    // The grace period: in the first two weeks everyone is new, no rate.
    for (dept, c) in &curves {
        assert!(c[..2].iter().all(|(_, s)| s.base == 0), "{dept} in its grace period\n{shape}");
    }
    // False prosperity: nearly everyone logs in, few work in the tool.
    let support = last("Customer Support");
    assert!(login(&support) >= 0.85 && deep(&support) <= 0.15, "{shape}");
    // Healthy: most work in the tool.
    let engineering = last("Engineering");
    assert!(login(&engineering) >= 0.85 && deep(&engineering) >= 0.45, "{shape}");
    // Stalling: far below both, its login rate past its peak.
    let sales = last("Sales");
    assert!(login(&sales) <= 0.8 && deep(&sales) <= 0.3, "{shape}");
    let peak = curves["Sales"].iter().map(|(_, s)| login(s)).filter(|r| !r.is_nan()).fold(0.0, f64::max);
    assert!(login(&sales) < peak - 0.05, "{shape}");
    // Late rollout: nothing before it; a short curve.
    let legal = rollouts.iter().find(|r| r.0 == "Legal").unwrap().1;
    assert!(curves["Legal"].len() <= 6 && legal > rollouts[6].1, "{shape}");
    let before_legal = compute(&t.db, &org, Some(legal.pred_opt().unwrap()), None).await.unwrap();
    let by = before_legal.evaluation.by_department(&before_legal.data, &before_legal.profile);
    assert!(!by.contains_key(&Some("Legal")), "no one in Legal before its rollout");
    for r in before_legal.evaluation.results.iter() {
        assert_ne!(before_legal.data.people[r.person].department.as_deref(), Some("Legal"));
    }
    // Curves rise over the first weeks after rollout: depth comes later
    // than logging in, and in every department.
    for dept in ["Engineering", "Operations", "Marketing", "Finance", "HR", "Legal"] {
        let (w2, w4) = (week(dept, 2), week(dept, 4));
        assert!(deep(&w2) < deep(&w4), "{dept} deep rate rises\n{shape}");
    }
    for dept in ["Engineering", "Sales", "Operations", "Marketing", "Finance", "Legal"] {
        let (w2, w4) = (week(dept, 2), week(dept, 4));
        assert!(login(&w2) + 0.1 < login(&w4), "{dept} login rate rises\n{shape}");
    }
    // Departments differ: the gap between logging in and working in the
    // tool ranges widely.
    let gaps: Vec<f64> = curves.keys().map(|d| login(&last(d)) - deep(&last(d))).collect();
    let (lo, hi) = gaps.iter().fold((1.0f64, 0.0f64), |(lo, hi), g| (lo.min(*g), hi.max(*g)));
    assert!(hi - lo >= 0.4, "{gaps:?}\n{shape}");

    // The export: feature breadth takes every value 0..=5, and its tiers
    // and active days are the headline's numbers.
    let (code, export, err) = cli(&t.url, &["metrics", "export", "--as-of", END]);
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_reader(export.as_bytes());
    let header = r.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (tier, active, breadth) = (col("tier"), col("active_days"), col("feature_breadth"));
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut breadths: Vec<u32> = rows.iter().map(|x| x[breadth].parse().unwrap()).collect();
    breadths.sort_unstable();
    breadths.dedup();
    assert_eq!(breadths, [0, 1, 2, 3, 4, 5]);
    let base: Vec<_> = rows.iter().filter(|x| &x[tier] != "new").collect();
    let logged_in = base.iter().filter(|x| x[active].parse::<u32>().unwrap() > 0).count() as u32;
    let deep_n = base.iter().filter(|x| &x[tier] == "deep").count() as u32;
    let headline = compute(&t.db, &org, Some(p.end), None).await.unwrap();
    let s = headline.evaluation.summary(&headline.profile);
    assert_eq!((s.base, s.logged_in, s.deep), (base.len() as u32, logged_in, deep_n));
    assert_eq!(rows.len() as u32, s.listed);
    let (code, summary, err) = cli(&t.url, &["metrics", "summary", "--as-of", END, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let overall = &json["overall"];
    assert_eq!(overall["base"].as_u64(), Some(u64::from(s.base)), "{json}");
    assert_eq!(overall["tiers"]["deep"].as_u64(), Some(u64::from(s.deep)), "{json}");
    let login_rate = overall["login_rate"].as_f64().unwrap();
    assert_eq!((login_rate * f64::from(s.base)).round() as u32, logged_in, "{json}");

    // People sit near the deep rule's thresholds: moving one moves people.
    let changes: [fn(&mut OrgSettings); 2] =
        [|o| o.profile.deep.min_interactive_days = 10, |o| o.profile.deep.min_feature_breadth = 3];
    for change in changes {
        let mut proposed = org.clone();
        change(&mut proposed);
        let moves = undercurrent::app::settings_preview::preview(&t.db, &org, &proposed).await.unwrap();
        assert!(moves.moved >= 5, "{} moved", moves.moved);
    }
    t.finish().await;
}

/// `serve --demo` seeds through `prepare_demo`: a study that is finished,
/// with coded interviews and quotes, a survey with responses and a
/// holdout, which its report shows.
#[tokio::test]
async fn serve_demo_makes_a_finished_study_whose_report_shows_its_value() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let dir = tempfile::tempdir().unwrap();
    let password = undercurrent::cli::serve::prepare_demo(&db, dir.path(), 400, &app.base).await.unwrap();
    let password = password.expect("a demo administrator was made");
    let studies = undercurrent::storage::studies::list(&db).await.unwrap();
    assert_eq!(studies.len(), 1);
    let s = &studies[0];
    assert!(!s.is_open(), "the study is finished");
    // A second start changes nothing.
    assert_eq!(undercurrent::cli::serve::prepare_demo(&db, dir.path(), 400, &app.base).await.unwrap(), None);
    assert_eq!(undercurrent::storage::studies::list(&db).await.unwrap().len(), 1);

    let mut admin = app.client();
    let (status, _) = admin.sign_in(undercurrent::cli::serve::DEMO_ADMIN, &password).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let (status, page) = admin.get(&format!("/studies/{}/report", s.id)).await;
    assert_eq!(status, StatusCode::OK);
    for section in ["voices", "why", "after", "surveys"] {
        assert!(page.contains(&format!("id=\"{section}\"")), "{section}");
    }
    assert!(page.contains("Holdout (not contacted)"), "{page}");
    assert!(!page.contains("No round of this study set a holdout aside"), "{page}");
    assert!(!page.contains("Not measurable yet"), "the data reach past the contact: {page}");
    assert!(!page.contains("No interviews recorded yet") && !page.contains("No quotes cleared for sharing yet"));
    let (status, json) = admin.get(&format!("/studies/{}/report.json", s.id)).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let interviews = json["interviews"].as_u64().unwrap();
    assert!(interviews >= 8, "{json}");
    assert!(json["quotes"].as_array().unwrap().len() >= 4, "{json}");
    assert!(!json["codes"].as_array().unwrap().is_empty(), "{json}");
    assert!(json["effects"].as_array().is_some_and(|e| !e.is_empty()), "{json}");
    let surveys = undercurrent::storage::surveys::for_study(&db, s.id).await.unwrap();
    assert_eq!(surveys.len(), 1);
    let responses = undercurrent::storage::surveys::responses(&db, surveys[0].id).await.unwrap();
    assert!(responses.len() >= 10, "{}", responses.len());
    assert!(page.contains(&format!("responses: {}", responses.len())), "{page}");
    // Consent was given and the notes were kept.
    let quotes = undercurrent::storage::interviews::quotes_for_study(&db, s.id).await.unwrap();
    assert!(quotes.iter().any(|q| page.contains(&q.0)), "{page}");

    // What a visitor of the demo sees first.
    if crate::common::browser::available() {
        let b = crate::common::browser::Browser::start().await;
        b.sign_in(&app.base, undercurrent::cli::serve::DEMO_ADMIN, &password).await;
        for (path, name) in [
            ("/".to_string(), "demo-overview"),
            ("/adoption".into(), "demo-adoption"),
            (format!("/studies/{}/report", s.id), "demo-report"),
        ] {
            b.goto(&format!("{}{path}", app.base)).await;
            b.wait_for("main").await;
            b.screenshot_full(name).await;
        }
        b.quit().await;
    }
    app.finish().await;
}
