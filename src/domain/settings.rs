//! Organisation settings: their names, defaults and validation. Stored as
//! text (see `storage::settings`); parsed here into typed values.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use super::decimal::Ratio;
use super::kind::Class;
use super::profile::{Profile, ProfileId};

/// A setting an administrator can change.
pub struct SettingDef {
    pub key: &'static str,
    pub help: &'static str,
}

pub const SETTINGS: &[SettingDef] = &[
    SettingDef { key: "timezone", help: "IANA time zone that defines calendar days and reads naive timestamps" },
    SettingDef {
        key: "profile",
        help: "scenario profile: internal_collaboration, customer_service, social, online_education",
    },
    SettingDef { key: "window_days", help: "days in the metrics window (1-366); default: the profile's" },
    SettingDef { key: "grace_days", help: "grace period after onboarding, in days (0-365); default: the profile's" },
    SettingDef { key: "deep.min_interactive_days", help: "deep rule: at least this many interactive days" },
    SettingDef { key: "deep.min_feature_breadth", help: "deep rule: at least this many feature families (0-5)" },
    SettingDef { key: "deep.min_login_depth", help: "deep rule: login depth at least this (0-1, e.g. 0.5)" },
    SettingDef {
        key: "aggregated.min_active_days",
        help: "aggregated sources: deep needs at least this many (interactive) days",
    },
    SettingDef {
        key: "aggregated.min_feature_breadth",
        help: "aggregated sources: deep needs at least this many feature families",
    },
    SettingDef { key: "privacy_floor", help: "smallest group an aggregate may show to a manager (1-1000)" },
];

/// Outreach settings: how research e-mail goes out, and the organisation's
/// name. Kept apart from the activity settings above (they change no number).
pub const MAIL_SETTINGS: &[SettingDef] = &[
    SettingDef { key: "org_name", help: "the organisation's name, shown on the overview (asked at set-up)" },
    SettingDef {
        key: "mail.smtp_url",
        help: "SMTP server, e.g. smtp://user:password@host:587?tls=required or smtps://host:465; \
               unset: messages are written to the outbox folder as .eml files (SMTP_URL in the environment wins)",
    },
    SettingDef { key: "mail.from", help: "sender of research e-mail, e.g. Research <research@example.com>" },
    SettingDef { key: "mail.reminders", help: "reminders before an interview, e.g. 24h,1h (none: an empty value)" },
    SettingDef { key: "public_url", help: "address participants' links use, e.g. https://undercurrent.example.com" },
    SettingDef {
        key: "metrics.enabled",
        help: "serve /metrics in the Prometheus text format: true or false (default)",
    },
    SettingDef {
        key: "import.max_inflated_mb",
        help: "largest size a gzipped import may inflate to, in MiB (1-1048576; default 1024)",
    },
    SettingDef {
        key: "import.max_ratio",
        help: "largest inflated-to-compressed ratio of a gzipped import past its first MiB (2-100000; default 100)",
    },
    SettingDef {
        key: "retention.days",
        help: "keep raw events for this many days (7-36500); older ones are deleted, facts and history stay; \
               unset: kept for ever (default)",
    },
];

/// How far a gzipped import may inflate: past `max_bytes`, or past
/// `max_ratio` times the compressed bytes read once the first
/// [`InflateLimits::RATIO_AFTER`] bytes are out, it is a decompression bomb
/// (or the wrong file) and the import stops at that line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflateLimits {
    pub max_bytes: u64,
    pub max_ratio: u64,
}

impl InflateLimits {
    pub const RATIO_AFTER: u64 = 1 << 20;
    pub const DEFAULT_MAX_MB: u64 = 1024;
    pub const DEFAULT_MAX_RATIO: u64 = 100;

    /// The limits in force from stored values (unset or unreadable: the
    /// defaults; values were validated when set).
    pub fn from_map(map: &BTreeMap<String, String>) -> InflateLimits {
        let get = |key: &str, default: u64| {
            map.get(key).and_then(|v| validate(key, v).ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(default)
        };
        InflateLimits {
            max_bytes: get("import.max_inflated_mb", Self::DEFAULT_MAX_MB) << 20,
            max_ratio: get("import.max_ratio", Self::DEFAULT_MAX_RATIO),
        }
    }
}

impl Default for InflateLimits {
    fn default() -> Self {
        InflateLimits { max_bytes: Self::DEFAULT_MAX_MB << 20, max_ratio: Self::DEFAULT_MAX_RATIO }
    }
}

/// Default reminders: a day and an hour before.
pub const DEFAULT_REMINDERS: &str = "24h,1h";

/// Reads reminder offsets such as `24h,1h,30m` (a day at most... a week).
pub fn parse_reminders(value: &str) -> Result<Vec<chrono::TimeDelta>, String> {
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (n, unit) = part.split_at(part.len() - part.chars().last().map_or(0, char::len_utf8));
        let n: i64 = n.trim().parse().map_err(|_| format!("`{part}` is not a duration such as 24h or 30m"))?;
        // `try_`: `hours` and `minutes` panic past about 2.5e12 hours.
        let d = match unit {
            "h" => chrono::TimeDelta::try_hours(n),
            "m" => chrono::TimeDelta::try_minutes(n),
            _ => return Err(format!("`{part}` is not a duration such as 24h or 30m")),
        };
        match d {
            Some(d) if d > chrono::TimeDelta::zero() && d <= chrono::TimeDelta::days(7) => out.push(d),
            _ => return Err(format!("`{part}` must be more than nothing and at most a week")),
        }
    }
    out.sort();
    out.dedup();
    out.reverse();
    Ok(out)
}

