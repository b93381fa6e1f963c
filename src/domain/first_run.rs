//! The first run's checklist: what a new install still lacks before its
//! numbers and studies mean anything, in the order to do it.

/// One step of the first run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// People, departments and start dates: the base of every rate.
    Directory,
    /// Events or a platform export: the activity the tiers are read from.
    Activity,
    /// Other accounts: researchers, analysts, managers.
    Teammates,
    /// A first study, to hear why people are where they are.
    Study,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Directory, Step::Activity, Step::Teammates, Step::Study];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Directory => "directory",
            Step::Activity => "activity",
            Step::Teammates => "teammates",
            Step::Study => "study",
        }
    }
}

/// What the install holds, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    pub directory_people: i64,
    /// Imported events, or people facts from a platform export.
    pub activity_records: i64,
    pub accounts: i64,
    /// Invitations to an account, used or not.
    pub account_invitations: i64,
    pub studies: i64,
}

impl Holdings {
    pub fn done(&self, step: Step) -> bool {
        match step {
            Step::Directory => self.directory_people > 0,
            Step::Activity => self.activity_records > 0,
            Step::Teammates => self.accounts > 1 || self.account_invitations > 0,
            Step::Study => self.studies > 0,
        }
    }

    /// Whether there is any activity to measure: without it, the overview
    /// has nothing to draw (as opposed to a group below the privacy floor).
    pub fn has_activity(&self) -> bool {
        self.done(Step::Activity)
    }

    /// The steps with whether each is done, in order.
    pub fn steps(&self) -> Vec<(Step, bool)> {
        Step::ALL.iter().map(|&s| (s, self.done(s))).collect()
    }

    pub fn all_done(&self) -> bool {
        Step::ALL.iter().all(|&s| self.done(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_is_done_by_its_own_data() {
        let empty = Holdings { accounts: 1, ..Holdings::default() };
        assert!(empty.steps().iter().all(|(_, done)| !done), "a lone administrator has done nothing yet");
        assert!(!empty.has_activity());
        let invited = Holdings { account_invitations: 1, ..empty };
        assert!(invited.done(Step::Teammates) && !invited.done(Step::Directory));
        let all =
            Holdings { directory_people: 3, activity_records: 10, accounts: 2, account_invitations: 0, studies: 1 };
        assert!(all.all_done() && all.has_activity());
        assert!(!Holdings { studies: 0, ..all }.all_done());
    }
}

/// The local day of the earliest imported event; periods before it have no
/// data and are not drawn (not as "everyone dormant"). `None` when no one
/// has an event (then nothing is cut).
pub fn first_event_day(people: &[super::dataset::Person], tz: chrono_tz::Tz) -> Option<chrono::NaiveDate> {
    people.iter().filter_map(|p| p.first_event).min().map(|ts| super::calendar::local_day(tz, ts))
}

#[cfg(test)]
mod first_day_tests {
    use super::super::dataset::Person;
    use super::*;

    #[test]
    fn the_first_event_day_is_local() {
        let person = |first: Option<i64>| Person { first_event: first, ..Person::default() };
        // 2026-05-03 20:00 UTC is already 05-04 in Shanghai.
        let ts =
            chrono::NaiveDate::from_ymd_opt(2026, 5, 3).unwrap().and_hms_opt(20, 0, 0).unwrap().and_utc().timestamp();
        let people = [person(None), person(Some(ts + 86_400 * 3)), person(Some(ts))];
        assert_eq!(first_event_day(&people, chrono_tz::Asia::Shanghai), chrono::NaiveDate::from_ymd_opt(2026, 5, 4));
        assert_eq!(first_event_day(&people, chrono_tz::UTC), chrono::NaiveDate::from_ymd_opt(2026, 5, 3));
        assert_eq!(first_event_day(&[person(None)], chrono_tz::UTC), None);
    }
}
