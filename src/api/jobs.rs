//! Job requests: the wire bodies of the job routes, validated into queue commands. Every
//! check happens here, before any actor is reached, so a rejected request changes nothing.

use super::body::{
    optional_time, optional_u32, parse_json, parse_json_or_empty, parse_optional_fields, required_queue,
};
use super::calls::{Call, Merge};
use super::routes::JobRoute;
#[cfg(feature = "openapi")]
use crate::api::openapi::wire;
use crate::model::ids::validate_queue_name;
use crate::model::lease::Fence;
use crate::model::spec::{self, check_range};
use crate::model::target_url::UrlPolicy;
use crate::model::CompletionHook;
use crate::model::{ApiError, ErrorKind, JobId, JobSpec};
use crate::queue::ack::{AckItem, FailItem};
use crate::queue::lease::ClaimRequest;
use crate::queue::manage::DeadLetterSelection;
use crate::queue::protocol::QueueCommand;
use crate::tenant::Principal;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Jobs a claim takes when it sets no `limit`.
const DEFAULT_CLAIM_LIMIT: i64 = 1;
/// Dead letters a replay without `job_ids` takes when it sets no `limit`.
const DEFAULT_REPLAY_LIMIT: i64 = 100;

/// Builds the call for a route that acts on jobs of one queue.
pub fn build(route: JobRoute, body: &[u8], principal: &Principal, policy: UrlPolicy) -> Result<Call, ApiError> {
    let one = |queue: String, command| Call::Queue { queue, command };
    Ok(match route {
        JobRoute::Enqueue => {
            let (queue, job) = parse_json::<JobFields>(body)?.validate_single(policy)?;
            one(principal.writable_queue(queue)?, QueueCommand::Enqueue { job })
        }
        JobRoute::EnqueueBulk => {
            let (queue, jobs) = parse_json::<BulkBody>(body)?.validate()?;
            one(principal.writable_queue(queue)?, QueueCommand::EnqueueBulk { jobs })
        }
        JobRoute::Claim => {
            let (queue, request) = parse_json::<ClaimBody>(body)?.validate()?;
            one(principal.writable_queue(queue)?, QueueCommand::Claim(request))
        }
        JobRoute::Get(id) => on_job(principal, &id, |id| QueueCommand::Get { id })?,
        JobRoute::Cancel(id) => on_job(principal, &id, |id| QueueCommand::Cancel { id })?,
        JobRoute::Replay(id) => on_job(principal, &id, |id| QueueCommand::Replay { id })?,
        JobRoute::Complete(id) => {
            let b = parse_json::<CompleteBody>(body)?;
            if let Some(result) = &b.result {
                spec::check_job_value("result", result)?;
            }
            let fence = Fence::presented(b.lease_id, b.worker_id)?;
            on_job(principal, &id, |id| QueueCommand::Complete { id, fence, result: b.result })?
        }
        JobRoute::Fail(id) => {
            let b = parse_json::<FailBody>(body)?;
            let error = b.error.or(b.reason).ok_or_else(|| ApiError::validation("error", "is required"))?;
            let retry_after_secs = optional_u32("retry_after_secs", b.retry_after_secs, &spec::RETRY_AFTER_SECS)?;
            let fence = Fence::presented(b.lease_id, b.worker_id)?;
            on_job(principal, &id, |id| QueueCommand::Fail { id, fence, error, retry_after_secs })?
        }
        JobRoute::Heartbeat(id) => {
            let b = parse_json_or_empty::<HeartbeatBody>(body)?;
            let lease_secs =
                optional_u32("lease_duration_secs", b.lease_duration_secs.or(b.visibility), &spec::LEASE_SECS)?;
            let fence = Fence::presented(b.lease_id, b.worker_id)?;
            on_job(principal, &id, |id| QueueCommand::Heartbeat { id, fence, lease_secs })?
        }
        JobRoute::SetPriority(id) => {
            let b: PriorityBody = parse_json(body)?;
            let priority = check_range(
                "priority",
                b.priority.ok_or_else(|| ApiError::validation("priority", "is required"))?,
                &spec::PRIORITY,
            )?;
            on_job(principal, &id, |id| QueueCommand::SetPriority { id, priority })?
        }
        JobRoute::Ack => {
            let b: AckBody = parse_json(body)?;
            let queue = principal.writable_queue(required_queue(b.queue_name)?)?;
            // An ack that carries neither list (a misspelt field) would otherwise answer
            // `{"succeeded": 0}`; an explicitly empty list is a batch that had nothing to ack.
            if b.acks.is_none() && b.fails.is_none() {
                return Err(ApiError::validation("acks", "acks or fails is required"));
            }
            let (acks, fails) = (b.acks.unwrap_or_default(), b.fails.unwrap_or_default());
            if acks.len() + fails.len() > spec::MAX_ACK_ITEMS {
                return Err(ApiError::validation(
                    "acks",
                    &format!("at most {} acks and fails together", spec::MAX_ACK_ITEMS),
                ));
            }
            for item in &acks {
                if let Some(result) = &item.result {
                    spec::check_job_value("result", result)?;
                }
            }
            for item in &fails {
                optional_u32("retry_after_secs", item.retry_after_secs.map(i64::from), &spec::RETRY_AFTER_SECS)?;
            }
            one(queue, QueueCommand::Ack { acks, fails })
        }
        JobRoute::ReplayDeadLetters => replay_dead_letters(parse_optional_fields(body)?, principal)?,
        JobRoute::PurgeDeadLetters => {
            let (queue, selection, older_than) = parse_json::<PurgeBody>(body)?.validate()?;
            one(principal.writable_queue(queue)?, QueueCommand::PurgeDeadLetters { selection, older_than })
        }
    })
}

