//! Query strings: reading the common parameters (a date, a window) as
//! typed values, and building links that carry them.

use chrono::NaiveDate;

use crate::web::error::WebError;
use crate::web::url;

/// A parameter that is present and not blank (an empty form field means
/// "not set", not a bad request).
pub fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date (YYYY-MM-DD), if given.
pub fn parse_as_of(v: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
    set(v)
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| WebError::BadRequest(format!("`{s}` is not a date")))
        })
        .transpose()
}

/// A window of 1 to 366 days, if given.
pub fn parse_window(v: &Option<String>) -> Result<Option<u32>, WebError> {
    set(v)
        .map(|s| {
            s.parse::<u32>()
                .ok()
                .filter(|n| (1..=366).contains(n))
                .ok_or_else(|| WebError::BadRequest(format!("`{s}` is not a window of 1 to 366 days")))
        })
        .transpose()
}

/// A path with query parameters, each value encoded.
pub fn with_query(path: &str, params: &[(&str, String)]) -> String {
    if params.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", url::query_value(v))).collect();
    format!("{path}?{}", query.join("&"))
}

/// A blank shown as a dash.
pub fn or_dash(s: String) -> String {
    if s.is_empty() { "–".to_string() } else { s }
}
