//! Outgoing webhook deliveries over the same SQL the delivery actor runs: one delivery per
//! (webhook, event) and none twice, attempts taken under a lease and a few per webhook at a
//! time, outcomes moving a delivery along its retry curve, and webhooks disabled after 20
//! deliveries that failed for good.

mod common;
use common::MemorySql;
use edgespool::delivery::outbox::{
    Attempt, AttemptOutcome, DeliveryFilter, DeliveryStatus, InFlight, ATTEMPT_LEASE_MS, MAX_IN_FLIGHT,
    PER_WEBHOOK_IN_FLIGHT,
};
use edgespool::delivery::retry::DeliveryRetry;
use edgespool::delivery::webhooks::{NewWebhook, WebhookChanges, AUTO_DISABLE_AFTER, LAST_AUTO_DISABLED};
use edgespool::delivery::Deliveries;
use edgespool::model::{ErrorKind, EventKind};
use edgespool::queue::events::EventRecord;
use edgespool::tenant::store::{NewOrganization, Tenant};
use edgespool::tenant::subscriptions::Subscriptions;
use serde_json::value::RawValue;

const T0: i64 = 1_767_225_600_000;
const RETRY: DeliveryRetry = DeliveryRetry { base_ms: 1_000, cap_ms: 4_000, max_attempts: 3 };

fn db() -> MemorySql {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().expect("open"));
    Deliveries { sql: &sql }.migrate_for("tenant").expect("schema");
    sql
}

/// The attempts due at `now` for a dispatch with nothing in flight.
fn due(d: &Deliveries, now: i64) -> Vec<Attempt> {
    d.take_due(now, &InFlight::default()).unwrap()
}

fn webhook(id: &str, events: &[EventKind]) -> NewWebhook {
    NewWebhook {
        id: id.into(),
        name: id.into(),
        url: format!("https://example.com/{id}"),
        events: events.to_vec(),
        secret: "0123456789abcdef".into(),
        enabled: true,
        format: "json".into(),
    }
}

fn event(seq: i64, kind: EventKind) -> EventRecord {
    EventRecord {
        seq,
        id: format!("q.{seq}"),
        kind,
        at: T0,
        data: RawValue::from_string(format!(r#"{{"job_id":"q.{seq}"}}"#)).unwrap(),
    }
}

fn outcome(webhook_id: &str, id: &str, attempt: u32, status: Option<u16>) -> AttemptOutcome {
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    AttemptOutcome {
        webhook_id: webhook_id.into(),
        id: id.into(),
        attempt,
        status_code: status,
        response_body: status.map(|_| "body".into()),
        error: (!ok).then(|| "HTTP 500".into()),
    }
}

#[test]
fn an_event_becomes_one_delivery_per_webhook_that_wants_it_and_never_two() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    d.create_webhook(&webhook("a", &[EventKind::JobCompleted]), 20, T0).unwrap();
    d.create_webhook(&webhook("b", &[EventKind::JobCompleted, EventKind::JobCreated]), 20, T0).unwrap();
    d.create_webhook(&NewWebhook { enabled: false, ..webhook("off", &[EventKind::JobCompleted]) }, 20, T0).unwrap();
    let events = [event(1, EventKind::JobCreated), event(2, EventKind::JobCompleted)];
    d.accept(&events, T0).unwrap();
    // A queue that hands the same events over again (its acknowledgement was lost) adds none.
    d.accept(&events, T0).unwrap();
    let mut taken: Vec<(String, String)> = due(&d, T0).into_iter().map(|a| (a.webhook_id, a.id)).collect();
    taken.sort();
    assert_eq!(taken, [("a".into(), "q.2".into()), ("b".into(), "q.1".into()), ("b".into(), "q.2".into())]);
    let attempt = d.take_now("a", "q.2", T0).unwrap();
    let body: serde_json::Value = serde_json::from_str(&attempt.body).unwrap();
    assert_eq!(body["id"], "q.2");
    assert_eq!(body["event"], "job.completed");
    assert_eq!(body["data"]["job_id"], "q.2");
    assert_eq!(d.subscribed_kinds().unwrap(), [EventKind::JobCompleted, EventKind::JobCreated]);
}

#[test]
fn a_taken_attempt_is_not_taken_again_until_its_lease_ends() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    d.create_webhook(&webhook("a", &[EventKind::JobCreated]), 20, T0).unwrap();
    d.accept(&[event(1, EventKind::JobCreated)], T0).unwrap();
    assert_eq!(due(&d, T0).len(), 1);
    assert!(due(&d, T0 + 1).is_empty());
    assert_eq!(d.next_wake().unwrap(), Some(T0 + ATTEMPT_LEASE_MS));
    // The outcome never came (a crash): the attempt is made again, numbered as the same one.
    let again = due(&d, T0 + ATTEMPT_LEASE_MS);
    assert_eq!(again.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1]);
}

