//! Reads that may span queues: job lists, stats, batch status and dead letters. Without a
//! queue they fan out to every queue in the tenant's catalog that the key may see, and the
//! Worker merges the replies.

use super::body::{optional_time, Query};
use super::calls::{Call, Merge};
use super::routes::ReadRoute;
use crate::model::{spec, ApiError, ErrorKind, JobId, JobStatus};
use crate::queue::listing::ListFilter;
use crate::queue::protocol::QueueCommand;
use crate::tenant::Principal;
use std::collections::BTreeMap;

/// Builds the call for a read route.
pub fn build(route: ReadRoute, query: &Query, principal: &Principal) -> Result<Call, ApiError> {
    // `queue_name` wins over its alias `queue` when both are sent, but a malformed one of
    // either is refused, never silently ignored.
    if let Some(alias) = query.get(&["queue"]).filter(|_| query.get(&["queue_name"]).is_some()) {
        crate::model::ids::validate_queue_name(alias)?;
    }
    let named = query.get(&["queue_name"]).or_else(|| query.get(&["queue"]));
    let queue = || named.map(|q| principal.readable_queue(q)).transpose();
    match route {
        ReadRoute::ListJobs => list(queue()?, status_filter(query.get(&["status"]).unwrap_or_default()), query),
        ReadRoute::ListDeadLetters => list(queue()?, vec![JobStatus::Deadletter], query),
        ReadRoute::JobStats => Ok(on_queues(queue()?, QueueCommand::Stats, Merge::StatusTotals)),
        // Ids name their queues; a queue filter would add nothing.
        ReadRoute::JobStatuses => job_statuses(query, principal),
    }
}

/// A job list over one queue or all: the statuses asked for and the query's other filters.
fn list(queue: Option<String>, statuses: Vec<JobStatus>, query: &Query) -> Result<Call, ApiError> {
    let (offset, limit) = paging(query)?;
    let text = |name: &str| query.get(&[name]).filter(|v| !v.is_empty()).map(str::to_owned);
    // An empty time is not a time: 400, like any other malformed one.
    let time = |name: &str| optional_time(name, query.get(&[name]).map(str::to_owned));
    let filter = ListFilter {
        statuses,
        tag: text("tag").filter(|t| valid_tag(t)),
        job_type: text("job_type"),
        search: text("q"),
        created_after: time("created_after")?,
        created_before: time("created_before")?,
        limit: (offset + limit + 1) as u32,
        offset: 0,
    };
    Ok(on_queues(queue, QueueCommand::ListJobs { filter }, Merge::Newest { offset, limit }))
}

/// A comma-separated status filter (`pending,cancelled`), aliases allowed. Like Spooled,
/// unknown names are ignored rather than failing the request; none known means any status.
fn status_filter(list: &str) -> Vec<JobStatus> {
    let mut statuses: Vec<JobStatus> = list.split(',').filter_map(|s| JobStatus::parse(s.trim())).collect();
    statuses.dedup();
    statuses
}

/// One queue when named, else every queue the key may see.
fn on_queues(queue: Option<String>, command: QueueCommand, merge: Merge) -> Call {
    match queue {
        Some(queue) => Call::Many { calls: vec![(queue, command)], merge },
        None => Call::EveryQueue { command, merge },
    }
}

fn paging(query: &Query) -> Result<(usize, usize), ApiError> {
    let limit = query.int("limit", 50, &spec::LIST_LIMIT)? as usize;
    let offset = query.int("offset", 0, &(0..=spec::MAX_LIST_OFFSET))? as usize;
    Ok((offset, limit))
}

