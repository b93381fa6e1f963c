//! Vendor export parsers against realistic sample exports
//! (tests/fixtures/vendor/), with the per-person facts worked out by hand.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use undercurrent::domain::facts::{Counts, FactSource, PeriodFact};
use undercurrent::ingest::InputError;
use undercurrent::ingest::source::open;
use undercurrent::ingest::vendor::{VendorFormat, VendorOptions, VendorReader, detect, slack_period_from_name};

const TEAMS: &str = "TeamsUserActivityUserDetail_5_20_2024.csv";
const SLACK_PRIOR: &str = "Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv";
const SLACK_RANGE: &str = "Acme Member Analytics Mar 17, 2025 - Apr 17, 2026.csv";
const SLACK_API: &str = "slack_member_analytics_2026-04-15.ndjson";
const FEISHU: &str = "feishu_admin_user_stats.ndjson";
const FEISHU_ARRAY: &str = "feishu_admin_user_stats.json";
const GOOGLE: &str = "google_chat_user_usage.csv";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor").join(name)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Opens bytes under a name, as an upload would be.
fn reader(name: &str, bytes: Vec<u8>, format: Option<VendorFormat>, options: &VendorOptions) -> VendorReader {
    VendorReader::new(open(name, Cursor::new(bytes)).unwrap(), format, options).unwrap()
}

fn all(name: &str, bytes: Vec<u8>) -> (VendorFormat, Vec<PeriodFact>) {
    let r = reader(name, bytes, None, &VendorOptions::default());
    let format = r.format();
    let facts = r.collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| panic!("{e}"));
    (format, facts)
}

fn read_fixture(name: &str) -> (VendorFormat, Vec<PeriodFact>) {
    all(name, std::fs::read(fixture(name)).unwrap())
}

/// The error `VendorReader::new` gives.
fn open_error(name: &str, text: &str, options: &VendorOptions) -> InputError {
    match VendorReader::new(open(name, Cursor::new(text.as_bytes().to_vec())).unwrap(), None, options) {
        Ok(r) => panic!("expected an error, read {:?}", r.format()),
        Err(e) => e,
    }
}

/// Every item of a readable file, errors included.
fn items(name: &str, text: &str) -> Vec<Result<PeriodFact, InputError>> {
    reader(name, text.as_bytes().to_vec(), None, &VendorOptions::default()).collect()
}

fn base(line: u64, user_id: &str, start: NaiveDate, end: NaiveDate) -> PeriodFact {
    PeriodFact { line, user_id: user_id.to_string(), start, end, ..PeriodFact::default() }
}

#[test]
fn teams_user_detail_with_bom_reordered_columns_and_both_refresh_date_forms() {
    let (format, facts) = read_fixture(TEAMS);
    assert_eq!(format, VendorFormat::Teams);
    assert_eq!(format.source(), FactSource::Teams);
    // 30 days ending at the refresh date, both ends included.
    let (start, end) = (d(2024, 4, 21), d(2024, 5, 20));
    let teams = |line, user: &str| PeriodFact {
        email: user.contains('@').then(|| user.to_string()),
        counts: Counts { messages: Some(0), calls: Some(0), meetings: Some(0), ..Counts::default() },
        ..base(line, user, start, end)
    };
    let want = vec![
        // 12 team chat (which already includes its 4 posts and 8 replies)
        // + 87 private chat.
        PeriodFact {
            last_active: Some(d(2024, 5, 19)),
            counts: Counts {
                messages: Some(99),
                calls: Some(3),
                meetings: Some(9),
                ..teams(2, "alex.wu@contoso.com").counts
            },
            ..teams(2, "alex.wu@contoso.com")
        },
        // Refresh date as 2024-05-20T00:00:00Z; Meeting Count 0 but attended
        // 1; 12 minutes of audio with Call Count 0 is voice use.
        PeriodFact {
            deleted: true,
            last_active: Some(d(2024, 4, 30)),
            counts: Counts {
                messages: Some(5),
                calls: Some(1),
                meetings: Some(1),
                ..teams(3, "jonas.berg@contoso.com").counts
            },
            ..teams(3, "jonas.berg@contoso.com")
        },
        // Unlicensed, no activity: empty Last Activity Date.
        teams(4, "sam.okafor@contoso.com"),
        // Concealed names: the MD5 hash stays the id, lower-cased; no e-mail.
        PeriodFact {
            anonymised: true,
            last_active: Some(d(2024, 5, 17)),
            counts: Counts {
                messages: Some(23),
                calls: Some(1),
                meetings: Some(2),
                ..teams(5, "5d41402abc4b2a76b9719d911017c592").counts
            },
            ..teams(5, "5d41402abc4b2a76b9719d911017c592")
        },
        // Has Other Action = Yes and nothing else: passive.
        PeriodFact {
            last_active: Some(d(2024, 5, 10)),
            counts: Counts { passive: true, ..teams(6, "li.na@contoso.com").counts },
            ..teams(6, "li.na@contoso.com")
        },
        // Empty Post / Reply counts are 0; screen sharing with Meeting Count
        // 0 is one meeting, audio with Call Count 0 one call; a message means
        // not passive.
        PeriodFact {
            last_active: Some(d(2024, 5, 20)),
            counts: Counts {
                messages: Some(1),
                calls: Some(1),
                meetings: Some(1),
                ..teams(7, "maria.garcia@contoso.com").counts
            },
            ..teams(7, "maria.garcia@contoso.com")
        },
    ];
    assert_eq!(facts, want);
}

