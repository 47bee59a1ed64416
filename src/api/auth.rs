//! Authenticating API keys, with an isolate-local cache so the hot path makes no extra actor
//! hop for a key verified in the last [`KEY_CACHE_TTL_MS`].

use super::handler::call_tenant;
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::tenant::keys::{hash_key, tenant_of};
use crate::tenant::protocol::TenantCommand;
use crate::tenant::Principal;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{Env, Request};

/// How long a verified key is trusted without asking its tenant actor again. A revoked key
/// keeps working at most this long in other isolates.
pub const KEY_CACHE_TTL_MS: EpochMs = 30_000;
/// Entries kept at most; past this the cache starts over (it only saves round trips).
const KEY_CACHE_CAPACITY: usize = 10_000;

thread_local! {
    /// Verified keys by hash: the principal and when the entry stops being trusted.
    static VERIFIED: RefCell<HashMap<String, (Principal, EpochMs)>> = RefCell::new(HashMap::new());
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorKind::Unauthorized, message)
}

/// Verifies the request's `Authorization: Bearer <key>`.
pub async fn authenticate(req: &Request, env: &Env, now: EpochMs) -> Result<Principal, ApiError> {
    let header = req.headers().get("Authorization").ok().flatten().unwrap_or_default();
    let key = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .ok_or_else(|| unauthorized("Missing or invalid Authorization header"))?;
    let tenant = tenant_of(key).ok_or_else(|| unauthorized("Invalid API key"))?;
    let hash = hash_key(key);
    if let Some(principal) = cached(&hash, now) {
        return Ok(principal);
    }
    let reply = call_tenant(env, tenant, TenantCommand::VerifyKey { hash: hash.clone() }).await?;
    let principal: Principal =
        serde_json::from_str(&reply).map_err(|e| ApiError::internal(format!("malformed key verification: {e}")))?;
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
    VERIFIED.with(|cache| {
        let cache = cache.borrow();
        cache.get(hash).filter(|(_, until)| now < *until).map(|(p, _)| p.clone())
    })
}
