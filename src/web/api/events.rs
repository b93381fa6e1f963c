//! `POST /api/v1/events`: a batch of events, as NDJSON (one object per line)
//! or as a JSON array of objects, with the same fields and checks as event
//! files (`crate::ingest::events`).
//!
//! Unlike a file, a request is not all-or-nothing: every valid line is
//! stored and each rejected line comes back with its line number (for an
//! array, its 1-based position), column and message. Storing uses the files'
//! de-duplication, so a client that retries a batch after losing the answer
//! stores nothing twice (events with an `event_id` are matched by it, others
//! by person, time, kind and channel: clients should send `event_id`).
//! Each request with content is recorded in the import history (source
//! `api`); a blank body or an empty array is a batch of nothing.

use std::io::Cursor;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono_tz::Tz;
use serde_json::json;

use super::{ApiError, LineError, authenticate, drain, json_response, read_body};
use crate::app::import::{ImportError, import_event_batch};
use crate::app::settings;
use crate::ingest::InputError;
use crate::ingest::events::{EventReader, RawEvent};
use crate::ingest::source::Input;
use crate::storage::api_tokens::{ApiToken, Scope};
use crate::storage::{imports, now};
use crate::web::state::AppState;

/// The import history's source for pushed batches.
pub const SOURCE: &str = "api";

/// Rejected lines listed in one answer; `rejected` counts them all.
pub const MAX_LISTED_ERRORS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// One JSON object per line (`application/x-ndjson`).
    Ndjson,
    /// A JSON array of objects (`application/json`).
    Array,
}

/// The body's format from its Content-Type.
pub fn body_format(req: &HttpRequest) -> Result<BodyFormat, ApiError> {
    let unsupported = |what: &str| {
        ApiError::UnsupportedMediaType(format!(
            "{what}; send application/x-ndjson (one event object per line) or application/json (an array of event \
             objects)"
        ))
    };
    if let Some(encoding) = req.headers().get(header::CONTENT_ENCODING) {
        let encoding = encoding.to_str().unwrap_or("").trim().to_ascii_lowercase();
        if !encoding.is_empty() && encoding != "identity" {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Encoding `{encoding}` is not accepted; send the body uncompressed"
            )));
        }
    }
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(unsupported("no Content-Type"));
    };
    let essence = value.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Ok(BodyFormat::Ndjson)
        }
        "application/json" => Ok(BodyFormat::Array),
        other => Err(unsupported(&format!("Content-Type `{other}` is not accepted"))),
    }
}

/// A parsed body: the valid events, the first rejected lines and how many
/// were rejected in all. Only the first [`MAX_LISTED_ERRORS`] rejections are
/// kept, so a body of millions of bad lines costs no more memory than one
/// with a thousand (each kept error holds its own strings).
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<RawEvent>,
    /// The first rejected lines, in order.
    pub errors: Vec<InputError>,
    /// Every rejected line, listed or not.
    pub rejected: u64,
    /// Some line was a JSON object: rejected lines that name a column were
    /// read and failed a field check; those that do not were not JSON
    /// objects at all.
    any_object: bool,
}

impl Parsed {
    fn reject(&mut self, e: InputError) {
        self.any_object |= e.column.is_some();
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(e);
        }
    }
}

fn line_error(e: &InputError) -> LineError {
    LineError { line: e.line, column: e.column.clone(), message: e.message.clone() }
}

/// Writes each element of a JSON array as one compact line, holding one
/// element at a time (not the whole array as values).
struct ArrayToLines<'a>(&'a mut Vec<u8>);

impl<'de> serde::de::Visitor<'de> for ArrayToLines<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of event objects")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<serde_json::Value>()? {
            // Serialised JSON has no raw line breaks: one element, one line.
            serde_json::to_writer(&mut *self.0, &item).map_err(serde::de::Error::custom)?;
            self.0.push(b'\n');
        }
        Ok(())
    }
}

