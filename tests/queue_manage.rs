//! Reading, cancelling and replaying jobs, and the dead-letter queue.

mod common;
mod support;
use common::*;
use edgespool::model::{ErrorKind, JobSpec};
use edgespool::queue::manage::DeadLetterSelection::{self, Ids, Oldest};
use serde_json::{json, Value};
use support::*;

/// Every field of Spooled's `Job` object.
const JOB_FIELDS: [&str; 27] = [
    "id",
    "organization_id",
    "queue_name",
    "status",
    "payload",
    "result",
    "retry_count",
    "max_retries",
    "last_error",
    "created_at",
    "scheduled_at",
    "started_at",
    "completed_at",
    "expires_at",
    "priority",
    "tags",
    "timeout_seconds",
    "parent_job_id",
    "completion_webhook",
    "assigned_worker_id",
    "lease_id",
    "lease_expires_at",
    "idempotency_key",
    "updated_at",
    "workflow_id",
    "dependency_mode",
    "dependencies_met",
];

/// `n` dead letters, the i-th dead-lettered at `T0 + i s`, in that order.
fn with_dead_letters(n: i64) -> (Fixture, Vec<String>) {
    let mut fx = Fixture::new();
    let ids = (0..n).map(|i| fx.job_in("deadletter", spec(&i.to_string()), T0 + i * SEC)).collect();
    (fx, ids)
}

/// Replays `selection` at `T0 + 1 h`.
fn replay(fx: &Fixture, selection: DeadLetterSelection) -> Vec<String> {
    fx.q().replay_dead_letters(&selection, T0 + 3600 * SEC).unwrap()
}

