//! The two conversions every generated AWS shape has ([`super::generated`]): [`ToSdk`] (a
//! manifest value to the SDK's request value) and [`FromSdk`] (a described SDK value back to
//! the manifest's), the leaf types' impls (strings, numbers, the manifest's shorthand types),
//! and the member helpers the generated code calls, named by what the two sides hold:
//!
//! | helper | manifest | SDK |
//! |---|---|---|
//! | [`opt`], [`o`] | `Option<T>` | `Option<S>` |
//! | [`req`], [`r`] | `T` | `S` (or a builder's `Option<S>`) |
//! | [`ro`] | `Option<T>` | `S` |
//! | [`or`] | `T` | `Option<S>` (missing is an error) |
//! | [`coll`], [`ov`] | a list or map (empty = absent) | `Option<Vec<S>>` / `Option<HashMap<..>>` |
//!
//! An error names the member (`ContainerDefinition.cpu: ...`) once, at the innermost member.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecs::types as ecs;

pub(super) use super::convert::{Conv, ConvError};
use crate::manifest::shorthand::{NameValue, PairList, Scalar, Secret, Tag};
use crate::manifest::units::{TaskCpu, TaskMemory, parse_cpu, parse_memory};

/// A manifest value that becomes an SDK request value.
pub(super) trait ToSdk {
    /// The SDK's type.
    type Sdk;
    /// The SDK value.
    fn to_sdk(&self) -> Conv<Self::Sdk>;
}

/// A manifest value read back from a described SDK value.
pub(super) trait FromSdk<S>: Sized {
    /// The manifest value of `s`.
    fn from_sdk(s: &S) -> Conv<Self>;
}

/// A list or map: empty means "not sent", and an absent one reads back empty.
pub(super) trait Collection: ToSdk {
    /// No items.
    fn is_empty(&self) -> bool;
}

/// Build errors of SDK builders with required members.
pub(super) fn built(e: aws_sdk_ecs::error::BuildError) -> ConvError {
    ConvError::invalid(e.to_string())
}

// ---- member helpers -----------------------------------------------------------------------

/// `Option<T>` -> the builder's `Option<S>`.
pub(super) fn opt<T: ToSdk>(v: &Option<T>, path: &str) -> Conv<Option<T::Sdk>> {
    v.as_ref()
        .map(ToSdk::to_sdk)
        .transpose()
        .map_err(|e| e.within(path))
}

/// A required `T` -> the builder's `Option<S>`.
pub(super) fn req<T: ToSdk>(v: &T, path: &str) -> Conv<Option<T::Sdk>> {
    v.to_sdk().map(Some).map_err(|e| e.within(path))
}

/// A list or map -> `None` when empty.
pub(super) fn coll<T: Collection>(v: &T, path: &str) -> Conv<Option<T::Sdk>> {
    if v.is_empty() {
        return Ok(None);
    }
    v.to_sdk().map(Some).map_err(|e| e.within(path))
}

/// `Option<S>` -> `Option<T>`.
pub(super) fn o<S, T: FromSdk<S>>(s: &Option<S>, path: &str) -> Conv<Option<T>> {
    s.as_ref()
        .map(T::from_sdk)
        .transpose()
        .map_err(|e| e.within(path))
}

/// A required `S` -> `Option<T>`.
pub(super) fn ro<S, T: FromSdk<S>>(s: &S, path: &str) -> Conv<Option<T>> {
    T::from_sdk(s).map(Some).map_err(|e| e.within(path))
}

/// `Option<S>` -> a required `T`: AWS always sends it.
pub(super) fn or<S, T: FromSdk<S>>(s: &Option<S>, path: &str) -> Conv<T> {
    match s {
        Some(s) => T::from_sdk(s).map_err(|e| e.within(path)),
        None => Err(ConvError::missing(path)),
    }
}

/// `S` -> `T`.
pub(super) fn r<S, T: FromSdk<S>>(s: &S, path: &str) -> Conv<T> {
    T::from_sdk(s).map_err(|e| e.within(path))
}

/// An optional SDK list or map -> the manifest's, empty when absent.
pub(super) fn ov<S, T: FromSdk<S> + Default>(s: &Option<S>, path: &str) -> Conv<T> {
    match s {
        Some(s) => T::from_sdk(s).map_err(|e| e.within(path)),
        None => Ok(T::default()),
    }
}

