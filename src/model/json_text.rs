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

/// Where the next `"` or `\\` is at or after `i`: short strings (most keys and values) are
/// walked byte by byte, longer ones skipped with `memchr2` (as serde_json does).
fn next_special(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = bytes.get(i..).unwrap_or_default();
    let near = rest.iter().take(16).position(|&b| b == b'"' || b == b'\\');
    near.or_else(|| memchr::memchr2(b'"', b'\\', rest.get(16..)?).map(|at| at + 16)).map(|at| i + at)
}

/// Scans a string whose body starts at `i`; returns the index after its closing quote. Only
/// its escapes are looked at.
fn check_string(field: &str, bytes: &[u8], mut i: usize) -> Result<usize, ApiError> {
    let lone = || not_portable(field, "a lone UTF-16 surrogate escape (e.g. \\ud800)");
    while let Some(at) = next_special(bytes, i) {
        if bytes[at] == b'"' {
            return Ok(at + 1);
        }
        if bytes.get(at + 1) != Some(&b'u') {
            i = at + 2;
            continue;
        }
        i = at + 6;
        match hex4(bytes.get(at + 2..at + 6)) {
            Some(0xD800..=0xDBFF) => {
                // A high surrogate must be followed at once by an escaped low one.
                let low = bytes.get(i..i + 2).filter(|e| e == b"\\u").and_then(|_| hex4(bytes.get(i + 2..i + 6)));
                if !matches!(low, Some(0xDC00..=0xDFFF)) {
                    return Err(lone());
                }
                i += 6;
            }
            Some(0xDC00..=0xDFFF) => return Err(lone()),
            Some(_) => {}
            None => return Err(not_portable(field, "a malformed \\u escape")),
        }
    }
    Ok(bytes.len())
}

/// Scans a number token starting at `i`; returns the index after it.
fn check_number(field: &str, bytes: &[u8], start: usize) -> Result<usize, ApiError> {
    let len = bytes[start..].iter().take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')).count();
    let token = &bytes[start..start + len];
    // A double reaches about 1.8e308: a token of at most 200 characters whose exponent has at
    // most two digits stays far below, so only the rare others are looked at closely.
    let exponent = token.iter().position(|b| matches!(b, b'e' | b'E')).map_or(&b""[..], |e| &token[e + 1..]);
    let may_overflow = len > 200 || exponent.iter().filter(|b| b.is_ascii_digit()).count() > 2;
    if may_overflow && overflows_a_double(token) {
        return Err(not_portable(field, "a number outside the range of a 64-bit float"));
    }
    Ok(start + len)
}

/// The smallest magnitude that rounds to infinity as a double: 2^1024 − 2^970, halfway between
/// the largest finite double and 2^1024 (ties round to even, which is infinity). 309 digits.
const OVERFLOW_AT: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

const _: () = assert!(OVERFLOW_AT.len() == 309);

/// Whether a JSON number token's value is at least [`OVERFLOW_AT`] in magnitude, found from
/// its decimal exponent (and, at exponent 308, its digits) without parsing it as a float.
fn overflows_a_double(token: &[u8]) -> bool {
    let token = token.strip_prefix(b"-").unwrap_or(token);
    let (mantissa, exponent) = match token.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(e) => (&token[..e], &token[e + 1..]),
        None => (token, &b""[..]),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &b""[..]),
    };
    // The significant digits, and the decimal exponent of the first: the integer digits after
    // leading zeros place it, or else the fraction's leading zeros do.
    let int = &int[int.iter().take_while(|&&d| d == b'0').count()..];
    let (leading, digits) = if int.is_empty() {
        let zeros = frac.iter().take_while(|&&d| d == b'0').count();
        (-(zeros as i64) - 1, [&frac[zeros..], &[][..]])
    } else {
        (int.len() as i64 - 1, [int, frac])
    };
    let digits = digits[0].iter().chain(digits[1]);
    if digits.clone().all(|&d| d == b'0') {
        return false;
    }
    let (negative, exp_digits) = match exponent.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, exponent),
    };
    let exp =
        exp_digits.iter().fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')).min(1 << 40));
    let magnitude = leading + if negative { -exp } else { exp };
    match magnitude.cmp(&308) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        // Trailing zeros make a longer, never a smaller, digit string: comparing as text is exact.
        std::cmp::Ordering::Equal => digits.cmp(OVERFLOW_AT.iter()) != std::cmp::Ordering::Less,
    }
}

fn hex4(digits: Option<&[u8]>) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(digits?).ok()?, 16).ok()
}

#[cold]
#[inline(never)]
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
        let at_limit = std::str::from_utf8(OVERFLOW_AT).unwrap();
        for bad in ["1e400", "[-1E+309]", r#"{"n":0.5e999}"#, &"9".repeat(400), "1.7976931348623159e308", at_limit] {
            assert!(check(bad).unwrap_err().message.contains("64-bit float"), "{bad}");
        }
        for good in [
            "12345678901234567890123",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "0.000179769e312",
            "-0.0",
            "0e999",
            "1e-400",
            "[1e5,2E-3]",
            "10e307",
        ] {
            assert!(check(good).is_ok(), "{good}");
        }
    }

    /// The exponent rule agrees with a float parser wherever it is not a matter of digits.
    #[test]
    fn the_overflow_rule_matches_float_parsing() {
        for text in ["1e308", "9.99e308", "0.1e310", "0.01e310", "100e306", "1000e306", "0.00e999", "17e307", "18e307"]
        {
            let infinite = text.parse::<f64>().unwrap().is_infinite();
            assert_eq!(overflows_a_double(text.as_bytes()), infinite, "{text}");
        }
        let mut below = OVERFLOW_AT.to_vec();
        *below.last_mut().unwrap() -= 1;
        assert!(!overflows_a_double(&below));
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
