//! The runner's worker calls: enqueue, claim, complete, fail and heartbeat, each applied to
//! the queue and to the model.

use super::*;

impl Run {
    pub(crate) fn enqueue(&mut self, jobs: &[NewJob]) -> Check {
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

    pub(crate) fn claim(&mut self, limit: u32, lease_secs: u32) -> Check {
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

    pub(crate) fn complete(&mut self, j: usize, lease_id: &str) -> Check {
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

    pub(crate) fn fail(&mut self, j: usize, lease_id: &str, retry_after_secs: Option<u32>) -> Check {
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

    pub(crate) fn heartbeat(&mut self, j: usize, lease_id: &str, lease_secs: Option<u32>) -> Check {
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
}
