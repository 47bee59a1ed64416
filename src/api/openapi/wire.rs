//! The named components that wire fields refer to (`#[schemars(with = "wire::JobId")]`), for
//! the values whose Rust type says less than the document: a `&str` that is a job id, an `i64`
//! that is a priority. Their schemas are written here by hand because a pattern, an example or
//! a "one of two shapes" rule is not something a Rust type states. Native only (feature
//! `openapi`); the Worker never compiles them.

use crate::api::views::Time;
use crate::model::{spec, JobStatus};
use crate::tenant::keys::{SECRET_LEN, TENANT_ID_LEN};
use crate::tenant::signing::SIGNATURE_LEN;
use crate::tenant::workers::WORKER_STATUSES;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};
use std::borrow::Cow;

/// A millisecond RFC 3339 UTC time, as every response renders one.
const TIMESTAMP_PATTERN: &str = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$";

/// Declares a marker type whose schema is the named component of its name, or (`inline`) a
/// schema written in place wherever a field refers to it.
macro_rules! component {
    ($(#[$doc:meta])* $ty:ident, $schema:expr) => {
        component!(@ $(#[$doc])* $ty, false, $schema);
    };
    (inline $(#[$doc:meta])* $ty:ident, $schema:expr) => {
        component!(@ $(#[$doc])* $ty, true, $schema);
    };
    (@ $(#[$doc:meta])* $ty:ident, $inline:expr, $schema:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl JsonSchema for $ty {
            fn inline_schema() -> bool {
                $inline
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

/// A time on the wire is a `Timestamp`; an `Option<Time>` becomes a `NullableTimestamp`
/// (the generator's `tidy` names it).
impl JsonSchema for Time {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
            "description": "RFC 3339 time in UTC with millisecond precision and a `Z` suffix, e.g. `2026-01-02T03:04:05.678Z`.",
            "examples": ["2026-01-02T03:04:05.678Z"]
        })
    }
}

component!(
    /// `Option<Time>`: a `Timestamp` or `null`.
    NullableTimestamp,
    json_schema!({
        "type": ["string", "null"],
        "format": "date-time",
        "pattern": TIMESTAMP_PATTERN,
        "description": "A `Timestamp`, or `null` when the event has not happened (or does not apply)."
    })
);

component!(
    /// A time a request names (`scheduled_at`, `expires_at`…), read by `model::time`.
    RequestTime,
    json_schema!({
        "type": "string",
        "format": "date-time",
        "pattern": "^(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
        "description": "An RFC 3339 time with any offset (`T` and `Z` in either case), in the years 1970–2099 (the server also takes `2100-01-01T00:00:00Z`, its last instant, and refuses a time before 1970 in UTC)."
    })
);

component!(
    /// A queue name.
    QueueName,
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": spec::MAX_QUEUE_NAME_LEN,
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        "description": "1–64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit (`emails.high`). Queues need no creation: the first job or setting creates one.",
        "examples": ["emails"]
    })
);

component!(
    /// A job id.
    JobId,
    json_schema!({
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\.[0-9A-HJKMNP-TV-Z]{26}$",
        "description": "`{queue_name}.{ULID}`: the queue the job lives in, a dot, and a ULID (26 characters of Crockford base 32, time-ordered); the queue name is everything before the last dot. Opaque to clients; the tenant always comes from the API key.",
        "examples": ["emails.01KC7Z4Q9V3J8M2N6P5R4T3W2X"]
    })
);

component!(
    /// A claim's lease id.
    LeaseId,
    json_schema!({
        "type": "string",
        "pattern": "^[0-9a-f]{32}$",
        "description": "Random lease id (32 lowercase hex characters) minted by each claim; complete, fail and heartbeat are fenced by it."
    })
);

component!(
    /// A job's priority.
    Priority,
    json_schema!({
        "type": "integer",
        "minimum": *spec::PRIORITY.start(),
        "maximum": *spec::PRIORITY.end(),
        "description": "−100…100, higher is claimed first; FIFO (enqueue order) within a priority. Default 0."
    })
);

component!(
    /// A job's tags: raw JSON of one of two shapes, which no Rust type here states.
    Tags,
    json_schema!({
        "type": ["array", "object", "null"],
        "items": {"type": "string"},
        "description": "Free-form labels: an array of strings or an object (at most 64 KiB serialized), or `null`. The `tag` list filter matches an array element or an object key."
    })
);

component!(
    /// A worker's id.
    WorkerId,
    json_schema!({
        "type": "string",
        "pattern": "^[A-Za-z0-9._-]{1,128}$",
        "description": "Minted as `wkr_` + 24 characters of `[0-9a-z]`, or chosen by the client at registration (1–128 characters of `A-Z a-z 0-9 . _ -`)."
    })
);

component!(
    /// An API key's id.
    ApiKeyId,
    json_schema!({"type": "string", "pattern": "^key_[0-9a-z]{20}$", "examples": ["key_0123456789abcdefghij"]})
);

component!(
    /// A raw API key, shown once.
    RawApiKey,
    json_schema!({
        "type": "string",
        "pattern": format!("^sp_live_[0-9a-z]{{{TENANT_ID_LEN}}}([0-9a-z]{{{SIGNATURE_LEN}}})?_[0-9a-z]{{{SECRET_LEN}}}$"),
        "description": format!("`sp_live_{{tenant_id}}{{signature}}_{{secret}}`: send it as `Authorization: Bearer …`. The {SIGNATURE_LEN}-character signature of the tenant id is there when the server has `KEY_SIGNING_SECRET` set.")
    })
);

component!(
    inline
    /// A JSON object of the client's own (`settings`, `metadata`).
    Object,
    json_schema!({"type": "object"})
);

component!(
    inline
    /// An entry of a key's `queues`: a queue name or `*`, every queue.
    KeyQueue,
    json_schema!({"anyOf": [{"$ref": "#/components/schemas/QueueName"}, {"const": "*"}]})
);

/// A container transform for the serde alias `alias` of field `of`, which schemars does not
/// see: the alias is documented beside the field, with its schema. Both at once are refused.
pub fn alias(alias: &'static str, of: &'static str) -> impl FnMut(&mut Schema) {
    move |schema| document_alias(schema, alias, of, "; send one of the two (both is 400).")
}

fn document_alias(schema: &mut Schema, alias: &str, of: &str, note: &str) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else { return };
    let mut field = properties.get(of).cloned().expect("an alias names a field");
    field["description"] = format!("Alias of `{of}`{note}").into();
    let rest: Vec<(String, Value)> = std::mem::take(properties).into_iter().collect();
    for (name, value) in rest {
        let after = name == of;
        properties.insert(name, value);
        if after {
            properties.insert(alias.into(), field.clone());
        }
    }
}

/// A worker heartbeat's `status`: one a worker reports, `healthy` when not sent.
pub fn reported_status(_: &mut SchemaGenerator) -> Schema {
    let mut statuses: Vec<Value> = WORKER_STATUSES.iter().map(|status| Value::from(*status)).collect();
    statuses.push(Value::Null);
    json_schema!({"type": ["string", "null"], "enum": statuses, "default": WORKER_STATUSES[0]})
}

/// `ApiError.details`: a JSON value whose shape depends on the error's code, a rule the
/// `Value` it is stored as does not state. Each shape is a component of its own.
pub fn error_details(_: &mut SchemaGenerator) -> Schema {
    let details = ["ValidationDetails", "RateLimitDetails", "AlreadyCompletedDetails", "WorkerLimitDetails"];
    let shapes: Vec<Value> =
        details.iter().map(|name| json!({"$ref": format!("#/components/schemas/{name}")})).collect();
    json_schema!({"anyOf": shapes})
}

/// `BulkView.failed`: always empty, but Spooled's shape says what an entry would be.
pub fn no_failures(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "maxItems": 0,
        "items": {
            "type": "object",
            "required": ["index", "error"],
            "properties": {"index": {"type": "integer", "minimum": 0}, "error": {"type": "string"}}
        }
    })
}

/// `WorkerView.status`: one of the statuses a worker reports.
pub fn worker_status(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": WORKER_STATUSES})
}

/// `FailView.status`: the two statuses a failed attempt can leave a job in.
pub fn retry_or_deadletter(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": [JobStatus::Pending, JobStatus::Deadletter]})
}

component!(
    /// An event name (`model::EventKind`): one of the 14 Spooled's SDK lists.
    EventName,
    json_schema!({
        "type": "string",
        "enum": crate::model::EventKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "description": "What happened: a job, queue, worker, schedule or workflow event."
    })
);

component!(
    inline
    /// A webhook's body format: only `json` (the SDK sends it; chat formats are refused).
    WebhookFormat,
    json_schema!({"type": "string", "enum": ["json"], "description": "The body format: `json`, the only one."})
);
