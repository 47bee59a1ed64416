//! Queue routes: settings, pause and resume, stats, listing and deletion.

use super::body::{optional_u32, parse_json_or_empty, parse_optional_fields, Query};
use super::calls::{Call, Merge};
use super::routes::QueueRoute;
#[cfg(feature = "openapi")]
use crate::api::openapi::wire;
use crate::model::spec::{
    self, check_range, BACKOFF_SECS, MAX_JOBS, MAX_PAUSE_REASON_LEN, QUEUE_RATE_LIMIT, RETENTION_SECS,
};
use crate::model::time::SECOND_MS;
use crate::model::{ApiError, EpochMs};
use crate::queue::config::ConfigChanges;
use crate::queue::protocol::QueueCommand;
use crate::tenant::Principal;
use serde::Deserialize;
use serde_json::Value;

/// Builds the call for a queue route.
pub fn build(route: QueueRoute, body: &[u8], query: &Query, principal: &Principal) -> Result<Call, ApiError> {
    let one = |queue, command| Ok(Call::Queue { queue, command });
    match route {
        QueueRoute::List => Ok(Call::EveryQueue { command: QueueCommand::GetConfig, merge: Merge::QueueList }),
        QueueRoute::Get(name) => one(principal.readable_queue(&name)?, QueueCommand::GetConfig),
        QueueRoute::Stats(name) => one(principal.readable_queue(&name)?, QueueCommand::Stats),
        QueueRoute::Configure(name) => {
            let changes = parse_optional_fields::<ConfigBody>(body)?.validate(&name)?;
            one(principal.writable_queue(name)?, QueueCommand::Configure { changes })
        }
        QueueRoute::Pause(name) => {
            let reason = parse_json_or_empty::<PauseBody>(body)?.reason;
            if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_PAUSE_REASON_LEN) {
                return Err(ApiError::validation(
                    "reason",
                    &format!("must be at most {MAX_PAUSE_REASON_LEN} characters"),
                ));
            }
            one(principal.writable_queue(name)?, QueueCommand::Pause { reason })
        }
        QueueRoute::Resume(name) => one(principal.writable_queue(name)?, QueueCommand::Resume),
        QueueRoute::Delete(name) => {
            let delete_jobs = query.flag("delete_jobs")?;
            one(principal.writable_queue(name)?, QueueCommand::DeleteQueue { delete_jobs })
        }
    }
}

/// Fields not sent keep their current value.
// `PUT /queues/{name}/config`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct ConfigBody {
    /// Optional; must equal the queue in the path.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::QueueName>"))]
    queue_name: Option<String>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    default_timeout: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    lease_duration_secs: Option<i64>,
    /// At most `backoff_cap_secs` (sent or stored).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::BACKOFF_SECS.start(), max = *spec::BACKOFF_SECS.end())))]
    backoff_base_secs: Option<f64>,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::BACKOFF_SECS.start(), max = *spec::BACKOFF_SECS.end())))]
    backoff_cap_secs: Option<f64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::RETENTION_SECS.start(), max = *spec::RETENTION_SECS.end())))]
    retention_secs: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_JOBS.start(), max = *spec::MAX_JOBS.end())))]
    max_jobs: Option<i64>,
    /// `false` pauses claims, `true` resumes them.
    enabled: Option<bool>,
    /// `true` (recommended): complete, fail and heartbeat need the `lease_id`; `false`
    /// (default): `worker_id` alone also fences.
    #[cfg_attr(feature = "openapi", schemars(with = "bool"))]
    require_lease_id: Option<bool>,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::Object>"))]
    settings: Option<Value>,
    /// Jobs claimed per second; `null` removes the limit.
    // Absent: unchanged; `null`: unlimited; a number: jobs claimed per second.
    #[serde(default, deserialize_with = "crate::model::wire::present_whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::QUEUE_RATE_LIMIT.start(), max = *spec::QUEUE_RATE_LIMIT.end())))]
    rate_limit: Option<Option<i64>>,
}

