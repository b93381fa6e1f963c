//! Column mapping (`domain::mapping`) and files read through a mapping
//! (`ingest::mapped`): `sniff_delimiter`, `sample`, `Mapping::suggest`,
//! `guess_time_format`, `TimeFormat::parse`, `TimeParser::parse`,
//! `parse_value_map`, `validate`, `bind`, `Bound::event` / `person`, and
//! `MappedEvents` / `MappedPeople` drained to the end.
//!
//! Input: two selector bytes, then an optional configuration ended by a NUL
//! byte, then the CSV file. Configuration lines: 1 the time pattern, 2 the
//! time zone, 3 the event constant, the rest a value map (`source = kind`).
//! Selector 1: bit 0 target (events / people), bits 1-2 the time format
//! (guessed, the pattern, Unix seconds, Unix milliseconds), bit 3 gzip, bit
//! 4 use the zone line, bit 5 use the event constant, bit 6 keep other
//! columns, bit 7 use the value map. Selector 2: the organisation's zone and
//! which columns feed required fields the suggestion left empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use undercurrent::domain::mapping::{
    Field, Mapping, Target, TimeFormat, TimeParser, describe, guess_columns, guess_time_format, is_content_column,
    offered_columns, parse_value_map, pattern_example, value_map_text,
};
use undercurrent::ingest::mapped::{MappedEvents, MappedPeople, sample, sniff_delimiter};

#[path = "common.rs"]
mod common;
use common::{MAX_ITEMS, check_error, gzip, input, zone};

fuzz_target!(|data: &[u8]| {
    let [s1, s2, rest @ ..] = data else { return };
    let (s1, s2) = (*s1, *s2);
    let (config, file) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (String::from_utf8_lossy(&rest[..i]).into_owned(), &rest[i + 1..]),
        None => (String::new(), rest),
    };
    let mut lines = config.splitn(4, '\n');
    let pattern = lines.next().unwrap_or("");
    let zone_line = lines.next().unwrap_or("");
    let constant = lines.next().unwrap_or("");
    let value_map = lines.next().unwrap_or("");

    let target = if s1 & 1 == 0 { Target::Events } else { Target::People };
    let org_tz = zone(s2);
    let gzipped = s1 & 8 != 0;
    let (name, bytes) = if gzipped { ("export.csv.gz", gzip(file)) } else { ("export.csv", file.to_vec()) };

    // Text-only parts of the mapping form.
    let format = TimeFormat::parse(pattern);
    let _ = TimeFormat::parse(format.as_str());
    let _ = pattern_example(pattern);
    if let Ok(parser) = TimeParser::new(&format, org_tz) {
        let _ = parser.parse(pattern);
        let _ = parser.parse(zone_line);
        let _ = parser.parse(constant);
    }
    let values = match parse_value_map(value_map) {
        Ok(values) => {
            assert_eq!(parse_value_map(&value_map_text(&values)).as_ref(), Ok(&values), "value map round trip");
            Some(values)
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            let _ = describe(&problems);
            None
        }
    };
    let _ = sniff_delimiter(file);

    // What the mapping page shows first: a sample and a suggestion.
    let Some(sample_input) = input(name, bytes.clone()) else { return };
    let sample = match sample(sample_input, 20) {
        Ok(s) => s,
        Err(e) => return check_error(&e),
    };
    for row in &sample.rows {
        assert_eq!(row.len(), sample.header.len());
    }
    let header = &sample.header;
    let _ = offered_columns(header);
    for h in header {
        let _ = is_content_column(h);
    }
    let _ = guess_columns(Target::Events, header);
    let _ = guess_columns(Target::People, header);
    for i in 0..header.len().min(8) {
        let column: Vec<&str> = sample.rows.iter().map(|r| r[i].as_str()).collect();
        let guessed = guess_time_format(&column);
        if let Ok(parser) = TimeParser::new(&guessed, org_tz) {
            for cell in &column {
                let _ = parser.parse(cell);
            }
        }
    }

    let mut mapping = Mapping::suggest(target, header, &sample.rows);
    match (s1 >> 1) & 3 {
        0 => {}
        1 => mapping.timestamp_format = format.clone(),
        2 => mapping.timestamp_format = TimeFormat::UnixSeconds,
        _ => mapping.timestamp_format = TimeFormat::UnixMillis,
    }
    if s1 & 0x10 != 0 {
        mapping.timezone = Some(zone_line.to_string());
    }
    if s1 & 0x20 != 0 && target == Target::Events && mapping.column(Field::Event).is_none() {
        mapping.event_constant = Some(constant.to_string());
    }
    mapping.keep_other_columns = s1 & 0x40 != 0;
    if s1 & 0x80 != 0
        && let Some(values) = values
    {
        mapping.event_values = values;
    }
    // Required fields the suggestion missed: columns chosen by selector 2.
    if !header.is_empty() {
        let mut next = usize::from(s2 >> 3);
        for field in target.fields() {
            if field.required(target) && mapping.column(*field).is_none() && mapping.event_constant.is_none() {
                mapping.columns.insert(*field, header[next % header.len()].clone());
                next += 1;
            }
        }
    }
    if let Err(problems) = mapping.validate() {
        assert!(!problems.is_empty());
        let _ = describe(&problems);
    }
    match mapping.bind(header, org_tz) {
        Ok(bound) => {
            let _ = (bound.fields(), bound.attribute_columns(), bound.timezone());
            for (i, row) in sample.rows.iter().enumerate() {
                let line = i as u64 + 2;
                let result = match target {
                    Target::Events => bound.event(name, line, &row[..]).map(drop),
                    Target::People => bound.person(name, line, &row[..]).map(drop),
                };
                if let Err(e) = result {
                    check_error(&e);
                }
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            let _ = describe(&problems);
        }
    }

    // The import itself, and the wrong target (refused up front).
    let Some(input) = common::input(name, bytes.clone()) else { return };
    let mut items = 0usize;
    match target {
        Target::Events => match MappedEvents::new(input, &mapping, org_tz) {
            Ok(reader) => {
                for item in reader {
                    items += 1;
                    assert!(items <= MAX_ITEMS, "the mapped event reader does not end");
                    match item {
                        Ok(e) => {
                            assert!(e.line >= 1 && !e.user_id.is_empty() && !e.kind.is_empty());
                            assert!((0..=7_258_118_400).contains(&e.ts), "timestamp out of range: {}", e.ts);
                        }
                        Err(e) => check_error(&e),
                    }
                }
            }
            Err(e) => check_error(&e),
        },
        Target::People => match MappedPeople::new(input, &mapping, org_tz) {
            Ok(reader) => {
                let _ = (reader.fields(), reader.attribute_columns());
                for item in reader {
                    items += 1;
                    assert!(items <= MAX_ITEMS, "the mapped directory reader does not end");
                    match item {
                        Ok(row) => assert!(row.line >= 1 && !row.user_id.is_empty()),
                        Err(e) => check_error(&e),
                    }
                }
            }
            Err(e) => check_error(&e),
        },
    }
    let Some(input) = common::input(name, bytes) else { return };
    let refused = match target {
        Target::Events => MappedPeople::new(input, &mapping, org_tz).err(),
        Target::People => MappedEvents::new(input, &mapping, org_tz).err(),
    };
    assert!(refused.is_some(), "a mapping for {target} was accepted for the other target");
});
