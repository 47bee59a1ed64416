//! Reads that may span queues: their operations.

use super::super::operation::{refer_as, schema, success, Headers, Op, Shared, Tag};
use super::super::param;
use crate::api::routes::ReadRoute;
use serde_json::json;

/// The operation `route` names.
pub(super) fn operation(route: &ReadRoute) -> Op {
    match route {
        ReadRoute::ListJobs => Op::new("get", "/api/v1/jobs", "listJobs", Tag::Jobs, "List jobs, newest first")
            .about("Across every queue the key may see (or one queue), newest first. A bare array; `X-Has-More` tells whether another page exists.")
            .params(param::job_list(Some(json!({
                    "name": "status",
                    "in": "query",
                    "description": "Only jobs in these statuses: one or a comma-separated list (`pending,scheduled`). Also accepts the aliases `claimed` (processing), `dlq` and `dead_letter` (deadletter). Unknown names are ignored, as in Spooled; none known means any status.",
                    "schema": {"type": "string"},
                    "example": "pending,scheduled"
                }))))
            .respond(200, success("A page of job summaries.", Headers::Paged, json!({"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/JobSummary"}})))
            .respond(400, refer_as(Shared::BadRequest, "`limit` not 1–100, `offset` not 0–10000, a malformed `created_after`/`created_before`, or an invalid queue name."))
            .respond(404, refer_as(Shared::NotFound, "`queue_name` names a queue outside the key's scope.")),
        ReadRoute::JobStats => Op::new("get", "/api/v1/jobs/stats", "jobStats", Tag::Jobs, "Job counts per status")
            .about("Summed over every queue the key may see, or for one queue.")
            .params(vec![param::queue_filter(), param::queue_filter_alias()])
            .respond(200, success("Counts per status.", Headers::RateLimited, schema("JobStats")))
            .respond(400, refer_as(Shared::BadRequest, "Invalid queue name."))
            .respond(404, refer_as(Shared::NotFound, "`queue_name` names a queue outside the key's scope.")),
        ReadRoute::JobStatuses => Op::new("get", "/api/v1/jobs/status", "jobStatuses", Tag::Jobs, "Status of many jobs by id")
            .about("Jobs of any queues. Ids that are malformed, unknown, or outside the key's scope are left out. A `queue_name` (or `queue`) parameter is not needed, but when sent it must be a valid name the key may see.")
            .params(vec![json!({
                    "name": "ids",
                    "in": "query",
                    "description": "Comma-separated job ids, at most 100. Empty or absent: `[]`.",
                    "schema": {"type": "string"},
                    "example": "emails.01KC7Z4Q9V3J8M2N6P5R4T3W2X,emails.01KC7Z4QA0B1C2D3E4F5G6H7J8"
                })])
            .respond(200, success("The jobs found, grouped by queue.", Headers::RateLimited, json!({"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/JobStatusEntry"}})))
            .respond(400, refer_as(Shared::BadRequest, "More than 100 ids (`BAD_REQUEST`), or an invalid `queue_name`."))
            .respond(404, refer_as(Shared::NotFound, "`queue_name` names a queue outside the key's scope.")),
        ReadRoute::ListDeadLetters => Op::new("get", "/api/v1/jobs/dlq", "listDeadLetters", Tag::DeadLetters, "List dead-lettered jobs, newest first")
            .params(param::job_list(None))
            .respond(200, success("A page of dead-lettered job summaries.", Headers::Paged, json!({"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/JobSummary"}})))
            .respond(400, refer_as(Shared::BadRequest, "`limit` not 1–100, `offset` not 0–10000, a malformed `created_after`/`created_before`, or an invalid queue name."))
            .respond(404, refer_as(Shared::NotFound, "`queue_name` names a queue outside the key's scope.")),
    }
}
