//! Serde helpers: JSON text to and from typed values (for actor traffic, bound SQL parameters
//! and response bodies), and fields that distinguish "absent" from `null`.

use super::ApiError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// Serializes a value to JSON text. Serializing edgespool's own types cannot fail, but a
/// failure would be a bug reported as an internal error rather than a panic.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::internal(format!("rendering failed: {e}")))
}

/// Parses JSON text that edgespool itself wrote (`what` names it in the error): anything
/// else is a bug or corruption, reported as an internal error.
pub fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("malformed {what}: {e}")))
}

/// Declares a struct of public fields whose serde encoding is a JSON array of the fields in
/// declaration order: the records queue and tenant actors answer with. Actors and the Worker
/// are built together, so the order is the whole schema; the encoding is compact (no field
/// names repeated per job), and its code is a fraction of what `#[derive]` generates for a
/// map with named fields — which matters in a wasm kept under a size budget.
macro_rules! wire_record {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let mut fields = serializer.serialize_tuple([$(stringify!($field)),*].len())?;
                $(fields.serialize_element(&self.$field)?;)*
                fields.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($crate::model::wire::RECORD)
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        let mut at = 0;
                        $(
                            let $field =
                                seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(at, &$crate::model::wire::RECORD))?;
                            at += 1;
                        )*
                        let _ = at;
                        Ok($name { $($field,)* })
                    }
                }
                deserializer.deserialize_tuple([$(stringify!($field)),*].len(), Fields)
            }
        }
    };
}
pub(crate) use wire_record;

/// What a [`wire_record!`] expects, for errors (one shared `Expected`, not one per record).
pub const RECORD: &str = "the fields of a record, in order";

/// Deserializes a field sent as `null` to `Some(None)`; with `#[serde(default)]` an absent
/// field stays `None`. Pair it with `skip_serializing_if = "Option::is_none"` so the
/// distinction survives a round trip (e.g. from the Worker to an actor).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Change {
        #[serde(default, deserialize_with = "super::present", skip_serializing_if = "Option::is_none")]
        limit: Option<Option<u32>>,
    }

    super::wire_record! {
        /// A record for the tests.
        #[derive(Debug, PartialEq)]
        pub struct Pair {
            /// A name.
            pub name: String,
            /// A count, maybe.
            pub count: Option<u32>,
        }
    }

    #[test]
    fn records_encode_as_arrays_in_field_order() {
        let pair = Pair { name: "a".into(), count: None };
        let text = serde_json::to_string(&pair).unwrap();
        assert_eq!(text, r#"["a",null]"#);
        assert_eq!(serde_json::from_str::<Pair>(&text).unwrap(), pair);
        assert!(serde_json::from_str::<Pair>(r#"["a"]"#).is_err(), "a missing field");
        assert!(serde_json::from_str::<Pair>(r#"["a",1,2]"#).is_err(), "an extra field");
        assert!(serde_json::from_str::<Pair>(r#"{"name":"a","count":1}"#).is_err(), "a map is not a record");
    }

    #[test]
    fn null_absent_and_values_survive_a_round_trip() {
        for change in [Change { limit: None }, Change { limit: Some(None) }, Change { limit: Some(Some(5)) }] {
            let text = serde_json::to_string(&change).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), change, "{text}");
        }
    }
}
