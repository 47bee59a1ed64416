//! Who listens to the tenant's queues: each consumer (the webhooks, later realtime streams and
//! workflows) and the event kinds it wants, as one versioned list. The tenant pushes the list
//! to its queues when it changes and hands it to each queue that registers, so a queue records
//! exactly the events somebody reads — none when nobody listens.

use super::store::Tenant;
use crate::model::wire::{from_json, to_json, wire_record};
use crate::model::{ApiError, EventKind};
use crate::queue::events::Subscriber;
use crate::queue::RowExt;

/// The tables; part of the tenant's schema.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS subscriptions (consumer TEXT PRIMARY KEY, kinds TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS subscription_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
];

wire_record! {
    /// The consumers of the tenant's queue events, and the version of that list.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Subscriptions {
        /// Grows with every change; a queue ignores a list older than the one it has.
        pub version: u64,
        /// Every consumer and its kinds.
        pub consumers: Vec<Subscriber>,
    }
}

impl Tenant<'_> {
    /// The subscriptions in force.
    pub fn subscriptions(&self) -> Result<Subscriptions, ApiError> {
        let version = self.sql.query_one("SELECT version FROM subscription_version", &[])?;
        let version = version.map(|r| r.int(0)).transpose()?.unwrap_or(0) as u64;
        let rows = self.sql.query("SELECT consumer, kinds FROM subscriptions ORDER BY consumer", &[])?;
        let consumers = rows
            .iter()
            .map(|r| Ok(Subscriber { name: r.text(0)?.to_owned(), kinds: from_json(r.text(1)?, "stored kinds")? }))
            .collect::<Result<_, ApiError>>()?;
        Ok(Subscriptions { version, consumers })
    }

    /// Sets the kinds `consumer` wants (none: it stops listening) and returns the new list,
    /// with a new version when anything changed.
    pub fn set_consumer(&self, consumer: &str, kinds: &[EventKind]) -> Result<Subscriptions, ApiError> {
        let kinds_json = to_json(kinds)?;
        let stored = self.sql.query_one("SELECT kinds FROM subscriptions WHERE consumer = ?1", &[consumer.into()])?;
        let unchanged = match &stored {
            Some(row) => row.text(0)? == kinds_json,
            None => kinds.is_empty(),
        };
        if unchanged {
            return self.subscriptions();
        }
        if kinds.is_empty() {
            self.sql.query("DELETE FROM subscriptions WHERE consumer = ?1", &[consumer.into()])?;
        } else {
            self.sql.query(
                "INSERT INTO subscriptions (consumer, kinds) VALUES (?1, ?2) \
                 ON CONFLICT (consumer) DO UPDATE SET kinds = excluded.kinds",
                &[consumer.into(), kinds_json.into()],
            )?;
        }
        self.sql.query(
            "INSERT INTO subscription_version (id, version) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET version = version + 1",
            &[],
        )?;
        self.subscriptions()
    }
}