/// Spooled's tag charset: 1–64 of `[A-Za-z0-9._-]`; other tags filter nothing.
fn valid_tag(tag: &str) -> bool {
    (1..=64).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// `GET /jobs/status?ids=a,b,c`: ids grouped by the queue each names.
fn job_statuses(query: &Query, principal: &Principal) -> Result<Call, ApiError> {
    let ids: Vec<&str> = query.get(&["ids"]).unwrap_or_default().split(',').filter(|s| !s.is_empty()).collect();
    if ids.len() > spec::MAX_STATUS_IDS {
        return Err(ApiError::new(ErrorKind::BadRequest, format!("at most {} ids per request", spec::MAX_STATUS_IDS)));
    }
    let mut by_queue: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Ids that are not ours or out of the key's scope are simply not found.
    for job in ids.into_iter().filter_map(JobId::parse).filter(|j| principal.allows_queue(&j.queue)) {
        by_queue.entry(job.queue).or_default().push(job.text);
    }
    let calls = by_queue.into_iter().map(|(queue, ids)| (queue, QueueCommand::JobStatuses { ids })).collect();
    Ok(Call::Many { calls, merge: Merge::Concat })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(queues: &[&str]) -> Principal {
        Principal {
            tenant_id: "t".into(),
            key_id: "k".into(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
            rate_limit: None,
            expires_at: None,
        }
    }

    fn query(pairs: &[(&str, &str)]) -> Query {
        Query(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn lists_fan_out_unless_a_queue_is_named() {
        let all = build(ReadRoute::ListJobs, &query(&[]), &scoped(&[])).unwrap();
        assert!(matches!(all, Call::EveryQueue { merge: Merge::Newest { offset: 0, limit: 50 }, .. }));
        let one = build(ReadRoute::ListJobs, &query(&[("queue", "a"), ("status", "dlq")]), &scoped(&[])).unwrap();
        let Call::Many { calls, .. } = one else { panic!("wrong call") };
        let QueueCommand::ListJobs { filter } = &calls[0].1 else { panic!("wrong command") };
        assert_eq!((calls[0].0.as_str(), filter.statuses.as_slice()), ("a", &[JobStatus::Deadletter][..]));
    }

    #[test]
    fn status_lists_keep_known_names() {
        assert_eq!(status_filter("pending, cancelled,bogus"), vec![JobStatus::Pending, JobStatus::Cancelled]);
        assert_eq!(status_filter("claimed"), vec![JobStatus::Processing]);
        assert!(status_filter("bogus").is_empty());
    }

    #[test]
    fn malformed_creation_windows_are_rejected() {
        assert!(build(ReadRoute::ListJobs, &query(&[("created_after", "yesterday")]), &scoped(&[])).is_err());
        assert!(build(ReadRoute::ListJobs, &query(&[("created_before", "")]), &scoped(&[])).is_err());
    }

    #[test]
    fn paging_is_bounded() {
        assert!(build(ReadRoute::ListJobs, &query(&[("limit", "101")]), &scoped(&[])).is_err());
        assert!(build(ReadRoute::ListJobs, &query(&[("offset", "-1")]), &scoped(&[])).is_err());
    }

    #[test]
    fn status_ids_group_by_queue_and_skip_out_of_scope() {
        let ids = "a.01JD3Q0000000000000000000A,b.01JD3Q0000000000000000000B,junk";
        let call = build(ReadRoute::JobStatuses, &query(&[("ids", ids)]), &scoped(&["a"])).unwrap();
        let Call::Many { calls, .. } = call else { panic!("wrong call") };
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].0, "a");
        let too_many = vec!["x"; 101].join(",");
        assert!(build(ReadRoute::JobStatuses, &query(&[("ids", &too_many)]), &scoped(&[])).is_err());
    }

    #[test]
    fn out_of_scope_queues_are_not_found() {
        let err = build(ReadRoute::JobStats, &query(&[("queue_name", "b")]), &scoped(&["a"])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
    }

    #[test]
    fn queue_name_wins_over_its_alias_and_neither_may_be_malformed() {
        for both in [[("queue", "a"), ("queue_name", "bad name")], [("queue", ""), ("queue_name", "a")]] {
            let err = build(ReadRoute::JobStats, &query(&both), &scoped(&[])).unwrap_err();
            assert_eq!(err.kind, ErrorKind::ValidationError);
        }
        assert!(build(ReadRoute::JobStats, &query(&[("queue", "a"), ("queue_name", "b")]), &scoped(&["b"])).is_ok());
    }
}
