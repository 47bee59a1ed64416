//! The document around the operations: its info, servers, security schemes, tags and the
//! components that are not schemas (shared responses, headers).

use super::operation::{Shared, Tag};
use crate::api::calls::MAX_FAN_OUT;
use crate::model::spec;
use serde_json::{json, Map, Value};

/// The API's description, its limits read from `model::spec`.
fn description() -> String {
    let range = |r: &std::ops::RangeInclusive<i64>| format!("{}–{}", r.start(), r.end());
    let limits = format!(
        "- **Limits**: priority −{}…{} (default 0); `max_retries` {} (default {}; a job runs at most `max_retries + 1` times); lease {} s (default {}); claim `limit` {}, `wait_secs` {}; bulk {}–{} jobs; payload and result ≤ 1 MiB serialized; tags ≤ 64 KiB; worker `metadata` ≤ 16 KiB and at most `WORKER_LIMIT` (default 1,000) workers per organization; at most `QUEUE_LIMIT` (default 1,000) queues per organization; `idempotency_key` ≤ {} characters; request body ≤ 2 MiB; payloads, `tags` and results must be JSON that strict decoders accept: no lone UTF-16 surrogate escape (`\"\\ud800\"`), no number beyond a 64-bit float (`1e400`).",
        -spec::PRIORITY.start(),
        spec::PRIORITY.end(),
        range(&spec::MAX_RETRIES),
        spec::DEFAULT_MAX_RETRIES,
        range(&spec::LEASE_SECS),
        spec::DEFAULT_LEASE_SECS,
        range(&spec::CLAIM_LIMIT),
        range(&spec::WAIT_SECS),
        spec::BULK_JOBS.start(),
        spec::BULK_JOBS.end(),
        spec::MAX_IDEMPOTENCY_KEY_LEN,
    );
    [
        "edgespool speaks Spooled's REST API v1 (jobs, queues, workers, API keys), plus long-poll claims and batch ack.\n",
        "- **Auth**: `Authorization: Bearer sp_live_{tenant}_{secret}` (or `sp_test_…`) on every route except `/health*`, this document, and `POST /api/v1/organizations` (header `X-Admin-Key`).",
        "- **JSON** in and out, snake_case; times are RFC 3339 UTC (`…T…Z`, milliseconds); optional fields are sent as explicit `null`. In a request, an optional field sent as `null` counts as absent, and an integer may carry a zero fraction (`30.0`, as JSON Schema counts it).",
        "- **Request bodies**: unknown fields beside known ones are ignored (newer clients send more); a body that carries none of the fields its route needs, or names only unknown fields where every field is optional and steers the route, is 400 `VALIDATION_ERROR` naming them. An empty body or `{}` to a route whose every field is optional takes its defaults.",
        "- **Errors**: `{\"code\": \"UPPER_SNAKE\", \"message\": \"…\", \"details\"?: …}` (schema `Error`). Paths that match no route answer 404 `NOT_FOUND` (`No route matches this path`) and a documented path with an undocumented method answers 405 `METHOD_NOT_ALLOWED`, both before authentication. A request body over 2 MiB is 413 on every authenticated route. A rejected request changes nothing.",
        &format!("- **Headers**: every response carries `X-Request-Id` and `X-API-Version: 1`; authenticated responses carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` while a rate limit applies; paged lists carry `X-Has-More`; reads across queues that reached only the first {MAX_FAN_OUT} carry `X-Next-Cursor`."),
        "- **Ids**: job ids are `{queue_name}.{ULID}` (the queue name is everything before the last dot); queue names are 1–64 characters of `A-Z a-z 0-9 . _ -` starting with a letter or digit.",
        &limits,
    ]
    .join("\n")
}

/// The Info Object.
pub fn info() -> Value {
    json!({
        "title": "edgespool",
        "version": env!("CARGO_PKG_VERSION"),
        "summary": "A Spooled-compatible job queue on Cloudflare Workers and SQLite Durable Objects.",
        "description": description(),
        "license": {"name": env!("CARGO_PKG_LICENSE"), "identifier": env!("CARGO_PKG_LICENSE")}
    })
}

/// The servers: the local development server.
pub fn servers() -> Value {
    json!([{"url": "http://127.0.0.1:8787", "description": "`npm run dev`"}])
}

/// The tags, in order, with what their operations do.
pub fn tags() -> Value {
    Tag::ALL.iter().map(|tag| tag.describe()).map(|(name, about)| json!({"name": name, "description": about})).collect()
}

/// The credentials: API keys for everything but the organization bootstrap's admin key.
pub fn security_schemes() -> Value {
    json!({
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sp_live_{tenant_id}_{secret}",
            "description": "An API key: `Authorization: Bearer sp_live_…`. Keys are minted by `POST /api/v1/organizations` and `POST /api/v1/api-keys`."
        },
        "adminKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Admin-Key",
            "description": "The server's `ADMIN_KEY` secret; only `POST /api/v1/organizations` uses it."
        }
    })
}

/// `components/responses`: the error responses operations refer to.
pub fn responses() -> Value {
    Value::Object(
        Shared::ALL.iter().map(|shared| (shared.name().to_string(), shared.response())).collect::<Map<_, _>>(),
    )
}

/// `components/headers`: every response header.
pub fn headers() -> Value {
    let count = |minimum: u8, description: &str| json!({"description": description, "schema": {"type": "integer", "minimum": minimum}});
    json!({
        "X-Request-Id": {
            "required": true,
            "description": "The client's own `X-Request-Id` echoed back when it is 1–128 characters of `A-Z a-z 0-9 - _ .`, else a fresh UUID.",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"}
        },
        "X-API-Version": {"required": true, "description": "Always `1`.", "schema": {"type": "string", "const": "1"}},
        "X-RateLimit-Limit": count(1, "Requests per minute allowed for the API key (its `rate_limit`, else the server default). Sent on authenticated responses while a limit applies."),
        "X-RateLimit-Remaining": count(0, "Requests left in the current one-minute window. A request counts one per queue actor it reaches: a cross-queue read over k queues counts k."),
        "X-RateLimit-Reset": count(0, "When the current window ends, in Unix epoch seconds."),
        "Retry-After": count(0, "Seconds to wait before retrying (sent with `RATE_LIMIT_EXCEEDED`)."),
        "X-Has-More": {"required": true, "description": "`true` when another page exists after this one.", "schema": {"type": "boolean"}},
        "X-Next-Cursor": {
            "description": format!("Sent when the request reached only the first queues (by name) of those the key may see: at most {MAX_FAN_OUT} per request, fewer for a key whose rate limit per minute is lower. Lists, stats and replays then cover only those queues; pass the value back unchanged as `cursor` for the next ones. Absent on the last page."),
            "schema": {"type": "string", "minLength": 1}
        }
    })
}
