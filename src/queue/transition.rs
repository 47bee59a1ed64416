//! The job state machine: every transition a job can make, as data, and the one place where
//! the statements that apply them are built. No other module writes a job's `status`.
//!
//! A [`Transition`]'s [`Rule`] says which states it leaves, the state it enters, which columns
//! it sets (as SQL expressions over named inputs such as `:now`), and which events it emits.
//! [`Transition::statement`] turns a rule and a [`Target`] (which rows, and where each input
//! comes from) into one `UPDATE` guarded on the from-states, so a job that moved on is never
//! changed by a stale decision. See docs/ARCHITECTURE.md for the diagram.

use crate::model::{EventKind, JobStatus};

/// A change of a job's state (or, for [`Transition::Heartbeat`] and
/// [`Transition::Reprioritize`], of what its state carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    /// A new job that may run now is stored `pending`.
    Enqueue,
    /// A new job that starts later is stored `scheduled`.
    Schedule,
    /// A scheduled job came due.
    Promote,
    /// A worker leases the job: an attempt begins.
    Claim,
    /// The worker holding the lease finished the job.
    Complete,
    /// A failed attempt (explicit fail or expired lease) with retries left: back to `pending`.
    Retry,
    /// A failed attempt with no retries left.
    DeadLetter,
    /// The worker holding the lease left cleanly: back to `pending`, no attempt counted.
    Release,
    /// Cancelled before it ran.
    Cancel,
    /// Reached `expires_at` while waiting to run.
    Expire,
    /// A dead letter is given a fresh set of attempts.
    Replay,
    /// The lease holder extends its lease.
    Heartbeat,
    /// A waiting job's priority changes.
    Reprioritize,
}

/// What a transition does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The states it may leave; empty for the transitions that store a new job.
    pub from: &'static [JobStatus],
    /// The state it enters; `None` leaves the state as it is.
    pub to: Option<JobStatus>,
    /// Columns it sets besides `status` and `updated_at` (which every transition sets to
    /// `:now`), each with its SQL expression over named inputs.
    pub sets: &'static [(&'static str, &'static str)],
    /// The events it emits, in order.
    pub events: &'static [EventKind],
}

/// Which rows a transition statement acts on, and how its named inputs are bound.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// An `INDEXED BY` hint (SQLite has no statistics here and may otherwise pick a worse index).
    pub index: Option<&'static str>,
    /// An extra `FROM` source, e.g. `json_each(?1) AS acked` for a batch.
    pub from: Option<&'static str>,
    /// The condition besides the from-state guard; may use named inputs.
    pub rows: &'a str,
    /// The `RETURNING` columns (qualified with `jobs.` when `from` is set), or "" for none.
    pub returning: &'static str,
    /// Each named input the rule and `rows` use, with the SQL that supplies it (`?N`, a column
    /// expression, or a literal).
    pub inputs: &'a [(&'a str, &'a str)],
}

use JobStatus::*;

const CLEARED_LEASE: [(&str, &str); 3] = [("worker_id", "NULL"), ("lease_id", "NULL"), ("lease_expires_at", "NULL")];

/// The live-lease rule of [`Fence::check`](crate::model::lease::Fence::check) as SQL: the lease
/// ends strictly at `lease_expires_at`, and it is fenced by `:lease_id`, or when that is NULL by
/// `:worker_id`. Used with the `processing` guard of the fenced transitions.
pub const LIVE_LEASE: &str = "jobs.lease_expires_at > :now AND CASE WHEN :lease_id IS NULL \
    THEN jobs.worker_id = :worker_id ELSE jobs.lease_id = :lease_id END";

impl Transition {
    /// Every transition.
    pub const ALL: [Transition; 13] = [
        Transition::Enqueue,
        Transition::Schedule,
        Transition::Promote,
        Transition::Claim,
        Transition::Complete,
        Transition::Retry,
        Transition::DeadLetter,
        Transition::Release,
        Transition::Cancel,
        Transition::Expire,
        Transition::Replay,
        Transition::Heartbeat,
        Transition::Reprioritize,
    ];

