//! What must hold after every step: the database agrees with the model, and the queue's
//! own invariants (leases, claim order, statistics) hold; and the final drain.

use super::*;

impl Run {
    pub(crate) fn read_jobs(&self) -> Result<Vec<DbJob>, String> {
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
    pub(crate) fn claimable_ids(&self) -> Result<Vec<String>, String> {
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

    /// Each job's last event kind, by job id.
    fn last_events(&self) -> Result<std::collections::HashMap<String, String>, String> {
        let rows = db(
            "read events",
            self.fx.sql.query(
                "SELECT job_id, kind FROM events WHERE seq IN \
                 (SELECT max(seq) FROM events WHERE job_id IS NOT NULL GROUP BY job_id)",
                &[],
            ),
        )?;
        rows.iter()
            .map(|r| Ok((r.text(0)?.to_owned(), r.text(1)?.to_owned())))
            .collect::<Result<_, ApiError>>()
            .map_err(|e| format!("read events: {}", e.message))
    }

    pub(crate) fn check(&self) -> Check {
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
        let last_events = self.last_events()?;
        for (d, &(j, m)) in stored.iter().zip(&live) {
            let who = format!("{} {}", self.name(j), d.id);
            // The job's last event names the state it is in (a promotion emits none).
            let last = last_events.get(&d.id).map(String::as_str);
            let states: &[&str] = match last {
                Some("job.created") => &["pending", "scheduled"],
                Some("job.started") => &["processing"],
                Some("job.completed") => &["completed"],
                Some("job.retried") => &["pending"],
                Some("job.deadlettered") => &["deadletter"],
                Some("job.cancelled") => &["cancelled"],
                _ => &[],
            };
            ensure!(states.contains(&d.status.as_str()), "{who}: last event {last:?} in status {}", d.status);
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
    pub(crate) fn check_stats(&self) -> Check {
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
    pub(crate) fn drain(&mut self) -> Check {
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
}
