//! Component schemas.

use super::component;
use crate::api::error::status;
use crate::api::openapi::wire;
use crate::api::views::Time;
use crate::model::{ApiError, ErrorKind, JobStatus};
use serde_json::{json, Value};

/// What a queue name is (`QueueName`), also the form of the `cursor` that names one.
pub const QUEUE_NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("Timestamp", component::<Time>()),
        ("NullableTimestamp", component::<wire::NullableTimestamp>()),
        ("RequestTime", component::<wire::RequestTime>()),
        ("QueueName", component::<wire::QueueName>()),
        ("JobId", component::<wire::JobId>()),
        ("LeaseId", component::<wire::LeaseId>()),
        (
            "JobStatus",
            json!({
                "type": "string",
                "enum": JobStatus::ALL,
                "description": "`pending`: ready, or waiting out a retry delay (`scheduled_at` in the future). `scheduled`: enqueued with a future `scheduled_at`. `processing`: leased to a worker until `lease_expires_at`. `completed`, `cancelled`: finished (deleted after the queue's retention). `deadletter`: out of retries, kept until replayed or purged. `failed`: accepted for Spooled compatibility; no transition produces it."
            }),
        ),
        ("Priority", component::<wire::Priority>()),
        ("Tags", component::<wire::Tags>()),
        ("ErrorCode", json!({"type": "string", "enum": super::variants::<ErrorKind>(), "description": statuses()})),
        ("Error", super::derived_view::<ApiError>()),
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
                    "resource": {"enum": ["workers", "queues", "enabled webhooks"]},
                    "current": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer", "minimum": 0}
                },
                "description": "`details` of `WORKER_LIMIT` (`workers`), `QUEUE_LIMIT` (`queues`) and `QUOTA_EXCEEDED` (`enabled webhooks`)."
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
