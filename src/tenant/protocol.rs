//! The commands the Worker (or a queue actor) sends to a tenant actor, and what it answers.

use super::key_store::{KeyChanges, KeyRecord, NewKey};
use super::scope::Grantor;
use super::store::{CreatedOrganization, NewOrganization, QueuePage, Tenant};
use super::subscriptions::Subscriptions;
use super::workers::{NewWorker, WorkerBeat, WorkerPage, WorkerRecord};
use super::{Principal, TenantLimits};
use crate::model::wire::wire_record;
use crate::model::{ApiError, EpochMs, EventKind};
use serde::{Deserialize, Serialize};

/// What a tenant actor answers when a command succeeds; a failed command answers an
/// [`ApiError`] instead. Like queue replies, these are records, which `api::views` renders.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantReply {
    /// `CreateOrganization`: the organization and its first key.
    Organization(CreatedOrganization),
    /// `VerifyKey`: who the key speaks for.
    Principal(Principal),
    /// `CreateKey`, `GetKey` and `UpdateKey`: the key, without its secret.
    Key(KeyRecord),
    /// `ListKeys`: every key, oldest first.
    Keys(Vec<KeyRecord>),
    /// `ListQueues`: one page of the catalog's queue names, and whether more follow.
    Queues(Vec<String>, bool),
    /// `RegisterWorker` and `GetWorker`: the worker.
    Worker(WorkerRecord),
    /// `ListWorkers`: one page of workers, without their metadata, and whether more follow.
    Workers(Vec<WorkerRecord>, bool),
    /// `WorkerHeartbeat`: recorded.
    HeartbeatRecorded,
    /// `DeregisterWorker`: the queue the worker worked on, whose leases it still holds.
    Deregistered(String),
    /// `RegisterQueue`: the subscriptions the queue must apply.
    Registered(Subscriptions),
    /// `SetConsumer`: the subscriptions now in force, and every catalogued queue (to push
    /// them to).
    Subscribed(Subscriptions, Vec<String>),
    /// `RevokeKey` and `UnregisterQueue`: done, with nothing to say.
    Done,
}

wire_record! {
    /// What travels to a tenant actor.
    #[derive(Debug)]
    pub struct TenantEnvelope {
        /// The tenant id (the actor's name).
        pub tenant: String,
        /// What to do.
        pub command: TenantCommand,
    }
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
    /// Set the event kinds consumer `name` wants from every queue (none: it stops listening).
    SetConsumer { name: String, kinds: Vec<EventKind> },
    /// Drop a deleted queue from the catalog.
    UnregisterQueue { queue: String },
    /// List one page of the catalog's queue names by name, as (queues, after, limit): only
    /// those of the queues (`None`: every queue), named after `after`.
    ListQueues(Option<Vec<String>>, Option<String>, u32),
    /// Register (or re-register) a worker.
    RegisterWorker { worker: NewWorker },
    /// Record a worker's heartbeat.
    WorkerHeartbeat { id: String, beat: WorkerBeat },
    /// Remove a worker; replies with its queue, so its leases can be released.
    DeregisterWorker { id: String },
    /// Read one worker.
    GetWorker { id: String },
    /// List a page of workers in id order, as (queues, limit, offset): only those of the
    /// queues (`None`: every queue).
    ListWorkers(Option<Vec<String>>, u32, u32),
}

/// What running a tenant command involves, beyond the command itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantTraits<'a> {
    /// The command may change when the tenant's alarm must run (the next worker to fall
    /// silent).
    pub moves_alarm: bool,
    /// The registered worker the command acts on (whose queue a scoped key must reach).
    pub worker: Option<&'a str>,
    /// The command creates the tenant, so its tables must exist first; every other command
    /// finds a tenant that was never created empty, and stores nothing there.
    pub creates_tenant: bool,
}

