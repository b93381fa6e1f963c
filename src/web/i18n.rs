//! Languages: English and Simplified Chinese. Every user-facing string comes
//! from a catalog (`templates/i18n/*.json`, flat keys like `nav.people`);
//! numbers and dates are formatted per language.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let c = code.trim().to_ascii_lowercase();
        if c == "en" || c.starts_with("en-") {
            Some(Lang::En)
        } else if c == "zh" || c.starts_with("zh-") {
            Some(Lang::ZhCn)
        } else {
            None
        }
    }

    /// The first supported language of an Accept-Language header, by weight.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut choices: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let lang = Lang::parse(bits.next()?)?;
                let q =
                    bits.find_map(|b| b.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        choices.sort_by(|a, b| b.0.total_cmp(&a.0));
        choices.first().map(|c| c.1)
    }

    pub fn catalog(self) -> &'static Catalog {
        static EN: OnceLock<Catalog> = OnceLock::new();
        static ZH: OnceLock<Catalog> = OnceLock::new();
        // One catalog file per area, so that each area's strings sit together.
        match self {
            Lang::En => EN.get_or_init(|| {
                Catalog::parse_all(&[
                    include_str!("../../templates/i18n/en.json"),
                    include_str!("../../templates/i18n/en.people.json"),
                    include_str!("../../templates/i18n/en.imports.json"),
                    include_str!("../../templates/i18n/en.mapping.json"),
                    include_str!("../../templates/i18n/en.settings.json"),
                    include_str!("../../templates/i18n/en.adoption.json"),
                    include_str!("../../templates/i18n/en.tokens.json"),
                    include_str!("../../templates/i18n/en.studies.json"),
                    include_str!("../../templates/i18n/en.participant.json"),
                    include_str!("../../templates/i18n/en.report.json"),
                    include_str!("../../templates/i18n/en.firstrun.json"),
                    include_str!("../../templates/i18n/en.calendars.json"),
                    include_str!("../../templates/i18n/en.sources2.json"),
                    include_str!("../../templates/i18n/en.sources.json"),
                    include_str!("../../templates/i18n/en.dates.json"),
                    include_str!("../../templates/i18n/en.reasons.json"),
                    include_str!("../../templates/i18n/en.retention.json"),
                    include_str!("../../templates/i18n/en.identity.json"),
                    include_str!("../../templates/i18n/en.scim.json"),
                    include_str!("../../templates/i18n/en.results.json"),
                ])
            }),
            Lang::ZhCn => ZH.get_or_init(|| {
                Catalog::parse_all(&[
                    include_str!("../../templates/i18n/zh-CN.json"),
                    include_str!("../../templates/i18n/zh-CN.people.json"),
                    include_str!("../../templates/i18n/zh-CN.imports.json"),
                    include_str!("../../templates/i18n/zh-CN.mapping.json"),
                    include_str!("../../templates/i18n/zh-CN.settings.json"),
                    include_str!("../../templates/i18n/zh-CN.adoption.json"),
                    include_str!("../../templates/i18n/zh-CN.tokens.json"),
                    include_str!("../../templates/i18n/zh-CN.studies.json"),
                    include_str!("../../templates/i18n/zh-CN.participant.json"),
                    include_str!("../../templates/i18n/zh-CN.report.json"),
                    include_str!("../../templates/i18n/zh-CN.firstrun.json"),
                    include_str!("../../templates/i18n/zh-CN.calendars.json"),
                    include_str!("../../templates/i18n/zh-CN.sources2.json"),
                    include_str!("../../templates/i18n/zh-CN.sources.json"),
                    include_str!("../../templates/i18n/zh-CN.dates.json"),
                    include_str!("../../templates/i18n/zh-CN.reasons.json"),
                    include_str!("../../templates/i18n/zh-CN.retention.json"),
                    include_str!("../../templates/i18n/zh-CN.identity.json"),
                    include_str!("../../templates/i18n/zh-CN.scim.json"),
                    include_str!("../../templates/i18n/zh-CN.results.json"),
                ])
            }),
        }
    }
}

/// Message key to text.
#[derive(Debug, Default)]
pub struct Catalog {
    messages: HashMap<String, String>,
}

impl Catalog {
    pub fn parse(json: &str) -> Catalog {
        Catalog::parse_all(&[json])
    }

    /// Merges catalog files; a test checks that each parses.
    pub fn parse_all(files: &[&str]) -> Catalog {
        let mut messages = HashMap::new();
        for json in files {
            let part: HashMap<String, String> = serde_json::from_str(json).unwrap_or_default();
            messages.extend(part);
        }
        Catalog { messages }
    }

    /// The text for a key; the key itself when missing (a test checks that
    /// none is).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map(String::as_str).unwrap_or(key)
    }

    /// Whether the catalog has the key (a code read from the database may
    /// come from another version).
    pub fn has(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }

    /// The text with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }
}

/// A whole number with thousands separators (both languages group by
/// three with commas).
pub fn integer(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A share (0..1) as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "–".into();
    }
    format!("{}%", crate::domain::decimal::display_f64(share * 100.0, 1))
}

pub fn date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => d.format("%-d %b %Y").to_string(),
        Lang::ZhCn => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

/// A date and time, already in the zone it is read in (the
/// organisation's): "29 May 2026, 14:05", "2026年5月29日 14:05".
pub fn date_time<Tz: chrono::TimeZone>(lang: Lang, t: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match lang {
        Lang::En => t.format("%-d %b %Y, %H:%M").to_string(),
        Lang::ZhCn => t.format("%Y年%-m月%-d日 %H:%M").to_string(),
    }
}