/// Reads every line through the event file reader, keeping going past bad
/// lines. NDJSON is read as is; an array's elements become one line each.
pub fn parse(format: BodyFormat, body: Vec<u8>, tz: Tz) -> Result<Parsed, ApiError> {
    let lines = match format {
        // A blank body, like an empty array, is a batch of nothing.
        BodyFormat::Ndjson => body,
        BodyFormat::Array => {
            let mut text = Vec::with_capacity(body.len());
            let mut de = serde_json::Deserializer::from_slice(&body);
            serde::Deserializer::deserialize_seq(&mut de, ArrayToLines(&mut text))
                .and_then(|()| de.end())
                .map_err(|e| ApiError::bad_request(format!("the body is not a JSON array of event objects ({e})")))?;
            text
        }
    };
    let starts_with_bracket = lines.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    // The name's extension selects NDJSON; no gzip detection (an API body
    // is sent as is) and no line guard (the body is already bounded).
    let input =
        Input { name: "request.ndjson".into(), gzipped: false, encoding: None, reader: Box::new(Cursor::new(lines)) };
    let reader = EventReader::new(input, tz).map_err(|e| ApiError::bad_request(e.message))?;
    let mut parsed = Parsed::default();
    for item in reader {
        match item {
            Ok(e) => {
                parsed.any_object = true;
                parsed.events.push(e);
            }
            Err(e) => parsed.reject(e),
        }
    }
    if format == BodyFormat::Ndjson && parsed.rejected > 0 && !parsed.any_object {
        let hint = if starts_with_bracket {
            "no line of the body is an event object; for a JSON array, send Content-Type: application/json"
        } else {
            "no line of the body is an event object; send one JSON object per line"
        };
        return Err(rejected(hint.to_string(), &parsed));
    }
    Ok(parsed)
}

fn rejected(message: String, parsed: &Parsed) -> ApiError {
    ApiError::BadRequest { message, errors: parsed.errors.iter().map(line_error).collect(), rejected: parsed.rejected }
}

/// The import history's name for a request.
fn history_name(token: &ApiToken, rejected: u64) -> String {
    let mut name = format!("API token “{}”", token.name);
    match rejected {
        0 => {}
        1 => name.push_str(" (1 line rejected)"),
        n => name.push_str(&format!(" ({n} lines rejected)")),
    }
    name
}

fn first_errors(parsed: &Parsed) -> String {
    let mut text: Vec<String> = parsed
        .errors
        .iter()
        .take(3)
        .map(|e| match &e.column {
            Some(c) => format!("line {}: column `{c}`: {}", e.line, e.message),
            None => format!("line {}: {}", e.line, e.message),
        })
        .collect();
    if parsed.rejected > 3 {
        text.push(format!("and {} more", parsed.rejected - 3));
    }
    text.join("; ")
}

pub async fn push(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let checked = match authenticate(&req, &state, Scope::Ingest).await {
        Ok(token) => body_format(&req).map(|f| (token, f)),
        Err(e) => Err(e),
    };
    let (token, format) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            drain(&mut payload, super::DRAIN_LIMIT).await;
            return Err(e);
        }
    };
    let body = read_body(&req, &mut payload).await?;
    let tz = settings::load(&state.db).await?.timezone;
    let started = now();
    let parsed = match web::block(move || parse(format, body, tz)).await.map_err(anyhow::Error::from)? {
        Ok(p) => p,
        Err(e) => {
            // Recorded like a file that could not be read.
            let _ = imports::record_failure(&state.db, SOURCE, &history_name(&token, 0), started, &e.to_string()).await;
            return Err(e);
        }
    };
    let name = history_name(&token, parsed.rejected);
    let (stored, duplicates) = if !parsed.events.is_empty() {
        match import_event_batch(&state.db, SOURCE, &name, &parsed.events).await {
            Ok(summary) => {
                if summary.events_added > 0 {
                    state.cache.refresh(state.db.clone());
                }
                (summary.events_added, summary.duplicates_skipped)
            }
            Err(ImportError::Storage { source, .. } | ImportError::DiskFull { source, .. }) => {
                return Err(ApiError::Internal(source));
            }
            Err(e @ ImportError::Input(_)) => return Err(ApiError::Internal(e.into())),
        }
    } else {
        if parsed.rejected > 0 {
            let message = format!("every line was rejected: {}", first_errors(&parsed));
            let _ = imports::record_failure(&state.db, SOURCE, &name, started, &message).await;
        }
        (0, 0)
    };
    let errors: Vec<LineError> = parsed.errors.iter().map(line_error).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "accepted": parsed.events.len(),
            "stored": stored,
            "duplicates": duplicates,
            "rejected": parsed.rejected,
            "errors": errors,
        }),
    ))
}
