//! Batch acknowledgement (`ack_batch`): live leases complete together in one statement, and
//! every other item is decided exactly as a lone complete or fail would decide it.

mod common;
mod support;
use common::*;
use edgespool::queue::ack::{AckItem, FailItem};
use edgespool::queue::protocol::QueueReply;
use edgespool::queue::{Sql, SqlValue};
use serde_json::{json, Value};
use support::*;

/// A payload-like result whose exact text matters (big and decimal numbers, escapes).
const RESULT: &str = r#"{"z":1,"a":[12345678901234567890123,1.50,-0.0,2e3],"s":"caf\u00e9 \"q\"","n":null}"#;

fn ack(job: &Claimed, result: Option<&str>) -> AckItem {
    AckItem { id: job.id.clone(), lease_id: job.lease_id.clone(), result: result.map(raw) }
}

/// The batch's reply as `POST /jobs/ack` renders it.
fn ack_batch(fx: &mut Fixture, acks: &[AckItem], fails: &[FailItem], now: i64) -> Value {
    let q = queue(&fx.sql, &fx.settings);
    reply_json(&QueueReply::Acked(q.ack_batch(acks, fails, now, &mut fx.entropy).expect("ack batch"))).1
}

/// `(success, status or error code)` of every item, in reply order.
fn outcomes(reply: &Value) -> Vec<(bool, String)> {
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["success"] == true, r["status"].as_str().or(r["code"].as_str()).unwrap().to_owned()))
        .collect()
}

#[test]
fn a_batch_of_live_leases_completes_every_job_with_its_result_verbatim() {
    let mut fx = Fixture::new();
    fx.enqueue(&(0..100).map(|n| spec(&n.to_string())).collect::<Vec<_>>(), T0);
    let jobs = fx.claim(100, T0);
    let acks: Vec<AckItem> = jobs.iter().enumerate().map(|(i, j)| ack(j, (i % 2 == 0).then_some(RESULT))).collect();
    let reply = ack_batch(&mut fx, &acks, &[], T0 + SEC);
    assert_eq!((reply["succeeded"].clone(), reply["failed"].clone()), (json!(100), json!(0)));
    for (i, job) in jobs.iter().enumerate() {
        let stored = fx.job(&job.id);
        assert_eq!(stored["status"], "completed");
        let result = fx.sql.query("SELECT result FROM jobs WHERE id = ?1", &[job.id.as_str().into()]).unwrap();
        let text = match &result[0][0] {
            SqlValue::Text(t) => Some(t.clone()),
            _ => None,
        };
        assert_eq!(text.as_deref(), (i % 2 == 0).then_some(RESULT), "job {i}");
    }
}

#[test]
fn a_json_null_result_is_stored_as_no_result() {
    let mut fx = Fixture::new();
    fx.add(spec("1"), T0);
    let job = fx.claim_one(T0);
    ack_batch(&mut fx, &[ack(&job, Some("null"))], &[], T0 + SEC);
    assert_eq!(fx.job(&job.id)["result"], Value::Null);
}

#[test]
fn items_that_are_not_live_are_decided_one_by_one_in_request_order() {
    let mut fx = Fixture::new();
    fx.enqueue(&[spec("1"), spec("2"), spec("3"), spec("4")], T0);
    let jobs = fx.claim(4, T0);
    // Job 0 was completed before: acknowledging it again under the same lease succeeds.
    fx.complete(&jobs[0], T0 + SEC).unwrap();
    // Job 1 is acknowledged with somebody else's lease.
    let stale = AckItem { lease_id: "not-the-lease".into(), ..ack(&jobs[1], None) };
    let fail = FailItem {
        id: jobs[3].id.clone(),
        lease_id: jobs[3].lease_id.clone(),
        error: "boom".into(),
        retry_after_secs: None,
    };
    let reply = ack_batch(&mut fx, &[ack(&jobs[0], None), stale, ack(&jobs[2], None)], &[fail], T0 + 2 * SEC);
    assert_eq!(
        outcomes(&reply),
        vec![
            (true, "completed".into()),
            (false, "LEASE_EXPIRED".into()),
            (true, "completed".into()),
            (true, "pending".into()),
        ]
    );
    assert_eq!((fx.status(&jobs[1].id), fx.status(&jobs[3].id)), ("processing".into(), "pending".into()));
}

#[test]
fn a_lease_past_its_deadline_is_not_completed_even_before_the_alarm_runs() {
    let mut fx = Fixture::new();
    fx.add(spec("1"), T0);
    let job = fx.claim_one(T0);
    let deadline = epoch(&job.lease_expires_at);
    let reply = ack_batch(&mut fx, &[ack(&job, None)], &[], deadline);
    assert_eq!(outcomes(&reply), vec![(false, "LEASE_EXPIRED".into())]);
    assert_eq!(fx.status(&job.id), "processing");
}

#[test]
fn a_job_named_twice_is_decided_per_item() {
    let mut fx = Fixture::new();
    fx.add(spec("1"), T0);
    let job = fx.claim_one(T0);
    let wrong = AckItem { lease_id: "not-the-lease".into(), ..ack(&job, None) };
    let items = [wrong, ack(&job, Some("7")), ack(&job, Some("8")), ack(&job, Some("7"))];
    let reply = ack_batch(&mut fx, &items, &[], T0 + SEC);
    // The wrong lease fails; the first right one completes; a repeat with another result is
    // refused and one with the same result succeeds, both leaving the first result.
    assert_eq!(
        outcomes(&reply),
        vec![
            (false, "LEASE_EXPIRED".into()),
            (true, "completed".into()),
            (false, "ALREADY_COMPLETED".into()),
            (true, "completed".into())
        ]
    );
    assert_eq!(fx.job(&job.id)["result"], json!(7));
}

/// Counts the statements the queue issues.
struct Counting<'a>(&'a MemorySql, std::cell::Cell<usize>);

impl Sql for Counting<'_> {
    fn query(
        &self,
        statement: &str,
        params: &[SqlValue],
    ) -> Result<Vec<edgespool::queue::Row>, edgespool::model::ApiError> {
        self.1.set(self.1.get() + 1);
        self.0.query(statement, params)
    }
}

#[test]
fn live_acknowledgements_cost_one_statement_per_batch_and_per_complete() {
    let mut fx = Fixture::new();
    fx.enqueue(&(0..101).map(|n| spec(&n.to_string())).collect::<Vec<_>>(), T0);
    let jobs = fx.claim(100, T0);
    let lone = fx.claim_one(T0);
    let counting = Counting(&fx.sql, std::cell::Cell::new(0));
    let q = edgespool::queue::Queue { sql: &counting, tenant: "t", name: "q", settings: &fx.settings };
    let acks: Vec<AckItem> = jobs.iter().map(|j| ack(j, None)).collect();
    q.ack_batch(&acks, &[], T0 + SEC, &mut fx.entropy).unwrap();
    assert_eq!(counting.1.replace(0), 1, "batch ack");
    q.complete(&lone.id, &by_lease(&lone), None, T0 + SEC).unwrap();
    assert_eq!(counting.1.get(), 1, "complete");
}
