//! Serde helpers: fields that distinguish "absent" from `null`, and the field names of a
//! request body.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};

/// Deserializes a field sent as `null` to `Some(None)`; with `#[serde(default)]` an absent
/// field stays `None`. Pair it with `skip_serializing_if = "Option::is_none"` so the
/// distinction survives a round trip (e.g. from the Worker to an actor).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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

    #[test]
    fn null_absent_and_values_survive_a_round_trip() {
        for change in [Change { limit: None }, Change { limit: Some(None) }, Change { limit: Some(Some(5)) }] {
            let text = serde_json::to_string(&change).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), change, "{text}");
        }
    }
}
