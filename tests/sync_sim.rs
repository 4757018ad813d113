//! diff/apply against the simulator: for generated valid manifests, apply then diff is empty
//! and a second apply makes no mutating call; and one diff pass reads live state in the fewest
//! calls the batch sizes allow.

use std::collections::BTreeMap;
use std::path::Path;

use ecs_operator::apply::apply;
use ecs_operator::cloud::MAX_TARGET_GROUP_PAGE;
use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::manifest::{Document, load_str, validate};
use ecs_operator::observe::{Observer, PAGE_FROM_NAMES};
use ecs_operator::plan::Status;
use ecs_operator::planner::plan_all;
use proptest::prelude::*;

const INSTANCE: &str = "test-operator";

/// The target group attribute the cases change by hand.
const DELAY: &str = "deregistration_delay.timeout_seconds";

/// Calls that change something (AWS operation names).
fn is_mutating(op: &str) -> bool {
    [
        "Create",
        "Update",
        "Put",
        "Tag",
        "Untag",
        "Register",
        "Deregister",
        "Delete",
        "Modify",
        "AddTags",
        "RemoveTags",
    ]
    .iter()
    .any(|p| op.starts_with(p))
}

fn mutating_calls(sim: &Sim) -> u64 {
    sim.calls()
        .iter()
        .filter(|(op, _)| is_mutating(op))
        .map(|(_, n)| n)
        .sum()
}

fn sim() -> Sim {
    Sim::new(SimConfig {
        // Throttling is the rate limiter's business; here every call must go through.
        throttling: false,
        ..SimConfig::default()
    })
}

/// One generated service and its target group.
#[derive(Debug, Clone)]
struct Gen {
    cluster: usize,
    desired: Option<u32>,
    size: usize,
    env: Vec<(String, String)>,
    port: u32,
    load_balancer: bool,
    breaker: bool,
    minor: u32,
    tags: Vec<(String, String)>,
}

const SIZES: &[(&str, &str)] = &[
    ("256", "512"),
    ("512", "1 GB"),
    ("1 vCPU", "2048"),
    ("2048", "4 GB"),
];

fn gen_strategy() -> impl Strategy<Value = Gen> {
    (
        0..2usize,
        proptest::option::of(0..4u32),
        0..SIZES.len(),
        proptest::collection::btree_map("[A-Z][A-Z_]{0,6}", "[a-z0-9]{0,8}", 0..4),
        1024..9000u32,
        any::<bool>(),
        any::<bool>(),
        0..5u32,
        proptest::collection::btree_map("[a-z]{1,6}", "[a-z0-9]{1,6}", 0..3),
    )
        .prop_map(
            |(cluster, desired, size, env, port, load_balancer, breaker, minor, tags)| Gen {
                cluster,
                desired,
                size,
                env: env
                    .into_iter()
                    .filter(|(k, _)| !k.contains("KEY"))
                    .collect(),
                port,
                load_balancer,
                breaker,
                minor,
                tags: tags.into_iter().collect(),
            },
        )
}

fn render(gens: &[Gen]) -> String {
    let clusters = gens.iter().map(|g| g.cluster).max().unwrap_or(0);
    let mut out = String::from(
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: c0}\nspec:\n  settings: {containerInsights: enabled}\n",
    );
    for c in 1..=clusters {
        out.push_str(&format!(
            "---\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {{name: c{c}}}\nspec: {{}}\n"
        ));
    }
    for (i, g) in gens.iter().enumerate() {
        let (cpu, memory) = SIZES[g.size];
        if g.load_balancer {
            out.push_str(&format!(
                "---\napiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {{name: tg-{i}}}\nspec:\n  protocol: HTTP\n  port: {port}\n  vpcId: vpc-1\n  targetType: ip\n  healthCheck: {{path: /health, intervalSeconds: 15}}\n  attributes: {{deregistration_delay.timeout_seconds: '30'}}\n",
                port = g.port
            ));
        }
        out.push_str(&format!(
            "---\napiVersion: ecs-operator/v1\nkind: Service\nmetadata: {{name: svc-{i}}}\nspec:\n  cluster: c{cluster}\n",
            cluster = g.cluster
        ));
        if let Some(d) = g.desired {
            out.push_str(&format!("  desiredCount: {d}\n"));
        }
        out.push_str(&format!(
            "  launchType: FARGATE\n  taskDefinition:\n    cpu: '{cpu}'\n    memory: '{memory}'\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: 'app-{i}:1.{minor}.0'\n        portMappings: [{{containerPort: {port}}}]\n",
            minor = g.minor,
            port = g.port
        ));
        if !g.env.is_empty() {
            out.push_str("        environment:\n");
            for (k, v) in &g.env {
                out.push_str(&format!("          {k}: '{v}'\n"));
            }
        }
        out.push_str("  networkConfiguration:\n    awsvpcConfiguration: {subnets: [subnet-b, subnet-a], securityGroups: [sg-1]}\n");
        out.push_str(&format!(
            "  deploymentConfiguration:\n    deploymentCircuitBreaker: {{enable: {b}, rollback: {b}}}\n",
            b = g.breaker
        ));
        if g.load_balancer {
            out.push_str(&format!(
                "  loadBalancers:\n    - {{targetGroup: tg-{i}, containerName: app, containerPort: {port}}}\n",
                port = g.port
            ));
        }
        if !g.tags.is_empty() {
            out.push_str("  tags:\n");
            for (k, v) in &g.tags {
                out.push_str(&format!("    {k}: '{v}'\n"));
            }
        }
    }
    out
}

