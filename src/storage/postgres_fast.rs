//! The one read that must be fast on PostgreSQL: every event of a window.
//! `COPY ... TO STDOUT` streams plain text lines of integers, which parse
//! faster than decoding a million typed rows.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt;
use sqlx::PgConnection;

use super::events::event;
use crate::domain::dataset::Event;

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
}