impl TenantCommand {
    /// What running this command involves. One exhaustive match: a new command must say.
    pub fn traits(&self) -> TenantTraits<'_> {
        let (moves_alarm, worker, creates_tenant) = match self {
            TenantCommand::CreateOrganization { .. } => (false, None, true),
            TenantCommand::RegisterWorker { .. } => (true, None, false),
            TenantCommand::WorkerHeartbeat { id, .. } | TenantCommand::DeregisterWorker { id } => {
                (true, Some(id), false)
            }
            TenantCommand::GetWorker { id } => (false, Some(id), false),
            TenantCommand::VerifyKey { .. }
            | TenantCommand::CreateKey { .. }
            | TenantCommand::ListKeys
            | TenantCommand::GetKey { .. }
            | TenantCommand::UpdateKey { .. }
            | TenantCommand::RevokeKey { .. }
            | TenantCommand::RegisterQueue { .. }
            | TenantCommand::SetConsumer { .. }
            | TenantCommand::UnregisterQueue { .. }
            | TenantCommand::ListQueues(..)
            | TenantCommand::ListWorkers(..) => (false, None, false),
        };
        TenantTraits { moves_alarm, worker: worker.map(String::as_str), creates_tenant }
    }
}

/// Carries out `command` for tenant `tenant_id` at `now`, within the deployment's `limits`.
pub fn execute(
    tenant: &Tenant,
    tenant_id: &str,
    command: TenantCommand,
    now: EpochMs,
    limits: &TenantLimits,
) -> Result<TenantReply, ApiError> {
    let grantor = |key_id| Grantor { key_id, default_rate_limit: limits.default_rate_limit };
    Ok(match command {
        TenantCommand::CreateOrganization { organization, key } => {
            TenantReply::Organization(tenant.create_organization(&organization, &key, now)?)
        }
        TenantCommand::VerifyKey { hash } => TenantReply::Principal(tenant.verify_key(tenant_id, &hash, now)?),
        TenantCommand::CreateKey { key, by } => TenantReply::Key(tenant.create_key(&key, grantor(&by), now)?),
        TenantCommand::ListKeys => TenantReply::Keys(tenant.list_keys()?),
        TenantCommand::GetKey { id } => TenantReply::Key(tenant.get_key(&id)?),
        TenantCommand::UpdateKey { id, changes, by } => {
            TenantReply::Key(tenant.update_key(&id, &changes, grantor(&by))?)
        }
        TenantCommand::RevokeKey { id, by } => {
            tenant.revoke_key(&id, grantor(&by))?;
            TenantReply::Done
        }
        TenantCommand::RegisterQueue { queue } => {
            tenant.register_queue(&queue, limits.queue_limit, now)?;
            TenantReply::Registered(tenant.subscriptions()?)
        }
        TenantCommand::SetConsumer { name, kinds } => {
            let subscriptions = tenant.set_consumer(&name, &kinds)?;
            TenantReply::Subscribed(subscriptions, tenant.queue_names()?)
        }
        TenantCommand::UnregisterQueue { queue } => {
            tenant.unregister_queue(&queue)?;
            TenantReply::Done
        }
        TenantCommand::ListQueues(queues, after, limit) => {
            let (names, has_more) = tenant.queue_page(&QueuePage { queues, after, limit })?;
            TenantReply::Queues(names, has_more)
        }
        TenantCommand::RegisterWorker { worker } => {
            TenantReply::Worker(tenant.register_worker(&worker, limits.worker_limit, now)?)
        }
        TenantCommand::WorkerHeartbeat { id, beat } => {
            tenant.worker_heartbeat(&id, &beat, now)?;
            TenantReply::HeartbeatRecorded
        }
        TenantCommand::DeregisterWorker { id } => TenantReply::Deregistered(tenant.deregister_worker(&id)?),
        TenantCommand::GetWorker { id } => TenantReply::Worker(tenant.get_worker(&id)?),
        TenantCommand::ListWorkers(queues, limit, offset) => {
            let (workers, has_more) = tenant.list_workers(&WorkerPage { queues, limit, offset })?;
            TenantReply::Workers(workers, has_more)
        }
    })
}
