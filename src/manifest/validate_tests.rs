//! (Over 600 lines: one row per rule, read as one table.)
//!
//! One row per validation rule: a valid base set of manifests, one mutation, and the finding it
//! must produce (severity, rule, field path). The base itself must produce no finding at all, so
//! each row proves its rule fires on exactly that change.

use std::path::Path;

use serde_yaml::Value;

use super::validate;
use crate::manifest::{Severity, load_str};

const BASE: &str = "\
apiVersion: ecs-operator/v1
kind: Cluster
metadata: {name: shop}
spec:
  settings: {containerInsights: enabled}
  capacityProviders: [FARGATE]
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: shop-api}
spec:
  protocol: HTTP
  port: 8000
  vpcId: vpc-1
  targetType: ip
  healthCheck: {path: /health, intervalSeconds: 15, timeoutSeconds: 5}
---
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: 2
  launchType: FARGATE
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - name: api
        image: api:1.0.0
        portMappings: [{containerPort: 8000}]
        environment: {LOG_LEVEL: info}
  networkConfiguration:
    awsvpcConfiguration: {subnets: [subnet-a]}
  deploymentConfiguration:
    deploymentCircuitBreaker: {enable: true, rollback: true}
  loadBalancers:
    - {targetGroup: shop-api, containerName: api, containerPort: 8000}
";

/// Index of each document in BASE.
const CLUSTER: usize = 0;
const TG: usize = 1;
const SVC: usize = 2;

fn base_docs() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(BASE)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// Sets `path` (dotted, `[i]` for items) in `doc` to the YAML `value`; `~` removes it.
fn set(doc: &mut Value, path: &str, value: &str) {
    let parsed = crate::manifest::FieldPath::parse(path);
    let segs = parsed.segments();
    let mut node = doc;
    for seg in &segs[..segs.len() - 1] {
        node = match seg {
            crate::manifest::path::Segment::Key(k) => {
                let m = node.as_mapping_mut().unwrap();
                m.entry(Value::from(k.as_str()))
                    .or_insert(Value::Mapping(Default::default()))
            }
            crate::manifest::path::Segment::Index(i) => &mut node.as_sequence_mut().unwrap()[*i],
        };
    }
    let v: Value = serde_yaml::from_str(value).unwrap();
    match segs.last().unwrap() {
        crate::manifest::path::Segment::Key(k) => {
            let m = node.as_mapping_mut().unwrap();
            if v.is_null() {
                m.remove(k.as_str());
            } else {
                m.insert(Value::from(k.as_str()), v);
            }
        }
        crate::manifest::path::Segment::Index(i) => {
            let seq = node.as_sequence_mut().unwrap();
            if *i == seq.len() {
                seq.push(v);
            } else {
                seq[*i] = v;
            }
        }
    }
}

