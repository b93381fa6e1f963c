//! Helpers shared by the fuzz targets (included with `#[path]`, not a target).
#![allow(dead_code)]

use std::io::{Cursor, Write};

use chrono_tz::Tz;
use undercurrent::ingest::InputError;
use undercurrent::ingest::source::{Input, open};

/// Zones that exercise fixed offsets, daylight saving with whole hours, a
/// half-hour shift (Lord Howe) and a skipped calendar day (Apia, 2011).
pub const ZONES: [Tz; 6] = [
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Shanghai,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Apia,
    chrono_tz::Asia::Kolkata,
];

pub fn zone(selector: u8) -> Tz {
    ZONES[usize::from(selector) % ZONES.len()]
}

/// Gzips `data` so that the decompressing path sees well-formed streams.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// `source::open` over an in-memory copy, as the web upload does.
pub fn input(name: &str, bytes: Vec<u8>) -> Option<Input> {
    open(name, Cursor::new(bytes)).ok()
}

/// Errors must point at a line.
pub fn check_error(e: &InputError) {
    assert!(e.line >= 1, "an error without a line number: {e:?}");
    assert!(!e.message.is_empty(), "an error without a message: {e:?}");
}

/// Every reader must end: a small input cannot give this many items.
pub const MAX_ITEMS: usize = 200_000;
