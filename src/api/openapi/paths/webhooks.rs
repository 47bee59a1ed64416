//! Outgoing webhooks: their operations.

use super::super::operation::{no_content, rate_limited_or, refer_as, schema, success, Headers, Op, Shared, Tag};
use super::super::param;
use crate::api::routes::WebhookRoute;
use crate::model::ErrorKind;
use serde_json::json;

const SCOPED: &str =
    "A queue-scoped key: only keys reaching every queue manage webhooks (a webhook sees every queue's events).";
const NO_WEBHOOK: &str = "No such webhook.";
/// Why creating or enabling a webhook may be refused with 429 besides the rate limit.
const WEBHOOK_QUOTA: (&str, ErrorKind) = (
    "the organization already has `WEBHOOK_LIMIT` enabled webhooks and this would enable another (`QUOTA_EXCEEDED`; disable or delete one first)",
    ErrorKind::QuotaExceeded,
);

/// The operation `route` names.
pub(super) fn operation(route: &WebhookRoute) -> Op {
    match route {
        WebhookRoute::Create => Op::new("post", "/api/v1/outgoing-webhooks", "createOutgoingWebhook", Tag::Webhooks, "Create an outgoing webhook")
            .about("Every delivery is signed: without a `secret` one is generated and returned in this response only (`secret`). Deliveries are retried from storage for over a day (see the README for the curve).")
            .body("CreateOutgoingWebhookRequest")
            .respond(201, success("Created.", Headers::RateLimited, schema("OutgoingWebhook")))
            .respond(400, refer_as(Shared::BadRequest, "A field missing or invalid: `name` not 1–255 characters, `url` refused by the URL rules (`https` to a public host), an unknown event, `secret` not 16–255 characters, a `format` other than `json`."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(429, rate_limited_or(&[WEBHOOK_QUOTA])),
        WebhookRoute::List => Op::new("get", "/api/v1/outgoing-webhooks", "listOutgoingWebhooks", Tag::Webhooks, "List outgoing webhooks")
            .about("Newest first, without secrets.")
            .respond(200, success("The webhooks.", Headers::RateLimited, json!({"type": "array", "items": {"$ref": "#/components/schemas/OutgoingWebhook"}})))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED)),
        WebhookRoute::Get(_) => Op::new("get", "/api/v1/outgoing-webhooks/{id}", "getOutgoingWebhook", Tag::Webhooks, "Get an outgoing webhook")
            .params(vec![param::webhook_path()])
            .respond(200, success("The webhook.", Headers::RateLimited, schema("OutgoingWebhook")))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(404, refer_as(Shared::NotFound, NO_WEBHOOK)),
        WebhookRoute::Update(_) => Op::new("put", "/api/v1/outgoing-webhooks/{id}", "updateOutgoingWebhook", Tag::Webhooks, "Change an outgoing webhook")
            .about("Absent fields stay. `secret: null` is refused: a secret is replaced, never removed. Enabling a disabled webhook starts its failure count afresh.")
            .params(vec![param::webhook_path()])
            .optional_body("UpdateOutgoingWebhookRequest")
            .respond(200, success("The webhook as changed.", Headers::RateLimited, schema("OutgoingWebhook")))
            .respond(400, refer_as(Shared::BadRequest, "An invalid field, `secret: null`, or a body naming none of the fields."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(404, refer_as(Shared::NotFound, NO_WEBHOOK))
            .respond(429, rate_limited_or(&[WEBHOOK_QUOTA])),
        WebhookRoute::Delete(_) => Op::new("delete", "/api/v1/outgoing-webhooks/{id}", "deleteOutgoingWebhook", Tag::Webhooks, "Delete an outgoing webhook and its deliveries")
            .params(vec![param::webhook_path()])
            .respond(204, no_content("Deleted.", Headers::RateLimited))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(404, refer_as(Shared::NotFound, NO_WEBHOOK)),
        WebhookRoute::Test(_) => Op::new("post", "/api/v1/outgoing-webhooks/{id}/test", "testOutgoingWebhook", Tag::Webhooks, "Send a test delivery")
            .about("POSTs a real, signed envelope with `event: \"webhook.test\"` now, disabled webhooks included; not stored, not counted.")
            .params(vec![param::webhook_path()])
            .respond(200, success("What the receiver answered.", Headers::RateLimited, schema("WebhookTestResult")))
            .respond(400, refer_as(Shared::BadRequest, "The stored URL is refused by the URL rules now."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(404, refer_as(Shared::NotFound, NO_WEBHOOK)),
        WebhookRoute::Deliveries(_) => Op::new("get", "/api/v1/outgoing-webhooks/{id}/deliveries", "listOutgoingWebhookDeliveries", Tag::Webhooks, "List a webhook's deliveries")
            .about("Newest first; finished deliveries are kept 7 days.")
            .params(vec![
                param::webhook_path(),
                json!({"name": "status", "in": "query", "description": "Only deliveries in this state.", "schema": {"type": "string", "enum": ["pending", "success", "failed"]}}),
                json!({"name": "limit", "in": "query", "description": "Page size.", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}}),
                json!({"name": "offset", "in": "query", "description": "Deliveries to skip.", "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}}),
            ])
            .respond(200, success("The deliveries.", Headers::RateLimited, json!({"type": "array", "items": {"$ref": "#/components/schemas/OutgoingWebhookDelivery"}})))
            .respond(400, refer_as(Shared::BadRequest, "An unknown `status`, or `limit`/`offset` out of range."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(404, refer_as(Shared::NotFound, NO_WEBHOOK)),
        WebhookRoute::Retry(..) => Op::new("post", "/api/v1/outgoing-webhooks/{id}/retry/{delivery_id}", "retryOutgoingWebhookDelivery", Tag::Webhooks, "Attempt a delivery again now")
            .about("One attempt, now, whatever the delivery's schedule; a failure keeps it on its retry curve (or ends it as failed when the curve is done).")
            .params(vec![param::webhook_path(), param::delivery_path()])
            .respond(200, success("Whether the receiver took it.", Headers::RateLimited, schema("WebhookRetryResult")))
            .respond(400, refer_as(Shared::BadRequest, "The delivery succeeded already."))
            .respond(403, refer_as(Shared::AccessDenied, SCOPED))
            .respond(404, refer_as(Shared::NotFound, "No such webhook or delivery.")),
        WebhookRoute::JobDeliveries(_) => Op::new("get", "/api/v1/jobs/{id}/webhook-deliveries", "listJobWebhookDeliveries", Tag::Webhooks, "List the deliveries of a job's completion webhook")
            .about("The job's own `completion_webhook`: one delivery when it completes or fails for good (again after a replay), newest first. Any key that may see the job's queue.")
            .params(vec![param::job_id()])
            .respond(200, success("The deliveries (`webhook_id` is `job:<job id>`).", Headers::RateLimited, json!({"type": "array", "items": {"$ref": "#/components/schemas/OutgoingWebhookDelivery"}})))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(404, refer_as(Shared::NotFound, "No such job id, or its queue is outside the API key's scope.")),
    }
}
