//! Serde helpers: JSON text to and from typed values (for actor traffic, bound SQL parameters
//! and response bodies); for request bodies, objects that must be written as objects, integers a
//! client may write as `30.0`, fields that distinguish "absent" from `null`, and the field
//! names a body may carry.

use super::ApiError;
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::marker::PhantomData;

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

/// Deserializes an optional integer (`null` is absent) that may be written with a zero
/// fraction: JSON Schema counts `30.0` as the integer 30, and so must we, since clients that
/// compute in floating point send it. `30.5` stays a type error. Use with `#[serde(default)]`.
pub fn whole<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_option(WholeVisitor(PhantomData))
}

/// [`whole`] for a field where `null` differs from absent, as [`present`] does.
pub fn present_whole<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    whole(d).map(Some)
}

/// Deserializes `T`, a struct, only from a JSON object. Serde's derived structs also accept an
/// array of their fields in order (`[1, 2]` for `{"a": 1, "b": 2}`), which no client means.
pub fn from_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(d))
}

/// An optional field holding a struct, which must be an object (see [`from_object`]).
/// Use with `#[serde(default)]`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// An optional array of structs, each of which must be an object (see [`from_object`]).
/// Use with `#[serde(default)]`.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    Ok(Option::<Vec<Object<T>>>::deserialize(d)?.map(|items| items.into_iter().map(|o| o.0).collect()))
}

struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_object(d).map(Object)
    }
}

/// Hands a struct's visitor to `deserialize_map`, which refuses anything but an object;
/// everything below the struct is read by the inner deserializer unchanged (raw values too).
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

struct WholeVisitor<T>(PhantomData<T>);

impl<'de, T: TryFrom<i64>> Visitor<'de> for WholeVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::try_from(v).map(Some).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let out_of_range = || E::invalid_value(de::Unexpected::Unsigned(v), &self);
        i64::try_from(v).map_err(|_| out_of_range()).and_then(|v| T::try_from(v).map(Some).map_err(|_| out_of_range()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // i64::MAX as f64 rounds up to 2^63, which is out of range: hence the strict bound.
        if v.fract() != 0.0 || !(-(2f64.powi(63))..2f64.powi(63)).contains(&v) {
            return Err(E::invalid_type(de::Unexpected::Float(v), &self));
        }
        T::try_from(v as i64).map(Some).map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
    }
}

/// The field names, aliases included, that `T`'s derived `Deserialize` accepts; empty for a
/// type that is not a struct. Read from what the derive hands `deserialize_struct`, so the list
/// can never drift from the struct's fields.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldProbe(&mut names));
    names
}

/// A deserializer that records the fields a struct asks for, then stops.
struct FieldProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Named {
        #[serde(alias = "queue")]
        queue_name: Option<String>,
        limit: Option<i64>,
    }

    #[test]
    fn field_names_include_aliases() {
        let mut names = super::field_names::<Named>().to_vec();
        names.sort_unstable();
        assert_eq!(names, ["limit", "queue", "queue_name"]);
        assert!(super::field_names::<i64>().is_empty());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Change {
        #[serde(default, deserialize_with = "super::present", skip_serializing_if = "Option::is_none")]
        limit: Option<Option<u32>>,
    }

    super::wire_record! {
        /// A record for the tests.
        #[derive(Debug, PartialEq)]
        pub struct Record {
            /// A name.
            pub name: String,
            /// A count, maybe.
            pub count: Option<u32>,
        }
    }

    #[test]
    fn records_encode_as_arrays_in_field_order() {
        let pair = Record { name: "a".into(), count: None };
        let text = serde_json::to_string(&pair).unwrap();
        assert_eq!(text, r#"["a",null]"#);
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), pair);
        assert!(serde_json::from_str::<Record>(r#"["a"]"#).is_err(), "a missing field");
        assert!(serde_json::from_str::<Record>(r#"["a",1,2]"#).is_err(), "an extra field");
        assert!(serde_json::from_str::<Record>(r#"{"name":"a","count":1}"#).is_err(), "a map is not a record");
    }

    #[test]
    fn null_absent_and_values_survive_a_round_trip() {
        for change in [Change { limit: None }, Change { limit: Some(None) }, Change { limit: Some(Some(5)) }] {
            let text = serde_json::to_string(&change).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), change, "{text}");
        }
    }

    #[derive(Clone, Debug, PartialEq, Deserialize)]
    struct Pair {
        a: Option<i64>,
        b: Option<i64>,
    }

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[serde(default, deserialize_with = "super::object")]
        one: Option<Pair>,
        #[serde(default, deserialize_with = "super::objects")]
        many: Option<Vec<Pair>>,
    }

    fn outer(json: &str) -> Result<Outer, serde_json::Error> {
        super::from_object(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn structs_are_read_from_objects_only() {
        let pair = Pair { a: Some(1), b: None };
        let read = outer(r#"{"one":{"a":1},"many":[{"a":1},{"b":null,"a":1}]}"#).unwrap();
        assert_eq!((read.one, read.many), (Some(pair), Some(vec![Pair { a: Some(1), b: None }; 2])));
        assert!(outer(r#"{"one":null}"#).unwrap().one.is_none());
        for json in [r#"[null,null]"#, r#"{"one":[1,2]}"#, r#"{"many":[[1,2]]}"#, r#"{"one":"x"}"#] {
            assert!(outer(json).unwrap_err().is_data(), "{json}");
        }
    }

    #[derive(Debug, Default, PartialEq, Deserialize)]
    struct Counts {
        #[serde(default, deserialize_with = "super::whole")]
        signed: Option<i64>,
        #[serde(default, deserialize_with = "super::whole")]
        small: Option<u32>,
        #[serde(default, deserialize_with = "super::present_whole")]
        limit: Option<Option<i64>>,
    }

    fn counts(json: &str) -> Result<Counts, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integers_may_carry_a_zero_fraction() {
        let expect = |signed, small, limit| Counts { signed, small, limit };
        assert_eq!(counts(r#"{"signed":-3,"small":7}"#).unwrap(), expect(Some(-3), Some(7), None));
        assert_eq!(
            counts(r#"{"signed":-3.0,"small":7.0,"limit":2.0}"#).unwrap(),
            expect(Some(-3), Some(7), Some(Some(2)))
        );
        assert_eq!(counts(r#"{"signed":1e2}"#).unwrap(), expect(Some(100), None, None));
        assert_eq!(counts(r#"{"signed":null,"small":null,"limit":null}"#).unwrap(), expect(None, None, Some(None)));
        assert_eq!(counts("{}").unwrap(), Counts::default());
    }

    #[test]
    fn fractions_strings_and_out_of_range_values_are_refused() {
        for json in [
            r#"{"signed":1.5}"#,
            r#"{"signed":"1"}"#,
            r#"{"signed":true}"#,
            r#"{"signed":9223372036854775808}"#,
            r#"{"signed":1e19}"#,
            r#"{"small":-1}"#,
            r#"{"small":4294967296}"#,
            r#"{"small":4294967296.0}"#,
        ] {
            assert!(counts(json).is_err(), "{json}");
        }
    }
}
