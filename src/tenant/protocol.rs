//! The commands the Worker (or a queue actor) sends to a tenant actor.

use super::key_store::{KeyChanges, NewKey};
use super::scope::Grantor;
use super::store::{NewOrganization, Tenant};
use super::workers::{NewWorker, WorkerBeat, WorkerPage};
use super::TenantLimits;
use crate::model::{ApiError, EpochMs};
use crate::queue::protocol::Reply;
use crate::queue::render::to_json;
use serde::{Deserialize, Serialize};

/// What travels to a tenant actor.
#[derive(Debug, Serialize, Deserialize)]
pub struct TenantEnvelope {
    /// The tenant id (the actor's name).
    pub tenant: String,
    /// What to do.
    pub command: TenantCommand,
}

/// One operation on one tenant.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantCommand {
    /// Create the organization with its first key.
    CreateOrganization { organization: NewOrganization, key: NewKey },
    /// Check a key hash; replies with the [`Principal`](super::Principal).
    VerifyKey { hash: String },
    /// Add a key, within the scope of the key `by` (its id).
    CreateKey { key: NewKey, by: String },
    /// List keys (no secrets).
    ListKeys,
    /// Read one key.
    GetKey { id: String },
    /// Change a key's name, scope, rate limit or activity, within the scope of the key `by`.
    UpdateKey { id: String, changes: KeyChanges, by: String },
    /// Delete a key for good (one within the scope of the key `by`).
    RevokeKey { id: String, by: String },
    /// Record a queue in the catalog (sent by a queue actor before its first job).
    RegisterQueue { queue: String },
    /// Drop a deleted queue from the catalog.
    UnregisterQueue { queue: String },
    /// List the catalog's queue names.
    ListQueues,
    /// Register (or re-register) a worker.
    RegisterWorker { worker: NewWorker },
    /// Record a worker's heartbeat.
    WorkerHeartbeat { id: String, beat: WorkerBeat },
    /// Remove a worker; replies `{queue_name}` so its leases can be released.
    DeregisterWorker { id: String },
    /// Read one worker.
    GetWorker { id: String },
    /// List a page of workers in id order, as (queues, limit, offset): only those of the
    /// queues (`None`: every queue); replies `{workers, has_more}`.
    ListWorkers(Option<Vec<String>>, u32, u32),
}

impl TenantCommand {
    /// The worker a command acts on, if it acts on one that already exists.
    pub fn worker_id(&self) -> Option<&str> {
        match self {
            TenantCommand::WorkerHeartbeat { id, .. }
            | TenantCommand::DeregisterWorker { id }
            | TenantCommand::GetWorker { id } => Some(id),
            _ => None,
        }
    }

    /// Whether the command may change when the tenant's alarm must run.
    pub fn moves_alarm(&self) -> bool {
        matches!(
            self,
            TenantCommand::RegisterWorker { .. }
                | TenantCommand::WorkerHeartbeat { .. }
                | TenantCommand::DeregisterWorker { .. }
        )
    }
}

/// Carries out `command` for tenant `tenant_id` at `now`, within the deployment's `limits`.
pub fn execute(
    tenant: &Tenant,
    tenant_id: &str,
    command: TenantCommand,
    now: EpochMs,
    limits: &TenantLimits,
) -> Result<Reply, ApiError> {
    let grantor = |key_id| Grantor { key_id, default_rate_limit: limits.default_rate_limit };
    Ok(match command {
        TenantCommand::CreateOrganization { organization, key } => {
            Reply::Created(to_json(&tenant.create_organization(&organization, &key, now)?)?)
        }
        TenantCommand::VerifyKey { hash } => Reply::Ok(to_json(&tenant.verify_key(tenant_id, &hash, now)?)?),
        TenantCommand::CreateKey { key, by } => {
            Reply::Created(to_json(&tenant.create_key(&key, grantor(&by), now)?)?)
        }
        TenantCommand::ListKeys => Reply::Ok(to_json(&tenant.list_keys()?)?),
        TenantCommand::GetKey { id } => Reply::Ok(to_json(&tenant.get_key(&id)?)?),
        TenantCommand::UpdateKey { id, changes, by } => {
            Reply::Ok(to_json(&tenant.update_key(&id, &changes, grantor(&by))?)?)
        }
        TenantCommand::RevokeKey { id, by } => {
            tenant.revoke_key(&id, grantor(&by))?;
            Reply::NoContent
        }
        TenantCommand::RegisterQueue { queue } => {
            tenant.register_queue(&queue, now)?;
            Reply::NoContent
        }
        TenantCommand::UnregisterQueue { queue } => {
            tenant.unregister_queue(&queue)?;
            Reply::NoContent
        }
        TenantCommand::ListQueues => Reply::Ok(to_json(&tenant.queue_names()?)?),
        TenantCommand::RegisterWorker { worker } => {
            Reply::Created(tenant.register_worker(&worker, limits.worker_limit, now)?)
        }
        TenantCommand::WorkerHeartbeat { id, beat } => Reply::Ok(to_json(&tenant.worker_heartbeat(&id, &beat, now)?)?),
        TenantCommand::DeregisterWorker { id } => {
            Reply::Ok(to_json(&serde_json::json!({ "queue_name": tenant.deregister_worker(&id)? }))?)
        }
        TenantCommand::GetWorker { id } => Reply::Ok(tenant.get_worker(&id)?),
        TenantCommand::ListWorkers(queues, limit, offset) => {
            Reply::Ok(tenant.list_workers(&WorkerPage { queues, limit, offset })?)
        }
    })
}
