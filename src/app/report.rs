//! What a report gathers about its studies: the codebooks, the coded
//! interviews by tier, the quotes and the surveys. The arithmetic over them
//! is in `domain::report`; the page, its CSV and JSON in the web handler.

use anyhow::{Context, Result};
use chrono_tz::Tz;

use super::evaluate::Computed;
use crate::domain::effect::Effect;
use crate::domain::report::{CodedInterview, ReportQuote};
use crate::domain::tier::Tier;
use crate::storage::Db;
use crate::storage::interviews::{self, Code};
use crate::storage::studies::Study;
use crate::storage::surveys::{self, Survey};

/// The evidence of a set of studies.
#[derive(Default)]
pub struct Evidence {
    pub codes: Vec<Code>,
    pub coded: Vec<CodedInterview>,
    pub quotes: Vec<ReportQuote>,
    pub surveys: Vec<Survey>,
}

/// Gathers the evidence of `scope`'s studies.
pub async fn evidence(db: &Db, scope: &[Study]) -> Result<Evidence> {
    let mut out = Evidence::default();
    for study in scope {
        let of = || format!("the evidence of study {}", study.id);
        out.codes.extend(interviews::codes(db, study.id).await.with_context(of)?);
        out.coded.extend(
            interviews::coded_for_study(db, study.id)
                .await
                .with_context(of)?
                .into_iter()
                .filter_map(|(t, codes)| Some(CodedInterview { tier: Tier::parse(&t)?, codes })),
        );
        out.quotes.extend(interviews::quotes_for_study(db, study.id).await.with_context(of)?.into_iter().filter_map(
            |(text, tier, code, shareable)| {
                Some(ReportQuote { text, tier: Tier::parse(&tier)?, code, shareable: shareable != 0 })
            },
        ));
        out.surveys.extend(surveys::for_study(db, study.id).await.with_context(of)?);
    }
    Ok(out)
}

/// Each study's outreach effect, with its title: the contacted against the
/// study's holdout, on the figures of `now`.
pub async fn effects(db: &Db, scope: &[Study], now: &Computed, tz: Tz) -> Result<Vec<(String, Effect)>> {
    let mut measured = Vec::new();
    for study in scope {
        let effect = super::effect::of_study(db, study.id, now, tz)
            .await
            .with_context(|| format!("the outreach effect of study {}", study.id))?;
        measured.push((study.title.clone(), effect));
    }
    Ok(measured)
}
