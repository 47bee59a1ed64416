//! Time as epoch milliseconds. The clock is read once per request in the runtime glue and
//! passed in; nothing here reads a clock (`SystemTime::now` panics on wasm32).

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, UTC. Always within ±2^53 so it survives the JS boundary.
pub type EpochMs = i64;

/// One second in milliseconds.
pub const SECOND_MS: EpochMs = 1_000;

/// The latest time accepted in a request (2100-01-01T00:00:00Z). The runtime's alarms refuse
/// dates much past 2189, and a scheduled job's time becomes an alarm time.
pub const LATEST_MS: EpochMs = 4_102_444_800_000;

/// What a request time must be, for error messages: the bounds [`parse_rfc3339`] accepts.
pub const ACCEPTED_TIMES: &str = "an RFC 3339 timestamp from 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z";

/// Renders epoch milliseconds as RFC 3339 UTC with millisecond precision and a `Z` suffix.
pub fn format_rfc3339(ms: EpochMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 timestamp with any offset; `None` when malformed or out of range.
pub fn parse_rfc3339(text: &str) -> Option<EpochMs> {
    let ms = DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis();
    (0..=LATEST_MS).contains(&ms).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let ms = 1_767_225_600_123;
        let text = format_rfc3339(ms);
        assert_eq!(text, "2026-01-01T00:00:00.123Z");
        assert_eq!(parse_rfc3339(&text), Some(ms));
        assert_eq!(parse_rfc3339("2026-01-01T01:00:00+01:00"), Some(1_767_225_600_000));
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        assert_eq!(parse_rfc3339("tomorrow"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("1960-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2100-01-01T00:00:00Z"), Some(LATEST_MS));
        assert_eq!(parse_rfc3339("2100-01-01T00:00:00.001Z"), None);
        assert_eq!(parse_rfc3339("3000-01-01T00:00:00Z"), None);
    }
}
