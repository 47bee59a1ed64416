//! Helpers shared by the queue behaviour tests (on top of `common`): a fixture that owns one
//! queue, builders for job specs, fences and claims, and the queue's records rendered as the
//! JSON the API sends (through `api::views`, the renderer the Worker uses).

#![allow(dead_code)] // each test file uses a different subset

use crate::common::*;
use edgespool::api::views::{queue_reply, ClaimedView, JobView, Scope, SummaryView};
use edgespool::model::{
    lease::Fence, time::parse_rfc3339, ApiError, EpochMs, ErrorKind, EventKind, JobSpec, JobStatus,
};
use edgespool::queue::enqueue::Enqueued;
use edgespool::queue::events::Subscriber;
use edgespool::queue::lease::{ClaimRequest, FailOutcome};
use edgespool::queue::listing::ListFilter;
use edgespool::queue::protocol::QueueReply;
use edgespool::queue::record::{ClaimedJob, JobRecord, JobSummary};
use edgespool::queue::{Queue, QueueSettings, Row, RowExt, Sql};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt::Debug;

/// The tests' epoch, 2026-01-01T00:00:00Z, in milliseconds.
pub const T0: EpochMs = 1_767_225_600_000;
/// One second in milliseconds.
pub const SEC: EpochMs = 1_000;
/// A well-formed job id of queue "q" that no test ever creates.
pub const UNKNOWN_ID: &str = "q.01JD3Q0000000000000000000";

/// A job as a worker receives it from claim.
#[derive(Debug, Deserialize)]
pub struct Claimed {
    pub id: String,
    pub queue_name: String,
    pub payload: Box<RawValue>,
    pub retry_count: i64,
    pub max_retries: i64,
    pub timeout_seconds: i64,
    pub lease_expires_at: String,
    pub lease_id: String,
    pub priority: i64,
}

/// The fixture's queue ("q" of tenant "t"), as the API renders its replies.
pub const SCOPE: Scope<'static> = Scope { tenant: "t", queue: "q" };

/// One queue over a fresh in-memory database, with its settings and a seeded entropy source
/// whose jitter is 0 (so backoff delays are exact).
pub struct Fixture {
    pub sql: MemorySql,
    pub settings: QueueSettings,
    pub entropy: SeededEntropy,
}

impl Fixture {
    /// A queue with the default settings.
    pub fn new() -> Fixture {
        Fixture::with_settings(QueueSettings::default())
    }

    /// A queue with `settings`.
    pub fn with_settings(settings: QueueSettings) -> Fixture {
        Fixture { sql: MemorySql::with_queue_schema(), settings, entropy: SeededEntropy::new(7) }
    }

