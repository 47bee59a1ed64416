//! The worker registry: their operations.

use super::super::operation::{failure, no_content, refer_as, schema, success, Headers, Op, Shared, Tag};
use super::super::param;
use crate::api::routes::WorkerRoute;
use crate::model::spec;
use crate::model::ErrorKind;
use serde_json::json;

/// The operation `route` names.
pub(super) fn operation(route: &WorkerRoute) -> Op {
    match route {
        WorkerRoute::Register => Op::new("post", "/api/v1/workers/register", "registerWorker", Tag::Workers, "Register a worker")
            .about("A client-chosen `worker_id` registered on the same queue upserts; on another queue it is 409. Past `WORKER_LIMIT` a new worker replaces the longest-silent offline one.")
            .body("RegisterWorkerRequest")
            .respond(201, success("Registered.", Headers::RateLimited, schema("WorkerRegistration")))
            .respond(400, refer_as(Shared::BadRequest, "Missing `queue_name`/`hostname`, or an invalid field."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not use this queue."))
            .respond(409, failure("`worker_id` is registered on another queue.", Headers::RateLimited, &[ErrorKind::Conflict]))
            .respond(429, failure("`RATE_LIMIT_EXCEEDED` (with `Retry-After`), or `WORKER_LIMIT`: the organization's workers are all live and at the limit.", Headers::RetryAfter, &[ErrorKind::RateLimitExceeded, ErrorKind::WorkerLimit])),
        WorkerRoute::List => Op::new("get", "/api/v1/workers", "listWorkers", Tag::Workers, "List workers")
            .about("By id, without `metadata`, only queues the key may see.")
            .params(vec![json!({
                    "name": "limit",
                    "in": "query",
                    "description": "Page size.",
                    "schema": {
                        "type": "integer",
                        "minimum": *spec::WORKER_PAGE.start(),
                        "maximum": *spec::WORKER_PAGE.end(),
                        "default": 100
                    }
                }), json!({
                    "name": "offset",
                    "in": "query",
                    "description": "Workers to skip.",
                    "schema": {"type": "integer", "minimum": 0, "maximum": spec::MAX_WORKER_OFFSET, "default": 0}
                })])
            .respond(200, success("The workers.", Headers::Paged, json!({"type": "array", "items": {"$ref": "#/components/schemas/Worker"}})))
            .respond(400, refer_as(Shared::BadRequest, "`limit` or `offset` out of range, or the body could not be read.")),
        WorkerRoute::Get(_) => Op::new("get", "/api/v1/workers/{id}", "getWorker", Tag::Workers, "Get a worker")
            .params(vec![param::worker_path()])
            .respond(200, success("The worker.", Headers::RateLimited, schema("Worker")))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(404, refer_as(Shared::NotFound, "No such worker, or its queue is outside the API key's scope.")),
        WorkerRoute::Heartbeat(_) => Op::new("post", "/api/v1/workers/{id}/heartbeat", "workerHeartbeat", Tag::Workers, "Record a worker heartbeat")
            .params(vec![param::worker_path()])
            .optional_body("WorkerHeartbeatRequest")
            .respond(200, success("Recorded.", Headers::RateLimited, schema("WorkerHeartbeatResponse")))
            .respond(400, refer_as(Shared::BadRequest, "`current_jobs` not 0–1000, an unknown `status`, or `metadata` not an object of at most 16 KiB."))
            .respond(404, refer_as(Shared::NotFound, "No such worker, or its queue is outside the API key's scope.")),
        WorkerRoute::Deregister(_) => Op::new("post", "/api/v1/workers/{id}/deregister", "deregisterWorker", Tag::Workers, "Deregister a worker, releasing its leases")
            .about("Removes the worker; the jobs it holds in its queue go back to `pending` at once, without counting an attempt.")
            .params(vec![param::worker_path()])
            .respond(204, no_content("Deregistered.", Headers::RateLimited))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(404, refer_as(Shared::NotFound, "No such worker, or its queue is outside the API key's scope.")),
    }
}
