//! Claim: how many jobs, which ones, when they become visible, and the lease each one gets.

mod common;
mod support;
use common::*;
use edgespool::queue::lease::{ClaimRequest, CLAIMABLE_SEQS};
use edgespool::queue::{QueueSettings, Sql, SqlValue};
use std::collections::HashSet;
use support::*;

/// A fixture holding `n` pending jobs of priority 0, enqueued at `T0`.
fn with_pending(n: usize) -> (Fixture, Vec<String>) {
    let mut fx = Fixture::new();
    let ids = (0..n).map(|i| fx.add(spec(&i.to_string()), T0)).collect();
    (fx, ids)
}

/// A claim of any number of jobs whose priority lies in `min..=max`.
fn priority_range(min: i64, max: i64) -> ClaimRequest {
    ClaimRequest { min_priority: min, max_priority: max, ..claim_request(100) }
}

/// A claim returns at most `limit` jobs, the first ones in claim order.
#[test]
fn claim_returns_at_most_limit_jobs() {
    let (fx, ids) = with_pending(5);
    assert_eq!(fx.claim_ids(2, T0), ids[..2]);
    assert_eq!(fx.claim_ids(2, T0), ids[2..4]);
    assert_eq!(fx.claim_ids(2, T0), ids[4..]);
}

/// A limited claim takes the highest priorities first, not the oldest jobs.
#[test]
fn limited_claim_takes_the_highest_priorities_first() {
    let mut fx = Fixture::new();
    let ids: Vec<_> = [-1, 0, 9, 3, 9].iter().map(|&p| fx.add(spec("{}").with_priority(p), T0)).collect();
    assert_eq!(fx.claim_ids(3, T0), [ids[2].clone(), ids[4].clone(), ids[3].clone()]);
}

/// A claim on a queue with nothing ready answers an empty list.
#[test]
fn claim_on_empty_queue_returns_no_jobs() {
    let fx = Fixture::new();
    assert!(fx.q().claim(&claim_request(10), T0).unwrap().is_empty());
}

/// A job claimed once is not handed out again while its lease lives.
#[test]
fn claimed_job_is_not_claimed_again() {
    let (fx, ids) = with_pending(1);
    assert_eq!(fx.claim_ids(10, T0), ids);
    assert!(fx.claim(10, T0 + SEC).is_empty());
}

/// Only jobs whose priority lies inside the requested range are claimed; both bounds count.
#[test]
fn claim_only_takes_jobs_inside_the_priority_range() {
    let mut fx = Fixture::new();
    let ids: Vec<_> = [-100, -6, -5, 0, 5, 6, 100].iter().map(|&p| fx.add(spec("{}").with_priority(p), T0)).collect();
    let claimed: Vec<_> = fx.claim_with(&priority_range(-5, 5), T0).into_iter().map(|j| j.id).collect();
    assert_eq!(claimed, [ids[4].clone(), ids[3].clone(), ids[2].clone()]);
    for outside in [0, 1, 5, 6] {
        assert_eq!(fx.status(&ids[outside]), "pending");
    }
}

/// A scheduled job is not claimed before its time.
#[test]
fn scheduled_job_is_invisible_until_due() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}").scheduled_for(T0 + 60 * SEC), T0);
    assert!(fx.claim(10, T0 + 60 * SEC - 1).is_empty());
    assert_eq!(fx.status(&id), "scheduled");
}

/// A scheduled job that came due is claimable without a sweep: claim promotes it first.
#[test]
fn scheduled_job_is_claimable_once_due_without_a_sweep() {
    let mut fx = Fixture::new();
    let due = fx.add(spec("1").scheduled_for(T0 + 60 * SEC), T0);
    let later = fx.add(spec("2").scheduled_for(T0 + 120 * SEC), T0);
    assert_eq!(fx.claim_ids(10, T0 + 60 * SEC), [due]);
    assert_eq!(fx.status(&later), "scheduled");
}

/// Claim promotes every due scheduled job, even those it does not take.
#[test]
fn claim_promotes_due_jobs_outside_its_priority_range() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}").with_priority(-50).scheduled_for(T0 + SEC), T0);
    assert!(fx.claim_with(&priority_range(0, 100), T0 + SEC).is_empty());
    assert_eq!(fx.status(&id), "pending");
}

/// A pending job waiting out a retry delay is not claimed until the delay ends.
#[test]
fn retry_delayed_job_is_invisible_until_due() {
    let (mut fx, ids) = with_pending(1);
    let job = fx.claim_one(T0);
    let retry_at = fx.fail(&job, T0).unwrap().retry_at.expect("a retry time");
    assert_eq!(fx.status(&ids[0]), "pending");
    assert!(fx.claim(10, retry_at - 1).is_empty());
    assert_eq!(fx.claim_ids(10, retry_at), ids);
}

