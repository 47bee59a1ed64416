//! Component schemas.

use super::{request, steering};
use crate::api::{jobs, keys, organizations, queues, workers};
use crate::model::spec;
use serde_json::json;
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "EnqueueRequest",
            request::<jobs::JobFields>(json!({
                "type": "object",
                "required": ["payload"],
                "properties": queue_first(job_fields()),
                "anyOf": [{"required": ["queue_name"]}, {"required": ["queue"]}],
                "not": {
                    "anyOf": [{"required": ["queue_name", "queue"]}, {"required": ["scheduled_at", "scheduled_for"]}]
                }
            })),
        ),
        (
            "BulkEnqueueRequest",
            request::<jobs::BulkBody>(json!({
                "type": "object",
                "required": ["jobs"],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "queue": {
                        "$ref": "#/components/schemas/QueueName",
                        "description": "Alias of `queue_name`; send one of the two (both is 400)."
                    },
                    "jobs": {
                        "type": "array",
                        "minItems": *spec::BULK_JOBS.start(),
                        "maxItems": *spec::BULK_JOBS.end(),
                        "items": {
                            "type": "object",
                            "required": ["payload"],
                            "properties": job_fields(),
                            "description": "A job; its own `queue_name` is ignored (the batch names the queue).",
                            "not": {"required": ["scheduled_at", "scheduled_for"]}
                        }
                    },
                    "default_priority": {
                        "anyOf": [{"$ref": "#/components/schemas/Priority"}, {"type": "null"}],
                        "description": "For items that set no `priority`."
                    },
                    "default_max_retries": {
                        "type": ["integer", "null"],
                        "minimum": *spec::MAX_RETRIES.start(),
                        "maximum": *spec::MAX_RETRIES.end(),
                        "description": "For items that set no `max_retries`."
                    },
                    "default_timeout_seconds": {
                        "type": ["integer", "null"],
                        "minimum": *spec::TIMEOUT_SECS.start(),
                        "maximum": *spec::TIMEOUT_SECS.end(),
                        "description": "For items that set no `timeout_seconds`."
                    },
                    "idempotency_key": {
                        "type": ["string", "null"],
                        "minLength": 1,
                        "maxLength": spec::MAX_BATCH_IDEMPOTENCY_KEY_LEN,
                        "description": "Makes the batch retry-safe: item `i` without a key of its own gets `{idempotency_key}:{i}` (hence at most 252 characters: the item keys must fit in 255)."
                    }
                },
                "anyOf": [{"required": ["queue_name"]}, {"required": ["queue"]}],
                "not": {"required": ["queue_name", "queue"]}
            })),
        ),
        (
            "ClaimRequest",
            request::<jobs::ClaimBody>(json!({
                "type": "object",
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "queue": {
                        "$ref": "#/components/schemas/QueueName",
                        "description": "Alias of `queue_name`; send one of the two (both is 400)."
                    },
                    "worker_id": {
                        "type": ["string", "null"],
                        "minLength": 1,
                        "maxLength": spec::MAX_WORKER_ID_LEN,
                        "description": "Recorded on the job (`assigned_worker_id`); complete/fail/heartbeat without a `lease_id` are fenced by it."
                    },
                    "limit": {
                        "type": ["integer", "null"],
                        "minimum": *spec::CLAIM_LIMIT.start(),
                        "maximum": *spec::CLAIM_LIMIT.end(),
                        "default": 1
                    },
                    "lease_duration_secs": {
                        "type": ["integer", "null"],
                        "minimum": *spec::LEASE_SECS.start(),
                        "maximum": *spec::LEASE_SECS.end(),
                        "description": "Lease (visibility timeout). Default: the queue's `lease_duration_secs` (30)."
                    },
                    "visibility": {
                        "type": ["integer", "null"],
                        "minimum": *spec::LEASE_SECS.start(),
                        "maximum": *spec::LEASE_SECS.end(),
                        "description": "Alias of `lease_duration_secs`."
                    },
                    "filter": {
                        "type": ["object", "null"],
                        "properties": {
                            "priority": {
                                "type": ["object", "null"],
                                "additionalProperties": false,
                                "properties": {
                                    "gte": {"type": ["integer", "null"]},
                                    "gt": {"type": ["integer", "null"]},
                                    "lte": {"type": ["integer", "null"]},
                                    "lt": {"type": ["integer", "null"]},
                                    "eq": {"type": ["integer", "null"]}
                                },
                                "description": "Bounds on the priorities to claim; several combine. Unknown operators are a 400."
                            }
                        }
                    },
                    "wait_secs": {
                        "type": ["integer", "null"],
                        "minimum": *spec::WAIT_SECS.start(),
                        "maximum": *spec::WAIT_SECS.end(),
                        "default": 0,
                        "description": "Long polling: when nothing is claimable, wait up to this long for a job (woken by enqueue or the alarm); then answer `{jobs: []}`."
                    }
                },
                "anyOf": [{"required": ["queue_name"]}, {"required": ["queue"]}],
                "not": {"required": ["queue_name", "queue"]}
            })),
        ),
        (
            "CompleteRequest",
            request::<jobs::CompleteBody>(json!({
                "type": "object",
                "anyOf": [{"required": ["lease_id"]}, {"required": ["worker_id"]}],
                "properties": {
                    "lease_id": {"type": "string"},
                    "worker_id": {
                        "type": "string",
                        "description": "Fences by the claiming worker when no `lease_id` is sent, unless the queue sets `require_lease_id`."
                    },
                    "result": {"description": "Stored as the job's `result`; at most 1 MiB serialized (413)."}
                },
                "description": "`lease_id` (or, for legacy clients, `worker_id`) fences the job."
            })),
        ),
        (
            "FailRequest",
            request::<jobs::FailBody>(json!({
                "type": "object",
                "allOf": [
                    {"anyOf": [{"required": ["error"]}, {"required": ["reason"]}]},
                    {"anyOf": [{"required": ["lease_id"]}, {"required": ["worker_id"]}]}
                ],
                "properties": {
                    "lease_id": {"type": "string"},
                    "worker_id": {"type": "string"},
                    "error": {
                        "type": "string",
                        "description": "Why the attempt failed (stored as `last_error`, truncated to 2048 characters). Required (or `reason`)."
                    },
                    "reason": {"type": "string", "description": "Alias of `error`."},
                    "retry_after_secs": {
                        "type": ["integer", "null"],
                        "minimum": *spec::RETRY_AFTER_SECS.start(),
                        "maximum": *spec::RETRY_AFTER_SECS.end(),
                        "description": "Explicit retry delay instead of the queue's backoff curve."
                    }
                },
                "description": "`lease_id` (or `worker_id`) fences the job."
            })),
        ),
        (
            "JobHeartbeatRequest",
            request::<jobs::HeartbeatBody>(json!({
                "type": "object",
                "anyOf": [{"required": ["lease_id"]}, {"required": ["worker_id"]}],
                "properties": {
                    "lease_id": {"type": "string"},
                    "worker_id": {"type": "string"},
                    "lease_duration_secs": {
                        "type": ["integer", "null"],
                        "minimum": *spec::LEASE_SECS.start(),
                        "maximum": *spec::LEASE_SECS.end(),
                        "description": "New lease from now. Default: the length the job was claimed with."
                    },
                    "visibility": {
                        "type": ["integer", "null"],
                        "minimum": *spec::LEASE_SECS.start(),
                        "maximum": *spec::LEASE_SECS.end(),
                        "description": "Alias of `lease_duration_secs`."
                    }
                }
            })),
        ),
        (
            "PriorityRequest",
            request::<jobs::PriorityBody>(json!({
                "type": "object",
                "required": ["priority"],
                "properties": {"priority": {"$ref": "#/components/schemas/Priority"}}
            })),
        ),
        (
            "AckRequest",
            request::<jobs::AckBody>(json!({
                "type": "object",
                "allOf": [
                    {
                        "anyOf": [
                            {"required": ["acks"], "properties": {"acks": {"type": "array"}}},
                            {"required": ["fails"], "properties": {"fails": {"type": "array"}}}
                        ]
                    }
                ],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "queue": {
                        "$ref": "#/components/schemas/QueueName",
                        "description": "Alias of `queue_name`; send one of the two (both is 400)."
                    },
                    "acks": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "required": ["id", "lease_id"],
                            "properties": {
                                "id": {
                                    "type": "string",
                                    "description": "The job. An id that names no job of this queue, malformed ones included, fails only its item (`NOT_FOUND`)."
                                },
                                "lease_id": {"type": "string"},
                                "result": {"description": "Stored as the job's result (≤ 1 MiB)."}
                            }
                        }
                    },
                    "fails": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "required": ["id", "lease_id", "error"],
                            "properties": {
                                "id": {
                                    "type": "string",
                                    "description": "The job. An id that names no job of this queue, malformed ones included, fails only its item (`NOT_FOUND`)."
                                },
                                "lease_id": {"type": "string"},
                                "error": {"type": "string"},
                                "retry_after_secs": {
                                    "type": ["integer", "null"],
                                    "minimum": *spec::RETRY_AFTER_SECS.start(),
                                    "description": "Explicit retry delay.",
                                    "maximum": *spec::RETRY_AFTER_SECS.end()
                                }
                            }
                        }
                    }
                },
                "anyOf": [{"required": ["queue_name"]}, {"required": ["queue"]}],
                "description": "At most 200 items (acks plus fails), all of one queue, each fenced by its `lease_id`.",
                "not": {"required": ["queue_name", "queue"]}
            })),
        ),
        (
            "DeadLetterRetryRequest",
            request::<jobs::ReplayBody>(json!({
                "type": "object",
                "anyOf": [
                    {"maxProperties": 0},
                    {"required": ["queue_name"]},
                    {"required": ["queue"]},
                    {"required": ["job_ids"]},
                    {"required": ["limit"]}
                ],
                "properties": {
                    "queue_name": {"anyOf": [{"$ref": "#/components/schemas/QueueName"}, {"type": "null"}]},
                    "queue": {
                        "anyOf": [{"$ref": "#/components/schemas/QueueName"}, {"type": "null"}],
                        "description": "Alias of `queue_name`; send one of the two (both is 400)."
                    },
                    "job_ids": {
                        "type": ["array", "null"],
                        "items": {"type": "string"},
                        "description": "Replay these jobs (ids that are not dead letters, or not in `queue_name` when given, are skipped). At most `limit` (400 `BAD_REQUEST`)."
                    },
                    "limit": {
                        "type": ["integer", "null"],
                        "minimum": *spec::LIST_LIMIT.start(),
                        "maximum": *spec::LIST_LIMIT.end(),
                        "default": 100,
                        "description": "Without `job_ids`: replay the oldest `limit` dead letters of the queue (or of every queue the key may change)."
                    }
                },
                "not": {"required": ["queue_name", "queue"]}
            })),
        ),
        (
            "PurgeRequest",
            request::<jobs::PurgeBody>(json!({
                "type": "object",
                "required": ["confirm"],
                "properties": {
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "queue": {
                        "$ref": "#/components/schemas/QueueName",
                        "description": "Alias of `queue_name`; send one of the two (both is 400)."
                    },
                    "confirm": {"const": true, "description": "Must be `true` (else 400 `BAD_REQUEST`)."},
                    "older_than": {
                        "anyOf": [{"$ref": "#/components/schemas/RequestTime"}, {"type": "null"}],
                        "description": "Only dead letters dead-lettered before this time."
                    },
                    "limit": {
                        "type": ["integer", "null"],
                        "minimum": *spec::PURGE_LIMIT.start(),
                        "maximum": *spec::PURGE_LIMIT.end(),
                        "default": 10000,
                        "description": "Purge at most this many, oldest first."
                    }
                },
                "anyOf": [{"required": ["queue_name"]}, {"required": ["queue"]}],
                "not": {"required": ["queue_name", "queue"]}
            })),
        ),
        ("QueueConfigRequest", steering::<queues::ConfigBody>()),
        ("PauseRequest", request::<queues::PauseBody>(json!({}))),
        (
            "RegisterWorkerRequest",
            request::<workers::RegisterBody>(json!({
                "required": ["hostname"],
                "anyOf": [{"required": ["queue_name"]}, {"required": ["queue"]}],
                "not": {"required": ["queue_name", "queue"]}
            })),
        ),
        ("WorkerHeartbeatRequest", request::<workers::HeartbeatBody>(json!({}))),
        ("CreateApiKeyRequest", request::<keys::CreateKeyBody>(json!({"required": ["name"]}))),
        ("UpdateApiKeyRequest", steering::<keys::UpdateKeyBody>()),
        ("CreateOrganizationRequest", request::<organizations::OrganizationBody>(json!({"required": ["name"]}))),
    ]
}

