//! CalDAV's calendar-query (RFC 4791 section 7.8): the REPORT body that asks
//! for the events in a time range, and the calendar data read back out of
//! the server's multistatus answer (WebDAV XML, RFC 4918), whatever
//! namespace prefixes the server chose.

use chrono::{DateTime, Utc};
use quick_xml::events::Event;

/// The REPORT body asking for every VEVENT overlapping `[from, until)`, with
/// its calendar data (the server expands nothing: recurrences are expanded
/// by `busy_ics`).
pub fn calendar_query(from: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let t = |d: DateTime<Utc>| d.format("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n\
         <D:prop><D:getetag/><C:calendar-data/></D:prop>\n\
         <C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\">\n\
         <C:time-range start=\"{}\" end=\"{}\"/>\n\
         </C:comp-filter></C:comp-filter></C:filter>\n\
         </C:calendar-query>\n",
        t(from),
        t(until)
    )
}

/// The text of every `calendar-data` element of a multistatus answer, in
/// order; an error (not a panic) for text that is not well-formed XML.
pub fn calendar_data(xml: &str) -> Result<Vec<String>, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    let mut saw_multistatus = false;
    loop {
        let event = reader.read_event().map_err(|e| format!("not a WebDAV multistatus answer: {e}"))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                b"calendar-data" => current = Some(String::new()),
                b"multistatus" => saw_multistatus = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"multistatus" => saw_multistatus = true,
            Event::End(e) if e.local_name().as_ref() == b"calendar-data" => {
                found.extend(current.take());
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.xml_content().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = current.as_mut() {
                    if let Some(ch) = r.resolve_char_ref().map_err(|e| e.to_string())? {
                        c.push(ch);
                    } else {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        let text = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown XML entity &{name};"))?;
                        c.push_str(text);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_multistatus {
        return Err("not a WebDAV multistatus answer".into());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_calendar_data_under_any_prefix_with_entities_and_cdata() {
        let xml = "<?xml version=\"1.0\"?>\n\
            <multistatus xmlns=\"DAV:\" xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">\
            <response><href>/a/1.ics</href><propstat><prop>\
            <cal:calendar-data>BEGIN:VCALENDAR\r\nSUMMARY:R&amp;D &lt;sync&gt; &#233;\r\nEND:VCALENDAR\r\n</cal:calendar-data>\
            </prop><status>HTTP/1.1 200 OK</status></propstat></response>\
            <response><href>/a/2.ics</href><propstat><prop>\
            <C:calendar-data xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><![CDATA[BEGIN:VCALENDAR\nEND:VCALENDAR\n]]></C:calendar-data>\
            </prop></propstat></response></multistatus>";
        let data = calendar_data(xml).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[0], "BEGIN:VCALENDAR\nSUMMARY:R&D <sync> é\nEND:VCALENDAR\n");
        assert_eq!(data[1], "BEGIN:VCALENDAR\nEND:VCALENDAR\n");
    }

    #[test]
    fn an_empty_answer_has_no_data_and_junk_is_an_error() {
        assert_eq!(calendar_data("<D:multistatus xmlns:D=\"DAV:\"/>").unwrap(), Vec::<String>::new());
        assert!(calendar_data("<html><body>Login</body></html>").is_err());
        assert!(calendar_data("<D:multistatus xmlns:D=\"DAV:\"><a></b>").is_err());
        assert!(calendar_data("BEGIN:VCALENDAR").is_err());
        assert!(
            calendar_data("<D:multistatus><x>&nope;</x></D:multistatus>").is_ok(),
            "entities outside data are skipped"
        );
    }

    #[test]
    fn the_query_asks_for_events_in_the_range() {
        let from = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let q = calendar_query(from, from + chrono::TimeDelta::days(1));
        assert!(q.contains("<C:time-range start=\"20231114T221320Z\" end=\"20231115T221320Z\"/>"), "{q}");
        assert!(q.contains("<C:comp-filter name=\"VEVENT\">"), "{q}");
    }
}
