//! Component schemas of the request bodies: each its body struct's derived properties, plus
//! the rules validation applies that a struct cannot state (required fields, "one of the
//! queue's two names", "not both"), written here.

use super::{request, steering};
use crate::api::{jobs, keys, organizations, queues, webhooks, workers};
use serde_json::json;
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let queue = json!([{"required": ["queue_name"]}, {"required": ["queue"]}]);
    let not_both = json!({"required": ["queue_name", "queue"]});
    let fenced = json!([{"required": ["lease_id"]}, {"required": ["worker_id"]}]);
    vec![
        (
            "EnqueueRequest",
            request::<jobs::JobFields>(json!({
                "required": ["payload"],
                "anyOf": queue,
                "not": {"anyOf": [not_both, {"required": ["scheduled_at", "scheduled_for"]}]}
            })),
        ),
        ("BulkEnqueueRequest", bulk(json!({"required": ["jobs"], "anyOf": queue, "not": not_both}))),
        ("ClaimRequest", request::<jobs::ClaimBody>(json!({"anyOf": queue, "not": not_both}))),
        ("CompleteRequest", request::<jobs::CompleteBody>(json!({"anyOf": fenced}))),
        (
            "FailRequest",
            request::<jobs::FailBody>(json!({
                "allOf": [{"anyOf": [{"required": ["error"]}, {"required": ["reason"]}]}, {"anyOf": fenced}]
            })),
        ),
        ("JobHeartbeatRequest", request::<jobs::HeartbeatBody>(json!({"anyOf": fenced}))),
        ("PriorityRequest", request::<jobs::PriorityBody>(json!({"required": ["priority"]}))),
        (
            "AckRequest",
            request::<jobs::AckBody>(json!({
                "allOf": [{
                    "anyOf": [
                        {"required": ["acks"], "properties": {"acks": {"type": "array"}}},
                        {"required": ["fails"], "properties": {"fails": {"type": "array"}}}
                    ]
                }],
                "anyOf": queue,
                "not": not_both
            })),
        ),
        ("DeadLetterRetryRequest", steering::<jobs::ReplayBody>(json!({"not": not_both}))),
        ("PurgeRequest", request::<jobs::PurgeBody>(json!({"required": ["confirm"], "anyOf": queue, "not": not_both}))),
        ("QueueConfigRequest", steering::<queues::ConfigBody>(json!({}))),
        ("PauseRequest", request::<queues::PauseBody>(json!({}))),
        (
            "RegisterWorkerRequest",
            request::<workers::RegisterBody>(json!({
                "required": ["hostname"],
                "anyOf": queue,
                "not": not_both
            })),
        ),
        ("WorkerHeartbeatRequest", request::<workers::HeartbeatBody>(json!({}))),
        ("CreateApiKeyRequest", request::<keys::CreateKeyBody>(json!({"required": ["name"]}))),
        ("UpdateApiKeyRequest", steering::<keys::UpdateKeyBody>(json!({}))),
        (
            "CreateOutgoingWebhookRequest",
            request::<webhooks::CreateWebhookBody>(json!({"required": ["name", "url", "events"]})),
        ),
        ("UpdateOutgoingWebhookRequest", steering::<webhooks::UpdateWebhookBody>(json!({}))),
        ("CreateOrganizationRequest", request::<organizations::OrganizationBody>(json!({"required": ["name"]}))),
    ]
}

/// A bulk enqueue: its items are `JobFields` without the queue, which the batch names.
fn bulk(rules: Value) -> Value {
    let mut bulk = request::<jobs::BulkBody>(rules);
    let mut item = request::<jobs::JobFields>(json!({
        "required": ["payload"],
        "description": "A job; its own `queue_name` is ignored (the batch names the queue).",
        "not": {"required": ["scheduled_at", "scheduled_for"]}
    }));
    let fields = item["properties"].as_object_mut().expect("JobFields has properties");
    fields.remove("queue_name");
    fields.remove("queue");
    // A job's own webhook is for `POST /jobs` only (a bulk item naming one is a 400).
    fields.remove("completion_webhook");
    fields.remove("completion_webhook_secret");
    bulk["properties"]["jobs"]["items"] = item;
    bulk
}
