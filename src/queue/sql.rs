//! The small synchronous SQL interface the queue logic is written against.
//!
//! Durable Object SQLite (`worker::SqlStorage`) implements it in the runtime; the native tests
//! implement it over rusqlite, so the very same statements run in both.

use crate::model::{ApiError, JobStatus};
use serde_json::value::RawValue;

/// A value bound to, or read from, a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// An integer; stays within ±2^53 to cross the JS boundary exactly.
    Integer(i64),
    /// A float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
}

/// One result row, columns in the order the statement names them.
pub type Row = Vec<SqlValue>;

/// Runs one statement with positional `?` parameters and returns every row it yields.
pub trait Sql {
    /// Executes `statement`. Errors are storage failures, reported as internal errors.
    fn query(&self, statement: &str, params: &[SqlValue]) -> Result<Vec<Row>, ApiError>;

    /// Size of the whole database file in bytes.
    fn database_bytes(&self) -> Result<i64, ApiError> {
        let pages = self.query_one("PRAGMA page_count", &[])?;
        let size = self.query_one("PRAGMA page_size", &[])?;
        match (pages, size) {
            (Some(p), Some(s)) => Ok(p.int(0)? * s.int(0)?),
            _ => Err(ApiError::internal("database size unavailable")),
        }
    }

    /// Executes `statement` and returns its first row, if any.
    fn query_one(&self, statement: &str, params: &[SqlValue]) -> Result<Option<Row>, ApiError> {
        Ok(self.query(statement, params)?.into_iter().next())
    }
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}

impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        SqlValue::Integer(v.into())
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// Typed column access for rows; a type mismatch is a storage error, not a panic.
pub trait RowExt {
    /// An integer column (a NULL is an error).
    fn int(&self, col: usize) -> Result<i64, ApiError>;
    /// A nullable integer column.
    fn opt_int(&self, col: usize) -> Result<Option<i64>, ApiError>;
    /// A text column (a NULL is an error).
    fn text(&self, col: usize) -> Result<&str, ApiError>;
    /// A nullable text column.
    fn opt_text(&self, col: usize) -> Result<Option<&str>, ApiError>;
}

fn column_error(col: usize, want: &str) -> ApiError {
    ApiError::internal(format!("storage returned an unexpected value in column {col} (wanted {want})"))
}

/// An integer value (a float without fraction counts: JS numbers come back as floats when
/// they carry one, and ours never do); `None` for NULL.
fn int_value(value: Option<&SqlValue>, col: usize) -> Result<Option<i64>, ApiError> {
    match value {
        Some(SqlValue::Integer(v)) => Ok(Some(*v)),
        Some(SqlValue::Real(v)) if v.fract() == 0.0 => Ok(Some(*v as i64)),
        Some(SqlValue::Null) => Ok(None),
        _ => Err(column_error(col, "integer")),
    }
}

impl RowExt for Row {
    fn int(&self, col: usize) -> Result<i64, ApiError> {
        self.opt_int(col)?.ok_or_else(|| column_error(col, "integer"))
    }

    fn opt_int(&self, col: usize) -> Result<Option<i64>, ApiError> {
        int_value(self.get(col), col)
    }

    fn text(&self, col: usize) -> Result<&str, ApiError> {
        self.opt_text(col)?.ok_or_else(|| column_error(col, "text"))
    }

    fn opt_text(&self, col: usize) -> Result<Option<&str>, ApiError> {
        match self.get(col) {
            Some(SqlValue::Text(v)) => Ok(Some(v)),
            Some(SqlValue::Null) => Ok(None),
            _ => Err(column_error(col, "text")),
        }
    }
}

/// Reads a row's columns in order, taking each value out of the row instead of copying it:
/// how stored rows become owned records. A column of the wrong type reads as a default and is
/// remembered; [`Columns::finish`] then reports it. Reading a whole record first and checking
/// once keeps a dozen early returns (each dropping what was read so far) out of every reader.
pub struct Columns {
    values: std::vec::IntoIter<SqlValue>,
    /// The index of the next column, for errors.
    at: usize,
    /// The first column that did not hold what its reader wanted.
    error: Option<ApiError>,
}

impl Columns {
    /// A reader positioned at the row's first column.
    pub fn new(row: Row) -> Columns {
        Columns { values: row.into_iter(), at: 0, error: None }
    }

    /// Whether every column read held what its reader wanted.
    pub fn finish(self) -> Result<(), ApiError> {
        self.error.map_or(Ok(()), Err)
    }

    /// The next value, and its column index.
    fn next(&mut self) -> (usize, Option<SqlValue>) {
        self.at += 1;
        (self.at - 1, self.values.next())
    }

    /// Remembers the first bad column; `fallback` stands in for its value.
    fn bad<T>(&mut self, error: ApiError, fallback: T) -> T {
        self.error.get_or_insert(error);
        fallback
    }

    /// The next column, a nullable integer.
    #[inline(never)]
    pub fn opt_int(&mut self) -> Option<i64> {
        let (col, value) = self.next();
        int_value(value.as_ref(), col).unwrap_or_else(|e| self.bad(e, None))
    }

    /// The next column, an integer (NULL is bad).
    #[inline(never)]
    pub fn int(&mut self) -> i64 {
        let col = self.at;
        self.opt_int().unwrap_or_else(|| self.bad(column_error(col, "integer"), 0))
    }

    /// The next column, nullable text.
    #[inline(never)]
    pub fn opt_text(&mut self) -> Option<String> {
        match self.next() {
            (_, Some(SqlValue::Text(v))) => Some(v),
            (_, Some(SqlValue::Null)) => None,
            (col, _) => self.bad(column_error(col, "text"), None),
        }
    }

    /// The next column, text (NULL is bad).
    #[inline(never)]
    pub fn text(&mut self) -> String {
        let col = self.at;
        self.opt_text().unwrap_or_else(|| self.bad(column_error(col, "text"), String::new()))
    }

    /// The next column, nullable JSON text stored by edgespool, kept raw.
    #[inline(never)]
    pub fn opt_json(&mut self) -> Option<Box<RawValue>> {
        let text = self.opt_text()?;
        RawValue::from_string(text).map_or_else(|_| self.bad(ApiError::internal("stored JSON is corrupt"), None), Some)
    }

    /// The next column, JSON text stored by edgespool, kept raw (NULL is bad).
    #[inline(never)]
    pub fn json(&mut self) -> Box<RawValue> {
        let col = self.at;
        self.opt_json().unwrap_or_else(|| self.bad(column_error(col, "JSON text"), RawValue::NULL.to_owned()))
    }

    /// The next column, a stored job status.
    #[inline(never)]
    pub fn status(&mut self) -> JobStatus {
        let text = self.text();
        JobStatus::parse(&text)
            .unwrap_or_else(|| self.bad(ApiError::internal("unknown stored status"), JobStatus::Pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_in_order_and_report_the_first_bad_one() {
        let row = vec![SqlValue::Text("a".into()), SqlValue::Real(3.0), SqlValue::Null, SqlValue::Text("[1]".into())];
        let mut c = Columns::new(row);
        assert_eq!((c.text(), c.int(), c.opt_text(), c.json().get().to_owned()), ("a".into(), 3, None, "[1]".into()));
        assert!(c.finish().is_ok());
        let mut c = Columns::new(vec![SqlValue::Integer(1), SqlValue::Null, SqlValue::Text("x".into())]);
        let _ = (c.text(), c.int(), c.status());
        let error = c.finish().unwrap_err();
        assert!(error.message.contains("column 0"), "{}", error.message);
    }
}
