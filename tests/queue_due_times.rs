//! `DueTimes`: after each command the queue actor keeps its alarm early enough from what the
//! command reports, and recomputes the earliest due time from storage only when the command
//! cannot say. This property runs random command sequences through `protocol::execute`, keeps
//! an alarm with the very rules the actor's `AlarmSlot` applies (`rearm`, `alarm_covers`),
//! fires it when the clock reaches it, and checks after every step that the alarm is never
//! later than the earliest due time in storage.

mod common;
mod support;
use common::*;
use edgespool::model::lease::Fence;
use edgespool::queue::ack::{AckItem, FailItem};
use edgespool::queue::lease::ClaimRequest;
use edgespool::queue::maintenance::{alarm_covers, rearm, DueTimes, Rearm};
use edgespool::queue::protocol::{execute, QueueCommand, QueueReply};
use edgespool::queue::QueueSettings;
use proptest::prelude::*;
use support::*;

#[derive(Clone, Debug)]
enum Op {
    Enqueue { start_in_secs: Option<u8>, expire_in_secs: Option<u8> },
    Claim { limit: u32, lease_secs: Option<u32> },
    Complete(usize),
    Fail { lease: usize, retry_after_secs: Option<u32> },
    Heartbeat { lease: usize, lease_secs: Option<u32> },
    Cancel(usize),
    Ack { leases: usize, fail_one: bool },
    Advance { secs: u16 },
}

fn op() -> impl Strategy<Value = Op> {
    let secs = proptest::option::of(1u8..90);
    prop_oneof![
        3 => (secs.clone(), secs).prop_map(|(s, e)| Op::Enqueue { start_in_secs: s, expire_in_secs: e }),
        2 => (1u32..4, proptest::option::of(1u32..60)).prop_map(|(limit, lease_secs)| Op::Claim { limit, lease_secs }),
        1 => any::<usize>().prop_map(Op::Complete),
        1 => (any::<usize>(), proptest::option::of(0u32..30)).prop_map(|(lease, r)| Op::Fail { lease, retry_after_secs: r }),
        1 => (any::<usize>(), proptest::option::of(1u32..60)).prop_map(|(lease, s)| Op::Heartbeat { lease, lease_secs: s }),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => (1usize..4, any::<bool>()).prop_map(|(leases, fail_one)| Op::Ack { leases, fail_one }),
        3 => (0u16..120).prop_map(|secs| Op::Advance { secs }),
    ]
}

/// One queue, its clock, the jobs and leases handed out, and the alarm as `AlarmSlot` keeps it.
struct Run {
    fx: Fixture,
    now: i64,
    jobs: Vec<String>,
    leases: Vec<(String, String)>,
    /// `None` until known; then the alarm's time, or `Some(None)` for none.
    alarm: Option<Option<i64>>,
}

impl Run {
    fn wake(&self) -> Option<i64> {
        self.fx.q().next_wake(self.now).expect("next_wake")
    }

    /// As `AlarmSlot::arm`: keep an alarm that covers `wake`, else set it to `wake`.
    fn arm(&mut self, wake: Option<i64>) {
        if !alarm_covers(self.alarm, wake) {
            self.alarm = Some(wake);
        }
    }

    /// Executes `command` and re-arms as the queue actor does.
    fn execute(&mut self, command: QueueCommand) -> Option<QueueReply> {
        let q = queue(&self.fx.sql, &self.fx.settings);
        let executed = execute(&q, command, self.now, &mut self.fx.entropy).ok()?;
        // Every command this test sends writes; the actor applies the same rule.
        match rearm(executed.due, true, self.alarm.is_some()) {
            Rearm::Keep => {}
            Rearm::NoLaterThan(due) => self.arm(Some(due)),
            Rearm::Recompute => self.arm(self.wake()),
        }
        Some(executed.reply)
    }

    fn lease(&self, i: usize) -> Option<(String, String)> {
        (!self.leases.is_empty()).then(|| self.leases[i % self.leases.len()].clone())
    }

