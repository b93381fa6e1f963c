//! The push API body: `web::api::events::parse` for each `BodyFormat`.
//!
//! First byte: bit 0 chooses NDJSON or a JSON array, bits 1-7 the time
//! zone. The rest is the request body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use undercurrent::web::api::events::{BodyFormat, parse};

#[path = "common.rs"]
mod common;
use common::{check_error, zone};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let format = if selector & 1 == 0 { BodyFormat::Ndjson } else { BodyFormat::Array };
    let tz = zone(selector >> 1);
    if let Ok(parsed) = parse(format, body.to_vec(), tz) {
        for e in &parsed.events {
            assert!(e.line >= 1 && !e.user_id.is_empty() && !e.kind.is_empty());
            assert!((0..=7_258_118_400).contains(&e.ts), "timestamp out of range: {}", e.ts);
        }
        for e in &parsed.errors {
            check_error(e);
        }
    }
});
