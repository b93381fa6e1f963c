//! The e-mails of outreach, composed in the study's language: invitations,
//! booking confirmations, reschedules, cancellations and reminders, with a
//! calendar file where a booking changes. Every message to a participant
//! carries their link and the opt-out link.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use chrono_tz::Tz;

use super::outreach::Links;
use super::secrets::{link_placeholder, link_token, random_token};
use crate::domain::meeting::{Place, PlaceKind};
use crate::domain::study::{Language, fill};
use crate::mail::ics::{self, Invite, Method};
use crate::storage::invitations::Invitation;
use crate::storage::outbox::NewMessage;
use crate::storage::studies::Study;

/// A Message-ID unique to one queued message (kept across retries, so a
/// receiving server and a reader can tell a resend from a new message).
pub fn message_id(from: &str, kind: &str) -> String {
    let domain = from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("undercurrent.invalid");
    format!("<{}.{kind}@{domain}>", &random_token()[..32])
}

fn lang(study: &Study) -> Language {
    Language::parse(&study.language).unwrap_or(Language::En)
}

/// The study's title as invited people see it: never the internal one.
fn face(study: &Study) -> String {
    crate::domain::study::participant_title(&study.participant_title, lang(study))
}

fn display_name(inv: &Invitation) -> String {
    inv.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| inv.user_id.clone())
}

/// The invitation of one person, from the study's texts. Its links hold
/// placeholders for the tokens (`render_links` fills them in when sending),
/// so that the outbox never keeps a working link.
pub fn invitation(study: &Study, inv: &Invitation, links: &Links, from: &str) -> NewMessage {
    let name = display_name(inv);
    let minutes = study.interview_minutes.to_string();
    let link = links.invitation(&link_placeholder("i", inv.id));
    let opt_out = links.opt_out(&link_placeholder("o", inv.id));
    // The day the booking page offers times before (`participant::horizon`,
    // counted from sending, which is now).
    let deadline = super::outreach::deadline(chrono::Utc::now());
    let deadline = match lang(study) {
        Language::En => deadline.format("%-d %B %Y").to_string(),
        Language::ZhCn => deadline.format("%Y年%-m月%-d日").to_string(),
    };
    let face = face(study);
    let values = [
        ("name", name.as_str()),
        ("study", face.as_str()),
        ("minutes", minutes.as_str()),
        ("link", link.as_str()),
        ("opt_out_link", opt_out.as_str()),
        ("deadline", deadline.as_str()),
    ];
    let mut body = fill(&study.invitation_body, &values);
    if let Some(place) = study.place() {
        body = format!("{}\n\n{}\n", body.trim_end(), invitation_place(lang(study), &place));
    }
    if !body.contains(&opt_out) {
        body.push_str(&footer(lang(study), &opt_out));
    }
    NewMessage {
        kind: "invitation".into(),
        study_id: Some(study.id),
        invitation_id: Some(inv.id),
        to_addr: inv.email.clone().unwrap_or_default(),
        subject: fill(&study.invitation_subject, &values),
        body,
        message_id: message_id(from, "invitation"),
        ..NewMessage::default()
    }
}

fn footer(lang: Language, opt_out: &str) -> String {
    match lang {
        Language::En => format!("\n\n--\nTo stop all research invitations: {opt_out}\n"),
        Language::ZhCn => format!("\n\n--\n不再接收任何调研邀请：{opt_out}\n"),
    }
}

/// What changed about a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Booked,
    Rescheduled,
    Cancelled,
}

/// Everything a booking's messages say.
pub struct BookingMail<'a> {
    pub study: &'a Study,
    pub invitation: &'a Invitation,
    pub booking_id: i64,
    pub uid: &'a str,
    pub sequence: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub participant_tz: Tz,
    pub interviewer_name: &'a str,
    pub interviewer_email: &'a str,
    pub interviewer_tz: Tz,
    /// The participant's link token when they acted by it: their messages
    /// then carry their link (as a placeholder, never the token itself).
    pub token: Option<&'a str>,
    pub links: &'a Links,
    pub from: &'a str,
    pub now: DateTime<Utc>,
    /// The interview's page in the application (`/interviews/{booking}`),
    /// for the interviewer's messages.
    pub interview_url: String,
    /// Where the interview happens, for this booking (`None`: not said).
    pub place: Option<Place>,
}

