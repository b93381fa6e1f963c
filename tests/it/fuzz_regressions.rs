//! Inputs found by the fuzz targets in `fuzz/` (see docs/fuzzing.md), each
//! fed through the same public function the target calls, with the
//! behaviour it must have. Each test failed (or hung) before its fix.

use std::io::Cursor;

use undercurrent::ingest::InputError;
use undercurrent::ingest::events::{EventReader, RawEvent};
use undercurrent::ingest::source::open;

/// Reads at most `limit` items: a reader that never ends must fail the test,
/// not hang it.
fn drain_events(name: &str, data: Vec<u8>, limit: usize) -> Vec<Result<RawEvent, InputError>> {
    let input = open(name, Cursor::new(data)).unwrap_or_else(|e| panic!("open: {e}"));
    let reader = EventReader::new(input, chrono_tz::UTC).unwrap_or_else(|e| panic!("reader: {e}"));
    reader.take(limit).collect()
}

/// Fuzz target `events` (minimised crash, selector byte 0x07 = a raw
/// `.json.gz` file): twelve bytes, a gzip header and two bytes of a broken
/// deflate stream. The NDJSON event reader returned the same read error
/// forever instead of ending after it, so draining it never finished.
#[test]
fn events_a_broken_gzip_ndjson_file_ends_after_its_read_error() {
    let data = b"\x1f\x8b\x08\x00\xb3\xeb\x0b\xb3\xb3\xeb\xeb\x1f".to_vec();
    let items = drain_events("events.json.gz", data, 10);
    assert_eq!(items.len(), 1, "{items:?}");
    let e = items[0].as_ref().unwrap_err();
    assert_eq!(e.line, 1, "{e}");
    assert!(e.message.contains("the gzip data is truncated or corrupt"), "{e}");
}

/// Fuzz target `forms` (minimised crash: the text `4444444444444h`): a
/// reminder offset too large for `TimeDelta::hours` panicked in
/// `parse_reminders`, so saving it in the settings form crashed the request.
/// It is refused like any offset above a week.
#[test]
fn forms_a_huge_reminder_offset_is_refused_not_a_panic() {
    use undercurrent::domain::settings::{parse_reminders, validate};

    let week = "must be more than nothing and at most a week";
    for text in ["4444444444444h", "9223372036854775807h", "-9223372036854775808h", "999999999999999m"] {
        let err = parse_reminders(text).unwrap_err();
        assert!(err.contains(week), "{text}: {err}");
    }
    assert!(validate("mail.reminders", "24h, 4444444444444h").unwrap_err().contains(week));
    assert_eq!(parse_reminders("1h,168h").unwrap(), vec![chrono::TimeDelta::hours(168), chrono::TimeDelta::hours(1)]);
}
