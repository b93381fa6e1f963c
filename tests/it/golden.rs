//! The golden test: the activity-small fixture imported as its README says
//! (the events twice) gives `expected.csv` row for row.

use crate::common::{TestDb, cli, fixture};

fn parse(csv_text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.as_bytes());
    r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect()
}

/// Cells compare numerically where they are numbers.
fn same(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

#[tokio::test]
async fn activity_small_matches_expected_export() {
    let t = TestDb::new().await;
    let dir = fixture("activity-small");
    let path = |f: &str| dir.join(f).display().to_string();

    let (code, _, err) = cli(&t.url, &["settings", "set", "timezone", "Asia/Shanghai"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&t.url, &["import", "people", &path("people.csv")]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(&t.url, &["import", "events", &path("events_a.csv"), &path("events_b.ndjson")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("presence_ping: 97"), "unknown kinds are listed with counts:\n{out}");
    let (code, out, err) = cli(&t.url, &["import", "events", &path("events_a.csv")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("events added        0"), "the second import adds nothing:\n{out}");

    let (code, out, err) = cli(&t.url, &["metrics", "export", "--as-of", "2026-05-29", "--window", "28"]);
    assert_eq!(code, 0, "{err}");
    let got = parse(&out);
    let want = parse(&std::fs::read_to_string(path("expected.csv")).unwrap());
    assert_eq!(&got[0][..10], &want[0][..], "leading columns");
    assert_eq!(got[0][10], "department");
    assert_eq!(got.len(), want.len(), "row count");
    let mut mismatches = Vec::new();
    for (g, w) in got.iter().zip(&want).skip(1) {
        for (i, column) in want[0].iter().enumerate() {
            if !same(&g[i], &w[i]) {
                mismatches.push(format!("{} {column}: got {:?}, want {:?}", w[0], g[i], w[i]));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    t.finish().await;
}
