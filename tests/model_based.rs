//! Model-based tests of one queue (issue 6, item 2): proptest generates random sequences of
//! enqueue / claim / complete / fail / heartbeat / cancel / replay / DLQ replay and purge / alarm
//! sweeps (once, twice, late, on time, never) / clock advances (including landing exactly on
//! lease deadlines), runs them against the real queue over rusqlite, and replays them on a small
//! reference model that encodes DESIGN §1 and docs/DECISIONS.md on its own. After every step the
//! database must agree with the model and the invariants of [`Run::check`] must hold; at the end
//! of every case the queue is drained (alarm on time, claim, complete) and every job must reach a
//! terminal state.
//!
//! The model never asks the code under test what to expect; it only reads back the ids and lease
//! ids the queue hands out. A failure prints the shrunk sequence and its resolved operation log.
//! Each property prints how often each situation came up (`-- --nocapture` shows it);
//! `PROPTEST_CASES=n` runs more cases, `MODEL_LOG=1` prints the log of every passing case.

mod common;
mod support;

use common::*;
use edgespool::api::views::JobStatsView;
use edgespool::model::{ApiError, EpochMs, ErrorKind, JobSpec, RetryPolicy};
use edgespool::queue::lease::{ClaimRequest, CLAIMABLE_SEQS};
use edgespool::queue::maintenance::SweepReport;
use edgespool::queue::manage::DeadLetterSelection;
use edgespool::queue::{QueueSettings, Row, RowExt, Sql, SqlValue};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Instant;
use support::*;

// ---------------------------------------------------------------------------------------------
// Settings of the queue under test, and the rules the model applies.
// ---------------------------------------------------------------------------------------------

/// Finished jobs are kept 3 minutes, so retention pruning (and idempotency keys freed by it)
/// happens inside one generated sequence.
const RETENTION_MS: EpochMs = 180 * SEC;
/// Backoff: first delay 1 s, doubling, capped at 5 s so the cap is reached within max_retries 3.
const BACKOFF_BASE_MS: EpochMs = SEC;
const BACKOFF_CAP_MS: EpochMs = 5 * SEC;
/// The test entropy's fixed jitter fraction: half of the allowed 10 %, i.e. +5 %.
const JITTER: f64 = 0.5;
/// `max_retries` of a job that does not set one (DESIGN §1).
const DEFAULT_MAX_RETRIES: u32 = 3;
/// Claim requests may ask for at most this many jobs.
const MAX_CLAIM: u32 = 100;
/// Most jobs the queue stores; past it enqueue is refused with `QUEUE_FULL` (duplicates too).
const MAX_JOBS: u32 = 12;

fn settings() -> QueueSettings {
    QueueSettings {
        retention_ms: RETENTION_MS,
        retry: RetryPolicy { base_ms: BACKOFF_BASE_MS, cap_ms: BACKOFF_CAP_MS },
        max_jobs: MAX_JOBS,
        ..QueueSettings::default()
    }
}

/// The retry delay after a failed attempt, by DESIGN §1: `min(base * 2^retry_count, cap)` plus
/// the jitter share of 10 % (`retry_count` before this failure is counted).
fn backoff_ms(retry_count_before: u32) -> EpochMs {
    let exponential = (BACKOFF_BASE_MS << retry_count_before.min(20)).min(BACKOFF_CAP_MS);
    exponential + exponential / 20 // JITTER (0.5) of 10 %
}

fn key_name(k: u8) -> String {
    format!("key-{k}")
}

// ---------------------------------------------------------------------------------------------
// Operations.
// ---------------------------------------------------------------------------------------------

/// One job of an enqueue call.
#[derive(Clone, Debug)]
struct NewJob {
    priority: i64,
    /// `None`: the queue default (3).
    max_retries: Option<u32>,
    /// From a pool of 4 keys, so duplicates happen.
    key: Option<u8>,
    /// `scheduled_at` relative to now (may be in the past or exactly now).
    schedule_in_ms: Option<i64>,
    /// `expires_at` relative to now: a job not run by then is cancelled by the alarm.
    expire_in_ms: Option<i64>,
}

/// Which lease id a worker operation presents.
#[derive(Clone, Debug)]
enum LeasePick {
    /// The job's current lease (the target is a job the model believes is processing).
    Current,
    /// Some lease ever issued, presented for the job it was issued for (usually an old one).
    Stale(Pick),
    /// Some lease ever issued, presented for the target job (usually another job's).
    Wrong(Pick),
    /// A lease id never issued.
    Bogus,
}

#[derive(Clone, Debug)]
enum Target {
    /// A processing job's lease deadline.
    LeaseDeadline,
    /// A scheduled job's due time or a retry-delayed job's retry time.
    ReadyTime,
}

#[derive(Clone, Debug)]
enum DlqPick {
    Oldest(u32),
    Ids(Vec<Pick>),
}

#[derive(Clone, Debug)]
enum Op {
    Enqueue(Vec<NewJob>),
    Claim {
        limit: u32,
        lease_secs: u32,
    },
    Complete {
        job: Pick,
        lease: LeasePick,
    },
    Fail {
        job: Pick,
        lease: LeasePick,
        retry_after_secs: Option<u32>,
    },
    Heartbeat {
        job: Pick,
        lease: LeasePick,
        lease_secs: Option<u32>,
    },
    /// `any`: target any job; otherwise a pending or scheduled one when there is one.
    Cancel {
        job: Pick,
        any: bool,
    },
    /// `POST /jobs/{id}/retry`; targets a dead letter when there is one unless `any`.
    Replay {
        job: Pick,
        any: bool,
    },
    /// `POST /jobs/dlq/retry`.
    ReplayDlq(DlqPick),
    /// `POST /jobs/dlq/purge`.
    PurgeDlq(DlqPick),
    /// The clock moves to a processing job's lease deadline plus `offset` ms (-1, 0, +1),
    /// and then its worker (with its own lease), the alarm or a claim acts.
    AtLeaseDeadline {
        job: Pick,
        offset: i64,
        then: Then,
    },
    /// The alarm fires now (possibly late, possibly early).
    Sweep,
    /// The alarm is delivered twice at the same instant.
    SweepTwice,
    /// The alarm fires on time: the clock moves to the earliest deadline the model knows.
    Alarm,
    /// The clock moves forward by this many ms.
    Advance(i64),
    /// The clock moves to a deadline of the model plus `offset` ms (-1, 0, +1).
    AdvanceTo {
        target: Target,
        job: Pick,
        offset: i64,
    },
}

/// What happens right at a lease deadline.
#[derive(Clone, Debug)]
enum Then {
    Complete,
    Fail(Option<u32>),
    Heartbeat(Option<u32>),
    Sweep,
    Claim,
}

fn at_lease_deadline() -> impl Strategy<Value = Op> {
    let then = prop_oneof![
        Just(Then::Complete),
        prop::option::weighted(0.3, 0u32..=30).prop_map(Then::Fail),
        prop::option::of(5u32..=60).prop_map(Then::Heartbeat),
        Just(Then::Sweep),
        Just(Then::Claim),
    ];
    (pick(), -1i64..=1, then).prop_map(|(job, offset, then)| Op::AtLeaseDeadline { job, offset, then })
}

/// Chooses one of a list of candidates whatever its length (shrinks towards the first).
#[derive(Clone, Copy, Debug)]
struct Pick(u16);

impl Pick {
    fn index(&self, len: usize) -> usize {
        usize::from(self.0) % len
    }
}

fn pick() -> impl Strategy<Value = Pick> {
    any::<u16>().prop_map(Pick)
}

