//! `TenantActor`: one Durable Object per tenant, holding its organization and API keys.

use super::storage::{transaction, ActorSql};
use crate::api::error::render;
use crate::model::ApiError;
use crate::tenant::protocol::{execute, TenantEnvelope};
use crate::tenant::store::Tenant;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// The Durable Object that owns one tenant's records.
#[durable_object(fetch)]
pub struct TenantActor {
    state: State,
    sql: ActorSql,
    ready: std::result::Result<(), ApiError>,
}

impl DurableObject for TenantActor {
    fn new(state: State, _env: Env) -> Self {
        let sql = ActorSql(state.storage().sql());
        let ready = Tenant { sql: &sql }.migrate();
        TenantActor { state, sql, ready }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        let (status, body) = render(self.run(&body));
        Ok(Response::ok(body)?.with_status(status))
    }
}

impl TenantActor {
    fn run(&self, body: &str) -> std::result::Result<crate::queue::protocol::Reply, ApiError> {
        self.ready.clone()?;
        let envelope: TenantEnvelope =
            serde_json::from_str(body).map_err(|e| ApiError::internal(format!("malformed tenant command: {e}")))?;
        let (sql, now) = (self.sql.clone(), super::now());
        transaction(&self.state.storage(), move || {
            execute(&Tenant { sql: &sql }, &envelope.tenant, envelope.command, now)
        })
    }
}
