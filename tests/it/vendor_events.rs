//! Per-event vendor exports through the command line: the Mattermost bulk
//! export and audit log, the Zulip export and the Microsoft 365 unified audit
//! log become events with hand-computed counts and sessions; bad input is
//! refused with its file, entry and line and stores nothing; re-import
//! changes nothing; message text is stored nowhere.

use crate::common::{TestDb, cli, fixture};

fn vendor(source: &str, f: &str) -> String {
    fixture("vendor").join(source).join(f).display().to_string()
}

/// `metrics export` as of `day`: each person's row by user id, as a map of
/// column to value.
fn metrics(url: &str, day: &str) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let (code, out, err) = cli(url, &["metrics", "export", "--as-of", day]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let row: std::collections::BTreeMap<String, String> =
                header.iter().cloned().zip(r.iter().map(str::to_string)).collect();
            (r[0].to_string(), row)
        })
        .collect()
}

/// `sessions/engaged/depth/messages` of one person.
fn sessions(
    rows: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    who: &str,
) -> String {
    let r = rows.get(who).unwrap_or_else(|| panic!("{who} is listed: {:?}", rows.keys().collect::<Vec<_>>()));
    format!("{}/{}/{}/{}", r["sessions"], r["engaged_sessions"], r["login_depth"], r["messages_sent"])
}