fn new_job() -> impl Strategy<Value = NewJob> {
    (
        prop_oneof![6 => -2i64..=2, 1 => Just(100i64), 1 => Just(-100i64)],
        prop::option::weighted(0.8, 0u32..=3),
        prop::option::weighted(0.5, 0u8..4),
        prop::option::weighted(0.3, prop_oneof![1 => -10_000i64..=-1, 1 => Just(0i64), 4 => 1i64..=180_000]),
        prop::option::weighted(0.15, prop_oneof![1 => -5_000i64..=0, 4 => 1i64..=240_000]),
    )
        .prop_map(|(priority, max_retries, key, schedule_in_ms, expire_in_ms)| NewJob {
            priority,
            max_retries,
            key,
            schedule_in_ms,
            expire_in_ms,
        })
}

fn lease_pick() -> impl Strategy<Value = LeasePick> {
    prop_oneof![
        6 => Just(LeasePick::Current),
        2 => pick().prop_map(LeasePick::Stale),
        1 => pick().prop_map(LeasePick::Wrong),
        1 => Just(LeasePick::Bogus),
    ]
}

fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 3 => 1i64..=5_000, 3 => 5_000i64..=120_000]
}

fn advance_to() -> impl Strategy<Value = Op> {
    (prop_oneof![Just(Target::LeaseDeadline), Just(Target::ReadyTime)], pick(), -1i64..=1)
        .prop_map(|(target, job, offset)| Op::AdvanceTo { target, job, offset })
}

fn enqueue() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec(new_job(), 1..=1),
        1 => prop::collection::vec(new_job(), 2..=3),
    ]
    .prop_map(Op::Enqueue)
}

fn claim() -> impl Strategy<Value = Op> {
    (1u32..=5, 5u32..=60).prop_map(|(limit, lease_secs)| Op::Claim { limit, lease_secs })
}

fn complete() -> impl Strategy<Value = Op> {
    (pick(), lease_pick()).prop_map(|(job, lease)| Op::Complete { job, lease })
}

fn fail() -> impl Strategy<Value = Op> {
    (pick(), lease_pick(), prop::option::weighted(0.3, 0u32..=30)).prop_map(|(job, lease, retry_after_secs)| Op::Fail {
        job,
        lease,
        retry_after_secs,
    })
}

fn heartbeat() -> impl Strategy<Value = Op> {
    (pick(), lease_pick(), prop::option::of(5u32..=60)).prop_map(|(job, lease, lease_secs)| Op::Heartbeat {
        job,
        lease,
        lease_secs,
    })
}

fn dlq_pick() -> impl Strategy<Value = DlqPick> {
    prop_oneof![(1u32..=3).prop_map(DlqPick::Oldest), prop::collection::vec(pick(), 1..=3).prop_map(DlqPick::Ids)]
}

/// The general mix of operations.
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => enqueue(),
        4 => claim(),
        3 => complete(),
        3 => fail(),
        2 => heartbeat(),
        1 => (pick(), any::<bool>()).prop_map(|(job, any)| Op::Cancel { job, any }),
        1 => (pick(), any::<bool>()).prop_map(|(job, any)| Op::Replay { job, any }),
        1 => dlq_pick().prop_map(Op::ReplayDlq),
        1 => dlq_pick().prop_map(Op::PurgeDlq),
        2 => Just(Op::Sweep),
        1 => Just(Op::SweepTwice),
        1 => Just(Op::Alarm),
        4 => advance().prop_map(Op::Advance),
        2 => advance_to(),
        2 => at_lease_deadline(),
    ]
}

/// A mix that dwells on lease timing: few jobs, many claims, heartbeats and worker calls
/// right at lease deadlines, alarms early, late, twice or not at all.
fn timing_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => enqueue(),
        3 => claim(),
        3 => complete(),
        3 => fail(),
        3 => heartbeat(),
        2 => Just(Op::Sweep),
        1 => Just(Op::SweepTwice),
        1 => Just(Op::Alarm),
        1 => (pick(), any::<bool>()).prop_map(|(job, any)| Op::Replay { job, any }),
        2 => advance().prop_map(Op::Advance),
        3 => advance_to(),
        5 => at_lease_deadline(),
    ]
}

// ---------------------------------------------------------------------------------------------
// The reference model.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    Pending,
    Scheduled,
    Processing,
    Completed,
    Deadletter,
    Cancelled,
    /// Deleted by retention or a DLQ purge; the model keeps it so operations can still
    /// target its id.
    Deleted,
}

impl St {
    fn name(self) -> &'static str {
        match self {
            St::Pending => "pending",
            St::Scheduled => "scheduled",
            St::Processing => "processing",
            St::Completed => "completed",
            St::Deadletter => "deadletter",
            St::Cancelled => "cancelled",
            St::Deleted => "deleted",
        }
    }

    fn terminal(self) -> bool {
        matches!(self, St::Completed | St::Deadletter | St::Cancelled | St::Deleted)
    }
}

#[derive(Clone, Debug)]
struct Lease {
    id: String,
    deadline: EpochMs,
    secs: u32,
}

#[derive(Clone, Debug)]
struct MJob {
    id: String,
    key: Option<String>,
    priority: i64,
    max_retries: u32,
    status: St,
    retry_count: u32,
    scheduled_at: Option<EpochMs>,
    /// Past this, a job that has not been claimed (pending or scheduled) is not claimable and
    /// the alarm cancels it.
    expires_at: Option<EpochMs>,
    /// The current lease, exactly while processing.
    lease: Option<Lease>,
    /// The lease a completed job was completed under (a retried complete with it succeeds).
    last_lease: Option<String>,
    /// When a completed or cancelled job finished (retention counts from here).
    completed_at: Option<EpochMs>,
    /// Replayed and not claimed since: replay cleared `scheduled_at` and `completed_at`.
    replayed: bool,
}

struct Model {
    now: EpochMs,
    /// Every job ever created, in enqueue order.
    jobs: Vec<MJob>,
    /// Every lease ever issued: (job index, lease id).
    issued: Vec<(usize, String)>,
}

/// What one sweep should report.
#[derive(Debug, Default, PartialEq, Eq)]
struct Swept {
    promoted: usize,
    requeued: usize,
    dead_lettered: usize,
    pruned: usize,
    expired: usize,
}

impl Model {
    fn key_owner(&self, key: &str) -> Option<usize> {
        self.jobs.iter().position(|j| j.status != St::Deleted && j.key.as_deref() == Some(key))
    }

    /// Pending, not waiting out a retry delay, not past `expires_at`.
    fn ready(&self, j: &MJob) -> bool {
        j.status == St::Pending
            && j.scheduled_at.is_none_or(|t| t <= self.now)
            && j.expires_at.is_none_or(|t| t > self.now)
    }

    /// Scheduled jobs whose time has come become pending.
    fn promote(&mut self) -> usize {
        let now = self.now;
        let mut n = 0;
        for j in &mut self.jobs {
            if j.status == St::Scheduled && j.scheduled_at.is_some_and(|t| t <= now) {
                j.status = St::Pending;
                n += 1;
            }
        }
        n
    }

    /// The jobs a claim of up to `limit` takes (after promotion): ready ones, priority first,
    /// then enqueue order.
    fn claim_order(&self, limit: u32) -> Vec<usize> {
        let mut ready: Vec<usize> = (0..self.jobs.len()).filter(|&i| self.ready(&self.jobs[i])).collect();
        ready.sort_by_key(|&i| (-self.jobs[i].priority, i));
        ready.truncate(limit as usize);
        ready
    }

    /// The lease is the job's current one and live (strictly before its deadline).
    fn live(&self, j: usize, lease_id: &str) -> bool {
        let job = &self.jobs[j];
        job.status == St::Processing && job.lease.as_ref().is_some_and(|l| l.id == lease_id && self.now < l.deadline)
    }

