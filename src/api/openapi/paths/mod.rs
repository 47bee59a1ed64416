//! The route table: every [`Route`]'s operations, matched exhaustively so that a route without
//! a documented operation does not compile.

mod jobs;
mod keys;
mod queues;
mod reads;
mod webhooks;
mod workers;

use super::operation::{failure, refer_as, schema, success, Headers, Op, Security, Shared, Tag};
use crate::api::routes::{JobRoute, KeyRoute, QueueRoute, ReadRoute, Route, TenantRoute, WebhookRoute, WorkerRoute};
use crate::model::ErrorKind;

/// The operations `route` names: one, but three paths for the health check.
pub fn operations(route: &Route) -> Vec<Op> {
    match route {
        Route::Health => {
            let health = |path, id, summary| {
                Op::new("get", path, id, Tag::System, summary)
                    .about("Answers without credentials or storage access.")
                    .security(Security::Open)
                    .respond(200, success("The Worker is up.", Headers::Base, schema("Health")))
            };
            vec![
                health("/health", "health", "Liveness"),
                health("/health/live", "healthLive", "Liveness (same as `/health`)"),
                health("/health/ready", "healthReady", "Liveness (same as `/health`)"),
            ]
        }
        Route::OpenApi => vec![Op::new("get", "/api/v1/openapi.json", "getOpenApiDocument", Tag::System, "This OpenAPI document")
                .security(Security::Open)
                .respond(200, success("The OpenAPI 3.1 description of every route.", Headers::Base, schema("OpenApiDocument")))],
        Route::CreateOrganization => vec![Op::new("post", "/api/v1/organizations", "createOrganization", Tag::Tenancy, "Create an organization and its first API key")
            .about("Bootstraps a tenant. Guarded by the `X-Admin-Key` header (the `ADMIN_KEY` secret), not by an API key; no rate limit applies.")
            .security(Security::Admin)
            .body("CreateOrganizationRequest")
            .respond(201, success("Created; `api_key.key` is the raw key, shown only here.", Headers::Base, schema("OrganizationCreated")))
            .respond(400, failure("Invalid body (`name` missing or not 1–100 characters, `slug` 1–64 of `a-z 0-9 -`), or it could not be read.", Headers::Base, &[ErrorKind::ValidationError, ErrorKind::InvalidJson, ErrorKind::BadRequest]))
            .respond(401, failure("Missing or wrong `X-Admin-Key`.", Headers::Base, &[ErrorKind::Unauthorized]))
            .respond(403, failure("Admin routes are disabled: `ADMIN_KEY` is not set.", Headers::Base, &[ErrorKind::AccessDenied]))
            .respond(409, failure("The organization already exists.", Headers::Base, &[ErrorKind::Conflict]))
            .respond(413, failure("The request body is over 2 MiB.", Headers::Base, &[ErrorKind::PayloadTooLarge]))
            .respond(429, refer_as(Shared::TooManyRequests, "The client address has used up its failed authentications for the minute (`Retry-After`)."))
            .respond(500, failure("A storage or runtime failure.", Headers::Base, &[ErrorKind::InternalError]))],
        Route::Tenant(TenantRoute::Jobs(route)) => vec![jobs::operation(route)],
        Route::Tenant(TenantRoute::Reads(route)) => vec![reads::operation(route)],
        Route::Tenant(TenantRoute::Queues(route)) => vec![queues::operation(route)],
        Route::Tenant(TenantRoute::Workers(route)) => vec![workers::operation(route)],
        Route::Tenant(TenantRoute::Keys(route)) => vec![keys::operation(route)],
        Route::Tenant(TenantRoute::Webhooks(route)) => vec![webhooks::operation(route)],
    }
}

/// Every route, in the document's order of paths (ids are left empty: the table does not read
/// them).
pub fn routes() -> Vec<Route> {
    use {JobRoute as J, KeyRoute as K, QueueRoute as Q, ReadRoute as R, WebhookRoute as H, WorkerRoute as W};
    let id = String::new;
    vec![
        Route::Health,
        Route::OpenApi,
        Route::CreateOrganization,
        J::Enqueue.into(),
        R::ListJobs.into(),
        J::EnqueueBulk.into(),
        J::Claim.into(),
        J::Ack.into(),
        R::JobStats.into(),
        R::JobStatuses.into(),
        R::ListDeadLetters.into(),
        J::ReplayDeadLetters.into(),
        J::PurgeDeadLetters.into(),
        J::Get(id()).into(),
        J::Cancel(id()).into(),
        J::Replay(id()).into(),
        J::Complete(id()).into(),
        J::Fail(id()).into(),
        J::Heartbeat(id()).into(),
        J::SetPriority(id()).into(),
        Q::List.into(),
        Q::Get(id()).into(),
        Q::Delete(id()).into(),
        Q::Configure(id()).into(),
        Q::Stats(id()).into(),
        Q::Pause(id()).into(),
        Q::Resume(id()).into(),
        W::Register.into(),
        W::List.into(),
        W::Get(id()).into(),
        W::Heartbeat(id()).into(),
        W::Deregister(id()).into(),
        K::Create.into(),
        K::List.into(),
        K::Get(id()).into(),
        K::Update(id()).into(),
        K::Revoke(id()).into(),
        H::Create.into(),
        H::List.into(),
        H::Get(id()).into(),
        H::Update(id()).into(),
        H::Delete(id()).into(),
        H::Test(id()).into(),
        H::Deliveries(id()).into(),
        H::Retry(id(), id()).into(),
        H::JobDeliveries(id()).into(),
    ]
}
