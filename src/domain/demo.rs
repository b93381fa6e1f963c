//! A deterministic synthetic organisation: a directory and a stream of
//! messaging events shaped so that the activity model (spec sections 1-5) has
//! something to find: many people log in, far fewer actually collaborate.
//!
//! Pure: no I/O and no clock. Every day draws from its own RNG derived from
//! the seed and the day index, so the stream can be produced one day at a
//! time in constant memory and any day is reproducible on its own. Every
//! person likewise draws from their own RNG, so growing `people` keeps the
//! earlier people unchanged.

use chrono::{Datelike, Days, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
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

/// (name, channel slug, head-count weight, titles). The order is the rollout
/// order: a pilot department first, the rest following over the first 40% of
/// the period, which is what real rollouts look like and what makes the
/// "new" tier and per-department comparisons non-trivial.
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
const HR: usize = 6;
const MARKETING: usize = 4;

const ARCHETYPES: [(Archetype, u32); 6] = [
    (Archetype::Collaborator, 30),
    (Archetype::PunchInReader, 25),
    (Archetype::Lurker, 15),
    (Archetype::Occasional, 15),
    (Archetype::Dormant, 8),
    (Archetype::Newcomer, 7),
];

const FIRST_NAMES: [&str; 24] = [
    "Wei", "Fang", "Jing", "Lei", "Min", "Yan", "Hao", "Xin", "Tao", "Li", "Jun", "Ying", "Emma", "Liam", "Olivia",
    "Noah", "Sophia", "Lucas", "Mia", "Ethan", "Chloe", "Daniel", "Grace", "Ryan",
];
const LAST_NAMES: [&str; 20] = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Smith",
    "Brown", "Taylor", "Wilson", "Clark", "Walker",
];
const LOCATIONS: [&str; 6] = ["Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Singapore", "London"];

const DIRECT: &str = "direct";
const GROUP: &str = "group";
const BROADCAST: &str = "broadcast";
const ANNOUNCEMENTS: &str = "b-announcements";
const TEAM_SIZE: usize = 10;
const H: i64 = 3600;
const DAY: i64 = 86_400;
/// The Newcomer start dates fall in the last this-many days.
const NEWCOMER_SPAN: u32 = 20;
/// Dormant people are quiet for at least the default metrics window.
const QUIET_DAYS: u32 = 28;
/// Keeps person streams apart from day streams (days are small integers).
const PEOPLE_STREAM: u64 = 1 << 40;

pub fn people(p: &DemoParams) -> Vec<DemoPerson> {
    (0..p.people)
        .map(|i| {
            let d = draws(p, i);
            let n = i + 1;
            let id = format!("p{n:05}@demo.example");
            let start = (!d.hide_start).then(|| day_date(p, d.start_day));
            DemoPerson {
                user_id: id.clone(),
                name: format!("{} {}", FIRST_NAMES[d.first], LAST_NAMES[d.last]),
                email: id,
                department: DEPTS[d.dept].0.to_string(),
                title: DEPTS[d.dept].3[d.title].to_string(),
                location: LOCATIONS[d.location].to_string(),
                start_date: start,
                archetype: d.arch,
            }
        })
        .collect()
}

/// The departments with their rollout dates (the first day anyone in them
/// can have events), in rollout order.
pub fn rollout_dates(p: &DemoParams) -> Vec<(&'static str, NaiveDate)> {
    (0..DEPTS.len()).map(|k| (DEPTS[k].0, day_date(p, rollout_day(k, p.days)))).collect()
}

