//! The route table: which operation a method and path name. Pure, so every route — and
//! every path that is not one — is tested natively.
//!
//! Routes nest by who answers them, and each layer is dispatched by an exhaustive `match`:
//! a route nobody serves does not compile.

use crate::model::{ApiError, ErrorKind};

/// Every operation the API serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`: liveness, no auth.
    Health,
    /// `GET /api/v1/openapi.json`: the API description, no auth.
    OpenApi,
    /// `POST /api/v1/organizations`: bootstrap a tenant (admin key).
    CreateOrganization,
    /// Everything an API key authenticates.
    Tenant(TenantRoute),
}

/// The routes of one tenant, behind its API key, by the actor (and module) that answers them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantRoute {
    /// Commands on the jobs of one queue (`api::jobs`).
    Jobs(JobRoute),
    /// Reads that may span queues (`api::reads`).
    Reads(ReadRoute),
    /// Queue settings, stats and lifecycle (`api::queues`).
    Queues(QueueRoute),
    /// The worker registry (`api::workers`, the tenant actor).
    Workers(WorkerRoute),
    /// API key management (`api::keys`, the tenant actor).
    Keys(KeyRoute),
    /// Outgoing webhooks and their deliveries (`api::webhooks`, the delivery actor).
    Webhooks(WebhookRoute),
}

/// Commands on the jobs of one queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobRoute {
    /// `POST /api/v1/jobs`.
    Enqueue,
    /// `POST /api/v1/jobs/bulk`.
    EnqueueBulk,
    /// `POST /api/v1/jobs/claim`.
    Claim,
    /// `POST /api/v1/jobs/dlq/retry`.
    ReplayDeadLetters,
    /// `POST /api/v1/jobs/dlq/purge`.
    PurgeDeadLetters,
    /// `GET /api/v1/jobs/{id}`.
    Get(String),
    /// `DELETE /api/v1/jobs/{id}`.
    Cancel(String),
    /// `POST /api/v1/jobs/{id}/retry`.
    Replay(String),
    /// `POST /api/v1/jobs/{id}/complete`.
    Complete(String),
    /// `POST /api/v1/jobs/{id}/fail`.
    Fail(String),
    /// `POST /api/v1/jobs/{id}/heartbeat`.
    Heartbeat(String),
    /// `PUT /api/v1/jobs/{id}/priority`.
    SetPriority(String),
    /// `POST /api/v1/jobs/ack`.
    Ack,
}

/// Reads that may span the tenant's queues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadRoute {
    /// `GET /api/v1/jobs`.
    ListJobs,
    /// `GET /api/v1/jobs/dlq`.
    ListDeadLetters,
    /// `GET /api/v1/jobs/stats`.
    JobStats,
    /// `GET /api/v1/jobs/status?ids=`.
    JobStatuses,
}

/// Queue settings, stats and lifecycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueRoute {
    /// `GET /api/v1/queues`.
    List,
    /// `GET /api/v1/queues/{name}`.
    Get(String),
    /// `PUT /api/v1/queues/{name}/config`.
    Configure(String),
    /// `GET /api/v1/queues/{name}/stats`.
    Stats(String),
    /// `POST /api/v1/queues/{name}/pause`.
    Pause(String),
    /// `POST /api/v1/queues/{name}/resume`.
    Resume(String),
    /// `DELETE /api/v1/queues/{name}`.
    Delete(String),
}

/// The worker registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerRoute {
    /// `POST /api/v1/workers/register`.
    Register,
    /// `GET /api/v1/workers`.
    List,
    /// `GET /api/v1/workers/{id}`.
    Get(String),
    /// `POST /api/v1/workers/{id}/heartbeat`.
    Heartbeat(String),
    /// `POST /api/v1/workers/{id}/deregister`.
    Deregister(String),
}

/// API key management.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRoute {
    /// `POST /api/v1/api-keys`.
    Create,
    /// `GET /api/v1/api-keys`.
    List,
    /// `GET /api/v1/api-keys/{id}`.
    Get(String),
    /// `PUT /api/v1/api-keys/{id}`.
    Update(String),
    /// `DELETE /api/v1/api-keys/{id}`.
    Revoke(String),
}

/// Outgoing webhooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookRoute {
    /// `POST /api/v1/outgoing-webhooks`.
    Create,
    /// `GET /api/v1/outgoing-webhooks`.
    List,
    /// `GET /api/v1/outgoing-webhooks/{id}`.
    Get(String),
    /// `PUT /api/v1/outgoing-webhooks/{id}`.
    Update(String),
    /// `DELETE /api/v1/outgoing-webhooks/{id}`.
    Delete(String),
    /// `POST /api/v1/outgoing-webhooks/{id}/test`.
    Test(String),
    /// `GET /api/v1/outgoing-webhooks/{id}/deliveries`.
    Deliveries(String),
    /// `POST /api/v1/outgoing-webhooks/{id}/retry/{delivery_id}`.
    Retry(String, String),
    /// `GET /api/v1/jobs/{id}/webhook-deliveries`: the job's own completion webhook.
    JobDeliveries(String),
}

