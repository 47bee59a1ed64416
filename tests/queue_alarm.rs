//! The alarm: what a sweep changes, that a repeated sweep changes nothing, and when the
//! alarm must next run.

mod common;
mod support;
use common::*;
use edgespool::queue::maintenance::{SweepReport, EXPIRED_ERROR, LEASE_EXPIRED_ERROR};
use edgespool::queue::QueueSettings;
use serde_json::Value;
use support::*;

/// Retention of completed and cancelled jobs in these tests: 10 minutes.
const RETENTION_MS: i64 = 600 * SEC;
/// The default lease length, in ms.
const LEASE_MS: i64 = 30 * SEC;

/// A queue that keeps finished jobs for [`RETENTION_MS`].
fn short_retention() -> Fixture {
    Fixture::with_settings(QueueSettings { retention_ms: RETENTION_MS, ..QueueSettings::default() })
}

/// A queue holding one job with `max_retries`, claimed at `T0` (lease ends at `T0 + 30 s`).
fn leased(max_retries: u32) -> (Fixture, Claimed) {
    let mut fx = Fixture::new();
    fx.add(spec("{}").with_retries(max_retries), T0);
    let job = fx.claim_one(T0);
    (fx, job)
}

/// Runs a sweep at `now` and returns its report.
fn sweep(fx: &Fixture, now: i64) -> SweepReport {
    fx.q().sweep(now).expect("sweep")
}

/// The alarm's next due time, asked at `T0` (before every retry delay in these tests ends).
fn wake(fx: &Fixture) -> Option<i64> {
    fx.q().next_wake(T0).expect("next_wake")
}

/// A sweep moves scheduled jobs that are due (at or before now) to `pending`, and no others.
#[test]
fn sweep_promotes_due_scheduled_jobs() {
    let mut fx = Fixture::new();
    let due = fx.add(spec("1").scheduled_for(T0 + 60 * SEC), T0);
    let later = fx.add(spec("2").scheduled_for(T0 + 60 * SEC + 1), T0);
    assert_eq!(sweep(&fx, T0 + 60 * SEC), SweepReport { promoted: 1, ..SweepReport::default() });
    assert_eq!(fx.status(&due), "pending");
    assert_eq!(fx.status(&later), "scheduled");
}

/// An expired lease with retries left returns the job to `pending`, one attempt counted.
#[test]
fn sweep_requeues_an_expired_lease_counting_an_attempt() {
    let (fx, job) = leased(3);
    assert_eq!(sweep(&fx, T0 + LEASE_MS), SweepReport { requeued: 1, ..SweepReport::default() });
    let row = fx.job(&job.id);
    assert_eq!((row["status"].as_str(), row["retry_count"].as_i64()), (Some("pending"), Some(1)));
    assert_eq!(row["last_error"], LEASE_EXPIRED_ERROR);
    for field in ["lease_id", "lease_expires_at", "assigned_worker_id"] {
        assert_eq!(row[field], Value::Null, "{field}");
    }
    assert_eq!(fx.claim_ids(1, T0 + LEASE_MS), [job.id]);
}

/// An expired lease without retries left dead-letters the job with `max_retries + 1` attempts.
#[test]
fn sweep_dead_letters_an_expired_lease_without_retries_left() {
    let (fx, job) = leased(0);
    assert_eq!(sweep(&fx, T0 + LEASE_MS), SweepReport { dead_lettered: 1, ..SweepReport::default() });
    let row = fx.job(&job.id);
    assert_eq!((row["status"].as_str(), row["retry_count"].as_i64()), (Some("deadletter"), Some(1)));
}

/// A lease that is still live (one ms before its deadline) is left alone.
#[test]
fn sweep_leaves_live_leases_alone() {
    let (fx, job) = leased(3);
    assert_eq!(sweep(&fx, T0 + LEASE_MS - 1), SweepReport::default());
    assert_eq!(fx.status(&job.id), "processing");
    fx.complete(&job, T0 + LEASE_MS - 1).unwrap();
}

/// Completed and cancelled jobs are deleted once their retention has passed, not before.
#[test]
fn sweep_prunes_finished_jobs_after_retention() {
    let mut fx = short_retention();
    fx.job_in("completed", spec("1"), T0);
    fx.job_in("cancelled", spec("2"), T0);
    assert_eq!(sweep(&fx, T0 + RETENTION_MS - 1).pruned, 0);
    assert_eq!(fx.count(), 2);
    assert_eq!(sweep(&fx, T0 + RETENTION_MS).pruned, 2);
    assert_eq!(fx.count(), 0);
}

/// Dead letters, and jobs still waiting or running, are never pruned.
#[test]
fn sweep_keeps_dead_letters_and_unfinished_jobs() {
    let mut fx = short_retention();
    let kept: Vec<_> = ["deadletter", "pending"].iter().map(|s| fx.job_in(s, spec("{}"), T0)).collect();
    assert_eq!(sweep(&fx, T0 + 100 * RETENTION_MS).pruned, 0);
    assert_eq!(fx.status(&kept[0]), "deadletter");
    assert_eq!(fx.count(), 2);
}

/// A second sweep at the same time finds nothing to do and leaves every row as it was.
#[test]
fn second_sweep_at_the_same_time_changes_nothing() {
    let mut fx = short_retention();
    for status in ["completed", "cancelled", "deadletter", "processing", "pending"] {
        fx.job_in(status, spec("{}"), T0);
    }
    fx.add(spec("{}").scheduled_for(T0 + SEC), T0);
    fx.add(spec("{}").scheduled_for(T0 + RETENTION_MS + SEC), T0);
    let now = T0 + RETENTION_MS;
    let first = sweep(&fx, now);
    assert_eq!(first, SweepReport { promoted: 1, requeued: 1, dead_lettered: 0, pruned: 2, expired: 0 });
    let after_first = fx.dump();
    assert_eq!(sweep(&fx, now), SweepReport::default());
    assert_eq!(fx.dump(), after_first);
}

