//! iCalendar (RFC 5545) text for an interview invitation or its
//! cancellation, with the recipient's time zone spelled out in a VTIMEZONE
//! so a calendar shows the slot at the right hour even where it does not
//! know the IANA name. Pure: plain data in, text out.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use crate::domain::calendar;

const PRODID: &str = "-//Undercurrent//Interview scheduling//EN";

/// The iTIP method (RFC 5546): the VCALENDAR's METHOD and the MIME
/// `method=` parameter must agree, or calendars ignore the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// One interview slot as the recipient's calendar should see it. A change
/// or cancellation keeps the `uid` and raises the `sequence`.
#[derive(Debug, Clone)]
pub struct Invite {
    pub uid: String,
    pub sequence: u32,
    pub method: Method,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone DTSTART and DTEND are written in: the recipient's.
    pub timezone: Tz,
    pub summary: String,
    pub description: String,
    /// Where: a room, a number to call, a video address (LOCATION).
    pub location: Option<String>,
    /// A video address to join by (URL).
    pub url: Option<String>,
    /// (name, e-mail address)
    pub organizer: (String, String),
    /// (name, e-mail address)
    pub attendee: (String, String),
    pub stamp: DateTime<Utc>,
}

/// A rendered VCALENDAR, ready to go into a `text/calendar` MIME part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPart {
    pub method: Method,
    pub text: String,
}

pub fn render(invite: &Invite) -> CalendarPart {
    let tz = invite.timezone;
    let mut cal = Lines::default();
    cal.push("BEGIN:VCALENDAR");
    cal.push(&format!("PRODID:{PRODID}"));
    cal.push("VERSION:2.0");
    cal.push("CALSCALE:GREGORIAN");
    cal.push(&format!("METHOD:{}", invite.method.as_str()));
    vtimezone(&mut cal, tz, invite.start, invite.end);
    cal.push("BEGIN:VEVENT");
    cal.push(&format!("UID:{}", escape_text(&invite.uid)));
    cal.push(&format!("SEQUENCE:{}", invite.sequence));
    cal.push(&format!("DTSTAMP:{}", utc_stamp(invite.stamp)));
    cal.push(&date_time("DTSTART", tz, invite.start));
    cal.push(&date_time("DTEND", tz, invite.end));
    cal.push(&format!("SUMMARY:{}", escape_text(&invite.summary)));
    cal.push(&format!("DESCRIPTION:{}", escape_text(&invite.description)));
    if let Some(location) = invite.location.as_deref().filter(|l| !l.is_empty()) {
        cal.push(&format!("LOCATION:{}", escape_text(location)));
    }
    if let Some(url) = invite.url.as_deref().filter(|u| !u.is_empty()) {
        // A URI value: not text-escaped, and never with a line break.
        cal.push(&format!("URL:{}", url.replace(['\r', '\n'], "")));
    }
    let (name, email) = &invite.organizer;
    cal.push(&format!("ORGANIZER;CN={}:{}", param_value(name), cal_address(email)));
    let (name, email) = &invite.attendee;
    cal.push(&format!(
        "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:{}",
        param_value(name),
        cal_address(email)
    ));
    cal.push(match invite.method {
        Method::Request => "STATUS:CONFIRMED",
        Method::Cancel => "STATUS:CANCELLED",
    });
    cal.push("END:VEVENT");
    cal.push("END:VCALENDAR");
    CalendarPart { method: invite.method, text: cal.text }
}

/// One interview in an interviewer's subscribed feed.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    /// The interview's page (behind sign-in).
    pub url: String,
}

/// A published calendar (no iTIP method: calendars subscribe to it rather
/// than answer it) of an interviewer's interviews. Times are in UTC, which
/// every calendar shows in its own zone, so no VTIMEZONE is needed.
pub fn feed(name: &str, entries: &[FeedEntry], stamp: DateTime<Utc>) -> String {
    let mut cal = Lines::default();
    cal.push("BEGIN:VCALENDAR");
    cal.push(&format!("PRODID:{PRODID}"));
    cal.push("VERSION:2.0");
    cal.push("CALSCALE:GREGORIAN");
    cal.push(&format!("X-WR-CALNAME:{}", escape_text(name)));
    cal.push("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    for e in entries {
        cal.push("BEGIN:VEVENT");
        cal.push(&format!("UID:{}", escape_text(&e.uid)));
        cal.push(&format!("DTSTAMP:{}", utc_stamp(stamp)));
        cal.push(&format!("DTSTART:{}", utc_stamp(e.start)));
        cal.push(&format!("DTEND:{}", utc_stamp(e.end)));
        cal.push(&format!("SUMMARY:{}", escape_text(&e.summary)));
        cal.push(&format!("DESCRIPTION:{}", escape_text(&e.description)));
        cal.push(&format!("URL:{}", e.url.chars().filter(|c| !c.is_control()).collect::<String>()));
        cal.push("STATUS:CONFIRMED");
        cal.push("TRANSP:OPAQUE");
        cal.push("END:VEVENT");
    }
    cal.push("END:VCALENDAR");
    cal.text
}

