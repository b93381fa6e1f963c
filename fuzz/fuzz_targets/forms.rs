//! Text typed into forms and parsed in the domain: survey definitions and
//! answers (`survey::parse_definition`, `parse_answers`, `to_text`),
//! `settings::parse_reminders` and `settings::validate` (every key),
//! `scheduling::parse_hours`, `account::parse_email` and `check_password`,
//! `decimal::Ratio::parse_decimal`, `ingest::timestamp::parse` and
//! `parse_date`, `study::fill` / `unknown_placeholders`,
//! `codebook::key_from`, and the small keyword parsers (`Kind`, `Class`,
//! `Family`, `ProfileId`, `Tier`, `Consent`, `Language`, `Role`,
//! `ChannelType`, `FactSource`, `Target`, `Field`, `TimeFormat`).
//!
//! Input: one selector byte (time zone, settings key), then UTF-8 text (bad
//! bytes replaced) in parts separated by NUL bytes. Part 1 is a survey
//! definition, part 2 its answers (`name=value` lines; a line without `=`
//! answers the next question). Every part, and every line of it, goes
//! through each single-value parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use undercurrent::domain::account::{Role, check_password, parse_email};
use undercurrent::domain::codebook::{Consent, key_from};
use undercurrent::domain::decimal::Ratio;
use undercurrent::domain::facts::FactSource;
use undercurrent::domain::kind::{Class, Family};
use undercurrent::domain::mapping::{Field, Target, TimeFormat};
use undercurrent::domain::metrics::ChannelType;
use undercurrent::domain::profile::ProfileId;
use undercurrent::domain::scheduling::parse_hours;
use undercurrent::domain::settings::{MAIL_SETTINGS, SETTINGS, parse_reminders, validate};
use undercurrent::domain::study::{Language, fill, unknown_placeholders};
use undercurrent::domain::survey::{self, Answer, Kind, parse_answers, parse_definition, to_text};
use undercurrent::domain::tier::Tier;
use undercurrent::ingest::timestamp;

#[path = "common.rs"]
mod common;
use common::zone;

fn one_value(text: &str, selector: u8) {
    let tz = zone(selector);
    if let Ok(offsets) = parse_reminders(text) {
        assert!(offsets.windows(2).all(|w| w[0] > w[1]), "reminders not sorted and unique: {offsets:?}");
        assert!(offsets.iter().all(|d| *d > chrono::TimeDelta::zero() && *d <= chrono::TimeDelta::days(7)));
    }
    if let Ok((start, end)) = parse_hours(text) {
        assert!(start < end);
    }
    if let Ok(email) = parse_email(text) {
        assert!(email.contains('@') && email.len() <= 254);
        assert_eq!(parse_email(&email), Ok(email.clone()), "parse_email is not idempotent");
    }
    let _ = check_password(text);
    if let Some(r) = Ratio::parse_decimal(text) {
        assert!(r.den != 0);
        let _ = (r.to_f64(), r.display(3), r.display(9), r.to_string());
    }
    if let Ok(ts) = timestamp::parse(text, tz) {
        assert!((0..=7_258_118_400).contains(&ts), "timestamp out of range: {ts}");
    }
    let _ = timestamp::parse_date(text);
    let _ = timestamp::shorten(text);
    let keys: Vec<&str> = SETTINGS.iter().chain(MAIL_SETTINGS).map(|s| s.key).collect();
    let key = keys[usize::from(selector) % keys.len()];
    let _ = validate(key, text);
    let _ = validate("kind.custom_event", text);
    let _ = validate(text, "1");
    let _ = key_from(text);
    let _ = fill(text, &[("name", "Ada"), ("link", "https://x.example/{name}")]);
    let _ = unknown_placeholders(text, &["name", "link"]);
    let _ = (Kind::parse(text), Class::parse(text), Family::parse(text), ProfileId::parse(text), Tier::parse(text));
    let _ = (Consent::parse(text), Language::parse(text), Role::parse(text), ChannelType::parse(text));
    let _ = (FactSource::parse(text), Target::parse(text), Field::parse(text), TimeFormat::parse(text));
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('\0');
    let definition = parts.next().unwrap_or("");
    let answers_text = parts.next().unwrap_or("");

    match parse_definition(definition) {
        Ok(questions) => {
            assert!(!questions.is_empty() && questions.len() <= survey::MAX_QUESTIONS);
            for q in &questions {
                assert!(!q.prompt_en.is_empty());
                assert!(!q.kind.is_choice() || q.options.len() >= 2);
            }
            // The documented round trip, for texts free of `|`.
            let plain = questions.iter().all(|q| {
                let mut texts = vec![&q.prompt_en, &q.prompt_zh];
                for (en, zh) in &q.options {
                    texts.extend([en, zh]);
                }
                texts.iter().all(|t| !t.contains('|'))
            });
            if plain {
                assert_eq!(parse_definition(&to_text(&questions)), Ok(questions.clone()), "to_text round trip");
            }
            let mut next = 0usize;
            let fields: Vec<(String, String)> = answers_text
                .lines()
                .map(|line| match line.split_once('=') {
                    Some((n, v)) => (n.to_string(), v.to_string()),
                    None => {
                        next += 1;
                        (format!("q{}", (next - 1) % questions.len()), line.to_string())
                    }
                })
                .collect();
            match parse_answers(&questions, &fields) {
                Ok(answers) => {
                    assert_eq!(answers.len(), questions.len());
                    for (q, a) in questions.iter().zip(&answers) {
                        match a {
                            None => assert!(!q.required),
                            Some(Answer::Scale(n)) => {
                                let (lo, hi) = q.kind.scale().expect("a scale answer to a scale question");
                                assert!((lo..=hi).contains(n));
                            }
                            Some(Answer::Choice(i)) => assert!(*i < q.options.len()),
                            Some(Answer::Choices(v)) => {
                                assert!(v.windows(2).all(|w| w[0] < w[1]) && v.iter().all(|i| *i < q.options.len()))
                            }
                            Some(Answer::Text(t)) => assert!(!t.is_empty()),
                        }
                    }
                }
                Err(bad) => assert!(!bad.is_empty() && bad.windows(2).all(|w| w[0] < w[1])),
            }
        }
        Err((line, message)) => {
            assert!(line >= 1 && !message.is_empty());
        }
    }

    for part in text.split('\0') {
        one_value(part, selector);
        if part.contains('\n') {
            for line in part.lines() {
                one_value(line, selector);
            }
        }
    }
});
