//! The demo organisation's finished study, made through the same services
//! the web app uses (draw, send, book, record an outcome, code an interview,
//! quote, survey, answer), so that every row is one the app could have
//! written itself: a round drawn five weeks before the data end with a
//! holdout set aside, interviews with consent, notes, codes, root causes and
//! quotes, a pulse survey with answers, and the study closed. Its report
//! then shows what the tool is for at once.
//!
//! Deterministic for a seed, apart from the random ids storage gives
//! survey responses.

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::outreach::Outreach;
use super::studies::{draw_round, rules_json, send_round, target_json};
use super::{interviews as interview_app, participant, settings, surveys as survey_app};
use crate::domain::calendar::local_instant;
use crate::domain::codebook::Consent;
use crate::domain::interview::Record;
use crate::domain::profile::ProfileId;
use crate::domain::sampling::{ContactRules, Target};
use crate::domain::state::InvitationStatus;
use crate::domain::study::{Language, template};
use crate::domain::survey::{Answer, parse_definition};
use crate::storage::availability::{self, Profile};
use crate::storage::studies::{self, StudyFields};
use crate::storage::{Db, interviews, invitations, surveys};

/// How many people the demo's round invites (and holds out).
pub const ROUND_SIZE: i64 = 16;
/// Days from the first contact to the last day of data: more than a
/// metrics window, so the report can measure the movement after outreach.
pub const CONTACT_DAYS_BEFORE_END: u64 = 35;

const SURVEY_TITLE: &str = "Pulse: how the messaging tool works for you";
const SURVEY: &str = "\
likert* How useful is the tool for your daily work? | 这个工具对您的日常工作有多大帮助？
single* Where does most of your work with colleagues happen? | 您和同事的协作主要在哪里进行？
- In the messaging tool | 协作工具里
- E-mail | 邮件
- Phone or face to face | 电话或当面
- Another chat app | 其他聊天软件
nps How likely are you to recommend it to a colleague? | 您向同事推荐它的可能性有多大？
text What would make it more useful for you? | 怎样才能让它对您更有用？
";

/// Free-text answers to the survey's last question (most leave it empty).
const SILENT_WISHES: [&str; 4] = [
    "Move the customer groups into it, then I would use it.",
    "Fewer notifications from the announcement channel.",
    "If my manager used it, the team would follow.",
    "Tell us clearly who can read the channels.",
];
const SHALLOW_WISHES: [&str; 5] = [
    "A short training on calls and shared documents.",
    "Calls that do not drop on the office Wi-Fi.",
    "Tickets from the service desk arriving in the tool.",
    "Fewer notifications from the announcement channel.",
    "A way to find old files without scrolling.",
];

/// What one interview found, by the tier the person was drawn in.
struct Finding {
    codes: &'static [&'static str],
    notes: &'static str,
    follow_up: &'static str,
    /// (quote, cleared for managers)
    quote: Option<(&'static str, bool)>,
}

const SILENT: [Finding; 4] = [
    Finding {
        codes: &["check_in_only", "other_channel"],
        notes: "Opens the app every morning to punch in and skim notifications. Real work with the team happens in \
                the old chat group on their phone, because the customers are there too.",
        follow_up: "Ask the team lead whether the customer groups can move.",
        quote: Some(("I open it to punch in, then I go back to where the conversations actually are.", true)),
    },
    Finding {
        codes: &["check_in_only", "team_culture"],
        notes: "Nobody in the team posts in the channels; the manager phones people. Reads announcements only.",
        follow_up: "",
        quote: Some(("If my manager wrote there, I would answer there.", true)),
    },
    Finding {
        codes: &["policy_trust", "check_in_only"],
        notes: "Unsure whether messages are monitored; keeps anything sensitive on the phone.",
        follow_up: "Share the data-handling policy in the next all-hands.",
        quote: Some(("I was never sure who can read what I write in there.", false)),
    },
    Finding {
        codes: &["other_channel"],
        notes: "Works mostly by e-mail with other departments, which are not on the tool yet.",
        follow_up: "",
        quote: None,
    },
];

