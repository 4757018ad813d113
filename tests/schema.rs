//! The JSON Schema that `ecs-operator schema` prints agrees with the loader: every example
//! manifest validates against it, and documents the loader rejects for their shape are
//! rejected by the schema too.

use std::path::PathBuf;

use ecs_operator::manifest::schema::manifest_schema;

fn documents(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_json::to_value(serde_yaml::Value::deserialize(d).unwrap()).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

use serde::Deserialize;

fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walk(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests"));
    files.sort();
    files
}

fn walk(dir: PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(p));
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_example_manifest_matches_the_schema() {
    let validator = jsonschema::validator_for(manifest_schema()).expect("the schema compiles");
    let files = example_files();
    assert!(files.len() >= 3, "examples missing: {files:?}");
    let mut checked = 0;
    for file in files {
        for doc in documents(&file) {
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} documents checked");
}

/// A named change to a document.
type Mutation = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let validator = jsonschema::validator_for(manifest_schema()).unwrap();
    let base = serde_json::json!({
        "apiVersion": "ecs-operator/v1",
        "kind": "Service",
        "metadata": {"name": "api"},
        "spec": {
            "cluster": "shop",
            "taskDefinition": {"containerDefinitions": [{"name": "api", "image": "api:1"}]}
        }
    });
    assert!(
        validator.is_valid(&base),
        "{:?}",
        validator
            .iter_errors(&base)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "unknown spec field",
            Box::new(|v| v["spec"]["desiredcount"] = 2.into()),
        ),
        (
            "unknown container field",
            Box::new(|v| {
                v["spec"]["taskDefinition"]["containerDefinitions"][0]["imag"] = "x".into()
            }),
        ),
        (
            "wrong type",
            Box::new(|v| v["spec"]["desiredCount"] = "two".into()),
        ),
        (
            "unknown kind",
            Box::new(|v| v["kind"] = "Deployment".into()),
        ),
        (
            "unknown apiVersion",
            Box::new(|v| v["apiVersion"] = "v2".into()),
        ),
        (
            "missing image",
            Box::new(|v| {
                v["spec"]["taskDefinition"]["containerDefinitions"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("image");
            }),
        ),
        (
            "bad launch type",
            Box::new(|v| v["spec"]["launchType"] = "FARGATEE".into()),
        ),
    ];
    for (name, mutate) in cases {
        let mut doc = base.clone();
        mutate(&mut doc);
        assert!(!validator.is_valid(&doc), "schema accepted: {name}");
        // The loader rejects it too.
        let yaml = serde_yaml::to_string(&doc).unwrap();
        let loaded = ecs_operator::manifest::load_str(std::path::Path::new("case.yaml"), &yaml);
        assert!(!loaded.is_complete(), "loader accepted: {name}");
    }
}

#[test]
fn map_shorthand_validates_against_the_schema() {
    let validator = jsonschema::validator_for(manifest_schema()).unwrap();
    let doc = serde_json::json!({
        "apiVersion": "ecs-operator/v1",
        "kind": "Service",
        "metadata": {"name": "api", "annotations": {"ecs-operator/suspend": "false"}},
        "spec": {
            "cluster": "shop",
            "tags": {"team": "shop"},
            "taskDefinition": {
                "cpu": "1 vCPU", "memory": 2048,
                "containerDefinitions": [{
                    "name": "api", "image": "api:1",
                    "environment": {"PORT": 8000, "DEBUG": false},
                    "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}]
                }]
            }
        }
    });
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
