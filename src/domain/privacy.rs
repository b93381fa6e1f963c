//! The privacy floor: aggregates shown to managers never describe a group
//! smaller than the floor. Small groups are merged into "other"; if "other"
//! is itself too small it is hidden.

/// A group of an aggregate: a label and how many people it describes.
pub trait Group {
    fn size(&self) -> u32;
    /// Folds another group into this one.
    fn absorb(&mut self, other: Self);
}

/// Where each group of an aggregate goes under the floor: shown alone,
/// folded into the one merged group ("Other groups", "silent and shallow
/// together"), or not shown at all. Every output that shows the same groups
/// for the same date follows the same plan, so that no page shows alone a
/// group another page merged (the merged total minus it would give the
/// small group away).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan<K> {
    /// Groups shown on their own (each at or above the floor), in input order.
    pub alone: Vec<K>,
    /// Groups shown only together, as one group at or above the floor.
    pub merged: Vec<K>,
    /// Groups not shown at all, even together: all of them together are
    /// below the floor (then nothing is shown alone either).
    pub suppressed: Vec<K>,
}

impl<K: PartialEq> Plan<K> {
    /// Whether `key` may be shown on its own.
    pub fn is_alone(&self, key: &K) -> bool {
        self.alone.contains(key)
    }

    /// How many groups are not shown on their own.
    pub fn not_alone(&self) -> usize {
        self.merged.len() + self.suppressed.len()
    }
}

/// The one rule of the privacy floor, over groups given as (key, people).
/// With no floor (readers who see people anyway) every group is shown alone.
///
/// Groups below the floor are merged. A lone small group must not be hidden
/// while the others and the total are shown (the total minus the shown
/// groups would give it away): the smallest shown groups join the merged one
/// until it reaches the floor. If it cannot, nothing is shown.
pub fn plan<K>(groups: impl IntoIterator<Item = (K, u32)>, floor: Option<u32>) -> Plan<K> {
    let groups: Vec<(K, u32)> = groups.into_iter().collect();
    let Some(floor) = floor else {
        return Plan {
            alone: groups.into_iter().map(|(k, _)| k).collect(),
            merged: Vec::new(),
            suppressed: Vec::new(),
        };
    };
    let (mut kept, small): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(_, n)| *n >= floor);
    if small.is_empty() {
        return Plan { alone: kept.into_iter().map(|(k, _)| k).collect(), merged: Vec::new(), suppressed: Vec::new() };
    }
    let mut size: u64 = small.iter().map(|(_, n)| u64::from(*n)).sum();
    let mut merged: Vec<K> = small.into_iter().map(|(k, _)| k).collect();
    while size < u64::from(floor) && !kept.is_empty() {
        let smallest = (0..kept.len()).min_by_key(|&i| kept[i].1).unwrap_or(0);
        let (k, n) = kept.remove(smallest);
        size += u64::from(n);
        merged.push(k);
    }
    let alone = kept.into_iter().map(|(k, _)| k).collect();
    if size >= u64::from(floor) {
        Plan { alone, merged, suppressed: Vec::new() }
    } else {
        Plan { alone, merged: Vec::new(), suppressed: merged }
    }
}

