//! Durable Object SQLite behind the queue logic's [`Sql`] interface, and `transactionSync`,
//! which worker 0.8.7 does not bind.

use crate::model::ApiError;
use crate::queue::{Row, Sql, SqlValue};
use worker::wasm_bindgen::{prelude::*, JsCast};
use worker::{js_sys, SqlStorage, SqlStorageValue, Storage};

/// [`Sql`] over the actor's `ctx.storage.sql`.
#[derive(Clone)]
pub struct ActorSql(pub SqlStorage);

impl Sql for ActorSql {
    /// Durable Object SQLite refuses PRAGMAs; the storage API reports the size itself.
    fn database_bytes(&self) -> Result<i64, ApiError> {
        Ok(self.0.database_size() as i64)
    }

    fn query(&self, statement: &str, params: &[SqlValue]) -> Result<Vec<Row>, ApiError> {
        let bindings: Vec<SqlStorageValue> = params
            .iter()
            .map(|p| match p {
                SqlValue::Null => SqlStorageValue::Null,
                SqlValue::Integer(i) => SqlStorageValue::Integer(*i),
                SqlValue::Real(f) => SqlStorageValue::Float(*f),
                SqlValue::Text(t) => SqlStorageValue::String(t.clone()),
            })
            .collect();
        let storage_error = |e: worker::Error| ApiError::internal(format!("storage: {e}"));
        let cursor = self.0.exec(statement, bindings).map_err(storage_error)?;
        cursor
            .raw()
            .map(|row| {
                Ok(row
                    .map_err(storage_error)?
                    .into_iter()
                    .map(|v| match v {
                        SqlStorageValue::Null => SqlValue::Null,
                        SqlStorageValue::Boolean(b) => SqlValue::Integer(b.into()),
                        SqlStorageValue::Integer(i) => SqlValue::Integer(i),
                        SqlStorageValue::Float(f) => SqlValue::Real(f),
                        SqlStorageValue::String(s) => SqlValue::Text(s),
                        SqlStorageValue::Blob(_) => SqlValue::Null,
                    })
                    .collect())
            })
            .collect()
    }
}

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
extern "C" {
    /// `DurableObjectStorage`, seen only for its `transactionSync` method.
    type TransactionalStorage;

    #[wasm_bindgen(method, catch, js_name = transactionSync)]
    fn transaction_sync(this: &TransactionalStorage, f: &js_sys::Function) -> Result<JsValue, JsValue>;
}

/// Runs `work` inside `transactionSync`: if it returns an error, every SQL write it made is
/// rolled back, so a failed operation leaves the queue exactly as it was.
pub fn transaction<T: 'static>(
    storage: &Storage,
    work: impl FnOnce() -> Result<T, ApiError> + 'static,
) -> Result<T, ApiError> {
    use std::{cell::RefCell, rc::Rc};
    let outcome: Rc<RefCell<Option<Result<T, ApiError>>>> = Rc::new(RefCell::new(None));
    let slot = outcome.clone();
    let callback = Closure::once_into_js(move || -> Result<JsValue, JsValue> {
        let result = work();
        let failed = result.is_err();
        *slot.borrow_mut() = Some(result);
        // Throwing is what makes transactionSync roll back.
        if failed {
            Err(JsValue::from_str("rolled back"))
        } else {
            Ok(JsValue::UNDEFINED)
        }
    });
    let thrown = storage.as_raw().unchecked_ref::<TransactionalStorage>().transaction_sync(callback.unchecked_ref());
    let result = outcome.borrow_mut().take();
    match (result, thrown) {
        (Some(result), _) => result,
        (None, Err(e)) => Err(ApiError::internal(format!("transaction failed: {e:?}"))),
        (None, Ok(_)) => Err(ApiError::internal("transaction did not run")),
    }
}