fn documents(text: &str) -> Vec<Document> {
    let loaded = load_str(Path::new("gen.yaml"), text);
    let errors: Vec<String> = validate(&loaded)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "generated manifests must be valid: {errors:#?}\n{text}"
    );
    loaded.documents
}

/// One apply pass in a fresh process (a new observer: no cached revisions).
async fn apply_once(sim: &Sim, docs: &[Document]) {
    let observer = Observer::new(sim.cloud());
    let (plans, arns) = plan_all(&observer, docs, INSTANCE).await.expect("plan");
    let applied = apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await;
    for a in applied {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn apply_then_diff_is_empty_and_a_second_apply_changes_nothing(gens in proptest::collection::vec(gen_strategy(), 1..6)) {
        let text = render(&gens);
        let docs = documents(&text);
        runtime().block_on(async {
            let sim = sim();
            apply_once(&sim, &docs).await;
            let observer = Observer::new(sim.cloud());
            let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
            for p in &plans {
                assert_eq!(p.status, Status::InSync, "{}: {:#?}\n{text}", p.key, p.changes);
            }
            let before = mutating_calls(&sim);
            apply_once(&sim, &docs).await;
            assert_eq!(mutating_calls(&sim), before, "a second apply must not call anything that mutates");
        });
    }
}

#[test]
fn a_changed_image_registers_one_revision_and_a_revert_reuses_the_old_one() {
    let gens = vec![Gen {
        cluster: 0,
        desired: Some(2),
        size: 0,
        env: vec![],
        port: 8000,
        load_balancer: true,
        breaker: true,
        minor: 1,
        tags: vec![],
    }];
    let v1 = documents(&render(&gens));
    let mut changed = gens.clone();
    changed[0].minor = 2;
    let v2 = documents(&render(&changed));
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &v1).await;
        apply_once(&sim, &v2).await;
        let registered = |s: &Sim| {
            s.calls()
                .get("RegisterTaskDefinition")
                .copied()
                .unwrap_or(0)
        };
        assert_eq!(registered(&sim), 2);
        apply_once(&sim, &v1).await; // git revert
        assert_eq!(
            registered(&sim),
            2,
            "the revert points the service at revision 1 again"
        );
        let d = sim
            .cloud()
            .ecs
            .describe_services("c0", &["svc-0".into()])
            .await
            .unwrap();
        assert!(
            d.found[0].task_definition.ends_with("svc-0:1"),
            "{}",
            d.found[0].task_definition
        );
    });
}

/// Read calls of one diff pass over `services` services (each with a target group) spread
/// over `clusters` clusters, against the minimum the batch sizes allow.
fn reads_of_one_diff(services: usize, clusters: usize) -> (u64, u64, BTreeMap<String, u64>) {
    let gens: Vec<Gen> = (0..services)
        .map(|i| Gen {
            cluster: i % clusters,
            desired: Some(1),
            size: 0,
            env: vec![],
            port: 8000,
            load_balancer: true,
            breaker: true,
            minor: 0,
            tags: vec![],
        })
        .collect();
    let docs = documents(&render(&gens));
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &docs).await;
        sim.reset_calls();
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        assert!(plans.iter().all(|p| p.status == Status::InSync));
        let calls = sim.calls();
        let total: u64 = calls.values().sum();
        assert_eq!(mutating_calls(&sim), 0);
        let s = services as u64;
        let per_cluster = services.div_ceil(clusters) as u64;
        // Target groups by 20 names, or from 400 names on by pages of 400; their tags by 20;
        // no attributes (each group's tag holds the hash of its manifest's attributes).
        let groups = if services >= PAGE_FROM_NAMES {
            s.div_ceil(MAX_TARGET_GROUP_PAGE as u64)
        } else {
            s.div_ceil(20)
        };
        let minimum = (clusters as u64) * per_cluster.div_ceil(10)
            + groups
            + s.div_ceil(20)
            + (clusters as u64).div_ceil(100);
        assert_eq!(calls.get("DescribeTargetGroupAttributes"), None);
        (total, minimum, calls)
    })
}

