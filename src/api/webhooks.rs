//! Outgoing webhook requests (`/api/v1/outgoing-webhooks`), validated into delivery-actor
//! commands. Only keys that reach every queue manage webhooks: a webhook sees every queue's
//! events.

use super::body::{parse_json, parse_optional_fields, Query};
use super::routes::WebhookRoute;
use crate::delivery::outbox::{DeliveryFilter, DeliveryStatus};
use crate::delivery::protocol::DeliveryCommand;
use crate::delivery::webhooks::{NewWebhook, WebhookChanges};
use crate::model::ids::{random_token, random_uuid};
use crate::model::target_url::{check_target_url, UrlPolicy};
use crate::model::{ApiError, Entropy, ErrorKind, EventKind, JobId};
use crate::tenant::Principal;
use serde::Deserialize;

#[cfg(feature = "openapi")]
use crate::api::openapi::wire;

/// Longest webhook name and secret.
pub const MAX_WEBHOOK_TEXT: usize = 255;
/// Shortest secret a caller may choose.
pub const MIN_SECRET_LEN: usize = 16;
/// Random characters of a generated secret (`whsec_` and 32 of `[0-9a-z]`, about 165 bits).
const SECRET_CHARS: usize = 32;
/// Deliveries a page lists at most, and by default.
pub const DELIVERY_PAGE: std::ops::RangeInclusive<i64> = 1..=100;
const DEFAULT_DELIVERY_PAGE: i64 = 50;
/// The body formats: Spooled's SDK sends `format`; only the JSON envelope is built.
const FORMATS: [&str; 1] = ["json"];

/// The command for a webhook route, and the secret to show once (a generated one).
#[derive(Debug)]
pub struct WebhookCall {
    /// The delivery actor's command.
    pub command: DeliveryCommand,
    /// A secret the Worker generated, returned in the create response only.
    pub new_secret: Option<String>,
}

