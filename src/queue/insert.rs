//! The statement that inserts a batch of new jobs from one bound JSON array.
//!
//! Reading a field out of a row's JSON is most of what a bulk insert costs SQLite (about half
//! a millisecond per 100 rows for ten fields in the runtime), and in a typical batch only
//! `id` and `payload` differ from job to job. So each other column is read from the rows only
//! when the batch's jobs disagree on it; a value they all share is bound once.

use super::sql::SqlValue;
use crate::model::{EpochMs, JobStatus};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A column besides `id` and `payload`, and whether it holds JSON text (read with `->`, and
/// minified by `json()` when bound) rather than a plain SQL value (read with `->>`).
struct Column {
    name: &'static str,
    json: bool,
}

const fn column(name: &'static str, json: bool) -> Column {
    Column { name, json }
}

/// The columns a batch may share; [`NewRow::values`] lists a row's values in this order.
const SHAREABLE: [Column; 8] = [
    column("status", false),
    column("priority", false),
    column("max_retries", false),
    column("timeout_seconds", false),
    column("tags", true),
    column("idempotency_key", false),
    column("scheduled_at", false),
    column("expires_at", false),
];

/// One new job as the insert stores it.
pub struct NewRow<'a> {
    /// The new job's id.
    pub id: &'a str,
    /// Its payload, stored as `->` renders it (minified).
    pub payload: &'a RawValue,
    /// `pending`, or `scheduled` when it starts later.
    pub status: JobStatus,
    /// −100…100.
    pub priority: i64,
    /// With the queue's default applied.
    pub max_retries: u32,
    /// With the queue's default applied.
    pub timeout_seconds: u32,
    /// Free-form labels, stored minified.
    pub tags: Option<&'a RawValue>,
    /// Unique within the queue.
    pub idempotency_key: Option<&'a str>,
    /// Earliest start.
    pub scheduled_at: Option<EpochMs>,
    /// When it is no longer claimed.
    pub expires_at: Option<EpochMs>,
}

impl NewRow<'_> {
    /// The [`SHAREABLE`] columns' values, in that order (tags as their JSON text).
    fn values(&self) -> [SqlValue; 8] {
        [
            self.status.as_str().into(),
            self.priority.into(),
            self.max_retries.into(),
            self.timeout_seconds.into(),
            self.tags.map(RawValue::get).into(),
            self.idempotency_key.into(),
            self.scheduled_at.into(),
            self.expires_at.into(),
        ]
    }
}

/// An insert of `rows`: the statement and its parameters. ?1 is the time, ?2 the rows, ?3 and
/// ?4 the batch size and `max_jobs`; shared columns follow. With `returning`, the statement
/// returns the id of every job it inserted.
pub fn insert_batch(
    rows: &[NewRow],
    now: EpochMs,
    max_jobs: i64,
    returning: bool,
) -> Result<(Rc<str>, Vec<SqlValue>), serde_json::Error> {
    let values: Vec<[SqlValue; 8]> = rows.iter().map(NewRow::values).collect();
    let shared: [bool; 8] =
        std::array::from_fn(|i| values.first().is_some_and(|first| values.iter().all(|v| v[i] == first[i])));
    let json: Vec<RowJson> =
        rows.iter().zip(&values).map(|(row, values)| RowJson { row, values, shared: &shared }).collect();
    let mut params =
        vec![now.into(), serde_json::to_string(&json)?.into(), (rows.len() as i64).into(), max_jobs.into()];
    params.extend((0..SHAREABLE.len()).filter(|&i| shared[i]).map(|i| values[0][i].clone()));
    Ok((statement(shared, returning), params))
}

/// Which [`SHAREABLE`] columns a batch shares, and whether its insert returns ids.
type StatementShape = ([bool; 8], bool);

thread_local! {
    /// Statement texts by which columns are shared and whether ids are returned (at most 512,
    /// a handful in practice), so the text is built once.
    static STATEMENTS: RefCell<HashMap<StatementShape, Rc<str>>> = RefCell::new(HashMap::new());
}

/// The insert statement for a batch sharing the `shared` columns.
fn statement(shared: [bool; 8], returning: bool) -> Rc<str> {
    STATEMENTS.with_borrow_mut(|cache| {
        cache.entry((shared, returning)).or_insert_with(|| render_statement(shared, returning)).clone()
    })
}

fn render_statement(shared: [bool; 8], returning: bool) -> Rc<str> {
    let mut next_param = 4;
    let reads: Vec<String> = SHAREABLE
        .iter()
        .zip(shared)
        .map(|(column, shared)| match (shared, column.json) {
            (true, json) => {
                next_param += 1;
                if json {
                    format!("json(?{next_param})")
                } else {
                    format!("?{next_param}")
                }
            }
            (false, true) => format!("value->'{}'", column.name),
            (false, false) => format!("value->>'{}'", column.name),
        })
        .collect();
    let names: Vec<&str> = SHAREABLE.iter().map(|c| c.name).collect();
    // Rows go in array order, so `seq` keeps FIFO order; a row whose idempotency key exists
    // already, in the table or earlier in the batch, is skipped. The count is read once,
    // before the first row, so a batch that would pass `max_jobs` inserts nothing; the
    // `WHERE` also keeps SQLite from reading `ON CONFLICT` as a join constraint.
    format!(
        "INSERT INTO jobs (id, payload, {}, created_at, updated_at) \
         SELECT value->>'id', value->'payload', {}, ?1, ?1 FROM json_each(?2) \
         WHERE (SELECT n FROM job_count) + ?3 <= ?4 ON CONFLICT(idempotency_key) DO NOTHING{}",
        names.join(", "),
        reads.join(", "),
        if returning { " RETURNING id" } else { "" }
    )
    .into()
}

/// A row's JSON: its id, payload and the columns the batch does not share.
struct RowJson<'a> {
    row: &'a NewRow<'a>,
    values: &'a [SqlValue; 8],
    shared: &'a [bool; 8],
}

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", self.row.id)?;
        map.serialize_entry("payload", self.row.payload)?;
        for (i, column) in SHAREABLE.iter().enumerate().filter(|(i, _)| !self.shared[*i]) {
            match &self.values[i] {
                SqlValue::Null => continue,
                _ if column.json => map.serialize_entry(column.name, &self.row.tags)?,
                SqlValue::Integer(n) => map.serialize_entry(column.name, n)?,
                SqlValue::Real(x) => map.serialize_entry(column.name, x)?,
                SqlValue::Text(t) => map.serialize_entry(column.name, t)?,
            }
        }
        map.end()
    }
}
