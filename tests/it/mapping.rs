//! Column mapping end to end: a DingTalk-like export (Chinese headers, local
//! `%Y/%m/%d %H:%M` times, Chinese event words, a message content column)
//! imported through a saved preset, with the library and with
//! `import events --mapping NAME`, gives the same metrics as the equivalent
//! standard file; and the browser flow over HTTP: upload, preview, import,
//! presets, permissions.

use std::path::Path;

use crate::common::web::*;
use crate::common::{TestDb, cli, fixture};
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use undercurrent::app::import::{import_events, import_mapped, import_people};
use undercurrent::app::{evaluate, export, settings};
use undercurrent::domain::account::Role;
use undercurrent::domain::dataset::ChannelType;
use undercurrent::domain::mapping::{Field, Mapping, Target, TimeFormat};
use undercurrent::ingest::events::EventReader;
use undercurrent::ingest::source::open;
use undercurrent::storage::{Db, audit, dataset, directory, mappings};

const ZONE: &str = "Asia/Shanghai";

fn shanghai() -> Tz {
    ZONE.parse().unwrap()
}

/// The Chinese word an export would use for a kind (some are left as is).
fn word(kind: &str) -> &str {
    match kind {
        "message_sent" => "发送消息",
        "message_read" => "已读消息",
        "login" => "登录",
        "logout" => "退出",
        "check_in" => "签到",
        "reaction" => "表情回复",
        "voice_call" => "语音通话",
        "video_call" => "视频通话",
        "meeting" => "视频会议",
        "file_shared" => "发送文件",
        "doc_edit" => "编辑文档",
        other => other,
    }
}

const VALUE_MAP: [(&str, &str); 11] = [
    ("发送消息", "message_sent"),
    ("已读消息", "message_read"),
    ("登录", "login"),
    ("退出", "logout"),
    ("签到", "check_in"),
    ("表情回复", "reaction"),
    ("语音通话", "voice_call"),
    ("视频通话", "video_call"),
    ("视频会议", "meeting"),
    ("发送文件", "file_shared"),
    ("编辑文档", "doc_edit"),
];

/// Writes, from the fixture's `events_a.csv` with times cut to the minute,
/// a standard events file and the same events as a DingTalk-like export.
fn write_pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let source = fixture("activity-small").join("events_a.csv");
    let input = open("events_a.csv", std::fs::File::open(source).unwrap()).unwrap();
    let standard_path = dir.join("standard.csv");
    let export_path = dir.join("dingtalk-export.csv");
    let mut standard = csv::Writer::from_path(&standard_path).unwrap();
    let mut export = csv::Writer::from_path(&export_path).unwrap();
    standard
        .write_record(["event_id", "user_id", "timestamp", "event", "channel", "channel_type", "duration_seconds"])
        .unwrap();
    export.write_record(["消息ID", "用户ID", "时间", "行为", "会话", "会话类型", "时长", "消息内容"]).unwrap();
    let tz = shanghai();
    for (n, e) in EventReader::new(input, tz).unwrap().enumerate() {
        let e = e.unwrap();
        let ts = e.ts - e.ts.rem_euclid(60);
        let utc = DateTime::from_timestamp(ts, 0).unwrap();
        let (ctype, ctype_word) = match e.channel_type {
            ChannelType::Direct => ("direct", "单聊"),
            ChannelType::Group => ("group", "群聊"),
            ChannelType::Broadcast => ("broadcast", "广播"),
            ChannelType::Unknown => ("", ""),
        };
        let duration = e.duration_seconds.map(|d| d.to_string()).unwrap_or_default();
        let id = e.event_id.clone().unwrap_or_default();
        let channel = e.channel.clone().unwrap_or_default();
        standard
            .write_record([id.as_str(), &e.user_id, &utc.to_rfc3339(), &e.kind, &channel, ctype, &duration])
            .unwrap();
        let local = utc.with_timezone(&tz).format("%Y/%-m/%-d %-H:%M").to_string();
        let user = if n % 3 == 0 { e.user_id.to_uppercase() } else { e.user_id.clone() };
        let content = if e.kind == "message_sent" { "你好，这是消息正文, with a comma" } else { "" };
        export
            .write_record([id.as_str(), &user, &local, word(&e.kind), &channel, ctype_word, &duration, content])
            .unwrap();
    }
    standard.flush().unwrap();
    export.flush().unwrap();
    (standard_path, export_path)
}

