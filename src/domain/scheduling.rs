//! Scheduling rules of interview self-booking: when an interviewer is open,
//! which slots a participant may pick, whether a picked slot is still free,
//! what a participant may still change, and when reminders go out.
//! Pure: callers pass `now` and the interviewer's other bookings.

use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use super::calendar::{self, local_of};

/// Ranges asked of [`windows`] and [`free_slots`] are cut to this many days: a
/// booking page never shows more, and an unbounded range would make the
/// day-by-day expansion unbounded too.
pub const MAX_SPAN_DAYS: i64 = 731;

/// Recurring weekly hours in the interviewer's own time zone, e.g. Monday 09:00-12:00.
/// Kept as local wall-clock times so they follow the interviewer through daylight-saving
/// changes. Hours whose end is not after their start give no window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeeklyHours {
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// An interviewer's availability.
#[derive(Clone, Debug, PartialEq)]
pub struct Availability {
    pub timezone: Tz,
    pub weekly: Vec<WeeklyHours>,
    /// One-off extra windows (UTC instants), e.g. a Saturday morning.
    pub one_off: Vec<Interval>,
    /// Free time kept before and after every booking. Negative counts as zero.
    pub buffer: TimeDelta,
    /// How long before its start a slot can still be booked. Negative counts as
    /// zero, so a slot that has already begun is never offered.
    pub min_notice: TimeDelta,
}

/// A half-open span of time `[start, end)`, so back-to-back bookings do not overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    /// None for empty or reversed spans, so every `Interval` built here has length.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Interval> {
        (start < end).then_some(Interval { start, end })
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The open windows of an availability between `from` and `until` (UTC), merged and sorted:
/// weekly hours expanded day by day in the interviewer's zone, plus one-off windows, clipped
/// to `[from, until)`. Local times follow the app's one rule ([`calendar::local_instant`], as
/// calendar clients read our `.ics` files): a time that does not exist (spring forward) is read
/// with the offset before the jump (02:30 is 03:30 EDT), an ambiguous one (fall back) is the
/// earlier instant, so a window never silently disappears or doubles.
pub fn windows(av: &Availability, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Interval> {
    let until = cap_until(from, until);
    merged_windows(av, from, until)
        .into_iter()
        .filter_map(|w| Interval::new(w.start.max(from), w.end.min(until)))
        .collect()
}

/// Free slot starts for an interview of `length`, starting in `[from, until)`.
///
/// Candidates step by `length` from the start of each merged window (not from `from` nor the
/// clock), so the grid a participant sees does not shift with the page they are on and
/// [`check_slot`] can recognise it. The whole interview fits in the window; a candidate is free
/// when `[start - buffer, end + buffer)` overlaps no busy interval, and bookable when
/// `start >= now + min_notice`. Sorted, deduplicated.
pub fn free_slots(
    av: &Availability,
    length: TimeDelta,
    busy: &[Interval],
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let Some(earliest) = now.checked_add_signed(non_negative(av.min_notice)) else { return Vec::new() };
    if length <= TimeDelta::zero() {
        return Vec::new();
    }
    let until = cap_until(from, until);
    let mut out = Vec::new();
    for w in merged_windows(av, from, until) {
        let mut next = first_step_at_or_after(w.start, length, from.max(earliest));
        while let Some(start) = next {
            let Some(end) = start.checked_add_signed(length) else { break };
            if start >= until || end > w.end {
                break;
            }
            if is_free(start, end, av.buffer, busy) {
                out.push(start);
            }
            next = Some(end);
        }
    }
    // Merged windows are sorted and disjoint, so `out` already is sorted and free of duplicates.
    out
}

/// Why a participant cannot book the slot they picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotRefusal {
    TooSoon,
    OutsideAvailability,
    Taken,
}

