//! API keys in the tenant actor: create, list, read, update, revoke and verify. Only the
//! SHA-256 hash of a key is stored, with its first characters for display.

use super::scope::{Grantor, KeyScope};
use super::store::Tenant;
use super::Principal;
use crate::model::wire::{from_json, to_json, wire_record};
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::queue::sql::Columns;
use crate::queue::{Row, RowExt};
use serde::{Deserialize, Serialize};

wire_record! {
    /// A new API key's stored parts (never the raw key) and its limits.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct NewKey {
        /// Key id.
        pub id: String,
        /// Display name.
        pub name: String,
        /// SHA-256 of the raw key.
        pub hash: String,
        /// First characters of the raw key.
        pub prefix: String,
        /// Queues the key may use; `["*"]` means all (so does an empty list, in keys stored
        /// before a scope had to be named).
        pub queues: Vec<String>,
        /// Requests per minute allowed for this key.
        pub rate_limit: Option<u32>,
        /// When the key stops working.
        pub expires_at: Option<EpochMs>,
    }
}

/// Changes to a key; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyChanges {
    /// New display name.
    pub name: Option<String>,
    /// New queue scope.
    pub queues: Option<Vec<String>>,
    /// New rate limit; `Some(None)` removes it.
    #[serde(default, deserialize_with = "crate::model::wire::present", skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Option<u32>>,
    /// Deactivate (false) or reactivate (true).
    pub is_active: Option<bool>,
}

wire_record! {
    /// A stored key, without its secret (only its first characters, for display).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct KeyRecord {
        /// Key id.
        pub id: String,
        /// Display name.
        pub name: String,
        /// First characters of the raw key.
        pub key_prefix: String,
        /// Queues the key may use; empty or `"*"` means all.
        pub queues: Vec<String>,
        /// Requests per minute allowed for this key.
        pub rate_limit: Option<i64>,
        /// Whether the key works (false once deactivated).
        pub is_active: bool,
        /// When it was created.
        pub created_at: EpochMs,
        /// When it last authenticated a request.
        pub last_used: Option<EpochMs>,
        /// When it stops working.
        pub expires_at: Option<EpochMs>,
    }
}

const KEY_COLUMNS: &str = "id, name, key_prefix, queues, rate_limit, is_active, created_at, last_used, expires_at";

impl KeyRecord {
    /// Reads a row selected with `KEY_COLUMNS`.
    fn read(row: Row) -> Result<Self, ApiError> {
        let mut c = Columns::new(row);
        let (id, name, key_prefix, queues) = (c.text(), c.text(), c.text(), c.text());
        let (rate_limit, is_active, created_at) = (c.opt_int(), c.int() != 0, c.int());
        let (last_used, expires_at) = (c.opt_int(), c.opt_int());
        c.finish()?;
        let mut queues: Vec<String> = from_json(&queues, "stored key scope")?;
        if queues.is_empty() {
            // Keys made before every key named its queues reach every queue: say so as `["*"]`,
            // since an empty list is refused on the way in.
            queues.push("*".into());
        }
        Ok(KeyRecord { id, name, key_prefix, queues, rate_limit, is_active, created_at, last_used, expires_at })
    }
}

fn key_not_found() -> ApiError {
    ApiError::not_found("API key")
}

/// A stored key's scope fields, before the grantor's default rate limit is applied.
struct StoredScope {
    queues: Vec<String>,
    rate_limit: Option<u32>,
    expires_at: Option<EpochMs>,
}

impl StoredScope {
    fn scope(&self, grantor: &Grantor) -> KeyScope {
        KeyScope::of(&self.queues, self.rate_limit, self.expires_at, grantor)
    }
}

