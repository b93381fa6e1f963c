//! Links built from values: every path segment and query value is
//! percent-encoded here, so that an id such as `x/../p00001@demo.example`
//! or `a?b#c` stays one segment naming its own record. Templates write
//! `{{ user_id|seg }}` (with `use crate::web::url::filters;` beside the
//! template's struct); handlers call [`segment`] and [`query_value`].

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A path already made of encoded segments: `/` stays a separator.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// One path segment. A segment that is only dots (`.`, `..`) is encoded
/// too, although browsers still read `%2E%2E` as a dot segment.
pub fn segment(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b == b'.') {
        return "%2E".repeat(s.len());
    }
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// A query string value (or name). A `/` means nothing special in a query
/// (RFC 3986, 3.4), so it stays readable: `?tz=America/New_York`.
pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// A local path (as a `next=` value): encoded, its slashes kept.
pub fn path_value(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// The template filters: `{{ value|seg }}` is [`segment`].
pub mod filters {
    #[askama::filter_fn]
    pub fn seg(value: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::segment(&value.to_string()))
    }

    /// A whole number with thousands separators ("1,386"); anything else
    /// as it is.
    #[askama::filter_fn]
    pub fn num(value: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
        let text = value.to_string();
        Ok(text.parse::<i64>().map_or(text, crate::web::i18n::integer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_only_unreserved_characters() {
        assert_eq!(segment("u0001@corp.example"), "u0001%40corp.example");
        assert_eq!(segment("x/../p00001@demo.example"), "x%2F..%2Fp00001%40demo.example");
        assert_eq!(segment("a b/c?d#e%f&g+h"), "a%20b%2Fc%3Fd%23e%25f%26g%2Bh");
        assert_eq!(segment("%2e%2e"), "%252e%252e");
        assert_eq!(segment("张"), "%E5%BC%A0");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(query_value("R&D =x"), "R%26D%20%3Dx");
        assert_eq!(path_value("/people/a%2Fb?x"), "/people/a%252Fb%3Fx");
    }
}
