//! A deterministic synthetic organisation: a directory and a stream of
//! messaging events shaped so that the activity model (spec sections 1-5) has
//! something to find: many people log in, far fewer actually collaborate.
//!
//! Pure: no I/O and no clock. Every day draws from its own RNG derived from
//! the seed and the day index, so the stream is produced one day at a time in
//! constant memory. Every person also draws from their own RNG, so asking for
//! more people leaves the first ones unchanged.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use chrono_tz::Tz;
use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug)]
pub struct DemoParams {
    pub people: u32,
    pub days: u32,
    pub seed: u64,
    /// Last day of data (local date in `tz`).
    pub end: NaiveDate,
    pub tz: Tz,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoPerson {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub department: String,
    pub title: String,
    pub location: String,
    pub start_date: Option<NaiveDate>,
    pub archetype: Archetype,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archetype {
    Collaborator,
    /// Works in the tool on some days only, with one or two feature
    /// families: around the deep rule's thresholds, where a change of
    /// settings moves people between deep and shallow.
    Borderline,
    PunchInReader,
    Lurker,
    Dormant,
    Newcomer,
    Occasional,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoEvent {
    /// Index into the `people` slice given to [`events`].
    pub user_id_index: u32,
    /// Unix seconds.
    pub ts: i64,
    pub kind: &'static str,
    pub channel: Option<String>,
    pub channel_type: Option<&'static str>,
    pub duration_seconds: Option<u32>,
}

/// (name, channel slug, head-count weight, titles), in rollout order: a pilot
/// department first, the others following over the first 40% of the period
/// and one late (see [`SHAPES`]), as real rollouts do; that is what gives
/// the "new" tier and the adoption curves something to show.
const DEPTS: [(&str, &str, u32, [&str; 3]); 8] = [
    ("Engineering", "engineering", 25, ["Software Engineer", "Senior Software Engineer", "Engineering Manager"]),
    ("Customer Support", "support", 15, ["Support Agent", "Support Specialist", "Support Team Lead"]),
    ("Sales", "sales", 18, ["Account Executive", "Sales Representative", "Sales Manager"]),
    ("Operations", "operations", 12, ["Operations Analyst", "Operations Coordinator", "Operations Manager"]),
    ("Marketing", "marketing", 10, ["Marketing Specialist", "Content Manager", "Marketing Manager"]),
    ("Finance", "finance", 8, ["Accountant", "Financial Analyst", "Finance Manager"]),
    ("HR", "hr", 6, ["HR Generalist", "Recruiter", "HR Business Partner"]),
    ("Legal", "legal", 6, ["Legal Counsel", "Paralegal", "Compliance Officer"]),
];
/// Who posts to the broadcast channel, by preference (HR, Marketing).
const ANNOUNCERS: [usize; 2] = [6, 4];

/// The order of a [`Shape`]'s mix.
const ARCHETYPES: [Archetype; 7] = {
    use Archetype::*;
    [Collaborator, Borderline, PunchInReader, Lurker, Occasional, Dormant, Newcomer]
};

/// How a department takes the tool up, so that departments tell different
/// stories on the adoption page.
struct Shape {
    /// Rollout day, in thousandths of the period.
    rollout: u64,
    /// People start using the tool spread over this many days after their
    /// start date: the login rate ramps up over weeks, not at once.
    ramp_days: u32,
    /// Weights of the archetypes, in [`ARCHETYPES`] order.
    mix: [u32; 7],
    /// Of the dormant, the share who tried the tool for a while first.
    tried: f64,
}

/// In [`DEPTS`] order. Engineering is healthy (many work in the tool);
/// Customer Support is the false prosperity (nearly everyone logs in, to
/// punch in and read, few work in it); Sales stalls (slow uptake, many try
/// and stop); Legal gets the tool late; the others are in between.
const SHAPES: [Shape; 8] = [
    Shape { rollout: 0, ramp_days: 28, mix: [58, 14, 4, 6, 6, 4, 8], tried: 0.6 },
    Shape { rollout: 60, ramp_days: 10, mix: [5, 5, 64, 12, 6, 2, 6], tried: 0.6 },
    Shape { rollout: 120, ramp_days: 63, mix: [12, 10, 14, 8, 20, 30, 6], tried: 0.9 },
    Shape { rollout: 180, ramp_days: 35, mix: [30, 14, 22, 12, 10, 6, 6], tried: 0.6 },
    Shape { rollout: 230, ramp_days: 35, mix: [28, 14, 24, 12, 10, 6, 6], tried: 0.6 },
    Shape { rollout: 280, ramp_days: 35, mix: [26, 16, 24, 12, 10, 6, 6], tried: 0.6 },
    Shape { rollout: 330, ramp_days: 35, mix: [28, 14, 22, 12, 12, 6, 6], tried: 0.6 },
    Shape { rollout: 700, ramp_days: 30, mix: [30, 14, 20, 12, 12, 6, 6], tried: 0.6 },
];

/// Feature families beyond text, as bits of `Member::families`.
const VOICE: u8 = 1;
const VIDEO: u8 = 2;
const FILES: u8 = 4;
const DOCS: u8 = 8;
/// Days after first use over which a collaborator's share of interactive
/// days grows to its full level: depth comes after logging in.
const LEARNING_DAYS: u32 = 21;

const FIRST_NAMES: [&str; 24] = [
    "Wei", "Fang", "Jing", "Lei", "Min", "Yan", "Hao", "Xin", "Tao", "Li", "Jun", "Ying", "Emma", "Liam", "Olivia",
    "Noah", "Sophia", "Lucas", "Mia", "Ethan", "Chloe", "Daniel", "Grace", "Ryan",
];
const LAST_NAMES: [&str; 20] = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Smith",
    "Brown", "Taylor", "Wilson", "Clark", "Walker",
];
const LOCATIONS: [(&str, u32); 6] =
    [("Shanghai", 30), ("Beijing", 20), ("Shenzhen", 15), ("Hangzhou", 10), ("Singapore", 5), ("London", 5)];

const ANNOUNCEMENTS: &str = "b-announcements";
const TEAM_SIZE: usize = 10;
const H: i64 = 3600;
/// Newcomers start within this many last days of the period.
const NEWCOMER_SPAN: u32 = 20;
/// Dormant people are quiet for at least the default metrics window.
const QUIET_DAYS: u32 = 28;
/// Keeps person streams apart from day streams (days are small integers).
const PEOPLE_STREAM: u64 = 1 << 40;

pub fn people(p: &DemoParams) -> Vec<DemoPerson> {
    (0..p.people)
        .map(|i| {
            let (d, hide_start, mut rng) = draws(p, i);
            let id = format!("p{:05}@demo.example", i + 1);
            let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
            let title = DEPTS[d.dept].3[weighted(&mut rng, [6, 3, 1].into_iter())];
            DemoPerson {
                user_id: id.clone(),
                name: format!("{first} {last}"),
                email: id,
                department: DEPTS[d.dept].0.to_string(),
                title: title.to_string(),
                location: LOCATIONS[weighted(&mut rng, LOCATIONS.iter().map(|l| l.1))].0.to_string(),
                start_date: (!hide_start).then(|| day_date(p, d.start)),
                archetype: d.arch,
            }
        })
        .collect()
}

/// The departments with their rollout dates (no one in a department has
/// events before it), in rollout order.
pub fn rollout_dates(p: &DemoParams) -> Vec<(&'static str, NaiveDate)> {
    (0..DEPTS.len()).map(|k| (DEPTS[k].0, day_date(p, rollout_day(k, p.days)))).collect()
}

/// Events day by day, in time order within each day, for all people;
/// streaming: memory must not grow with `days` (generate one day at a time internally).
pub fn events<'a>(p: &'a DemoParams, people: &'a [DemoPerson]) -> impl Iterator<Item = DemoEvent> + 'a {
    let (mut org, mut day) = (Org::new(p, people), 0);
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    std::iter::from_fn(move || {
        loop {
            // `out` holds the current day latest first: popping yields time
            // order and keeps the vector's capacity for the next day.
            if let Some(e) = out.pop() {
                return Some(e);
            }
            if day >= p.days {
                return None;
            }
            org.day(day, &mut buf, &mut out);
            day += 1;
        }
    })
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(stream)))
}