const SHALLOW: [Finding; 4] = [
    Finding {
        codes: &["learning_cost"],
        notes: "Sends messages but has never started a call or shared a document; did not know it was possible.",
        follow_up: "Offer the fifteen-minute walkthrough of calls and documents.",
        quote: Some(("Nobody showed me that you can edit the file together in the chat.", true)),
    },
    Finding {
        codes: &["technical_quality", "learning_cost"],
        notes: "Calls drop on the office Wi-Fi, so meetings went back to the phone.",
        follow_up: "Report the Wi-Fi problem on the third floor to IT.",
        quote: Some(("Two calls dropped in one week and we never tried again.", true)),
    },
    Finding {
        codes: &["need_mismatch"],
        notes: "Most work is in the ticketing system; the tool adds a second place to look.",
        follow_up: "",
        quote: Some(("It would help if the tickets came to me in the tool.", true)),
    },
    Finding {
        codes: &["no_pain_point"],
        notes: "Happy with the current way of working; sees no problem the tool would solve.",
        follow_up: "",
        quote: None,
    },
];

/// What seeding made.
#[derive(Debug)]
pub struct Seeded {
    pub study_id: i64,
    pub invited: u32,
    pub interviews: u32,
    pub held_out: u32,
    pub survey_responses: u32,
}

/// Local `hour`:00 of `day` in `tz`.
fn at(tz: Tz, day: NaiveDate, hour: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, 0, 0).unwrap_or_default();
    local_instant(tz, local).unwrap_or_else(|| local.and_utc())
}

fn days(n: u64) -> Days {
    Days::new(n)
}

