//! Who a queue actor is: its tenant and queue name. The alarm arrives with no request, so the
//! actor stores its identity with its first job or setting and reads it back when it starts;
//! the alarm then names the queue (job ids, events) like any command does.

use super::sql::{RowExt, Sql};
use crate::model::ApiError;

/// A queue's tenant and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueIdentity {
    /// The owning tenant (organization) id.
    pub tenant: String,
    /// The queue name.
    pub name: String,
}

/// The stored identity, if the queue has ever had a job or a setting.
pub fn load(sql: &dyn Sql) -> Result<Option<QueueIdentity>, ApiError> {
    let row = sql.query_one("SELECT tenant, name FROM queue_identity WHERE id = 1", &[])?;
    row.map(|r| Ok(QueueIdentity { tenant: r.text(0)?.to_owned(), name: r.text(1)?.to_owned() })).transpose()
}

/// Stores the identity once; an actor's identity never changes, so a second call is a no-op.
pub fn store(sql: &dyn Sql, identity: &QueueIdentity) -> Result<(), ApiError> {
    sql.query(
        "INSERT INTO queue_identity (id, tenant, name) VALUES (1, ?1, ?2) ON CONFLICT(id) DO NOTHING",
        &[identity.tenant.as_str().into(), identity.name.as_str().into()],
    )
    .map(drop)
}
