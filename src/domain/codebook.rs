//! The codebook: the reasons a study classifies what people say under. The
//! default one is drawn from why people stay silent or shallow in a
//! messaging tool; a study copies it and edits its own copy.

/// One code as shipped, in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultCode {
    /// A stable key (kept when a study renames the code).
    pub key: &'static str,
    pub label_en: &'static str,
    pub label_zh: &'static str,
    pub description_en: &'static str,
    pub description_zh: &'static str,
}

pub const DEFAULT_CODES: &[DefaultCode] = &[
    DefaultCode {
        key: "no_pain_point",
        label_en: "Does not solve their problem",
        label_zh: "没有解决痛点",
        description_en: "The tool does not address what makes their work hard.",
        description_zh: "工具没有解决其工作中的实际难点。",
    },
    DefaultCode {
        key: "need_mismatch",
        label_en: "Need mismatch",
        label_zh: "需求不匹配",
        description_en: "Their work does not call for it: little coordination, mostly offline or solo work.",
        description_zh: "工作本身不需要：协作少，多为线下或独立工作。",
    },
    DefaultCode {
        key: "learning_cost",
        label_en: "Learning cost / still adapting",
        label_zh: "学习成本高 / 仍在适应",
        description_en: "Does not know how, has not had time to learn, or is still getting used to it.",
        description_zh: "不知道怎么用、没时间学，或仍在适应中。",
    },
    DefaultCode {
        key: "check_in_only",
        label_en: "Only check-ins and notifications",
        label_zh: "只用于打卡和看通知",
        description_en: "Opens it to punch in, approve or read announcements, nothing more.",
        description_zh: "打开只为打卡、审批或查看通知，别无他用。",
    },
    DefaultCode {
        key: "other_channel",
        label_en: "Prefers another channel",
        label_zh: "偏好其他渠道",
        description_en: "Phone, e-mail, face to face or another app does the job for them.",
        description_zh: "电话、邮件、当面沟通或其他应用已能满足需要。",
    },
    DefaultCode {
        key: "team_culture",
        label_en: "Team culture or operations",
        label_zh: "团队文化或运营",
        description_en: "No one else on the team uses it; no community, no champions, no habits.",
        description_zh: "团队里没人用；没有社群、带头人或使用习惯。",
    },
    DefaultCode {
        key: "technical_quality",
        label_en: "Technical quality",
        label_zh: "技术质量",
        description_en: "Latency, call quality, mobile experience, crashes, sign-in trouble.",
        description_zh: "延迟、通话质量、移动端体验、崩溃、登录问题。",
    },
    DefaultCode {
        key: "policy_trust",
        label_en: "Policy or trust",
        label_zh: "制度或信任",
        description_en: "Worries about monitoring, records being read, or rules on what may be said.",
        description_zh: "担心被监控、记录被查看，或对可说内容有顾虑。",
    },
];

/// Consent as recorded for an interview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Yes,
    No,
    Withdrawn,
}

impl Consent {
    pub const ALL: [Consent; 3] = [Consent::Yes, Consent::No, Consent::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Consent::Yes => "yes",
            Consent::No => "no",
            Consent::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Consent> {
        Consent::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    /// Notes and quotes may be kept only with consent given and not withdrawn.
    pub fn allows_records(self) -> bool {
        self == Consent::Yes
    }
}

/// A stored consent is one this version knows: an unknown value is a typed
/// error where the row is read, not a consent silently taken as refused.
impl TryFrom<String> for Consent {
    type Error = super::state::UnknownState;

    fn try_from(s: String) -> Result<Consent, Self::Error> {
        Consent::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(super::state::UnknownState { what: "consent", value: s })
    }
}

/// A code key as a researcher may type it: lower-case letters, digits and
/// underscores, 1 to 40 characters, from a label if needed.
pub fn key_from(label: &str) -> String {
    let mut key = String::new();
    for c in label.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
        if key.len() >= 40 {
            break;
        }
    }
    let key = key.trim_end_matches('_').to_string();
    if key.is_empty() { "code".into() } else { key }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_codebook_has_the_eight_reasons_in_both_languages() {
        assert_eq!(DEFAULT_CODES.len(), 8);
        let mut keys: Vec<&str> = DEFAULT_CODES.iter().map(|c| c.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 8, "keys are unique");
        for c in DEFAULT_CODES {
            assert_eq!(key_from(c.key), c.key, "keys are already in key form");
            for text in [c.label_en, c.label_zh, c.description_en, c.description_zh] {
                assert!(!text.trim().is_empty(), "{}", c.key);
            }
            assert!(c.label_zh.chars().any(|ch| ch as u32 > 0x4e00), "{} has a Chinese label", c.key);
        }
    }

    #[test]
    fn keys_come_from_labels() {
        assert_eq!(key_from("Prefers e-mail!"), "prefers_e_mail");
        assert_eq!(key_from("  "), "code");
        assert_eq!(key_from("不信任"), "code");
        assert_eq!(key_from(&"x".repeat(100)).len(), 40);
    }

    #[test]
    fn only_consent_given_allows_records() {
        assert!(Consent::Yes.allows_records());
        assert!(!Consent::No.allows_records());
        assert!(!Consent::Withdrawn.allows_records());
        assert_eq!(Consent::parse(" withdrawn "), Some(Consent::Withdrawn));
        assert_eq!(Consent::parse("maybe"), None);
        // As stored: exactly the stored names.
        assert_eq!(Consent::try_from("withdrawn".to_string()), Ok(Consent::Withdrawn));
        let unknown = Consent::try_from("maybe".to_string()).unwrap_err();
        assert_eq!((unknown.what, unknown.value.as_str()), ("consent", "maybe"));
    }
}