#[test]
fn slack_dashboard_prior_30_days_from_the_file_name() {
    let (format, facts) = read_fixture(SLACK_PRIOR);
    assert_eq!(format, VendorFormat::SlackDashboard);
    let (start, end) = (d(2026, 3, 19), d(2026, 4, 17));
    let slack = |line, user: &str, name: &str| PeriodFact {
        email: user.contains('@').then(|| user.to_string()),
        display_name: Some(name.to_string()),
        ..base(line, user, start, end)
    };
    let counts = |active, messages, reactions, files, calls| PeriodFact {
        counts: Counts {
            active_days: Some(active),
            messages: Some(messages),
            reactions: Some(reactions),
            files: Some(files),
            calls: Some(calls),
            ..Counts::default()
        },
        ..PeriodFact::default()
    };
    let with = |who: PeriodFact, c: PeriodFact| PeriodFact {
        counts: Counts {
            active_days: c.counts.active_days,
            messages: c.counts.messages,
            reactions: c.counts.reactions,
            files: c.counts.files,
            calls: c.counts.calls,
            ..who.counts
        },
        ..who
    };
    let want = vec![
        PeriodFact {
            last_active: Some(d(2026, 4, 16)),
            ..with(slack(2, "dana.whitfield@acme.com", "Dana Whitfield"), counts(22, 143, 57, 6, 4))
        },
        // A single-channel guest, active 3 days without posting: passive.
        PeriodFact {
            last_active: Some(d(2026, 4, 2)),
            counts: Counts {
                passive: true,
                ..with(slack(3, "theo@northwind.example", "Theo Marsh"), counts(3, 0, 0, 0, 0)).counts
            },
            ..with(slack(3, "theo@northwind.example", "Theo Marsh"), counts(3, 0, 0, 0, 0))
        },
        // Deactivated on Mar 28, 2026.
        PeriodFact {
            last_active: Some(d(2026, 3, 27)),
            deleted: true,
            ..with(slack(4, "rosa.klein@acme.com", "Rosa Klein"), counts(5, 12, 3, 1, 0))
        },
        // No e-mail: the lower-cased User ID; never active, so not passive.
        with(slack(5, "u03nomail01", "Kenji Sato"), counts(0, 0, 0, 0, 0)),
    ];
    assert_eq!(facts, want);
}

#[test]
fn slack_dashboard_with_both_dates_in_the_file_name() {
    let (format, facts) = read_fixture(SLACK_RANGE);
    assert_eq!(format, VendorFormat::SlackDashboard);
    let (start, end) = (d(2025, 3, 17), d(2026, 4, 17));
    // No Email, Files uploaded or Slack Huddles columns: those stay None.
    let want = vec![
        PeriodFact {
            last_active: Some(d(2026, 4, 16)),
            display_name: Some("Dana Whitfield".into()),
            counts: Counts { active_days: Some(251), messages: Some(2210), reactions: Some(876), ..Counts::default() },
            ..base(2, "u01abcde123", start, end)
        },
        PeriodFact {
            last_active: Some(d(2026, 4, 10)),
            display_name: Some("Priya Raman".into()),
            counts: Counts {
                active_days: Some(17),
                messages: Some(0),
                reactions: Some(0),
                passive: true,
                ..Counts::default()
            },
            ..base(3, "u05priya22", start, end)
        },
    ];
    assert_eq!(facts, want);
    assert_eq!(slack_period_from_name(SLACK_RANGE), Some((start, end)));
}

#[test]
fn slack_dashboard_period_from_the_options_or_an_error() {
    let text = std::fs::read_to_string(fixture(SLACK_PRIOR)).unwrap();
    let err = open_error("members.csv", &text, &VendorOptions::default());
    assert_eq!(err.line, 1);
    assert!(err.to_string().starts_with("members.csv:1: the period is needed"), "{err}");

    let options = VendorOptions { period: Some((d(2026, 4, 1), d(2026, 4, 17))), ..Default::default() };
    let facts: Vec<PeriodFact> =
        reader("members.csv", text.into_bytes(), None, &options).collect::<Result<_, _>>().unwrap();
    assert_eq!(facts.len(), 4);
    assert!(facts.iter().all(|f| (f.start, f.end) == (d(2026, 4, 1), d(2026, 4, 17))));
}