/// The directory with Chinese headers.
fn write_people(dir: &Path) -> std::path::PathBuf {
    let source = fixture("activity-small").join("people.csv");
    let mut reader = csv::Reader::from_path(source).unwrap();
    let path = dir.join("通讯录.csv");
    let mut out = csv::Writer::from_path(&path).unwrap();
    out.write_record(["工号", "姓名", "邮箱", "部门", "职位", "入职日期", "cost_center"]).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let date = r[5].replace('-', "/");
        out.write_record([&r[0], &r[1], &r[2], &r[3], &r[4], date.as_str(), &r[6]]).unwrap();
    }
    out.flush().unwrap();
    path
}

fn dingtalk_mapping() -> Mapping {
    let mut m = Mapping::new(Target::Events);
    for (f, c) in [
        (Field::EventId, "消息ID"),
        (Field::UserId, "用户ID"),
        (Field::Timestamp, "时间"),
        (Field::Event, "行为"),
        (Field::Channel, "会话"),
        (Field::ChannelType, "会话类型"),
        (Field::DurationSeconds, "时长"),
    ] {
        m.columns.insert(f, c.to_string());
    }
    m.event_values = VALUE_MAP.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
    m.timezone = Some(ZONE.into());
    m
}

fn people_mapping() -> Mapping {
    let mut m = Mapping::new(Target::People);
    for (f, c) in [
        (Field::UserId, "工号"),
        (Field::Name, "姓名"),
        (Field::Email, "邮箱"),
        (Field::Department, "部门"),
        (Field::Title, "职位"),
        (Field::StartDate, "入职日期"),
    ] {
        m.columns.insert(f, c.to_string());
    }
    m.keep_other_columns = true;
    m
}

fn input(path: &Path) -> undercurrent::ingest::source::Input {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    open(&name, std::fs::File::open(path).unwrap()).unwrap()
}

async fn metrics(db: &Db) -> (Vec<String>, Vec<Vec<String>>) {
    let s = settings::load(db).await.unwrap();
    let c = evaluate::compute(db, &s, NaiveDate::from_ymd_opt(2026, 5, 29), None).await.unwrap();
    export::table(&c)
}

