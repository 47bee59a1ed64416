//! `TenantActor`: one Durable Object per tenant, holding its organization, API keys, queue
//! catalog and worker registry. Its alarm marks silent workers offline.

use super::alarm::AlarmSlot;
use super::storage::{transaction, ActorSql};
use crate::model::wire::from_json;
use crate::model::{ApiError, ErrorKind};
use crate::tenant::protocol::{execute, TenantEnvelope, TenantReply};
use crate::tenant::store::{Tenant, DEFAULT_QUEUE_LIMIT};
use crate::tenant::workers::DEFAULT_WORKER_LIMIT;
use crate::tenant::TenantLimits;
use std::cell::Cell;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// The Durable Object that owns one tenant's records.
#[durable_object(alarm)]
pub struct TenantActor {
    state: State,
    sql: ActorSql,
    ready: std::result::Result<(), ApiError>,
    /// Whether the tenant's tables exist. Only creating the organization makes them: a key
    /// that names a tenant never created is refused without a write.
    migrated: Cell<bool>,
    alarm: AlarmSlot,
    /// What the deployment's variables allow every tenant.
    limits: TenantLimits,
}

impl DurableObject for TenantActor {
    fn new(state: State, env: Env) -> Self {
        let sql = ActorSql(state.storage().sql());
        let tenant = Tenant { sql: &sql };
        // An existing tenant gets any table or index added since it was made.
        let loaded = tenant.exists().and_then(|found| if found { tenant.migrate().map(|()| true) } else { Ok(false) });
        let migrated = Cell::new(loaded.as_ref().is_ok_and(|found| *found));
        let ready = loaded.map(|_| ());
        let limit = |name, default| super::var(&env, name).and_then(|v| v.parse().ok()).unwrap_or(default);
        let limits = TenantLimits {
            default_rate_limit: super::default_rate_limit(&env),
            worker_limit: limit("WORKER_LIMIT", DEFAULT_WORKER_LIMIT),
            queue_limit: limit("QUEUE_LIMIT", DEFAULT_QUEUE_LIMIT),
        };
        TenantActor { state, sql, ready, migrated, alarm: AlarmSlot::default(), limits }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = super::client::command_body(&mut req).await?;
        Response::ok(super::client::encode(&self.run(&body).await))
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm.spent();
        let (sql, now) = (self.sql.clone(), super::now());
        let wake = transaction(&self.state.storage(), move || {
            let tenant = Tenant { sql: &sql };
            tenant.sweep_workers(now)?;
            tenant.next_worker_wake()
        })
        .map_err(|e| worker::Error::RustError(e.message))?;
        self.alarm.arm(&self.state.storage(), wake).await?;
        Response::empty()
    }
}

impl TenantActor {
    async fn run(&self, body: &str) -> std::result::Result<TenantReply, ApiError> {
        self.ready.clone()?;
        let envelope: TenantEnvelope = from_json(body, "tenant command")?;
        let traits = envelope.command.traits();
        let (moves_alarm, creates_tenant) = (traits.moves_alarm, traits.creates_tenant);
        let (sql, now, limits) = (self.sql.clone(), super::now(), self.limits);
        let migrate_first = !self.migrated.get();
        let work = move || {
            let tenant = Tenant { sql: &sql };
            if migrate_first {
                tenant.migrate()?;
            }
            let reply = execute(&tenant, &envelope.tenant, envelope.command, now, &limits)?;
            let wake = if moves_alarm { Some(tenant.next_worker_wake()?) } else { None };
            Ok((reply, wake))
        };
        if migrate_first && !creates_tenant {
            // Every other command comes with a key this tenant verified: without tables there is
            // no tenant, so whatever asks (in practice a key's verification) is refused, and
            // nothing is written.
            return Err(ApiError::new(ErrorKind::Unauthorized, "Invalid API key"));
        }
        let (reply, wake) = transaction(&self.state.storage(), work)?;
        self.migrated.set(true);
        if let Some(wake) = wake {
            self.alarm
                .arm(&self.state.storage(), wake)
                .await
                .map_err(|e| ApiError::internal(format!("setting the alarm failed: {e}")))?;
        }
        Ok(reply)
    }
}
