//! Every type error of a document, not only the first. serde stops at the first value of the
//! wrong type; when a document fails, it is also checked against the manifest's JSON Schema
//! (generated from the same types, so the two agree), which reports every value that does not
//! fit, each with its field path (and so its line).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::path::{FieldPath, Segment};

/// At most this many findings per document (the first ones in document order).
const MAX_FINDINGS: usize = 50;
/// Messages are cut at this many characters (a value is quoted in them).
const MAX_MESSAGE: usize = 200;

/// One validator per kind: the manifest schema with its `oneOf` narrowed to that kind, so an
/// error names the field rather than "no kind matched".
static VALIDATORS: LazyLock<BTreeMap<String, jsonschema::Validator>> = LazyLock::new(|| {
    let schema = super::schema::manifest_schema();
    let mut out = BTreeMap::new();
    let branches = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for branch in branches {
        let kind = branch
            .pointer("/properties/kind/const")
            .or_else(|| branch.pointer("/properties/kind/enum/0"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(kind) = kind else { continue };
        let mut one = schema.clone();
        if let Some(map) = one.as_object_mut() {
            map.remove("oneOf");
            if let Some(b) = branch.as_object() {
                for (k, v) in b {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        if let Ok(v) = jsonschema::validator_for(&one) {
            out.insert(kind, v);
        }
    }
    out
});

/// Documents larger than this get serde's first error only.
const MAX_TEXT: usize = 1 << 20;

/// Whether the text uses YAML aliases, which expand when a value tree is built (an alias bomb
/// would cost memory here even though the decoder refused the document).
fn has_alias(text: &str) -> bool {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((saphyr_parser::Event::Alias(_), _)) => return true,
            Ok(_) => {}
            Err(_) => return true, // not well-formed: leave it to serde's error
        }
    }
    false
}

/// The schema's findings for a document's text, as (path, message); empty when the text is
/// not a mapping with a known `kind` (serde's own error says what is wrong then), and for a
/// document over [`MAX_TEXT`] or with aliases, which are not expanded into a tree here.
pub(crate) fn type_errors(text: &str) -> Vec<(FieldPath, String)> {
    if text.len() > MAX_TEXT || has_alias(text) {
        return Vec::new();
    }
    let Ok(yaml) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::to_value(&yaml) else {
        return Vec::new();
    };
    let Some(validator) = doc
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| VALIDATORS.get(k))
    else {
        return Vec::new();
    };
    let mut out: Vec<(FieldPath, String)> = validator
        .iter_errors(&doc)
        .map(|e| {
            let path = field_path(&doc, e.instance_path().as_str());
            let mut message = e.to_string();
            if message.chars().count() > MAX_MESSAGE {
                message = message.chars().take(MAX_MESSAGE).collect::<String>() + "...";
            }
            (path, message)
        })
        .collect();
    out.dedup_by(|a, b| a.0 == b.0);
    out.truncate(MAX_FINDINGS);
    out
}

/// A JSON pointer as a field path, indexes told from keys by the value they point into.
fn field_path(doc: &Value, pointer: &str) -> FieldPath {
    let mut segments = Vec::new();
    let mut at = Some(doc);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        match (at, key.parse::<usize>()) {
            (Some(Value::Array(items)), Ok(i)) => {
                segments.push(Segment::Index(i));
                at = items.get(i);
            }
            (node, _) => {
                at = node.and_then(|n| n.get(&key));
                segments.push(Segment::Key(key));
            }
        }
    }
    let mut path = FieldPath::root();
    for s in segments {
        path = match s {
            Segment::Key(k) => path.key(k),
            Segment::Index(i) => path.index(i),
        };
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_value_is_named_not_only_the_first() {
        let text = "\
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: two
  taskDefinition:
    containerDefinitions:
      - name: api
        image: api:1
        essential: sometimes
        portMappings: [{containerPort: http}]
";
        let paths: Vec<String> = type_errors(text)
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        for want in [
            "spec.desiredCount",
            "spec.taskDefinition.containerDefinitions[0].essential",
            "spec.taskDefinition.containerDefinitions[0].portMappings[0].containerPort",
        ] {
            assert!(paths.iter().any(|p| p == want), "{want} not in {paths:?}");
        }
    }

    #[test]
    fn a_document_with_aliases_is_not_expanded() {
        let text = "\
apiVersion: ecs-operator/v1
kind: Cluster
metadata: {name: shop}
x: &a [1, 2]
spec: {capacityProviders: [*a, *a]}
";
        assert_eq!(type_errors(text), vec![]);
    }

    #[test]
    fn a_valid_document_has_none() {
        let text = "\
apiVersion: ecs-operator/v1
kind: Cluster
metadata: {name: shop}
spec: {settings: {containerInsights: enabled}}
";
        assert_eq!(type_errors(text), vec![]);
    }
}
