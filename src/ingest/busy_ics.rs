//! Busy times from an interviewer's own calendar, read from iCalendar text
//! (RFC 5545: a published `.ics` feed or a CalDAV report's calendar data).
//! Parsing only: text in, UTC intervals out, for the scheduling rules to
//! subtract from free slots (`domain::scheduling::free_slots` takes them as
//! busy intervals).
//!
//! Read: each VEVENT's DTSTART and DTEND (or DURATION) in UTC (`Z`), with a
//! TZID (an IANA name), floating (the interviewer's zone) or all-day
//! (`VALUE=DATE`, whole local days); events marked TRANSPARENT or CANCELLED
//! are not busy. RRULE is expanded for FREQ=DAILY and FREQ=WEEKLY (INTERVAL,
//! COUNT, UNTIL, BYDAY) with EXDATE, in the event's zone so a weekly meeting
//! keeps its wall-clock hour across a daylight-saving change. Other
//! frequencies (monthly, yearly) are not expanded: only their first
//! occurrence counts, and the result says how many such rules were seen.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use crate::domain::calendar::local_instant;
use crate::domain::scheduling::Interval;

/// What a calendar says about busy times within a range.
#[derive(Debug, Default, PartialEq)]
pub struct BusyTimes {
    /// Sorted by start.
    pub busy: Vec<Interval>,
    /// Recurrence rules that were not expanded (only their first
    /// occurrence counted).
    pub unexpanded_rules: usize,
}

/// A content line's name, parameters and value.
struct Property<'a> {
    name: String,
    params: Vec<(String, &'a str)>,
    value: &'a str,
}

impl Property<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim_matches('"'))
    }
}

/// Unfolds continuation lines (a line starting with a space or a tab
/// continues the one before).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let (Some(rest), Some(last)) = (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            last.push_str(rest);
            continue;
        }
        lines.push(raw.to_string());
    }
    lines
}

fn property(line: &str) -> Option<Property<'_>> {
    // The value starts at the first colon outside a quoted parameter value.
    let mut quoted = false;
    let colon = line.char_indices().find(|&(_, c)| {
        if c == '"' {
            quoted = !quoted;
        }
        c == ':' && !quoted
    })?;
    let (head, value) = (&line[..colon.0], &line[colon.0 + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    let params = parts.filter_map(|p| p.split_once('=').map(|(n, v)| (n.trim().to_ascii_uppercase(), v))).collect();
    Some(Property { name, params, value })
}

/// A DTSTART, DTEND, EXDATE or UNTIL value: a UTC instant, a local time in
/// a zone, or a date (all-day).
#[derive(Clone, Copy, Debug)]
enum When {
    Instant(DateTime<Utc>),
    Local(NaiveDateTime, Tz),
    Date(NaiveDate, Tz),
}

impl When {
    fn parse(value: &str, tzid: Option<&str>, date_only: bool, default_tz: Tz) -> Option<When> {
        let value = value.trim();
        let tz = tzid.and_then(|t| t.parse::<Tz>().ok()).unwrap_or(default_tz);
        if date_only || value.len() == 8 {
            return NaiveDate::parse_from_str(value, "%Y%m%d").ok().map(|d| When::Date(d, tz));
        }
        if let Some(utc) = value.strip_suffix('Z') {
            let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
            return Some(When::Instant(t.and_utc()));
        }
        NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok().map(|t| When::Local(t, tz))
    }

    fn instant(self) -> Option<DateTime<Utc>> {
        match self {
            When::Instant(t) => Some(t),
            When::Local(t, tz) => local_instant(tz, t),
            When::Date(d, tz) => local_instant(tz, d.and_hms_opt(0, 0, 0)?),
        }
    }

    /// The same wall-clock time `days` later (in the event's zone), so a
    /// repeated local meeting keeps its hour across a daylight-saving change.
    fn plus_days(self, days: i64) -> Option<When> {
        let step = TimeDelta::days(days);
        Some(match self {
            When::Instant(t) => When::Instant(t.checked_add_signed(step)?),
            When::Local(t, tz) => When::Local(t.checked_add_signed(step)?, tz),
            When::Date(d, tz) => When::Date(d.checked_add_signed(step)?, tz),
        })
    }

    fn weekday(self) -> Weekday {
        match self {
            When::Instant(t) => t.weekday(),
            When::Local(t, _) => t.weekday(),
            When::Date(d, _) => d.weekday(),
        }
    }
}

/// An ISO 8601 duration as RFC 5545 writes it: `P1D`, `PT1H30M`, `P1W`.
fn duration(value: &str) -> Option<TimeDelta> {
    let v = value.trim();
    let (sign, v) = match v.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, v.strip_prefix('+').unwrap_or(v)),
    };
    let v = v.strip_prefix('P')?;
    let mut total = TimeDelta::zero();
    let mut number = String::new();
    for c in v.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => {}
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                total += match unit {
                    'W' => TimeDelta::weeks(n),
                    'D' => TimeDelta::days(n),
                    'H' => TimeDelta::hours(n),
                    'M' => TimeDelta::minutes(n),
                    'S' => TimeDelta::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    Some(total * sign)
}

