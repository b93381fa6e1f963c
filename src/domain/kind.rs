//! Event kinds, how each one counts (interactive or passive), and the feature
//! families used for breadth (spec sections 1 and 6).
//!
//! A kind is a small integer so that the engine can classify millions of
//! events with an array lookup. The known kinds have fixed ids, shared with
//! the `event_kinds` table; kinds the spec does not name get ids from 1000 up
//! when they are first imported.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(pub u16);

/// Feature families, for `feature_breadth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Text,
    Voice,
    Video,
    Files,
    Docs,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Text, Family::Voice, Family::Video, Family::Files, Family::Docs];

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Text => "text",
            Family::Voice => "voice",
            Family::Video => "video",
            Family::Files => "files",
            Family::Docs => "docs",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// How an event kind counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The person did something with someone; optionally in a feature family.
    Interactive(Option<Family>),
    /// Present, but no interaction.
    Passive,
}

impl Class {
    pub fn is_interactive(self) -> bool {
        matches!(self, Class::Interactive(_))
    }

    pub fn family(self) -> Option<Family> {
        match self {
            Class::Interactive(f) => f,
            Class::Passive => None,
        }
    }

    /// `interactive`, `interactive:docs`, `passive`: the form used in settings.
    pub fn parse(s: &str) -> Option<Class> {
        let s = s.trim();
        if s == "passive" {
            return Some(Class::Passive);
        }
        if s == "interactive" {
            return Some(Class::Interactive(None));
        }
        let family = s.strip_prefix("interactive:")?;
        Family::parse(family).map(|f| Class::Interactive(Some(f)))
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Class::Passive => f.write_str("passive"),
            Class::Interactive(None) => f.write_str("interactive"),
            Class::Interactive(Some(fam)) => write!(f, "interactive:{}", fam.name()),
        }
    }
}

macro_rules! known_kinds {
    ($( $konst:ident = $id:literal, $name:literal, $class:expr; )*) => {
        impl Kind {
            $( pub const $konst: Kind = Kind($id); )*
        }
        /// Every kind the spec names: id, name, and its class under the default
        /// (internal collaboration) profile.
        pub const KNOWN_KINDS: &[(Kind, &str, Class)] = &[ $( (Kind($id), $name, $class), )* ];
    };
}

use Class::{Interactive as I, Passive as P};

known_kinds! {
    MESSAGE_SENT = 1, "message_sent", I(Some(Family::Text));
    REACTION = 2, "reaction", I(Some(Family::Text));
    VOICE_CALL = 3, "voice_call", I(Some(Family::Voice));
    VIDEO_CALL = 4, "video_call", I(Some(Family::Video));
    MEETING = 5, "meeting", I(Some(Family::Video));
    SCREEN_SHARE = 6, "screen_share", I(Some(Family::Video));
    FILE_SHARED = 7, "file_shared", I(Some(Family::Files));
    DOC_EDIT = 8, "doc_edit", I(Some(Family::Docs));
    LOGIN = 9, "login", P;
    LOGOUT = 10, "logout", P;
    MESSAGE_READ = 11, "message_read", P;
    NOTIFICATION_READ = 12, "notification_read", P;
    CHECK_IN = 13, "check_in", P;
    CONVERSATION_STARTED = 14, "conversation_started", P;
    CONVERSATION_CLOSED = 15, "conversation_closed", P;
    CONVERSATION_RESOLVED = 16, "conversation_resolved", P;
    POST_CREATED = 17, "post_created", P;
    CLASS_SCHEDULED = 18, "class_scheduled", P;
    CLASS_ATTENDED = 19, "class_attended", P;
    ASSIGNMENT_ASSIGNED = 20, "assignment_assigned", P;
    ASSIGNMENT_SUBMITTED = 21, "assignment_submitted", P;
}

/// Ids below this are reserved for the kinds the spec names.
pub const FIRST_CUSTOM_KIND_ID: u16 = 1000;

