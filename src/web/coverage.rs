//! How coverage reads on the pages: the people whose depth the data can
//! measure, those it cannot and from which source, and how to get better
//! data (issue 12). Every page that shows a deep rate says this next to it.

use std::collections::BTreeSet;

use crate::domain::decimal::Ratio;
use crate::domain::evaluation::Summary;
use crate::web::i18n;
use crate::web::page::Page;

/// The coverage note of a group: a sentence, then advice per source.
pub struct CoverageNote {
    pub sentence: String,
    pub advice: Vec<String>,
}

fn share(r: Option<Ratio>) -> String {
    r.map(|r| i18n::percent(r.to_f64())).unwrap_or_else(|| "–".into())
}

/// "1,380 people from Teams period reports (no day counts)", joined.
pub fn unmeasurable_parts(page: &Page, s: &Summary) -> String {
    s.coverage
        .unmeasurable
        .iter()
        .map(|(gap, n)| page.tf(&format!("coverage.from.{}", gap.key()), &[("n", &i18n::integer(i64::from(*n)))]))
        .collect::<Vec<_>>()
        .join(&page.t("coverage.separator"))
}

/// `None` when everyone's depth is measurable (raw events, daily sources
/// with enough families): the pages then read as before.
pub fn note(page: &Page, s: &Summary) -> Option<CoverageNote> {
    if !s.partial_coverage() {
        return None;
    }
    let parts = unmeasurable_parts(page, s);
    let measurable = s.measurable_base();
    let sentence = if measurable == 0 {
        page.tf("coverage.none", &[("n", &i18n::integer(i64::from(s.base))), ("parts", &parts)])
    } else {
        page.tf(
            "coverage.partial",
            &[
                ("measurable", &i18n::integer(i64::from(measurable))),
                ("parts", &parts),
                ("login", &share(s.measurable_login_rate())),
            ],
        )
    };
    let sources: BTreeSet<_> = s.coverage.unmeasurable.keys().map(|g| g.source).collect();
    let advice = sources.into_iter().map(|source| page.t(&format!("coverage.advice.{}", source.as_str()))).collect();
    Some(CoverageNote { sentence, advice })
}