/// Events day by day, in time order within each day, for all people;
/// streaming: memory must not grow with `days` (generate one day at a time internally).
pub fn events<'a>(p: &'a DemoParams, people: &'a [DemoPerson]) -> impl Iterator<Item = DemoEvent> + 'a {
    DayStream { p, org: Org::new(p, people), day: 0, buf: Vec::new(), out: Vec::new() }
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
    (days as u64 * 2 / 5 * dept as u64 / (DEPTS.len() as u64 - 1)) as u32
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

struct Draws {
    dept: usize,
    arch: Archetype,
    start_day: u32,
    hide_start: bool,
    early: bool,
    first: usize,
    last: usize,
    title: usize,
    location: usize,
}

/// Everything random about one person. `events` calls it again for people
/// whose start date is hidden from the directory, so both agree on when
/// they really started.
fn draws(p: &DemoParams, i: u32) -> Draws {
    let mut rng = stream_rng(p.seed, PEOPLE_STREAM ^ i as u64);
    let dept = weighted(&mut rng, DEPTS.iter().map(|d| d.2));
    let arch = ARCHETYPES[weighted(&mut rng, ARCHETYPES.iter().map(|a| a.1))].0;
    let rollout = rollout_day(dept, p.days);
    let last_day = p.days.saturating_sub(1);
    let start_day = match arch {
        Archetype::Newcomer => rollout.max(last_day.saturating_sub(rng.random_range(0..NEWCOMER_SPAN))),
        _ => rollout + rng.random_range(0..3),
    }
    .min(last_day.max(rollout));
    Draws {
        dept,
        arch,
        start_day,
        // Some newcomers are missing from HR's sheet: onboarding then falls
        // back to their first event (spec section 5).
        hide_start: arch == Archetype::Newcomer && rng.random_bool(0.35),
        early: rng.random_bool(0.6),
        first: rng.random_range(0..FIRST_NAMES.len()),
        last: rng.random_range(0..LAST_NAMES.len()),
        title: weighted(&mut rng, [6u32, 3, 1].into_iter()),
        location: weighted(&mut rng, [30u32, 20, 15, 10, 5, 5].into_iter()),
    }
}

#[derive(Clone, Copy)]
struct Member {
    dept: usize,
    team: usize,
    arch: Archetype,
    start: u32,
    early: bool,
}

/// The organisation as the generator needs it, plus per-day lists that are
/// cleared and refilled each day (their capacity is kept, so memory does not
/// grow with the number of days).
struct Org {
    seed: u64,
    days: u32,
    tz: Tz,
    first: NaiveDate,
    m: Vec<Member>,
    team_names: Vec<String>,
    /// Present today, by team (anyone can read a team channel).
    team_all: Vec<Vec<u32>>,
    /// Present and collaborating today: the people who answer and meet.
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
        let m: Vec<Member> = people
            .iter()
            .enumerate()
            .map(|(i, person)| {
                let hidden = || draws(p, i as u32);
                let dept = DEPTS.iter().position(|d| d.0 == person.department).unwrap_or_else(|| hidden().dept);
                let local = dept_count[dept] / TEAM_SIZE;
                dept_count[dept] += 1;
                if local == dept_teams[dept].len() {
                    dept_teams[dept].push(team_names.len());
                    team_names.push(format!("g-{}-{}", DEPTS[dept].1, local + 1));
                }
                let start = match person.start_date {
                    Some(s) => (s - first_day(p)).num_days().clamp(0, u32::MAX as i64) as u32,
                    None => hidden().start_day,
                };
                let start = start.max(rollout_day(dept, p.days));
                Member { dept, team: dept_teams[dept][local], arch: person.archetype, start, early: hidden().early }
            })
            .collect();
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

    /// Decides who shows up on day `d` and who collaborates.
    fn roll_call(&mut self, d: u32, weekend: bool, rng: &mut ChaCha8Rng) {
        for l in self.team_all.iter_mut().chain(&mut self.team_rep).chain(&mut self.dept_rep) {
            l.clear();
        }
        for (i, m) in self.m.iter().enumerate() {
            let (weekday, weekend_p, interact) = match m.arch {
                _ if d < m.start => (0.0, 0.0, 0.0),
                Archetype::Collaborator => (0.93, 0.12, 1.0),
                Archetype::Newcomer => (0.9, 0.08, 1.0),
                Archetype::PunchInReader => (0.97, 0.03, 0.0),
                Archetype::Lurker => (0.85, 0.05, 0.2),
                Archetype::Occasional => (0.8, 0.05, 0.2),
                // Tried the tool right after rollout, then stopped for good.
                Archetype::Dormant if m.early && d < m.start + 10 && d + QUIET_DAYS < self.days => (0.6, 0.0, 0.2),
                Archetype::Dormant => (0.0, 0.0, 0.0),
            };
            let present = rng.random_bool(if weekend { weekend_p } else { weekday });
            let state = if !present {
                0
            } else if rng.random_bool(interact) {
                2
            } else {
                1
            };
            self.today[i] = state;
            if state > 0 {
                self.team_all[m.team].push(i as u32);
            }
            if state == 2 && matches!(m.arch, Archetype::Collaborator | Archetype::Newcomer) {
                self.team_rep[m.team].push(i as u32);
                self.dept_rep[m.dept].push(i as u32);
            }
        }
    }

    fn day(&mut self, d: u32, buf: &mut Vec<DemoEvent>, out: &mut Vec<DemoEvent>) {
        let date = self.first.checked_add_days(Days::new(d as u64)).unwrap_or(self.first);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let mut rng = stream_rng(self.seed, d as u64);
        self.roll_call(d, weekend, &mut rng);
        Gen { org: self, buf }.run(d, weekend, &mut rng);
        sessions(buf, out, &mut rng);
        let base = local_base(self.tz, date);
        for e in out.iter_mut() {
            e.ts = base + e.ts.clamp(0, DAY - 1);
        }
        // Descending, so that popping from the end yields time order.
        out.sort_by(|a, b| (b.ts, b.user_id_index).cmp(&(a.ts, a.user_id_index)));
    }
}

/// The Unix instant of local 00:00 as seen from local noon. Using noon's
/// offset keeps working hours exact on daylight-saving days (transitions
/// happen at night, and nothing here is generated before ~08:30).
fn local_base(tz: Tz, date: NaiveDate) -> i64 {
    let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&noon).earliest() {
        Some(t) => t.timestamp() - 12 * H,
        None => noon.and_utc().timestamp() - 12 * H,
    }
}