/// Content lines, each ended by CRLF and folded at 75 octets.
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn push(&mut self, line: &str) {
        fold_into(line, &mut self.text);
    }
}

/// Folds one content line: no physical line longer than 75 octets (the
/// leading space of a continuation counts), never inside a UTF-8 sequence.
fn fold_into(line: &str, out: &mut String) {
    let mut rest = line;
    let mut limit = 75;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = 74;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// A TEXT value (RFC 5545 3.3.11); control characters other than line
/// breaks and tabs are not allowed there and are dropped.
fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, always quoted: a quoted string may hold `:;,` but no
/// DQUOTE and no control characters, so those become `'` and spaces.
fn param_value(value: &str) -> String {
    let inner: String = value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("\"{inner}\"")
}

fn cal_address(email: &str) -> String {
    let clean: String = email.chars().filter(|c| !c.is_control() && !c.is_whitespace()).collect();
    format!("mailto:{clean}")
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// DTSTART or DTEND in the zone's local time, when that local time means
/// the instant by the one rule (`calendar::local_instant`, RFC 5545 3.3.5).
/// A local time in the repeated hour of a fall-back means its first
/// occurrence, so an instant in the second one is written in UTC instead.
fn date_time(name: &str, tz: Tz, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&tz).naive_local();
    if calendar::local_instant(tz, local).is_some_and(|meant| meant.timestamp() != t.timestamp()) {
        return format!("{name}:{}", utc_stamp(t));
    }
    format!("{name};TZID={}:{}", tz.name(), local_stamp(local))
}

/// The offset in force at one instant: what a VTIMEZONE observance records.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offsets {
    /// Seconds east of UTC.
    total: i32,
    daylight: bool,
    name: Option<String>,
}

impl Offsets {
    fn at(tz: Tz, t: i64) -> Offsets {
        let utc = DateTime::from_timestamp(t, 0).unwrap_or_default().naive_utc();
        let offset = tz.offset_from_utc_datetime(&utc);
        Offsets {
            total: offset.fix().local_minus_utc(),
            daylight: offset.dst_offset() != TimeDelta::zero(),
            name: offset.abbreviation().map(str::to_owned),
        }
    }

    fn same_rule(&self, other: &Offsets) -> bool {
        self.total == other.total && self.daylight == other.daylight
    }
}

struct Observance {
    /// Local time, in the offset before the change.
    onset: NaiveDateTime,
    from: i32,
    to: Offsets,
}

/// Steps of the scan for transitions: shorter than any gap between two
/// changes of a zone's offset in the tz database since 1970.
const SCAN_STEP: i64 = 86_400;

