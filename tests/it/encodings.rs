//! Files in the encodings people's tools really write (GBK and Big5 from
//! Excel in Chinese locales, Windows-1252, UTF-16 "Unicode text", the BOM
//! read as Windows-1252), imported through the command line, the import page
//! and the column mapping, with the encoding named in the summary; forcing an
//! encoding, and the error when the forced one is wrong.
//! Fixtures: tests/fixtures/encodings/ (generate.py, README.md).

use crate::common::web::*;
use crate::common::{cli, fixture};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use undercurrent::domain::account::Role;
use undercurrent::storage::dataset;

fn encoded(name: &str) -> String {
    fixture("encodings").join(name).display().to_string()
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture("encodings").join(name)).unwrap()
}

fn part(name: &str) -> Part {
    Part::bytes(bytes(name)).file_name(name.to_string()).mime_str("text/csv").unwrap()
}

/// A person's page, by user id.
async fn person(c: &mut Client, user_id: &str) -> String {
    let (status, body) = c.get(&format!("/people/{}", user_id.replace('@', "%40"))).await;
    assert_eq!(status, StatusCode::OK, "{user_id}: {body}");
    body
}

#[tokio::test]
async fn gbk_and_utf16_directories_import_with_their_chinese_names_through_the_command_line() {
    let app = TestApp::with_accounts().await;
    let (code, out, err) = cli(&app.t.url, &["import", "people", &encoded("people_gbk.csv")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("people created      3"), "{out}");
    assert!(out.contains("encoding            GBK (converted to UTF-8)"), "{out}");
    let mut admin = app.signed_in(Role::Admin).await;
    let page = person(&mut admin, "zhang.wei@corp.example").await;
    assert!(page.contains("张伟") && page.contains("技术部"), "{page}");
    assert!(person(&mut admin, "wang.fang@corp.example").await.contains("人力资源部"));

    // The same people in Excel's "Unicode text" encoding: updated, not doubled.
    let (code, out, err) = cli(&app.t.url, &["import", "people", &encoded("people_utf16le_bom.csv")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("people created      0") && out.contains("people updated      3"), "{out}");
    assert!(out.contains("encoding            UTF-16LE (converted to UTF-8)"), "{out}");
    assert!(person(&mut admin, "li.na@corp.example").await.contains("李娜"));
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().people, 3);
    app.finish().await;
}

#[tokio::test]
async fn big5_and_windows_1252_directories_are_detected_and_converted() {
    let app = TestApp::with_accounts().await;
    let (code, out, err) = cli(&app.t.url, &["import", "people", &encoded("people_big5.csv")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("encoding            Big5"), "{out}");
    let (code, out, err) = cli(&app.t.url, &["import", "people", &encoded("people_windows1252.csv")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("encoding            windows-1252"), "{out}");
    let mut admin = app.signed_in(Role::Admin).await;
    let page = person(&mut admin, "chen.mei@corp.example").await;
    assert!(page.contains("陳美玲") && page.contains("業務部"), "{page}");
    let page = person(&mut admin, "jose.garcia@corp.example").await;
    assert!(page.contains("José García"), "{page}");
    assert!(person(&mut admin, "francois.muller@corp.example").await.contains("Qualité"));
    app.finish().await;
}

#[tokio::test]
async fn a_teams_report_whose_bom_was_read_as_windows_1252_imports() {
    let app = TestApp::spawn().await;
    let file = encoded("TeamsUserActivityUserDetail_bom_as_1252.csv");
    assert!(bytes("TeamsUserActivityUserDetail_bom_as_1252.csv").starts_with("ï»¿User".as_bytes()));
    for command in ["teams", "auto"] {
        let (code, out, err) = cli(&app.t.url, &["import", command, &file]);
        assert_eq!(code, 0, "{command}: {err}");
        assert!(out.contains("source              teams"), "{out}");
        assert!(!out.contains("converted to UTF-8"), "UTF-8 has nothing to say: {out}");
    }
    app.finish().await;
}

#[tokio::test]
async fn an_encoding_is_forced_with_a_flag_and_a_wrong_one_is_explained() {
    let app = TestApp::with_accounts().await;
    let file = encoded("people_gbk.csv");
    // Forced to UTF-8: refused at the first Chinese name, saying what it is.
    let (code, _, err) = cli(&app.t.url, &["import", "people", "--encoding", "utf-8", &file]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "{file}:2: column `name`: not valid UTF-8; the file looks like GBK (Excel's default in a Chinese locale): \
             import it again with --encoding gbk, or save it as \"CSV UTF-8\""
        )),
        "{err}"
    );
    assert!(err.contains("nothing of"), "{err}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().people, 0, "nothing stored");
    // The flag also goes before the subcommand's name, in any spelling encoding_rs knows.
    let (code, out, err) = cli(&app.t.url, &["import", "--encoding", "GB18030", "people", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("encoding            gb18030"), "{out}");
    let mut admin = app.signed_in(Role::Admin).await;
    assert!(person(&mut admin, "zhang.wei@corp.example").await.contains("张伟"));
    // An unknown name is a usage error.
    let (code, _, err) = cli(&app.t.url, &["import", "events", "--encoding", "klingon", &file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown encoding `klingon`"), "{err}");
    // A Windows-1252 file forced as GBK is read in GBK; the Big5 file forced as UTF-8 is explained as Big5.
    let (code, _, err) =
        cli(&app.t.url, &["import", "people", "--encoding", "utf-8", &encoded("people_windows1252.csv")]);
    assert_eq!(code, 1);
    assert!(err.contains("looks like Windows-1252") && err.contains("--encoding windows-1252"), "{err}");
    app.finish().await;
}

#[tokio::test]
async fn the_import_page_converts_gbk_and_utf16_and_names_the_encoding() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, page) = admin.get("/imports").await;
    assert_eq!(page.matches("<select name=\"encoding\">").count(), 3, "every upload form has the select");
    assert!(page.contains("<option value=\"gbk\">GBK (GB18030)</option>"), "{page}");

    let form = Form::new().part("file", part("people_gbk.csv"));
    let (status, body) = admin.post_multipart("/imports/people", form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("people_gbk.csv was imported."), "{body}");
    assert!(body.contains("GBK, converted to UTF-8"), "{body}");
    let form = Form::new().part("file", part("people_utf16le_bom.csv"));
    let (_, body) = admin.post_multipart("/imports/people", form).await;
    assert!(body.contains("UTF-16LE, converted to UTF-8"), "{body}");
    let page = person(&mut admin, "zhang.wei@corp.example").await;
    assert!(page.contains("张伟") && page.contains("技术部"), "{page}");

    // Forced to UTF-8 in the form: the error names the form's select, not a flag.
    let form = Form::new().text("encoding", "utf-8").part("file", part("people_big5.csv"));
    let (_, body) = admin.post_multipart("/imports/people", form).await;
    assert!(body.contains("people_big5.csv:2: column `name`: not valid UTF-8; the file looks like Big5"), "{body}");
    assert!(body.contains("upload it again with Encoding set to &#34;Big5&#34;"), "{body}");
    assert!(!body.contains("--encoding"), "{body}");
    // Forced to Big5: imported.
    let form = Form::new().text("encoding", "big5").part("file", part("people_big5.csv"));
    let (_, body) = admin.post_multipart("/imports/people", form).await;
    assert!(body.contains("people_big5.csv was imported.") && body.contains("Big5, converted"), "{body}");
    assert!(person(&mut admin, "lin.jie@corp.example").await.contains("林志傑"));

    // A platform export with the repaired BOM.
    let form = Form::new().part("files", part("TeamsUserActivityUserDetail_bom_as_1252.csv"));
    let (_, body) = admin.post_multipart("/imports/exports", form).await;
    assert!(body.contains("TeamsUserActivityUserDetail_bom_as_1252.csv was imported."), "{body}");
    app.finish().await;
}

fn token_of(body: &str) -> String {
    let i = body.find("name=\"file\" value=\"").unwrap_or_else(|| panic!("no file token in:\n{body}"));
    body[i + 19..].chars().take_while(|c| c.is_ascii_hexdigit()).collect()
}

#[tokio::test]
async fn a_gbk_dingtalk_export_goes_through_the_column_mapping() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, page) = admin.get("/imports/mapping").await;
    assert!(page.contains("<select name=\"encoding\">"), "{page}");
    let form = Form::new().text("target", "events").part("file", part("dingtalk_gbk.csv"));
    let (status, body) = admin.post_multipart("/imports/mapping/upload", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The sample shows the converted text; message content stays hidden.
    assert!(body.contains("<th scope=\"col\">消息内容</th>") && body.contains("<td>张伟</td>"), "{body}");
    assert!(!body.contains("周报已发"), "content is never shown");
    let token = token_of(&body);
    let form = [
        ("file", token.as_str()),
        ("name", "dingtalk_gbk.csv"),
        ("encoding", ""),
        ("target", "events"),
        ("col_user_id", "用户ID"),
        ("col_timestamp", "时间"),
        ("col_event", "行为"),
        ("col_channel", "会话"),
        ("event_values", "发送消息 = message_sent\n签到 = check_in\n登录 = login"),
        ("time_format", "%Y/%m/%d %H:%M"),
        ("time_pattern", ""),
        ("timezone", "Asia/Shanghai"),
    ];
    let (_, body, _) = admin.post("/imports/mapping/preview", &form).await;
    assert!(body.contains("Read all 4 rows: every one can be imported."), "{body}");
    assert!(body.contains("<td>销售群</td>"), "channels converted: {body}");
    let (_, body, _) = admin.post("/imports/mapping/import", &form).await;
    assert!(body.contains("dingtalk_gbk.csv was imported."), "{body}");
    assert!(body.contains("GBK, converted to UTF-8"), "{body}");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, 4);

    // The same file forced to UTF-8 on upload: the sample cannot be read, and says why.
    let form = Form::new().text("encoding", "utf-8").part("file", part("dingtalk_gbk.csv"));
    let (_, body) = admin.post_multipart("/imports/mapping/upload", form).await;
    assert!(body.contains("not valid UTF-8; the file looks like GBK"), "{body}");
    assert!(body.contains("Encoding set to &#34;GBK (GB18030)&#34;"), "{body}");
    app.finish().await;
}
