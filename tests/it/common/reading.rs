//! What a reader sees on a page, and the checks that it speaks the
//! reader's language: no English word on a Chinese page outside an
//! allow-list, no date or ratio in a machine's format. Used by the HTTP walk
//! (`chinese`) and the browser walk (`browser_layout`).

use std::collections::BTreeSet;

/// Names that stay as they are in Chinese text: products, formats,
/// standards and units.
pub const ALWAYS: &[&str] = &[
    "Undercurrent",
    "English",
    "CSV",
    "JSON",
    "NDJSON",
    "ZIP",
    "UTF",
    "GB",
    "GBK",
    "ICS",
    "iCalendar",
    "CalDAV",
    // Identity providers and their standard (the identity page).
    "OpenID",
    "Connect",
    "Entra",
    "Okta",
    "Keycloak",
    "PKCE",
    "URI",
    "API",
    "OpenAPI",
    "URL",
    "HTTP",
    "HTTPS",
    "SMTP",
    "UTC",
    "ID",
    "id",
    "NPS",
    "DAU",
    "WAU",
    "MAU",
    "PDF",
    "Slack",
    "Teams",
    "Microsoft",
    "DingTalk",
    "Feishu",
    "Mattermost",
    "Zulip",
    "Purview",
    "SCIM",
    "Entra",
    "Okta",
    "Lark",
    "WeCom",
    "Google",
    "Chat",
    "Workspace",
    "Zoom",
    "Jitsi",
    "Meet",
    "Excel",
    "IANA",
    "Bearer",
    "min",
    "ms",
    "MiB",
    "KB",
    "MB",
    "px",
    "n",
    "p",
    "vs",
    "Asia",
    "Shanghai",
    "America",
    "New_York",
    "Europe",
    "Berlin",
    "Pacific",
    "HR",
    "IT",
    "A4",
    "RFC",
    "Unix",
    "Windows",
    "Big5",
    "GB18030",
    "gzip",
    "gz",
    "GiB",
    "Graph",
    "YYYY",
    "MM",
    "DD",
    "HH",
    "SS",
    "GET",
    "Authorization",
    "Big",
    "POST",
    "Apple",
    "Outlook",
    // Names of vendor reports and APIs, as the vendors write them.
    "Reports",
    "analytics",
    "getFile",
    "admin_user_stats",
    // Values typed into files: channel types and column names.
    "direct",
    "group",
    "broadcast",
    "content",
    "text",
    "message",
    "body",
];

/// The text a reader sees in a page: without its scripts and styles, tags
/// stripped, plus the attributes shown to people (placeholder, title,
/// aria-label, alt). Form values and machine attributes (`value`,
/// `datetime`, `data-*`) are not read.
pub fn visible_text(html: &str) -> String {
    // Scripts and styles are not read; code, file paths and examples in
    // <code>, <pre>, <kbd> and <samp> are not words.
    let mut html = html.to_string();
    for (open, close) in [
        ("<script", "</script>"),
        ("<style", "</style>"),
        ("<code", "</code>"),
        ("<pre", "</pre>"),
        ("<kbd", "</kbd>"),
        ("<samp", "</samp>"),
        // What people typed (a codebook's English column, a survey's
        // definition) is data.
        ("<textarea", "</textarea>"),
    ] {
        html = without(&html, open, close);
    }
    let mut text = String::new();
    let mut chars = html.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '<' {
            let end = html[i..].find('>').map(|j| i + j).unwrap_or(html.len());
            let tag = &html[i..end];
            for attr in ["placeholder=\"", "title=\"", "aria-label=\"", "alt=\""] {
                if let Some(a) = tag.find(attr) {
                    let v = &tag[a + attr.len()..];
                    text.push(' ');
                    text.push_str(&v[..v.find('"').unwrap_or(v.len())]);
                    text.push(' ');
                }
            }
            while chars.peek().is_some_and(|(k, _)| *k <= end) {
                chars.next();
            }
            text.push(' ');
        } else {
            text.push(c);
        }
    }
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
}

/// Latin words of the text a reader sees in a page.
pub fn latin_words(html: &str) -> Vec<String> {
    latin_words_in(&visible_text(html))
}

