//! Component schemas.

use super::{derived_view, view};
use crate::api::views::{
    AckItemView, AckView, BulkView, ClaimView, ClaimedView, EnqueuedView, FailView, HeartbeatView, JobStatsView,
    JobStatusView, JobView, PriorityView, PurgedView, ReplayedView, SuccessView, SummaryView,
};
use crate::model::spec;
use serde_json::json;
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Job",
            derived_view::<JobView>(),
        ),
        (
            "JobSummary",
            view::<SummaryView>(json!({
                "type": "object",
                "required": [
                    "id",
                    "queue_name",
                    "status",
                    "priority",
                    "attempt",
                    "retry_count",
                    "max_retries",
                    "created_at",
                    "scheduled_at",
                    "started_at",
                    "completed_at",
                    "job_type",
                    "last_error"
                ],
                "properties": {
                    "id": {"$ref": "#/components/schemas/JobId"},
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "status": {"$ref": "#/components/schemas/JobStatus"},
                    "priority": {"$ref": "#/components/schemas/Priority"},
                    "attempt": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": spec::MAX_ATTEMPTS,
                        "description": "Same as `retry_count` (Spooled's dashboard name)."
                    },
                    "retry_count": {"type": "integer", "minimum": 0, "maximum": spec::MAX_ATTEMPTS},
                    "max_retries": {
                        "type": "integer",
                        "minimum": *spec::MAX_RETRIES.start(),
                        "maximum": *spec::MAX_RETRIES.end()
                    },
                    "created_at": {"$ref": "#/components/schemas/Timestamp"},
                    "scheduled_at": {"$ref": "#/components/schemas/NullableTimestamp"},
                    "started_at": {"$ref": "#/components/schemas/NullableTimestamp"},
                    "completed_at": {"$ref": "#/components/schemas/NullableTimestamp"},
                    "job_type": {
                        "type": "string",
                        "description": "The payload's `job_type` when it is a string, else `\"\"`."
                    },
                    "last_error": {
                        "type": ["string", "null"],
                        "maxLength": spec::MAX_ERROR_LEN,
                        "description": "Error of the last failed attempt."
                    }
                },
                "description": "A job in a list (Spooled's `JobSummary`); carries both `attempt` and `retry_count`."
            })),
        ),
        (
            "ClaimedJob",
            view::<ClaimedView>(json!({
                "type": "object",
                "required": [
                    "id",
                    "queue_name",
                    "payload",
                    "retry_count",
                    "max_retries",
                    "timeout_seconds",
                    "lease_expires_at",
                    "lease_id",
                    "priority"
                ],
                "properties": {
                    "id": {"$ref": "#/components/schemas/JobId"},
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "payload": {"description": "The job's payload (any JSON but `null`)."},
                    "retry_count": {"type": "integer", "minimum": 0, "maximum": 100},
                    "max_retries": {
                        "type": "integer",
                        "minimum": *spec::MAX_RETRIES.start(),
                        "maximum": *spec::MAX_RETRIES.end()
                    },
                    "timeout_seconds": {
                        "type": "integer",
                        "minimum": *spec::TIMEOUT_SECS.start(),
                        "maximum": *spec::TIMEOUT_SECS.end()
                    },
                    "lease_expires_at": {"$ref": "#/components/schemas/Timestamp"},
                    "lease_id": {"$ref": "#/components/schemas/LeaseId"},
                    "priority": {"$ref": "#/components/schemas/Priority"}
                },
                "description": "A job leased to the caller by claim, with the lease that fences complete, fail and heartbeat."
            })),
        ),
        (
            "JobStatusEntry",
            view::<JobStatusView>(json!({
                "type": "object",
                "required": ["id", "status", "queue_name", "retry_count", "created_at", "completed_at"],
                "properties": {
                    "id": {"$ref": "#/components/schemas/JobId"},
                    "status": {"$ref": "#/components/schemas/JobStatus"},
                    "queue_name": {"$ref": "#/components/schemas/QueueName"},
                    "retry_count": {"type": "integer", "minimum": 0, "maximum": spec::MAX_ATTEMPTS},
                    "created_at": {"$ref": "#/components/schemas/Timestamp"},
                    "completed_at": {"$ref": "#/components/schemas/NullableTimestamp"}
                }
            })),
        ),
        (
            "JobStats",
            view::<JobStatsView>(json!({
                "type": "object",
                "required": [
                    "pending",
                    "scheduled",
                    "processing",
                    "completed",
                    "failed",
                    "deadletter",
                    "cancelled",
                    "total"
                ],
                "properties": {
                    "pending": {"type": "integer", "minimum": 0},
                    "scheduled": {"type": "integer", "minimum": 0},
                    "processing": {"type": "integer", "minimum": 0},
                    "completed": {"type": "integer", "minimum": 0},
                    "failed": {"type": "integer", "minimum": 0},
                    "deadletter": {"type": "integer", "minimum": 0},
                    "cancelled": {"type": "integer", "minimum": 0},
                    "total": {"type": "integer", "minimum": 0}
                },
                "description": "Jobs stored per status, and in total."
            })),
        ),
        (
            "EnqueueResponse",
            view::<EnqueuedView>(json!({
                "type": "object",
                "required": ["id", "created"],
                "properties": {
                    "id": {"$ref": "#/components/schemas/JobId"},
                    "created": {
                        "type": "boolean",
                        "description": "`false` when a job with the same `idempotency_key` already existed in the queue; `id` is then that job's id and nothing was stored."
                    }
                }
            })),
        ),
        (
            "BulkEnqueueResponse",
            view::<BulkView>(json!({
                "type": "object",
                "required": ["succeeded", "failed", "total", "success_count", "failure_count"],
                "properties": {
                    "succeeded": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["index", "job_id", "created"],
                            "properties": {
                                "index": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "maximum": 99,
                                    "description": "Position of the item in the request."
                                },
                                "job_id": {"$ref": "#/components/schemas/JobId"},
                                "created": {
                                    "type": "boolean",
                                    "description": "`false` for an item whose idempotency key named an existing job."
                                }
                            }
                        }
                    },
                    "failed": {
                        "type": "array",
                        "maxItems": 0,
                        "items": {
                            "type": "object",
                            "required": ["index", "error"],
                            "properties": {"index": {"type": "integer", "minimum": 0}, "error": {"type": "string"}}
                        },
                        "description": "Always empty: a batch is atomic, so an invalid item fails the whole request. Kept for Spooled's shape."
                    },
                    "total": {"type": "integer", "minimum": 1, "maximum": 100},
                    "success_count": {"type": "integer", "minimum": 1, "maximum": 100},
                    "failure_count": {"type": "integer", "minimum": 0, "maximum": 0}
                },
                "description": "Spooled's bulk reply: one `succeeded` entry per item, in request order."
            })),
        ),
        (
            "ClaimResponse",
            view::<ClaimView>(json!({
                "type": "object",
                "required": ["jobs"],
                "properties": {
                    "jobs": {
                        "type": "array",
                        "maxItems": 100,
                        "items": {"$ref": "#/components/schemas/ClaimedJob"},
                        "description": "Claimed jobs in claim order (priority descending, then FIFO); empty when nothing is claimable, the queue is paused, or the wait ended."
                    }
                }
            })),
        ),
        (
            "CompleteResponse",
            view::<SuccessView>(
                json!({"type": "object", "required": ["success"], "properties": {"success": {"const": true}}}),
            ),
        ),
        (
            "FailResponse",
            view::<FailView>(json!({
                "type": "object",
                "required": ["success", "status", "retry_count", "retry_at"],
                "properties": {
                    "success": {"const": true},
                    "status": {
                        "type": "string",
                        "enum": ["pending", "deadletter"],
                        "description": "`pending`: the job will run again at `retry_at`; `deadletter`: it was out of retries."
                    },
                    "retry_count": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": spec::MAX_ATTEMPTS,
                        "description": "Failed attempts counted, this one included."
                    },
                    "retry_at": {
                        "$ref": "#/components/schemas/NullableTimestamp",
                        "description": "When the retry may run (`null` when dead-lettered)."
                    }
                }
            })),
        ),
        (
            "HeartbeatResponse",
            view::<HeartbeatView>(json!({
                "type": "object",
                "required": ["success", "lease_expires_at"],
                "properties": {
                    "success": {"const": true},
                    "lease_expires_at": {"$ref": "#/components/schemas/Timestamp"}
                }
            })),
        ),
        (
            "PriorityResponse",
            view::<PriorityView>(json!({
                "type": "object",
                "required": ["job_id", "old_priority", "new_priority"],
                "properties": {
                    "job_id": {"$ref": "#/components/schemas/JobId"},
                    "old_priority": {"$ref": "#/components/schemas/Priority"},
                    "new_priority": {"$ref": "#/components/schemas/Priority"}
                }
            })),
        ),
        (
            "AckResponse",
            view::<AckView>(json!({
                "type": "object",
                "required": ["results", "succeeded", "failed"],
                "properties": {
                    "results": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/AckResult"},
                        "description": "One outcome per item, acks first, then fails, each in request order."
                    },
                    "succeeded": {"type": "integer", "minimum": 0},
                    "failed": {"type": "integer", "minimum": 0}
                },
                "description": "Per-item outcomes of a batch ack; each item succeeds or fails on its own."
            })),
        ),
        (
            "AckResult",
            view::<AckItemView>(json!({
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["id", "success", "status"],
                        "properties": {
                            "id": {"type": "string"},
                            "success": {"const": true},
                            "status": {
                                "type": "string",
                                "enum": ["completed", "pending", "deadletter"],
                                "description": "Where the job went: `completed` (ack), `pending` or `deadletter` (fail)."
                            }
                        }
                    },
                    {
                        "type": "object",
                        "required": ["id", "success", "code", "message"],
                        "properties": {
                            "id": {"type": "string"},
                            "success": {"const": false},
                            "code": {
                                "$ref": "#/components/schemas/ErrorCode",
                                "description": "`NOT_FOUND`, `LEASE_EXPIRED` or `ALREADY_COMPLETED`."
                            },
                            "message": {"type": "string"}
                        }
                    }
                ]
            })),
        ),
        (
            "DeadLetterRetryResponse",
            view::<ReplayedView>(json!({
                "type": "object",
                "required": ["retried_count", "retried_jobs"],
                "properties": {
                    "retried_count": {"type": "integer", "minimum": 0},
                    "retried_jobs": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/JobId"},
                        "description": "Ids of the replayed jobs, now `pending`."
                    }
                }
            })),
        ),
        (
            "PurgeResponse",
            view::<PurgedView>(json!({
                "type": "object",
                "required": ["purged_count"],
                "properties": {"purged_count": {"type": "integer", "minimum": 0, "maximum": *spec::PURGE_LIMIT.end()}}
            })),
        ),
    ]
}
