//! What the Worker sends to answer a request, and how several queues' replies become one
//! response. Pure: the handler only carries the calls out.

use crate::model::{ApiError, JobStatus};
use crate::queue::protocol::QueueCommand;
use serde_json::{json, Map, Value};

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
    /// Arrays concatenated.
    Concat,
    /// Counts per status summed: `GET /jobs/stats`.
    StatusTotals,
    /// One queue's stats in Spooled's `QueueStats` shape.
    QueueStats,
    /// Queue summaries for `GET /queues`; queues that answer 404 are skipped.
    QueueList,
    /// Dead-letter replay counts summed.
    ReplayCounts,
}

/// A merged response: status, body and whether more results exist (`X-Has-More`).
#[derive(Debug, PartialEq)]
pub struct Merged {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
    /// For paged lists: whether another page exists.
    pub has_more: Option<bool>,
}

fn parse(body: &str) -> Result<Value, ApiError> {
    serde_json::from_str(body).map_err(|_| ApiError::internal("malformed queue reply"))
}

/// Merges `(status, body)` replies. The first failed reply (other than a skipped 404) is
/// the response, unchanged.
pub fn merge(merge: &Merge, replies: Vec<(u16, String)>) -> Result<Merged, ApiError> {
    let mut values = Vec::with_capacity(replies.len());
    for (status, body) in replies {
        if status == 404 && *merge == Merge::QueueList {
            continue;
        }
        if status >= 300 {
            return Ok(Merged { status, body, has_more: None });
        }
        values.push(parse(&body)?);
    }
    let ok = |body: Value, has_more| Ok(Merged { status: 200, body: body.to_string(), has_more });
    match merge {
        Merge::Newest { offset, limit } => {
            // Each queue lists newest first in its own enqueue order. Merging by creation time
            // and then by (queue, position in that queue's list) keeps every queue's order, so
            // the pages of one total order are cut from each queue's first rows: no job repeats
            // or goes missing across pages, even among jobs created in the same millisecond.
            let mut jobs: Vec<((String, String, usize), Value)> = values
                .into_iter()
                .flat_map(|list| array(list).into_iter().enumerate().map(|(at, job)| (newest_key(&job, at), job)))
                .collect();
            jobs.sort_by(|(a, _), (b, _)| b.0.cmp(&a.0).then_with(|| (&a.1, a.2).cmp(&(&b.1, b.2))));
            let has_more = jobs.len() > offset + limit;
            ok(Value::Array(jobs.into_iter().skip(*offset).take(*limit).map(|(_, job)| job).collect()), Some(has_more))
        }
        Merge::Concat => ok(Value::Array(values.into_iter().flat_map(array).collect()), None),
        Merge::StatusTotals => {
            let mut totals: Map<String, Value> = JobStatus::ALL.iter().map(|s| (s.as_str().into(), json!(0))).collect();
            totals.insert("total".into(), json!(0));
            for stats in &values {
                for (name, total) in totals.iter_mut() {
                    *total = json!(total.as_i64().unwrap_or(0) + stats["counts"][name].as_i64().unwrap_or(0));
                }
            }
            ok(Value::Object(totals), None)
        }
        Merge::QueueStats => {
            let s = values.into_iter().next().unwrap_or_default();
            ok(
                json!({
                    "queue_name": s["queue_name"],
                    "pending_jobs": s["counts"]["pending"].as_i64().unwrap_or(0) + s["counts"]["scheduled"].as_i64().unwrap_or(0),
                    "processing_jobs": s["counts"]["processing"],
                    "completed_jobs_24h": s["completed_24h"],
                    "failed_jobs_24h": s["deadletter_24h"],
                    "avg_processing_time_ms": s["avg_processing_time_ms"],
                    "max_job_age_seconds": s["max_job_age_seconds"],
                    "active_workers": s["active_workers"],
                    "total_jobs": s["counts"]["total"],
                    "database_bytes": s["database_bytes"],
                }),
                None,
            )
        }
        Merge::QueueList => {
            let mut queues: Vec<Value> = values
                .into_iter()
                .map(|c| {
                    json!({
                        "queue_name": c["queue_name"], "max_retries": c["max_retries"],
                        "default_timeout": c["default_timeout"], "rate_limit": c["rate_limit"], "enabled": c["enabled"],
                    })
                })
                .collect();
            queues.sort_by(|a, b| a["queue_name"].as_str().cmp(&b["queue_name"].as_str()));
            ok(Value::Array(queues), None)
        }
        Merge::ReplayCounts => {
            let count: u64 = values.iter().map(|v| v["retried_count"].as_u64().unwrap_or(0)).sum();
            let ids: Vec<Value> = values.into_iter().flat_map(|v| array(v["retried_jobs"].clone())).collect();
            ok(json!({ "retried_count": count, "retried_jobs": ids }), None)
        }
    }
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// `(created_at, queue_name, position)`: created_at is fixed-width RFC 3339, so text order is
/// time order.
fn newest_key(job: &Value, position: usize) -> (String, String, usize) {
    let text = |f: &str| job[f].as_str().unwrap_or_default().to_owned();
    (text("created_at"), text("queue_name"), position)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, at: &str) -> Value {
        json!({ "id": id, "created_at": at })
    }

    #[test]
    fn newest_pages_across_queues() {
        let a = json!([summary("a.3", "2026-01-01T00:00:03.000Z"), summary("a.1", "2026-01-01T00:00:01.000Z")]);
        let b = json!([summary("b.2", "2026-01-01T00:00:02.000Z")]);
        let replies = || vec![(200, a.to_string()), (200, b.to_string())];
        let page = merge(&Merge::Newest { offset: 0, limit: 2 }, replies()).unwrap();
        let ids: Vec<Value> =
            serde_json::from_str::<Vec<Value>>(&page.body).unwrap().iter().map(|j| j["id"].clone()).collect();
        assert_eq!(ids, vec![json!("a.3"), json!("b.2")]);
        assert_eq!(page.has_more, Some(true));
        let last = merge(&Merge::Newest { offset: 2, limit: 2 }, replies()).unwrap();
        assert_eq!(last.has_more, Some(false));
        assert_eq!(serde_json::from_str::<Vec<Value>>(&last.body).unwrap().len(), 1);
    }

    #[test]
    fn jobs_created_in_the_same_millisecond_page_without_repeats_or_gaps() {
        let at = "2026-01-01T00:00:00.000Z";
        // Each queue lists newest first by its own order, whatever the ids' random parts say.
        let a = json!([{ "id": "a.Z", "queue_name": "a", "created_at": at }, { "id": "a.B", "queue_name": "a", "created_at": at }, { "id": "a.M", "queue_name": "a", "created_at": at }]);
        let b = json!([{ "id": "b.A", "queue_name": "b", "created_at": at }, { "id": "b.Y", "queue_name": "b", "created_at": at }]);
        let page = |offset| {
            let replies = vec![(200, a.to_string()), (200, b.to_string())];
            let body = merge(&Merge::Newest { offset, limit: 2 }, replies).unwrap().body;
            serde_json::from_str::<Vec<Value>>(&body)
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let all: Vec<String> = [0, 2, 4].into_iter().flat_map(page).collect();
        assert_eq!(all, ["a.Z", "a.B", "a.M", "b.A", "b.Y"]);
    }

    #[test]
    fn status_totals_sum_every_queue() {
        let stats = |p: i64| json!({ "counts": { "pending": p, "total": p } }).to_string();
        let merged = merge(&Merge::StatusTotals, vec![(200, stats(2)), (200, stats(3))]).unwrap();
        let body: Value = serde_json::from_str(&merged.body).unwrap();
        assert_eq!(
            (body["pending"].as_i64(), body["total"].as_i64(), body["deadletter"].as_i64()),
            (Some(5), Some(5), Some(0))
        );
    }

    #[test]
    fn a_failed_reply_is_the_response() {
        let merged = merge(&Merge::Concat, vec![(200, "[]".into()), (409, "{\"code\":\"CONFLICT\"}".into())]).unwrap();
        assert_eq!(merged.status, 409);
    }

    #[test]
    fn queue_list_skips_unknown_queues() {
        let config = json!({ "queue_name": "a", "max_retries": 3, "enabled": true }).to_string();
        let merged = merge(&Merge::QueueList, vec![(404, "{}".into()), (200, config)]).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Value>>(&merged.body).unwrap().len(), 1);
    }
}
