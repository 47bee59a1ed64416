//! Complete and heartbeat, and the lease fencing shared by complete, fail and heartbeat.

mod common;
mod support;
use common::*;
use edgespool::model::{lease::Fence, ErrorKind};
use edgespool::queue::lease::ClaimRequest;
use support::*;

/// The lease length of the default claim, in ms.
const LEASE_MS: i64 = 30 * SEC;

/// A queue with one job, claimed at `T0` by worker `w1` with the default 30 s lease.
fn claimed() -> (Fixture, Claimed) {
    let mut fx = Fixture::new();
    fx.add(spec(r#"{"task":1}"#), T0);
    let job = fx.claim_one(T0);
    (fx, job)
}

/// Runs `op` on the claimed job; it must fail with `kind` and leave the job row as it was.
fn assert_refused<T: std::fmt::Debug>(
    fx: &Fixture,
    job: &Claimed,
    kind: ErrorKind,
    op: impl FnOnce() -> Result<T, edgespool::model::ApiError>,
) {
    let before = fx.job(&job.id);
    assert_eq!(err_kind(op()), kind);
    assert_eq!(fx.job(&job.id), before, "a refused operation must change nothing");
}

/// Complete under the live lease stores the result and ends the lease.
#[test]
fn complete_with_live_lease_marks_the_job_completed() {
    let (fx, job) = claimed();
    fx.q().complete(&job.id, &by_lease(&job), Some(&raw(r#"{"sent":true}"#)), T0 + SEC).unwrap();
    let row = fx.job(&job.id);
    assert_eq!(row["status"], "completed");
    assert_eq!(row["result"], serde_json::json!({"sent": true}));
    assert_eq!(ms(&row["completed_at"]), Some(T0 + SEC));
    assert_eq!(row["lease_expires_at"], serde_json::Value::Null);
}

/// Complete with a lease id that is not the job's is `LEASE_EXPIRED` and changes nothing.
#[test]
fn complete_with_wrong_lease_is_rejected() {
    let (fx, job) = claimed();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || {
        fx.q().complete(&job.id, &lease("not-the-lease"), None, T0 + SEC)
    });
}

/// At exactly `lease_expires_at` the lease has ended: complete is refused.
#[test]
fn complete_at_the_exact_lease_deadline_is_rejected() {
    let (fx, job) = claimed();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || fx.complete(&job, T0 + LEASE_MS));
}

/// One millisecond before `lease_expires_at` the lease still lives: complete succeeds.
#[test]
fn complete_just_before_the_lease_deadline_succeeds() {
    let (fx, job) = claimed();
    fx.complete(&job, T0 + LEASE_MS - 1).unwrap();
    assert_eq!(fx.status(&job.id), "completed");
}

/// Without a lease id, the worker id that claimed the job fences it.
#[test]
fn complete_by_the_claiming_worker_id_alone_succeeds() {
    let (fx, job) = claimed();
    fx.q().complete(&job.id, &by_worker("w1"), None, T0 + SEC).unwrap();
    assert_eq!(fx.status(&job.id), "completed");
}

/// Without a lease id, another worker's id is refused.
#[test]
fn complete_by_another_worker_id_is_rejected() {
    let (fx, job) = claimed();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || fx.q().complete(&job.id, &by_worker("w2"), None, T0 + SEC));
}

/// A wrong lease id is refused even when the worker id is right: the lease id wins.
#[test]
fn complete_with_right_worker_but_wrong_lease_is_rejected() {
    let (fx, job) = claimed();
    let fence = Fence { lease_id: Some("stale".into()), worker_id: Some("w1".into()) };
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || fx.q().complete(&job.id, &fence, None, T0 + SEC));
}

/// A job claimed without a worker id cannot be fenced by a worker id.
#[test]
fn complete_by_worker_id_of_anonymous_claim_is_rejected() {
    let mut fx = Fixture::new();
    fx.add(spec("{}"), T0);
    let job = fx.claim_with(&ClaimRequest { worker_id: None, ..claim_request(1) }, T0).remove(0);
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || fx.q().complete(&job.id, &by_worker("w1"), None, T0 + SEC));
}

/// A fence with neither lease id nor worker id is a validation error.
#[test]
fn complete_with_empty_fence_is_a_validation_error() {
    let (fx, job) = claimed();
    assert_refused(&fx, &job, ErrorKind::ValidationError, || {
        fx.q().complete(&job.id, &Fence::default(), None, T0 + SEC)
    });
}

