//! Job states, as stored in SQLite and as sent on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a job is in its lifecycle. The moves between states, and what each sets and emits,
/// are the rules of `queue::transition::Transition`.
///
/// ```text
/// enqueue ─► scheduled ─(due)─► pending ─(claim)─► processing ─► completed
///                                  ▲                   │
///                                  └──(fail / lease expiry, retries left)
///                               processing ─(no retries left)─► deadletter ─(replay)─► pending
/// pending | scheduled ─(cancel)─► cancelled
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Ready to be claimed, or waiting out a retry delay. Entered by enqueue, by the alarm when
    /// a scheduled job comes due, by a retryable failure or lease expiry, and by replay.
    Pending,
    /// Enqueued with a run time in the future; the alarm moves it to `Pending` when due.
    Scheduled,
    /// Leased to one worker until its lease expires; left by complete, fail or lease expiry.
    Processing,
    /// Finished successfully (terminal; pruned after the queue's retention).
    Completed,
    /// Accepted as a filter for Spooled compatibility; no transition produces it.
    Failed,
    /// Out of retries; stays until replayed or purged.
    Deadletter,
    /// Cancelled before it ran (terminal; pruned after the queue's retention).
    Cancelled,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Pending,
        JobStatus::Scheduled,
        JobStatus::Processing,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Deadletter,
        JobStatus::Cancelled,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Scheduled => "scheduled",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Deadletter => "deadletter",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name, accepting the seed documents' aliases (`claimed`, `dlq`).
    pub fn parse(name: &str) -> Option<JobStatus> {
        match name {
            "claimed" => return Some(JobStatus::Processing),
            "dlq" | "dead_letter" => return Some(JobStatus::Deadletter),
            _ => {}
        }
        JobStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_resolve() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::parse("claimed"), Some(JobStatus::Processing));
        assert_eq!(JobStatus::parse("dlq"), Some(JobStatus::Deadletter));
        assert_eq!(JobStatus::parse("running"), None);
    }
}
