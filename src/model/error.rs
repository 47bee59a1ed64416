//! The one error type of edgespool. Every layer returns it; `api::error` alone decides the
//! HTTP status and body for each [`ErrorKind`].

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// What went wrong, as callers branch on it. The wire `code` is the UPPER_SNAKE name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "ErrorCode"))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorKind {
    /// A field is missing, malformed or out of range.
    ValidationError,
    /// The body is not JSON (or not UTF-8, or nested too deep).
    InvalidJson,
    /// A well-formed request that the operation refuses (e.g. purge without `confirm`).
    BadRequest,
    /// No credential, or one that is unknown, revoked or expired.
    Unauthorized,
    /// The credential is valid but not allowed to act on this queue.
    AccessDenied,
    /// No such route, job or queue (or not visible to this tenant).
    NotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// The job is not in a state that allows the operation.
    Conflict,
    /// A worker operation with a lease that is expired or not the job's current lease.
    LeaseExpired,
    /// A repeated complete under the same lease carries another result than the stored one.
    AlreadyCompleted,
    /// A payload or body over its size limit.
    PayloadTooLarge,
    /// Too many requests for this key.
    RateLimitExceeded,
    /// The queue holds `max_jobs` jobs already; enqueue again once some are done.
    QueueFull,
    /// The tenant has as many workers registered as it may; deregister one first.
    WorkerLimit,
    /// The tenant has as many queues as it may; delete one first.
    QueueLimit,
    /// The tenant has as many enabled webhooks as it may (`WEBHOOK_LIMIT`): Spooled's plan
    /// quota code, which its SDK does not retry.
    QuotaExceeded,
    /// A bug or a storage failure; never caused by the client.
    InternalError,
}

/// An error with its human message and optional structured details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "openapi",
    schemars(rename = "Error", description = "Every error response. A rejected request changes nothing.")
)]
pub struct ApiError {
    // The category callers branch on.
    #[serde(rename = "code")]
    pub kind: ErrorKind,
    /// A sentence for humans (not for matching: branch on `code`).
    #[cfg_attr(feature = "openapi", schemars(length(min = 1)))]
    pub message: String,
    /// Present on some errors only. `VALIDATION_ERROR`: `[{field, message, code}]`.
    /// `RATE_LIMIT_EXCEEDED`: `{retry_after_secs, limit, remaining, reset_at}`.
    /// `ALREADY_COMPLETED`: `{result_sha256}`. `WORKER_LIMIT` and `QUEUE_LIMIT`: `{resource, current, limit}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(schema_with = "crate::api::openapi::wire::error_details"))]
    pub details: Option<Value>,
}

impl ApiError {
    /// An error of `kind` with `message` and no details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError { kind, message: message.into(), details: None }
    }

    /// A validation failure of one field, with Spooled's `details` shape.
    pub fn validation(field: &str, message: &str) -> ApiError {
        ApiError {
            kind: ErrorKind::ValidationError,
            message: format!("{field}: {message}"),
            details: Some(json!([{ "field": field, "message": message, "code": "invalid" }])),
        }
    }

    /// The requested job (or other resource) does not exist for this caller.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorKind::NotFound, format!("{what} not found"))
    }

    /// The job is not in a state that allows `action`.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Conflict, message)
    }

    /// The lease presented is not the job's live lease.
    pub fn lease_expired() -> ApiError {
        ApiError::new(ErrorKind::LeaseExpired, "the lease is expired or is not the job's current lease")
    }

    /// A storage or runtime failure.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::InternalError, message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ApiError {}
