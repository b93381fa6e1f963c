//! Vendor activity exports (see the vendor-exports spec): Microsoft Teams user
//! activity user detail, Slack member analytics (dashboard CSV and API
//! NDJSON), Feishu / Lark `admin_user_stats` and the Google Chat user usage
//! report. Each is streamed record by record into per-person [`PeriodFact`]s.
//!
//! Columns (CSV) and keys (JSON) are mapped by normalised name, never by
//! position: a UTF-8 BOM is stripped, white space trimmed and collapsed, case
//! ignored, and spaces and underscores are the same (`User Email` is
//! `user_email`).
//!
//! Containers: CSV with a header row, NDJSON (one object per line, blank lines
//! skipped), a top-level JSON array of objects, or a vendor's raw API
//! response whose records sit in an array under a known key (an envelope):
//! Microsoft Graph's `{"@odata.context", "value": [...], "@odata.nextLink"}`,
//! Google's Reports API `{"kind", "usageReports": [...], "nextPageToken"}`,
//! Feishu's `{"code", "msg", "data": {"items": [...], "has_more",
//! "page_token"}}`; several pages saved one after the other in one file are
//! read in turn. Any of them may be gzipped (undone by
//! [`super::source::open`]). A JSON array is streamed element by element,
//! each element at most [`MAX_LINE_BYTES`]; but since `source::open` refuses
//! any single line longer than that, an array written on one line (minified)
//! is limited to 1 MiB in total: pretty-print it or use NDJSON.
//!
//! Each report is recognised by its own columns: Teams user activity by its
//! message, call and meeting columns, not by the columns every Microsoft 365
//! usage report shares; another Microsoft 365 report (Email activity, Teams
//! device usage) is refused at line 1 saying what it is.
//!
//! Memory does not grow with the file: one record (CSV row, NDJSON line or
//! array element) is held at a time.

mod dates;
mod feishu;
mod google;
mod slack;
pub mod slack_audit;
pub mod slack_export;
mod teams;

// Per-event exports: events, not period facts.
pub mod event_sources;
pub mod m365_audit;
pub mod mattermost;
pub mod skipped;
pub mod zulip;

mod fields;
mod json_array;
mod reader;
mod recognition;
mod row;

use fields::*;
use json_array::*;
pub use reader::VendorReader;
use reader::*;
use recognition::*;
use row::*;

use chrono::NaiveDate;

use super::InputError;
use crate::domain::facts::{Counts, FactSource, PeriodFact};

pub use dates::DateOrder;
pub use event_sources::{EventSource, Notes, SharedNotes};
pub use recognition::detect_event_source;
pub use slack::period_from_name as slack_period_from_name;

/// How much of the (decompressed) input is read ahead to recognise it.
const HEAD_BYTES: usize = 64 * 1024;

/// The vendor export formats read here; one for each [`FactSource`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VendorFormat {
    /// Microsoft Teams user activity user detail (CSV).
    Teams,
    /// Slack member analytics dashboard export (CSV, period in the file name).
    SlackDashboard,
    /// Slack `admin.analytics.getFile?type=member` (NDJSON, per person per day).
    SlackApi,
    /// Feishu / Lark `admin_user_stats` (NDJSON or a JSON array, per person per day).
    Feishu,
    /// Google Workspace user usage report, chat parameters (CSV or NDJSON).
    GoogleChat,
}

impl VendorFormat {
    pub const ALL: [VendorFormat; 5] = [
        VendorFormat::Teams,
        VendorFormat::SlackDashboard,
        VendorFormat::SlackApi,
        VendorFormat::Feishu,
        VendorFormat::GoogleChat,
    ];

    pub fn source(self) -> FactSource {
        match self {
            VendorFormat::Teams => FactSource::Teams,
            VendorFormat::SlackDashboard => FactSource::SlackDashboard,
            VendorFormat::SlackApi => FactSource::SlackApi,
            VendorFormat::Feishu => FactSource::Feishu,
            VendorFormat::GoogleChat => FactSource::GoogleChat,
        }
    }

