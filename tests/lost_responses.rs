//! A response lost after the call succeeded (the simulator acted, the caller saw a transient
//! error, as after a connection reset), for each mutating operation `apply` makes: applying
//! again until nothing is left to do ends with live state equal to the manifests and no
//! duplicate (one revision per content, one service, one target group), and a lost
//! RegisterTaskDefinition is found by the same apply instead of being registered again
//! (issue 16, "No duplicate revision").

use std::collections::BTreeMap;
use std::path::Path;

use ecs_operator::apply::apply;
use ecs_operator::cloud::sim::{Fault, Sim, SimConfig};
use ecs_operator::manifest::{Document, load_str, validate};
use ecs_operator::observe::Observer;
use ecs_operator::plan::Status;
use ecs_operator::planner::plan_all;

const INSTANCE: &str = "test-operator";

/// The manifests at `version` 1 (created from empty) or 2 (every kind of change on them).
fn manifests(version: u32) -> Vec<Document> {
    let (insights, providers, hc_path, delay, tg_tag, image, svc_tag) = match version {
        1 => (
            "enabled",
            "[FARGATE]",
            "/health",
            "30",
            "team: shop",
            "api:1",
            "team: shop",
        ),
        _ => (
            "disabled",
            "[FARGATE, FARGATE_SPOT]",
            "/ready",
            "10",
            "owner: web",
            "api:2",
            "owner: web",
        ),
    };
    let text = format!(
        r#"apiVersion: ecs-operator/v1
kind: Cluster
metadata:
  name: shop
spec:
  settings:
    containerInsights: {insights}
  capacityProviders: {providers}
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata:
  name: shop-api
spec:
  protocol: HTTP
  port: 8000
  vpcId: vpc-1
  targetType: ip
  healthCheck:
    path: {hc_path}
  attributes:
    deregistration_delay.timeout_seconds: "{delay}"
  tags:
    {tg_tag}
---
apiVersion: ecs-operator/v1
kind: Service
metadata:
  name: api
spec:
  cluster: shop
  desiredCount: 1
  launchType: FARGATE
  deploymentConfiguration:
    deploymentCircuitBreaker: {{enable: true, rollback: true}}
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-1]
  loadBalancers:
    - {{targetGroup: shop-api, containerName: app, containerPort: 8000}}
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions:
      - name: app
        image: {image}
        portMappings:
          - containerPort: 8000
  tags:
    {svc_tag}
"#
    );
    let loaded = load_str(Path::new("shop.yaml"), &text);
    assert!(loaded.failed.is_empty(), "{:?}", loaded.diagnostics);
    let findings = validate(&loaded);
    assert!(findings.is_empty(), "{findings:?}");
    loaded.documents
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// One `apply` in a new process (a new observer); the number of resources that failed.
async fn apply_once(sim: &Sim, docs: &[Document]) -> usize {
    let observer = Observer::new(sim.cloud());
    let (plans, arns) = plan_all(&observer, docs, INSTANCE).await.expect("plan");
    let applied = apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await;
    applied.iter().filter(|a| a.error.is_some()).count()
}

async fn in_sync(sim: &Sim, docs: &[Document]) -> bool {
    let observer = Observer::new(sim.cloud());
    let (plans, _) = plan_all(&observer, docs, INSTANCE).await.expect("plan");
    plans.iter().all(|p| p.status == Status::InSync)
}

/// Applies until in sync (at most 4 times); returns how many applies it took.
async fn converge(sim: &Sim, docs: &[Document]) -> usize {
    for n in 1..=4 {
        apply_once(sim, docs).await;
        if in_sync(sim, docs).await {
            return n;
        }
    }
    panic!("not in sync after 4 applies");
}

/// What must never be duplicated: (active revisions of the family, services of the cluster,
/// target groups of the account).
async fn counts(sim: &Sim) -> (usize, usize, usize) {
    let cloud = sim.cloud();
    let revisions = cloud.ecs.list_task_definitions("api", None).await.unwrap();
    let services = cloud.ecs.list_services("shop", None).await.unwrap();
    let groups = cloud
        .elbv2
        .describe_target_groups_page(None, 400)
        .await
        .unwrap();
    (
        revisions.items.len(),
        services.items.len(),
        groups.items.len(),
    )
}