#[test]
fn a_slow_webhook_holds_only_a_few_attempts_and_others_go_on() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    d.create_webhook(&webhook("slow", &[EventKind::JobCreated]), 20, T0).unwrap();
    d.create_webhook(&webhook("fast", &[EventKind::JobCompleted]), 20, T0).unwrap();
    let created: Vec<_> = (1..=20).map(|n| event(n, EventKind::JobCreated)).collect();
    d.accept(&created, T0).unwrap();
    let mut in_flight = InFlight::default();
    let first = d.take_due(T0, &in_flight).unwrap();
    assert_eq!(first.len() as u32, PER_WEBHOOK_IN_FLIGHT);
    assert_eq!(first.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["q.1", "q.2", "q.3", "q.4"], "oldest first");
    in_flight.started(&first);
    // While those are in flight, the slow webhook gets no more; the other one does.
    d.accept(&[event(21, EventKind::JobCompleted)], T0 + 1).unwrap();
    let second = d.take_due(T0 + 1, &in_flight).unwrap();
    assert_eq!(second.iter().map(|a| a.webhook_id.as_str()).collect::<Vec<_>>(), ["fast"]);
    in_flight.started(&second);
    // One finished: one more of the slow webhook's may start.
    d.record(&outcome("slow", &first[0].id, 1, Some(200)), &RETRY, 0.0, T0 + 2).unwrap();
    in_flight.ended("slow");
    assert_eq!(d.take_due(T0 + 2, &in_flight).unwrap().iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["q.5"]);
    // A dispatch that died with attempts in flight left nothing counted: the next one starts a
    // webhook's next deliveries at once, and the lost attempts once their lease ends.
    let after_restart = due(&d, T0 + 3);
    assert_eq!(after_restart.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["q.6", "q.7", "q.8", "q.9"]);
}

#[test]
fn a_dispatch_holds_a_few_attempts_in_all_oldest_due_first_completion_webhooks_included() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    for name in ["a", "b", "c"] {
        d.create_webhook(&webhook(name, &[EventKind::JobCreated]), 20, T0).unwrap();
    }
    // Each event is due a millisecond after the one before it; a job's completion webhook first.
    let completion = edgespool::queue::completion::CompletionEvent {
        event: event(100, EventKind::JobCompleted),
        url: "https://example.com/job".into(),
        secret: None,
    };
    d.accept_completions(&[completion], T0).unwrap();
    for n in 1..=3 {
        d.accept(&[event(n, EventKind::JobCreated)], T0 + n).unwrap();
    }
    let mut in_flight = InFlight::default();
    let first = d.take_due(T0 + 10, &in_flight).unwrap();
    assert_eq!(first.len() as u32, MAX_IN_FLIGHT);
    assert_eq!(
        first.iter().map(|a| (a.webhook_id.as_str(), a.id.as_str())).take(4).collect::<Vec<_>>(),
        [("job:q.100", "q.100"), ("a", "q.1"), ("b", "q.1"), ("c", "q.1")]
    );
    assert!(first[0].is_completion() && first[0].secret.is_none() && first[0].url == "https://example.com/job");
    in_flight.started(&first);
    assert!(d.take_due(T0 + 10, &in_flight).unwrap().is_empty(), "no room left");
    in_flight.ended("job:q.100");
    let next = d.take_due(T0 + 10, &in_flight).unwrap();
    assert_eq!(next.iter().map(|a| (a.webhook_id.as_str(), a.id.as_str())).collect::<Vec<_>>(), [("c", "q.2")]);
    assert_eq!(d.next_wake().unwrap(), Some(T0 + 3), "the rest are due from their own times");
}

