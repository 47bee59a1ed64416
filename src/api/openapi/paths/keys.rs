//! API key management: their operations.

use super::super::operation::{no_content, refer_as, schema, success, Headers, Op, Shared, Tag};
use super::super::param;
use crate::api::routes::KeyRoute;
use serde_json::json;

/// The operation `route` names.
pub(super) fn operation(route: &KeyRoute) -> Op {
    match route {
        KeyRoute::Create => Op::new("post", "/api/v1/api-keys", "createApiKey", Tag::Tenancy, "Create an API key")
            .body("CreateApiKeyRequest")
            .respond(201, success("Created; `key` is shown only here.", Headers::RateLimited, schema("CreatedApiKey")))
            .respond(400, refer_as(Shared::BadRequest, "`name` missing or not 1–100 characters, `queues` empty or invalid, `rate_limit` not 1–1,000,000, or `expires_at` not ahead or past 2100-01-01T00:00:00Z."))
            .respond(403, refer_as(Shared::AccessDenied, "A queue-scoped key (only keys reaching every queue manage keys), or a key that would reach further than the acting key (queues, rate limit, expiry).")),
        KeyRoute::List => Op::new("get", "/api/v1/api-keys", "listApiKeys", Tag::Tenancy, "List API keys")
            .about("Oldest first, without secrets.")
            .respond(200, success("The keys.", Headers::RateLimited, json!({"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}})))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key is confined to some queues; only keys with access to every queue manage keys.")),
        KeyRoute::Get(_) => Op::new("get", "/api/v1/api-keys/{id}", "getApiKey", Tag::Tenancy, "Get an API key")
            .params(vec![param::key_path()])
            .respond(200, success("The key.", Headers::RateLimited, schema("ApiKey")))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(403, refer_as(Shared::AccessDenied, "The API key is confined to some queues; only keys with access to every queue manage keys."))
            .respond(404, refer_as(Shared::NotFound, "No such key.")),
        KeyRoute::Update(_) => Op::new("put", "/api/v1/api-keys/{id}", "updateApiKey", Tag::Tenancy, "Change an API key's name, scope, rate limit or activity")
            .params(vec![param::key_path()])
            .optional_body("UpdateApiKeyRequest")
            .respond(200, success("The key as changed.", Headers::RateLimited, schema("ApiKey")))
            .respond(400, refer_as(Shared::BadRequest, "An invalid field (`queues` empty among them), or a body naming none of the fields below (a misspelt field; `{}` changes nothing)."))
            .respond(403, refer_as(Shared::AccessDenied, "A queue-scoped key (only keys reaching every queue manage keys), or a key that would reach further than the acting key (queues, rate limit, expiry)."))
            .respond(404, refer_as(Shared::NotFound, "No such key."))
            .respond(409, refer_as(Shared::Conflict, "A key cannot change its own activity, scope or rate limit.")),
        KeyRoute::Revoke(_) => Op::new("delete", "/api/v1/api-keys/{id}", "revokeApiKey", Tag::Tenancy, "Revoke (delete) an API key")
            .params(vec![param::key_path()])
            .respond(204, no_content("Revoked; the key is refused from now on.", Headers::RateLimited))
            .respond(400, refer_as(Shared::BadRequest, "The request body could not be read."))
            .respond(403, refer_as(Shared::AccessDenied, "A queue-scoped key (only keys reaching every queue manage keys), or a key that would reach further than the acting key (queues, rate limit, expiry)."))
            .respond(404, refer_as(Shared::NotFound, "No such key."))
            .respond(409, refer_as(Shared::Conflict, "A key cannot revoke itself.")),
    }
}
