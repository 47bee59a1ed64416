//! What a receiver gets: the envelope `{id, event, created_at, data}` and the headers that
//! name and sign it (Spooled's delivery protocol).

use crate::model::mac::{hex, hmac_sha256};
use crate::model::time::format_rfc3339;
use crate::model::wire::to_json;
use crate::model::{ApiError, EpochMs};
use serde::Serialize;
use serde_json::value::RawValue;

/// `User-Agent` of an organization webhook's deliveries.
pub const USER_AGENT: &str = "Spooled-OutgoingWebhook/1.0";
/// `User-Agent` of a job's own completion webhook.
pub const COMPLETION_USER_AGENT: &str = "Spooled-CompletionWebhook/1.0";
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

/// What sends a delivery: an organization's webhook, or a job's own completion webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// `Spooled-OutgoingWebhook/1.0`.
    Webhook,
    /// `Spooled-CompletionWebhook/1.0`.
    Completion,
}

/// The headers of attempt `attempt` of a delivery of `event` with `body` at `now`, signed
/// when there is a secret (none, or an empty one — a webhook whose secret was cleared — sends
/// no `X-Spooled-Signature`).
pub fn headers(
    sender: Sender,
    event: &str,
    attempt: u32,
    secret: Option<&str>,
    body: &str,
    now: EpochMs,
) -> Vec<(&'static str, String)> {
    let timestamp = now.div_euclid(1_000);
    let agent = match sender {
        Sender::Webhook => USER_AGENT,
        Sender::Completion => COMPLETION_USER_AGENT,
    };
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("User-Agent", agent.to_owned()),
        ("X-Spooled-Event", event.to_owned()),
        ("X-Spooled-Timestamp", timestamp.to_string()),
        ("X-Spooled-Delivery-Attempt", attempt.to_string()),
    ];
    let secret = secret.filter(|s| !s.is_empty());
    headers.extend(secret.map(|secret| ("X-Spooled-Signature", signature(secret, timestamp, body))));
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
        let sent = headers(Sender::Webhook, "job.completed", 2, Some("s"), &body, 12_999);
        let unsigned = headers(Sender::Completion, "job.completed", 1, None, &body, 12_999);
        assert!(unsigned.iter().all(|(name, _)| *name != "X-Spooled-Signature"));
        assert!(unsigned.contains(&("User-Agent", COMPLETION_USER_AGENT.into())));
        assert!(sent.contains(&("X-Spooled-Timestamp", "12".into())));
        assert!(sent.contains(&("X-Spooled-Delivery-Attempt", "2".into())));
        assert!(sent.contains(&("X-Spooled-Signature", expected)));
    }

    #[test]
    fn a_cleared_secret_sends_no_signature() {
        let sent = headers(Sender::Webhook, "job.completed", 1, Some(""), "{}", 12_999);
        assert!(sent.iter().all(|(name, _)| *name != "X-Spooled-Signature"));
        assert!(sent.contains(&("X-Spooled-Timestamp", "12".into())));
    }
}
