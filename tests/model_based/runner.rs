//! The runner: applies each operation to the queue and the model, then checks invariants
//! (the operations themselves: `worker_ops`, `manage_ops`, `time_ops`; the checks: `invariants`).

use super::*;

pub(crate) type Check = Result<(), String>;

/// One stored job, as the invariant check reads it.
#[derive(Debug)]
pub(crate) struct DbJob {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) retry_count: i64,
    pub(crate) max_retries: i64,
    pub(crate) lease_id: Option<String>,
    pub(crate) lease_expires_at: Option<EpochMs>,
    pub(crate) scheduled_at: Option<EpochMs>,
    pub(crate) priority: i64,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) completed_at: Option<EpochMs>,
    pub(crate) expires_at: Option<EpochMs>,
}

pub(crate) const DB_JOBS: &str =
    "SELECT id, status, retry_count, max_retries, lease_id, lease_expires_at, scheduled_at, \
    priority, idempotency_key, completed_at, expires_at FROM jobs ORDER BY seq";

pub(crate) struct Run {
    pub(crate) fx: Fixture,
    pub(crate) m: Model,
    pub(crate) log: Vec<String>,
    /// How often each interesting situation came up (printed as the test's figures).
    pub(crate) hits: RefCell<BTreeMap<String, u64>>,
}

pub(crate) fn db<T>(what: &str, result: Result<T, ApiError>) -> Result<T, String> {
    result.map_err(|e| format!("{what}: unexpected error {:?}: {}", e.kind, e.message))
}

impl Run {
    pub(crate) fn new() -> Run {
        let mut fx = Fixture::with_settings(settings());
        fx.entropy.jitter = JITTER;
        // Every event is written, so each job's events can be checked against its state.
        fx.subscribe("model", &edgespool::model::EventKind::ALL);
        Run {
            fx,
            m: Model { now: T0, jobs: Vec::new(), issued: Vec::new() },
            log: Vec::new(),
            hits: RefCell::default(),
        }
    }

    pub(crate) fn note(&mut self, text: String) {
        let t = self.m.now - T0;
        self.log.push(format!("t={}.{:03}s {text}", t / SEC, t % SEC));
    }

    pub(crate) fn hit(&self, what: impl Into<String>) {
        *self.hits.borrow_mut().entry(what.into()).or_default() += 1;
    }

    /// Why the model refuses a worker operation on job `j` with `lease_id`.
    pub(crate) fn refusal(&self, j: usize, lease_id: &str) -> &'static str {
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

    pub(crate) fn dump(&self) -> Vec<Row> {
        self.fx.dump()
    }

    pub(crate) fn name(&self, j: usize) -> String {
        let job = &self.m.jobs[j];
        format!("#{j}({})", job.status.name())
    }

    /// The lease label in the log: which job it was issued for, or "bogus".
    pub(crate) fn lease_label(&self, lease_id: &str) -> String {
        match self.m.issued.iter().position(|(_, l)| l == lease_id) {
            Some(n) => format!("L{n}(of #{})", self.m.issued[n].0),
            None => "bogus".into(),
        }
    }

    /// A rejected operation must fail with `kind` and change nothing.
    pub(crate) fn rejected<T: Debug>(
        &self,
        what: &str,
        result: Result<T, ApiError>,
        kind: ErrorKind,
        before: &[Row],
    ) -> Check {
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
    pub(crate) fn live_only<T: Debug>(
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

    /// Picks the target job of a worker operation and the lease id it presents.
    pub(crate) fn resolve_lease(&self, job: &Pick, pick: &LeasePick) -> Option<(usize, String)> {
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
    pub(crate) fn pick_job(&self, job: &Pick, any: bool, preferred: impl Fn(&MJob) -> bool) -> Option<usize> {
        let candidates = self.m.indices(preferred);
        if !any && !candidates.is_empty() {
            Some(candidates[job.index(candidates.len())])
        } else if self.m.jobs.is_empty() {
            None
        } else {
            Some(job.index(self.m.jobs.len()))
        }
    }

    pub(crate) fn step(&mut self, op: &Op) -> Check {
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

    pub(crate) fn report(&self, step: &str, error: String) -> String {
        format!("{error}\n  at {step}\n  operations so far:\n    {}", self.log.join("\n    "))
    }
}

/// Runs `ops` from a fresh queue, checking the invariants after each, then drains the queue.
/// Returns how often each situation came up.
pub(crate) fn run(ops: &[Op]) -> Result<BTreeMap<String, u64>, String> {
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
pub(crate) fn check_sequences<S: Strategy<Value = Op>>(name: &str, cases: u32, ops: S) {
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
pub(crate) fn random_operation_sequences_agree_with_the_model() {
    check_sequences("random_operation_sequences", 250, op());
}

/// Few jobs, many worker calls and alarms around lease deadlines.
#[test]
pub(crate) fn lease_timing_sequences_agree_with_the_model() {
    check_sequences("lease_timing_sequences", 150, timing_op());
}
