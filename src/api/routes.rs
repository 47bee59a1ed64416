//! The route table: which operation a method and path name. Pure, so every route — and
//! every path that is not one — is tested natively.

use crate::model::{ApiError, ErrorKind};

/// Every operation the API serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`: liveness, no auth.
    Health,
    /// `POST /api/v1/organizations`: bootstrap a tenant (admin key).
    CreateOrganization,
    /// `POST /api/v1/jobs`.
    Enqueue,
    /// `POST /api/v1/jobs/bulk`.
    EnqueueBulk,
    /// `POST /api/v1/jobs/claim`.
    Claim,
    /// `GET /api/v1/jobs/dlq`.
    ListDeadLetters,
    /// `POST /api/v1/jobs/dlq/retry`.
    ReplayDeadLetters,
    /// `POST /api/v1/jobs/dlq/purge`.
    PurgeDeadLetters,
    /// `GET /api/v1/jobs/{id}`.
    GetJob(String),
    /// `DELETE /api/v1/jobs/{id}`.
    CancelJob(String),
    /// `POST /api/v1/jobs/{id}/retry`.
    ReplayJob(String),
    /// `POST /api/v1/jobs/{id}/complete`.
    CompleteJob(String),
    /// `POST /api/v1/jobs/{id}/fail`.
    FailJob(String),
    /// `POST /api/v1/jobs/{id}/heartbeat`.
    HeartbeatJob(String),
    /// `GET /api/v1/jobs`.
    ListJobs,
    /// `GET /api/v1/jobs/stats`.
    JobStats,
    /// `GET /api/v1/jobs/status?ids=`.
    JobStatuses,
    /// `PUT /api/v1/jobs/{id}/priority`.
    SetPriority(String),
    /// `POST /api/v1/jobs/ack`.
    AckJobs,
    /// `GET /api/v1/queues`.
    ListQueues,
    /// `GET /api/v1/queues/{name}`.
    GetQueue(String),
    /// `PUT /api/v1/queues/{name}/config`.
    ConfigureQueue(String),
    /// `GET /api/v1/queues/{name}/stats`.
    QueueStats(String),
    /// `POST /api/v1/queues/{name}/pause`.
    PauseQueue(String),
    /// `POST /api/v1/queues/{name}/resume`.
    ResumeQueue(String),
    /// `DELETE /api/v1/queues/{name}`.
    DeleteQueue(String),
    /// `POST /api/v1/workers/register`.
    RegisterWorker,
    /// `GET /api/v1/workers`.
    ListWorkers,
    /// `GET /api/v1/workers/{id}`.
    GetWorker(String),
    /// `POST /api/v1/workers/{id}/heartbeat`.
    WorkerHeartbeat(String),
    /// `POST /api/v1/workers/{id}/deregister`.
    DeregisterWorker(String),
    /// `GET /api/v1/openapi.json`: the API description, no auth.
    OpenApi,
    /// `POST /api/v1/api-keys`.
    CreateKey,
    /// `GET /api/v1/api-keys`.
    ListKeys,
    /// `GET /api/v1/api-keys/{id}`.
    GetKey(String),
    /// `PUT /api/v1/api-keys/{id}`.
    UpdateKey(String),
    /// `DELETE /api/v1/api-keys/{id}`.
    RevokeKey(String),
}

impl Route {
    /// Whether the route manages API keys (answered by the tenant actor).
    pub fn is_key_management(&self) -> bool {
        matches!(
            self,
            Route::CreateKey | Route::ListKeys | Route::GetKey(_) | Route::UpdateKey(_) | Route::RevokeKey(_)
        )
    }

    /// Whether the route manages workers (answered by the tenant actor).
    pub fn is_worker_management(&self) -> bool {
        matches!(
            self,
            Route::RegisterWorker
                | Route::ListWorkers
                | Route::GetWorker(_)
                | Route::WorkerHeartbeat(_)
                | Route::DeregisterWorker(_)
        )
    }
}

