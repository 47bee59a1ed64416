//! `protocol::execute`: commands serialized to JSON and back, as they travel from the Worker to
//! the queue actor, then executed, and their replies encoded and decoded as they travel back,
//! then rendered as the API answers; raw payloads and results must come out as they went in.

mod common;
mod support;
use common::*;
use edgespool::actors::client::{decode, encode};
use edgespool::api::views::queue_reply;
use edgespool::model::{lease::Fence, ErrorKind, JobStatus};
use edgespool::queue::listing::ListFilter;
use edgespool::queue::manage::DeadLetterSelection;
use edgespool::queue::protocol::{execute, QueueCommand, QueueReply};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use support::*;

/// A payload whose exact text matters: big and decimal numbers, escapes, key order, nesting.
const PAYLOAD: &str =
    r#"{"z":1,"a":[12345678901234567890123,1.50,-0.0,2e3],"s":"caf\u00e9 \"q\"","n":null,"o":{"b":{}}}"#;

/// Serializes `command` to JSON and parses it back, as the Worker-to-actor hop does.
fn round_trip(command: QueueCommand) -> QueueCommand {
    let wire = serde_json::to_string(&command).expect("serialize");
    serde_json::from_str(&wire).expect("deserialize")
}

/// A command's answer as a client sees it, by the status the API renders.
#[derive(Debug, PartialEq)]
enum Reply {
    /// 200 with a JSON body.
    Ok(String),
    /// 201 with a JSON body.
    Created(String),
    /// 204 with no body.
    NoContent,
}

/// Round-trips `command`, executes it on the fixture's queue at `now`, sends the outcome back
/// in the actors' encoding and renders it as the API does.
fn run(fx: &mut Fixture, command: QueueCommand, now: i64) -> Result<Reply, edgespool::model::ApiError> {
    let command = round_trip(command);
    let outcome = execute(&queue(&fx.sql, &fx.settings), command, now, &mut fx.entropy).map(|done| done.reply);
    let reply: QueueReply = decode(&encode(&outcome))?;
    Ok(match queue_reply(&reply, SCOPE)? {
        (200, body) => Reply::Ok(body),
        (201, body) => Reply::Created(body),
        (204, body) if body.is_empty() => Reply::NoContent,
        other => panic!("unexpected answer {other:?}"),
    })
}

/// The body of a 200 reply, parsed into `T`.
fn ok_body<'a, T: Deserialize<'a>>(reply: &'a Reply) -> T {
    match reply {
        Reply::Ok(body) => serde_json::from_str(body).expect("reply json"),
        other => panic!("expected 200, got {other:?}"),
    }
}

/// JSON text without the whitespace between tokens (string contents untouched).
fn tokens(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in json.chars() {
        if in_string || !c.is_whitespace() {
            out.push(c);
        }
        (in_string, escaped) = match (in_string, escaped, c) {
            (true, false, '\\') => (true, true),
            (true, false, '"') | (false, _, '"') => (!in_string, false),
            (s, _, _) => (s, false),
        };
    }
    out
}

/// A job as `Get` returns it, with payload and result kept as raw text.
#[derive(Deserialize)]
struct RawJob {
    payload: Box<RawValue>,
    result: Option<Box<RawValue>>,
    status: String,
}

/// Enqueues one job with `payload` through the protocol and returns its id.
fn enqueue(fx: &mut Fixture, payload: &str) -> String {
    match run(fx, QueueCommand::Enqueue { job: spec(payload) }, T0).unwrap() {
        Reply::Created(body) => serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap().to_owned(),
        other => panic!("expected 201, got {other:?}"),
    }
}

/// Reads a job through the protocol.
fn get(fx: &mut Fixture, id: &str) -> RawJob {
    let reply = run(fx, QueueCommand::Get { id: id.into() }, T0).unwrap();
    ok_body(&reply)
}

/// Commands are externally tagged JSON that carries the raw payload text as it was.
#[test]
fn commands_serialize_externally_tagged_with_the_payload_verbatim() {
    let wire = serde_json::to_string(&QueueCommand::Enqueue { job: spec(PAYLOAD) }).unwrap();
    assert!(wire.starts_with(r#"{"enqueue":{"job":{"#), "{wire}");
    assert!(wire.contains(PAYLOAD), "{wire}");
}

/// A reply's internal encoding carries the payload's text as it was stored, not re-rendered.
#[test]
fn replies_carry_the_payload_verbatim() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, PAYLOAD);
    let job = execute(&queue(&fx.sql, &fx.settings), QueueCommand::Get { id }, T0, &mut fx.entropy).unwrap().reply;
    let encoded = encode(&Ok(job));
    assert!(encoded.contains(PAYLOAD), "{encoded}");
    let QueueReply::Job(decoded) = decode::<QueueReply>(&encoded).unwrap() else { panic!("not a job: {encoded}") };
    assert_eq!(decoded.payload.get(), PAYLOAD);
}

