//! The job state machine as a table: every (state × transition) pair, once through the
//! statement [`Transition::statement`] builds from the rule, and once through the queue
//! operation that applies it. A transition must act exactly on its rule's from-states, enter
//! its to-state, change no column its rule does not name, and change nothing at all when it is
//! refused. Each also writes exactly the events its rule names when they are subscribed, and
//! none when they are not or when it is refused.

mod common;
mod support;
use common::*;
use edgespool::model::lease::Fence;
use edgespool::model::{ErrorKind, EventKind, JobStatus};
use edgespool::queue::transition::{Target, Transition};
use edgespool::queue::{Row, RowExt, Sql, SqlValue};
use support::*;

const NOW: i64 = 1_000 * SEC;

/// A fixture holding one job in `status` (plus the jobs other states needed on the way).
fn job_in(status: JobStatus) -> (Fixture, String) {
    let mut fx = Fixture::new();
    let id = match status {
        JobStatus::Failed => {
            // No transition produces `failed` (a compatibility status): plant it.
            let id = fx.job_in("deadletter", spec("{}"), NOW);
            fx.sql.query("UPDATE jobs SET status = 'failed' WHERE id = ?1", &[id.as_str().into()]).unwrap();
            id
        }
        other => fx.job_in(other.as_str(), spec("{}"), NOW),
    };
    (fx, id)
}

/// The stored row of `id`, column by column with names.
fn row_of(fx: &Fixture, id: &str) -> Vec<(String, SqlValue)> {
    let names: Vec<String> = fx
        .sql
        .query("SELECT name FROM pragma_table_info('jobs') ORDER BY cid", &[])
        .unwrap()
        .iter()
        .map(|r| r.text(0).unwrap().to_owned())
        .collect();
    let row: Row = fx.sql.query_one("SELECT * FROM jobs WHERE id = ?1", &[id.into()]).unwrap().unwrap();
    names.into_iter().zip(row).collect()
}

fn status_of(fx: &Fixture, id: &str) -> JobStatus {
    JobStatus::parse(&fx.status(id)).unwrap()
}

/// The columns that differ between two versions of a row.
fn changed(before: &[(String, SqlValue)], after: &[(String, SqlValue)]) -> Vec<String> {
    before.iter().zip(after).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0.clone()).collect()
}

#[test]
fn every_rule_applies_exactly_to_its_from_states_and_sets_only_what_it_names() {
    for transition in Transition::ALL {
        let rule = transition.rule();
        if rule.from.is_empty() {
            continue; // stores a new job: covered by the enqueue tests
        }
        for (status, subscribed) in JobStatus::ALL.into_iter().flat_map(|s| [(s, false), (s, true)]) {
            let (fx, id) = job_in(status);
            if subscribed {
                fx.subscribe("all", &EventKind::ALL);
            }
            let rows = format!("jobs.id = '{id}'");
            // Every input any rule uses, as a literal a job in any state can take.
            let inputs = [
                (":now", "1000001"),
                (":worker_id", "'w-table'"),
                (":lease_secs", "77"),
                (":lease_expires_at", "1077001"),
                (":result", "'{\"ok\":true}'"),
                (":retry_count", "1"),
                (":error", "'boom'"),
                (":retry_at", "1005000"),
                (":priority", "42"),
            ];
            let target = Target { index: None, from: None, rows: &rows, returning: "seq", inputs: &inputs };
            let before = row_of(&fx, &id);
            let touched = fx.sql.query(&transition.statement(&target), &[]).unwrap().len();
            let after = row_of(&fx, &id);
            let pair = format!("{transition:?} on a {status} job (subscribed: {subscribed})");
            let emitted = fx.event_kinds_after(0);
            if !transition.allows(status) {
                assert_eq!(touched, 0, "{pair} must be refused");
                assert_eq!(before, after, "{pair} must change nothing");
                assert_eq!(emitted, Vec::<String>::new(), "{pair} must emit nothing");
                continue;
            }
            let named: Vec<String> = rule.events.iter().filter(|_| subscribed).map(|k| k.to_string()).collect();
            assert_eq!(emitted, named, "{pair} must emit exactly its rule's events");
            assert_eq!(touched, 1, "{pair} must apply");
            assert_eq!(status_of(&fx, &id), rule.to.unwrap_or(status), "{pair}: wrong state");
            let named: Vec<&str> = rule.sets.iter().map(|(c, _)| *c).chain(["status", "updated_at"]).collect();
            for column in changed(&before, &after) {
                assert!(named.contains(&column.as_str()), "{pair} changed {column}, which its rule does not name");
            }
        }
    }
}

