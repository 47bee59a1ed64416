//! The OpenAPI 3.1 description of every route, served at `GET /api/v1/openapi.json`.
//!
//! `src/api/openapi.json` is generated from the Rust types and the route table by the native
//! code below (cargo feature `openapi`, never in the Worker): `UPDATE_OPENAPI=1 cargo test
//! --features openapi --lib api::openapi` writes it, and the same test without the variable
//! fails while the checked-in copy differs from what the code generates.

/// The document, embedded minified by `build.rs`.
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

#[cfg(feature = "openapi")]
mod document;
#[cfg(feature = "openapi")]
mod operation;
#[cfg(feature = "openapi")]
mod param;
#[cfg(feature = "openapi")]
mod paths;
#[cfg(feature = "openapi")]
mod schemas;
#[cfg(feature = "openapi")]
pub(crate) mod wire;

/// The whole document, rendered from the route table and the wire types.
#[cfg(feature = "openapi")]
pub fn generate() -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut paths: Map<String, Value> = Map::new();
    for op in paths::routes().iter().flat_map(paths::operations) {
        let (path, method) = (op.path, op.method);
        paths.entry(path).or_insert_with(|| json!({}))[method] = op.into_value();
    }
    json!({
        "openapi": "3.1.0",
        "info": document::info(),
        "servers": document::servers(),
        "security": [{"bearerAuth": []}],
        "tags": document::tags(),
        "paths": paths,
        "components": {
            "securitySchemes": document::security_schemes(),
            "schemas": schemas::schemas(),
            "responses": document::responses(),
            "headers": document::headers()
        }
    })
}

#[cfg(all(test, feature = "openapi"))]
mod tests;