/// An error crosses in the same encoding as a reply, typed, with its kind and message.
#[test]
fn errors_cross_the_encoding_typed() {
    let error = edgespool::model::ApiError::validation("priority", "too high");
    let decoded = decode::<QueueReply>(&encode::<QueueReply>(&Err(error.clone()))).unwrap_err();
    assert_eq!(decoded, error);
}

/// An enqueued payload reads back with exactly the same text.
#[test]
fn enqueue_then_get_returns_the_payload_unchanged() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, PAYLOAD);
    let job = get(&mut fx, &id);
    assert_eq!(job.payload.get(), PAYLOAD);
    assert_eq!(job.status, "pending");
}

/// Whitespace aside, a pretty-printed payload keeps every token as written.
#[test]
fn pretty_printed_payload_keeps_every_token() {
    let mut fx = Fixture::new();
    let pretty = "{\n  \"a\" : [ 1.50 , 12345678901234567890123 ],\n  \"s\": \"two  spaces\\n\"\n}";
    let id = enqueue(&mut fx, pretty);
    assert_eq!(tokens(get(&mut fx, &id).payload.get()), tokens(pretty));
}

/// A claimed job carries the payload text unchanged.
#[test]
fn claim_command_hands_out_the_payload_unchanged() {
    let mut fx = Fixture::new();
    enqueue(&mut fx, PAYLOAD);
    let reply = run(&mut fx, QueueCommand::Claim(claim_request(1)), T0).unwrap();
    #[derive(Deserialize)]
    struct Jobs {
        jobs: Vec<Claimed>,
    }
    let claimed = ok_body::<Jobs>(&reply).jobs;
    assert_eq!(claimed[0].payload.get(), PAYLOAD);
}

/// A result stored by `Complete` reads back with exactly the same text.
#[test]
fn complete_command_stores_the_result_unchanged() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, "{}");
    let job = fx.claim_one(T0);
    let complete = QueueCommand::Complete { id: id.clone(), fence: by_lease(&job), result: Some(raw(PAYLOAD)) };
    assert_eq!(run(&mut fx, complete, T0 + SEC).unwrap(), Reply::Ok(r#"{"success":true}"#.into()));
    let stored = get(&mut fx, &id);
    assert_eq!((stored.status.as_str(), stored.result.unwrap().get()), ("completed", PAYLOAD));
}

/// A duplicate `Enqueue` answers 200 (not 201) with the existing id and `created: false`.
#[test]
fn duplicate_enqueue_command_replies_ok_with_the_existing_id() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("1").with_key("k"), T0);
    let reply = run(&mut fx, QueueCommand::Enqueue { job: spec("2").with_key("k") }, T0).unwrap();
    assert_eq!(ok_body::<Value>(&reply), json!({"id": id, "created": false}));
}

/// `EnqueueBulk` answers Spooled's bulk shape, one entry per job in input order.
#[test]
fn bulk_enqueue_command_replies_in_spooled_shape() {
    let mut fx = Fixture::new();
    let known = fx.add(spec("0").with_key("k"), T0);
    let jobs = vec![spec("1"), spec("2").with_key("k")];
    let body: Value = ok_body(&run(&mut fx, QueueCommand::EnqueueBulk { jobs }, T0).unwrap());
    assert_eq!(body["succeeded"][1], json!({"index": 1, "job_id": known, "created": false}));
    assert_eq!(body["succeeded"][0]["created"], true);
    assert_eq!((&body["total"], &body["success_count"], &body["failure_count"]), (&json!(2), &json!(2), &json!(0)));
}

/// `Fail` answers the outcome with the retry time in RFC 3339.
#[test]
fn fail_command_replies_with_status_and_retry_time() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, "{}");
    let job = fx.claim_one(T0);
    let fail = QueueCommand::Fail { id, fence: by_lease(&job), error: "boom".into(), retry_after_secs: Some(5) };
    let body: Value = ok_body(&run(&mut fx, fail, T0).unwrap());
    assert_eq!(
        body,
        json!({"success": true, "status": "pending", "retry_count": 1, "retry_at": "2026-01-01T00:00:05.000Z"})
    );
}

/// `Heartbeat` answers the new lease end in RFC 3339.
#[test]
fn heartbeat_command_replies_with_the_new_deadline() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, "{}");
    let job = fx.claim_one(T0);
    let heartbeat = QueueCommand::Heartbeat { id, fence: by_lease(&job), lease_secs: Some(60) };
    let body: Value = ok_body(&run(&mut fx, heartbeat, T0 + SEC).unwrap());
    assert_eq!(body, json!({"success": true, "lease_expires_at": "2026-01-01T00:01:01.000Z"}));
}

/// `Cancel` answers 204 with no body.
#[test]
fn cancel_command_replies_no_content() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, "{}");
    assert_eq!(run(&mut fx, QueueCommand::Cancel { id: id.clone() }, T0).unwrap(), Reply::NoContent);
    assert_eq!(fx.status(&id), "cancelled");
}