    /// The transition's rule.
    pub const fn rule(self) -> Rule {
        const fn rule(
            from: &'static [JobStatus],
            to: Option<JobStatus>,
            sets: &'static [(&'static str, &'static str)],
            events: &'static [EventKind],
        ) -> Rule {
            Rule { from, to, sets, events }
        }
        const FAILED_ATTEMPT: [(&str, &str); 5] = [
            ("retry_count", ":retry_count"),
            ("last_error", ":error"),
            CLEARED_LEASE[0],
            CLEARED_LEASE[1],
            CLEARED_LEASE[2],
        ];
        const RETRY: [(&str, &str); 6] = [
            FAILED_ATTEMPT[0],
            FAILED_ATTEMPT[1],
            ("scheduled_at", "coalesce(:retry_at, scheduled_at)"),
            CLEARED_LEASE[0],
            CLEARED_LEASE[1],
            CLEARED_LEASE[2],
        ];
        match self {
            Transition::Enqueue => rule(&[], Some(Pending), &[], &[EventKind::JobCreated]),
            Transition::Schedule => rule(&[], Some(Scheduled), &[], &[EventKind::JobCreated]),
            Transition::Promote => rule(&[Scheduled], Some(Pending), &[], &[]),
            Transition::Claim => rule(
                &[Pending],
                Some(Processing),
                &[
                    ("worker_id", ":worker_id"),
                    // A fresh random lease id per job, made by SQLite in the same statement.
                    ("lease_id", "lower(hex(randomblob(16)))"),
                    ("lease_secs", ":lease_secs"),
                    ("lease_expires_at", ":lease_expires_at"),
                    ("started_at", ":now"),
                ],
                &[EventKind::JobStarted],
            ),
            Transition::Complete => rule(
                &[Processing],
                Some(Completed),
                // The last lease id stays, so a repeated complete under it is recognised.
                &[("result", ":result"), ("completed_at", ":now"), ("lease_expires_at", "NULL")],
                &[EventKind::JobCompleted],
            ),
            Transition::Retry => rule(&[Processing], Some(Pending), &RETRY, &[EventKind::JobRetried]),
            Transition::DeadLetter => rule(
                &[Processing],
                Some(Deadletter),
                &FAILED_ATTEMPT,
                &[EventKind::JobFailed, EventKind::JobDeadlettered],
            ),
            Transition::Release => rule(&[Processing], Some(Pending), &CLEARED_LEASE, &[EventKind::JobRetried]),
            Transition::Cancel => {
                rule(&[Pending, Scheduled], Some(Cancelled), &[("completed_at", ":now")], &[EventKind::JobCancelled])
            }
            Transition::Expire => rule(
                &[Pending, Scheduled],
                Some(Cancelled),
                &[("completed_at", ":now"), ("last_error", ":error")],
                &[EventKind::JobCancelled],
            ),
            Transition::Replay => rule(
                // `failed` is a compatibility status nothing produces; replay accepts it.
                &[Deadletter, Failed],
                Some(Pending),
                &[
                    ("retry_count", "0"),
                    ("last_error", "NULL"),
                    ("scheduled_at", "NULL"),
                    ("completed_at", "NULL"),
                    // Replaying is a decision to run the job again, which an elapsed expiry
                    // would silently defeat.
                    ("expires_at", "CASE WHEN expires_at <= :now THEN NULL ELSE expires_at END"),
                ],
                &[EventKind::JobRetried],
            ),
            Transition::Heartbeat => rule(&[Processing], None, &[("lease_expires_at", ":lease_expires_at")], &[]),
            Transition::Reprioritize => rule(&[Pending, Scheduled], None, &[("priority", ":priority")], &[]),
        }
    }

    /// Whether a job in `status` may take this transition.
    pub fn allows(self, status: JobStatus) -> bool {
        self.rule().from.contains(&status)
    }

    /// The transition that stores a new job: `scheduled` when it starts later.
    pub fn for_new_job(starts_later: bool) -> Transition {
        if starts_later {
            Transition::Schedule
        } else {
            Transition::Enqueue
        }
    }

    /// The state a new job is stored in (only for [`Transition::Enqueue`] and
    /// [`Transition::Schedule`], whose rules always name one).
    pub fn new_job_status(self) -> JobStatus {
        self.rule().to.unwrap_or(Pending)
    }

    /// The `UPDATE` that applies this transition to the rows of `target`: it sets `status`
    /// (when the rule changes it), `updated_at = :now` and the rule's columns, and only
    /// touches rows in one of the rule's from-states. Built once per call site (keep the
    /// result in a `LazyLock`).
    pub fn statement(self, target: &Target<'_>) -> String {
        let rule = self.rule();
        let mut sets: Vec<String> = Vec::with_capacity(rule.sets.len() + 2);
        if let Some(to) = rule.to {
            sets.push(format!("status = '{to}'"));
        }
        sets.extend(rule.sets.iter().map(|(column, value)| format!("{column} = {value}")));
        sets.push("updated_at = :now".to_owned());
        let guard = match rule.from {
            [one] => format!("jobs.status = '{one}'"),
            many => {
                let names: Vec<String> = many.iter().map(|s| format!("'{s}'")).collect();
                format!("jobs.status IN ({})", names.join(", "))
            }
        };
        let mut sql = format!(
            "UPDATE jobs{} SET {}{} WHERE {guard} AND ({})",
            target.index.map(|i| format!(" INDEXED BY {i}")).unwrap_or_default(),
            sets.join(", "),
            target.from.map(|f| format!(" FROM {f}")).unwrap_or_default(),
            target.rows,
        );
        if !target.returning.is_empty() {
            sql.push_str(" RETURNING ");
            sql.push_str(target.returning);
        }
        bind_inputs(&sql, target.inputs)
    }
}

/// Replaces every named input (`:name`, the whole identifier, so `:retry_count` is never
/// mistaken for a shorter name it starts with) with its SQL. An input left unbound is a bug
/// the native tests catch (SQLite refuses named parameters that were never bound here).
fn bind_inputs(sql: &str, inputs: &[(&str, &str)]) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(colon) = rest.find(':') {
        out.push_str(&rest[..colon]);
        let end = rest[colon + 1..].find(|c| !is_name(c)).map_or(rest.len(), |n| colon + 1 + n);
        let name = &rest[colon..end];
        out.push_str(inputs.iter().find(|(n, _)| *n == name).map_or(name, |(_, value)| value));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_changing_transition_names_its_states() {
        for t in Transition::ALL {
            let rule = t.rule();
            let stores_new = matches!(t, Transition::Enqueue | Transition::Schedule);
            assert_eq!(rule.from.is_empty(), stores_new, "{t:?}");
            if let Some(to) = rule.to {
                assert!(!rule.from.contains(&to), "{t:?} must change the state it names");
            }
        }
    }

    #[test]
    fn statements_are_guarded_and_bound() {
        let target = Target {
            index: None,
            from: None,
            rows: "id = :id",
            returning: "seq",
            inputs: &[(":now", "?1"), (":id", "?2"), (":priority", "?3")],
        };
        assert_eq!(
            Transition::Reprioritize.statement(&target),
            "UPDATE jobs SET priority = ?3, updated_at = ?1 WHERE jobs.status IN ('pending', 'scheduled') \
             AND (id = ?2) RETURNING seq"
        );
    }
}