/// A time of day (seconds) with office rhythm: mornings and afternoons,
/// a lunch dip and a thin evening tail.
fn work_secs<R: Rng>(rng: &mut R) -> i64 {
    let r: f64 = rng.random();
    if r < 0.46 {
        rng.random_range(9 * H..12 * H)
    } else if r < 0.52 {
        rng.random_range(12 * H..13 * H + 1800)
    } else if r < 0.96 {
        rng.random_range(13 * H + 1800..18 * H)
    } else {
        rng.random_range(18 * H..21 * H)
    }
}

fn arrival<R: Rng>(rng: &mut R, weekend: bool) -> i64 {
    if weekend { rng.random_range(10 * H..20 * H) } else { rng.random_range(8 * H + 1800..9 * H + 2700) }
}

/// Most replies come within minutes, a few after a meeting or so.
fn reply_gap<R: Rng>(rng: &mut R) -> i64 {
    let r: f64 = rng.random();
    if r < 0.25 {
        rng.random_range(20..90)
    } else if r < 0.85 {
        rng.random_range(90..600)
    } else {
        rng.random_range(600..2400)
    }
}

fn direct_channel(a: u32, b: u32) -> String {
    let (x, y) = if a < b { (a + 1, b + 1) } else { (b + 1, a + 1) };
    format!("d-{x}-{y}")
}

fn pick<R: Rng>(rng: &mut R, list: &[u32]) -> u32 {
    list[rng.random_range(0..list.len())]
}

/// One day's raw events, in local seconds of the day, in no particular order.
struct Gen<'o> {
    org: &'o Org,
    buf: &'o mut Vec<DemoEvent>,
}