#[test]
fn one_diff_pass_reads_no_more_than_the_batch_sizes_require() {
    for (services, clusters) in [(3, 1), (45, 2), (399, 3), (400, 3), (1000, 1), (1000, 20)] {
        let (total, minimum, calls) = reads_of_one_diff(services, clusters);
        eprintln!(
            "{services} services + {services} target groups in {clusters} clusters: \
             {total} read calls (minimum {minimum}): {calls:?}"
        );
        assert_eq!(
            total, minimum,
            "{services} services in {clusters} clusters: {calls:?}"
        );
    }
}

#[test]
fn the_example_manifests_diff_in_the_minimum_reads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
    let loaded = ecs_operator::manifest::load_paths(&[dir]);
    assert!(loaded.is_complete());
    let docs = loaded.documents;
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &docs).await;
        sim.reset_calls();
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        assert!(
            plans.iter().all(|p| p.status == Status::InSync),
            "{plans:#?}"
        );
        let calls = sim.calls();
        let total: u64 = calls.values().sum();
        // 1 cluster, 2 services, 2 target groups: DescribeClusters 1, DescribeServices 1,
        // DescribeTargetGroups 1, DescribeTags 1 (no attributes: their tags match); api's
        // autoScaling: DescribeScalableTargets 1, DescribeScalingPolicies 1,
        // DescribeScheduledActions 1;
        // and 2 listener rules on one listener (issue 14): DescribeLoadBalancers 1 and
        // DescribeListeners 1 (once per process), DescribeRules 1, DescribeTags 1.
        eprintln!("example manifests: {total} read calls: {calls:?}");
        assert_eq!(total, 11, "{calls:?}");
    });
}

/// The ARN of the live target group `name`.
async fn group_arn(sim: &Sim, name: &str) -> String {
    let found = sim
        .cloud()
        .elbv2
        .describe_target_groups(&[name.to_string()])
        .await;
    found.unwrap().remove(0).arn
}

/// The live tags of the target group `arn`.
async fn group_tags(sim: &Sim, arn: &str) -> ecs_operator::cloud::model::Tags {
    let arns = [arn.to_string()];
    let mut all = sim.cloud().elbv2.describe_tags(&arns).await.unwrap();
    all.remove(arn).unwrap()
}

#[test]
fn an_attribute_changed_by_hand_is_trusted_away_unless_every_attribute_is_read() {
    let docs = documents(&render(&[simple(0, true)]));
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &docs).await;
        let cloud = sim.cloud();
        let arn = group_arn(&sim, "tg-0").await;
        let tags = group_tags(&sim, &arn).await;
        assert!(
            tags.contains_key(ecs_operator::plan::TAG_ATTRIBUTES_HASH),
            "{tags:?}"
        );
        // By hand: the deregistration delay the manifest sets to 30 s.
        let by_hand = [(DELAY.to_string(), "300".to_string())].into();
        let modify = cloud.elbv2.modify_target_group_attributes(&arn, &by_hand);
        modify.await.unwrap();
        sim.reset_calls();
        // The tag says the attributes are as the manifest sets them: not read.
        let (plans, _) = plan_all(&Observer::new(sim.cloud()), &docs, INSTANCE)
            .await
            .unwrap();
        assert!(plans.iter().all(|p| p.status == Status::InSync));
        assert_eq!(sim.calls().get("DescribeTargetGroupAttributes"), None);
        // `--read-attributes`: every group's attributes read, the change found.
        let observer = Observer::new(sim.cloud()).with_all_attributes();
        let (plans, arns) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        assert_eq!(sim.calls().get("DescribeTargetGroupAttributes"), Some(&1));
        let changed: Vec<String> = plans
            .iter()
            .filter(|p| p.status != Status::InSync)
            .flat_map(|p| p.changes.iter().map(|c| format!("{} {c}", p.key)))
            .collect();
        assert_eq!(
            changed,
            [r#"TargetGroup/tg-0 attributes["deregistration_delay.timeout_seconds"]: "300" -> "30""#]
        );
        let applied = apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await;
        assert!(applied.iter().all(|a| a.error.is_none()), "{applied:?}");
        let live = cloud
            .elbv2
            .describe_target_group_attributes(&arn)
            .await
            .unwrap();
        assert_eq!(live[DELAY], "30");
    });
}

