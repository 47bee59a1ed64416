//! The tenant's outgoing webhooks: create, list, read, update, delete, and which event kinds
//! the queues must record for them. The secret is stored to sign deliveries and never read
//! back out.

use super::Deliveries;
use crate::model::wire::{from_json, to_json, wire_record};
use crate::model::{ApiError, EpochMs, ErrorKind, EventKind};
use crate::queue::sql::Columns;
use crate::queue::{Row, RowExt};
use crate::tenant::limit_reached;
use serde::{Deserialize, Serialize};

/// Enabled webhooks a tenant may have, unless the `WEBHOOK_LIMIT` variable says otherwise.
pub const DEFAULT_WEBHOOK_LIMIT: u32 = 20;
/// Consecutive failed deliveries after which a webhook is disabled.
pub const AUTO_DISABLE_AFTER: i64 = 20;

/// `last_status` after a successful attempt.
pub const LAST_SUCCESS: &str = "success";
/// `last_status` after a failed attempt.
pub const LAST_FAILED: &str = "failed";
/// `last_status` of a webhook disabled by [`AUTO_DISABLE_AFTER`] failed deliveries.
pub const LAST_AUTO_DISABLED: &str = "auto_disabled";

wire_record! {
    /// A webhook to create, as the Worker validated it (id and secret minted there).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct NewWebhook {
        /// Webhook id (UUID v4).
        pub id: String,
        /// Display name.
        pub name: String,
        /// Where deliveries go (already checked against the URL rules).
        pub url: String,
        /// The events it receives.
        pub events: Vec<EventKind>,
        /// Signs every delivery.
        pub secret: String,
        /// Whether deliveries are made.
        pub enabled: bool,
        /// The body format (`json`).
        pub format: String,
    }
}

/// Changes to a webhook; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookChanges {
    /// New display name.
    pub name: Option<String>,
    /// New target (already checked).
    pub url: Option<String>,
    /// New event list.
    pub events: Option<Vec<EventKind>>,
    /// New secret; empty clears it (deliveries go out unsigned).
    pub secret: Option<String>,
    /// Enable or disable (enabling resets the failure count).
    pub enabled: Option<bool>,
    /// New body format.
    pub format: Option<String>,
}

wire_record! {
    /// A webhook as stored, without its secret.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct WebhookRecord {
        /// Webhook id.
        pub id: String,
        /// Display name.
        pub name: String,
        /// Where deliveries go.
        pub url: String,
        /// The events it receives.
        pub events: Vec<EventKind>,
        /// Whether deliveries are made.
        pub enabled: bool,
        /// The body format.
        pub format: String,
        /// Consecutive failed deliveries.
        pub failure_count: i64,
        /// The last attempt.
        pub last_triggered_at: Option<EpochMs>,
        /// `success`, `failed` or `auto_disabled` after the last attempt.
        pub last_status: Option<String>,
        /// When it was created.
        pub created_at: EpochMs,
        /// When it last changed.
        pub updated_at: EpochMs,
    }
}

const COLUMNS: &str = "id, name, url, events, enabled, format, failure_count, last_triggered_at, last_status, \
    created_at, updated_at";

fn read_webhook(row: Row) -> Result<WebhookRecord, ApiError> {
    let mut c = Columns::new(row);
    let (id, name, url, events, enabled, format) = (c.text(), c.text(), c.text(), c.text(), c.int(), c.text());
    let (failure_count, last_triggered_at, last_status) = (c.int(), c.opt_int(), c.opt_text());
    let (created_at, updated_at) = (c.int(), c.int());
    c.finish()?;
    let events = from_json(&events, "stored webhook events")?;
    let enabled = enabled != 0;
    Ok(WebhookRecord {
        id,
        name,
        url,
        events,
        enabled,
        format,
        failure_count,
        last_triggered_at,
        last_status,
        created_at,
        updated_at,
    })
}