fn import(url: &str, args: &[&str]) -> String {
    let (code, out, err) = cli(url, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[tokio::test]
async fn a_mattermost_export_gives_messages_replies_reactions_and_files_but_no_sign_ins() {
    let t = TestDb::new().await;
    let out = import(&t.url, &["import", "mattermost", &vendor("mattermost", "export.jsonl")]);
    // A post with an attachment (2), its reply, a reaction, a DM and a group DM.
    assert!(out.contains("events added        6") && out.contains("people created      3"), "{out}");
    assert!(out.contains("Mattermost bulk export (mattermost)") && out.contains("direct_post: 2"), "{out}");
    let rows = metrics(&t.url, "2026-03-02");
    assert_eq!(rows.len(), 3);
    // People are keyed by the e-mail of their user line, lower-cased.
    assert_eq!(sessions(&rows, "alice.wu@example.com"), "1/1/1/1");
    assert_eq!(rows["alice.wu@example.com"]["feature_breadth"], "2", "text and files");
    // Bob's reply 10 minutes after Alice's post; his DM starts a second session.
    assert_eq!(sessions(&rows, "bob.lee@example.com"), "2/2/1/2");
    assert_eq!(rows["bob.lee@example.com"]["median_reply_minutes"], "10");
    // Carol's reaction at its own time, then her group DM 50 minutes later.
    assert_eq!(sessions(&rows, "carol.diaz@example.com"), "2/2/1/1");

    let again = import(&t.url, &["import", "mattermost", &vendor("mattermost", "export.jsonl")]);
    assert!(again.contains("events added        0") && again.contains("duplicates skipped  6"), "{again}");
    assert_eq!(metrics(&t.url, "2026-03-02"), rows, "re-import changes nothing");
    t.finish().await;
}

#[tokio::test]
async fn a_mattermost_export_and_audit_log_combine_into_sessions_with_login_depth() {
    let t = TestDb::new().await;
    import(&t.url, &["import", "mattermost", &vendor("mattermost", "export.jsonl")]);
    let out = import(&t.url, &["import", "mattermost-audit", &vendor("mattermost", "audit.jsonl")]);
    // Logins (4, one failed skipped), logouts (3), one audited post, one upload.
    assert!(out.contains("events added        10"), "{out}");
    assert!(out.contains("not successful: 1") && out.contains("other audit events: 1"), "{out}");
    let rows = metrics(&t.url, "2026-03-02");
    // Alice: login 09:55, post and file 10:00, logout 10:20 (engaged); login
    // 12:00, logout 12:05 (idle).
    assert_eq!(sessions(&rows, "alice.wu@example.com"), "2/1/0.5/1");
    // Bob: login 10:05, reply 10:10, logout 10:12; DM at 11:00.
    assert_eq!(sessions(&rows, "bob.lee@example.com"), "2/2/1/2");
    // Carol, known by her login id: login 10:14 and reaction 10:15; group DM
    // 11:05; a login at 14:00 with nothing after it.
    assert_eq!(sessions(&rows, "carol.diaz@example.com"), "3/2/0.667/1");
    // Dave never signs in within the log: his Mattermost user id stays the key.
    assert_eq!(sessions(&rows, "p2n8vc5rwk1tqj4d7bzxyu3lmo"), "1/0/0/0");
    assert_eq!(rows.len(), 4, "one person each, across both sources");

    let again = import(&t.url, &["import", "mattermost-audit", &vendor("mattermost", "audit.jsonl")]);
    assert!(again.contains("events added        0"), "{again}");
    assert_eq!(metrics(&t.url, "2026-03-02"), rows, "re-import changes nothing");
    t.finish().await;
}

#[tokio::test]
async fn a_zulip_export_gives_messages_and_presence_sessions() {
    let t = TestDb::new().await;
    let file = vendor("zulip", "zulip-export-r7xkq2mv.tar.gz");
    let out = import(&t.url, &["import", "zulip", &file]);
    // Messages 5 (a bot's and a cross-realm sender's skipped), intervals 3 (a
    // bot's skipped) as a login and a logout each.
    assert!(out.contains("events added        11") && out.contains("people created      3"), "{out}");
    assert!(
        out.contains("messages by bots: 1") && out.contains("reactions (the export gives them no time): 2"),
        "{out}"
    );
    let rows = metrics(&t.url, "2026-03-03");
    assert_eq!(rows.len(), 3, "{rows:?}");
    // Alice (by delivery_email): present 09:00-09:40 with two messages, then
    // present 13:00-13:20 without any.
    assert_eq!(sessions(&rows, "alice.wu@example.com"), "2/1/0.5/2");
    assert_eq!(rows["alice.wu@example.com"]["median_reply_minutes"], "5", "her DM 5 minutes after Bob's");
    assert_eq!(sessions(&rows, "bob.lee@example.com"), "1/1/1/2");
    assert_eq!(rows["bob.lee@example.com"]["median_reply_minutes"], "2", "the stream message 2 minutes after hers");
    assert_eq!(sessions(&rows, "carol.diaz@example.com"), "1/1/1/1");

    let again = import(&t.url, &["import", "auto", &file]);
    assert!(again.contains("Zulip export (zulip)") && again.contains("events added        0"), "{again}");
    assert_eq!(metrics(&t.url, "2026-03-03"), rows, "re-import changes nothing");
    t.finish().await;
}

#[tokio::test]
async fn the_microsoft_365_audit_log_gives_teams_sign_ins_messages_and_meetings() {
    let t = TestDb::new().await;
    let file = vendor("m365-audit", "AuditLog_2026-03-04.csv");
    let out = import(&t.url, &["import", "m365-audit", &file]);
    // 12 Teams events, a message logged both as MessageSent and
    // MessageCreatedHasLink counted once; sign-in and SharePoint records skipped.
    assert!(out.contains("events added        11") && out.contains("duplicates skipped  1"), "{out}");
    assert!(out.contains("not Microsoft Teams: 2") && out.contains("other Teams operations: 1"), "{out}");
    assert!(out.contains("TeamsSessionStarted: 3") && out.contains("MeetingParticipantDetail: 1"), "{out}");
    assert!(!out.contains("no message events"), "{out}");
    let rows = metrics(&t.url, "2026-03-04");
    assert_eq!(rows.len(), 2, "{rows:?}");
    // Alex: session from 08:00 with a message (engaged), a bare session at 14:00.
    assert_eq!(sessions(&rows, "alex.wu@contoso.com"), "2/1/0.5/1");
    // Beatriz: session from 08:06 with a message; the meeting at its JoinTime 09:00.
    assert_eq!(sessions(&rows, "beatriz.lopez@contoso.com"), "2/2/1/1");
    assert_eq!(rows["beatriz.lopez@contoso.com"]["median_reply_minutes"], "2");
    assert_eq!(rows["beatriz.lopez@contoso.com"]["feature_breadth"], "2", "text and a meeting");

    let older = import(&t.url, &["import", "auto", &vendor("m365-audit", "AuditLog_older_layout.csv")]);
    assert!(older.contains("Microsoft 365 unified audit log (m365_audit)"), "{older}");
    assert!(older.contains("events added        2") && older.contains("no message events"), "{older}");
    let chen = &metrics(&t.url, "2026-03-04")["chen.jing@contoso.com"];
    assert_eq!(format!("{}/{}", chen["sessions"], chen["engaged_sessions"]), "1/1", "a meeting after the sign-in");

    let again = import(&t.url, &["import", "m365-audit", &file]);
    assert!(again.contains("events added        0"), "{again}");
    t.finish().await;
}

#[tokio::test]
async fn import_auto_recognises_each_per_event_export() {
    let t = TestDb::new().await;
    for (file, label) in [
        (vendor("mattermost", "export.jsonl"), "(mattermost)"),
        (vendor("mattermost", "audit.jsonl"), "(mattermost_audit)"),
        (vendor("zulip", "zulip-export-r7xkq2mv.tar.gz"), "(zulip)"),
        (vendor("m365-audit", "AuditLog_2026-03-04.csv"), "(m365_audit)"),
    ] {
        let out = import(&t.url, &["import", "auto", &file]);
        assert!(out.contains(label), "{file}: {out}");
    }
    t.finish().await;
}

/// Runs an import expected to fail; returns its error output, after checking
/// that nothing was stored.
fn refused(url: &str, args: &[&str]) -> String {
    let (code, out, err) = cli(url, args);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("nothing of"), "{err}");
    let (_, export, _) = cli(url, &["metrics", "export", "--as-of", "2026-03-04"]);
    assert_eq!(export.lines().count(), 1, "nothing stored: {export}");
    err
}

#[tokio::test]
async fn bad_input_is_refused_with_file_entry_and_line_and_stores_nothing() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };

    // Not an export.
    let events = write("events.csv", b"user_id,timestamp,event\nu1,2026-03-02T09:00:00Z,login\n");
    let err = refused(&t.url, &["import", "mattermost", &events]);
    assert!(err.contains("events.csv:1:") && err.contains("not a Mattermost bulk export"), "{err}");

    // A JSON line that breaks (the post on line 8 cut in half).
    let export = std::fs::read_to_string(fixture("vendor/mattermost/export.jsonl")).unwrap();
    let mut lines: Vec<String> = export.lines().map(str::to_string).collect();
    lines[7] = lines[7][..lines[7].len() / 2].to_string();
    let broken = write("broken.jsonl", (lines.join("\n") + "\n").as_bytes());
    let err = refused(&t.url, &["import", "mattermost", &broken]);
    assert!(err.contains("broken.jsonl:8:") && err.contains("JSON") && err.contains("at column"), "{err}");

    // A truncated archive: named with the entry being read when it ended.
    let archive = std::fs::read(fixture("vendor/zulip/zulip-export-r7xkq2mv.tar.gz")).unwrap();
    let cut = write("cut.tar.gz", &archive[..archive.len() * 2 / 3]);
    let err = refused(&t.url, &["import", "zulip", &cut]);
    assert!(err.contains("cut.tar.gz") && err.contains("truncated or corrupt"), "{err}");

    // An archive that is not a Zulip export.
    let not_tar = write("notes.tar.gz", &gzip(b"just some text, not a tar archive at all\n"));
    let err = refused(&t.url, &["import", "zulip", &not_tar]);
    assert!(err.contains("notes.tar.gz:1:") && err.contains("not a Zulip export"), "{err}");

    // A tar without realm.json.
    let no_realm = write("no-realm.tar.gz", &gzip(&tar(&[("x/messages-000001.json", b"{\"zerver_message\": []}")])));
    let err = refused(&t.url, &["import", "zulip", &no_realm]);
    assert!(err.contains("no-realm.tar.gz:1:") && err.contains("no realm.json"), "{err}");

    // A CSV whose AuditData is not JSON, on line 3.
    let audit = std::fs::read_to_string(fixture("vendor/m365-audit/AuditLog_2026-03-04.csv")).unwrap();
    let mut rows: Vec<String> = audit.lines().map(str::to_string).collect();
    rows[2] = rows[2].replacen("\"{\"\"CreationTime\"\"", "\"{CreationTime", 1);
    let bad = write("AuditLog_bad.csv", (rows.join("\r\n") + "\r\n").as_bytes());
    let err = refused(&t.url, &["import", "m365-audit", &bad]);
    assert!(err.contains("AuditLog_bad.csv:3: column `AuditData`") && err.contains("not valid JSON"), "{err}");

    // An audit record without its event name.
    let audit_log = write(
        "audit.jsonl",
        b"{\"timestamp\":\"2026-03-02 09:55:02.118 Z\",\"status\":\"success\",\"actor\":{\"user_id\":\"x\"}}\n",
    );
    let err = refused(&t.url, &["import", "mattermost-audit", &audit_log]);
    assert!(err.contains("audit.jsonl:1: column `event_name`"), "{err}");
    t.finish().await;
}

