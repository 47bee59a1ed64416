//! `components/schemas`: the wire types, by area.

mod common;
mod jobs;
mod requests;
mod tenancy;

pub use common::QUEUE_NAME_PATTERN;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Every component schema, in the document's order.
pub fn schemas() -> Value {
    let all = [common::schemas(), jobs::schemas(), tenancy::schemas(), requests::schemas()];
    Value::Object(all.into_iter().flatten().map(|(name, schema)| (name.to_string(), schema)).collect::<Map<_, _>>())
}

/// The documented schema of a response object, checked against the view `T` that renders it:
/// the same properties in the same order, and every field the view always sends required. A
/// field the view may leave out may be left out of a component, or of one of its `oneOf`
/// shapes (`ApiKey` has no `key`, `CreatedApiKey` requires it). So a field added to a view, or
/// one that becomes optional, cannot go undocumented: generation fails.
fn view<T: JsonSchema>(documented: Value) -> Value {
    let derived = SchemaSettings::draft2020_12().for_serialize().into_generator().into_root_schema_for::<T>();
    let (fields, always) = (names(derived.as_value(), "properties"), names(derived.as_value(), "required"));
    let name = T::schema_name();
    let shapes = documented["oneOf"].as_array().map_or_else(|| vec![&documented], |shapes| shapes.iter().collect());
    for shape in shapes {
        let (properties, required) = (names(shape, "properties"), names(shape, "required"));
        let kept: Vec<&String> = fields.iter().filter(|field| properties.contains(field)).collect();
        assert!(kept.iter().copied().eq(properties.iter()), "{name}: {properties:?} are not the fields {fields:?}");
        assert!(
            always.iter().all(|field| required.contains(field)),
            "{name}: the fields it always sends, {always:?}, must be required"
        );
        assert!(required.iter().all(|field| properties.contains(field)), "{name}: a required field is not a property");
    }
    documented
}

/// The documented schema of a request body, checked against the struct `T` it is read into:
/// every field documented (in any order), and nothing else but serde aliases, which schemars does
/// not see and which the document describes as "Alias of `field`…".
/// (Which fields are required is validation, not the struct's, so it is not compared.)
fn request<T: JsonSchema>(documented: Value) -> Value {
    let derived = SchemaSettings::draft2020_12().for_deserialize().into_generator().into_root_schema_for::<T>();
    let fields: BTreeSet<String> = names(derived.as_value(), "properties").into_iter().collect();
    let unaliased: BTreeSet<String> = documented["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, schema)| {
            fields.contains(*name)
                || !schema["description"].as_str().is_some_and(|about| about.starts_with("Alias of `"))
        })
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(unaliased, fields, "{}: the documented properties are not its fields", T::schema_name());
    documented
}

/// The property names (`key` "properties") or the required ones (`key` "required") of `schema`.
fn names(schema: &Value, key: &str) -> Vec<String> {
    match &schema[key] {
        Value::Object(properties) => properties.keys().cloned().collect(),
        Value::Array(required) => required.iter().filter_map(|name| name.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// The wire names of a unit enum's variants, read from its derived schema, so that a new
/// variant is documented without anyone listing it.
fn variants<T: schemars::JsonSchema>() -> Value {
    let schema = schemars::schema_for!(T);
    let schema = schema.as_value();
    if let Some(names) = schema.get("enum") {
        return names.clone();
    }
    let variants = schema["oneOf"].as_array().expect("a unit enum's schema lists its variants");
    variants.iter().map(|variant| variant.get("const").cloned().unwrap_or_else(|| variant["enum"][0].clone())).collect()
}

/// A time on the wire is a `Timestamp`.
impl schemars::JsonSchema for crate::api::views::Time {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time"})
    }
}

/// A worker's `metadata` is an object (`{}` when it has none).
impl schemars::JsonSchema for crate::api::views::Metadata<'_> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Metadata".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object"})
    }
}
