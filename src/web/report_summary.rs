//! The report's summary and the charts of its evidence: the findings in
//! words (the department with the widest gap, the top reason among silent
//! people, the effect of outreach), the top reasons by tier, and the SVG
//! charts beside the data tables. Everything here reads only what the
//! report already shows its reader: departments and tiers under the privacy
//! floor for managers, the effect with a manager's minimum group size.

use chrono::NaiveDate;

use crate::domain::effect::{self, Effect, Verdict};
use crate::domain::evaluation::Summary;
use crate::domain::report::{self, CodesByTier, GroupRates, TierGroup};
use crate::domain::tier::Tier;
use crate::web::charts::{self, ChartText, Estimate, Series};
use crate::web::i18n;
use crate::web::page::Page;

/// A chart as the report places it: the SVG and its legend (its data table
/// is the section's own table).
#[derive(Default)]
pub struct ReportChart {
    pub svg: String,
    pub legend: String,
}

/// One tier's (or tiers' together) top reasons, for the summary.
#[derive(serde::Serialize)]
pub struct TierReasons {
    pub tier: String,
    /// The tier's colour class (`tier-silent`), or `s7` for tiers together.
    pub class: String,
    pub interviews: u32,
    /// "Reason (share)", most mentioned first.
    pub reasons: Vec<String>,
}

fn points(x: f64) -> String {
    format!("{:+.1}", x * 100.0)
}

fn tier_name(page: &Page, t: Tier) -> String {
    page.t(&format!("tier.{}", t.as_str()))
}

/// A group's name: the tier, or "Shallow, Silent together".
pub fn group_name(page: &Page, g: &TierGroup) -> String {
    match g.tiers.as_slice() {
        [t] => tier_name(page, *t),
        tiers => {
            let list = tiers.iter().map(|t| tier_name(page, *t)).collect::<Vec<_>>().join(", ");
            page.tf("report.tiers_together", &[("tiers", &list)])
        }
    }
}

fn group_class(g: &TierGroup) -> String {
    match g.tiers.as_slice() {
        [t] => format!("tier-{}", t.as_str()),
        _ => "s7".into(),
    }
}

/// The department where looking active and being active lie furthest
/// apart, among departments with at least `min` people whose depth is
/// measurable (the merged "Other groups" is not a department to name).
pub fn gap_finding(page: &Page, departments: &[(String, Summary)], min: u32) -> String {
    let other = page.t("dashboard.other_groups");
    let rates: Vec<GroupRates> = departments
        .iter()
        .filter(|(label, _)| *label != other)
        .map(|(label, s)| GroupRates {
            label: label.clone(),
            base: s.measurable_base(),
            login: s.measurable_login_rate().map(|r| r.to_f64()),
            deep: s.deep_rate().map(|r| r.to_f64()),
        })
        .collect();
    match report::widest_gap(&rates, min) {
        Some(g) => page.tf(
            "report.finding.gap",
            &[
                ("department", &g.label),
                ("login", &i18n::percent(g.login.unwrap_or_default())),
                ("deep", &i18n::percent(g.deep.unwrap_or_default())),
                ("gap", &crate::domain::decimal::display_f64(g.gap().unwrap_or_default() * 100.0, 1)),
                ("n", &i18n::integer(i64::from(g.base))),
            ],
        ),
        None => page.tf("report.finding.gap_none", &[("min", &min.to_string())]),
    }
}

