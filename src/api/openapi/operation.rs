//! The vocabulary the route table is written in: one operation ([`Op`]), its tag, who may call
//! it, and its responses, from the shared ones ([`Shared`]) and the header sets ([`Headers`]).

use super::param;
use crate::model::ErrorKind;
use serde_json::{json, Map, Value};

/// The groups operations are listed under, in the document's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Jobs,
    WorkerLoop,
    DeadLetters,
    Queues,
    Workers,
    Tenancy,
    Webhooks,
    System,
}

impl Tag {
    /// Every tag, in the document's order.
    pub const ALL: [Tag; 8] = [
        Tag::Jobs,
        Tag::WorkerLoop,
        Tag::DeadLetters,
        Tag::Queues,
        Tag::Workers,
        Tag::Tenancy,
        Tag::Webhooks,
        Tag::System,
    ];

    /// The tag's name and what its operations do.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Tag::Jobs => ("Jobs", "Enqueue, read, list and cancel jobs."),
            Tag::WorkerLoop => {
                ("Worker loop", "Claim leased jobs; complete, fail or heartbeat them under their lease.")
            }
            Tag::DeadLetters => ("Dead letters", "Jobs out of retries: list, replay, purge."),
            Tag::Queues => ("Queues", "Queue settings, pause and resume, stats, deletion."),
            Tag::Workers => ("Workers", "The registry of workers."),
            Tag::Tenancy => ("Tenancy", "Organizations and API keys."),
            Tag::Webhooks => (
                "Webhooks",
                "Outgoing webhooks: job and queue events POSTed, signed, to your receivers, retried for over a day.",
            ),
            Tag::System => ("System", "Health and this document."),
        }
    }
}

/// Who may call an operation; the document's default is an API key.
#[derive(Clone, Copy, Debug)]
pub enum Security {
    /// No credential: health and this document.
    Open,
    /// The server's admin key (`X-Admin-Key`).
    Admin,
}

/// The headers a response carries.
#[derive(Clone, Copy, Debug)]
pub enum Headers {
    /// Every response: `X-Request-Id` and `X-API-Version`.
    Base,
    /// Authenticated responses, with the rate limit's state.
    RateLimited,
    /// A refusal for the rate limit, which says when to retry.
    RetryAfter,
    /// A page of a list, which says whether another page exists.
    Paged,
}

impl Headers {
    /// The header names, in the order the document lists them.
    fn names(self) -> impl Iterator<Item = &'static str> {
        const AUTHENTICATED: [&str; 5] =
            ["X-Request-Id", "X-API-Version", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"];
        let (common, extra): (&[&str], &[&str]) = match self {
            Headers::Base => (&AUTHENTICATED[..2], &[]),
            Headers::RateLimited => (&AUTHENTICATED, &[]),
            Headers::RetryAfter => (&AUTHENTICATED, &["Retry-After"]),
            Headers::Paged => (&AUTHENTICATED, &["X-Has-More"]),
        };
        common.iter().chain(extra).copied()
    }

    /// The `headers` of a response: references to `components/headers`.
    fn refs(self) -> Value {
        let refs = self.names().map(|name| (name.to_string(), json!({"$ref": format!("#/components/headers/{name}")})));
        Value::Object(refs.collect())
    }
}

/// The error responses many operations share (`components/responses`).
#[derive(Clone, Copy, Debug)]
pub enum Shared {
    BadRequest,
    Unauthorized,
    AccessDenied,
    NotFound,
    MethodNotAllowed,
    NoRoute,
    Conflict,
    LeaseExpired,
    PayloadTooLarge,
    TooManyRequests,
    InternalError,
}

impl Shared {
    /// Every shared response, in the document's order.
    pub const ALL: [Shared; 11] = [
        Shared::BadRequest,
        Shared::Unauthorized,
        Shared::AccessDenied,
        Shared::NotFound,
        Shared::MethodNotAllowed,
        Shared::NoRoute,
        Shared::Conflict,
        Shared::LeaseExpired,
        Shared::PayloadTooLarge,
        Shared::TooManyRequests,
        Shared::InternalError,
    ];

