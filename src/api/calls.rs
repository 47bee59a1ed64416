//! What the Worker sends to answer a request, and how several queues' replies become one
//! response. Pure: the handler only carries the calls out.

use super::body::Query;
use super::views::{JobStatsView, JobStatusView, QueueSummaryView, ReplayedView, SummaryView};
use crate::model::ids::validate_queue_name;
use crate::model::wire::to_json;
use crate::model::{spec, ApiError, ErrorKind};
use crate::queue::ordered_by;
use crate::queue::protocol::{QueueCommand, QueueReply};
use crate::queue::record::{JobSummary, StatusCounts};
use serde::Serialize;

/// Most queues one request fans out to: a cross-queue read (or replay) over more covers the
/// first this many the key may see, by name, and answers `X-Next-Cursor` for the rest. Fewer
/// for a key whose rate limit is lower, since each queue counts one request.
pub const MAX_FAN_OUT: u32 = 100;
/// Most job rows one list merges in the Worker: what one queue's deepest page takes (offset
/// 10,000 plus the largest page, plus one to tell whether more exist). Each queue of a list
/// sends `offset + limit + 1` rows, so over more queues pages reach less deep.
pub const MAX_MERGED_ROWS: usize = spec::MAX_LIST_OFFSET as usize + *spec::LIST_LIMIT.end() as usize + 1;

/// The actor calls that answer one request.
#[derive(Debug)]
pub enum Call {
    /// One command to one queue; its reply is the response.
    Queue { queue: String, command: QueueCommand },
    /// Commands to the named queues; the replies are merged.
    Many { calls: Vec<(String, QueueCommand)>, merge: Merge },
    /// The same command to every queue of the tenant that the key may see; replies merged.
    EveryQueue { command: QueueCommand, merge: Merge },
}

/// How replies from several queues become one response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Job summaries, newest first, then `offset`/`limit` (each queue sent `offset + limit + 1`,
    /// so the page and whether more exist are exact).
    Newest { offset: usize, limit: usize },
    /// Batch status entries concatenated.
    Concat,
    /// Counts per status summed: `GET /jobs/stats`.
    StatusTotals,
    /// Queue summaries for `GET /queues`; queues that answer 404 are skipped.
    QueueList,
    /// Dead-letter replay counts summed.
    ReplayCounts,
}

impl Merge {
    /// How many rows each queue's reply carries at most.
    fn rows_per_queue(&self) -> usize {
        match self {
            Merge::Newest { offset, limit } => offset + limit + 1,
            Merge::Concat | Merge::StatusTotals | Merge::QueueList | Merge::ReplayCounts => 1,
        }
    }

    /// Refuses (400, before any queue is asked) a merge over `queues` queues that would pass
    /// [`MAX_MERGED_ROWS`], saying how deep a list over that many queues may page.
    pub fn check_reach(&self, queues: usize) -> Result<(), ApiError> {
        if queues * self.rows_per_queue() <= MAX_MERGED_ROWS {
            return Ok(());
        }
        let deepest = MAX_MERGED_ROWS / queues - 1;
        Err(ApiError::validation(
            "offset",
            &format!(
                "over {queues} queues, offset + limit may be at most {deepest}; name a queue (queue_name) to page deeper"
            ),
        ))
    }
}

/// The request's `cursor`: the `X-Next-Cursor` of the page before, which is the last queue of
/// that page. Checked whenever it is sent, so a malformed one is a 400 even where a named queue
/// leaves nothing to continue.
pub fn cursor(query: &Query) -> Result<Option<String>, ApiError> {
    let after = query.get(&["cursor"]);
    if after.is_some_and(|c| validate_queue_name(c).is_err()) {
        return Err(ApiError::validation("cursor", "must be an X-Next-Cursor value, passed back unchanged"));
    }
    Ok(after.map(str::to_owned))
}

/// A merged response: its body and, for paged lists, whether another page exists
/// (`X-Has-More`).
#[derive(Debug, PartialEq)]
pub struct Merged {
    /// JSON body (the status is 200).
    pub body: String,
    /// For paged lists: whether another page exists.
    pub has_more: Option<bool>,
}

