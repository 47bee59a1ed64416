//! The operations a generated sequence is made of, and their strategies.

use super::*;

// ---------------------------------------------------------------------------------------------
// Operations.
// ---------------------------------------------------------------------------------------------

/// One job of an enqueue call.
#[derive(Clone, Debug)]
pub(crate) struct NewJob {
    pub(crate) priority: i64,
    /// `None`: the queue default (3).
    pub(crate) max_retries: Option<u32>,
    /// From a pool of 4 keys, so duplicates happen.
    pub(crate) key: Option<u8>,
    /// `scheduled_at` relative to now (may be in the past or exactly now).
    pub(crate) schedule_in_ms: Option<i64>,
    /// `expires_at` relative to now: a job not run by then is cancelled by the alarm.
    pub(crate) expire_in_ms: Option<i64>,
}

/// Which lease id a worker operation presents.
#[derive(Clone, Debug)]
pub(crate) enum LeasePick {
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
pub(crate) enum Target {
    /// A processing job's lease deadline.
    LeaseDeadline,
    /// A scheduled job's due time or a retry-delayed job's retry time.
    ReadyTime,
}

#[derive(Clone, Debug)]
pub(crate) enum DlqPick {
    Oldest(u32),
    Ids(Vec<Pick>),
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
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
pub(crate) enum Then {
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
pub(crate) struct Pick(pub(crate) u16);

impl Pick {
    pub(crate) fn index(&self, len: usize) -> usize {
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
pub(crate) fn op() -> impl Strategy<Value = Op> {
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
pub(crate) fn timing_op() -> impl Strategy<Value = Op> {
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