#[test]
fn slack_api_member_data_gzipped() {
    let ndjson = std::fs::read(fixture(SLACK_API)).unwrap();
    let gz = gzip(&ndjson);
    let name = format!("{SLACK_API}.gz");
    let (format, facts) = all(&name, gz);
    assert_eq!(format, VendorFormat::SlackApi);
    let day = |line, user: &str, date: NaiveDate| PeriodFact {
        email: user.contains('@').then(|| user.to_string()),
        ..base(line, user, date, date)
    };
    let counts = |active: bool, messages, reactions, files, calls| PeriodFact {
        counts: Counts {
            active_days: Some(u32::from(active)),
            messages: Some(messages),
            reactions: Some(reactions),
            files: Some(files),
            calls: Some(calls),
            ..Counts::default()
        },
        ..PeriodFact::default()
    };
    let with = |who: PeriodFact, c: PeriodFact| PeriodFact {
        last_active: (c.counts.active_days == Some(1)).then_some(who.end),
        counts: Counts {
            active_days: c.counts.active_days,
            messages: c.counts.messages,
            reactions: c.counts.reactions,
            files: c.counts.files,
            calls: c.counts.calls,
            ..who.counts
        },
        ..who
    };
    let (d15, d16) = (d(2026, 4, 15), d(2026, 4, 16));
    let want = vec![
        // messages_posted_count only: the 9 channel messages are among the 23.
        with(day(1, "dana.whitfield@acme.com", d15), counts(true, 23, 7, 2, 1)),
        // Active (read) without posting anything: passive.
        PeriodFact {
            counts: Counts {
                passive: true,
                ..with(day(2, "rosa.klein@acme.com", d15), counts(true, 0, 0, 0, 0)).counts
            },
            ..with(day(2, "rosa.klein@acme.com", d15), counts(true, 0, 0, 0, 0))
        },
        with(day(3, "kenji.sato@acme.com", d15), counts(false, 0, 0, 0, 0)),
        // Line 4 is blank. A guest without e-mail; no total_calls_count, so
        // 2 Slack calls + 3 huddles.
        with(day(5, "w0ddd444", d15), counts(true, 5, 1, 0, 5)),
        with(day(6, "dana.whitfield@acme.com", d16), counts(true, 11, 3, 0, 0)),
    ];
    assert_eq!(facts, want);
}

#[test]
fn feishu_ndjson_with_numeric_strings() {
    let (format, facts) = read_fixture(FEISHU);
    assert_eq!(format, VendorFormat::Feishu);
    let day = d(2026, 4, 15);
    let feishu = |line, user: &str, name: &str, department: &str| PeriodFact {
        email: user.contains('@').then(|| user.to_string()),
        display_name: Some(name.to_string()),
        department: Some(department.to_string()),
        ..base(line, user, day, day)
    };
    let want = vec![
        PeriodFact {
            last_active: Some(day),
            counts: Counts {
                active_days: Some(1),
                messages: Some(58),
                docs: Some(2),
                meetings: Some(3),
                ..feishu(1, "wang.wei@example.cn", "王伟", "研发部").counts
            },
            ..feishu(1, "wang.wei@example.cn", "王伟", "研发部")
        },
        // No e-mail field: the user id. Active, nothing created: passive.
        PeriodFact {
            last_active: Some(day),
            counts: Counts {
                active_days: Some(1),
                messages: Some(0),
                docs: Some(0),
                meetings: Some(0),
                passive: true,
                ..feishu(2, "ou_3b9c1e55aa7f4d20", "李娜", "市场部").counts
            },
            ..feishu(2, "ou_3b9c1e55aa7f4d20", "李娜", "市场部")
        },
        PeriodFact {
            last_active: Some(d(2026, 4, 2)),
            counts: Counts {
                active_days: Some(0),
                messages: Some(0),
                docs: Some(0),
                meetings: Some(0),
                ..feishu(3, "zhang.min@example.cn", "张敏", "财务部").counts
            },
            ..feishu(3, "zhang.min@example.cn", "张敏", "财务部")
        },
        // " 4 " is 4; vc_num 0 with 12.5 minutes of video: one meeting.
        PeriodFact {
            last_active: Some(day),
            counts: Counts {
                active_days: Some(1),
                messages: Some(4),
                docs: Some(0),
                meetings: Some(1),
                ..feishu(4, "tom.becker@example.com", "Tom Becker", "Sales EMEA").counts
            },
            ..feishu(4, "tom.becker@example.com", "Tom Becker", "Sales EMEA")
        },
    ];
    assert_eq!(facts, want);
}

