//! Which queues a tenant has, as its catalog (the tenant actor) lists them, remembered in the
//! isolate: a read of a queue the catalog does not list is answered without calling the
//! queue's actor, since calling an actor creates its database.

use crate::actors::client::call_tenant;
use crate::model::ApiError;
use crate::queue::protocol::{QueueCommand, QueueReply};
use crate::tenant::protocol::{TenantCommand, TenantReply};
use std::cell::RefCell;
use std::collections::HashSet;
use worker::Env;

/// Queues remembered at most; past this the memory starts over (it only saves round trips).
const CAPACITY: usize = 10_000;

thread_local! {
    /// `"{tenant}/{queue}"` of every queue a catalog listed. Only queues that exist are
    /// remembered: one created elsewhere is found by asking again, and one deleted since is
    /// answered by its actor, whose database exists anyway.
    static KNOWN: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// The page of the tenant's catalog that `list` (a `ListQueues`) asks for, and whether more
/// follow; the queues on it are remembered.
pub async fn page(env: &Env, tenant: &str, list: TenantCommand) -> Result<(Vec<String>, bool), ApiError> {
    let TenantReply::Queues(names, more) = call_tenant(env, tenant, list).await? else {
        return Err(ApiError::internal("the actor did not answer with a queue catalog"));
    };
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() + names.len() > CAPACITY {
            known.clear();
        }
        known.extend(names.iter().map(|q| format!("{tenant}/{q}")));
    });
    Ok((names, more))
}

/// Whether the tenant's catalog lists `queue`: remembered, or asked for that one name.
async fn lists(env: &Env, tenant: &str, queue: &str) -> Result<bool, ApiError> {
    if KNOWN.with(|known| known.borrow().contains(&format!("{tenant}/{queue}"))) {
        return Ok(true);
    }
    let (names, _) = page(env, tenant, TenantCommand::ListQueues(Some(vec![queue.to_owned()]), None, 1)).await?;
    Ok(!names.is_empty())
}

/// Sends `command` to the queue's actor, unless it only reads and the tenant has no such
/// queue: then it answers what a missing queue answers, and no actor is created. (Writes go
/// to the actor, which answers the same without creating its tables; a claim may wait there
/// for the queue's first job.)
pub async fn ask(env: &Env, tenant: &str, queue: &str, command: QueueCommand) -> Result<QueueReply, ApiError> {
    let reads = !command.traits().writes;
    if let Some(missing) = command.answer_for_missing_queue().filter(|_| reads) {
        if !lists(env, tenant, queue).await? {
            return missing;
        }
    }
    crate::actors::client::call_queue(env, tenant, queue, command).await
}
