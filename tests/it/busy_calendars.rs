//! Interviewers' own calendars read for busy times: a published iCalendar
//! feed served over HTTP, a real CalDAV server (Radicale), and a calendar
//! that cannot be read. Busy times leave exactly the overlapping slots off
//! the booking page and refuse a booking into them.

use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::America::New_York;
use reqwest::StatusCode;
use undercurrent::app::interviewer_calendar::{self, Source};
use undercurrent::app::participant::{self, Refusal};
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::domain::scheduling::SlotRefusal;
use undercurrent::storage::Db;
use undercurrent::storage::availability;

use crate::common::calendar_servers::{self, FeedServer, Radicale};
use crate::common::outreach::{interviewer, invite_all, outreach, people, round, study, utc};
use crate::common::web::{Client, PASSWORD, TestApp};

const IVY: &str = "ivy@test.example";

fn ics_at(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// One busy event [start, end) in UTC, and a free (TRANSPARENT) one.
fn busy_feed(start: DateTime<Utc>, end: DateTime<Utc>, free: (DateTime<Utc>, DateTime<Utc>)) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
         BEGIN:VEVENT\r\nUID:busy@test\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:free@test\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nTRANSP:TRANSPARENT\r\nSUMMARY:Reminder\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
        ics_at(start),
        ics_at(end),
        ics_at(free.0),
        ics_at(free.1)
    )
}

/// Ivy, free from 09:00 to 12:00 UTC on a day three days ahead (30-minute
/// interviews: six slots), signed in; a study she interviews for and one
/// invited person's link token.
struct Setup {
    app: TestApp,
    ivy: i64,
    ivy_client: Client,
    token: String,
    day: NaiveDate,
}

impl Setup {
    async fn new() -> Setup {
        let app = TestApp::with_accounts().await;
        let db = app.t.db.clone();
        people(&db, 1).await;
        let day = (Utc::now() + TimeDelta::days(3)).date_naive();
        let at = |h| day.and_hms_opt(h, 0, 0).unwrap().and_utc();
        let ivy = interviewer(&db, IVY, "UTC", at(9), at(12)).await;
        let s = study(&db, &[ivy], ContactRules::default()).await;
        let r = round(&db, &s, &["p000"], Utc::now()).await;
        let (_, token) = invite_all(&db, &r, Utc::now()).await.remove(0);
        let mut ivy_client = app.client();
        assert_eq!(ivy_client.sign_in(IVY, PASSWORD).await.0, StatusCode::SEE_OTHER);
        Setup { app, ivy, ivy_client, token, day }
    }

    fn at(&self, h: u32, m: u32) -> DateTime<Utc> {
        self.day.and_hms_opt(h, m, 0).unwrap().and_utc()
    }

