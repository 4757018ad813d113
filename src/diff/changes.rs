//! Field-by-field comparison of two normalized values: every leaf that differs, with its path
//! in manifest spelling and the old and new values, sensitive ones masked ([`super::mask`]).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::mask::is_hidden;
use crate::manifest::path::FieldPath;

/// One differing field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Where, relative to the compared object (`containerDefinitions[0].image`).
    #[serde(serialize_with = "display")]
    pub path: FieldPath,
    /// Live value (`None`: absent live).
    pub old: Option<Value>,
    /// Desired value (`None`: absent in the manifest, so it goes away).
    pub new: Option<Value>,
}

fn display<S: serde::Serializer>(p: &FieldPath, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(p)
}

impl fmt::Display for FieldChange {
    /// `containerDefinitions[0].image: "api:1" -> "api:2"`; a masked value reads
    /// `environment.DB_PASSWORD: (changed)` (or `(added)`, `(removed)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_hidden(&self.old) || is_hidden(&self.new) {
            let what = match (&self.old, &self.new) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            return write!(f, "{}: ({what})", self.path);
        }
        let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), Value::to_string);
        write!(
            f,
            "{}: {} -> {}",
            self.path,
            show(&self.old),
            show(&self.new)
        )
    }
}

/// Compares `live` with `desired` (both already normalized) and lists every difference,
/// ordered by path. Equal inputs give an empty list, at the cost of `==` alone: a quiet
/// resync compares every resource and finds them equal, and turning both sides into JSON
/// trees to walk them was most of its planning time (equal values serialize alike, so the
/// short cut cannot hide a difference the trees would show).
pub fn compare<T: Serialize + PartialEq>(live: &T, desired: &T) -> Vec<FieldChange> {
    if live == desired {
        return Vec::new();
    }
    let (live, desired) = match (serde_json::to_value(live), serde_json::to_value(desired)) {
        (Ok(l), Ok(d)) => (l, d),
        // Our model types always serialize; a failure would be a bug worth seeing as drift.
        (l, d) => {
            return vec![FieldChange {
                path: FieldPath::root(),
                old: l.ok(),
                new: d.ok(),
            }];
        }
    };
    let patch = json_patch::diff(&live, &desired);
    let mut out: Vec<FieldChange> = patch
        .0
        .iter()
        .map(|op| {
            use json_patch::PatchOperation as Op;
            let (pointer, new) = match op {
                Op::Add(a) => (a.path.to_string(), Some(a.value.clone())),
                Op::Replace(r) => (r.path.to_string(), Some(r.value.clone())),
                Op::Remove(r) => (r.path.to_string(), None),
                Op::Move(m) => (
                    m.path.to_string(),
                    desired.pointer(m.path.as_str()).cloned(),
                ),
                Op::Copy(c) => (
                    c.path.to_string(),
                    desired.pointer(c.path.as_str()).cloned(),
                ),
                Op::Test(t) => (t.path.to_string(), Some(t.value.clone())),
            };
            super::mask::change(
                pointer_to_path(&pointer),
                &live,
                &desired,
                live.pointer(&pointer).cloned(),
                new,
            )
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The changes that create `desired` from nothing: one per top-level field, with its whole
/// value.
pub fn creation<T: Serialize>(desired: &T) -> Vec<FieldChange> {
    match serde_json::to_value(desired) {
        Ok(Value::Object(fields)) => fields
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let path = FieldPath::root().key(k);
                FieldChange {
                    new: Some(super::mask::redacted(&path, v)),
                    path,
                    old: None,
                }
            })
            .collect(),
        other => vec![FieldChange {
            path: FieldPath::root(),
            old: None,
            new: other
                .ok()
                .map(|v| super::mask::redacted(&FieldPath::root(), v)),
        }],
    }
}

/// `/containerDefinitions/0/image` -> `containerDefinitions[0].image`.
fn pointer_to_path(pointer: &str) -> FieldPath {
    let mut p = FieldPath::root();
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        p = match seg.parse::<usize>() {
            Ok(i) => p.index(i),
            Err(_) => p.key(seg),
        };
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_have_no_changes() {
        let v = json!({"a": [1, {"b": "c"}], "d": null});
        assert!(compare(&v, &v.clone()).is_empty());
    }

    #[test]
    fn changes_name_the_leaf_with_old_and_new() {
        let live =
            json!({"containerDefinitions": [{"image": "api:1", "cpu": 0}], "tags": {"a": "1"}});
        let desired =
            json!({"containerDefinitions": [{"image": "api:2", "cpu": 0}], "tags": {"b": "2"}});
        let changes: Vec<String> = compare(&live, &desired)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            changes,
            [
                "containerDefinitions[0].image: \"api:1\" -> \"api:2\"",
                "tags.a: \"1\" -> (absent)",
                "tags.b: (absent) -> \"2\"",
            ]
        );
    }

    #[test]
    fn keys_with_slashes_survive_the_pointer_round_trip() {
        let live = json!({"tags": {"ecs-operator/managed-by": "x"}});
        let desired = json!({"tags": {"ecs-operator/managed-by": "y"}});
        let c = compare(&live, &desired);
        assert_eq!(c[0].path.last_key(), Some("ecs-operator/managed-by"));
    }

    /// A shape with what the views hold: optional fields skipped when absent, lists, maps
    /// (whose order `==` ignores and JSON objects ignore too) and floats.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    struct Shape {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        ports: Vec<u16>,
        tags: std::collections::HashMap<String, String>,
        weight: f64,
    }

    fn shape() -> impl proptest::strategy::Strategy<Value = Shape> {
        use proptest::prelude::*;
        (
            proptest::option::of("[ab]{0,2}"),
            proptest::collection::vec(0u16..3, 0..3),
            proptest::collection::hash_map("[ab]", "[xy]", 0..3),
            prop_oneof![Just(0.0), Just(-0.0), Just(1.5), Just(f64::NAN)],
        )
            .prop_map(|(name, ports, tags, weight)| Shape {
                name,
                ports,
                tags,
                weight,
            })
    }

    proptest::proptest! {
        /// The `==` short cut answers as the tree walk would: no change exactly when the JSON
        /// trees are equal.
        #[test]
        fn the_equality_short_cut_agrees_with_the_tree_walk(a in shape(), b in shape()) {
            let walked = json_patch::diff(
                &serde_json::to_value(&a).unwrap(),
                &serde_json::to_value(&b).unwrap(),
            );
            proptest::prop_assert_eq!(compare(&a, &b).is_empty(), walked.0.is_empty());
        }
    }
}