/// Builds the command for `route`; URLs are checked under `policy`.
pub fn build(
    route: WebhookRoute,
    body: &[u8],
    query: &Query,
    principal: &Principal,
    policy: UrlPolicy,
    entropy: &mut dyn Entropy,
) -> Result<WebhookCall, ApiError> {
    // A job's own webhook is the job's: whoever may see the job may see its deliveries.
    let organization_wide = !matches!(route, WebhookRoute::JobDeliveries(_));
    if organization_wide && !principal.is_unscoped() {
        return Err(ApiError::new(ErrorKind::AccessDenied, "only keys with access to all queues can manage webhooks"));
    }
    let plain = |command| Ok(WebhookCall { command, new_secret: None });
    match route {
        WebhookRoute::Create => {
            let b: CreateWebhookBody = parse_json(body)?;
            let generated = b.secret.is_none().then(|| format!("whsec_{}", random_token(SECRET_CHARS, entropy)));
            let secret = match b.secret {
                Some(secret) => check_secret(secret)?,
                None => generated.clone().unwrap_or_default(),
            };
            let webhook = NewWebhook {
                id: random_uuid(entropy),
                name: check_name(b.name.ok_or_else(|| ApiError::validation("name", "is required"))?)?,
                url: check_url(b.url.ok_or_else(|| ApiError::validation("url", "is required"))?, policy)?,
                events: check_events(b.events.ok_or_else(|| ApiError::validation("events", "is required"))?)?,
                secret,
                enabled: b.enabled.unwrap_or(true),
                format: check_format(b.format)?,
            };
            Ok(WebhookCall { command: DeliveryCommand::CreateWebhook { webhook }, new_secret: generated })
        }
        WebhookRoute::List => plain(DeliveryCommand::ListWebhooks),
        WebhookRoute::Get(id) => plain(DeliveryCommand::GetWebhook { id }),
        WebhookRoute::Update(id) => {
            let b: UpdateWebhookBody = parse_optional_fields(body)?;
            let secret = match b.secret {
                // Spooled's three states: `null` clears the secret (the SDK's `secret=None`),
                // and the delivery actor stores no secret as an empty one.
                Some(None) => Some(String::new()),
                Some(Some(secret)) => Some(check_secret(secret)?),
                None => None,
            };
            let changes = WebhookChanges {
                name: b.name.map(check_name).transpose()?,
                url: b.url.map(|url| check_url(url, policy)).transpose()?,
                events: b.events.map(check_events).transpose()?,
                secret,
                enabled: b.enabled,
                format: b.format.map(|f| check_format(Some(f))).transpose()?,
            };
            plain(DeliveryCommand::UpdateWebhook { id, changes })
        }
        WebhookRoute::Delete(id) => plain(DeliveryCommand::DeleteWebhook { id }),
        WebhookRoute::Test(id) => plain(DeliveryCommand::TestWebhook { id }),
        WebhookRoute::Deliveries(webhook_id) => {
            let status = query
                .get(&["status"])
                .map(|s| match s {
                    "pending" => Ok(DeliveryStatus::Pending),
                    "success" => Ok(DeliveryStatus::Success),
                    "failed" => Ok(DeliveryStatus::Failed),
                    _ => Err(ApiError::validation("status", "must be pending, success or failed")),
                })
                .transpose()?;
            let limit = query.int("limit", DEFAULT_DELIVERY_PAGE, &DELIVERY_PAGE)? as u32;
            let offset = query.int("offset", 0, &(0..=1_000_000))? as u32;
            plain(DeliveryCommand::ListDeliveries { webhook_id, filter: DeliveryFilter { status, limit, offset } })
        }
        WebhookRoute::Retry(webhook_id, id) => plain(DeliveryCommand::RetryDelivery { webhook_id, id }),
        WebhookRoute::JobDeliveries(id) => {
            let job = JobId::parse(&id).filter(|j| principal.allows_queue(&j.queue));
            let job = job.ok_or_else(|| ApiError::not_found("job"))?;
            plain(DeliveryCommand::ListJobDeliveries { job_id: job.text })
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct CreateWebhookBody {
    /// Display name.
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = MAX_WEBHOOK_TEXT)))]
    name: Option<String>,
    /// Where deliveries are POSTed: `https` to a public host (see the URL rules).
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = 2048)))]
    url: Option<String>,
    /// The events to receive, at least one.
    #[cfg_attr(feature = "openapi", schemars(with = "Vec<wire::EventName>", length(min = 1)))]
    events: Option<Vec<String>>,
    /// Signs every delivery (16–255 characters). Absent: one is generated and returned once,
    /// in this response.
    #[cfg_attr(feature = "openapi", schemars(length(min = MIN_SECRET_LEN, max = MAX_WEBHOOK_TEXT)))]
    secret: Option<String>,
    /// Whether deliveries are made (default true).
    enabled: Option<bool>,
    /// The body format: `json` (the default) is the only one.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::WebhookFormat>"))]
    format: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct UpdateWebhookBody {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = MAX_WEBHOOK_TEXT)))]
    name: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = 2048)))]
    url: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<Vec<wire::EventName>>", length(min = 1)))]
    events: Option<Vec<String>>,
    /// A new secret; `null` clears it, and deliveries go out unsigned from then on.
    #[serde(default, deserialize_with = "crate::model::wire::present")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<String>", length(min = MIN_SECRET_LEN, max = MAX_WEBHOOK_TEXT)))]
    secret: Option<Option<String>>,
    /// Enabling a disabled (or auto-disabled) webhook starts its failure count afresh.
    enabled: Option<bool>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::WebhookFormat>"))]
    format: Option<String>,
}

fn check_name(name: String) -> Result<String, ApiError> {
    if name.trim().is_empty() || name.chars().count() > MAX_WEBHOOK_TEXT {
        return Err(ApiError::validation("name", &format!("must be 1-{MAX_WEBHOOK_TEXT} characters")));
    }
    Ok(name)
}

/// A webhook target, as the URL rules under `policy` normalise it.
pub(crate) fn check_url(url: String, policy: UrlPolicy) -> Result<String, ApiError> {
    Ok(check_target_url(&url, policy)?.url)
}

/// A signing secret of 16–255 characters.
pub(crate) fn check_secret(secret: String) -> Result<String, ApiError> {
    if !(MIN_SECRET_LEN..=MAX_WEBHOOK_TEXT).contains(&secret.chars().count()) {
        return Err(ApiError::validation("secret", &format!("must be {MIN_SECRET_LEN}-{MAX_WEBHOOK_TEXT} characters")));
    }
    Ok(secret)
}

fn check_format(format: Option<String>) -> Result<String, ApiError> {
    let format = format.unwrap_or_else(|| FORMATS[0].to_owned());
    if !FORMATS.contains(&format.as_str()) {
        return Err(ApiError::validation("format", "only `json` is supported"));
    }
    Ok(format)
}

fn check_events(names: Vec<String>) -> Result<Vec<EventKind>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::validation("events", "must name at least one event"));
    }
    let mut kinds = Vec::with_capacity(names.len());
    for name in &names {
        let kind = EventKind::parse(name).ok_or_else(|| {
            let valid: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::validation("events", &format!("Invalid event type: '{name}'. Valid types: {valid:?}"))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}
