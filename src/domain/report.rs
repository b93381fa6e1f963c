//! The combined report's arithmetic: codes by tier and representative
//! quotes, each under the privacy floor when the
//! reader is a manager. Pure: the caller gathers the interviews, quotes and
//! tiers.

use std::collections::BTreeMap;

use super::privacy::plan;
use super::tier::Tier;

/// One interview as the report counts it: the participant's tier frozen at
/// draw time, and the codes it was filed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedInterview {
    pub tier: Tier,
    pub codes: Vec<String>,
}

/// How often each code came up among the interviews of each tier.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodesByTier {
    /// Interviews per tier shown on its own (the denominator of each share).
    pub interviews: BTreeMap<Tier, u32>,
    /// code key -> tier -> interviews filed under it.
    pub counts: BTreeMap<String, BTreeMap<Tier, u32>>,
    /// Tiers not shown on their own under the floor (merged or left out),
    /// in tier order.
    pub hidden_tiers: Vec<Tier>,
    /// Tiers too small on their own, shown together when together they
    /// reach the floor.
    pub merged: Option<MergedTiers>,
    /// Every coded interview, shown or not: what exists.
    pub total: u32,
}

/// Tiers counted together under the floor ("silent and shallow together").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergedTiers {
    /// In tier order.
    pub tiers: Vec<Tier>,
    pub interviews: u32,
    /// code key -> interviews of these tiers filed under it.
    pub counts: BTreeMap<String, u32>,
}

impl MergedTiers {
    pub fn count(&self, code: &str) -> u32 {
        self.counts.get(code).copied().unwrap_or(0)
    }

    pub fn share(&self, code: &str) -> Option<f64> {
        (self.interviews > 0).then(|| f64::from(self.count(code)) / f64::from(self.interviews))
    }
}

impl CodesByTier {
    pub fn count(&self, code: &str, tier: Tier) -> u32 {
        self.counts.get(code).and_then(|m| m.get(&tier)).copied().unwrap_or(0)
    }

    /// The share of the tier's interviews that mention the code.
    pub fn share(&self, code: &str, tier: Tier) -> Option<f64> {
        let n = *self.interviews.get(&tier)?;
        (n > 0).then(|| f64::from(self.count(code, tier)) / f64::from(n))
    }

    /// Codes from the most to the least mentioned overall among the shown
    /// interviews, merged tiers included (ties by key).
    pub fn ranked(&self) -> Vec<(String, u32)> {
        let mut totals: BTreeMap<String, u32> =
            self.counts.iter().map(|(k, m)| (k.clone(), m.values().sum())).collect();
        for (k, n) in self.merged.iter().flat_map(|m| &m.counts) {
            *totals.entry(k.clone()).or_default() += n;
        }
        let mut out: Vec<(String, u32)> = totals.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Whether coded interviews exist but the floor lets none be broken
    /// down by tier (all of them together are fewer than the floor).
    pub fn all_hidden(&self) -> bool {
        self.total > 0 && self.interviews.is_empty() && self.merged.is_none()
    }
}

/// Counts codes by tier. With a `floor`, tiers are shown under the privacy
/// floor's one rule ([`crate::domain::privacy::plan`]): a tier with fewer
/// interviews than the floor is counted together with other small tiers
/// (and the smallest shown one, if need be, so that the total minus the
/// shown tiers gives nothing away), or not at all when even together they
/// are too few; so that a manager never reads what two silent people said.
pub fn codes_by_tier(interviews: &[CodedInterview], floor: Option<u32>) -> CodesByTier {
    let mut per_tier: BTreeMap<Tier, u32> = BTreeMap::new();
    for i in interviews {
        *per_tier.entry(i.tier).or_default() += 1;
    }
    let p = plan(per_tier.iter().map(|(t, n)| (*t, *n)), floor);
    let mut hidden: Vec<Tier> = p.merged.iter().chain(&p.suppressed).copied().collect();
    hidden.sort();
    let mut merged_tiers = p.merged.clone();
    merged_tiers.sort();
    let mut merged = (!merged_tiers.is_empty()).then(|| MergedTiers { tiers: merged_tiers, ..MergedTiers::default() });
    let mut out = CodesByTier { hidden_tiers: hidden, total: interviews.len() as u32, ..CodesByTier::default() };
    for i in interviews {
        let mut codes = i.codes.clone();
        codes.sort();
        codes.dedup();
        if p.is_alone(&i.tier) {
            *out.interviews.entry(i.tier).or_default() += 1;
            for c in codes {
                *out.counts.entry(c).or_default().entry(i.tier).or_default() += 1;
            }
        } else if let Some(m) = merged.as_mut().filter(|m| m.tiers.contains(&i.tier)) {
            m.interviews += 1;
            for c in codes {
                *m.counts.entry(c).or_default() += 1;
            }
        }
    }
    out.merged = merged;
    out
}

/// One group of interviews as the report breaks them down: a tier on its
/// own, or tiers too small alone counted together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierGroup {
    /// One tier, or several in tier order (counted together).
    pub tiers: Vec<Tier>,
    pub interviews: u32,
    /// Reasons with the interviews filed under them, most mentioned first
    /// (ties by key); only reasons mentioned at least once.
    pub reasons: Vec<(String, u32)>,
}

