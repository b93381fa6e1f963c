//! Directory (people) CSV files through `source::open` and
//! `people::DirectoryReader`, drained to the end.
//!
//! First byte: bit 0 gzips the rest first. The rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use undercurrent::ingest::people::DirectoryReader;

#[path = "common.rs"]
mod common;
use common::{MAX_ITEMS, check_error, gzip, input};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (name, bytes) = match selector & 1 {
        0 => ("people.csv", rest.to_vec()),
        _ => ("people.csv.gz", gzip(rest)),
    };
    let Some(input) = input(name, bytes) else { return };
    let reader = match DirectoryReader::new(input) {
        Ok(r) => r,
        Err(e) => return check_error(&e),
    };
    assert!(reader.has_column("user_id"));
    let _ = reader.attribute_columns();
    for (items, row) in reader.enumerate() {
        assert!(items < MAX_ITEMS, "the directory reader does not end");
        match row {
            Ok(row) => {
                assert!(row.line >= 1);
                assert!(!row.user_id.is_empty());
            }
            Err(e) => check_error(&e),
        }
    }
});