#[test]
fn feishu_json_array_is_streamed() {
    let (format, facts) = read_fixture(FEISHU_ARRAY);
    assert_eq!(format, VendorFormat::Feishu);
    let day = d(2026, 4, 16);
    let want = vec![
        PeriodFact {
            last_active: Some(day),
            email: Some("wang.wei@example.cn".into()),
            display_name: Some("王伟".into()),
            department: Some("研发部".into()),
            counts: Counts {
                active_days: Some(1),
                messages: Some(31),
                docs: Some(0),
                meetings: Some(1),
                ..Counts::default()
            },
            ..base(2, "wang.wei@example.cn", day, day)
        },
        // The second element starts on line 16.
        PeriodFact {
            display_name: Some("李娜".into()),
            department: Some("市场部".into()),
            counts: Counts {
                active_days: Some(0),
                messages: Some(0),
                docs: Some(0),
                meetings: Some(0),
                ..Counts::default()
            },
            ..base(16, "ou_3b9c1e55aa7f4d20", day, day)
        },
    ];
    assert_eq!(facts, want);
}

#[test]
fn google_chat_usage_csv() {
    let (format, facts) = read_fixture(GOOGLE);
    assert_eq!(format, VendorFormat::GoogleChat);
    // The rolling 28 days ending at the report date.
    let (start, end) = (d(2026, 3, 19), d(2026, 4, 15));
    let google = |line, user: &str| PeriodFact { email: Some(user.to_string()), ..base(line, user, start, end) };
    let want = vec![
        PeriodFact {
            counts: Counts {
                messages: Some(64),
                files: Some(3),
                reads: Some(120),
                ..google(2, "ana.lima@example.org").counts
            },
            ..google(2, "ana.lima@example.org")
        },
        PeriodFact {
            counts: Counts {
                messages: Some(0),
                files: Some(0),
                reads: Some(45),
                ..google(3, "ben.cho@example.org").counts
            },
            ..google(3, "ben.cho@example.org")
        },
        // Not reported yet: not available, not zero.
        google(4, "carla.diaz@example.org"),
    ];
    assert_eq!(facts, want);
}

#[test]
fn google_chat_reports_api_objects() {
    let text = concat!(
        r#"{"kind":"admin#reports#usageReport","date":"2026-04-15","etag":"\"x\"","#,
        r#""entity":{"customerId":"C01abc","userEmail":"Ana.Lima@example.org","profileId":"1049","type":"USER"},"#,
        r#""parameters":[{"name":"chat:num_28day_attachments_uploaded","intValue":"3"},"#,
        r#"{"name":"chat:num_28day_conversations_read","intValue":"120"},"#,
        r#"{"name":"chat:num_28day_messages_and_reactions_sent","intValue":"64"},"#,
        r#"{"name":"chat:num_28day_spaces_created","intValue":"1"}]}"#,
        "\n"
    );
    let (format, facts) = all("usage.ndjson", text.as_bytes().to_vec());
    assert_eq!(format, VendorFormat::GoogleChat);
    let (start, end) = (d(2026, 3, 19), d(2026, 4, 15));
    let want = PeriodFact {
        email: Some("ana.lima@example.org".into()),
        counts: Counts { messages: Some(64), files: Some(3), reads: Some(120), ..Counts::default() },
        ..base(1, "ana.lima@example.org", start, end)
    };
    assert_eq!(facts, vec![want]);
}

#[test]
fn detection_picks_the_right_format_for_each_fixture() {
    let cases = [
        (TEAMS, VendorFormat::Teams),
        (SLACK_PRIOR, VendorFormat::SlackDashboard),
        (SLACK_RANGE, VendorFormat::SlackDashboard),
        (SLACK_API, VendorFormat::SlackApi),
        (FEISHU, VendorFormat::Feishu),
        (FEISHU_ARRAY, VendorFormat::Feishu),
        (GOOGLE, VendorFormat::GoogleChat),
    ];
    for (name, want) in cases {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(detect(name, &bytes), Some(want), "{name}");
        // Only the head is needed.
        assert_eq!(detect(name, &bytes[..bytes.len().min(300)]), Some(want), "{name} head");
    }
    // The decompressed head of a gzipped file.
    let mut head = Vec::new();
    let gz = gzip(&std::fs::read(fixture(SLACK_API)).unwrap());
    MultiGzDecoder::new(&gz[..]).read_to_end(&mut head).unwrap();
    assert_eq!(detect("x.ndjson.gz", &head), Some(VendorFormat::SlackApi));
    assert_eq!(detect("events.csv", b"user_id,timestamp,event\n"), None);
}