#[tokio::test]
async fn a_dingtalk_export_through_a_preset_gives_the_standard_files_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (standard, dingtalk) = write_pair(dir.path());
    let people = write_people(dir.path());
    let fixture_people = fixture("activity-small").join("people.csv");

    // The reference: standard files.
    let a = TestDb::new().await;
    settings::set(&a.db, "timezone", ZONE).await.unwrap();
    import_people(&a.db, input(&fixture_people)).await.unwrap();
    let tz = settings::load(&a.db).await.unwrap().timezone;
    let reference = import_events(&a.db, tz, input(&standard)).await.unwrap();
    assert!(reference.events_added > 7000, "{reference:?}");
    let want = metrics(&a.db).await;
    assert!(want.1.len() > 90);

    // Through presets, with the library; the organisation's zone is UTC:
    // the preset's zone reads the local times.
    let b = TestDb::new().await;
    mappings::save(&b.db, "dingtalk", &dingtalk_mapping()).await.unwrap();
    mappings::save(&b.db, "通讯录", &people_mapping()).await.unwrap();
    let events_preset = mappings::find(&b.db, "dingtalk").await.unwrap().unwrap();
    let people_preset = mappings::find(&b.db, "通讯录").await.unwrap().unwrap();
    assert_eq!(events_preset.mapping, dingtalk_mapping());
    let utc = chrono_tz::UTC;
    let s = import_mapped(&b.db, utc, input(&people), &people_preset.mapping).await.unwrap();
    assert_eq!((s.source.as_str(), s.rows_read, s.people_created), ("people", 101, 101));
    let s = import_mapped(&b.db, utc, input(&dingtalk), &events_preset.mapping).await.unwrap();
    assert_eq!((s.rows_read, s.events_added, s.duplicates_skipped), (7474, reference.events_added, 0));
    assert_eq!((s.first_ts, s.last_ts), (reference.first_ts, reference.last_ts));
    assert_eq!(s.unknown_kinds, reference.unknown_kinds, "every word was translated");
    settings::set(&b.db, "timezone", ZONE).await.unwrap();
    assert_eq!(metrics(&b.db).await, want, "same numbers as the standard file");
    // Attributes other than the mapped columns were kept.
    let people_dir = directory::load(&b.db).await.unwrap();
    assert_eq!(people_dir.attribute_names, vec!["cost_center".to_string()]);
    let first = (1..=500).filter_map(|id| people_dir.get(id)).find(|e| e.user_id == "u0000@corp.example").unwrap();
    assert_eq!(first.attribute("cost_center"), Some("CC0"));
    assert_eq!(first.department.as_deref(), Some("Engineering"));

    // Importing again changes nothing.
    let again = import_mapped(&b.db, utc, input(&dingtalk), &events_preset.mapping).await.unwrap();
    assert_eq!((again.events_added, again.duplicates_skipped), (0, 7474));
    assert_eq!(metrics(&b.db).await, want);

    // With the command line.
    let c = TestDb::new().await;
    mappings::save(&c.db, "dingtalk", &dingtalk_mapping()).await.unwrap();
    mappings::save(&c.db, "通讯录", &people_mapping()).await.unwrap();
    let (code, out, err) = cli(&c.url, &["settings", "set", "timezone", ZONE]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&c.url, &["import", "people", "--mapping", "通讯录", &people.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("people created      101"), "{out}");
    let file = dingtalk.display().to_string();
    let (code, out, err) = cli(&c.url, &["import", "events", "--mapping", "dingtalk", &file]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("events added        {}", reference.events_added)), "{out}");
    assert_eq!(metrics(&c.db).await, want, "same numbers through the command line");
    let (code, out, _) = cli(&c.url, &["import", "events", "--mapping", "dingtalk", &file]);
    assert_eq!(code, 0);
    assert!(out.contains("events added        0") && out.contains("duplicates skipped  7474"), "{out}");
    assert_eq!(metrics(&c.db).await, want);

    // Clear refusals.
    let (code, _, err) = cli(&c.url, &["import", "events", "--mapping", "nope", &file]);
    assert_eq!(code, 1);
    assert!(err.contains("no column mapping preset is named `nope`") && err.contains("`dingtalk`"), "{err}");
    let (code, _, err) = cli(&c.url, &["import", "people", "--mapping", "dingtalk", &file]);
    assert_eq!(code, 1);
    assert!(err.contains("maps events files, not people") && err.contains("import events --mapping dingtalk"), "{err}");
    // A file the preset does not fit: nothing stored, the line named.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "用户ID,时间,行为\nu1,2026/5/1 9:00,登录\n").unwrap();
    let (code, _, err) = cli(&c.url, &["import", "events", "--mapping", "dingtalk", &other.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("other.csv:1: the column mapping does not fit this file: column `会话`"), "{err}");
    assert!(err.contains("column `消息ID` (for `event_id`) is not in the file"), "{err}");
    assert_eq!(err.matches("the file's columns are: 用户ID, 时间, 行为").count(), 1, "{err}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "消息ID,用户ID,时间,行为,会话,会话类型,时长\n1,u1,2026/5/1 9:00,登录,,,\n2,u1,昨天,登录,,,\n")
        .unwrap();
    let before = dataset::totals(&c.db).await.unwrap();
    let (code, _, err) = cli(&c.url, &["import", "events", "--mapping", "dingtalk", &bad.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.csv:3: column `时间`: `昨天` does not match the format"), "{err}");
    assert_eq!(dataset::totals(&c.db).await.unwrap().events, before.events, "nothing of the file stored");

    a.finish().await;
    b.finish().await;
    c.finish().await;
}

const EXPORT: &str = "用户ID,时间,行为,会话,消息内容\n\
                      U0001@corp.example,2026/5/4 09:00,登录,,\n\
                      u0001@corp.example,2026/5/4 09:01,发送消息,g-sales,SECRET-CONTENT-1\n\
                      u0002@corp.example,2026/5/4 09:03,发送消息,g-sales,SECRET-CONTENT-2\n\
                      u0002@corp.example,2026/5/4 09:04,签到,,\n";

fn part(name: &str, text: &str) -> Part {
    Part::bytes(text.as_bytes().to_vec()).file_name(name.to_string()).mime_str("text/csv").unwrap()
}

/// The upload token in a mapping page.
fn token_of(body: &str) -> String {
    let i = body.find("name=\"file\" value=\"").unwrap_or_else(|| panic!("no file token in:\n{body}"));
    body[i + 19..].chars().take_while(|c| c.is_ascii_hexdigit()).collect()
}

fn mapping_form<'a>(token: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("file", token),
        ("name", "dingtalk.csv"),
        ("target", "events"),
        ("col_user_id", "用户ID"),
        ("col_timestamp", "时间"),
        ("col_event", "行为"),
        ("col_channel", "会话"),
        ("event_values", "发送消息 = message_sent\n签到 = check_in\n登录 = login"),
        ("time_format", "%Y/%m/%d %H:%M"),
        ("time_pattern", ""),
        ("timezone", ""),
    ];
    for (k, v) in extra {
        match form.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v,
            None => form.push((k, v)),
        }
    }
    form
}

