//! The names of the events edgespool emits: the 14 that Spooled's SDK 1.6.0 lists. Job events
//! are born in the job state machine (`queue::transition`); the others come from queue
//! settings, the worker registry, schedules and workflows.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What happened, as subscribers name it (`job.completed`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A new job was stored (pending or scheduled).
    #[serde(rename = "job.created")]
    JobCreated,
    /// A worker claimed the job: an attempt began.
    #[serde(rename = "job.started")]
    JobStarted,
    /// The job finished successfully.
    #[serde(rename = "job.completed")]
    JobCompleted,
    /// An attempt failed and no retries are left (the job is dead-lettered).
    #[serde(rename = "job.failed")]
    JobFailed,
    /// The job went back to `pending` for another attempt: a failed attempt with retries left,
    /// an expired lease, a departing worker's release, or a replay from the dead-letter queue.
    #[serde(rename = "job.retried")]
    JobRetried,
    /// The job entered the dead-letter queue.
    #[serde(rename = "job.deadlettered")]
    JobDeadlettered,
    /// The job was cancelled before it ran, or expired unrun.
    #[serde(rename = "job.cancelled")]
    JobCancelled,
    /// Claims on the queue were paused.
    #[serde(rename = "queue.paused")]
    QueuePaused,
    /// Claims on the queue were resumed.
    #[serde(rename = "queue.resumed")]
    QueueResumed,
    /// A worker registered.
    #[serde(rename = "worker.registered")]
    WorkerRegistered,
    /// A worker deregistered.
    #[serde(rename = "worker.deregistered")]
    WorkerDeregistered,
    /// A schedule fired (by cron or by hand).
    #[serde(rename = "schedule.triggered")]
    ScheduleTriggered,
    /// Every job of a workflow completed.
    #[serde(rename = "workflow.completed")]
    WorkflowCompleted,
    /// A job of a workflow failed for good.
    #[serde(rename = "workflow.failed")]
    WorkflowFailed,
}

impl EventKind {
    /// Every event name, in the SDK's order.
    pub const ALL: [EventKind; 14] = [
        EventKind::JobCreated,
        EventKind::JobStarted,
        EventKind::JobCompleted,
        EventKind::JobFailed,
        EventKind::JobRetried,
        EventKind::JobDeadlettered,
        EventKind::JobCancelled,
        EventKind::QueuePaused,
        EventKind::QueueResumed,
        EventKind::WorkerRegistered,
        EventKind::WorkerDeregistered,
        EventKind::ScheduleTriggered,
        EventKind::WorkflowCompleted,
        EventKind::WorkflowFailed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::JobCreated => "job.created",
            EventKind::JobStarted => "job.started",
            EventKind::JobCompleted => "job.completed",
            EventKind::JobFailed => "job.failed",
            EventKind::JobRetried => "job.retried",
            EventKind::JobDeadlettered => "job.deadlettered",
            EventKind::JobCancelled => "job.cancelled",
            EventKind::QueuePaused => "queue.paused",
            EventKind::QueueResumed => "queue.resumed",
            EventKind::WorkerRegistered => "worker.registered",
            EventKind::WorkerDeregistered => "worker.deregistered",
            EventKind::ScheduleTriggered => "schedule.triggered",
            EventKind::WorkflowCompleted => "workflow.completed",
            EventKind::WorkflowFailed => "workflow.failed",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
        }
        assert_eq!(EventKind::parse("job.status"), None);
    }
}