    /// Its name under `components/responses`.
    pub fn name(self) -> &'static str {
        match self {
            Shared::BadRequest => "BadRequest",
            Shared::Unauthorized => "Unauthorized",
            Shared::AccessDenied => "AccessDenied",
            Shared::NotFound => "NotFound",
            Shared::MethodNotAllowed => "MethodNotAllowed",
            Shared::NoRoute => "NoRoute",
            Shared::Conflict => "Conflict",
            Shared::LeaseExpired => "LeaseExpired",
            Shared::PayloadTooLarge => "PayloadTooLarge",
            Shared::TooManyRequests => "TooManyRequests",
            Shared::InternalError => "InternalError",
        }
    }

    /// The response itself.
    pub fn response(self) -> Value {
        use ErrorKind as E;
        use Headers::{Base, RateLimited};
        match self {
            Shared::BadRequest => failure(
                "The request is malformed: a field is missing, of the wrong type or out of range (`VALIDATION_ERROR`), the body is not JSON (`INVALID_JSON`), or the operation refuses it (`BAD_REQUEST`).",
                RateLimited,
                &[E::ValidationError, E::InvalidJson, E::BadRequest],
            ),
            Shared::Unauthorized => failure(
                "No `Authorization: Bearer` API key, or one that is unknown, inactive, revoked or expired.",
                Base,
                &[E::Unauthorized],
            ),
            Shared::AccessDenied => failure("The API key may not act on this queue.", RateLimited, &[E::AccessDenied]),
            Shared::NotFound => failure("Not found (or not visible to this API key).", RateLimited, &[E::NotFound]),
            Shared::MethodNotAllowed => failure(
                "The path exists but not for this method (`METHOD_NOT_ALLOWED`). Answered for every documented path before authentication.",
                Base,
                &[E::MethodNotAllowed],
            ),
            Shared::NoRoute => failure(
                "No route matches the path (`NOT_FOUND`, message `No route matches this path`). Answered before authentication.",
                Base,
                &[E::NotFound],
            ),
            Shared::Conflict => {
                failure("The resource is not in a state that allows the operation.", RateLimited, &[E::Conflict])
            }
            Shared::LeaseExpired => failure(
                "`LEASE_EXPIRED`: the job exists but the caller does not hold its live lease (wrong or stale `lease_id`, lease past its deadline, job already moved on). Nothing changes.",
                RateLimited,
                &[E::LeaseExpired],
            ),
            Shared::PayloadTooLarge => failure(
                "The request body is over 2 MiB (checked before authentication), or a `payload`/`result` is over 1 MiB serialized.",
                RateLimited,
                &[E::PayloadTooLarge],
            ),
            Shared::TooManyRequests => failure(
                "The API key's request rate limit is exceeded (a request counts one per queue it reaches), or the client address or the key's tenant has used up its failed authentications for the minute (`RATE_LIMIT_EXCEEDED`, with `Retry-After`).",
                Headers::RetryAfter,
                &[E::RateLimitExceeded],
            ),
            Shared::InternalError => {
                failure("A storage or runtime failure; never caused by the client.", RateLimited, &[E::InternalError])
            }
        }
    }
}

/// A reference to the component schema `name`.
pub fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A shared response as it is.
pub fn refer(shared: Shared) -> Value {
    json!({"$ref": format!("#/components/responses/{}", shared.name())})
}

/// A shared response, with what it means for this operation.
pub fn refer_as(shared: Shared, description: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{}", shared.name()), "description": description})
}

/// A response with a JSON body of `schema`.
pub fn success(description: &str, headers: Headers, schema: Value) -> Value {
    json!({"description": description, "headers": headers.refs(), "content": {"application/json": {"schema": schema}}})
}

/// An error response whose `code` is one of `codes`.
pub fn failure(description: &str, headers: Headers, codes: &[ErrorKind]) -> Value {
    let error =
        json!({"$ref": "#/components/schemas/Error", "type": "object", "properties": {"code": {"enum": codes}}});
    success(description, headers, error)
}

/// Why an enqueue may be refused with 429 besides the rate limit: the queue is full.
pub const QUEUE_FULL: (&str, ErrorKind) =
    ("the queue already holds `max_jobs` jobs (`QUEUE_FULL`; retry once jobs finish)", ErrorKind::QueueFull);

/// Why an operation that may create a queue may be refused with 429: the organization has as
/// many queues as it may.
pub const QUEUE_LIMIT: (&str, ErrorKind) = (
    "the organization already has `QUEUE_LIMIT` queues and this would create another (`QUEUE_LIMIT`; delete a queue first)",
    ErrorKind::QueueLimit,
);

/// A 429 for the rate limit or for each of `reasons` (what it means, and its code).
pub fn rate_limited_or(reasons: &[(&str, ErrorKind)]) -> Value {
    let mut clauses = vec!["The API key's rate limit is exceeded (`RATE_LIMIT_EXCEEDED`, with `Retry-After`)"];
    clauses.extend(reasons.iter().map(|(clause, _)| *clause));
    let last = clauses.pop().expect("the rate limit is always a reason");
    let description =
        if clauses.is_empty() { format!("{last}.") } else { format!("{}, or {last}.", clauses.join(", ")) };
    let mut codes = vec![ErrorKind::RateLimitExceeded];
    codes.extend(reasons.iter().map(|(_, code)| *code));
    failure(&description, Headers::RetryAfter, &codes)
}

