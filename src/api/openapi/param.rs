//! Parameters several operations share.

use super::operation::thousands;
use super::schemas::QUEUE_NAME_PATTERN;
use crate::api::calls::MAX_MERGED_ROWS;
use crate::model::spec;
use serde_json::json;
use serde_json::Value;

/// `queue_name` (query), as listJobs and the operations like it take it.
pub fn queue_filter() -> Value {
    json!({
        "name": "queue_name",
        "in": "query",
        "description": "Only this queue (400 if the name is invalid, 404 if outside the key's scope). Default: every queue the key may see.",
        "schema": {"$ref": "#/components/schemas/QueueName"}
    })
}

/// `queue` (query), as listJobs and the operations like it take it.
pub fn queue_filter_alias() -> Value {
    json!({
        "name": "queue",
        "in": "query",
        "description": "Alias of `queue_name` (which wins when both are sent; either malformed is 400).",
        "schema": {"$ref": "#/components/schemas/QueueName"}
    })
}

/// `tag` (query), as listJobs and the operations like it take it.
pub fn tag_filter() -> Value {
    json!({
        "name": "tag",
        "in": "query",
        "description": "Only jobs carrying this tag (an element of a tags array or a key of a tags object). A tag that is not 1–64 characters of `A-Z a-z 0-9 . _ -` is ignored.",
        "schema": {"type": "string"}
    })
}

/// `job_type` (query), as listJobs and the operations like it take it.
pub fn job_type_filter() -> Value {
    json!({
        "name": "job_type",
        "in": "query",
        "description": "Only jobs whose `payload.job_type` equals this.",
        "schema": {"type": "string"}
    })
}

/// `q` (query), as listJobs and the operations like it take it.
pub fn search() -> Value {
    json!({
        "name": "q",
        "in": "query",
        "description": "Search, case-insensitive: the job id starts with it, or the queue name or `payload.job_type` contains it.",
        "schema": {"type": "string"}
    })
}

/// `created_after` (query), as listJobs and the operations like it take it.
pub fn created_after() -> Value {
    json!({
        "name": "created_after",
        "in": "query",
        "description": "Only jobs created at or after this RFC 3339 time (400 if malformed).",
        "schema": {"$ref": "#/components/schemas/RequestTime"}
    })
}

/// `created_before` (query), as listJobs and the operations like it take it.
pub fn created_before() -> Value {
    json!({
        "name": "created_before",
        "in": "query",
        "description": "Only jobs created before this RFC 3339 time (400 if malformed).",
        "schema": {"$ref": "#/components/schemas/RequestTime"}
    })
}

/// `limit` (query), as listJobs and the operations like it take it.
pub fn job_page_limit() -> Value {
    json!({
        "name": "limit",
        "in": "query",
        "description": "Page size.",
        "schema": {
            "type": "integer",
            "minimum": *spec::LIST_LIMIT.start(),
            "maximum": *spec::LIST_LIMIT.end(),
            "default": 50
        }
    })
}

/// `offset` (query), as listJobs and the operations like it take it.
pub fn job_page_offset() -> Value {
    json!({
        "name": "offset",
        "in": "query",
        "description": format!("Jobs to skip (newest first). Over several queues, `offset` + `limit` + 1 times the queues reached may be at most {} (400 otherwise).", thousands(MAX_MERGED_ROWS)),
        "schema": {"type": "integer", "minimum": 0, "maximum": spec::MAX_LIST_OFFSET, "default": 0}
    })
}

/// `cursor` (query), as the reads and replays across queues take it ([`super::operation::Op::across_queues`]).
pub fn cursor() -> Value {
    json!({
        "name": "cursor",
        "in": "query",
        "description": "Where to continue: the `X-Next-Cursor` of the previous response, unchanged (400 if it is not one, also beside a named queue, which leaves nothing to continue).",
        "schema": {"type": "string", "minLength": 1, "maxLength": spec::MAX_QUEUE_NAME_LEN, "pattern": QUEUE_NAME_PATTERN}
    })
}

/// `id` (path), as getJob and the operations like it take it.
pub fn job_id() -> Value {
    json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": "A job id (`{queue_name}.{ULID}`). Ids that are malformed, of another tenant, or of a queue outside the key's scope are 404.",
        "schema": {"type": "string"},
        "examples": {"job": {"value": "emails.01KC7Z4Q9V3J8M2N6P5R4T3W2X"}}
    })
}

/// `name` (path), as getQueue and the operations like it take it.
pub fn queue_path() -> Value {
    json!({
        "name": "name",
        "in": "path",
        "required": true,
        "description": "Queue name (1–64 characters of `A-Z a-z 0-9 _ -`, starting with a letter or digit; 400 otherwise).",
        "schema": {"$ref": "#/components/schemas/QueueName"},
        "example": "emails"
    })
}

/// `id` (path), as getWorker and the operations like it take it.
pub fn worker_path() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "Worker id.", "schema": {"type": "string"}})
}

/// `id` (path), as getApiKey and the operations like it take it.
pub fn key_path() -> Value {
    json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": "API key id (`key_…`).",
        "schema": {"type": "string"}
    })
}

/// The parameters of a job list: the queue, then `status` where the list takes one, then the
/// filters and the page.
pub fn job_list(status: Option<Value>) -> Vec<Value> {
    let queue = [queue_filter(), queue_filter_alias()];
    let rest = [
        tag_filter(),
        job_type_filter(),
        search(),
        created_after(),
        created_before(),
        job_page_limit(),
        job_page_offset(),
    ];
    queue.into_iter().chain(status).chain(rest).collect()
}

/// The `{id}` of an outgoing webhook.
pub fn webhook_path() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "Webhook id (UUID v4).", "schema": {"type": "string"}})
}

/// The `{delivery_id}` of a webhook delivery: the event's id.
pub fn delivery_path() -> Value {
    json!({
        "name": "delivery_id",
        "in": "path",
        "required": true,
        "description": "Delivery id: the id of the event delivered (the envelope's `id`).",
        "schema": {"type": "string"}
    })
}
