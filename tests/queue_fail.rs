//! Fail: fencing, the retry delay curve, explicit delays and dead-lettering.

mod common;
mod support;
use common::*;
use edgespool::model::{lease::Fence, retry::RetryPolicy, spec::MAX_ERROR_LEN, ErrorKind, JobSpec, JobStatus};
use edgespool::queue::QueueSettings;
use serde_json::Value;
use support::*;

/// A fixture holding one job built from `spec`, claimed at `T0`.
fn claimed_with(settings: QueueSettings, spec: JobSpec) -> (Fixture, Claimed) {
    let mut fx = Fixture::with_settings(settings);
    fx.add(spec, T0);
    let job = fx.claim_one(T0);
    (fx, job)
}

/// One job with the queue defaults, claimed at `T0`.
fn claimed() -> (Fixture, Claimed) {
    claimed_with(QueueSettings::default(), spec("{}"))
}

/// Fails the job every time it becomes claimable, `times` times in a row, and returns the
/// retry delays in ms (from each fail to its `retry_at`).
fn delays_of_repeated_failures(fx: &mut Fixture, times: usize) -> Vec<i64> {
    let mut now = T0;
    let mut delays = Vec::new();
    for _ in 0..times {
        let job = fx.claim_one(now);
        let retry_at = fx.fail(&job, now).unwrap().retry_at.expect("a retry");
        delays.push(retry_at - now);
        now = retry_at;
    }
    delays
}

/// Fails `job` by its lease at `now` with an explicit `retry_after_secs`.
fn fail_after(
    fx: &mut Fixture,
    job: &Claimed,
    retry_after_secs: u32,
    now: i64,
) -> edgespool::queue::lease::FailOutcome {
    let fence = by_lease(job);
    fx.fail_with(&job.id, &fence, "later", Some(retry_after_secs), now).unwrap()
}

/// Fails `job` with `fence` at `now` and returns the error kind; the job row must not change.
fn refused_fail_kind(fx: &mut Fixture, job: &Claimed, fence: &Fence, now: i64) -> ErrorKind {
    let before = fx.job(&job.id);
    let kind = err_kind(fx.fail_with(&job.id, fence, "boom", None, now));
    assert_eq!(fx.job(&job.id), before, "a refused fail must change nothing");
    kind
}

/// Fail with retries left returns the job to `pending` after the first backoff step.
#[test]
fn fail_returns_the_job_to_pending_after_backoff() {
    let (mut fx, job) = claimed();
    let outcome = fx.fail(&job, T0 + 5 * SEC).unwrap();
    assert_eq!((outcome.status, outcome.retry_count, outcome.retry_at), (JobStatus::Pending, 1, Some(T0 + 6 * SEC)));
    let row = fx.job(&job.id);
    assert_eq!(row["status"], "pending");
    assert_eq!(row["retry_count"], 1);
    assert_eq!(row["last_error"], "boom");
    assert_eq!(ms(&row["scheduled_at"]), Some(T0 + 6 * SEC));
}

/// A failed job no longer carries the lease or the worker.
#[test]
fn fail_clears_the_lease() {
    let (mut fx, job) = claimed();
    fx.fail(&job, T0 + SEC).unwrap();
    let row = fx.job(&job.id);
    for field in ["lease_id", "lease_expires_at", "assigned_worker_id"] {
        assert_eq!(row[field], Value::Null, "{field}");
    }
}

/// With jitter 0 the delays follow Spooled's curve 1, 2, 4 … s, capped at 60 s.
#[test]
fn backoff_doubles_per_failure_and_caps_at_sixty_seconds() {
    let mut fx = Fixture::new();
    fx.add(spec("{}").with_retries(10), T0);
    let secs: Vec<_> = delays_of_repeated_failures(&mut fx, 10).iter().map(|d| d / SEC).collect();
    assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
}

/// The queue's own retry policy (base and cap) replaces the default curve.
#[test]
fn custom_retry_policy_from_settings_applies() {
    let retry = RetryPolicy { base_ms: 250, cap_ms: 1_500 };
    let mut fx = Fixture::with_settings(QueueSettings { retry, ..QueueSettings::default() });
    fx.add(spec("{}").with_retries(5), T0);
    assert_eq!(delays_of_repeated_failures(&mut fx, 5), [250, 500, 1_000, 1_500, 1_500]);
}

/// Jitter adds up to 10 % of the delay (here half of it: 5 %).
#[test]
fn jitter_adds_a_fraction_of_ten_percent() {
    let (mut fx, job) = claimed();
    fx.entropy.jitter = 0.5;
    assert_eq!(fx.fail(&job, T0).unwrap().retry_at, Some(T0 + 1_050));
}

/// `retry_after_secs` sets the delay exactly, instead of the backoff.
#[test]
fn retry_after_secs_overrides_the_backoff() {
    let (mut fx, job) = claimed();
    let outcome = fail_after(&mut fx, &job, 90, T0 + SEC);
    assert_eq!(outcome.retry_at, Some(T0 + 91 * SEC));
    assert_eq!(fx.time_of(&job.id, "scheduled_at"), Some(T0 + 91 * SEC));
}

/// `retry_after_secs: 0` makes the job claimable again at once.
#[test]
fn retry_after_zero_is_claimable_immediately() {
    let (mut fx, job) = claimed();
    fail_after(&mut fx, &job, 0, T0 + SEC);
    assert_eq!(fx.claim_ids(1, T0 + SEC), [job.id]);
}

