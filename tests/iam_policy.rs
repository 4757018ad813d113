//! `deploy/iam-policy.json` allows exactly what the `aws` backend calls: the operations are
//! read from the backend's source (the SDK calls `client.<operation>()` and the request
//! builders `aws_sdk_*::operation::<operation>::builders` it sends), cross-checked with the
//! `const OP` names its errors carry, and compared with the policy's actions. Mutating actions
//! must be conditioned on the ownership tag, except the one AWS gives no resource-level
//! permission for, and `iam:PassRole` only to ECS tasks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ecs_operator::plan::TAG_MANAGED_BY;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `describe_target_groups` -> `DescribeTargetGroups`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The backend's source files, without their test modules.
fn backend_sources() -> Vec<(PathBuf, String)> {
    let mut files = vec![Path::new(ROOT).join("src/cloud/aws.rs")];
    for entry in std::fs::read_dir(Path::new(ROOT).join("src/cloud/aws")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests {") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            (path, code)
        })
        .collect()
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// IAM actions of the SDK operations the backend calls (`ecs:CreateService`, ...).
fn called_actions() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, code) in backend_sources() {
        // Request builders name their crate.
        for (krate, prefix) in [
            ("aws_sdk_ecs::operation::", "ecs"),
            (
                "aws_sdk_elasticloadbalancingv2::operation::",
                "elasticloadbalancing",
            ),
        ] {
            for (i, _) in code.match_indices(krate) {
                let op = ident_at(&code[i + krate.len()..]);
                if !op.is_empty() && code[i + krate.len() + op.len()..].starts_with("::") {
                    out.insert(format!("{prefix}:{}", pascal(op)));
                }
            }
        }
        // Fluent calls on a client: `client` `.` operation `()`, across line breaks.
        let flat: String = code.split_whitespace().collect();
        let calls: Vec<&str> = flat
            .match_indices("client.")
            .map(|(i, _)| ident_at(&flat[i + "client.".len()..]))
            .filter(|op| !op.is_empty())
            .filter(|op| {
                let rest = flat.split(&format!("client.{op}")).nth(1).unwrap_or("");
                rest.starts_with("()")
            })
            .collect();
        if calls.is_empty() {
            continue;
        }
        let ecs = code.contains("aws_sdk_ecs");
        let elb = code.contains("aws_sdk_elasticloadbalancingv2");
        let prefix = match (ecs, elb) {
            (true, false) => "ecs",
            (false, true) => "elasticloadbalancing",
            _ => panic!(
                "{}: calls a client but names both or neither SDK crate; classify it",
                path.display()
            ),
        };
        for op in calls {
            out.insert(format!("{prefix}:{}", pascal(op)));
        }
    }
    out
}

/// The `const OP: &str = "..."` names of the backend: one per trait method.
fn op_constants() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, code) in backend_sources() {
        for (i, _) in code.match_indices("const OP: &str = \"") {
            let rest = &code[i + "const OP: &str = \"".len()..];
            out.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    out
}

fn policy() -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join("deploy/iam-policy.json")).unwrap();
    serde_json::from_str(&text).expect("deploy/iam-policy.json is JSON")
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
        _ => panic!("not a string or a list of strings: {v}"),
    }
}

/// Every allowed action, with the conditions of the statements that allow it.
fn allowed() -> BTreeMap<String, Vec<Option<Value>>> {
    let policy = policy();
    let mut out: BTreeMap<String, Vec<Option<Value>>> = BTreeMap::new();
    for s in policy["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow", "{s:#}");
        assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none());
        for action in strings(&s["Action"]) {
            out.entry(action)
                .or_default()
                .push(s.get("Condition").cloned());
        }
    }
    out
}

#[test]
fn the_source_scan_finds_every_operation_the_backend_names() {
    let actions = called_actions();
    let names: BTreeSet<String> = actions
        .iter()
        .map(|a| a.split_once(':').unwrap().1.to_string())
        .collect();
    assert_eq!(
        names,
        op_constants(),
        "the SDK calls found and the backend's operation names differ: the scan missed a call \
         style, or an OP name is wrong"
    );
    assert_eq!(actions.len(), 25, "{actions:#?}");
}

#[test]
fn the_policy_allows_exactly_the_calls_of_the_aws_backend_and_no_wildcards() {
    let allowed = allowed();
    for action in allowed.keys() {
        assert!(!action.contains('*'), "wildcard action {action}");
    }
    let mut expected = called_actions();
    expected.insert("iam:PassRole".into());
    let got: BTreeSet<String> = allowed.keys().cloned().collect();
    let missing: Vec<&String> = expected.difference(&got).collect();
    let extra: Vec<&String> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the policy: {missing:?}; allowed but never called: {extra:?}"
    );
}

#[test]
fn mutating_actions_need_the_ownership_tag_and_pass_role_only_goes_to_ecs_tasks() {
    let tag_conditions = [
        format!("aws:ResourceTag/{TAG_MANAGED_BY}"),
        format!("aws:RequestTag/{TAG_MANAGED_BY}"),
    ];
    // No resource-level permissions in ECS: the revision ARN cannot be conditioned on.
    let unconditioned_writes = ["ecs:DeregisterTaskDefinition"];
    for (action, conditions) in allowed() {
        let name = action.split_once(':').unwrap().1;
        if name.starts_with("Describe") || name.starts_with("List") {
            assert_eq!(conditions, [None], "{action}: reads are unconditioned");
            continue;
        }
        if action == "iam:PassRole" {
            let c = conditions[0].as_ref().expect("PassRole is conditioned");
            assert_eq!(
                c["StringEquals"]["iam:PassedToService"], "ecs-tasks.amazonaws.com",
                "{c:#}"
            );
            continue;
        }
        if unconditioned_writes.contains(&action.as_str()) {
            continue;
        }
        for c in &conditions {
            let c = c
                .as_ref()
                .unwrap_or_else(|| panic!("{action} is allowed without a condition"));
            let keys: Vec<&String> = c["StringEquals"].as_object().unwrap().keys().collect();
            assert!(
                keys.iter().all(|k| tag_conditions.contains(k)),
                "{action}: {c:#}"
            );
            for k in keys {
                assert_eq!(
                    c["StringEquals"][k], "ecs-operator",
                    "{action}: the default --instance"
                );
            }
        }
    }
}

#[test]
fn snake_case_operations_map_to_iam_action_names() {
    assert_eq!(pascal("describe_target_groups"), "DescribeTargetGroups");
    assert_eq!(
        pascal("put_cluster_capacity_providers"),
        "PutClusterCapacityProviders"
    );
}