/// Creates the demo's finished study, interviewed by `interviewer` (an
/// account that may run studies), over data that end on `end`.
pub async fn seed_study(db: &Db, interviewer: i64, out: &Outreach, end: NaiveDate, seed: u64) -> Result<Seeded> {
    let tz = settings::load(db).await?.timezone;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let contact = end - days(CONTACT_DAYS_BEFORE_END);
    let t = template(ProfileId::InternalCollaboration, Language::En);
    let fields = StudyFields {
        title: t.title,
        goal: t.goal,
        participant_title: t.participant_title,
        participant_description: t.participant_description,
        meeting_kind: String::new(),
        meeting_detail: String::new(),
        scenario: ProfileId::InternalCollaboration.as_str().into(),
        interview_minutes: i64::from(t.interview_minutes),
        language: Language::En.as_str().into(),
        invitation_subject: t.invitation_subject,
        invitation_body: t.invitation_body,
        consent: t.consent,
        guide: t.guide.join("\n"),
        target: target_json(&Target::default()),
        rules: rules_json(&ContactRules::default()),
        round_size: ROUND_SIZE,
        allocation: "proportional".into(),
        recurrence_days: None,
        auto_send: false,
        max_reschedules: 2,
        change_notice_hours: 12,
    };
    let id = studies::insert(db, &fields, Some(interviewer), at(tz, contact - days(2), 10).timestamp()).await?;
    studies::set_interviewers(db, id, &[interviewer]).await?;
    let profile =
        Profile { account_id: interviewer, timezone: tz.name().into(), buffer_minutes: 10, min_notice_minutes: 0 };
    availability::save_profile(db, &profile).await?;
    for k in 2..12 {
        let day = contact + days(k);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            availability::add_one_off(db, interviewer, at(tz, day, 10).timestamp(), at(tz, day, 17).timestamp())
                .await?;
        }
    }
    let study = studies::get(db, id).await?.context("the demo study just made")?;

    // The round, drawn as of the day before contact, a holdout beside it.
    let drawn =
        draw_round(db, &study, Some(contact - days(1)), Some(seed), Some(interviewer), at(tz, contact, 9)).await?;
    let round = studies::round(db, id, drawn.number).await?.context("the demo round just drawn")?;
    send_round(db, &study, &round, &out.links, &out.from, at(tz, contact, 10)).await?;

    // Most answer: they book, and are interviewed; one does not come; two
    // decline; the rest never answer.
    let mut invited = invitations::for_round(db, round.id).await?;
    invited.retain(|i| i.status == InvitationStatus::Invited);
    invited.sort_by_key(|i| i.id);
    let mut seeded = Seeded {
        study_id: id,
        invited: invited.len() as u32,
        interviews: 0,
        held_out: drawn.draw.held_out.len() as u32,
        survey_responses: 0,
    };
    let codes = interviews::codes(db, id).await?;
    let code = |key: &str| codes.iter().find(|c| c.key == key).map(|c| c.id);
    let (mut silent, mut shallow) = (0, 0);
    for (k, inv) in invited.iter().enumerate() {
        let now = at(tz, contact + days(1 + k as u64 % 3), 9) + TimeDelta::minutes(k as i64);
        let token = super::secrets::link_token("i", inv.id);
        match k % 8 {
            6 => {
                participant::decline(db, out, &token, inv, Some("Too busy with the quarter's close."), now).await?.ok();
                continue;
            }
            7 => continue,
            _ => {}
        }
        let slots = participant::free_slots(db, &study, now, now + TimeDelta::days(10)).await?;
        let Some(slot) = slots.get(rng.random_range(0..slots.len().clamp(1, 4))).or(slots.first()) else { break };
        let Ok(booking) =
            participant::book(db, out, &token, inv, &study, slot.interviewer_id, slot.start, tz, now).await?
        else {
            continue;
        };
        let ended = slot.start + TimeDelta::minutes(study.interview_minutes);
        if k == 3 {
            participant::set_outcome(db, booking, "no_show_participant", "interviewer", ended).await?;
            continue;
        }
        participant::set_outcome(db, booking, "completed", "interviewer", ended).await?;
        let (n, findings) = if inv.tier == "silent" {
            silent += 1;
            (silent, &SILENT)
        } else {
            shallow += 1;
            (shallow, &SHALLOW)
        };
        let finding = &findings[(n - 1) % findings.len()];
        let interview = interviews::for_booking(db, booking, ended.timestamp()).await?;
        let mut record = Record {
            consent: Some(Consent::Yes),
            consent_on: Some(slot.start.with_timezone(&tz).date_naive().to_string()),
            notes: finding.notes.into(),
            root_cause: finding.codes[0].into(),
            follow_up: finding.follow_up.into(),
            codes: finding.codes.iter().filter_map(|k| code(k)).collect(),
        };
        let saved_at = (ended + TimeDelta::minutes(20)).timestamp();
        interview_app::save(db, id, interview.id, interview.version, &mut record, interviewer, saved_at).await?;
        // A quote is said once: a finding heard again adds its codes only.
        if let Some((text, shareable)) = finding.quote.filter(|_| n <= findings.len()) {
            interviews::add_quote(db, interview.id, text, shareable, code(finding.codes[0]), interviewer, saved_at)
                .await?;
        }
        seeded.interviews += 1;
    }

    // The pulse survey, two weeks after contact, to people the round did
    // not reach (never the holdout), about half of whom answer.
    let questions = parse_definition(SURVEY).map_err(|(line, e)| anyhow::anyhow!("demo survey line {line}: {e}"))?;
    let sent_at = at(tz, contact + days(14), 10);
    let survey_id =
        surveys::insert(db, id, SURVEY_TITLE, &serde_json::to_string(&questions)?, interviewer, sent_at.timestamp())
            .await?;
    let survey = surveys::get(db, survey_id).await?.context("the demo survey just made")?;
    survey_app::send(db, &study, &survey, 60, &out.links, &out.from, sent_at).await?;
    for (k, inv) in surveys::invitations(db, survey_id).await?.into_iter().enumerate() {
        if !rng.random_bool(0.55) {
            continue;
        }
        let silent = inv.tier == "silent";
        let useful = if silent { rng.random_range(1..=3) } else { rng.random_range(2..=5) };
        let channel = if silent { [1, 2, 3, 3][rng.random_range(0..4)] } else { [0, 0, 1, 2][rng.random_range(0..4)] };
        let nps = if silent { rng.random_range(0..=6) } else { rng.random_range(4..=9) };
        let wishes: &[&str] = if silent { &SILENT_WISHES } else { &SHALLOW_WISHES };
        let wish = wishes.get(k % 9).copied();
        let answers = [
            Some(Answer::Scale(useful)),
            Some(Answer::Choice(channel)),
            Some(Answer::Scale(nps)),
            wish.map(|w| Answer::Text(w.into())),
        ];
        let when = sent_at + TimeDelta::hours(2 + rng.random_range(0..72));
        let answers = serde_json::to_string(&answers)?;
        let dept = inv.department.as_deref();
        if surveys::respond(db, survey_id, Some(inv.id), Some(&inv.tier), dept, &answers, when.timestamp()).await? {
            seeded.survey_responses += 1;
        }
    }

    // Finished: closed a few days before the data end.
    studies::close(db, id, at(tz, end - days(3), 18).timestamp()).await?;
    Ok(seeded)
}
