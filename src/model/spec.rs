//! What a job is made of before it is stored: the validated enqueue request, and the limits
//! every request is checked against. Each bound lives here and nowhere else.

use super::error::ApiError;
use super::time::EpochMs;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::ops::RangeInclusive;

/// Largest serialized payload (and job result).
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Largest row Durable Object SQLite stores in production (Miniflare does not enforce it).
pub const MAX_ROW_BYTES: usize = 2_000_000;
/// Largest job result kept in the job's own row; a larger one gets a row of its own, so that a
/// 1 MiB payload and a 1 MiB result never share a row over [`MAX_ROW_BYTES`].
pub const MAX_INLINE_RESULT_BYTES: usize = 256 * 1024;
/// Largest serialized `tags` value.
pub const MAX_TAGS_BYTES: usize = 64 * 1024;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// Longest batch idempotency key of a bulk enqueue: each job without a key of its own gets
/// `"{key}:{index}"`, and `:99` must still fit in [`MAX_IDEMPOTENCY_KEY_LEN`].
pub const MAX_BATCH_IDEMPOTENCY_KEY_LEN: usize = MAX_IDEMPOTENCY_KEY_LEN - 3;
/// Longest error message kept from a failed attempt (longer ones are truncated).
pub const MAX_ERROR_LEN: usize = 2048;
// The largest job row: payload, tags, an error and an idempotency key of up to 4 bytes per
// character, an inline result, and 8 KiB for the remaining columns and SQLite's own framing.
const _: () = assert!(
    MAX_PAYLOAD_BYTES + MAX_TAGS_BYTES + 4 * (MAX_ERROR_LEN + MAX_IDEMPOTENCY_KEY_LEN) + MAX_INLINE_RESULT_BYTES + 8192
        < MAX_ROW_BYTES
);
/// Allowed priorities; higher runs first.
pub const PRIORITY: RangeInclusive<i64> = -100..=100;
/// Allowed `max_retries`; a job runs at most `max_retries + 1` times.
pub const MAX_RETRIES: RangeInclusive<i64> = 0..=100;
/// `max_retries` when neither the job nor its queue sets one.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Allowed `timeout_seconds` (advisory, returned to workers).
pub const TIMEOUT_SECS: RangeInclusive<i64> = 1..=86_400;
/// `timeout_seconds` when neither the job nor its queue sets one.
pub const DEFAULT_TIMEOUT_SECS: u32 = 300;
/// Allowed lease (visibility timeout) lengths in seconds.
pub const LEASE_SECS: RangeInclusive<i64> = 5..=43_200;
/// Lease length when the claim sets none.
pub const DEFAULT_LEASE_SECS: u32 = 30;
/// Allowed `retry_after_secs` on fail.
pub const RETRY_AFTER_SECS: RangeInclusive<i64> = 0..=86_400;
/// How long a claim may wait for a job (long polling), in seconds.
pub const WAIT_SECS: RangeInclusive<i64> = 0..=20;
/// Jobs per bulk enqueue.
pub const BULK_JOBS: RangeInclusive<usize> = 1..=100;
/// Jobs per claim.
pub const CLAIM_LIMIT: RangeInclusive<i64> = 1..=100;
/// Page size of list endpoints.
pub const LIST_LIMIT: RangeInclusive<i64> = 1..=100;
/// Largest `offset` of the job lists (a merge across queues reads `offset + limit` per queue).
pub const MAX_LIST_OFFSET: i64 = 10_000;
/// Most ids one status read (`GET /jobs/status?ids=`) takes.
pub const MAX_STATUS_IDS: usize = 100;
/// Most items (acks plus fails) of one batch ack.
pub const MAX_ACK_ITEMS: usize = 200;
/// Dead letters one purge removes (also its default).
pub const PURGE_LIMIT: RangeInclusive<i64> = 1..=10_000;
/// Most times a job runs: its first attempt and `max_retries` retries. A dead letter's
/// `retry_count` reaches it.
pub const MAX_ATTEMPTS: i64 = *MAX_RETRIES.end() + 1;
/// Longest queue name.
pub const MAX_QUEUE_NAME_LEN: usize = 64;
/// Allowed retention of finished jobs: one second to 90 days.
pub const RETENTION_SECS: RangeInclusive<i64> = 1..=90 * 24 * 3600;
/// Allowed per-queue claim rate, in jobs per second.
pub const QUEUE_RATE_LIMIT: RangeInclusive<i64> = 1..=100_000;
/// Allowed `max_jobs` of a queue.
pub const MAX_JOBS: RangeInclusive<i64> = 1..=10_000_000;
/// Allowed backoff base and cap, in seconds (fractions allowed): 10 ms to one day.
pub const BACKOFF_SECS: RangeInclusive<f64> = 0.01..=86_400.0;
/// Longest pause `reason`.
pub const MAX_PAUSE_REASON_LEN: usize = 500;
/// Allowed per-key rate limit, in requests per minute.
pub const KEY_RATE_LIMIT: RangeInclusive<i64> = 1..=1_000_000;
/// Most queues an API key may name.
pub const MAX_KEY_QUEUES: usize = 100;
/// Longest name of an organization or API key.
pub const MAX_NAME_LEN: usize = 100;
/// Longest `worker_id` a claim records.
pub const MAX_WORKER_ID_LEN: usize = 255;
/// Longest worker `hostname`.
pub const MAX_HOSTNAME_LEN: usize = 255;
/// Longest worker `worker_type` and `version`.
pub const MAX_WORKER_LABEL_LEN: usize = 50;
/// Allowed worker `max_concurrency`.
pub const MAX_CONCURRENCY: RangeInclusive<i64> = 1..=100;
/// Allowed worker `current_jobs` in a heartbeat.
pub const CURRENT_JOBS: RangeInclusive<i64> = 0..=1000;
/// Largest worker `metadata` object, serialized. Spooled allows 64 KiB; here every worker of a
/// tenant lives in its one tenant actor, so 16 KiB keeps a full registry (1,000 workers) near
/// 16 MiB.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Page size of the worker list.
pub const WORKER_PAGE: RangeInclusive<i64> = 1..=100;
/// Largest `offset` of the worker list.
pub const MAX_WORKER_OFFSET: i64 = 100_000;