fn first_day(p: &DemoParams) -> NaiveDate {
    p.end.checked_sub_days(Days::new(p.days.saturating_sub(1) as u64)).unwrap_or(p.end)
}

fn day_date(p: &DemoParams, day: u32) -> NaiveDate {
    first_day(p).checked_add_days(Days::new(day as u64)).unwrap_or(p.end)
}

fn rollout_day(dept: usize, days: u32) -> u32 {
    (days as u64 * SHAPES[dept].rollout / 1000) as u32
}

fn weighted<R: Rng>(rng: &mut R, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let mut r = rng.random_range(0..weights.clone().sum::<u32>());
    for (k, w) in weights.enumerate() {
        if r < w {
            return k;
        }
        r -= w;
    }
    0
}

/// What `events` needs to know about a person (team aside) and whether the
/// directory hides their start date, drawn first from their own RNG, which is
/// returned so `people` can go on drawing names from it. `events` calls it
/// again for people whose start date is hidden, so both agree on it.
fn draws(p: &DemoParams, i: u32) -> (Member, bool, ChaCha8Rng) {
    let mut rng = stream_rng(p.seed, PEOPLE_STREAM ^ i as u64);
    let dept = weighted(&mut rng, DEPTS.iter().map(|d| d.2));
    let shape = &SHAPES[dept];
    let arch = ARCHETYPES[weighted(&mut rng, shape.mix.into_iter())];
    let (rollout, last_day) = (rollout_day(dept, p.days), p.days.saturating_sub(1));
    let start_day = match arch {
        Archetype::Newcomer => last_day.saturating_sub(rng.random_range(0..NEWCOMER_SPAN)),
        _ => rollout + rng.random_range(0..3),
    };
    // Some newcomers are missing from HR's sheet: onboarding then falls back
    // to their first event (spec section 5).
    let hide_start = arch == Archetype::Newcomer && rng.random_bool(0.35);
    let start = start_day.min(last_day).max(rollout);
    // A newcomer starts using the tool on day one (that is why they came);
    // the others whenever they get round to it.
    let delay = match arch {
        Archetype::Newcomer => 0,
        _ => rng.random_range(0..shape.ramp_days.max(1)),
    };
    // Extra feature families: collaborators vary from text only (shallow
    // by breadth) to all five; borderline people use one or two.
    let extra = match arch {
        Archetype::Collaborator | Archetype::Newcomer => weighted(&mut rng, [8, 22, 28, 22, 20].into_iter()),
        Archetype::Borderline => weighted(&mut rng, [35, 50, 15].into_iter()),
        _ => 0,
    };
    let mut families = 0u8;
    let mut bits = vec![VOICE, VIDEO, FILES, DOCS];
    for _ in 0..extra {
        families |= bits.swap_remove(rng.random_range(0..bits.len()));
    }
    let zeal = match arch {
        Archetype::Borderline => rng.random_range(0.3..0.8),
        _ => 1.0,
    };
    let early = rng.random_bool(shape.tried);
    (Member { dept, team: 0, arch, start, delay, early, families, zeal }, hide_start, rng)
}