/// [`plan`] applied to groups that fold together: the groups shown alone,
/// the merged one (None when nothing was merged or it stays below the
/// floor), and how many groups are not shown alone.
pub fn apply_floor<G: Group>(groups: Vec<G>, floor: u32) -> (Vec<G>, Option<G>, usize) {
    let p = plan(groups.iter().enumerate().map(|(i, g)| (i, g.size())), Some(floor));
    let mut slots: Vec<Option<G>> = groups.into_iter().map(Some).collect();
    let kept = p.alone.iter().filter_map(|&i| slots[i].take()).collect();
    let mut other: Option<G> = None;
    for &i in &p.merged {
        if let Some(g) = slots[i].take() {
            match &mut other {
                Some(o) => o.absorb(g),
                None => other = Some(g),
            }
        }
    }
    (kept, other, p.not_alone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct G(&'static str, u32);
    impl Group for G {
        fn size(&self) -> u32 {
            self.1
        }
        fn absorb(&mut self, other: Self) {
            self.0 = "other";
            self.1 += other.1;
        }
    }

    #[test]
    fn small_groups_merge_into_other_or_disappear() {
        let (kept, other, merged) = apply_floor(vec![G("a", 10), G("b", 3), G("c", 2), G("d", 5)], 5);
        assert_eq!(kept, vec![G("a", 10), G("d", 5)]);
        assert_eq!(other, Some(G("other", 5)));
        assert_eq!(merged, 2);
        // A lone small group takes the smallest shown one with it, so that
        // the total minus the shown groups reveals nothing.
        let (kept, other, merged) = apply_floor(vec![G("a", 10), G("b", 3), G("c", 6)], 5);
        assert_eq!(kept, vec![G("a", 10)]);
        assert_eq!(other, Some(G("other", 9)));
        assert_eq!(merged, 2);
        // With nothing left to fold in, the small group stays hidden.
        let (kept, other, merged) = apply_floor(vec![G("b", 3)], 5);
        assert_eq!((kept.len(), other, merged), (0, None, 1));
    }

    #[test]
    fn the_plan_names_where_each_group_goes() {
        // The case: a 2-person group next to a 6-person one.
        let p = plan([("big", 40), ("six", 6), ("two", 2)], Some(5));
        assert_eq!(p.alone, vec!["big"]);
        assert_eq!(p.merged, vec!["two", "six"]);
        assert!(p.suppressed.is_empty() && !p.is_alone(&"six"));
        // Everything together below the floor: nothing at all.
        let p = plan([("a", 2), ("b", 2)], Some(5));
        assert_eq!((p.alone.len(), p.merged.len(), p.suppressed), (0, 0, vec!["a", "b"]));
        // No floor: everything alone.
        let p = plan([("a", 1), ("b", 2)], None);
        assert_eq!(p.alone, vec!["a", "b"]);
        // Nothing small: nothing merged, even groups exactly at the floor.
        let p = plan([("a", 5), ("b", 9)], Some(5));
        assert_eq!((p.not_alone(), p.alone), (0, vec!["a", "b"]));
    }

    /// Rank of 0/1 rows over the rationals (elimination in f64; rows are short).
    fn rank(rows: &[Vec<f64>]) -> usize {
        let mut m = rows.to_vec();
        let cols = m.first().map_or(0, Vec::len);
        let mut r = 0;
        for c in 0..cols {
            let Some(p) = (r..m.len()).find(|&i| m[i][c].abs() > 1e-9) else { continue };
            m.swap(r, p);
            let pivot = m[r].clone();
            for (i, row) in m.iter_mut().enumerate() {
                if i != r && row[c].abs() > 1e-9 {
                    let f = row[c] / pivot[c];
                    row.iter_mut().zip(&pivot).for_each(|(x, p)| *x -= f * p);
                }
            }
            r += 1;
        }
        r
    }

    proptest::proptest! {
        /// Whatever the group sizes around the floor: every group shown is at
        /// or above the floor, and no set of groups below the floor is a sum
        /// or difference of what is shown (each group alone, the merged
        /// group, and the total, which is always said: "3 interviews were
        /// coded"), except the total itself when everything is below it.
        #[test]
        fn nothing_below_the_floor_can_be_worked_out(
            sizes in proptest::collection::vec(1u32..=12, 1..=7),
            floor in 1u32..=8,
        ) {
            let p = plan(sizes.iter().copied().enumerate(), Some(floor));
            let n = sizes.len();
            let set = |keys: &[usize]| (0..n).map(|i| if keys.contains(&i) { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
            let size = |keys: &[usize]| keys.iter().map(|&i| sizes[i]).sum::<u32>();
            let mut shown = vec![vec![1.0; n]];
            for &k in &p.alone {
                proptest::prop_assert!(sizes[k] >= floor);
                shown.push(set(&[k]));
            }
            if !p.merged.is_empty() {
                proptest::prop_assert!(size(&p.merged) >= floor);
                shown.push(set(&p.merged));
            }
            proptest::prop_assert!(p.suppressed.is_empty() || (p.alone.is_empty() && p.merged.is_empty()));
            let base = rank(&shown);
            for mask in 1u32..(1 << n) {
                let keys: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
                if size(&keys) >= floor || keys.len() == n {
                    continue;
                }
                let mut with = shown.clone();
                with.push(set(&keys));
                proptest::prop_assert!(rank(&with) > base, "{:?} of {:?} under {}", keys, sizes, floor);
            }
        }
    }
}
