//! What a per-event export held beyond its events, on the import result:
//! its own record types (the vendor's names, as code), the records skipped
//! and why (in the reader's language, a vendor's name in a reason as code),
//! the activity it does not record.

use std::collections::BTreeMap;

use super::imports::{Stat, StatItem, count};
use crate::ingest::vendor::m365_audit;
use crate::ingest::vendor::skipped::Reason;
use crate::storage::imports::ImportDetails;
use crate::web::i18n::Catalog;

pub(super) fn source_note_stats(t: &Catalog, d: &ImportDetails) -> Vec<Stat> {
    let mut stats = Vec::new();
    if !d.source_records.is_empty() {
        let items = d.source_records.iter().map(|(name, n)| StatItem::code(name, *n)).collect();
        stats.push(Stat::listed(t.get("imports.source_records"), items));
    }
    if !d.records_skipped.is_empty() {
        stats.push(Stat::listed(t.get("imports.records_skipped"), skipped(t, &d.records_skipped)));
    }
    for missing in &d.not_recorded {
        let text = match missing.as_str() {
            m365_audit::NO_MESSAGES => t.get("imports.not_recorded.no_messages").to_string(),
            m365_audit::ONLY_LINK_MESSAGES => t.get("imports.not_recorded.only_link_messages").to_string(),
            other => other.to_string(),
        };
        stats.push(Stat { label: t.get("imports.not_recorded").to_string(), value: text, items: Vec::new() });
    }
    stats
}

/// Each reason in words; text stored before reasons had keys, as it is.
fn skipped(t: &Catalog, reasons: &BTreeMap<String, u64>) -> Vec<StatItem> {
    reasons.iter().map(|(stored, n)| reason(t, Reason::parse(stored), *n)).collect()
}

fn reason(t: &Catalog, reason: Reason, n: u64) -> StatItem {
    let text = |before: &str, code: Option<&str>, after: &str| StatItem {
        before: before.to_string(),
        code: code.map(str::to_string),
        after: after.to_string(),
        count: count(n),
    };
    match reason {
        Reason::Plain(key) => text(t.get(&catalog_key(key)), None, ""),
        Reason::Named(key, name) => {
            let key = catalog_key(key);
            let words = t.get(&key);
            let (before, after) = words.split_once("{name}").unwrap_or((words, ""));
            text(before, Some(name), after)
        }
        Reason::Text(stored) => text(stored, None, ""),
    }
}

/// A reason's key in the catalogs.
fn catalog_key(key: &str) -> String {
    format!("imports.skipped.{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::vendor::skipped::{self, named};
    use crate::web::i18n::Lang;

    #[test]
    fn every_reason_has_words_in_both_languages_and_the_english_matches_the_command_line() {
        for key in skipped::keys() {
            for lang in [Lang::En, Lang::ZhCn] {
                assert!(lang.catalog().has(&catalog_key(key)), "{key} in {lang:?}");
            }
        }
        let en = Lang::En.catalog();
        for stored in skipped::keys().map(str::to_string).chain([named(skipped::SUBTYPE, "channel_join")]) {
            let parsed = Reason::parse(&stored);
            if matches!(parsed, Reason::Text(_)) {
                continue; // a named key without its value
            }
            let item = reason(en, parsed, 1);
            let said = format!("{}{}{}", item.before, item.code.unwrap_or_default(), item.after);
            assert_eq!(said, parsed.english(), "{stored}");
        }
    }

    #[test]
    fn a_vendors_name_is_code_and_older_text_stays() {
        let zh = Lang::ZhCn.catalog();
        let item = reason(zh, Reason::parse("audit_action:user_channel_join"), 3);
        assert_eq!(item.code.as_deref(), Some("user_channel_join"));
        assert!(!item.before.is_empty() && !item.before.is_ascii(), "{}", item.before);
        let old = reason(zh, Reason::parse("messages of subtype x"), 1);
        assert_eq!((old.before.as_str(), old.code), ("messages of subtype x", None));
    }
}