// ---- leaves -------------------------------------------------------------------------------

macro_rules! same {
    ($($t:ty),*) => {$(
        impl ToSdk for $t {
            type Sdk = $t;
            fn to_sdk(&self) -> Conv<$t> {
                Ok(self.clone())
            }
        }
        impl FromSdk<$t> for $t {
            fn from_sdk(s: &$t) -> Conv<$t> {
                Ok(s.clone())
            }
        }
    )*};
}
same!(String, bool, i32, i64, f64);

impl ToSdk for u32 {
    type Sdk = i32;
    fn to_sdk(&self) -> Conv<i32> {
        i32::try_from(*self)
            .map_err(|_| ConvError::invalid(format!("{self} is above {}", i32::MAX)))
    }
}

impl FromSdk<i32> for u32 {
    fn from_sdk(s: &i32) -> Conv<u32> {
        u32::try_from(*s).map_err(|_| ConvError::unknown("a count", &s.to_string()))
    }
}

impl ToSdk for Scalar {
    type Sdk = String;
    fn to_sdk(&self) -> Conv<String> {
        Ok(self.0.clone())
    }
}

impl FromSdk<String> for Scalar {
    fn from_sdk(s: &String) -> Conv<Scalar> {
        Ok(Scalar(s.clone()))
    }
}

impl ToSdk for TaskCpu {
    type Sdk = String;
    fn to_sdk(&self) -> Conv<String> {
        Ok(self.0.to_string())
    }
}

impl FromSdk<String> for TaskCpu {
    fn from_sdk(s: &String) -> Conv<TaskCpu> {
        parse_cpu(s)
            .map(TaskCpu)
            .ok_or_else(|| ConvError::unknown("cpu", s))
    }
}

impl ToSdk for TaskMemory {
    type Sdk = String;
    fn to_sdk(&self) -> Conv<String> {
        Ok(self.0.to_string())
    }
}

impl FromSdk<String> for TaskMemory {
    fn from_sdk(s: &String) -> Conv<TaskMemory> {
        parse_memory(s)
            .map(TaskMemory)
            .ok_or_else(|| ConvError::unknown("memory", s))
    }
}

impl ToSdk for NameValue {
    type Sdk = ecs::KeyValuePair;
    fn to_sdk(&self) -> Conv<ecs::KeyValuePair> {
        Ok(ecs::KeyValuePair::builder()
            .name(&self.name)
            .value(&self.value.0)
            .build())
    }
}

impl FromSdk<ecs::KeyValuePair> for NameValue {
    fn from_sdk(s: &ecs::KeyValuePair) -> Conv<NameValue> {
        Ok(NameValue {
            name: s.name.clone().ok_or_else(|| ConvError::missing("name"))?,
            value: Scalar(s.value.clone().unwrap_or_default()),
        })
    }
}

impl ToSdk for Secret {
    type Sdk = ecs::Secret;
    fn to_sdk(&self) -> Conv<ecs::Secret> {
        ecs::Secret::builder()
            .name(&self.name)
            .value_from(&self.value_from)
            .build()
            .map_err(built)
    }
}

impl FromSdk<ecs::Secret> for Secret {
    fn from_sdk(s: &ecs::Secret) -> Conv<Secret> {
        Ok(Secret {
            name: s.name.clone(),
            value_from: s.value_from.clone(),
        })
    }
}

impl ToSdk for Tag {
    type Sdk = ecs::Tag;
    fn to_sdk(&self) -> Conv<ecs::Tag> {
        Ok(ecs::Tag::builder()
            .key(&self.key)
            .value(&self.value.0)
            .build())
    }
}

impl FromSdk<ecs::Tag> for Tag {
    fn from_sdk(s: &ecs::Tag) -> Conv<Tag> {
        Ok(Tag {
            key: s.key.clone().ok_or_else(|| ConvError::missing("key"))?,
            value: Scalar(s.value.clone().unwrap_or_default()),
        })
    }
}

