//! `deploy/iam-policy.json` allows exactly what the `aws` backend calls: the operations are
//! read from the backend's source (the SDK calls `client.<operation>()` and the request
//! builders `aws_sdk_*::operation::<operation>::builders` it sends), cross-checked with the
//! `const OP` names its errors carry, and compared with the policy's actions. Mutating actions
//! must be conditioned on the ownership tag, except the one AWS gives no resource-level
//! permission for, and `iam:PassRole` only to ECS tasks.
//!
//! Leader election (`run --leader-election dynamodb`) adds DynamoDB calls on the lease table
//! only: the four item calls of the lease at run time in `deploy/iam-policy.json`, and the three
//! calls of `ecs-operator lease create-table` in `deploy/iam-policy-lease-create-table.json`
//! (the task role needs none of those when the table comes from Terraform or CloudFormation).
//! Both lists are fixed here; the DynamoDB calls found in the source (any file naming
//! `aws_sdk_dynamodb`) and the DynamoDB operations of `cloud::operation`'s catalogue, when there
//! are any, must be exactly their union. Every DynamoDB statement is on the table ARN of the
//! table `deploy/operator` names (`ECS_OPERATOR_LEASE_TABLE`), without a wildcard in the name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ecs_operator::cloud::operation::Operation;
use ecs_operator::manifest::load_paths;
use ecs_operator::plan::TAG_MANAGED_BY;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The lease's item calls at run time: acquire or take over (PutItem, conditional), renew
/// (UpdateItem, conditional), read the holder (GetItem), release on SIGTERM (DeleteItem,
/// conditional).
const LEASE_RUN_ACTIONS: [&str; 4] = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

/// `ecs-operator lease create-table`: the table (on-demand), its TTL, and waiting for it.
const CREATE_TABLE_ACTIONS: [&str; 3] = [
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTimeToLive",
];

/// What RegisterScalableTarget and PutScalingPolicy need besides their own actions: the
/// service-linked role Application Auto Scaling acts for ECS with (created on first use), and
/// the CloudWatch alarms a target tracking policy creates and deletes in the caller's name
/// (Application Auto Scaling User Guide, "Identity-based policy examples").
const AUTO_SCALING_SIDE_ACTIONS: [&str; 4] = [
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
    "iam:CreateServiceLinkedRole",
];

/// The policy `lease create-table` needs, apart from the task role's.
const CREATE_TABLE_POLICY: &str = "deploy/iam-policy-lease-create-table.json";

/// The DynamoDB API's operations in snake case, as the SDK's fluent client names them: what a
/// DynamoDB call in the source can be.
const DYNAMODB_OPERATIONS: &[&str] = &[
    "batch_execute_statement",
    "batch_get_item",
    "batch_write_item",
    "create_backup",
    "create_global_table",
    "create_table",
    "delete_backup",
    "delete_item",
    "delete_resource_policy",
    "delete_table",
    "describe_backup",
    "describe_continuous_backups",
    "describe_contributor_insights",
    "describe_endpoints",
    "describe_export",
    "describe_global_table",
    "describe_global_table_settings",
    "describe_import",
    "describe_kinesis_streaming_destination",
    "describe_limits",
    "describe_table",
    "describe_table_replica_auto_scaling",
    "describe_time_to_live",
    "disable_kinesis_streaming_destination",
    "enable_kinesis_streaming_destination",
    "execute_statement",
    "execute_transaction",
    "export_table_to_point_in_time",
    "get_item",
    "get_resource_policy",
    "import_table",
    "list_backups",
    "list_contributor_insights",
    "list_exports",
    "list_global_tables",
    "list_imports",
    "list_tables",
    "list_tags_of_resource",
    "put_item",
    "put_resource_policy",
    "query",
    "restore_table_from_backup",
    "restore_table_to_point_in_time",
    "scan",
    "tag_resource",
    "transact_get_items",
    "transact_write_items",
    "untag_resource",
    "update_continuous_backups",
    "update_contributor_insights",
    "update_global_table",
    "update_global_table_settings",
    "update_item",
    "update_kinesis_streaming_destination",
    "update_table",
    "update_table_replica_auto_scaling",
    "update_time_to_live",
];

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
            let code = without_tests(&std::fs::read_to_string(&path).unwrap());
            (path, code)
        })
        // The lease store's DynamoDB calls are checked on their own (`dynamodb_calls`).
        .filter(|(_, code)| !is_dynamodb_only(code))
        .collect()
}