/// A response without a body (204).
pub fn no_content(description: &str, headers: Headers) -> Value {
    json!({"description": description, "headers": headers.refs()})
}

/// A count as the descriptions write it, its thousands separated by commas (`10,101`).
pub fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// One operation: its method and path template, and the Operation Object written from it.
#[derive(Debug)]
pub struct Op {
    /// The method, lower case as the document keys it.
    pub method: &'static str,
    /// The path template, `{id}` for a path parameter.
    pub path: &'static str,
    fields: Map<String, Value>,
    responses: Map<String, Value>,
    /// Whether the responses every API-key operation has are added where it names none.
    authenticated: bool,
    /// Whether it reaches the queues the key may see a bounded number at a time
    /// ([`Op::across_queues`]).
    across_queues: bool,
}

/// What every operation behind an API key may answer, unless it says more.
const AUTHENTICATED: [(u16, Shared); 4] = [
    (401, Shared::Unauthorized),
    (413, Shared::PayloadTooLarge),
    (429, Shared::TooManyRequests),
    (500, Shared::InternalError),
];

impl Op {
    /// `method path` with its id, tag and summary; the rest is added by the methods below.
    pub fn new(method: &'static str, path: &'static str, id: &str, tag: Tag, summary: &str) -> Op {
        let mut fields = Map::new();
        fields.insert("operationId".into(), json!(id));
        fields.insert("tags".into(), json!([tag.describe().0]));
        fields.insert("summary".into(), json!(summary));
        Op { method, path, fields, responses: Map::new(), authenticated: true, across_queues: false }
    }

    /// What the operation does, beyond its summary.
    pub fn about(mut self, description: &str) -> Op {
        self.fields.insert("description".into(), json!(description));
        self
    }

    /// Another credential than the API key (and none of its responses).
    pub fn security(mut self, security: Security) -> Op {
        self.authenticated = false;
        let requirement = match security {
            Security::Open => json!([]),
            Security::Admin => json!([{"adminKey": []}]),
        };
        self.fields.insert("security".into(), requirement);
        self
    }

    /// The path and query parameters.
    pub fn params(mut self, parameters: Vec<Value>) -> Op {
        self.fields.insert("parameters".into(), Value::Array(parameters));
        self
    }

    /// A JSON body of the component schema `name`.
    pub fn body(self, name: &str) -> Op {
        self.request(name, true)
    }

    /// A JSON body of the component schema `name` that may be left out.
    pub fn optional_body(self, name: &str) -> Op {
        self.request(name, false)
    }

    fn request(mut self, name: &str, required: bool) -> Op {
        let body = json!({"required": required, "content": {"application/json": {"schema": schema(name)}}});
        self.fields.insert("requestBody".into(), body);
        self
    }

    /// A read (or replay) over every queue the key may see, which reaches at most
    /// `api::calls::MAX_FAN_OUT` of them per request: it takes a `cursor` (the last
    /// parameter), its 200 may carry `X-Next-Cursor`, and its 400 is `bad_request` or a
    /// `cursor` that is not one.
    pub fn across_queues(mut self, bad_request: &str) -> Op {
        self.across_queues = true;
        let description = format!("{bad_request}, or a `cursor` that is not an `X-Next-Cursor`.");
        self.respond(400, refer_as(Shared::BadRequest, &description))
    }

    /// The response for `status`.
    pub fn respond(mut self, status: u16, response: Value) -> Op {
        self.responses.insert(status.to_string(), response);
        self
    }

    /// The Operation Object, its responses in the order of their statuses.
    pub fn into_value(self) -> Value {
        let mut responses = self.responses;
        if self.authenticated {
            for (status, shared) in AUTHENTICATED {
                responses.entry(status.to_string()).or_insert_with(|| refer(shared));
            }
        }
        let mut fields = self.fields;
        if self.across_queues {
            let parameters = fields.entry("parameters").or_insert_with(|| json!([]));
            parameters.as_array_mut().expect("parameters are a list").push(param::cursor());
            let ok = responses.get_mut("200").expect("an operation across queues answers 200");
            ok["headers"]["X-Next-Cursor"] = json!({"$ref": "#/components/headers/X-Next-Cursor"});
        }
        responses.sort_keys();
        fields.insert("responses".into(), Value::Object(responses));
        Value::Object(fields)
    }
}