#[derive(Clone, Copy)]
struct Member {
    dept: usize,
    team: usize,
    arch: Archetype,
    start: u32,
    /// Days from the start date to first use.
    delay: u32,
    /// A dormant person who tried the tool for a while after first use.
    early: bool,
    /// Feature families used besides text (bits VOICE, VIDEO, FILES, DOCS).
    families: u8,
    /// Of a borderline person's days in the tool, the share they work in it.
    zeal: f64,
}

impl Member {
    fn adopt(&self) -> u32 {
        self.start + self.delay
    }
}

/// The organisation as the generator sees it, plus per-day lists that are
/// cleared and refilled each day (keeping their capacity).
struct Org {
    seed: u64,
    days: u32,
    tz: Tz,
    first: NaiveDate,
    m: Vec<Member>,
    team_names: Vec<String>,
    /// Present today, by team: anyone present may read a team channel.
    team_all: Vec<Vec<u32>>,
    /// Collaborators present today, by team and by department: the people who
    /// answer, meet and call.
    team_rep: Vec<Vec<u32>>,
    dept_rep: Vec<Vec<u32>>,
    /// 0 absent, 1 present, 2 present and interacting today.
    today: Vec<u8>,
}

impl Org {
    fn new(p: &DemoParams, people: &[DemoPerson]) -> Org {
        let mut team_names = Vec::new();
        let mut dept_teams: Vec<Vec<usize>> = vec![Vec::new(); DEPTS.len()];
        let mut dept_count = [0usize; DEPTS.len()];
        let mut m = Vec::with_capacity(people.len());
        for (i, person) in people.iter().enumerate() {
            let hidden = draws(p, i as u32).0;
            let dept = DEPTS.iter().position(|d| d.0 == person.department).unwrap_or(hidden.dept);
            let local = dept_count[dept] / TEAM_SIZE;
            dept_count[dept] += 1;
            if local == dept_teams[dept].len() {
                dept_teams[dept].push(team_names.len());
                team_names.push(format!("g-{}-{}", DEPTS[dept].1, local + 1));
            }
            let start = match person.start_date {
                Some(s) => (s - first_day(p)).num_days().clamp(0, u32::MAX as i64) as u32,
                None => hidden.start,
            };
            let start = start.max(rollout_day(dept, p.days));
            m.push(Member { dept, team: dept_teams[dept][local], arch: person.archetype, start, ..hidden });
        }
        Org {
            seed: p.seed,
            days: p.days,
            tz: p.tz,
            first: first_day(p),
            team_all: vec![Vec::new(); team_names.len()],
            team_rep: vec![Vec::new(); team_names.len()],
            dept_rep: vec![Vec::new(); DEPTS.len()],
            today: vec![0; m.len()],
            team_names,
            m,
        }
    }

