//! The single place where errors become HTTP statuses and bodies (successful replies become
//! theirs in `api::views`). Actors answer an error as the typed [`ApiError`] itself, which has
//! no status: only this module decides one.

use crate::model::{ApiError, ErrorKind};

/// The HTTP status of each error kind.
pub fn status(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::ValidationError | ErrorKind::InvalidJson | ErrorKind::BadRequest => 400,
        ErrorKind::Unauthorized => 401,
        ErrorKind::AccessDenied => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::MethodNotAllowed => 405,
        ErrorKind::Conflict | ErrorKind::LeaseExpired | ErrorKind::AlreadyCompleted => 409,
        ErrorKind::PayloadTooLarge => 413,
        ErrorKind::RateLimitExceeded
        | ErrorKind::QueueFull
        | ErrorKind::WorkerLimit
        | ErrorKind::QueueLimit
        | ErrorKind::QuotaExceeded => 429,
        ErrorKind::InternalError => 500,
    }
}

/// An error as `(status, {"code", "message", "details"?})`.
pub fn render_error(error: &ApiError) -> (u16, String) {
    let body = serde_json::to_string(error)
        .unwrap_or_else(|_| r#"{"code":"INTERNAL_ERROR","message":"error rendering failed"}"#.to_owned());
    (status(error.kind), body)
}

/// The `Retry-After` seconds of an error that says when to try again
/// (`details.retry_after_secs`, as every 429 refusal of a request rate carries).
pub fn retry_after(error: &ApiError) -> Option<String> {
    let secs = error.details.as_ref()?.get("retry_after_secs")?.as_u64()?;
    Some(secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_with_their_code_and_status() {
        let (status, body) = render_error(&ApiError::lease_expired());
        assert_eq!(status, 409);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], "LEASE_EXPIRED");
        assert!(json["message"].is_string());
        assert!(json.get("details").is_none());
    }

    #[test]
    fn validation_errors_carry_details() {
        let (status, body) = render_error(&ApiError::validation("priority", "must be between -100 and 100"));
        assert_eq!(status, 400);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], "VALIDATION_ERROR");
        assert_eq!(json["details"][0]["field"], "priority");
    }
}
