//! The privacy floor across every output a manager can read: organisations
//! with departments around the floor, every department figure collected
//! from the overview, the adoption page and its CSV, and the report (HTML,
//! CSV, JSON), then a check that no group below the floor can be worked out
//! from them (alone, or as a difference of published totals).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::web::{Client, TestApp};
use proptest::prelude::*;
use reqwest::StatusCode;
use undercurrent::app::import::{import_events, import_people};
use undercurrent::app::settings;
use undercurrent::domain::account::Role;
use undercurrent::ingest::source::open;
use undercurrent::storage::Db;

const AS_OF: &str = "2026-05-29";
const OTHER: &str = "Other groups";

/// A department: its name, its people, and how many of them are active
/// every day of the last four weeks (the rest do nothing).
#[derive(Clone, Debug)]
struct Dept {
    name: String,
    size: u32,
    active: u32,
    /// The directory's start date of its people.
    start: &'static str,
}

async fn load(db: &Db, depts: &[Dept]) {
    let dir = tempfile::tempdir().unwrap();
    let mut people = String::from("user_id,name,department,start_date\n");
    let mut events = String::from("event_id,user_id,timestamp,event,channel,channel_type,duration_seconds\n");
    let day0 = chrono::NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let mut n = 0;
    for d in depts {
        for i in 0..d.size {
            let id = format!("{}{i}@corp.example", d.name.to_lowercase().replace(' ', ""));
            people.push_str(&format!("{id},P{i},{},{}\n", d.name, d.start));
            if i < d.active {
                for back in 0..42 {
                    let day = day0 - chrono::Days::new(back);
                    for (h, kind) in [(9, "login"), (10, "message_sent"), (11, "reaction"), (12, "doc_edit")] {
                        n += 1;
                        events.push_str(&format!(
                            "e{n},{id},{day}T{h:02}:00:00Z,{kind},g-{},group,\n",
                            d.name.to_lowercase().replace(' ', "")
                        ));
                    }
                }
            }
        }
    }
    std::fs::write(dir.path().join("people.csv"), people).unwrap();
    std::fs::write(dir.path().join("events.csv"), events).unwrap();
    let file = |f: &str| open(f, std::fs::File::open(dir.path().join(f)).unwrap()).unwrap();
    import_people(db, file("people.csv")).await.unwrap();
    let tz = settings::load(db).await.unwrap().timezone;
    import_events(db, tz, file("events.csv")).await.unwrap();
}

/// One published figure: the departments it covers and their people.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Figure {
    date: String,
    groups: BTreeSet<String>,
    people: u32,
    source: &'static str,
}

fn number(s: &str) -> u32 {
    s.trim().replace(',', "").parse().unwrap_or_else(|_| panic!("a count: {s:?}"))
}