/// The dead-letter commands list, replay and purge through the protocol.
#[test]
fn dead_letter_commands_round_trip() {
    let mut fx = Fixture::new();
    let ids: Vec<_> = (0..3).map(|i| fx.job_in("deadletter", spec("{}"), T0 + i * SEC)).collect();
    let listed: Vec<Value> = ok_body(
        &run(
            &mut fx,
            QueueCommand::ListJobs {
                filter: ListFilter { statuses: vec![JobStatus::Deadletter], limit: 10, ..ListFilter::default() },
            },
            T0,
        )
        .unwrap(),
    );
    assert_eq!(listed.len(), 3);
    let replay = QueueCommand::ReplayDeadLetters { selection: DeadLetterSelection::Ids(vec![ids[1].clone()]) };
    let replayed: Value = ok_body(&run(&mut fx, replay, T0).unwrap());
    assert_eq!(replayed, json!({"retried_count": 1, "retried_jobs": [ids[1]]}));
    let purge = QueueCommand::PurgeDeadLetters { selection: DeadLetterSelection::Oldest(10), older_than: None };
    assert_eq!(ok_body::<Value>(&run(&mut fx, purge, T0).unwrap()), json!({"purged_count": 2}));
}

/// Errors come out of `execute` with their kind, and change nothing.
#[test]
fn errors_pass_through_execute_unchanged() {
    let mut fx = Fixture::new();
    let id = enqueue(&mut fx, "{}");
    fx.claim_one(T0);
    let before = fx.dump();
    let complete =
        QueueCommand::Complete { id, fence: Fence { lease_id: Some("x".into()), worker_id: None }, result: None };
    assert_eq!(err_kind(run(&mut fx, complete, T0)), ErrorKind::LeaseExpired);
    assert_eq!(err_kind(run(&mut fx, QueueCommand::Get { id: UNKNOWN_ID.into() }, T0)), ErrorKind::NotFound);
    assert_eq!(fx.dump(), before);
}

/// Reads (`Get`, `ListJobs`, …) never move the alarm; every other command may.
#[test]
fn only_reads_are_marked_read_only() {
    assert!(!QueueCommand::Get { id: "q.x".into() }.traits().writes);
    assert!(!QueueCommand::ListJobs { filter: ListFilter::default() }.traits().writes);
    assert!(QueueCommand::Cancel { id: "q.x".into() }.traits().writes);
    assert!(QueueCommand::Claim(claim_request(1)).traits().writes);
}

/// The flags of every command agree with each other: only writes roll back, create the queue,
/// free jobs, change settings or delete; a delete changes settings; claims never free jobs.
#[test]
fn command_traits_are_consistent() {
    let fence = Fence { lease_id: Some("l".into()), worker_id: None };
    let id = || "q.x".to_owned();
    let selection = || DeadLetterSelection::Oldest(1);
    let commands = [
        QueueCommand::Enqueue { job: spec("1") },
        QueueCommand::EnqueueBulk { jobs: vec![spec("1")] },
        QueueCommand::Get { id: id() },
        QueueCommand::Cancel { id: id() },
        QueueCommand::Replay { id: id() },
        QueueCommand::Claim(claim_request(1)),
        QueueCommand::Complete { id: id(), fence: fence.clone(), result: None },
        QueueCommand::Fail { id: id(), fence: fence.clone(), error: "e".into(), retry_after_secs: None },
        QueueCommand::Heartbeat { id: id(), fence, lease_secs: None },
        QueueCommand::ReplayDeadLetters { selection: selection() },
        QueueCommand::PurgeDeadLetters { selection: selection(), older_than: None },
        QueueCommand::ListJobs { filter: ListFilter::default() },
        QueueCommand::JobStatuses { ids: vec![id()] },
        QueueCommand::Stats,
        QueueCommand::SetPriority { id: id(), priority: 1 },
        QueueCommand::GetConfig,
        QueueCommand::Configure { changes: Default::default() },
        QueueCommand::Pause { reason: None },
        QueueCommand::Resume,
        QueueCommand::DeleteQueue { delete_jobs: false },
        QueueCommand::Ack { acks: vec![], fails: vec![] },
        QueueCommand::ReleaseWorker { worker_id: "w".into() },
    ];
    for command in &commands {
        let t = command.traits();
        let name = format!("{command:?}");
        let writes_only = [t.needs_rollback, t.creates_queue, t.may_free_jobs, t.changes_settings, t.deletes_queue];
        assert!(t.writes || !writes_only.contains(&true), "{name}: a read with write traits {t:?}");
        assert!(!t.deletes_queue || t.changes_settings, "{name}: a delete must reload the settings");
    }
    let rollback = |c: &QueueCommand| c.traits().needs_rollback;
    assert!(!rollback(&commands[0]) && !rollback(&commands[5]) && !rollback(&commands[6]), "hot paths skip it");
    assert!(rollback(&commands[7]) && rollback(&commands[20]), "fail and ack may fail after a write");
    assert!(!commands[5].traits().may_free_jobs, "a claim takes jobs, it frees none");
}