/// A stored instant (Unix seconds) as a date and time in a zone; "–" for
/// an instant out of range.
pub fn instant(lang: Lang, ts: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map_or_else(|| "–".into(), |t| date_time(lang, &t.with_timezone(&tz)))
}

/// A day without its year, for a chart's week or day labels: "29 May",
/// "5月29日".
pub fn short_date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => d.format("%-d %b").to_string(),
        Lang::ZhCn => format!("{}月{}日", d.month(), d.day()),
    }
}

/// A local day and time with its weekday: "Wed 9 Dec 2026 09:00",
/// "2026年12月9日 星期三 09:00".
pub fn day_and_time<Tz: chrono::TimeZone>(lang: Lang, t: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match lang {
        Lang::En => t.format("%a %-d %b %Y %H:%M").to_string(),
        Lang::ZhCn => format!(
            "{} {} {}",
            t.format("%Y年%-m月%-d日"),
            crate::app::messages::zh_weekday(t.weekday()),
            t.format("%H:%M")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("fr-FR, en;q=0.5, zh;q=0.4"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
    }

    #[test]
    fn numbers_and_dates_per_language() {
        assert_eq!(integer(1234567), "1,234,567");
        assert_eq!(integer(-999), "-999");
        assert_eq!(percent(0.8512), "85.1%");
        let d = NaiveDate::from_ymd_opt(2026, 5, 29).unwrap();
        assert_eq!(date(Lang::En, d), "29 May 2026");
        assert_eq!(date(Lang::ZhCn, d), "2026年5月29日");
        let t = d.and_hms_opt(9, 5, 0).unwrap().and_utc();
        assert_eq!(day_and_time(Lang::En, &t), "Fri 29 May 2026 09:05");
        assert_eq!(day_and_time(Lang::ZhCn, &t), "2026年5月29日 星期五 09:05");
        assert_eq!(date_time(Lang::En, &t), "29 May 2026, 09:05");
        assert_eq!(date_time(Lang::ZhCn, &t), "2026年5月29日 09:05");
        let shanghai = chrono_tz::Asia::Shanghai;
        assert_eq!(instant(Lang::En, t.timestamp(), shanghai), "29 May 2026, 17:05");
        assert_eq!(instant(Lang::ZhCn, t.timestamp(), shanghai), "2026年5月29日 17:05");
        assert_eq!(short_date(Lang::En, d), "29 May");
        assert_eq!(short_date(Lang::ZhCn, d), "5月29日");
    }

    #[test]
    fn every_catalog_file_is_a_flat_json_object_of_strings() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/i18n");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed: Result<HashMap<String, String>, _> = serde_json::from_str(&text);
            assert!(parsed.is_ok(), "{}: {:?}", path.display(), parsed.err());
        }
    }

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let en: std::collections::BTreeSet<&str> = Lang::En.catalog().keys().collect();
        let zh: std::collections::BTreeSet<&str> = Lang::ZhCn.catalog().keys().collect();
        assert!(!en.is_empty());
        let missing_zh: Vec<_> = en.difference(&zh).collect();
        let missing_en: Vec<_> = zh.difference(&en).collect();
        assert!(missing_zh.is_empty() && missing_en.is_empty(), "zh-CN lacks {missing_zh:?}; en lacks {missing_en:?}");
    }

    /// Every action the code writes to the audit log is said in words in
    /// both languages (the log shows no raw codes).
    #[test]
    fn every_audit_action_has_words() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut actions = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            if path.ends_with("web/i18n.rs") {
                continue;
            }
            for call in ["audit::record(", "audit::record_view("] {
                for (i, _) in text.match_indices(call) {
                    // The actions are the string literals before the
                    // target (`Some(...)` or `None`): one, or two chosen
                    // by an `if`.
                    let rest = &text[i + call.len()..];
                    let end = ["Some(", "None", "&format!", ";"].iter().filter_map(|m| rest.find(m)).min();
                    let head = &rest[..end.unwrap_or(rest.len())];
                    for (k, lit) in head.split('"').enumerate() {
                        if k % 2 == 1
                            && !lit.is_empty()
                            && lit.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                        {
                            actions.push((path.display().to_string(), lit.to_string()));
                        }
                    }
                }
            }
        }
        assert!(actions.len() > 20, "{actions:?}");
        let missing: Vec<_> = actions
            .iter()
            .filter(|(_, a)| {
                [Lang::En, Lang::ZhCn].iter().any(|l| !l.catalog().messages.contains_key(&format!("audit.action.{a}")))
            })
            .collect();
        assert!(missing.is_empty(), "audit actions without words: {missing:?}");
    }

    #[test]
    fn every_key_used_in_templates_and_code_is_in_the_catalogs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = Vec::new();
        let mut files = Vec::new();
        for dir in ["templates", "src/web", "src/web/handlers"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        for path in files.iter().filter(|p| p.is_file()) {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            for pattern in ["page.t(\"", "page.tf(\"", "t.get(\"", "t.fill(\""] {
                for (i, _) in text.match_indices(pattern) {
                    let rest = &text[i + pattern.len()..];
                    if let Some(end) = rest.find('"') {
                        used.push((path.display().to_string(), rest[..end].to_string()));
                    }
                }
            }
        }
        assert!(!used.is_empty());
        let missing: Vec<_> = used.iter().filter(|(_, k)| !Lang::En.catalog().messages.contains_key(k)).collect();
        assert!(missing.is_empty(), "keys missing from the catalogs: {missing:?}");
    }
}