    pub fn from_source(source: FactSource) -> VendorFormat {
        match source {
            FactSource::Teams => VendorFormat::Teams,
            FactSource::SlackDashboard => VendorFormat::SlackDashboard,
            FactSource::SlackApi => VendorFormat::SlackApi,
            FactSource::Feishu => VendorFormat::Feishu,
            FactSource::GoogleChat => VendorFormat::GoogleChat,
        }
    }

    /// A human name for messages.
    pub fn label(self) -> &'static str {
        match self {
            VendorFormat::Teams => "Teams user activity user detail",
            VendorFormat::SlackDashboard => "Slack member analytics dashboard export",
            VendorFormat::SlackApi => "Slack member analytics API data",
            VendorFormat::Feishu => "Feishu admin_user_stats",
            VendorFormat::GoogleChat => "Google Chat user usage report",
        }
    }

    fn fields(self) -> &'static [Field] {
        match self {
            VendorFormat::Teams => teams::FIELDS,
            VendorFormat::SlackDashboard => slack::DASHBOARD_FIELDS,
            VendorFormat::SlackApi => slack::API_FIELDS,
            VendorFormat::Feishu => feishu::FIELDS,
            VendorFormat::GoogleChat => google::FIELDS,
        }
    }
}

/// Parse options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VendorOptions {
    /// The period (first and last day, inclusive) of a Slack dashboard export
    /// whose file name does not carry it; one day (the same day twice): the
    /// day a Teams daily report is for, when its name does not carry it. A
    /// period or day in the file name wins.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// The order of day and month in slashed dates (`5/6/2025`), when the
    /// file does not decide it (`--date-order`).
    pub date_order: Option<DateOrder>,
}