fn render(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| serde_yaml::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// (rule, severity, path, document, edits)
type Row = (
    &'static str,
    Severity,
    &'static str,
    usize,
    &'static [(&'static str, &'static str)],
);

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

const ROWS: &[Row] = &[
    (
        "task-definition-ref",
        E,
        "spec.taskDefinition",
        SVC,
        &[("spec.taskDefinition", "api:0")],
    ),
    (
        "task-definition-ref",
        E,
        "spec.taskDefinition",
        SVC,
        &[("spec.taskDefinition", "'api:latest'")],
    ),
    (
        "task-definition-ref",
        E,
        "spec.taskDefinition",
        SVC,
        &[("spec.taskDefinition", "arn:aws:s3:::task-definition/api:1")],
    ),
    (
        "task-definition-ref",
        E,
        "spec.taskDefinition",
        SVC,
        &[("spec.taskDefinition", "'api v2'")],
    ),
    (
        "fargate-size",
        E,
        "spec.taskDefinition.memory",
        SVC,
        &[("spec.taskDefinition.memory", "'4096'")],
    ),
    (
        "fargate-size",
        E,
        "spec.taskDefinition.cpu",
        SVC,
        &[("spec.taskDefinition.cpu", "'300'")],
    ),
    (
        "fargate-size",
        E,
        "spec.taskDefinition.cpu",
        SVC,
        &[("spec.taskDefinition.cpu", "~")],
    ),
    (
        "fargate-size",
        E,
        "spec.taskDefinition.memory",
        SVC,
        &[
            ("spec.taskDefinition.cpu", "1 vCPU"),
            ("spec.taskDefinition.memory", "1 GB"),
        ],
    ),
    (
        "fargate-network-mode",
        E,
        "spec.taskDefinition.networkMode",
        SVC,
        &[
            ("spec.taskDefinition.networkMode", "bridge"),
            ("spec.networkConfiguration", "~"),
            ("spec.loadBalancers", "~"),
        ],
    ),
    (
        "fargate-network-mode",
        E,
        "spec.taskDefinition.networkMode",
        SVC,
        &[
            ("spec.launchType", "~"),
            ("spec.taskDefinition.requiresCompatibilities", "[FARGATE]"),
            ("spec.taskDefinition.networkMode", "~"),
            ("spec.networkConfiguration", "~"),
            ("spec.loadBalancers", "~"),
        ],
    ),
    (
        "fargate-compatibility",
        E,
        "spec.taskDefinition.requiresCompatibilities",
        SVC,
        &[("spec.taskDefinition.requiresCompatibilities", "[EC2]")],
    ),
    (
        "fargate-unsupported",
        E,
        "spec.taskDefinition.ipcMode",
        SVC,
        &[("spec.taskDefinition.ipcMode", "task")],
    ),
    (
        "fargate-unsupported",
        E,
        "spec.taskDefinition.pidMode",
        SVC,
        &[("spec.taskDefinition.pidMode", "host")],
    ),
    (
        "fargate-unsupported",
        E,
        "spec.placementConstraints",
        SVC,
        &[("spec.placementConstraints", "[{type: distinctInstance}]")],
    ),
    (
        "fargate-unsupported",
        E,
        "spec.taskDefinition.volumes[0].host.sourcePath",
        SVC,
        &[(
            "spec.taskDefinition.volumes",
            "[{name: v, host: {sourcePath: /data}}]",
        )],
    ),
    (
        "launch-type",
        E,
        "spec.capacityProviderStrategy",
        SVC,
        &[(
            "spec.capacityProviderStrategy",
            "[{capacityProvider: FARGATE}]",
        )],
    ),
    (
        "deployment-controller",
        E,
        "spec.deploymentController.type",
        SVC,
        &[("spec.deploymentController", "{type: CODE_DEPLOY}")],
    ),
    (
        "daemon",
        E,
        "spec.desiredCount",
        SVC,
        &[
            ("spec.schedulingStrategy", "DAEMON"),
            ("spec.launchType", "EC2"),
            ("spec.taskDefinition.requiresCompatibilities", "[EC2]"),
        ],
    ),
    (
        "range",
        E,
        "spec.deploymentConfiguration.minimumHealthyPercent",
        SVC,
        &[("spec.deploymentConfiguration.minimumHealthyPercent", "150")],
    ),
    (
        "range",
        E,
        "spec.deploymentConfiguration.maximumPercent",
        SVC,
        &[("spec.deploymentConfiguration.maximumPercent", "50")],
    ),
    (
        "deployment-deadlock",
        E,
        "spec.deploymentConfiguration",
        SVC,
        &[
            ("spec.desiredCount", "1"),
            ("spec.deploymentConfiguration.maximumPercent", "100"),
        ],
    ),
    (
        "zero-capacity",
        W,
        "spec.deploymentConfiguration.minimumHealthyPercent",
        SVC,
        &[("spec.deploymentConfiguration.minimumHealthyPercent", "0")],
    ),
    (
        "circuit-breaker",
        W,
        "spec.deploymentConfiguration.deploymentCircuitBreaker",
        SVC,
        &[(
            "spec.deploymentConfiguration.deploymentCircuitBreaker",
            "{enable: false, rollback: false}",
        )],
    ),
    (
        "circuit-breaker",
        W,
        "spec.deploymentConfiguration.deploymentCircuitBreaker",
        SVC,
        &[("spec.deploymentConfiguration", "~")],
    ),
    (
        "containers",
        E,
        "spec.taskDefinition.containerDefinitions",
        SVC,
        &[
            ("spec.taskDefinition.containerDefinitions", "[]"),
            ("spec.loadBalancers", "~"),
        ],
    ),
    (
        "duplicate-container",
        E,
        "spec.taskDefinition.containerDefinitions[1].name",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[1]",
            "{name: api, image: 'side:1'}",
        )],
    ),
    (
        "image",
        E,
        "spec.taskDefinition.containerDefinitions[0].image",
        SVC,
        &[("spec.taskDefinition.containerDefinitions[0].image", "''")],
    ),
    (
        "image-tag",
        W,
        "spec.taskDefinition.containerDefinitions[0].image",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].image",
            "api:latest",
        )],
    ),
    (
        "image-tag",
        W,
        "spec.taskDefinition.containerDefinitions[0].image",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].image",
            "registry.local:5000/api",
        )],
    ),
    (
        "secret-in-environment",
        W,
        "spec.taskDefinition.containerDefinitions[0].environment[1]",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].environment.DB_PASSWORD",
            "hunter2",
        )],
    ),
    (
        "secret-in-environment",
        W,
        "spec.taskDefinition.containerDefinitions[0].environment[1]",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].environment.STRIPE_KEY",
            "x",
        )],
    ),
    (
        "container-memory",
        E,
        "spec.taskDefinition.containerDefinitions[0].memory",
        SVC,
        &[
            ("spec.launchType", "EC2"),
            ("spec.taskDefinition.cpu", "~"),
            ("spec.taskDefinition.memory", "~"),
        ],
    ),
    (
        "container-memory",
        E,
        "spec.taskDefinition.containerDefinitions[0].memoryReservation",
        SVC,
        &[
            ("spec.taskDefinition.containerDefinitions[0].memory", "128"),
            (
                "spec.taskDefinition.containerDefinitions[0].memoryReservation",
                "256",
            ),
        ],
    ),
    (
        "task-size",
        E,
        "spec.taskDefinition.memory",
        SVC,
        &[("spec.taskDefinition.containerDefinitions[0].memory", "1024")],
    ),
    (
        "task-size",
        E,
        "spec.taskDefinition.cpu",
        SVC,
        &[("spec.taskDefinition.containerDefinitions[0].cpu", "512")],
    ),
    (
        "port",
        E,
        "spec.taskDefinition.containerDefinitions[0].portMappings[1]",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].portMappings[1]",
            "{protocol: tcp}",
        )],
    ),
    (
        "range",
        E,
        "spec.taskDefinition.containerDefinitions[0].portMappings[0].containerPort",
        SVC,
        &[
            (
                "spec.taskDefinition.containerDefinitions[0].portMappings[0].containerPort",
                "70000",
            ),
            ("spec.loadBalancers", "~"),
        ],
    ),
    (
        "host-port",
        E,
        "spec.taskDefinition.containerDefinitions[0].portMappings[0].hostPort",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].portMappings[0].hostPort",
            "80",
        )],
    ),
    (
        "container-ref",
        E,
        "spec.taskDefinition.containerDefinitions[0].dependsOn[0].containerName",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].dependsOn",
            "[{containerName: db, condition: HEALTHY}]",
        )],
    ),
    (
        "container-ref",
        E,
        "spec.taskDefinition.containerDefinitions[0].volumesFrom[0].sourceContainer",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].volumesFrom",
            "[{sourceContainer: db}]",
        )],
    ),
    (
        "volume-ref",
        E,
        "spec.taskDefinition.containerDefinitions[0].mountPoints[0].sourceVolume",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].mountPoints",
            "[{sourceVolume: data, containerPath: /data}]",
        )],
    ),
    (
        "essential",
        E,
        "spec.taskDefinition.containerDefinitions",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].essential",
            "false",
        )],
    ),
    (
        "range",
        E,
        "spec.taskDefinition.containerDefinitions[0].healthCheck.interval",
        SVC,
        &[(
            "spec.taskDefinition.containerDefinitions[0].healthCheck",
            "{command: [CMD, true], interval: 1}",
        )],
    ),
    (
        "range",
        E,
        "spec.taskDefinition.ephemeralStorage.sizeInGiB",
        SVC,
        &[("spec.taskDefinition.ephemeralStorage", "{sizeInGiB: 10}")],
    ),
    (
        "name",
        E,
        "spec.taskDefinition.family",
        SVC,
        &[("spec.taskDefinition.family", "'my family'")],
    ),
    (
        "name",
        E,
        "metadata.name",
        SVC,
        &[("metadata.name", "api.v2")],
    ),
    (
        "name",
        E,
        "spec.cluster",
        SVC,
        &[("spec.cluster", "'shop/eu'")],
    ),
    (
        "network-configuration",
        E,
        "spec.networkConfiguration",
        SVC,
        &[("spec.networkConfiguration", "~")],
    ),
    (
        "network-configuration",
        E,
        "spec.networkConfiguration.awsvpcConfiguration.subnets",
        SVC,
        &[(
            "spec.networkConfiguration.awsvpcConfiguration.subnets",
            "[]",
        )],
    ),
    (
        "network-configuration",
        E,
        "spec.networkConfiguration",
        SVC,
        &[
            ("spec.launchType", "EC2"),
            ("spec.taskDefinition.networkMode", "bridge"),
            ("spec.loadBalancers", "~"),
        ],
    ),
    (
        "load-balancer",
        E,
        "spec.loadBalancers[0]",
        SVC,
        &[(
            "spec.loadBalancers[0].targetGroupArn",
            "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1",
        )],
    ),
    (
        "target-group-ref",
        E,
        "spec.loadBalancers[0].targetGroup",
        SVC,
        &[("spec.loadBalancers[0].targetGroup", "shop-nope")],
    ),
    (
        "target-group-ref",
        E,
        "spec.loadBalancers[0].targetGroupArn",
        SVC,
        &[
            ("spec.loadBalancers[0].targetGroup", "~"),
            ("spec.loadBalancers[0].targetGroupArn", "shop-api"),
        ],
    ),
    (
        "load-balancer-container",
        E,
        "spec.loadBalancers[0].containerName",
        SVC,
        &[("spec.loadBalancers[0].containerName", "web")],
    ),
    (
        "load-balancer-port",
        E,
        "spec.loadBalancers[0].containerPort",
        SVC,
        &[("spec.loadBalancers[0].containerPort", "8080")],
    ),
    (
        "target-type",
        E,
        "spec.loadBalancers[0].targetGroup",
        TG,
        &[("spec.targetType", "instance")],
    ),
    (
        "annotation",
        E,
        "metadata.annotations.ecs-operator/suspend",
        SVC,
        &[("metadata.annotations", "{ecs-operator/suspend: 'yes'}")],
    ),
    (
        "annotation",
        W,
        "metadata.annotations.ecs-operator/suspended",
        SVC,
        &[("metadata.annotations", "{ecs-operator/suspended: 'true'}")],
    ),
    (
        "name",
        E,
        "metadata.name",
        TG,
        &[("metadata.name", "shop-api-target-group-for-production")],
    ),
    (
        "name",
        E,
        "metadata.name",
        TG,
        &[("metadata.name", "-shop-api")],
    ),
    ("required", E, "spec.vpcId", TG, &[("spec.vpcId", "~")]),
    ("range", E, "spec.port", TG, &[("spec.port", "0")]),
    (
        "protocol-version",
        E,
        "spec.protocolVersion",
        TG,
        &[
            ("spec.protocol", "TCP"),
            ("spec.protocolVersion", "HTTP2"),
            ("spec.healthCheck", "~"),
        ],
    ),
    (
        "range",
        E,
        "spec.healthCheck.timeoutSeconds",
        TG,
        &[("spec.healthCheck.timeoutSeconds", "20")],
    ),
    (
        "range",
        E,
        "spec.healthCheck.healthyThresholdCount",
        TG,
        &[("spec.healthCheck.healthyThresholdCount", "11")],
    ),
    (
        "health-check-path",
        E,
        "spec.healthCheck.path",
        TG,
        &[("spec.healthCheck.path", "health")],
    ),
    (
        "cluster-setting",
        E,
        "spec.settings[0]",
        CLUSTER,
        &[("spec.settings", "{containerInsights: on}")],
    ),
    (
        "cluster-setting",
        E,
        "spec.settings[0]",
        CLUSTER,
        &[("spec.settings", "{containerInsight: enabled}")],
    ),
    (
        "capacity-provider",
        E,
        "spec.defaultCapacityProviderStrategy[0].capacityProvider",
        CLUSTER,
        &[(
            "spec.defaultCapacityProviderStrategy",
            "[{capacityProvider: FARGATE_SPOT}]",
        )],
    ),
];

