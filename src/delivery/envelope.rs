//! What a receiver gets: the envelope `{id, event, created_at, data}` and the headers that
//! name and sign it (Spooled's delivery protocol).

use crate::model::mac::{hex, hmac_sha256};
use crate::model::time::format_rfc3339;
use crate::model::wire::to_json;
use crate::model::{ApiError, EpochMs};
use serde::Serialize;
use serde_json::value::RawValue;

/// `User-Agent` of every delivery.
pub const USER_AGENT: &str = "Spooled-OutgoingWebhook/1.0";
/// The event name of a test delivery.
pub const TEST_EVENT: &str = "webhook.test";

#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    event: &'a str,
    created_at: String,
    data: &'a RawValue,
}

/// The envelope of event `id` of kind `event`, born at `at`, carrying `data`.
pub fn envelope(id: &str, event: &str, at: EpochMs, data: &RawValue) -> Result<String, ApiError> {
    to_json(&Envelope { id, event, created_at: format_rfc3339(at), data })
}

/// The `X-Spooled-Signature` value of `body` sent at `timestamp` (unix seconds): HMAC-SHA256
/// under the webhook's secret of `"<timestamp>.<body>"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), &[timestamp.to_string().as_bytes(), b".", body.as_bytes()]);
    format!("sha256={}", hex(&mac))
}

/// The headers of attempt `attempt` of a delivery of `event` with `body`, signed at `now`
/// unless `secret` is empty (a cleared secret: no `X-Spooled-Signature`).
pub fn headers(event: &str, attempt: u32, secret: &str, body: &str, now: EpochMs) -> Vec<(&'static str, String)> {
    let timestamp = now.div_euclid(1_000);
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("User-Agent", USER_AGENT.to_owned()),
        ("X-Spooled-Event", event.to_owned()),
        ("X-Spooled-Timestamp", timestamp.to_string()),
        ("X-Spooled-Delivery-Attempt", attempt.to_string()),
    ];
    if !secret.is_empty() {
        headers.push(("X-Spooled-Signature", signature(secret, timestamp, body)));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_exact_body() {
        let body =
            envelope("orders.7", "job.completed", 0, &RawValue::from_string("{\"a\":1}".into()).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"id":"orders.7","event":"job.completed","created_at":"1970-01-01T00:00:00.000Z","data":{"a":1}}"#
        );
        let expected = format!("sha256={}", hex(&hmac_sha256(b"s", &[format!("12.{body}").as_bytes()])));
        assert_eq!(signature("s", 12, &body), expected);
        assert_ne!(signature("s", 13, &body), expected);
        let sent = headers("job.completed", 2, "s", &body, 12_999);
        assert!(sent.contains(&("X-Spooled-Timestamp", "12".into())));
        assert!(sent.contains(&("X-Spooled-Delivery-Attempt", "2".into())));
        assert!(sent.contains(&("X-Spooled-Signature", expected)));
    }

    #[test]
    fn a_cleared_secret_sends_no_signature() {
        let sent = headers("job.completed", 1, "", "{}", 12_999);
        assert!(sent.iter().all(|(name, _)| *name != "X-Spooled-Signature"));
        assert!(sent.contains(&("X-Spooled-Timestamp", "12".into())));
    }
}
