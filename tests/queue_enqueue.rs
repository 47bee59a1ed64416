//! Enqueue: ids, claim order, idempotency keys, bulk atomicity, scheduling and defaults.

mod common;
mod support;
use common::*;
use edgespool::model::{ErrorKind, JobId};
use edgespool::queue::{QueueSettings, Sql};
use std::collections::HashSet;
use support::*;

/// Enqueues a duplicate of the job `id` (same key, different payload and priority) and checks
/// that it returns `id` with `created: false` and leaves the table exactly as it was.
fn assert_duplicate_returns_existing(fx: &mut Fixture, id: &str, key: &str) {
    let before = fx.dump();
    let out = fx.enqueue(&[spec(r#"{"other":true}"#).with_key(key).with_priority(-5)], T0 + 5 * SEC);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id, id);
    assert!(!out[0].created);
    assert_eq!(fx.dump(), before, "a duplicate enqueue must not write anything");
}

/// Puts a keyed job in `status`, then checks that a duplicate enqueue returns it untouched.
fn check_duplicate_in(status: &str) {
    let mut fx = Fixture::new();
    let id = fx.job_in(status, spec(r#"{"n":1}"#).with_key("k-1"), T0);
    assert_duplicate_returns_existing(&mut fx, &id, "k-1");
}

/// Every enqueued job is created with its own id that names the queue.
#[test]
fn enqueue_creates_jobs_with_distinct_queue_prefixed_ids() {
    let mut fx = Fixture::new();
    let out = fx.enqueue(&[spec("1"), spec("2"), spec("3")], T0);
    assert!(out.iter().all(|o| o.created));
    for o in &out {
        assert_eq!(JobId::parse(&o.id).expect("a job id").queue, "q");
        assert_eq!(fx.status(&o.id), "pending");
    }
    let distinct: HashSet<_> = out.iter().map(|o| &o.id).collect();
    assert_eq!(distinct.len(), 3);
    assert_eq!(fx.count(), 3);
}

/// Jobs of one priority are claimed in enqueue order, across separate enqueue calls.
#[test]
fn jobs_of_one_priority_are_claimed_fifo() {
    let mut fx = Fixture::new();
    let ids: Vec<_> = (0..5).map(|i| fx.add(spec(&i.to_string()), T0 + i * SEC)).collect();
    assert_eq!(fx.claim_ids(10, T0 + 10 * SEC), ids);
}

/// Higher priorities are claimed first; FIFO still holds inside each priority.
#[test]
fn higher_priority_is_claimed_first() {
    let mut fx = Fixture::new();
    let priorities = [0, 5, -3, 5, 100, -100, 0];
    let ids: Vec<_> = priorities.iter().map(|&p| fx.add(spec("{}").with_priority(p), T0)).collect();
    let expected: Vec<_> = [4, 1, 3, 0, 6, 2, 5].iter().map(|&i| ids[i].clone()).collect();
    assert_eq!(fx.claim_ids(10, T0), expected);
}

/// A duplicate key of a pending job returns the existing id and inserts nothing.
#[test]
fn duplicate_key_of_pending_job_returns_existing_id() {
    check_duplicate_in("pending");
}

/// A duplicate key of a scheduled job returns the existing id and inserts nothing.
#[test]
fn duplicate_key_of_scheduled_job_returns_existing_id() {
    check_duplicate_in("scheduled");
}

/// A duplicate key of a processing job returns the existing id and inserts nothing.
#[test]
fn duplicate_key_of_processing_job_returns_existing_id() {
    check_duplicate_in("processing");
}

/// A duplicate key of a completed job returns the existing id and inserts nothing.
#[test]
fn duplicate_key_of_completed_job_returns_existing_id() {
    check_duplicate_in("completed");
}

/// A duplicate key of a dead-lettered job returns the existing id and inserts nothing.
#[test]
fn duplicate_key_of_deadletter_job_returns_existing_id() {
    check_duplicate_in("deadletter");
}

/// A duplicate key of a cancelled job returns the existing id and inserts nothing.
#[test]
fn duplicate_key_of_cancelled_job_returns_existing_id() {
    check_duplicate_in("cancelled");
}

/// Inside one batch, later items with the key of an earlier item collapse to the first.
#[test]
fn duplicate_keys_inside_one_batch_collapse_to_the_first() {
    let mut fx = Fixture::new();
    let batch = [spec("1").with_key("a"), spec("2"), spec("3").with_key("a"), spec("4").with_key("a")];
    let out = fx.enqueue(&batch, T0);
    let created: Vec<_> = out.iter().map(|o| o.created).collect();
    assert_eq!(created, [true, true, false, false]);
    assert_eq!(out[2].id, out[0].id);
    assert_eq!(out[3].id, out[0].id);
    assert_eq!(fx.count(), 2);
    assert_eq!(fx.job(&out[0].id)["payload"], 1);
}

/// A batch mixing new and known keys reports each item in input order.
#[test]
fn bulk_reports_new_and_existing_jobs_in_input_order() {
    let mut fx = Fixture::new();
    let known = fx.add(spec("0").with_key("known"), T0);
    let out = fx.enqueue(&[spec("1").with_key("new"), spec("2").with_key("known"), spec("3")], T0 + SEC);
    let created: Vec<_> = out.iter().map(|o| o.created).collect();
    assert_eq!(created, [true, false, true]);
    assert_eq!(out[1].id, known);
    assert_eq!(fx.count(), 3);
}

/// A bulk enqueue stores its jobs in input order, so they are claimed in that order.
#[test]
fn bulk_enqueue_keeps_input_order() {
    let mut fx = Fixture::new();
    let out = fx.enqueue(&(0..20).map(|i| spec(&i.to_string())).collect::<Vec<_>>(), T0);
    let ids: Vec<_> = out.into_iter().map(|o| o.id).collect();
    assert_eq!(fx.claim_ids(100, T0), ids);
}

/// A batch with one row the store refuses (priority out of range) inserts none of its rows.
#[test]
fn bulk_enqueue_is_all_or_nothing() {
    let mut fx = Fixture::new();
    fx.add(spec("0"), T0);
    let batch = [spec("1").with_key("x"), spec("2"), spec("3").with_priority(101), spec("4")];
    assert_eq!(err_kind(fx.try_enqueue(&batch, T0)), ErrorKind::InternalError);
    assert_eq!(fx.count(), 1);
    let retried = fx.enqueue(&[spec("1").with_key("x")], T0 + SEC);
    assert!(retried[0].created, "the key of the refused batch must still be free");
}

/// A job whose `scheduled_at` lies in the future starts `scheduled`.
#[test]
fn future_scheduled_at_makes_the_job_scheduled() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}").scheduled_for(T0 + 1), T0);
    assert_eq!(fx.status(&id), "scheduled");
    assert_eq!(fx.time_of(&id, "scheduled_at"), Some(T0 + 1));
}

/// A job whose `scheduled_at` is now or past starts `pending` and is claimable at once.
#[test]
fn present_or_past_scheduled_at_makes_the_job_pending() {
    let mut fx = Fixture::new();
    let now_id = fx.add(spec("1").scheduled_for(T0), T0);
    let past_id = fx.add(spec("2").scheduled_for(T0 - 60 * SEC), T0);
    assert_eq!(fx.status(&now_id), "pending");
    assert_eq!(fx.status(&past_id), "pending");
    assert_eq!(fx.claim_ids(10, T0), [now_id, past_id]);
}

/// Without a job-level `max_retries`, the queue's default of 3 applies.
#[test]
fn max_retries_defaults_to_three() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}"), T0);
    assert_eq!(fx.job(&id)["max_retries"], 3);
}

/// A queue's `default_max_retries` applies to jobs without their own; a job's own wins.
#[test]
fn max_retries_default_comes_from_queue_settings() {
    let mut fx = Fixture::with_settings(QueueSettings { default_max_retries: 7, ..QueueSettings::default() });
    let default_id = fx.add(spec("1"), T0);
    let own_id = fx.add(spec("2").with_retries(0), T0);
    assert_eq!(fx.job(&default_id)["max_retries"], 7);
    assert_eq!(fx.job(&own_id)["max_retries"], 0);
}

/// An idempotency key becomes free again once its job has been pruned after retention.
#[test]
fn idempotency_key_is_reusable_after_the_job_is_pruned() {
    let mut fx = Fixture::with_settings(QueueSettings { retention_ms: 10 * SEC, ..QueueSettings::default() });
    let old = fx.job_in("completed", spec("1").with_key("k"), T0);
    fx.q().sweep(T0 + 10 * SEC).unwrap();
    let out = fx.enqueue(&[spec("2").with_key("k")], T0 + 11 * SEC);
    assert!(out[0].created);
    assert_ne!(out[0].id, old);
}

/// A queue at `max_jobs` refuses more with `QUEUE_FULL` and stores nothing; room comes back
/// once jobs are pruned.
#[test]
fn a_full_queue_refuses_enqueue_until_jobs_are_pruned() {
    let settings = QueueSettings { max_jobs: 3, retention_ms: SEC, ..QueueSettings::default() };
    let mut fx = Fixture::with_settings(settings);
    let first = fx.job_in("completed", spec("1"), T0);
    fx.add(spec("2"), T0);
    assert_eq!(err_kind(fx.try_enqueue(&[spec("3"), spec("4")], T0)), ErrorKind::QueueFull);
    assert_eq!(fx.dump().len(), 2);
    fx.add(spec("3"), T0);
    assert_eq!(err_kind(fx.try_enqueue(&[spec("4")], T0)), ErrorKind::QueueFull);
    fx.q().sweep(T0 + 3600 * SEC).unwrap();
    assert!(fx.q().get_job(&first).is_err(), "the completed job was pruned");
    fx.add(spec("4"), T0 + 3600 * SEC);
}

/// A batch that exactly fills the queue goes in whole; one job more and none of it does, and
/// a full queue refuses even a batch of duplicates.
#[test]
fn max_jobs_admits_a_batch_that_fits_exactly_and_nothing_beyond() {
    let settings = QueueSettings { max_jobs: 5, ..QueueSettings::default() };
    let mut fx = Fixture::with_settings(settings);
    fx.add(spec("0").with_key("k"), T0);
    assert_eq!(
        err_kind(fx.try_enqueue(&[spec("1"), spec("2"), spec("3"), spec("4"), spec("5")], T0)),
        ErrorKind::QueueFull
    );
    assert_eq!(fx.dump().len(), 1);
    assert_eq!(fx.enqueue(&[spec("1"), spec("2"), spec("3"), spec("4")], T0).len(), 4);
    assert_eq!(fx.dump().len(), 5);
    assert_eq!(err_kind(fx.try_enqueue(&[spec("0").with_key("k")], T0)), ErrorKind::QueueFull);
}

/// The stored-jobs counter follows inserts and every kind of delete.
#[test]
fn the_job_counter_tracks_inserts_and_deletes() {
    let mut fx = Fixture::new();
    let count = |fx: &Fixture| fx.sql.query("SELECT n FROM job_count", &[]).unwrap()[0].clone();
    fx.enqueue(&[spec("1"), spec("2"), spec("3")], T0);
    fx.job_in("deadletter", spec("4"), T0);
    assert_eq!(count(&fx), vec![edgespool::queue::SqlValue::Integer(4)]);
    fx.q().purge_dead_letters(&edgespool::queue::manage::DeadLetterSelection::Oldest(10), None).unwrap();
    assert_eq!(count(&fx), vec![edgespool::queue::SqlValue::Integer(3)]);
}

/// The stored columns of job `id` that a batch insert may share or read per row.
fn stored_columns(fx: &Fixture, id: &str) -> Vec<edgespool::queue::SqlValue> {
    use edgespool::queue::Sql;
    let sql = "SELECT status, priority, max_retries, timeout_seconds, tags, idempotency_key, scheduled_at, \
               expires_at, payload FROM jobs WHERE id = ?1";
    fx.sql.query(sql, &[id.into()]).unwrap().remove(0)
}

/// Columns a batch shares are bound once and columns its jobs disagree on are read per row;
/// either way every job stores exactly what a lone enqueue of it stores.
#[test]
fn a_batch_stores_each_job_as_a_lone_enqueue_would_whether_columns_are_shared_or_not() {
    let later = T0 + 60 * SEC;
    let a = || spec("{ \"n\" : 1 }").with_priority(5).with_retries(2).with_tags("[ \"x\", \"y\" ]");
    let b = || {
        let mut job = spec("[2]").with_key("b").with_tags("{\"k\": \"v\"}");
        (job.scheduled_at, job.expires_at, job.timeout_seconds) = (Some(later), Some(later + SEC), Some(9));
        job
    };
    let batches = [vec![a(), a(), a()], vec![a(), b()], vec![b()]];
    let mut stored = Vec::new();
    for batch in batches {
        let mut fx = Fixture::new();
        let ids = fx.enqueue(&batch, T0);
        stored.push(ids.iter().map(|e| stored_columns(&fx, &e.id)).collect::<Vec<_>>());
    }
    let mut lone_a = Fixture::new();
    let lone_a_id = lone_a.add(a(), T0);
    let mut lone_b = Fixture::new();
    let lone_b_id = lone_b.add(b(), T0);
    let (want_a, want_b) = (stored_columns(&lone_a, &lone_a_id), stored_columns(&lone_b, &lone_b_id));
    assert_eq!(stored[0], vec![want_a.clone(), want_a.clone(), want_a.clone()], "a batch sharing every column");
    assert_eq!(stored[1], vec![want_a, want_b.clone()], "a batch sharing none");
    assert_eq!(stored[2], vec![want_b], "a batch of one");
    let tags = |fx: &Fixture, id: &str| fx.job(id)["tags"].clone();
    assert_eq!(tags(&lone_a, &lone_a_id), serde_json::json!(["x", "y"]));
    assert_eq!(
        stored_columns(&lone_a, &lone_a_id)[4],
        edgespool::queue::SqlValue::Text(r#"["x","y"]"#.into()),
        "tags are stored minified"
    );
}