/// Where an interview happens, as a line of a message.
pub fn place_line(lang: Language, place: &Place) -> String {
    let d = place.detail.as_str();
    match (lang, place.kind) {
        (Language::En, PlaceKind::Video) => format!("Where: video call, {d}"),
        (Language::En, PlaceKind::Room) => format!("Where: {d}"),
        (Language::En, PlaceKind::Phone) => format!("Where: by phone, please call {d}"),
        (Language::En, PlaceKind::WeCall) => "Where: by phone, we will call you".to_string(),
        (Language::ZhCn, PlaceKind::Video) => format!("地点：视频会议，{d}"),
        (Language::ZhCn, PlaceKind::Room) => format!("地点：{d}"),
        (Language::ZhCn, PlaceKind::Phone) => format!("地点：电话，请拨打 {d}"),
        (Language::ZhCn, PlaceKind::WeCall) => "地点：电话，我们会给您打电话".to_string(),
    }
}

/// How the interview happens, as an invitation says it (the booking's own
/// video room and the interviewer come with the booking).
fn invitation_place(lang: Language, place: &Place) -> String {
    let d = place.detail.as_str();
    match (lang, place.kind) {
        (Language::En, PlaceKind::Video) => {
            "The conversation is a video call; the link comes with your booking.".into()
        }
        (Language::En, PlaceKind::Room) => format!("The conversation takes place in person: {d}."),
        (Language::En, PlaceKind::Phone) => format!("The conversation is by phone: you call {d}."),
        (Language::En, PlaceKind::WeCall) => "The conversation is by phone: we will call you.".into(),
        (Language::ZhCn, PlaceKind::Video) => "交流以视频会议形式进行，链接会随预约确认发送给您。".into(),
        (Language::ZhCn, PlaceKind::Room) => format!("交流当面进行，地点：{d}。"),
        (Language::ZhCn, PlaceKind::Phone) => format!("交流通过电话进行，请拨打 {d}。"),
        (Language::ZhCn, PlaceKind::WeCall) => "交流通过电话进行，我们会给您打电话。".into(),
    }
}

/// The interviewer a participant will talk with, as a line of a message.
fn interviewer_line(lang: Language, name: &str) -> String {
    match lang {
        Language::En => format!("You will talk with {name}."),
        Language::ZhCn => format!("与您交流的是：{name}"),
    }
}

/// The place's lines of a message: where, and for the participant, with whom.
fn meeting_lines(m: &BookingMail, lang: Language, to_host: bool) -> String {
    let mut out = String::new();
    if let Some(place) = &m.place {
        out.push_str(&place_line(lang, place));
        out.push('\n');
    }
    if !to_host {
        out.push_str(&interviewer_line(lang, m.interviewer_name));
        out.push('\n');
    }
    out
}

/// A time range as a recipient reads it, in their zone, with the zone named.
pub fn when(lang: Language, start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    match lang {
        Language::En => format!("{}–{} ({})", s.format("%A %-d %B %Y, %H:%M"), e.format("%H:%M"), tz.name()),
        Language::ZhCn => format!(
            "{} {} {}–{}（{}）",
            s.format("%Y年%-m月%-d日"),
            zh_weekday(s.weekday()),
            s.format("%H:%M"),
            e.format("%H:%M"),
            tz.name()
        ),
    }
}

/// A weekday in Chinese (chrono formats weekdays in English only).
pub fn zh_weekday(d: chrono::Weekday) -> &'static str {
    ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"][d.num_days_from_monday() as usize]
}

struct Texts {
    subject: &'static str,
    lead: &'static str,
}

