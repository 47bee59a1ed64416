//! Durable Object glue: the only place, with `api::handler`, that touches the runtime.
//!
//! - [`queue_actor`]: one actor per (tenant, queue); runs queue commands and the alarm.
//! - [`tenant_actor`]: one actor per tenant; organization and API keys.
//! - [`delivery_actor`]: one actor per tenant; outgoing webhooks and their deliveries.
//! - [`outbound`]: the HTTP requests deliveries make.
//! - [`client`]: how the Worker (and one actor) calls an actor: a typed command in a lean POST
//!   through the stub, answered by the typed outcome.
//! - [`alarm`]: the one alarm per actor, written only when its due time changes.
//! - [`storage`]: the [`Sql`](crate::queue::Sql) interface over Durable Object SQLite, and
//!   synchronous transactions.

pub mod alarm;
pub mod client;
pub mod delivery_actor;
pub mod outbound;
pub mod queue_actor;
pub mod storage;
pub mod tenant_actor;

use crate::model::EpochMs;

/// The current time, read once per request or alarm.
pub fn now() -> EpochMs {
    worker::Date::now().as_millis() as EpochMs
}

/// A plain-text variable of the Worker's environment (a `[vars]` entry or a secret), read
/// without the worker crate's binding type check, which costs a JS round trip per call.
pub fn var(env: &worker::Env, name: &str) -> Option<String> {
    worker::js_sys::Reflect::get(env, &worker::wasm_bindgen::JsValue::from_str(name)).ok()?.as_string()
}

/// Requests per minute of keys without a `rate_limit` of their own (the `DEFAULT_RATE_LIMIT`
/// variable, else [`DEFAULT_RATE_LIMIT`](crate::tenant::rate_limit::DEFAULT_RATE_LIMIT));
/// `None` when it is 0 (no default limit).
pub fn default_rate_limit(env: &worker::Env) -> Option<u32> {
    let default = var(env, "DEFAULT_RATE_LIMIT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(crate::tenant::rate_limit::DEFAULT_RATE_LIMIT);
    (default > 0).then_some(default)
}

/// Which webhook targets the deployment accepts: `http` to loopback only when the
/// `ALLOW_HTTP_LOOPBACK_WEBHOOKS` variable is `true` (local development; never in production).
pub fn url_policy(env: &worker::Env) -> crate::model::target_url::UrlPolicy {
    crate::model::target_url::UrlPolicy {
        allow_http_loopback: var(env, "ALLOW_HTTP_LOOPBACK_WEBHOOKS").as_deref() == Some("true"),
    }
}