/// A command on one job: the id names its queue; ids that are not ours, or out of the key's
/// scope, are simply not found.
fn on_job(principal: &Principal, id: &str, command: impl FnOnce(String) -> QueueCommand) -> Result<Call, ApiError> {
    let job =
        JobId::parse(id).filter(|j| principal.allows_queue(&j.queue)).ok_or_else(|| ApiError::not_found("job"))?;
    Ok(Call::Queue { queue: job.queue, command: command(job.text) })
}

// `POST /jobs` (also accepts the seed names `queue` and `scheduled_for`), and each item of
// a bulk enqueue (where `queue_name` is ignored: the batch names the queue). No
// `#[serde(flatten)]` here or below: it would buffer the body and break raw payloads.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("scheduled_for", "scheduled_at")))]
pub(crate) struct JobFields {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: Option<String>,
    /// Any JSON value but `null`, at most 1 MiB serialized (413 beyond).
    #[cfg_attr(feature = "openapi", schemars(extend("not" = {"type": "null"})))]
    payload: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::Priority>"))]
    priority: Option<i64>,
    /// Default: the queue's `max_retries` (3).
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: Option<i64>,
    /// Default: the queue's `default_timeout` (300).
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    timeout_seconds: Option<i64>,
    /// RFC 3339 with any offset. In the future, the job starts `scheduled`.
    #[serde(alias = "scheduled_for")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::RequestTime>"))]
    scheduled_at: Option<String>,
    /// An unclaimed job is cancelled at this time.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::RequestTime>"))]
    expires_at: Option<String>,
    /// Unique within the queue while the job is kept: a repeat returns the existing job's id
    /// with `created: false`.
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_IDEMPOTENCY_KEY_LEN)))]
    idempotency_key: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Tags"))]
    tags: Option<Box<RawValue>>,
    /// `POST /jobs` only: a URL (the webhook URL rules apply) POSTed the signed envelope of
    /// `job.completed` or `job.failed` when the job completes or fails for good, retried like
    /// any webhook delivery.
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = 2048)))]
    completion_webhook: Option<String>,
    /// Signs the completion webhook (`X-Spooled-Signature`); without it the request is unsigned.
    #[cfg_attr(feature = "openapi", schemars(length(min = super::webhooks::MIN_SECRET_LEN, max = super::webhooks::MAX_WEBHOOK_TEXT)))]
    completion_webhook_secret: Option<String>,
}