impl Gen<'_> {
    fn push(
        &mut self,
        who: u32,
        t: i64,
        kind: &'static str,
        channel: Option<String>,
        ct: Option<&'static str>,
        dur: Option<u32>,
    ) {
        self.buf.push(DemoEvent { user_id_index: who, ts: t, kind, channel, channel_type: ct, duration_seconds: dur });
    }

    fn team(&self, i: u32) -> Option<String> {
        Some(self.org.team_names[self.org.m[i as usize].team].clone())
    }

    /// A collaborating colleague other than `i`: from the team if possible.
    fn partner<R: Rng>(&self, i: u32, rng: &mut R) -> Option<u32> {
        let m = self.org.m[i as usize];
        for list in [&self.org.team_rep[m.team], &self.org.dept_rep[m.dept]] {
            if list.iter().any(|&j| j != i) {
                for _ in 0..4 {
                    let j = pick(rng, list);
                    if j != i {
                        return Some(j);
                    }
                }
            }
        }
        None
    }

    fn run<R: Rng>(&mut self, d: u32, weekend: bool, rng: &mut R) {
        if !weekend && rng.random_bool(0.4) {
            let org = self.org;
            let from = [HR, MARKETING].into_iter().chain(0..DEPTS.len()).find(|&k| !org.dept_rep[k].is_empty());
            if let Some(k) = from {
                let who = pick(rng, &org.dept_rep[k]);
                let t = rng.random_range(10 * H..11 * H + 1800);
                self.push(who, t, "message_sent", Some(ANNOUNCEMENTS.into()), Some(BROADCAST), None);
            }
        }
        for i in 0..self.org.m.len() as u32 {
            let state = self.org.today[i as usize];
            if state == 0 {
                continue;
            }
            let interacting = state == 2;
            let m = self.org.m[i as usize];
            let a = arrival(rng, weekend);
            match m.arch {
                Archetype::Collaborator => self.collaborate(i, a, weekend, 3, rng),
                Archetype::Newcomer if d < m.start + 3 => {
                    self.push(i, a, "notification_read", None, None, None);
                    self.reads(i, 2, weekend, rng);
                    if rng.random_bool(0.5) {
                        let t = self.when(weekend, rng);
                        self.conversation(i, t, rng);
                    }
                }
                Archetype::Newcomer => self.collaborate(i, a, weekend, 2, rng),
                Archetype::PunchInReader => {
                    if !weekend {
                        self.push(i, a, "check_in", None, None, None);
                    }
                    self.push(i, a + rng.random_range(30..300), "notification_read", None, None, None);
                    let n = rng.random_range(1..=3);
                    self.reads(i, n, weekend, rng);
                }
                Archetype::Lurker | Archetype::Occasional | Archetype::Dormant => {
                    self.push(i, a, "notification_read", None, None, None);
                    let n = rng.random_range(1..=3);
                    self.reads(i, n, weekend, rng);
                    if interacting && m.arch == Archetype::Lurker {
                        // One reaction now and then: the only interaction a lurker has.
                        let t = self.when(weekend, rng);
                        let (ch, ct) = if rng.random_bool(0.6) {
                            (self.team(i), GROUP)
                        } else {
                            (Some(ANNOUNCEMENTS.into()), BROADCAST)
                        };
                        self.push(i, t - rng.random_range(10..120), "message_read", ch.clone(), Some(ct), None);
                        self.push(i, t, "reaction", ch, Some(ct), None);
                    } else if interacting {
                        // Text only: one feature family keeps them shallow.
                        for _ in 0..rng.random_range(1..=2) {
                            let t = self.when(weekend, rng);
                            self.conversation(i, t, rng);
                        }
                    }
                }
            }
        }
    }

    fn when<R: Rng>(&self, weekend: bool, rng: &mut R) -> i64 {
        if weekend { rng.random_range(10 * H..21 * H) } else { work_secs(rng) }
    }

    fn collaborate<R: Rng>(&mut self, i: u32, a: i64, weekend: bool, max_conv: u32, rng: &mut R) {
        self.push(i, a, "notification_read", None, None, None);
        if weekend {
            let t = self.when(true, rng);
            self.conversation(i, t, rng);
            return;
        }
        let n = rng.random_range(0..=2);
        self.reads(i, n, false, rng);
        for _ in 0..rng.random_range(1..=max_conv) {
            let t = work_secs(rng);
            self.conversation(i, t, rng);
        }
        if rng.random_bool(0.3) {
            self.meeting(i, rng);
        }
        if rng.random_bool(0.2) {
            self.call(i, rng);
        }
        if rng.random_bool(0.25) {
            self.file(i, rng);
        }
        if rng.random_bool(0.35) {
            let mut t = work_secs(rng);
            for _ in 0..rng.random_range(1..=3) {
                self.push(i, t, "doc_edit", None, None, None);
                t += rng.random_range(120..900);
            }
        }
    }

    /// Passive reading spread over the day.
    fn reads<R: Rng>(&mut self, i: u32, n: u32, weekend: bool, rng: &mut R) {
        for _ in 0..n {
            let t = self.when(weekend, rng);
            let r: f64 = rng.random();
            if r < 0.55 {
                let ch = self.team(i);
                self.push(i, t, "message_read", ch, Some(GROUP), None);
            } else if r < 0.8 {
                self.push(i, t, "message_read", Some(ANNOUNCEMENTS.into()), Some(BROADCAST), None);
            } else {
                self.push(i, t, "notification_read", None, None, None);
            }
        }
    }

    /// `i` starts a text exchange: a direct back-and-forth with a colleague,
    /// or a post in the team channel that teammates answer, react to, read.
    /// `i` itself only ever sends, reads and reacts (text family).
    fn conversation<R: Rng>(&mut self, i: u32, t0: i64, rng: &mut R) {
        if rng.random_bool(0.6) {
            if let Some(j) = self.partner(i, rng) {
                let ch = direct_channel(i, j);
                let who = [i, j];
                let n = rng.random_range(2..=6);
                let mut t = t0;
                for k in 0..n {
                    let s = who[k % 2];
                    if k > 0 {
                        t += reply_gap(rng);
                        if rng.random_bool(0.5) {
                            self.push(
                                s,
                                t - rng.random_range(5..40),
                                "message_read",
                                Some(ch.clone()),
                                Some(DIRECT),
                                None,
                            );
                        }
                    }
                    self.push(s, t, "message_sent", Some(ch.clone()), Some(DIRECT), None);
                }
                if rng.random_bool(0.3) {
                    self.push(who[n % 2], t + rng.random_range(20..300), "reaction", Some(ch), Some(DIRECT), None);
                }
                return;
            }
        }
        let org = self.org;
        let m = org.m[i as usize];
        let ch = self.team(i);
        self.push(i, t0, "message_sent", ch.clone(), Some(GROUP), None);
        let reps = &org.team_rep[m.team];
        if reps.iter().any(|&j| j != i) {
            let mut t = t0;
            for _ in 0..rng.random_range(0..=3) {
                let j = pick(rng, reps);
                if j != i {
                    t += reply_gap(rng);
                    self.push(j, t, "message_sent", ch.clone(), Some(GROUP), None);
                }
            }
            for _ in 0..rng.random_range(0..=2) {
                let j = pick(rng, reps);
                if j != i {
                    self.push(j, t0 + rng.random_range(30..1800), "reaction", ch.clone(), Some(GROUP), None);
                }
            }
        }
        let all = &org.team_all[m.team];
        for _ in 0..rng.random_range(0..=2) {
            let j = pick(rng, all);
            if j != i {
                self.push(j, t0 + rng.random_range(30..3600), "message_read", ch.clone(), Some(GROUP), None);
            }
        }
    }

    fn meeting<R: Rng>(&mut self, i: u32, rng: &mut R) {
        let org = self.org;
        let reps = &org.team_rep[org.m[i as usize].team];
        let t = work_secs(rng).min(17 * H) / 1800 * 1800;
        let dur = 300 * rng.random_range(3..=12);
        let ch = self.team(i);
        let mut who = vec![i];
        for _ in 0..rng.random_range(1..=4) {
            let j = pick(rng, reps);
            if !who.contains(&j) {
                who.push(j);
            }
        }
        for &j in &who {
            self.push(j, t + rng.random_range(0..120), "meeting", ch.clone(), Some(GROUP), Some(dur));
        }
        if rng.random_bool(0.5) {
            self.push(
                i,
                t + rng.random_range(120..600),
                "screen_share",
                ch,
                Some(GROUP),
                Some(rng.random_range(300..1200)),
            );
        }
    }

    fn call<R: Rng>(&mut self, i: u32, rng: &mut R) {
        if let Some(j) = self.partner(i, rng) {
            let kind = if rng.random_bool(0.5) { "voice_call" } else { "video_call" };
            let (t, dur) = (work_secs(rng), rng.random_range(60..1800));
            let ch = direct_channel(i, j);
            self.push(i, t, kind, Some(ch.clone()), Some(DIRECT), Some(dur));
            self.push(j, t, kind, Some(ch), Some(DIRECT), Some(dur));
        }
    }

    fn file<R: Rng>(&mut self, i: u32, rng: &mut R) {
        let t = work_secs(rng);
        match self.partner(i, rng).filter(|_| rng.random_bool(0.5)) {
            Some(j) => {
                let ch = direct_channel(i, j);
                self.push(i, t, "file_shared", Some(ch.clone()), Some(DIRECT), None);
                self.push(j, t + reply_gap(rng), "message_read", Some(ch), Some(DIRECT), None);
            }
            None => {
                let ch = self.team(i);
                self.push(i, t, "file_shared", ch, Some(GROUP), None);
            }
        }
    }
}