#[test]
fn an_unknown_file_is_refused_with_its_header() {
    let err =
        open_error("events.csv", "user_id,timestamp,event\nu1,2026-01-01T00:00:00Z,login\n", &VendorOptions::default());
    assert!(
        err.to_string().starts_with(
            "events.csv:1: not a Teams, Slack, Feishu or Google Chat export: the header has user_id, timestamp, event"
        ),
        "{err}"
    );
    let err = open_error("raw.json", r#"{"code":0,"msg":"success","data":{"items":[]}}"#, &VendorOptions::default());
    assert!(err.message.contains("the first object has the keys code, msg, data"), "{err}");
    assert!(err.message.contains("a raw API response whose first page has no records"), "{err}");
}

#[test]
fn a_format_can_be_given() {
    let bytes = std::fs::read(fixture(FEISHU)).unwrap();
    let r = reader("upload.bin", bytes, Some(VendorFormat::Feishu), &VendorOptions::default());
    assert_eq!(r.format(), VendorFormat::Feishu);
    assert_eq!(r.filter(Result::is_ok).count(), 4);
}

#[test]
fn a_bad_duration_names_line_and_column() {
    let text = "Report Refresh Date,User Principal Name,Report Period,Video Duration\n\
                2024-05-20,a@contoso.com,30,PT1H5M\n\
                2024-05-20,b@contoso.com,30,PT1H5X\n";
    let got = items("teams.csv", text);
    assert!(got[0].is_ok());
    let err = got[1].as_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        "teams.csv:3: column `Video Duration`: `PT1H5X` is not a duration; expected ISO 8601 such as PT5H12M30S \
         (or HH:MM:SS)"
    );
}

#[test]
fn bad_dates_name_line_and_column() {
    let teams = "\u{feff}User Principal Name,Report Refresh Date,Report Period,Last Activity Date,Call Count\n\
                 a@contoso.com,2024-05-20,30,2024-05-19,0\n\
                 b@contoso.com,the 20th,30,,0\n\
                 c@contoso.com,2024-05-20,30,2024-02-30,0\n";
    let got = items("teams.csv", teams);
    assert!(got[0].is_ok());
    assert!(
        got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("teams.csv:3: column `Report Refresh Date`: `the 20th` is not a date; expected YYYY-MM-DD"),
        "{:?}",
        got[1]
    );
    assert!(
        got[2].as_ref().unwrap_err().to_string().starts_with("teams.csv:4: column `Last Activity Date`: `2024-02-30`"),
        "{:?}",
        got[2]
    );

    let api = "{\"date\":\"2026-04-15\",\"user_id\":\"W1\",\"is_active\":true,\"messages_posted_count\":1}\n\
               {\"date\":\"2026-13-01\",\"user_id\":\"W1\",\"is_active\":true,\"messages_posted_count\":1}\n";
    let got = items("member.ndjson", api);
    let err = got[1].as_ref().unwrap_err().to_string();
    assert!(
        err.starts_with("member.ndjson:2: column `date`: `2026-13-01` is not a date; expected YYYY-MM-DD"),
        "{err}"
    );

    let dashboard = "Name,User ID,Days active,Messages posted,Last active (UTC)\nAl,U1,1,1,\"Febr 16, 2026\"\n";
    let got = items(SLACK_PRIOR, dashboard);
    let err = got[0].as_ref().unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{SLACK_PRIOR}:2: column `Last active (UTC)`: `Febr 16, 2026` is not a date; expected a date like `Feb 16, 2026`"
        )),
        "{err}"
    );
}

#[test]
fn a_missing_required_column_is_refused_at_the_header() {
    let text = "User Principal Name,Report Refresh Date,Call Count\na@contoso.com,2024-05-20,1\n";
    let err = open_error("teams.csv", text, &VendorOptions::default());
    assert!(err.to_string().starts_with("teams.csv:1: column `Report Period`: missing column;"), "{err}");

    let text = "Name,Username,Days active,Messages posted\nAl,al,1,1\n";
    let err = open_error(SLACK_PRIOR, text, &VendorOptions::default());
    assert!(err.to_string().starts_with(&format!("{SLACK_PRIOR}:1: column `User ID`: missing column (or `Email`)")));

    // In JSON, per record.
    let got = items("stats.ndjson", "{\"user_id\":\"ou_1\",\"user_active_flag\":1}\n");
    assert!(got[0].as_ref().unwrap_err().to_string().starts_with("stats.ndjson:1: column `date`: missing;"));
}

