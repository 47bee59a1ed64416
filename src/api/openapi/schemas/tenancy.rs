//! Component schemas of queues, workers, keys and organizations.

use super::{component, derived_view};
use crate::api::openapi::wire;
use crate::api::views::{
    HealthView, HeartbeatAckView, KeyView, OrganizationFields, OrganizationView, PausedView, QueueConfigView,
    QueueStatsView, QueueSummaryView, RegisteredWorkerView, ResumedView, WorkerView,
};
use serde_json::json;
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("QueueSummary", derived_view::<QueueSummaryView>()),
        ("QueueConfig", derived_view::<QueueConfigView>()),
        ("QueueStats", derived_view::<QueueStatsView>()),
        ("PauseResponse", derived_view::<PausedView>()),
        ("ResumeResponse", derived_view::<ResumedView>()),
        ("WorkerId", component::<wire::WorkerId>()),
        ("WorkerRegistration", derived_view::<RegisteredWorkerView>()),
        ("Worker", derived_view::<WorkerView>()),
        ("WorkerHeartbeatResponse", derived_view::<HeartbeatAckView>()),
        ("ApiKeyId", component::<wire::ApiKeyId>()),
        ("ApiKey", api_key(false)),
        ("CreatedApiKey", api_key(true)),
        ("RawApiKey", component::<wire::RawApiKey>()),
        ("Organization", derived_view::<OrganizationFields>()),
        ("OrganizationCreated", derived_view::<OrganizationView>()),
        ("Health", derived_view::<HealthView>()),
        (
            "OpenApiDocument",
            json!({
                "type": "object",
                "required": ["openapi", "info", "paths"],
                "properties": {
                    "openapi": {"type": "string", "pattern": "^3\\.1\\.\\d+$"},
                    "info": {"type": "object"},
                    "paths": {"type": "object"}
                },
                "additionalProperties": true,
                "description": "This document."
            }),
        ),
    ]
}

/// An API key as every read shows it; `with_secret` adds the raw key, which only the response
/// that created it shows. Both are `KeyView`, which sends `key` only when it has it.
fn api_key(with_secret: bool) -> Value {
    let mut key = derived_view::<KeyView>();
    if with_secret {
        key["required"].as_array_mut().expect("KeyView requires its fields").push(json!("key"));
        key["description"] =
            json!("A new API key; `key` is shown only in this response (only its SHA-256 hash is stored).");
    } else {
        key["properties"].as_object_mut().expect("KeyView has properties").remove("key");
    }
    key
}