/// Resolves `method` and `path` to a route: 404 for unknown paths, 405 for a known path
/// with another method.
pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let id = |s: &str| s.to_owned();
    let by_method: Vec<(&str, Route)> = match segments.as_slice() {
        ["health"] | ["health", "live" | "ready"] => vec![("GET", Route::Health)],
        ["api", "v1", rest @ ..] => match rest {
            ["organizations"] => vec![("POST", Route::CreateOrganization)],
            ["openapi.json"] => vec![("GET", Route::OpenApi)],
            ["jobs"] => vec![("POST", Route::Enqueue), ("GET", Route::ListJobs)],
            ["jobs", "stats"] => vec![("GET", Route::JobStats)],
            ["jobs", "status"] => vec![("GET", Route::JobStatuses)],
            ["jobs", "ack"] => vec![("POST", Route::AckJobs)],
            ["jobs", "bulk"] => vec![("POST", Route::EnqueueBulk)],
            ["jobs", "claim"] => vec![("POST", Route::Claim)],
            ["jobs", "dlq"] => vec![("GET", Route::ListDeadLetters)],
            ["jobs", "dlq", "retry"] => vec![("POST", Route::ReplayDeadLetters)],
            ["jobs", "dlq", "purge"] => vec![("POST", Route::PurgeDeadLetters)],
            ["jobs", job] => vec![("GET", Route::GetJob(id(job))), ("DELETE", Route::CancelJob(id(job)))],
            ["jobs", job, "retry"] => vec![("POST", Route::ReplayJob(id(job)))],
            ["jobs", job, "complete"] => vec![("POST", Route::CompleteJob(id(job)))],
            ["jobs", job, "fail"] => vec![("POST", Route::FailJob(id(job)))],
            ["jobs", job, "heartbeat"] => vec![("POST", Route::HeartbeatJob(id(job)))],
            ["jobs", job, "priority"] => vec![("PUT", Route::SetPriority(id(job)))],
            ["queues"] => vec![("GET", Route::ListQueues)],
            ["queues", name] => vec![("GET", Route::GetQueue(id(name))), ("DELETE", Route::DeleteQueue(id(name)))],
            ["queues", name, "config"] => vec![("PUT", Route::ConfigureQueue(id(name)))],
            ["queues", name, "stats"] => vec![("GET", Route::QueueStats(id(name)))],
            ["queues", name, "pause"] => vec![("POST", Route::PauseQueue(id(name)))],
            ["queues", name, "resume"] => vec![("POST", Route::ResumeQueue(id(name)))],
            ["workers"] => vec![("GET", Route::ListWorkers)],
            ["workers", "register"] => vec![("POST", Route::RegisterWorker)],
            ["workers", worker] => vec![("GET", Route::GetWorker(id(worker)))],
            ["workers", worker, "heartbeat"] => vec![("POST", Route::WorkerHeartbeat(id(worker)))],
            ["workers", worker, "deregister"] => vec![("POST", Route::DeregisterWorker(id(worker)))],
            ["api-keys"] => vec![("POST", Route::CreateKey), ("GET", Route::ListKeys)],
            ["api-keys", key] => vec![
                ("GET", Route::GetKey(id(key))),
                ("PUT", Route::UpdateKey(id(key))),
                ("DELETE", Route::RevokeKey(id(key))),
            ],
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

    #[test]
    fn static_segments_win_over_job_ids() {
        assert_eq!(resolve("POST", "/api/v1/jobs/claim"), Ok(Route::Claim));
        assert_eq!(resolve("GET", "/api/v1/jobs/dlq"), Ok(Route::ListDeadLetters));
        assert_eq!(resolve("POST", "/api/v1/jobs/dlq/retry"), Ok(Route::ReplayDeadLetters));
        assert_eq!(resolve("GET", "/api/v1/jobs/q.X"), Ok(Route::GetJob("q.X".into())));
        assert_eq!(resolve("POST", "/api/v1/jobs/q.X/retry"), Ok(Route::ReplayJob("q.X".into())));
    }

    #[test]
    fn queue_and_worker_routes_resolve() {
        assert_eq!(resolve("GET", "/api/v1/jobs/stats"), Ok(Route::JobStats));
        assert_eq!(resolve("PUT", "/api/v1/queues/q/config"), Ok(Route::ConfigureQueue("q".into())));
        assert_eq!(resolve("POST", "/api/v1/workers/register"), Ok(Route::RegisterWorker));
        assert_eq!(resolve("GET", "/api/v1/workers/w-1"), Ok(Route::GetWorker("w-1".into())));
        assert_eq!(resolve("GET", "/api/v1/openapi.json"), Ok(Route::OpenApi));
    }

    #[test]
    fn trailing_slash_is_tolerated() {
        assert_eq!(resolve("POST", "/api/v1/jobs/"), Ok(Route::Enqueue));
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
}