impl Deliveries<'_> {
    /// Stores a new webhook; refused past `limit` enabled webhooks.
    pub fn create_webhook(&self, new: &NewWebhook, limit: u32, now: EpochMs) -> Result<WebhookRecord, ApiError> {
        if new.enabled {
            self.check_enabled_limit(limit)?;
        }
        self.sql.query(
            "INSERT INTO webhooks (id, name, url, events, secret, enabled, format, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            &[
                new.id.as_str().into(),
                new.name.as_str().into(),
                new.url.as_str().into(),
                to_json(&new.events)?.into(),
                new.secret.as_str().into(),
                i64::from(new.enabled).into(),
                new.format.as_str().into(),
                now.into(),
            ],
        )?;
        self.webhook(&new.id)
    }

    /// Every webhook, newest first.
    pub fn list_webhooks(&self) -> Result<Vec<WebhookRecord>, ApiError> {
        let rows = self.sql.query(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at DESC, id"), &[])?;
        rows.into_iter().map(read_webhook).collect()
    }

    /// One webhook.
    pub fn webhook(&self, id: &str) -> Result<WebhookRecord, ApiError> {
        let row = self.sql.query_one(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"), &[id.into()])?;
        row.map(read_webhook).transpose()?.ok_or_else(|| ApiError::not_found("Webhook"))
    }

    /// The secret that signs `id`'s deliveries.
    pub fn secret(&self, id: &str) -> Result<String, ApiError> {
        let row = self.sql.query_one("SELECT secret FROM webhooks WHERE id = ?1", &[id.into()])?;
        let mut c = Columns::new(row.ok_or_else(|| ApiError::not_found("Webhook"))?);
        let secret = c.text();
        c.finish()?;
        Ok(secret)
    }

    /// Applies `changes`; enabling a disabled webhook counts toward `limit` and starts its
    /// failure count afresh.
    pub fn update_webhook(
        &self,
        id: &str,
        changes: &WebhookChanges,
        limit: u32,
        now: EpochMs,
    ) -> Result<WebhookRecord, ApiError> {
        let current = self.webhook(id)?;
        let enabling = changes.enabled == Some(true) && !current.enabled;
        if enabling {
            self.check_enabled_limit(limit)?;
        }
        let events = changes.events.as_ref().map(to_json).transpose()?;
        self.sql.query(
            "UPDATE webhooks SET name = coalesce(?2, name), url = coalesce(?3, url), events = coalesce(?4, events), \
             secret = coalesce(?5, secret), enabled = coalesce(?6, enabled), format = coalesce(?7, format), \
             failure_count = CASE WHEN ?8 THEN 0 ELSE failure_count END, updated_at = ?9 WHERE id = ?1",
            &[
                id.into(),
                changes.name.clone().into(),
                changes.url.clone().into(),
                events.into(),
                changes.secret.clone().into(),
                changes.enabled.map(i64::from).into(),
                changes.format.clone().into(),
                i64::from(enabling).into(),
                now.into(),
            ],
        )?;
        self.webhook(id)
    }

    /// Deletes a webhook and its deliveries.
    pub fn delete_webhook(&self, id: &str) -> Result<(), ApiError> {
        self.webhook(id)?;
        self.sql.query("DELETE FROM deliveries WHERE webhook_id = ?1", &[id.into()])?;
        self.sql.query("DELETE FROM webhooks WHERE id = ?1", &[id.into()]).map(drop)
    }

    /// The event kinds some enabled webhook wants: what the queues must record.
    pub fn subscribed_kinds(&self) -> Result<Vec<EventKind>, ApiError> {
        if !self.exists()? {
            return Ok(Vec::new());
        }
        let rows = self.sql.query(
            "SELECT DISTINCT value FROM webhooks, json_each(webhooks.events) WHERE enabled ORDER BY value",
            &[],
        )?;
        rows.into_iter()
            .map(|row| {
                let mut c = Columns::new(row);
                let name = c.text();
                c.finish()?;
                EventKind::parse(&name).ok_or_else(|| ApiError::internal("unknown stored event kind"))
            })
            .collect()
    }

    fn check_enabled_limit(&self, limit: u32) -> Result<(), ApiError> {
        let row = self.sql.query_one("SELECT count(*) FROM webhooks WHERE enabled", &[])?;
        let enabled = row.map_or(Ok(0), |r| r.int(0))?;
        if enabled >= i64::from(limit) {
            return Err(limit_reached(
                ErrorKind::QuotaExceeded,
                "enabled webhooks",
                enabled,
                limit,
                "WEBHOOK_LIMIT",
                "disable or delete one first",
            ));
        }
        Ok(())
    }
}
