//! `DeliveryActor`: one Durable Object per tenant that keeps its outgoing webhooks and their
//! deliveries, and makes the requests. Its alarm runs a dispatch: attempts due are started
//! (a few per webhook and a few in all at once), each outcome is recorded as it comes, and new deliveries join
//! while slower ones are still waiting for their receivers — so one slow or dead receiver
//! never holds up another's deliveries, nor the queues, which only hand events over.

use super::alarm::AlarmSlot;
use super::client::{call_queue, call_tenant};
use super::outbound;
use super::storage::{transaction, ActorSql};
use crate::delivery::envelope::{envelope, headers, Sender, TEST_EVENT};
use crate::delivery::outbox::{Attempt, AttemptOutcome, InFlight};
use crate::delivery::protocol::{execute, DeliveryCommand, DeliveryEnvelope, DeliveryReply, TestOutcome};
use crate::delivery::retry::DeliveryRetry;
use crate::delivery::webhooks::DEFAULT_WEBHOOK_LIMIT;
use crate::delivery::{Deliveries, WEBHOOK_CONSUMER};
use crate::model::ids::random_uuid;
use crate::model::target_url::{check_target_url, UrlPolicy};
use crate::model::wire::from_json;
use crate::model::{ApiError, Entropy, EpochMs, OsEntropy};
use crate::queue::protocol::QueueCommand;
use crate::tenant::protocol::{TenantCommand, TenantReply};
use futures::channel::oneshot;
use futures::stream::{FuturesUnordered, StreamExt};
use std::cell::{Cell, RefCell};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// How long a receiver has to answer.
const REQUEST_TIMEOUT_MS: u32 = 10_000;
/// How long one dispatch keeps starting attempts before it hands over to the next alarm.
const DISPATCH_SPAN_MS: EpochMs = 60_000;
/// Queues told of a subscription change at once.
const PUSH_WIDTH: usize = 32;

/// The Durable Object that delivers one tenant's webhooks.
#[durable_object(alarm)]
pub struct DeliveryActor {
    state: State,
    env: Env,
    sql: ActorSql,
    ready: std::result::Result<(), ApiError>,
    /// Whether the tables exist: only creating a webhook makes them.
    migrated: Cell<bool>,
    alarm: AlarmSlot,
    /// Whether a dispatch is running; new deliveries then wake it instead of the alarm.
    dispatching: Cell<bool>,
    /// The running dispatch waits on these for new deliveries.
    wakers: RefCell<Vec<oneshot::Sender<()>>>,
    /// Enabled webhooks a tenant may have (`WEBHOOK_LIMIT`).
    webhook_limit: u32,
    /// The backoff between attempts (`WEBHOOK_RETRY_BASE_SECS`, `WEBHOOK_MAX_ATTEMPTS`).
    retry: DeliveryRetry,
    /// Which targets are allowed (`ALLOW_HTTP_LOOPBACK_WEBHOOKS`).
    policy: UrlPolicy,
}

impl DurableObject for DeliveryActor {
    fn new(state: State, env: Env) -> Self {
        let sql = ActorSql(state.storage().sql());
        let loaded = Deliveries { sql: &sql }.exists();
        let migrated = Cell::new(loaded.as_ref().is_ok_and(|found| *found));
        let number = |name: &str| super::var(&env, name).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0);
        let defaults = DeliveryRetry::default();
        let retry = DeliveryRetry {
            base_ms: number("WEBHOOK_RETRY_BASE_SECS").map_or(defaults.base_ms, |secs| secs * 1_000),
            max_attempts: number("WEBHOOK_MAX_ATTEMPTS").map_or(defaults.max_attempts, |n| n as u32),
            ..defaults
        };
        DeliveryActor {
            ready: loaded.map(drop),
            migrated,
            alarm: AlarmSlot::default(),
            dispatching: Cell::new(false),
            wakers: RefCell::new(Vec::new()),
            webhook_limit: number("WEBHOOK_LIMIT").map_or(DEFAULT_WEBHOOK_LIMIT, |n| n as u32),
            retry,
            policy: super::url_policy(&env),
            sql,
            state,
            env,
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = super::client::command_body(&mut req).await?;
        Response::ok(super::client::encode(&self.serve(&body).await))
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm.spent();
        if self.migrated.get() {
            self.dispatch().await;
        }
        let (deliveries, now) = (Deliveries { sql: &self.sql }, super::now());
        let wake = deliveries.prune(now).and_then(|()| deliveries.next_wake());
        let wake = wake.map_err(|e| worker::Error::RustError(e.message))?;
        self.alarm.arm(&self.state.storage(), wake).await?;
        Response::empty()
    }
}