/// Defaults a bulk request applies to items that do not set their own.
#[derive(Default)]
struct JobDefaults {
    priority: Option<i64>,
    max_retries: Option<i64>,
    timeout_seconds: Option<i64>,
}

impl JobFields {
    /// The job's completion webhook, checked under `policy`; `None` for a bulk item, which
    /// may not have one.
    fn completion_hook(&mut self, policy: Option<UrlPolicy>) -> Result<Option<CompletionHook>, ApiError> {
        let (url, secret) = (self.completion_webhook.take(), self.completion_webhook_secret.take());
        let Some(url) = url else {
            return match secret {
                Some(_) => Err(ApiError::validation("completion_webhook_secret", "needs a completion_webhook")),
                None => Ok(None),
            };
        };
        let policy = policy.ok_or_else(|| {
            ApiError::validation("completion_webhook", "is available on POST /jobs only, not on a bulk enqueue")
        })?;
        let url = super::webhooks::check_url(url, policy)?;
        let secret = secret.map(super::webhooks::check_secret).transpose()?;
        Ok(Some(CompletionHook { url, secret }))
    }

    fn validate(mut self, defaults: &JobDefaults, policy: Option<UrlPolicy>) -> Result<JobSpec, ApiError> {
        let completion_webhook = self.completion_hook(policy)?;
        let payload = self.payload.ok_or_else(|| ApiError::validation("payload", "is required"))?;
        spec::check_job_value("payload", &payload)?;
        if let Some(key) = &self.idempotency_key {
            spec::check_idempotency_key(key, spec::MAX_IDEMPOTENCY_KEY_LEN)?;
        }
        let tags = self.tags.filter(|t| t.get() != "null");
        if let Some(tags) = &tags {
            spec::check_tags(tags)?;
        }
        Ok(JobSpec {
            payload,
            priority: check_range("priority", self.priority.or(defaults.priority).unwrap_or(0), &spec::PRIORITY)?,
            max_retries: optional_u32("max_retries", self.max_retries.or(defaults.max_retries), &spec::MAX_RETRIES)?,
            timeout_seconds: optional_u32(
                "timeout_seconds",
                self.timeout_seconds.or(defaults.timeout_seconds),
                &spec::TIMEOUT_SECS,
            )?,
            scheduled_at: optional_time("scheduled_at", self.scheduled_at)?,
            expires_at: optional_time("expires_at", self.expires_at)?,
            idempotency_key: self.idempotency_key,
            tags,
            completion_webhook,
        })
    }
}

impl JobFields {
    fn validate_single(mut self, policy: UrlPolicy) -> Result<(String, JobSpec), ApiError> {
        let queue = required_queue(self.queue_name.take())?;
        Ok((queue, self.validate(&JobDefaults::default(), Some(policy))?))
    }
}

// `POST /jobs/bulk`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
pub(crate) struct BulkBody {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: Option<String>,
    #[serde(default, deserialize_with = "crate::model::wire::objects")]
    // The items' schema is `EnqueueRequest`'s fields but the queue (see `api::openapi::schemas`).
    #[cfg_attr(feature = "openapi", schemars(with = "Vec<JobFields>"))]
    #[cfg_attr(feature = "openapi", schemars(length(min = *spec::BULK_JOBS.start(), max = *spec::BULK_JOBS.end())))]
    jobs: Option<Vec<JobFields>>,
    /// For items that set no `priority`.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::Priority>"))]
    default_priority: Option<i64>,
    /// For items that set no `max_retries`.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    default_max_retries: Option<i64>,
    /// For items that set no `timeout_seconds`.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    default_timeout_seconds: Option<i64>,
    /// Makes the batch retry-safe: item `i` without a key of its own gets
    /// `{idempotency_key}:{i}` (hence at most 252 characters: the item keys must fit in 255).
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_BATCH_IDEMPOTENCY_KEY_LEN)))]
    idempotency_key: Option<String>,
}