    /// Counts a failed attempt of a processing job: pending while retries are left (a job
    /// runs at most `max_retries + 1` times), otherwise deadletter. The lease ends.
    fn count_failure(&mut self, j: usize) -> St {
        let job = &mut self.jobs[j];
        job.lease = None;
        job.retry_count += 1;
        job.status = if job.retry_count <= job.max_retries { St::Pending } else { St::Deadletter };
        job.status
    }

    /// The alarm's work at `now`: promote due jobs, end expired leases (a lease ends at its
    /// deadline), prune finished jobs past retention.
    fn sweep(&mut self) -> Swept {
        let mut out = Swept { promoted: self.promote(), ..Swept::default() };
        let now = self.now;
        for j in 0..self.jobs.len() {
            let expired =
                self.jobs[j].status == St::Processing && self.jobs[j].lease.as_ref().is_some_and(|l| l.deadline <= now);
            if expired {
                match self.count_failure(j) {
                    St::Pending => out.requeued += 1,
                    _ => out.dead_lettered += 1,
                }
            }
        }
        for job in &mut self.jobs {
            let waiting = matches!(job.status, St::Pending | St::Scheduled);
            if waiting && job.expires_at.is_some_and(|t| t <= now) {
                job.status = St::Cancelled;
                job.completed_at = Some(now);
                job.replayed = false;
                out.expired += 1;
            }
        }
        for job in &mut self.jobs {
            let finished = matches!(job.status, St::Completed | St::Cancelled);
            if finished && job.completed_at.is_some_and(|t| t + RETENTION_MS <= now) {
                job.status = St::Deleted;
                out.pruned += 1;
            }
        }
        out
    }

    /// The earliest time something must happen without a request: a scheduled job coming due,
    /// a retry delay ending, a lease ending, an unrun job expiring, retention ending.
    fn next_deadline(&self) -> Option<EpochMs> {
        self.jobs
            .iter()
            .flat_map(|j| match j.status {
                St::Scheduled => [j.scheduled_at, j.expires_at],
                St::Pending => [j.scheduled_at.filter(|&t| t > self.now), j.expires_at],
                St::Processing => [j.lease.as_ref().map(|l| l.deadline), None],
                St::Completed | St::Cancelled => [j.completed_at.map(|t| t + RETENTION_MS), None],
                St::Deadletter | St::Deleted => [None, None],
            })
            .flatten()
            .min()
    }

    fn indices(&self, pred: impl Fn(&MJob) -> bool) -> Vec<usize> {
        (0..self.jobs.len()).filter(|&i| pred(&self.jobs[i])).collect()
    }

    fn count(&self, status: St) -> usize {
        self.jobs.iter().filter(|j| j.status == status).count()
    }
}

// ---------------------------------------------------------------------------------------------
// The runner: applies each operation to the queue and the model, then checks invariants.
// ---------------------------------------------------------------------------------------------

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}

/// One stored job, as the invariant check reads it.
#[derive(Debug)]
struct DbJob {
    id: String,
    status: String,
    retry_count: i64,
    max_retries: i64,
    lease_id: Option<String>,
    lease_expires_at: Option<EpochMs>,
    scheduled_at: Option<EpochMs>,
    priority: i64,
    idempotency_key: Option<String>,
    completed_at: Option<EpochMs>,
    expires_at: Option<EpochMs>,
}

const DB_JOBS: &str = "SELECT id, status, retry_count, max_retries, lease_id, lease_expires_at, scheduled_at, \
    priority, idempotency_key, completed_at, expires_at FROM jobs ORDER BY seq";

struct Run {
    fx: Fixture,
    m: Model,
    log: Vec<String>,
    /// How often each interesting situation came up (printed as the test's figures).
    hits: RefCell<BTreeMap<String, u64>>,
}

fn db<T>(what: &str, result: Result<T, ApiError>) -> Result<T, String> {
    result.map_err(|e| format!("{what}: unexpected error {:?}: {}", e.kind, e.message))
}

impl Run {
    fn new() -> Run {
        let mut fx = Fixture::with_settings(settings());
        fx.entropy.jitter = JITTER;
        Run {
            fx,
            m: Model { now: T0, jobs: Vec::new(), issued: Vec::new() },
            log: Vec::new(),
            hits: RefCell::default(),
        }
    }

    fn note(&mut self, text: String) {
        let t = self.m.now - T0;
        self.log.push(format!("t={}.{:03}s {text}", t / SEC, t % SEC));
    }

    fn hit(&self, what: impl Into<String>) {
        *self.hits.borrow_mut().entry(what.into()).or_default() += 1;
    }

