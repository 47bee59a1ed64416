//! Model-based tests of one queue: proptest generates random sequences of
//! enqueue / claim / complete / fail / heartbeat / cancel / replay / DLQ replay and purge / alarm
//! sweeps (once, twice, late, on time, never) / clock advances (including landing exactly on
//! lease deadlines), runs them against the real queue over rusqlite, and replays them on a small
//! reference model that encodes the job model (docs/ARCHITECTURE.md) and docs/DECISIONS.md on its
//! own, taking only which states allow which operation from the state machine's table
//! (`queue::transition`). After every step the
//! database must agree with the model and the invariants of [`Run::check`] must hold; at the end
//! of every case the queue is drained (alarm on time, claim, complete) and every job must reach a
//! terminal state.
//!
//! The model never asks the code under test what to expect; it only reads back the ids and lease
//! ids the queue hands out. A failure prints the shrunk sequence and its resolved operation log.
//! Each property prints how often each situation came up (`-- --nocapture` shows it);
//! `PROPTEST_CASES=n` runs more cases, `MODEL_LOG=1` prints the log of every passing case.

#[path = "../common/mod.rs"]
mod common;
/// Returns an error (a failed check) with a message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}

mod invariants;
mod manage_ops;
mod model;
mod ops;
mod runner;
#[path = "../support/mod.rs"]
mod support;
mod time_ops;
mod worker_ops;

use model::*;
use ops::*;
use runner::*;

use common::*;
use edgespool::api::views::JobStatsView;
use edgespool::model::{ApiError, EpochMs, ErrorKind, JobSpec, JobStatus, RetryPolicy};
use edgespool::queue::lease::{ClaimRequest, CLAIMABLE_SEQS};
use edgespool::queue::maintenance::SweepReport;
use edgespool::queue::manage::DeadLetterSelection;
use edgespool::queue::transition::Transition;
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
pub(crate) const RETENTION_MS: EpochMs = 180 * SEC;
/// Backoff: first delay 1 s, doubling, capped at 5 s so the cap is reached within max_retries 3.
pub(crate) const BACKOFF_BASE_MS: EpochMs = SEC;
pub(crate) const BACKOFF_CAP_MS: EpochMs = 5 * SEC;
/// The test entropy's fixed jitter fraction: half of the allowed 10 %, i.e. +5 %.
pub(crate) const JITTER: f64 = 0.5;
/// `max_retries` of a job that does not set one (docs/ARCHITECTURE.md).
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 3;
/// Claim requests may ask for at most this many jobs.
pub(crate) const MAX_CLAIM: u32 = 100;
/// Most jobs the queue stores; past it enqueue is refused with `QUEUE_FULL` (duplicates too).
pub(crate) const MAX_JOBS: u32 = 12;

pub(crate) fn settings() -> QueueSettings {
    QueueSettings {
        retention_ms: RETENTION_MS,
        retry: RetryPolicy { base_ms: BACKOFF_BASE_MS, cap_ms: BACKOFF_CAP_MS },
        max_jobs: MAX_JOBS,
        ..QueueSettings::default()
    }
}

/// The retry delay after a failed attempt, by the job model (docs/ARCHITECTURE.md):
/// `min(base * 2^retry_count, cap)` plus the jitter share of 10 % (`retry_count` before this
/// failure is counted).
pub(crate) fn backoff_ms(retry_count_before: u32) -> EpochMs {
    let exponential = (BACKOFF_BASE_MS << retry_count_before.min(20)).min(BACKOFF_CAP_MS);
    exponential + exponential / 20 // JITTER (0.5) of 10 %
}

pub(crate) fn key_name(k: u8) -> String {
    format!("key-{k}")
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