impl SlotRefusal {
    /// Catalog key of the message shown to the participant.
    pub fn key(&self) -> &'static str {
        match self {
            SlotRefusal::TooSoon => "slot.too_soon",
            SlotRefusal::OutsideAvailability => "slot.outside_availability",
            SlotRefusal::Taken => "slot.taken",
        }
    }
}

/// Whether a specific start is bookable now, by the same rules as [`free_slots`]: used at
/// booking time, because the page the participant saw may be stale. Time passing is checked
/// first since it is the likeliest reason a stale pick fails; then the availability (which may
/// have been edited), then other bookings. A non-positive `length` is outside availability.
pub fn check_slot(
    av: &Availability,
    length: TimeDelta,
    busy: &[Interval],
    now: DateTime<Utc>,
    start: DateTime<Utc>,
) -> Result<(), SlotRefusal> {
    match now.checked_add_signed(non_negative(av.min_notice)) {
        Some(earliest) if start >= earliest => {}
        _ => return Err(SlotRefusal::TooSoon),
    }
    let Some(end) = start.checked_add_signed(length).filter(|_| length > TimeDelta::zero()) else {
        return Err(SlotRefusal::OutsideAvailability);
    };
    let on_grid = merged_windows(av, start, end)
        .iter()
        .any(|w| w.start <= start && end <= w.end && nanos(start - w.start) % nanos(length) == 0);
    if !on_grid {
        return Err(SlotRefusal::OutsideAvailability);
    }
    if !is_free(start, end, av.buffer, busy) {
        return Err(SlotRefusal::Taken);
    }
    Ok(())
}

/// What a participant may still do with their booking. The limits keep interviewers'
/// calendars from churning at the last minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangePolicy {
    pub max_reschedules: u32,
    pub min_notice: TimeDelta,
}

impl Default for ChangePolicy {
    fn default() -> Self {
        ChangePolicy { max_reschedules: 2, min_notice: TimeDelta::hours(12) }
    }
}

/// Why a participant cannot change their booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeRefusal {
    TooLate,
    TooManyReschedules,
    NotActive,
}

impl ChangeRefusal {
    /// Catalog key of the message shown to the participant.
    pub fn key(&self) -> &'static str {
        match self {
            ChangeRefusal::TooLate => "change.too_late",
            ChangeRefusal::TooManyReschedules => "change.too_many",
            ChangeRefusal::NotActive => "change.not_active",
        }
    }
}