impl DeliveryActor {
    async fn serve(&self, body: &str) -> std::result::Result<DeliveryReply, ApiError> {
        self.ready.clone()?;
        let DeliveryEnvelope { tenant, command } = from_json(body, "delivery command")?;
        let deliveries = Deliveries { sql: &self.sql };
        if !self.migrated.get() {
            match &command {
                DeliveryCommand::CreateWebhook { .. } | DeliveryCommand::AcceptCompletions { .. } => {
                    deliveries.migrate_for(&tenant)?;
                    self.migrated.set(true);
                }
                // Without a webhook there is nothing to list, find or deliver, and nothing is stored.
                DeliveryCommand::ListWebhooks => return Ok(DeliveryReply::Webhooks(Vec::new())),
                DeliveryCommand::ListJobDeliveries { .. } => return Ok(DeliveryReply::Deliveries(Vec::new())),
                DeliveryCommand::Accept { .. } => return Ok(DeliveryReply::Done),
                _ => return Err(ApiError::not_found("Webhook")),
            }
        }
        let traits = command.traits();
        let reply = match command {
            DeliveryCommand::RetryDelivery { webhook_id, id } => {
                let attempt = deliveries.take_now(&webhook_id, &id, super::now())?;
                let outcome = self.attempt(attempt).await;
                let succeeded = outcome.succeeded();
                self.record(&tenant, &outcome).await?;
                DeliveryReply::Retried(succeeded)
            }
            DeliveryCommand::TestWebhook { id } => DeliveryReply::Tested(self.test(&tenant, &id).await?),
            command => {
                let (sql, limit, now) = (self.sql.clone(), self.webhook_limit, super::now());
                let reply = transaction(&self.state.storage(), move || {
                    execute(&Deliveries { sql: &sql }, &command, limit, now)
                })?;
                reply.ok_or_else(|| ApiError::internal("a delivery command went unanswered"))?
            }
        };
        if traits.changes_subscriptions {
            self.push_subscriptions(&tenant).await?;
        }
        if traits.may_add_due {
            self.start_dispatch().await?;
        }
        Ok(reply)
    }

    /// Gets new deliveries going: the running dispatch takes them, or the alarm starts one now.
    async fn start_dispatch(&self) -> std::result::Result<(), ApiError> {
        if self.dispatching.get() {
            for waker in self.wakers.borrow_mut().drain(..) {
                let _ = waker.send(());
            }
            return Ok(());
        }
        self.alarm
            .arm(&self.state.storage(), Some(super::now()))
            .await
            .map_err(|e| ApiError::internal(format!("setting the alarm failed: {e}")))
    }

    /// Starts the attempts due, records each outcome as it comes, and takes what became due
    /// meanwhile, until nothing is due or in flight (or [`DISPATCH_SPAN_MS`] passed; the
    /// alarm then comes back for the rest).
    async fn dispatch(&self) {
        self.dispatching.set(true);
        let started = super::now();
        let tenant = Deliveries { sql: &self.sql }.tenant().ok().flatten().unwrap_or_default();
        let (mut in_flight, mut counts) = (FuturesUnordered::new(), InFlight::default());
        loop {
            if super::now() - started < DISPATCH_SPAN_MS {
                let deliveries = Deliveries { sql: &self.sql };
                match deliveries.take_due(super::now(), &counts) {
                    Ok(due) => {
                        counts.started(&due);
                        in_flight.extend(due.into_iter().map(|attempt| self.attempt(attempt)));
                    }
                    Err(e) => worker::console_error!("taking due deliveries failed: {}", e.message),
                }
            }
            if in_flight.is_empty() {
                break;
            }
            let (waker, woken) = oneshot::channel();
            *self.wakers.borrow_mut() = vec![waker];
            if let futures::future::Either::Left((Some(outcome), _)) =
                futures::future::select(in_flight.next(), woken).await
            {
                counts.ended(&outcome.webhook_id);
                if let Err(e) = self.record(&tenant, &outcome).await {
                    worker::console_error!("recording a delivery failed: {}", e.message);
                }
            }
        }
        self.wakers.borrow_mut().clear();
        self.dispatching.set(false);
    }

