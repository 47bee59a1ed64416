//! `QueueActor`: one Durable Object per (tenant, queue). It runs each queue command inside a
//! synchronous transaction, keeps its one alarm set to the earliest time a job needs it, and
//! holds long-polling claims until a job is claimable or their wait ends.

use super::alarm::AlarmSlot;
use super::client::{call_delivery, call_tenant};
use super::storage::{transaction, ActorSql};
use crate::delivery::protocol::DeliveryCommand;
use crate::delivery::WEBHOOK_CONSUMER;
use crate::model::time::SECOND_MS;
use crate::model::wire::from_json;
use crate::model::{ApiError, EpochMs, ErrorKind, OsEntropy};
use crate::queue::events::MAX_EVENT_PAGE;
use crate::queue::identity::{self, QueueIdentity};
use crate::queue::maintenance::{rearm, Rearm};
use crate::queue::protocol::{execute, QueueCommand, QueueEnvelope, QueueReply};
use crate::queue::throttle::ClaimThrottle;
use crate::queue::{config, events, schema, Queue, QueueSettings};
use crate::tenant::protocol::{TenantCommand, TenantReply};
use futures::channel::oneshot;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use worker::{durable_object, Delay, DurableObject, Env, Request, Response, Result, State};

/// The Durable Object that owns one queue's jobs.
#[durable_object(alarm)]
pub struct QueueActor {
    state: State,
    env: Env,
    sql: ActorSql,
    /// The queue's settings, reloaded whenever a command changes them.
    settings: RefCell<QueueSettings>,
    /// Whether the schema and settings loaded; an actor whose storage failed answers every
    /// request with that error instead of panicking.
    ready: std::result::Result<(), ApiError>,
    /// Whether the queue's tables exist. Only a command that gives the queue a job or a
    /// setting makes them; without them every other command answers as a missing queue
    /// ([`QueueCommand::answer_for_missing_queue`]), writing nothing.
    migrated: Cell<bool>,
    alarm: AlarmSlot,
    /// Whether this instance has recorded the queue in its tenant's catalog and stored its
    /// identity (both idempotent, so once per instance is enough).
    registered: Cell<bool>,
    /// Which tenant and queue this actor is: read from storage at start, learnt from the first
    /// command otherwise; the alarm names the queue with it.
    identity: RefCell<Option<QueueIdentity>>,
    /// Claims waiting for a job (long polling); each is woken to try again.
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
    /// The claim rate limit's tokens (when the queue has a `rate_limit`).
    throttle: RefCell<ClaimThrottle>,
    /// Whether anybody reads the event outbox: only then is it drained after writes.
    has_consumers: Cell<bool>,
    /// Whether a drain of the outbox is running (one at a time, so events leave in order).
    draining: Rc<Cell<bool>>,
    /// Test-only fault injection (`FAULT_ALARM=once`): the next alarm fails after doing its
    /// work, to show the rollback and the runtime's retry leave the queue consistent.
    #[cfg(feature = "bench")]
    alarm_fault: Cell<bool>,
}

