//! Eligibility and sampling for a study's draw (issue 5): whom a study may
//! approach (target and contact rules), a stratified random draw with quotas
//! per tier x department, and the reason each person was chosen, in words.
//! Pure: the caller passes the candidates, their contact histories and `now`.
//!
//! Reproducibility: a draw depends only on its spec (seed included), the
//! candidates, the histories and `now`, never on input order. The random
//! stream is ChaCha8 (value-stable by contract) and the index choice is made
//! here rather than through `rand`'s helpers, whose algorithms may change
//! between versions, so a recorded seed reproduces the same people later.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::decimal::Ratio;
use super::tier::Tier;

/// The window metrics a reason is written from, frozen into the draw (from
/// the evaluation's counters, or its aggregated facts, which have no login
/// depth). `None` where the source does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReasonFacts {
    pub active_days: Option<u32>,
    pub window_days: u32,
    pub messages_sent: Option<u32>,
    pub feature_breadth: u32,
    pub interactive_days: Option<u32>,
    pub login_depth: Option<Ratio>,
}

/// A person who may be drawn, as evaluated at draw time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The person's `user_id`; unique among the candidates of a draw.
    pub person_key: String,
    pub department: Option<String>,
    /// Directory attributes by column name.
    pub attributes: BTreeMap<String, String>,
    pub tier: Tier,
    pub facts: ReasonFacts,
}

/// What research has already asked of one person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactHistory {
    pub opted_out: bool,
    /// Deactivated by directory sync (they left, or lost access): kept for
    /// past windows, never contacted.
    pub deactivated: bool,
    /// The last time a study reached the person (the caller decides what
    /// counts: an answered invitation, an interview, a survey response).
    pub last_contacted: Option<DateTime<Utc>>,
    /// Every invitation sent, whatever came of it.
    pub invitations: Vec<DateTime<Utc>>,
    /// Days of completed interviews.
    pub interviews: Vec<chrono::NaiveDate>,
    pub no_shows: u32,
}

/// Limits that protect people from research fatigue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContactRules {
    pub min_days_between_contacts: u32,
    /// Invitations within any 7 days (counting the one about to be sent).
    pub max_invitations_per_week: u32,
    /// Completed interviews within the last 365 days.
    pub max_interviews_per_year: u32,
    pub exclude_after_no_show: bool,
}

impl Default for ContactRules {
    fn default() -> Self {
        ContactRules {
            min_days_between_contacts: 90,
            max_invitations_per_week: 1,
            max_interviews_per_year: 2,
            exclude_after_no_show: true,
        }
    }
}

/// Why someone drawn is not contacted: a contact rule, or (at send time)
/// the study's holdout or a missing address. Stored as JSON with the
/// invitation, so each page can say it in its own language.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Exclusion {
    /// Deactivated by directory sync.
    Deactivated,
    OptedOut,
    /// In the study's holdout: kept to compare with, never contacted.
    HeldOut,
    /// The directory has no e-mail address for them.
    NoAddress,
    NoShow {
        no_shows: u32,
    },
    ContactedRecently {
        days_ago: i64,
        min_days: u32,
    },
    WeeklyLimit {
        invitations: u32,
        limit: u32,
    },
    YearlyLimit {
        interviews: u32,
        limit: u32,
    },
}

impl Exclusion {
    /// A stable message key, for translation by variant.
    pub fn key(&self) -> &'static str {
        match self {
            Exclusion::Deactivated => "exclusion.deactivated",
            Exclusion::OptedOut => "exclusion.opted_out",
            Exclusion::HeldOut => "exclusion.held_out",
            Exclusion::NoAddress => "exclusion.no_address",
            Exclusion::NoShow { .. } => "exclusion.no_show",
            Exclusion::ContactedRecently { .. } => "exclusion.contacted_recently",
            Exclusion::WeeklyLimit { .. } => "exclusion.weekly_limit",
            Exclusion::YearlyLimit { .. } => "exclusion.yearly_limit",
        }
    }

    /// The reason in English words.
    pub fn describe(&self) -> String {
        match *self {
            Exclusion::Deactivated => "deactivated by directory sync".into(),
            Exclusion::OptedOut => "opted out of research contact".into(),
            Exclusion::HeldOut => "held out by this study to compare with: never contacted".into(),
            Exclusion::NoAddress => "no e-mail address in the directory".into(),
            Exclusion::NoShow { no_shows } => {
                format!("did not show up for {}", count(no_shows, "interview", "interviews"))
            }
            Exclusion::ContactedRecently { days_ago, min_days } => {
                let when =
                    if days_ago <= 0 { "today".into() } else { format!("{} ago", count(days_ago, "day", "days")) };
                format!("contacted {when} (at least {} between contacts)", count(min_days, "day", "days"))
            }
            Exclusion::WeeklyLimit { invitations, limit } => format!(
                "already invited {} in the last 7 days (at most {} a week)",
                count(invitations, "time", "times"),
                count(limit, "invitation", "invitations")
            ),
            Exclusion::YearlyLimit { interviews, limit } => format!(
                "{} in the last 365 days (at most {} a year)",
                count(interviews, "interview", "interviews"),
                count(limit, "interview", "interviews")
            ),
        }
    }
}