#[test]
fn bad_values_are_errors_and_the_stream_goes_on() {
    let text = "date,user_email,num_28day_conversations_read,num_28day_messages_and_reactions_sent\n\
                2026-04-15,a@example.org, 4 ,2\n\
                2026-04-15,b@example.org,-2,0\n\
                2026-04-15,,1,1\n\
                2026-04-15,c@example.org,3,x\n\
                2026-04-15,d@example.org,0,0\n";
    let got = items("chat.csv", text);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].as_ref().unwrap().counts.reads, Some(4));
    assert_eq!(
        got[1].as_ref().unwrap_err().to_string(),
        "chat.csv:3: column `num_28day_conversations_read`: -2 is negative; expected a whole number >= 0"
    );
    assert_eq!(
        got[2].as_ref().unwrap_err().to_string(),
        "chat.csv:4: column `user_email`: empty; every row needs the user's e-mail"
    );
    assert!(
        got[3]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("chat.csv:5: column `num_28day_messages_and_reactions_sent`: `x` is not a whole number")
    );
    assert_eq!(got[4].as_ref().unwrap().user_id, "d@example.org");

    // Flags and booleans say what they expected.
    let got = items("stats.ndjson", "{\"date\":\"2026-04-15\",\"user_id\":\"ou_1\",\"user_active_flag\":\"2\"}\n");
    assert_eq!(
        got[0].as_ref().unwrap_err().to_string(),
        "stats.ndjson:1: column `user_active_flag`: `2` is not a flag, 0 or 1"
    );
    let teams = "User Principal Name,Report Refresh Date,Report Period,Is Deleted,Call Count\na@contoso.com,2024-05-20,30,Maybe,0\n";
    assert_eq!(
        items("t.csv", teams)[0].as_ref().unwrap_err().to_string(),
        "t.csv:2: column `Is Deleted`: `Maybe` is not True or False"
    );
    // A broken NDJSON line does not stop the file.
    let api = "{\"date\":\"2026-04-15\",\"user_id\":\"W1\",\"messages_posted_count\":1}\n{\"date\":\n\
               {\"date\":\"2026-04-15\",\"user_id\":\"W2\",\"messages_posted_count\":-1}\n\
               {\"date\":\"2026-04-15\",\"user_id\":\"W3\",\"messages_posted_count\":2}\n";
    let got = items("m.ndjson", api);
    assert_eq!(got.len(), 4);
    assert!(got[1].as_ref().unwrap_err().to_string().starts_with("m.ndjson:2: not a JSON object"));
    assert_eq!(
        got[2].as_ref().unwrap_err().to_string(),
        "m.ndjson:3: column `messages_posted_count`: -1 is negative; expected a whole number >= 0"
    );
    assert_eq!(got[3].as_ref().unwrap().user_id, "w3");
}

#[test]
fn a_truncated_gzip_or_json_array_is_an_error_not_a_panic() {
    let gz = gzip(&std::fs::read(fixture(SLACK_API)).unwrap());
    let cut = gz[..gz.len() - 20].to_vec();
    let got: Vec<_> = reader("m.ndjson.gz", cut, None, &VendorOptions::default()).collect();
    assert!(got.last().unwrap().as_ref().unwrap_err().message.contains("gzip"), "{:?}", got.last());

    let got =
        items("stats.json", "[{\"date\":\"2026-04-15\",\"user_id\":\"ou_1\",\"user_active_flag\":1},\n{\"date\":");
    assert_eq!(got.len(), 2);
    assert!(got[0].is_ok());
    let err = got[1].as_ref().unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("truncated"), "{err}");
}

// ---------------------------------------------------------------------------
// Issue 12: each report read as its vendor defines it, recognised by its own
// columns, and the vendors' raw JSON responses.

const TEAMS_D30: &str = "TeamsUserActivityUserDetail_D30_2024-05-20.csv";
const TEAMS_GRAPH_1: &str = "teams_user_activity_graph_D30_page1.json";
const TEAMS_GRAPH_2: &str = "teams_user_activity_graph_D30_page2.json";

/// The facts of the D30 fixture (and of its Graph JSON pages), by hand.
fn teams_d30_facts() -> Vec<PeriodFact> {
    let (start, end) = (d(2024, 4, 21), d(2024, 5, 20));
    let teams = |line, user: &str, last: Option<NaiveDate>| PeriodFact {
        email: Some(user.to_string()),
        last_active: last,
        counts: Counts { messages: Some(0), calls: Some(0), meetings: Some(0), ..Counts::default() },
        ..base(line, user, start, end)
    };
    vec![
        // 12 team chat (its 4 posts and 8 replies are inside it) + 87 private.
        PeriodFact {
            counts: Counts {
                messages: Some(99),
                calls: Some(3),
                meetings: Some(9),
                ..teams(2, "alex.wu@contoso.com", Some(d(2024, 5, 19))).counts
            },
            ..teams(2, "alex.wu@contoso.com", Some(d(2024, 5, 19)))
        },
        // Team chat 5 = 2 posts + 3 replies: 5, not 10.
        PeriodFact {
            counts: Counts { messages: Some(5), ..teams(3, "chris.lee@contoso.com", Some(d(2024, 5, 16))).counts },
            ..teams(3, "chris.lee@contoso.com", Some(d(2024, 5, 16)))
        },
        // No counts but active on 2024-05-14, inside the period: present.
        PeriodFact {
            counts: Counts { passive: true, ..teams(4, "dana.ng@contoso.com", Some(d(2024, 5, 14))).counts },
            ..teams(4, "dana.ng@contoso.com", Some(d(2024, 5, 14)))
        },
        // One hour of audio with Call Count 0: voice use.
        PeriodFact {
            counts: Counts { calls: Some(1), ..teams(5, "evan.ross@contoso.com", Some(d(2024, 5, 12))).counts },
            ..teams(5, "evan.ross@contoso.com", Some(d(2024, 5, 12)))
        },
        teams(6, "fay.sun@contoso.com", None),
    ]
}