impl DurableObject for QueueActor {
    fn new(state: State, env: Env) -> Self {
        let sql = ActorSql(state.storage().sql());
        // An existing queue gets any table or index added since it was made.
        let loaded = schema::exists(&sql).and_then(|found| {
            if !found {
                return Ok(None);
            }
            schema::migrate(&sql)?;
            Ok(Some((config::load(&sql)?, identity::load(&sql)?)))
        });
        let has_consumers = matches!(loaded, Ok(Some(_))) && events::has_consumers(&sql).unwrap_or(true);
        let (ready, migrated, (settings, known)) = match loaded {
            Ok(Some(stored)) => (Ok(()), true, stored),
            Ok(None) => (Ok(()), false, Default::default()),
            Err(e) => (Err(e), false, Default::default()),
        };
        QueueActor {
            state,
            sql,
            settings: RefCell::new(settings),
            ready,
            migrated: Cell::new(migrated),
            alarm: AlarmSlot::default(),
            registered: Cell::new(false),
            identity: RefCell::new(known),
            waiters: RefCell::new(Vec::new()),
            throttle: RefCell::new(ClaimThrottle::default()),
            has_consumers: Cell::new(has_consumers),
            draining: Rc::new(Cell::new(false)),
            #[cfg(feature = "bench")]
            alarm_fault: Cell::new(env.var("FAULT_ALARM").is_ok_and(|v| v.to_string() == "once")),
            env,
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = super::client::command_body(&mut req).await?;
        Response::ok(super::client::encode(&self.serve(&body).await))
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm.spent();
        let (sql, settings, now) = (self.sql.clone(), self.settings.borrow().clone(), super::now());
        #[cfg(feature = "bench")]
        let fault = self.alarm_fault.replace(false);
        // An actor that never stored its identity (made before identities were stored) sweeps
        // nameless until its next job or setting stores it; the sweep itself needs no name.
        let identity =
            self.identity.borrow().clone().unwrap_or(QueueIdentity { tenant: String::new(), name: String::new() });
        let wake = transaction(&self.state.storage(), move || {
            let queue = Queue { sql: &sql, tenant: &identity.tenant, name: &identity.name, settings: &settings };
            queue.sweep(now)?;
            #[cfg(feature = "bench")]
            if fault {
                return Err(ApiError::internal("injected alarm fault (FAULT_ALARM=once)"));
            }
            queue.next_wake(now)
        });
        // An error makes the runtime retry the alarm; the sweep rolled back whole.
        let mut wake = wake.map_err(|e| worker::Error::RustError(e.message))?;
        if self.has_consumers.get() {
            // The backstop of the drain after each write: events a failed (or running) drain
            // left behind leave with the next alarm.
            let drained = !self.draining.get() && drain(self.drain_job()).await;
            if !drained {
                wake = Some(wake.map_or(now + DRAIN_RETRY_MS, |at| at.min(now + DRAIN_RETRY_MS)));
            }
        }
        self.alarm.arm(&self.state.storage(), wake).await?;
        // Scheduled jobs came due or retry delays ended: waiting claims try again.
        self.wake_waiters();
        Response::empty()
    }
}

impl QueueActor {
    /// Decodes a command and answers it, waiting first when it is a long-polling claim.
    async fn serve(&self, body: &str) -> std::result::Result<QueueReply, ApiError> {
        self.ready.clone()?;
        let envelope: QueueEnvelope = from_json(body, "queue command")?;
        if let QueueCommand::Claim(claim) = &envelope.command {
            let deadline = super::now() + i64::from(claim.wait_secs) * SECOND_MS;
            return self.claim_until(envelope, deadline).await;
        }
        self.run(envelope).await
    }

    /// Claims within the queue's rate limit until a job is found or `deadline` passes,
    /// sleeping between tries until an enqueue (or the alarm, or a new rate-limit token) may
    /// have made one claimable. A deadline already past makes exactly one try.
    async fn claim_until(
        &self,
        envelope: QueueEnvelope,
        deadline: EpochMs,
    ) -> std::result::Result<QueueReply, ApiError> {
        loop {
            let rate = self.settings.borrow().rate_limit;
            let budget = rate.map(|r| self.throttle.borrow_mut().available(r, super::now()));
            let reply = match budget {
                Some(0) => QueueReply::Claimed(Vec::new()),
                _ => {
                    let mut attempt = envelope.clone();
                    if let (QueueCommand::Claim(claim), Some(budget)) = (&mut attempt.command, budget) {
                        claim.limit = claim.limit.min(budget);
                    }
                    self.run(attempt).await?
                }
            };
            let QueueReply::Claimed(jobs) = &reply else { return Ok(reply) };
            if rate.is_some() {
                self.throttle.borrow_mut().spend(jobs.len());
            }
            let remaining = deadline - super::now();
            if !jobs.is_empty() || remaining <= 0 {
                return Ok(reply);
            }
            let nap = match (budget, rate) {
                (Some(0), Some(rate)) => remaining.min(self.throttle.borrow().wait_ms(rate)),
                _ => remaining,
            };
            let (wake, woken) = oneshot::channel();
            self.waiters.borrow_mut().push(wake);
            let timeout = Box::pin(Delay::from(Duration::from_millis(nap as u64)));
            futures::future::select(woken, timeout).await;
        }
    }