    /// Why the model refuses a worker operation on job `j` with `lease_id`.
    fn refusal(&self, j: usize, lease_id: &str) -> &'static str {
        let job = &self.m.jobs[j];
        let current = job.lease.as_ref().filter(|l| l.id == lease_id);
        match self.m.issued.iter().find(|(_, l)| l == lease_id) {
            _ if job.status == St::Deleted => "job deleted (404)",
            _ if current.is_some_and(|l| l.deadline == self.m.now) => "own lease exactly at its deadline",
            _ if current.is_some() => "own lease past its deadline, alarm not run yet",
            Some((owner, _)) if *owner == j && job.last_lease.as_deref() == Some(lease_id) => "job completed under it",
            Some((owner, _)) if *owner == j => "stale lease of the same job",
            Some(_) => "another job's lease",
            None => "lease never issued",
        }
    }

    fn dump(&self) -> Vec<Row> {
        self.fx.dump()
    }

    fn name(&self, j: usize) -> String {
        let job = &self.m.jobs[j];
        format!("#{j}({})", job.status.name())
    }

    /// The lease label in the log: which job it was issued for, or "bogus".
    fn lease_label(&self, lease_id: &str) -> String {
        match self.m.issued.iter().position(|(_, l)| l == lease_id) {
            Some(n) => format!("L{n}(of #{})", self.m.issued[n].0),
            None => "bogus".into(),
        }
    }

    /// A rejected operation must fail with `kind` and change nothing.
    fn rejected<T: Debug>(&self, what: &str, result: Result<T, ApiError>, kind: ErrorKind, before: &[Row]) -> Check {
        match result {
            Ok(v) => return Err(format!("{what}: expected {kind:?}, got Ok({v:?})")),
            Err(e) => ensure!(e.kind == kind, "{what}: expected {kind:?}, got {:?}: {}", e.kind, e.message),
        }
        ensure!(self.dump() == before, "{what}: a rejected operation changed the database");
        Ok(())
    }

    /// For `op`, which only a live lease may do on job `j`: a refusal (of a deleted job: not
    /// found; else lease expired) is counted and must have changed nothing, giving `None`; a
    /// live lease must succeed, giving its value.
    fn live_only<T: Debug>(
        &mut self,
        op: &str,
        j: usize,
        lease_id: &str,
        what: &str,
        result: Result<T, ApiError>,
        before: &[Row],
    ) -> Result<Option<T>, String> {
        if self.m.live(j, lease_id) {
            return db(what, result).map(Some);
        }
        self.hit(format!("{op} refused: {}", self.refusal(j, lease_id)));
        let kind = if self.m.jobs[j].status == St::Deleted { ErrorKind::NotFound } else { ErrorKind::LeaseExpired };
        self.rejected(what, result, kind, before)?;
        Ok(None)
    }

    // --- operations ---------------------------------------------------------------------------

    fn enqueue(&mut self, jobs: &[NewJob]) -> Check {
        let now = self.m.now;
        let specs: Vec<JobSpec> = jobs
            .iter()
            .map(|n| {
                let mut s = spec("{}").with_priority(n.priority);
                if let Some(r) = n.max_retries {
                    s = s.with_retries(r);
                }
                if let Some(k) = n.key {
                    s = s.with_key(&key_name(k));
                }
                if let Some(d) = n.schedule_in_ms {
                    s = s.scheduled_for(now + d);
                }
                if let Some(d) = n.expire_in_ms {
                    s = s.expiring_at(now + d);
                }
                s
            })
            .collect();
        let stored = self.m.jobs.iter().filter(|j| j.status != St::Deleted).count();
        if stored + specs.len() > MAX_JOBS as usize {
            let what = format!("enqueue {jobs:?} into a queue holding {stored} jobs");
            self.note(what.clone());
            self.hit("enqueue refused: queue full");
            let before = self.dump();
            let result = self.fx.try_enqueue(&specs, now);
            return self.rejected(&what, result, ErrorKind::QueueFull, &before);
        }
        let out = db("enqueue", self.fx.try_enqueue(&specs, now))?;
        ensure!(out.len() == jobs.len(), "enqueue: {} outcomes for {} jobs", out.len(), jobs.len());
        let mut labels = Vec::new();
        for (n, o) in jobs.iter().zip(out) {
            let key = n.key.map(key_name);
            match key.as_deref().and_then(|k| self.m.key_owner(k)) {
                Some(owner) => {
                    ensure!(
                        !o.created && o.id == self.m.jobs[owner].id,
                        "enqueue: duplicate key {key:?} of {} must return it with created:false, got {o:?}",
                        self.name(owner)
                    );
                    labels.push(format!("dup {key:?}->#{owner}"));
                    self.hit("enqueue: duplicate key answered with the existing job");
                }
                None => {
                    ensure!(o.created, "enqueue: expected a new job for {n:?}, got {o:?}");
                    ensure!(!self.m.jobs.iter().any(|j| j.id == o.id), "enqueue: id {} reused", o.id);
                    let scheduled_at = n.schedule_in_ms.map(|d| now + d);
                    let status = if scheduled_at.is_some_and(|t| t > now) { St::Scheduled } else { St::Pending };
                    labels.push(format!("#{} {}", self.m.jobs.len(), status.name()));
                    self.hit(format!("enqueue: new {} job", status.name()));
                    if n.expire_in_ms.is_some() {
                        self.hit("enqueue: new job with expires_at");
                    }
                    self.m.jobs.push(MJob {
                        id: o.id,
                        key,
                        priority: n.priority,
                        max_retries: n.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
                        status,
                        retry_count: 0,
                        scheduled_at,
                        expires_at: n.expire_in_ms.map(|d| now + d),
                        lease: None,
                        last_lease: None,
                        completed_at: None,
                        replayed: false,
                    });
                }
            }
        }
        self.note(format!("enqueue {jobs:?} -> [{}]", labels.join(", ")));
        Ok(())
    }

    fn claim(&mut self, limit: u32, lease_secs: u32) -> Check {
        let now = self.m.now;
        if self.m.promote() > 0 {
            self.hit("claim: promoted due scheduled jobs itself");
        }
        let expected = self.m.claim_order(limit);
        if self.m.jobs.iter().any(|j| j.lease.as_ref().is_some_and(|l| l.deadline <= now)) {
            self.hit("claim: while an expired lease waits for the alarm");
        }
        self.hit(if expected.is_empty() { "claim: nothing claimable" } else { "claim: leased jobs" });
        let request = ClaimRequest { lease_secs: Some(lease_secs), ..claim_request(limit) };
        let got = claimed(&db("claim", self.fx.q().claim(&request, now))?);
        let names: Vec<String> = expected.iter().map(|&j| self.name(j)).collect();
        self.note(format!("claim limit={limit} lease={lease_secs}s -> {names:?}"));
        let got_ids: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
        let want_ids: Vec<&str> = expected.iter().map(|&j| self.m.jobs[j].id.as_str()).collect();
        ensure!(got_ids == want_ids, "claim: got {got_ids:?}, expected {want_ids:?} ({names:?})");
        let deadline = now + i64::from(lease_secs) * SEC;
        for (c, &j) in got.iter().zip(&expected) {
            let job = &self.m.jobs[j];
            ensure!(
                epoch(&c.lease_expires_at) == deadline,
                "claim: {} lease ends {}, expected now + {lease_secs}s",
                self.name(j),
                c.lease_expires_at
            );
            ensure!(
                c.retry_count == i64::from(job.retry_count) && c.max_retries == i64::from(job.max_retries),
                "claim: {} shows retry_count {} / max_retries {}, model {} / {}",
                self.name(j),
                c.retry_count,
                c.max_retries,
                job.retry_count,
                job.max_retries
            );
            ensure!(
                !c.lease_id.is_empty() && !self.m.issued.iter().any(|(_, l)| *l == c.lease_id),
                "claim: lease id {:?} of {} is empty or was issued before",
                c.lease_id,
                self.name(j)
            );
            self.m.issued.push((j, c.lease_id.clone()));
            let job = &mut self.m.jobs[j];
            job.status = St::Processing;
            job.replayed = false;
            job.lease = Some(Lease { id: c.lease_id.clone(), deadline, secs: lease_secs });
        }
        Ok(())
    }

    fn complete(&mut self, j: usize, lease_id: &str) -> Check {
        let now = self.m.now;
        let what = format!("complete {} with {}", self.name(j), self.lease_label(lease_id));
        self.note(what.clone());
        let before = self.dump();
        let result = self.fx.q().complete(&self.m.jobs[j].id, &lease(lease_id), None, now);
        let job = &self.m.jobs[j];
        let repeat = job.status == St::Completed && job.last_lease.as_deref() == Some(lease_id);
        if !self.m.live(j, lease_id) && !repeat {
            self.hit(format!("complete refused: {}", self.refusal(j, lease_id)));
        }
        if job.status == St::Deleted {
            self.rejected(&what, result, ErrorKind::NotFound, &before)
        } else if self.m.live(j, lease_id) {
            self.hit("complete: done");
            db(&what, result)?;
            let job = &mut self.m.jobs[j];
            job.status = St::Completed;
            job.completed_at = Some(now);
            job.last_lease = job.lease.take().map(|l| l.id);
            Ok(())
        } else if repeat {
            db(&what, result)?;
            ensure!(self.dump() == before, "{what}: a repeated complete changed the database");
            self.hit("complete: repeated with the same lease, no change");
            Ok(())
        } else {
            self.rejected(&what, result, ErrorKind::LeaseExpired, &before)
        }
    }

    fn fail(&mut self, j: usize, lease_id: &str, retry_after_secs: Option<u32>) -> Check {
        let now = self.m.now;
        let what =
            format!("fail {} with {} retry_after={retry_after_secs:?}", self.name(j), self.lease_label(lease_id));
        self.note(what.clone());
        let before = self.dump();
        let id = self.m.jobs[j].id.clone();
        let result = self.fx.fail_with(&id, &lease(lease_id), "boom", retry_after_secs, now);
        let Some(outcome) = self.live_only("fail", j, lease_id, &what, result, &before)? else { return Ok(()) };
        let failures_before = self.m.jobs[j].retry_count;
        let status = self.m.count_failure(j);
        let retry_at = (status == St::Pending)
            .then(|| now + retry_after_secs.map_or_else(|| backoff_ms(failures_before), |s| i64::from(s) * SEC));
        if let Some(at) = retry_at {
            self.m.jobs[j].scheduled_at = Some(at);
        }
        self.hit(match (status, retry_after_secs) {
            (St::Pending, None) => "fail: retry after backoff",
            (St::Pending, Some(_)) => "fail: retry after retry_after_secs",
            _ => "fail: dead-lettered",
        });
        let job = &self.m.jobs[j];
        ensure!(
            outcome.status.as_str() == status.name()
                && outcome.retry_count == job.retry_count
                && outcome.retry_at == retry_at,
            "{what}: got {outcome:?}, expected status {} retry_count {} retry_at {retry_at:?}",
            status.name(),
            job.retry_count
        );
        Ok(())
    }

    fn heartbeat(&mut self, j: usize, lease_id: &str, lease_secs: Option<u32>) -> Check {
        let now = self.m.now;
        let what = format!("heartbeat {} with {} secs={lease_secs:?}", self.name(j), self.lease_label(lease_id));
        self.note(what.clone());
        let before = self.dump();
        let result = self.fx.q().heartbeat(&self.m.jobs[j].id, &lease(lease_id), lease_secs, now);
        let Some(until) = self.live_only("heartbeat", j, lease_id, &what, result, &before)? else { return Ok(()) };
        self.hit("heartbeat: lease extended");
        let lease = self.m.jobs[j].lease.as_mut().expect("live lease");
        let expected = now + i64::from(lease_secs.unwrap_or(lease.secs)) * SEC;
        lease.deadline = expected;
        ensure!(until == expected, "{what}: new deadline {until}, expected {expected}");
        Ok(())
    }

    fn cancel(&mut self, j: usize) -> Check {
        let now = self.m.now;
        let what = format!("cancel {}", self.name(j));
        self.note(what.clone());
        let before = self.dump();
        let result = self.fx.q().cancel(&self.m.jobs[j].id, now);
        match self.m.jobs[j].status {
            St::Deleted => self.rejected(&what, result, ErrorKind::NotFound, &before),
            St::Pending | St::Scheduled => {
                db(&what, result)?;
                self.hit(format!("cancel: {} job cancelled", self.m.jobs[j].status.name()));
                let job = &mut self.m.jobs[j];
                job.status = St::Cancelled;
                job.completed_at = Some(now);
                Ok(())
            }
            status => {
                self.hit(format!("cancel refused: {} job", status.name()));
                self.rejected(&what, result, ErrorKind::Conflict, &before)
            }
        }
    }

    /// Replay starts a dead letter's attempts afresh and drops an elapsed `expires_at`
    /// (docs/DECISIONS.md).
    fn replayed(&mut self, j: usize) {
        let now = self.m.now;
        let job = &mut self.m.jobs[j];
        job.expires_at = job.expires_at.filter(|at| *at > now);
        job.status = St::Pending;
        job.retry_count = 0;
        job.scheduled_at = None;
        job.completed_at = None;
        job.replayed = true;
    }

    fn replay(&mut self, j: usize) -> Check {
        let now = self.m.now;
        let what = format!("replay {}", self.name(j));
        self.note(what.clone());
        let before = self.dump();
        let result = self.fx.q().replay(&self.m.jobs[j].id, now);
        match self.m.jobs[j].status {
            St::Deleted => self.rejected(&what, result, ErrorKind::NotFound, &before),
            St::Deadletter => {
                let view = job_json(&db(&what, result)?);
                ensure!(
                    view["status"] == "pending" && view["retry_count"] == 0,
                    "{what}: replied {view}, expected a pending job with retry_count 0"
                );
                self.replayed(j);
                self.hit("replay: dead letter back to pending");
                Ok(())
            }
            status => {
                self.hit(format!("replay refused: {} job", status.name()));
                self.rejected(&what, result, ErrorKind::Conflict, &before)
            }
        }
    }

    /// The selection a DLQ call sends, the dead letters it must act on (in queue order), and a
    /// label for the log.
    fn dlq_selection(&self, pick: &DlqPick) -> (DeadLetterSelection, Vec<usize>, String) {
        let dead = self.m.indices(|j| j.status == St::Deadletter);
        match pick {
            DlqPick::Oldest(n) => {
                (DeadLetterSelection::Oldest(*n), dead.into_iter().take(*n as usize).collect(), format!("oldest {n}"))
            }
            DlqPick::Ids(picks) => {
                let all = self.m.jobs.len();
                let chosen: Vec<usize> =
                    if all == 0 { Vec::new() } else { picks.iter().map(|p| p.index(all)).collect() };
                let ids = chosen.iter().map(|&j| self.m.jobs[j].id.clone()).collect();
                let expected = dead.into_iter().filter(|j| chosen.contains(j)).collect();
                (DeadLetterSelection::Ids(ids), expected, format!("ids {chosen:?}"))
            }
        }
    }

    fn replay_dlq(&mut self, pick: &DlqPick) -> Check {
        let (selection, expected, label) = self.dlq_selection(pick);
        self.note(format!("dlq replay {label} -> {expected:?}"));
        let got = db("dlq replay", self.fx.q().replay_dead_letters(&selection, self.m.now))?;
        let want: Vec<&str> = expected.iter().map(|&j| self.m.jobs[j].id.as_str()).collect();
        ensure!(got == want, "dlq replay {label}: got {got:?}, expected {want:?}");
        for j in expected {
            self.replayed(j);
            self.hit("dlq replay: dead letter back to pending");
        }
        Ok(())
    }

    fn purge_dlq(&mut self, pick: &DlqPick) -> Check {
        let (selection, expected, label) = self.dlq_selection(pick);
        self.note(format!("dlq purge {label} -> {expected:?}"));
        let got = db("dlq purge", self.fx.q().purge_dead_letters(&selection, None))?;
        ensure!(got == expected.len(), "dlq purge {label}: purged {got}, expected {expected:?}");
        for j in expected {
            self.m.jobs[j].status = St::Deleted;
            self.hit("dlq purge: dead letter deleted");
        }
        Ok(())
    }

    fn at_lease_deadline(&mut self, job: &Pick, offset: i64, then: &Then) -> Check {
        let leased = self.m.indices(|j| j.status == St::Processing);
        if leased.is_empty() {
            return Ok(());
        }
        let j = leased[job.index(leased.len())];
        let lease = self.m.jobs[j].lease.clone().expect("processing has a lease");
        self.set_clock(lease.deadline + offset);
        self.note(format!("clock to the lease deadline of {}{offset:+}", self.name(j)));
        if self.m.now == lease.deadline {
            self.hit(format!("at a lease deadline exactly: {then:?}"));
        }
        match then {
            Then::Complete => self.complete(j, &lease.id),
            Then::Fail(after) => self.fail(j, &lease.id, *after),
            Then::Heartbeat(secs) => self.heartbeat(j, &lease.id, *secs),
            Then::Sweep => self.sweep(),
            Then::Claim => self.claim(5, 30),
        }
    }

    fn sweep(&mut self) -> Check {
        let now = self.m.now;
        let want = self.m.sweep();
        self.note(format!("sweep -> {want:?}"));
        let got = db("sweep", self.fx.q().sweep(now))?;
        let got_swept = Swept {
            promoted: got.promoted,
            requeued: got.requeued,
            dead_lettered: got.dead_lettered,
            pruned: got.pruned,
            expired: got.expired,
        };
        ensure!(got_swept == want, "sweep: reported {got:?}, expected {want:?}");
        for (what, n) in [
            ("sweep: promoted a scheduled job", want.promoted),
            ("sweep: expired lease back to pending", want.requeued),
            ("sweep: expired lease dead-lettered", want.dead_lettered),
            ("sweep: pruned a finished job", want.pruned),
            ("sweep: cancelled a job past expires_at", want.expired),
        ] {
            *self.hits.borrow_mut().entry(what.into()).or_default() += n as u64;
        }
        self.check_stats()?;
        // Nothing is overdue right after a sweep, so the alarm is not due again at once.
        let wake = db("next_wake", self.fx.q().next_wake(now))?;
        ensure!(wake.is_none_or(|w| w > now), "after a sweep at {now}, next_wake is {wake:?} (not in the future)");
        Ok(())
    }

    fn sweep_twice(&mut self) -> Check {
        self.sweep()?;
        let before = self.dump();
        self.note("sweep again (same instant)".into());
        let again = db("second sweep", self.fx.q().sweep(self.m.now))?;
        ensure!(again == SweepReport::default(), "second sweep at the same instant reported {again:?}");
        ensure!(self.dump() == before, "second sweep at the same instant changed the database");
        self.hit("sweep twice: second changed nothing");
        Ok(())
    }

    fn set_clock(&mut self, to: EpochMs) {
        if to > self.m.now {
            self.m.now = to;
        }
    }

    fn alarm(&mut self) -> Check {
        if let Some(t) = self.m.next_deadline() {
            self.set_clock(t);
        }
        self.note("alarm on time".into());
        self.sweep()
    }

    fn advance_to(&mut self, target: &Target, pick: &Pick, offset: i64) -> Check {
        let now = self.m.now;
        let times: Vec<EpochMs> = match target {
            Target::LeaseDeadline => self.m.jobs.iter().filter_map(|j| j.lease.as_ref().map(|l| l.deadline)).collect(),
            Target::ReadyTime => self
                .m
                .jobs
                .iter()
                .filter(|j| matches!(j.status, St::Scheduled | St::Pending))
                .filter_map(|j| j.scheduled_at)
                .filter(|&t| t >= now)
                .collect(),
        };
        if let Some(&t) = (!times.is_empty()).then(|| &times[pick.index(times.len())]) {
            self.set_clock(t + offset);
        }
        self.note(format!("clock to {target:?}{offset:+}"));
        Ok(())
    }

    /// Picks the target job of a worker operation and the lease id it presents.
    fn resolve_lease(&self, job: &Pick, pick: &LeasePick) -> Option<(usize, String)> {
        if self.m.jobs.is_empty() {
            return None;
        }
        let bogus = "0123456789abcdef0123456789abcdef".to_owned();
        let any_job = job.index(self.m.jobs.len());
        Some(match pick {
            LeasePick::Current => {
                let leased = self.m.indices(|j| j.status == St::Processing);
                if leased.is_empty() {
                    let last = self.m.issued.iter().rev().find(|(i, _)| *i == any_job).map(|(_, l)| l.clone());
                    (any_job, last.unwrap_or(bogus))
                } else {
                    let j = leased[job.index(leased.len())];
                    (j, self.m.jobs[j].lease.as_ref().expect("processing has a lease").id.clone())
                }
            }
            LeasePick::Stale(n) if !self.m.issued.is_empty() => self.m.issued[n.index(self.m.issued.len())].clone(),
            LeasePick::Wrong(n) if !self.m.issued.is_empty() => {
                (any_job, self.m.issued[n.index(self.m.issued.len())].1.clone())
            }
            _ => (any_job, bogus),
        })
    }

    /// A job among those matching `preferred`, or among all when none does (or `any`).
    fn pick_job(&self, job: &Pick, any: bool, preferred: impl Fn(&MJob) -> bool) -> Option<usize> {
        let candidates = self.m.indices(preferred);
        if !any && !candidates.is_empty() {
            Some(candidates[job.index(candidates.len())])
        } else if self.m.jobs.is_empty() {
            None
        } else {
            Some(job.index(self.m.jobs.len()))
        }
    }

    fn step(&mut self, op: &Op) -> Check {
        match op {
            Op::Enqueue(jobs) => self.enqueue(jobs),
            Op::Claim { limit, lease_secs } => self.claim(*limit, *lease_secs),
            Op::Complete { job, lease } => match self.resolve_lease(job, lease) {
                Some((j, l)) => self.complete(j, &l),
                None => Ok(()),
            },
            Op::Fail { job, lease, retry_after_secs } => match self.resolve_lease(job, lease) {
                Some((j, l)) => self.fail(j, &l, *retry_after_secs),
                None => Ok(()),
            },
            Op::Heartbeat { job, lease, lease_secs } => match self.resolve_lease(job, lease) {
                Some((j, l)) => self.heartbeat(j, &l, *lease_secs),
                None => Ok(()),
            },
            Op::Cancel { job, any } => {
                match self.pick_job(job, *any, |j| matches!(j.status, St::Pending | St::Scheduled)) {
                    Some(j) => self.cancel(j),
                    None => Ok(()),
                }
            }
            Op::Replay { job, any } => match self.pick_job(job, *any, |j| j.status == St::Deadletter) {
                Some(j) => self.replay(j),
                None => Ok(()),
            },
            Op::ReplayDlq(pick) => self.replay_dlq(pick),
            Op::PurgeDlq(pick) => self.purge_dlq(pick),
            Op::AtLeaseDeadline { job, offset, then } => self.at_lease_deadline(job, *offset, then),
            Op::Sweep => self.sweep(),
            Op::SweepTwice => self.sweep_twice(),
            Op::Alarm => self.alarm(),
            Op::Advance(ms) => {
                self.set_clock(self.m.now + ms);
                self.note(format!("clock +{ms}ms"));
                Ok(())
            }
            Op::AdvanceTo { target, job, offset } => self.advance_to(target, job, *offset),
        }
    }

    // --- invariants ---------------------------------------------------------------------------

    fn read_jobs(&self) -> Result<Vec<DbJob>, String> {
        let rows = db("read jobs", self.fx.sql.query(DB_JOBS, &[]))?;
        rows.iter()
            .map(|r| {
                Ok(DbJob {
                    id: r.text(0)?.to_owned(),
                    status: r.text(1)?.to_owned(),
                    retry_count: r.int(2)?,
                    max_retries: r.int(3)?,
                    lease_id: r.opt_text(4)?.map(str::to_owned),
                    lease_expires_at: r.opt_int(5)?,
                    scheduled_at: r.opt_int(6)?,
                    priority: r.int(7)?,
                    idempotency_key: r.opt_text(8)?.map(str::to_owned),
                    completed_at: r.opt_int(9)?,
                    expires_at: r.opt_int(10)?,
                })
            })
            .collect::<Result<_, ApiError>>()
            .map_err(|e| format!("read jobs: {}", e.message))
    }

    /// The ids the claim query would take right now (without promoting scheduled jobs).
    fn claimable_ids(&self) -> Result<Vec<String>, String> {
        let params = [
            SqlValue::Null,
            SqlValue::Null,
            SqlValue::Null,
            self.m.now.into(),
            SqlValue::Integer(-100),
            SqlValue::Integer(100),
            SqlValue::Integer(1_000_000),
        ];
        let rows = db(
            "claimable",
            self.fx.sql.query(&format!("SELECT id FROM jobs WHERE seq IN ({CLAIMABLE_SEQS}) ORDER BY seq"), &params),
        )?;
        rows.iter().map(|r| r.text(0).map(str::to_owned).map_err(|e| e.message)).collect()
    }

    fn check(&self) -> Check {
        let now = self.m.now;
        let stored = self.read_jobs()?;
        let live: Vec<(usize, &MJob)> =
            self.m.jobs.iter().enumerate().filter(|(_, j)| j.status != St::Deleted).collect();

        // The stored jobs are exactly the model's, in enqueue order.
        let stored_ids: Vec<&str> = stored.iter().map(|d| d.id.as_str()).collect();
        let model_ids: Vec<&str> = live.iter().map(|(_, j)| j.id.as_str()).collect();
        ensure!(stored_ids == model_ids, "stored jobs {stored_ids:?} differ from the model's {model_ids:?}");

        let wake = db("next_wake", self.fx.q().next_wake(now))?;
        let claimable = self.claimable_ids()?;
        let mut leases = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for (d, &(j, m)) in stored.iter().zip(&live) {
            let who = format!("{} {}", self.name(j), d.id);
            // Status and counters agree with the model.
            ensure!(d.status == m.status.name(), "{who}: stored status {}, model {}", d.status, m.status.name());
            ensure!(
                d.retry_count == i64::from(m.retry_count) && d.max_retries == i64::from(m.max_retries),
                "{who}: stored retry_count {}/{} max, model {}/{}",
                d.retry_count,
                d.max_retries,
                m.retry_count,
                m.max_retries
            );
            ensure!(d.priority == m.priority, "{who}: priority {}, model {}", d.priority, m.priority);
            ensure!(d.idempotency_key == m.key, "{who}: key {:?}, model {:?}", d.idempotency_key, m.key);
            ensure!(d.expires_at == m.expires_at, "{who}: expires_at {:?}, model {:?}", d.expires_at, m.expires_at);
            // A job runs at most max_retries + 1 times.
            ensure!(
                (0..=d.max_retries + 1).contains(&d.retry_count),
                "{who}: retry_count {} exceeds max_retries + 1 = {}",
                d.retry_count,
                d.max_retries + 1
            );
            ensure!(
                (d.retry_count == d.max_retries + 1) == (d.status == "deadletter"),
                "{who}: retry_count {} of max {} in status {}",
                d.retry_count,
                d.max_retries,
                d.status
            );
            // A duplicate idempotency key never makes a second job.
            if let Some(k) = &d.idempotency_key {
                ensure!(keys.insert(k.clone()), "{who}: idempotency key {k} held by two jobs");
            }
            // Leases: set exactly while processing, one per job, never shared.
            match m.status {
                St::Processing => {
                    let l = m.lease.as_ref().ok_or_else(|| format!("{who}: model lost its lease"))?;
                    ensure!(
                        d.lease_id.as_deref() == Some(l.id.as_str()) && d.lease_expires_at == Some(l.deadline),
                        "{who}: stored lease {:?} until {:?}, model {} until {}",
                        d.lease_id,
                        d.lease_expires_at,
                        l.id,
                        l.deadline
                    );
                    ensure!(leases.insert(l.id.clone()), "{who}: lease {} held by two jobs", l.id);
                }
                St::Completed => ensure!(
                    d.lease_expires_at.is_none() && d.lease_id == m.last_lease,
                    "{who}: completed job stores lease {:?} until {:?}, expected its last lease {:?} and no deadline",
                    d.lease_id,
                    d.lease_expires_at,
                    m.last_lease
                ),
                _ => ensure!(
                    d.lease_id.is_none() && d.lease_expires_at.is_none(),
                    "{who}: a job that is not processing stores lease {:?} until {:?}",
                    d.lease_id,
                    d.lease_expires_at
                ),
            }
            // Times that drive the job forward.
            match m.status {
                St::Scheduled => ensure!(
                    d.scheduled_at == m.scheduled_at,
                    "{who}: scheduled_at {:?}, model {:?}",
                    d.scheduled_at,
                    m.scheduled_at
                ),
                St::Pending => {
                    let future = |t: Option<EpochMs>| t.filter(|&t| t > now);
                    ensure!(
                        future(d.scheduled_at) == future(m.scheduled_at),
                        "{who}: pending job may run at {:?}, model {:?} (now {now})",
                        d.scheduled_at,
                        m.scheduled_at
                    );
                    ensure!(
                        !m.replayed || (d.scheduled_at.is_none() && d.completed_at.is_none()),
                        "{who}: a replayed job keeps scheduled_at {:?} / completed_at {:?}",
                        d.scheduled_at,
                        d.completed_at
                    );
                }
                St::Completed | St::Cancelled => ensure!(
                    d.completed_at == m.completed_at,
                    "{who}: completed_at {:?}, model {:?}",
                    d.completed_at,
                    m.completed_at
                ),
                _ => {}
            }
            // Every job is reachable: claimable now, or due later with the alarm set no later
            // than that, or leased with the alarm set no later than its deadline, or terminal.
            let wakes_by = |t: EpochMs| wake.is_some_and(|w| w <= t);
            let is_claimable = claimable.contains(&d.id);
            ensure!(
                is_claimable == self.m.ready(m),
                "{who}: claim query says claimable={is_claimable}, model says {} (scheduled_at {:?}, now {now})",
                self.m.ready(m),
                d.scheduled_at
            );
            match d.status.as_str() {
                "pending" if is_claimable => {}
                "pending" | "scheduled" => {
                    // What moves it on: coming due (a scheduled job, or a retry delay ending)
                    // or expiring unrun.
                    let due = d.scheduled_at.filter(|&t| t > now || d.status == "scheduled");
                    ensure!(
                        due.is_some_and(wakes_by) || d.expires_at.is_some_and(wakes_by),
                        "{who}: {} job is not claimable and no alarm is due for it (scheduled_at {:?}, \
                         expires_at {:?}, next_wake {wake:?})",
                        d.status,
                        d.scheduled_at,
                        d.expires_at
                    );
                }
                "processing" => ensure!(
                    d.lease_expires_at.is_some_and(wakes_by),
                    "{who}: leased until {:?} but next_wake is {wake:?}",
                    d.lease_expires_at
                ),
                "completed" | "deadletter" | "cancelled" => {}
                other => return Err(format!("{who}: unexpected status {other}")),
            }
        }

        // The alarm is never later than the earliest deadline the model knows.
        if let Some(deadline) = self.m.next_deadline() {
            ensure!(
                wake.is_some_and(|w| w <= deadline),
                "next_wake is {wake:?}, later than the model's earliest deadline {deadline}"
            );
        }

        // The stored job counter (which `max_jobs` relies on) matches the rows.
        let counted = db("job_count", self.fx.sql.query_one("SELECT n FROM job_count", &[]))?;
        let counted = counted.map(|r| r.int(0)).transpose().map_err(|e| e.message)?;
        ensure!(counted == Some(stored.len() as i64), "job_count says {counted:?}, {} rows stored", stored.len());
        Ok(())
    }

    /// The queue's stats (`GET /queues/{name}/stats`) count the model's jobs per status.
    fn check_stats(&self) -> Check {
        let stats = db("stats", self.fx.q().stats(self.m.now))?;
        let counts = serde_json::to_value(JobStatsView::new(&stats.counts)).map_err(|e| format!("stats: {e}"))?;
        let mut total = 0;
        for status in [St::Pending, St::Scheduled, St::Processing, St::Completed, St::Deadletter, St::Cancelled] {
            let n = counts[status.name()].as_u64();
            total += self.m.count(status) as u64;
            ensure!(
                n == Some(self.m.count(status) as u64),
                "stats count {} = {n:?}, model {}",
                status.name(),
                self.m.count(status)
            );
        }
        ensure!(counts["failed"] == 0, "stats count failed = {}", counts["failed"]);
        ensure!(counts["total"] == total, "stats total = {}, model {total}", counts["total"]);
        Ok(())
    }

    /// After the generated operations: the alarm runs on time and a worker claims and
    /// completes everything; every job must reach a terminal state.
    fn drain(&mut self) -> Check {
        self.note("-- drain --".into());
        for _ in 0..1_000 {
            if self.m.jobs.iter().all(|j| j.status.terminal()) {
                return Ok(());
            }
            let held: Vec<(usize, String)> = (0..self.m.jobs.len())
                .filter_map(|j| self.m.jobs[j].lease.as_ref().map(|l| (j, l.id.clone())))
                .filter(|(j, l)| self.m.live(*j, l))
                .collect();
            for (j, l) in held {
                self.complete(j, &l)?;
                self.check()?;
            }
            self.alarm()?;
            self.check()?;
            self.claim(MAX_CLAIM, 60)?;
            self.check()?;
        }
        let stuck: Vec<String> =
            (0..self.m.jobs.len()).filter(|&j| !self.m.jobs[j].status.terminal()).map(|j| self.name(j)).collect();
        Err(format!("jobs never reach a terminal state: {stuck:?}"))
    }

    fn report(&self, step: &str, error: String) -> String {
        format!("{error}\n  at {step}\n  operations so far:\n    {}", self.log.join("\n    "))
    }
}

