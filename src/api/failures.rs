//! The failure path of authentication: refusing, before any check, a client address or tenant
//! that used up its failed authentications (API keys and admin keys alike), and counting each
//! new failure. The counts live in isolate memory ([`AuthThrottle`]).

use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::tenant::auth_throttle::{AuthThrottle, FailureLimits, Subject};
use serde_json::json;
use std::cell::RefCell;
use worker::{web_sys::Request, Env};

/// The address requests without `CF-Connecting-IP` share (local development and tests;
/// Cloudflare sets the header on every request it forwards).
const NO_ADDRESS: &str = "unknown";

thread_local! {
    /// Failed authentications per client address and per tenant.
    static FAILURES: RefCell<AuthThrottle> = RefCell::new(AuthThrottle::default());
}

/// The client's address, as Cloudflare reports it.
pub fn client_address(req: &Request) -> String {
    super::handler::header(req, "CF-Connecting-IP").unwrap_or_else(|| NO_ADDRESS.to_owned())
}

/// The deployment's limits: `AUTH_FAILURES_PER_ADDRESS` and `AUTH_FAILURES_PER_TENANT` (per
/// minute; 0 turns one off), else the defaults.
fn limits(env: &Env) -> FailureLimits {
    let read = |name, default| crate::actors::var(env, name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let default = FailureLimits::default();
    FailureLimits {
        per_address: read("AUTH_FAILURES_PER_ADDRESS", default.per_address),
        per_tenant: read("AUTH_FAILURES_PER_TENANT", default.per_tenant),
    }
}

/// 429 `RATE_LIMIT_EXCEEDED` when any of `subjects` has no failures left in this window,
/// with the figures a rate-limit refusal carries (`retry_after_secs`, sent as `Retry-After`,
/// the failure `limit`, and when the window resets).
pub fn admit(env: &Env, subjects: &[Subject], now: EpochMs) -> Result<(), ApiError> {
    let Some(verdict) = FAILURES.with(|f| f.borrow().refusal(subjects, &limits(env), now)) else {
        return Ok(());
    };
    let retry_after = verdict.retry_after_secs(now);
    Err(ApiError {
        kind: ErrorKind::RateLimitExceeded,
        message: format!("more than {} failed authentications this minute; retry in {retry_after} s", verdict.limit),
        details: Some(json!({
            "retry_after_secs": retry_after,
            "limit": verdict.limit,
            "remaining": 0,
            "reset_at": crate::model::time::format_rfc3339(verdict.reset_at),
        })),
    })
}

/// Counts a failed authentication against each of `subjects`.
pub fn failed(subjects: &[Subject], now: EpochMs) {
    FAILURES.with(|f| f.borrow_mut().failed(subjects, now));
}
