//! `TenantActor`: one Durable Object per tenant, holding its organization, API keys, queue
//! catalog and worker registry. Its alarm marks silent workers offline.

use super::alarm::AlarmSlot;
use super::storage::{transaction, ActorSql};
use crate::model::wire::from_json;
use crate::model::ApiError;
use crate::tenant::protocol::{execute, TenantEnvelope, TenantReply};
use crate::tenant::store::{Tenant, DEFAULT_QUEUE_LIMIT};
use crate::tenant::workers::DEFAULT_WORKER_LIMIT;
use crate::tenant::TenantLimits;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// The Durable Object that owns one tenant's records.
#[durable_object(alarm)]
pub struct TenantActor {
    state: State,
    sql: ActorSql,
    ready: std::result::Result<(), ApiError>,
    alarm: AlarmSlot,
    /// What the deployment's variables allow every tenant.
    limits: TenantLimits,
}

impl DurableObject for TenantActor {
    fn new(state: State, env: Env) -> Self {
        let sql = ActorSql(state.storage().sql());
        let ready = Tenant { sql: &sql }.migrate();
        let limit = |name, default| super::var(&env, name).and_then(|v| v.parse().ok()).unwrap_or(default);
        let limits = TenantLimits {
            default_rate_limit: super::default_rate_limit(&env),
            worker_limit: limit("WORKER_LIMIT", DEFAULT_WORKER_LIMIT),
            queue_limit: limit("QUEUE_LIMIT", DEFAULT_QUEUE_LIMIT),
        };
        TenantActor { state, sql, ready, alarm: AlarmSlot::default(), limits }
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
        let moves_alarm = envelope.command.traits().moves_alarm;
        let (sql, now, limits) = (self.sql.clone(), super::now(), self.limits);
        let (reply, wake) = transaction(&self.state.storage(), move || {
            let tenant = Tenant { sql: &sql };
            let reply = execute(&tenant, &envelope.tenant, envelope.command, now, &limits)?;
            let wake = if moves_alarm { Some(tenant.next_worker_wake()?) } else { None };
            Ok((reply, wake))
        })?;
        if let Some(wake) = wake {
            self.alarm
                .arm(&self.state.storage(), wake)
                .await
                .map_err(|e| ApiError::internal(format!("setting the alarm failed: {e}")))?;
        }
        Ok(reply)
    }
}
