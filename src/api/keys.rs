//! API key management requests (`/api/v1/api-keys`), validated into tenant commands.

use super::body::{optional_time, parse_json, parse_optional_fields, required_name};
use super::routes::KeyRoute;
#[cfg(feature = "openapi")]
use crate::api::openapi::wire;
use crate::model::ids::validate_queue_name;
use crate::model::{spec, ApiError, Entropy, EpochMs, ErrorKind};
use crate::tenant::key_store::{KeyChanges, NewKey};
use crate::tenant::keys::{mint_key, new_key_id};
use crate::tenant::protocol::TenantCommand;
use crate::tenant::signing::KeySigning;
use crate::tenant::Principal;
use serde::Deserialize;

/// What the Worker must send, and what it must do around it.
#[derive(Debug)]
pub struct KeyCall {
    /// The tenant actor's command.
    pub command: TenantCommand,
    /// A newly minted raw key to add to the reply (shown only once).
    pub raw_key: Option<String>,
    /// A key whose cached verification must be dropped in this isolate right away.
    pub forget: Option<String>,
}

/// Builds the tenant command for a key-management route; new keys are signed by `signing`.
pub fn build(
    route: KeyRoute,
    body: &[u8],
    principal: &Principal,
    now: EpochMs,
    signing: &KeySigning,
    entropy: &mut dyn Entropy,
) -> Result<KeyCall, ApiError> {
    // A key confined to some queues must not mint itself a wider one.
    if !principal.is_unscoped() {
        return Err(ApiError::new(ErrorKind::AccessDenied, "only keys with access to all queues can manage API keys"));
    }
    let plain = |command| KeyCall { command, raw_key: None, forget: None };
    // The tenant actor bounds every grant by this key's stored scope.
    let by = principal.key_id.clone();
    Ok(match route {
        KeyRoute::Create => {
            let b: CreateKeyBody = parse_json(body)?;
            let minted = mint_key(&principal.tenant_id, signing, entropy);
            let key = NewKey {
                id: new_key_id(entropy),
                name: required_name(b.name)?,
                hash: minted.hash,
                prefix: minted.prefix,
                // No scope named: every queue, said so explicitly.
                queues: b.queues.map_or_else(|| Ok(vec!["*".to_owned()]), check_queues)?,
                rate_limit: check_rate_limit(b.rate_limit)?,
                expires_at: optional_time("expires_at", b.expires_at)?.map(|at| check_expiry(at, now)).transpose()?,
            };
            KeyCall { command: TenantCommand::CreateKey { key, by }, raw_key: Some(minted.raw), forget: None }
        }
        KeyRoute::List => plain(TenantCommand::ListKeys),
        KeyRoute::Get(id) => plain(TenantCommand::GetKey { id }),
        KeyRoute::Update(id) => {
            let b: UpdateKeyBody = parse_optional_fields(body)?;
            if id == principal.key_id && (b.is_active.is_some() || b.queues.is_some() || b.rate_limit.is_some()) {
                return Err(ApiError::conflict(
                    "a key cannot change its own activity, scope or rate limit; change it with another key",
                ));
            }
            let changes = KeyChanges {
                name: b.name.map(|n| required_name(Some(n))).transpose()?,
                queues: b.queues.map(check_queues).transpose()?,
                rate_limit: b.rate_limit.map(check_rate_limit).transpose()?,
                is_active: b.is_active,
            };
            let command = TenantCommand::UpdateKey { id: id.clone(), changes, by };
            KeyCall { command, raw_key: None, forget: Some(id) }
        }
        KeyRoute::Revoke(id) => {
            if id == principal.key_id {
                return Err(ApiError::conflict("a key cannot revoke itself; revoke it with another key"));
            }
            KeyCall { command: TenantCommand::RevokeKey { id: id.clone(), by }, raw_key: None, forget: Some(id) }
        }
    })
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct CreateKeyBody {
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = spec::MAX_NAME_LEN)))]
    name: Option<String>,
    /// Queue names, or `["*"]` (default) for every queue; `[]` is refused.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<Vec<wire::KeyQueue>>", length(min = 1, max = spec::MAX_KEY_QUEUES)))]
    queues: Option<Vec<String>>,
    /// Requests per minute, at most the creating key's. Absent: the default, or the creator's
    /// lower limit.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::KEY_RATE_LIMIT.start(), max = *spec::KEY_RATE_LIMIT.end())))]
    rate_limit: Option<i64>,
    /// Ahead, at most 2100-01-01T00:00:00Z and the creator's expiry (inherited when absent).
    #[cfg_attr(feature = "openapi", schemars(with = "Option<wire::RequestTime>"))]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct UpdateKeyBody {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_NAME_LEN)))]
    name: Option<String>,
    /// Queue names, or `["*"]`; `[]` is refused.
    #[cfg_attr(feature = "openapi", schemars(with = "Option<Vec<wire::KeyQueue>>", length(min = 1, max = spec::MAX_KEY_QUEUES)))]
    queues: Option<Vec<String>>,
    /// `null` removes the key's own limit; absent keeps it.
    #[serde(default, deserialize_with = "crate::model::wire::present_whole")]
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::KEY_RATE_LIMIT.start(), max = *spec::KEY_RATE_LIMIT.end())))]
    rate_limit: Option<Option<i64>>,
    /// `false` deactivates the key (401 from then on); `true` reactivates it.
    is_active: Option<bool>,
}

