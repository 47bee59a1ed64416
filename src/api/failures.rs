//! The failure path of authentication: refusing, before any check, a client address or tenant
//! that used up its failed authentications (API keys and admin keys alike), and counting each
//! new failure. The counts live in isolate memory ([`AuthThrottle`]).

use crate::model::{ApiError, EpochMs};
use crate::tenant::auth_throttle::{AuthThrottle, FailureLimits, Subject};
use std::cell::RefCell;
use worker::{web_sys::Request, Env};

/// The address requests without `CF-Connecting-IP` share (Cloudflare sets the header on every
/// request it forwards, and Miniflare sets 127.0.0.1, so only other callers lack it).
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

/// 429 `RATE_LIMIT_EXCEEDED` when any of `subjects` has no failures left in this window: a
/// rate-limit refusal (`details` with `retry_after_secs`, sent as `Retry-After`, the failure
/// `limit` and when the window resets) that says what was limited.
pub fn admit(env: &Env, subjects: &[Subject], now: EpochMs) -> Result<(), ApiError> {
    let Some(verdict) = FAILURES.with(|f| f.borrow().refusal(subjects, &limits(env), now)) else {
        return Ok(());
    };
    let refusal = super::auth::refusal(&verdict, now);
    let message = format!("more than {} failed authentications this minute; retry later", verdict.limit);
    Err(ApiError { message, ..refusal })
}

/// Counts a failed authentication against each of `subjects`.
pub fn failed(subjects: &[Subject], now: EpochMs) {
    FAILURES.with(|f| f.borrow_mut().failed(subjects, now));
}
