//! The names of the events edgespool emits: the 14 that Spooled's SDK 1.6.0 lists. Job events
//! are born in the job state machine (`queue::transition`); the others come from queue
//! settings, the worker registry, schedules and workflows.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What happened, as subscribers name it (`job.completed`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A new job was stored (pending or scheduled).
    JobCreated,
    /// A worker claimed the job: an attempt began.
    JobStarted,
    /// The job finished successfully.
    JobCompleted,
    /// An attempt failed and no retries are left (the job is dead-lettered).
    JobFailed,
    /// The job went back to `pending` for another attempt: a failed attempt with retries left,
    /// an expired lease, a departing worker's release, or a replay from the dead-letter queue.
    JobRetried,
    /// The job entered the dead-letter queue.
    JobDeadlettered,
    /// The job was cancelled before it ran, or expired unrun.
    JobCancelled,
    /// Claims on the queue were paused.
    QueuePaused,
    /// Claims on the queue were resumed.
    QueueResumed,
    /// A worker registered.
    WorkerRegistered,
    /// A worker deregistered.
    WorkerDeregistered,
    /// A schedule fired (by cron or by hand).
    ScheduleTriggered,
    /// Every job of a workflow completed.
    WorkflowCompleted,
    /// A job of a workflow failed for good.
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

// By the wire name, through `as_str` and `parse`: serde's derive would add a second table of
// the names to the wasm (kilobytes, for what these two functions already do).
impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        EventKind::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown event `{name}`")))
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
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<EventKind>(&json).unwrap(), kind);
        }
        assert_eq!(EventKind::parse("job.status"), None);
    }
}