/// A job is not claimed at or after its `expires_at`, and is claimed before it.
#[test]
fn expired_job_is_skipped_by_claim() {
    let mut fx = Fixture::new();
    let expired = fx.add(spec("1").expiring_at(T0 + SEC), T0);
    let live = fx.add(spec("2").expiring_at(T0 + SEC + 1), T0);
    assert_eq!(fx.claim_ids(10, T0 + SEC), [live]);
    assert_eq!(fx.status(&expired), "pending");
}

/// Every claimed job carries its own fresh lease id.
#[test]
fn each_claimed_job_gets_a_distinct_lease_id() {
    let (fx, _) = with_pending(10);
    let leases: HashSet<_> = fx.claim(10, T0).into_iter().map(|j| j.lease_id).collect();
    assert_eq!(leases.len(), 10);
    assert!(leases.iter().all(|l| l.len() >= 16), "lease ids must be unguessable: {leases:?}");
}

/// A job claimed again after its lease expired gets a new lease id.
#[test]
fn reclaimed_job_gets_a_new_lease_id() {
    let (fx, _) = with_pending(1);
    let first = fx.claim_one(T0);
    fx.q().sweep(T0 + 30 * SEC).unwrap();
    let second = fx.claim_one(T0 + 30 * SEC);
    assert_eq!(second.id, first.id);
    assert_ne!(second.lease_id, first.lease_id);
}

/// The lease ends `lease_secs` after the claim.
#[test]
fn lease_expires_lease_secs_after_claim() {
    let (fx, ids) = with_pending(1);
    let job = fx.claim_with(&ClaimRequest { lease_secs: Some(45), ..claim_request(1) }, T0).remove(0);
    assert_eq!(epoch(&job.lease_expires_at), T0 + 45 * SEC);
    assert_eq!(fx.time_of(&ids[0], "lease_expires_at"), Some(T0 + 45 * SEC));
}

/// Without `lease_secs` the queue's default lease length applies.
#[test]
fn lease_length_defaults_to_the_queue_setting() {
    let mut fx = Fixture::with_settings(QueueSettings { default_lease_secs: 12, ..QueueSettings::default() });
    let id = fx.add(spec("{}"), T0);
    fx.claim_one(T0);
    assert_eq!(fx.time_of(&id, "lease_expires_at"), Some(T0 + 12 * SEC));
}

/// A claimed job is `processing`, assigned to the worker, started now, under the lease the
/// claim handed out; reading the job never shows that lease id (only its claimer knows it).
#[test]
fn claimed_job_is_processing_under_the_workers_lease() {
    let (fx, ids) = with_pending(1);
    let claimed = fx.claim_one(T0 + SEC);
    let job = fx.job(&ids[0]);
    assert_eq!(job["status"], "processing");
    assert_eq!(job["assigned_worker_id"], "w1");
    assert!(job["lease_id"].is_null(), "GET shows the lease id: {job}");
    assert_eq!(fx.q().heartbeat(&ids[0], &by_lease(&claimed), None, T0 + 2 * SEC), Ok(T0 + 2 * SEC + 30 * SEC));
    assert_eq!(ms(&job["started_at"]), Some(T0 + SEC));
}

/// The claimed job carries its payload verbatim and its attempt and timeout fields.
#[test]
fn claimed_job_carries_payload_and_attempt_fields() {
    let mut fx = Fixture::new();
    let payload = r#"{"to":"a@b.c","n":12345678901234567890,"f":1.50}"#;
    let id = fx.add(spec(payload).with_retries(5).with_priority(7), T0);
    let job = fx.claim_one(T0);
    assert_eq!((job.id.as_str(), job.queue_name.as_str()), (id.as_str(), "q"));
    assert_eq!(job.payload.get(), payload);
    assert_eq!((job.retry_count, job.max_retries, job.timeout_seconds, job.priority), (0, 5, 300, 7));
}

/// The claim's SELECT walks the `jobs_claimable` index in order instead of sorting.
#[test]
fn claim_select_uses_the_claimable_index_without_sorting() {
    let sql = MemorySql::with_queue_schema();
    let params: Vec<SqlValue> =
        vec![SqlValue::Null, SqlValue::Null, SqlValue::Null, T0.into(), (-100i64).into(), 100i64.into(), 10i64.into()];
    let plan: Vec<String> = sql
        .query(&format!("EXPLAIN QUERY PLAN {CLAIMABLE_SEQS}"), &params)
        .unwrap()
        .into_iter()
        .map(|row| match row.last() {
            Some(SqlValue::Text(detail)) => detail.clone(),
            other => panic!("unexpected plan row {other:?}"),
        })
        .collect();
    assert!(plan.iter().any(|d| d.contains("jobs_claimable")), "plan: {plan:?}");
    assert!(!plan.iter().any(|d| d.contains("USE TEMP B-TREE FOR ORDER BY")), "plan: {plan:?}");
}