/// Rows of an HTML table (`id`): the row header and the cells.
fn html_rows(page: &str, id: &str) -> Vec<(String, Vec<String>)> {
    let start = page.find(&format!("<table id=\"{id}\"")).unwrap_or_else(|| panic!("table {id}"));
    let body = &page[start..start + page[start..].find("</table>").unwrap()];
    let body = &body[body.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .filter_map(|row| {
            let head = row.split("<th scope=\"row\">").nth(1)?.split("</th>").next()?.to_string();
            let cells =
                row.split("<td").skip(1).filter_map(|c| Some(c.split_once('>')?.1.split("</td>").next()?.to_string()));
            Some((head, cells.collect()))
        })
        .collect()
}

/// The departments table of a page, as figures: each row alone, and
/// "Other groups" as every department not shown alone on that page.
fn table_figures(all: &BTreeSet<String>, rows: &[(String, u32)], source: &'static str) -> Vec<Figure> {
    let alone: BTreeSet<String> = rows.iter().map(|(l, _)| l.clone()).filter(|l| l != OTHER).collect();
    rows.iter()
        .map(|(label, people)| Figure {
            date: AS_OF.into(),
            groups: if label == OTHER {
                all.difference(&alone).cloned().collect()
            } else {
                BTreeSet::from([label.clone()])
            },
            people: *people,
            source,
        })
        .collect()
}

/// Everything a manager can read about departments.
async fn manager_figures(c: &mut Client, all: &BTreeSet<String>) -> Vec<Figure> {
    let mut figures = Vec::new();
    let (status, page) = c.get(&format!("/?as_of={AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<(String, u32)> =
        html_rows(&page, "departments").into_iter().map(|(l, cells)| (l, number(&cells[0]))).collect();
    figures.extend(table_figures(all, &rows, "overview"));

    let (status, page) = c.get(&format!("/adoption?as_of={AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    for (label, cells) in html_rows(&page, "comparison") {
        let people = cells[2].trim();
        if people != "–" {
            figures.push(Figure {
                date: AS_OF.into(),
                groups: BTreeSet::from([label]),
                people: number(people),
                source: "adoption",
            });
        }
    }
    let (status, csv) = c.get(&format!("/adoption.csv?as_of={AS_OF}")).await;
    assert_eq!(status, StatusCode::OK);
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        figures.push(Figure {
            date: f[3].into(),
            groups: BTreeSet::from([f[0].to_string()]),
            people: number(f[4]),
            source: "adoption.csv",
        });
    }

    let (status, page) = c.get("/report").await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<(String, u32)> =
        html_rows(&page, "report-departments").into_iter().map(|(l, cells)| (l, number(&cells[0]))).collect();
    figures.extend(table_figures(all, &rows, "report"));
    let (status, body) = c.get("/report.json").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rows: Vec<(String, u32)> = json["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), number(r[1].as_str().unwrap())))
        .collect();
    figures.extend(table_figures(all, &rows, "report.json"));
    let (status, csv) = c.get("/report.csv").await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<(String, u32)> = csv
        .lines()
        .filter_map(|l| l.strip_prefix("departments,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), number(f[1]))
        })
        .collect();
    figures.extend(table_figures(all, &rows, "report.csv"));
    figures
}

/// Rank of 0/1 rows over the rationals (Gaussian elimination in f64; the
/// rows are small).
fn rank(rows: &[Vec<f64>]) -> usize {
    let mut m: Vec<Vec<f64>> = rows.to_vec();
    let cols = m.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..m.len()).find(|&i| m[i][c].abs() > 1e-9) else { continue };
        m.swap(r, p);
        for i in 0..m.len() {
            if i != r && m[i][c].abs() > 1e-9 {
                let f = m[i][c] / m[r][c];
                let pivot = m[r].clone();
                for (x, p) in m[i].iter_mut().zip(&pivot) {
                    *x -= f * p;
                }
            }
        }
        r += 1;
    }
    r
}

/// Checks the figures against the organisation: each is true, none is of a
/// group below the floor, and for each date no set of departments below the
/// floor is a combination (sums and differences) of the published figures
/// and the organisation's total.
fn assert_nothing_below_the_floor_derivable(depts: &[Dept], figures: &[Figure], floor: u32) {
    let names: Vec<String> = depts.iter().map(|d| d.name.clone()).collect();
    let size: BTreeMap<&str, u32> = depts.iter().map(|d| (d.name.as_str(), d.size)).collect();
    let dates: BTreeSet<&str> = figures.iter().map(|f| f.date.as_str()).collect();
    for f in figures {
        let truth: u32 = f.groups.iter().map(|g| size[g.as_str()]).sum();
        assert_eq!(f.people, truth, "{f:?} is the true count");
        assert!(f.people >= floor, "{f:?} is below the floor {floor}");
    }
    for date in dates {
        let vector = |groups: &BTreeSet<String>| -> Vec<f64> {
            names.iter().map(|n| if groups.contains(n) { 1.0 } else { 0.0 }).collect()
        };
        // The total is assumed known (the overview's tier counts add up to it).
        let mut published: Vec<Vec<f64>> = vec![vec![1.0; names.len()]];
        published.extend(figures.iter().filter(|f| f.date == date).map(|f| vector(&f.groups)));
        let base = rank(&published);
        for mask in 1u32..(1 << names.len()) {
            let set: BTreeSet<String> =
                names.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, n)| n.clone()).collect();
            let people: u32 = set.iter().map(|g| size[g.as_str()]).sum();
            if people >= floor {
                continue;
            }
            let mut with = published.clone();
            with.push(vector(&set));
            assert!(rank(&with) > base, "{set:?} ({people} people) can be worked out on {date} from {figures:#?}");
        }
    }
}

async fn check(depts: &[Dept], floor: u32) {
    let app = TestApp::with_accounts().await;
    load(&app.t.db, depts).await;
    settings::set(&app.t.db, "privacy_floor", &floor.to_string()).await.unwrap();
    let all: BTreeSet<String> = depts.iter().map(|d| d.name.clone()).collect();
    let mut manager = app.signed_in(Role::Manager).await;
    let figures = manager_figures(&mut manager, &all).await;
    assert_nothing_below_the_floor_derivable(depts, &figures, floor);
    app.finish().await;
}

fn dept(name: &str, size: u32, active: u32) -> Dept {
    Dept { name: name.into(), size, active, start: "2025-01-01" }
}

