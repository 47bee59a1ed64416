//! The event outbox: every transition writes its subscribed events in its own statement, in
//! commit order, none when nobody listens; consumers read after their cursor, acknowledge by
//! reading on, and rows everyone has are pruned; the outbox stays bounded.

mod common;
mod support;
use common::*;
use edgespool::model::spec::MAX_INLINE_RESULT_BYTES;
use edgespool::model::EventKind;
use edgespool::queue::events::{EventPage, Subscriber, CAP_STEP, OUTBOX_CAP};
use edgespool::queue::maintenance::LEASE_EXPIRED_ERROR;
use edgespool::queue::{schema, Row, RowExt, Sql, SqlValue};
use serde_json::Value;
use std::cell::Cell;
use std::time::Instant;
use support::*;

fn kinds(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn read(fx: &Fixture, consumer: &str, after: i64) -> EventPage {
    fx.q().read_events(consumer, after, 1_000).expect("read events")
}

#[test]
fn a_job_s_life_writes_its_events_in_commit_order_with_stable_ids() {
    let mut fx = Fixture::new();
    fx.subscribe("all", &EventKind::ALL);
    let id = fx.add(spec("{}"), T0);
    let job = fx.claim_one(T0);
    fx.q().complete(&id, &by_lease(&job), Some(&*raw(r#"{"ok":1}"#)), T0 + SEC).unwrap();
    let page = read(&fx, "all", 0);
    assert_eq!(page.missed_through, None);
    let names: Vec<String> = page.events.iter().map(|e| e.kind.to_string()).collect();
    assert_eq!(names, kinds(&["job.created", "job.started", "job.completed"]));
    for (n, event) in page.events.iter().enumerate() {
        assert_eq!(event.seq, n as i64 + 1);
        assert_eq!(event.id, format!("q.{}", event.seq));
    }
    let data: Value = serde_json::from_str(page.events[2].data.get()).unwrap();
    assert_eq!(data["job_id"], id.as_str());
    assert_eq!(data["queue_name"], "q");
    assert_eq!(data["status"], "completed");
    assert_eq!(data["result"], serde_json::json!({"ok": 1}));
    assert_eq!(page.events[2].at, T0 + SEC);
    let started: Value = serde_json::from_str(page.events[1].data.get()).unwrap();
    assert_eq!((started["worker_id"].as_str(), started["attempt"].as_i64()), (Some("w1"), Some(1)));
}

#[test]
fn a_result_in_a_row_of_its_own_still_gives_its_size() {
    let mut fx = Fixture::new();
    fx.subscribe("all", &EventKind::ALL);
    let id = fx.add(spec("{}"), T0);
    let job = fx.claim_one(T0);
    let large = format!(r#""{}""#, "x".repeat(MAX_INLINE_RESULT_BYTES + 1));
    fx.q().complete(&id, &by_lease(&job), Some(&*raw(&large)), T0 + SEC).unwrap();
    let page = read(&fx, "all", 0);
    let data: Value = serde_json::from_str(page.events[2].data.get()).unwrap();
    assert_eq!(page.events[2].kind, EventKind::JobCompleted);
    assert_eq!(data["result"], Value::Null);
    assert_eq!(data["result_bytes"], large.len());
}

#[test]
fn set_based_transitions_write_one_event_per_row() {
    let mut fx = Fixture::new();
    fx.subscribe("all", &EventKind::ALL);
    let jobs: Vec<_> = (0..3).map(|i| spec(&i.to_string()).with_key(&format!("k{i}"))).collect();
    fx.enqueue(&jobs, T0);
    // Repeated idempotency keys store no job, and so no event.
    fx.enqueue(&jobs, T0);
    assert_eq!(fx.event_kinds_after(0), kinds(&["job.created"; 3]));
    let claimed = fx.claim(3, T0);
    assert_eq!(fx.event_kinds_after(3), kinds(&["job.started"; 3]));
    // Lease expiry: one retry-able job goes back, the others are released by their worker.
    fx.sql.query("UPDATE jobs SET max_retries = 0 WHERE id = ?1", &[claimed[0].id.as_str().into()]).unwrap();
    fx.q().sweep(T0 + 3_600 * SEC).unwrap();
    let swept = fx.events().into_iter().skip(6).collect::<Vec<_>>();
    let dead: Vec<_> = swept.iter().filter(|(_, job)| job.as_deref() == Some(claimed[0].id.as_str())).collect();
    assert_eq!(dead.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["job.failed", "job.deadlettered"]);
    assert_eq!(swept.len(), 4, "two dead-letter events and two retries: {swept:?}");
    let rows = fx.sql.query("SELECT data FROM events WHERE kind = 'job.deadlettered'", &[]).unwrap();
    let data: Value = serde_json::from_str(rows[0].text(0).unwrap()).unwrap();
    assert_eq!(data["error"], LEASE_EXPIRED_ERROR);
}

#[test]
fn a_departing_worker_s_jobs_are_retried_events_and_queue_events_are_written_too() {
    let mut fx = Fixture::new();
    fx.add(spec("{}"), T0);
    fx.claim_one(T0);
    fx.subscribe("all", &EventKind::ALL);
    assert_eq!(fx.q().release_worker("w1", T0).unwrap(), 1);
    fx.q().pause(Some("deploy".into()), T0).unwrap();
    fx.settings = edgespool::queue::config::load(&fx.sql).unwrap();
    fx.q().pause(None, T0).unwrap(); // already paused: nothing new happened
    fx.q().resume(T0 + 5 * SEC).unwrap();
    assert_eq!(fx.event_kinds_after(0), kinds(&["job.retried", "queue.paused", "queue.resumed"]));
    let page = read(&fx, "all", 0);
    let resumed: Value = serde_json::from_str(page.events[2].data.get()).unwrap();
    assert_eq!(resumed, serde_json::json!({"paused_duration_secs": 5, "queue_name": "q"}));
    let paused: Value = serde_json::from_str(page.events[1].data.get()).unwrap();
    assert_eq!(paused["reason"], "deploy");
}

/// `Sql` that counts the statements it runs.
struct Counting<'a>(&'a MemorySql, Cell<usize>);

impl Sql for Counting<'_> {
    fn query(&self, statement: &str, params: &[SqlValue]) -> Result<Vec<Row>, edgespool::model::ApiError> {
        self.1.set(self.1.get() + 1);
        self.0.query(statement, params)
    }
}

/// Statements and time for `cycles` enqueue + claim + complete cycles.
fn hot_path(fx: &mut Fixture, cycles: usize) -> (usize, std::time::Duration) {
    let counting = Counting(&fx.sql, Cell::new(0));
    let q = edgespool::queue::Queue { sql: &counting, tenant: "t", name: "q", settings: &fx.settings };
    let started = Instant::now();
    for n in 0..cycles {
        let now = T0 + n as i64;
        let id = q.enqueue(&[spec("{}")], now, &mut fx.entropy).unwrap().remove(0).id;
        let job = q.claim(&claim_request(1), now).unwrap().remove(0);
        let fence = edgespool::model::lease::Fence { lease_id: Some(job.lease_id.clone()), worker_id: None };
        q.complete(&id, &fence, None, now).unwrap();
    }
    (counting.1.get(), started.elapsed())
}

#[test]
fn an_unsubscribed_queue_does_no_event_work_on_the_hot_path() {
    const CYCLES: usize = 10_000;
    let mut quiet = Fixture::new();
    let triggers = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'job_events_%'";
    assert_eq!(quiet.sql.query_one(triggers, &[]).unwrap().unwrap().int(0).unwrap(), 0);
    let (quiet_statements, quiet_time) = hot_path(&mut quiet, CYCLES);
    assert!(quiet.events().is_empty());
    let mut heard = Fixture::new();
    heard.subscribe("webhook", &[EventKind::JobCompleted]);
    let (heard_statements, heard_time) = hot_path(&mut heard, CYCLES);
    assert_eq!(heard.events().len(), CYCLES);
    // Events ride in the transition's own statement: subscribing adds no statement.
    assert_eq!(quiet_statements, heard_statements);
    println!(
        "{CYCLES} enqueue+claim+complete cycles, {} statements each: unsubscribed {quiet_time:?}, \
         subscribed to job.completed {heard_time:?}",
        quiet_statements / CYCLES
    );
}

#[test]
fn a_rolled_back_transition_leaves_no_event() {
    let mut fx = Fixture::new();
    fx.subscribe("all", &EventKind::ALL);
    let id = fx.add(spec("{}"), T0);
    let job = fx.claim_one(T0);
    let before = fx.events();
    fx.sql.0.execute_batch("SAVEPOINT command").unwrap();
    fx.q().complete(&id, &by_lease(&job), None, T0).unwrap();
    assert_eq!(fx.events().len(), before.len() + 1);
    fx.sql.0.execute_batch("ROLLBACK TO command; RELEASE command").unwrap();
    assert_eq!(fx.events(), before);
    assert_eq!(fx.status(&id), "processing");
}

#[test]
fn each_consumer_reads_its_kinds_and_pruning_waits_for_the_slowest() {
    let mut fx = Fixture::new();
    let consumers = [
        Subscriber { name: "hook".into(), kinds: vec![EventKind::JobCompleted] },
        Subscriber { name: "stream".into(), kinds: EventKind::ALL.to_vec() },
    ];
    assert_eq!(fx.q().set_subscriptions(2, &consumers).unwrap(), 2);
    // An older push is ignored.
    assert_eq!(fx.q().set_subscriptions(1, &[]).unwrap(), 2);
    for _ in 0..2 {
        fx.add(spec("{}"), T0);
        let job = fx.claim_one(T0);
        fx.complete(&job, T0).unwrap();
    }
    let hook = read(&fx, "hook", 0);
    assert_eq!(hook.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 6]);
    let stream = read(&fx, "stream", 0);
    assert_eq!(stream.events.len(), 6);
    // The hook acknowledges everything; the stream only the first three.
    read(&fx, "hook", 6);
    read(&fx, "stream", 3);
    assert_eq!(fx.events().len(), 3, "rows the stream has not acknowledged stay");
    assert_eq!(read(&fx, "stream", 3).events.len(), 3, "an unacknowledged read is at least once");
    read(&fx, "stream", 6);
    assert!(fx.events().is_empty(), "rows every consumer has are pruned");
    assert_eq!(read(&fx, "hook", 6).missed_through, None);
    assert!(fx.q().read_events("nobody", 0, 10).is_err());
    // Unsubscribing everyone removes the triggers: the queue is quiet again.
    fx.q().set_subscriptions(3, &[]).unwrap();
    fx.add(spec("{}"), T0);
    assert!(fx.events().is_empty());
}

#[test]
fn a_new_consumer_starts_after_the_last_event() {
    let mut fx = Fixture::new();
    fx.subscribe("first", &EventKind::ALL);
    fx.add(spec("{}"), T0);
    let both = [
        Subscriber { name: "first".into(), kinds: EventKind::ALL.to_vec() },
        Subscriber { name: "late".into(), kinds: EventKind::ALL.to_vec() },
    ];
    fx.q().set_subscriptions(10, &both).unwrap();
    fx.add(spec("{}"), T0);
    assert_eq!(read(&fx, "late", 0).events.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    assert_eq!(read(&fx, "first", 0).events.len(), 2, "a staying consumer keeps its cursor");
}

#[test]
fn the_outbox_is_capped_and_a_consumer_that_fell_behind_is_told_what_it_missed() {
    let fx = Fixture::new();
    fx.subscribe("slow", &[EventKind::JobCreated]);
    let total = OUTBOX_CAP + 2 * CAP_STEP + 5;
    fx.sql
        .query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO events (kind, job_id, at, data) SELECT 'job.created', 'q.x', i, '{}' FROM n",
            &[total.into()],
        )
        .unwrap();
    let kept = fx.events().len() as i64;
    assert!((OUTBOX_CAP..=OUTBOX_CAP + CAP_STEP).contains(&kept), "{kept} rows kept");
    let page = fx.q().read_events("slow", 0, 10).unwrap();
    assert_eq!(page.missed_through, Some(total - kept));
    assert_eq!(page.events[0].seq, total - kept + 1);
    // Having read past the gap, the consumer is told of none.
    assert_eq!(fx.q().read_events("slow", total - kept, 10).unwrap().missed_through, None);
}

#[test]
fn triggers_are_restored_when_the_actor_starts() {
    let mut fx = Fixture::new();
    fx.subscribe("all", &EventKind::ALL);
    // Rebuilding the jobs table (an old definition) drops its triggers, as this does.
    fx.sql.query("DROP TRIGGER job_events_enqueue", &[]).unwrap();
    schema::migrate(&fx.sql).unwrap();
    let id = fx.add(spec("{}"), T0);
    assert_eq!(fx.events(), [("job.created".to_string(), Some(id))]);
}