#[tokio::test]
async fn a_broken_member_of_a_zulip_export_is_named_with_its_line() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let realm = br#"{"zerver_userprofile": [{"id": 1, "email": "a@example.com", "delivery_email": "a@example.com", "is_bot": false}],
"zerver_recipient": [{"id": 5, "type": 2, "type_id": 1}]}"#;
    let messages = b"{\"zerver_message\": [\n{\"id\": 1, \"sender\": 1, \"recipient\": 5, \"date_sent\": 1772528400.0},\n{\"id\": 2, \"sender\": 1, \"recipient\": 5, \"date_sent\": \"soon\"}\n]}";
    let path = dir.path().join("zulip-export-x.tar.gz");
    std::fs::write(
        &path,
        gzip(&tar(&[("zulip-export-x/realm.json", realm), ("zulip-export-x/messages-000001.json", messages)])),
    )
    .unwrap();
    let err = refused(&t.url, &["import", "zulip", &path.display().to_string()]);
    assert!(err.contains("(entry zulip-export-x/messages-000001.json):3:"), "{err}");
    t.finish().await;
}

#[tokio::test]
async fn message_text_is_stored_nowhere() {
    let t = TestDb::new().await;
    import(&t.url, &["import", "mattermost", &vendor("mattermost", "export.jsonl")]);
    import(&t.url, &["import", "mattermost-audit", &vendor("mattermost", "audit.jsonl")]);
    import(&t.url, &["import", "zulip", &vendor("zulip", "zulip-export-r7xkq2mv.tar.gz")]);
    import(&t.url, &["import", "m365-audit", &vendor("m365-audit", "AuditLog_2026-03-04.csv")]);
    let cells = crate::rights::every_cell(&t.db).await;
    assert!(cells.iter().any(|(_, _, v)| v.contains("alice.wu@example.com")), "the scan reads the tables");
    for (table, column, value) in cells {
        assert!(!value.contains("SECRET-TEXT"), "{table}.{column} holds message text: {value}");
        assert!(!value.contains("layout.pdf") && !value.contains("agenda"), "{table}.{column}: {value}");
    }
    t.finish().await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    out.write_all(bytes).unwrap();
    out.finish().unwrap()
}

