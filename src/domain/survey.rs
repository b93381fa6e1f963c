//! Pulse surveys: a short bilingual questionnaire (English / Simplified
//! Chinese) written as text, the answers read from a form, and the results
//! summed up by tier.
//!
//! Pure: no I/O, no clock. Free-text answers are never part of the results
//! (only whether the question was answered); who may read them is
//! [`crate::domain::survey_text`]'s.

use serde::{Serialize, Serializer};

use super::privacy::plan;
use super::tier::Tier;

/// At most this many questions in one survey.
pub const MAX_QUESTIONS: usize = 30;
/// At most this many characters in a free-text answer (after trimming).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Below this many answers an NPS swings by tens of points with one
/// person, and the results say so.
pub const NPS_MIN_ANSWERS: u32 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// 1..=5.
    Likert,
    /// One option.
    Single,
    /// Any number of options.
    Multiple,
    /// Likelihood to recommend, 0..=10.
    Nps,
    /// Free text.
    Text,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Likert, Kind::Single, Kind::Multiple, Kind::Nps, Kind::Text];

    /// The keyword of the text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Likert => "likert",
            Kind::Single => "single",
            Kind::Multiple => "multiple",
            Kind::Nps => "nps",
            Kind::Text => "text",
        }
    }

    /// The keyword of the text form, case-insensitive.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether the question has options (Single, Multiple).
    pub fn is_choice(self) -> bool {
        matches!(self, Kind::Single | Kind::Multiple)
    }

    /// The valid range of a scale answer (Likert, Nps).
    pub fn scale(self) -> Option<(u8, u8)> {
        match self {
            Kind::Likert => Some((1, 5)),
            Kind::Nps => Some((0, 10)),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Question {
    pub kind: Kind,
    pub required: bool,
    pub prompt_en: String,
    pub prompt_zh: String,
    /// (en, zh); only for Single/Multiple.
    pub options: Vec<(String, String)>,
}

/// Splits `en | zh`; the Chinese text falls back to the English one.
fn bilingual(s: &str) -> (String, String) {
    let (en, zh) = match s.split_once('|') {
        Some((en, zh)) => (en.trim(), zh.trim()),
        None => (s.trim(), ""),
    };
    let zh = if zh.is_empty() { en } else { zh };
    (en.to_string(), zh.to_string())
}

fn check_options(q: &Question, line: usize) -> Result<(), (usize, String)> {
    if q.kind.is_choice() && q.options.len() < 2 {
        return Err((line, format!("a {} question needs at least 2 options", q.kind.as_str())));
    }
    Ok(())
}

/// Reads a survey written as text, one question per block:
///
/// ```text
/// likert* How useful is the tool for your daily work? | 这个工具对您的日常工作有多大帮助？
/// single Which channel do you use most? | 您最常用哪个渠道？
/// - Phone | 电话
/// - E-mail | 邮件
/// nps* How likely are you to recommend it to a colleague? | 您向同事推荐它的可能性有多大？
/// text Anything else? | 还有什么想说的？
/// ```
///
/// A `*` right after the kind (case-insensitive) marks the question
/// required. The Chinese text after the first `|` is optional and falls back
/// to the English one, for prompts and options alike. Blank lines and lines
/// starting with `#` are ignored.
///
/// Errors: (1-based line number, message). A choice question with too few
/// options is reported at its own line; an empty survey at line 1.
pub fn parse_definition(text: &str) -> Result<Vec<Question>, (usize, String)> {
    let mut questions: Vec<Question> = Vec::new();
    let mut current_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('-') {
            let Some(q) = questions.last_mut() else {
                return Err((line_no, "an option before any question".to_string()));
            };
            if !q.kind.is_choice() {
                return Err((line_no, format!("an option under a {} question", q.kind.as_str())));
            }
            let option = bilingual(rest);
            if option.0.is_empty() {
                return Err((line_no, "an empty option".to_string()));
            }
            if q.options.iter().any(|o| o.0 == option.0) {
                return Err((line_no, format!("a duplicate option: {}", option.0)));
            }
            q.options.push(option);
            continue;
        }
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let (name, required) = match word.strip_suffix('*') {
            Some(name) => (name, true),
            None => (word, false),
        };
        let Some(kind) = Kind::parse(name) else {
            return Err((line_no, format!("unknown question kind: {word}")));
        };
        if let Some(previous) = questions.last() {
            check_options(previous, current_line)?;
        }
        if questions.len() == MAX_QUESTIONS {
            return Err((line_no, format!("more than {MAX_QUESTIONS} questions")));
        }
        let (prompt_en, prompt_zh) = bilingual(rest);
        if prompt_en.is_empty() {
            return Err((line_no, "an empty prompt".to_string()));
        }
        questions.push(Question { kind, required, prompt_en, prompt_zh, options: Vec::new() });
        current_line = line_no;
    }
    match questions.last() {
        None => Err((1, "an empty survey".to_string())),
        Some(last) => {
            check_options(last, current_line)?;
            Ok(questions)
        }
    }
}

fn push_bilingual(out: &mut String, en: &str, zh: &str) {
    out.push_str(en);
    if zh != en {
        out.push_str(" | ");
        out.push_str(zh);
    }
}

/// The text form again: `parse_definition(&to_text(q)) == Ok(q)` for any
/// valid survey whose texts are trimmed, single-line and free of `|`. The
/// Chinese text is left out when it equals the English one; options are
/// written only for Single/Multiple. Questions are separated by a blank line.
pub fn to_text(questions: &[Question]) -> String {
    let mut out = String::new();
    for (i, q) in questions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(q.kind.as_str());
        if q.required {
            out.push('*');
        }
        out.push(' ');
        push_bilingual(&mut out, &q.prompt_en, &q.prompt_zh);
        out.push('\n');
        if q.kind.is_choice() {
            for (en, zh) in &q.options {
                out.push_str("- ");
                push_bilingual(&mut out, en, zh);
                out.push('\n');
            }
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Answer {
    /// Likert and Nps.
    Scale(u8),
    /// Single: the option index.
    Choice(usize),
    /// Multiple: the option indexes, ascending, without repeats.
    Choices(Vec<usize>),
    /// Text: trimmed, not empty.
    Text(String),
}

/// One question's answer from its (trimmed, non-empty) field values:
/// Ok(None) when there is none, Err when it is invalid.
fn read_answer(q: &Question, values: &[&str]) -> Result<Option<Answer>, ()> {
    if values.is_empty() {
        return Ok(None);
    }
    let index = |v: &str| v.parse::<usize>().ok().filter(|&i| i < q.options.len()).ok_or(());
    match q.kind {
        Kind::Multiple => {
            let mut picked = values.iter().map(|v| index(v)).collect::<Result<Vec<_>, _>>()?;
            picked.sort_unstable();
            picked.dedup();
            Ok(Some(Answer::Choices(picked)))
        }
        // One value only for the other kinds.
        _ if values.len() > 1 => Err(()),
        Kind::Single => Ok(Some(Answer::Choice(index(values[0])?))),
        Kind::Likert | Kind::Nps => {
            let (lo, hi) = q.kind.scale().unwrap_or((0, 0));
            let n = values[0].parse::<u8>().map_err(|_| ())?;
            if (lo..=hi).contains(&n) { Ok(Some(Answer::Scale(n))) } else { Err(()) }
        }
        Kind::Text => {
            if values[0].chars().count() > MAX_TEXT_CHARS {
                return Err(());
            }
            Ok(Some(Answer::Text(values[0].to_string())))
        }
    }
}

/// Reads a response from form fields named `q0`, `q1`, ... (Multiple: the
/// same name repeated, the values option indexes; Likert/Nps: the number;
/// Single: the option index; Text: the text, trimmed, at most
/// [`MAX_TEXT_CHARS`] characters). Values are trimmed and empty ones ignored;
/// other field names are ignored. Missing optional answers are None.
///
/// Err: the indexes, ascending, of every question with a missing required or
/// an invalid answer (out of range, not a number, unknown option, too long a
/// text, or a repeated field for a one-value question).
pub fn parse_answers(questions: &[Question], fields: &[(String, String)]) -> Result<Vec<Option<Answer>>, Vec<usize>> {
    let mut answers = Vec::with_capacity(questions.len());
    let mut bad = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let name = format!("q{i}");
        let values: Vec<&str> =
            fields.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect();
        match read_answer(q, &values) {
            Ok(None) if q.required => bad.push(i),
            Ok(answer) => answers.push(answer),
            Err(()) => bad.push(i),
        }
    }
    if bad.is_empty() { Ok(answers) } else { Err(bad) }
}

fn serialize_tier<S: Serializer>(tier: &Option<Tier>, s: S) -> Result<S::Ok, S::Error> {
    tier.map(Tier::as_str).serialize(s)
}

fn serialize_tiers<S: Serializer>(tiers: &[Option<Tier>], s: S) -> Result<S::Ok, S::Error> {
    tiers.iter().map(|t| t.map(Tier::as_str)).collect::<Vec<_>>().serialize(s)
}

/// The results of one question for one tier (None: anonymous respondents).
/// Tiers serialize as their `as_str()` name, anonymous as null.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TierResult {
    #[serde(serialize_with = "serialize_tier")]
    pub tier: Option<Tier>,
    /// Responses from this tier.
    pub respondents: u32,
    /// Those of them that answered this question (validly for its kind).
    pub answered: u32,
    /// Likert/Nps with at least one answer.
    pub mean: Option<f64>,
    /// Nps with at least one answer: % promoters (9-10) minus % detractors
    /// (0-6), -100..=100.
    pub nps: Option<f64>,
    /// Single/Multiple: per option, how many picked it; empty otherwise.
    pub option_counts: Vec<u32>,
    /// The distribution of a scale: Likert, how many answered 1, 2, ... 5;
    /// Nps, how many detractors (0-6), passives (7-8) and promoters (9-10);
    /// empty otherwise.
    pub scale_counts: Vec<u32>,
}

impl TierResult {
    /// Whether an NPS rests on too few answers to be read as a score.
    pub fn nps_caution(&self) -> bool {
        self.nps.is_some() && self.answered < NPS_MIN_ANSWERS
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct QuestionResult {
    pub index: usize,
    /// Tier order, None last; only groups with at least one response.
    pub by_tier: Vec<TierResult>,
    /// Groups not shown on their own under the floor (merged or left out),
    /// in tier order, anonymous last.
    #[serde(serialize_with = "serialize_tiers")]
    pub hidden: Vec<Option<Tier>>,
    /// Groups too small on their own, counted together when together they
    /// reach the floor.
    pub merged: Option<MergedResult>,
}

/// Several tiers' results counted together under the privacy floor.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MergedResult {
    #[serde(serialize_with = "serialize_tiers")]
    pub tiers: Vec<Option<Tier>>,
    /// `tier` is None here: the group is `tiers`.
    pub result: TierResult,
}

/// The answer to `q` if it fits the question's kind (otherwise it is not
/// counted).
fn valid_answer<'a>(q: &Question, answer: Option<&'a Answer>) -> Option<&'a Answer> {
    let ok = match (q.kind, answer?) {
        (Kind::Likert | Kind::Nps, Answer::Scale(n)) => q.kind.scale().is_some_and(|(lo, hi)| (lo..=hi).contains(n)),
        (Kind::Single, Answer::Choice(i)) => *i < q.options.len(),
        (Kind::Multiple, Answer::Choices(v)) => !v.is_empty() && v.iter().all(|&i| i < q.options.len()),
        (Kind::Text, Answer::Text(t)) => !t.trim().is_empty(),
        _ => false,
    };
    if ok { answer } else { None }
}