fn without_lines(facts: Vec<PeriodFact>) -> Vec<PeriodFact> {
    facts.into_iter().map(|f| PeriodFact { line: 0, ..f }).collect()
}

#[test]
fn teams_messages_are_team_chat_plus_private_chat_as_microsoft_defines_them() {
    let (format, facts) = read_fixture(TEAMS_D30);
    assert_eq!(format, VendorFormat::Teams);
    assert_eq!(facts, teams_d30_facts());
}

#[test]
fn the_old_12_column_teams_report_gives_the_same_numbers() {
    let (format, facts) = read_fixture("TeamsUserActivityUserDetail_12_columns_2024-05-20.csv");
    assert_eq!(format, VendorFormat::Teams);
    let messages: Vec<_> = facts.iter().map(|f| (f.user_id.as_str(), f.counts.messages)).collect();
    assert_eq!(messages, vec![("alex.wu@contoso.com", Some(99)), ("chris.lee@contoso.com", Some(5))]);
}

#[test]
fn teams_daily_reports_are_daily_rows_with_an_active_day() {
    let (_, day1) = read_fixture("TeamsUserActivityUserDetail_2024-05-18.csv");
    let (_, day2) = read_fixture("TeamsUserActivityUserDetail_2024-05-19.csv");
    let days = |facts: &[PeriodFact]| -> Vec<(String, NaiveDate, NaiveDate, Option<u32>)> {
        facts.iter().map(|f| (f.user_id.clone(), f.start, f.end, f.counts.active_days)).collect()
    };
    let (d18, d19) = (d(2024, 5, 18), d(2024, 5, 19));
    assert_eq!(
        days(&day1),
        vec![
            ("alex.wu@contoso.com".into(), d18, d18, Some(1)),
            // Nothing counted, but Last Activity Date is that day.
            ("dana.ng@contoso.com".into(), d18, d18, Some(1)),
            ("fay.sun@contoso.com".into(), d18, d18, Some(0)),
        ]
    );
    assert_eq!(
        days(&day2),
        vec![
            ("alex.wu@contoso.com".into(), d19, d19, Some(1)),
            ("dana.ng@contoso.com".into(), d19, d19, Some(0)),
            ("fay.sun@contoso.com".into(), d19, d19, Some(0)),
        ]
    );
    assert!(day1[1].counts.passive && !day2[1].counts.passive);
}

#[test]
fn other_microsoft_365_reports_are_refused_at_line_1_saying_what_they_are() {
    let cases = [
        ("EmailActivityUserDetail_D30_2024-05-20.csv", "this is the Microsoft 365 Email activity user detail report"),
        ("TeamsDeviceUsageUserDetail_D30_2024-05-20.csv", "this is the Teams device usage user detail report"),
    ];
    for (name, want) in cases {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(detect(name, &bytes), None, "{name} is not Teams");
        for format in [None, Some(VendorFormat::Teams)] {
            let err =
                match VendorReader::new(open(name, Cursor::new(bytes.clone())).unwrap(), format, &Default::default()) {
                    Ok(r) => panic!("{name} read as {:?}", r.format()),
                    Err(e) => e,
                };
            assert_eq!(err.line, 1, "{err}");
            assert!(err.message.starts_with(want), "{err}");
            assert!(err.message.contains("not Teams user activity"), "{err}");
        }
    }
    // Only the columns every Microsoft 365 report shares.
    let text = "Report Refresh Date,User Principal Name,Report Period\n2024-05-20,a@contoso.com,30\n";
    let err = open_error("three.csv", text, &VendorOptions::default());
    assert!(err.to_string().starts_with("three.csv:1: this is a Microsoft 365 usage report with only"), "{err}");
    assert!(err.message.contains("not Teams user activity"), "{err}");
}