/// Free-form JSON (a `document` shape: lifecycle hooks' `hookDetails`).
impl ToSdk for serde_json::Value {
    type Sdk = aws_smithy_types::Document;
    fn to_sdk(&self) -> Conv<Self::Sdk> {
        use aws_smithy_types::{Document as D, Number as N};
        use serde_json::Value as V;
        Ok(match self {
            V::Null => D::Null,
            V::Bool(b) => D::Bool(*b),
            V::Number(n) => D::Number(match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => N::PosInt(u),
                (None, Some(i), _) => N::NegInt(i),
                (_, _, f) => N::Float(f.unwrap_or_default()),
            }),
            V::String(s) => D::String(s.clone()),
            V::Array(items) => D::Array(items.to_sdk()?),
            V::Object(map) => D::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_sdk()?)))
                    .collect::<Conv<_>>()?,
            ),
        })
    }
}

impl FromSdk<aws_smithy_types::Document> for serde_json::Value {
    fn from_sdk(s: &aws_smithy_types::Document) -> Conv<Self> {
        use aws_smithy_types::{Document as D, Number as N};
        use serde_json::Value as V;
        Ok(match s {
            D::Null => V::Null,
            D::Bool(b) => V::Bool(*b),
            D::Number(N::PosInt(u)) => V::from(*u),
            D::Number(N::NegInt(i)) => V::from(*i),
            D::Number(N::Float(f)) => V::from(*f),
            D::String(s) => V::String(s.clone()),
            D::Array(items) => V::Array(Vec::from_sdk(items)?),
            D::Object(map) => V::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), V::from_sdk(v)?)))
                    .collect::<Conv<_>>()?,
            ),
        })
    }
}

// ---- collections --------------------------------------------------------------------------

impl<T: ToSdk> ToSdk for Vec<T> {
    type Sdk = Vec<T::Sdk>;
    fn to_sdk(&self) -> Conv<Self::Sdk> {
        self.iter().map(ToSdk::to_sdk).collect()
    }
}

impl<T: ToSdk> Collection for Vec<T> {
    fn is_empty(&self) -> bool {
        <[T]>::is_empty(self)
    }
}

impl<S, T: FromSdk<S>> FromSdk<Vec<S>> for Vec<T> {
    fn from_sdk(s: &Vec<S>) -> Conv<Self> {
        s.iter().map(T::from_sdk).collect()
    }
}

impl<T: ToSdk> ToSdk for PairList<T> {
    type Sdk = Vec<T::Sdk>;
    fn to_sdk(&self) -> Conv<Self::Sdk> {
        self.0.to_sdk()
    }
}

impl<T: ToSdk> Collection for PairList<T> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S, T: FromSdk<S>> FromSdk<Vec<S>> for PairList<T> {
    fn from_sdk(s: &Vec<S>) -> Conv<Self> {
        Vec::from_sdk(s).map(PairList)
    }
}

impl<T: ToSdk> ToSdk for BTreeMap<String, T> {
    type Sdk = HashMap<String, T::Sdk>;
    fn to_sdk(&self) -> Conv<Self::Sdk> {
        self.iter()
            .map(|(k, v)| Ok((k.clone(), v.to_sdk()?)))
            .collect()
    }
}

impl<T: ToSdk> Collection for BTreeMap<String, T> {
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

impl<S, T: FromSdk<S>> FromSdk<HashMap<String, S>> for BTreeMap<String, T> {
    fn from_sdk(s: &HashMap<String, S>) -> Conv<Self> {
        s.iter()
            .map(|(k, v)| Ok((k.clone(), T::from_sdk(v)?)))
            .collect()
    }
}

/// Both directions of a generated enum and its SDK enum, by AWS's string value: an SDK value
/// the model does not know is an error, never a dropped field.
macro_rules! enum_conv {
    ($m:ty, $s:ty) => {
        impl ToSdk for $m {
            type Sdk = $s;
            fn to_sdk(&self) -> Conv<$s> {
                Ok(<$s>::from(self.as_str()))
            }
        }
        impl FromSdk<$s> for $m {
            fn from_sdk(s: &$s) -> Conv<Self> {
                <$m>::from_aws(s.as_str())
                    .ok_or_else(|| ConvError::unknown(stringify!($m), s.as_str()))
            }
        }
    };
}
pub(super) use enum_conv;
