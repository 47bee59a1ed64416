//! The OpenAPI 3.1 description of every route, served at `GET /api/v1/openapi.json`.

/// The document, kept true by the end-to-end tests that check every served route and status
/// against it.
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));
