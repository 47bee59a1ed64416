//! Commands on the jobs of one queue: their operations.

use super::super::operation::{
    failure, no_content, rate_limited_or, refer_as, schema, success, Headers, Op, Shared, Tag, QUEUE_FULL, QUEUE_LIMIT,
};
use super::super::param;
use crate::api::calls::MAX_FAN_OUT;
use crate::api::routes::JobRoute;
use crate::model::ErrorKind;
use serde_json::json;

/// The operation `route` names.
pub(super) fn operation(route: &JobRoute) -> Op {
    match route {
        JobRoute::Enqueue => Op::new("post", "/api/v1/jobs", "enqueueJob", Tag::Jobs, "Enqueue a job")
            .about("Creates a job in `queue_name` (created on first use): `pending`, or `scheduled` when `scheduled_at` is in the future. A repeated `idempotency_key` returns the existing job's id with `created: false` and stores nothing, whatever that job's state.")
            .body("EnqueueRequest")
            .respond(200, success("A job with this `idempotency_key` already exists in the queue; nothing was stored.", Headers::RateLimited, json!({
                    "$ref": "#/components/schemas/EnqueueResponse",
                    "type": "object",
                    "properties": {"created": {"const": false}}
                })))
            .respond(201, success("Created.", Headers::RateLimited, json!({
                    "$ref": "#/components/schemas/EnqueueResponse",
                    "type": "object",
                    "properties": {"created": {"const": true}}
                })))
            .respond(400, refer_as(Shared::BadRequest, "Invalid field (queue name, priority −100…100, max_retries 0–100, timeout_seconds 1–86400, RFC 3339 times, idempotency_key 1–255, tags), missing `payload`/`queue_name`, or a body that is not JSON. Also JSON that strict decoders refuse (see Limits)."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not use this queue."))
            .respond(413, refer_as(Shared::PayloadTooLarge, "`payload` over 1 MiB serialized, or the body over 2 MiB."))
            .respond(429, rate_limited_or(&[QUEUE_FULL, QUEUE_LIMIT])),
        JobRoute::EnqueueBulk => Op::new("post", "/api/v1/jobs/bulk", "enqueueBulk", Tag::Jobs, "Enqueue up to 100 jobs atomically")
            .about("All items go to one queue in one transaction: either every item is stored (or found by its idempotency key) or none is.")
            .body("BulkEnqueueRequest")
            .respond(200, success("Every item, in request order.", Headers::RateLimited, schema("BulkEnqueueResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid batch (1–100 `jobs`) or item; the message names the item (`jobs[i].…`). Also JSON that strict decoders refuse (see Limits)."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not use this queue."))
            .respond(413, refer_as(Shared::PayloadTooLarge, "An item's `payload` over 1 MiB, or the body over 2 MiB."))
            .respond(429, rate_limited_or(&[QUEUE_FULL, QUEUE_LIMIT])),
        JobRoute::Claim => Op::new("post", "/api/v1/jobs/claim", "claimJobs", Tag::WorkerLoop, "Claim (lease) ready jobs")
            .about("Leases up to `limit` ready jobs of one queue (priority descending, then FIFO) to the caller until `lease_expires_at`. With `wait_secs`, waits for a job when none is ready (long polling). A paused queue returns `{jobs: []}`.")
            .body("ClaimRequest")
            .respond(200, success("The claimed jobs (possibly none).", Headers::RateLimited, schema("ClaimResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name, `limit` not 1–100, lease not 5–43200, `wait_secs` not 0–20, `worker_id` not 1–255 characters, or an unknown priority filter operator."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not use this queue.")),
        JobRoute::Ack => Op::new("post", "/api/v1/jobs/ack", "ackJobs", Tag::WorkerLoop, "Complete and fail many leased jobs")
            .about("Batch ack (beyond Spooled): completes `acks` and fails `fails` of one queue in one call; each item is fenced by its `lease_id` and succeeds or fails on its own.")
            .body("AckRequest")
            .respond(200, success("One outcome per item.", Headers::RateLimited, schema("AckResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Missing `queue_name`, neither `acks` nor `fails` (an empty list is fine), more than 200 items, or an item without `id`/`lease_id` (or a fail without `error`). Also JSON that strict decoders refuse (see Limits)."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not use this queue."))
            .respond(413, refer_as(Shared::PayloadTooLarge, "An ack's `result` over 1 MiB, or the body over 2 MiB.")),
        JobRoute::ReplayDeadLetters => Op::new("post", "/api/v1/jobs/dlq/retry", "replayDeadLetters", Tag::DeadLetters, "Replay dead-lettered jobs")
            .about(&format!("Puts dead letters back to `pending` with `retry_count` 0: the ids given, else the oldest `limit` of `queue_name`, else the oldest `limit` of every queue the key may change. An empty body means the latter. Without ids or a queue it reaches at most {MAX_FAN_OUT} queues (by name) per request and sends `X-Next-Cursor` for the rest."))
            .optional_body("DeadLetterRetryRequest")
            .respond(200, success("The replayed jobs.", Headers::RateLimited, schema("DeadLetterRetryResponse")))
            .across_queues("`limit` not 1–100, more `job_ids` than `limit` (`BAD_REQUEST`), an invalid queue name, or a body naming none of the fields below (a misspelt field; send `{}` or no body to replay every dead letter)")
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not change a queue named (or implied by a job id).")),
        JobRoute::PurgeDeadLetters => Op::new("post", "/api/v1/jobs/dlq/purge", "purgeDeadLetters", Tag::DeadLetters, "Delete dead-lettered jobs")
            .body("PurgeRequest")
            .respond(200, success("How many dead letters were deleted.", Headers::RateLimited, schema("PurgeResponse")))
            .respond(400, refer_as(Shared::BadRequest, "`confirm` is not `true` (`BAD_REQUEST`), `queue_name` missing or invalid, `limit` not 1–10000, or a bad `older_than`."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key may not change this queue.")),
        JobRoute::Get(_) => Op::new("get", "/api/v1/jobs/{id}", "getJob", Tag::Jobs, "Get a job")
            .params(vec![param::job_id()])
            .respond(200, success("The job.", Headers::RateLimited, schema("Job")))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(404, refer_as(Shared::NotFound, "No such job.")),
        JobRoute::Cancel(_) => Op::new("delete", "/api/v1/jobs/{id}", "cancelJob", Tag::Jobs, "Cancel a pending or scheduled job")
            .params(vec![param::job_id()])
            .respond(204, no_content("Cancelled.", Headers::RateLimited))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(404, refer_as(Shared::NotFound, "No such job."))
            .respond(409, refer_as(Shared::Conflict, "The job is not `pending` or `scheduled`.")),
        JobRoute::Replay(_) => Op::new("post", "/api/v1/jobs/{id}/retry", "replayJob", Tag::DeadLetters, "Replay one dead-lettered job")
            .about("Back to `pending` with `retry_count` 0 and `last_error` cleared. No body.")
            .params(vec![param::job_id()])
            .respond(200, success("The replayed job.", Headers::RateLimited, schema("Job")))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(404, refer_as(Shared::NotFound, "No such job."))
            .respond(409, refer_as(Shared::Conflict, "The job is not dead-lettered.")),
        JobRoute::Complete(_) => Op::new("post", "/api/v1/jobs/{id}/complete", "completeJob", Tag::WorkerLoop, "Complete a leased job")
            .about("Completing again under the same `lease_id` with no or the same `result` (compared minified) succeeds and changes nothing; with another result it is 409 `ALREADY_COMPLETED`.")
            .params(vec![param::job_id()])
            .body("CompleteRequest")
            .respond(200, success("Completed.", Headers::RateLimited, schema("CompleteResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Empty or non-JSON body, or neither `lease_id` nor `worker_id`, or only `worker_id` where `require_lease_id` is set. Also JSON that strict decoders refuse (see Limits)."))
            .respond(404, refer_as(Shared::NotFound, "No such job."))
            .respond(409, failure("`LEASE_EXPIRED`: not the job's live lease. `ALREADY_COMPLETED`: completed before with another result (`details.result_sha256`: the stored one's).", Headers::RateLimited, &[ErrorKind::LeaseExpired, ErrorKind::AlreadyCompleted]))
            .respond(413, refer_as(Shared::PayloadTooLarge, "`result` over 1 MiB, or the body over 2 MiB.")),
        JobRoute::Fail(_) => Op::new("post", "/api/v1/jobs/{id}/fail", "failJob", Tag::WorkerLoop, "Fail a leased job (retry or dead-letter)")
            .about("Counts a failed attempt: back to `pending` after the queue's backoff (or `retry_after_secs`) while retries are left, else `deadletter`.")
            .params(vec![param::job_id()])
            .body("FailRequest")
            .respond(200, success("Where the job went.", Headers::RateLimited, schema("FailResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Missing `error`, `retry_after_secs` not 0–86400, neither `lease_id` nor `worker_id`, or a body that is not JSON, or only `worker_id` where `require_lease_id` is set."))
            .respond(404, refer_as(Shared::NotFound, "No such job."))
            .respond(409, refer_as(Shared::LeaseExpired, "Not the job's live lease.")),
        JobRoute::Heartbeat(_) => Op::new("post", "/api/v1/jobs/{id}/heartbeat", "heartbeatJob", Tag::WorkerLoop, "Extend a live lease")
            .about("Sets `lease_expires_at` to now + `lease_duration_secs` (default: the length it was claimed with). An expired lease is never revived.")
            .params(vec![param::job_id()])
            .body("JobHeartbeatRequest")
            .respond(200, success("The new deadline.", Headers::RateLimited, schema("HeartbeatResponse")))
            .respond(400, refer_as(Shared::BadRequest, "Lease not 5–43200, neither `lease_id` nor `worker_id` (an empty body has neither), or a body that is not JSON, or only `worker_id` where `require_lease_id` is set."))
            .respond(404, refer_as(Shared::NotFound, "No such job."))
            .respond(409, refer_as(Shared::LeaseExpired, "Not the job's live lease.")),
        JobRoute::SetPriority(_) => Op::new("put", "/api/v1/jobs/{id}/priority", "setJobPriority", Tag::Jobs, "Change a waiting job's priority")
            .params(vec![param::job_id()])
            .body("PriorityRequest")
            .respond(200, success("The priority changed.", Headers::RateLimited, schema("PriorityResponse")))
            .respond(400, refer_as(Shared::BadRequest, "`priority` missing or not −100…100."))
            .respond(404, refer_as(Shared::NotFound, "No such job."))
            .respond(409, refer_as(Shared::Conflict, "The job is not `pending` or `scheduled`.")),
    }
}