impl ContactRules {
    /// The first rule that keeps the person out, checked in a fixed order.
    /// Days are whole 24-hour periods before `now`; interview days are
    /// counted against `now`'s UTC date.
    pub fn check(&self, history: &ContactHistory, now: DateTime<Utc>) -> Result<(), Exclusion> {
        if history.deactivated {
            return Err(Exclusion::Deactivated);
        }
        if history.opted_out {
            return Err(Exclusion::OptedOut);
        }
        if self.exclude_after_no_show && history.no_shows > 0 {
            return Err(Exclusion::NoShow { no_shows: history.no_shows });
        }
        if let Some(last) = history.last_contacted {
            // A contact in the future (already scheduled) is as recent as it gets.
            let days_ago = (now - last).num_days();
            if days_ago < i64::from(self.min_days_between_contacts) {
                return Err(Exclusion::ContactedRecently { days_ago, min_days: self.min_days_between_contacts });
            }
        }
        let week_ago = now - TimeDelta::days(7);
        let invitations = history.invitations.iter().filter(|t| **t > week_ago).count() as u32;
        if invitations >= self.max_invitations_per_week {
            return Err(Exclusion::WeeklyLimit { invitations, limit: self.max_invitations_per_week });
        }
        let today = now.date_naive();
        let interviews = history.interviews.iter().filter(|d| (today - **d).num_days() < 365).count() as u32;
        if interviews >= self.max_interviews_per_year {
            return Err(Exclusion::YearlyLimit { interviews, limit: self.max_interviews_per_year });
        }
        Ok(())
    }
}

/// The contact rules at send time. The draw checked them already, but rules
/// and histories change between draw and send (the researcher tightens a
/// rule, another study invites the person, the person opts out), so every
/// send must call this with the rules and history as they are then.
pub fn recheck_at_send(rules: &ContactRules, history: &ContactHistory, now: DateTime<Utc>) -> Result<(), Exclusion> {
    rules.check(history, now)
}

/// Whom a study targets. All filters must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub tiers: BTreeSet<Tier>,
    /// `None`: every department. Exact names (picked from the directory).
    pub departments: Option<BTreeSet<String>>,
    /// Directory attribute = value, both compared trimmed and case-insensitively.
    pub attributes: Vec<(String, String)>,
}

impl Default for Target {
    /// Silent and shallow people: the ones the login rate hides.
    fn default() -> Self {
        Target { tiers: BTreeSet::from([Tier::Silent, Tier::Shallow]), departments: None, attributes: Vec::new() }
    }
}

impl Target {
    pub fn matches(&self, c: &Candidate) -> bool {
        self.tiers.contains(&c.tier)
            && self.departments.as_ref().is_none_or(|ds| c.department.as_ref().is_some_and(|d| ds.contains(d)))
            && self.attributes.iter().all(|(k, v)| c.attributes.iter().any(|(ck, cv)| same(ck, k) && same(cv, v)))
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().chars().flat_map(char::to_lowercase).eq(b.trim().chars().flat_map(char::to_lowercase))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    /// Quotas in proportion to each stratum's eligible people.
    Proportional,
    /// The same quota for every stratum.
    Equal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawSpec {
    pub target: Target,
    pub rules: ContactRules,
    pub size: u32,
    pub allocation: Allocation,
    pub seed: u64,
    /// People to set aside as a holdout: drawn from the same strata as the
    /// picked ones, in proportion to them, and never contacted.
    pub holdout: u32,
    /// People who may be picked but not held out (by `person_key`): those
    /// the study has drawn before.
    pub not_for_holdout: BTreeSet<String>,
}

/// One drawn person, with the metrics and tier frozen at draw time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pick {
    pub person_key: String,
    pub tier: Tier,
    pub department: Option<String>,
    pub facts: ReasonFacts,
    pub reason: String,
}

impl Pick {
    /// A candidate as drawn, or as added by the researcher before sending
    /// (after `ContactRules::check`; the target and quotas need not apply).
    pub fn of(c: &Candidate) -> Pick {
        Pick {
            person_key: c.person_key.clone(),
            tier: c.tier,
            department: c.department.clone(),
            facts: c.facts.clone(),
            reason: reason(&c.facts, c.tier),
        }
    }
}

/// One tier x department cell of the draw. `quota` is its fair share of the
/// size; `drawn` may exceed it when it took over another stratum's shortfall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stratum {
    pub tier: Tier,
    pub department: Option<String>,
    pub eligible: u32,
    pub quota: u32,
    pub drawn: u32,
}