impl BulkBody {
    fn validate(self) -> Result<(String, Vec<JobSpec>), ApiError> {
        let queue = required_queue(self.queue_name)?;
        let items = self.jobs.ok_or_else(|| ApiError::validation("jobs", "is required"))?;
        if !spec::BULK_JOBS.contains(&items.len()) {
            let (min, max) = (spec::BULK_JOBS.start(), spec::BULK_JOBS.end());
            return Err(ApiError::validation("jobs", &format!("must hold {min} to {max} jobs")));
        }
        if let Some(key) = &self.idempotency_key {
            spec::check_idempotency_key(key, spec::MAX_BATCH_IDEMPOTENCY_KEY_LEN)?;
        }
        let defaults = JobDefaults {
            priority: self.default_priority,
            max_retries: self.default_max_retries,
            timeout_seconds: self.default_timeout_seconds,
        };
        let jobs = items
            .into_iter()
            .enumerate()
            .map(|(index, mut item)| {
                if item.idempotency_key.is_none() {
                    item.idempotency_key = self.idempotency_key.as_ref().map(|batch| format!("{batch}:{index}"));
                }
                item.validate(&defaults, None)
                    .map_err(|e| ApiError { message: format!("jobs[{index}].{}", e.message), ..e })
            })
            .collect::<Result<_, _>>()?;
        Ok((queue, jobs))
    }
}

// `POST /jobs/claim`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
pub(crate) struct ClaimBody {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: Option<String>,
    /// Recorded on the job (`assigned_worker_id`); complete/fail/heartbeat without a `lease_id`
    /// are fenced by it.
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_WORKER_ID_LEN)))]
    worker_id: Option<String>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::CLAIM_LIMIT.start(), max = *spec::CLAIM_LIMIT.end())))]
    #[cfg_attr(feature = "openapi", schemars(extend("default" = DEFAULT_CLAIM_LIMIT)))]
    limit: Option<i64>,
    /// Lease (visibility timeout). Default: the queue's `lease_duration_secs` (30).
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    lease_duration_secs: Option<i64>,
    /// Alias of `lease_duration_secs`.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    visibility: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::object")]
    filter: Option<ClaimFilter>,
    /// Long polling: when nothing is claimable, wait up to this long for a job (woken by
    /// enqueue or the alarm); then answer `{jobs: []}`.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::WAIT_SECS.start(), max = *spec::WAIT_SECS.end())))]
    #[cfg_attr(feature = "openapi", schemars(extend("default" = 0)))]
    wait_secs: Option<i64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(inline))]
pub(crate) struct ClaimFilter {
    #[serde(default, deserialize_with = "crate::model::wire::object")]
    priority: Option<PriorityFilter>,
}

/// Bounds on the priorities to claim; several combine. Unknown operators are a 400.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(inline))]
#[serde(deny_unknown_fields)]
pub(crate) struct PriorityFilter {
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    gte: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    gt: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    lte: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    lt: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    eq: Option<i64>,
}

impl PriorityFilter {
    /// The inclusive range the bounds leave (possibly empty: min > max).
    fn range(&self) -> (i64, i64) {
        let lows = [self.gte, self.gt.map(|v| v.saturating_add(1)), self.eq];
        let highs = [self.lte, self.lt.map(|v| v.saturating_sub(1)), self.eq];
        let min = lows.into_iter().flatten().fold(*spec::PRIORITY.start(), i64::max);
        let max = highs.into_iter().flatten().fold(*spec::PRIORITY.end(), i64::min);
        (min, max)
    }
}