/// A ustar archive of the given files.
fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        out.append_data(&mut header, name, *data).unwrap();
    }
    out.into_inner().unwrap()
}

#[tokio::test]
async fn per_event_exports_upload_in_the_browser_in_both_languages() {
    use crate::common::web::TestApp;
    use undercurrent::domain::account::Role;
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/imports").await;
    assert!(page.contains("Zulip export"), "the exports form names the per-event exports");
    let upload = |name: &str, bytes: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("period_from", "")
            .text("period_to", "")
            .part("files", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()))
    };
    let zulip = std::fs::read(fixture("vendor/zulip/zulip-export-r7xkq2mv.tar.gz")).unwrap();
    let (status, body) =
        analyst.post_multipart("/imports/exports", upload("zulip-export-r7xkq2mv.tar.gz", zulip)).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(body.contains("Zulip export") && body.contains("Events added") && body.contains(">11<"), "{body}");
    let older = std::fs::read(fixture("vendor/m365-audit/AuditLog_older_layout.csv")).unwrap();
    let (_, body) = analyst.post_multipart("/imports/exports", upload("AuditLog_older_layout.csv", older)).await;
    assert!(body.contains("Microsoft 365 audit log") && body.contains("No message events"), "{body}");
    let history = undercurrent::storage::imports::recent(&app.t.db, 5).await.unwrap();
    assert_eq!(history[0].summary.source, "m365_audit");
    assert_eq!(history[1].summary.source, "zulip");
    assert_eq!(history[1].status.as_str(), "done");

    analyst.post("/language", &[("lang", "zh-CN"), ("back", "/imports")]).await;
    let (_, page) = analyst.get("/imports").await;
    assert!(page.contains("逐条事件的导出") && page.contains("Zulip 导出"), "the form and history in Chinese");
    app.finish().await;
}

