//! Exact fractions, and how numbers are shown (spec section 4, "Rounding"):
//! values are kept exact and rounded half away from zero only for display.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative fraction, compared exactly: by value, so `1/2 == 2/4`
/// (equality agrees with the order; the fields are not reduced).
#[derive(Clone, Copy, Debug)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

impl Ratio {
    pub fn new(num: u64, den: u64) -> Option<Ratio> {
        (den != 0).then_some(Ratio { num, den })
    }

    /// Parses a plain decimal such as `0.5` or `2` exactly.
    pub fn parse_decimal(s: &str) -> Option<Ratio> {
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() || frac.len() > 9 {
            return None;
        }
        if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let den = 10u64.pow(frac.len() as u32);
        let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let frac: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
        Some(Ratio { num: int.checked_mul(den)?.checked_add(frac)?, den })
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Shown with at most `places` decimals, half away from zero, without
    /// trailing zeros (`0.3125` → `0.313`, `1` → `1`).
    pub fn display(self, places: u32) -> String {
        let scale = 10u128.pow(places);
        let (num, den) = (u128::from(self.num), u128::from(self.den));
        // floor(num * scale / den + 1/2), exactly.
        let scaled = (2 * num * scale + den) / (2 * den);
        format_scaled(scaled, places)
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.num) * u128::from(other.den)).cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display(3))
    }
}

/// Writes `scaled / 10^places` without trailing zeros.
fn format_scaled(scaled: u128, places: u32) -> String {
    let scale = 10u128.pow(places);
    let int = scaled / scale;
    let frac = scaled % scale;
    if frac == 0 {
        return int.to_string();
    }
    let digits = format!("{:0width$}", frac, width = places as usize);
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// A floating-point value (indicators that no rule compares) shown with at
/// most `places` decimals, half away from zero, without trailing zeros.
pub fn display_f64(value: f64, places: u32) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let scale = 10f64.powi(places as i32);
    let scaled = (value.abs() * scale).round();
    let text = format_scaled(scaled as u128, places);
    if value < 0.0 && scaled > 0.0 { format!("-{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero_for_display_only() {
        assert_eq!(Ratio::new(5, 16).unwrap().display(3), "0.313");
        assert_eq!(Ratio::new(1, 1).unwrap().display(3), "1");
        assert_eq!(Ratio::new(99, 100).unwrap().display(3), "0.99");
        assert_eq!(Ratio::new(2, 3).unwrap().display(3), "0.667");
        assert_eq!(Ratio::new(1, 3).unwrap().display(3), "0.333");
        // A median of 178.25 minutes shows as 178.3.
        assert_eq!(Ratio::new(71_300, 400).unwrap().display(1), "178.3");
        assert_eq!(Ratio::new(0, 7).unwrap().display(1), "0");
    }

    #[test]
    fn compares_exactly() {
        let half = Ratio::parse_decimal("0.5").unwrap();
        assert_eq!(Ratio::new(1, 2).unwrap().cmp(&half), Ordering::Equal);
        assert!(Ratio::new(4999, 10_000).unwrap() < half);
        assert!(Ratio::new(5001, 10_000).unwrap() > half);
    }

    #[test]
    fn equality_agrees_with_the_order() {
        assert_eq!(Ratio::new(1, 2).unwrap(), Ratio::new(2, 4).unwrap());
        assert_eq!(Ratio::parse_decimal("0.50"), Ratio::new(1, 2));
        assert_ne!(Ratio::new(1, 3).unwrap(), Ratio::new(333, 1000).unwrap());
    }

    proptest::proptest! {
        #[test]
        fn eq_holds_exactly_when_cmp_says_equal(a in 0u64..10_000, b in 1u64..10_000, c in 0u64..10_000, d in 1u64..10_000, k in 1u64..1000) {
            let (x, y) = (Ratio { num: a, den: b }, Ratio { num: c, den: d });
            proptest::prop_assert_eq!(x == y, x.cmp(&y) == Ordering::Equal);
            proptest::prop_assert_eq!(x, Ratio { num: a * k, den: b * k });
        }
    }

    #[test]
    fn parses_plain_decimals_only() {
        assert_eq!(Ratio::parse_decimal("2"), Some(Ratio { num: 2, den: 1 }));
        assert_eq!(Ratio::parse_decimal(".25"), Some(Ratio { num: 25, den: 100 }));
        for bad in ["", ".", "-1", "1e3", "0.5.1", "abc"] {
            assert_eq!(Ratio::parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn floats_display_like_ratios() {
        assert_eq!(display_f64(2.5, 1), "2.5");
        assert_eq!(display_f64(0.125, 2), "0.13");
        assert_eq!(display_f64(3.0, 2), "3");
        assert_eq!(display_f64(-0.25, 1), "-0.3");
        assert_eq!(display_f64(f64::NAN, 1), "");
    }
}