/// The top reason among silent people (or the tiers they are counted
/// together with under the floor).
pub fn silent_finding(
    page: &Page,
    by_tier: &CodesByTier,
    label: &dyn Fn(&str) -> String,
    floor: Option<u32>,
) -> String {
    if by_tier.all_hidden() {
        return page.tf(
            "report.finding.silent_hidden",
            &[("n", &by_tier.total.to_string()), ("floor", &floor.unwrap_or_default().to_string())],
        );
    }
    let Some(g) = by_tier.group_of(Tier::Silent) else {
        return page.t("report.finding.silent_none");
    };
    let Some((key, count)) = g.top() else {
        return page.t("report.finding.silent_none");
    };
    let args = [
        ("group", group_name(page, &g)),
        ("reason", label(key)),
        ("count", count.to_string()),
        ("n", g.interviews.to_string()),
        ("share", i18n::percent(f64::from(*count) / f64::from(g.interviews))),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = if g.tiers.len() == 1 { "report.finding.silent" } else { "report.finding.silent_together" };
    page.tf(key, &args)
}

/// What the outreach did, in one sentence: the clearest measured study
/// first (a verdict before "too few to tell"), else why nothing is measured.
/// `min` is the smallest group a verdict needs (a manager's floor included).
pub fn outreach_finding(page: &Page, effects: &[(String, Effect)], min: u32) -> String {
    let rank = |e: &Effect| match e {
        Effect::Measured { deeper, .. } if Verdict::of(deeper.as_ref(), min) != Verdict::TooFew => 0,
        Effect::Measured { .. } => 1,
        Effect::NeedsData { .. } => 2,
        Effect::NotContacted => 3,
        Effect::NoHoldout => 4,
    };
    let Some((study, e)) = effects.iter().min_by_key(|(_, e)| rank(e)) else {
        return page.t("report.finding.effect_no_study");
    };
    let sentence = match e {
        Effect::Measured { deeper, .. } => match (Verdict::of(deeper.as_ref(), min), deeper) {
            (Verdict::TooFew, _) | (_, None) => page.tf("report.finding.effect_too_few", &[("min", &min.to_string())]),
            (v, Some(d)) => {
                let key = match v {
                    Verdict::ClearMore => "report.finding.effect_more",
                    Verdict::ClearLess => "report.finding.effect_less",
                    _ => "report.finding.effect_unclear",
                };
                page.tf(
                    key,
                    &[
                        ("diff", &points(d.estimate)),
                        ("abs", &format!("{:.1}", d.estimate.abs() * 100.0)),
                        ("low", &points(d.low)),
                        ("high", &points(d.high)),
                    ],
                )
            }
        },
        Effect::NeedsData { needs_until, .. } => {
            page.tf("report.finding.effect_needs_data", &[("until", &page.date(needs_until))])
        }
        Effect::NotContacted => page.t("report.finding.effect_not_contacted"),
        Effect::NoHoldout => page.t("report.finding.effect_no_holdout"),
    };
    if effects.len() > 1 { format!("{study}: {sentence}") } else { sentence }
}

/// The two most mentioned reasons of each tier shown (and of tiers counted
/// together), with the share of the group's interviews.
pub fn top_reasons(page: &Page, by_tier: &CodesByTier, label: &dyn Fn(&str) -> String) -> Vec<TierReasons> {
    by_tier
        .groups()
        .into_iter()
        .filter(|g| g.top().is_some())
        .map(|g| TierReasons {
            tier: group_name(page, &g),
            class: group_class(&g),
            interviews: g.interviews,
            reasons: g
                .reasons
                .iter()
                .take(2)
                .map(|(k, n)| format!("{} ({})", label(k), i18n::percent(f64::from(*n) / f64::from(g.interviews))))
                .collect(),
        })
        .collect()
}

fn legend_of(series: &[Series]) -> String {
    charts::legend(&series.iter().map(|s| (s.name.clone(), s.class.clone())).collect::<Vec<_>>())
}

/// The tier mix of each department shown, as 100% stacked rows.
pub fn departments_chart(page: &Page, departments: &[(String, Summary)]) -> ReportChart {
    if departments.is_empty() {
        return ReportChart::default();
    }
    let labels: Vec<String> = departments.iter().map(|(l, _)| l.clone()).collect();
    let series: Vec<Series> = Tier::ALL
        .iter()
        .map(|t| Series {
            name: tier_name(page, *t),
            class: format!("tier-{}", t.as_str()),
            values: departments
                .iter()
                .map(|(_, s)| Some(f64::from(s.tier_counts.get(t).copied().unwrap_or(0))))
                .collect(),
        })
        .filter(|s| s.values.iter().any(|v| v.is_some_and(|v| v > 0.0)))
        .collect();
    let text = ChartText {
        title: page.t("report.chart.departments.title"),
        desc: page.t("report.chart.departments.desc"),
        x_label: page.t("chart.share"),
        y_label: String::new(),
        empty: page.t("firstrun.chart_empty"),
    };
    ReportChart { svg: charts::stacked_rows(&text, &labels, &series, true), legend: legend_of(&series) }
}

/// How many interviews mentioned each reason, split by the tiers shown.
pub fn reasons_chart(page: &Page, by_tier: &CodesByTier, label: &dyn Fn(&str) -> String) -> ReportChart {
    let ranked = by_tier.ranked();
    if ranked.is_empty() {
        return ReportChart::default();
    }
    let groups = by_tier.groups();
    let labels: Vec<String> = ranked.iter().map(|(k, _)| label(k)).collect();
    let series: Vec<Series> = groups
        .iter()
        .map(|g| Series {
            name: format!("{} (n = {})", group_name(page, g), g.interviews),
            class: group_class(g),
            values: ranked
                .iter()
                .map(|(k, _)| Some(f64::from(g.reasons.iter().find(|(r, _)| r == k).map_or(0, |(_, n)| *n))))
                .collect(),
        })
        .collect();
    let text = ChartText {
        title: page.t("report.chart.reasons.title"),
        desc: page.t("report.chart.reasons.desc"),
        x_label: page.t("report.chart.reasons.x"),
        y_label: String::new(),
        empty: page.t("firstrun.chart_empty"),
    };
    ReportChart { svg: charts::stacked_rows(&text, &labels, &series, false), legend: legend_of(&series) }
}

/// The difference in moving deeper, contacted minus holdout, with its 95%
/// interval, for each study whose groups are large enough to tell.
pub fn effect_chart(page: &Page, effects: &[(String, Effect)], min: u32) -> ReportChart {
    let rows: Vec<Estimate> = effects
        .iter()
        .filter_map(|(study, e)| match e {
            Effect::Measured { deeper: Some(d), .. } if Verdict::of(Some(d), min) != Verdict::TooFew => {
                Some(Estimate { label: study.clone(), value: d.estimate, low: d.low, high: d.high })
            }
            _ => None,
        })
        .collect();
    if rows.is_empty() {
        return ReportChart::default();
    }
    let text = ChartText {
        title: page.t("report.chart.effect.title"),
        desc: page.t("report.chart.effect.desc"),
        x_label: page.t("report.chart.effect.x"),
        y_label: String::new(),
        empty: page.t("firstrun.chart_empty"),
    };
    ReportChart { svg: charts::intervals(&text, &rows, &|v| format!("{:+.0}", v * 100.0)), legend: String::new() }
}

/// What the numbers cover: their date and the people in them. Under the
/// floor a manager reads no head count.
pub fn coverage_line(page: &Page, as_of: NaiveDate, people: Option<u32>, floor: u32) -> String {
    let people = match people {
        Some(n) => page.tf("report.footer.people", &[("n", &i18n::integer(i64::from(n)))]),
        None => page.tf("report.footer.fewer", &[("n", &floor.to_string())]),
    };
    page.tf("report.meta", &[("date", &page.date(&as_of)), ("people", &people)])
}

/// The line on every printed page: the report's title and what its
/// numbers cover.
pub fn footer(page: &Page, title: &str, as_of: NaiveDate, people: Option<u32>, floor: u32) -> String {
    page.tf("report.footer", &[("title", title), ("meta", &coverage_line(page, as_of, people, floor))])
}

/// A CSS string literal: quotes, backslashes and anything else that is
/// neither a letter, a digit nor a space are escaped, so that a study's
/// title cannot end the rule.
pub fn css_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_alphanumeric() || c == ' ' || (!c.is_ascii() && !c.is_control()) {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", c as u32));
        }
    }
    out.push('"');
    out
}

