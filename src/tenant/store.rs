//! The tenant actor's tables and operations: the organization record and its API keys.

use super::Principal;
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::queue::render::timestamp;
use crate::queue::{RowExt, Sql};
use serde::{Deserialize, Serialize};
use serde_json::json;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS organization (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL, plan_tier TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    // Keys are stored only as SHA-256 hashes; `queues` is a JSON array of queue names.
    "CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
        key_prefix TEXT NOT NULL, queues TEXT NOT NULL DEFAULT '[]', rate_limit INTEGER,
        is_active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, last_used INTEGER,
        expires_at INTEGER)",
];

/// Plan tier recorded for every organization (edgespool has no billing tiers).
pub const PLAN_TIER: &str = "enterprise";

/// A new organization, as the Worker minted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrganization {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL-friendly name.
    pub slug: String,
}

/// A new API key's stored parts (never the raw key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    /// Key id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the raw key.
    pub hash: String,
    /// First characters of the raw key.
    pub prefix: String,
}

/// One tenant's storage.
pub struct Tenant<'a> {
    /// The tenant actor's SQLite database.
    pub sql: &'a dyn Sql,
}

impl Tenant<'_> {
    /// Creates the tables if needed.
    pub fn migrate(&self) -> Result<(), ApiError> {
        SCHEMA.iter().try_for_each(|s| self.sql.query(s, &[]).map(drop))
    }

    /// Records the organization and its first key; returns `{organization, api_key}` without
    /// the raw key (the Worker adds it). Creating the same organization twice is a conflict.
    pub fn create_organization(&self, org: &NewOrganization, key: &NewKey, now: EpochMs) -> Result<serde_json::Value, ApiError> {
        if self.sql.query_one("SELECT id FROM organization", &[])?.is_some() {
            return Err(ApiError::conflict("organization already exists"));
        }
        self.sql.query(
            "INSERT INTO organization (id, name, slug, plan_tier, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            &[org.id.as_str().into(), org.name.as_str().into(), org.slug.as_str().into(), PLAN_TIER.into(), now.into()],
        )?;
        self.insert_key(key, now)?;
        let created = timestamp(now);
        Ok(json!({
            "organization": {
                "id": org.id, "name": org.name, "slug": org.slug, "plan_tier": PLAN_TIER,
                "created_at": created, "updated_at": created,
            },
            "api_key": { "id": key.id, "name": key.name, "created_at": created },
        }))
    }

    fn insert_key(&self, key: &NewKey, now: EpochMs) -> Result<(), ApiError> {
        self.sql.query(
            "INSERT INTO api_keys (id, name, key_hash, key_prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[key.id.as_str().into(), key.name.as_str().into(), key.hash.as_str().into(), key.prefix.as_str().into(), now.into()],
        )?;
        Ok(())
    }

    /// Finds the active, unexpired key with this hash; 401 otherwise.
    pub fn verify_key(&self, tenant_id: &str, hash: &str, now: EpochMs) -> Result<Principal, ApiError> {
        let row = self
            .sql
            .query_one(
                "UPDATE api_keys SET last_used = ?2 WHERE key_hash = ?1 AND is_active = 1 \
                 AND (expires_at IS NULL OR expires_at > ?2) RETURNING id, queues, rate_limit",
                &[hash.into(), now.into()],
            )?
            .ok_or_else(|| ApiError::new(ErrorKind::Unauthorized, "Invalid API key"))?;
        let queues: Vec<String> =
            serde_json::from_str(row.text(1)?).map_err(|_| ApiError::internal("stored key scope is corrupt"))?;
        Ok(Principal {
            tenant_id: tenant_id.to_owned(),
            key_id: row.text(0)?.to_owned(),
            queues,
            rate_limit: row.opt_int(2)?.and_then(|v| u32::try_from(v).ok()),
        })
    }
}


