//! The privacy floor: aggregates shown to managers never describe a group
//! smaller than the floor. Small groups are merged into "other"; if "other"
//! is itself too small it is hidden.

/// A group of an aggregate: a label and how many people it describes.
pub trait Group {
    fn size(&self) -> u32;
    /// Folds another group into this one.
    fn absorb(&mut self, other: Self);
}

/// Groups at or above the floor, then the merged small ones as `other`
/// (None when nothing was merged), and how many groups were merged away.
///
/// A lone small group must not be hidden while the others and the total are
/// shown (the total minus the shown groups would give it away): the smallest
/// shown groups join "other" until it reaches the floor.
pub fn apply_floor<G: Group>(groups: Vec<G>, floor: u32) -> (Vec<G>, Option<G>, usize) {
    let mut kept = Vec::new();
    let mut other: Option<G> = None;
    let mut merged = 0;
    for g in groups {
        if g.size() >= floor {
            kept.push(g);
        } else {
            merged += 1;
            match &mut other {
                Some(o) => o.absorb(g),
                None => other = Some(g),
            }
        }
    }
    if let Some(o) = &mut other {
        while o.size() < floor && !kept.is_empty() {
            let smallest = (0..kept.len()).min_by_key(|&i| kept[i].size()).unwrap_or(0);
            o.absorb(kept.remove(smallest));
            merged += 1;
        }
    }
    let other = other.filter(|o| o.size() >= floor);
    (kept, other, merged)
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
}