/// A fully specified job, to check that every stored field is rendered.
fn detailed_spec() -> JobSpec {
    JobSpec { timeout_seconds: Some(120), ..spec(r#"{"to":"x@y.z"}"#) }
        .with_priority(7)
        .with_key("order-42")
        .with_tags(r#"["mail","eu"]"#)
        .expiring_at(T0 + 86_400 * SEC)
}

/// `get_job` renders every field of Spooled's `Job`, with times as RFC 3339.
#[test]
fn get_job_renders_the_spooled_job_shape() {
    let mut fx = Fixture::new();
    let id = fx.add(detailed_spec(), T0);
    let Value::Object(job) = fx.job(&id) else { panic!("a job is an object") };
    let mut fields = JOB_FIELDS.to_vec();
    fields.sort_unstable();
    assert_eq!(job.keys().map(String::as_str).collect::<Vec<_>>(), fields);
    let expected = json!({
        "id": id, "organization_id": "t", "queue_name": "q", "status": "pending",
        "payload": {"to": "x@y.z"}, "result": null, "retry_count": 0, "max_retries": 3,
        "last_error": null, "created_at": "2026-01-01T00:00:00.000Z", "scheduled_at": null,
        "started_at": null, "completed_at": null, "expires_at": "2026-01-02T00:00:00.000Z",
        "priority": 7, "tags": ["mail", "eu"], "timeout_seconds": 120, "parent_job_id": null,
        "completion_webhook": null, "assigned_worker_id": null, "lease_id": null,
        "lease_expires_at": null, "idempotency_key": "order-42",
        "updated_at": "2026-01-01T00:00:00.000Z", "workflow_id": null, "dependency_mode": null,
        "dependencies_met": null,
    });
    assert_eq!(Value::Object(job), expected);
}

/// `get_job` of an id the queue does not hold is `NOT_FOUND`.
#[test]
fn get_job_of_unknown_id_is_not_found() {
    assert_eq!(err_kind(Fixture::new().q().get_job(UNKNOWN_ID)), ErrorKind::NotFound);
}

/// A pending job can be cancelled; it is then `cancelled` with `completed_at` set.
#[test]
fn cancel_pending_job_succeeds() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}"), T0);
    fx.q().cancel(&id, T0 + SEC).unwrap();
    assert_eq!(fx.status(&id), "cancelled");
    assert_eq!(fx.time_of(&id, "completed_at"), Some(T0 + SEC));
}

/// A scheduled job can be cancelled, and is never claimed when its time comes.
#[test]
fn cancel_scheduled_job_succeeds_and_it_never_runs() {
    let mut fx = Fixture::new();
    let id = fx.job_in("scheduled", spec("{}"), T0);
    fx.q().cancel(&id, T0 + SEC).unwrap();
    assert_eq!(fx.status(&id), "cancelled");
    assert!(fx.claim(10, T0 + 7200 * SEC).is_empty());
}

/// Cancelling a job in `status` is a conflict and changes nothing.
fn assert_cancel_conflicts(status: &str) {
    let mut fx = Fixture::new();
    let id = fx.job_in(status, spec("{}"), T0);
    let before = fx.dump();
    assert_eq!(err_kind(fx.q().cancel(&id, T0 + SEC)), ErrorKind::Conflict);
    assert_eq!(fx.dump(), before);
}

/// A processing job cannot be cancelled.
#[test]
fn cancel_processing_job_is_conflict() {
    assert_cancel_conflicts("processing");
}

/// A completed job cannot be cancelled.
#[test]
fn cancel_completed_job_is_conflict() {
    assert_cancel_conflicts("completed");
}

/// A dead-lettered or already cancelled job cannot be cancelled.
#[test]
fn cancel_deadletter_or_cancelled_job_is_conflict() {
    assert_cancel_conflicts("deadletter");
    assert_cancel_conflicts("cancelled");
}

/// Cancelling an id the queue does not hold is `NOT_FOUND`.
#[test]
fn cancel_unknown_job_is_not_found() {
    assert_eq!(err_kind(Fixture::new().q().cancel(UNKNOWN_ID, T0)), ErrorKind::NotFound);
}

/// Replay puts a dead letter back to `pending` with no attempts counted and no error.
#[test]
fn replay_dead_letter_resets_it_to_pending() {
    let (fx, ids) = with_dead_letters(1);
    let job = job_json(&fx.q().replay(&ids[0], T0 + 60 * SEC).unwrap());
    assert_eq!((&job["id"], &job["status"]), (&json!(ids[0]), &json!("pending")));
    assert_eq!((&job["retry_count"], &job["last_error"]), (&json!(0), &Value::Null));
    assert_eq!(fx.job(&ids[0]), job);
}

/// A replayed job is claimable at once and gets its full set of attempts again.
#[test]
fn replayed_job_is_claimable_with_fresh_attempts() {
    let (mut fx, ids) = with_dead_letters(1);
    fx.q().replay(&ids[0], T0 + 60 * SEC).unwrap();
    let job = fx.claim_one(T0 + 60 * SEC);
    assert_eq!((job.id.as_str(), job.retry_count), (ids[0].as_str(), 0));
    assert_eq!(fx.fail(&job, T0 + 61 * SEC).unwrap().retry_count, 1);
}

/// Replay of a job that is not dead-lettered is a conflict and changes nothing.
#[test]
fn replay_outside_deadletter_is_conflict() {
    for status in ["pending", "scheduled", "processing", "completed", "cancelled"] {
        let mut fx = Fixture::new();
        let id = fx.job_in(status, spec("{}"), T0);
        let before = fx.dump();
        assert_eq!(err_kind(fx.q().replay(&id, T0 + SEC)), ErrorKind::Conflict, "{status}");
        assert_eq!(fx.dump(), before, "{status}");
    }
}

/// Replay of an id the queue does not hold is `NOT_FOUND`.
#[test]
fn replay_unknown_job_is_not_found() {
    assert_eq!(err_kind(Fixture::new().q().replay(UNKNOWN_ID, T0)), ErrorKind::NotFound);
}

/// Dead letters are listed newest first, as summaries with `attempt` and `retry_count`.
#[test]
fn list_dead_letters_is_newest_first() {
    let (fx, ids) = with_dead_letters(3);
    let listed = fx.dead_letters(10, 0);
    assert_eq!(ids_of(&listed), pick(&ids, &[2, 1, 0]));
    let first = summaries_json(&listed);
    assert_eq!(
        (&first[0]["status"], &first[0]["attempt"], &first[0]["retry_count"]),
        (&json!("deadletter"), &json!(1), &json!(1))
    );
}

/// `limit` and `offset` page through the dead letters.
#[test]
fn list_dead_letters_pages_with_limit_and_offset() {
    let (fx, ids) = with_dead_letters(5);
    assert_eq!(ids_of(&fx.dead_letters(2, 0)), pick(&ids, &[4, 3]));
    assert_eq!(ids_of(&fx.dead_letters(2, 2)), pick(&ids, &[2, 1]));
    assert_eq!(ids_of(&fx.dead_letters(2, 4)), pick(&ids, &[0]));
    assert!(ids_of(&fx.dead_letters(2, 6)).is_empty());
}

/// Jobs in other states never appear among the dead letters.
#[test]
fn list_dead_letters_only_lists_dead_letters() {
    let (mut fx, ids) = with_dead_letters(1);
    for status in ["pending", "processing", "completed", "cancelled"] {
        fx.job_in(status, spec("{}"), T0 + 10 * SEC);
    }
    assert_eq!(ids_of(&fx.dead_letters(100, 0)), ids);
}

/// Replay by ids replays only the named dead letters, in queue order, and skips the rest.
#[test]
fn replay_dead_letters_by_ids_skips_jobs_that_are_not_dead_letters() {
    let (mut fx, ids) = with_dead_letters(4);
    let pending = fx.add(spec("{}"), T0);
    let selection = Ids(vec![ids[3].clone(), pending.clone(), ids[1].clone(), UNKNOWN_ID.into()]);
    assert_eq!(replay(&fx, selection), pick(&ids, &[1, 3]));
    let statuses: Vec<_> = ids.iter().map(|id| fx.status(id)).collect();
    assert_eq!(statuses, ["deadletter", "pending", "deadletter", "pending"]);
    assert_eq!(fx.job(&ids[1])["retry_count"], 0);
}

/// Replay of the oldest `n` takes the `n` oldest dead letters.
#[test]
fn replay_oldest_n_dead_letters() {
    let (fx, ids) = with_dead_letters(4);
    assert_eq!(replay(&fx, Oldest(3)), pick(&ids, &[0, 1, 2]));
    assert_eq!(ids_of(&fx.dead_letters(10, 0)), pick(&ids, &[3]));
}

/// Purge by ids deletes exactly the named dead letters.
#[test]
fn purge_dead_letters_by_ids() {
    let (fx, ids) = with_dead_letters(3);
    assert_eq!(fx.q().purge_dead_letters(&Ids(pick(&ids, &[0, 2])), None).unwrap(), 2);
    assert_eq!(ids_of(&fx.dead_letters(10, 0)), pick(&ids, &[1]));
    assert_eq!(fx.count(), 1);
}

/// Purge with `older_than` deletes only jobs dead-lettered strictly before that time.
#[test]
fn purge_dead_letters_older_than_a_cutoff() {
    let (fx, ids) = with_dead_letters(4);
    assert_eq!(fx.q().purge_dead_letters(&Oldest(100), Some(T0 + 2 * SEC)).unwrap(), 2);
    assert_eq!(ids_of(&fx.dead_letters(10, 0)), pick(&ids, &[3, 2]));
}

/// Purge of the oldest `n` deletes at most `n`, oldest first, also under a cutoff.
#[test]
fn purge_oldest_n_respects_the_limit() {
    let (fx, ids) = with_dead_letters(5);
    assert_eq!(fx.q().purge_dead_letters(&Oldest(2), Some(T0 + 4 * SEC)).unwrap(), 2);
    assert_eq!(ids_of(&fx.dead_letters(10, 0)), pick(&ids, &[4, 3, 2]));
}

/// Purge never deletes jobs in other states, even when named.
#[test]
fn purge_never_touches_other_jobs() {
    let mut fx = Fixture::new();
    let others: Vec<_> = ["pending", "scheduled", "processing", "completed", "cancelled"]
        .iter()
        .map(|status| fx.job_in(status, spec("{}"), T0))
        .collect();
    assert_eq!(fx.q().purge_dead_letters(&Ids(others.clone()), None).unwrap(), 0);
    assert_eq!(fx.q().purge_dead_letters(&Oldest(100), None).unwrap(), 0);
    assert_eq!(fx.count(), others.len());
}