impl Stratum {
    /// Quota this stratum could not fill itself.
    pub fn shortfall(&self) -> u32 {
        self.quota.saturating_sub(self.drawn)
    }
}

/// The result of a draw, as made (the researcher's later edits are the
/// study's business).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw {
    pub seed: u64,
    pub size: u32,
    /// By stratum (tier, then department), then `person_key`.
    pub picked: Vec<Pick>,
    pub strata: Vec<Stratum>,
    /// `size` minus the people drawn, when not enough were eligible.
    pub shortfall: u32,
    /// Targeted people the contact rules kept out, by `person_key`.
    pub excluded: Vec<(String, Exclusion)>,
    /// The holdout: people of the picked strata set aside, not contacted,
    /// to compare with (by stratum, then `person_key`).
    pub held_out: Vec<Pick>,
}

/// Draws `spec.size` people: targeted candidates who pass the contact rules,
/// stratified by tier x department. A person without a history has none.
pub fn draw(
    spec: &DrawSpec,
    candidates: &[Candidate],
    histories: &HashMap<String, ContactHistory>,
    now: DateTime<Utc>,
) -> Draw {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.person_key.cmp(&b.person_key));
    sorted.dedup_by(|a, b| a.person_key == b.person_key);
    let no_history = ContactHistory::default();
    let mut excluded = Vec::new();
    let mut groups: BTreeMap<(Tier, Option<&str>), Vec<&Candidate>> = BTreeMap::new();
    for c in sorted {
        if !spec.target.matches(c) {
            continue;
        }
        match spec.rules.check(histories.get(&c.person_key).unwrap_or(&no_history), now) {
            Ok(()) => groups.entry((c.tier, c.department.as_deref())).or_default().push(c),
            Err(e) => excluded.push((c.person_key.clone(), e)),
        }
    }
    let sizes: Vec<u32> = groups.values().map(|g| g.len() as u32).collect();
    let quotas = apportion(spec.size, &sizes, spec.allocation);
    let taken = fill(&quotas, &sizes, spec.allocation);
    let held = holdout_quotas(spec.holdout, &taken, &sizes);
    let (mut picked, mut strata, mut held_out) = (Vec::new(), Vec::new(), Vec::new());
    for (i, ((tier, department), members)) in groups.iter().enumerate() {
        let mut rng = stratum_rng(spec.seed, *tier, *department);
        // One shuffle: its first `taken` are picked, the next `held` who
        // may be held out are (so the picks are the same with or without a
        // holdout).
        let shuffled = if held[i] > 0 { members.len() } else { taken[i] as usize };
        let order = choose(members.len(), shuffled, &mut rng);
        let (first, rest) = order.split_at(taken[i] as usize);
        let mut chosen: Vec<&Candidate> = first.iter().map(|&j| members[j]).collect();
        chosen.sort_by(|a, b| a.person_key.cmp(&b.person_key));
        picked.extend(chosen.into_iter().map(Pick::of));
        let mut aside: Vec<&Candidate> = rest
            .iter()
            .map(|&j| members[j])
            .filter(|c| !spec.not_for_holdout.contains(&c.person_key))
            .take(held[i] as usize)
            .collect();
        aside.sort_by(|a, b| a.person_key.cmp(&b.person_key));
        held_out.extend(aside.into_iter().map(Pick::of));
        strata.push(Stratum {
            tier: *tier,
            department: department.map(str::to_owned),
            eligible: sizes[i],
            quota: quotas[i],
            drawn: taken[i],
        });
    }
    let shortfall = spec.size.saturating_sub(taken.iter().sum());
    Draw { seed: spec.seed, size: spec.size, picked, strata, shortfall, excluded, held_out }
}

/// The holdout's share of each stratum: `total` in proportion to the people
/// picked there, each capped at the people left in it.
fn holdout_quotas(total: u32, taken: &[u32], sizes: &[u32]) -> Vec<u32> {
    let mut out = vec![0; taken.len()];
    let with: Vec<usize> = (0..taken.len()).filter(|&i| taken[i] > 0).collect();
    if total == 0 || with.is_empty() {
        return out;
    }
    let weights: Vec<u32> = with.iter().map(|&i| taken[i]).collect();
    for (&i, q) in with.iter().zip(apportion(total, &weights, Allocation::Proportional)) {
        out[i] = q.min(sizes[i] - taken[i]);
    }
    out
}