/// Explicit observances (no RRULE) from the start of the year before the
/// event to the end of the year after it: the offset in force at that start,
/// then each change, found by scanning day by day and bisecting to the
/// second.
fn observances(tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Observance> {
    let first_year = start.with_timezone(&tz).year() - 1;
    let last_year = end.max(start).with_timezone(&tz).year() + 1;
    let jan_first = |year: i32| {
        let midnight = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default().and_hms_opt(0, 0, 0).unwrap_or_default();
        let approx = midnight.and_utc().timestamp();
        approx - i64::from(Offsets::at(tz, approx).total)
    };
    let (from, until) = (jan_first(first_year), jan_first(last_year + 1));

    let initial = Offsets::at(tz, from);
    let mut list = vec![Observance { onset: local(from, initial.total), from: initial.total, to: initial }];
    let mut t = from;
    while t < until {
        let next = (t + SCAN_STEP).min(until);
        let before = Offsets::at(tz, t);
        if !before.same_rule(&Offsets::at(tz, next)) {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if Offsets::at(tz, mid).same_rule(&before) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            list.push(Observance { onset: local(hi, before.total), from: before.total, to: Offsets::at(tz, hi) });
        }
        t = next;
    }
    list
}

fn local(t: i64, offset: i32) -> NaiveDateTime {
    DateTime::from_timestamp(t + i64::from(offset), 0).unwrap_or_default().naive_utc()
}

fn vtimezone(cal: &mut Lines, tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) {
    cal.push("BEGIN:VTIMEZONE");
    cal.push(&format!("TZID:{}", tz.name()));
    for o in observances(tz, start, end) {
        let kind = if o.to.daylight { "DAYLIGHT" } else { "STANDARD" };
        cal.push(&format!("BEGIN:{kind}"));
        cal.push(&format!("DTSTART:{}", local_stamp(o.onset)));
        cal.push(&format!("TZOFFSETFROM:{}", utc_offset(o.from)));
        cal.push(&format!("TZOFFSETTO:{}", utc_offset(o.to.total)));
        if let Some(name) = &o.to.name {
            cal.push(&format!("TZNAME:{}", escape_text(name)));
        }
        cal.push(&format!("END:{kind}"));
    }
    cal.push("END:VTIMEZONE");
}

/// `+HHMM` (with seconds only where the offset has them; `-0000` is not
/// allowed, so zero is `+0000`).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs % 3600 / 60, abs % 60);
    if s == 0 { format!("{sign}{h:02}{m:02}") } else { format!("{sign}{h:02}{m:02}{s:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn invite(tz: Tz, start: DateTime<Utc>, method: Method) -> Invite {
        Invite {
            location: None,
            url: None,
            uid: "booking-7@undercurrent".into(),
            sequence: 2,
            method,
            start,
            end: start + TimeDelta::minutes(45),
            timezone: tz,
            summary: "Interview: how you use the messenger".into(),
            description: "Thanks for taking part.\nWe will call you.".into(),
            organizer: ("Research team".into(), "research@example.org".into()),
            attendee: ("Li Wei".into(), "li.wei@example.com".into()),
            stamp: utc(2026, 10, 20, 8, 0),
        }
    }

    fn unfold(text: &str) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for physical in text.split("\r\n") {
            match physical.strip_prefix(' ') {
                Some(rest) => lines.last_mut().expect("a continuation follows a line").push_str(rest),
                None if physical.is_empty() => {}
                None => lines.push(physical.to_owned()),
            }
        }
        lines
    }

    /// The component blocks (BEGIN..END) of one kind, unfolded.
    fn blocks(text: &str, kind: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut current: Option<Vec<String>> = None;
        for line in unfold(text) {
            if line == format!("BEGIN:{kind}") {
                current = Some(Vec::new());
            } else if line == format!("END:{kind}") {
                out.extend(current.take());
            } else if let Some(block) = current.as_mut() {
                block.push(line);
            }
        }
        out
    }

    fn assert_physical_lines_ok(text: &str) {
        assert!(text.ends_with("\r\n"));
        assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "bare CR or LF in {text:?}");
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut inv = invite(chrono_tz::Asia::Shanghai, utc(2026, 3, 2, 2, 0), Method::Request);
        inv.description = "访谈将通过视频进行，请提前五分钟加入。".repeat(8);
        let text = render(&inv).text;
        assert_physical_lines_ok(&text);
        let description = unfold(&text).into_iter().find(|l| l.starts_with("DESCRIPTION:")).unwrap();
        assert_eq!(description, format!("DESCRIPTION:{}", inv.description));
        assert!(text.contains("\r\n "), "the description is folded");
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape_text("a;b,c\\d\r\ne\nf\u{7}g\th"), "a\\;b\\,c\\\\d\\ne\\nfg\th");
        let mut inv = invite(chrono_tz::Asia::Shanghai, utc(2026, 3, 2, 2, 0), Method::Request);
        inv.summary = "Call; then, notes".into();
        inv.organizer.0 = "Team \"R\": Research".into();
        let lines = unfold(&render(&inv).text);
        assert!(lines.contains(&"SUMMARY:Call\\; then\\, notes".to_owned()));
        assert!(lines.contains(&"DESCRIPTION:Thanks for taking part.\\nWe will call you.".to_owned()));
        assert!(lines.contains(&"ORGANIZER;CN=\"Team 'R': Research\":mailto:research@example.org".to_owned()));
    }

    #[test]
    fn new_york_vtimezone_has_the_2026_changes_in_both_directions() {
        let text = render(&invite(chrono_tz::America::New_York, utc(2026, 11, 2, 14, 0), Method::Request)).text;
        let standard = blocks(&text, "STANDARD");
        let daylight = blocks(&text, "DAYLIGHT");
        let fall_back: Vec<String> =
            ["DTSTART:20261101T020000", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST"]
                .map(String::from)
                .into();
        let spring_forward: Vec<String> =
            ["DTSTART:20260308T020000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT"]
                .map(String::from)
                .into();
        assert!(standard.contains(&fall_back), "{standard:?}");
        assert!(daylight.contains(&spring_forward), "{daylight:?}");
        // The neighbouring years, and the offset in force on 2025-01-01.
        assert!(standard.iter().any(|b| b[0] == "DTSTART:20251102T020000"));
        assert!(daylight.iter().any(|b| b[0] == "DTSTART:20270314T020000"));
        assert!(standard.iter().any(|b| b[0] == "DTSTART:20250101T000000" && b[2] == "TZOFFSETTO:-0500"));
        assert_eq!(blocks(&text, "VTIMEZONE")[0][0], "TZID:America/New_York");
    }

    #[test]
    fn shanghai_has_one_standard_observance() {
        let text = render(&invite(chrono_tz::Asia::Shanghai, utc(2026, 11, 2, 2, 0), Method::Request)).text;
        assert!(blocks(&text, "DAYLIGHT").is_empty());
        let standard = blocks(&text, "STANDARD");
        assert_eq!(standard.len(), 1);
        assert_eq!(standard[0], ["DTSTART:20250101T000000", "TZOFFSETFROM:+0800", "TZOFFSETTO:+0800", "TZNAME:CST"]);
        assert!(text.contains("DTSTART;TZID=Asia/Shanghai:20261102T100000\r\n"));
    }

    #[test]
    fn southern_zone_starts_the_window_in_daylight_time() {
        let text = render(&invite(chrono_tz::Australia::Sydney, utc(2026, 1, 10, 0, 0), Method::Request)).text;
        let daylight = blocks(&text, "DAYLIGHT");
        assert_eq!(daylight[0][0], "DTSTART:20250101T000000");
        assert!(daylight.iter().any(|b| b[0] == "DTSTART:20251005T020000" && b[2] == "TZOFFSETTO:+1100"));
        assert!(blocks(&text, "STANDARD").iter().any(|b| b[0] == "DTSTART:20260405T030000"));
    }

    #[test]
    fn local_start_is_right_on_both_sides_of_the_fall_back() {
        let ny = chrono_tz::America::New_York;
        let before = render(&invite(ny, utc(2026, 10, 31, 13, 0), Method::Request)).text;
        assert!(before.contains("DTSTART;TZID=America/New_York:20261031T090000\r\n"));
        assert!(before.contains("DTEND;TZID=America/New_York:20261031T094500\r\n"));
        let after = render(&invite(ny, utc(2026, 11, 2, 14, 0), Method::Request)).text;
        assert!(after.contains("DTSTART;TZID=America/New_York:20261102T090000\r\n"));
        assert!(after.contains("DTSTAMP:20261020T080000Z\r\n"));
    }

    #[test]
    fn the_repeated_hour_is_written_in_utc_when_local_time_would_mean_the_first() {
        let ny = chrono_tz::America::New_York;
        let first = render(&invite(ny, utc(2026, 11, 1, 5, 30), Method::Request)).text;
        assert!(first.contains("DTSTART;TZID=America/New_York:20261101T013000\r\n"));
        let second = render(&invite(ny, utc(2026, 11, 1, 6, 30), Method::Request)).text;
        assert!(second.contains("DTSTART:20261101T063000Z\r\n"), "{second}");
    }

    #[test]
    fn request_and_cancel_set_method_and_status() {
        let request = render(&invite(chrono_tz::Europe::Berlin, utc(2026, 5, 4, 8, 0), Method::Request));
        assert_eq!(request.method, Method::Request);
        assert!(request.text.contains("\r\nMETHOD:REQUEST\r\n"));
        assert!(request.text.contains("\r\nSTATUS:CONFIRMED\r\n"));
        let cancel = render(&invite(chrono_tz::Europe::Berlin, utc(2026, 5, 4, 8, 0), Method::Cancel));
        assert_eq!(cancel.method, Method::Cancel);
        assert!(cancel.text.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(cancel.text.contains("\r\nSTATUS:CANCELLED\r\n"));
        assert!(!cancel.text.contains("CONFIRMED"));
        assert!(cancel.text.starts_with("BEGIN:VCALENDAR\r\nPRODID:"));
        assert!(cancel.text.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(cancel.text.contains("\r\nSEQUENCE:2\r\n"));
        assert!(unfold(&cancel.text).contains(
            &"ATTENDEE;CN=\"Li Wei\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:li.wei@example.com"
                .to_owned()
        ));
    }

    #[test]
    fn offsets_are_written_as_hours_and_minutes() {
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-4 * 3600), "-0400");
        assert_eq!(utc_offset(5 * 3600 + 45 * 60), "+0545");
        assert_eq!(utc_offset(-(3 * 3600 + 30 * 60)), "-0330");
        assert_eq!(utc_offset(-(4 * 3600 + 56 * 60 + 2)), "-045602");
    }

    proptest! {
        #[test]
        fn folding_keeps_the_text_and_the_limit(value in "\\PC{0,300}") {
            let line = format!("X:{value}");
            let mut out = String::new();
            fold_into(&line, &mut out);
            assert_physical_lines_ok(&out);
            prop_assert_eq!(unfold(&out), vec![line]);
        }
    }
}
