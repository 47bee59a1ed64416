//! Reading request bodies and query strings into typed values, with the JSON errors a
//! client can act on.

use crate::model::spec::{check_range, MAX_NAME_LEN};
use crate::model::time::{parse_rfc3339, ACCEPTED_TIMES};
use crate::model::wire::field_names;
use crate::model::{ApiError, EpochMs, ErrorKind};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Largest request body accepted (checked before parsing).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Deepest nesting of arrays and objects accepted in a body.
pub const MAX_JSON_DEPTH: usize = 64;

/// Whether `json` nests arrays and objects deeper than `max`, found by one scan that skips
/// strings, before any parser recurses into it.
fn nests_deeper_than(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parses a JSON body: empty, non-UTF-8 or malformed bodies are `INVALID_JSON`; a body of the
/// wrong shape (missing field, wrong type) is a `VALIDATION_ERROR`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(ErrorKind::InvalidJson, "request body is empty; a JSON object is required"));
    }
    if nests_deeper_than(body, MAX_JSON_DEPTH) {
        return Err(ApiError::new(ErrorKind::InvalidJson, format!("JSON nests deeper than {MAX_JSON_DEPTH} levels")));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(ErrorKind::InvalidJson, "request body is not valid UTF-8"))?;
    let mut json = serde_json::Deserializer::from_str(text);
    crate::model::wire::from_object(&mut json).and_then(|value| json.end().map(|()| value)).map_err(|e| {
        let kind = if e.is_data() { ErrorKind::ValidationError } else { ErrorKind::InvalidJson };
        ApiError::new(kind, format!("request body: {e}"))
    })
}

/// Parses a JSON body, treating an empty body as `{}`.
pub fn parse_json_or_empty<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return parse_json(b"{}");
    }
    parse_json(body)
}

/// Parses the body of a route whose every field is optional but steers what it does (which
/// dead letters to replay, which settings or key fields to change). An empty body or `{}` asks
/// for the route's defaults; a body that names fields, none of them the route's, is a
/// `VALIDATION_ERROR` naming them: it is a misspelt request, and serving it with the defaults
/// would answer 200 for what the client did not ask. Unknown fields beside known ones are
/// ignored, as everywhere (newer clients send more).
pub fn parse_optional_fields<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let parsed = parse_json_or_empty(body)?;
    let named: BTreeMap<String, IgnoredAny> = parse_json_or_empty(body)?;
    let known = field_names::<T>();
    if named.is_empty() || named.keys().any(|name| known.contains(&name.as_str())) {
        return Ok(parsed);
    }
    let unknown: Vec<&str> = named.keys().map(String::as_str).collect();
    Err(ApiError {
        kind: ErrorKind::ValidationError,
        message: format!(
            "request body names none of this route's fields ({}), only {}; send {{}} for the defaults",
            known.join(", "),
            unknown.join(", ")
        ),
        details: Some(Value::Array(
            unknown
                .iter()
                .map(|field| json!({ "field": field, "message": "unknown field", "code": "invalid" }))
                .collect(),
        )),
    })
}

/// An optional integer field checked against `range`.
pub fn optional_u32(field: &str, value: Option<i64>, range: &RangeInclusive<i64>) -> Result<Option<u32>, ApiError> {
    value.map(|v| check_range(field, v, range).map(|v| v as u32)).transpose()
}

/// An optional RFC 3339 time field.
pub fn optional_time(field: &str, value: Option<String>) -> Result<Option<EpochMs>, ApiError> {
    value
        .map(|text| {
            parse_rfc3339(&text).ok_or_else(|| ApiError::validation(field, &format!("must be {ACCEPTED_TIMES}")))
        })
        .transpose()
}

/// The `queue_name` (alias `queue`) every queue-scoped body carries.
pub fn required_queue(queue_name: Option<String>) -> Result<String, ApiError> {
    queue_name.ok_or_else(|| ApiError::validation("queue_name", "is required"))
}

/// The `name` of an organization or API key: required, 1–100 characters, not blank.
pub fn required_name(name: Option<String>) -> Result<String, ApiError> {
    let name = name.ok_or_else(|| ApiError::validation("name", "is required"))?;
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::validation("name", &format!("must be 1-{MAX_NAME_LEN} characters")));
    }
    Ok(name)
}

/// The path and decoded query of an absolute URL (`scheme://host/path?query#fragment`).
pub fn split_url(url: &str) -> (&str, Query) {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let rest = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let pairs = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    (path, Query(pairs))
}

