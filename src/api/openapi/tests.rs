//! The checked-in document is the generated one, and the generated one agrees with the route
//! resolver and the limits of `model::spec`.

use super::{generate, paths};
use crate::api::routes::resolve;
use crate::model::spec;
use serde_json::{json, Value};

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/openapi.json");

/// The document as the file holds it: pretty JSON, two spaces, a final newline.
fn rendered() -> String {
    serde_json::to_string_pretty(&generate()).expect("the document serializes") + "\n"
}

/// Fails while `src/api/openapi.json` is stale; `UPDATE_OPENAPI=1` rewrites it instead.
#[test]
fn the_checked_in_document_is_the_generated_one() {
    let generated = rendered();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(CHECKED_IN, &generated).expect("write src/api/openapi.json");
        return;
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).expect("read src/api/openapi.json");
    assert!(
        checked_in == generated,
        "src/api/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --features openapi --lib api::openapi`"
    );
}

/// Every documented operation is what the resolver makes of its method and path, each route is
/// listed once, and no two operations share a method and path.
#[test]
fn every_operation_is_the_route_it_documents() {
    let routes = paths::routes();
    let mut seen = std::collections::BTreeSet::new();
    for route in &routes {
        assert_eq!(routes.iter().filter(|r| *r == route).count(), 1, "{route:?} is listed twice");
        for op in paths::operations(route) {
            assert!(seen.insert((op.path, op.method)), "{} {} is documented twice", op.method, op.path);
            let concrete =
                op.path.replace("{id}", "sample").replace("{name}", "sample").replace("{delivery_id}", "sample");
            let resolved = resolve(&op.method.to_uppercase(), &concrete).expect("a documented path resolves");
            // The table's routes carry empty ids.
            assert_eq!(format!("{resolved:?}").replace("\"sample\"", "\"\""), format!("{route:?}"), "{concrete}");
        }
    }
}

/// The bounds a client reads are the ones the server checks: each named below is its
/// `model::spec` range wherever the document states it.
#[test]
fn the_documented_bounds_are_the_spec_constants() {
    let document = generate();
    let schemas = &document["components"]["schemas"];
    let range = |r: &std::ops::RangeInclusive<i64>| (json!(r.start()), json!(r.end()));
    let bounds = |schema: &Value| (schema["minimum"].clone(), schema["maximum"].clone());
    assert_eq!(bounds(&schemas["Priority"]), range(&spec::PRIORITY));
    let enqueue = &schemas["EnqueueRequest"]["properties"];
    assert_eq!(bounds(&enqueue["max_retries"]), range(&spec::MAX_RETRIES));
    assert_eq!(bounds(&enqueue["timeout_seconds"]), range(&spec::TIMEOUT_SECS));
    assert_eq!(enqueue["idempotency_key"]["maxLength"], json!(spec::MAX_IDEMPOTENCY_KEY_LEN));
    let claim = &schemas["ClaimRequest"]["properties"];
    assert_eq!(bounds(&claim["limit"]), range(&spec::CLAIM_LIMIT));
    assert_eq!(bounds(&claim["lease_duration_secs"]), range(&spec::LEASE_SECS));
    assert_eq!(bounds(&claim["wait_secs"]), range(&spec::WAIT_SECS));
    let config = &schemas["QueueConfigRequest"]["properties"];
    assert_eq!(bounds(&config["retention_secs"]), range(&spec::RETENTION_SECS));
    assert_eq!(bounds(&config["max_jobs"]), range(&spec::MAX_JOBS));
    assert_eq!(bounds(&config["rate_limit"]), range(&spec::QUEUE_RATE_LIMIT));
    assert_eq!(config["backoff_base_secs"]["minimum"], json!(spec::BACKOFF_SECS.start()));
    assert_eq!(schemas["QueueName"]["maxLength"], json!(spec::MAX_QUEUE_NAME_LEN));
    assert_eq!(schemas["Job"]["properties"]["retry_count"]["maximum"], json!(spec::MAX_ATTEMPTS));
}

/// Every `$ref` names a component the document has: a derived schema that refers to a type
/// by a name no component carries (a struct without its `schemars(rename)`) fails here.
#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(object) => {
                out.extend(object.get("$ref").and_then(Value::as_str));
                object.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let document = generate();
    let mut found = Vec::new();
    refs(&document, &mut found);
    for reference in found {
        let pointer = reference.strip_prefix('#').expect("a local reference");
        assert!(document.pointer(pointer).is_some(), "{reference} names nothing");
    }
}