    /// Decides who shows up on day `d` and who interacts.
    fn roll_call(&mut self, d: u32, weekend: bool, rng: &mut ChaCha8Rng) {
        self.team_all.iter_mut().chain(&mut self.team_rep).chain(&mut self.dept_rep).for_each(Vec::clear);
        for (i, m) in self.m.iter().enumerate() {
            // (present on a weekday, on a weekend day, interacts when present)
            let (adopt, used) = (m.adopt(), d.saturating_sub(m.adopt()));
            let learning = (0.3 + 0.7 * used as f64 / LEARNING_DAYS as f64).min(1.0);
            let (weekday, weekend_p, interact) = match m.arch {
                _ if d < m.start || d < adopt => (0.0, 0.0, 0.0),
                Archetype::Collaborator => (0.93, 0.12, learning),
                Archetype::Borderline => (0.9, 0.05, m.zeal * learning),
                Archetype::Newcomer => (0.9, 0.08, 1.0),
                Archetype::PunchInReader => (0.97, 0.03, 0.0),
                // About one interactive day a week: enough to be shallow, never deep.
                Archetype::Lurker => (0.85, 0.05, 0.2),
                Archetype::Occasional => (0.8, 0.05, 0.2),
                Archetype::Dormant if m.early && used < 14 && d + QUIET_DAYS < self.days => (0.6, 0.0, 0.2),
                Archetype::Dormant => (0.0, 0.0, 0.0),
            };
            let present = rng.random_bool(if weekend { weekend_p } else { weekday });
            let state = if !present { 0 } else { 1 + rng.random_bool(interact) as u8 };
            self.today[i] = state;
            if state > 0 {
                self.team_all[m.team].push(i as u32);
            }
            if state == 2 && matches!(m.arch, Archetype::Collaborator | Archetype::Borderline | Archetype::Newcomer) {
                self.team_rep[m.team].push(i as u32);
                self.dept_rep[m.dept].push(i as u32);
            }
        }
    }

    /// Day `d` into `out`, latest first; `buf` is scratch space.
    fn day(&mut self, d: u32, buf: &mut Vec<DemoEvent>, out: &mut Vec<DemoEvent>) {
        let date = self.first.checked_add_days(Days::new(d as u64)).unwrap_or(self.first);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let mut rng = stream_rng(self.seed, d as u64);
        self.roll_call(d, weekend, &mut rng);
        Gen { org: self, buf, rng: &mut rng }.run(d, weekend);
        sessions(buf, out, &mut rng);
        let base = local_base(self.tz, date);
        for e in out.iter_mut() {
            e.ts = base + e.ts.clamp(0, 24 * H - 1);
        }
        out.sort_by_key(|e| std::cmp::Reverse((e.ts, e.user_id_index)));
    }
}

/// The Unix instant of local 00:00 as seen from local noon. Noon's offset
/// keeps working hours exact on daylight-saving days (transitions happen at
/// night, and nothing here is generated before about 08:30).
fn local_base(tz: Tz, date: NaiveDate) -> i64 {
    let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
    super::calendar::local_instant(tz, noon).map_or_else(|| noon.and_utc().timestamp(), |t| t.timestamp()) - 12 * H
}

/// Channel and channel type of an event.
type Ch = (Option<String>, Option<&'static str>);
const NO_CH: Ch = (None, None);

fn direct(a: u32, b: u32) -> Ch {
    let (x, y) = if a < b { (a + 1, b + 1) } else { (b + 1, a + 1) };
    (Some(format!("d-{x}-{y}")), Some("direct"))
}

fn announcements() -> Ch {
    (Some(ANNOUNCEMENTS.to_string()), Some("broadcast"))
}

/// One day's raw events, in local seconds of the day, in no particular order.
struct Gen<'o> {
    org: &'o Org,
    buf: &'o mut Vec<DemoEvent>,
    rng: &'o mut ChaCha8Rng,
}

