//! Spooled's wire shapes of outgoing webhooks and their deliveries, rendered from the delivery
//! actor's replies (the webhook counterpart of `api::views`).

use super::views::{json, Answer, Time};
use crate::delivery::outbox::{DeliveryRecord, DeliveryStatus};
use crate::delivery::protocol::{DeliveryReply, TestOutcome};
use crate::delivery::webhooks::WebhookRecord;
use crate::model::{ApiError, EventKind};
use serde::Serialize;
use serde_json::value::RawValue;

#[cfg(feature = "openapi")]
use crate::api::openapi::wire;

/// An outgoing webhook, without its secret.
// `secret` is sent only in the response that generated it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct WebhookView<'a> {
    /// Webhook id (UUID v4).
    id: &'a str,
    /// The organization it belongs to.
    organization_id: &'a str,
    name: &'a str,
    /// Where deliveries are POSTed.
    url: &'a str,
    /// The events it receives.
    #[cfg_attr(feature = "openapi", schemars(with = "Vec<wire::EventName>"))]
    events: &'a [EventKind],
    /// Whether deliveries are made.
    enabled: bool,
    /// The body format (`json`).
    format: &'a str,
    /// Consecutive deliveries that failed every attempt; 20 disable the webhook.
    failure_count: i64,
    /// The last delivery attempt.
    last_triggered_at: Option<Time>,
    /// `success`, `failed` (the last attempt failed) or `auto_disabled`.
    last_status: Option<&'a str>,
    created_at: Time,
    updated_at: Time,
    /// The generated signing secret: shown once, in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

impl<'a> WebhookView<'a> {
    fn new(webhook: &'a WebhookRecord, tenant: &'a str, secret: Option<&'a str>) -> Self {
        WebhookView {
            id: &webhook.id,
            organization_id: tenant,
            name: &webhook.name,
            url: &webhook.url,
            events: &webhook.events,
            enabled: webhook.enabled,
            format: &webhook.format,
            failure_count: webhook.failure_count,
            last_triggered_at: webhook.last_triggered_at.map(Time),
            last_status: webhook.last_status.as_deref(),
            created_at: Time(webhook.created_at),
            updated_at: Time(webhook.updated_at),
            secret,
        }
    }
}

/// One event's delivery to one webhook, and what its last attempt got.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DeliveryView<'a> {
    /// The event's id, the envelope's `id` (the same on every attempt: dedupe by it).
    id: &'a str,
    webhook_id: &'a str,
    /// The event name.
    event: &'a str,
    /// The envelope sent: `{id, event, created_at, data}`.
    #[cfg_attr(feature = "openapi", schemars(with = "serde_json::Value"))]
    payload: &'a RawValue,
    /// `pending` (waiting for an attempt), `success` or `failed` (every attempt failed).
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    status: &'static str,
    /// The last answer's HTTP status; 0 when none came (timeout, refused URL, network error).
    status_code: Option<i64>,
    /// The start (up to 1 KiB) of the receiver's last answer.
    response_body: Option<&'a str>,
    /// What went wrong on the last attempt.
    error: Option<&'a str>,
    /// Attempts made.
    attempts: i64,
    /// When the event was accepted for delivery.
    created_at: Time,
    /// When a receiver took it (2xx).
    delivered_at: Option<Time>,
    /// When the last attempt was made.
    last_attempt_at: Option<Time>,
    /// When the next attempt is due (pending deliveries only).
    next_attempt_at: Option<Time>,
}

impl<'a> DeliveryView<'a> {
    fn new(delivery: &'a DeliveryRecord) -> Self {
        DeliveryView {
            id: &delivery.id,
            webhook_id: &delivery.webhook_id,
            event: &delivery.event,
            payload: &delivery.payload,
            status: DeliveryStatus::as_str(delivery.status),
            status_code: delivery.status_code,
            response_body: delivery.response_body.as_deref(),
            error: delivery.error.as_deref(),
            attempts: delivery.attempts,
            created_at: Time(delivery.created_at),
            delivered_at: delivery.delivered_at.map(Time),
            last_attempt_at: delivery.last_attempt_at.map(Time),
            next_attempt_at: delivery.next_attempt_at.map(Time),
        }
    }
}

/// What a test delivery got.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TestView<'a> {
    /// Whether the receiver answered 2xx.
    success: bool,
    /// Its HTTP status; `null` when no answer came.
    status_code: Option<u16>,
    /// How long the request took.
    response_time_ms: i64,
    /// What went wrong.
    error: Option<&'a str>,
}

/// The outcome of a manual retry.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RetriedView {
    /// Whether the receiver took the delivery this time.
    success: bool,
    message: &'static str,
}

/// Renders a delivery actor's reply for `tenant`; `secret` is a generated secret to show once.
pub fn delivery_reply(
    reply: &DeliveryReply,
    tenant: &str,
    secret: Option<&str>,
    created: bool,
) -> Result<Answer, ApiError> {
    match reply {
        DeliveryReply::Webhook(webhook) => {
            json(if created { 201 } else { 200 }, &WebhookView::new(webhook, tenant, secret))
        }
        DeliveryReply::Webhooks(webhooks) => {
            json(200, &webhooks.iter().map(|w| WebhookView::new(w, tenant, None)).collect::<Vec<_>>())
        }
        DeliveryReply::Deliveries(deliveries) => {
            json(200, &deliveries.iter().map(DeliveryView::new).collect::<Vec<_>>())
        }
        DeliveryReply::Retried(success) => {
            let message = if *success {
                "Delivery retried successfully"
            } else {
                "Delivery retry attempted but target did not return success"
            };
            json(200, &RetriedView { success: *success, message })
        }
        DeliveryReply::Tested(TestOutcome { success, status_code, response_time_ms, error }) => json(
            200,
            &TestView {
                success: *success,
                status_code: *status_code,
                response_time_ms: *response_time_ms,
                error: error.as_deref(),
            },
        ),
        DeliveryReply::Done => Ok((204, String::new())),
    }
}