fn validate_mail(key: &str, value: &str) -> Option<Result<String, String>> {
    Some(match key {
        "mail.smtp_url" if value.starts_with("smtp://") || value.starts_with("smtps://") => Ok(value.to_string()),
        "mail.smtp_url" => Err(format!("`{value}` is not an SMTP URL (smtp://host:port or smtps://host:port)")),
        "mail.from" if value.contains('@') && !value.contains(['\r', '\n']) => Ok(value.to_string()),
        "mail.from" => Err(format!("`{value}` is not an e-mail address")),
        "mail.reminders" => parse_reminders(value).map(|_| value.to_string()),
        "metrics.enabled" if value == "true" || value == "false" => Ok(value.to_string()),
        "metrics.enabled" => Err(format!("`{value}` is not true or false")),
        "import.max_inflated_mb" => number(value, 1, 1 << 20).map(|n| n.to_string()),
        "import.max_ratio" => number(value, 2, 100_000).map(|n| n.to_string()),
        "retention.days" => {
            number(value, super::retention::MIN_DAYS, super::retention::MAX_DAYS).map(|n| n.to_string())
        }
        "public_url"
            if (value.starts_with("http://") || value.starts_with("https://"))
                && !value.contains(char::is_whitespace) =>
        {
            Ok(value.trim_end_matches('/').to_string())
        }
        "public_url" => Err(format!("`{value}` is not an http:// or https:// address")),
        _ => return None,
    })
}

/// Prefix of per-kind mappings: `kind.presence_ping = passive`.
pub const KIND_PREFIX: &str = "kind.";

pub const DEFAULT_PRIVACY_FLOOR: u32 = 5;

/// The settings in force.
#[derive(Clone, Debug)]
pub struct OrgSettings {
    pub timezone: Tz,
    pub profile: Profile,
    pub privacy_floor: u32,
}

fn number(value: &str, min: u32, max: u32) -> Result<u32, String> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("`{value}` is not a whole number from {min} to {max}"))
}

/// Checks a value for a key; returns the value as it will be stored.
pub fn validate(key: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    if let Some(result) = validate_mail(key, value) {
        return result;
    }
    match key {
        "timezone" => value
            .parse::<Tz>()
            .map(|tz| tz.name().to_string())
            .map_err(|_| format!("`{value}` is not an IANA time zone name (for example Asia/Shanghai or Europe/Berlin)")),
        "org_name" => match value.chars().count() {
            1..=120 if !value.chars().any(char::is_control) => Ok(value.to_string()),
            _ => Err("the organisation's name is 1 to 120 characters on one line".to_string()),
        },
        "profile" => ProfileId::parse(value).map(|p| p.as_str().to_string()).ok_or_else(|| {
            format!("`{value}` is not a profile; expected internal_collaboration, customer_service, social or online_education")
        }),
        "window_days" => number(value, 1, 366).map(|n| n.to_string()),
        "grace_days" => number(value, 0, 365).map(|n| n.to_string()),
        "deep.min_interactive_days" => number(value, 0, 366).map(|n| n.to_string()),
        "deep.min_feature_breadth" => number(value, 0, 5).map(|n| n.to_string()),
        "deep.min_login_depth" => match Ratio::parse_decimal(value) {
            Some(r) if r.num <= r.den => Ok(value.to_string()),
            _ => Err(format!("`{value}` is not a decimal from 0 to 1 (for example 0.5)")),
        },
        "privacy_floor" => number(value, 1, 1000).map(|n| n.to_string()),
        "aggregated.min_active_days" => number(value, 0, 366).map(|n| n.to_string()),
        "aggregated.min_feature_breadth" => number(value, 0, 5).map(|n| n.to_string()),
        k if k.starts_with(KIND_PREFIX) && k.len() > KIND_PREFIX.len() => Class::parse(value)
            .map(|c| c.to_string())
            .ok_or_else(|| format!("`{value}` is not a class; expected passive, interactive or interactive:FAMILY (text, voice, video, files, docs)")),
        _ => Err(format!(
            "unknown setting `{key}`; known: {}, and kind.NAME",
            SETTINGS.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")
        )),
    }
}

