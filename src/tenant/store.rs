//! The tenant actor's tables, its organization record and its catalog of queues. Keys are
//! in [`key_store`](super::key_store).

use super::key_store::NewKey;
use super::limit_reached;
use crate::model::wire::{to_json, wire_record};
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::queue::{RowExt, Sql};

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
    // The catalog of this tenant's queues, recorded when a queue is first used.
    "CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
    // Registered workers (see `workers`); the alarm marks silent ones offline.
    "CREATE TABLE IF NOT EXISTS workers (
        id TEXT PRIMARY KEY, queue_name TEXT NOT NULL, hostname TEXT NOT NULL, worker_type TEXT,
        max_concurrency INTEGER NOT NULL, metadata TEXT, version TEXT, status TEXT NOT NULL,
        current_jobs INTEGER NOT NULL DEFAULT 0, last_heartbeat INTEGER NOT NULL,
        registered_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS workers_seen ON workers (status, last_heartbeat)",
];

/// Plan tier recorded for every organization (edgespool has no billing tiers).
pub const PLAN_TIER: &str = "enterprise";
/// Queues a tenant may have at once, unless the `QUEUE_LIMIT` variable says otherwise.
pub const DEFAULT_QUEUE_LIMIT: u32 = 1_000;

wire_record! {
    /// A new organization, as the Worker minted it.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct NewOrganization {
        /// Tenant id.
        pub id: String,
        /// Display name.
        pub name: String,
        /// URL-friendly name.
        pub slug: String,
    }
}

wire_record! {
    /// A newly created organization and its first key (never the raw key, which the Worker
    /// alone has seen).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct CreatedOrganization {
        /// The organization as stored.
        pub organization: NewOrganization,
        /// The first key's id.
        pub key_id: String,
        /// The first key's name.
        pub key_name: String,
        /// When both were created.
        pub created_at: EpochMs,
    }
}

/// One tenant's storage.
pub struct Tenant<'a> {
    /// The tenant actor's SQLite database.
    pub sql: &'a dyn Sql,
}

impl Tenant<'_> {
    /// Whether the tables exist: only creating the organization makes them, so a key naming a
    /// tenant that was never created finds no tables and stores none.
    pub fn exists(&self) -> Result<bool, ApiError> {
        let found =
            self.sql.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'", &[])?;
        Ok(found.is_some())
    }

    /// Creates the tables if needed.
    pub fn migrate(&self) -> Result<(), ApiError> {
        SCHEMA.iter().chain(super::subscriptions::SCHEMA).try_for_each(|s| self.sql.query(s, &[]).map(drop))
    }

    /// Records the organization and its first key. Creating the same organization twice is a
    /// conflict.
    pub fn create_organization(
        &self,
        org: &NewOrganization,
        key: &NewKey,
        now: EpochMs,
    ) -> Result<CreatedOrganization, ApiError> {
        if self.sql.query_one("SELECT id FROM organization", &[])?.is_some() {
            return Err(ApiError::conflict("organization already exists"));
        }
        self.sql.query(
            "INSERT INTO organization (id, name, slug, plan_tier, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            &[org.id.as_str().into(), org.name.as_str().into(), org.slug.as_str().into(), PLAN_TIER.into(), now.into()],
        )?;
        self.insert_key(key, now)?;
        Ok(CreatedOrganization {
            organization: org.clone(),
            key_id: key.id.clone(),
            key_name: key.name.clone(),
            created_at: now,
        })
    }

    /// Records `queue` in the catalog (once; later calls change nothing). A new queue past
    /// `limit` is refused with 429 `QUEUE_LIMIT`, before the queue stores anything; a queue
    /// already catalogued always passes, so lowering the limit never locks out queues in use.
    pub fn register_queue(&self, queue: &str, limit: u32, now: EpochMs) -> Result<(), ApiError> {
        if self.sql.query_one("SELECT 1 FROM queues WHERE name = ?1", &[queue.into()])?.is_some() {
            return Ok(());
        }
        let count = self.sql.query_one("SELECT count(*) FROM queues", &[])?.map_or(Ok(0), |r| r.int(0))?;
        if count >= i64::from(limit) {
            let remedy = "delete a queue first";
            return Err(limit_reached(ErrorKind::QueueLimit, "queues", count, limit, "QUEUE_LIMIT", remedy));
        }
        self.sql.query("INSERT INTO queues (name, created_at) VALUES (?1, ?2)", &[queue.into(), now.into()])?;
        Ok(())
    }

    /// Drops `queue` from the catalog (after the queue was deleted), freeing its place.
    pub fn unregister_queue(&self, queue: &str) -> Result<(), ApiError> {
        self.sql.query("DELETE FROM queues WHERE name = ?1", &[queue.into()])?;
        Ok(())
    }

    /// Every catalogued queue, by name.
    pub fn queue_names(&self) -> Result<Vec<String>, ApiError> {
        let rows = self.sql.query("SELECT name FROM queues ORDER BY name", &[])?;
        rows.iter().map(|row| row.text(0).map(str::to_owned)).collect()
    }

    /// One page of the catalog, by name: at most `page.limit` queues of `page.queues`
    /// (`None`: every queue) named after `page.after`, and whether more follow.
    pub fn queue_page(&self, page: &QueuePage) -> Result<(Vec<String>, bool), ApiError> {
        let scope = page.queues.as_ref().map(to_json).transpose()?;
        let rows = self.sql.query(
            "SELECT name FROM queues WHERE (?1 IS NULL OR name IN (SELECT value FROM json_each(?1))) \
             AND name > coalesce(?2, '') ORDER BY name LIMIT ?3",
            &[scope.into(), page.after.clone().into(), (page.limit + 1).into()],
        )?;
        let has_more = rows.len() > page.limit as usize;
        let names = rows.iter().take(page.limit as usize).map(|row| row.text(0).map(str::to_owned));
        Ok((names.collect::<Result<_, _>>()?, has_more))
    }
}

/// One page of the queue catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuePage {
    /// Only these queues (the key's scope); `None`: every queue.
    pub queues: Option<Vec<String>>,
    /// Only queues named after this one (where the previous page ended).
    pub after: Option<String>,
    /// Queues per page.
    pub limit: u32,
}
