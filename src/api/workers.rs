//! Worker routes (`/api/v1/workers/…`), validated into tenant commands.

use super::body::{parse_json, parse_json_or_empty, required_queue, Query};
use super::routes::WorkerRoute;
#[cfg(feature = "openapi")]
use crate::api::openapi::wire;
use crate::model::ids::random_token;
use crate::model::spec::{self, MAX_METADATA_BYTES, MAX_WORKER_OFFSET, WORKER_PAGE};
use crate::model::{ApiError, Entropy};
use crate::tenant::protocol::TenantCommand;
use crate::tenant::workers::{NewWorker, WorkerBeat, WorkerRecord, WORKER_STATUSES};
use crate::tenant::Principal;
use serde::Deserialize;
use serde_json::Value;

/// `max_concurrency` of a worker that registers without one.
const DEFAULT_CONCURRENCY: i64 = 5;

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(transform = wire::alias("queue", "queue_name")))]
pub(crate) struct RegisterBody {
    #[serde(alias = "queue")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = spec::MAX_HOSTNAME_LEN)))]
    hostname: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_WORKER_LABEL_LEN)))]
    worker_type: Option<String>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_CONCURRENCY.start(), max = *spec::MAX_CONCURRENCY.end())))]
    #[cfg_attr(feature = "openapi", schemars(extend("default" = DEFAULT_CONCURRENCY)))]
    max_concurrency: Option<i64>,
    /// At most 16 KiB serialized.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::Object>"))]
    metadata: Option<Value>,
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_WORKER_LABEL_LEN)))]
    version: Option<String>,
    /// Client-chosen id: registering it again updates the worker (upsert).
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::WorkerId>"))]
    worker_id: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct HeartbeatBody {
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::CURRENT_JOBS.start(), max = *spec::CURRENT_JOBS.end())))]
    #[cfg_attr(feature = "openapi", schemars(extend("default" = 0)))]
    current_jobs: Option<i64>,
    #[cfg_attr(feature = "openapi", schemars(schema_with = "wire::reported_status"))]
    status: Option<String>,
    /// Replaces the stored metadata when given (≤ 16 KiB).
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::Object>"))]
    metadata: Option<Value>,
}

/// Builds the tenant command for a worker route.
pub fn build(
    route: WorkerRoute,
    body: &[u8],
    query: &Query,
    principal: &Principal,
    entropy: &mut dyn Entropy,
) -> Result<TenantCommand, ApiError> {
    Ok(match route {
        WorkerRoute::Register => {
            let b: RegisterBody = parse_json(body)?;
            let id = match b.worker_id {
                Some(id) => check_worker_id(&id)?,
                None => format!("wkr_{}", random_token(24, entropy)),
            };
            let worker = NewWorker {
                id,
                queue_name: principal.writable_queue(required_queue(b.queue_name)?)?,
                hostname: bounded_text("hostname", b.hostname, spec::MAX_HOSTNAME_LEN)?
                    .ok_or_else(|| ApiError::validation("hostname", "is required"))?,
                worker_type: bounded_text("worker_type", b.worker_type, spec::MAX_WORKER_LABEL_LEN)?,
                max_concurrency: spec::check_range(
                    "max_concurrency",
                    b.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY),
                    &spec::MAX_CONCURRENCY,
                )? as u32,
                metadata: metadata(b.metadata)?,
                version: bounded_text("version", b.version, spec::MAX_WORKER_LABEL_LEN)?,
            };
            TenantCommand::RegisterWorker { worker }
        }
        WorkerRoute::Heartbeat(id) => {
            let b: HeartbeatBody = parse_json_or_empty(body)?;
            let status = b.status.unwrap_or_else(|| "healthy".into());
            if !WORKER_STATUSES.contains(&status.as_str()) {
                return Err(ApiError::validation("status", "must be healthy, degraded, draining or offline"));
            }
            let current_jobs =
                spec::check_range("current_jobs", b.current_jobs.unwrap_or(0), &spec::CURRENT_JOBS)? as u32;
            TenantCommand::WorkerHeartbeat {
                id,
                beat: WorkerBeat { current_jobs, status, metadata: metadata(b.metadata)? },
            }
        }
        WorkerRoute::Deregister(id) => TenantCommand::DeregisterWorker { id },
        WorkerRoute::Get(id) => TenantCommand::GetWorker { id },
        WorkerRoute::List => TenantCommand::ListWorkers(
            principal.scope(),
            query.int("limit", *WORKER_PAGE.end(), &WORKER_PAGE)? as u32,
            query.int("offset", 0, &(0..=MAX_WORKER_OFFSET))? as u32,
        ),
    })
}