#[test]
fn a_group_whose_attributes_failed_after_its_create_has_them_read_and_set_next_time() {
    let docs = documents(&render(&[simple(0, true)]));
    runtime().block_on(async {
        let sim = sim();
        sim.inject(
            "ModifyTargetGroupAttributes",
            ecs_operator::cloud::sim::Fault::FailNext(1, ecs_operator::cloud::ErrorKind::Invalid),
        );
        let observer = Observer::new(sim.cloud());
        let (plans, arns) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        let applied = apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await;
        let group = applied
            .iter()
            .find(|a| a.key.to_string() == "TargetGroup/tg-0");
        assert!(group.unwrap().error.is_some(), "{applied:?}");
        // The create's tag was taken back: the next plan reads the attributes and sets them.
        let cloud = sim.cloud();
        let arn = group_arn(&sim, "tg-0").await;
        let hash_tag = ecs_operator::plan::TAG_ATTRIBUTES_HASH;
        assert!(!group_tags(&sim, &arn).await.contains_key(hash_tag));
        sim.reset_calls();
        apply_once(&sim, &docs).await;
        assert_eq!(sim.calls().get("DescribeTargetGroupAttributes"), Some(&1));
        assert_eq!(sim.calls().get("ModifyTargetGroupAttributes"), Some(&1));
        assert!(group_tags(&sim, &arn).await.contains_key(hash_tag));
        let live = cloud.elbv2.describe_target_group_attributes(&arn).await;
        assert_eq!(live.unwrap()[DELAY], "30");
    });
}

fn simple(minor: u32, load_balancer: bool) -> Gen {
    Gen {
        cluster: 0,
        desired: Some(1),
        size: 0,
        env: vec![],
        port: 8000,
        load_balancer,
        breaker: true,
        minor,
        tags: vec![],
    }
}

#[test]
fn prune_deletes_only_owned_resources_no_manifest_names() {
    use ecs_operator::prune::{MaxPrune, plan_prune, prune};
    let all = vec![simple(0, true), simple(0, true), simple(0, false)];
    let docs = documents(&render(&all));
    // The manifests without svc-1 and tg-1 (render names them by position, so drop the last
    // generated service instead and rename: keep svc-0 and svc-1 with their groups).
    let fewer = documents(&render(&all[..2]));
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &docs).await;
        // A service someone else made in the same cluster: never pruned.
        let cloud = sim.cloud();
        let svc0 = cloud
            .ecs
            .describe_services("c0", &["svc-0".into()])
            .await
            .unwrap()
            .found
            .remove(0);
        cloud
            .ecs
            .create_service(&ecs_operator::cloud::model::CreateService {
                cluster: "c0".into(),
                name: "handmade".into(),
                task_definition: svc0.task_definition,
                network_configuration: svc0.network_configuration,
                desired_count: Some(0),
                client_token: "x".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let plan = plan_prune(&cloud, &fewer, INSTANCE, 5).await.unwrap();
        assert_eq!(plan.services, [("c0".to_string(), "svc-2".to_string())]);
        assert!(plan.target_groups.is_empty(), "svc-2 had no target group");
        assert_eq!(plan.owned, 5, "3 services and 2 target groups are ours");
        let lines = prune(&cloud, &plan, MaxPrune::Fraction(0.25))
            .await
            .unwrap();
        assert_eq!(
            lines,
            [
                "UpdateService c0/svc-2 (desiredCount 0)",
                "DeleteService c0/svc-2"
            ]
        );
        let d = cloud
            .ecs
            .describe_services("c0", &["svc-2".into(), "handmade".into()])
            .await
            .unwrap();
        let active: Vec<&str> = d
            .found
            .iter()
            .filter(|s| s.status == "ACTIVE")
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(active, ["handmade"]);
    });
}