/// Recognises a vendor export from its name and the start of its
/// (decompressed) content: the normalised CSV header, or the keys of the
/// first JSON object. `None` if it is none of them.
pub fn detect(name: &str, head: &[u8]) -> Option<VendorFormat> {
    sniff(name, head).format
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::super::source::MAX_LINE_BYTES;
    use super::*;

    #[test]
    fn each_field_list_is_indexed_by_position() {
        for format in VendorFormat::ALL {
            for (i, f) in format.fields().iter().enumerate() {
                assert_eq!(f.index, i, "{format:?} field {}", f.name);
            }
        }
    }

    #[test]
    fn formats_map_one_to_one_to_sources() {
        for format in VendorFormat::ALL {
            assert_eq!(VendorFormat::from_source(format.source()), format);
        }
    }

    #[test]
    fn counts_accept_spaces_and_refuse_negatives() {
        assert_eq!(parse_count(" 12 ", None), Ok(12));
        assert!(parse_count("-3", None).unwrap_err().contains("negative"));
        assert!(parse_count("1.5", None).unwrap_err().contains("not a whole number"));
        assert!(parse_count("99999999999", None).unwrap_err().contains("too large"));
        let n: serde_json::Number = serde_json::from_str("4.0").unwrap();
        assert_eq!(json_count(&n), Ok(4));
        let n: serde_json::Number = serde_json::from_str("-1").unwrap();
        assert!(json_count(&n).unwrap_err().contains("negative"));
    }

    #[test]
    fn counts_with_thousands_separators_as_spreadsheets_write_them() {
        let comma = Some(',');
        let dot = Some('.');
        assert_eq!(parse_count("1,234", comma), Ok(1234));
        assert_eq!(parse_count("12,345,678", comma), Ok(12_345_678));
        assert_eq!(parse_count("1 234", comma), Ok(1234));
        assert_eq!(parse_count("1\u{a0}234\u{202f}567", dot), Ok(1_234_567));
        assert_eq!(parse_count("1.234", dot), Ok(1234));
        for (bad, group) in [
            ("1,2", comma),
            ("12,34", comma),
            ("1234,567", comma),
            ("1,234.567", comma),
            ("1.234", comma),
            ("1,234", dot),
            ("1,234", None),
            (",234", comma),
            ("1,,234", comma),
            ("1, 234", comma),
        ] {
            assert!(parse_count(bad, group).unwrap_err().contains("not a whole number"), "{bad}");
        }
        assert!(parse_count("-1,234", comma).is_err());
        assert_eq!(parse_bool("FALSCH"), Some(false));
        assert_eq!(parse_bool("WAHR"), Some(true));
    }

    #[test]
    fn detection_finds_the_header_below_a_title_row_and_in_semicolon_files() {
        assert_eq!(
            detect("x.csv", b"#TYPE System.Management.Automation.PSCustomObject\r\n\"Report Refresh Date\",\"User Principal Name\",\"Team Chat Message Count\"\r\n"),
            Some(VendorFormat::Teams)
        );
        assert_eq!(
            detect("x.csv", b"Acme Member Analytics,,,\n\nName,Days active,Messages posted\n"),
            Some(VendorFormat::SlackDashboard)
        );
        assert_eq!(
            detect("x.csv", "\u{feff}Report Refresh Date;User Principal Name;Report Period;Call Count\n".as_bytes()),
            Some(VendorFormat::Teams)
        );
    }

    #[test]
    fn detection_reads_a_header_or_the_first_object() {
        assert_eq!(
            detect("x.csv", "\u{feff}User Principal Name, Report Refresh Date,Team Chat Message Count\n".as_bytes()),
            Some(VendorFormat::Teams)
        );
        // The columns every Microsoft 365 report shares are not Teams.
        assert_eq!(detect("x.csv", b"Report Refresh Date,User Principal Name,Report Period\n"), None);
        // Graph's JSON: an envelope with camelCase keys.
        assert_eq!(
            detect(
                "x.json",
                b"{\n \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata\",\n \"value\": [\n  {\"reportRefreshDate\": \"2024-05-20\", \"userPrincipalName\": \"a@b.c\", \"teamChatMessageCount\": 1, \"call"
            ),
            Some(VendorFormat::Teams)
        );
        assert_eq!(detect("x", b"Name,User ID,Days active,Messages posted\n"), Some(VendorFormat::SlackDashboard));
        assert_eq!(
            detect("x.gz", b"{\"date\":\"2026-01-01\",\"messages_posted_count\":3}\n{"),
            Some(VendorFormat::SlackApi)
        );
        // The head may stop inside the first object.
        assert_eq!(
            detect("x.json", b"[\n  {\"date\": \"2026-01-01\", \"user_active_flag\": 1, \"vc_"),
            Some(VendorFormat::Feishu)
        );
        assert_eq!(detect("x.csv", b"date,user_email,num_28day_conversations_read\n"), Some(VendorFormat::GoogleChat));
        assert_eq!(detect("x.csv", b"user_id,timestamp,event\n"), None);
        assert_eq!(detect("x.json", b""), None);
    }

    #[test]
    fn camel_case_keys_become_snake_case() {
        assert_eq!(key("teamChatMessageCount"), "team_chat_message_count");
        assert_eq!(key("scheduledOneTimeMeetingsOrganizedCount"), "scheduled_one_time_meetings_organized_count");
        assert_eq!(key("audioDurationInSeconds"), "audio_duration_in_seconds");
        assert_eq!(key("userEmail"), "user_email");
        assert_eq!(key("Team Chat Message Count"), "team_chat_message_count");
        // Headers with spaces keep their words as written.
        assert_eq!(key("Days active (iOS)"), "days_active_(ios)");
        assert_eq!(key("User ID"), "user_id");
        assert_eq!(key("send_messenger_num"), "send_messenger_num");
    }

    fn envelope_objects(text: &str, path: &'static [&'static str]) -> Vec<Result<String, String>> {
        let mut array = JsonArray::envelope(Box::new(io::Cursor::new(text.as_bytes().to_vec())), path);
        let mut out = Vec::new();
        while let Some(item) = array.next_object("f", false) {
            out.push(item.map(|_| String::from_utf8(array.buf.clone()).unwrap()).map_err(|e| e.to_string()));
        }
        out
    }

    #[test]
    fn envelopes_are_streamed_page_after_page() {
        // Graph: pretty-printed, `@odata.nextLink` before or after `value`,
        // two pages one after the other.
        let text = "{\n \"@odata.context\": \"ctx\",\n \"@odata.nextLink\": \"https://x/?$skiptoken=a{[\\\"\",\n \"value\": [\n  {\"a\": 1},\n  {\"b\": [2, {\"c\": \"]\"}]}\n ]\n}\n{\"value\": [{\"d\": 4}], \"@odata.nextLink\": null}\n";
        let got = envelope_objects(text, &["value"]);
        assert_eq!(
            got,
            vec![
                Ok("{\"a\": 1}".to_string()),
                Ok("{\"b\": [2, {\"c\": \"]\"}]}".to_string()),
                Ok("{\"d\": 4}".to_string())
            ]
        );
        // Feishu: nested under data.items, `code` checked.
        let feishu = r#"{"code":0,"data":{"has_more":true,"items":[{"x":1}],"page_token":"t"},"msg":"success"}"#;
        assert_eq!(envelope_objects(feishu, &["data", "items"]), vec![Ok("{\"x\":1}".to_string())]);
        let failed = r#"{"code":1051001,"msg":"no permission","data":{}}"#;
        let got = envelope_objects(failed, &["data", "items"]);
        assert_eq!(got.len(), 1);
        let err = got[0].as_ref().unwrap_err();
        assert!(err.contains("code 1051001 (no permission)"), "{err}");
        // A page without records and a truncated page.
        assert_eq!(envelope_objects(r#"{"kind":"k","usageReports":[]}"#, &["usageReports"]), vec![]);
        let cut = envelope_objects("{\"value\": [{\"a\": 1},\n{\"b\"", &["value"]);
        assert!(cut[0].is_ok() && cut[1].as_ref().unwrap_err().contains("truncated"), "{cut:?}");
        let trailing = envelope_objects("{\"value\": []} x", &["value"]);
        assert!(trailing[0].as_ref().unwrap_err().contains("next page"), "{trailing:?}");
    }

    #[test]
    fn the_reader_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<VendorReader>();
    }

    #[test]
    fn an_array_element_is_bounded() {
        let mut text = b"[\n{\"a\": [\n".to_vec();
        for _ in 0..(MAX_LINE_BYTES / 2 + 10) {
            text.extend_from_slice(b"1,\n");
        }
        text.extend_from_slice(b"1]}\n]\n");
        let mut array = JsonArray::new(Box::new(io::Cursor::new(text)));
        let err = array.next_object("big.json", false).unwrap().unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("longer than"), "{err}");
        assert!(array.next_object("big.json", false).is_none());
    }

    #[test]
    fn json_arrays_are_streamed_element_by_element() {
        let text = "\u{feff}[\n {\"a\": \"}\\\"{\", \"b\": [1, {\"c\": 2}]},\n\n {\"d\": 3}\n]\n";
        let mut array = JsonArray::new(Box::new(io::Cursor::new(text.as_bytes().to_vec())));
        assert_eq!(array.next_object("f", false).unwrap().unwrap(), 2);
        assert_eq!(array.buf, br#"{"a": "}\"{", "b": [1, {"c": 2}]}"#.to_vec());
        assert_eq!(array.next_object("f", false).unwrap().unwrap(), 4);
        assert_eq!(array.buf, br#"{"d": 3}"#.to_vec());
        assert!(array.next_object("f", false).is_none());

        let mut cut = JsonArray::new(Box::new(io::Cursor::new(b"[{\"a\":1},\n{\"b\":".to_vec())));
        assert!(cut.next_object("f", false).unwrap().is_ok());
        let err = cut.next_object("f", false).unwrap().unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("truncated"), "{err}");
        assert!(cut.next_object("f", false).is_none());
    }
}