/// The fields of one job, as an enqueue and each item of a bulk enqueue take them.
fn job_fields() -> Value {
    json!({
        "payload": {
            "description": "Any JSON value but `null`, at most 1 MiB serialized (413 beyond).",
            "not": {"type": "null"}
        },
        "priority": {"anyOf": [{"$ref": "#/components/schemas/Priority"}, {"type": "null"}]},
        "max_retries": {
            "type": ["integer", "null"],
            "minimum": *spec::MAX_RETRIES.start(),
            "maximum": *spec::MAX_RETRIES.end(),
            "description": "Default: the queue's `max_retries` (3)."
        },
        "timeout_seconds": {
            "type": ["integer", "null"],
            "minimum": *spec::TIMEOUT_SECS.start(),
            "maximum": *spec::TIMEOUT_SECS.end(),
            "description": "Default: the queue's `default_timeout` (300)."
        },
        "scheduled_at": {
            "anyOf": [{"$ref": "#/components/schemas/RequestTime"}, {"type": "null"}],
            "description": "RFC 3339 with any offset. In the future, the job starts `scheduled`."
        },
        "scheduled_for": {
            "anyOf": [{"$ref": "#/components/schemas/RequestTime"}, {"type": "null"}],
            "description": "Alias of `scheduled_at`; send one of the two (both is 400)."
        },
        "expires_at": {
            "anyOf": [{"$ref": "#/components/schemas/RequestTime"}, {"type": "null"}],
            "description": "An unclaimed job is cancelled at this time."
        },
        "idempotency_key": {
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": spec::MAX_IDEMPOTENCY_KEY_LEN,
            "description": "Unique within the queue while the job is kept: a repeat returns the existing job's id with `created: false`."
        },
        "tags": {"$ref": "#/components/schemas/Tags"}
    })
}

/// `queue_name` and its alias `queue`, then the properties of `rest`.
fn queue_first(rest: Value) -> Value {
    let mut properties = json!({
        "queue_name": {"$ref": "#/components/schemas/QueueName"},
        "queue": {
            "$ref": "#/components/schemas/QueueName",
            "description": "Alias of `queue_name`; send one of the two (both is 400)."
        }
    });
    if let (Some(first), Value::Object(rest)) = (properties.as_object_mut(), rest) {
        first.extend(rest);
    }
    properties
}