/// The case: a 2-person department (1 deep, 1 dormant) beside a
/// 6-person one. The overview folds both into "Other groups"; the adoption
/// page and its CSV used to show the 6-person department alone, so that
/// "Other groups" minus it gave the 2-person one away.
#[tokio::test]
async fn a_two_person_group_beside_a_six_person_group_cannot_be_subtracted() {
    let depts = [dept("Engineering", 30, 12), dept("Sales", 6, 3), dept("Legal", 2, 1)];
    let app = TestApp::with_accounts().await;
    load(&app.t.db, &depts).await;
    let all: BTreeSet<String> = depts.iter().map(|d| d.name.clone()).collect();
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, overview) = manager.get(&format!("/?as_of={AS_OF}")).await;
    let rows = html_rows(&overview, "departments");
    assert_eq!(
        rows.iter().map(|(l, c)| (l.as_str(), c[0].as_str())).collect::<Vec<_>>(),
        [("Engineering", "30"), (OTHER, "8")]
    );
    let (_, adoption) = manager.get(&format!("/adoption?as_of={AS_OF}")).await;
    assert!(!adoption.contains("Sales") && !adoption.contains("Legal"), "{adoption}");
    assert!(adoption.contains("2 departments are not shown on their own"), "the page says why");
    let (_, csv) = manager.get(&format!("/adoption.csv?as_of={AS_OF}")).await;
    assert!(csv.lines().skip(1).all(|l| l.starts_with("Engineering,")), "{csv}");
    assert!(csv.lines().count() > 2, "Engineering's weeks are there");
    let figures = manager_figures(&mut manager, &all).await;
    assert_nothing_below_the_floor_derivable(&depts, &figures, 5);

    // The research team and analysts are not under the floor.
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, csv) = analyst.get(&format!("/adoption.csv?as_of={AS_OF}")).await;
    assert!(csv.contains("\nLegal,") && csv.contains("\nSales,"), "{csv}");
    app.finish().await;
}

proptest! {
    // Each case is a server and a database; a few cases around the floor
    // cover merging, folding a shown group in, and hiding everything.
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn no_group_below_the_floor_can_be_worked_out_from_what_a_manager_sees(
        sizes in prop::collection::vec((1u32..=9, 0u32..=9), 1..=5),
        floor in 3u32..=6,
    ) {
        let depts: Vec<Dept> = sizes
            .iter()
            .enumerate()
            .map(|(i, (size, active))| {
                // Someone is active, so that the data has a latest day.
                let active = if i == 0 { (*active).clamp(1, *size) } else { (*active).min(*size) };
                dept(&format!("Dept {}", (b'A' + i as u8) as char), *size, active)
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(check(&depts, floor));
    }
}

/// Everyone together below the floor: a manager reads no rate and no count
/// of them anywhere, and the report says why.
#[tokio::test]
async fn an_organisation_below_the_floor_shows_a_manager_no_rate() {
    let depts = [dept("Legal", 3, 2)];
    let app = TestApp::with_accounts().await;
    load(&app.t.db, &depts).await;
    let mut manager = app.signed_in(Role::Manager).await;
    let (status, page) = manager.get("/report").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Fewer people are measured than the privacy floor (5), so no rate is shown"), "{page}");
    assert!(!page.contains("66.7%") && !page.contains("(n = 3)"), "{page}");
    let (_, body) = manager.get("/report.json").await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((json["login_rate"].as_str(), json["base"].is_null()), (Some("–"), true));
    assert!(json["departments"].as_array().unwrap().is_empty());
    let (_, csv) = manager.get(&format!("/adoption.csv?as_of={AS_OF}")).await;
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    // The research team reads the rates.
    let mut researcher = app.signed_in(Role::Researcher).await;
    let (_, body) = researcher.get("/report.json").await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((json["login_rate"].as_str(), json["base"].as_u64()), (Some("66.7%"), Some(3)));
    app.finish().await;
}

/// The overview's tier mix week by week: each week under the floor by its
/// own size (the organisation grew past the floor only lately), not by
/// today's.
#[tokio::test]
async fn each_week_of_the_tier_mix_is_under_the_floor_by_its_own_size() {
    let depts = [dept("Engineering", 3, 3), Dept { start: "2026-05-20", ..dept("Operations", 4, 0) }];
    let app = TestApp::with_accounts().await;
    load(&app.t.db, &depts).await;
    let weekly = |page: &str| -> Vec<(String, Vec<String>)> {
        let from = page.find("<h2>Tier mix").unwrap_or_else(|| panic!("{page}"));
        let section = &page[from..from + page[from..].find("</section>").unwrap()];
        let body = section.replace("<table>", "<table id=\"weekly\">");
        html_rows(&body, "weekly")
    };
    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get(&format!("/?as_of={AS_OF}")).await;
    let rows = weekly(&page);
    let last = rows.last().unwrap();
    assert!(last.1.iter().all(|c| c != "–"), "7 people today: {rows:?}");
    let early = &rows[rows.len() - 3];
    assert!(early.1.iter().all(|c| c == "–"), "3 people two weeks ago: {rows:?}");
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get(&format!("/?as_of={AS_OF}")).await;
    let rows = weekly(&page);
    assert!(rows[rows.len() - 3].1.iter().all(|c| c != "–"), "no floor for analysts: {rows:?}");
    // Only the weeks before the first event have no figures, for every role.
    let before = rows.iter().take_while(|(_, cells)| cells.iter().all(|c| c == "–")).count();
    assert!(rows[before..].iter().all(|(_, cells)| cells.iter().all(|c| c != "–")), "{rows:?}");
    app.finish().await;
}
