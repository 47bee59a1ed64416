//! The commands the Worker (or a queue actor) sends to a tenant actor.

use super::key_store::{KeyChanges, NewKey};
use super::store::{NewOrganization, Tenant};
use super::workers::{NewWorker, WorkerBeat};
use crate::model::wire::to_json;
use crate::model::{ApiError, EpochMs};
use serde::{Deserialize, Serialize};

/// A successful answer; `api::error` picks its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// 200 with a JSON body.
    Ok(String),
    /// 201 with a JSON body.
    Created(String),
    /// 204 with no body.
    NoContent,
}

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
    /// Add a key.
    CreateKey { key: NewKey },
    /// List keys (no secrets).
    ListKeys,
    /// Read one key.
    GetKey { id: String },
    /// Change a key's name, scope, rate limit or activity.
    UpdateKey { id: String, changes: KeyChanges },
    /// Delete a key for good.
    RevokeKey { id: String },
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
    /// List workers.
    ListWorkers,
}

/// What running a tenant command involves for the actor, beyond the command itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantTraits {
    /// The command may change when the tenant's alarm must run (the next worker to fall
    /// silent).
    pub moves_alarm: bool,
}

impl TenantCommand {
    /// What running this command involves. One exhaustive match: a new command must say.
    pub fn traits(&self) -> TenantTraits {
        let moves_alarm = match self {
            TenantCommand::RegisterWorker { .. }
            | TenantCommand::WorkerHeartbeat { .. }
            | TenantCommand::DeregisterWorker { .. } => true,
            TenantCommand::CreateOrganization { .. }
            | TenantCommand::VerifyKey { .. }
            | TenantCommand::CreateKey { .. }
            | TenantCommand::ListKeys
            | TenantCommand::GetKey { .. }
            | TenantCommand::UpdateKey { .. }
            | TenantCommand::RevokeKey { .. }
            | TenantCommand::RegisterQueue { .. }
            | TenantCommand::UnregisterQueue { .. }
            | TenantCommand::ListQueues
            | TenantCommand::GetWorker { .. }
            | TenantCommand::ListWorkers => false,
        };
        TenantTraits { moves_alarm }
    }

    /// The worker a command acts on, if it acts on one that already exists.
    pub fn worker_id(&self) -> Option<&str> {
        match self {
            TenantCommand::WorkerHeartbeat { id, .. }
            | TenantCommand::DeregisterWorker { id }
            | TenantCommand::GetWorker { id } => Some(id),
            TenantCommand::CreateOrganization { .. }
            | TenantCommand::VerifyKey { .. }
            | TenantCommand::CreateKey { .. }
            | TenantCommand::ListKeys
            | TenantCommand::GetKey { .. }
            | TenantCommand::UpdateKey { .. }
            | TenantCommand::RevokeKey { .. }
            | TenantCommand::RegisterQueue { .. }
            | TenantCommand::UnregisterQueue { .. }
            | TenantCommand::ListQueues
            | TenantCommand::RegisterWorker { .. }
            | TenantCommand::ListWorkers => None,
        }
    }
}

/// Carries out `command` for tenant `tenant_id` at `now`.
pub fn execute(tenant: &Tenant, tenant_id: &str, command: TenantCommand, now: EpochMs) -> Result<Reply, ApiError> {
    Ok(match command {
        TenantCommand::CreateOrganization { organization, key } => {
            Reply::Created(to_json(&tenant.create_organization(&organization, &key, now)?)?)
        }
        TenantCommand::VerifyKey { hash } => Reply::Ok(to_json(&tenant.verify_key(tenant_id, &hash, now)?)?),
        TenantCommand::CreateKey { key } => Reply::Created(to_json(&tenant.create_key(&key, now)?)?),
        TenantCommand::ListKeys => Reply::Ok(to_json(&tenant.list_keys()?)?),
        TenantCommand::GetKey { id } => Reply::Ok(to_json(&tenant.get_key(&id)?)?),
        TenantCommand::UpdateKey { id, changes } => Reply::Ok(to_json(&tenant.update_key(&id, &changes)?)?),
        TenantCommand::RevokeKey { id } => {
            tenant.revoke_key(&id)?;
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
        TenantCommand::RegisterWorker { worker } => Reply::Created(to_json(&tenant.register_worker(&worker, now)?)?),
        TenantCommand::WorkerHeartbeat { id, beat } => Reply::Ok(to_json(&tenant.worker_heartbeat(&id, &beat, now)?)?),
        TenantCommand::DeregisterWorker { id } => {
            Reply::Ok(to_json(&serde_json::json!({ "queue_name": tenant.deregister_worker(&id)? }))?)
        }
        TenantCommand::GetWorker { id } => Reply::Ok(to_json(&tenant.get_worker(&id)?)?),
        TenantCommand::ListWorkers => Reply::Ok(tenant.list_workers()?),
    })
}