/// `From` each group into [`Route`], so the table below names routes briefly.
macro_rules! tenant_routes {
    ($($group:ident => $variant:ident),* $(,)?) => {$(
        impl From<$group> for Route {
            fn from(route: $group) -> Route {
                Route::Tenant(TenantRoute::$variant(route))
            }
        }
    )*};
}

tenant_routes!(JobRoute => Jobs, ReadRoute => Reads, QueueRoute => Queues, WorkerRoute => Workers, KeyRoute => Keys, WebhookRoute => Webhooks);

/// Resolves `method` and `path` to a route: 404 for unknown paths, 405 for a known path
/// with another method.
pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let id = |s: &str| s.to_owned();
    use {JobRoute as J, KeyRoute as K, QueueRoute as Q, ReadRoute as R, WebhookRoute as H, WorkerRoute as W};
    let by_method: Vec<(&str, Route)> = match segments.as_slice() {
        ["health"] | ["health", "live" | "ready"] => vec![("GET", Route::Health)],
        ["api", "v1", rest @ ..] => match rest {
            ["organizations"] => vec![("POST", Route::CreateOrganization)],
            ["openapi.json"] => vec![("GET", Route::OpenApi)],
            ["jobs"] => vec![("POST", J::Enqueue.into()), ("GET", R::ListJobs.into())],
            ["jobs", "stats"] => vec![("GET", R::JobStats.into())],
            ["jobs", "status"] => vec![("GET", R::JobStatuses.into())],
            ["jobs", "ack"] => vec![("POST", J::Ack.into())],
            ["jobs", "bulk"] => vec![("POST", J::EnqueueBulk.into())],
            ["jobs", "claim"] => vec![("POST", J::Claim.into())],
            ["jobs", "dlq"] => vec![("GET", R::ListDeadLetters.into())],
            ["jobs", "dlq", "retry"] => vec![("POST", J::ReplayDeadLetters.into())],
            ["jobs", "dlq", "purge"] => vec![("POST", J::PurgeDeadLetters.into())],
            ["jobs", job] => vec![("GET", J::Get(id(job)).into()), ("DELETE", J::Cancel(id(job)).into())],
            ["jobs", job, "retry"] => vec![("POST", J::Replay(id(job)).into())],
            ["jobs", job, "complete"] => vec![("POST", J::Complete(id(job)).into())],
            ["jobs", job, "fail"] => vec![("POST", J::Fail(id(job)).into())],
            ["jobs", job, "heartbeat"] => vec![("POST", J::Heartbeat(id(job)).into())],
            ["jobs", job, "priority"] => vec![("PUT", J::SetPriority(id(job)).into())],
            ["jobs", job, "webhook-deliveries"] => vec![("GET", H::JobDeliveries(id(job)).into())],
            ["queues"] => vec![("GET", Q::List.into())],
            ["queues", name] => vec![("GET", Q::Get(id(name)).into()), ("DELETE", Q::Delete(id(name)).into())],
            ["queues", name, "config"] => vec![("PUT", Q::Configure(id(name)).into())],
            ["queues", name, "stats"] => vec![("GET", Q::Stats(id(name)).into())],
            ["queues", name, "pause"] => vec![("POST", Q::Pause(id(name)).into())],
            ["queues", name, "resume"] => vec![("POST", Q::Resume(id(name)).into())],
            ["workers"] => vec![("GET", W::List.into())],
            ["workers", "register"] => vec![("POST", W::Register.into())],
            ["workers", worker] => vec![("GET", W::Get(id(worker)).into())],
            ["workers", worker, "heartbeat"] => vec![("POST", W::Heartbeat(id(worker)).into())],
            ["workers", worker, "deregister"] => vec![("POST", W::Deregister(id(worker)).into())],
            ["api-keys"] => vec![("POST", K::Create.into()), ("GET", K::List.into())],
            ["api-keys", key] => vec![
                ("GET", K::Get(id(key)).into()),
                ("PUT", K::Update(id(key)).into()),
                ("DELETE", K::Revoke(id(key)).into()),
            ],
            ["outgoing-webhooks"] => vec![("POST", H::Create.into()), ("GET", H::List.into())],
            ["outgoing-webhooks", hook] => vec![
                ("GET", H::Get(id(hook)).into()),
                ("PUT", H::Update(id(hook)).into()),
                ("DELETE", H::Delete(id(hook)).into()),
            ],
            ["outgoing-webhooks", hook, "test"] => vec![("POST", H::Test(id(hook)).into())],
            ["outgoing-webhooks", hook, "deliveries"] => vec![("GET", H::Deliveries(id(hook)).into())],
            ["outgoing-webhooks", h, "retry", d] => vec![("POST", H::Retry(id(h), id(d)).into())],
            _ => vec![],
        },
        _ => vec![],
    };
    if by_method.is_empty() {
        return Err(ApiError::new(ErrorKind::NotFound, "No route matches this path"));
    }
    by_method
        .into_iter()
        .find(|(m, _)| *m == method)
        .map(|(_, route)| route)
        .ok_or_else(|| ApiError::new(ErrorKind::MethodNotAllowed, format!("{method} is not allowed on {path}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(route: impl Into<Route>) -> Result<Route, ApiError> {
        Ok(route.into())
    }

    #[test]
    fn static_segments_win_over_job_ids() {
        assert_eq!(resolve("POST", "/api/v1/jobs/claim"), tenant(JobRoute::Claim));
        assert_eq!(resolve("GET", "/api/v1/jobs/dlq"), tenant(ReadRoute::ListDeadLetters));
        assert_eq!(resolve("POST", "/api/v1/jobs/dlq/retry"), tenant(JobRoute::ReplayDeadLetters));
        assert_eq!(resolve("GET", "/api/v1/jobs/q.X"), tenant(JobRoute::Get("q.X".into())));
        assert_eq!(resolve("POST", "/api/v1/jobs/q.X/retry"), tenant(JobRoute::Replay("q.X".into())));
    }

    #[test]
    fn queue_and_worker_routes_resolve() {
        assert_eq!(resolve("GET", "/api/v1/jobs/stats"), tenant(ReadRoute::JobStats));
        assert_eq!(resolve("PUT", "/api/v1/queues/q/config"), tenant(QueueRoute::Configure("q".into())));
        assert_eq!(resolve("POST", "/api/v1/workers/register"), tenant(WorkerRoute::Register));
        assert_eq!(resolve("GET", "/api/v1/workers/w-1"), tenant(WorkerRoute::Get("w-1".into())));
        assert_eq!(resolve("GET", "/api/v1/openapi.json"), Ok(Route::OpenApi));
    }

    #[test]
    fn trailing_slash_is_tolerated() {
        assert_eq!(resolve("POST", "/api/v1/jobs/"), tenant(JobRoute::Enqueue));
        assert_eq!(resolve("GET", "/health/"), Ok(Route::Health));
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_eq!(resolve("GET", "/nope").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(resolve("GET", "/api/v2/jobs").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(resolve("GET", "/api/v1/jobs/a/b/c").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(resolve("PATCH", "/api/v1/jobs").unwrap_err().kind, ErrorKind::MethodNotAllowed);
        assert_eq!(resolve("PUT", "/api/v1/jobs").unwrap_err().kind, ErrorKind::MethodNotAllowed);
    }

    /// Each path lands in the group of the module (and actor) that answers it; only the
    /// health check, the document and the organization bootstrap stay outside a tenant.
    #[test]
    fn routes_nest_by_who_answers_them() {
        let group = |method, path| match resolve(method, path).unwrap() {
            Route::Health | Route::OpenApi | Route::CreateOrganization => "open",
            Route::Tenant(TenantRoute::Jobs(_)) => "jobs",
            Route::Tenant(TenantRoute::Reads(_)) => "reads",
            Route::Tenant(TenantRoute::Queues(_)) => "queues",
            Route::Tenant(TenantRoute::Workers(_)) => "workers",
            Route::Tenant(TenantRoute::Keys(_)) => "keys",
            Route::Tenant(TenantRoute::Webhooks(_)) => "webhooks",
        };
        for (method, path, expected) in [
            ("GET", "/health/live", "open"),
            ("GET", "/api/v1/openapi.json", "open"),
            ("POST", "/api/v1/organizations", "open"),
            ("POST", "/api/v1/jobs", "jobs"),
            ("POST", "/api/v1/jobs/ack", "jobs"),
            ("PUT", "/api/v1/jobs/q.X/priority", "jobs"),
            ("POST", "/api/v1/jobs/dlq/purge", "jobs"),
            ("GET", "/api/v1/jobs", "reads"),
            ("GET", "/api/v1/jobs/status", "reads"),
            ("GET", "/api/v1/queues", "queues"),
            ("POST", "/api/v1/outgoing-webhooks", "webhooks"),
            ("GET", "/api/v1/outgoing-webhooks/h/deliveries", "webhooks"),
            ("POST", "/api/v1/outgoing-webhooks/h/retry/d", "webhooks"),
            ("DELETE", "/api/v1/queues/q", "queues"),
            ("POST", "/api/v1/queues/q/resume", "queues"),
            ("GET", "/api/v1/workers", "workers"),
            ("POST", "/api/v1/workers/w/deregister", "workers"),
            ("POST", "/api/v1/api-keys", "keys"),
            ("DELETE", "/api/v1/api-keys/key_1", "keys"),
        ] {
            assert_eq!(group(method, path), expected, "{method} {path}");
        }
    }

    /// The same path segment names the same id in every method's route.
    #[test]
    fn ids_are_taken_from_their_segment() {
        assert_eq!(resolve("DELETE", "/api/v1/jobs/q.Y"), tenant(JobRoute::Cancel("q.Y".into())));
        assert_eq!(resolve("PUT", "/api/v1/api-keys/key_9"), tenant(KeyRoute::Update("key_9".into())));
        assert_eq!(resolve("DELETE", "/api/v1/queues/emails"), tenant(QueueRoute::Delete("emails".into())));
        assert_eq!(resolve("POST", "/api/v1/workers/w-2/heartbeat"), tenant(WorkerRoute::Heartbeat("w-2".into())));
    }
}