    /// The queue under test.
    pub fn q(&self) -> Queue<'_> {
        queue(&self.sql, &self.settings)
    }

    /// Enqueues `specs` at `now`.
    pub fn try_enqueue(&mut self, specs: &[JobSpec], now: EpochMs) -> Result<Vec<Enqueued>, ApiError> {
        queue(&self.sql, &self.settings).enqueue(specs, now, &mut self.entropy)
    }

    /// Dead letters, newest first.
    pub fn dead_letters(&self, limit: u32, offset: u32) -> Vec<JobSummary> {
        let filter = ListFilter { statuses: vec![JobStatus::Deadletter], limit, offset, ..ListFilter::default() };
        self.q().list_jobs(&filter).expect("list dead letters")
    }

    /// Enqueues `specs` at `now` (panics on error).
    pub fn enqueue(&mut self, specs: &[JobSpec], now: EpochMs) -> Vec<Enqueued> {
        self.try_enqueue(specs, now).expect("enqueue")
    }

    /// Enqueues one new job and returns its id.
    pub fn add(&mut self, spec: JobSpec, now: EpochMs) -> String {
        let out = self.enqueue(&[spec], now).remove(0);
        assert!(out.created, "expected a new job");
        out.id
    }

    /// Claims with `request` at `now` and returns the jobs in claim order, as a worker
    /// receives them.
    pub fn claim_with(&self, request: &ClaimRequest, now: EpochMs) -> Vec<Claimed> {
        claimed(&self.q().claim(request, now).expect("claim"))
    }

    /// Claims up to `limit` jobs as worker `w1` with the default lease.
    pub fn claim(&self, limit: u32, now: EpochMs) -> Vec<Claimed> {
        self.claim_with(&claim_request(limit), now)
    }

    /// The ids a claim of up to `limit` jobs returns, in claim order.
    pub fn claim_ids(&self, limit: u32, now: EpochMs) -> Vec<String> {
        self.claim(limit, now).into_iter().map(|job| job.id).collect()
    }

    /// Claims exactly one job (panics when none is claimable).
    pub fn claim_one(&self, now: EpochMs) -> Claimed {
        let mut jobs = self.claim(1, now);
        assert_eq!(jobs.len(), 1, "expected one claimable job");
        jobs.remove(0)
    }

    /// Completes `job` with its own lease and no result.
    pub fn complete(&self, job: &Claimed, now: EpochMs) -> Result<(), ApiError> {
        self.q().complete(&job.id, &by_lease(job), None, now)
    }

    /// Fails `job` with its own lease, error "boom" and the backoff delay.
    pub fn fail(&mut self, job: &Claimed, now: EpochMs) -> Result<FailOutcome, ApiError> {
        self.fail_with(&job.id, &by_lease(job), "boom", None, now)
    }

    /// Fails job `id` with `fence`, `error` and an optional explicit delay.
    pub fn fail_with(
        &mut self,
        id: &str,
        fence: &Fence,
        error: &str,
        retry_after_secs: Option<u32>,
        now: EpochMs,
    ) -> Result<FailOutcome, ApiError> {
        let q = queue(&self.sql, &self.settings);
        q.fail(id, fence, error, retry_after_secs, now, &mut self.entropy)
    }

    /// The job as `GET /jobs/{id}` renders it, parsed.
    pub fn job(&self, id: &str) -> Value {
        job_json(&self.q().get_job(id).expect("get_job"))
    }

    /// The job's status.
    pub fn status(&self, id: &str) -> String {
        self.job(id)["status"].as_str().expect("status").to_owned()
    }

    /// A timestamp field of the job, in epoch ms (`None` when null).
    pub fn time_of(&self, id: &str, field: &str) -> Option<EpochMs> {
        ms(&self.job(id)[field])
    }

    /// Every stored row of the jobs table, in enqueue order.
    pub fn dump(&self) -> Vec<Row> {
        self.sql.query("SELECT * FROM jobs ORDER BY seq", &[]).expect("dump")
    }

    /// Subscribes consumer `name` to `kinds` (the subscriptions' next version).
    pub fn subscribe(&self, name: &str, kinds: &[EventKind]) {
        let version = self.sql.query("SELECT coalesce(max(version), 0) + 1 FROM event_subscriptions", &[]).unwrap();
        let Some(edgespool::queue::SqlValue::Integer(version)) = version[0].first().cloned() else { panic!() };
        let consumers = [Subscriber { name: name.into(), kinds: kinds.to_vec() }];
        self.q().set_subscriptions(version as u64, &consumers).expect("subscribe");
    }

    /// Every stored event as `(kind, job id)`, in commit order.
    pub fn events(&self) -> Vec<(String, Option<String>)> {
        let rows = self.sql.query("SELECT kind, job_id FROM events ORDER BY seq", &[]).expect("events");
        rows.iter().map(|r| (r.text(0).unwrap().to_owned(), r.opt_text(1).unwrap().map(str::to_owned))).collect()
    }

    /// The kinds of the stored events after the first `skip`, in commit order.
    pub fn event_kinds_after(&self, skip: usize) -> Vec<String> {
        self.events().into_iter().skip(skip).map(|(kind, _)| kind).collect()
    }

    /// How many jobs are stored.
    pub fn count(&self) -> usize {
        self.dump().len()
    }

    /// Enqueues `spec` at `now` and drives it into `status`. Jobs that must be claimed
    /// (processing, completed, deadletter) get priority 100 and are claimed by that exact
    /// priority, so other jobs of the test stay untouched; deadletter forces `max_retries` 0.
    pub fn job_in(&mut self, status: &str, spec: JobSpec, now: EpochMs) -> String {
        let id = match status {
            "pending" => self.add(spec, now),
            "scheduled" => self.add(spec.scheduled_for(now + 3600 * SEC), now),
            "cancelled" => {
                let id = self.add(spec, now);
                self.q().cancel(&id, now).expect("cancel");
                id
            }
            "processing" | "completed" | "deadletter" => {
                let spec = if status == "deadletter" { spec.with_retries(0) } else { spec };
                let id = self.add(spec.with_priority(100), now);
                let request = ClaimRequest { min_priority: 100, ..claim_request(1) };
                let job = self.claim_with(&request, now).pop().expect("claimed");
                assert_eq!(job.id, id);
                match status {
                    "completed" => self.complete(&job, now).expect("complete"),
                    "deadletter" => {
                        self.fail(&job, now).expect("fail");
                    }
                    _ => {}
                }
                id
            }
            other => panic!("no recipe for status {other}"),
        };
        assert_eq!(self.status(&id), status);
        id
    }
}

