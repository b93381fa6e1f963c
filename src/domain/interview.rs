//! An interview's record as a researcher saves it, what consent lets us keep
//! of it, and what a save that lost a race means.

use super::codebook::Consent;

/// What a researcher saves: consent, notes, root cause, follow-up, codes.
/// Consent is unset until asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub consent: Option<Consent>,
    pub consent_on: Option<String>,
    pub notes: String,
    pub root_cause: String,
    pub follow_up: String,
    pub codes: Vec<i64>,
}

/// A save made from an older version than the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaleSave {
    /// The stored record already is what this save would store (the same
    /// form sent twice): not a conflict.
    AlreadySaved,
    /// Someone saved something else meanwhile: show both, the next save wins.
    Conflict,
}

impl Record {
    /// The consent rule: free text (notes and follow-up) is kept while
    /// consent is given or not yet recorded. Refused or withdrawn consent
    /// clears it and the quotes; the root cause and the codes stay, for
    /// counts.
    pub fn keeps_free_text(&self) -> bool {
        self.consent.is_none_or(Consent::allows_records)
    }

    /// The record as it is stored: free text cleared by the consent rule,
    /// codes sorted and without repeats.
    pub fn as_stored(&self) -> Record {
        let mut codes = self.codes.clone();
        codes.sort_unstable();
        codes.dedup();
        let keep = self.keeps_free_text();
        Record {
            notes: if keep { self.notes.clone() } else { String::new() },
            follow_up: if keep { self.follow_up.clone() } else { String::new() },
            codes,
            ..self.clone()
        }
    }

    /// What a save of `self` that found `current` stored under a newer
    /// version means (`current` as read back, codes in order).
    pub fn stale_save(&self, current: &Record) -> StaleSave {
        if *current == self.as_stored() { StaleSave::AlreadySaved } else { StaleSave::Conflict }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(consent: Option<Consent>) -> Record {
        Record {
            consent,
            consent_on: Some("2026-12-01".into()),
            notes: "Uses the phone instead.".into(),
            root_cause: "habit".into(),
            follow_up: "Call in a month.".into(),
            codes: vec![3, 1, 3],
        }
    }

    #[test]
    fn free_text_is_kept_only_with_consent_given_or_not_yet_asked() {
        assert!(record(None).keeps_free_text());
        assert!(record(Some(Consent::Yes)).keeps_free_text());
        for refused in [Consent::No, Consent::Withdrawn] {
            let r = record(Some(refused));
            assert!(!r.keeps_free_text(), "{refused:?}");
            let stored = r.as_stored();
            assert_eq!((stored.notes.as_str(), stored.follow_up.as_str()), ("", ""), "{refused:?}");
            // The root cause and the codes stay, for counts.
            assert_eq!((stored.root_cause.as_str(), stored.codes.as_slice()), ("habit", &[1, 3][..]));
        }
        let kept = record(Some(Consent::Yes)).as_stored();
        assert_eq!(kept.notes, "Uses the phone instead.");
        assert_eq!(kept.codes, vec![1, 3]);
    }

    #[test]
    fn a_stale_save_of_what_is_stored_is_not_a_conflict() {
        let mine = record(Some(Consent::Withdrawn));
        // Sent twice: the first save stored it (cleared, codes in order).
        assert_eq!(mine.stale_save(&mine.as_stored()), StaleSave::AlreadySaved);
        // Someone else changed a field meanwhile.
        let theirs = Record { root_cause: "training".into(), ..mine.as_stored() };
        assert_eq!(mine.stale_save(&theirs), StaleSave::Conflict);
        let theirs = Record { codes: vec![1], ..mine.as_stored() };
        assert_eq!(mine.stale_save(&theirs), StaleSave::Conflict);
    }
}