/// Adds the session boundaries the activity model looks for: a `login`
/// before each burst of activity (a gap of more than 30 minutes) and,
/// sometimes, a `logout` after one. Reads `buf` (emptied) into `out`.
fn sessions(buf: &mut Vec<DemoEvent>, out: &mut Vec<DemoEvent>, rng: &mut ChaCha8Rng) {
    buf.sort_by_key(|e| (e.user_id_index, e.ts));
    let mut prev: Option<(u32, i64)> = None;
    let logout = |out: &mut Vec<DemoEvent>, who: u32, t: i64, rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.35) {
            out.push(DemoEvent {
                user_id_index: who,
                ts: t + rng.random_range(5..300),
                kind: "logout",
                channel: None,
                channel_type: None,
                duration_seconds: None,
            });
        }
    };
    for e in buf.drain(..) {
        let new_session = match prev {
            Some((who, t)) if who == e.user_id_index => e.ts - t > 30 * 60,
            _ => true,
        };
        if new_session {
            if let Some((who, t)) = prev {
                logout(out, who, t, rng);
            }
            let t = (e.ts - rng.random_range(3..90)).max(0);
            out.push(DemoEvent {
                user_id_index: e.user_id_index,
                ts: t,
                kind: "login",
                channel: None,
                channel_type: None,
                duration_seconds: None,
            });
        }
        prev = Some((e.user_id_index, e.ts));
        out.push(e);
    }
    if let Some((who, t)) = prev {
        logout(out, who, t, rng);
    }
}