#[test]
fn failures_follow_the_retry_curve_and_end_failed() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    d.create_webhook(&webhook("a", &[EventKind::JobCreated]), 20, T0).unwrap();
    d.accept(&[event(1, EventKind::JobCreated)], T0).unwrap();
    let mut now = T0;
    for attempt in 1..=3u32 {
        let taken = due(&d, now);
        assert_eq!(taken.iter().map(|a| a.attempt).collect::<Vec<_>>(), [attempt]);
        d.record(&outcome("a", "q.1", attempt, Some(500)), &RETRY, 0.0, now).unwrap();
        let listed = d.list_deliveries("a", &DeliveryFilter { status: None, limit: 10, offset: 0 }).unwrap();
        assert_eq!(listed[0].attempts, i64::from(attempt));
        match RETRY.next_attempt(attempt, now, 0.0) {
            Some(next) => {
                assert_eq!(listed[0].status, DeliveryStatus::Pending);
                assert_eq!(listed[0].next_attempt_at, Some(next));
                assert!(due(&d, next - 1).is_empty(), "not before its backoff");
                now = next;
            }
            None => assert_eq!(listed[0].status, DeliveryStatus::Failed),
        }
    }
    let hook = d.webhook("a").unwrap();
    assert_eq!((hook.failure_count, hook.last_status.as_deref()), (1, Some("failed")));
    assert_eq!(d.next_wake().unwrap(), None);
    // A manual retry of a failed delivery: one more attempt; success clears the count.
    let manual = d.take_now("a", "q.1", now).unwrap();
    assert_eq!(manual.attempt, 4);
    d.record(&outcome("a", "q.1", 4, Some(204)), &RETRY, 0.0, now).unwrap();
    assert_eq!(d.webhook("a").unwrap().failure_count, 0);
    assert_eq!(d.take_now("a", "q.1", now).unwrap_err().kind, ErrorKind::ValidationError);
}

#[test]
fn twenty_deliveries_that_failed_for_good_disable_the_webhook() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    d.create_webhook(&webhook("a", &[EventKind::JobCreated]), 20, T0).unwrap();
    let retry = DeliveryRetry { max_attempts: 1, ..RETRY };
    for n in 1..=AUTO_DISABLE_AFTER {
        d.accept(&[event(n, EventKind::JobCreated)], T0).unwrap();
        let disabled = d.record(&outcome("a", &format!("q.{n}"), 1, None), &retry, 0.0, T0).unwrap();
        assert_eq!(disabled, n == AUTO_DISABLE_AFTER, "after delivery {n}");
    }
    let hook = d.webhook("a").unwrap();
    assert!(!hook.enabled);
    assert_eq!(hook.last_status.as_deref(), Some(LAST_AUTO_DISABLED));
    assert!(d.subscribed_kinds().unwrap().is_empty(), "the queues may stop recording its events");
    // Enabling it again starts the count afresh.
    let changes = WebhookChanges { enabled: Some(true), ..Default::default() };
    assert_eq!(d.update_webhook("a", &changes, 20, T0).unwrap().failure_count, 0);
}

#[test]
fn enabled_webhooks_are_limited_and_deleting_one_drops_its_deliveries() {
    let sql = db();
    let d = Deliveries { sql: &sql };
    d.create_webhook(&webhook("a", &[EventKind::JobCreated]), 1, T0).unwrap();
    assert_eq!(
        d.create_webhook(&webhook("b", &[EventKind::JobCreated]), 1, T0).unwrap_err().kind,
        ErrorKind::QuotaExceeded
    );
    let off = NewWebhook { enabled: false, ..webhook("c", &[EventKind::JobCreated]) };
    d.create_webhook(&off, 1, T0).unwrap();
    let enable = WebhookChanges { enabled: Some(true), ..Default::default() };
    assert_eq!(d.update_webhook("c", &enable, 1, T0).unwrap_err().kind, ErrorKind::QuotaExceeded);
    d.accept(&[event(1, EventKind::JobCreated)], T0).unwrap();
    d.delete_webhook("a").unwrap();
    assert_eq!(d.webhook("a").unwrap_err().kind, ErrorKind::NotFound);
    assert!(due(&d, T0).is_empty());
}

#[test]
fn the_tenant_versions_its_subscriptions_and_hands_them_to_registering_queues() {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().expect("open"));
    let t = Tenant { sql: &sql };
    t.migrate().unwrap();
    let org = NewOrganization { id: "t".into(), name: "t".into(), slug: "t".into() };
    t.create_organization(&org, &Default::default(), T0).unwrap();
    assert_eq!(t.subscriptions().unwrap(), Subscriptions::default());
    let first = t.set_consumer("webhooks", &[EventKind::JobCompleted]).unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(first.consumers[0].kinds, [EventKind::JobCompleted]);
    assert_eq!(t.set_consumer("webhooks", &[EventKind::JobCompleted]).unwrap().version, 1, "no change, no new version");
    let gone = t.set_consumer("webhooks", &[]).unwrap();
    assert_eq!((gone.version, gone.consumers.len()), (2, 0));
}