/// A decoded query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// The first value of `name` (or of its alias).
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        self.0.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| v.as_str())
    }

    /// A boolean parameter, `false` when absent: `true`/`false` in any case, or `1`/`0`;
    /// anything else is a validation error rather than a silent `false`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(&[name]) {
            None => Ok(false),
            Some(v) if v == "1" || v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::validation(name, "must be true or false")),
        }
    }

    /// An integer parameter, or `default` when absent; malformed or out-of-range values are
    /// validation errors.
    pub fn int(&self, name: &str, default: i64, range: &RangeInclusive<i64>) -> Result<i64, ApiError> {
        match self.get(&[name]) {
            None => Ok(default),
            Some(text) => {
                let value = text.parse().map_err(|_| ApiError::validation(name, "must be an integer"))?;
                crate::model::spec::check_range(name, value, range)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Shape {
        #[allow(dead_code)]
        n: i64,
    }

    #[test]
    fn classifies_body_errors() {
        assert_eq!(parse_json::<Shape>(b"").unwrap_err().kind, ErrorKind::InvalidJson);
        assert_eq!(parse_json::<Shape>(b"{").unwrap_err().kind, ErrorKind::InvalidJson);
        assert_eq!(parse_json::<Shape>(b"{\"n\":\xff}").unwrap_err().kind, ErrorKind::InvalidJson);
        assert_eq!(parse_json::<Shape>(b"{\"n\":\"x\"}").unwrap_err().kind, ErrorKind::ValidationError);
        assert_eq!(parse_json::<Shape>(b"{}").unwrap_err().kind, ErrorKind::ValidationError);
        assert_eq!(parse_json::<Shape>(b"[1]").unwrap_err().kind, ErrorKind::ValidationError);
        assert_eq!(parse_json::<Shape>(b"{\"n\":1} {}").unwrap_err().kind, ErrorKind::InvalidJson);
        assert!(parse_json::<Shape>(b"{\"n\":1}").is_ok());
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Steering {
        #[serde(alias = "queue")]
        queue_name: Option<String>,
        limit: Option<i64>,
    }

    #[test]
    fn optional_fields_refuse_a_body_of_unknown_fields_only() {
        for ok in ["", "{}", r#"{"limit":5}"#, r#"{"queue":"q","extra":1}"#, r#"{"limit":null}"#] {
            assert!(parse_optional_fields::<Steering>(ok.as_bytes()).is_ok(), "{ok}");
        }
        let err = parse_optional_fields::<Steering>(br#"{"queue_names":["q"],"lmit":5}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ValidationError);
        for field in ["queue_name", "queue", "limit", "only lmit, queue_names;"] {
            assert!(err.message.contains(field), "{field} missing from {}", err.message);
        }
        assert_eq!(err.details.unwrap()[0]["field"], "lmit");
        assert_eq!(parse_optional_fields::<Steering>(b"[]").unwrap_err().kind, ErrorKind::ValidationError);
    }

    #[test]
    fn depth_bombs_are_refused_and_strings_do_not_count() {
        let at_limit = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(!nests_deeper_than(at_limit.as_bytes(), 64));
        let bomb = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(nests_deeper_than(bomb.as_bytes(), 64));
        assert_eq!(parse_json::<serde_json::Value>(bomb.as_bytes()).unwrap_err().kind, ErrorKind::InvalidJson);
        let quoted = format!("{{\"s\":\"{}\\\"\"}}", "[".repeat(100));
        assert!(!nests_deeper_than(quoted.as_bytes(), 64));
        assert!(parse_json::<serde_json::Value>(quoted.as_bytes()).is_ok());
    }

    #[test]
    fn urls_split_into_path_and_decoded_query() {
        let (path, query) = split_url("https://h.example:8787/api/v1/jobs?queue_name=a%20b&status=x,y#frag");
        assert_eq!(path, "/api/v1/jobs");
        assert_eq!(query.get(&["queue_name"]), Some("a b"));
        assert_eq!(query.get(&["status"]), Some("x,y"));
        assert_eq!(split_url("http://h").0, "/");
        assert_eq!(split_url("http://h/x?").0, "/x");
    }

    #[test]
    fn query_integers_are_checked() {
        let q = Query(vec![("limit".into(), "500".into()), ("offset".into(), "x".into())]);
        assert!(q.int("limit", 50, &(1..=100)).is_err());
        assert!(q.int("offset", 0, &(0..=i64::MAX)).is_err());
        assert_eq!(q.int("missing", 50, &(1..=100)), Ok(50));
    }

    #[test]
    fn query_flags_are_booleans() {
        let q = Query(vec![("a".into(), "True".into()), ("b".into(), "0".into()), ("c".into(), "null".into())]);
        assert_eq!((q.flag("a"), q.flag("b"), q.flag("missing")), (Ok(true), Ok(false), Ok(false)));
        assert_eq!(q.flag("c").unwrap_err().kind, ErrorKind::ValidationError);
    }
}