/// A source file without its test module.
fn without_tests(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// Names the DynamoDB SDK and neither the ECS nor the ELBv2 one.
fn is_dynamodb_only(code: &str) -> bool {
    code.contains("aws_sdk_dynamodb")
        && !code.contains("aws_sdk_ecs")
        && !code.contains("aws_sdk_elasticloadbalancingv2")
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// IAM actions of the DynamoDB operations the product code calls, in any file under `src/` that
/// names `aws_sdk_dynamodb` (test modules and `tests.rs` files left out): fluent calls
/// `.<operation>()` and request builders `aws_sdk_dynamodb::operation::<operation>::`. Empty
/// before the lease store exists.
fn dynamodb_calls() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&Path::new(ROOT).join("src"), &mut files);
    let mut out = BTreeSet::new();
    for path in files {
        if path.ends_with("tests.rs") {
            continue;
        }
        let code = without_tests(&std::fs::read_to_string(&path).unwrap());
        if !code.contains("aws_sdk_dynamodb") {
            continue;
        }
        let krate = "aws_sdk_dynamodb::operation::";
        for (i, _) in code.match_indices(krate) {
            let op = ident_at(&code[i + krate.len()..]);
            if DYNAMODB_OPERATIONS.contains(&op) {
                out.insert(format!("dynamodb:{}", pascal(op)));
            }
        }
        let flat: String = code.split_whitespace().collect();
        for (i, _) in flat.match_indices('.') {
            let op = ident_at(&flat[i + 1..]);
            if DYNAMODB_OPERATIONS.contains(&op) && flat[i + 1 + op.len()..].starts_with("()") {
                out.insert(format!("dynamodb:{}", pascal(op)));
            }
        }
    }
    out
}

