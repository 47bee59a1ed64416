//! Bench-only ceiling routes: they exist only so `npm run bench` can measure what the runtime
//! itself allows on the machine it runs on, in the same run as the real workloads, and express
//! every workload as a ratio to that ceiling instead of as an absolute number.
//!
//! This module exists only in the bench build (cargo feature `bench`, wrangler environment
//! `bench`, `scripts/build.sh --bench`); the production Worker has no ceiling route and no
//! `BenchActor` class, so there every `/bench/...` path is an unknown route, answered 404.
//!
//! | route | what one request costs |
//! |---|---|
//! | `GET /bench/worker` | the Worker alone: no actor, no storage |
//! | `POST /bench/actor` | a bare round trip to one [`BenchActor`], which answers at once |
//! | `POST /bench/actor-insert` | a round trip whose actor inserts the request body as one row |
//! | `POST /bench/actor-bulk-insert` | a round trip whose actor inserts every element of the JSON array body as a row, in one `json_each` statement |
//!
//! No validation, authentication, idempotency or rendering happens here: that is the point.

use worker::{
    durable_object, web_sys, DurableObject, Env, Request, Response, Result, SqlStorage, SqlStorageValue, State,
};

/// Durable Object binding of the bench actor.
const BINDING: &str = "BENCH";
/// Every ceiling request goes to this one actor, as a busy queue's requests go to its one actor.
const ACTOR_NAME: &str = "ceiling";

/// Answers a ceiling route (`url` is the request's); `None` lets the API handle the request.
pub async fn ceiling(req: &web_sys::Request, url: &str, env: &Env) -> Option<Result<web_sys::Response>> {
    let path = crate::api::body::split_url(url).0;
    let actor_path = match (req.method().as_str(), path) {
        ("GET", "/bench/worker") => return Some(Ok(reply(200, "{}"))),
        ("POST", "/bench/actor") => "/ping",
        ("POST", "/bench/actor-insert") => "/insert",
        ("POST", "/bench/actor-bulk-insert") => "/bulk-insert",
        _ => return None,
    };
    Some(forward(req, env, actor_path).await)
}

/// Sends the request body (none for the bare round trip) to the bench actor, through the same
/// actor client as the API, so the ceilings pay the API's transport and nothing more.
async fn forward(req: &web_sys::Request, env: &Env, actor_path: &str) -> Result<web_sys::Response> {
    let body = match actor_path {
        "/ping" => Vec::new(),
        // Read as the API reads every body, so the ceilings pay that too.
        _ => crate::api::handler::read_body(req).await.map_err(|e| worker::Error::RustError(e.message))?,
    };
    let body = String::from_utf8(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    // The actor path travels in front of the body: the client always posts to one URL.
    let message = format!("{actor_path}\n{body}");
    let (status, text) = crate::actors::client::post(env, BINDING, ACTOR_NAME, &message).await?;
    Ok(reply(status, &text))
}

fn reply(status: u16, body: &str) -> web_sys::Response {
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    web_sys::Response::new_with_opt_str_and_init(Some(body), &init).expect("a string response")
}

/// A scratch actor with one table, used only by the ceiling routes.
#[durable_object(fetch)]
pub struct BenchActor {
    sql: SqlStorage,
}

impl DurableObject for BenchActor {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        // Idempotent, so it runs whenever the actor starts; a failure shows up on the first insert.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS rows (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL)",
            None,
        );
        BenchActor { sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let message = crate::actors::client::command_body(&mut req).await?;
        let (route, body) = message.split_once('\n').unwrap_or((&message, ""));
        let now = SqlStorageValue::Integer(crate::actors::now());
        let statement = match route {
            "/ping" => return Response::ok("{}"),
            "/insert" => "INSERT INTO rows (body, created_at) VALUES (?1, ?2) RETURNING seq",
            "/bulk-insert" => "INSERT INTO rows (body, created_at) SELECT value, ?2 FROM json_each(?1) RETURNING seq",
            _ => return Response::error("not found", 404),
        };
        match self.sql.exec(statement, vec![SqlStorageValue::String(body.to_owned()), now]) {
            Ok(cursor) => {
                let inserted = cursor.raw().count();
                Response::ok(format!("{{\"inserted\":{inserted}}}"))
            }
            Err(e) => Response::error(format!("insert failed: {e}"), 400),
        }
    }
}
