//! Tenancy: organizations, their API keys and what a verified key may do. Pure logic over
//! the same [`Sql`](crate::queue::Sql) interface as the queues, run by the tenant actor.
//!
//! - [`keys`]: the key format (`sp_live_{tenant}_{secret}`), parsing and hashing.
//! - [`store`]: the tenant actor's tables, organization and queue catalog.
//! - [`key_store`]: API keys: create, list, update, revoke, verify.
//! - [`protocol`]: the commands the Worker sends to a tenant actor.
//! - [`rate_limit`]: per-key request counting in one-minute windows.
//! - [`auth_throttle`]: failed authentications counted per client address and per tenant.
//! - [`signing`]: the MAC in a key's tenant part, under the deployment's signing secret.
//! - [`scope`]: how far a key reaches, and why it never grants more.
//! - [`workers`]: the registry of workers, marked offline by the tenant's alarm.
//! - [`subscriptions`]: who listens to the tenant's queue events, pushed to its queues.

pub mod auth_throttle;
pub mod key_store;
pub mod keys;
pub mod protocol;
pub mod rate_limit;
pub mod scope;
pub mod signing;
pub mod store;
pub mod subscriptions;
pub mod workers;

use crate::model::ids::validate_queue_name;
use crate::model::wire::wire_record;
use crate::model::{ApiError, EpochMs, ErrorKind};

/// What the deployment's variables set for every tenant; the tenant actor reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantLimits {
    /// Requests per minute of keys without a `rate_limit` (`DEFAULT_RATE_LIMIT`; `None`: off),
    /// which also bounds what such a key may grant.
    pub default_rate_limit: Option<u32>,
    /// Workers a tenant may have registered (`WORKER_LIMIT`).
    pub worker_limit: u32,
    /// Queues a tenant may have (`QUEUE_LIMIT`).
    pub queue_limit: u32,
}

/// The refusal of a tenant at one of its limits (`kind`, set by the Worker variable
/// `variable`): it has `current` of `resource` and may have `limit`; `remedy` says what frees
/// room. `details` carry the numbers, for clients that branch on them.
pub fn limit_reached(
    kind: ErrorKind,
    resource: &str,
    current: i64,
    limit: u32,
    variable: &str,
    remedy: &str,
) -> ApiError {
    ApiError {
        kind,
        message: format!("this organization has {current} {resource}, its limit ({variable}); {remedy}"),
        details: Some(serde_json::json!({ "resource": resource, "current": current, "limit": limit })),
    }
}

wire_record! {
    /// Who is calling: the tenant and key behind a verified credential.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Principal {
        /// The tenant (organization) id; every actor the request reaches belongs to it.
        pub tenant_id: String,
        /// The API key's id.
        pub key_id: String,
        /// Queues the key may use; empty or containing `"*"` means all.
        pub queues: Vec<String>,
        /// Requests per minute allowed for this key, when limited.
        pub rate_limit: Option<u32>,
        /// When the key stops working (it never changes, so a cached principal honours it).
        pub expires_at: Option<EpochMs>,
    }
}

impl Principal {
    /// Whether the key may act on `queue`.
    pub fn allows_queue(&self, queue: &str) -> bool {
        self.queues.is_empty() || self.queues.iter().any(|q| q == "*" || q == queue)
    }

    /// The queues the key is confined to; `None` when it reaches every queue.
    pub fn scope(&self) -> Option<Vec<String>> {
        (!self.is_unscoped()).then(|| self.queues.clone())
    }

    /// Whether the key reaches every queue (and so may manage keys).
    pub fn is_unscoped(&self) -> bool {
        self.queues.is_empty() || self.queues.iter().any(|q| q == "*")
    }

    /// A validly named queue the key may change (enqueue, claim, configure, purge): 403
    /// `ACCESS_DENIED` otherwise.
    pub fn writable_queue(&self, queue: String) -> Result<String, ApiError> {
        validate_queue_name(&queue)?;
        if !self.allows_queue(&queue) {
            return Err(ApiError::new(
                ErrorKind::AccessDenied,
                format!("API key does not have permission for queue '{queue}'"),
            ));
        }
        Ok(queue)
    }

    /// A validly named queue the key may read: out of scope, it does not exist (404).
    pub fn readable_queue(&self, queue: &str) -> Result<String, ApiError> {
        validate_queue_name(queue)?;
        if !self.allows_queue(queue) {
            return Err(ApiError::not_found("queue"));
        }
        Ok(queue.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_queues(queues: &[&str]) -> Principal {
        Principal {
            tenant_id: "t".into(),
            key_id: "k".into(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
            rate_limit: None,
            expires_at: None,
        }
    }

    #[test]
    fn empty_or_star_scope_allows_every_queue() {
        assert!(with_queues(&[]).allows_queue("any"));
        assert!(with_queues(&["*"]).allows_queue("any"));
    }

    #[test]
    fn listed_queues_only() {
        let p = with_queues(&["a", "b"]);
        assert!(p.allows_queue("a"));
        assert!(!p.allows_queue("c"));
    }
}