impl ClaimBody {
    fn validate(self) -> Result<(String, ClaimRequest), ApiError> {
        let queue = required_queue(self.queue_name)?;
        if let Some(worker) = &self.worker_id {
            if worker.is_empty() || worker.len() > spec::MAX_WORKER_ID_LEN {
                let max = spec::MAX_WORKER_ID_LEN;
                return Err(ApiError::validation("worker_id", &format!("must be 1-{max} characters")));
            }
        }
        let (min_priority, max_priority) = self
            .filter
            .and_then(|f| f.priority)
            .map_or((*spec::PRIORITY.start(), *spec::PRIORITY.end()), |p| p.range());
        Ok((
            queue,
            ClaimRequest {
                limit: check_range("limit", self.limit.unwrap_or(DEFAULT_CLAIM_LIMIT), &spec::CLAIM_LIMIT)? as u32,
                lease_secs: optional_u32(
                    "lease_duration_secs",
                    self.lease_duration_secs.or(self.visibility),
                    &spec::LEASE_SECS,
                )?,
                worker_id: self.worker_id,
                wait_secs: optional_u32("wait_secs", self.wait_secs, &spec::WAIT_SECS)?.unwrap_or(0),
                min_priority,
                max_priority,
            },
        ))
    }
}

/// `lease_id` (or, for legacy clients, `worker_id`) fences the job.
// `POST /jobs/{id}/complete`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct CompleteBody {
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    lease_id: Option<String>,
    /// Fences by the claiming worker when no `lease_id` is sent, unless the queue sets
    /// `require_lease_id`.
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    worker_id: Option<String>,
    /// Stored as the job's `result`; at most 1 MiB serialized (413).
    result: Option<Box<RawValue>>,
}

/// `lease_id` (or `worker_id`) fences the job.
// `POST /jobs/{id}/fail` (`reason` is accepted for `error`).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct FailBody {
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    lease_id: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    worker_id: Option<String>,
    /// Why the attempt failed (stored as `last_error`, truncated to 2048 characters). Required
    /// (or `reason`).
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    error: Option<String>,
    /// Alias of `error`.
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    reason: Option<String>,
    /// Explicit retry delay instead of the queue's backoff curve.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::RETRY_AFTER_SECS.start(), max = *spec::RETRY_AFTER_SECS.end())))]
    retry_after_secs: Option<i64>,
}

// `POST /jobs/{id}/heartbeat`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct HeartbeatBody {
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    lease_id: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "String"))]
    worker_id: Option<String>,
    /// New lease from now. Default: the length the job was claimed with.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    lease_duration_secs: Option<i64>,
    /// Alias of `lease_duration_secs`.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    visibility: Option<i64>,
}

// `POST /jobs/dlq/retry`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
pub(crate) struct ReplayBody {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::QueueName>"))]
    queue_name: Option<String>,
    /// Replay these jobs (ids that are not dead letters, or not in `queue_name` when given, are
    /// skipped). At most `limit` (400 `BAD_REQUEST`).
    job_ids: Option<Vec<String>>,
    /// Without `job_ids`: replay the oldest `limit` dead letters of the queue (or of every
    /// queue the key may change).
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LIST_LIMIT.start(), max = *spec::LIST_LIMIT.end())))]
    #[cfg_attr(feature = "openapi", schemars(extend("default" = DEFAULT_REPLAY_LIMIT)))]
    limit: Option<i64>,
}

