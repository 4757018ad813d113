//! JSON Schema of the manifest kinds (draft 7, which the YAML language server and most editors
//! read), generated from the same types the loader decodes into, and field-name suggestions
//! ("did you mean `desiredCount`?") looked up in it.

use std::sync::LazyLock;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::cluster::ClusterSpec;
use super::document::Metadata;
use super::listener_rule::ListenerRuleSpec;
use super::path::{FieldPath, Segment};
use super::service::ServiceSpec;
use super::target_group::TargetGroupSpec;

/// `apiVersion`: one value.
#[derive(JsonSchema)]
#[allow(dead_code)] // schema only: the loader checks apiVersion itself
enum ApiVersion {
    #[serde(rename = "ecs-operator/v1")]
    V1,
}

/// One manifest document of a given spec type (schema only; the loader has its own visitor).
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)] // schema only
struct Doc<S> {
    api_version: ApiVersion,
    metadata: Metadata,
    spec: S,
}

/// A manifest document of any kind, told apart by `kind`.
#[derive(JsonSchema)]
#[serde(tag = "kind")]
#[schemars(title = "ecs-operator manifest")]
#[allow(dead_code)] // schema only
enum AnyManifest {
    /// An ECS cluster.
    Cluster(Box<Doc<ClusterSpec>>),
    /// An ELBv2 target group.
    TargetGroup(Box<Doc<TargetGroupSpec>>),
    /// An ELBv2 listener rule.
    ListenerRule(Box<Doc<ListenerRuleSpec>>),
    /// An ECS service and its task definition.
    Service(Box<Doc<ServiceSpec>>),
}

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<AnyManifest>();
    serde_json::to_value(schema).expect("a schema is always JSON")
});

/// The JSON Schema of one manifest document.
pub fn manifest_schema() -> &'static Value {
    &SCHEMA
}

/// The known field name closest to the last key of `path` (an unknown field), if one is close.
pub fn suggest_field(path: &FieldPath) -> Option<String> {
    let Some(Segment::Key(unknown)) = path.segments().last() else {
        return None;
    };
    let root = manifest_schema();
    let mut nodes = vec![root];
    for seg in path.parent().segments() {
        nodes = nodes
            .into_iter()
            .flat_map(|n| branches(root, n))
            .filter_map(|n| match seg {
                Segment::Key(k) => n.get("properties").and_then(|p| p.get(k)),
                Segment::Index(_) => n.get("items"),
            })
            .collect();
    }
    let known: Vec<&str> = nodes
        .into_iter()
        .flat_map(|n| branches(root, n))
        .filter_map(|n| n.get("properties").and_then(Value::as_object))
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    let lower = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|k| {
            let score = if k.to_ascii_lowercase() == lower {
                1.0
            } else {
                strsim::jaro_winkler(&k.to_ascii_lowercase(), &lower)
            };
            (score, *k)
        })
        .filter(|(s, _)| *s >= 0.88)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}

/// `node` with its `$ref` resolved, plus every schema it combines (`anyOf`, `oneOf`, `allOf`,
/// and the `then`/`else` of a condition), recursively: all the places a property of this
/// value may be declared.
fn branches<'a>(root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if let Some(r) = n.get("$ref").and_then(Value::as_str)
            && let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p))
        {
            stack.push(target);
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            if let Some(list) = n.get(combinator).and_then(Value::as_array) {
                stack.extend(list);
            }
        }
        stack.extend(["then", "else"].iter().filter_map(|k| n.get(*k)));
        out.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_near_misses_at_the_right_depth() {
        let cases = [
            ("spec.desiredcount", Some("desiredCount")),
            (
                "spec.taskDefinition.containerDefinitions[0].imag",
                Some("image"),
            ),
            (
                "spec.taskDefinition.containerDefinitions[0].portMapings",
                Some("portMappings"),
            ),
            ("spec.healthCheck.intervalSecond", Some("intervalSeconds")),
            ("metadata.nmae", Some("name")),
            ("spec.completelyDifferent", None),
        ];
        for (path, want) in cases {
            assert_eq!(
                suggest_field(&FieldPath::parse(path)).as_deref(),
                want,
                "{path}"
            );
        }
    }

    #[test]
    fn the_schema_names_all_three_kinds() {
        let text = manifest_schema().to_string();
        for kind in [
            "\"Cluster\"",
            "\"TargetGroup\"",
            "\"ListenerRule\"",
            "\"Service\"",
        ] {
            assert!(text.contains(kind), "{kind}");
        }
    }
}