impl TierGroup {
    /// The most mentioned reason, if any was.
    pub fn top(&self) -> Option<&(String, u32)> {
        self.reasons.first()
    }
}

fn ranked(counts: impl IntoIterator<Item = (String, u32)>) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

impl CodesByTier {
    /// Every group shown: each tier on its own in tier order, then the
    /// tiers counted together; each with its reasons ranked.
    pub fn groups(&self) -> Vec<TierGroup> {
        let alone = self.interviews.iter().map(|(t, n)| TierGroup {
            tiers: vec![*t],
            interviews: *n,
            reasons: ranked(self.counts.iter().map(|(k, m)| (k.clone(), m.get(t).copied().unwrap_or(0)))),
        });
        let merged = self.merged.iter().map(|m| TierGroup {
            tiers: m.tiers.clone(),
            interviews: m.interviews,
            reasons: ranked(m.counts.iter().map(|(k, n)| (k.clone(), *n))),
        });
        alone.chain(merged).collect()
    }

    /// The group a tier's reasons can be read in: the tier on its own, or
    /// the tiers it is counted together with; None when the floor keeps
    /// it out or nobody of it was interviewed.
    pub fn group_of(&self, tier: Tier) -> Option<TierGroup> {
        self.groups().into_iter().find(|g| g.tiers.contains(&tier))
    }
}

/// A group's login and deep rates (over the people whose depth is
/// measurable), for comparing groups' gaps.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRates {
    pub label: String,
    /// The people behind the deep rate.
    pub base: u32,
    pub login: Option<f64>,
    pub deep: Option<f64>,
}

impl GroupRates {
    /// Login rate minus deep rate, in proportion points.
    pub fn gap(&self) -> Option<f64> {
        Some(self.login? - self.deep?)
    }
}

/// The group where looking active and being active lie furthest apart,
/// among groups of at least `min_base` people (smaller ones say little);
/// the first of equals.
pub fn widest_gap(groups: &[GroupRates], min_base: u32) -> Option<&GroupRates> {
    groups
        .iter()
        .filter(|g| g.base >= min_base.max(1))
        .filter_map(|g| Some((g, g.gap()?)))
        .fold(None, |best: Option<(&GroupRates, f64)>, (g, gap)| match best {
            Some((_, b)) if b >= gap => best,
            _ => Some((g, gap)),
        })
        .map(|(g, _)| g)
}

/// A quote as the report may show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuote {
    pub text: String,
    pub tier: Tier,
    pub code: Option<String>,
    pub shareable: bool,
}

/// The quotes a reader may see: for managers only those cleared for
/// sharing, and only from tiers at or above the floor (a quote from a tiny
/// group points at a person); up to `per_code` per code, in the given order.
pub fn representative_quotes(
    quotes: &[ReportQuote],
    by_tier: &CodesByTier,
    manager: bool,
    per_code: usize,
) -> Vec<ReportQuote> {
    let mut taken: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for q in quotes {
        if manager
            && (!q.shareable || by_tier.hidden_tiers.contains(&q.tier) || !by_tier.interviews.contains_key(&q.tier))
        {
            continue;
        }
        let n = taken.entry(q.code.as_deref()).or_default();
        if *n < per_code {
            *n += 1;
            out.push(q.clone());
        }
    }
    out
}