#[test]
fn the_base_set_is_clean() {
    let loaded = load_str(Path::new("base.yaml"), BASE);
    assert_eq!(loaded.documents.len(), 3);
    let diags = validate(&loaded);
    assert!(diags.is_empty(), "{diags:#?}");
}

#[test]
fn a_named_revision_is_clean_in_each_form_ecs_reads() {
    // Its containers are not known here: the load balancer's container is not looked for.
    for name in [
        "api:3",
        "api",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3",
    ] {
        let mut docs = base_docs();
        set(&mut docs[SVC], "spec.taskDefinition", &format!("'{name}'"));
        let loaded = load_str(Path::new("case.yaml"), &render(&docs));
        let diags = validate(&loaded);
        assert!(diags.is_empty(), "{name}: {diags:#?}");
        let spec = loaded.documents[SVC].manifest.as_service().unwrap();
        assert_eq!(spec.task_definition.registered.as_deref(), Some(name));
        assert_eq!(spec.task_definition.registered_family(), Some("api"));
        // It prints (and hashes) as the name, never as an empty definition.
        let back = serde_json::to_value(spec).unwrap();
        assert_eq!(back["taskDefinition"], serde_json::json!(name));
    }
}

#[test]
fn each_rule_fires_on_its_mutation() {
    let mut failures = Vec::new();
    for (n, (rule, severity, path, doc, edits)) in ROWS.iter().enumerate() {
        let mut docs = base_docs();
        for (p, v) in *edits {
            set(&mut docs[*doc], p, v);
        }
        let text = render(&docs);
        let loaded = load_str(Path::new("case.yaml"), &text);
        let diags = validate(&loaded);
        let hit = diags
            .iter()
            .any(|d| d.rule == *rule && d.severity == *severity && d.path.to_string() == *path);
        if !hit {
            failures.push(format!(
                "row {n} ({rule} at {path}) not reported; got:\n{}",
                diags
                    .iter()
                    .map(|d| format!("  {d}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        // A finding's line must point into its document, at the field or its written parent.
        for d in &diags {
            assert!(d.line > 0, "row {n}: {d} has no line");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cross_document_rules() {
    let mut docs = base_docs();
    // Same service name in another cluster: not a duplicate.
    let mut other = docs[SVC].clone();
    set(&mut other, "spec.cluster", "staging");
    docs.push(other);
    let diags = validate(&load_str(Path::new("x.yaml"), &render(&docs)));
    assert!(diags.is_empty(), "{diags:#?}");

    // Same name and cluster: duplicate, reported at the second.
    let mut docs = base_docs();
    docs.push(docs[SVC].clone());
    docs.push(docs[TG].clone());
    let diags = validate(&load_str(Path::new("x.yaml"), &render(&docs)));
    let dups: Vec<_> = diags.iter().filter(|d| d.rule == "duplicate").collect();
    assert_eq!(dups.len(), 2, "{diags:#?}");
    assert!(
        dups.iter()
            .all(|d| d.message.contains("already defined at x.yaml:"))
    );

    // Two services sharing a family with different containers.
    let mut docs = base_docs();
    let mut other = docs[SVC].clone();
    set(&mut other, "metadata.name", "worker");
    set(&mut other, "spec.taskDefinition.family", "api");
    set(
        &mut other,
        "spec.taskDefinition.containerDefinitions[0].image",
        "api:2.0.0",
    );
    docs.push(other);
    let diags = validate(&load_str(Path::new("x.yaml"), &render(&docs)));
    assert!(
        diags.iter().any(|d| d.rule == "family-conflict"),
        "{diags:#?}"
    );
}

#[test]
fn a_broken_target_group_does_not_also_make_its_service_fail_validation() {
    let mut docs = base_docs();
    set(&mut docs[TG], "spec.port", "eighty");
    let loaded = load_str(Path::new("x.yaml"), &render(&docs));
    assert_eq!(loaded.failed.len(), 1);
    let diags = validate(&loaded);
    assert_eq!(
        diags.iter().filter(|d| d.is_error()).count(),
        1,
        "{diags:#?}"
    );
}

#[test]
fn secret_values_never_appear_in_findings() {
    let mut docs = base_docs();
    set(
        &mut docs[SVC],
        "spec.taskDefinition.containerDefinitions[0].environment.DB_PASSWORD",
        "hunter2-very-secret",
    );
    let diags = validate(&load_str(Path::new("x.yaml"), &render(&docs)));
    assert!(!diags.is_empty());
    for d in diags {
        assert!(!d.to_string().contains("hunter2"), "{d}");
    }
}
