//! Lists and their filters, priority changes, a queue's config view, and deleting a queue.

mod common;
mod support;
use common::*;
use edgespool::model::{ErrorKind, JobStatus};
use edgespool::queue::config::ConfigChanges;
use edgespool::queue::listing::ListFilter;
use support::*;

/// The ids a list returns, in order.
fn listed(fx: &Fixture, filter: ListFilter) -> Vec<String> {
    ids_of(&fx.q().list_jobs(&ListFilter { limit: 100, ..filter }).expect("list"))
}

/// A fixture with jobs of several types, tags and states, enqueued a second apart.
fn mixed() -> (Fixture, Vec<String>) {
    let mut fx = Fixture::new();
    let ids = vec![
        fx.job_in("pending", spec(r#"{"job_type":"email.send"}"#), T0),
        fx.job_in("cancelled", spec(r#"{"job_type":"sms"}"#), T0 + SEC),
        fx.job_in("deadletter", spec(r#"{"job_type":"email.bounce"}"#), T0 + 2 * SEC),
        fx.job_in("pending", spec("42"), T0 + 3 * SEC),
    ];
    (fx, ids)
}

/// Several statuses combine with "or"; no status filter lists everything, newest first.
#[test]
fn statuses_match_any_of_them() {
    let (fx, ids) = mixed();
    let by = |statuses: Vec<JobStatus>| listed(&fx, ListFilter { statuses, ..ListFilter::default() });
    assert_eq!(by(vec![]), pick(&ids, &[3, 2, 1, 0]));
    assert_eq!(by(vec![JobStatus::Pending, JobStatus::Cancelled]), pick(&ids, &[3, 1, 0]));
    assert_eq!(by(vec![JobStatus::Deadletter]), pick(&ids, &[2]));
}

/// `job_type` matches `payload.job_type` exactly; jobs without one never match.
#[test]
fn job_type_is_exact() {
    let (fx, ids) = mixed();
    let filter = ListFilter { job_type: Some("sms".into()), ..ListFilter::default() };
    assert_eq!(listed(&fx, filter), pick(&ids, &[1]));
    let filter = ListFilter { job_type: Some("email".into()), ..ListFilter::default() };
    assert!(listed(&fx, filter).is_empty());
}

/// Search matches a job type containing the text (case-insensitively), an id prefix, or a
/// queue name containing it; LIKE wildcards in the text are literal.
#[test]
fn search_matches_type_id_prefix_or_queue() {
    let (fx, ids) = mixed();
    let search = |q: &str| listed(&fx, ListFilter { search: Some(q.into()), ..ListFilter::default() });
    assert_eq!(search("EMAIL"), pick(&ids, &[2, 0]));
    assert_eq!(search(&ids[3]), pick(&ids, &[3]));
    assert_eq!(search("q"), pick(&ids, &[3, 2, 1, 0]), "the queue is named q");
    assert!(search("%").is_empty());
    assert!(search("_").is_empty());
}

/// The creation window includes its start and excludes its end.
#[test]
fn creation_window_is_half_open() {
    let (fx, ids) = mixed();
    let filter =
        ListFilter { created_after: Some(T0 + SEC), created_before: Some(T0 + 3 * SEC), ..ListFilter::default() };
    assert_eq!(listed(&fx, filter), pick(&ids, &[2, 1]));
}

/// Tags match an element of a tags array or a key of a tags object.
#[test]
fn tags_match_array_elements_and_object_keys() {
    let mut fx = Fixture::new();
    let tagged = |tags: &str| edgespool::model::JobSpec { tags: Some(raw(tags)), ..spec("1") };
    let in_array = fx.add(tagged(r#"["red","blue"]"#), T0);
    let as_key = fx.add(tagged(r#"{"red":true}"#), T0);
    fx.add(tagged(r#"{"colour":"red"}"#), T0);
    let filter = ListFilter { tag: Some("red".into()), ..ListFilter::default() };
    assert_eq!(listed(&fx, filter), vec![as_key, in_array]);
}

/// Summaries carry the payload's job type (empty without one) and the last error.
#[test]
fn summaries_carry_job_type_and_last_error() {
    let (fx, ids) = mixed();
    let jobs = summaries_json(&fx.q().list_jobs(&ListFilter { limit: 10, ..ListFilter::default() }).unwrap());
    assert_eq!(jobs[0]["id"], ids[3].as_str());
    assert_eq!(jobs[0]["job_type"], "");
    assert_eq!(jobs[1]["job_type"], "email.bounce");
    assert!(jobs[1]["last_error"].is_string());
}

/// Priority changes only for jobs that have not started, and changes the claim order.
#[test]
fn priority_changes_reorder_waiting_jobs_only() {
    let mut fx = Fixture::new();
    let first = fx.add(spec("1"), T0);
    let second = fx.add(spec("2"), T0);
    assert_eq!(fx.q().set_priority(&second, 9, T0).unwrap(), 0, "the old priority");
    assert_eq!(fx.job(&second)["priority"], 9, "the new priority");
    assert_eq!(fx.claim_one(T0).id, second);
    assert_eq!(err_kind(fx.q().set_priority(&second, 1, T0)), ErrorKind::Conflict);
    assert_eq!(err_kind(fx.q().set_priority("q.01JD3Q0000000000000000000A", 1, T0)), ErrorKind::NotFound);
    assert_eq!(fx.claim_one(T0).id, first);
}

/// A queue with live jobs is only deleted when asked to delete them too.
#[test]
fn deleting_a_queue_with_live_jobs_needs_delete_jobs() {
    let mut fx = Fixture::new();
    fx.job_in("completed", spec("1"), T0);
    fx.add(spec("2"), T0);
    assert_eq!(err_kind(fx.q().delete_queue(false)), ErrorKind::Conflict);
    assert_eq!(fx.dump().len(), 2);
    fx.q().delete_queue(true).unwrap();
    assert!(fx.dump().is_empty());
}

/// A queue never used (no settings, no jobs) cannot be read, resumed or deleted.
#[test]
fn a_never_used_queue_is_not_found() {
    let fx = Fixture::new();
    assert_eq!(err_kind(fx.q().get_config()), ErrorKind::NotFound);
    assert_eq!(err_kind(fx.q().resume(T0)), ErrorKind::NotFound);
    assert_eq!(err_kind(fx.q().delete_queue(true)), ErrorKind::NotFound);
}

/// A queue known only through its jobs answers with real timestamps: its oldest stored job's
/// time, as `created_at` and `updated_at` alike (its settings never changed).
#[test]
fn a_queue_of_jobs_only_dates_from_its_oldest_job() {
    let mut fx = Fixture::new();
    fx.add(spec("1"), T0);
    fx.add(spec("2"), T0 + SEC);
    let view = fx.q().get_config().expect("config");
    assert_eq!((view.created_at, view.updated_at), (Some(T0), Some(T0)));
    assert_eq!(fx.settings.created_at, None, "reading writes nothing");
}

/// The first setting of a queue that already had jobs keeps the first job's `created_at`;
/// one of a queue without jobs dates from the setting itself.
#[test]
fn a_first_setting_keeps_the_queues_creation_time() {
    let mut fx = Fixture::new();
    fx.add(spec("1"), T0);
    let changes = ConfigChanges { max_retries: Some(1), ..ConfigChanges::default() };
    let view = fx.q().configure(&changes, T0 + 5 * SEC).unwrap();
    assert_eq!((view.created_at, view.updated_at), (Some(T0), Some(T0 + 5 * SEC)));

    let fresh = Fixture::new();
    let view = fresh.q().configure(&changes, T0 + 5 * SEC).unwrap();
    assert_eq!((view.created_at, view.updated_at), (Some(T0 + 5 * SEC), Some(T0 + 5 * SEC)));
}

/// Search text of any length is matched literally (no pattern syntax, no length limit).
#[test]
fn long_search_text_is_just_text() {
    let (fx, _) = mixed();
    let long = "e".repeat(500);
    assert!(listed(&fx, ListFilter { search: Some(long), ..ListFilter::default() }).is_empty());
}
