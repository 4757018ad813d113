//! Lists the APIs spell as `[{name, value}]` (environment, secrets, tags, cluster settings) also
//! accepted as a YAML map, and scalar values accepted as strings (`PORT: 8000`).
//!
//! Both forms deserialize into the list form, in the order written; the list form is what the
//! API takes and what is serialized.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string that may be written as any YAML scalar: `8000`, `true` and `"8000"` are all the
/// string "8000"/"true". Environment values and attributes are strings in the API, but YAML
/// authors write them unquoted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl JsonSchema for Scalar {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["string", "number", "boolean"]})
    }
}

/// A string-to-string map whose values may be written as any scalar (target group attributes,
/// log driver options, docker labels).
pub type StringMap = BTreeMap<String, Scalar>;

/// An item of a name/value list that can be built from one map entry.
pub trait Pair: Sized {
    /// Builds the item from a map entry `key: value`.
    fn from_entry(key: String, value: String) -> Self;
    /// The item's name (for duplicate checks).
    fn name(&self) -> &str;
}

/// A list written either as the API's list of objects or as a map (`{LOG_LEVEL: info}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PairList<T>(pub Vec<T>);

impl<T> Default for PairList<T> {
    fn default() -> Self {
        PairList(Vec::new())
    }
}

impl<T> PairList<T> {
    /// True when the list has no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The items in the order written.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for PairList<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Pair + Deserialize<'de>> Deserialize<'de> for PairList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Pair + Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = PairList<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of name/value objects or a map of names to values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(PairList(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, Scalar>()? {
                    out.push(T::from_entry(k, v.0));
                }
                Ok(PairList(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(PairList(Vec::new()))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for PairList<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("PairList_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let item = g.subschema_for::<T>();
        json_schema!({
            "oneOf": [
                {"type": "array", "items": item},
                {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
            ]
        })
    }
}

/// An environment variable (`{name, value}`), or any other API name/value pair.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[schemars(deny_unknown_fields)]
pub struct NameValue {
    /// The name.
    pub name: String,
    /// The value.
    pub value: Scalar,
}

impl Pair for NameValue {
    fn from_entry(name: String, value: String) -> Self {
        NameValue {
            name,
            value: Scalar(value),
        }
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// A secret injected into a container: the value never appears in manifests, only the ARN of
/// the SSM parameter or Secrets Manager secret that holds it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Secret {
    /// The environment variable name inside the container.
    pub name: String,
    /// ARN (or same-Region name) of the SSM parameter or Secrets Manager secret.
    pub value_from: String,
}

impl Pair for Secret {
    fn from_entry(name: String, value_from: String) -> Self {
        Secret { name, value_from }
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// A resource tag. ECS spells it `{key, value}`, ELBv2 `{Key, Value}`; both are accepted.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[schemars(deny_unknown_fields)]
pub struct Tag {
    /// Tag key.
    #[serde(alias = "Key")]
    pub key: String,
    /// Tag value.
    #[serde(alias = "Value", default)]
    pub value: Scalar,
}

impl Pair for Tag {
    fn from_entry(key: String, value: String) -> Self {
        Tag {
            key,
            value: Scalar(value),
        }
    }
    fn name(&self) -> &str {
        &self.key
    }
}

/// Environment variables.
pub type Environment = PairList<NameValue>;
/// Secrets by ARN.
pub type Secrets = PairList<Secret>;
/// Resource tags.
pub type Tags = PairList<Tag>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_and_list_forms_are_the_same_list() {
        let a: Environment = serde_yaml::from_str("{LOG_LEVEL: info, PORT: 8000}").unwrap();
        let b: Environment =
            serde_yaml::from_str("[{name: LOG_LEVEL, value: info}, {name: PORT, value: '8000'}]")
                .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0[1].value.0, "8000");
    }

    #[test]
    fn secrets_map_form_reads_value_from() {
        let s: Secrets =
            serde_yaml::from_str("{DB: arn:aws:ssm:us-east-1:1:parameter/db}").unwrap();
        assert_eq!(s.0[0].value_from, "arn:aws:ssm:us-east-1:1:parameter/db");
        let l: Secrets =
            serde_yaml::from_str("[{name: DB, valueFrom: arn:aws:ssm:us-east-1:1:parameter/db}]")
                .unwrap();
        assert_eq!(s, l);
    }

    #[test]
    fn tags_accept_both_casings() {
        let a: Tags = serde_yaml::from_str("[{Key: team, Value: shop}]").unwrap();
        let b: Tags = serde_yaml::from_str("[{key: team, value: shop}]").unwrap();
        let c: Tags = serde_yaml::from_str("{team: shop}").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
    }

    #[test]
    fn nested_maps_are_rejected_as_values() {
        let e = serde_yaml::from_str::<Environment>("{A: {b: c}}").unwrap_err();
        assert!(e.to_string().contains("string, number or boolean"), "{e}");
    }
}