/// Each failure counts one more attempt; the count shows on the next claim.
#[test]
fn retry_count_increments_per_failure() {
    let (mut fx, job) = claimed();
    let retry_at = fx.fail(&job, T0).unwrap().retry_at.unwrap();
    let again = fx.claim_one(retry_at);
    assert_eq!(again.retry_count, 1);
    let outcome = fx.fail(&again, retry_at).unwrap();
    assert_eq!(outcome.retry_count, 2);
    assert_eq!(fx.job(&job.id)["retry_count"], 2);
}

/// With `max_retries: 0` the first failure dead-letters the job.
#[test]
fn max_retries_zero_dead_letters_on_first_failure() {
    let (mut fx, job) = claimed_with(QueueSettings::default(), spec("{}").with_retries(0));
    let outcome = fx.fail(&job, T0 + SEC).unwrap();
    assert_eq!((outcome.status, outcome.retry_count, outcome.retry_at), (JobStatus::Deadletter, 1, None));
    assert_eq!(fx.status(&job.id), "deadletter");
}

/// Once retries are used up the job is dead-lettered with `retry_count = max_retries + 1`.
#[test]
fn exhausted_retries_dead_letter_with_max_retries_plus_one_attempts() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}").with_retries(2), T0);
    assert_eq!(delays_of_repeated_failures(&mut fx, 2).len(), 2);
    let last = fx.claim_one(T0 + 10 * SEC);
    let outcome = fx.fail(&last, T0 + 10 * SEC).unwrap();
    assert_eq!((outcome.status, outcome.retry_count), (JobStatus::Deadletter, 3));
    let row = fx.job(&id);
    assert_eq!((row["status"].as_str(), row["retry_count"].as_i64()), (Some("deadletter"), Some(3)));
    assert!(fx.claim(10, T0 + 3600 * SEC).is_empty());
}

/// `retry_after_secs` does not buy an extra attempt: out of retries still dead-letters.
#[test]
fn retry_after_secs_does_not_prevent_dead_lettering() {
    let (mut fx, job) = claimed_with(QueueSettings::default(), spec("{}").with_retries(0));
    assert_eq!(fail_after(&mut fx, &job, 5, T0).status, JobStatus::Deadletter);
}

/// A very long error message is kept clipped to its limit.
#[test]
fn long_error_messages_are_clipped() {
    let (mut fx, job) = claimed();
    let error = "é".repeat(MAX_ERROR_LEN + 10);
    fx.fail_with(&job.id, &by_lease(&job), &error, None, T0).unwrap();
    let stored = fx.job(&job.id)["last_error"].as_str().unwrap().chars().count();
    assert_eq!(stored, MAX_ERROR_LEN);
}

/// Fail with a wrong lease id is `LEASE_EXPIRED` and changes nothing.
#[test]
fn fail_with_wrong_lease_is_rejected() {
    let (mut fx, job) = claimed();
    assert_eq!(refused_fail_kind(&mut fx, &job, &lease("not-it"), T0 + SEC), ErrorKind::LeaseExpired);
}

/// At exactly `lease_expires_at` the lease has ended: fail is refused.
#[test]
fn fail_at_the_exact_lease_deadline_is_rejected() {
    let (mut fx, job) = claimed();
    let fence = by_lease(&job);
    assert_eq!(refused_fail_kind(&mut fx, &job, &fence, T0 + 30 * SEC), ErrorKind::LeaseExpired);
}

/// Fail by the claiming worker's id alone is accepted; another worker's id is refused.
#[test]
fn fail_is_fenced_by_worker_id_without_a_lease_id() {
    let (mut fx, job) = claimed();
    assert_eq!(refused_fail_kind(&mut fx, &job, &by_worker("w2"), T0 + SEC), ErrorKind::LeaseExpired);
    fx.fail_with(&job.id, &by_worker("w1"), "boom", None, T0 + SEC).unwrap();
    assert_eq!(fx.status(&job.id), "pending");
}

/// Fail after complete is refused, even with the lease the job was completed under.
#[test]
fn fail_after_complete_is_rejected() {
    let (mut fx, job) = claimed();
    fx.complete(&job, T0 + SEC).unwrap();
    let fence = by_lease(&job);
    assert_eq!(refused_fail_kind(&mut fx, &job, &fence, T0 + 2 * SEC), ErrorKind::LeaseExpired);
    assert_eq!(fx.status(&job.id), "completed");
}

/// Failing the same attempt twice is refused the second time (the lease is gone).
#[test]
fn failing_twice_with_the_same_lease_is_rejected() {
    let (mut fx, job) = claimed();
    fx.fail(&job, T0 + SEC).unwrap();
    let fence = by_lease(&job);
    assert_eq!(refused_fail_kind(&mut fx, &job, &fence, T0 + SEC), ErrorKind::LeaseExpired);
    assert_eq!(fx.job(&job.id)["retry_count"], 1);
}

/// Fail of an id the queue does not hold is `NOT_FOUND`.
#[test]
fn fail_of_unknown_job_is_not_found() {
    let (mut fx, job) = claimed();
    let result = fx.fail_with(UNKNOWN_ID, &by_lease(&job), "boom", None, T0);
    assert_eq!(err_kind(result), ErrorKind::NotFound);
}
