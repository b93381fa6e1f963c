//! Event files (CSV and NDJSON, plain or gzipped) through `source::open`
//! and `events::EventReader`, drained to the end.
//!
//! First byte: bits 0-2 choose the file name (and so the format and whether
//! the rest is gzipped first), bits 3-7 the time zone. The rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use undercurrent::ingest::events::{EventReader, detect_format};

#[path = "common.rs"]
mod common;
use common::{MAX_ITEMS, check_error, gzip, input, zone};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let tz = zone(selector >> 3);
    let (name, bytes) = match selector & 7 {
        0 | 1 => ("events.csv", rest.to_vec()),
        2 | 3 => ("events.ndjson", rest.to_vec()),
        4 => ("events.csv.gz", gzip(rest)),
        5 => ("events.ndjson.gz", gzip(rest)),
        // No usable extension: the format is sniffed from the content, and
        // raw bytes starting 1f 8b reach the gzip decoder as they are.
        6 => ("events.txt", rest.to_vec()),
        _ => ("events.json.gz", rest.to_vec()),
    };
    let _ = detect_format(name, rest);
    let Some(input) = input(name, bytes) else { return };
    let mut reader = match EventReader::new(input, tz) {
        Ok(r) => r,
        Err(e) => return check_error(&e),
    };
    let _ = reader.format();
    let mut items = 0usize;
    while let Some(item) = reader.next_event() {
        items += 1;
        assert!(items <= MAX_ITEMS, "the event reader does not end");
        match item {
            Ok(event) => {
                assert!(event.line >= 1);
                assert!(!event.user_id.is_empty() && !event.kind.is_empty());
                assert!((0..=7_258_118_400).contains(&event.ts), "timestamp out of range: {}", event.ts);
            }
            Err(e) => check_error(&e),
        }
    }
});