/// How deep a tier is, for movement after outreach (`domain::effect`): dormant < silent < shallow < deep.
/// New people are in their grace period and have no place on the scale;
/// neither have people whose depth their source cannot measure.
pub fn depth(t: Tier) -> Option<u8> {
    match t {
        Tier::Dormant => Some(0),
        Tier::Silent => Some(1),
        Tier::Shallow => Some(2),
        Tier::Deep => Some(3),
        Tier::New | Tier::Unmeasured => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tier::*;

    fn iv(tier: Tier, codes: &[&str]) -> CodedInterview {
        CodedInterview { tier, codes: codes.iter().map(|c| c.to_string()).collect() }
    }

    fn sample() -> Vec<CodedInterview> {
        vec![
            iv(Silent, &["check_in_only", "other_channel"]),
            iv(Silent, &["check_in_only"]),
            iv(Silent, &["check_in_only", "check_in_only"]),
            iv(Shallow, &["learning_cost"]),
            iv(Shallow, &["other_channel", "learning_cost"]),
            iv(Dormant, &["need_mismatch"]),
        ]
    }

    #[test]
    fn codes_are_counted_once_per_interview_by_tier() {
        let r = codes_by_tier(&sample(), None);
        assert_eq!(r.interviews, BTreeMap::from([(Dormant, 1), (Silent, 3), (Shallow, 2)]));
        assert_eq!(r.count("check_in_only", Silent), 3, "a code twice in one interview counts once");
        assert_eq!(r.count("other_channel", Silent), 1);
        assert_eq!(r.count("other_channel", Shallow), 1);
        assert_eq!(r.count("learning_cost", Shallow), 2);
        assert_eq!(r.share("check_in_only", Silent), Some(1.0));
        assert_eq!(r.share("learning_cost", Silent), Some(0.0));
        assert_eq!(r.share("learning_cost", Deep), None);
        assert_eq!(r.ranked()[0], ("check_in_only".to_string(), 3));
        assert_eq!(r.ranked()[1], ("learning_cost".to_string(), 2));
    }

    #[test]
    fn the_floor_hides_small_tiers_entirely() {
        // Dormant (1) is below the floor of 2; shown alone beside the total
        // of 6, shallow (2) and silent (3) would give it away, so the
        // smallest shown tier, shallow, is counted together with it.
        let r = codes_by_tier(&sample(), Some(2));
        assert_eq!(r.hidden_tiers, vec![Shallow, Dormant]);
        assert!(!r.interviews.contains_key(&Dormant));
        assert_eq!(r.count("need_mismatch", Dormant), 0);
        assert!(!r.counts.contains_key("need_mismatch"));
        let m = r.merged.as_ref().unwrap();
        assert_eq!((m.tiers.clone(), m.interviews, m.count("need_mismatch")), (vec![Shallow, Dormant], 3, 1));
        assert_eq!(r.total, 6);
        let r = codes_by_tier(&sample(), Some(3));
        assert_eq!(r.hidden_tiers, vec![Shallow, Dormant], "in tier order");
        assert_eq!(r.interviews, BTreeMap::from([(Silent, 3)]));
    }

    #[test]
    fn tiers_merge_to_reach_the_floor_or_nothing_is_broken_down() {
        // Shallow 2 and silent 3 with a floor of 5: together, not apart.
        let five = &sample()[..5];
        let r = codes_by_tier(five, Some(5));
        assert!(r.interviews.is_empty());
        let m = r.merged.as_ref().unwrap();
        assert_eq!((m.tiers.clone(), m.interviews), (vec![Shallow, Silent], 5));
        assert_eq!(m.count("check_in_only"), 3);
        assert_eq!(r.ranked()[0], ("check_in_only".to_string(), 3), "merged tiers count towards the ranking");
        assert!(!r.all_hidden());
        // Three interviews against a floor of 5: they exist, none is broken down.
        let r = codes_by_tier(&sample()[..3], Some(5));
        assert_eq!((r.total, r.all_hidden(), r.hidden_tiers.clone()), (3, true, vec![Silent]));
        assert!(r.ranked().is_empty());
        // The sum of what is shown is always the total, or nothing is shown.
        for floor in 1..8 {
            let r = codes_by_tier(&sample(), Some(floor));
            let shown: u32 = r.interviews.values().sum::<u32>() + r.merged.as_ref().map_or(0, |m| m.interviews);
            assert!(shown == r.total || shown == 0, "floor {floor}");
            assert!(r.interviews.values().chain(r.merged.iter().map(|m| &m.interviews)).all(|n| *n >= floor));
        }
    }

    #[test]
    fn groups_rank_each_tiers_reasons_and_find_the_tier_in_merged_ones() {
        let r = codes_by_tier(&sample(), None);
        let groups = r.groups();
        assert_eq!(
            groups.iter().map(|g| g.tiers.clone()).collect::<Vec<_>>(),
            [vec![Shallow], vec![Silent], vec![Dormant]]
        );
        let silent = r.group_of(Silent).unwrap();
        assert_eq!(silent.interviews, 3);
        assert_eq!(silent.reasons, [("check_in_only".to_string(), 3), ("other_channel".to_string(), 1)]);
        assert_eq!(silent.top(), Some(&("check_in_only".to_string(), 3)));
        let shallow = r.group_of(Shallow).unwrap();
        assert_eq!(shallow.reasons, [("learning_cost".to_string(), 2), ("other_channel".to_string(), 1)]);
        assert_eq!(r.group_of(Deep), None, "nobody deep was interviewed");
        // Under a floor of 5, silent is only read together with shallow.
        let floored = codes_by_tier(&sample()[..5], Some(5));
        let g = floored.group_of(Silent).unwrap();
        assert_eq!((g.tiers.clone(), g.interviews), (vec![Shallow, Silent], 5));
        assert_eq!(g.top(), Some(&("check_in_only".to_string(), 3)));
        assert_eq!(codes_by_tier(&sample()[..3], Some(5)).group_of(Silent), None, "all hidden");
    }

    #[test]
    fn the_widest_gap_is_among_groups_large_enough() {
        let g = |label: &str, base, login, deep| GroupRates {
            label: label.into(),
            base,
            login: Some(login),
            deep: Some(deep),
        };
        let groups = vec![
            g("Sales", 40, 0.9, 0.3),
            g("Tiny", 3, 1.0, 0.0),
            g("Ops", 50, 0.95, 0.2),
            g("Legal", 30, 0.95, 0.2),
            GroupRates { label: "Unmeasured".into(), base: 99, login: Some(0.9), deep: None },
        ];
        assert_eq!(widest_gap(&groups, 10).map(|g| g.label.as_str()), Some("Ops"), "the first of equals");
        assert_eq!(widest_gap(&groups, 1).map(|g| g.label.as_str()), Some("Tiny"));
        assert_eq!(widest_gap(&groups, 60), None);
        assert!((groups[0].gap().unwrap() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn managers_see_only_cleared_quotes_from_tiers_above_the_floor() {
        let q = |text: &str, tier, shareable, code: &str| ReportQuote {
            text: text.into(),
            tier,
            code: Some(code.into()),
            shareable,
        };
        let quotes = vec![
            q("punch in only", Silent, true, "check_in_only"),
            q("private", Silent, false, "check_in_only"),
            q("again punch", Silent, true, "check_in_only"),
            q("third", Silent, true, "check_in_only"),
            q("the dormant one", Dormant, true, "need_mismatch"),
        ];
        let floored = codes_by_tier(&sample(), Some(2));
        let m = representative_quotes(&quotes, &floored, true, 2);
        assert_eq!(m.iter().map(|q| q.text.as_str()).collect::<Vec<_>>(), ["punch in only", "again punch"]);
        let all = codes_by_tier(&sample(), None);
        let r = representative_quotes(&quotes, &all, false, 10);
        assert_eq!(r.len(), 5, "researchers see every quote");
    }
}