/// Splits `total` over strata of the given sizes (each at least 1).
/// Proportional: largest remainder (ties to the larger stratum, then the
/// earlier one). Equal: the remainder to the largest strata, then the earlier.
fn apportion(total: u32, sizes: &[u32], allocation: Allocation) -> Vec<u32> {
    let (total, k) = (u64::from(total), sizes.len() as u64);
    if k == 0 {
        return Vec::new();
    }
    let mut rank: Vec<usize> = (0..sizes.len()).collect();
    let mut out: Vec<u64> = match allocation {
        Allocation::Proportional => {
            let sum: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
            // Remainders share the denominator `sum`, so they compare as integers.
            rank.sort_by_key(|&i| (Reverse(total * u64::from(sizes[i]) % sum), Reverse(sizes[i]), i));
            sizes.iter().map(|&s| total * u64::from(s) / sum).collect()
        }
        Allocation::Equal => {
            rank.sort_by_key(|&i| (Reverse(sizes[i]), i));
            vec![total / k; sizes.len()]
        }
    };
    let left = total - out.iter().sum::<u64>();
    for &i in rank.iter().take(left as usize) {
        out[i] += 1;
    }
    out.into_iter().map(|q| q as u32).collect()
}

/// Caps each quota at its stratum's size and hands the unfilled part on to
/// strata with people to spare, by the same allocation, until nothing is left
/// or nobody spares. Each round that leaves something fills at least one more
/// stratum, so this ends within as many rounds as there are strata.
fn fill(quotas: &[u32], sizes: &[u32], allocation: Allocation) -> Vec<u32> {
    let mut taken: Vec<u32> = quotas.iter().zip(sizes).map(|(q, s)| *q.min(s)).collect();
    let mut left: u32 = quotas.iter().zip(sizes).map(|(q, s)| q.saturating_sub(*s)).sum();
    while left > 0 {
        let spare: Vec<usize> = (0..sizes.len()).filter(|&i| taken[i] < sizes[i]).collect();
        if spare.is_empty() {
            break;
        }
        let weights: Vec<u32> = spare.iter().map(|&i| sizes[i]).collect();
        let extra = apportion(left, &weights, allocation);
        left = 0;
        for (&i, e) in spare.iter().zip(extra) {
            let room = sizes[i] - taken[i];
            taken[i] += e.min(room);
            left += e.saturating_sub(room);
        }
    }
    taken
}