    /// The slot starts (hh:mm, UTC) the booking page offers on the day.
    async fn offered(&self) -> Vec<String> {
        let r = reqwest::get(format!("{}/i/{}?tz=UTC", self.app.base, self.token)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap();
        let mut out = Vec::new();
        for h in 0..24 {
            for m in [0, 30] {
                let t = self.at(h, m);
                if page.contains(&format!("value=\"{}:{}\"", self.ivy, t.timestamp())) {
                    out.push(format!("{h:02}:{m:02}"));
                }
            }
        }
        out
    }

    /// Connects Ivy's calendar through the availability page's form.
    async fn connect(&mut self, form: &[(&str, &str)]) -> (StatusCode, String) {
        self.ivy_client.get("/availability").await;
        let (status, body, _) = self.ivy_client.post("/availability/busy-calendar", form).await;
        (status, body)
    }
}

#[tokio::test]
async fn a_published_feed_takes_exactly_its_busy_times_off_the_booking_page_and_bookings() {
    let mut s = Setup::new().await;
    let all = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"];
    assert_eq!(s.offered().await, all);

    // Busy 10:00-10:45 (the 10:00 and 10:30 slots overlap it); an event
    // marked free at 11:00 takes nothing.
    let feed = FeedServer::start(&busy_feed(s.at(10, 0), s.at(10, 45), (s.at(11, 0), s.at(11, 30)))).await;
    let (status, _) = s.connect(&[("kind", "ics"), ("url", &feed.url)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(s.offered().await, ["09:00", "09:30", "11:00", "11:30"]);

    // The page shows when it was read, not the feed's secret path.
    let (_, page) = s.ivy_client.get("/availability").await;
    assert!(page.contains("id=\"busy-calendar-refreshed\"") && page.contains("Last read at"), "{page}");
    assert!(!page.contains("/private/cal.ics") && !page.contains("busy-calendar-error"), "{page}");
    // Stored sealed: the address is not in the database in clear.
    let stored = undercurrent::storage::interviewer_calendars::get(&s.app.t.db, s.ivy).await.unwrap().unwrap();
    assert!(!stored.url_sealed.contains("/private/cal.ics") && stored.url_sealed.starts_with("v1:"));

    // A booking into the busy time is refused; a free slot books.
    let db = s.app.t.db.clone();
    let (inv, st) = participant::find(&db, &s.token).await.unwrap().unwrap();
    let out = outreach(&s.app.base);
    let book = |start| participant::book(&db, &out, &s.token, &inv, &st, s.ivy, start, chrono_tz::UTC, Utc::now());
    assert_eq!(book(s.at(10, 30)).await.unwrap(), Err(Refusal::Slot(SlotRefusal::Taken)));
    assert!(book(s.at(11, 0)).await.unwrap().is_ok());

    // Disconnected: the busy times no longer count.
    s.ivy_client.get("/availability").await;
    let (status, _, _) = s.ivy_client.post("/availability/busy-calendar/remove", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(undercurrent::storage::interviewer_calendars::get(&db, s.ivy).await.unwrap().is_none());
    s.app.finish().await;
}

#[tokio::test]
async fn a_weekly_meeting_keeps_its_wall_clock_hour_across_the_end_of_daylight_saving() {
    let t = crate::common::TestDb::new().await;
    let db = t.db.clone();
    // Ivy in New York, free on Mondays 09:00-12:00 her time.
    let ivy = interviewer(&db, IVY, "America/New_York", utc(2020, 1, 1, 0, 0), utc(2020, 1, 1, 1, 0)).await;
    availability::add_weekly(&db, ivy, 0, 9 * 60, 12 * 60).await.unwrap();
    let s = study(&db, &[ivy], ContactRules::default()).await;
    // A weekly team meeting, Mondays 10:00-11:00 New York time; clocks go
    // back on Sunday 1 November 2026 (EDT, UTC-4, to EST, UTC-5).
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:weekly@test\r\n\
               DTSTAMP:20261001T000000Z\r\nDTSTART;TZID=America/New_York:20261026T100000\r\n\
               DTEND;TZID=America/New_York:20261026T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n\
               SUMMARY:Team sync\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let feed = FeedServer::start(ics).await;
    let now = utc(2026, 10, 24, 12, 0);
    let account = (ivy, IVY);
    interviewer_calendar::connect(&db, account, Source::Feed { url: feed.url.clone() }, now).await.unwrap().unwrap();

    let slots = participant::free_slots(&db, &s, now, utc(2026, 11, 10, 0, 0)).await.unwrap();
    let local = |m: u32, d: u32| -> Vec<String> {
        let day = NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        slots
            .iter()
            .map(|slot| slot.start.with_timezone(&New_York))
            .filter(|l| l.date_naive() == day)
            .map(|l| format!("{:02}:{:02}", l.hour(), l.minute()))
            .collect()
    };
    let expected = ["09:00", "09:30", "11:00", "11:30"];
    assert_eq!(local(10, 26), expected, "before the change (Monday 26 October)");
    assert_eq!(
        local(11, 2),
        expected,
        "after the change (Monday 2 November): the meeting is at 10:00 New York time, 15:00 UTC"
    );
    assert_eq!(local(11, 9), expected, "a week later");
    // After the change, the meeting is at 15:00 UTC: the 14:00 UTC slot
    // (09:00 in New York) stays.
    assert!(slots.iter().any(|s| s.start == utc(2026, 11, 2, 14, 0)));
    assert!(!slots.iter().any(|s| s.start == utc(2026, 11, 2, 15, 0)));
    t.finish().await;
}

#[tokio::test]
async fn an_unreadable_calendar_is_reported_and_slots_stay_on_the_last_good_busy_times() {
    let mut s = Setup::new().await;
    let all = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"];

    // Nothing listens at the address: the page says so; every slot stays.
    let (status, _) = s.connect(&[("kind", "ics"), ("url", &calendar_servers::unreachable_url())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = s.ivy_client.get("/availability").await;
    assert!(page.contains("id=\"busy-calendar-error\""), "{page}");
    assert!(page.contains("could not connect"), "{page}");
    assert!(page.contains("Not read successfully yet."), "{page}");
    assert_eq!(s.offered().await, all);

    // A feed that worked and then fails: the error shows, the last good
    // busy times still count.
    let feed = FeedServer::start(&busy_feed(s.at(9, 0), s.at(9, 30), (s.at(11, 0), s.at(11, 30)))).await;
    s.connect(&[("kind", "ics"), ("url", &feed.url)]).await;
    assert_eq!(s.offered().await, ["09:30", "10:00", "10:30", "11:00", "11:30"]);
    feed.fail();
    s.ivy_client.get("/availability").await;
    let (status, _, _) = s.ivy_client.post("/availability/busy-calendar/refresh", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = s.ivy_client.get("/availability").await;
    assert!(page.contains("500 Internal Server Error") && page.contains("Last read at"), "{page}");
    assert_eq!(s.offered().await, ["09:30", "10:00", "10:30", "11:00", "11:30"]);

    // Bad input is refused with a message; a manager may not connect one.
    let (status, page) = s.connect(&[("kind", "ics"), ("url", "file:///etc/passwd")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Enter the calendar"), "{page}");
    let (_, page) = s.connect(&[("kind", "caldav"), ("url", "https://dav.example/a/"), ("username", "a")]).await;
    assert!(page.contains("needs a user name and a password"), "{page}");
    let mut m = s.app.signed_in(Role::Manager).await;
    let (status, _, _) = m.post("/availability/busy-calendar", &[("kind", "ics"), ("url", &feed.url)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without the CSRF token, nothing changes.
    let (status, _, _) = s.ivy_client.post_raw("/availability/busy-calendar/remove", &[]).await;
    assert_ne!(status, StatusCode::SEE_OTHER);
    assert!(undercurrent::storage::interviewer_calendars::get(&s.app.t.db, s.ivy).await.unwrap().is_some());
    s.app.finish().await;
}

#[tokio::test]
async fn a_caldav_calendar_is_read_with_a_calendar_query_report() {
    let Some(radicale) = Radicale::start() else { return };
    let mut s = Setup::new().await;
    let calendar = radicale.calendar("work").await;
    let event = |uid: &str, start, end| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261201T000000Z\r\n\
             DTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Budget & <review>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            ics_at(start),
            ics_at(end)
        )
    };
    radicale.put(&calendar, "busy-1", &event("busy-1@test", s.at(9, 15), s.at(9, 45))).await;
    // Far outside the range asked for: the server's time-range filter
    // leaves it out.
    radicale.put(&calendar, "old", &event("old@test", utc(2020, 1, 1, 9, 0), utc(2020, 1, 1, 10, 0))).await;

    // A wrong password: the error is shown.
    let (status, _) = s
        .connect(&[("kind", "caldav"), ("url", &calendar), ("username", calendar_servers::USER), ("password", "wrong")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = s.ivy_client.get("/availability").await;
    assert!(page.contains("401 Unauthorized"), "{page}");

    let (status, _) = s
        .connect(&[
            ("kind", "caldav"),
            ("url", &calendar),
            ("username", calendar_servers::USER),
            ("password", calendar_servers::PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = s.ivy_client.get("/availability").await;
    assert!(!page.contains("busy-calendar-error") && page.contains("Busy times read: 1."), "{page}");
    assert!(page.contains("CalDAV calendar") && page.contains("alice"), "{page}");
    assert!(!page.contains(calendar_servers::PASSWORD), "{page}");
    assert_eq!(s.offered().await, ["10:00", "10:30", "11:00", "11:30"]);
    // The password is sealed in the database.
    let stored = undercurrent::storage::interviewer_calendars::get(&s.app.t.db, s.ivy).await.unwrap().unwrap();
    assert!(!stored.password_sealed.contains(calendar_servers::PASSWORD) && stored.password_sealed.starts_with("v1:"));

    // A new event shows after a refresh.
    radicale.put(&calendar, "busy-2", &event("busy-2@test", s.at(11, 0), s.at(11, 30))).await;
    assert!(interviewer_calendar::refresh(&s.app.t.db, s.ivy, Utc::now()).await.unwrap());
    assert_eq!(s.offered().await, ["10:00", "10:30", "11:30"]);
    s.app.finish().await;
}

/// A calendar that answers nothing for longer than the page waits does not
/// hold up the booking page: it waits at most `PAGE_WAIT`, offers slots from
/// what it has, and the read still finishes and is recorded.
#[tokio::test]
async fn a_slow_calendar_does_not_hang_the_booking_page() {
    let s = Setup::new().await;
    let db: Db = s.app.t.db.clone();
    // Accepts connections, says nothing for six seconds, then hangs up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cal.ics", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(6)).await;
                drop(stream);
            });
        }
    });
    // Connected an hour ago, so the busy times are stale.
    let earlier = Utc::now() - TimeDelta::hours(1);
    interviewer_calendar::connect(&db, (s.ivy, IVY), Source::Feed { url }, earlier).await.unwrap().unwrap();
    let started = std::time::Instant::now();
    let asked_at = Utc::now().timestamp();
    assert_eq!(s.offered().await.len(), 6);
    let waited = started.elapsed();
    assert!(waited < interviewer_calendar::PAGE_WAIT + std::time::Duration::from_secs(2), "{waited:?}");
    // The page's read ends in the background and records its error.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let c = undercurrent::storage::interviewer_calendars::get(&db, s.ivy).await.unwrap().unwrap();
        if c.attempted_at.is_some_and(|t| t >= asked_at) {
            assert!(c.last_error.is_some(), "{c:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the background read was not recorded: {c:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    s.app.finish().await;
}

/// The availability page's form in the browser: connect a feed, see when it
/// was read; then a calendar that cannot be read shows its error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interviewer_connects_a_calendar_in_the_browser() {
    if !crate::common::browser::available() {
        return;
    }
    let s = Setup::new().await;
    let feed = FeedServer::start(&busy_feed(s.at(10, 0), s.at(10, 45), (s.at(11, 0), s.at(11, 30)))).await;
    let b = crate::common::browser::Browser::start().await;
    b.sign_in(&s.app.base, IVY, PASSWORD).await;
    b.goto(&format!("{}/availability", s.app.base)).await;
    b.type_into("#busy-calendar-form input[name=url]", &feed.url).await;
    b.click("#busy-calendar-form button").await;
    b.wait_for("#busy-calendar-refreshed").await;
    assert!(b.text("#busy-calendar").await.contains("Busy times read: 1."));
    b.screenshot_full("availability-busy-calendar").await;
    assert_eq!(s.offered().await, ["09:00", "09:30", "11:00", "11:30"]);

    b.set_value("#busy-calendar-form select[name=kind]", "caldav").await;
    b.type_into("#busy-calendar-form input[name=url]", &calendar_servers::unreachable_url()).await;
    b.type_into("#busy-calendar-form input[name=username]", "ivy").await;
    b.type_into("#busy-calendar-form input[name=password]", "pw").await;
    b.click("#busy-calendar-form button").await;
    b.wait_for("#busy-calendar-error").await;
    assert!(b.text("#busy-calendar-error").await.contains("could not connect"));
    b.screenshot_full("availability-busy-calendar-error").await;
    b.quit().await;
    s.app.finish().await;
}
