//! What must be fast on PostgreSQL: reading every event of a window, and
//! storing an import's events. `COPY` streams plain text lines both ways,
//! which costs less than binding or decoding a million typed values.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt;
use sqlx::PgConnection;

use super::events::{NewEvent, event};
use crate::domain::dataset::Event;

/// The staging table a batch is copied into: one per session, emptied at
/// every commit.
const STAGE: &str = "CREATE TEMPORARY TABLE IF NOT EXISTS events_stage (person_id BIGINT NOT NULL, \
     ts BIGINT NOT NULL, kind_id BIGINT NOT NULL, channel_id BIGINT NOT NULL, channel_type BIGINT NOT NULL, \
     duration_seconds BIGINT, event_id TEXT) ON COMMIT DELETE ROWS";

/// Appends `s` as a COPY text field (backslash, tab, newline and carriage
/// return escaped).
fn push_text(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// A batch as COPY text lines.
fn copy_text(batch: &[NewEvent]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(batch.len() * 64);
    for e in batch {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{}\t{}\t{}\t{}\t{}\t", e.person_id, e.ts, e.kind_id, e.channel_id, e.channel_type);
        let _ = match e.duration_seconds {
            Some(d) => write!(out, "{d}\t"),
            None => out.write_all(b"\\N\t"),
        };
        match &e.event_id {
            Some(id) => push_text(&mut out, id),
            None => out.extend_from_slice(b"\\N"),
        }
        out.push(b'\n');
    }
    out
}

/// Stores `batch` (free of duplicates among itself) inside the caller's
/// transaction: `COPY` into a staging table, then one set-based insert of
/// the rows not stored yet, by the rule of `event_insert::insert_batch`. Known
/// ids are skipped with NOT EXISTS rather than ON CONFLICT, whose
/// speculative insertion costs a third of the time; imports hold a lock,
/// so no other writer can slip a row in between (the unique index still
/// guards it). Returns how many rows were added.
pub async fn insert_events(conn: &mut PgConnection, import_id: i64, batch: &[NewEvent]) -> Result<u64> {
    sqlx::raw_sql(STAGE).execute(&mut *conn).await?;
    let mut copy = conn
        .copy_in_raw(
            "COPY events_stage (person_id, ts, kind_id, channel_id, channel_type, duration_seconds, event_id) FROM STDIN",
        )
        .await?;
    copy.send(copy_text(batch)).await?;
    copy.finish().await?;
    let sql = format!(
        "INSERT INTO events (person_id, ts, kind_id, channel_id, channel_type, duration_seconds, event_id, import_id) \
         SELECT v.person_id, v.ts, v.kind_id, v.channel_id, v.channel_type, v.duration_seconds, v.event_id, $1 \
         FROM events_stage v WHERE {} \
           AND (v.event_id IS NULL OR NOT EXISTS (SELECT 1 FROM events i WHERE i.event_id = v.event_id))",
        super::events::NOT_STORED
    );
    let added = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(import_id).execute(&mut *conn).await?.rows_affected();
    // Empty for the next batch of this transaction, if any (a commit
    // empties it too).
    sqlx::raw_sql("TRUNCATE events_stage").execute(&mut *conn).await?;
    Ok(added)
}

/// Parses one tab-separated line of five integers.
fn parse_line(line: &[u8]) -> Option<[i64; 5]> {
    let mut out = [0i64; 5];
    let mut fields = line.split(|&b| b == b'\t');
    for slot in out.iter_mut() {
        let field = fields.next()?;
        let (negative, digits) = match field.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, field),
        };
        if digits.is_empty() {
            return None;
        }
        let mut n: i64 = 0;
        for &b in digits {
            if !b.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        }
        *slot = if negative { -n } else { n };
    }
    Some(out)
}

/// Reads the events with `from <= ts < to` whose person is in `index`.
pub async fn window_events(
    conn: &mut PgConnection,
    from: i64,
    to: i64,
    index: &HashMap<i64, u32>,
) -> Result<Vec<Event>> {
    // Integers only in the statement: COPY takes no bind parameters.
    let sql = format!(
        "COPY (SELECT person_id, ts, kind_id, channel_id, channel_type FROM events WHERE ts >= {from} AND ts < {to} \
         AND import_id NOT IN (SELECT id FROM imports WHERE status IN ('running', 'removing'))) TO STDOUT"
    );
    let mut stream = conn.copy_out_raw(&sql).await.context("reading events")?;
    let mut events = Vec::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut push = |line: &[u8]| -> Result<()> {
        let Some([person, ts, kind, channel, channel_type]) = parse_line(line) else {
            bail!("unexpected row from COPY: {}", String::from_utf8_lossy(line));
        };
        if let Some(&person) = index.get(&person) {
            events.push(event(person, ts, kind, channel, channel_type));
        }
        Ok(())
    };
    while let Some(chunk) = stream.try_next().await.context("reading events")? {
        let mut rest: &[u8] = &chunk;
        if !carry.is_empty() {
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                carry.extend_from_slice(rest);
                continue;
            };
            carry.extend_from_slice(&rest[..end]);
            push(&carry)?;
            carry.clear();
            rest = &rest[end + 1..];
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            push(&rest[..end])?;
            rest = &rest[end + 1..];
        }
        carry.extend_from_slice(rest);
    }
    if !carry.is_empty() {
        push(&carry)?;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_lines_parse_as_five_integers() {
        assert_eq!(super::parse_line(b"12\t1779000000\t1\t0\t-3"), Some([12, 1779000000, 1, 0, -3]));
        assert_eq!(super::parse_line(b"12\t\\N\t1\t0\t3"), None);
        assert_eq!(super::parse_line(b"12\t1"), None);
    }

    #[test]
    fn copy_text_escapes_event_ids_and_writes_nulls() {
        let e = |duration, id: Option<&str>| super::NewEvent {
            person_id: 7,
            ts: -5,
            kind_id: 1,
            channel_id: 0,
            channel_type: 2,
            duration_seconds: duration,
            event_id: id.map(str::to_string),
        };
        let text = super::copy_text(&[e(None, None), e(Some(30), Some("a\tb\\c\nd\re"))]);
        assert_eq!(text, b"7\t-5\t1\t0\t2\t\\N\t\\N\n7\t-5\t1\t0\t2\t30\ta\\tb\\\\c\\nd\\re\n".to_vec());
    }
}
