//! Authenticating API keys and limiting their request rate, both in isolate memory so the hot
//! path makes no extra actor hop: a verified key is trusted for [`KEY_CACHE_TTL_MS`], and each
//! key's requests are counted in one-minute windows.

use crate::actors::client::call_tenant;
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::tenant::keys::{hash_key, tenant_of};
use crate::tenant::protocol::{TenantCommand, TenantReply};
use crate::tenant::rate_limit::{RateLimiter, Verdict};
use crate::tenant::Principal;
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{web_sys::Request, Env};

/// How long a verified key is trusted without asking its tenant actor again. A revoked key
/// keeps working at most this long in other isolates (immediately refused in the one that
/// revoked it).
pub const KEY_CACHE_TTL_MS: EpochMs = 30_000;
/// Entries kept at most; past this the cache starts over (it only saves round trips).
const KEY_CACHE_CAPACITY: usize = 10_000;

thread_local! {
    /// Verified keys by hash: the principal and when the entry stops being trusted.
    static VERIFIED: RefCell<HashMap<String, (Principal, EpochMs)>> = RefCell::new(HashMap::new());
    /// Request counts per key id.
    static LIMITER: RefCell<RateLimiter> = RefCell::new(RateLimiter::default());
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorKind::Unauthorized, message)
}

/// Verifies the request's `Authorization: Bearer <key>`.
pub async fn authenticate(req: &Request, env: &Env, now: EpochMs) -> Result<Principal, ApiError> {
    let header = super::handler::header(req, "Authorization").unwrap_or_default();
    // The scheme name is case-insensitive (RFC 7235).
    let key = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .ok_or_else(|| unauthorized("Missing or invalid Authorization header"))?;
    let tenant = tenant_of(key).ok_or_else(|| unauthorized("Invalid API key"))?;
    let hash = hash_key(key);
    if let Some(principal) = cached(&hash, now) {
        return Ok(principal);
    }
    let TenantReply::Principal(principal) =
        call_tenant(env, tenant, TenantCommand::VerifyKey { hash: hash.clone() }).await?
    else {
        return Err(ApiError::internal("the tenant did not answer a key verification with a principal"));
    };
    VERIFIED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= KEY_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(hash, (principal.clone(), now + KEY_CACHE_TTL_MS));
    });
    Ok(principal)
}

fn cached(hash: &str, now: EpochMs) -> Option<Principal> {
    VERIFIED.with(|cache| cache.borrow().get(hash).filter(|(_, until)| now < *until).map(|(p, _)| p.clone()))
}

/// Drops a key's cached verification, so a revoked or changed key is re-checked at once.
pub fn forget_key(key_id: &str) {
    VERIFIED.with(|cache| cache.borrow_mut().retain(|_, (p, _)| p.key_id != key_id));
}

/// Requests per minute the key may send: its own `rate_limit`, else the default; `None` when
/// it is unlimited.
pub fn key_limit(principal: &Principal, env: &Env) -> Option<u32> {
    principal.rate_limit.or(crate::actors::default_rate_limit(env))
}

/// Counts `cost` requests (one per actor the request touches) against the key's limit; `None`
/// when the key is unlimited.
pub fn admit(principal: &Principal, env: &Env, cost: u32, now: EpochMs) -> Option<Verdict> {
    let limit = key_limit(principal, env)?;
    Some(LIMITER.with(|l| l.borrow_mut().admit(&principal.key_id, limit, cost, now)))
}

/// The 429 for a refused verdict, with the numbers in `details`.
pub fn refusal(verdict: &Verdict, now: EpochMs) -> ApiError {
    let retry_after = verdict.retry_after_secs(now);
    ApiError {
        kind: ErrorKind::RateLimitExceeded,
        message: format!(
            "rate limit of {} requests per minute exceeded ({} left; a request counts one per queue it reaches); \
             retry in {retry_after} s",
            verdict.limit, verdict.remaining
        ),
        details: Some(json!({
            "retry_after_secs": retry_after,
            "limit": verdict.limit,
            "remaining": verdict.remaining,
            "reset_at": crate::model::time::format_rfc3339(verdict.reset_at),
        })),
    }
}

/// The `X-RateLimit-*` headers (and `Retry-After` when refused) for a verdict.
pub fn rate_headers(verdict: &Verdict, now: EpochMs) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("X-RateLimit-Limit", verdict.limit.to_string()),
        ("X-RateLimit-Remaining", verdict.remaining.to_string()),
        ("X-RateLimit-Reset", (verdict.reset_at / 1000).to_string()),
    ];
    if !verdict.allowed {
        headers.push(("Retry-After", verdict.retry_after_secs(now).to_string()));
    }
    headers
}