impl OrgSettings {
    /// Builds the settings in force from stored values; anything unset takes
    /// its default. Stored values were validated when set, but a hand-edited
    /// database is reported rather than silently ignored.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<OrgSettings, String> {
        let get = |key: &str| -> Result<Option<String>, String> {
            map.get(key).map(|v| validate(key, v).map_err(|e| format!("setting {key}: {e}"))).transpose()
        };
        let timezone = get("timezone")?.map(|v| v.parse::<Tz>().unwrap_or(chrono_tz::UTC)).unwrap_or(chrono_tz::UTC);
        let id = get("profile")?.and_then(|v| ProfileId::parse(&v)).unwrap_or(ProfileId::InternalCollaboration);
        let mut profile = Profile::builtin(id);
        let as_u32 = |v: String| v.parse::<u32>().unwrap_or(0);
        if let Some(v) = get("window_days")? {
            profile.window_days = as_u32(v);
        }
        if let Some(v) = get("grace_days")? {
            profile.grace_days = as_u32(v);
        }
        if let Some(v) = get("deep.min_interactive_days")? {
            profile.deep.min_interactive_days = as_u32(v);
        }
        if let Some(v) = get("deep.min_feature_breadth")? {
            profile.deep.min_feature_breadth = as_u32(v);
        }
        if let Some(v) = get("deep.min_login_depth")? {
            profile.deep.min_login_depth = Ratio::parse_decimal(&v).unwrap_or(profile.deep.min_login_depth);
        }
        for (key, value) in map.range(KIND_PREFIX.to_string()..) {
            let Some(kind) = key.strip_prefix(KIND_PREFIX) else { break };
            let class = Class::parse(value).ok_or_else(|| format!("setting {key}: `{value}` is not a class"))?;
            profile.kinds.set_by_name(kind, class);
        }
        if let Some(v) = get("aggregated.min_active_days")? {
            profile.aggregated.min_active_days = as_u32(v);
        }
        if let Some(v) = get("aggregated.min_feature_breadth")? {
            profile.aggregated.min_feature_breadth = as_u32(v);
        }
        let privacy_floor = get("privacy_floor")?.map(as_u32).unwrap_or(DEFAULT_PRIVACY_FLOOR);
        Ok(OrgSettings { timezone, profile, privacy_floor })
    }

    /// Every setting with its value in force and whether it was set.
    pub fn effective(&self, map: &BTreeMap<String, String>) -> Vec<(String, String, bool)> {
        let p = &self.profile;
        let mut out: Vec<(String, String, bool)> = [
            ("timezone", self.timezone.name().to_string()),
            ("profile", p.id.as_str().to_string()),
            ("window_days", p.window_days.to_string()),
            ("grace_days", p.grace_days.to_string()),
            ("deep.min_interactive_days", p.deep.min_interactive_days.to_string()),
            ("deep.min_feature_breadth", p.deep.min_feature_breadth.to_string()),
            ("deep.min_login_depth", p.deep.min_login_depth.display(9)),
            ("aggregated.min_active_days", p.aggregated.min_active_days.to_string()),
            ("aggregated.min_feature_breadth", p.aggregated.min_feature_breadth.to_string()),
            ("privacy_floor", self.privacy_floor.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v, map.contains_key(k)))
        .collect();
        for (key, value) in map.range(KIND_PREFIX.to_string()..).take_while(|(k, _)| k.starts_with(KIND_PREFIX)) {
            out.push((key.clone(), value.clone(), true));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_time_zones_and_values_are_rejected() {
        assert_eq!(validate("timezone", "Asia/Shanghai"), Ok("Asia/Shanghai".into()));
        assert!(validate("timezone", "Mars/Olympus").unwrap_err().contains("IANA"));
        assert!(validate("profile", "gaming").is_err());
        assert!(validate("window_days", "0").is_err());
        assert!(validate("deep.min_login_depth", "1.5").is_err());
        assert!(validate("colour", "blue").unwrap_err().contains("unknown setting"));
        assert_eq!(validate("kind.presence_ping", "interactive:text"), Ok("interactive:text".into()));
    }

    #[test]
    fn settings_override_the_profile_defaults() {
        let map: BTreeMap<String, String> = [
            ("profile", "customer_service"),
            ("window_days", "14"),
            ("deep.min_login_depth", "0.25"),
            ("timezone", "Asia/Shanghai"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = OrgSettings::from_map(&map).unwrap();
        assert_eq!(s.profile.id, ProfileId::CustomerService);
        assert_eq!(s.profile.window_days, 14);
        assert_eq!(s.profile.grace_days, 14);
        assert_eq!(s.profile.deep.min_login_depth, Ratio { num: 25, den: 100 });
        assert_eq!(s.timezone.name(), "Asia/Shanghai");
    }
}