/// The lease table the operator's own manifests name (`ECS_OPERATOR_LEASE_TABLE`).
fn lease_table() -> String {
    let loaded = load_paths(&[Path::new(ROOT).join("deploy/operator")]);
    let service = loaded
        .documents
        .iter()
        .find_map(|d| d.manifest.as_service())
        .expect("a Service manifest in deploy/operator");
    let container = &service.task_definition.container_definitions[0];
    let env = |name: &str| {
        container
            .environment
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value.0.clone())
    };
    assert_eq!(
        env("ECS_OPERATOR_LEADER_ELECTION").as_deref(),
        Some("dynamodb"),
        "deploy/operator runs with leader election"
    );
    env("ECS_OPERATOR_LEASE_TABLE").expect("ECS_OPERATOR_LEASE_TABLE in deploy/operator")
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
            (
                "aws_sdk_applicationautoscaling::operation::",
                "application-autoscaling",
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
        let scaling = code.contains("aws_sdk_applicationautoscaling");
        let prefix = match (ecs, elb, scaling) {
            (true, false, false) => "ecs",
            (false, true, false) => "elasticloadbalancing",
            (false, false, true) => "application-autoscaling",
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
    policy_file("deploy/iam-policy.json")
}

fn policy_file(path: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is JSON: {e}"))
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
    // 28, 9 of Application Auto Scaling, 7 of the listener rules (issue 14) and the 2
    // service deployment reads (issue 13).
    assert_eq!(actions.len(), 46, "{actions:#?}");
}

#[test]
fn the_policy_allows_exactly_the_calls_of_the_aws_backend_and_no_wildcards() {
    let allowed = allowed();
    for action in allowed.keys() {
        assert!(!action.contains('*'), "wildcard action {action}");
    }
    let mut expected = called_actions();
    expected.insert("iam:PassRole".into());
    expected.extend(LEASE_RUN_ACTIONS.map(String::from));
    expected.extend(AUTO_SCALING_SIDE_ACTIONS.map(String::from));
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
    // No resource-level permissions in ECS: the revision ARN cannot be conditioned on. The
    // Application Auto Scaling writes: the operator does not tag scalable targets, so there is
    // no ownership tag to condition on (the service's own tag is checked by the plan), and the
    // CloudWatch alarms of target tracking are made in the caller's name.
    let unconditioned_writes = [
        "ecs:DeregisterTaskDefinition",
        "application-autoscaling:DeleteScalingPolicy",
        "application-autoscaling:DeleteScheduledAction",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:PutScheduledAction",
        "application-autoscaling:RegisterScalableTarget",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:PutMetricAlarm",
    ];
    for (action, conditions) in allowed() {
        let name = action.split_once(':').unwrap().1;
        if action.starts_with("dynamodb:") {
            // Scoped by resource, the lease table (the next test), not by tag.
            assert_eq!(conditions, [None], "{action}");
            continue;
        }
        if name.starts_with("Describe") || name.starts_with("List") {
            assert_eq!(conditions, [None], "{action}: reads are unconditioned");
            continue;
        }
        if action == "iam:CreateServiceLinkedRole" {
            let c = conditions[0]
                .as_ref()
                .expect("CreateServiceLinkedRole is conditioned");
            assert_eq!(
                c["StringLike"]["iam:AWSServiceName"], "ecs.application-autoscaling.amazonaws.com",
                "{c:#}"
            );
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

/// (actions, resources) of every statement of a policy naming a `dynamodb:` action.
fn dynamodb_statements(policy: &Value) -> Vec<(Vec<String>, Vec<String>)> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (strings(&s["Action"]), strings(&s["Resource"])))
        .filter(|(actions, _)| actions.iter().any(|a| a.starts_with("dynamodb:")))
        .collect()
}

#[test]
fn dynamodb_is_allowed_only_on_the_lease_table_and_create_table_only_in_its_own_policy() {
    let table = lease_table();
    assert!(
        !table.is_empty() && !table.contains(['*', '?', '/', ':']),
        "a plain table name: {table:?}"
    );
    let arn = format!("arn:aws:dynamodb:*:*:table/{table}");
    for (path, expected) in [
        ("deploy/iam-policy.json", &LEASE_RUN_ACTIONS[..]),
        (CREATE_TABLE_POLICY, &CREATE_TABLE_ACTIONS[..]),
    ] {
        let policy = policy_file(path);
        let mut got = BTreeSet::new();
        for (actions, resources) in dynamodb_statements(&policy) {
            assert!(
                actions.iter().all(|a| a.starts_with("dynamodb:")),
                "{path}: DynamoDB actions have a statement of their own: {actions:?}"
            );
            assert_eq!(
                resources,
                std::slice::from_ref(&arn),
                "{path}: the lease table only"
            );
            got.extend(actions);
        }
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, expected, "{path}");
    }
    // The create-table policy is that and nothing else.
    let create = policy_file(CREATE_TABLE_POLICY);
    for s in create["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow", "{s:#}");
        assert!(
            s.get("Condition").is_none() && s.get("NotAction").is_none(),
            "{s:#}"
        );
        assert!(
            strings(&s["Action"])
                .iter()
                .all(|a| a.starts_with("dynamodb:"))
        );
    }
}

#[test]
fn the_dynamodb_calls_in_the_source_are_exactly_the_lease_and_create_table_calls() {
    let all: BTreeSet<String> = LEASE_RUN_ACTIONS
        .iter()
        .chain(&CREATE_TABLE_ACTIONS)
        .map(|s| s.to_string())
        .collect();
    let found = dynamodb_calls();
    // Before the lease store exists nothing is found; from then on the scan must agree.
    if !found.is_empty() {
        assert_eq!(
            found, all,
            "DynamoDB calls in src/ differ from the policies' (add the call to \
             LEASE_RUN_ACTIONS or CREATE_TABLE_ACTIONS and to the policy, or drop it)"
        );
    }
    // The operation catalogue, once it lists DynamoDB operations, lists the same ones.
    let catalogued: BTreeSet<String> = Operation::ALL
        .into_iter()
        .filter(|op| op.is_called() && op.service().as_str().contains("dynamo"))
        .map(|op| format!("dynamodb:{}", op.as_str()))
        .collect();
    if !catalogued.is_empty() {
        assert_eq!(catalogued, all, "cloud::operation's DynamoDB operations");
    }
    // The scan sees the call styles the SDK has.
    assert_eq!(pascal("update_time_to_live"), "UpdateTimeToLive");
    assert!(DYNAMODB_OPERATIONS.contains(&"get_item"));
}

#[test]
fn snake_case_operations_map_to_iam_action_names() {
    assert_eq!(pascal("describe_target_groups"), "DescribeTargetGroups");
    assert_eq!(
        pascal("put_cluster_capacity_providers"),
        "PutClusterCapacityProviders"
    );
}
