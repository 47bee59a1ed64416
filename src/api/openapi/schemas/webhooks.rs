//! Component schemas of outgoing webhooks and their deliveries.

use super::{component, derived_view};
use crate::api::openapi::wire;
use crate::api::webhook_views::{DeliveryView, RetriedView, TestView, WebhookView};
use serde_json::Value;

/// The schemas, in the document's order.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("EventName", component::<wire::EventName>()),
        ("OutgoingWebhook", derived_view::<WebhookView>()),
        ("OutgoingWebhookDelivery", derived_view::<DeliveryView>()),
        ("WebhookTestResult", derived_view::<TestView>()),
        ("WebhookRetryResult", derived_view::<RetriedView>()),
    ]
}