/// Whether a worker is on a queue the key may see.
pub fn visible(principal: &Principal, worker: &WorkerRecord) -> bool {
    principal.allows_queue(&worker.queue_name)
}

/// A client-chosen worker id: 1–128 characters of `[A-Za-z0-9._-]`.
fn check_worker_id(id: &str) -> Result<String, ApiError> {
    let ok = (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::validation("worker_id", "must be 1-128 characters of A-Z a-z 0-9 . _ -"))
    }
}

fn bounded_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.is_empty() || v.chars().count() > max => {
            Err(ApiError::validation(field, &format!("must be 1-{max} characters")))
        }
        other => Ok(other),
    }
}

fn metadata(value: Option<Value>) -> Result<Option<String>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(None) };
    let text = value.to_string();
    if !value.is_object() || text.len() > MAX_METADATA_BYTES {
        return Err(ApiError::validation("metadata", "must be an object of at most 16 KiB (16384 bytes) serialized"));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorKind, OsEntropy};

    fn admin() -> Principal {
        Principal { tenant_id: "t".into(), key_id: "k".into(), queues: vec![], rate_limit: None, expires_at: None }
    }

    fn register(body: &str) -> Result<NewWorker, ApiError> {
        match build(WorkerRoute::Register, body.as_bytes(), &Query::default(), &admin(), &mut OsEntropy)? {
            TenantCommand::RegisterWorker { worker } => Ok(worker),
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn registration_mints_an_id_unless_the_client_chose_one() {
        let minted = register(r#"{"queue_name":"q","hostname":"h"}"#).unwrap();
        assert!(minted.id.starts_with("wkr_"));
        assert_eq!(minted.max_concurrency, 5);
        let chosen = register(r#"{"queue_name":"q","hostname":"h","worker_id":"box-1.a"}"#).unwrap();
        assert_eq!(chosen.id, "box-1.a");
    }

    #[test]
    fn registration_is_validated() {
        for body in [
            r#"{"hostname":"h"}"#,
            r#"{"queue_name":"q"}"#,
            r#"{"queue_name":"q","hostname":"h","worker_id":"a/b"}"#,
            r#"{"queue_name":"q","hostname":"h","max_concurrency":0}"#,
            r#"{"queue_name":"q","hostname":"h","metadata":[1]}"#,
            &format!(r#"{{"queue_name":"q","hostname":"h","metadata":{{"k":"{}"}}}}"#, "x".repeat(MAX_METADATA_BYTES)),
        ] {
            assert_eq!(register(body).unwrap_err().kind, ErrorKind::ValidationError, "{body}");
        }
    }

    #[test]
    fn the_list_pages_like_spooled_and_keeps_to_the_keys_queues() {
        let page = |query: &[(&str, &str)], principal: &Principal| {
            let query = Query(query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            match build(WorkerRoute::List, b"", &query, principal, &mut OsEntropy)? {
                TenantCommand::ListWorkers(queues, limit, offset) => Ok::<_, ApiError>((queues, limit, offset)),
                other => panic!("wrong command {other:?}"),
            }
        };
        assert_eq!(page(&[], &admin()), Ok((None, 100, 0)));
        let scoped = Principal { queues: vec!["a".into()], ..admin() };
        assert_eq!(page(&[("limit", "2"), ("offset", "4")], &scoped), Ok((Some(vec!["a".into()]), 2, 4)));
        for bad in [[("limit", "0")], [("limit", "101")], [("offset", "-1")]] {
            assert_eq!(page(&bad, &admin()).unwrap_err().kind, ErrorKind::ValidationError);
        }
    }

    #[test]
    fn heartbeat_status_is_checked() {
        let beat = |body: &str| {
            build(WorkerRoute::Heartbeat("w".into()), body.as_bytes(), &Query::default(), &admin(), &mut OsEntropy)
        };
        assert!(beat("").is_ok());
        assert!(beat(r#"{"status":"draining","current_jobs":3}"#).is_ok());
        assert!(beat(r#"{"status":"sleepy"}"#).is_err());
    }
}