fn texts(lang: Language, change: Change, to_host: bool) -> Texts {
    use Change::*;
    match (lang, change, to_host) {
        (Language::En, Booked, false) => {
            Texts { subject: "Interview booked: {study}", lead: "Thank you, {name}. Your interview is booked:" }
        }
        (Language::En, Rescheduled, false) => {
            Texts { subject: "Interview moved: {study}", lead: "{name}, your interview has moved to:" }
        }
        (Language::En, Cancelled, false) => {
            Texts { subject: "Interview cancelled: {study}", lead: "{name}, this interview is cancelled:" }
        }
        (Language::En, Booked, true) => Texts {
            subject: "New interview: {participant} ({study})",
            lead: "{participant} booked an interview with you:",
        },
        (Language::En, Rescheduled, true) => Texts {
            subject: "Interview moved: {participant} ({study})",
            lead: "{participant} moved their interview to:",
        },
        (Language::En, Cancelled, true) => Texts {
            subject: "Interview cancelled: {participant} ({study})",
            lead: "This interview with {participant} is cancelled:",
        },
        (Language::ZhCn, Booked, false) => {
            Texts { subject: "访谈已预约：{study}", lead: "{name}，感谢您！您的访谈已预约：" }
        }
        (Language::ZhCn, Rescheduled, false) => {
            Texts { subject: "访谈时间已更改：{study}", lead: "{name}，您的访谈已改到：" }
        }
        (Language::ZhCn, Cancelled, false) => {
            Texts { subject: "访谈已取消：{study}", lead: "{name}，以下访谈已取消：" }
        }
        (Language::ZhCn, Booked, true) => Texts {
            subject: "新的访谈：{participant}（{study}）",
            lead: "{participant} 预约了与您的访谈：",
        },
        (Language::ZhCn, Rescheduled, true) => Texts {
            subject: "访谈时间已更改：{participant}（{study}）",
            lead: "{participant} 将访谈改到：",
        },
        (Language::ZhCn, Cancelled, true) => Texts {
            subject: "访谈已取消：{participant}（{study}）",
            lead: "与 {participant} 的以下访谈已取消：",
        },
    }
}

/// The participant's own link (when they acted by it; never in a message
/// caused by the interviewer alone) and the opt-out link (once the
/// invitation was sent), as placeholders rendered when sending.
fn manage_lines(lang: Language, links: &Links, invitation_id: i64, with_link: bool, opt_out: bool) -> String {
    let (manage, stop) = match lang {
        Language::En => ("To reschedule or cancel: ", "To stop all research invitations: "),
        Language::ZhCn => ("改期或取消：", "不再接收任何调研邀请："),
    };
    let mut out = String::new();
    if with_link {
        out.push_str(&format!("\n\n{manage}{}", links.invitation(&link_placeholder("i", invitation_id))));
    }
    if opt_out {
        out.push_str(&format!("\n\n--\n{stop}{}\n", links.opt_out(&link_placeholder("o", invitation_id))));
    }
    out
}