struct DayStream<'a> {
    p: &'a DemoParams,
    org: Org,
    day: u32,
    buf: Vec<DemoEvent>,
    out: Vec<DemoEvent>,
}

impl Iterator for DayStream<'_> {
    type Item = DemoEvent;

    fn next(&mut self) -> Option<DemoEvent> {
        loop {
            if let Some(e) = self.out.pop() {
                return Some(e);
            }
            if self.day >= self.p.days {
                return None;
            }
            self.org.day(self.day, &mut self.buf, &mut self.out);
            self.day += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERACTIVE: [&str; 8] =
        ["message_sent", "reaction", "voice_call", "video_call", "meeting", "screen_share", "file_shared", "doc_edit"];

    fn params(people: u32, days: u32, seed: u64) -> DemoParams {
        DemoParams {
            people,
            days,
            seed,
            end: NaiveDate::from_ymd_opt(2026, 5, 29).unwrap(),
            tz: chrono_tz::Asia::Shanghai,
        }
    }

    fn local_day(p: &DemoParams, ts: i64) -> NaiveDate {
        chrono::DateTime::from_timestamp(ts, 0).unwrap().with_timezone(&p.tz).date_naive()
    }

    #[test]
    fn same_seed_same_output_other_seed_differs() {
        let a = params(60, 20, 7);
        let pa = people(&a);
        let ea: Vec<_> = events(&a, &pa).collect();
        assert_eq!(pa, people(&a));
        assert_eq!(ea, events(&a, &pa).collect::<Vec<_>>());
        let b = params(60, 20, 8);
        let pb = people(&b);
        assert_ne!(ea, events(&b, &pb).collect::<Vec<_>>());
        // Each person draws from their own stream: more people keep the first ones.
        assert_eq!(&people(&params(90, 20, 7))[..60], &pa[..]);
    }

    #[test]
    fn directory_shape() {
        let p = params(500, 120, 1);
        let ps = people(&p);
        assert_eq!(ps[41].user_id, "p00042@demo.example");
        assert_eq!(ps[41].email, ps[41].user_id);
        let rollouts = rollout_dates(&p);
        let mut dates: Vec<_> = rollouts.iter().map(|r| r.1).collect();
        dates.dedup();
        assert_eq!(dates.len(), 8, "distinct rollout dates");
        assert!(dates[7] <= day_date(&p, 48));
        for person in &ps {
            let rollout = rollouts.iter().find(|r| r.0 == person.department).unwrap().1;
            if let Some(s) = person.start_date {
                assert!(s >= rollout);
                if person.archetype == Archetype::Newcomer {
                    assert!(s > p.end - chrono::Duration::days(NEWCOMER_SPAN as i64));
                }
            }
        }
        assert!(ps.iter().any(|x| x.archetype == Archetype::Newcomer && x.start_date.is_none()));
        let collab = ps.iter().filter(|x| x.archetype == Archetype::Collaborator).count();
        assert!((110..=190).contains(&collab), "{collab}");
    }

    #[test]
    fn nothing_before_rollout_or_start_and_sorted_within_days() {
        let p = params(300, 40, 3);
        let ps = people(&p);
        let rollouts = rollout_dates(&p);
        let mut last = (NaiveDate::MIN, i64::MIN);
        for e in events(&p, &ps) {
            let person = &ps[e.user_id_index as usize];
            let day = local_day(&p, e.ts);
            assert!(day >= first_day(&p) && day <= p.end);
            assert!(day >= rollouts.iter().find(|r| r.0 == person.department).unwrap().1);
            if let Some(s) = person.start_date {
                assert!(day >= s, "{e:?} before start {s}");
            }
            assert!(day > last.0 || (day == last.0 && e.ts >= last.1), "out of order");
            last = (day, e.ts);
        }
    }

    #[test]
    fn punch_in_readers_never_interact() {
        let p = params(300, 30, 4);
        let ps = people(&p);
        let mut seen = 0;
        for e in events(&p, &ps).filter(|e| ps[e.user_id_index as usize].archetype == Archetype::PunchInReader) {
            assert!(!INTERACTIVE.contains(&e.kind), "{e:?}");
            seen += 1;
        }
        assert!(seen > 0);
    }

    #[test]
    fn volume_and_weekly_rhythm() {
        let p = params(200, 30, 5);
        let ps = people(&p);
        let (mut total, mut weekday, mut weekend) = (0usize, vec![0usize; 30], 0);
        let mut per_day = vec![0usize; 30];
        for e in events(&p, &ps) {
            total += 1;
            per_day[(local_day(&p, e.ts) - first_day(&p)).num_days() as usize] += 1;
        }
        let (mut wd_days, mut we_days) = (0, 0);
        for (d, n) in per_day.iter().enumerate().skip(12) {
            if matches!(day_date(&p, d as u32).weekday(), Weekday::Sat | Weekday::Sun) {
                weekend += n;
                we_days += 1;
            } else {
                weekday[d] = *n;
                wd_days += 1;
            }
        }
        let rate = total as f64 / (200.0 * 30.0);
        assert!((2.0..=8.0).contains(&rate), "{rate} events/person/day");
        let (wd, we) = (weekday.iter().sum::<usize>() as f64 / wd_days as f64, weekend as f64 / we_days as f64);
        assert!(we * 3.0 < wd, "weekend {we} vs weekday {wd}");
    }

    /// The archetypes land in the tiers they are meant to illustrate,
    /// computed with the spec's rules over the last 28 days.
    #[test]
    fn archetypes_reach_their_tiers() {
        let p = params(400, 70, 6);
        let ps = people(&p);
        let from = p.end - chrono::Duration::days(27);
        #[derive(Default, Clone)]
        struct Acc {
            last: Option<i64>,
            open: bool,
            engaged_now: bool,
            sessions: u32,
            engaged: u32,
            days: Vec<NaiveDate>,
            families: u8,
            any: bool,
        }
        let close = |a: &mut Acc| {
            if a.open {
                a.sessions += 1;
                a.engaged += a.engaged_now as u32;
            }
            a.open = false;
        };
        let mut acc = vec![Acc::default(); ps.len()];
        for e in events(&p, &ps) {
            let day = local_day(&p, e.ts);
            let a = &mut acc[e.user_id_index as usize];
            if day < from {
                continue;
            }
            a.any = true;
            if a.last.is_some_and(|t| e.ts - t > 1800) {
                close(a);
            }
            if !a.open {
                (a.open, a.engaged_now) = (true, false);
            }
            a.last = Some(e.ts);
            if let Some(k) = INTERACTIVE.iter().position(|k| *k == e.kind) {
                a.engaged_now = true;
                a.families |= 1 << [0, 0, 1, 2, 2, 2, 3, 4][k];
                if a.days.last() != Some(&day) {
                    a.days.push(day);
                }
            }
            if e.kind == "logout" {
                close(a);
            }
        }
        for a in acc.iter_mut() {
            close(a);
        }
        let share = |arch: Archetype, f: &dyn Fn(&Acc) -> bool| {
            let xs: Vec<_> = ps.iter().zip(&acc).filter(|(x, _)| x.archetype == arch).map(|(_, a)| a).collect();
            xs.iter().filter(|a| f(a)).count() as f64 / xs.len() as f64
        };
        let deep = |a: &Acc| a.days.len() >= 8 && a.families.count_ones() >= 2 && 2 * a.engaged >= a.sessions;
        assert!(share(Archetype::Collaborator, &deep) > 0.8, "collaborators deep");
        assert_eq!(share(Archetype::PunchInReader, &|a| a.any && a.days.is_empty()), 1.0, "readers silent");
        assert_eq!(share(Archetype::Lurker, &deep), 0.0, "lurkers never deep");
        assert!(share(Archetype::Lurker, &|a| !a.days.is_empty()) > 0.5, "lurkers mostly shallow");
        assert_eq!(share(Archetype::Occasional, &deep), 0.0, "occasionals never deep");
        assert_eq!(share(Archetype::Dormant, &|a| a.any), 0.0, "dormant people quiet");
    }
}
#[cfg(test)]
mod tmp_bench {
    use super::*;
    #[test]
    #[ignore]
    fn bench() {
        let p = DemoParams {
            people: 10_000,
            days: 120,
            seed: 42,
            end: NaiveDate::from_ymd_opt(2026, 5, 29).unwrap(),
            tz: chrono_tz::Asia::Shanghai,
        };
        let ps = people(&p);
        let t = std::time::Instant::now();
        let mut n = 0u64;
        let mut kinds = std::collections::BTreeMap::new();
        let mut arch = std::collections::HashMap::new();
        for e in events(&p, &ps) {
            n += 1;
            *kinds.entry(e.kind).or_insert(0u64) += 1;
            *arch.entry(format!("{:?}", ps[e.user_id_index as usize].archetype)).or_insert(0u64) += 1;
        }
        let el = t.elapsed().as_secs_f64();
        println!("{n} events in {el:.2}s = {:.0}/s, {:.2} per person per day", n as f64 / el, n as f64 / 1.2e6);
        println!("{kinds:?}");
        let mut cnt = std::collections::HashMap::new();
        for x in &ps {
            *cnt.entry(format!("{:?}", x.archetype)).or_insert(0u64) += 1;
        }
        for (k, v) in &arch {
            println!("{k}: {} people, {:.2}/person/day", cnt[k], *v as f64 / cnt[k] as f64 / 120.0);
        }
        let t = std::time::Instant::now();
        let m = events(&p, &ps).count();
        println!("count only: {m} in {:.2}s", t.elapsed().as_secs_f64());
    }
}