/// Complete of an id the queue does not hold is `NOT_FOUND`.
#[test]
fn complete_of_unknown_job_is_not_found() {
    let (fx, job) = claimed();
    assert_eq!(err_kind(fx.q().complete(UNKNOWN_ID, &by_lease(&job), None, T0)), ErrorKind::NotFound);
}

/// Completing again with the same lease and result succeeds and keeps the first result and
/// time; the result is compared minified, so only its layout may differ.
#[test]
fn completing_twice_with_the_same_lease_is_idempotent() {
    let (fx, job) = claimed();
    fx.q().complete(&job.id, &by_lease(&job), Some(&raw(r#"{"n": [1, 2]}"#)), T0 + SEC).unwrap();
    let after_first = fx.job(&job.id);
    fx.q().complete(&job.id, &by_lease(&job), Some(&raw(r#"{"n":[1,2]}"#)), T0 + LEASE_MS + SEC).unwrap();
    assert_eq!(fx.job(&job.id), after_first);
}

/// A repeated complete with another result is `ALREADY_COMPLETED`, with the stored result's
/// SHA-256 (of its minified text; none when it had no result), and the first result stays. A
/// repeat that carries no result drops nothing, so it succeeds.
#[test]
fn completing_again_with_another_result_is_refused_with_the_stored_digest() {
    let (fx, job) = claimed();
    fx.q().complete(&job.id, &by_lease(&job), Some(&raw(r#"{"n": 1}"#)), T0 + SEC).unwrap();
    for other in [Some(raw(r#"{"n":2}"#)), Some(raw(r#"{"n":1.0}"#)), Some(raw("null"))] {
        let before = fx.job(&job.id);
        let err = fx.q().complete(&job.id, &by_lease(&job), other.as_deref(), T0 + 2 * SEC).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AlreadyCompleted);
        let digest = edgespool::model::json_text::sha256_hex(br#"{"n":1}"#);
        assert_eq!(err.details.unwrap()["result_sha256"], digest.as_str());
        assert_eq!(fx.job(&job.id), before);
    }
    let before = fx.job(&job.id);
    fx.q().complete(&job.id, &by_lease(&job), None, T0 + 2 * SEC).unwrap();
    assert_eq!(fx.job(&job.id), before);
    let (fx, job) = claimed();
    fx.q().complete(&job.id, &by_lease(&job), None, T0 + SEC).unwrap();
    fx.q().complete(&job.id, &by_lease(&job), None, T0 + 2 * SEC).unwrap();
    let err = fx.q().complete(&job.id, &by_lease(&job), Some(&raw("1")), T0 + 2 * SEC).unwrap_err();
    assert_eq!(
        (err.kind, err.details.unwrap()["result_sha256"].clone()),
        (ErrorKind::AlreadyCompleted, serde_json::Value::Null)
    );
}

/// A result in a row of its own (over 256 KiB) is compared the same way.
#[test]
fn a_large_result_is_compared_from_its_own_row() {
    let (fx, job) = claimed();
    let big = |c: &str| raw(&format!("\"{}\"", c.repeat(300 * 1024)));
    fx.q().complete(&job.id, &by_lease(&job), Some(&big("a")), T0 + SEC).unwrap();
    fx.q().complete(&job.id, &by_lease(&job), Some(&big("a")), T0 + 2 * SEC).unwrap();
    let err = fx.q().complete(&job.id, &by_lease(&job), Some(&big("b")), T0 + 2 * SEC).unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyCompleted);
}

/// On a queue with `require_lease_id`, `worker_id` alone fences nothing (400 before the job is
/// looked up); the lease id still works, with or without the worker id beside it.
#[test]
fn a_queue_requiring_lease_ids_refuses_worker_id_alone() {
    let mut fx = Fixture::with_settings(edgespool::queue::QueueSettings {
        require_lease_id: true,
        ..edgespool::queue::QueueSettings::default()
    });
    fx.add(spec("{}"), T0);
    let job = fx.claim_one(T0);
    let q = fx.q();
    assert_refused(&fx, &job, ErrorKind::ValidationError, || q.heartbeat(&job.id, &by_worker("w1"), None, T0 + SEC));
    assert_refused(&fx, &job, ErrorKind::ValidationError, || q.complete(&job.id, &by_worker("w1"), None, T0 + SEC));
    assert_refused(&fx, &job, ErrorKind::ValidationError, || {
        q.fail(&job.id, &by_worker("w1"), "boom", None, T0 + SEC, &mut edgespool::model::OsEntropy)
    });
    assert_eq!(err_kind(q.complete(UNKNOWN_ID, &by_worker("w1"), None, T0)), ErrorKind::ValidationError);
    let both = Fence { worker_id: Some("w1".into()), ..by_lease(&job) };
    q.heartbeat(&job.id, &both, None, T0 + SEC).unwrap();
    q.complete(&job.id, &by_lease(&job), None, T0 + 2 * SEC).unwrap();
}

/// A worker whose lease expired and whose job was claimed again cannot complete it.
#[test]
fn complete_with_stale_lease_after_reclaim_is_rejected() {
    let (fx, stale) = claimed();
    fx.q().sweep(T0 + LEASE_MS).unwrap();
    let fresh = fx.claim_one(T0 + LEASE_MS);
    assert_refused(&fx, &fresh, ErrorKind::LeaseExpired, || fx.complete(&stale, T0 + LEASE_MS + SEC));
    fx.complete(&fresh, T0 + LEASE_MS + SEC).unwrap();
}

/// Heartbeat without a length extends the lease by the length it was claimed with.
#[test]
fn heartbeat_extends_a_live_lease_by_the_claimed_length() {
    let mut fx = Fixture::new();
    fx.add(spec("{}"), T0);
    let job = fx.claim_with(&ClaimRequest { lease_secs: Some(60), ..claim_request(1) }, T0).remove(0);
    let until = fx.q().heartbeat(&job.id, &by_lease(&job), None, T0 + 50 * SEC).unwrap();
    assert_eq!(until, T0 + 110 * SEC);
    assert_eq!(fx.time_of(&job.id, "lease_expires_at"), Some(until));
}

/// Heartbeat with an explicit length sets the lease to end that long after now.
#[test]
fn heartbeat_with_explicit_length_uses_it() {
    let (fx, job) = claimed();
    let until = fx.q().heartbeat(&job.id, &by_lease(&job), Some(300), T0 + 10 * SEC).unwrap();
    assert_eq!(until, T0 + 310 * SEC);
    assert_eq!(fx.time_of(&job.id, "lease_expires_at"), Some(until));
}

/// After a heartbeat the job outlives its original deadline: no expiry, and complete works.
#[test]
fn heartbeat_keeps_the_job_past_its_original_deadline() {
    let (fx, job) = claimed();
    fx.q().heartbeat(&job.id, &by_lease(&job), None, T0 + 20 * SEC).unwrap();
    assert_eq!(fx.q().sweep(T0 + LEASE_MS).unwrap().requeued, 0);
    fx.complete(&job, T0 + LEASE_MS + SEC).unwrap();
}

/// Without a lease id, the claiming worker's id fences a heartbeat too.
#[test]
fn heartbeat_by_the_claiming_worker_id_alone_succeeds() {
    let (fx, job) = claimed();
    let until = fx.q().heartbeat(&job.id, &by_worker("w1"), None, T0 + SEC).unwrap();
    assert_eq!(until, T0 + SEC + LEASE_MS);
}

/// Heartbeat with a lease id that is not the job's is refused and changes nothing.
#[test]
fn heartbeat_with_wrong_lease_is_rejected() {
    let (fx, job) = claimed();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || fx.q().heartbeat(&job.id, &lease("nope"), None, T0 + SEC));
}

/// A heartbeat at exactly the deadline, before any sweep, does not revive the lease.
#[test]
fn heartbeat_at_the_exact_deadline_does_not_revive_the_lease() {
    let (fx, job) = claimed();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || {
        fx.q().heartbeat(&job.id, &by_lease(&job), None, T0 + LEASE_MS)
    });
}

/// Once the sweep has ended the lease, a heartbeat is refused and the job stays pending.
#[test]
fn heartbeat_after_the_lease_expired_is_rejected() {
    let (fx, job) = claimed();
    fx.q().sweep(T0 + LEASE_MS).unwrap();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || {
        fx.q().heartbeat(&job.id, &by_lease(&job), None, T0 + LEASE_MS + SEC)
    });
    assert_eq!(fx.status(&job.id), "pending");
}

/// Heartbeat of a completed job is refused, even with the lease it was completed under.
#[test]
fn heartbeat_after_complete_is_rejected() {
    let (fx, job) = claimed();
    fx.complete(&job, T0 + SEC).unwrap();
    assert_refused(&fx, &job, ErrorKind::LeaseExpired, || {
        fx.q().heartbeat(&job.id, &by_lease(&job), None, T0 + 2 * SEC)
    });
}

/// Heartbeat of an id the queue does not hold is `NOT_FOUND`.
#[test]
fn heartbeat_of_unknown_job_is_not_found() {
    let (fx, job) = claimed();
    assert_eq!(err_kind(fx.q().heartbeat(UNKNOWN_ID, &by_lease(&job), None, T0)), ErrorKind::NotFound);
}