/// A key's queue scope: 1–100 queue names, or `"*"` for every queue. An empty list is refused:
/// it once meant "every queue", which is never what emptying a scope intends.
fn check_queues(queues: Vec<String>) -> Result<Vec<String>, ApiError> {
    if queues.is_empty() {
        return Err(ApiError::validation("queues", "must name at least one queue, or [\"*\"] for every queue"));
    }
    if queues.len() > spec::MAX_KEY_QUEUES {
        return Err(ApiError::validation("queues", &format!("at most {} queues", spec::MAX_KEY_QUEUES)));
    }
    for queue in queues.iter().filter(|q| q.as_str() != "*") {
        validate_queue_name(queue)
            .map_err(|_| ApiError::validation("queues", &format!("'{queue}' is not a valid queue name")))?;
    }
    Ok(queues)
}

fn check_rate_limit(limit: Option<i64>) -> Result<Option<u32>, ApiError> {
    limit.map(|l| spec::check_range("rate_limit", l, &spec::KEY_RATE_LIMIT).map(|l| l as u32)).transpose()
}

/// An expiry must lie ahead (and, like every request time, at or before 2100).
fn check_expiry(at: EpochMs, now: EpochMs) -> Result<EpochMs, ApiError> {
    if at <= now {
        return Err(ApiError::validation("expires_at", "must be in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OsEntropy;

    fn principal(queues: &[&str]) -> Principal {
        Principal {
            tenant_id: "a".repeat(20),
            key_id: "key_self".into(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
            rate_limit: None,
            expires_at: None,
        }
    }

    fn call(route: KeyRoute, body: &str, p: &Principal) -> Result<KeyCall, ApiError> {
        build(route, body.as_bytes(), p, 1_767_225_600_000, &KeySigning::default(), &mut OsEntropy)
    }

    #[test]
    fn created_keys_are_minted_for_the_callers_tenant() {
        let c = call(KeyRoute::Create, r#"{"name":"ci","queues":["a"],"rate_limit":20}"#, &principal(&[])).unwrap();
        let raw = c.raw_key.unwrap();
        assert_eq!(crate::tenant::keys::parse_key(&raw).map(|p| p.tenant), Some("a".repeat(20).as_str()));
        let TenantCommand::CreateKey { key, .. } = c.command else { panic!("wrong command") };
        assert_eq!(key.hash, crate::tenant::keys::hash_key(&raw));
        assert_eq!((key.queues, key.rate_limit), (vec!["a".to_string()], Some(20)));
    }

    #[test]
    fn scoped_keys_cannot_manage_keys() {
        assert_eq!(call(KeyRoute::List, "", &principal(&["a"])).unwrap_err().kind, ErrorKind::AccessDenied);
        assert!(call(KeyRoute::List, "", &principal(&["*"])).is_ok());
    }

    #[test]
    fn bad_fields_are_rejected() {
        for body in [
            r#"{}"#,
            r#"{"name":"x","queues":["a b"]}"#,
            r#"{"name":"x","rate_limit":0}"#,
            r#"{"name":"x","expires_at":"1999-01-01T00:00:00Z"}"#,
        ] {
            assert_eq!(
                call(KeyRoute::Create, body, &principal(&[])).unwrap_err().kind,
                ErrorKind::ValidationError,
                "{body}"
            );
        }
    }

    #[test]
    fn a_missing_name_is_named_and_a_misspelt_update_refused() {
        let err = call(KeyRoute::Create, r#"{"title":"ci"}"#, &principal(&[])).unwrap_err();
        assert_eq!((err.kind, err.message.as_str()), (ErrorKind::ValidationError, "name: is required"));
        let err = call(KeyRoute::Update("k".into()), r#"{"nmae":"x"}"#, &principal(&[])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ValidationError);
        assert!(err.message.contains("nmae"), "{}", err.message);
        assert!(call(KeyRoute::Update("k".into()), "{}", &principal(&[])).is_ok());
    }

    #[test]
    fn an_empty_queue_list_is_refused_and_no_list_means_every_queue() {
        for route in [KeyRoute::Create, KeyRoute::Update("k".into())] {
            let err = call(route, r#"{"name":"x","queues":[]}"#, &principal(&[])).unwrap_err();
            assert_eq!(err.kind, ErrorKind::ValidationError);
            assert!(err.message.contains("at least one queue"), "{}", err.message);
        }
        let TenantCommand::CreateKey { key, by } =
            call(KeyRoute::Create, r#"{"name":"x"}"#, &principal(&[])).unwrap().command
        else {
            panic!("wrong command")
        };
        assert_eq!(key.queues, vec!["*".to_string()]);
        assert_eq!(by, "key_self");
    }

    #[test]
    fn an_expiry_past_the_latest_time_names_the_bound() {
        let err =
            call(KeyRoute::Create, r#"{"name":"x","expires_at":"2100-12-31T23:59:59Z"}"#, &principal(&[])).unwrap_err();
        assert!(err.message.contains("2100-01-01T00:00:00Z"), "{}", err.message);
        let err =
            call(KeyRoute::Create, r#"{"name":"x","expires_at":"2020-01-01T00:00:00Z"}"#, &principal(&[])).unwrap_err();
        assert_eq!(err.message, "expires_at: must be in the future");
    }

    #[test]
    fn a_key_cannot_lock_itself_out() {
        let own = |body: &str| call(KeyRoute::Update("key_self".into()), body, &principal(&[]));
        assert_eq!(own(r#"{"is_active":false}"#).unwrap_err().kind, ErrorKind::Conflict);
        assert_eq!(own(r#"{"queues":["a"]}"#).unwrap_err().kind, ErrorKind::Conflict);
        assert!(own(r#"{"name":"renamed"}"#).is_ok());
    }

    #[test]
    fn a_key_cannot_revoke_itself() {
        assert_eq!(
            call(KeyRoute::Revoke("key_self".into()), "", &principal(&[])).unwrap_err().kind,
            ErrorKind::Conflict
        );
    }

    #[test]
    fn null_rate_limit_removes_it_and_absent_keeps_it() {
        let changes = |body: &str| match call(KeyRoute::Update("k".into()), body, &principal(&[])).unwrap().command {
            TenantCommand::UpdateKey { changes, .. } => changes,
            _ => panic!("wrong command"),
        };
        assert_eq!(changes(r#"{"rate_limit":null}"#).rate_limit, Some(None));
        assert_eq!(changes(r#"{}"#).rate_limit, None);
        assert_eq!(changes(r#"{"rate_limit":5}"#).rate_limit, Some(Some(5)));
    }
}
