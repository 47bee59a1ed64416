//! The OpenAPI 3.1 description of every route, served at `GET /api/v1/openapi.json`.

/// The document, kept true by the end-to-end tests that check every served route and status
/// against it.
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// A spike for generating the document from the wire types (docs/DECISIONS.md, "The OpenAPI
/// document will be generated from the Rust types with schemars 1.x"): one request and one
/// response type derive their schemas under the `openapi` feature. Run it with
/// `cargo test --features openapi --lib api::openapi -- --nocapture`.
#[cfg(all(test, feature = "openapi"))]
mod tests {
    use crate::api::jobs::JobFields;
    use crate::api::views::EnqueuedView;
    use schemars::generate::SchemaSettings;
    use serde_json::{json, Value};

    #[test]
    fn wire_types_derive_their_component_schemas() {
        // OpenAPI 3.1 is JSON Schema 2020-12: `Option<T>` becomes `"type": [T, "null"]`.
        let mut generator = SchemaSettings::draft2020_12()
            .with(|s| s.definitions_path = "/components/schemas/".into())
            .into_generator();
        assert_eq!(generator.subschema_for::<JobFields>(), json!({"$ref": "#/components/schemas/JobFields"}));
        assert_eq!(
            generator.subschema_for::<EnqueuedView<'static>>(),
            json!({"$ref": "#/components/schemas/EnqueuedView"})
        );
        let components = Value::Object(generator.take_definitions(true));
        println!("{}", serde_json::to_string_pretty(&components).unwrap());

        let job = &components["JobFields"];
        // The limit comes from model::spec, and a raw JSON payload is any value (`true`).
        assert_eq!(job["properties"]["priority"]["minimum"], json!(-100));
        assert_eq!(job["properties"]["priority"]["maximum"], json!(100));
        assert_eq!(job["properties"]["priority"]["type"], json!(["integer", "null"]));
        assert_eq!(job["properties"]["payload"], json!(true));
        // What a generator must add by hand: serde aliases are not described, and Rust
        // integer widths appear as `format`.
        assert!(job["properties"].get("queue").is_none());
        assert_eq!(job["properties"]["priority"]["format"], json!("int64"));

        // Doc comments become descriptions: on wire types they are written for API users.
        let enqueued = &components["EnqueuedView"];
        assert_eq!(enqueued["required"], json!(["id", "created"]));
        assert_eq!(enqueued["properties"]["created"]["type"], json!("boolean"));
        assert!(enqueued["properties"]["created"]["description"].as_str().unwrap().starts_with("False when"));
    }
}
