//! `components/schemas`: the wire types, by area.

mod common;
mod jobs;
mod requests;
mod tenancy;
mod webhooks;

pub use common::QUEUE_NAME_PATTERN;

use schemars::generate::{Contract, SchemaSettings};
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::{json, Map, Value};

/// Every component schema, in the document's order.
pub fn schemas() -> Value {
    let all = [common::schemas(), jobs::schemas(), tenancy::schemas(), webhooks::schemas(), requests::schemas()];
    Value::Object(all.into_iter().flatten().map(|(name, schema)| (name.to_string(), schema)).collect::<Map<_, _>>())
}

/// The schema of the wire type `T` as schemars derives it for `contract` (a view is serialized,
/// a request body deserialized), tidied into the document's style: named components are
/// `$ref`s into `#/components/schemas/`, the root has no `$schema` or `title`, and `tidy`
/// has run on every subschema.
fn derived<T: JsonSchema>(contract: Contract) -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.contract = contract;
    settings.transforms.push(Box::new(RecursiveTransform(tidy)));
    let mut schema = settings.into_generator().into_root_schema_for::<T>().to_value();
    let root = schema.as_object_mut().expect("a wire type's schema is an object");
    // The referenced components are written once each, by their own entries.
    root.remove("components");
    root.remove("title");
    schema
}

/// The schema of view `T`.
fn derived_view<T: JsonSchema>() -> Value {
    derived::<T>(Contract::Serialize)
}

/// The schema of a named component's marker type `T` (`wire::JobId`…).
fn component<T: JsonSchema>() -> Value {
    T::json_schema(&mut SchemaSettings::draft2020_12().into_generator()).to_value()
}

/// What schemars adds that the document leaves out, and the document's names for what it
/// spells out: numeric `format`s (`int64`, `uint`, `double`…; the bounds say more), a `const`'s
/// `type`, `default: null`, floats as whole bounds, doc comment line breaks inside a
/// paragraph, and `Option<Time>` as `NullableTimestamp`.
fn tidy(schema: &mut Schema) {
    const NUMBER_FORMATS: [&str; 11] =
        ["int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float", "double"];
    let Some(object) = schema.as_object_mut() else { return };
    if object.get("format").and_then(Value::as_str).is_some_and(|format| NUMBER_FORMATS.contains(&format)) {
        object.remove("format");
    }
    // A `const` (`extend("const" = true)`) says the type.
    if object.contains_key("const") {
        object.remove("type");
    }
    // `range` on an `f64` writes floats; a whole bound reads as an integer (`86400`).
    for bound in ["minimum", "maximum"] {
        if let Some(whole) = object.get(bound).and_then(Value::as_f64).filter(|b| b.fract() == 0.0) {
            if object[bound].is_f64() {
                object.insert(bound.into(), (whole as i64).into());
            }
        }
    }
    if object.get("default").is_some_and(Value::is_null) {
        object.remove("default");
    }
    if let Some(Value::String(about)) = object.get_mut("description") {
        *about = about.split("\n\n").map(|paragraph| paragraph.replace('\n', " ")).collect::<Vec<_>>().join("\n\n");
    }
    let nullable_time = json!([{"$ref": "#/components/schemas/Timestamp"}, {"type": "null"}]);
    if object.get("anyOf") == Some(&nullable_time) {
        object.remove("anyOf");
        object.insert("$ref".into(), "#/components/schemas/NullableTimestamp".into());
    }
}

/// A response schema written by hand (`AckResult`: one view, two `oneOf` shapes), checked
/// against the view `T` that renders it: each shape's properties are fields of the view, in
/// its order, and every field the view always sends is required. So a field added to the
/// view, or one that becomes optional, cannot go undocumented: generation fails.
fn checked_view<T: JsonSchema>(documented: Value) -> Value {
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

/// The schema of the request body `T` (what its struct deserializes), with the `rules` that
/// validation adds and a struct does not say: which fields are required, "one of", "not both"
/// (`required`, `anyOf`, `allOf`, `not`), merged in as they are written.
/// (A body struct's fields are all `Option`s, so what schemars would require says nothing.)
fn request<T: JsonSchema>(rules: Value) -> Value {
    let mut schema = derived::<T>(Contract::Deserialize);
    if let (Some(schema), Value::Object(rules)) = (schema.as_object_mut(), rules) {
        schema.remove("required");
        schema.extend(rules);
    }
    schema
}

/// The schema of a request body `T` whose every field is optional and steers the route: the
/// body is empty or carries one of its fields (aliases included).
fn steering<T: JsonSchema>(rules: Value) -> Value {
    let mut schema = request::<T>(rules);
    let fields = names(&schema, "properties").into_iter().map(|field| json!({"required": [field]}));
    schema["anyOf"] = std::iter::once(json!({"maxProperties": 0})).chain(fields).collect();
    schema
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
