//! The runner's management calls: cancel, replay, and dead-letter replay and purge.

use super::*;

impl Run {
    pub(crate) fn cancel(&mut self, j: usize) -> Check {
        let now = self.m.now;
        let what = format!("cancel {}", self.name(j));
        self.note(what.clone());
        let before = self.dump();
        let result = self.fx.q().cancel(&self.m.jobs[j].id, now);
        match self.m.jobs[j].status {
            St::Deleted => self.rejected(&what, result, ErrorKind::NotFound, &before),
            status if status.allows(Transition::Cancel) => {
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
    pub(crate) fn replayed(&mut self, j: usize) {
        let now = self.m.now;
        let job = &mut self.m.jobs[j];
        job.expires_at = job.expires_at.filter(|at| *at > now);
        job.status = St::Pending;
        job.retry_count = 0;
        job.scheduled_at = None;
        job.completed_at = None;
        job.replayed = true;
    }

    pub(crate) fn replay(&mut self, j: usize) -> Check {
        let now = self.m.now;
        let what = format!("replay {}", self.name(j));
        self.note(what.clone());
        let before = self.dump();
        let result = self.fx.q().replay(&self.m.jobs[j].id, now);
        match self.m.jobs[j].status {
            St::Deleted => self.rejected(&what, result, ErrorKind::NotFound, &before),
            status if status.allows(Transition::Replay) => {
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
    pub(crate) fn dlq_selection(&self, pick: &DlqPick) -> (DeadLetterSelection, Vec<usize>, String) {
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

    pub(crate) fn replay_dlq(&mut self, pick: &DlqPick) -> Check {
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

    pub(crate) fn purge_dlq(&mut self, pick: &DlqPick) -> Check {
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
}
