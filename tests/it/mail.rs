//! The e-mail layer against a real SMTP server (aiosmtpd, see
//! tests/common/smtp.rs): what arrives is what a mail program and a
//! calendar would read. Plus the failure modes the outbox worker must tell
//! apart: a server that is down, one that refuses, one that says nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::smtp::{self, Received, SmtpServer};
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use undercurrent::mail::ics::{self, Invite, Method};
use undercurrent::mail::{Mailer, Outgoing, SendError};

const ARRIVAL: Duration = Duration::from_secs(10);

fn event_start() -> DateTime<Utc> {
    // 09:00 in New York on the Monday after the fall-back (EST, UTC-5).
    Utc.with_ymd_and_hms(2026, 11, 2, 14, 0, 0).unwrap()
}

fn invite(method: Method, sequence: u32) -> Invite {
    Invite {
        location: None,
        url: None,
        uid: "booking-17.3f9a@undercurrent".into(),
        sequence,
        method,
        start: event_start(),
        end: event_start() + TimeDelta::minutes(45),
        timezone: chrono_tz::America::New_York,
        summary: "Interview: messaging habits, 45 min; video call".into(),
        description: "Thanks for booking a slot.\nThe link to the call follows a day before. \
                      If the time no longer suits you, use the link in the invitation e-mail to pick another."
            .into(),
        organizer: ("Undercurrent research".into(), "research@undercurrent.example".into()),
        attendee: ("Li Wei".into(), "li.wei@example.com".into()),
        stamp: Utc.with_ymd_and_hms(2026, 10, 20, 8, 30, 0).unwrap(),
    }
}

fn outgoing(row: u32, calendar: Option<ics::CalendarPart>) -> Outgoing {
    Outgoing {
        message_id: format!("<outbox-{row}.5c1e@undercurrent>"),
        from: "Undercurrent research <research@undercurrent.example>".into(),
        to: "Li Wei <li.wei@example.com>".into(),
        subject: "访谈邀请 / Interview invitation".into(),
        text: "您好，李伟！\n请于周一上午九点（纽约时间）参加访谈。\nThanks, the research team".into(),
        calendar,
    }
}

fn smtp_mailer(server: &SmtpServer) -> Mailer {
    Mailer::new(Some(&server.url()), Path::new("unused-outbox")).expect("an SMTP mailer")
}

fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn only(messages: Vec<Received>, message_id: &str) -> Received {
    let mut found: Vec<Received> = messages.into_iter().filter(|m| m.message_id == message_id).collect();
    assert_eq!(found.len(), 1, "one message {message_id}: {found:#?}");
    found.remove(0)
}

#[tokio::test]
async fn a_plain_message_arrives_with_its_subject_utf8_text_and_message_id() {
    let Some(server) = SmtpServer::start() else { return };
    let msg = outgoing(42, None);
    smtp_mailer(&server).send(&msg).await.expect("sent");

    let got = only(server.wait_for(1, ARRIVAL), "<outbox-42.5c1e@undercurrent>");
    assert_eq!(got.subject, msg.subject);
    assert_eq!(lf(&got.text).trim_end(), msg.text);
    assert_eq!(got.to, ["li.wei@example.com"]);
    assert_eq!(got.calendar, None);
    assert!(got.attachments.is_empty());
}

#[tokio::test]
async fn an_invitation_carries_the_calendar_inline_and_attached_at_the_right_instant() {
    let Some(server) = SmtpServer::start() else { return };
    let sent = invite(Method::Request, 0);
    let msg = outgoing(43, Some(ics::render(&sent)));
    smtp_mailer(&server).send(&msg).await.expect("sent");

    let got = only(server.wait_for(1, ARRIVAL), "<outbox-43.5c1e@undercurrent>");
    assert_eq!(lf(&got.text).trim_end(), msg.text);
    assert_eq!(got.calendar_method.as_deref(), Some("REQUEST"));
    let calendar = got.calendar.expect("a text/calendar part in the alternative");
    assert_eq!(got.attachments.len(), 1, "{:?}", got.attachments);
    assert_eq!(got.attachments[0].0, "invite.ics");
    assert_eq!(lf(&got.attachments[0].1), lf(&calendar));
    assert_eq!(lf(&calendar), lf(&msg.calendar.as_ref().unwrap().text));

    let cal = Calendar::parse(&calendar);
    assert_eq!(cal.value("METHOD"), "REQUEST");
    assert_eq!(cal.event_value("UID"), sent.uid);
    assert_eq!(cal.event_value("SEQUENCE"), "0");
    assert_eq!(cal.event_value("STATUS"), "CONFIRMED");
    assert_eq!(cal.event_value("SUMMARY"), "Interview: messaging habits\\, 45 min\\; video call");
    let (tzid, local) = cal.event_local("DTSTART");
    assert_eq!(tzid, "America/New_York");
    assert_eq!(local.to_string(), "2026-11-02 09:00:00");
    // Through the VTIMEZONE alone, and through the IANA name: the instant sent.
    assert_eq!(cal.resolve(&tzid, local), sent.start);
    assert_eq!(chrono_tz::America::New_York.from_local_datetime(&local).unwrap(), sent.start);
    let (_, end) = cal.event_local("DTEND");
    assert_eq!(cal.resolve(&tzid, end), sent.end);
    assert!(cal.event_value("ATTENDEE").ends_with("mailto:li.wei@example.com"));
}