#[tokio::test]
async fn the_records_left_out_are_said_in_chinese_with_the_vendors_names_as_code() {
    use crate::common::reading::{stat_values, without};
    use crate::common::web::TestApp;
    use undercurrent::domain::account::Role;
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    analyst.post("/language", &[("lang", "zh-CN"), ("back", "/imports")]).await;
    let mut said = String::new();
    for (source, file) in [
        ("zulip", "zulip-export-r7xkq2mv.tar.gz"),
        ("m365-audit", "AuditLog_2026-03-04.csv"),
        ("mattermost", "audit.jsonl"),
    ] {
        let bytes = std::fs::read(vendor(source, file)).unwrap();
        let form = reqwest::multipart::Form::new()
            .part("files", reqwest::multipart::Part::bytes(bytes).file_name(file.to_string()));
        let (status, page) = analyst.post_multipart("/imports/exports", form).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert!(page.contains("import-result done"), "{file}: {page}");
        let (skipped, words) = stat_values(&page, "跳过的记录");
        assert!(words.is_empty(), "{file}: English words among the reasons: {words:?} in {skipped}");
        said.push_str(&skipped);
        // The file's own record types stay the vendor's names, as code.
        let (records, words) = stat_values(&page, "文件中的记录");
        assert!(words.is_empty() && records.contains("<code>"), "{file}: {records}");
    }
    for reason in [
        "机器人发送的消息：1",
        "表情回应（导出文件未给出其时间）：2",
        "非 Microsoft Teams 的记录：2",
        "其他 Teams 操作：1",
        "未成功的操作：1",
        "其他审计事件：1",
    ] {
        assert!(said.contains(reason), "{reason}: {said}");
    }
    let words = without(&said, "<code", "</code>");
    for english in ["by bots", "no time", "not Microsoft", "other Teams", "not successful", "other audit", "_"] {
        assert!(!words.contains(english), "{english}: {said}");
    }
    app.finish().await;
}

/// The archive `mmctl export create` writes: `import.jsonl` beside the
/// attachments under `data/`.
fn mmctl_archive(dir: &std::path::Path) -> String {
    use std::io::Write;
    let path = dir.join("export_2026-03-02.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("import.jsonl", options).unwrap();
    zip.write_all(&std::fs::read(vendor("mattermost", "export.jsonl")).unwrap()).unwrap();
    zip.start_file("data/attachments/diagram.png", options).unwrap();
    zip.write_all(b"\x89PNG not really").unwrap();
    zip.finish().unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn the_archive_mmctl_writes_is_read_in_place_by_name_and_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let archive = mmctl_archive(dir.path());
    for command in ["mattermost", "auto"] {
        let t = TestDb::new().await;
        let out = import(&t.url, &["import", command, &archive]);
        assert!(out.contains("Mattermost bulk export (mattermost)"), "{command}: {out}");
        assert!(out.contains("events added        6") && out.contains("people created      3"), "{command}: {out}");
        let rows = metrics(&t.url, "2026-03-02");
        assert_eq!(sessions(&rows, "bob.lee@example.com"), "2/2/1/2", "{command}");
        // The same export as its bare .jsonl changes nothing.
        let again = import(&t.url, &["import", "mattermost", &vendor("mattermost", "export.jsonl")]);
        assert!(again.contains("events added        0"), "{again}");
        t.finish().await;
    }
}