#[test]
fn teams_graph_json_pages_give_the_csv_facts() {
    let (format, page1) = read_fixture(TEAMS_GRAPH_1);
    assert_eq!(format, VendorFormat::Teams);
    let (_, page2) = read_fixture(TEAMS_GRAPH_2);
    // Each record starts on its own line of the pretty-printed page.
    assert_eq!(page1[0].line, 4);
    let mut both = page1.clone();
    both.extend(page2.clone());
    assert_eq!(without_lines(both.clone()), without_lines(teams_d30_facts()));
    // The pages saved one after the other in one file, gzipped, forced.
    let mut joined = std::fs::read(fixture(TEAMS_GRAPH_1)).unwrap();
    joined.extend(std::fs::read(fixture(TEAMS_GRAPH_2)).unwrap());
    let r = reader("teams.json.gz", gzip(&joined), Some(VendorFormat::Teams), &VendorOptions::default());
    let facts: Vec<PeriodFact> = r.collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(without_lines(facts), without_lines(both));
}

#[test]
fn a_teams_graph_json_record_with_a_bad_value_names_its_line_and_key() {
    let text = std::fs::read_to_string(fixture(TEAMS_GRAPH_2)).unwrap().replacen(
        "\"teamChatMessageCount\": 0",
        "\"teamChatMessageCount\": -4",
        1,
    );
    let got = items("teams.json", &text);
    let err = got[0].as_ref().unwrap_err();
    assert_eq!(err.line, 4, "{err}");
    assert!(err.to_string().contains("column `teamChatMessageCount`: -4 is negative"), "{err}");
}

#[test]
fn feishu_raw_api_response_is_read_through_its_own_importer() {
    let name = "feishu_admin_user_stats_api_response.json";
    let bytes = std::fs::read(fixture(name)).unwrap();
    assert_eq!(detect(name, &bytes), Some(VendorFormat::Feishu));
    let r = reader(name, bytes, Some(VendorFormat::Feishu), &VendorOptions::default());
    let facts: Vec<PeriodFact> = r.collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"));
    let day = d(2026, 4, 14);
    let got: Vec<_> = facts
        .iter()
        .map(|f| (f.user_id.as_str(), f.start == day, f.counts.messages, f.counts.meetings, f.counts.passive))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ou_7dab8a3d3cdcc9da365777c7ad535d62", true, Some(23), Some(2), false),
            ("ou_9f3c2b1a0e8d7c6b5a4f3e2d1c0b9a8f", true, Some(0), Some(0), true),
        ]
    );
    assert_eq!(facts[0].display_name.as_deref(), Some("王明"));
    // A failed call is an error, not an empty import.
    let failed = r#"{"code": 1051002, "msg": "no dept authority", "data": {}}"#;
    let got: Vec<_> =
        reader("stats.json", failed.as_bytes().to_vec(), Some(VendorFormat::Feishu), &VendorOptions::default())
            .collect();
    assert!(got[0].as_ref().unwrap_err().message.contains("code 1051002 (no dept authority)"), "{got:?}");
}

#[test]
fn google_raw_reports_api_response_is_read() {
    let name = "google_user_usage_report_api_response.json";
    let bytes = std::fs::read(fixture(name)).unwrap();
    assert_eq!(detect(name, &bytes), Some(VendorFormat::GoogleChat));
    for format in [None, Some(VendorFormat::GoogleChat)] {
        let r = reader(name, bytes.clone(), format, &VendorOptions::default());
        let facts: Vec<PeriodFact> = r.collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"));
        let (start, end) = (d(2026, 3, 19), d(2026, 4, 15));
        let google = |line, user: &str| PeriodFact { email: Some(user.to_string()), ..base(line, user, start, end) };
        assert_eq!(
            facts,
            vec![
                PeriodFact {
                    counts: Counts {
                        messages: Some(64),
                        files: Some(3),
                        reads: Some(120),
                        ..google(5, "ana.lima@example.org").counts
                    },
                    ..google(5, "ana.lima@example.org")
                },
                PeriodFact {
                    counts: Counts {
                        messages: Some(0),
                        files: Some(0),
                        reads: Some(40),
                        ..google(34, "ben.cho@example.org").counts
                    },
                    ..google(34, "ben.cho@example.org")
                },
            ]
        );
    }
}

#[test]
fn a_google_csv_without_any_chat_column_is_refused_at_line_1() {
    let text = "date,user_email,accounts:num_28day_logins\n2026-04-15,ana.lima@example.org,3\n";
    let err = match VendorReader::new(
        open("usage.csv", Cursor::new(text.as_bytes().to_vec())).unwrap(),
        Some(VendorFormat::GoogleChat),
        &VendorOptions::default(),
    ) {
        Ok(_) => panic!("imported as zeros"),
        Err(e) => e,
    };
    assert_eq!(err.line, 1);
    assert!(err.message.starts_with("none of the Google Chat user usage report columns"), "{err}");
    assert!(err.message.contains("num_28day_messages_and_reactions_sent"), "{err}");
}