fn weekday_of(code: &str) -> Option<Weekday> {
    // BYDAY may carry an ordinal (`1MO`), which only monthly and yearly
    // rules use: the last two letters name the day.
    let code = code.trim();
    let day = code.get(code.len().checked_sub(2)?..)?;
    Some(match day.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

#[derive(Default)]
struct Event<'a> {
    start: Option<When>,
    end: Option<When>,
    duration: Option<TimeDelta>,
    rrule: Option<&'a str>,
    exdates: Vec<DateTime<Utc>>,
    free: bool,
}

/// Occurrences of a rule are not followed past this many, whatever the
/// rule says (a daily rule without end over two years is 731).
const MAX_OCCURRENCES: usize = 5_000;

/// The busy intervals of `text` that overlap `[from, until)`, clipped to it.
/// `default_tz` reads floating times and all-day dates (the interviewer's
/// zone). Unreadable events are skipped: a feed with one odd event still
/// gives the others.
pub fn busy_times(text: &str, default_tz: Tz, from: DateTime<Utc>, until: DateTime<Utc>) -> BusyTimes {
    let lines = unfold(text);
    let mut out = BusyTimes::default();
    let mut current: Option<Event> = None;
    for line in &lines {
        let Some(p) = property(line) else { continue };
        match (p.name.as_str(), p.value.trim().to_ascii_uppercase().as_str()) {
            ("BEGIN", "VEVENT") => current = Some(Event::default()),
            ("END", "VEVENT") => {
                if let Some(e) = current.take() {
                    expand(&e, from, until, &mut out);
                }
            }
            _ => {
                let Some(e) = current.as_mut() else { continue };
                let date_only = p.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
                let when = |v: &str| When::parse(v, p.param("TZID"), date_only, default_tz);
                match p.name.as_str() {
                    "DTSTART" => e.start = when(p.value),
                    "DTEND" => e.end = when(p.value),
                    "DURATION" => e.duration = duration(p.value),
                    "RRULE" => e.rrule = Some(p.value),
                    "EXDATE" => e.exdates.extend(p.value.split(',').filter_map(|v| when(v)?.instant())),
                    "TRANSP" => e.free |= p.value.trim().eq_ignore_ascii_case("TRANSPARENT"),
                    "STATUS" => e.free |= p.value.trim().eq_ignore_ascii_case("CANCELLED"),
                    _ => {}
                }
            }
        }
    }
    out.busy.sort();
    out
}

/// The parts of an RRULE this reader follows.
struct Rule<'a> {
    freq: &'a str,
    interval: i64,
    count: Option<usize>,
    end_at: Option<DateTime<Utc>>,
    by_day: Vec<Weekday>,
}

impl Rule<'_> {
    /// Reads a rule of an event starting at `start` (whose zone an UNTIL
    /// without one is read in); parts it does not follow are ignored.
    fn parse(rule: &str, start: When) -> Rule<'_> {
        let mut r = Rule { freq: "", interval: 1, count: None, end_at: None, by_day: Vec::new() };
        for part in rule.split(';') {
            let Some((k, v)) = part.split_once('=') else { continue };
            match k.trim().to_ascii_uppercase().as_str() {
                "FREQ" => r.freq = v.trim(),
                "INTERVAL" => r.interval = v.trim().parse().unwrap_or(1).max(1),
                "COUNT" => r.count = v.trim().parse().ok(),
                "UNTIL" => {
                    let tz = match start {
                        When::Local(_, tz) | When::Date(_, tz) => tz,
                        When::Instant(_) => chrono_tz::UTC,
                    };
                    r.end_at = When::parse(v, Some(tz.name()), false, tz).and_then(When::instant);
                }
                "BYDAY" => r.by_day = v.split(',').filter_map(weekday_of).collect(),
                _ => {}
            }
        }
        r
    }
}