/// With nothing waiting on time (empty, or only pending and dead letters) there is no alarm.
#[test]
fn next_wake_is_none_when_nothing_waits() {
    let mut fx = Fixture::new();
    assert_eq!(wake(&fx), None);
    fx.job_in("pending", spec("1"), T0);
    fx.job_in("deadletter", spec("2"), T0);
    assert_eq!(wake(&fx), None);
}

/// The next scheduled job's time is a wake time.
#[test]
fn next_wake_is_the_next_scheduled_job() {
    let mut fx = Fixture::new();
    fx.add(spec("1").scheduled_for(T0 + 90 * SEC), T0);
    fx.add(spec("2").scheduled_for(T0 + 60 * SEC), T0);
    assert_eq!(wake(&fx), Some(T0 + 60 * SEC));
}

/// The next lease expiry is a wake time.
#[test]
fn next_wake_is_the_next_lease_expiry() {
    let (fx, _) = leased(3);
    assert_eq!(wake(&fx), Some(T0 + LEASE_MS));
}

/// The next end of retention of a completed or cancelled job is a wake time.
#[test]
fn next_wake_is_the_next_retention_deadline() {
    let mut fx = short_retention();
    fx.job_in("cancelled", spec("1"), T0 + 5 * SEC);
    fx.job_in("completed", spec("2"), T0 + 2 * SEC);
    assert_eq!(wake(&fx), Some(T0 + 2 * SEC + RETENTION_MS));
}

/// The wake time is the earliest of scheduled job, lease expiry and retention deadline.
#[test]
fn next_wake_is_the_earliest_of_all_deadlines() {
    let mut fx = short_retention();
    fx.job_in("completed", spec("1"), T0); // retention ends T0 + 600 s
    fx.add(spec("2").scheduled_for(T0 + 120 * SEC), T0);
    assert_eq!(wake(&fx), Some(T0 + 120 * SEC));
    fx.add(spec("3"), T0);
    fx.claim_one(T0 + 60 * SEC); // lease ends T0 + 90 s
    assert_eq!(wake(&fx), Some(T0 + 90 * SEC));
}

/// A retry-delayed pending job needs the alarm at its `scheduled_at` (docs/ARCHITECTURE.md).
#[test]
fn next_wake_includes_retry_delayed_jobs() {
    let (mut fx, job) = leased(3);
    let retry_at = fx.fail(&job, T0 + SEC).unwrap().retry_at;
    assert_eq!(retry_at, Some(T0 + 2 * SEC));
    assert_eq!(wake(&fx), retry_at);
}

/// Claiming re-arms the alarm for the new lease's end.
#[test]
fn next_wake_rearms_after_claim() {
    let mut fx = Fixture::new();
    fx.add(spec("{}"), T0);
    assert_eq!(wake(&fx), None);
    fx.claim_one(T0 + 5 * SEC);
    assert_eq!(wake(&fx), Some(T0 + 5 * SEC + LEASE_MS));
}

/// Completing re-arms the alarm from the lease's end to the retention deadline.
#[test]
fn next_wake_rearms_after_complete() {
    let (fx, job) = leased(3);
    fx.complete(&job, T0 + 7 * SEC).unwrap();
    assert_eq!(wake(&fx), Some(T0 + 7 * SEC + fx.settings.retention_ms));
}

/// Enqueueing a job scheduled before the current wake time re-arms the alarm earlier.
#[test]
fn next_wake_rearms_after_enqueue_of_a_scheduled_job() {
    let (mut fx, _) = leased(3);
    fx.add(spec("{}").scheduled_for(T0 + 40 * SEC), T0);
    assert_eq!(wake(&fx), Some(T0 + LEASE_MS));
    fx.add(spec("{}").scheduled_for(T0 + 10 * SEC), T0);
    assert_eq!(wake(&fx), Some(T0 + 10 * SEC));
}

/// After a sweep the wake time moves on to the next deadline still ahead.
#[test]
fn next_wake_moves_on_after_a_sweep() {
    let mut fx = Fixture::new();
    fx.add(spec("1").scheduled_for(T0 + 10 * SEC), T0);
    fx.add(spec("2").scheduled_for(T0 + 20 * SEC), T0);
    sweep(&fx, T0 + 10 * SEC);
    assert_eq!(fx.q().next_wake(T0 + 10 * SEC).unwrap(), Some(T0 + 20 * SEC));
}

/// A job that reaches `expires_at` unrun is cancelled by the alarm (and so pruned later),
/// and its expiry is a wake time.
#[test]
fn sweep_cancels_jobs_that_expire_unrun() {
    let mut fx = Fixture::new();
    let mut expiring = spec("1");
    expiring.expires_at = Some(T0 + 30 * SEC);
    let job = fx.add(expiring, T0);
    let keeps = fx.add(spec("2"), T0);
    assert_eq!(wake(&fx), Some(T0 + 30 * SEC));
    assert_eq!(sweep(&fx, T0 + 30 * SEC - 1), SweepReport::default());
    assert_eq!(sweep(&fx, T0 + 30 * SEC), SweepReport { expired: 1, ..SweepReport::default() });
    let row = fx.job(&job);
    assert_eq!((row["status"].as_str(), row["last_error"].as_str()), (Some("cancelled"), Some(EXPIRED_ERROR)));
    assert_eq!(fx.status(&keeps), "pending");
}