fn replay_dead_letters(b: ReplayBody, principal: &Principal) -> Result<Call, ApiError> {
    let limit = check_range("limit", b.limit.unwrap_or(DEFAULT_REPLAY_LIMIT), &spec::LIST_LIMIT)?;
    let command = |selection| QueueCommand::ReplayDeadLetters { selection };
    // A named queue must be a queue name even when no id could match it.
    b.queue_name.as_deref().map(validate_queue_name).transpose()?;
    match (b.job_ids, b.queue_name) {
        (Some(ids), queue) => {
            if ids.len() as i64 > limit {
                return Err(ApiError::new(ErrorKind::BadRequest, format!("at most {limit} job_ids per request")));
            }
            let mut by_queue: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for id in ids {
                // Ids that are not ours, or not in the named queue, simply match nothing.
                if let Some(job) = JobId::parse(&id).filter(|j| queue.as_ref().is_none_or(|q| *q == j.queue)) {
                    by_queue.entry(principal.writable_queue(job.queue)?).or_default().push(job.text);
                }
            }
            let calls = by_queue.into_iter().map(|(q, ids)| (q, command(DeadLetterSelection::Ids(ids)))).collect();
            Ok(Call::Many { calls, merge: Merge::ReplayCounts })
        }
        (None, Some(queue)) => Ok(Call::Queue {
            queue: principal.writable_queue(queue)?,
            command: command(DeadLetterSelection::Oldest(limit as u32)),
        }),
        // Tenant-wide: the oldest `limit` dead letters of every queue the key may change.
        (None, None) => Ok(Call::EveryQueue {
            command: command(DeadLetterSelection::Oldest(limit as u32)),
            merge: Merge::ReplayCounts,
        }),
    }
}

// `PUT /jobs/{id}/priority`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct PriorityBody {
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Priority"))]
    priority: Option<i64>,
}

/// At most 200 items (acks plus fails), all of one queue, each fenced by its `lease_id`.
// `POST /jobs/ack`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
pub(crate) struct AckBody {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: Option<String>,
    #[serde(default, deserialize_with = "crate::model::wire::objects")]
    acks: Option<Vec<AckItem>>,
    #[serde(default, deserialize_with = "crate::model::wire::objects")]
    fails: Option<Vec<FailItem>>,
}

// `POST /jobs/dlq/purge`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
pub(crate) struct PurgeBody {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: Option<String>,
    /// Only dead letters dead-lettered before this time.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::RequestTime>"))]
    older_than: Option<String>,
    /// Purge at most this many, oldest first.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::PURGE_LIMIT.start(), max = *spec::PURGE_LIMIT.end())))]
    #[cfg_attr(feature = "openapi", schemars(extend("default" = *spec::PURGE_LIMIT.end())))]
    limit: Option<i64>,
    /// Must be `true` (else 400 `BAD_REQUEST`).
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    confirm: Option<bool>,
}

