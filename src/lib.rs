//! edgespool: a Spooled-compatible job queue on Cloudflare Workers.
//!
//! Every (tenant, queue) pair is a Durable Object with its own SQLite database and one alarm.
//!
//! Module map, from the pure core outwards:
//! - [`model`]: job states, validation limits, ids, retry curve, lease fencing, errors. Pure.
//! - [`queue`]: one queue's transitions over a synchronous SQL interface. Pure; tested natively.
//! - [`tenant`]: organizations and API keys over the same SQL interface. Pure.
//! - [`api`]: HTTP routes, request validation, authentication and the error → HTTP mapping.
//! - [`actors`]: the Durable Object glue: `QueueActor` and `TenantActor`.
//! - [`bench`]: bench-only ceiling routes and `BenchActor`, off unless `BENCH_CEILINGS` is "1".

pub mod actors;
pub mod api;
pub mod bench;
pub mod model;
pub mod queue;
pub mod tenant;

use worker::{event, Context, Env, Request, Response, Result};

/// The Worker entry: every request goes through [`api::handler::handle`] (except the bench's
/// ceiling routes, when the bench switched them on).
#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if let Some(answer) = bench::ceiling(&mut req, &env).await {
        return answer;
    }
    Ok(api::handler::handle(req, env).await)
}
