//! Raw JSON text as it is stored: payloads and results stay the client's own bytes (never
//! re-serialized), so what a strict decoder on the worker side refuses is caught by scanning
//! the text, and a result is compared and digested in its minified form.

use super::error::ApiError;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// Refuses JSON that strict decoders reject although `serde_json` keeps it as raw text: a
/// string with a lone UTF-16 surrogate escape (`"\ud800"`) or a number outside the range of an
/// IEEE 754 double (`1e400`). Such a payload would be stored and handed out, and a worker's
/// decoder would then fail its whole claim batch. `raw` is well-formed JSON (the parser
/// checked that), so one pass suffices: only `\u` escapes and number tokens are looked at.
pub fn check_portable(field: &str, raw: &RawValue) -> Result<(), ApiError> {
    let bytes = raw.get().as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = check_string(field, bytes, i + 1)?,
            b'-' | b'0'..=b'9' => i = check_number(field, bytes, i)?,
            _ => i += 1,
        }
    }
    Ok(())
}

/// Scans a string whose body starts at `i`; returns the index after its closing quote.
fn check_string(field: &str, bytes: &[u8], mut i: usize) -> Result<usize, ApiError> {
    // A pending high surrogate must be followed at once by a `\u` low surrogate.
    let mut high = false;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if !high => return Ok(i + 1),
            b'\\' if bytes.get(i + 1) == Some(&b'u') => {
                let unit = hex4(bytes.get(i + 2..i + 6)).ok_or_else(|| not_portable(field, "a malformed \\u escape"))?;
                match (high, unit) {
                    (false, 0xD800..=0xDBFF) => high = true,
                    (true, 0xDC00..=0xDFFF) => high = false,
                    (_, 0xD800..=0xDFFF) | (true, _) => {
                        return Err(not_portable(field, "a lone UTF-16 surrogate escape (e.g. \\ud800)"))
                    }
                    (false, _) => {}
                }
                i += 6;
            }
            _ if high => return Err(not_portable(field, "a lone UTF-16 surrogate escape (e.g. \\ud800)")),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    Ok(i)
}

/// Scans a number token starting at `i`; returns the index after it. Only a token with an
/// exponent or more digits than a double's range allows can overflow, so only those are parsed.
fn check_number(field: &str, bytes: &[u8], start: usize) -> Result<usize, ApiError> {
    let len = bytes[start..].iter().take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')).count();
    let token = &bytes[start..start + len];
    if len > 300 || token.iter().any(|b| matches!(b, b'e' | b'E')) {
        // serde_json's own float parser (already in the build, unlike `str::parse`) refuses
        // what overflows a double.
        let text = std::str::from_utf8(token).unwrap_or_default();
        if serde_json::from_str::<f64>(text).is_err() {
            return Err(not_portable(field, "a number outside the range of a 64-bit float"));
        }
    }
    Ok(start + len)
}

fn hex4(digits: Option<&[u8]>) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(digits?).ok()?, 16).ok()
}

fn not_portable(field: &str, what: &str) -> ApiError {
    ApiError::validation(field, &format!("holds {what}, which strict JSON decoders refuse"))
}

/// The JSON text without whitespace between tokens (strings untouched): two texts that differ
/// only in layout minify alike. Borrowed when there was nothing to drop.
pub fn minified(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    let is_layout = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    if !bytes.iter().any(|&b| is_layout(b)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if in_string {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if ch == '"' {
            in_string = true;
        } else if ch.is_ascii() && is_layout(ch as u8) {
            continue;
        }
        out.push(ch);
    }
    Cow::Owned(out)
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), ApiError> {
        check_portable("payload", &serde_json::from_str::<Box<RawValue>>(text).unwrap())
    }

    #[test]
    fn lone_surrogates_are_refused_and_pairs_kept() {
        for bad in [r#""\ud800""#, r#"{"a":"x\udc00y"}"#, r#"["\uD83D"]"#, r#""\ud83d\u0041""#, r#""\ud83dA""#] {
            let err = check(bad).unwrap_err();
            assert!(err.message.contains("surrogate"), "{bad}: {}", err.message);
        }
        for good in [r#""\ud83d\ude00""#, r#""\u00e9\\u""#, r#""😀 \" \\ud800""#, r#"{"\u0041":1}"#] {
            assert!(check(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn numbers_beyond_a_double_are_refused_and_big_integers_kept() {
        for bad in ["1e400", "[-1E+309]", r#"{"n":0.5e999}"#, &"9".repeat(400)] {
            assert!(check(bad).unwrap_err().message.contains("64-bit float"), "{bad}");
        }
        for good in ["12345678901234567890123", "1.7976931348623157e308", "-0.0", "1e-400", "[1e5,2E-3]"] {
            assert!(check(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn number_like_text_inside_strings_is_not_a_number() {
        assert!(check(r#"{"1e400":"1e400"}"#).is_ok());
    }

    #[test]
    fn minifying_drops_layout_but_not_string_contents() {
        assert_eq!(minified("{ \"a\" : [1, 2],\n \"b\": \"x y\\\" z\" }"), "{\"a\":[1,2],\"b\":\"x y\\\" z\"}");
        assert!(matches!(minified("[1,2]"), Cow::Borrowed(_)));
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