#[test]
fn prune_refuses_to_delete_more_than_the_limit_and_deletes_nothing() {
    use ecs_operator::prune::{MaxPrune, PruneError, plan_prune, prune};
    let all: Vec<Gen> = (0..5).map(|_| simple(0, true)).collect();
    let docs = documents(&render(&all));
    let fewer = documents(&render(&all[..3]));
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &docs).await;
        let cloud = sim.cloud();
        let plan = plan_prune(&cloud, &fewer, INSTANCE, 5).await.unwrap();
        assert_eq!(plan.deletions(), 4, "2 services and their 2 target groups");
        sim.reset_calls();
        let err = prune(&cloud, &plan, MaxPrune::Fraction(0.1))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PruneError::TooMany {
                    would: 4,
                    limit: 1,
                    owned: 10,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(mutating_calls(&sim), 0);
        // With room for it, the services go first, then their now unused target groups.
        let lines = prune(&cloud, &plan, MaxPrune::Count(4)).await.unwrap();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("DeleteTargetGroup"))
                .count(),
            2,
            "{lines:?}"
        );
    });
}

#[test]
fn prune_keeps_the_newest_revisions_and_the_running_one() {
    use ecs_operator::prune::plan_prune;
    runtime().block_on(async {
        let sim = sim();
        for minor in 0..4 {
            apply_once(&sim, &documents(&render(&[simple(minor, false)]))).await;
        }
        let docs = documents(&render(&[simple(3, false)]));
        let plan = plan_prune(&sim.cloud(), &docs, INSTANCE, 2).await.unwrap();
        let revs: Vec<&str> = plan
            .revisions
            .iter()
            .map(|a| a.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            revs,
            ["svc-0:1", "svc-0:2"],
            "4 revisions, keep 2 newest (3, 4; 4 runs)"
        );
    });
}

#[test]
fn prune_keeps_a_rollback_target_revision() {
    use ecs_operator::plan::TAG_LAST_COMPLETED;
    use ecs_operator::prune::plan_prune;
    runtime().block_on(async {
        let sim = sim();
        for minor in 0..4 {
            apply_once(&sim, &documents(&render(&[simple(minor, false)]))).await;
        }
        let docs = documents(&render(&[simple(3, false)]));
        let cloud = sim.cloud();
        let before = plan_prune(&cloud, &docs, INSTANCE, 2).await.unwrap();
        let oldest = before.revisions[0].clone();
        // The controller remembered the oldest revision as the rollback target.
        let spec = docs[1].manifest.as_service().unwrap();
        let live = cloud
            .ecs
            .describe_services(&spec.cluster, &["svc-0".to_string()])
            .await
            .unwrap()
            .found
            .remove(0);
        let tags = [(TAG_LAST_COMPLETED.to_string(), oldest.clone())].into();
        cloud.ecs.tag_resource(&live.arn, &tags).await.unwrap();
        for keep in [2, 0] {
            let plan = plan_prune(&cloud, &docs, INSTANCE, keep).await.unwrap();
            assert!(
                !plan.revisions.contains(&oldest),
                "--keep-revisions {keep}: {:?}",
                plan.revisions
            );
            assert!(!plan.revisions.contains(&live.task_definition));
        }
    });
}

#[test]
fn a_service_the_operator_may_not_touch_costs_no_task_definition_read() {
    let docs = documents(&render(&[simple(0, false)]));
    runtime().block_on(async {
        let sim = sim();
        let cloud = sim.cloud();
        // Someone else's service of the same name, made before the operator ever ran.
        apply_once(&sim, &docs[..1]).await; // the cluster only
        let td = cloud
            .ecs
            .register_task_definition(
                &ecs_operator::kind::task_definition::desired_task_definition(
                    "svc-0",
                    docs[1].manifest.as_service().unwrap(),
                ),
                &Default::default(),
            )
            .await
            .unwrap();
        let spec = docs[1].manifest.as_service().unwrap();
        cloud
            .ecs
            .create_service(&ecs_operator::cloud::model::CreateService {
                cluster: "c0".into(),
                name: "svc-0".into(),
                task_definition: td.arn,
                network_configuration: spec.network_configuration.clone(),
                client_token: "theirs".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        sim.reset_calls();
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        let svc = plans.iter().find(|p| p.key.name == "svc-0").unwrap();
        assert_eq!(svc.status, Status::Blocked);
        let calls = sim.calls();
        assert!(
            !calls.contains_key("DescribeTaskDefinition")
                && !calls.contains_key("ListTaskDefinitions"),
            "{calls:?}"
        );
    });
}

#[test]
fn non_http_target_groups_converge_with_elbv2_defaults_left_out() {
    // A TCP group checked over HTTP (ELBv2 fills matcher 200-399 and timeout 10), a plain TCP
    // group, and a gRPC group (path /AWS.ALB/healthcheck, gRPC code 12): none names those
    // defaults, and none may show drift after an apply.
    let text = "\
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: tcp-http-check}
spec:
  protocol: TCP
  port: 8000
  vpcId: vpc-1
  targetType: ip
  healthCheck: {protocol: HTTP, path: /health}
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: tcp-plain}
spec: {protocol: TCP, port: 9000, vpcId: vpc-1, targetType: ip}
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: grpc}
spec: {protocol: HTTP, protocolVersion: GRPC, port: 50051, vpcId: vpc-1, targetType: ip}
";
    let docs = documents(text);
    runtime().block_on(async {
        let sim = sim();
        apply_once(&sim, &docs).await;
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        for p in &plans {
            assert_eq!(p.status, Status::InSync, "{}: {:#?}", p.key, p.changes);
        }
        let before = mutating_calls(&sim);
        apply_once(&sim, &docs).await;
        assert_eq!(mutating_calls(&sim), before);
    });
}

