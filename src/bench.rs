//! Bench-only ceiling routes: they exist only so `npm run bench` can measure what the runtime
//! itself allows on the machine it runs on, in the same run as the real workloads, and express
//! every workload as a ratio to that ceiling instead of as an absolute number.
//!
//! They are served only when the Worker runs with the variable `BENCH_CEILINGS` set to `"1"`
//! (the bench's Miniflare sets it; `wrangler.toml` never does). Otherwise [`ceiling`] declines
//! and every `/bench/...` path is an unknown route, answered 404 like any other.
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
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, SqlStorage, SqlStorageValue,
    State,
};

/// The variable that turns the ceiling routes on.
const SWITCH: &str = "BENCH_CEILINGS";
/// Durable Object binding of the bench actor.
const BINDING: &str = "BENCH";
/// Every ceiling request goes to this one actor, as a busy queue's requests go to its one actor.
const ACTOR_NAME: &str = "ceiling";

/// Answers a ceiling route when they are switched on; `None` lets the API handle the request.
pub async fn ceiling(req: &mut Request, env: &Env) -> Option<Result<Response>> {
    if !env.var(SWITCH).is_ok_and(|v| v.to_string() == "1") {
        return None;
    }
    let path = req.path();
    let actor_path = match (req.method(), path.as_str()) {
        (Method::Get, "/bench/worker") => return Some(Response::ok("{}")),
        (Method::Post, "/bench/actor") => "/ping",
        (Method::Post, "/bench/actor-insert") => "/insert",
        (Method::Post, "/bench/actor-bulk-insert") => "/bulk-insert",
        _ => return None,
    };
    Some(forward(req, env, actor_path).await)
}

/// Sends the request body (none for the bare round trip) to the bench actor.
async fn forward(req: &mut Request, env: &Env, actor_path: &str) -> Result<Response> {
    let body = if actor_path == "/ping" { None } else { Some(req.text().await?.into()) };
    let stub = env.durable_object(BINDING)?.get_by_name(ACTOR_NAME)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(body);
    let request = Request::new_with_init(&format!("https://bench.internal{actor_path}"), &init)?;
    let mut reply = stub.fetch_with_request(request).await?;
    let (status, text) = (reply.status_code(), reply.text().await?);
    Ok(Response::ok(text)?.with_status(status))
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
        let now = SqlStorageValue::Integer(crate::actors::now());
        let statement = match req.path().as_str() {
            "/ping" => return Response::ok("{}"),
            "/insert" => "INSERT INTO rows (body, created_at) VALUES (?1, ?2) RETURNING seq",
            "/bulk-insert" => "INSERT INTO rows (body, created_at) SELECT value, ?2 FROM json_each(?1) RETURNING seq",
            _ => return Response::error("not found", 404),
        };
        let body = req.text().await?;
        match self.sql.exec(statement, vec![SqlStorageValue::String(body), now]) {
            Ok(cursor) => {
                let inserted = cursor.raw().count();
                Response::ok(format!("{{\"inserted\":{inserted}}}"))
            }
            Err(e) => Response::error(format!("insert failed: {e}"), 400),
        }
    }
}
