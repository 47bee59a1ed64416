//! `QueueActor`: one Durable Object per (tenant, queue). It runs each queue command inside a
//! synchronous transaction, then keeps its one alarm set to the earliest time a job needs it.

use super::storage::{transaction, ActorSql};
use crate::api::error::render;
use crate::api::handler::call_tenant;
use crate::model::{ApiError, EpochMs, OsEntropy};
use crate::queue::protocol::{execute, QueueEnvelope, Reply};
use crate::queue::{schema, Queue, QueueSettings};
use crate::tenant::protocol::TenantCommand;
use std::cell::Cell;
use worker::{
    durable_object, js_sys, wasm_bindgen::JsValue, DurableObject, Env, Request, Response, Result, ScheduledTime, State,
};

/// The Durable Object that owns one queue's jobs.
#[durable_object(alarm)]
pub struct QueueActor {
    state: State,
    env: Env,
    sql: ActorSql,
    settings: QueueSettings,
    /// Whether the schema is in place; an actor whose schema failed answers every request
    /// with that error instead of panicking.
    ready: std::result::Result<(), ApiError>,
    /// The alarm time this instance last set: `None` until known (a fresh instance must set
    /// it once), `Some(None)` for no alarm.
    armed: Cell<Option<Option<EpochMs>>>,
    /// Whether this instance has recorded the queue in its tenant's catalog (idempotent, so
    /// once per instance is enough).
    registered: Cell<bool>,
}

impl DurableObject for QueueActor {
    fn new(state: State, env: Env) -> Self {
        let sql = ActorSql(state.storage().sql());
        let ready = schema::migrate(&sql);
        let (armed, registered) = (Cell::new(None), Cell::new(false));
        QueueActor { state, env, sql, settings: QueueSettings::default(), ready, armed, registered }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        let (status, body) = render(self.run(&body).await);
        Ok(Response::ok(body)?.with_status(status))
    }

    async fn alarm(&self) -> Result<Response> {
        // The alarm now running is spent; whatever is due next must be set again.
        self.armed.set(Some(None));
        let (sql, settings, now) = (self.sql.clone(), self.settings.clone(), super::now());
        let wake = transaction(&self.state.storage(), move || {
            let queue = Queue { sql: &sql, tenant: "", name: "", settings: &settings };
            queue.sweep(now)?;
            queue.next_wake(now)
        });
        match wake {
            Ok(wake) => self.arm(wake).await?,
            // Throwing makes the runtime retry the alarm; the sweep rolled back whole.
            Err(e) => return Err(worker::Error::RustError(e.message)),
        }
        Response::empty()
    }
}

impl QueueActor {
    /// Decodes and executes one command; for commands that write, re-arms the alarm.
    async fn run(&self, body: &str) -> std::result::Result<Reply, ApiError> {
        self.ready.clone()?;
        let envelope: QueueEnvelope =
            serde_json::from_str(body).map_err(|e| ApiError::internal(format!("malformed queue command: {e}")))?;
        if envelope.command.creates_jobs() && !self.registered.get() {
            // Before the first job, so the catalog never misses a queue that has jobs.
            let register = TenantCommand::RegisterQueue { queue: envelope.queue.clone() };
            call_tenant(&self.env, &envelope.tenant, register).await?;
            self.registered.set(true);
        }
        let writes = envelope.command.writes();
        let (sql, settings, now) = (self.sql.clone(), self.settings.clone(), super::now());
        let (reply, wake) = transaction(&self.state.storage(), move || {
            let queue = Queue { sql: &sql, tenant: &envelope.tenant, name: &envelope.queue, settings: &settings };
            let reply = execute(&queue, envelope.command, now, &mut OsEntropy)?;
            let wake = if writes { Some(queue.next_wake(now)?) } else { None };
            Ok((reply, wake))
        })?;
        if let Some(wake) = wake {
            self.arm(wake).await.map_err(|e| ApiError::internal(format!("setting the alarm failed: {e}")))?;
        }
        Ok(reply)
    }

    /// Sets (or deletes) the alarm when the earliest due time differs from the one set.
    async fn arm(&self, wake: Option<EpochMs>) -> Result<()> {
        if self.armed.get() == Some(wake) {
            return Ok(());
        }
        // Record before awaiting: storage applies alarm calls in the order they are made, so
        // the last recorded value is the one that ends up set.
        self.armed.set(Some(wake));
        let storage = self.state.storage();
        let result = match wake {
            Some(at) => storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(at as f64)))).await,
            None => storage.delete_alarm().await,
        };
        if result.is_err() {
            self.armed.set(None);
        }
        result
    }
}