/// CreateService JSON pasted as `spec`: `serviceName`, `cluster` and a `taskDefinition` that
/// names a revision some other tool registered.
fn pasted_create_service(task_definition: &str) -> Vec<Document> {
    documents(&format!(
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {{name: c0}}\nspec: {{}}\n---\n\
         apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {{name: front}}\nspec: {{\
         \"serviceName\": \"front\", \"cluster\": \"c0\", \"taskDefinition\": \"{task_definition}\", \
         \"desiredCount\": 1, \"launchType\": \"EC2\"}}\n"
    ))
}

#[test]
fn a_service_naming_a_registered_revision_runs_it_and_registers_none() {
    use ecs_operator::cloud::model::Tags;
    use ecs_operator::manifest::task_definition::{ContainerDefinition, TaskDefinition};
    runtime().block_on(async {
        let sim = sim();
        let cloud = sim.cloud();
        for image in ["web:1.0", "web:2.0"] {
            let td = TaskDefinition {
                family: Some("web".into()),
                container_definitions: vec![ContainerDefinition {
                    name: "web".into(),
                    image: image.into(),
                    memory: Some(256),
                    ..ContainerDefinition::default()
                }],
                ..TaskDefinition::default()
            };
            cloud
                .ecs
                .register_task_definition(&td, &Tags::new())
                .await
                .unwrap();
        }
        let registered = |s: &Sim| s.calls().get("RegisterTaskDefinition").copied();
        let running = || async {
            let d = cloud
                .ecs
                .describe_services("c0", &["front".into()])
                .await
                .unwrap();
            d.found[0].task_definition.clone()
        };

        let pinned = pasted_create_service("web:1");
        apply_once(&sim, &pinned).await;
        assert!(running().await.ends_with("task-definition/web:1"));
        assert_eq!(registered(&sim), Some(2), "the operator registers nothing");
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &pinned, INSTANCE).await.unwrap();
        assert!(
            plans.iter().all(|p| p.status == Status::InSync),
            "{plans:#?}"
        );
        // `family:revision` never changes: a second plan of this process reads it from the
        // cache, by its ARN.
        let described = |s: &Sim| s.calls().get("DescribeTaskDefinition").copied();
        let before = described(&sim);
        plan_all(&observer, &pinned, INSTANCE).await.unwrap();
        assert_eq!(described(&sim), before);

        // A bare family is its latest ACTIVE revision, as CreateService reads it.
        let latest = pasted_create_service("web");
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &latest, INSTANCE).await.unwrap();
        let front = plans.iter().find(|p| p.key.name == "front").unwrap();
        assert_eq!(front.status, Status::Update);
        let change = front
            .changes
            .iter()
            .find(|c| c.path.to_string() == "taskDefinition")
            .unwrap_or_else(|| panic!("the revision change is shown: {:?}", front.changes));
        assert!(
            change.new.as_ref().unwrap().to_string().contains("web:2"),
            "{change:?}"
        );
        apply_once(&sim, &latest).await;
        assert!(running().await.ends_with("task-definition/web:2"));
        assert_eq!(registered(&sim), Some(2));
        let (plans, _) = plan_all(&Observer::new(sim.cloud()), &latest, INSTANCE)
            .await
            .unwrap();
        assert!(
            plans.iter().all(|p| p.status == Status::InSync),
            "{plans:#?}"
        );
    });
}
