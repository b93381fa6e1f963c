//! Free-text survey answers and who may read them. The research team reads
//! every answer with the tier and department at answer time. A manager
//! reads, like interview quotes, only the answers a researcher cleared,
//! anonymised (the tier, never the department) and only from tiers the
//! privacy floor shows on their own in the survey's results
//! ([`super::survey::tier_groups`] under [`super::privacy::plan`]): a cleared
//! answer from a smaller group points at a person, so it is held back and
//! counted. Pure: the caller gathers responses and clearings.

use std::collections::HashSet;

use super::privacy::plan;
use super::survey::{Answer, Kind, Question, tier_groups};
use super::tier::Tier;

/// One stored response, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub id: i64,
    pub tier: Option<Tier>,
    pub department: Option<String>,
    pub answers: Vec<Option<Answer>>,
}

/// A free-text answer as a reader may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextAnswer {
    pub response_id: i64,
    /// The question's index in the survey.
    pub question: usize,
    pub text: String,
    /// None: the anonymous link.
    pub tier: Option<Tier>,
    /// Only for the research team.
    pub department: Option<String>,
    pub cleared: bool,
}

/// The free-text answers a reader sees, and how many cleared ones the floor
/// keeps from them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextAnswers {
    /// In question order, then response order.
    pub shown: Vec<TextAnswer>,
    /// Cleared answers from tiers not shown on their own (managers only).
    pub withheld: u32,
}

/// The text answers of `responses` to the survey's text questions.
/// `cleared`: (response id, question index) of the answers cleared for
/// managers. `manager_floor`: None for the research team (everything, with
/// departments); Some(floor) for a manager.
pub fn text_answers(
    questions: &[Question],
    responses: &[Response],
    cleared: &HashSet<(i64, usize)>,
    manager_floor: Option<u32>,
) -> TextAnswers {
    let alone: Option<Vec<Option<Tier>>> = manager_floor.map(|floor| {
        let groups = tier_groups(responses.iter().map(|r| r.tier));
        plan(groups, Some(floor)).alone
    });
    let mut out = TextAnswers::default();
    for (index, q) in questions.iter().enumerate() {
        if q.kind != Kind::Text {
            continue;
        }
        for r in responses {
            let Some(Answer::Text(text)) = r.answers.get(index).and_then(Option::as_ref) else { continue };
            if text.trim().is_empty() {
                continue;
            }
            let is_cleared = cleared.contains(&(r.id, index));
            let department = match &alone {
                None => r.department.clone(),
                Some(alone) => {
                    if !is_cleared {
                        continue;
                    }
                    if !alone.contains(&r.tier) {
                        out.withheld += 1;
                        continue;
                    }
                    None
                }
            };
            out.shown.push(TextAnswer {
                response_id: r.id,
                question: index,
                text: text.clone(),
                tier: r.tier,
                department,
                cleared: is_cleared,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::survey::{parse_definition, results_by_tier};

    fn response(id: i64, tier: Option<Tier>, text: Option<&str>) -> Response {
        Response {
            id,
            tier,
            department: Some("Sales".into()),
            answers: vec![Some(Answer::Scale(3)), text.map(|t| Answer::Text(t.into()))],
        }
    }

    fn sample() -> (Vec<Question>, Vec<Response>) {
        let q = parse_definition("likert Useful?\ntext Anything else?\n").unwrap();
        let mut r: Vec<Response> = (0..5).map(|i| response(i, Some(Tier::Deep), Some(&format!("deep {i}")))).collect();
        r.push(response(10, Some(Tier::Silent), Some("silent one")));
        r.push(response(11, Some(Tier::Silent), None));
        r.push(response(12, None, Some("open one")));
        (q, r)
    }

    #[test]
    fn the_research_team_reads_every_answer_with_its_department() {
        let (q, r) = sample();
        let t = text_answers(&q, &r, &HashSet::new(), None);
        assert_eq!(t.shown.len(), 7);
        assert_eq!(t.withheld, 0);
        assert!(t.shown.iter().all(|a| a.question == 1 && a.department.as_deref() == Some("Sales") && !a.cleared));
        assert_eq!(t.shown[5].text, "silent one");
        assert_eq!(t.shown[5].tier, Some(Tier::Silent));
    }

    #[test]
    fn managers_read_cleared_answers_from_tiers_shown_alone_without_department() {
        let (q, r) = sample();
        let cleared: HashSet<(i64, usize)> = [(0, 1), (1, 1), (10, 1), (12, 1), (2, 0)].into_iter().collect();
        // Floor 3: silent (2) and anonymous (1) are merged; deep (5) alone.
        let t = text_answers(&q, &r, &cleared, Some(3));
        let texts: Vec<&str> = t.shown.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["deep 0", "deep 1"], "uncleared answers never reach managers");
        assert!(t.shown.iter().all(|a| a.department.is_none() && a.cleared));
        assert_eq!(t.withheld, 2, "cleared, but from groups below the floor");
        // The same groups as the results' tables: what is alone there is alone here.
        let results = results_by_tier(&q, &r.iter().map(|x| (x.tier, x.answers.clone())).collect::<Vec<_>>(), Some(3));
        assert_eq!(results[1].by_tier.iter().map(|x| x.tier).collect::<Vec<_>>(), vec![Some(Tier::Deep)]);
        // Floor 9: all 8 together are below it; nothing is shown.
        let t = text_answers(&q, &r, &cleared, Some(9));
        assert!(t.shown.is_empty());
        assert_eq!(t.withheld, 4);
        // Floor 1: every cleared answer, still without its department.
        let t = text_answers(&q, &r, &cleared, Some(1));
        assert_eq!(t.shown.len(), 4);
        assert!(t.shown.iter().all(|a| a.department.is_none()));
    }
}
