//! Component schemas.

use super::super::operation::number;
use super::view;
use crate::api::views::{
    HealthView, HeartbeatAckView, KeyView, OrganizationFields, OrganizationView, PausedView, QueueConfigView,
    QueueStatsView, QueueSummaryView, RegisteredWorkerView, ResumedView, WorkerView,
};
use crate::model::spec;
use crate::tenant::keys::{DISPLAY_PREFIX_LEN, SECRET_LEN, TENANT_ID_LEN};
use crate::tenant::signing::SIGNATURE_LEN;
use serde_json::json;
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "QueueSummary",
            view::<QueueSummaryView>(json!({
                "type": "object",
                "required": ["queue_name", "max_retries", "default_timeout", "rate_limit", "enabled"],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "max_retries": {
                        "type": "integer",
                        "minimum": *spec::MAX_RETRIES.start(),
                        "maximum": *spec::MAX_RETRIES.end()
                    },
                    "default_timeout": {
                        "type": "integer",
                        "minimum": *spec::TIMEOUT_SECS.start(),
                        "maximum": *spec::TIMEOUT_SECS.end()
                    },
                    "rate_limit": {
                        "type": ["integer", "null"],
                        "minimum": *spec::QUEUE_RATE_LIMIT.start(),
                        "maximum": *spec::QUEUE_RATE_LIMIT.end(),
                        "description": "Most jobs claimed per second across all workers; `null`: unlimited."
                    },
                    "enabled": {"type": "boolean", "description": "`false` while paused."}
                }
            })),
        ),
        (
            "QueueConfig",
            view::<QueueConfigView>(json!({
                "type": "object",
                "required": [
                    "id",
                    "organization_id",
                    "queue_name",
                    "max_retries",
                    "default_timeout",
                    "rate_limit",
                    "enabled",
                    "settings",
                    "lease_duration_secs",
                    "backoff_base_secs",
                    "backoff_cap_secs",
                    "retention_secs",
                    "max_jobs",
                    "paused_at",
                    "paused_reason",
                    "created_at",
                    "updated_at",
                    "require_lease_id"
                ],
                "properties": {
                    "id": {"$ref": "#/components/schemas/QueueName"},
                    "organization_id": {"type": "string", "pattern": "^[0-9a-z]{20}$"},
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "max_retries": {
                        "type": "integer",
                        "minimum": *spec::MAX_RETRIES.start(),
                        "maximum": *spec::MAX_RETRIES.end(),
                        "description": "Default `max_retries` for jobs that set none (default 3)."
                    },
                    "default_timeout": {
                        "type": "integer",
                        "minimum": *spec::TIMEOUT_SECS.start(),
                        "maximum": *spec::TIMEOUT_SECS.end(),
                        "description": "Default `timeout_seconds` for jobs that set none (default 300)."
                    },
                    "rate_limit": {
                        "type": ["integer", "null"],
                        "minimum": *spec::QUEUE_RATE_LIMIT.start(),
                        "maximum": *spec::QUEUE_RATE_LIMIT.end(),
                        "description": "Most jobs claimed per second, across all workers (claims beyond it get fewer or no jobs; a long-polling claim waits for the next token); `null`: unlimited (default)."
                    },
                    "enabled": {
                        "type": "boolean",
                        "description": "`false` while paused: claims return no jobs; enqueue still works."
                    },
                    "settings": {
                        "type": "object",
                        "description": "Free-form settings stored with the queue (default `{}`)."
                    },
                    "lease_duration_secs": {
                        "type": "integer",
                        "minimum": *spec::LEASE_SECS.start(),
                        "maximum": *spec::LEASE_SECS.end(),
                        "description": "Lease of claims that set none (default 30)."
                    },
                    "backoff_base_secs": {
                        "type": "number",
                        "minimum": number(*spec::BACKOFF_SECS.start()),
                        "maximum": number(*spec::BACKOFF_SECS.end()),
                        "description": "First retry delay after a failed attempt (default 1)."
                    },
                    "backoff_cap_secs": {
                        "type": "number",
                        "minimum": number(*spec::BACKOFF_SECS.start()),
                        "maximum": number(*spec::BACKOFF_SECS.end()),
                        "description": "Longest retry delay before jitter (default 60)."
                    },
                    "retention_secs": {
                        "type": "integer",
                        "minimum": *spec::RETENTION_SECS.start(),
                        "maximum": *spec::RETENTION_SECS.end(),
                        "description": "How long completed and cancelled jobs are kept (default 604800, 7 days)."
                    },
                    "max_jobs": {
                        "type": "integer",
                        "minimum": *spec::MAX_JOBS.start(),
                        "maximum": *spec::MAX_JOBS.end(),
                        "description": "Most jobs stored at once, any status (default 1,000,000); past it enqueue answers 429 `QUEUE_FULL`."
                    },
                    "require_lease_id": {
                        "type": "boolean",
                        "description": "Whether worker operations need the `lease_id`."
                    },
                    "paused_at": {"$ref": "#/components/schemas/NullableTimestamp"},
                    "paused_reason": {"type": ["string", "null"], "maxLength": spec::MAX_PAUSE_REASON_LEN},
                    "created_at": {
                        "$ref": "#/components/schemas/Timestamp",
                        "description": "When the queue first had a job or a setting. A queue never configured reports its oldest stored job's enqueue time (finished jobs are pruned after retention); its first setting fixes the value."
                    },
                    "updated_at": {
                        "$ref": "#/components/schemas/Timestamp",
                        "description": "When the settings last changed; `created_at` for a queue never configured."
                    }
                },
                "description": "A queue's settings (Spooled's `QueueConfig` plus edgespool's own fields). Enqueue and claim apply these defaults."
            })),
        ),
        (
            "QueueStats",
            view::<QueueStatsView>(json!({
                "type": "object",
                "required": [
                    "queue_name",
                    "pending_jobs",
                    "processing_jobs",
                    "completed_jobs_24h",
                    "failed_jobs_24h",
                    "avg_processing_time_ms",
                    "max_job_age_seconds",
                    "active_workers",
                    "total_jobs",
                    "database_bytes"
                ],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "pending_jobs": {"type": "integer", "minimum": 0, "description": "`pending` plus `scheduled` jobs."},
                    "processing_jobs": {"type": "integer", "minimum": 0},
                    "completed_jobs_24h": {"type": "integer", "minimum": 0},
                    "failed_jobs_24h": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Jobs dead-lettered in the last 24 hours."
                    },
                    "avg_processing_time_ms": {
                        "type": ["number", "null"],
                        "minimum": 0,
                        "description": "Mean `completed_at - started_at` of the last 24 hours' completions; `null` when none."
                    },
                    "max_job_age_seconds": {
                        "type": ["integer", "null"],
                        "minimum": 0,
                        "description": "Age of the oldest waiting (`pending`/`scheduled`) job; `null` when none."
                    },
                    "active_workers": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Distinct workers holding leases now."
                    },
                    "total_jobs": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Jobs stored, any status (bounded by `max_jobs`)."
                    },
                    "database_bytes": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Size of the queue's SQLite database."
                    }
                },
                "description": "Spooled's queue stats. A queue that never existed has all zeros."
            })),
        ),
        (
            "PauseResponse",
            view::<PausedView>(json!({
                "type": "object",
                "required": ["queue_name", "paused", "paused_at", "reason"],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "paused": {"const": true},
                    "paused_at": {"$ref": "#/components/schemas/Timestamp"},
                    "reason": {"type": ["string", "null"], "maxLength": spec::MAX_PAUSE_REASON_LEN}
                }
            })),
        ),
        (
            "ResumeResponse",
            view::<ResumedView>(json!({
                "type": "object",
                "required": ["queue_name", "resumed", "paused_duration_secs"],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "resumed": {"const": true},
                    "paused_duration_secs": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "How long the queue had been paused (0 when it was not)."
                    }
                }
            })),
        ),
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
                "pattern": format!("^sp_live_[0-9a-z]{{{TENANT_ID_LEN}}}([0-9a-z]{{{SIGNATURE_LEN}}})?_[0-9a-z]{{{SECRET_LEN}}}$"),
                "description": format!("`sp_live_{{tenant_id}}{{signature}}_{{secret}}`: send it as `Authorization: Bearer …`. The {SIGNATURE_LEN}-character signature of the tenant id is there when the server has `KEY_SIGNING_SECRET` set.")
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
        (
            "Health",
            view::<HealthView>(json!({
                "type": "object",
                "required": ["status", "version"],
                "properties": {
                    "status": {"const": "healthy"},
                    "version": {"type": "string", "description": "The server's version."}
                }
            })),
        ),
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