/// A claim of up to `limit` jobs of any priority by worker `w1`, with the queue's lease length.
pub fn claim_request(limit: u32) -> ClaimRequest {
    ClaimRequest {
        limit,
        lease_secs: None,
        worker_id: Some("w1".into()),
        wait_secs: 0,
        min_priority: -100,
        max_priority: 100,
    }
}

/// The fence of a claimed job: its lease id.
pub fn by_lease(job: &Claimed) -> Fence {
    lease(&job.lease_id)
}

/// A fence by lease id only.
pub fn lease(lease_id: &str) -> Fence {
    Fence { lease_id: Some(lease_id.into()), worker_id: None }
}

/// A fence by worker id only (legacy Spooled clients).
pub fn by_worker(worker_id: &str) -> Fence {
    Fence { lease_id: None, worker_id: Some(worker_id.into()) }
}

/// The kind of the error `result` must hold.
pub fn err_kind<T: Debug>(result: Result<T, ApiError>) -> ErrorKind {
    result.expect_err("expected an error").kind
}

/// An RFC 3339 timestamp as epoch ms.
pub fn epoch(text: &str) -> EpochMs {
    parse_rfc3339(text).expect("RFC 3339 timestamp")
}

/// An RFC 3339 JSON string as epoch ms; `None` for null.
pub fn ms(value: &Value) -> Option<EpochMs> {
    value.as_str().map(epoch)
}

/// A raw JSON value from text.
pub fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).expect("json")
}

/// Builder methods over `common::spec`.
pub trait SpecExt: Sized {
    fn with_priority(self, priority: i64) -> Self;
    fn with_key(self, key: &str) -> Self;
    fn scheduled_for(self, at: EpochMs) -> Self;
    fn expiring_at(self, at: EpochMs) -> Self;
    fn with_retries(self, max_retries: u32) -> Self;
    fn with_tags(self, tags: &str) -> Self;
}

impl SpecExt for JobSpec {
    fn with_priority(self, priority: i64) -> Self {
        JobSpec { priority, ..self }
    }
    fn with_key(self, key: &str) -> Self {
        JobSpec { idempotency_key: Some(key.into()), ..self }
    }
    fn scheduled_for(self, at: EpochMs) -> Self {
        JobSpec { scheduled_at: Some(at), ..self }
    }
    fn expiring_at(self, at: EpochMs) -> Self {
        JobSpec { expires_at: Some(at), ..self }
    }
    fn with_retries(self, max_retries: u32) -> Self {
        JobSpec { max_retries: Some(max_retries), ..self }
    }
    fn with_tags(self, tags: &str) -> Self {
        JobSpec { tags: Some(raw(tags)), ..self }
    }
}

/// The ids of a list of job summaries, in order.
pub fn ids_of(list: &[JobSummary]) -> Vec<String> {
    list.iter().map(|job| job.id.clone()).collect()
}

/// A wire view rendered as JSON text, as the API sends it, and read back as `T` (through the
/// text, so raw payloads keep every character).
pub fn wire<T: serde::de::DeserializeOwned>(view: &impl serde::Serialize) -> T {
    serde_json::from_str(&serde_json::to_string(view).expect("render")).expect("wire shape")
}

/// Claimed jobs as `POST /jobs/claim` hands them to a worker.
pub fn claimed(jobs: &[ClaimedJob]) -> Vec<Claimed> {
    jobs.iter().map(|job| wire(&ClaimedView::new(job, "q"))).collect()
}

/// A job as `GET /jobs/{id}` renders it.
pub fn job_json(job: &JobRecord) -> Value {
    wire(&JobView::new(job, SCOPE))
}

/// Job summaries as `GET /jobs` renders them.
pub fn summaries_json(list: &[JobSummary]) -> Vec<Value> {
    list.iter().map(|job| wire(&SummaryView::new(job, "q"))).collect()
}

/// A reply of the fixture's queue as the API answers it: status and parsed body (`Null` for
/// an empty one).
pub fn reply_json(reply: &QueueReply) -> (u16, Value) {
    let (status, body) = queue_reply(reply, SCOPE).expect("render");
    (status, if body.is_empty() { Value::Null } else { serde_json::from_str(&body).expect("reply json") })
}

/// Clones of `ids[i]` for each index, in the order given.
pub fn pick(ids: &[String], indexes: &[usize]) -> Vec<String> {
    indexes.iter().map(|&i| ids[i].clone()).collect()
}