/// A random stream per stratum, from the seed and the stratum's name, so a
/// stratum's choice does not depend on which other strata exist. FNV-1a
/// rather than std's hasher, whose output may change between Rust versions.
fn stratum_rng(seed: u64, tier: Tier, department: Option<&str>) -> ChaCha8Rng {
    let mut name: Vec<u8> = tier.as_str().bytes().collect();
    name.push(0xff); // never in UTF-8: the tier cannot run into the department
    match department {
        None => name.push(0),
        Some(d) => {
            name.push(1);
            name.extend(d.bytes());
        }
    }
    let hash = name.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&hash.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// `k` of the indices `0..n`: a partial Fisher-Yates shuffle. Choosing `k + 1`
/// keeps the first `k`, so raising a quota only adds people.
fn choose(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = i + below(rng, (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(k.min(n));
    idx
}

/// Uniform in `0..n` (n >= 1), by rejection: no modulo bias.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    // 2^64 mod n: values below it are the incomplete last block.
    let threshold = n.wrapping_neg() % n;
    loop {
        let x = rng.next_u64();
        if x >= threshold {
            return x % n;
        }
    }
}

/// Why this person fits the study, in words, e.g. "logged in on 19 of 28
/// days, 0 messages sent, 1 feature family".
pub fn reason(facts: &ReasonFacts, tier: Tier) -> String {
    let window = count(facts.window_days, "day", "days");
    if tier == Tier::Dormant {
        return format!("no activity in the last {window}");
    }
    let mut parts = vec![match facts.active_days {
        Some(d) => format!("logged in on {d} of {window}"),
        None => "days logged in not available from this source".to_owned(),
    }];
    // Silent people interact on no day by definition: saying so adds nothing.
    if tier != Tier::Silent
        && let Some(d) = facts.interactive_days
    {
        parts.push(format!("interactive on {}", count(d, "day", "days")));
    }
    parts.push(match facts.messages_sent {
        Some(m) => format!("{} sent", count(m, "message", "messages")),
        None => "messages not available from this source".to_owned(),
    });
    parts.push(count(facts.feature_breadth, "feature family", "feature families"));
    if tier != Tier::Silent
        && let Some(depth) = facts.login_depth
    {
        parts.push(format!("login depth {}", depth.display(2)));
    }
    let text = parts.join(", ");
    match tier {
        Tier::New => format!("new (still in the grace period): {text}"),
        Tier::Unmeasured => format!("{text}; depth not measurable from this source"),
        _ => text,
    }
}

fn count<N: Into<i64>>(n: N, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::collections::HashSet;

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    fn days_ago(n: i64) -> DateTime<Utc> {
        now() - TimeDelta::days(n)
    }

    fn date_ago(n: i64) -> NaiveDate {
        now().date_naive() - TimeDelta::days(n)
    }

    fn cand(key: &str, tier: Tier, dept: &str) -> Candidate {
        Candidate {
            person_key: key.into(),
            department: Some(dept.into()),
            attributes: BTreeMap::new(),
            tier,
            facts: ReasonFacts { window_days: 28, ..ReasonFacts::default() },
        }
    }

    /// `n` people named `prefix000`.. in one stratum.
    fn group(prefix: &str, n: usize, tier: Tier, dept: &str) -> Vec<Candidate> {
        (0..n).map(|i| cand(&format!("{prefix}{i:03}"), tier, dept)).collect()
    }

    fn spec(size: u32, allocation: Allocation, seed: u64) -> DrawSpec {
        DrawSpec {
            holdout: 0,
            not_for_holdout: BTreeSet::new(),
            target: Target::default(),
            rules: ContactRules::default(),
            size,
            allocation,
            seed,
        }
    }

    fn run(spec: &DrawSpec, cs: &[Candidate]) -> Draw {
        draw(spec, cs, &HashMap::new(), now())
    }

    /// Three strata of 7 (shallow Sales), 5 (silent Sales) and 3 (silent Support).
    fn seven_five_three() -> Vec<Candidate> {
        let mut cs = group("a", 7, Tier::Shallow, "Sales");
        cs.extend(group("b", 5, Tier::Silent, "Sales"));
        cs.extend(group("c", 3, Tier::Silent, "Support"));
        cs
    }

    fn cells(d: &Draw) -> Vec<(u32, u32, u32)> {
        d.strata.iter().map(|s| (s.eligible, s.quota, s.drawn)).collect()
    }

    fn keys(d: &Draw) -> Vec<&str> {
        d.picked.iter().map(|p| p.person_key.as_str()).collect()
    }

    #[test]
    fn proportional_quotas_by_largest_remainder_are_met() {
        // 8 x 7/15 = 3.73, 8 x 5/15 = 2.67, 8 x 3/15 = 1.6: floors 3, 2, 1 and
        // the two spare places to the largest remainders (.73 and .67).
        let d = run(&spec(8, Allocation::Proportional, 1), &seven_five_three());
        assert_eq!(cells(&d), vec![(7, 4, 4), (5, 3, 3), (3, 1, 1)]);
        assert_eq!((d.shortfall, d.picked.len()), (0, 8));
        let s = &d.strata[0];
        assert_eq!((s.tier, s.department.as_deref()), (Tier::Shallow, Some("Sales")));
        assert!(d.strata.iter().all(|s| s.shortfall() == 0));
        // Picks carry their stratum.
        assert_eq!(d.picked.iter().filter(|p| p.tier == Tier::Silent).count(), 4);
    }

    #[test]
    fn equal_quotas_give_the_remainder_to_the_largest_strata() {
        // 8 over 3 strata: 2 each, the 2 left to the strata of 7 and 5.
        let d = run(&spec(8, Allocation::Equal, 1), &seven_five_three());
        assert_eq!(cells(&d), vec![(7, 3, 3), (5, 3, 3), (3, 2, 2)]);
        assert_eq!(d.shortfall, 0);
    }

    #[test]
    fn a_short_stratum_hands_its_quota_on() {
        let mut cs = group("a", 7, Tier::Shallow, "Sales");
        cs.extend(group("b", 5, Tier::Silent, "Sales"));
        cs.extend(group("c", 1, Tier::Silent, "Support"));
        // Equal, 9: 3 each; Support has 1, its 2 unfilled go 1 and 1 to the others.
        let d = run(&spec(9, Allocation::Equal, 1), &cs);
        assert_eq!(cells(&d), vec![(7, 3, 4), (5, 3, 4), (1, 3, 1)]);
        assert_eq!((d.shortfall, d.strata[2].shortfall()), (0, 2));
        // Equal, 15: 5 each; Support takes 1 and Sales/silent 5, the 4 left go
        // to Sales/shallow, which has room for 2: 13 drawn, 2 short.
        let d = run(&spec(15, Allocation::Equal, 1), &cs);
        assert_eq!(cells(&d), vec![(7, 5, 7), (5, 5, 5), (1, 5, 1)]);
        assert_eq!((d.shortfall, d.picked.len()), (2, 13));
    }

    #[test]
    fn more_than_everyone_takes_everyone_and_reports_the_shortfall() {
        // 20 x 7/15 = 9.33, 20 x 5/15 = 6.67, 20 x 3/15 = 4: 9, 7, 4.
        let d = run(&spec(20, Allocation::Proportional, 1), &seven_five_three());
        assert_eq!(cells(&d), vec![(7, 9, 7), (5, 7, 5), (3, 4, 3)]);
        assert_eq!((d.shortfall, d.picked.len()), (5, 15));
        let none = run(&spec(5, Allocation::Equal, 1), &[]);
        assert_eq!((none.shortfall, none.picked.len(), none.strata.len()), (5, 0, 0));
    }

    #[test]
    fn same_seed_same_draw_whatever_the_input_order() {
        let mut cs = group("a", 40, Tier::Silent, "Sales");
        cs.extend(group("b", 30, Tier::Shallow, "Support"));
        let s = spec(10, Allocation::Proportional, 42);
        let first = run(&s, &cs);
        assert_eq!(first, run(&s, &cs));
        cs.reverse();
        assert_eq!(first, run(&s, &cs));
        let other = run(&DrawSpec { seed: 43, ..s.clone() }, &cs);
        assert_ne!(keys(&first), keys(&other));
        assert_eq!(first.seed, 42);
        // Pinned: a recorded seed must reproduce these people after upgrades.
        let pinned = run(&spec(3, Allocation::Equal, 7), &group("p", 10, Tier::Silent, "X"));
        assert_eq!(keys(&pinned), PINNED);
    }

    const PINNED: [&str; 3] = ["p000", "p005", "p007"];

    #[test]
    fn a_stratum_draws_the_same_people_when_others_are_added() {
        let a = group("a", 20, Tier::Silent, "Sales");
        let alone = run(&spec(5, Allocation::Proportional, 9), &a);
        let mut both = a.clone();
        both.extend(group("b", 20, Tier::Silent, "Support"));
        let together = run(&spec(10, Allocation::Proportional, 9), &both);
        assert_eq!(keys(&alone), keys(&together)[..5]);
        // Raising a quota keeps the people already chosen.
        let more = run(&spec(6, Allocation::Proportional, 9), &a);
        assert!(keys(&alone).iter().all(|k| keys(&more).contains(k)));
    }

    #[test]
    fn each_contact_rule_at_its_edge() {
        let rules = ContactRules::default();
        let ok = |h: ContactHistory| rules.check(&h, now());
        let none = ContactHistory::default;
        assert_eq!(ok(none()), Ok(()));
        assert_eq!(ok(ContactHistory { opted_out: true, ..none() }), Err(Exclusion::OptedOut));
        assert_eq!(ok(ContactHistory { deactivated: true, opted_out: true, ..none() }), Err(Exclusion::Deactivated));
        let missed = ContactHistory { no_shows: 1, ..none() };
        assert_eq!(ok(missed.clone()), Err(Exclusion::NoShow { no_shows: 1 }));
        assert_eq!(ContactRules { exclude_after_no_show: false, ..rules }.check(&missed, now()), Ok(()));

        let at = |d| ContactHistory { last_contacted: Some(days_ago(d)), ..none() };
        assert_eq!(ok(at(89)), Err(Exclusion::ContactedRecently { days_ago: 89, min_days: 90 }));
        assert_eq!(ok(at(90)), Ok(()));
        // One second short of 90 full days is still 89.
        let almost = ContactHistory { last_contacted: Some(days_ago(90) + TimeDelta::seconds(1)), ..none() };
        assert!(matches!(ok(almost), Err(Exclusion::ContactedRecently { days_ago: 89, .. })));

        let sent = |d| ContactHistory { invitations: vec![days_ago(d)], ..none() };
        assert_eq!(ok(sent(6)), Err(Exclusion::WeeklyLimit { invitations: 1, limit: 1 }));
        assert_eq!(ok(sent(7)), Ok(()));
        assert_eq!(ContactRules { max_invitations_per_week: 2, ..rules }.check(&sent(6), now()), Ok(()));

        let held = |ds: &[i64]| ContactHistory { interviews: ds.iter().map(|d| date_ago(*d)).collect(), ..none() };
        assert_eq!(ok(held(&[100, 364])), Err(Exclusion::YearlyLimit { interviews: 2, limit: 2 }));
        assert_eq!(ok(held(&[100, 365])), Ok(()));
        assert_eq!(ok(held(&[100])), Ok(()));
    }

    #[test]
    fn the_draw_excludes_by_every_rule_and_says_why() {
        let cs = group("p", 6, Tier::Silent, "Sales");
        let h = |f: fn(&mut ContactHistory)| {
            let mut h = ContactHistory::default();
            f(&mut h);
            h
        };
        let histories = HashMap::from([
            ("p000".to_owned(), h(|h| h.opted_out = true)),
            ("p001".to_owned(), h(|h| h.no_shows = 2)),
            ("p002".to_owned(), h(|h| h.last_contacted = Some(days_ago(10)))),
            ("p003".to_owned(), h(|h| h.invitations = vec![days_ago(2)])),
            ("p004".to_owned(), h(|h| h.interviews = vec![date_ago(1), date_ago(2)])),
        ]);
        let d = draw(&spec(6, Allocation::Equal, 1), &cs, &histories, now());
        assert_eq!(keys(&d), ["p005"]);
        assert_eq!(d.shortfall, 5);
        let why: Vec<(&str, &str, String)> =
            d.excluded.iter().map(|(k, e)| (k.as_str(), e.key(), e.describe())).collect();
        let expected = [
            ("p000", "exclusion.opted_out", "opted out of research contact"),
            ("p001", "exclusion.no_show", "did not show up for 2 interviews"),
            ("p002", "exclusion.contacted_recently", "contacted 10 days ago (at least 90 days between contacts)"),
            (
                "p003",
                "exclusion.weekly_limit",
                "already invited 1 time in the last 7 days (at most 1 invitation a week)",
            ),
            ("p004", "exclusion.yearly_limit", "2 interviews in the last 365 days (at most 2 interviews a year)"),
        ];
        assert_eq!(why, expected.map(|(k, key, words)| (k, key, words.to_owned())));
    }

    #[test]
    fn a_holdout_comes_from_the_picked_strata_and_leaves_the_picks_alone() {
        let cs = seven_five_three();
        let plain = run(&spec(6, Allocation::Proportional, 7), &cs);
        let with = run(&DrawSpec { holdout: 6, ..spec(6, Allocation::Proportional, 7) }, &cs);
        assert_eq!(with.picked, plain.picked, "the picks do not depend on the holdout");
        assert!(plain.held_out.is_empty());
        assert_eq!(with.held_out.len(), 6);
        let picked: HashSet<&str> = with.picked.iter().map(|p| p.person_key.as_str()).collect();
        assert!(with.held_out.iter().all(|h| !picked.contains(h.person_key.as_str())), "disjoint");
        // In proportion to the picks per stratum (3, 2, 1 of 7, 5, 3).
        let per = |d: &Draw, prefix: char| d.held_out.iter().filter(|p| p.person_key.starts_with(prefix)).count();
        let picks = |prefix: char| with.picked.iter().filter(|p| p.person_key.starts_with(prefix)).count();
        for prefix in ['a', 'b', 'c'] {
            assert_eq!(per(&with, prefix), picks(prefix), "stratum {prefix}");
        }
        // Capped at the people left in a stratum.
        let big = run(&DrawSpec { holdout: 100, ..spec(6, Allocation::Proportional, 7) }, &cs);
        assert_eq!(big.held_out.len(), 15 - 6);
        // People drawn before by the study are never held out.
        let before: BTreeSet<String> = with.held_out.iter().map(|p| p.person_key.clone()).collect();
        let again =
            run(&DrawSpec { holdout: 6, not_for_holdout: before.clone(), ..spec(6, Allocation::Proportional, 7) }, &cs);
        assert_eq!(again.picked, plain.picked);
        assert!(again.held_out.iter().all(|p| !before.contains(&p.person_key)), "{:?}", again.held_out);
        assert_eq!(again.held_out.len(), 3, "others of the same strata take their place, as many as are left");
        // Another seed, another holdout.
        let other = run(&DrawSpec { holdout: 6, ..spec(6, Allocation::Proportional, 8) }, &cs);
        assert_ne!(other.held_out, with.held_out);
    }

    #[test]
    fn send_time_applies_the_rules_as_they_are_then() {
        let cs = group("p", 1, Tier::Silent, "Sales");
        let history = ContactHistory { last_contacted: Some(days_ago(60)), ..ContactHistory::default() };
        let histories = HashMap::from([("p000".to_owned(), history.clone())]);
        let loose = DrawSpec {
            rules: ContactRules { min_days_between_contacts: 30, ..ContactRules::default() },
            ..spec(1, Allocation::Equal, 1)
        };
        let d = draw(&loose, &cs, &histories, now());
        assert_eq!(keys(&d), ["p000"]);
        let send = now() + TimeDelta::days(1);
        assert_eq!(recheck_at_send(&loose.rules, &history, send), Ok(()));
        // The researcher raised the minimum gap after the draw.
        let strict = ContactRules { min_days_between_contacts: 90, ..loose.rules };
        assert_eq!(
            recheck_at_send(&strict, &history, send),
            Err(Exclusion::ContactedRecently { days_ago: 61, min_days: 90 })
        );
        // Or another study invited the person meanwhile, or they opted out.
        let invited = ContactHistory { invitations: vec![now()], ..history.clone() };
        assert!(matches!(recheck_at_send(&loose.rules, &invited, send), Err(Exclusion::WeeklyLimit { .. })));
        let out = ContactHistory { opted_out: true, ..history };
        assert_eq!(recheck_at_send(&loose.rules, &out, send), Err(Exclusion::OptedOut));
    }

    #[test]
    fn target_filters_tiers_departments_and_attributes() {
        let mut c = cand("p", Tier::Silent, "Sales");
        c.attributes.insert("Location".into(), "Shanghai".into());
        let t = Target::default();
        assert!(t.matches(&c));
        for tier in [Tier::Deep, Tier::Dormant, Tier::New] {
            assert!(!t.matches(&Candidate { tier, ..c.clone() }), "{tier} is not targeted by default");
        }
        assert!(t.matches(&Candidate { tier: Tier::Shallow, ..c.clone() }));
        let dormant = Target { tiers: BTreeSet::from([Tier::Dormant]), ..Target::default() };
        assert!(dormant.matches(&Candidate { tier: Tier::Dormant, ..c.clone() }));

        let sales = Target { departments: Some(BTreeSet::from(["Sales".to_owned()])), ..Target::default() };
        assert!(sales.matches(&c));
        assert!(!sales.matches(&Candidate { department: Some("Support".into()), ..c.clone() }));
        assert!(!sales.matches(&Candidate { department: None, ..c.clone() }));

        let place = |k: &str, v: &str| Target { attributes: vec![(k.into(), v.into())], ..Target::default() };
        assert!(place("location", " SHANGHAI ").matches(&c));
        assert!(!place("location", "Beijing").matches(&c));
        assert!(!place("site", "Shanghai").matches(&c));

        // The draw leaves untargeted people out silently (they are not excluded).
        let cs = vec![c.clone(), cand("q", Tier::Deep, "Sales")];
        let d = draw(
            &DrawSpec { target: place("LOCATION", "shanghai"), ..spec(5, Allocation::Equal, 1) },
            &cs,
            &HashMap::new(),
            now(),
        );
        assert_eq!((keys(&d), d.excluded.len()), (vec!["p"], 0));
    }

    #[test]
    fn reasons_in_words_for_each_tier() {
        let f = |active, messages, breadth, interactive, depth| ReasonFacts {
            active_days: active,
            window_days: 28,
            messages_sent: messages,
            feature_breadth: breadth,
            interactive_days: interactive,
            login_depth: depth,
        };
        let silent = f(Some(19), Some(0), 1, Some(0), Ratio::new(0, 12));
        assert_eq!(reason(&silent, Tier::Silent), "logged in on 19 of 28 days, 0 messages sent, 1 feature family");
        let shallow = f(Some(1), Some(1), 2, Some(1), Ratio::new(1, 4));
        assert_eq!(
            reason(&shallow, Tier::Shallow),
            "logged in on 1 of 28 days, interactive on 1 day, 1 message sent, 2 feature families, login depth 0.25"
        );
        let deep = f(Some(20), Some(130), 4, Some(15), Ratio::new(2, 3));
        assert_eq!(
            reason(&deep, Tier::Deep),
            "logged in on 20 of 28 days, interactive on 15 days, 130 messages sent, 4 feature families, login depth 0.67"
        );
        let aggregated = f(None, None, 0, None, None);
        assert_eq!(
            reason(&aggregated, Tier::Silent),
            "days logged in not available from this source, messages not available from this source, 0 feature families"
        );
        assert_eq!(reason(&silent, Tier::Dormant), "no activity in the last 28 days");
        assert_eq!(
            reason(&ReasonFacts { window_days: 1, ..silent.clone() }, Tier::Dormant),
            "no activity in the last 1 day"
        );
        assert_eq!(
            reason(&f(Some(3), Some(2), 1, Some(2), None), Tier::New),
            "new (still in the grace period): logged in on 3 of 28 days, interactive on 2 days, 2 messages sent, 1 feature family"
        );
        // Picks carry the reason and the frozen facts.
        let c = Candidate { facts: silent.clone(), ..cand("p", Tier::Silent, "Sales") };
        let d = run(&spec(1, Allocation::Equal, 1), &[c]);
        assert_eq!(
            (d.picked[0].reason.as_str(), &d.picked[0].facts),
            (reason(&silent, Tier::Silent).as_str(), &silent)
        );
    }
}