    /// Executes one command (in a transaction when it [needs rollback](crate::queue::protocol::Traits));
    /// for commands that write, re-arms the alarm, reloads changed settings and wakes waiting
    /// claims.
    async fn run(&self, envelope: QueueEnvelope) -> std::result::Result<QueueReply, ApiError> {
        if let QueueCommand::Configure { changes } = &envelope.command {
            // Refused before the queue is catalogued: a rejected setting leaves nothing behind.
            self.settings.borrow().merged(changes, super::now())?;
        }
        let traits = envelope.command.traits();
        let adds_consumer =
            matches!(&envelope.command, QueueCommand::Enqueue { job } if job.completion_webhook.is_some());
        if !self.migrated.get() {
            if let Some(answer) = envelope.command.answer_for_missing_queue() {
                return answer;
            }
        }
        if traits.creates_queue && !self.registered.get() {
            // Before the first job or setting, so the catalog never misses a queue.
            let register = TenantCommand::RegisterQueue { queue: envelope.queue.clone() };
            let registered = call_tenant(&self.env, &envelope.tenant, register).await?;
            if !self.migrated.get() {
                schema::migrate(&self.sql)?;
                self.migrated.set(true);
            }
            if let TenantReply::Registered(subscriptions) = registered {
                let settings = self.settings.borrow().clone();
                let queue =
                    Queue { sql: &self.sql, tenant: &envelope.tenant, name: &envelope.queue, settings: &settings };
                queue.set_subscriptions(subscriptions.version, &subscriptions.consumers)?;
                self.has_consumers.set(events::has_consumers(&self.sql)?);
            }
            let me = QueueIdentity { tenant: envelope.tenant.clone(), name: envelope.queue.clone() };
            identity::store(&self.sql, &me)?;
            *self.identity.borrow_mut() = Some(me);
            self.registered.set(true);
        }
        let (tenant, queue_name) = (envelope.tenant.clone(), envelope.queue.clone());
        let (sql, settings, now) = (self.sql.clone(), self.settings.borrow().clone(), super::now());
        let alarm_known = self.alarm.is_known();
        let work = move || {
            let queue = Queue { sql: &sql, tenant: &envelope.tenant, name: &envelope.queue, settings: &settings };
            let executed = execute(&queue, envelope.command, now, &mut OsEntropy)?;
            let new_settings = if traits.changes_settings { Some(config::load(&sql)?) } else { None };
            // The wake time follows the settings now in force (a shorter retention prunes sooner).
            let current = Queue { settings: new_settings.as_ref().unwrap_or(&settings), ..queue };
            let wake = match rearm(executed.due, traits.writes, alarm_known) {
                Rearm::Keep => None,
                Rearm::NoLaterThan(due) => Some(Some(due)),
                Rearm::Recompute => Some(current.next_wake(now)?),
            };
            Ok((executed.reply, wake, new_settings))
        };
        let (reply, wake, new_settings) =
            if traits.needs_rollback { transaction(&self.state.storage(), work)? } else { work()? };
        if let Some(settings) = new_settings {
            *self.settings.borrow_mut() = settings;
        }
        if traits.deletes_queue {
            // Dropped from the catalog by this actor itself, so an enqueue racing the delete
            // re-registers after the removal, never before it.
            self.registered.set(false);
            call_tenant(&self.env, &tenant, TenantCommand::UnregisterQueue { queue: queue_name }).await?;
        }
        if let Some(wake) = wake {
            self.alarm
                .arm(&self.state.storage(), wake)
                .await
                .map_err(|e| ApiError::internal(format!("setting the alarm failed: {e}")))?;
        }
        if traits.may_free_jobs {
            self.wake_waiters();
        }
        if let QueueReply::Subscribed(_) = &reply {
            self.has_consumers.set(events::has_consumers(&self.sql)?);
        }
        if adds_consumer {
            // Its completion webhook subscribed the queue's own consumer.
            self.has_consumers.set(true);
        }
        if traits.writes && self.has_consumers.get() {
            self.start_drain(now).await?;
        }
        Ok(reply)
    }

