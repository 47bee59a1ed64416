//! Component schemas.

use super::{derived_view, view};
use crate::api::views::{
    HealthView, HeartbeatAckView, KeyView, OrganizationFields, OrganizationView, PausedView, QueueConfigView,
    QueueStatsView, QueueSummaryView, RegisteredWorkerView, ResumedView, WorkerView,
};
use crate::model::spec;
use crate::tenant::keys::DISPLAY_PREFIX_LEN;
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
        (
            "WorkerId",
            json!({
                "type": "string",
                "pattern": "^[A-Za-z0-9._-]{1,128}$",
                "description": "Minted as `wkr_` + 24 characters of `[0-9a-z]`, or chosen by the client at registration (1–128 characters of `A-Z a-z 0-9 . _ -`)."
            }),
        ),
        (
            "WorkerRegistration",
            view::<RegisteredWorkerView>(json!({
                "type": "object",
                "required": ["id", "queue_name", "lease_duration_secs", "heartbeat_interval_secs"],
                "properties": {
                    "id": {"$ref": "#/components/schemas/WorkerId"},
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "lease_duration_secs": {
                        "type": "integer",
                        "minimum": *spec::LEASE_SECS.start(),
                        "maximum": *spec::LEASE_SECS.end(),
                        "description": "The queue's default lease."
                    },
                    "heartbeat_interval_secs": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "How often to call `POST /workers/{id}/heartbeat` (10)."
                    }
                }
            })),
        ),
        (
            "Worker",
            view::<WorkerView>(json!({
                "type": "object",
                "required": [
                    "id",
                    "queue_name",
                    "queue_names",
                    "hostname",
                    "status",
                    "current_jobs",
                    "max_concurrency",
                    "last_heartbeat",
                    "worker_type",
                    "version",
                    "registered_at",
                    "updated_at"
                ],
                "properties": {
                    "id": {"$ref": "#/components/schemas/WorkerId"},
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "queue_names": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1,
                        "items": {"$ref": "#/components/schemas/QueueName"}
                    },
                    "hostname": {"type": "string", "minLength": 1, "maxLength": spec::MAX_HOSTNAME_LEN},
                    "status": {
                        "type": "string",
                        "enum": ["healthy", "degraded", "draining", "offline"],
                        "description": "As last reported; `offline` once silent for 2 minutes."
                    },
                    "current_jobs": {
                        "type": "integer",
                        "minimum": *spec::CURRENT_JOBS.start(),
                        "maximum": *spec::CURRENT_JOBS.end()
                    },
                    "max_concurrency": {
                        "type": "integer",
                        "minimum": *spec::MAX_CONCURRENCY.start(),
                        "maximum": *spec::MAX_CONCURRENCY.end()
                    },
                    "last_heartbeat": {"$ref": "#/components/schemas/Timestamp"},
                    "worker_type": {"type": ["string", "null"], "maxLength": spec::MAX_WORKER_LABEL_LEN},
                    "metadata": {
                        "type": "object",
                        "description": "Free-form object (default `{}`); left out of `GET /workers`."
                    },
                    "version": {"type": ["string", "null"], "maxLength": spec::MAX_WORKER_LABEL_LEN},
                    "registered_at": {"$ref": "#/components/schemas/Timestamp"},
                    "updated_at": {"$ref": "#/components/schemas/Timestamp"}
                },
                "description": "A registered worker. Offline workers are forgotten a day after their last heartbeat."
            })),
        ),
        (
            "WorkerHeartbeatResponse",
            view::<HeartbeatAckView>(json!({
                "type": "object",
                "required": ["acknowledged", "next_heartbeat_seconds"],
                "properties": {
                    "acknowledged": {"const": true},
                    "next_heartbeat_seconds": {"type": "integer", "minimum": 1}
                }
            })),
        ),
        (
            "ApiKeyId",
            json!({"type": "string", "pattern": "^key_[0-9a-z]{20}$", "examples": ["key_0123456789abcdefghij"]}),
        ),
        ("ApiKey", view::<KeyView>(api_key(false))),
        ("CreatedApiKey", view::<KeyView>(api_key(true))),
        (
            "RawApiKey",
            json!({
                "type": "string",
                "pattern": "^sp_live_[0-9a-z]{20}_[0-9a-z]{40}$",
                "description": "`sp_live_{tenant_id}_{secret}`: send it as `Authorization: Bearer …`."
            }),
        ),
        (
            "Organization",
            view::<OrganizationFields>(json!({
                "type": "object",
                "required": ["id", "name", "slug", "plan_tier", "created_at", "updated_at"],
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": "^[0-9a-z]{20}$",
                        "description": "The tenant id (also part of every API key)."
                    },
                    "name": {"type": "string", "minLength": 1, "maxLength": spec::MAX_NAME_LEN},
                    "slug": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
                    "plan_tier": {"const": "enterprise", "description": "edgespool has no billing tiers."},
                    "created_at": {"$ref": "#/components/schemas/Timestamp"},
                    "updated_at": {"$ref": "#/components/schemas/Timestamp"}
                }
            })),
        ),
        (
            "OrganizationCreated",
            view::<OrganizationView>(json!({
                "type": "object",
                "required": ["organization", "api_key"],
                "properties": {
                    "organization": {"$ref": "#/components/schemas/Organization"},
                    "api_key": {
                        "type": "object",
                        "required": ["id", "name", "created_at", "key"],
                        "properties": {
                            "id": {"$ref": "#/components/schemas/ApiKeyId"},
                            "name": {"const": "default"},
                            "created_at": {"$ref": "#/components/schemas/Timestamp"},
                            "key": {"$ref": "#/components/schemas/RawApiKey"}
                        },
                        "description": "The organization's first key (access to every queue); `key` is shown only here."
                    }
                }
            })),
        ),
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
/// that created it shows.
fn api_key(with_secret: bool) -> Value {
    let mut key = json!({
        "type": "object",
        "required": [
            "id",
            "name",
            "key_prefix",
            "queues",
            "rate_limit",
            "is_active",
            "created_at",
            "last_used",
            "expires_at"
        ],
        "properties": {
            "id": {"$ref": "#/components/schemas/ApiKeyId"},
            "name": {"type": "string", "minLength": 1, "maxLength": spec::MAX_NAME_LEN},
            "key_prefix": {
                "type": "string",
                "minLength": DISPLAY_PREFIX_LEN,
                "maxLength": DISPLAY_PREFIX_LEN,
                "description": "The key's first 16 characters, for recognising it."
            },
            "queues": {
                "type": "array",
                "maxItems": spec::MAX_KEY_QUEUES,
                "items": {"type": "string"},
                "description": "Queue names, or `[\"*\"]` for every queue."
            },
            "rate_limit": {
                "type": ["integer", "null"],
                "minimum": *spec::KEY_RATE_LIMIT.start(),
                "maximum": *spec::KEY_RATE_LIMIT.end(),
                "description": "Requests per minute for this key; `null`: the server default."
            },
            "is_active": {"type": "boolean"},
            "created_at": {"$ref": "#/components/schemas/Timestamp"},
            "last_used": {"$ref": "#/components/schemas/NullableTimestamp"},
            "expires_at": {"$ref": "#/components/schemas/NullableTimestamp"}
        },
        "description": "An API key without its secret."
    });
    if with_secret {
        if let Some(required) = key["required"].as_array_mut() {
            required.push(json!("key"));
        }
        key["properties"]["key"] = json!({"$ref": "#/components/schemas/RawApiKey"});
        key["description"] =
            json!("A new API key; `key` is shown only in this response (only its SHA-256 hash is stored).");
    }
    key
}
