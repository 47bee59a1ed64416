//! A key's scope — the queues it reaches, the rate it may use, how long it lives — and the rule
//! that no key grants more than it has: every key it creates, changes or revokes stays within
//! its own scope.

use crate::model::{ApiError, EpochMs, ErrorKind};

/// The key that creates, changes or revokes another, and what the deployment gives keys that
/// set no rate limit of their own (`DEFAULT_RATE_LIMIT`; `None` when that is off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grantor<'a> {
    /// The acting key's id; its stored record, not a cached copy, is what bounds the grant.
    pub key_id: &'a str,
    /// Requests per minute of a key without a `rate_limit`.
    pub default_rate_limit: Option<u32>,
}

/// How far one key reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyScope {
    /// The queues it may use; `None`: every queue.
    pub queues: Option<Vec<String>>,
    /// Requests per minute it may make, its own limit or else the default; `None`: unlimited.
    pub rate_limit: Option<u32>,
    /// When it stops working; `None`: never.
    pub expires_at: Option<EpochMs>,
}

impl KeyScope {
    /// The scope of a key as stored: its queue list (empty, the form of keys made before
    /// `["*"]` was required, or holding `"*"`: every queue), its rate limit (else the default)
    /// and its expiry.
    pub fn of(queues: &[String], rate_limit: Option<u32>, expires_at: Option<EpochMs>, grantor: &Grantor) -> Self {
        let every = queues.is_empty() || queues.iter().any(|q| q == "*");
        KeyScope {
            queues: (!every).then(|| queues.to_vec()),
            rate_limit: rate_limit.or(grantor.default_rate_limit),
            expires_at,
        }
    }

    /// Whether `granted` stays within this scope on every bound; 403 `ACCESS_DENIED` naming
    /// the first bound it would exceed otherwise.
    pub fn covers(&self, granted: &KeyScope) -> Result<(), ApiError> {
        let queues_ok = match (&self.queues, &granted.queues) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(mine), Some(theirs)) => theirs.iter().all(|q| mine.contains(q)),
        };
        let exceeds = |mine: Option<i64>, theirs: Option<i64>| mine.is_some_and(|m| theirs.is_none_or(|t| t > m));
        let wider = if !queues_ok {
            "a queue this key does not reach"
        } else if exceeds(self.rate_limit.map(i64::from), granted.rate_limit.map(i64::from)) {
            "a rate_limit above this key's own"
        } else if exceeds(self.expires_at, granted.expires_at) {
            "an expires_at later than this key's own (or none while it has one)"
        } else {
            return Ok(());
        };
        Err(ApiError::new(ErrorKind::AccessDenied, format!("a key cannot grant more than it has: {wider}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grantor(default: Option<u32>) -> Grantor<'static> {
        Grantor { key_id: "k", default_rate_limit: default }
    }

    fn scope(queues: &[&str], rate_limit: Option<u32>, expires_at: Option<EpochMs>) -> KeyScope {
        let queues: Vec<String> = queues.iter().map(|q| q.to_string()).collect();
        KeyScope::of(&queues, rate_limit, expires_at, &grantor(Some(600_000)))
    }

    #[test]
    fn empty_or_star_means_every_queue_and_no_limit_means_the_default() {
        assert_eq!(scope(&[], None, None), KeyScope { queues: None, rate_limit: Some(600_000), expires_at: None });
        assert_eq!(scope(&["a", "*"], Some(3), None).queues, None);
        assert_eq!(KeyScope::of(&[], None, None, &grantor(None)).rate_limit, None);
    }

    #[test]
    fn a_key_grants_what_it_has_and_less() {
        let me = scope(&["a", "b"], Some(10), Some(5_000));
        assert!(me.covers(&scope(&["a"], Some(10), Some(5_000))).is_ok());
        assert!(me.covers(&scope(&["b", "a"], Some(1), Some(1))).is_ok());
        assert!(scope(&["*"], None, None).covers(&scope(&["*"], None, None)).is_ok());
    }

    #[test]
    fn every_wider_bound_is_refused() {
        let me = scope(&["a"], Some(3), Some(5_000));
        for (wider, named) in [
            (scope(&["*"], Some(3), Some(5_000)), "queue"),
            (scope(&["a", "c"], Some(3), Some(5_000)), "queue"),
            (scope(&["a"], Some(4), Some(5_000)), "rate_limit"),
            (scope(&["a"], None, Some(5_000)), "rate_limit"),
            (scope(&["a"], Some(3), Some(5_001)), "expires_at"),
            (scope(&["a"], Some(3), None), "expires_at"),
        ] {
            let err = me.covers(&wider).unwrap_err();
            assert_eq!(err.kind, ErrorKind::AccessDenied);
            assert!(err.message.contains(named), "{named}: {}", err.message);
        }
    }

    #[test]
    fn an_unlimited_grantor_grants_any_rate() {
        let me = KeyScope::of(&[], None, None, &grantor(None));
        assert!(me.covers(&KeyScope::of(&[], Some(1_000_000), None, &grantor(None))).is_ok());
    }
}