/// The minimum group for an effect's verdict: ten, or a manager's floor.
pub fn effect_min(floor: Option<u32>) -> u32 {
    effect::MIN_GROUP.max(floor.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::effect::{Difference, Outcome, Proportion};
    use crate::domain::evaluation::Coverage;
    use crate::domain::report::{CodedInterview, codes_by_tier};
    use crate::web::i18n::Lang;

    fn page(lang: Lang) -> Page {
        Page { lang, csrf: String::new(), account: None, active: "", title: String::new() }
    }

    fn dept(base: u32, logged_in: u32, deep: u32) -> Summary {
        Summary {
            listed: base,
            tier_counts: Default::default(),
            base,
            logged_in,
            deep,
            indicators: Vec::new(),
            coverage: Coverage { unmeasurable: Default::default(), logged_in_measurable: logged_in },
        }
    }

    #[test]
    fn the_gap_finding_names_the_widest_department_large_enough() {
        let p = page(Lang::En);
        let other = p.t("dashboard.other_groups");
        let departments = vec![
            ("Sales".to_string(), dept(20, 18, 10)),
            ("Ops".to_string(), dept(40, 36, 8)),
            ("Tiny".to_string(), dept(4, 4, 0)),
            (other, dept(50, 50, 0)),
        ];
        assert_eq!(
            gap_finding(&p, &departments, 10),
            "Ops has the widest gap: 90% of its people log in, but only 20% use the tool deeply (70 points, n = 40)."
        );
        assert!(gap_finding(&p, &departments, 100).starts_with("No department has at least 100 people"));
        let zh = gap_finding(&page(Lang::ZhCn), &departments[..3], 10);
        assert!(zh.starts_with("Ops的差距最大"), "{zh}");
    }

    #[test]
    fn the_silent_finding_reads_the_silent_tier_or_its_merged_group() {
        let iv = |tier, codes: &[&str]| CodedInterview { tier, codes: codes.iter().map(|c| c.to_string()).collect() };
        let coded = vec![
            iv(Tier::Silent, &["check_in_only"]),
            iv(Tier::Silent, &["check_in_only", "other_channel"]),
            iv(Tier::Shallow, &["learning_cost"]),
        ];
        let label = |k: &str| k.replace('_', " ");
        let p = page(Lang::En);
        assert_eq!(
            silent_finding(&p, &codes_by_tier(&coded, None), &label, None),
            "Among silent people interviewed (n = 2), the top reason is “check in only” (2 of 2, 100%)."
        );
        assert_eq!(
            silent_finding(&p, &codes_by_tier(&coded, Some(3)), &label, Some(3)),
            "Among Shallow, Silent together (n = 3), the top reason is “check in only” (2 of 3, 66.7%)."
        );
        assert!(
            silent_finding(&p, &codes_by_tier(&coded, Some(5)), &label, Some(5)).starts_with("3 interviews were coded")
        );
        assert!(silent_finding(&p, &codes_by_tier(&coded[2..], None), &label, None).starts_with("No silent person"));
        let top = top_reasons(&p, &codes_by_tier(&coded, None), &label);
        assert_eq!(top.iter().map(|t| t.tier.as_str()).collect::<Vec<_>>(), ["Shallow", "Silent"]);
        assert_eq!(top[1].reasons, ["check in only (100%)", "other channel (50%)"]);
    }

    #[test]
    fn the_outreach_finding_says_the_clearest_verdict_or_why_there_is_none() {
        let p = page(Lang::En);
        let day = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let outcome = |people, deeper| Outcome { people, deeper, mean_interactive_days: None };
        let measured = |x1, n1, x2, n2| Effect::Measured {
            first_contact: day,
            contacted: outcome(n1, x1),
            holdout: outcome(n2, x2),
            deeper: Some(Difference::newcombe(
                Proportion::wilson(x1, n1).unwrap(),
                Proportion::wilson(x2, n2).unwrap(),
            )),
        };
        let clear = vec![("A".to_string(), Effect::NoHoldout), ("B".to_string(), measured(60, 100, 20, 100))];
        let said = outreach_finding(&p, &clear, 10);
        assert!(
            said.starts_with("B: Outreach worked: contacted people moved to a deeper tier 40.0 points more often"),
            "{said}"
        );
        let few = vec![("A".to_string(), measured(3, 5, 1, 5))];
        assert_eq!(
            outreach_finding(&p, &few, 10),
            "Too few people to tell whether outreach moved anyone deeper: each group needs at least 10."
        );
        let unclear = vec![("A".to_string(), measured(30, 100, 28, 100))];
        assert!(outreach_finding(&p, &unclear, 10).starts_with("No clear effect of outreach: +2.0 points"));
        assert!(outreach_finding(&p, &[("A".to_string(), Effect::NoHoldout)], 10).contains("no round set a holdout"));
        assert!(outreach_finding(&p, &[], 10).starts_with("No study yet"));
        assert!(!effect_chart(&p, &clear, 10).svg.is_empty() && effect_chart(&p, &few, 10).svg.is_empty());
    }

    #[test]
    fn the_footer_gives_the_date_and_the_people_or_only_the_floor() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 29).unwrap();
        assert_eq!(footer(&page(Lang::En), "Q2", d, Some(1500), 5), "Q2 · Numbers as of 29 May 2026 · 1,500 people");
        assert_eq!(footer(&page(Lang::En), "Q2", d, None, 5), "Q2 · Numbers as of 29 May 2026 · fewer than 5 people");
        assert_eq!(footer(&page(Lang::ZhCn), "Q2", d, Some(3), 5), "Q2 · 数据截至 2026年5月29日 · 3 人");
    }

    #[test]
    fn css_strings_cannot_break_out() {
        assert_eq!(css_string("Q4 study"), "\"Q4 study\"");
        assert_eq!(css_string("a\"; } body { x"), "\"a\\22 \\3b  \\7d  body \\7b  x\"");
        assert_eq!(css_string("研究 · 2026"), "\"研究 · 2026\"");
        assert_eq!(css_string("x\\y\n</style>"), "\"x\\5c y\\a \\3c \\2f style\\3e \"");
    }
}
