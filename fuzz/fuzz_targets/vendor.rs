//! Vendor activity exports (Teams, Slack dashboard CSV and API NDJSON,
//! Feishu NDJSON / JSON array, Google Chat CSV / NDJSON) through
//! `vendor::detect`, `vendor::slack_period_from_name` and
//! `vendor::VendorReader`, drained to the end.
//!
//! First byte: bits 0-2 choose the file name (7: the name is the first line
//! of the rest, the file what follows it), bits 3-5 force a format (0-4,
//! else detect it), bit 6 gives a period in the options, bit 7 gzips the
//! file first.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use undercurrent::ingest::vendor::{VendorFormat, VendorOptions, VendorReader, detect, slack_period_from_name};

#[path = "common.rs"]
mod common;
use common::{MAX_ITEMS, check_error, gzip, input};

const NAMES: [&str; 7] = [
    "TeamsUserActivityUserDetail_5_20_2024.csv",
    "Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv",
    "Acme Member Analytics.csv",
    "slack_member_analytics_2026-04-15.ndjson",
    "feishu_admin_user_stats.json",
    "google_chat_user_usage.csv",
    "export",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (name, file): (String, &[u8]) = match usize::from(selector & 7) {
        7 => {
            let (line, file) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            (String::from_utf8_lossy(line).into_owned(), file)
        }
        i => (NAMES[i].to_string(), rest),
    };
    let format = VendorFormat::ALL.get(usize::from((selector >> 3) & 7)).copied();
    let options = VendorOptions {
        period: (selector & 0x40 != 0)
            .then(|| (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())),
        ..Default::default()
    };
    let bytes = if selector & 0x80 != 0 { gzip(file) } else { file.to_vec() };

    if let Some((start, end)) = slack_period_from_name(&name) {
        assert!(start <= end, "a period that runs backwards from {name:?}");
    }
    let detected = detect(&name, file);
    if let Some(f) = detected {
        let _ = (f.label(), f.source());
    }

    let Some(input) = input(&name, bytes) else { return };
    let mut reader = match VendorReader::new(input, format, &options) {
        Ok(r) => r,
        Err(e) => return check_error(&e),
    };
    if let Some(f) = format {
        assert_eq!(reader.format(), f);
    }
    let mut items = 0usize;
    while let Some(item) = reader.next_fact() {
        items += 1;
        assert!(items <= MAX_ITEMS, "the vendor reader does not end");
        match item {
            Ok(fact) => {
                assert!(fact.line >= 1);
                assert!(!fact.user_id.is_empty());
                assert!(fact.start <= fact.end, "{fact:?}");
            }
            Err(e) => check_error(&e),
        }
    }
});