impl Kind {
    pub fn known(name: &str) -> Option<Kind> {
        KNOWN_KINDS.iter().find(|(_, n, _)| *n == name).map(|(k, _, _)| *k)
    }

    pub fn known_name(self) -> Option<&'static str> {
        KNOWN_KINDS.iter().find(|(k, _, _)| *k == self).map(|(_, n, _)| *n)
    }

    /// Kinds of the core model (spec section 1); the rest are profile extras
    /// or unknown, and are listed in the import summary.
    pub fn is_core(self) -> bool {
        self.0 >= 1 && self.0 <= Kind::CHECK_IN.0
    }
}

/// The class of every kind, as an array indexed by kind id. Unknown kinds are
/// passive unless a profile or an administrator maps them.
#[derive(Clone, Debug)]
pub struct KindMap {
    classes: Vec<Class>,
    custom: Vec<(String, Class)>,
}

impl Default for KindMap {
    fn default() -> Self {
        let mut classes = vec![Class::Passive; FIRST_CUSTOM_KIND_ID as usize];
        for (kind, _, class) in KNOWN_KINDS {
            classes[kind.0 as usize] = *class;
        }
        KindMap { classes, custom: Vec::new() }
    }
}

impl KindMap {
    pub fn class(&self, kind: Kind) -> Class {
        self.classes.get(kind.0 as usize).copied().unwrap_or(Class::Passive)
    }

    /// Sets the class of a kind known by id.
    pub fn set(&mut self, kind: Kind, class: Class) {
        let i = kind.0 as usize;
        if i >= self.classes.len() {
            self.classes.resize(i + 1, Class::Passive);
        }
        self.classes[i] = class;
    }

    /// Records a mapping by name, for kinds whose id is only known to storage;
    /// `resolve` applies it once the ids are known.
    pub fn set_by_name(&mut self, name: &str, class: Class) {
        match Kind::known(name) {
            Some(kind) => self.set(kind, class),
            None => self.custom.push((name.to_string(), class)),
        }
    }

    /// Applies the by-name mappings of custom kinds, given their ids.
    pub fn resolve(&mut self, id_of: impl Fn(&str) -> Option<Kind>) {
        let custom = std::mem::take(&mut self.custom);
        for (name, class) in &custom {
            if let Some(kind) = id_of(name) {
                self.set(kind, *class);
            }
        }
        self.custom = custom;
    }

    pub fn custom_mappings(&self) -> &[(String, Class)] {
        &self.custom
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_kinds_are_classified_as_the_spec_says() {
        let map = KindMap::default();
        for name in [
            "message_sent",
            "reaction",
            "voice_call",
            "video_call",
            "meeting",
            "screen_share",
            "file_shared",
            "doc_edit",
        ] {
            assert!(map.class(Kind::known(name).unwrap()).is_interactive(), "{name}");
        }
        for name in ["login", "logout", "message_read", "notification_read", "check_in"] {
            assert_eq!(map.class(Kind::known(name).unwrap()), Class::Passive, "{name}");
        }
        assert_eq!(map.class(Kind(1234)), Class::Passive);
        assert_eq!(map.class(Kind::MEETING).family(), Some(Family::Video));
    }

    #[test]
    fn class_parses_its_own_display() {
        for class in [Class::Passive, Class::Interactive(None), Class::Interactive(Some(Family::Docs))] {
            assert_eq!(Class::parse(&class.to_string()), Some(class));
        }
        assert_eq!(Class::parse("interactive:smell"), None);
    }

    #[test]
    fn custom_kinds_map_once_their_ids_are_known() {
        let mut map = KindMap::default();
        map.set_by_name("ticket_reply", Class::Interactive(Some(Family::Text)));
        map.resolve(|n| (n == "ticket_reply").then_some(Kind(1001)));
        assert_eq!(map.class(Kind(1001)), Class::Interactive(Some(Family::Text)));
    }
}