/// A reschedule is allowed when the booking is active, fewer than `max_reschedules` were made,
/// and `now + min_notice <= start`. Checked in that order so the participant hears the reason
/// that would remain true whatever the clock says.
pub fn may_reschedule(
    policy: &ChangePolicy,
    active: bool,
    reschedules: u32,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ChangeRefusal> {
    if !active {
        return Err(ChangeRefusal::NotActive);
    }
    if reschedules >= policy.max_reschedules {
        return Err(ChangeRefusal::TooManyReschedules);
    }
    match now.checked_add_signed(policy.min_notice) {
        Some(latest) if latest <= start => Ok(()),
        _ => Err(ChangeRefusal::TooLate),
    }
}

/// Cancelling is allowed while active and before the start, with no notice required: a person
/// who cannot come should always be able to say so.
pub fn may_cancel(active: bool, start: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ChangeRefusal> {
    if !active {
        Err(ChangeRefusal::NotActive)
    } else if now >= start {
        Err(ChangeRefusal::TooLate)
    } else {
        Ok(())
    }
}

/// Reminder instants before a start (e.g. 24 h and 1 h) as `(offset, instant)` pairs, earliest
/// first. Those already past at `now` are skipped: a reminder that can no longer arrive before
/// its offset is pointless. Negative offsets (after the start) are skipped as well.
pub fn reminder_times(
    start: DateTime<Utc>,
    offsets: &[TimeDelta],
    now: DateTime<Utc>,
) -> Vec<(TimeDelta, DateTime<Utc>)> {
    let mut out: Vec<_> = offsets
        .iter()
        .filter(|o| **o >= TimeDelta::zero())
        .filter_map(|&o| Some((o, start.checked_sub_signed(o)?)))
        .filter(|&(_, at)| at >= now)
        .collect();
    out.sort_by_key(|&(o, at)| (at, o));
    out.dedup();
    out
}

/// Parses "HH:MM-HH:MM" weekly-hours text as typed in a form ("09:00-12:00", "9:00 - 12:30").
/// An en dash is accepted too, as word processors turn "-" into one. Errors are English
/// sentences meant to be shown next to the field.
pub fn parse_hours(s: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let Some((a, b)) = s.split_once(['-', '–']) else {
        return Err(format!("\"{}\" is not a range of hours like 09:00-12:00.", s.trim()));
    };
    let (start, end) = (parse_time(a)?, parse_time(b)?);
    if end <= start {
        return Err("The end time must be after the start time.".to_string());
    }
    Ok((start, end))
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    let s = s.trim();
    let invalid = || format!("\"{s}\" is not a time of day like 09:00.");
    let (h, m) = s.split_once(':').ok_or_else(invalid)?;
    let digits = |t: &str, max_len| !t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(invalid());
    }
    let (h, m) = (h.parse().map_err(|_| invalid())?, m.parse().map_err(|_| invalid())?);
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(invalid)
}

/// All windows that overlap `[from, until)`, merged but not clipped: candidates align to a
/// window's real start, so it must not depend on the range asked. Windows merge when they
/// touch, which can chain across days only through one-off windows; the expansion therefore
/// widens to cover every one-off reaching into the range, plus a margin of local days.
fn merged_windows(av: &Availability, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Interval> {
    if from >= until {
        return Vec::new();
    }
    let day = TimeDelta::days(1);
    let (mut lo, mut hi) = (from, until);
    // Each round takes in one more one-off, so this ends after at most one round per one-off.
    let sticks_out = |o: &&Interval, lo, hi| {
        o.start <= saturating_add(hi, day) && saturating_add(lo, -day) <= o.end && (o.start < lo || o.end > hi)
    };
    while let Some(o) = av.one_off.iter().find(|o| sticks_out(o, lo, hi)) {
        (lo, hi) = (lo.min(o.start), hi.max(o.end));
    }
    let span = TimeDelta::days(MAX_SPAN_DAYS);
    lo = lo.max(saturating_add(from, -span));
    hi = hi.min(saturating_add(until, span));

    let mut all: Vec<Interval> = av.one_off.iter().filter(|o| o.start < o.end).copied().collect();
    let tz = av.timezone;
    // Two days in from chrono's ends, so local dates exist whatever the zone's offset.
    let (min, max) = (DateTime::<Utc>::MIN_UTC + day * 2, DateTime::<Utc>::MAX_UTC - day * 2);
    let first = local_of(tz, saturating_add(lo, day * -2).clamp(min, max));
    let last = local_of(tz, saturating_add(hi, day * 2).clamp(min, max));
    let (Some(first), Some(last)) = (first, last) else { return Vec::new() };
    let (mut date, last) = (first.date(), last.date());
    while date <= last {
        for w in av.weekly.iter().filter(|w| w.weekday == date.weekday() && w.start < w.end) {
            let start = calendar::local_instant(tz, date.and_time(w.start));
            let end = calendar::local_instant(tz, date.and_time(w.end));
            if let (Some(start), Some(end)) = (start, end)
                && let Some(i) = Interval::new(start, end)
            {
                all.push(i);
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    all.sort();
    let mut merged: Vec<Interval> = Vec::with_capacity(all.len());
    for i in all {
        match merged.last_mut() {
            Some(m) if i.start <= m.end => m.end = m.end.max(i.end),
            _ => merged.push(i),
        }
    }
    let range = Interval { start: from, end: until };
    merged.retain(|w| w.overlaps(&range));
    merged
}

fn is_free(start: DateTime<Utc>, end: DateTime<Utc>, buffer: TimeDelta, busy: &[Interval]) -> bool {
    let buffer = non_negative(buffer);
    let padded = Interval { start: saturating_add(start, -buffer), end: saturating_add(end, buffer) };
    !busy.iter().any(|b| b.overlaps(&padded))
}

/// The first point of the grid `origin + k * step` (k >= 0) at or after `t`.
fn first_step_at_or_after(origin: DateTime<Utc>, step: TimeDelta, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if t <= origin {
        return Some(origin);
    }
    let (diff, step) = (nanos(t - origin), nanos(step));
    let offset = (diff + step - 1) / step * step;
    let secs = i64::try_from(offset.div_euclid(1_000_000_000)).ok()?;
    let delta = TimeDelta::new(secs, offset.rem_euclid(1_000_000_000) as u32)?;
    origin.checked_add_signed(delta)
}

fn nanos(d: TimeDelta) -> i128 {
    i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
}

fn non_negative(d: TimeDelta) -> TimeDelta {
    d.max(TimeDelta::zero())
}

fn saturating_add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    let end = if d < TimeDelta::zero() { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC };
    t.checked_add_signed(d).unwrap_or(end)
}

fn cap_until(from: DateTime<Utc>, until: DateTime<Utc>) -> DateTime<Utc> {
    until.min(saturating_add(from, TimeDelta::days(MAX_SPAN_DAYS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2026 instant in UTC, written "MM-DD HH:MM" to keep the tables readable.
    fn at(s: &str) -> DateTime<Utc> {
        let s = if s.len() == 11 { format!("{s}:00") } else { s.to_string() };
        format!("2026-{}Z", s.replace(' ', "T")).parse().expect("test instant")
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("test time")
    }

    fn iv(a: &str, b: &str) -> Interval {
        Interval::new(at(a), at(b)).expect("test interval")
    }

    fn weekly(timezone: Tz, hours: &[(Weekday, NaiveTime, NaiveTime)]) -> Availability {
        Availability {
            timezone,
            weekly: hours.iter().map(|&(weekday, start, end)| WeeklyHours { weekday, start, end }).collect(),
            one_off: Vec::new(),
            buffer: TimeDelta::zero(),
            min_notice: TimeDelta::zero(),
        }
    }

    /// Mondays 09:00-12:00 UTC; 2026-03-02 is a Monday.
    fn monday_mornings() -> Availability {
        weekly(chrono_tz::UTC, &[(Weekday::Mon, hm(9, 0), hm(12, 0))])
    }

    const MON: &str = "03-02 00:00";
    const TUE: &str = "03-03 00:00";

    fn slots(av: &Availability, minutes: i64, busy: &[Interval], now: &str, from: &str) -> Vec<DateTime<Utc>> {
        free_slots(av, TimeDelta::minutes(minutes), busy, at(now), at(from), at(TUE))
    }

    fn on_monday(times: &[&str]) -> Vec<DateTime<Utc>> {
        times.iter().map(|t| at(&format!("03-02 {t}"))).collect()
    }

    #[test]
    fn shanghai_weekly_hours_become_utc_windows() {
        let av = weekly(chrono_tz::Asia::Shanghai, &[(Weekday::Mon, hm(9, 0), hm(12, 0))]);
        let got = windows(&av, at("03-01 00:00"), at("03-10 00:00"));
        let want = [iv("03-02 01:00", "03-02 04:00"), iv("03-09 01:00", "03-09 04:00")];
        assert_eq!(got, want);
        // Clipped to the range asked.
        let got = windows(&av, at("03-02 02:00"), at("03-05 00:00"));
        assert_eq!(got, [iv("03-02 02:00", "03-02 04:00")]);
    }

    #[test]
    fn new_york_windows_follow_daylight_saving() {
        let av = weekly(chrono_tz::America::New_York, &[(Weekday::Sun, hm(9, 0), hm(11, 0))]);
        let fall = windows(&av, at("10-24 00:00"), at("11-03 00:00"));
        let want = [iv("10-25 13:00", "10-25 15:00"), iv("11-01 14:00", "11-01 16:00")];
        assert_eq!(fall, want);
        let spring = windows(&av, at("02-28 00:00"), at("03-09 00:00"));
        let want = [iv("03-01 14:00", "03-01 16:00"), iv("03-08 13:00", "03-08 15:00")];
        assert_eq!(spring, want);
    }

    #[test]
    fn new_york_gap_and_overlap_hours_resolve_without_panic() {
        let ny = chrono_tz::America::New_York;
        let day = |a: &str, b: &str| (at(a), at(b));
        let (from, until) = day("03-08 00:00", "03-09 00:00");
        // 01:30 EST is 06:30Z; 03:00 EDT is 07:00Z: the lost hour is simply not there.
        let av = weekly(ny, &[(Weekday::Sun, hm(1, 30), hm(3, 0))]);
        assert_eq!(windows(&av, from, until), [iv("03-08 06:30", "03-08 07:00")]);
        // A start inside the gap is read with the offset before the jump (EST): 02:30 is
        // 07:30Z, shown as 03:30 EDT, as a calendar client reads the same local time.
        let av = weekly(ny, &[(Weekday::Sun, hm(2, 30), hm(4, 0))]);
        assert_eq!(windows(&av, from, until), [iv("03-08 07:30", "03-08 08:00")]);
        // Hours wholly inside the gap move with it, keeping their length.
        let av = weekly(ny, &[(Weekday::Sun, hm(2, 5), hm(2, 55))]);
        assert_eq!(windows(&av, from, until), [iv("03-08 07:05", "03-08 07:55")]);
        // Fall back: 01:30 happens twice; the earlier (EDT, 05:30Z) is taken.
        let av = weekly(ny, &[(Weekday::Sun, hm(1, 30), hm(2, 30))]);
        let (from, until) = day("11-01 00:00", "11-02 00:00");
        assert_eq!(windows(&av, from, until), [iv("11-01 05:30", "11-01 07:30")]);
    }

    #[test]
    fn slots_step_by_length_and_stop_before_the_window_end() {
        let av = monday_mornings();
        assert_eq!(slots(&av, 50, &[], MON, MON), on_monday(&["09:00", "09:50", "10:40"]));
        assert_eq!(slots(&av, 60, &[], MON, MON), on_monday(&["09:00", "10:00", "11:00"]));
        assert!(slots(&av, 181, &[], MON, MON).is_empty());
        // The grid stays on the window start, whatever `from` is.
        assert_eq!(slots(&av, 50, &[], MON, "03-02 09:30"), on_monday(&["09:50", "10:40"]));
    }

    #[test]
    fn slots_keep_the_buffer_around_busy_bookings() {
        let mut av = monday_mornings();
        av.buffer = TimeDelta::minutes(15);
        let busy = [iv("03-02 10:00", "03-02 11:00")];
        assert_eq!(slots(&av, 30, &busy, MON, MON), on_monday(&["09:00", "11:30"]));
        av.buffer = TimeDelta::zero();
        assert_eq!(slots(&av, 30, &busy, MON, MON), on_monday(&["09:00", "09:30", "11:00", "11:30"]));
    }

    #[test]
    fn slots_respect_min_notice() {
        let mut av = monday_mornings();
        av.min_notice = TimeDelta::hours(2);
        assert_eq!(slots(&av, 60, &[], "03-02 08:00", MON), on_monday(&["10:00", "11:00"]));
        assert_eq!(slots(&av, 60, &[], "03-02 08:00:01", MON), on_monday(&["11:00"]));
    }

    #[test]
    fn one_off_windows_add_slots_and_overlaps_merge() {
        let mut av = monday_mornings();
        av.one_off = vec![iv("03-02 10:00", "03-02 12:30"), iv("03-07 10:00", "03-07 11:00")];
        let (from, until) = (at(MON), at("03-08 00:00"));
        let want = [iv("03-02 09:00", "03-02 12:30"), iv("03-07 10:00", "03-07 11:00")];
        assert_eq!(windows(&av, from, until), want);
        let got = free_slots(&av, TimeDelta::hours(1), &[], at(MON), from, until);
        let mut want = on_monday(&["09:00", "10:00", "11:00"]);
        want.push(at("03-07 10:00"));
        assert_eq!(got, want);
        // A one-off over days keeps its grid whatever range is asked, and check_slot agrees.
        av.one_off = vec![iv("03-07 22:00", "03-09 02:00")];
        let got = free_slots(&av, TimeDelta::hours(5), &[], at(MON), at("03-08 12:00"), at("03-10 00:00"));
        assert_eq!(got, [at("03-08 13:00"), at("03-08 18:00")]);
        assert_eq!(check_slot(&av, TimeDelta::hours(5), &[], at(MON), at("03-08 13:00")), Ok(()));
        let off_grid = check_slot(&av, TimeDelta::hours(5), &[], at(MON), at("03-08 12:00"));
        assert_eq!(off_grid, Err(SlotRefusal::OutsideAvailability));
    }

    #[test]
    fn odd_inputs_give_nothing_rather_than_panic() {
        let mut av = weekly(chrono_tz::America::New_York, &[(Weekday::Mon, hm(12, 0), hm(9, 0))]);
        assert!(windows(&av, at(TUE), at(MON)).is_empty());
        assert!(windows(&av, at(MON), at("04-01 00:00")).is_empty());
        av.weekly.push(WeeklyHours { weekday: Weekday::Mon, start: hm(9, 0), end: hm(12, 0) });
        assert!(free_slots(&av, TimeDelta::zero(), &[], at(MON), at(MON), at(TUE)).is_empty());
        assert!(free_slots(&av, TimeDelta::minutes(-30), &[], at(MON), at(MON), at(TUE)).is_empty());
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        av.buffer = TimeDelta::MAX;
        av.min_notice = TimeDelta::MIN;
        assert!((104..=105).contains(&windows(&av, min, max).len()));
        assert!(windows(&av, max - TimeDelta::days(30), max).len() >= 4);
        assert!(free_slots(&av, TimeDelta::MAX, &[], min, min, max).is_empty());
        assert!(free_slots(&av, TimeDelta::hours(1), &[], max, min, max).is_empty());
        assert_eq!(check_slot(&av, TimeDelta::MAX, &[], min, max), Err(SlotRefusal::OutsideAvailability));
    }

    #[test]
    fn check_slot_says_why_a_start_is_refused() {
        let mut av = monday_mornings();
        av.min_notice = TimeDelta::hours(1);
        let busy = [iv("03-02 10:00", "03-02 11:00")];
        let check = |now: &str, start: &str| check_slot(&av, TimeDelta::hours(1), &busy, at(now), at(start));
        assert_eq!(check(MON, "03-02 09:00"), Ok(()));
        assert_eq!(check(MON, "03-02 11:00"), Ok(()));
        assert_eq!(check(MON, "03-02 10:00"), Err(SlotRefusal::Taken));
        assert_eq!(check("03-02 08:00:01", "03-02 09:00"), Err(SlotRefusal::TooSoon));
        assert_eq!(check(MON, "03-02 11:30"), Err(SlotRefusal::OutsideAvailability));
        assert_eq!(check(MON, "03-02 09:10"), Err(SlotRefusal::OutsideAvailability));
        assert_eq!(check(MON, "03-03 09:00"), Err(SlotRefusal::OutsideAvailability));
        assert_eq!(SlotRefusal::Taken.key(), "slot.taken");
        assert_eq!(SlotRefusal::TooSoon.key(), "slot.too_soon");
        assert_eq!(SlotRefusal::OutsideAvailability.key(), "slot.outside_availability");
    }

    #[test]
    fn check_slot_accepts_exactly_what_free_slots_offers() {
        let mut av = weekly(chrono_tz::Europe::Berlin, &[(Weekday::Mon, hm(9, 0), hm(12, 0))]);
        av.one_off = vec![iv("03-02 10:20", "03-02 13:00")];
        av.buffer = TimeDelta::minutes(10);
        let busy = [iv("03-02 09:00", "03-02 09:30")];
        let length = TimeDelta::minutes(45);
        let offered = free_slots(&av, length, &busy, at(MON), at(MON), at(TUE));
        assert_eq!(offered, on_monday(&["08:00", "10:15", "11:00", "11:45"]));
        let mut start = at("03-02 07:00");
        while start < at("03-02 14:00") {
            assert_eq!(check_slot(&av, length, &busy, at(MON), start).is_ok(), offered.contains(&start), "{start}");
            start += TimeDelta::minutes(5);
        }
    }

    #[test]
    fn reschedule_needs_notice_and_a_remaining_reschedule() {
        let policy = ChangePolicy::default();
        assert_eq!(policy, ChangePolicy { max_reschedules: 2, min_notice: TimeDelta::hours(12) });
        let start = at("03-02 12:00");
        let may = |active, n, now: &str| may_reschedule(&policy, active, n, start, at(now));
        assert_eq!(may(true, 0, "03-02 00:00"), Ok(()));
        assert_eq!(may(true, 1, "03-02 00:00"), Ok(()));
        assert_eq!(may(true, 0, "03-02 00:00:01"), Err(ChangeRefusal::TooLate));
        assert_eq!(may(true, 2, "03-01 00:00"), Err(ChangeRefusal::TooManyReschedules));
        assert_eq!(may(false, 0, "03-01 00:00"), Err(ChangeRefusal::NotActive));
        assert_eq!(ChangeRefusal::TooLate.key(), "change.too_late");
        assert_eq!(ChangeRefusal::TooManyReschedules.key(), "change.too_many");
        assert_eq!(ChangeRefusal::NotActive.key(), "change.not_active");
        // Cancelling needs no notice, only a start still ahead.
        assert_eq!(may_cancel(true, start, at("03-02 11:59:59")), Ok(()));
        assert_eq!(may_cancel(true, start, start), Err(ChangeRefusal::TooLate));
        assert_eq!(may_cancel(false, start, at(MON)), Err(ChangeRefusal::NotActive));
    }

    #[test]
    fn reminders_skip_past_ones_and_come_earliest_first() {
        let start = at("03-03 10:00");
        let (day, hour) = (TimeDelta::hours(24), TimeDelta::hours(1));
        let both = reminder_times(start, &[hour, day], at("03-02 10:00"));
        assert_eq!(both, [(day, at("03-02 10:00")), (hour, at("03-03 09:00"))]);
        let late = reminder_times(start, &[hour, day], at("03-02 12:00"));
        assert_eq!(late, [(hour, at("03-03 09:00"))]);
        assert!(reminder_times(start, &[hour, day], at("03-03 09:30")).is_empty());
    }

    #[test]
    fn parse_hours_reads_form_text() {
        assert_eq!(parse_hours("9:00-12:30"), Ok((hm(9, 0), hm(12, 30))));
        assert_eq!(parse_hours(" 09:00 - 12:30 "), Ok((hm(9, 0), hm(12, 30))));
        assert_eq!(parse_hours("09:00–12:30"), Ok((hm(9, 0), hm(12, 30))));
        for bad in ["12:00-09:00", "09:00-09:00", "25:00-26:00", "abc", "", "9-12", "09:60-10:00", "+9:00-10:00"] {
            let err = parse_hours(bad).expect_err(bad);
            assert!(err.ends_with('.') && err.len() > 10, "{bad}: {err}");
        }
    }
}
