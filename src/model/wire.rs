//! Serde helpers for fields that distinguish "absent" from `null`.

use serde::{Deserialize, Deserializer};

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

    #[test]
    fn null_absent_and_values_survive_a_round_trip() {
        for change in [Change { limit: None }, Change { limit: Some(None) }, Change { limit: Some(Some(5)) }] {
            let text = serde_json::to_string(&change).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), change, "{text}");
        }
    }
}
