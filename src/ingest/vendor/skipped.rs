//! Why a per-event importer left records out: a stable key, stored with the
//! import (`ImportDetails.records_skipped`), optionally followed by the
//! vendor's own name after a colon (`subtype:channel_join`). The web says a
//! key through its catalogs (`imports.skipped.<key>`), the command line in
//! the English words below; text stored before keys existed is shown as is.

/// Reasons without a value: key and English words.
const PLAIN: &[(&str, &str)] = &[
    (BOTS_IN_USERS_JSON, "bots in users.json"),
    (REACTIONS_WITHOUT_TIME, "reactions (the export gives them no time)"),
    (MESSAGES_WITHOUT_USER, "messages without a user"),
    (AUDIT_ENTRIES_WITHOUT_PERSON, "audit entries without a person (actor.user)"),
    (OTHER_AUDIT_EVENTS, "other audit events"),
    (NOT_SUCCESSFUL, "not successful"),
    (NO_USER, "no user"),
    (NOT_TEAMS, "not Microsoft Teams"),
    (OTHER_TEAMS_OPERATIONS, "other Teams operations"),
    (MESSAGES_BY_UNKNOWN_SENDERS, "messages by senders not among the export's users"),
    (MESSAGES_BY_BOTS, "messages by bots"),
    (PRESENCE_OF_UNKNOWN_PEOPLE, "presence intervals of people not among the export's users"),
    (PRESENCE_OF_BOTS, "presence intervals of bots"),
];

/// Reasons naming the vendor's value: key and English words before it.
const NAMED: &[(&str, &str)] = &[(SUBTYPE, "messages of subtype"), (AUDIT_ACTION, "audit action")];

pub const BOTS_IN_USERS_JSON: &str = "bots_in_users_json";
pub const REACTIONS_WITHOUT_TIME: &str = "reactions_without_time";
pub const MESSAGES_WITHOUT_USER: &str = "messages_without_user";
pub const AUDIT_ENTRIES_WITHOUT_PERSON: &str = "audit_entries_without_person";
pub const OTHER_AUDIT_EVENTS: &str = "other_audit_events";
pub const NOT_SUCCESSFUL: &str = "not_successful";
pub const NO_USER: &str = "no_user";
pub const NOT_TEAMS: &str = "not_teams";
pub const OTHER_TEAMS_OPERATIONS: &str = "other_teams_operations";
pub const MESSAGES_BY_UNKNOWN_SENDERS: &str = "messages_by_unknown_senders";
pub const MESSAGES_BY_BOTS: &str = "messages_by_bots";
pub const PRESENCE_OF_UNKNOWN_PEOPLE: &str = "presence_of_unknown_people";
pub const PRESENCE_OF_BOTS: &str = "presence_of_bots";
/// A Slack message's `subtype`.
pub const SUBTYPE: &str = "subtype";
/// A Slack audit log entry's `action`.
pub const AUDIT_ACTION: &str = "audit_action";

/// The stored key of a reason naming a vendor's value.
pub fn named(key: &str, value: &str) -> String {
    format!("{key}:{value}")
}

/// A stored reason read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason<'a> {
    /// A known key without a value.
    Plain(&'static str),
    /// A known key and the vendor's own name.
    Named(&'static str, &'a str),
    /// Anything else (text stored by an older version): shown as is.
    Text(&'a str),
}

impl<'a> Reason<'a> {
    pub fn parse(stored: &'a str) -> Reason<'a> {
        if let Some(&(key, _)) = PLAIN.iter().find(|(k, _)| *k == stored) {
            return Reason::Plain(key);
        }
        if let Some((prefix, value)) = stored.split_once(':')
            && let Some(&(key, _)) = NAMED.iter().find(|(k, _)| *k == prefix)
            && !value.is_empty()
        {
            return Reason::Named(key, value);
        }
        Reason::Text(stored)
    }

    /// The reason in English words (the command line's).
    pub fn english(self) -> String {
        let words = |table: &[(&str, &'static str)], key: &str| {
            table.iter().find(|(k, _)| *k == key).map(|(_, w)| *w).unwrap_or_default()
        };
        match self {
            Reason::Plain(key) => words(PLAIN, key).to_string(),
            Reason::Named(key, value) => format!("{} {value}", words(NAMED, key)),
            Reason::Text(text) => text.to_string(),
        }
    }
}

/// Every known key (the catalogs must have words for each).
pub fn keys() -> impl Iterator<Item = &'static str> {
    PLAIN.iter().chain(NAMED).map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back_and_older_text_stays_as_it_is() {
        assert_eq!(Reason::parse("reactions_without_time"), Reason::Plain(REACTIONS_WITHOUT_TIME));
        assert_eq!(Reason::parse(&named(SUBTYPE, "channel_join")), Reason::Named(SUBTYPE, "channel_join"));
        assert_eq!(Reason::parse("audit_action:user_channel_join").english(), "audit action user_channel_join");
        assert_eq!(Reason::parse("no_user").english(), "no user");
        for old in ["messages of subtype channel_join", "subtype:", "other: x", ""] {
            assert_eq!(Reason::parse(old), Reason::Text(old));
            assert_eq!(Reason::parse(old).english(), old);
        }
    }
}
