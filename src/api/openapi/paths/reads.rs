//! Reads that may span queues: their operations.

use super::super::operation::{refer_as, schema, success, thousands, Headers, Op, Shared, Tag};
use super::super::param;
use crate::api::calls::{MAX_FAN_OUT, MAX_MERGED_ROWS};
use crate::api::routes::ReadRoute;
use serde_json::json;

/// The operation `route` names.
pub(super) fn operation(route: &ReadRoute) -> Op {
    match route {
        ReadRoute::ListJobs => Op::new("get", "/api/v1/jobs", "listJobs", Tag::Jobs, "List jobs, newest first")
            .about(&format!("Across every queue the key may see (or one queue), newest first. A bare array; `X-Has-More` tells whether another page exists. Over more than {MAX_FAN_OUT} queues (or more than the key's rate limit per minute) it lists the jobs of the first ones by name and sends `X-Next-Cursor`."))
            .params(param::job_list(Some(json!({
                    "name": "status",
                    "in": "query",
                    "description": "Only jobs in these statuses: one or a comma-separated list (`pending,scheduled`). Also accepts the aliases `claimed` (processing), `dlq` and `dead_letter` (deadletter). Unknown names are ignored, as in Spooled; none known means any status.",
                    "schema": {"type": "string"},
                    "example": "pending,scheduled"
                }))))
            .respond(200, success("A page of job summaries.", Headers::Paged, json!({"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/JobSummary"}})))
            .across_queues(&job_list_refusals())
            .respond(404, refer_as(Shared::NotFound, "`queue_name` names a queue outside the key's scope.")),
        ReadRoute::JobStats => Op::new("get", "/api/v1/jobs/stats", "jobStats", Tag::Jobs, "Job counts per status")
            .about(&format!("Summed over every queue the key may see, or for one queue. Over more than {MAX_FAN_OUT} queues (or more than the key's rate limit per minute) the counts are those of the first ones by name, and `X-Next-Cursor` names where the rest continue: sum the pages for the whole."))
            .params(vec![param::queue_filter(), param::queue_filter_alias()])
            .respond(200, success("Counts per status.", Headers::RateLimited, schema("JobStats")))
            .across_queues("Invalid queue name")
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
            .across_queues(&job_list_refusals())
            .respond(404, refer_as(Shared::NotFound, "`queue_name` names a queue outside the key's scope.")),
    }
}

/// What a job list refuses with 400 (before a bad `cursor`): its page bounds, how deep pages
/// over many queues reach (`api::calls::Merge::check_reach`), and its filters.
fn job_list_refusals() -> String {
    let deepest = |queues: usize| thousands(MAX_MERGED_ROWS / queues - 1);
    format!(
        "`limit` not 1–100, `offset` not 0–10000, `offset` + `limit` past what the queues reached allow (each queue sends `offset` + `limit` + 1 rows and one request merges at most {}: over 8 queues `offset` + `limit` ≤ {}, over {MAX_FAN_OUT} ≤ {}; name a queue to page deeper), a malformed `created_after`/`created_before`, an invalid queue name",
        thousands(MAX_MERGED_ROWS),
        deepest(8),
        deepest(MAX_FAN_OUT as usize),
    )
}
