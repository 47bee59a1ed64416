//! Queue settings, stats and lifecycle: their operations.

use super::super::operation::{
    no_content, rate_limited_or, refer_as, schema, success, Headers, Op, Shared, Tag, QUEUE_LIMIT,
};
use super::super::param;
use crate::api::calls::MAX_FAN_OUT;
use crate::api::routes::QueueRoute;
use serde_json::json;

/// The operation `route` names.
pub(super) fn operation(route: &QueueRoute) -> Op {
    match route {
        QueueRoute::List => Op::new("get", "/api/v1/queues", "listQueues", Tag::Queues, "List queues")
            .about(&format!("Every queue the key may see that has jobs or settings, by name. At most {MAX_FAN_OUT} per page (fewer for a key whose rate limit per minute is lower); `X-Next-Cursor` names where the next page starts."))
            .respond(200, success("The queues.", Headers::RateLimited, json!({"type": "array", "items": {"$ref": "#/components/schemas/QueueSummary"}})))
            .across_queues("The request body could not be read"),
        QueueRoute::Get(_) => Op::new("get", "/api/v1/queues/{name}", "getQueue", Tag::Queues, "Get a queue's settings")
            .params(vec![param::queue_path()])
            .respond(200, success("The settings.", Headers::RateLimited, schema("QueueConfig")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name."))
            .respond(404, refer_as(Shared::NotFound, "The queue has neither jobs nor settings, or is outside the key's scope.")),
        QueueRoute::Delete(_) => Op::new("delete", "/api/v1/queues/{name}", "deleteQueue", Tag::Queues, "Delete a queue (and, with `delete_jobs`, its live jobs)")
            .about("Deletes the queue's jobs and settings and drops it from the catalog. Refused while it has live (`pending`, `scheduled`, `processing`) jobs unless `delete_jobs=true`.")
            .params(vec![param::queue_path(), json!({
                    "name": "delete_jobs",
                    "in": "query",
                    "description": "`true` (or `1`) deletes live jobs too; anything else refuses a queue with live jobs.",
                    "schema": {"type": "boolean", "default": false}
                })])
            .respond(204, no_content("Deleted.", Headers::RateLimited))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not change this queue."))
            .respond(404, refer_as(Shared::NotFound, "The queue has never been used (no settings, no jobs)."))
            .respond(409, refer_as(Shared::Conflict, "The queue still has `pending`, `scheduled` or `processing` jobs and `delete_jobs` is not `true`.")),
        QueueRoute::Configure(_) => Op::new("put", "/api/v1/queues/{name}/config", "configureQueue", Tag::Queues, "Change a queue's settings")
            .about("Defaults that enqueue and claim apply (`max_retries`, `default_timeout`, lease, backoff base and cap), retention, `max_jobs`, the claim `rate_limit`, and `enabled`. Fields not sent keep their value; an empty body changes nothing but records the queue.")
            .params(vec![param::queue_path()])
            .optional_body("QueueConfigRequest")
            .respond(200, success("The settings now in force.", Headers::RateLimited, schema("QueueConfig")))
            .respond(400, refer_as(Shared::BadRequest, "A value out of range, `backoff_base_secs` above `backoff_cap_secs` (sent or stored), a `queue_name` other than the path's, non-object `settings`, or a body naming none of the fields below (a misspelt setting; `{}` changes nothing)."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not change this queue."))
            .respond(429, rate_limited_or(&[QUEUE_LIMIT])),
        QueueRoute::Stats(_) => Op::new("get", "/api/v1/queues/{name}/stats", "queueStats", Tag::Queues, "A queue's stats")
            .params(vec![param::queue_path()])
            .respond(200, success("The queue's figures (zeros for an unknown queue).", Headers::RateLimited, schema("QueueStats")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name."))
            .respond(404, refer_as(Shared::NotFound, "The queue is outside the key's scope.")),
        QueueRoute::Pause(_) => Op::new("post", "/api/v1/queues/{name}/pause", "pauseQueue", Tag::Queues, "Pause claims (enqueue keeps working)")
            .params(vec![param::queue_path()])
            .optional_body("PauseRequest")
            .respond(200, success("Paused.", Headers::RateLimited, schema("PauseResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name, or `reason` over 500 characters."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not change this queue."))
            .respond(429, rate_limited_or(&[QUEUE_LIMIT])),
        QueueRoute::Resume(_) => Op::new("post", "/api/v1/queues/{name}/resume", "resumeQueue", Tag::Queues, "Resume claims")
            .params(vec![param::queue_path()])
            .respond(200, success("Resumed.", Headers::RateLimited, schema("ResumeResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not change this queue."))
            .respond(404, refer_as(Shared::NotFound, "The queue has never been used (no settings, no jobs).")),
    }
}
