//! Component schemas.

use crate::api::error::status;
use crate::model::spec;
use crate::model::{ErrorKind, JobStatus};
use serde_json::{json, Value};

/// What a queue name is (`QueueName`), also the form of the `cursor` that names one.
pub const QUEUE_NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Timestamp",
            json!({
                "type": "string",
                "format": "date-time",
                "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
                "description": "RFC 3339 time in UTC with millisecond precision and a `Z` suffix, e.g. `2026-01-02T03:04:05.678Z`.",
                "examples": ["2026-01-02T03:04:05.678Z"]
            }),
        ),
        (
            "NullableTimestamp",
            json!({
                "type": ["string", "null"],
                "format": "date-time",
                "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
                "description": "A `Timestamp`, or `null` when the event has not happened (or does not apply)."
            }),
        ),
        (
            "RequestTime",
            json!({
                "type": "string",
                "format": "date-time",
                "pattern": "^(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
                "description": "An RFC 3339 time with any offset (`T` and `Z` in either case), in the years 1970–2099 (the server also takes `2100-01-01T00:00:00Z`, its last instant, and refuses a time before 1970 in UTC)."
            }),
        ),
        (
            "QueueName",
            json!({
                "type": "string",
                "minLength": 1,
                "maxLength": spec::MAX_QUEUE_NAME_LEN,
                "pattern": QUEUE_NAME_PATTERN,
                "description": "1–64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit (`emails.high`). Queues need no creation: the first job or setting creates one.",
                "examples": ["emails"]
            }),
        ),
        (
            "JobId",
            json!({
                "type": "string",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\.[0-9A-HJKMNP-TV-Z]{26}$",
                "description": "`{queue_name}.{ULID}`: the queue the job lives in, a dot, and a ULID (26 characters of Crockford base 32, time-ordered); the queue name is everything before the last dot. Opaque to clients; the tenant always comes from the API key.",
                "examples": ["emails.01KC7Z4Q9V3J8M2N6P5R4T3W2X"]
            }),
        ),
        (
            "LeaseId",
            json!({
                "type": "string",
                "pattern": "^[0-9a-f]{32}$",
                "description": "Random lease id (32 lowercase hex characters) minted by each claim; complete, fail and heartbeat are fenced by it."
            }),
        ),
        (
            "JobStatus",
            json!({
                "type": "string",
                "enum": JobStatus::ALL,
                "description": "`pending`: ready, or waiting out a retry delay (`scheduled_at` in the future). `scheduled`: enqueued with a future `scheduled_at`. `processing`: leased to a worker until `lease_expires_at`. `completed`, `cancelled`: finished (deleted after the queue's retention). `deadletter`: out of retries, kept until replayed or purged. `failed`: accepted for Spooled compatibility; no transition produces it."
            }),
        ),
        (
            "Priority",
            json!({
                "type": "integer",
                "minimum": *spec::PRIORITY.start(),
                "maximum": *spec::PRIORITY.end(),
                "description": "−100…100, higher is claimed first; FIFO (enqueue order) within a priority. Default 0."
            }),
        ),
        (
            "Tags",
            json!({
                "type": ["array", "object", "null"],
                "items": {"type": "string"},
                "description": "Free-form labels: an array of strings or an object (at most 64 KiB serialized), or `null`. The `tag` list filter matches an array element or an object key."
            }),
        ),
        ("ErrorCode", json!({"type": "string", "enum": super::variants::<ErrorKind>(), "description": statuses()})),
        (
            "Error",
            json!({
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"$ref": "#/components/schemas/ErrorCode"},
                    "message": {
                        "type": "string",
                        "minLength": 1,
                        "description": "A sentence for humans (not for matching: branch on `code`)."
                    },
                    "details": {
                        "description": "Present on some errors only. `VALIDATION_ERROR`: `[{field, message, code}]`. `RATE_LIMIT_EXCEEDED`: `{retry_after_secs, limit, remaining, reset_at}`. `ALREADY_COMPLETED`: `{result_sha256}`. `WORKER_LIMIT` and `QUEUE_LIMIT`: `{resource, current, limit}`.",
                        "anyOf": [
                            {"$ref": "#/components/schemas/ValidationDetails"},
                            {"$ref": "#/components/schemas/RateLimitDetails"},
                            {"$ref": "#/components/schemas/AlreadyCompletedDetails"},
                            {"$ref": "#/components/schemas/WorkerLimitDetails"}
                        ]
                    }
                },
                "description": "Every error response. A rejected request changes nothing."
            }),
        ),
        (
            "ValidationDetails",
            json!({
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["field", "message", "code"],
                    "properties": {
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                        "code": {"type": "string", "const": "invalid"}
                    }
                }
            }),
        ),
        (
            "RateLimitDetails",
            json!({
                "type": "object",
                "required": ["retry_after_secs", "limit", "remaining", "reset_at"],
                "properties": {
                    "retry_after_secs": {"type": "integer", "minimum": 0},
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Requests per minute allowed for the key."
                    },
                    "remaining": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Requests left this minute: fewer than this request counts (a request counts one per queue it reaches)."
                    },
                    "reset_at": {"$ref": "#/components/schemas/Timestamp"}
                }
            }),
        ),
        (
            "AlreadyCompletedDetails",
            json!({
                "type": "object",
                "required": ["result_sha256"],
                "properties": {
                    "result_sha256": {
                        "type": ["string", "null"],
                        "pattern": "^[0-9a-f]{64}$",
                        "description": "SHA-256 (hex) of the stored result, minified; `null` without one."
                    }
                },
                "description": "`details` of `ALREADY_COMPLETED`."
            }),
        ),
        (
            "WorkerLimitDetails",
            json!({
                "type": "object",
                "required": ["resource", "current", "limit"],
                "properties": {
                    "resource": {"enum": ["workers", "queues"]},
                    "current": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer", "minimum": 0}
                },
                "description": "`details` of `WORKER_LIMIT` (`workers`) and `QUEUE_LIMIT` (`queues`)."
            }),
        ),
    ]
}

/// Each status with the error codes it answers, in the order of the codes: `400 `A` / `B`, …`.
fn statuses() -> String {
    let kinds: Vec<ErrorKind> = serde_json::from_value(super::variants::<ErrorKind>()).expect("error codes");
    let mut groups: Vec<(u16, Vec<String>)> = Vec::new();
    for kind in kinds {
        let code = format!("`{}`", json!(kind).as_str().expect("a code is a string"));
        match groups.last_mut() {
            Some((last, codes)) if *last == status(kind) => codes.push(code),
            _ => groups.push((status(kind), vec![code])),
        }
    }
    let groups: Vec<String> = groups.iter().map(|(status, codes)| format!("{status} {}", codes.join(" / "))).collect();
    groups.join(", ") + "."
}