impl PurgeBody {
    fn validate(self) -> Result<(String, DeadLetterSelection, Option<i64>), ApiError> {
        if self.confirm != Some(true) {
            return Err(ApiError::new(ErrorKind::BadRequest, "purging dead letters needs \"confirm\": true"));
        }
        let queue = required_queue(self.queue_name)?;
        let limit = check_range("limit", self.limit.unwrap_or(*spec::PURGE_LIMIT.end()), &spec::PURGE_LIMIT)? as u32;
        Ok((queue, DeadLetterSelection::Oldest(limit), optional_time("older_than", self.older_than)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Principal {
        Principal { tenant_id: "t".into(), key_id: "k".into(), queues: vec![], rate_limit: None, expires_at: None }
    }

    fn build_ok(route: JobRoute, body: &str) -> Call {
        build(route, body.as_bytes(), &admin(), UrlPolicy::default()).unwrap()
    }

    fn build_err(route: JobRoute, body: &str) -> ErrorKind {
        build(route, body.as_bytes(), &admin(), UrlPolicy::default()).unwrap_err().kind
    }

    #[test]
    fn enqueue_accepts_seed_aliases() {
        let call =
            build_ok(JobRoute::Enqueue, r#"{"queue":"q","payload":{"a":1},"scheduled_for":"2030-01-01T00:00:00Z"}"#);
        let Call::Queue { queue, command: QueueCommand::Enqueue { job } } = call else { panic!("wrong call") };
        assert_eq!(queue, "q");
        assert_eq!(job.payload.get(), r#"{"a":1}"#);
        assert_eq!(job.scheduled_at, Some(1_893_456_000_000));
    }

    #[test]
    fn enqueue_rejects_bad_fields() {
        for body in [
            r#"{"payload":1}"#,
            r#"{"queue_name":"a b","payload":1}"#,
            r#"{"queue_name":"q"}"#,
            r#"{"queue_name":"q","payload":1,"priority":101}"#,
            r#"{"queue_name":"q","payload":1,"priority":1.5}"#,
            r#"{"queue_name":"q","payload":1,"max_retries":-1}"#,
            r#"{"queue_name":"q","payload":1,"scheduled_at":"soon"}"#,
            r#"{"queue_name":"q","payload":1,"idempotency_key":""}"#,
            r#"{"queue_name":"q","payload":1,"tags":[1]}"#,
        ] {
            assert_eq!(build_err(JobRoute::Enqueue, body), ErrorKind::ValidationError, "{body}");
        }
        assert_eq!(build_err(JobRoute::Enqueue, "{"), ErrorKind::InvalidJson);
    }

    #[test]
    fn bulk_derives_item_keys_from_the_batch_key() {
        let call = build_ok(
            JobRoute::EnqueueBulk,
            r#"{"queue_name":"q","idempotency_key":"b","jobs":[{"payload":1},{"payload":2,"idempotency_key":"own"}]}"#,
        );
        let Call::Queue { command: QueueCommand::EnqueueBulk { jobs }, .. } = call else { panic!("wrong call") };
        assert_eq!(jobs[0].idempotency_key.as_deref(), Some("b:0"));
        assert_eq!(jobs[1].idempotency_key.as_deref(), Some("own"));
    }

    #[test]
    fn batch_keys_leave_room_for_the_item_suffix() {
        let body = |len: usize| {
            format!(r#"{{"queue_name":"q","idempotency_key":"{}","jobs":[{{"payload":1}}]}}"#, "k".repeat(len))
        };
        assert!(matches!(build_ok(JobRoute::EnqueueBulk, &body(252)), Call::Queue { .. }));
        assert_eq!(build_err(JobRoute::EnqueueBulk, &body(253)), ErrorKind::ValidationError);
    }

    #[test]
    fn bulk_size_is_bounded() {
        assert_eq!(build_err(JobRoute::EnqueueBulk, r#"{"queue_name":"q","jobs":[]}"#), ErrorKind::ValidationError);
        let many = format!(r#"{{"queue_name":"q","jobs":[{}]}}"#, vec![r#"{"payload":1}"#; 101].join(","));
        assert_eq!(build_err(JobRoute::EnqueueBulk, &many), ErrorKind::ValidationError);
    }

    #[test]
    fn priority_filters_become_ranges() {
        let range = |f: &str| {
            let call = build_ok(JobRoute::Claim, &format!(r#"{{"queue_name":"q","filter":{{"priority":{f}}}}}"#));
            let Call::Queue { command: QueueCommand::Claim(c), .. } = call else { panic!("wrong call") };
            (c.min_priority, c.max_priority)
        };
        assert_eq!(range(r#"{"gte":5}"#), (5, 100));
        assert_eq!(range(r#"{"gt":5,"lt":9}"#), (6, 8));
        assert_eq!(range(r#"{"eq":-3}"#), (-3, -3));
        assert_eq!(range(r#"{"lte":0}"#), (-100, 0));
        assert_eq!(
            build_err(JobRoute::Claim, r#"{"queue_name":"q","filter":{"priority":{"ge":1}}}"#),
            ErrorKind::ValidationError
        );
    }

    #[test]
    fn claim_bounds_limit_and_lease() {
        assert_eq!(build_err(JobRoute::Claim, r#"{"queue_name":"q","limit":0}"#), ErrorKind::ValidationError);
        assert_eq!(build_err(JobRoute::Claim, r#"{"queue_name":"q","limit":101}"#), ErrorKind::ValidationError);
        assert_eq!(build_err(JobRoute::Claim, r#"{"queue_name":"q","visibility":4}"#), ErrorKind::ValidationError);
        assert_eq!(
            build_err(JobRoute::Claim, r#"{"queue_name":"q","lease_duration_secs":43201}"#),
            ErrorKind::ValidationError
        );
    }

    #[test]
    fn foreign_job_ids_are_not_found() {
        assert_eq!(build_err(JobRoute::Get("../etc".into()), ""), ErrorKind::NotFound);
        assert_eq!(build_err(JobRoute::Get("q.123".into()), ""), ErrorKind::NotFound);
    }

    #[test]
    fn fail_requires_an_error_and_accepts_reason() {
        let id = "q.01JD3Q0000000000000000000A";
        assert_eq!(build_err(JobRoute::Fail(id.into()), r#"{"lease_id":"x"}"#), ErrorKind::ValidationError);
        assert!(matches!(
            build_ok(JobRoute::Fail(id.into()), r#"{"lease_id":"x","reason":"boom"}"#),
            Call::Queue { .. }
        ));
    }

    /// A replay that names a queue checks the name, even when no id could match.
    #[test]
    fn a_dead_letter_replay_names_a_valid_queue_even_with_no_ids() {
        let body = r#"{"job_ids":[],"queue_name":"\u00d7"}"#;
        let err = build(JobRoute::ReplayDeadLetters, body.as_bytes(), &admin(), UrlPolicy::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ValidationError);
    }

    /// Bodies that carry none of the fields their route needs are refused, naming them; an
    /// unknown field beside the known ones is ignored.
    #[test]
    fn bodies_missing_what_the_route_needs_name_it() {
        let id = || "q.01JD3Q0000000000000000000A".to_string();
        let named = |route: JobRoute, body: &str, field: &str| {
            let err = build(route, body.as_bytes(), &admin(), UrlPolicy::default()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::ValidationError, "{body}");
            assert!(err.message.contains(field), "{body}: {field} not in {}", err.message);
        };
        let item = r#"[{"id":"q.01JD3Q0000000000000000000A","lease_id":"l"}]"#;
        named(JobRoute::Ack, &format!(r#"{{"queue_name":"q","items":{item}}}"#), "acks or fails");
        named(JobRoute::Ack, r#"{"queue_name":"q"}"#, "acks or fails");
        named(JobRoute::EnqueueBulk, &format!(r#"{{"queue_name":"q","items":{item}}}"#), "jobs");
        named(JobRoute::Complete(id()), r#"{"lease":"l"}"#, "lease_id or worker_id");
        named(JobRoute::Heartbeat(id()), "", "lease_id or worker_id");
        named(JobRoute::Fail(id()), r#"{"error":"boom"}"#, "lease_id or worker_id");
        named(JobRoute::ReplayDeadLetters, r#"{"queue_names":["q"]}"#, "queue_names");
        assert!(build(JobRoute::Ack, br#"{"queue_name":"q","acks":[],"v":2}"#, &admin(), UrlPolicy::default()).is_ok());
        assert!(build(JobRoute::Complete(id()), br#"{"lease_id":"l","v":2}"#, &admin(), UrlPolicy::default()).is_ok());
        assert!(build(JobRoute::ReplayDeadLetters, b"{}", &admin(), UrlPolicy::default()).is_ok());
        assert!(build(JobRoute::ReplayDeadLetters, br#"{"queue":"q","v":2}"#, &admin(), UrlPolicy::default()).is_ok());
    }

    #[test]
    fn purge_needs_confirmation() {
        assert_eq!(build_err(JobRoute::PurgeDeadLetters, r#"{"queue_name":"q"}"#), ErrorKind::BadRequest);
        assert!(matches!(
            build_ok(JobRoute::PurgeDeadLetters, r#"{"queue_name":"q","confirm":true}"#),
            Call::Queue { .. }
        ));
    }

    #[test]
    fn scoped_keys_are_denied_other_queues() {
        let scoped = Principal { queues: vec!["a".into()], ..admin() };
        let err =
            build(JobRoute::Enqueue, br#"{"queue_name":"b","payload":1}"#, &scoped, UrlPolicy::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
        let err = build(JobRoute::Get("b.01JD3Q0000000000000000000A".into()), b"", &scoped, UrlPolicy::default())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
    }
}
