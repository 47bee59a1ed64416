//! Authenticating API keys and limiting their request rate, both in isolate memory so the hot
//! path makes no extra actor hop: a verified key is trusted for [`KEY_CACHE_TTL_MS`], and each
//! key's requests are counted in one-minute windows.

use super::failures;
use crate::actors::client::call_tenant;
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::tenant::auth_throttle::Subject;
use crate::tenant::keys::{hash_key, parse_key, KeyParts};
use crate::tenant::protocol::{TenantCommand, TenantReply};
use crate::tenant::rate_limit::{RateLimiter, Verdict};
use crate::tenant::signing::{KeySigning, TenantPart};
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
    let parts = parse_key(key).ok_or_else(|| unauthorized("Invalid API key"))?;
    let hash = hash_key(key);
    let known = match cached(&hash, now) {
        Cached::Trusted(principal) => return Ok(principal),
        // Its expiry never changes, so the cache can refuse it on its own.
        Cached::Expired => return Err(unauthorized("Invalid API key")),
        Cached::Stale => true,
        Cached::Unknown => false,
    };
    let address = failures::client_address(req);
    let subjects = [Subject::Address(&address), Subject::Tenant(parts.tenant)];
    // A key this isolate verified before is re-checked even while its tenant or address is
    // throttled: a flood of bad keys must not lock out the keys in use.
    if !known {
        failures::admit(env, &subjects, now)?;
    }
    let verified = verify(env, parts, &hash).await;
    if verified.as_ref().is_err_and(|e| e.kind == ErrorKind::Unauthorized) {
        failures::failed(&subjects, now);
        VERIFIED.with(|cache| cache.borrow_mut().remove(&hash));
    }
    let principal = verified?;
    VERIFIED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= KEY_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(hash, (principal.clone(), now + KEY_CACHE_TTL_MS));
    });
    Ok(principal)
}

/// How this deployment signs and checks tenant parts: the secret `KEY_SIGNING_SECRET` (unset
/// or empty: keys are minted unsigned) and `SIGNED_KEYS_ONLY` (`true`: keys without a valid
/// signature are refused).
pub fn signing(env: &Env) -> KeySigning {
    KeySigning {
        secret: crate::actors::var(env, "KEY_SIGNING_SECRET").filter(|s| !s.is_empty()),
        signed_only: crate::actors::var(env, "SIGNED_KEYS_ONLY").is_some_and(|v| v == "true"),
    }
}

/// Asks the key's tenant actor who the key speaks for, unless the tenant part alone shows the
/// key is not one of this deployment's ([`KeySigning`]): then no actor is called at all.
async fn verify(env: &Env, parts: KeyParts<'_>, hash: &str) -> Result<Principal, ApiError> {
    if signing(env).judge(parts.tenant, parts.signature) == TenantPart::Refused {
        return Err(unauthorized("Invalid API key"));
    }
    let TenantReply::Principal(principal) =
        call_tenant(env, parts.tenant, TenantCommand::VerifyKey { hash: hash.to_owned() }).await?
    else {
        return Err(ApiError::internal("the tenant did not answer a key verification with a principal"));
    };
    Ok(principal)
}

/// What the isolate knows of a key.
enum Cached {
    /// Verified less than [`KEY_CACHE_TTL_MS`] ago and not expired: trusted as it is.
    Trusted(Principal),
    /// Verified, but past the key's own `expires_at`.
    Expired,
    /// Verified longer ago: asked again.
    Stale,
    /// Never verified here.
    Unknown,
}

fn cached(hash: &str, now: EpochMs) -> Cached {
    VERIFIED.with(|cache| match cache.borrow().get(hash) {
        None => Cached::Unknown,
        Some((principal, _)) if principal.expires_at.is_some_and(|at| now >= at) => Cached::Expired,
        Some((principal, until)) if now < *until => Cached::Trusted(principal.clone()),
        Some(_) => Cached::Stale,
    })
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