/// Merges the replies of several queues (each with the queue it came from). The first
/// failed reply (other than a skipped 404) is the response.
pub fn merge(merge: &Merge, replies: Vec<(String, Result<QueueReply, ApiError>)>) -> Result<Merged, ApiError> {
    let mut ok = Vec::with_capacity(replies.len());
    for (queue, reply) in replies {
        match reply {
            Err(e) if e.kind == ErrorKind::NotFound && *merge == Merge::QueueList => continue,
            Err(e) => return Err(e),
            Ok(reply) => ok.push((queue, reply)),
        }
    }
    match merge {
        Merge::Newest { offset, limit } => {
            let lists = all(ok, "job list", |r| if let QueueReply::Jobs(jobs) = r { Some(jobs) } else { None })?;
            // Each queue lists newest first in its own enqueue order. Merging by creation time
            // and then by (queue, position in that queue's list) keeps every queue's order, so
            // the pages of one total order are cut from each queue's first rows: no job repeats
            // or goes missing across pages, even among jobs created in the same millisecond. The
            // lists arrive by queue name (one queue, or the catalog's `ORDER BY name`), so a
            // list's index stands for its queue's name in the key.
            let jobs: Vec<(usize, usize, &str, &JobSummary)> = lists
                .iter()
                .enumerate()
                .flat_map(|(rank, (queue, list))| {
                    list.iter().enumerate().map(move |(at, job)| (rank, at, queue.as_str(), job))
                })
                .collect();
            let jobs = ordered_by(jobs, |&(rank, at, _, job)| (-job.created_at, ((rank as i64) << 32) | at as i64));
            let has_more = jobs.len() > offset + limit;
            let page: Vec<SummaryView> = jobs
                .into_iter()
                .skip(*offset)
                .take(*limit)
                .map(|(_, _, queue, job)| SummaryView::new(job, queue))
                .collect();
            body(&page, Some(has_more))
        }
        Merge::Concat => {
            let lists = all(ok, "status list", |r| if let QueueReply::Statuses(s) = r { Some(s) } else { None })?;
            let found: Vec<JobStatusView> = lists
                .iter()
                .flat_map(|(queue, list)| list.iter().map(move |job| JobStatusView::new(job, queue)))
                .collect();
            body(&found, None)
        }
        Merge::StatusTotals => {
            let mut totals = StatusCounts::default();
            for (_, stats) in all(ok, "stats", |r| if let QueueReply::Stats(s) = r { Some(s) } else { None })? {
                totals.merge(&stats.counts);
            }
            body(&JobStatsView::new(&totals), None)
        }
        Merge::QueueList => {
            // Already by name: the calls follow the catalog's `ORDER BY name`, and replies keep
            // the calls' order.
            let configs = all(ok, "queue config", |r| if let QueueReply::Config(c) = r { Some(c) } else { None })?;
            let queues: Vec<QueueSummaryView> =
                configs.iter().map(|(queue, settings)| QueueSummaryView::new(settings, queue)).collect();
            body(&queues, None)
        }
        Merge::ReplayCounts => {
            let lists = all(ok, "replay", |r| if let QueueReply::Replayed(ids) = r { Some(ids) } else { None })?;
            let ids = lists.iter().flat_map(|(_, ids)| ids.iter().map(String::as_str)).collect();
            body(&ReplayedView::new(ids), None)
        }
    }
}

fn body(view: &impl Serialize, has_more: Option<bool>) -> Result<Merged, ApiError> {
    Ok(Merged { body: to_json(view)?, has_more })
}