fn tier_result(q: &Question, tier: Option<Tier>, answer_sets: &[&[Option<Answer>]], index: usize) -> TierResult {
    let mut answered = 0u32;
    let mut sum = 0u64;
    let (mut promoters, mut detractors) = (0u32, 0u32);
    let mut option_counts = if q.kind.is_choice() { vec![0u32; q.options.len()] } else { Vec::new() };
    let mut scale_counts = match q.kind {
        Kind::Likert => vec![0u32; 5],
        Kind::Nps => vec![0u32; 3],
        _ => Vec::new(),
    };
    for answers in answer_sets {
        let Some(answer) = valid_answer(q, answers.get(index).and_then(Option::as_ref)) else {
            continue;
        };
        answered += 1;
        match answer {
            Answer::Scale(n) => {
                sum += u64::from(*n);
                if *n >= 9 {
                    promoters += 1;
                } else if *n <= 6 {
                    detractors += 1;
                }
                let slot = match q.kind {
                    Kind::Likert => usize::from(*n).saturating_sub(1),
                    _ if *n >= 9 => 2,
                    _ if *n >= 7 => 1,
                    _ => 0,
                };
                if let Some(c) = scale_counts.get_mut(slot) {
                    *c += 1;
                }
            }
            Answer::Choice(i) => option_counts[*i] += 1,
            Answer::Choices(v) => {
                let mut seen = vec![false; option_counts.len()];
                for &i in v {
                    if !seen[i] {
                        seen[i] = true;
                        option_counts[i] += 1;
                    }
                }
            }
            Answer::Text(_) => {}
        }
    }
    let scale = q.kind.scale().is_some() && answered > 0;
    let mean = scale.then(|| sum as f64 / f64::from(answered));
    let nps = (q.kind == Kind::Nps && answered > 0)
        .then(|| (f64::from(promoters) - f64::from(detractors)) * 100.0 / f64::from(answered));
    TierResult { tier, respondents: answer_sets.len() as u32, answered, mean, nps, option_counts, scale_counts }
}