    /// Hands the events this write recorded to their consumers, after the reply: a drain runs
    /// in the background (or the running one picks them up), and the alarm is kept within
    /// [`DRAIN_RETRY_MS`] in case it fails.
    async fn start_drain(&self, now: EpochMs) -> std::result::Result<(), ApiError> {
        self.alarm
            .arm(&self.state.storage(), Some(now + DRAIN_RETRY_MS))
            .await
            .map_err(|e| ApiError::internal(format!("setting the alarm failed: {e}")))?;
        if !self.draining.get() {
            let job = self.drain_job();
            self.state.wait_until(async move {
                drain(job).await;
            });
        }
        Ok(())
    }

    /// What a drain needs, owned, so it can outlive the request that started it; marks a
    /// drain as running.
    fn drain_job(&self) -> DrainJob {
        let identity =
            self.identity.borrow().clone().unwrap_or(QueueIdentity { tenant: String::new(), name: String::new() });
        // Marked here, not when the drain first runs, so no second drain starts in between.
        self.draining.set(true);
        DrainJob { sql: self.sql.clone(), env: self.env.clone(), identity, draining: self.draining.clone() }
    }

    fn wake_waiters(&self) {
        for waiter in self.waiters.borrow_mut().drain(..) {
            let _ = waiter.send(());
        }
    }
}

/// How soon the alarm comes back for events a drain could not hand over.
const DRAIN_RETRY_MS: EpochMs = 5 * SECOND_MS;

/// A drain of the outbox, detached from the actor's request.
struct DrainJob {
    sql: ActorSql,
    env: Env,
    identity: QueueIdentity,
    draining: Rc<Cell<bool>>,
}

/// Hands the outbox's events to the tenant's delivery actor — those of the webhooks, and those
/// of jobs' own completion webhooks — page by page in commit order, acknowledging each page once
/// the delivery actor stored it. Returns whether the outbox was drained (false: the next alarm
/// tries again). Events arriving meanwhile are taken by the same loop.
async fn drain(job: DrainJob) -> bool {
    let settings = QueueSettings::default();
    let QueueIdentity { tenant, name } = &job.identity;
    let queue = Queue { sql: &job.sql, tenant, name, settings: &settings };
    let webhooks = hand_over(&job, |after| {
        let page = queue.read_events(WEBHOOK_CONSUMER, after, MAX_EVENT_PAGE)?;
        let last = page.events.last().map(|e| e.seq);
        Ok(last.map(|last| (last, Some(DeliveryCommand::Accept { queue: name.clone(), events: page.events }))))
    })
    .await;
    let completions = hand_over(&job, |after| {
        let page = queue.read_completions(after)?;
        let command = (!page.events.is_empty())
            .then(|| DeliveryCommand::AcceptCompletions { queue: name.clone(), events: page.events });
        Ok(page.last.map(|last| (last, command)))
    })
    .await;
    job.draining.set(false);
    webhooks && completions
}

/// Reads pages with `next(after)` — the last sequence read and what to send for it, `None` at
/// the end — and sends each to the delivery actor before acknowledging it by the next read.
/// A consumer the queue does not have is drained already.
async fn hand_over(
    job: &DrainJob,
    mut next: impl FnMut(i64) -> std::result::Result<Option<(i64, Option<DeliveryCommand>)>, ApiError>,
) -> bool {
    let mut after = 0;
    loop {
        let (last, command) = match next(after) {
            Ok(Some(page)) => page,
            Ok(None) => return true,
            Err(e) => return e.kind == ErrorKind::NotFound,
        };
        if let Some(command) = command {
            if call_delivery(&job.env, &job.identity.tenant, command).await.is_err() {
                return false;
            }
        }
        after = last;
    }
}
