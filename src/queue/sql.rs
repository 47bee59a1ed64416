//! The small synchronous SQL interface the queue logic is written against.
//!
//! Durable Object SQLite (`worker::SqlStorage`) implements it in the runtime; the native tests
//! implement it over rusqlite, so the very same statements run in both.

use crate::model::ApiError;

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

impl RowExt for Row {
    fn int(&self, col: usize) -> Result<i64, ApiError> {
        self.opt_int(col)?.ok_or_else(|| column_error(col, "integer"))
    }

    fn opt_int(&self, col: usize) -> Result<Option<i64>, ApiError> {
        match self.get(col) {
            Some(SqlValue::Integer(v)) => Ok(Some(*v)),
            // JS numbers come back as floats when they carry a fraction; ours never do.
            Some(SqlValue::Real(v)) if v.fract() == 0.0 => Ok(Some(*v as i64)),
            Some(SqlValue::Null) => Ok(None),
            _ => Err(column_error(col, "integer")),
        }
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