/// A tier (None: anonymous) and the answer lists of its responses.
type Group<'a> = (Option<Tier>, Vec<&'a [Option<Answer>]>);

/// The groups of a survey's responses by tier at answer time, as the
/// privacy floor plans them: (tier, responses) in tier order, anonymous
/// (None) last, groups without a response left out. The results and the
/// free-text answers plan the same groups, so that both pages agree on
/// which tiers a manager reads on their own.
pub fn tier_groups(tiers: impl IntoIterator<Item = Option<Tier>>) -> Vec<(Option<Tier>, u32)> {
    let tiers: Vec<Option<Tier>> = tiers.into_iter().collect();
    Tier::ALL
        .into_iter()
        .map(Some)
        .chain([None])
        .map(|tier| (tier, tiers.iter().filter(|t| **t == tier).count() as u32))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Results of each question by tier. `responses`: (tier at answer time,
/// answers in question order; a short list counts as unanswered for the
/// rest). `respondents` of a tier = its responses; `answered` = those with a
/// valid answer to the question (answers that do not fit the question's kind
/// or options are ignored). Groups with no response are left out. With a
/// `floor`, groups follow the privacy floor's one rule
/// ([`crate::domain::privacy::plan`]): those too small are counted together
/// in `merged` (with the smallest shown group if need be, so that the
/// number of responses minus the shown groups gives nothing away) or not at
/// all, and are listed in `hidden`. Anonymous respondents (no tier) form the
/// group None, last.
pub fn results_by_tier(
    questions: &[Question],
    responses: &[(Option<Tier>, Vec<Option<Answer>>)],
    floor: Option<u32>,
) -> Vec<QuestionResult> {
    let groups: Vec<Group<'_>> = Tier::ALL
        .into_iter()
        .map(Some)
        .chain([None])
        .map(|tier| (tier, responses.iter().filter(|(t, _)| *t == tier).map(|(_, a)| a.as_slice()).collect()))
        .filter(|(_, sets): &(_, Vec<_>)| !sets.is_empty())
        .collect();
    let sizes = tier_groups(responses.iter().map(|(t, _)| *t));
    debug_assert!(sizes.iter().zip(&groups).all(|((a, n), (b, sets))| a == b && *n as usize == sets.len()));
    let p = plan(sizes.iter().enumerate().map(|(i, (_, n))| (i, *n)), floor);
    let mut hidden_at: Vec<usize> = p.merged.iter().chain(&p.suppressed).copied().collect();
    hidden_at.sort();
    let hidden: Vec<Option<Tier>> = hidden_at.iter().map(|&i| groups[i].0).collect();
    let mut merged_at = p.merged.clone();
    merged_at.sort();
    let merged_sets: Vec<&[Option<Answer>]> = merged_at.iter().flat_map(|&i| groups[i].1.iter().copied()).collect();
    questions
        .iter()
        .enumerate()
        .map(|(index, q)| QuestionResult {
            index,
            by_tier: p.alone.iter().map(|&i| tier_result(q, groups[i].0, &groups[i].1, index)).collect(),
            hidden: hidden.clone(),
            merged: (!merged_at.is_empty()).then(|| MergedResult {
                tiers: merged_at.iter().map(|&i| groups[i].0).collect(),
                result: tier_result(q, None, &merged_sets, index),
            }),
        })
        .collect()
}

/// Response rate by tier from (tier, responded) per invitee: (tier, invited,
/// responded) in Tier order, for the tiers with at least one invitee.
pub fn response_rates(invited: &[(Tier, bool)]) -> Vec<(Tier, u32, u32)> {
    Tier::ALL
        .into_iter()
        .filter_map(|tier| {
            let (count, responded) = invited
                .iter()
                .filter(|(t, _)| *t == tier)
                .fold((0u32, 0u32), |(c, r), (_, done)| (c + 1, r + u32::from(*done)));
            (count > 0).then_some((tier, count, responded))
        })
        .collect()
}

/// Tiers counted together under the floor: (tiers, invited, responded).
pub type MergedRate = (Vec<Tier>, u32, u32);

/// Response rates under the privacy floor, for managers: a tier with fewer
/// invitees than the floor is counted with the other small ones (and the
/// smallest shown tier if need be), under the one rule
/// ([`crate::domain::privacy::plan`]). Returns the tiers shown alone as
/// [`response_rates`] does, and the merged group (tiers, invited,
/// responded) when there is one; groups too small even together are left
/// out.
pub fn response_rates_under_floor(
    invited: &[(Tier, bool)],
    floor: Option<u32>,
) -> (Vec<(Tier, u32, u32)>, Option<MergedRate>) {
    let rates = response_rates(invited);
    let p = plan(rates.iter().map(|(t, n, _)| (*t, *n)), floor);
    let alone = rates.iter().filter(|(t, _, _)| p.is_alone(t)).copied().collect();
    let mut tiers = p.merged.clone();
    tiers.sort();
    let merged = (!tiers.is_empty()).then(|| {
        let (n, r) =
            rates.iter().filter(|(t, _, _)| tiers.contains(t)).fold((0, 0), |(n, r), (_, tn, tr)| (n + tn, r + tr));
        (tiers, n, r)
    });
    (alone, merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# Pulse survey, spring
likert* How useful is the tool for your daily work? | 这个工具对您的日常工作有多大帮助？

single Which channel do you use most? | 您最常用哪个渠道？
- Phone | 电话
- E-mail | 邮件
  - Chat
multiple Which features do you use?
- Search | 搜索
- Files | 文件
nps* How likely are you to recommend it to a colleague? | 您向同事推荐它的可能性有多大？
text Anything else? | 还有什么想说的？
";

    fn sample() -> Vec<Question> {
        parse_definition(SAMPLE).unwrap()
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (s(n), s(v))).collect()
    }

    fn err(text: &str) -> (usize, String) {
        parse_definition(text).unwrap_err()
    }

    #[test]
    fn parses_each_kind() {
        let q = sample();
        assert_eq!(q.len(), 5);
        assert_eq!(
            q[0],
            Question {
                kind: Kind::Likert,
                required: true,
                prompt_en: s("How useful is the tool for your daily work?"),
                prompt_zh: s("这个工具对您的日常工作有多大帮助？"),
                options: vec![],
            }
        );
        assert_eq!((q[1].kind, q[1].required), (Kind::Single, false));
        assert_eq!(q[1].options, vec![(s("Phone"), s("电话")), (s("E-mail"), s("邮件")), (s("Chat"), s("Chat"))]);
        assert_eq!((q[2].kind, q[2].required), (Kind::Multiple, false));
        // No Chinese prompt: falls back to the English one.
        assert_eq!(q[2].prompt_zh, "Which features do you use?");
        assert_eq!(q[2].options, vec![(s("Search"), s("搜索")), (s("Files"), s("文件"))]);
        assert_eq!((q[3].kind, q[3].required), (Kind::Nps, true));
        assert_eq!(q[3].prompt_zh, "您向同事推荐它的可能性有多大？");
        assert_eq!((q[4].kind, q[4].required), (Kind::Text, false));
        assert_eq!(q[4].prompt_en, "Anything else?");
        assert!(q[4].options.is_empty());
    }

    #[test]
    fn empty_chinese_after_bar_falls_back_and_kind_is_case_insensitive() {
        let q = parse_definition("TEXT* Comments? |   \n").unwrap();
        assert_eq!(q[0].kind, Kind::Text);
        assert!(q[0].required);
        assert_eq!(q[0].prompt_zh, "Comments?");
    }

    #[test]
    fn definition_errors_carry_their_line() {
        assert_eq!(err("likert Fine?\nrating How?\n"), (2, s("unknown question kind: rating")));
        assert_eq!(err("# intro\n- Phone\nsingle Which?\n"), (2, s("an option before any question")));
        assert_eq!(err("\nnps Likely?\n- Yes\n"), (3, s("an option under a nps question")));
        assert_eq!(err("single Which?\n- Phone\ntext Else?\n"), (1, s("a single question needs at least 2 options")));
        assert_eq!(
            err("text Else?\n\nmultiple Which?\n- A\n\n"),
            (3, s("a multiple question needs at least 2 options"))
        );
        assert_eq!(err("text Else?\nlikert* \n"), (2, s("an empty prompt")));
        assert_eq!(err("likert | 只有中文\n"), (1, s("an empty prompt")));
        assert_eq!(err("single Which?\n- A\n- | 空\n"), (3, s("an empty option")));
        assert_eq!(err("single Which?\n- A\n- A | 甲\n"), (3, s("a duplicate option: A")));
        assert_eq!(err(""), (1, s("an empty survey")));
        assert_eq!(err("# only a comment\n\n"), (1, s("an empty survey")));
        let thirty: String = (0..30).map(|i| format!("text Q{i}?\n")).collect();
        assert_eq!(parse_definition(&thirty).unwrap().len(), 30);
        assert_eq!(err(&format!("{thirty}text One too many?\n")), (31, s("more than 30 questions")));
    }

    #[test]
    fn to_text_round_trips() {
        let q = sample();
        let text = to_text(&q);
        assert_eq!(parse_definition(&text), Ok(q));
        assert!(
            text.starts_with(
                "likert* How useful is the tool for your daily work? | 这个工具对您的日常工作有多大帮助？\n"
            )
        );
        assert!(text.contains("\nmultiple Which features do you use?\n- Search | 搜索\n"));
        assert!(text.contains("\n- Chat\n"));
    }

    #[test]
    fn parses_valid_answers() {
        let q = sample();
        let f = fields(&[
            ("q0", " 4 "),
            ("q1", "2"),
            ("q2", "1"),
            ("q2", "0"),
            ("q2", "1"),
            ("q3", "10"),
            ("q4", "  Great tool  "),
            ("csrf", "x"),
        ]);
        assert_eq!(
            parse_answers(&q, &f),
            Ok(vec![
                Some(Answer::Scale(4)),
                Some(Answer::Choice(2)),
                Some(Answer::Choices(vec![0, 1])),
                Some(Answer::Scale(10)),
                Some(Answer::Text(s("Great tool"))),
            ])
        );
    }

    #[test]
    fn missing_optional_answers_are_none() {
        let q = sample();
        let f = fields(&[("q0", "1"), ("q1", ""), ("q2", " "), ("q3", "0"), ("q4", "   ")]);
        assert_eq!(parse_answers(&q, &f), Ok(vec![Some(Answer::Scale(1)), None, None, Some(Answer::Scale(0)), None]));
    }

    #[test]
    fn reports_every_bad_answer() {
        let q = sample();
        // q0 required and missing, q1 unknown option, q2 one bad index, q3 out of range.
        let f = fields(&[("q1", "3"), ("q2", "0"), ("q2", "x"), ("q3", "11"), ("q4", "ok")]);
        assert_eq!(parse_answers(&q, &f), Err(vec![0, 1, 2, 3]));
        let f = fields(&[("q0", "0"), ("q1", "-1"), ("q3", "")]);
        assert_eq!(parse_answers(&q, &f), Err(vec![0, 1, 3]));
        let f = fields(&[("q0", "3.5"), ("q1", "0"), ("q1", "1"), ("q3", "7"), ("q4", &"字".repeat(2001))]);
        assert_eq!(parse_answers(&q, &f), Err(vec![0, 1, 4]));
        let f = fields(&[("q0", "5"), ("q3", "7"), ("q4", &"字".repeat(2000))]);
        assert!(parse_answers(&q, &f).is_ok());
    }

    fn response(
        tier: Option<Tier>,
        likert: Option<u8>,
        single: Option<usize>,
        multi: &[usize],
        nps: Option<u8>,
    ) -> (Option<Tier>, Vec<Option<Answer>>) {
        let multi = (!multi.is_empty()).then(|| Answer::Choices(multi.to_vec()));
        (tier, vec![likert.map(Answer::Scale), single.map(Answer::Choice), multi, nps.map(Answer::Scale), None])
    }

    #[test]
    fn results_by_tier_hand_computed() {
        let q = sample();
        let responses = vec![
            response(Some(Tier::Shallow), Some(2), Some(0), &[0], Some(6)),
            response(Some(Tier::Deep), Some(5), Some(0), &[0, 1], Some(10)),
            response(Some(Tier::Deep), Some(4), Some(1), &[1], Some(9)),
            response(Some(Tier::Deep), Some(4), None, &[], Some(8)),
            response(Some(Tier::Deep), Some(2), Some(0), &[0, 1], Some(6)),
            response(Some(Tier::Deep), Some(1), None, &[0], Some(0)),
            response(None, Some(3), Some(2), &[], None),
        ];
        let r = results_by_tier(&q, &responses, None);
        assert_eq!(r.len(), 5);
        assert!(r.iter().enumerate().all(|(i, qr)| qr.index == i && qr.hidden.is_empty()));
        let tiers: Vec<_> = r[0].by_tier.iter().map(|t| t.tier).collect();
        assert_eq!(tiers, vec![Some(Tier::Deep), Some(Tier::Shallow), None]);

        // Likert, Deep: 5+4+4+2+1 = 16 / 5 = 3.2.
        let deep = &r[0].by_tier[0];
        assert_eq!((deep.respondents, deep.answered), (5, 5));
        assert_eq!(deep.mean, Some(3.2));
        assert_eq!(deep.nps, None);
        assert!(deep.option_counts.is_empty());
        assert_eq!(r[0].by_tier[1].mean, Some(2.0));
        assert_eq!(r[0].by_tier[2].mean, Some(3.0));

        // Single, Deep: 3 of 5 answered; Phone 2, E-mail 1, Chat 0.
        let deep = &r[1].by_tier[0];
        assert_eq!((deep.respondents, deep.answered), (5, 3));
        assert_eq!(deep.option_counts, vec![2, 1, 0]);
        assert_eq!(deep.mean, None);
        assert_eq!(r[1].by_tier[2].option_counts, vec![0, 0, 1]);

        // Multiple, Deep: 4 answered; Search in 3, Files in 3.
        let deep = &r[2].by_tier[0];
        assert_eq!((deep.respondents, deep.answered), (5, 4));
        assert_eq!(deep.option_counts, vec![3, 3]);
        let anonymous = &r[2].by_tier[2];
        assert_eq!((anonymous.respondents, anonymous.answered), (1, 0));
        assert_eq!(anonymous.option_counts, vec![0, 0]);

        // NPS, Deep: 10, 9, 8, 6, 0 → promoters 2/5 = 40 %, detractors 2/5 = 40 % → 0;
        // mean 33 / 5 = 6.6.
        let deep = &r[3].by_tier[0];
        assert_eq!(deep.answered, 5);
        assert_eq!(deep.nps, Some(0.0));
        assert_eq!(deep.mean, Some(6.6));
        // Shallow: one detractor → -100; anonymous: no answer → None.
        assert_eq!(r[3].by_tier[1].nps, Some(-100.0));
        assert_eq!((r[3].by_tier[2].nps, r[3].by_tier[2].mean), (None, None));

        // Text: nobody answered.
        assert!(r[4].by_tier.iter().all(|t| t.answered == 0 && t.mean.is_none() && t.option_counts.is_empty()));
    }

    #[test]
    fn floor_hides_small_tiers() {
        let q = parse_definition("nps* Likely?\n").unwrap();
        let mut responses: Vec<_> =
            [10, 9, 7].into_iter().map(|n| (Some(Tier::Deep), vec![Some(Answer::Scale(n))])).collect();
        responses.push((Some(Tier::New), vec![Some(Answer::Scale(3))]));
        responses.push((None, vec![Some(Answer::Scale(10))]));
        // A wrong kind of answer is not counted.
        responses.push((Some(Tier::Deep), vec![Some(Answer::Text(s("?")))]));
        // New (1) and anonymous (1) are below the floor of 3 even together;
        // shown beside the 6 responses, deep (4) would give them away, so
        // all three are counted together.
        let r = results_by_tier(&q, &responses, Some(3));
        assert_eq!(r[0].hidden, vec![Some(Tier::Deep), Some(Tier::New), None]);
        assert!(r[0].by_tier.is_empty());
        let m = r[0].merged.as_ref().unwrap();
        assert_eq!((m.tiers.clone(), m.result.respondents, m.result.answered), (r[0].hidden.clone(), 6, 5));
        let json = serde_json::to_value(&r[0]).unwrap();
        assert_eq!(json["hidden"], serde_json::json!(["deep", "new", null]));
        // One more small group and the small ones reach the floor together:
        // deep is shown alone.
        let mut more = responses.clone();
        more.push((Some(Tier::Silent), vec![Some(Answer::Scale(0))]));
        let r = results_by_tier(&q, &more, Some(3));
        assert_eq!(r[0].hidden, vec![Some(Tier::Silent), Some(Tier::New), None]);
        assert_eq!(r[0].merged.as_ref().unwrap().result.respondents, 3);
        assert_eq!(r[0].by_tier.len(), 1);
        let deep = &r[0].by_tier[0];
        assert_eq!((deep.tier, deep.respondents, deep.answered), (Some(Tier::Deep), 4, 3));
        // 2 promoters, 0 detractors of 3.
        assert!((deep.nps.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        let json = serde_json::to_value(&r[0]).unwrap();
        assert_eq!(json["by_tier"][0]["tier"], "deep");

        let r = results_by_tier(&q, &responses, Some(1));
        assert!(r[0].hidden.is_empty());
        assert_eq!(r[0].by_tier.len(), 3);
    }

    #[test]
    fn scales_carry_their_distribution_and_a_small_nps_its_caution() {
        let q = parse_definition("likert Useful?\nnps Recommend?\n").unwrap();
        let responses: Vec<_> = [(1, 0), (5, 6), (5, 7), (3, 8), (4, 9), (5, 10)]
            .into_iter()
            .map(|(l, n)| (Some(Tier::Deep), vec![Some(Answer::Scale(l)), Some(Answer::Scale(n))]))
            .collect();
        let r = results_by_tier(&q, &responses, None);
        let likert = &r[0].by_tier[0];
        assert_eq!(likert.scale_counts, vec![1, 0, 1, 1, 3]);
        assert!(!likert.nps_caution(), "no NPS, no caution");
        let nps = &r[1].by_tier[0];
        // Detractors 0, 6; passives 7, 8; promoters 9, 10.
        assert_eq!(nps.scale_counts, vec![2, 2, 2]);
        assert_eq!(nps.nps, Some(0.0));
        assert!(nps.nps_caution(), "6 answers are fewer than {NPS_MIN_ANSWERS}");
        let many: Vec<_> = (0..30).map(|_| (Some(Tier::Deep), vec![None, Some(Answer::Scale(10))])).collect();
        let r = results_by_tier(&q, &many, None);
        assert!(!r[1].by_tier[0].nps_caution());
        assert_eq!(r[1].by_tier[0].scale_counts, vec![0, 0, 30]);
        assert!(r[0].by_tier[0].scale_counts.iter().all(|c| *c == 0));
    }

    #[test]
    fn response_rates_merge_small_tiers_under_the_floor() {
        let mut invited: Vec<(Tier, bool)> = (0..6).map(|i| (Tier::Deep, i < 3)).collect();
        invited.extend([(Tier::Silent, true), (Tier::Silent, false), (Tier::New, false)]);
        invited.extend((0..2).map(|_| (Tier::Shallow, true)));
        // Floor 3: silent (2), new (1) and shallow (2) together; deep alone.
        let (alone, merged) = response_rates_under_floor(&invited, Some(3));
        assert_eq!(alone, vec![(Tier::Deep, 6, 3)]);
        assert_eq!(merged, Some((vec![Tier::Shallow, Tier::Silent, Tier::New], 5, 3)));
        // No floor: every tier alone.
        let (alone, merged) = response_rates_under_floor(&invited, None);
        assert_eq!((alone.len(), merged), (4, None));
        // Everything together below the floor: nothing.
        let (alone, merged) = response_rates_under_floor(&invited, Some(20));
        assert!(alone.is_empty() && merged.is_none());
    }

    #[test]
    fn response_rates_by_tier() {
        let invited = [
            (Tier::New, true),
            (Tier::Deep, true),
            (Tier::Deep, false),
            (Tier::Deep, true),
            (Tier::Silent, false),
            (Tier::New, false),
        ];
        assert_eq!(response_rates(&invited), vec![(Tier::Deep, 3, 2), (Tier::Silent, 1, 0), (Tier::New, 2, 1)]);
        assert!(response_rates(&[]).is_empty());
    }
}