    /// Makes one attempt: the URL rules again (they may have changed since the webhook was
    /// saved), then the signed POST.
    async fn attempt(&self, attempt: Attempt) -> AttemptOutcome {
        let sender = if attempt.is_completion() { Sender::Completion } else { Sender::Webhook };
        let Attempt { webhook_id, id, event, body, attempt, url, secret } = attempt;
        let (status_code, response_body, error) = match check_target_url(&url, self.policy) {
            Err(refusal) => (None, None, Some(format!("refused URL: {refusal}"))),
            Ok(_) => {
                let sent = headers(sender, &event, attempt, secret.as_deref(), &body, super::now());
                match outbound::post(&url, &sent, &body, REQUEST_TIMEOUT_MS).await {
                    Ok(answer) => {
                        let failed = !(200..300).contains(&answer.status);
                        (Some(answer.status), Some(answer.excerpt), failed.then(|| format!("HTTP {}", answer.status)))
                    }
                    Err(e) => (None, None, Some(e)),
                }
            }
        };
        AttemptOutcome { webhook_id, id, attempt, status_code, response_body, error }
    }

    /// Stores an outcome; a webhook it disabled stops the queues recording its events.
    async fn record(&self, tenant: &str, outcome: &AttemptOutcome) -> std::result::Result<(), ApiError> {
        let mut bytes = [0u8; 4];
        OsEntropy.fill(&mut bytes);
        let jitter = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
        let disabled = Deliveries { sql: &self.sql }.record(outcome, &self.retry, jitter, super::now())?;
        if disabled {
            self.push_subscriptions(tenant).await?;
        }
        Ok(())
    }

    /// Sends webhook `id` a test delivery: a real, signed envelope of event `webhook.test`,
    /// not stored and not counted.
    async fn test(&self, tenant: &str, id: &str) -> std::result::Result<TestOutcome, ApiError> {
        let deliveries = Deliveries { sql: &self.sql };
        let (webhook, secret) = (deliveries.webhook(id)?, deliveries.secret(id)?);
        check_target_url(&webhook.url, self.policy)?;
        let data = serde_json::value::to_raw_value(&serde_json::json!({
            "webhook_id": webhook.id,
            "organization_id": tenant,
            "test": true,
            "message": "A test delivery from edgespool",
        }))
        .map_err(|e| ApiError::internal(e.to_string()))?;
        let now = super::now();
        let body = envelope(&random_uuid(&mut OsEntropy), TEST_EVENT, now, &data)?;
        let sent = headers(Sender::Webhook, TEST_EVENT, 1, Some(&secret), &body, now);
        let answer = outbound::post(&webhook.url, &sent, &body, REQUEST_TIMEOUT_MS).await;
        let response_time_ms = super::now() - now;
        Ok(match answer {
            Ok(answer) => {
                let success = (200..300).contains(&answer.status);
                let error = (!success).then(|| format!("HTTP {}", answer.status));
                TestOutcome { success, status_code: Some(answer.status), response_time_ms, error }
            }
            Err(e) => TestOutcome { success: false, status_code: None, response_time_ms, error: Some(e) },
        })
    }

    /// Tells the tenant which kinds the enabled webhooks want, and every queue the new list.
    async fn push_subscriptions(&self, tenant: &str) -> std::result::Result<(), ApiError> {
        let kinds = Deliveries { sql: &self.sql }.subscribed_kinds()?;
        let command = TenantCommand::SetConsumer { name: WEBHOOK_CONSUMER.to_owned(), kinds };
        let TenantReply::Subscribed(subscriptions, queues) = call_tenant(&self.env, tenant, command).await? else {
            return Err(ApiError::internal("the tenant answered a subscription change with something else"));
        };
        for chunk in queues.chunks(PUSH_WIDTH) {
            let pushes = chunk.iter().map(|queue| {
                let command = QueueCommand::SetSubscriptions {
                    version: subscriptions.version,
                    consumers: subscriptions.consumers.clone(),
                };
                call_queue(&self.env, tenant, queue, command)
            });
            for outcome in futures::future::join_all(pushes).await {
                // A queue that missed the push learns the list when it next registers.
                if let Err(e) = outcome {
                    worker::console_error!("pushing subscriptions to a queue failed: {}", e.message);
                }
            }
        }
        Ok(())
    }
}
