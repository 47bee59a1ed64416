//! The runner's clock: alarm sweeps (once, twice, late, on time) and clock advances,
//! including landing exactly on lease deadlines.

use super::*;

impl Run {
    pub(crate) fn at_lease_deadline(&mut self, job: &Pick, offset: i64, then: &Then) -> Check {
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

    pub(crate) fn sweep(&mut self) -> Check {
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

    pub(crate) fn sweep_twice(&mut self) -> Check {
        self.sweep()?;
        let before = self.dump();
        self.note("sweep again (same instant)".into());
        let again = db("second sweep", self.fx.q().sweep(self.m.now))?;
        ensure!(again == SweepReport::default(), "second sweep at the same instant reported {again:?}");
        ensure!(self.dump() == before, "second sweep at the same instant changed the database");
        self.hit("sweep twice: second changed nothing");
        Ok(())
    }

    pub(crate) fn set_clock(&mut self, to: EpochMs) {
        if to > self.m.now {
            self.m.now = to;
        }
    }

    pub(crate) fn alarm(&mut self) -> Check {
        if let Some(t) = self.m.next_deadline() {
            self.set_clock(t);
        }
        self.note("alarm on time".into());
        self.sweep()
    }

    pub(crate) fn advance_to(&mut self, target: &Target, pick: &Pick, offset: i64) -> Check {
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
}