impl Tenant<'_> {
    /// Stores a key.
    pub fn insert_key(&self, key: &NewKey, now: EpochMs) -> Result<(), ApiError> {
        self.sql.query(
            "INSERT INTO api_keys (id, name, key_hash, key_prefix, queues, rate_limit, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &[
                key.id.as_str().into(),
                key.name.as_str().into(),
                key.hash.as_str().into(),
                key.prefix.as_str().into(),
                to_json(&key.queues)?.into(),
                key.rate_limit.into(),
                now.into(),
                key.expires_at.into(),
            ],
        )?;
        Ok(())
    }

    /// Creates a key for an existing organization; returns it. The key stays within its
    /// grantor's scope: a rate limit or expiry the request leaves open is the grantor's own
    /// when the default would reach further, and a wider scope is 403.
    pub fn create_key(&self, key: &NewKey, grantor: Grantor, now: EpochMs) -> Result<KeyRecord, ApiError> {
        let mine = self.grantor_scope(grantor)?;
        let mut key = key.clone();
        let default_is_wider = |own: u32| grantor.default_rate_limit.is_none_or(|default| default > own);
        if key.rate_limit.is_none() && mine.rate_limit.is_some_and(default_is_wider) {
            key.rate_limit = mine.rate_limit;
        }
        key.expires_at = key.expires_at.or(mine.expires_at);
        mine.covers(&KeyScope::of(&key.queues, key.rate_limit, key.expires_at, &grantor))?;
        self.insert_key(&key, now)?;
        self.get_key(&key.id)
    }

    /// A key's scope fields; `None` when there is no such key.
    fn stored_scope(&self, id: &str) -> Result<Option<StoredScope>, ApiError> {
        let row =
            self.sql.query_one("SELECT queues, rate_limit, expires_at FROM api_keys WHERE id = ?1", &[id.into()])?;
        row.map(|row| {
            Ok(StoredScope {
                queues: from_json(row.text(0)?, "stored key scope")?,
                rate_limit: row.opt_int(1)?.and_then(|v| u32::try_from(v).ok()),
                expires_at: row.opt_int(2)?,
            })
        })
        .transpose()
    }

    /// The acting key's scope, from its stored record; 401 when it is gone (revoked while an
    /// isolate still trusted it).
    fn grantor_scope(&self, grantor: Grantor) -> Result<KeyScope, ApiError> {
        let stored = self.stored_scope(grantor.key_id)?;
        Ok(stored.ok_or_else(|| ApiError::new(ErrorKind::Unauthorized, "Invalid API key"))?.scope(&grantor))
    }

    /// Every key, oldest first.
    pub fn list_keys(&self) -> Result<Vec<KeyRecord>, ApiError> {
        let rows = self.sql.query(&format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"), &[])?;
        rows.into_iter().map(KeyRecord::read).collect()
    }

    /// One key, or 404.
    pub fn get_key(&self, id: &str) -> Result<KeyRecord, ApiError> {
        let row = self.sql.query_one(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"), &[id.into()])?;
        KeyRecord::read(row.ok_or_else(key_not_found)?)
    }

    /// Applies `changes` to a key; returns it. The key as changed must stay within the
    /// grantor's scope (403 otherwise, nothing changed).
    pub fn update_key(&self, id: &str, changes: &KeyChanges, grantor: Grantor) -> Result<KeyRecord, ApiError> {
        let mine = self.grantor_scope(grantor)?;
        let target = self.stored_scope(id)?.ok_or_else(key_not_found)?;
        let queues = changes.queues.as_ref().unwrap_or(&target.queues);
        let rate_limit = changes.rate_limit.unwrap_or(target.rate_limit);
        mine.covers(&KeyScope::of(queues, rate_limit, target.expires_at, &grantor))?;
        let queues = changes.queues.as_ref().map(to_json).transpose()?;
        let rows = self.sql.query(
            "UPDATE api_keys SET name = coalesce(?2, name), queues = coalesce(?3, queues), \
             rate_limit = CASE WHEN ?4 THEN ?5 ELSE rate_limit END, is_active = coalesce(?6, is_active) \
             WHERE id = ?1 RETURNING id",
            &[
                id.into(),
                changes.name.clone().into(),
                queues.into(),
                i64::from(changes.rate_limit.is_some()).into(),
                changes.rate_limit.flatten().into(),
                changes.is_active.map(i64::from).into(),
            ],
        )?;
        if rows.is_empty() {
            return Err(key_not_found());
        }
        self.get_key(id)
    }

    /// Deletes a key for good; 404 when unknown, 403 when it reaches further than the grantor.
    pub fn revoke_key(&self, id: &str, grantor: Grantor) -> Result<(), ApiError> {
        let mine = self.grantor_scope(grantor)?;
        mine.covers(&self.stored_scope(id)?.ok_or_else(key_not_found)?.scope(&grantor))?;
        let rows = self.sql.query("DELETE FROM api_keys WHERE id = ?1 RETURNING id", &[id.into()])?;
        if rows.is_empty() {
            return Err(key_not_found());
        }
        Ok(())
    }

    /// Finds the active, unexpired key with this hash and records its use; 401 otherwise.
    pub fn verify_key(&self, tenant_id: &str, hash: &str, now: EpochMs) -> Result<Principal, ApiError> {
        let row = self
            .sql
            .query_one(
                "UPDATE api_keys SET last_used = ?2 WHERE key_hash = ?1 AND is_active = 1 \
                 AND (expires_at IS NULL OR expires_at > ?2) RETURNING id, queues, rate_limit, expires_at",
                &[hash.into(), now.into()],
            )?
            .ok_or_else(|| ApiError::new(ErrorKind::Unauthorized, "Invalid API key"))?;
        let queues: Vec<String> = from_json(row.text(1)?, "stored key scope")?;
        Ok(Principal {
            tenant_id: tenant_id.to_owned(),
            key_id: row.text(0)?.to_owned(),
            queues,
            rate_limit: row.opt_int(2)?.and_then(|v| u32::try_from(v).ok()),
            expires_at: row.opt_int(3)?,
        })
    }
}
