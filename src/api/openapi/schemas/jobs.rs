//! Component schemas of the job routes.

use super::{checked_view, derived_view};
use crate::api::views::{
    AckItemView, AckView, BulkView, ClaimView, ClaimedView, EnqueuedView, FailView, HeartbeatView, JobStatsView,
    JobStatusView, JobView, PriorityView, PurgedView, ReplayedView, SuccessView, SummaryView,
};
use serde_json::json;
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("Job", derived_view::<JobView>()),
        ("JobSummary", derived_view::<SummaryView>()),
        ("ClaimedJob", derived_view::<ClaimedView>()),
        ("JobStatusEntry", derived_view::<JobStatusView>()),
        ("JobStats", derived_view::<JobStatsView>()),
        ("EnqueueResponse", derived_view::<EnqueuedView>()),
        ("BulkEnqueueResponse", derived_view::<BulkView>()),
        ("ClaimResponse", derived_view::<ClaimView>()),
        ("CompleteResponse", derived_view::<SuccessView>()),
        ("FailResponse", derived_view::<FailView>()),
        ("HeartbeatResponse", derived_view::<HeartbeatView>()),
        ("PriorityResponse", derived_view::<PriorityView>()),
        ("AckResponse", derived_view::<AckView>()),
        // Written here: the view is one struct for two shapes (which fields it sends depends on
        // `success`), a "one of" rule that its type does not state.
        (
            "AckResult",
            checked_view::<AckItemView>(json!({
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
        ("DeadLetterRetryResponse", derived_view::<ReplayedView>()),
        ("PurgeResponse", derived_view::<PurgedView>()),
    ]
}