impl Gen<'_> {
    fn push(&mut self, who: u32, ts: i64, kind: &'static str, (channel, channel_type): Ch, dur: Option<u32>) {
        self.buf.push(DemoEvent { user_id_index: who, ts, kind, channel, channel_type, duration_seconds: dur });
    }

    fn team(&self, i: u32) -> Ch {
        (Some(self.org.team_names[self.org.m[i as usize].team].clone()), Some("group"))
    }

    fn pick(&mut self, list: &[u32]) -> u32 {
        list[self.rng.random_range(0..list.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn range<T: SampleUniform, S: SampleRange<T>>(&mut self, r: S) -> T {
        self.rng.random_range(r)
    }

    /// A time of day with office rhythm: mornings and afternoons, a lunch
    /// dip and a thin evening tail; weekends are loose.
    fn when(&mut self, weekend: bool) -> i64 {
        let r: f64 = self.rng.random();
        match r {
            _ if weekend => self.range(10 * H..21 * H),
            ..0.46 => self.range(9 * H..12 * H),
            ..0.52 => self.range(12 * H..13 * H + 1800),
            ..0.96 => self.range(13 * H + 1800..18 * H),
            _ => self.range(18 * H..21 * H),
        }
    }

    /// Most replies come within minutes, a few after a meeting or so.
    fn reply_gap(&mut self) -> i64 {
        let r: f64 = self.rng.random();
        match r {
            ..0.25 => self.range(20..90),
            ..0.85 => self.range(90..600),
            _ => self.range(600..2400),
        }
    }

    /// A collaborating colleague other than `i`: from the team if possible.
    fn partner(&mut self, i: u32) -> Option<u32> {
        let (org, m) = (self.org, self.org.m[i as usize]);
        for list in [&org.team_rep[m.team], &org.dept_rep[m.dept]] {
            if list.iter().any(|&j| j != i) {
                for _ in 0..4 {
                    let j = self.pick(list);
                    if j != i {
                        return Some(j);
                    }
                }
            }
        }
        None
    }

    fn run(&mut self, d: u32, weekend: bool) {
        let org = self.org;
        if !weekend && self.chance(0.4) {
            let from = ANNOUNCERS.into_iter().chain(0..DEPTS.len()).find(|&k| !org.dept_rep[k].is_empty());
            if let Some(k) = from {
                let (who, t) = (self.pick(&org.dept_rep[k]), self.range(10 * H..11 * H + 1800));
                self.push(who, t, "message_sent", announcements(), None);
            }
        }
        for i in 0..org.m.len() as u32 {
            let (state, m) = (org.today[i as usize], org.m[i as usize]);
            if state == 0 {
                continue;
            }
            let a = if weekend { self.range(10 * H..20 * H) } else { self.range(8 * H + 1800..9 * H + 2700) };
            if m.arch == Archetype::PunchInReader && !weekend {
                self.push(i, a, "check_in", NO_CH, None);
            }
            let a = a + self.range(0..300);
            self.push(i, a, "notification_read", NO_CH, None);
            match m.arch {
                // Still learning: some days only reading.
                Archetype::Collaborator if state == 2 => self.collaborate(i, weekend, 2),
                Archetype::Borderline if state == 2 => self.collaborate(i, weekend, 1),
                Archetype::Newcomer if d >= m.start + 3 => self.collaborate(i, weekend, 1),
                Archetype::Newcomer => {
                    self.reads(i, 2, weekend);
                    if self.chance(0.5) {
                        let t = self.when(weekend);
                        self.conversation(i, t);
                    }
                }
                _ => {
                    let n = self.range(0..=2);
                    self.reads(i, n, weekend);
                }
            }
            if state == 2 && m.arch == Archetype::Lurker {
                // A reaction now and then: the only interaction a lurker has.
                let t = self.when(weekend);
                let ch = if self.chance(0.6) { self.team(i) } else { announcements() };
                let before = t - self.range(10..120);
                self.push(i, before, "message_read", ch.clone(), None);
                self.push(i, t, "reaction", ch, None);
            } else if state == 2 && matches!(m.arch, Archetype::Occasional | Archetype::Dormant) {
                // Text only: a single feature family keeps them shallow.
                for _ in 0..self.range(1..=2) {
                    let t = self.when(weekend);
                    self.conversation(i, t);
                }
            }
        }
    }

    fn collaborate(&mut self, i: u32, weekend: bool, max_conversations: u32) {
        if weekend {
            let t = self.when(true);
            return self.conversation(i, t);
        }
        let n = self.range(0..=1);
        self.reads(i, n, false);
        for _ in 0..self.range(1..=max_conversations) {
            let t = self.when(false);
            self.conversation(i, t);
        }
        let families = self.org.m[i as usize].families;
        if families & VIDEO != 0 && self.chance(0.35) {
            self.meeting(i);
        }
        if families & VOICE != 0 && self.chance(0.3) {
            self.call(i);
        }
        if families & FILES != 0 && self.chance(0.35) {
            self.file(i);
        }
        if families & DOCS != 0 && self.chance(0.35) {
            let mut t = self.when(false);
            for _ in 0..self.range(1..=2) {
                self.push(i, t, "doc_edit", NO_CH, None);
                t += self.range(120..900);
            }
        }
    }

    /// Passive reading spread over the day.
    fn reads(&mut self, i: u32, n: u32, weekend: bool) {
        for _ in 0..n {
            let (t, r): (i64, f64) = (self.when(weekend), self.rng.random());
            match r {
                ..0.55 => self.push(i, t, "message_read", self.team(i), None),
                ..0.8 => self.push(i, t, "message_read", announcements(), None),
                _ => self.push(i, t, "notification_read", NO_CH, None),
            }
        }
    }

    /// `i` starts a text exchange: a direct back-and-forth with a colleague,
    /// or a post in the team channel that teammates answer, react to and read.
    /// `i` itself only sends, reads and reacts (the text family).
    fn conversation(&mut self, i: u32, t0: i64) {
        if let Some(j) = self.partner(i).filter(|_| self.chance(0.6)) {
            let (ch, who, n) = (direct(i, j), [i, j], self.range(2..=4) as usize);
            let mut t = t0;
            for k in 0..n {
                if k > 0 {
                    t += self.reply_gap();
                    if self.chance(0.3) {
                        let read = t - self.range(5..40);
                        self.push(who[k % 2], read, "message_read", ch.clone(), None);
                    }
                }
                self.push(who[k % 2], t, "message_sent", ch.clone(), None);
            }
            if self.chance(0.3) {
                let t = t + self.range(20..300);
                self.push(who[n % 2], t, "reaction", ch, None);
            }
            return;
        }
        let (org, ch) = (self.org, self.team(i));
        let team = org.m[i as usize].team;
        self.push(i, t0, "message_sent", ch.clone(), None);
        let reps = &org.team_rep[team];
        if reps.iter().any(|&j| j != i) {
            let mut t = t0;
            for _ in 0..self.range(0..=2) {
                let j = self.pick(reps);
                if j != i {
                    t += self.reply_gap();
                    self.push(j, t, "message_sent", ch.clone(), None);
                }
            }
            for _ in 0..self.range(0..=2) {
                let (j, t) = (self.pick(reps), t0 + self.range(30..1800));
                if j != i {
                    self.push(j, t, "reaction", ch.clone(), None);
                }
            }
        }
        if self.chance(0.5) {
            let (j, t) = (self.pick(&org.team_all[team]), t0 + self.range(30..1200));
            if j != i {
                self.push(j, t, "message_read", ch, None);
            }
        }
    }

    fn meeting(&mut self, i: u32) {
        let org = self.org;
        let reps = &org.team_rep[org.m[i as usize].team];
        let t = self.when(false).min(17 * H) / 1800 * 1800;
        let (dur, ch) = (300 * self.range(3..=12), self.team(i));
        let mut who = vec![i];
        for _ in 0..self.range(1..=4) {
            let j = self.pick(reps);
            // Only people who use video join (feature breadth stays theirs).
            if !who.contains(&j) && org.m[j as usize].families & VIDEO != 0 {
                who.push(j);
            }
        }
        for j in who {
            let join = t + self.range(0..120);
            self.push(j, join, "meeting", ch.clone(), Some(dur));
        }
        if self.chance(0.5) {
            let (start, len) = (t + self.range(120..600), self.range(300..=1200));
            self.push(i, start, "screen_share", ch, Some(len));
        }
    }

    /// A voice call; a video call when both use video. The partner's side
    /// is recorded when the partner uses that family (else they took it on
    /// another device the export does not see).
    fn call(&mut self, i: u32) {
        if let Some(j) = self.partner(i) {
            let (mine, theirs) = (self.org.m[i as usize].families, self.org.m[j as usize].families);
            let (kind, family) = if mine & theirs & VIDEO != 0 && self.chance(0.5) {
                ("video_call", VIDEO)
            } else {
                ("voice_call", VOICE)
            };
            let (t, dur) = (self.when(false), self.range(60..=1800));
            self.push(i, t, kind, direct(i, j), Some(dur));
            if theirs & family != 0 {
                self.push(j, t, kind, direct(i, j), Some(dur));
            }
        }
    }

    fn file(&mut self, i: u32) {
        let t = self.when(false);
        match self.partner(i).filter(|_| self.chance(0.5)) {
            Some(j) => {
                self.push(i, t, "file_shared", direct(i, j), None);
                let read = t + self.reply_gap();
                self.push(j, read, "message_read", direct(i, j), None);
            }
            None => self.push(i, t, "file_shared", self.team(i), None),
        }
    }
}

/// Adds the session boundaries the activity model looks for: a `login`
/// before each burst of activity (after a gap of more than 30 minutes) and,
/// sometimes, a `logout` after one. Moves `buf` into `out`.
fn sessions(buf: &mut Vec<DemoEvent>, out: &mut Vec<DemoEvent>, rng: &mut ChaCha8Rng) {
    let bare = |who, ts, kind| DemoEvent {
        user_id_index: who,
        ts,
        kind,
        channel: None,
        channel_type: None,
        duration_seconds: None,
    };
    let logout = |out: &mut Vec<DemoEvent>, prev: Option<(u32, i64)>, rng: &mut ChaCha8Rng| {
        if let Some((who, t)) = prev.filter(|_| rng.random_bool(0.25)) {
            out.push(bare(who, t + rng.random_range(5..300), "logout"));
        }
    };
    buf.sort_by_key(|e| (e.user_id_index, e.ts));
    let mut prev: Option<(u32, i64)> = None;
    for e in buf.drain(..) {
        if prev.is_none_or(|(who, t)| who != e.user_id_index || e.ts - t > 30 * 60) {
            logout(out, prev, rng);
            out.push(bare(e.user_id_index, (e.ts - rng.random_range(3..90)).max(0), "login"));
        }
        prev = Some((e.user_id_index, e.ts));
        out.push(e);
    }
    logout(out, prev, rng);
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERACTIVE: [&str; 8] =
        ["message_sent", "reaction", "voice_call", "video_call", "meeting", "screen_share", "file_shared", "doc_edit"];

    fn generate(people_n: u32, days: u32, seed: u64) -> (DemoParams, Vec<DemoPerson>, Vec<DemoEvent>) {
        let end = NaiveDate::from_ymd_opt(2026, 5, 29).unwrap();
        let p = DemoParams { people: people_n, days, seed, end, tz: chrono_tz::Asia::Shanghai };
        let ps = people(&p);
        let es = events(&p, &ps).collect();
        (p, ps, es)
    }

    fn local_day(p: &DemoParams, ts: i64) -> NaiveDate {
        chrono::DateTime::from_timestamp(ts, 0).unwrap().with_timezone(&p.tz).date_naive()
    }

    #[test]
    fn same_seed_same_output_other_seed_differs() {
        let a = generate(60, 20, 7);
        assert_eq!(a.1, generate(60, 20, 7).1);
        assert_eq!(a.2, generate(60, 20, 7).2);
        assert_ne!(a.2, generate(60, 20, 8).2);
        // People draw from their own streams: more people keep the first ones.
        assert_eq!(generate(90, 20, 7).1[..60], a.1[..]);
    }

    #[test]
    fn directory_shape() {
        let p = DemoParams { people: 500, days: 120, seed: 1, end: NaiveDate::MAX, tz: Tz::UTC };
        let (ps, rollouts) = (people(&p), rollout_dates(&p));
        assert_eq!((ps[41].user_id.as_str(), ps[41].email.as_str()), ("p00042@demo.example", "p00042@demo.example"));
        let mut dates: Vec<_> = rollouts.iter().map(|r| r.1).collect();
        dates.dedup();
        assert!(dates.len() == 8 && dates.windows(2).all(|w| w[0] < w[1]), "{dates:?}");
        // Seven departments within the first 40% of the period, one late.
        assert!(dates[6] <= day_date(&p, 48) && dates[7] >= day_date(&p, 80), "{dates:?}");
        for x in &ps {
            let rollout = rollouts.iter().find(|r| r.0 == x.department).unwrap().1;
            assert!(x.start_date.is_none_or(|s| s >= rollout));
            if x.archetype == Archetype::Newcomer {
                assert!(x.start_date.is_none_or(|s| s > p.end - chrono::Duration::days(NEWCOMER_SPAN as i64)));
            }
        }
        assert!(ps.iter().any(|x| x.archetype == Archetype::Newcomer && x.start_date.is_none()));
        let collaborators = ps.iter().filter(|x| x.archetype == Archetype::Collaborator).count();
        assert!((110..=190).contains(&collaborators), "{collaborators}");
        // The departments' mixes differ: readers fill Customer Support.
        let share = |dept: &str, arch: Archetype| {
            let xs: Vec<_> = ps.iter().filter(|x| x.department == dept).collect();
            xs.iter().filter(|x| x.archetype == arch).count() as f64 / xs.len() as f64
        };
        assert!(share("Customer Support", Archetype::PunchInReader) > 0.5);
        assert!(share("Engineering", Archetype::Collaborator) > 0.4);
    }

    #[test]
    fn nothing_before_rollout_or_start_and_time_ordered() {
        let (p, ps, es) = generate(300, 40, 3);
        let rollouts = rollout_dates(&p);
        assert!(es.windows(2).all(|w| w[0].ts <= w[1].ts));
        for e in &es {
            let (x, day) = (&ps[e.user_id_index as usize], local_day(&p, e.ts));
            assert!(day >= first_day(&p) && day <= p.end);
            assert!(day >= rollouts.iter().find(|r| r.0 == x.department).unwrap().1);
            assert!(x.start_date.is_none_or(|s| day >= s), "{e:?} before {x:?}");
        }
    }

    #[test]
    fn punch_in_readers_never_interact() {
        let (_, ps, es) = generate(300, 30, 4);
        let readers: Vec<_> =
            es.iter().filter(|e| ps[e.user_id_index as usize].archetype == Archetype::PunchInReader).collect();
        assert!(!readers.is_empty() && readers.iter().all(|e| !INTERACTIVE.contains(&e.kind)));
    }

    #[test]
    fn volume_and_weekly_rhythm() {
        let (p, _, es) = generate(200, 30, 5);
        let rate = es.len() as f64 / (200.0 * 30.0);
        assert!((1.0..=8.0).contains(&rate), "{rate} events/person/day");
        // After the last rollout (day 12), weekends are much quieter.
        let (mut weekday, mut weekend) = ([0.0, 0.0], [0.0, 0.0]);
        for d in 12..30 {
            let date = day_date(&p, d);
            let n = es.iter().filter(|e| local_day(&p, e.ts) == date).count() as f64;
            let slot = if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) { &mut weekend } else { &mut weekday };
            *slot = [slot[0] + n, slot[1] + 1.0];
        }
        assert!(weekend[0] / weekend[1] * 3.0 < weekday[0] / weekday[1], "{weekend:?} vs {weekday:?}");
    }

    /// Each archetype lands in the tier it is meant to show, by the spec's
    /// rules over the last 28 days.
    #[test]
    fn archetypes_reach_their_tiers() {
        let (p, ps, es) = generate(400, 140, 6);
        #[derive(Default, Clone)]
        struct Acc {
            last: i64,
            open: bool,
            engaged_now: bool,
            sessions: u32,
            engaged: u32,
            days: Vec<NaiveDate>,
            families: u8,
        }
        let close = |a: &mut Acc| {
            (a.sessions, a.engaged) = (a.sessions + a.open as u32, a.engaged + (a.open && a.engaged_now) as u32);
            a.open = false;
        };
        let mut acc = vec![Acc::default(); ps.len()];
        for e in es.iter().filter(|e| local_day(&p, e.ts) > p.end - chrono::Duration::days(28)) {
            let a = &mut acc[e.user_id_index as usize];
            if a.open && e.ts - a.last > 30 * 60 {
                close(a);
            }
            (a.engaged_now, a.open, a.last) = (a.engaged_now && a.open, true, e.ts);
            if let Some(k) = INTERACTIVE.iter().position(|k| *k == e.kind) {
                a.engaged_now = true;
                a.families |= 1 << [0, 0, 1, 2, 2, 2, 3, 4][k];
                a.days.push(local_day(&p, e.ts));
                a.days.dedup();
            }
            if e.kind == "logout" {
                close(a);
            }
        }
        acc.iter_mut().for_each(close);
        // People who started using the tool, and finished learning it,
        // before the window (the late department's people have not).
        let settled: Vec<bool> = (0..ps.len() as u32)
            .map(|i| draws(&p, i).0.adopt() + LEARNING_DAYS + 28 <= p.days && ps[i as usize].department != "Legal")
            .collect();
        let share = |arch: Archetype, f: &dyn Fn(&Acc) -> bool| {
            let xs: Vec<_> = (0..ps.len())
                .filter(|&i| {
                    settled[i]
                        && ps[i].archetype == arch
                        && (arch != Archetype::Collaborator || draws(&p, i as u32).0.families != 0)
                })
                .map(|i| &acc[i])
                .collect();
            assert!(xs.len() >= 5, "{arch:?}: {}", xs.len());
            xs.iter().filter(|a| f(a)).count() as f64 / xs.len() as f64
        };
        let deep = |a: &Acc| a.days.len() >= 8 && a.families.count_ones() >= 2 && 2 * a.engaged >= a.sessions;
        let silent = |a: &Acc| a.sessions > 0 && a.days.is_empty();
        assert!(share(Archetype::Collaborator, &deep) > 0.8);
        // Borderline people straddle the deep rule: some deep, some not.
        let borderline = share(Archetype::Borderline, &deep);
        assert!((0.05..0.7).contains(&borderline), "{borderline}");
        // Feature breadth takes every value from 0 to 5.
        let mut breadths: Vec<u32> = acc.iter().map(|a| a.families.count_ones()).collect();
        breadths.sort_unstable();
        breadths.dedup();
        assert_eq!(breadths, [0, 1, 2, 3, 4, 5]);
        assert_eq!(share(Archetype::PunchInReader, &silent), 1.0);
        for arch in [Archetype::Lurker, Archetype::Occasional] {
            assert_eq!(share(arch, &deep), 0.0, "{arch:?}");
            assert!(share(arch, &|a| !a.days.is_empty()) > 0.5, "{arch:?} mostly shallow");
        }
        assert_eq!(share(Archetype::Dormant, &|a| a.sessions > 0), 0.0);
    }
}