#[tokio::test]
async fn a_cancellation_says_cancel_in_the_mime_type_and_the_calendar() {
    let Some(server) = SmtpServer::start() else { return };
    let msg = outgoing(44, Some(ics::render(&invite(Method::Cancel, 1))));
    smtp_mailer(&server).send(&msg).await.expect("sent");

    let got = only(server.wait_for(1, ARRIVAL), "<outbox-44.5c1e@undercurrent>");
    assert_eq!(got.calendar_method.as_deref(), Some("CANCEL"));
    let cal = Calendar::parse(&got.calendar.expect("a calendar part"));
    assert_eq!(cal.value("METHOD"), "CANCEL");
    assert_eq!(cal.event_value("STATUS"), "CANCELLED");
    assert_eq!(cal.event_value("SEQUENCE"), "1");
    assert_eq!(cal.event_value("UID"), "booking-17.3f9a@undercurrent");
}

#[tokio::test]
async fn a_stopped_server_is_a_temporary_failure_and_a_restarted_one_takes_the_message() {
    let Some(mut server) = SmtpServer::start() else { return };
    let mailer = smtp_mailer(&server);
    let msg = outgoing(45, None);
    server.stop();

    let began = Instant::now();
    let err = mailer.send(&msg).await.expect_err("no server listening");
    assert!(began.elapsed() < Duration::from_secs(5), "took {:?}", began.elapsed());
    assert!(matches!(err, SendError::Transport { permanent: false, .. }), "{err:?}");
    assert!(!err.is_permanent());

    server.start_again();
    mailer.send(&msg).await.expect("sent after the restart");
    only(server.wait_for(1, ARRIVAL), "<outbox-45.5c1e@undercurrent>");
}

/// A minimal scripted SMTP peer: greets, accepts the sender, refuses the
/// recipient with a 5xx.
fn refusing_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else { return };
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let _ = writer.write_all(b"220 refusing.test ESMTP\r\n");
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
            let answer: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 refusing.test\r\n",
                "MAIL" | "RSET" | "NOOP" => b"250 2.1.0 OK\r\n",
                "RCPT" => b"550 5.1.1 No such user here\r\n",
                "QUIT" => b"221 2.0.0 Bye\r\n",
                _ => b"503 5.5.1 Bad sequence\r\n",
            };
            if writer.write_all(answer).is_err() || verb == "QUIT" {
                return;
            }
        }
    });
    port
}

#[tokio::test]
async fn a_refused_recipient_is_a_permanent_failure() {
    let port = refusing_server();
    let mailer = Mailer::new(Some(&format!("smtp://127.0.0.1:{port}")), Path::new("unused-outbox")).unwrap();
    let err = mailer.send(&outgoing(46, None)).await.expect_err("refused");
    assert!(matches!(err, SendError::Transport { permanent: true, .. }), "{err:?}");
    assert!(err.to_string().contains("550"), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_a_temporary_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and says nothing; the connection stays open until the client gives up.
    let holder = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let _ = std::io::Read::read(&mut &stream, &mut [0u8; 64]);
    });
    let mailer = Mailer::new(Some(&format!("smtp://127.0.0.1:{port}")), Path::new("unused-outbox")).unwrap();
    let began = Instant::now();
    let err = mailer.send(&outgoing(47, None)).await.expect_err("no greeting");
    assert!(began.elapsed() < Duration::from_secs(40), "took {:?}", began.elapsed());
    assert!(matches!(err, SendError::Transport { permanent: false, .. }), "{err:?}");
    drop(mailer);
    holder.join().unwrap();
}

#[tokio::test]
async fn the_outbox_folder_gets_a_readable_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let mailer = Mailer::new(None, &outbox).expect("a folder mailer");
    assert!(mailer.is_folder());
    assert!(outbox.is_dir());
    assert_eq!(mailer.describe(), format!("outbox folder {}", outbox.display()));

    let msg = outgoing(48, Some(ics::render(&invite(Method::Request, 0))));
    mailer.send(&msg).await.expect("written");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let got = smtp::parse_file(&files[0]);
    assert_eq!(got.message_id, msg.message_id);
    assert_eq!(got.subject, msg.subject);
    assert_eq!(lf(&got.text).trim_end(), msg.text);
    assert_eq!(got.calendar_method.as_deref(), Some("REQUEST"));
    assert_eq!(lf(&got.calendar.unwrap()), lf(&msg.calendar.unwrap().text));
}

