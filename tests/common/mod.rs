//! Shared fixtures for the native tests: the `Sql` interface over an in-memory rusqlite
//! database, a seeded entropy source, and job builders.

#![allow(dead_code)] // each test file uses a different subset

use edgespool::model::{ApiError, Entropy, JobSpec};
use edgespool::queue::{schema, Queue, QueueSettings, Row, Sql, SqlValue};
use rusqlite::types::{Value, ValueRef};
use serde_json::value::RawValue;

/// `Sql` over an in-memory SQLite database, as the runtime's is over Durable Object storage.
pub struct MemorySql(pub rusqlite::Connection);

impl MemorySql {
    /// A fresh database with the queue schema applied.
    pub fn with_queue_schema() -> MemorySql {
        let sql = MemorySql(rusqlite::Connection::open_in_memory().expect("open sqlite"));
        schema::migrate(&sql).expect("schema");
        sql
    }
}

impl Sql for MemorySql {
    fn query(&self, statement: &str, params: &[SqlValue]) -> Result<Vec<Row>, ApiError> {
        let fail = |e: rusqlite::Error| ApiError::internal(format!("sqlite: {e} in {statement}"));
        let mut stmt = self.0.prepare(statement).map_err(fail)?;
        let values: Vec<Value> = params
            .iter()
            .map(|p| match p {
                SqlValue::Null => Value::Null,
                SqlValue::Integer(i) => Value::Integer(*i),
                SqlValue::Real(f) => Value::Real(*f),
                SqlValue::Text(t) => Value::Text(t.clone()),
            })
            .collect();
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(values)).map_err(fail)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(fail)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(fail)? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(i) => SqlValue::Integer(i),
                    ValueRef::Real(f) => SqlValue::Real(f),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => return Err(ApiError::internal("unexpected blob")),
                });
            }
            out.push(values);
        }
        Ok(out)
    }
}

/// Deterministic entropy: a simple xorshift stream, and a fixed jitter fraction.
pub struct SeededEntropy {
    state: u64,
    /// What `fraction()` returns, so backoff delays are exact in tests.
    pub jitter: f64,
}

impl SeededEntropy {
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy { state: seed | 1, jitter: 0.0 }
    }
}

impl Entropy for SeededEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
    }

    fn fraction(&mut self) -> f64 {
        self.jitter
    }
}

/// A queue named "q" of tenant "t" over `sql`.
pub fn queue<'a>(sql: &'a MemorySql, settings: &'a QueueSettings) -> Queue<'a> {
    Queue { sql, tenant: "t", name: "q", settings }
}

/// A job spec with `payload` and defaults for everything else.
pub fn spec(payload: &str) -> JobSpec {
    JobSpec {
        payload: RawValue::from_string(payload.to_owned()).expect("payload json"),
        priority: 0,
        max_retries: None,
        timeout_seconds: None,
        scheduled_at: None,
        expires_at: None,
        idempotency_key: None,
        tags: None,
        completion_webhook: None,
    }
}