/// Fills a queued message's link placeholders with the tokens, derived from
/// the links' secret; only those `allowed` says the message may carry (its
/// own invitation's), so that a placeholder typed into a study's text
/// never reveals another person's link.
pub fn render_links(text: &str, allowed: &dyn Fn(&str, i64) -> bool) -> String {
    const OPEN: &str = "{{link-token:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + OPEN.len()..];
        let parsed = after.find("}}").and_then(|end| {
            let (kind, id) = after[..end].split_once(':')?;
            let id: i64 = id.parse().ok()?;
            (matches!(kind, "i" | "o" | "s" | "a") && allowed(kind, id)).then_some((kind, id, end))
        });
        match parsed {
            Some((kind, id, end)) => {
                out.push_str(&link_token(kind, id));
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn calendar(m: &BookingMail, method: Method, to_host: bool) -> ics::CalendarPart {
    let participant = display_name(m.invitation);
    // The interviewer's entry names the study as the team knows it; the
    // participant's shows its participant face.
    let (summary, description, tz) = if to_host {
        (format!("{} · {participant}", m.study.title), m.study.goal.clone(), m.interviewer_tz)
    } else {
        (face(m.study), m.study.participant_description.clone(), m.participant_tz)
    };
    let location = m.place.as_ref().map(|p| match p.kind {
        PlaceKind::WeCall => place_line(lang(m.study), p),
        _ => p.detail.clone(),
    });
    ics::render(&Invite {
        location,
        url: m.place.as_ref().and_then(|p| p.url()).map(str::to_string),
        uid: m.uid.to_string(),
        sequence: u32::try_from(m.sequence).unwrap_or(0),
        method,
        start: m.start,
        end: m.end,
        timezone: tz,
        summary,
        description,
        organizer: (m.interviewer_name.to_string(), m.interviewer_email.to_string()),
        attendee: (participant, m.invitation.email.clone().unwrap_or_default()),
        stamp: m.now,
    })
}

/// The messages of a booking change: one to the participant (in their
/// zone, with their links) and one to the interviewer (in theirs), each
/// with the same calendar UID and SEQUENCE.
pub fn booking_change(m: &BookingMail, change: Change) -> Vec<NewMessage> {
    let lang = lang(m.study);
    let method = if change == Change::Cancelled { Method::Cancel } else { Method::Request };
    let participant = display_name(m.invitation);
    let kind = match change {
        Change::Booked => "booked",
        Change::Rescheduled => "rescheduled",
        Change::Cancelled => "cancelled",
    };
    let mut out = Vec::new();
    for to_host in [false, true] {
        let t = texts(lang, change, to_host);
        let study_name = if to_host { m.study.title.clone() } else { face(m.study) };
        let values =
            [("study", study_name.as_str()), ("name", participant.as_str()), ("participant", participant.as_str())];
        let tz = if to_host { m.interviewer_tz } else { m.participant_tz };
        let mut body = format!(
            "{}\n\n{}\n{}",
            fill(t.lead, &values),
            when(lang, m.start, m.end, tz),
            if change == Change::Cancelled { String::new() } else { meeting_lines(m, lang, to_host) }
        );
        if to_host {
            body.push_str(&format!("\n{}\n", m.interview_url));
        } else {
            body.push_str(&manage_lines(
                lang,
                m.links,
                m.invitation.id,
                m.token.is_some(),
                m.invitation.opt_out_hash.is_some(),
            ));
        }
        let cal = calendar(m, method, to_host);
        out.push(NewMessage {
            kind: if to_host { format!("{kind}_host") } else { kind.to_string() },
            study_id: Some(m.study.id),
            invitation_id: Some(m.invitation.id),
            booking_id: Some(m.booking_id),
            booking_sequence: Some(m.sequence),
            to_addr: if to_host {
                m.interviewer_email.to_string()
            } else {
                m.invitation.email.clone().unwrap_or_default()
            },
            subject: fill(t.subject, &values),
            body,
            ics: Some(cal.text),
            ics_method: Some(method.as_str().to_string()),
            message_id: message_id(m.from, kind),
            not_before: m.now.timestamp(),
            expires_at: None,
        });
    }
    out
}

/// Reminders to the participant before the interview, one per offset still
/// ahead; each expires at the interview's start (useless after it).
pub fn reminders(m: &BookingMail, offsets: &[TimeDelta]) -> Vec<NewMessage> {
    let lang = lang(m.study);
    let participant = display_name(m.invitation);
    crate::domain::scheduling::reminder_times(m.start, offsets, m.now)
        .into_iter()
        .map(|(offset, at)| {
            let hours = offset.num_hours();
            let (subject, lead) = match lang {
                Language::En => (
                    format!(
                        "Reminder: interview in {} ({})",
                        if hours >= 1 { format!("{hours} h") } else { format!("{} min", offset.num_minutes()) },
                        face(m.study)
                    ),
                    format!("{participant}, a reminder of your interview:"),
                ),
                Language::ZhCn => (
                    format!(
                        "提醒：{}后有访谈（{}）",
                        if hours >= 1 { format!("{hours} 小时") } else { format!("{} 分钟", offset.num_minutes()) },
                        face(m.study)
                    ),
                    format!("{participant}，提醒您参加访谈："),
                ),
            };
            let body = format!(
                "{lead}\n\n{}\n{}{}",
                when(lang, m.start, m.end, m.participant_tz),
                meeting_lines(m, lang, false),
                manage_lines(lang, m.links, m.invitation.id, m.token.is_some(), m.invitation.opt_out_hash.is_some())
            );
            NewMessage {
                kind: "reminder".into(),
                study_id: Some(m.study.id),
                invitation_id: Some(m.invitation.id),
                booking_id: Some(m.booking_id),
                booking_sequence: Some(m.sequence),
                to_addr: m.invitation.email.clone().unwrap_or_default(),
                subject,
                body,
                ics: None,
                ics_method: None,
                message_id: message_id(m.from, "reminder"),
                not_before: at.timestamp(),
                expires_at: Some(m.start.timestamp()),
            }
        })
        .collect()
}