/// Latin words of a text already read off a page (a browser's
/// `innerText`).
pub fn latin_words_in(text: &str) -> Vec<String> {
    // A run of letters, digits and the characters of paths, addresses,
    // identifiers and placeholders; a run that is one of those
    // (`mail.smtp_url`, `data/outbox`, `https://...`, `{deadline}`) is a
    // literal, not a word; the others are split into words.
    let literal = |c: char| "_./:{}@-=?&#%".contains(c);
    let mut words = Vec::new();
    for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || literal(c))) {
        let run = run.trim_end_matches(['.', ':', '-']).trim_start_matches('-');
        if run.chars().any(literal) {
            continue;
        }
        for w in run.split(|c: char| !c.is_ascii_alphabetic()) {
            if w.len() >= 2 {
                words.push(w.to_string());
            }
        }
    }
    words
}

pub fn allowed_from(data: &str, into: &mut BTreeSet<String>) {
    for w in latin_words(data) {
        into.insert(w);
    }
}

/// `html` without the elements from `open` to `close`.
pub fn without(html: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        rest = rest[i..].find(close).map_or("", |j| &rest[i + j + close.len()..]);
    }
    out.push_str(rest);
    out
}

/// The Latin words a Chinese page may carry: [`ALWAYS`], the data of the
/// imported files and of [`crate::chinese::EveryPage`], the accounts'
/// addresses and the IANA zone names.
pub fn allowed_words() -> BTreeSet<String> {
    let mut allowed: BTreeSet<String> = ALWAYS.iter().map(|w| w.to_string()).collect();
    let dir = crate::common::fixture("activity-small");
    for file in ["people.csv", "events_a.csv", "events_b.ndjson"] {
        allowed_from(&std::fs::read_to_string(dir.join(file)).unwrap(), &mut allowed);
    }
    allowed_from("events_a csv events_b ndjson people", &mut allowed);
    allowed_from("Person Sales Legal corp example test p000 p001 p002 p003", &mut allowed);
    // The accounts' addresses (admin@test.example...).
    allowed_from("admin researcher analyst manager", &mut allowed);
    // Time zones are IANA names in every language.
    for tz in chrono_tz::TZ_VARIANTS {
        allowed_from(tz.name(), &mut allowed);
    }
    allowed
}

/// The Latin words of a page's text that are not allowed.
pub fn foreign_words(text_words: Vec<String>, allowed: &BTreeSet<String>) -> BTreeSet<String> {
    text_words.into_iter().filter(|w| !allowed.contains(w.as_str())).collect()
}

/// Numbers in a machine's format in a text a reader sees: ISO dates
/// (`2026-05-29`) where a date in the reader's words is meant, and bare
/// ratios (`0.145`, two decimals or more) where a percentage is meant.
pub fn machine_formats(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let digits = |from: usize, n: usize| (from..from + n).all(digit);
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = digit(i) && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'));
        if starts
            && digits(i, 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2)
            && !digit(i + 10)
        {
            found.push(text[i..i + 10].to_string());
            i += 10;
            continue;
        }
        // A share has two decimals or more; a measure with one (0.5 min)
        // is not a share.
        if starts && b[i] == b'0' && b.get(i + 1) == Some(&b'.') && digits(i + 2, 2) {
            let mut end = i + 2;
            while digit(end) {
                end += 1;
            }
            if b.get(end) != Some(&b'%') && !text[end..].trim_start().starts_with('%') {
                found.push(text[i..end].to_string());
            }
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// The import result's "records skipped" value (each `<dd>` after the
/// label `label`, joined), and its Latin words outside code that are not
/// allowed on a Chinese page (product names are).
pub fn stat_values(html: &str, label: &str) -> (String, Vec<String>) {
    let open = format!("<dt>{label}</dt><dd>");
    let mut values = Vec::new();
    for (i, _) in html.match_indices(&open) {
        let rest = &html[i + open.len()..];
        values.push(rest[..rest.find("</dd>").unwrap_or(rest.len())].to_string());
    }
    let joined = values.join("\n");
    let words = foreign_words(latin_words(&joined), &allowed_words()).into_iter().collect();
    (joined, words)
}
