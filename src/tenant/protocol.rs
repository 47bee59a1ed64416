//! The commands the Worker sends to a tenant actor.

use super::store::{NewKey, NewOrganization, Tenant};
use crate::model::{ApiError, EpochMs};
use crate::queue::protocol::Reply;
use crate::queue::render::to_json;
use serde::{Deserialize, Serialize};

/// What travels from the Worker to a tenant actor.
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
}

/// Carries out `command` for tenant `tenant_id` at `now`.
pub fn execute(tenant: &Tenant, tenant_id: &str, command: TenantCommand, now: EpochMs) -> Result<Reply, ApiError> {
    Ok(match command {
        TenantCommand::CreateOrganization { organization, key } => {
            Reply::Created(to_json(&tenant.create_organization(&organization, &key, now)?)?)
        }
        TenantCommand::VerifyKey { hash } => Reply::Ok(to_json(&tenant.verify_key(tenant_id, &hash, now)?)?),
    })
}