impl ConfigBody {
    fn validate(self, path_name: &str) -> Result<ConfigChanges, ApiError> {
        if self.queue_name.as_deref().is_some_and(|n| n != path_name) {
            return Err(ApiError::validation("queue_name", "must match the queue in the path"));
        }
        if self.settings.as_ref().is_some_and(|s| !s.is_object()) {
            return Err(ApiError::validation("settings", "must be an object"));
        }
        let changes = ConfigChanges {
            max_retries: optional_u32("max_retries", self.max_retries, &spec::MAX_RETRIES)?,
            default_timeout: optional_u32("default_timeout", self.default_timeout, &spec::TIMEOUT_SECS)?,
            lease_duration_secs: optional_u32("lease_duration_secs", self.lease_duration_secs, &spec::LEASE_SECS)?,
            backoff_base_ms: self.backoff_base_secs.map(|s| backoff_ms("backoff_base_secs", s)).transpose()?,
            backoff_cap_ms: self.backoff_cap_secs.map(|s| backoff_ms("backoff_cap_secs", s)).transpose()?,
            retention_ms: self
                .retention_secs
                .map(|s| check_range("retention_secs", s, &RETENTION_SECS))
                .transpose()?
                .map(|s| s * SECOND_MS),
            enabled: self.enabled,
            max_jobs: optional_u32("max_jobs", self.max_jobs, &MAX_JOBS)?,
            rate_limit: self.rate_limit.map(|r| optional_u32("rate_limit", r, &QUEUE_RATE_LIMIT)).transpose()?,
            require_lease_id: self.require_lease_id,
            settings: self.settings,
        };
        if let (Some(base), Some(cap)) = (changes.backoff_base_ms, changes.backoff_cap_ms) {
            if base > cap {
                return Err(ApiError::validation("backoff_base_secs", "must not exceed backoff_cap_secs"));
            }
        }
        Ok(changes)
    }
}

fn backoff_ms(field: &str, secs: f64) -> Result<EpochMs, ApiError> {
    if !BACKOFF_SECS.contains(&secs) {
        return Err(ApiError::validation(field, "must be between 0.01 and 86400 seconds"));
    }
    Ok((secs * SECOND_MS as f64).round() as EpochMs)
}

// `POST /queues/{name}/pause` (the body is optional).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct PauseBody {
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_PAUSE_REASON_LEN)))]
    reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorKind;

    fn admin() -> Principal {
        Principal { tenant_id: "t".into(), key_id: "k".into(), queues: vec![], rate_limit: None, expires_at: None }
    }

    fn changes(body: &str) -> Result<ConfigChanges, ApiError> {
        match build(QueueRoute::Configure("q".into()), body.as_bytes(), &Query::default(), &admin())? {
            Call::Queue { command: QueueCommand::Configure { changes }, .. } => Ok(changes),
            other => panic!("wrong call {other:?}"),
        }
    }

    #[test]
    fn config_converts_seconds_and_keeps_absent_fields() {
        let c = changes(r#"{"backoff_base_secs":0.5,"retention_secs":1,"max_retries":0}"#).unwrap();
        assert_eq!((c.backoff_base_ms, c.retention_ms, c.max_retries), (Some(500), Some(1000), Some(0)));
        assert_eq!((c.backoff_cap_ms, c.enabled), (None, None));
    }

    #[test]
    fn config_rejects_bad_values() {
        for body in [
            r#"{"max_retries":101}"#,
            r#"{"lease_duration_secs":1}"#,
            r#"{"retention_secs":0}"#,
            r#"{"backoff_base_secs":10,"backoff_cap_secs":1}"#,
            r#"{"queue_name":"other"}"#,
            r#"{"rate_limit":0}"#,
            r#"{"settings":[1]}"#,
        ] {
            assert_eq!(changes(body).unwrap_err().kind, ErrorKind::ValidationError, "{body}");
        }
    }

    /// `{}` changes nothing and is served; a body of unknown fields only (a misspelt setting)
    /// is refused, since it would otherwise answer 200 having changed nothing.
    #[test]
    fn config_refuses_a_body_of_unknown_fields_only() {
        assert_eq!(changes("{}").unwrap(), ConfigChanges::default());
        assert_eq!(changes(r#"{"max_retries":2,"newer_field":1}"#).unwrap().max_retries, Some(2));
        let err = changes(r#"{"max_retry":5}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ValidationError);
        assert!(err.message.contains("max_retry") && err.message.contains("max_retries"), "{}", err.message);
    }

    #[test]
    fn pause_accepts_an_empty_body() {
        assert!(matches!(
            build(QueueRoute::Pause("q".into()), b"", &Query::default(), &admin()),
            Ok(Call::Queue { command: QueueCommand::Pause { reason: None }, .. })
        ));
    }

    /// Pausing does what it says whatever else the body holds: an unknown field is ignored.
    #[test]
    fn pause_tolerates_unknown_fields() {
        assert!(matches!(
            build(QueueRoute::Pause("q".into()), br#"{"note":"x"}"#, &Query::default(), &admin()),
            Ok(Call::Queue { command: QueueCommand::Pause { reason: None }, .. })
        ));
    }
}
