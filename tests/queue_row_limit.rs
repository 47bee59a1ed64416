//! Durable Object SQLite refuses a row over 2 MB in production; Miniflare does not. These
//! tests run the queue's SQL under that very limit (`SQLITE_LIMIT_LENGTH` bounds a row too), so
//! the largest job the API allows — a 1 MiB payload, 64 KiB of tags, and a 1 MiB result —
//! must be stored, completed, read back and pruned here exactly as it would be in production.

mod common;
mod support;
use common::*;
use edgespool::model::spec::{MAX_INLINE_RESULT_BYTES, MAX_PAYLOAD_BYTES, MAX_ROW_BYTES, MAX_TAGS_BYTES};
use edgespool::queue::ack::AckItem;
use edgespool::queue::{RowExt, Sql};
use rusqlite::limits::Limit;
use support::*;

const NOW: i64 = 1_000 * SEC;

/// A fixture whose database refuses rows over the production limit.
fn limited() -> Fixture {
    let fx = Fixture::new();
    fx.sql.0.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_ROW_BYTES as i32);
    fx
}

/// A JSON string value of exactly `bytes` bytes, quotes included.
fn json_of_size(bytes: usize, fill: char) -> String {
    format!("\"{}\"", fill.to_string().repeat(bytes - 2))
}

/// The largest tags the API allows: an object of one long string.
fn largest_tags() -> String {
    format!("{{\"t\":{}}}", json_of_size(MAX_TAGS_BYTES - 6, 't'))
}

#[test]
fn the_limit_is_in_force() {
    let fx = limited();
    let too_long = "x".repeat(MAX_ROW_BYTES + 1);
    let err = fx.sql.query("SELECT length(?1)", &[too_long.into()]);
    assert!(err.is_err(), "a value over the row limit must be refused");
}

#[test]
fn the_largest_job_with_the_largest_result_fits_and_reads_back() {
    let mut fx = limited();
    let payload = json_of_size(MAX_PAYLOAD_BYTES, 'p');
    let id = fx.add(spec(&payload).with_tags(&largest_tags()), NOW);
    let job = fx.claim_one(NOW);
    assert_eq!(job.id, id);
    let result = json_of_size(MAX_PAYLOAD_BYTES, 'r');
    fx.q().complete(&id, &by_lease(&job), Some(&raw(&result)), NOW + SEC).expect("complete a 1 MiB result");
    let stored = fx.job(&id);
    assert_eq!(stored["status"], "completed");
    assert_eq!(stored["result"].as_str().map(str::len), Some(MAX_PAYLOAD_BYTES - 2));
    assert_eq!(stored["payload"].as_str().map(str::len), Some(MAX_PAYLOAD_BYTES - 2));
    // Completing again under the same lease stays idempotent.
    fx.q().complete(&id, &by_lease(&job), Some(&raw(&result)), NOW + 2 * SEC).expect("repeat");
}

#[test]
fn small_results_stay_in_the_job_row_and_large_ones_get_their_own() {
    let mut fx = limited();
    let small = fx.add(spec("{}"), NOW);
    let large = fx.add(spec("{}"), NOW);
    let jobs = fx.claim(2, NOW);
    let lease_of = |id: &str| jobs.iter().find(|j| j.id == id).unwrap().lease_id.clone();
    let acks = [
        AckItem { id: small.clone(), lease_id: lease_of(&small), result: Some(raw("{\"n\":1}")) },
        AckItem {
            id: large.clone(),
            lease_id: lease_of(&large),
            result: Some(raw(&json_of_size(MAX_INLINE_RESULT_BYTES + 1, 'r'))),
        },
    ];
    fx.q().ack_batch(&acks, &[], NOW, &mut SeededEntropy::new(3)).expect("ack");
    let own_rows = fx.sql.query_one("SELECT count(*) FROM job_results", &[]).unwrap().unwrap().int(0).unwrap();
    assert_eq!(own_rows, 1, "only the large result has a row of its own");
    assert_eq!(fx.job(&small)["result"]["n"], 1);
    assert_eq!(fx.job(&large)["result"].as_str().map(str::len), Some(MAX_INLINE_RESULT_BYTES - 1));
    // Retention deletes the job and its result row together.
    let later = NOW + fx.settings.retention_ms + SEC;
    fx.q().sweep(later).expect("sweep");
    assert_eq!(fx.count(), 0);
    let left = fx.sql.query_one("SELECT count(*) FROM job_results", &[]).unwrap().unwrap().int(0).unwrap();
    assert_eq!(left, 0, "a pruned job leaves no result behind");
}