fn expand(e: &Event, from: DateTime<Utc>, until: DateTime<Utc>, out: &mut BusyTimes) {
    let Some(start) = e.start else { return };
    if e.free {
        return;
    }
    // Without DTEND: DURATION, else a day for an all-day event and nothing
    // (an instant, busy for no time) otherwise.
    let length = |s: When| -> Option<TimeDelta> {
        let begin = s.instant()?;
        match (e.end, e.duration, s) {
            (Some(end), _, _) => Some(end.instant()? - start.instant()?),
            (None, Some(d), _) => Some(d),
            (None, None, When::Date(..)) => Some(s.plus_days(1)?.instant()? - begin),
            (None, None, _) => None,
        }
    };
    let push = |s: When, out: &mut BusyTimes| {
        let (Some(begin), Some(len)) = (s.instant(), length(s)) else { return };
        // All-day events keep whole local days, even across a change of offset.
        let end = match (s, e.end) {
            (When::Date(..), Some(When::Date(..))) | (When::Date(..), None) => {
                let days = len.num_days().max(1);
                s.plus_days(days).and_then(When::instant)
            }
            _ => begin.checked_add_signed(len),
        };
        let Some(end) = end else { return };
        if e.exdates.contains(&begin) {
            return;
        }
        if let Some(i) = Interval::new(begin.max(from), end.min(until)) {
            out.busy.push(i);
        }
    };
    let Some(rule) = e.rrule else {
        push(start, out);
        return;
    };
    let Rule { freq, interval, count, end_at, mut by_day } = Rule::parse(rule, start);
    let weekly = if freq.eq_ignore_ascii_case("WEEKLY") {
        true
    } else if freq.eq_ignore_ascii_case("DAILY") {
        false
    } else {
        out.unexpanded_rules += 1;
        push(start, out);
        return;
    };
    if by_day.is_empty() {
        by_day.push(start.weekday());
    }
    // Walk day by day from DTSTART: a day is an occurrence when it falls in
    // an active period (every INTERVAL days or weeks) on a listed weekday
    // (weekly) or at all (daily).
    let mut seen = 0usize;
    for day in 0.. {
        let Some(s) = start.plus_days(day) else { break };
        let Some(begin) = s.instant() else { continue };
        if end_at.is_some_and(|u| begin > u) || begin >= until || seen >= MAX_OCCURRENCES {
            break;
        }
        let period = if weekly { day / 7 } else { day };
        let matches = period % interval == 0 && (!weekly || by_day.contains(&s.weekday()));
        if !matches {
            continue;
        }
        seen += 1;
        if count.is_some_and(|c| seen > c) {
            break;
        }
        push(s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn cal(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n")
    }

    const NY: Tz = chrono_tz::America::New_York;

    fn range() -> (DateTime<Utc>, DateTime<Utc>) {
        (utc(2027, 1, 1, 0, 0), utc(2027, 12, 31, 0, 0))
    }

    #[test]
    fn reads_utc_zoned_floating_and_all_day_events() {
        let text = cal("BEGIN:VEVENT\r\nDTSTART:20270301T140000Z\r\nDTEND:20270301T150000Z\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20270302T090000\r\nDURATION:PT30M\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART:20270303T100000\r\nDTEND:20270303T110000\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270304\r\nDTEND;VALUE=DATE:20270305\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART:20270306T100000Z\r\nDTEND:20270306T110000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART:20270307T100000Z\r\nDTEND:20270307T110000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n");
        let (from, until) = range();
        let got = busy_times(&text, NY, from, until);
        let want = vec![
            Interval::new(utc(2027, 3, 1, 14, 0), utc(2027, 3, 1, 15, 0)).unwrap(),
            Interval::new(utc(2027, 3, 2, 8, 0), utc(2027, 3, 2, 8, 30)).unwrap(),
            // Floating: New York, EST.
            Interval::new(utc(2027, 3, 3, 15, 0), utc(2027, 3, 3, 16, 0)).unwrap(),
            // All day in New York.
            Interval::new(utc(2027, 3, 4, 5, 0), utc(2027, 3, 5, 5, 0)).unwrap(),
        ];
        assert_eq!(got.busy, want);
        assert_eq!(got.unexpanded_rules, 0);
    }

    #[test]
    fn a_weekly_meeting_keeps_its_local_hour_across_the_spring_change() {
        // 2027-03-14 is the change in New York: 09:00 is 14:00Z before, 13:00Z after.
        let text = cal("BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20270301T090000\r\n\
            DTEND;TZID=America/New_York:20270301T100000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n\
            EXDATE;TZID=America/New_York:20270308T090000\r\nEND:VEVENT\r\n");
        let (from, until) = range();
        let got = busy_times(&text, chrono_tz::UTC, from, until).busy;
        let starts: Vec<_> = got.iter().map(|i| i.start).collect();
        assert_eq!(starts, vec![utc(2027, 3, 1, 14, 0), utc(2027, 3, 15, 13, 0), utc(2027, 3, 22, 13, 0)]);
        assert!(got.iter().all(|i| i.end - i.start == TimeDelta::hours(1)));
    }

    #[test]
    fn weekly_by_day_interval_and_until_and_unexpanded_monthly_rules() {
        let text = cal("BEGIN:VEVENT\r\nDTSTART:20270301T120000Z\r\nDTEND:20270301T123000Z\r\n\
            RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20270320T000000Z\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART:20270301T080000Z\r\nDTEND:20270301T090000Z\r\nRRULE:FREQ=MONTHLY\r\nEND:VEVENT\r\n");
        let (from, until) = range();
        let got = busy_times(&text, NY, from, until);
        let starts: Vec<_> = got.busy.iter().map(|i| i.start).collect();
        assert_eq!(
            starts,
            vec![
                utc(2027, 3, 1, 8, 0),
                utc(2027, 3, 1, 12, 0),
                utc(2027, 3, 3, 12, 0),
                utc(2027, 3, 15, 12, 0),
                utc(2027, 3, 17, 12, 0)
            ]
        );
        assert_eq!(got.unexpanded_rules, 1);
    }

    #[test]
    fn folded_lines_and_clipping_to_the_range() {
        let text = cal(
            "BEGIN:VEVENT\r\nDTSTART;TZID=\"America/New_Y\r\n ork\":20270301T090000\r\nDTEND:20270301T\r\n\t150000Z\r\nEND:VEVENT\r\n",
        );
        let got = busy_times(&text, chrono_tz::UTC, utc(2027, 3, 1, 14, 30), utc(2027, 3, 1, 14, 45)).busy;
        assert_eq!(got, vec![Interval::new(utc(2027, 3, 1, 14, 30), utc(2027, 3, 1, 14, 45)).unwrap()]);
    }

    #[test]
    fn busy_times_remove_exactly_the_overlapping_slots_across_a_dst_change() {
        use crate::domain::scheduling::{Availability, WeeklyHours, free_slots};
        use chrono::NaiveTime;
        // Mondays 09:00-12:00 New York, hour slots; the weekly 10:00 meeting
        // takes the 10:00 slot before and after the change, nothing else.
        let av = Availability {
            timezone: NY,
            weekly: vec![WeeklyHours {
                weekday: Weekday::Mon,
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            }],
            one_off: vec![],
            buffer: TimeDelta::zero(),
            min_notice: TimeDelta::zero(),
        };
        let (from, until) = (utc(2027, 3, 8, 0, 0), utc(2027, 3, 16, 0, 0));
        let text = cal("BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20270301T100000\r\n\
            DTEND;TZID=America/New_York:20270301T110000\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n");
        let busy = busy_times(&text, NY, from, until).busy;
        let now = utc(2027, 1, 1, 0, 0);
        let all = free_slots(&av, TimeDelta::hours(1), &[], now, from, until);
        let free = free_slots(&av, TimeDelta::hours(1), &busy, now, from, until);
        let removed: Vec<_> = all.iter().filter(|s| !free.contains(s)).copied().collect();
        // EST (UTC-5) on the 8th, EDT (UTC-4) on the 15th.
        assert_eq!(removed, vec![utc(2027, 3, 8, 15, 0), utc(2027, 3, 15, 14, 0)]);
        assert_eq!(all.len(), 6);
    }
}
