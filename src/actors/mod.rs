//! Durable Object glue: the only place, with `api::handler`, that touches the runtime.
//!
//! - [`queue_actor`]: one actor per (tenant, queue); runs queue commands and the alarm.
//! - [`tenant_actor`]: one actor per tenant; organization and API keys.
//! - [`alarm`]: the one alarm per actor, written only when its due time changes.
//! - [`storage`]: the [`Sql`](crate::queue::Sql) interface over Durable Object SQLite, and
//!   synchronous transactions.

pub mod alarm;
pub mod queue_actor;
pub mod storage;
pub mod tenant_actor;

use crate::model::EpochMs;

/// The current time, read once per request or alarm.
pub fn now() -> EpochMs {
    worker::Date::now().as_millis() as EpochMs
}