#[tokio::test]
async fn upload_preview_import_and_presets_over_http() {
    let app = TestApp::with_accounts().await;
    settings::set(&app.t.db, "timezone", ZONE).await.unwrap();
    let mut admin = app.signed_in(Role::Admin).await;

    let (status, body) = admin.get("/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("href=\"/imports/mapping\""), "the imports page links to the mapping");
    let (status, body) = admin.get("/imports/mapping").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"upload-form\"") && body.contains("Message content is never imported"));
    assert!(body.contains("No preset yet."));

    // Upload: the header, the first rows, content hidden, columns guessed.
    let form = Form::new().text("target", "events").part("file", part("dingtalk.csv", EXPORT));
    let (status, body) = admin.post_multipart("/imports/mapping/upload", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("id=\"sample\"") && body.contains("<th scope=\"col\">消息内容</th>"), "{body}");
    assert!(!body.contains("SECRET-CONTENT"), "message content is never shown");
    assert!(body.contains("Never imported (message content): 消息内容"));
    assert!(body.contains("<option value=\"用户ID\" selected>"), "user id guessed");
    assert!(body.contains("<option value=\"时间\" selected>"), "time guessed");
    assert!(body.contains("<option value=\"%Y/%m/%d %H:%M\" selected>"), "time format guessed");
    assert!(!body.contains("<option value=\"消息内容\""), "content is never offered");
    let token = token_of(&body);
    assert_eq!(token.len(), 64);
    let upload = std::env::temp_dir().join(format!("undercurrent-mapping-{token}"));
    assert!(upload.is_file());

    // Preview: mapped rows, nothing stored.
    let (status, body, _) = admin.post("/imports/mapping/preview", &mapping_form(&token, &[])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("id=\"preview-rows\""), "{body}");
    assert!(body.contains("Read all 4 rows: every one can be imported."), "{body}");
    assert!(body.contains("<td>u0001@corp.example</td>") && body.contains("<td>message_sent</td>"), "{body}");
    assert!(body.contains("<td>4 May 2026 09:01:00 +08:00</td>"), "{body}");
    assert!(body.contains("<td>check_in</td>"));
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 0, "a preview stores nothing");
    assert!(!body.contains("id=\"kinds-warning\""), "every kind is translated: {body}");

    // Kinds left untranslated: readable, but the preview says what that
    // would mean instead of calling the file fine.
    let (_, body, _) = admin.post("/imports/mapping/preview", &mapping_form(&token, &[("event_values", "")])).await;
    assert!(!body.contains("every one can be imported"), "{body}");
    assert!(body.contains("id=\"kinds-warning\"") && body.contains("None of the 4 rows has an event kind"), "{body}");
    let some = mapping_form(&token, &[("event_values", "发送消息 = message_sent")]);
    let (_, body, _) = admin.post("/imports/mapping/preview", &some).await;
    assert!(body.contains("2 of 4 rows have an event kind outside the activity model"), "{body}");

    // A broken mapping: problems named, nothing read.
    let bad = mapping_form(&token, &[("col_channel", "消息内容"), ("timezone", "Mars/Olympus")]);
    let (status, body, _) = admin.post("/imports/mapping/preview", &bad).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("looks like message content, which is never imported"), "{body}");
    assert!(body.contains("“Mars/Olympus” is not an IANA time zone"), "{body}");
    assert!(!body.contains("id=\"preview-rows\""));
    // A bad value: the line and column.
    let (_, body, _) = admin.post("/imports/mapping/preview", &mapping_form(&token, &[("col_event", "会话")])).await;
    assert!(body.contains("Read 4 rows: 2 cannot be imported"), "{body}");
    assert!(body.contains("dingtalk.csv:2: column `会话`: empty event kind"), "{body}");

    // Save as preset.
    let (status, body, _) =
        admin.post("/imports/mapping/presets", &mapping_form(&token, &[("preset_name", "DingTalk 导出")])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Preset “DingTalk 导出” saved."), "{body}");
    assert!(body.contains("<th scope=\"row\">DingTalk 导出</th>"), "listed: {body}");
    let preset = mappings::find(&app.t.db, "DingTalk 导出").await.unwrap().unwrap();
    assert_eq!(preset.mapping.column(Field::UserId), Some("用户ID"));
    assert_eq!(preset.mapping.event_values.len(), 3);
    let (_, body, _) = admin.post("/imports/mapping/presets", &mapping_form(&token, &[("preset_name", " ")])).await;
    assert!(body.contains("The preset was not saved"), "{body}");

    // Import: all or nothing, in the history and the audit log.
    let shanghai_form = mapping_form(&token, &[("timezone", ZONE)]);
    let (status, body, _) = admin.post("/imports/mapping/import", &shanghai_form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("dingtalk.csv was imported."), "{body}");
    assert!(body.contains("Events added</dt><dd>4</dd>"), "{body}");
    assert!(body.contains("id=\"save-after\""), "offers to save a mapping no preset holds");
    // Saving it then needs no file.
    let (_, body, _) = admin
        .post(
            "/imports/mapping/presets",
            &mapping_form("", &[("timezone", ZONE), ("preset_name", "DingTalk Shanghai")]),
        )
        .await;
    assert!(body.contains("Preset “DingTalk Shanghai” saved."), "{body}");
    let saved = mappings::find(&app.t.db, "DingTalk Shanghai").await.unwrap().unwrap();
    assert_eq!(saved.mapping.timezone.as_deref(), Some(ZONE));
    assert!(!upload.exists(), "the upload is removed once imported");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 4);
    let (_, history) = admin.get("/imports").await;
    assert!(history.contains("<th scope=\"row\" class=\"file\">dingtalk.csv</th>"), "{history}");
    let entries = audit::recent(&app.t.db, 20, 0).await.unwrap();
    assert!(entries.iter().any(|e| e.action == "import"
        && e.detail.as_deref().is_some_and(|d| d.contains("dingtalk.csv: 4 rows read, 4 events added"))));
    assert!(entries.iter().any(|e| e.action == "mapping_preset"));
    // The token no longer names a file.
    let (_, body, _) = admin.post("/imports/mapping/import", &mapping_form(&token, &[])).await;
    assert!(body.contains("no longer on the server"), "{body}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 4);

    // Never a path from the client.
    let (_, body, _) = admin.post("/imports/mapping/preview", &mapping_form("../../../etc/passwd", &[])).await;
    assert!(body.contains("no longer on the server") && !body.contains("root:"), "{body}");

    // Another file with the preset: the form is filled from it.
    let more = "用户ID,时间,行为,会话,消息内容\nu0003@corp.example,2026/5/5 10:00,发送消息,g-ops,hi\n";
    let form = Form::new()
        .text("target", "people")
        .text("preset", preset.id.to_string())
        .part("file", part("dingtalk-may.csv", more));
    let (status, body) = admin.post_multipart("/imports/mapping/upload", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("发送消息 = message_sent"), "the preset's value map: {body}");
    assert!(body.contains("value=\"DingTalk 导出\""), "{body}");
    assert!(body.contains("name=\"target\" value=\"events\""), "the preset decides the kind of file");
    let token2 = token_of(&body);
    // Applying a preset to an uploaded file.
    let (status, body, _) = admin
        .post(
            "/imports/mapping/apply",
            &[("file", token2.as_str()), ("name", "dingtalk-may.csv"), ("preset", &preset.id.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<option value=\"%Y/%m/%d %H:%M\" selected>"), "{body}");
    let form = mapping_form(&token2, &[("name", "dingtalk-may.csv")]);
    let (_, body, _) = admin.post("/imports/mapping/import", &form).await;
    assert!(body.contains("dingtalk-may.csv was imported."), "{body}");
    assert!(!body.contains("id=\"save-after\""), "a preset already holds this mapping");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 5);

    // Delete the preset.
    let (status, _, location) = admin.post(&format!("/imports/mapping/presets/{}/delete", preset.id), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/imports/mapping"));
    assert!(mappings::find(&app.t.db, "DingTalk 导出").await.unwrap().is_none());
    let (_, body) = admin.get("/imports/mapping").await;
    assert!(!body.contains("DingTalk 导出") && body.contains("<th scope=\"row\">DingTalk Shanghai</th>"), "{body}");

    // A form address read with GET returns to the page.
    let (status, _, location) = admin.get_full("/imports/mapping/preview?csrf=x").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/imports/mapping")));

    app.finish().await;
}

#[tokio::test]
async fn only_roles_that_import_may_map_columns() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    assert_eq!(analyst.get("/imports/mapping").await.0, StatusCode::OK);
    let (status, body) =
        analyst.post_multipart("/imports/mapping/upload", Form::new().part("file", part("d.csv", EXPORT))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let _ = std::fs::remove_file(std::env::temp_dir().join(format!("undercurrent-mapping-{}", token_of(&body))));
    for role in [Role::Researcher, Role::Manager] {
        let mut c = app.signed_in(role).await;
        assert_eq!(c.get("/imports/mapping").await.0, StatusCode::FORBIDDEN, "{role}");
        let (status, _) =
            c.post_multipart("/imports/mapping/upload", Form::new().part("file", part("d.csv", EXPORT))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        for path in ["/imports/mapping/preview", "/imports/mapping/import", "/imports/mapping/presets"] {
            let (status, _, _) = c.post(path, &mapping_form(&"0".repeat(64), &[("preset_name", "x")])).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {path}");
        }
        let (status, _, _) = c.post("/imports/mapping/presets/1/delete", &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    assert!(mappings::list(&app.t.db).await.unwrap().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_directory_in_another_layout_over_http() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let file = "工号,姓名,部门,入职日期,成本中心,备注内容\n\
                E001,李伟,销售,2026/03/02,CC1,private note\n\
                E002,王芳,研发,,CC2,\n";
    let form = Form::new().text("target", "people").part("file", part("通讯录.csv", file));
    let (status, body) = analyst.post_multipart("/imports/mapping/upload", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<option value=\"工号\" selected>") && body.contains("<option value=\"入职日期\" selected>"));
    assert!(body.contains("name=\"keep_other\" value=\"on\" checked"), "{body}");
    assert!(!body.contains("private note"));
    let token = token_of(&body);
    let form = [
        ("file", token.as_str()),
        ("name", "通讯录.csv"),
        ("target", "people"),
        ("col_user_id", "工号"),
        ("col_name", "姓名"),
        ("col_department", "部门"),
        ("col_start_date", "入职日期"),
        ("keep_other", "on"),
    ];
    let (_, body, _) = analyst.post("/imports/mapping/preview", &form).await;
    assert!(body.contains("Read all 2 rows"), "{body}");
    assert!(body.contains("<td>e001</td>") && body.contains("<td>2 Mar 2026</td>") && body.contains("成本中心: CC1"));
    assert!(!body.contains("备注内容: "), "content is never an attribute");
    let (_, body, _) = analyst.post("/imports/mapping/import", &form).await;
    assert!(body.contains("通讯录.csv was imported.") && body.contains("People created</dt><dd>2</dd>"), "{body}");
    let people = directory::load(&app.t.db).await.unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people.attribute_names, vec!["成本中心".to_string()]);
    app.finish().await;
}
