//! The commands the Worker and the queue actors send to a tenant's delivery actor, and what it
//! answers. Sending itself is the actor's: these commands only read and change storage.

use super::outbox::{DeliveryFilter, DeliveryRecord};
use super::webhooks::{NewWebhook, WebhookChanges, WebhookRecord};
use super::Deliveries;
use crate::model::wire::wire_record;
use crate::model::{ApiError, EpochMs};
use crate::queue::completion::CompletionEvent;
use crate::queue::events::EventRecord;
use serde::{Deserialize, Serialize};

wire_record! {
    /// What travels to a delivery actor.
    #[derive(Debug)]
    pub struct DeliveryEnvelope {
        /// The tenant id (the actor's name).
        pub tenant: String,
        /// What to do.
        pub command: DeliveryCommand,
    }
}

/// One operation on a tenant's webhooks or deliveries.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryCommand {
    /// Store a new webhook.
    CreateWebhook { webhook: NewWebhook },
    /// Every webhook, newest first.
    ListWebhooks,
    /// One webhook.
    GetWebhook { id: String },
    /// Change a webhook.
    UpdateWebhook { id: String, changes: WebhookChanges },
    /// Delete a webhook and its deliveries.
    DeleteWebhook { id: String },
    /// A page of a webhook's deliveries.
    ListDeliveries { webhook_id: String, filter: DeliveryFilter },
    /// Events from queue `queue`'s outbox, in commit order: each becomes a delivery for every
    /// webhook that wants it.
    Accept { queue: String, events: Vec<EventRecord> },
    /// Events of jobs with their own completion webhook, from queue `queue`'s outbox.
    AcceptCompletions { queue: String, events: Vec<CompletionEvent> },
    /// A job's completion webhook deliveries.
    ListJobDeliveries { job_id: String },
    /// Attempt a delivery again now (a manual retry).
    RetryDelivery { webhook_id: String, id: String },
    /// Send a test delivery to a webhook.
    TestWebhook { id: String },
}

/// What a delivery actor answers when a command succeeds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryReply {
    /// `CreateWebhook`, `GetWebhook`, `UpdateWebhook`: the webhook.
    Webhook(WebhookRecord),
    /// `ListWebhooks`.
    Webhooks(Vec<WebhookRecord>),
    /// `ListDeliveries`.
    Deliveries(Vec<DeliveryRecord>),
    /// `RetryDelivery`: whether the receiver took it this time.
    Retried(bool),
    /// `TestWebhook`: what the receiver answered.
    Tested(TestOutcome),
    /// `Accept`, `AcceptCompletions`, `DeleteWebhook`: done.
    Done,
}

wire_record! {
    /// What a test delivery got.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct TestOutcome {
        /// Whether the receiver answered 2xx.
        pub success: bool,
        /// Its status, `None` when no answer came.
        pub status_code: Option<u16>,
        /// How long the request took.
        pub response_time_ms: i64,
        /// What went wrong.
        pub error: Option<String>,
    }
}

/// What running a command involves besides storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryTraits {
    /// Which event kinds the queues record may change (webhooks created, changed, deleted).
    pub changes_subscriptions: bool,
    /// New deliveries may be due: the actor dispatches after the command.
    pub may_add_due: bool,
}

impl DeliveryCommand {
    /// What running this command involves. One exhaustive match: a new command must say.
    pub fn traits(&self) -> DeliveryTraits {
        let (changes_subscriptions, may_add_due) = match self {
            DeliveryCommand::CreateWebhook { .. }
            | DeliveryCommand::UpdateWebhook { .. }
            | DeliveryCommand::DeleteWebhook { .. } => (true, false),
            DeliveryCommand::Accept { .. } | DeliveryCommand::AcceptCompletions { .. } => (false, true),
            DeliveryCommand::ListWebhooks
            | DeliveryCommand::GetWebhook { .. }
            | DeliveryCommand::ListDeliveries { .. }
            | DeliveryCommand::ListJobDeliveries { .. }
            | DeliveryCommand::RetryDelivery { .. }
            | DeliveryCommand::TestWebhook { .. } => (false, false),
        };
        DeliveryTraits { changes_subscriptions, may_add_due }
    }
}

/// What a command that needs no request to a receiver answers; `None` for `RetryDelivery` and
/// `TestWebhook`, which the actor carries out itself.
pub fn execute(
    deliveries: &Deliveries,
    command: &DeliveryCommand,
    webhook_limit: u32,
    now: EpochMs,
) -> Result<Option<DeliveryReply>, ApiError> {
    Ok(Some(match command {
        DeliveryCommand::CreateWebhook { webhook } => {
            DeliveryReply::Webhook(deliveries.create_webhook(webhook, webhook_limit, now)?)
        }
        DeliveryCommand::ListWebhooks => DeliveryReply::Webhooks(deliveries.list_webhooks()?),
        DeliveryCommand::GetWebhook { id } => DeliveryReply::Webhook(deliveries.webhook(id)?),
        DeliveryCommand::UpdateWebhook { id, changes } => {
            DeliveryReply::Webhook(deliveries.update_webhook(id, changes, webhook_limit, now)?)
        }
        DeliveryCommand::DeleteWebhook { id } => {
            deliveries.delete_webhook(id)?;
            DeliveryReply::Done
        }
        DeliveryCommand::ListDeliveries { webhook_id, filter } => {
            DeliveryReply::Deliveries(deliveries.list_deliveries(webhook_id, filter)?)
        }
        DeliveryCommand::Accept { events, .. } => {
            deliveries.accept(events, now)?;
            DeliveryReply::Done
        }
        DeliveryCommand::AcceptCompletions { events, .. } => {
            deliveries.accept_completions(events, now)?;
            DeliveryReply::Done
        }
        DeliveryCommand::ListJobDeliveries { job_id } => {
            DeliveryReply::Deliveries(deliveries.list_job_deliveries(job_id)?)
        }
        DeliveryCommand::RetryDelivery { .. } | DeliveryCommand::TestWebhook { .. } => return Ok(None),
    }))
}