#[tokio::test]
async fn a_bad_address_is_a_permanent_build_error() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(None, dir.path()).unwrap();
    let mut msg = outgoing(49, None);
    msg.to = "not an address".into();
    let err = mailer.send(&msg).await.expect_err("refused before sending");
    assert!(matches!(err, SendError::Build(_)), "{err:?}");
    assert!(err.is_permanent());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn smtp_descriptions_show_no_password() {
    let mailer = Mailer::new(Some("smtp://bob:hunter2@mail.example.com:587?tls=required"), Path::new("x")).unwrap();
    assert!(!mailer.is_folder());
    assert_eq!(mailer.describe(), "SMTP mail.example.com:587 (STARTTLS)");
    assert!(!format!("{mailer:?}").contains("hunter2"));
    let tls = Mailer::new(Some("smtps://bob:hunter2@mail.example.com"), Path::new("x")).unwrap();
    assert_eq!(tls.describe(), "SMTP mail.example.com:465 (implicit TLS)");
    let err = Mailer::new(Some("smtp://bob:hunter2@mail.example.com?tls=sometimes"), Path::new("x")).unwrap_err();
    assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
}

/// Just enough of an iCalendar reader to check what a calendar would
/// compute: unfolded content lines, and the VTIMEZONE's observances.
struct Calendar {
    lines: Vec<String>,
}

struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Calendar {
    fn parse(text: &str) -> Calendar {
        let mut lines: Vec<String> = Vec::new();
        for physical in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            match physical.strip_prefix([' ', '\t']) {
                Some(rest) => lines.last_mut().expect("a continuation follows a line").push_str(rest),
                None if physical.is_empty() => {}
                None => lines.push(physical.to_owned()),
            }
        }
        assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
        assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
        Calendar { lines }
    }

    fn property(line: &str) -> Property {
        let mut in_quotes = false;
        let colon = line
            .char_indices()
            .find(|&(_, c)| {
                in_quotes ^= c == '"';
                c == ':' && !in_quotes
            })
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no value in {line:?}"));
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or_default().to_owned();
        let params = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect();
        Property { name, params, value: value.to_owned() }
    }

    /// The lines directly inside each BEGIN:kind .. END:kind.
    fn blocks<'a>(lines: &'a [String], kind: &str) -> Vec<&'a [String]> {
        let (begin, end) = (format!("BEGIN:{kind}"), format!("END:{kind}"));
        let mut out = Vec::new();
        let mut open = None;
        for (i, line) in lines.iter().enumerate() {
            if *line == begin {
                open = Some(i + 1);
            } else if *line == end
                && let Some(from) = open.take()
            {
                out.push(&lines[from..i]);
            }
        }
        out
    }

    fn find(lines: &[String], name: &str) -> Property {
        lines
            .iter()
            .map(|l| Calendar::property(l))
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name} in {lines:#?}"))
    }

    fn value(&self, name: &str) -> String {
        Calendar::find(&self.lines, name).value
    }

    fn event(&self) -> &[String] {
        let events = Calendar::blocks(&self.lines, "VEVENT");
        assert_eq!(events.len(), 1);
        events[0]
    }

    fn event_value(&self, name: &str) -> String {
        Calendar::find(self.event(), name).value
    }

    /// (TZID, local time) of a DATE-TIME property in a zone.
    fn event_local(&self, name: &str) -> (String, NaiveDateTime) {
        let p = Calendar::find(self.event(), name);
        let tzid = p.params.iter().find(|(k, _)| k == "TZID").map(|(_, v)| v.clone()).expect("a TZID");
        (tzid, parse_local(&p.value))
    }

    /// The UTC instant of a local time by the VTIMEZONE named `tzid`: the
    /// observance in force is the one with the latest onset not after the
    /// instant the local time denotes under it.
    fn resolve(&self, tzid: &str, local: NaiveDateTime) -> DateTime<Utc> {
        let zone = Calendar::blocks(&self.lines, "VTIMEZONE")
            .into_iter()
            .find(|z| Calendar::find(z, "TZID").value == tzid)
            .unwrap_or_else(|| panic!("no VTIMEZONE {tzid}"));
        let observances = [Calendar::blocks(zone, "STANDARD"), Calendar::blocks(zone, "DAYLIGHT")].concat();
        assert!(!observances.is_empty());
        observances
            .iter()
            .filter_map(|o| {
                let onset_local = parse_local(&Calendar::find(o, "DTSTART").value);
                let from = parse_offset(&Calendar::find(o, "TZOFFSETFROM").value);
                let to = parse_offset(&Calendar::find(o, "TZOFFSETTO").value);
                let onset = onset_local - from;
                let instant = local - to;
                (onset <= instant).then_some((onset, instant))
            })
            .max_by_key(|&(onset, _)| onset)
            .map(|(_, instant)| instant.and_utc())
            .expect("an observance in force")
    }
}

fn parse_local(value: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap_or_else(|e| panic!("{value:?}: {e}"))
}

fn parse_offset(value: &str) -> TimeDelta {
    let (sign, digits) = match value.split_at_checked(1) {
        Some(("+", digits)) => (1, digits),
        Some(("-", digits)) => (-1, digits),
        _ => panic!("offset {value:?}"),
    };
    let field = |range: std::ops::Range<usize>| digits.get(range).map_or(0, |d| d.parse::<i64>().expect("digits"));
    assert!(matches!(digits.len(), 4 | 6), "offset {value:?}");
    TimeDelta::seconds(sign * (field(0..2) * 3600 + field(2..4) * 60 + field(4..6)))
}