/// What each queue operation does to a job in `status`: `Ok(new status)` or the error kind.
fn operate(fx: &mut Fixture, id: &str, op: Transition) -> Result<JobStatus, ErrorKind> {
    let lease = fx.sql.query_one("SELECT lease_id FROM jobs WHERE id = ?1", &[id.into()]).unwrap().unwrap();
    // The job's own last lease where it had one, so only its state decides.
    let fence =
        Fence { lease_id: Some(lease.opt_text(0).unwrap().unwrap_or("never-leased").to_owned()), worker_id: None };
    let q = fx.q();
    let outcome = match op {
        Transition::Claim => {
            let claimed = fx.claim(100, NOW).into_iter().any(|c| c.id == id);
            return if claimed { Ok(status_of(fx, id)) } else { Err(ErrorKind::Conflict) };
        }
        Transition::Complete => q.complete(id, &fence, None, NOW).map(drop),
        Transition::Retry | Transition::DeadLetter => {
            let fail = q.fail(id, &fence, "boom", None, NOW, &mut SeededEntropy::new(1));
            return fail.map(|o| o.status).map_err(|e| e.kind);
        }
        Transition::Heartbeat => q.heartbeat(id, &fence, None, NOW).map(drop),
        Transition::Release => {
            let released = q.release_worker("w1", NOW).unwrap();
            return if released == 1 { Ok(status_of(fx, id)) } else { Err(ErrorKind::Conflict) };
        }
        Transition::Cancel => q.cancel(id, NOW),
        Transition::Replay => q.replay(id, NOW).map(drop),
        Transition::Reprioritize => q.set_priority(id, 7, NOW).map(drop),
        Transition::Promote | Transition::Expire | Transition::Enqueue | Transition::Schedule => {
            unreachable!("driven by time or by enqueue, not by a request")
        }
    };
    outcome.map(|()| status_of(fx, id)).map_err(|e| e.kind)
}

#[test]
fn every_operation_allows_what_its_rule_allows_and_refuses_the_rest_unchanged() {
    let operations = [
        Transition::Claim,
        Transition::Complete,
        Transition::Retry,
        Transition::Heartbeat,
        Transition::Release,
        Transition::Cancel,
        Transition::Replay,
        Transition::Reprioritize,
    ];
    for op in operations {
        for status in JobStatus::ALL {
            let (mut fx, id) = job_in(status);
            fx.subscribe("all", &EventKind::ALL);
            let before = fx.dump();
            let pair = format!("{op:?} on a {status} job");
            // A repeated complete under the job's own last lease is the one idempotent refusal.
            let repeat = op == Transition::Complete && status == JobStatus::Completed;
            match operate(&mut fx, &id, op) {
                Ok(after) if repeat => {
                    assert_eq!((after, fx.dump()), (status, before), "{pair}");
                    assert!(fx.events().is_empty(), "{pair} must emit nothing");
                }
                Ok(after) => {
                    assert!(op.allows(status), "{pair} must be refused");
                    let expected = op.rule().to.unwrap_or(status);
                    // A failed attempt's outcome is Retry's or DeadLetter's, by retries left.
                    let failed = [JobStatus::Pending, JobStatus::Deadletter].contains(&after);
                    assert!(after == expected || (op == Transition::Retry && failed), "{pair} entered {after}");
                    let taken = if after == JobStatus::Deadletter { Transition::DeadLetter } else { op };
                    let named: Vec<String> = taken.rule().events.iter().map(|k| k.to_string()).collect();
                    assert_eq!(fx.event_kinds_after(0), named, "{pair} must emit exactly its rule's events");
                }
                Err(kind) => {
                    assert!(!op.allows(status), "{pair} must be allowed, got {kind:?}");
                    assert_eq!(fx.dump(), before, "{pair} was refused but changed the queue");
                    assert!(fx.events().is_empty(), "{pair} was refused but emitted events");
                }
            }
        }
    }
}

#[test]
fn transitions_between_the_same_states_name_the_same_events() {
    // The outbox's triggers see a job's states, not the cause of the change.
    for a in Transition::ALL {
        for b in Transition::ALL {
            let (ra, rb) = (a.rule(), b.rule());
            if ra.from == rb.from && ra.to == rb.to {
                assert_eq!(ra.events, rb.events, "{a:?} and {b:?}");
            }
        }
    }
}