/// The revisions of the family with the same content: none may share one.
async fn distinct_contents(sim: &Sim) -> bool {
    let cloud = sim.cloud();
    let arns = cloud.ecs.list_task_definitions("api", None).await.unwrap();
    let mut seen = BTreeMap::new();
    for arn in &arns.items {
        let r = cloud.ecs.describe_task_definition(arn).await.unwrap();
        let image = r.definition.container_definitions[0].image.clone();
        if seen.insert(image, arn.clone()).is_some() {
            return false;
        }
    }
    true
}

/// Every mutating operation `apply` makes for these manifests, with the version whose apply
/// makes it (1: from empty; 2: from version 1). RemoveTags and UntagResource are not here: a
/// tag key that leaves the manifest stays live (tags others add are left alone), so `apply`
/// removes only stale `ecs-operator/` tags, which these manifests never leave behind.
const TABLE: &[(&str, u32)] = &[
    ("CreateCluster", 1),
    ("CreateTargetGroup", 1),
    ("ModifyTargetGroupAttributes", 1),
    ("RegisterTaskDefinition", 1),
    ("CreateService", 1),
    ("UpdateCluster", 2),
    ("PutClusterCapacityProviders", 2),
    ("ModifyTargetGroup", 2),
    ("ModifyTargetGroupAttributes", 2),
    ("AddTags", 2),
    ("RegisterTaskDefinition", 2),
    ("UpdateService", 2),
    ("TagResource", 2),
];

#[test]
fn a_lost_answer_of_each_mutating_operation_ends_in_sync_with_no_duplicate() {
    for &(operation, version) in TABLE {
        runtime().block_on(async {
            let sim = Sim::new(SimConfig {
                throttling: false,
                ..SimConfig::default()
            });
            if version == 2 {
                assert_eq!(converge(&sim, &manifests(1)).await, 1);
            }
            let calls_before = sim.calls().get(operation).copied().unwrap_or(0);
            sim.inject(operation, Fault::LoseAnswer(1));
            let applies = converge(&sim, &manifests(version)).await;
            let made = sim.calls().get(operation).copied().unwrap_or(0) - calls_before;
            assert!(made >= 1, "{operation} (v{version}) was never called");
            assert_eq!(
                counts(&sim).await,
                (version as usize, 1, 1),
                "{operation} (v{version}): revisions, services, target groups"
            );
            assert!(distinct_contents(&sim).await, "{operation} (v{version})");
            if operation == "RegisterTaskDefinition" {
                assert_eq!(
                    (applies, made),
                    (1, 1),
                    "{operation} (v{version}): found by the same apply, never registered again"
                );
            }
        });
    }
}

#[test]
fn a_registration_whose_answer_is_lost_twice_is_still_registered_once() {
    runtime().block_on(async {
        let sim = Sim::new(SimConfig {
            throttling: false,
            ..SimConfig::default()
        });
        sim.inject("RegisterTaskDefinition", Fault::LoseAnswer(2));
        assert_eq!(converge(&sim, &manifests(1)).await, 1);
        assert_eq!(counts(&sim).await, (1, 1, 1));
        assert_eq!(sim.calls().get("RegisterTaskDefinition"), Some(&1));
    });
}

#[test]
fn a_registration_that_failed_before_reaching_aws_is_tried_again() {
    use ecs_operator::cloud::ErrorKind;
    runtime().block_on(async {
        let sim = Sim::new(SimConfig {
            throttling: false,
            ..SimConfig::default()
        });
        sim.inject(
            "RegisterTaskDefinition",
            Fault::FailNext(1, ErrorKind::Transient),
        );
        assert_eq!(apply_once(&sim, &manifests(1)).await, 0, "one apply");
        assert_eq!(counts(&sim).await, (1, 1, 1));
        assert_eq!(
            sim.calls().get("RegisterTaskDefinition"),
            Some(&2),
            "the failed call and the retry"
        );
    });
}