/// What each reply carries, when every reply must be of the kind `pick` takes (the kind the
/// fanned-out command answers). Another kind would be a bug in the protocol.
fn all<T>(
    replies: Vec<(String, QueueReply)>,
    what: &str,
    pick: fn(QueueReply) -> Option<T>,
) -> Result<Vec<(String, T)>, ApiError> {
    replies
        .into_iter()
        .map(|(queue, reply)| {
            let value =
                pick(reply).ok_or_else(|| ApiError::internal(format!("queue {queue} did not answer a {what}")))?;
            Ok((queue, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_rfc3339;
    use crate::model::JobStatus;
    use crate::queue::record::QueueStats;
    use crate::queue::QueueSettings;
    use serde_json::Value;

    fn summary(id: &str, at: &str) -> JobSummary {
        JobSummary {
            id: id.into(),
            status: JobStatus::Pending,
            priority: 0,
            retry_count: 0,
            max_retries: 3,
            created_at: parse_rfc3339(at).unwrap(),
            scheduled_at: None,
            started_at: None,
            completed_at: None,
            job_type: String::new(),
            last_error: None,
        }
    }

    fn jobs(queue: &str, list: Vec<JobSummary>) -> (String, Result<QueueReply, ApiError>) {
        (queue.into(), Ok(QueueReply::Jobs(list)))
    }

    fn ids(merged: &Merged) -> Vec<String> {
        let list: Vec<Value> = serde_json::from_str(&merged.body).unwrap();
        list.iter().map(|j| j["id"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn newest_pages_across_queues() {
        let replies = || {
            vec![
                jobs("a", vec![summary("a.3", "2026-01-01T00:00:03.000Z"), summary("a.1", "2026-01-01T00:00:01.000Z")]),
                jobs("b", vec![summary("b.2", "2026-01-01T00:00:02.000Z")]),
            ]
        };
        let page = merge(&Merge::Newest { offset: 0, limit: 2 }, replies()).unwrap();
        assert_eq!(ids(&page), ["a.3", "b.2"]);
        assert_eq!(page.has_more, Some(true));
        let last = merge(&Merge::Newest { offset: 2, limit: 2 }, replies()).unwrap();
        assert_eq!(last.has_more, Some(false));
        assert_eq!(ids(&last).len(), 1);
    }

    #[test]
    fn jobs_created_in_the_same_millisecond_page_without_repeats_or_gaps() {
        let at = "2026-01-01T00:00:00.000Z";
        // Each queue lists newest first by its own order, whatever the ids' random parts say.
        let page = |offset| {
            let a = jobs("a", vec![summary("a.Z", at), summary("a.B", at), summary("a.M", at)]);
            let b = jobs("b", vec![summary("b.A", at), summary("b.Y", at)]);
            ids(&merge(&Merge::Newest { offset, limit: 2 }, vec![a, b]).unwrap())
        };
        let all: Vec<String> = [0, 2, 4].into_iter().flat_map(page).collect();
        assert_eq!(all, ["a.Z", "a.B", "a.M", "b.A", "b.Y"]);
    }

    #[test]
    fn listed_jobs_name_the_queue_they_came_from() {
        let merged = merge(
            &Merge::Newest { offset: 0, limit: 5 },
            vec![jobs("b", vec![summary("b.1", "2026-01-01T00:00:00Z")])],
        );
        let list: Vec<Value> = serde_json::from_str(&merged.unwrap().body).unwrap();
        assert_eq!(
            (list[0]["queue_name"].as_str(), list[0]["created_at"].as_str()),
            (Some("b"), Some("2026-01-01T00:00:00.000Z"))
        );
    }

    #[test]
    fn status_totals_sum_every_queue() {
        let stats = |p: i64| {
            let mut counts = StatusCounts::default();
            counts.add(JobStatus::Pending, p);
            let stats = QueueStats {
                counts,
                completed_24h: 0,
                deadletter_24h: 0,
                avg_processing_time_ms: None,
                max_job_age_seconds: None,
                active_workers: 0,
                database_bytes: 0,
            };
            ("q".to_owned(), Ok(QueueReply::Stats(stats)))
        };
        let merged = merge(&Merge::StatusTotals, vec![stats(2), stats(3)]).unwrap();
        let body: Value = serde_json::from_str(&merged.body).unwrap();
        assert_eq!(
            (body["pending"].as_i64(), body["total"].as_i64(), body["deadletter"].as_i64()),
            (Some(5), Some(5), Some(0))
        );
    }

    #[test]
    fn a_failed_reply_is_the_response() {
        let failed = ("b".to_owned(), Err(ApiError::conflict("no")));
        let err = merge(&Merge::Concat, vec![("a".into(), Ok(QueueReply::Statuses(vec![]))), failed]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
    }

    #[test]
    fn queue_list_skips_unknown_queues() {
        let config = ("a".to_owned(), Ok(QueueReply::Config(QueueSettings::default())));
        let merged = merge(&Merge::QueueList, vec![("b".into(), Err(ApiError::not_found("queue"))), config]).unwrap();
        let list: Vec<Value> = serde_json::from_str(&merged.body).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0]["queue_name"].as_str(), list[0]["max_retries"].as_u64()), (Some("a"), Some(3)));
    }

    #[test]
    fn statuses_and_replays_concatenate_in_queue_order() {
        let status = |id: &str| summary(id, "2026-01-01T00:00:00Z");
        let merged = merge(
            &Merge::Concat,
            vec![
                ("a".into(), Ok(QueueReply::Statuses(vec![status("a.1")]))),
                ("b".into(), Ok(QueueReply::Statuses(vec![status("b.1")]))),
            ],
        )
        .unwrap();
        assert_eq!(ids(&merged), ["a.1", "b.1"]);
        let replayed = |ids: &[&str]| Ok(QueueReply::Replayed(ids.iter().map(|id| id.to_string()).collect()));
        let merged = merge(
            &Merge::ReplayCounts,
            vec![("a".into(), replayed(&["a.1", "a.2"])), ("b".into(), replayed(&["b.1"]))],
        );
        let body: Value = serde_json::from_str(&merged.unwrap().body).unwrap();
        assert_eq!(body, serde_json::json!({ "retried_count": 3, "retried_jobs": ["a.1", "a.2", "b.1"] }));
    }

    #[test]
    fn lists_merge_a_bounded_number_of_rows() {
        let deepest = Merge::Newest { offset: 10_000, limit: 100 };
        assert!(deepest.check_reach(1).is_ok());
        let err = deepest.check_reach(8).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ValidationError);
        assert!(err.message.contains("at most 1261"), "{}", err.message);
        assert!(Merge::Newest { offset: 0, limit: 100 }.check_reach(MAX_FAN_OUT as usize).is_ok());
        assert!(Merge::Newest { offset: 1, limit: 100 }.check_reach(MAX_FAN_OUT as usize).is_err());
        assert!(Merge::StatusTotals.check_reach(MAX_FAN_OUT as usize).is_ok());
    }

    #[test]
    fn cursors_are_what_x_next_cursor_gave() {
        let query = |value: &str| Query(vec![("cursor".into(), value.into())]);
        assert_eq!(cursor(&query("q-7")).unwrap().as_deref(), Some("q-7"));
        assert_eq!(cursor(&Query::default()).unwrap(), None);
        for bad in ["", "a b", "../x"] {
            assert_eq!(cursor(&query(bad)).unwrap_err().kind, ErrorKind::ValidationError);
        }
    }

    #[test]
    fn a_reply_of_another_kind_is_an_internal_error() {
        let err = merge(&Merge::StatusTotals, vec![("a".into(), Ok(QueueReply::Done))]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InternalError);
    }
}