    fn step(&mut self, op: &Op) {
        let fence = |lease_id: &str| Fence { lease_id: Some(lease_id.to_owned()), worker_id: None };
        match op {
            Op::Enqueue { start_in_secs, expire_in_secs } => {
                let mut job = spec("{}");
                job.scheduled_at = start_in_secs.map(|s| self.now + i64::from(s) * SEC);
                job.expires_at = expire_in_secs.map(|s| self.now + i64::from(s) * SEC);
                if let Some(QueueReply::Enqueued(job)) = self.execute(QueueCommand::Enqueue { job }) {
                    self.jobs.push(job.id);
                }
            }
            Op::Claim { limit, lease_secs } => {
                let request = ClaimRequest { limit: *limit, lease_secs: *lease_secs, ..claim_request(1) };
                if let Some(QueueReply::Claimed(jobs)) = self.execute(QueueCommand::Claim(request)) {
                    self.leases.extend(jobs.into_iter().map(|job| (job.id, job.lease_id)));
                }
            }
            Op::Complete(i) => {
                if let Some((id, lease)) = self.lease(*i) {
                    self.execute(QueueCommand::Complete { id, fence: fence(&lease), result: None });
                }
            }
            Op::Fail { lease, retry_after_secs } => {
                if let Some((id, lease)) = self.lease(*lease) {
                    let error = "boom".to_owned();
                    self.execute(QueueCommand::Fail {
                        id,
                        fence: fence(&lease),
                        error,
                        retry_after_secs: *retry_after_secs,
                    });
                }
            }
            Op::Heartbeat { lease, lease_secs } => {
                if let Some((id, lease)) = self.lease(*lease) {
                    self.execute(QueueCommand::Heartbeat { id, fence: fence(&lease), lease_secs: *lease_secs });
                }
            }
            Op::Cancel(i) => {
                if !self.jobs.is_empty() {
                    let id = self.jobs[i % self.jobs.len()].clone();
                    self.execute(QueueCommand::Cancel { id });
                }
            }
            Op::Ack { leases, fail_one } => {
                let picked: Vec<_> = self.leases.iter().rev().take(*leases).cloned().collect();
                let (failed, acked) = picked.split_at(usize::from(*fail_one).min(picked.len()));
                let acks =
                    acked.iter().map(|(id, lease)| AckItem { id: id.clone(), lease_id: lease.clone(), result: None });
                let fails = failed.iter().map(|(id, lease)| FailItem {
                    id: id.clone(),
                    lease_id: lease.clone(),
                    error: "boom".into(),
                    retry_after_secs: None,
                });
                self.execute(QueueCommand::Ack { acks: acks.collect(), fails: fails.collect() });
            }
            Op::Advance { secs } => {
                self.now += i64::from(*secs) * SEC;
                // The alarm fires once the clock reaches it: a sweep, then the next due time.
                if self.alarm.flatten().is_some_and(|at| at <= self.now) {
                    self.fx.q().sweep(self.now).expect("sweep");
                    self.alarm = Some(self.wake());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_alarm_is_never_later_than_the_earliest_due_time(ops in proptest::collection::vec(op(), 1..60)) {
        let settings = QueueSettings { retention_ms: 10 * SEC, ..QueueSettings::default() };
        let mut run = Run { fx: Fixture::with_settings(settings), now: T0, jobs: vec![], leases: vec![], alarm: None };
        for (n, op) in ops.iter().enumerate() {
            run.step(op);
            if let Some(due) = run.wake() {
                let alarm = run.alarm.flatten();
                prop_assert!(
                    alarm.is_some_and(|at| at <= due),
                    "after step {n} ({op:?}) at {}: alarm {alarm:?}, earliest due {due}", run.now
                );
            }
        }
    }
}

#[test]
fn new_jobs_are_due_at_their_start_or_expiry_whichever_is_first() {
    let at = |start: Option<i64>, expire: Option<i64>| {
        let mut job = spec("{}");
        (job.scheduled_at, job.expires_at) = (start, expire);
        job
    };
    let due = |jobs: &[edgespool::model::JobSpec]| DueTimes::of_new_jobs(jobs, T0);
    assert_eq!(due(&[at(None, None)]), DueTimes::Unchanged);
    assert_eq!(due(&[at(Some(T0), None)]), DueTimes::Unchanged, "a start not in the future is not due");
    assert_eq!(due(&[at(Some(T0 + 5 * SEC), None), at(None, Some(T0 + 3 * SEC))]), DueTimes::Added(T0 + 3 * SEC));
    assert_eq!(due(&[at(Some(T0 + 5 * SEC), Some(T0 + 9 * SEC))]), DueTimes::Added(T0 + 5 * SEC));
}
