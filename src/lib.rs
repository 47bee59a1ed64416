//! edgespool: a Spooled-compatible job queue on Cloudflare Workers.
//!
//! Every (tenant, queue) pair is a Durable Object with its own SQLite database and one alarm.
//!
//! Module map, from the pure core outwards:
//! - [`model`]: job states, validation limits, ids, retry curve, lease fencing, errors. Pure.
//! - [`queue`]: one queue's transitions over a synchronous SQL interface. Pure; tested natively.
//! - [`tenant`]: organizations and API keys over the same SQL interface. Pure.
//! - [`delivery`]: outgoing webhooks and their durable, retried deliveries. Pure.
//! - [`api`]: HTTP routes, request validation, authentication, and the one place each of
//!   replies (as Spooled's JSON) and errors (as HTTP statuses) is rendered.
//! - [`actors`]: the Durable Object glue: `QueueActor`, `TenantActor` and `DeliveryActor`.
//! - `bench`: the bench's ceiling routes and `BenchActor`, compiled only with the cargo feature
//!   `bench` (the build of the wrangler environment `bench`), never into the production Worker.

pub mod actors;
pub mod api;
#[cfg(feature = "bench")]
pub mod bench;
pub mod delivery;
pub mod model;
pub mod queue;
pub mod tenant;

use worker::{event, web_sys, Context, Env, Result};

/// The Worker entry: every request goes through [`api::handler::handle`] (in the bench build,
/// except the bench's ceiling routes). It takes the runtime's own request and response types:
/// the worker crate's wrappers read the `cf` object and copy headers on every request, work
/// nothing here needs. The URL is read once, for both.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let url = req.url();
    #[cfg(feature = "bench")]
    if let Some(answer) = bench::ceiling(&req, &url, &env).await {
        return answer;
    }
    Ok(api::handler::handle(req, &url, env).await)
}