/// A validated job, ready to insert into its queue. Absent options are left out of its JSON
/// (it travels to the queue actor in every enqueue).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobSpec {
    /// Any JSON value (stored minified: whitespace between tokens is dropped, tokens kept).
    pub payload: Box<RawValue>,
    /// −100…100, higher first.
    pub priority: i64,
    /// `None` takes the queue's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Advisory run time limit returned to workers; `None` takes the queue's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Earliest run time; in the future the job starts `scheduled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<EpochMs>,
    /// After this time the job is no longer claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<EpochMs>,
    /// Unique within the queue while the job is retained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Free-form labels (array of strings or object), kept as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Box<RawValue>>,
    /// Where to POST the job's outcome when it completes or fails for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_webhook: Option<CompletionHook>,
}

/// A job's own webhook: its (checked) URL, and the secret that signs it, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionHook {
    /// Where to POST.
    pub url: String,
    /// Signs the request when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Checks that an integer `field` lies in `range`.
pub fn check_range(field: &str, value: i64, range: &RangeInclusive<i64>) -> Result<i64, ApiError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::validation(field, &format!("must be between {} and {}", range.start(), range.end())))
    }
}

/// Checks a payload (or result) against the size limit.
pub fn check_payload_size(field: &str, raw: &RawValue) -> Result<(), ApiError> {
    if raw.get().len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::new(
            super::ErrorKind::PayloadTooLarge,
            format!("{field} is larger than {MAX_PAYLOAD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Checks a payload or result: its size, and that it is JSON every worker's decoder accepts.
pub fn check_job_value(field: &str, raw: &RawValue) -> Result<(), ApiError> {
    check_payload_size(field, raw)?;
    super::json_text::check_portable(field, raw)
}

/// Checks an idempotency key: 1 to `max` characters ([`MAX_IDEMPOTENCY_KEY_LEN`] for a job's
/// own key, [`MAX_BATCH_IDEMPOTENCY_KEY_LEN`] for a batch's).
pub fn check_idempotency_key(key: &str, max: usize) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > max {
        return Err(ApiError::validation("idempotency_key", &format!("must be 1-{max} characters")));
    }
    Ok(())
}

/// Checks `tags`: an array of strings or an object, at most 64 KiB, of portable JSON.
pub fn check_tags(raw: &RawValue) -> Result<(), ApiError> {
    let text = raw.get();
    let shape_ok = match text.trim_start().as_bytes().first() {
        Some(b'{') => true,
        Some(b'[') => serde_json::from_str::<Vec<String>>(text).is_ok(),
        _ => text == "null",
    };
    if !shape_ok {
        return Err(ApiError::validation("tags", "must be an array of strings or an object"));
    }
    if text.len() > MAX_TAGS_BYTES {
        return Err(ApiError::validation("tags", "must be at most 64 KiB"));
    }
    super::json_text::check_portable("tags", raw)
}

/// Truncates a worker's error message to [`MAX_ERROR_LEN`] characters.
pub fn clip_error(message: &str) -> String {
    message.chars().take(MAX_ERROR_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn ranges_include_both_ends() {
        assert!(check_range("priority", -100, &PRIORITY).is_ok());
        assert!(check_range("priority", 100, &PRIORITY).is_ok());
        assert!(check_range("priority", 101, &PRIORITY).is_err());
        assert!(check_range("lease_duration_secs", 4, &LEASE_SECS).is_err());
    }

    #[test]
    fn payload_limit_is_one_mebibyte() {
        let at_limit = raw(&format!("\"{}\"", "x".repeat(MAX_PAYLOAD_BYTES - 2)));
        assert!(check_payload_size("payload", &at_limit).is_ok());
        let over = raw(&format!("\"{}\"", "x".repeat(MAX_PAYLOAD_BYTES - 1)));
        let err = check_payload_size("payload", &over).unwrap_err();
        assert_eq!(err.kind, super::super::ErrorKind::PayloadTooLarge);
    }

    #[test]
    fn tags_are_string_arrays_or_objects() {
        assert!(check_tags(&raw(r#"["a","b"]"#)).is_ok());
        assert!(check_tags(&raw(r#"{"k":1}"#)).is_ok());
        assert!(check_tags(&raw(r#"[1]"#)).is_err());
        assert!(check_tags(&raw(r#""a""#)).is_err());
    }

    #[test]
    fn idempotency_keys_are_bounded() {
        assert!(check_idempotency_key("k", MAX_IDEMPOTENCY_KEY_LEN).is_ok());
        assert!(check_idempotency_key("", MAX_IDEMPOTENCY_KEY_LEN).is_err());
        assert!(check_idempotency_key(&"k".repeat(255), MAX_IDEMPOTENCY_KEY_LEN).is_ok());
        assert!(check_idempotency_key(&"k".repeat(256), MAX_IDEMPOTENCY_KEY_LEN).is_err());
        assert!(check_idempotency_key(&"k".repeat(253), MAX_BATCH_IDEMPOTENCY_KEY_LEN).is_err());
    }
}
