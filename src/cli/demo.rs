//! `undercurrent demo generate`: writes the synthetic organisation of
//! `domain::demo` as a directory CSV and an events CSV.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::csv_out::{Cell, CsvOut};
use crate::domain::demo::{DemoParams, events, people};

/// The demo organisation's time zone.
pub const DEMO_TZ: Tz = chrono_tz::Asia::Shanghai;

/// Today in the demo's time zone: the default last day of data, so that the
/// demo reads as current (a study run today has activity before it).
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&DEMO_TZ).date_naive()
}

pub fn generate(n_people: u32, days: u32, seed: u64, out: &Path, end: Option<NaiveDate>) -> Result<()> {
    anyhow::ensure!(n_people >= 1 && days >= 1, "--people and --days must be at least 1");
    let end = end.unwrap_or_else(today);
    let params = DemoParams { people: n_people, days, seed, end, tz: DEMO_TZ };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let roster = people(&params);

    let path = out.join("people.csv");
    let mut w =
        CsvOut::new(BufWriter::new(File::create(&path).with_context(|| format!("creating {}", path.display()))?));
    w.text_row(["user_id", "name", "email", "department", "title", "location", "start_date"])?;
    for p in &roster {
        let start = p.start_date.map(|d| d.to_string()).unwrap_or_default();
        w.text_row([&p.user_id, &p.name, &p.email, &p.department, &p.title, &p.location, &start])?;
    }
    w.flush()?;

    let path = out.join("events.csv");
    let mut w = CsvOut::new(BufWriter::with_capacity(
        1 << 20,
        File::create(&path).with_context(|| format!("creating {}", path.display()))?,
    ));
    w.text_row(["user_id", "timestamp", "event", "channel", "channel_type", "duration_seconds"])?;
    let mut count: u64 = 0;
    for e in events(&params, &roster) {
        let ts =
            DateTime::from_timestamp(e.ts, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default();
        let duration = e.duration_seconds.map(|d| d.to_string()).unwrap_or_default();
        w.row([
            Cell::text(roster[e.user_id_index as usize].user_id.as_str()),
            Cell::text(ts),
            Cell::text(e.kind),
            Cell::text(e.channel.as_deref().unwrap_or("")),
            Cell::text(e.channel_type.unwrap_or("")),
            Cell::number(duration),
        ])?;
        count += 1;
    }
    w.flush()?;
    println!("Wrote {} people and {count} events ({} days to {end}) to {}", roster.len(), days, out.display());
    println!("Organisation time zone of the demo: Asia/Shanghai (`undercurrent settings set timezone Asia/Shanghai`).");
    Ok(())
}