/// Runs `ops` from a fresh queue, checking the invariants after each, then drains the queue.
/// Returns how often each situation came up.
fn run(ops: &[Op]) -> Result<BTreeMap<String, u64>, String> {
    let mut r = Run::new();
    for (n, op) in ops.iter().enumerate() {
        if let Err(e) = r.step(op).and_then(|()| r.check()) {
            return Err(r.report(&format!("step {n}: {op:?}"), e));
        }
    }
    if let Err(e) = r.check_stats().and_then(|()| r.drain()).and_then(|()| r.check_stats()) {
        return Err(r.report("drain", e));
    }
    if std::env::var_os("MODEL_LOG").is_some() {
        println!("operations:\n    {}", r.log.join("\n    "));
    }
    r.hit("sequences run");
    *r.hits.borrow_mut().entry("operations run (generated)".into()).or_default() += ops.len() as u64;
    Ok(r.hits.into_inner())
}

/// Runs `cases` random sequences of up to 60 operations from `ops` (`PROPTEST_CASES`
/// overrides the count), prints how often each situation came up, and fails with the shrunk
/// sequence and its operation log.
fn check_sequences<S: Strategy<Value = Op>>(name: &str, cases: u32, ops: S) {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    // No regression files in the source tree: failures found are kept as deterministic tests.
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = TestRunner::new(config);
    let figures = RefCell::new(BTreeMap::<String, u64>::new());
    let started = Instant::now();
    let result = runner.run(&prop::collection::vec(ops, 1..=60), |ops| {
        let hits = run(&ops).map_err(TestCaseError::fail)?;
        let mut figures = figures.borrow_mut();
        for (what, n) in hits {
            *figures.entry(what).or_default() += n;
        }
        Ok(())
    });
    let figures = figures.into_inner();
    println!("{name}: {cases} cases in {:.1} s", started.elapsed().as_secs_f64());
    for (what, n) in &figures {
        println!("  {n:>7}  {what}");
    }
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// The general mix of operations.
#[test]
fn random_operation_sequences_agree_with_the_model() {
    check_sequences("random_operation_sequences", 250, op());
}

/// Few jobs, many worker calls and alarms around lease deadlines.
#[test]
fn lease_timing_sequences_agree_with_the_model() {
    check_sequences("lease_timing_sequences", 150, timing_op());
}

// ---------------------------------------------------------------------------------------------
// Deterministic checks of the runner itself, so a broken model cannot pass vacuously.
// ---------------------------------------------------------------------------------------------

fn job(priority: i64, max_retries: u32) -> NewJob {
    NewJob { priority, max_retries: Some(max_retries), key: None, schedule_in_ms: None, expire_in_ms: None }
}

/// A fixed sequence through the main transitions runs clean and reaches what it aims at.
#[test]
fn a_scripted_sequence_runs_clean() {
    let i0 = Pick(0);
    let ops = vec![
        Op::Enqueue(vec![job(0, 1), NewJob { key: Some(1), ..job(1, 0) }]),
        Op::Enqueue(vec![NewJob { key: Some(1), ..job(5, 3) }]),
        Op::Enqueue(vec![NewJob { schedule_in_ms: Some(10 * SEC), ..job(0, 0) }]),
        Op::Claim { limit: 5, lease_secs: 5 },
        Op::Heartbeat { job: i0, lease: LeasePick::Current, lease_secs: Some(20) },
        Op::AdvanceTo { target: Target::LeaseDeadline, job: i0, offset: 0 },
        Op::Complete { job: i0, lease: LeasePick::Current },
        Op::SweepTwice,
        Op::Claim { limit: 5, lease_secs: 30 },
        Op::Fail { job: i0, lease: LeasePick::Current, retry_after_secs: None },
        Op::Fail { job: i0, lease: LeasePick::Stale(i0), retry_after_secs: Some(0) },
        Op::Alarm,
        Op::Claim { limit: 5, lease_secs: 30 },
        Op::Alarm,
        Op::Alarm,
        Op::Replay { job: i0, any: false },
        Op::Claim { limit: 5, lease_secs: 30 },
        Op::Fail { job: i0, lease: LeasePick::Current, retry_after_secs: None },
        Op::ReplayDlq(DlqPick::Oldest(3)),
        Op::Claim { limit: 5, lease_secs: 30 },
        Op::Fail { job: i0, lease: LeasePick::Current, retry_after_secs: None },
        Op::AtLeaseDeadline { job: i0, offset: 0, then: Then::Heartbeat(None) },
        Op::PurgeDlq(DlqPick::Oldest(3)),
        Op::Cancel { job: i0, any: false },
        Op::Advance(200 * SEC),
        Op::Sweep,
    ];
    let hits = run(&ops).unwrap_or_else(|e| panic!("{e}"));
    for expected in [
        "enqueue: duplicate key answered with the existing job",
        "heartbeat: lease extended",
        "complete refused: own lease exactly at its deadline",
        "sweep: expired lease back to pending",
        "sweep twice: second changed nothing",
        "fail: retry after backoff",
        "fail refused: stale lease of the same job",
        "heartbeat refused: own lease exactly at its deadline",
        "sweep: expired lease dead-lettered",
        "replay: dead letter back to pending",
        "dlq replay: dead letter back to pending",
        "dlq purge: dead letter deleted",
        "sweep: promoted a scheduled job",
        "sweep: pruned a finished job",
    ] {
        assert!(hits.contains_key(expected), "the script never reached {expected:?}; it reached {hits:#?}");
    }
}

/// The invariant check catches a database that drifts from the model.
#[test]
fn the_check_notices_a_drifted_database() {
    let mut r = Run::new();
    r.enqueue(&[job(0, 1)]).unwrap();
    r.check().unwrap();
    r.fx.sql.query("UPDATE jobs SET retry_count = 1", &[]).unwrap();
    assert!(r.check().is_err());
}

// ---------------------------------------------------------------------------------------------
// Findings, pinned as deterministic tests.
// ---------------------------------------------------------------------------------------------

/// Regression: a dead letter whose `expires_at` has passed used to be replayed to `pending` and
/// then never claimed (claim skips expired jobs) and cancelled by the next alarm. Replay now
/// clears an elapsed `expires_at` (docs/DECISIONS.md).
#[test]
fn a_replayed_dead_letter_past_its_expires_at_runs_again() {
    let mut fx = Fixture::new();
    let id = fx.add(spec("{}").with_retries(0).expiring_at(T0 + 10 * SEC), T0);
    let job = fx.claim_one(T0);
    fx.fail(&job, T0 + SEC).expect("fail");
    assert_eq!(fx.status(&id), "deadletter");

    let later = T0 + 20 * SEC;
    fx.q().replay(&id, later).expect("replay");
    assert_eq!(fx.status(&id), "pending");
    assert_eq!(fx.claim_ids(1, later), vec![id.clone()], "the replayed job cannot be claimed");
    fx.q().sweep(later).expect("sweep");
    assert_ne!(fx.status(&id), "cancelled", "the alarm cancelled the replayed job");
}
