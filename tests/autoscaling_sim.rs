//! A Service's `spec.autoScaling` on the simulator: apply then diff is clean and a second
//! apply changes nothing; one diff pass reads scaling in the fewest calls the page sizes allow
//! (the figures of BENCHMARKS.md); removing `autoScaling` deregisters the target; and the
//! controller on paused time, where the scaler moving `desiredCount` under load is neither
//! drift nor undone while a policy changed by hand is put back at the next resync.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ecs_operator::apply::apply;
use ecs_operator::cloud::model::scaling::{
    PolicyConfiguration, PutScalingPolicy, ScalingPolicy, resource_id,
};
use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::controller::reconcile::Events;
use ecs_operator::controller::run::{RunConfig, SourceConfig, run};
use ecs_operator::manifest::{Document, Kind, Loaded, load_str, validate};
use ecs_operator::metrics::{ReconcileResult, RolloutResult};
use ecs_operator::observe::Observer;
use ecs_operator::plan::Status;
use ecs_operator::planner::plan_all;
use ecs_operator::rollout::stop_reason::StopReason;
use tokio::sync::{mpsc, oneshot};

const INSTANCE: &str = "test-operator";

fn sim() -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    })
}

/// A cluster and `n` services `svc-<i>` with `auto` (YAML lines under `autoScaling:`, empty
/// for none).
fn manifests(n: usize, auto: &str) -> String {
    let mut out = String::from(
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\nspec: {}\n",
    );
    for i in 0..n {
        out.push_str(&format!(
            "---\napiVersion: ecs-operator/v1\nkind: Service\nmetadata: {{name: svc-{i}}}\nspec:\n  cluster: shop\n  desiredCount: 2\n  launchType: FARGATE\n  networkConfiguration:\n    awsvpcConfiguration: {{subnets: [subnet-1]}}\n  deploymentConfiguration:\n    deploymentCircuitBreaker: {{enable: true, rollback: true}}\n  taskDefinition:\n    cpu: '256'\n    memory: '512'\n    networkMode: awsvpc\n    containerDefinitions:\n      - {{name: app, image: 'app:1', portMappings: [{{containerPort: 8000}}]}}\n"
        ));
        if !auto.is_empty() {
            out.push_str("  autoScaling:\n");
            out.push_str(auto);
        }
    }
    out
}

const CPU: &str = "    minCapacity: 2\n    maxCapacity: 10\n    targetTracking:\n      - {predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 60, scaleInCooldown: 60, scaleOutCooldown: 60}\n";

fn documents(text: &str) -> Vec<Document> {
    let loaded = load_str(Path::new("gen.yaml"), text);
    let errors: Vec<String> = validate(&loaded)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    loaded.documents
}

async fn apply_once(sim: &Sim, docs: &[Document]) -> BTreeMap<String, u64> {
    sim.reset_calls();
    let observer = Observer::new(sim.cloud());
    let (plans, arns) = plan_all(&observer, docs, INSTANCE).await.expect("plan");
    for a in apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
    }
    sim.calls()
}

fn mutating(calls: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    calls
        .iter()
        .filter(|(op, _)| !op.starts_with("Describe") && !op.starts_with("List"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

async fn policies(sim: &Sim, service: &str) -> Vec<ScalingPolicy> {
    sim.cloud()
        .autoscaling
        .describe_scaling_policies(Some(&resource_id("shop", service)), None)
        .await
        .unwrap()
        .items
}

#[tokio::test(start_paused = true)]
async fn apply_then_diff_is_clean_and_a_second_apply_changes_nothing() {
    let sim = sim();
    let auto = format!(
        "{CPU}    scheduled:\n      - {{name: night, schedule: 'cron(0 20 * * ? *)', timezone: Europe/Paris, minCapacity: 2, maxCapacity: 4}}\n    stepScaling:\n      - {{adjustmentType: ChangeInCapacity, stepAdjustments: [{{metricIntervalLowerBound: 0, scalingAdjustment: 2}}]}}\n"
    );
    let docs = documents(&manifests(1, &auto));
    let first = apply_once(&sim, &docs).await;
    assert_eq!(first.get("RegisterScalableTarget"), Some(&1), "{first:?}");
    assert_eq!(first.get("PutScalingPolicy"), Some(&2), "{first:?}");
    assert_eq!(first.get("PutScheduledAction"), Some(&1), "{first:?}");
    let names: Vec<String> = policies(&sim, "svc-0")
        .await
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        names,
        ["ecs-operator-svc-0-cpu", "ecs-operator-svc-0-step-1"]
    );
    let second = apply_once(&sim, &docs).await;
    assert!(mutating(&second).is_empty(), "{second:?}");
}

#[tokio::test(start_paused = true)]
async fn removing_auto_scaling_deregisters_the_target_and_a_foreign_one_is_left_alone() {
    let sim = sim();
    apply_once(&sim, &documents(&manifests(2, CPU))).await;
    // svc-1's scaling is someone else's: registered by hand on a service without the tag.
    let plain = documents(&manifests(2, ""));
    let calls = apply_once(&sim, &plain).await;
    assert_eq!(calls.get("DeregisterScalableTarget"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("UntagResource"), Some(&2), "{calls:?}");
    let targets = sim
        .cloud()
        .autoscaling
        .describe_scalable_targets(&[resource_id("shop", "svc-0")], None)
        .await
        .unwrap();
    assert!(targets.items.is_empty());
    // Now a target someone registers by hand is not the operator's: no tag, left alone.
    sim.cloud()
        .autoscaling
        .register_scalable_target(
            &ecs_operator::cloud::model::scaling::RegisterScalableTarget {
                resource_id: resource_id("shop", "svc-1"),
                min_capacity: 1,
                max_capacity: 3,
                suspended_state: None,
            },
        )
        .await
        .unwrap();
    let calls = apply_once(&sim, &plain).await;
    assert!(mutating(&calls).is_empty(), "{calls:?}");
}

/// Read calls of one diff pass over `n` services with target tracking, against the minimum:
/// the services' own reads (1 DescribeClusters, ceil(n/10) DescribeServices) plus
/// ceil(n/50) DescribeScalableTargets, ceil(n/10) DescribeScalingPolicies (one policy each)
/// and 1 DescribeScheduledActions (none declared; one read to know).
fn reads_of_one_diff(n: usize) -> (u64, u64, BTreeMap<String, u64>) {
    let docs = documents(&manifests(n, CPU));
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            let sim = sim();
            apply_once(&sim, &docs).await;
            sim.reset_calls();
            let observer = Observer::new(sim.cloud());
            let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
            assert!(
                plans.iter().all(|p| p.status == Status::InSync),
                "{:#?}",
                plans[1]
            );
            let calls = sim.calls();
            assert!(mutating(&calls).is_empty());
            let total: u64 = calls.values().sum();
            let n = n as u64;
            let minimum = 1 + n.div_ceil(10) + n.div_ceil(50) + n.div_ceil(10) + 1;
            (total, minimum, calls)
        })
}

#[test]
fn a_diff_pass_reads_scaling_in_the_fewest_pages() {
    for n in [1, 100, 1000] {
        let (total, minimum, calls) = reads_of_one_diff(n);
        eprintln!(
            "{n} services with target tracking: {total} read calls (minimum {minimum}, ratio {:.3}): {calls:?}",
            total as f64 / minimum as f64
        );
        assert!(
            total as f64 <= 1.1 * minimum as f64,
            "{n}: {total} > 1.1 x {minimum}: {calls:?}"
        );
    }
}

// ---- the controller ------------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    drift: AtomicU64,
}

impl Events for Counts {
    fn reconciled(&self, _kind: Kind, _result: ReconcileResult, _took: Duration) {}
    fn drift(&self, _kind: Kind) {
        self.drift.fetch_add(1, Ordering::SeqCst);
    }
    fn rollout_failure(&self, _reason: StopReason) {}
    fn rollout(
        &self,
        _result: RolloutResult,
        _strategy: ecs_operator::cloud::model::DeploymentStrategy,
    ) {
    }
}

async fn desired_count(sim: &Sim) -> u32 {
    sim.cloud()
        .ecs
        .describe_services("shop", &["svc-0".to_string()])
        .await
        .unwrap()
        .found[0]
        .desired_count
}

/// Advances virtual time a second at a time until the count is `want` (at most `limit`).
async fn until_count(sim: &Sim, want: u32, limit: Duration) {
    let start = tokio::time::Instant::now();
    while desired_count(sim).await != want {
        assert!(start.elapsed() < limit, "not {want} tasks after {limit:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_scaler_owns_desired_count_and_a_policy_changed_by_hand_is_put_back() {
    let sim = sim();
    let loaded: Loaded = load_str(Path::new("shop.yaml"), &manifests(1, CPU));
    let (feed, loads) = mpsc::channel(4);
    feed.send((loaded, Some("rev-1".into()))).await.unwrap();
    let mut config = RunConfig::new(SourceConfig::Feed {
        location: "test".into(),
        loads,
    });
    config.settings.instance = INSTANCE.into();
    config.queue.seed = Some(7);
    config.resync = Duration::from_secs(60);
    let counts = Arc::new(Counts::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel();
    let cloud = sim.cloud();
    let events = counts.clone();
    let task = tokio::spawn(async move {
        run(
            cloud,
            config,
            None,
            events,
            move |h| {
                let _ = handle_tx.send(h.clone());
            },
            async move {
                let _ = stopped.await;
            },
        )
        .await
    });
    let handle = handle_rx.await.expect("run started");
    let start = tokio::time::Instant::now();
    while !handle.controller.status().is_ready() || policies(&sim, "svc-0").await.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(300), "not converged");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(desired_count(&sim).await, 2);

    // Load of five tasks' worth at 60%: 300 / 60 = 5 tasks.
    sim.set_load("shop", "svc-0", Some(300.0));
    until_count(&sim, 5, Duration::from_secs(180)).await;
    sim.reset_calls();
    // Three resyncs later the scaler's count stands: not drift, no UpdateService.
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert_eq!(desired_count(&sim).await, 5, "not undone");
    let calls = sim.calls();
    assert_eq!(calls.get("UpdateService"), None, "{calls:?}");
    assert!(
        calls.get("DescribeScalableTargets").copied().unwrap_or(0) >= 3,
        "{calls:?}"
    );
    assert_eq!(counts.drift.load(Ordering::SeqCst), 0);
    let status = handle.controller.status().report().resources;
    let svc = status.iter().find(|s| s.name == "svc-0").unwrap();
    assert_eq!(
        svc.message.as_deref(),
        Some("auto scaling 2..10, 5 desired (cpu 60)"),
        "status shows the scaler's count"
    );

    // A policy changed by hand is drift, put back at the next resync.
    let cpu = policies(&sim, "svc-0").await.remove(0);
    let PolicyConfiguration::TargetTracking(mut c) = cpu.configuration.clone() else {
        panic!("{cpu:?}");
    };
    c.target_value = 90.0;
    sim.cloud()
        .autoscaling
        .put_scaling_policy(&PutScalingPolicy {
            name: cpu.name.clone(),
            resource_id: cpu.resource_id.clone(),
            configuration: PolicyConfiguration::TargetTracking(c),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(70)).await;
    let healed = policies(&sim, "svc-0").await.remove(0);
    assert_eq!(healed.configuration, cpu.configuration, "put back");
    assert_eq!(counts.drift.load(Ordering::SeqCst), 1);

    // Load gone: back to the minimum after the scale-in cooldown.
    sim.set_load("shop", "svc-0", Some(10.0));
    until_count(&sim, 2, Duration::from_secs(300)).await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn import_writes_each_services_scaling_and_a_diff_after_finds_no_scaling_change() {
    let sim = sim();
    let auto = format!(
        "{CPU}    scheduled:\n      - {{name: night, schedule: 'cron(0 20 * * ? *)', minCapacity: 2, maxCapacity: 4}}\n"
    );
    apply_once(&sim, &documents(&manifests(2, &auto))).await;
    // svc-1 loses its scaling by hand: imported without autoScaling, with its count.
    sim.cloud()
        .autoscaling
        .deregister_scalable_target(&resource_id("shop", "svc-1"))
        .await
        .unwrap();
    let request = ecs_operator::import::ImportRequest {
        cluster: "shop".into(),
        services: vec![],
        adopt: false,
    };
    let imported = ecs_operator::import::read(&sim.cloud(), &request)
        .await
        .expect("import");
    let dir = tempfile::tempdir().unwrap();
    ecs_operator::import::write(dir.path(), &imported, false).expect("write");
    let text = std::fs::read_to_string(dir.path().join("shop/svc-0.yaml")).unwrap();
    assert!(text.contains("autoScaling:"), "{text}");
    assert!(text.contains("ECSServiceAverageCPUUtilization"), "{text}");
    assert!(!text.contains("desiredCount"), "the scaler owns it: {text}");
    assert!(
        !text.contains("policyName"),
        "the derived name is left out: {text}"
    );
    let plain = std::fs::read_to_string(dir.path().join("shop/svc-1.yaml")).unwrap();
    assert!(!plain.contains("autoScaling"), "{plain}");
    assert!(plain.contains("desiredCount: 2"), "{plain}");
    let loaded = ecs_operator::manifest::load_paths(&[dir.path().to_path_buf()]);
    assert!(loaded.is_complete(), "{:?}", loaded.diagnostics);
    let observer = Observer::new(sim.cloud());
    let (plans, _) = plan_all(&observer, &loaded.documents, INSTANCE)
        .await
        .unwrap();
    let svc0 = plans.iter().find(|p| p.key.name == "svc-0").unwrap();
    let scaling: Vec<String> = svc0
        .changes
        .iter()
        .map(|c| c.path.to_string())
        .filter(|p| p.starts_with("autoScaling"))
        .collect();
    assert!(scaling.is_empty(), "{scaling:?}");
}

#[tokio::test(start_paused = true)]
async fn pruning_a_scaled_service_deregisters_its_target_first() {
    let sim = sim();
    apply_once(&sim, &documents(&manifests(2, CPU))).await;
    let fewer = documents(&manifests(1, CPU));
    let plan = ecs_operator::prune::plan_prune(&sim.cloud(), &fewer, INSTANCE, 5)
        .await
        .unwrap();
    assert_eq!(plan.services, [("shop".to_string(), "svc-1".to_string())]);
    assert_eq!(plan.scaled, plan.services);
    let done =
        ecs_operator::prune::prune(&sim.cloud(), &plan, ecs_operator::prune::MaxPrune::Count(1))
            .await
            .unwrap();
    assert_eq!(
        done[0], "DeregisterScalableTarget service/shop/svc-1",
        "{done:?}"
    );
    assert!(done[1].starts_with("UpdateService shop/svc-1"), "{done:?}");
    let left = sim
        .cloud()
        .autoscaling
        .describe_scalable_targets(
            &[resource_id("shop", "svc-0"), resource_id("shop", "svc-1")],
            None,
        )
        .await
        .unwrap()
        .items;
    let ids: Vec<&str> = left.iter().map(|t| t.resource_id.as_str()).collect();
    assert_eq!(
        ids,
        ["service/shop/svc-0"],
        "the kept service keeps its scaling"
    );
}

#[tokio::test(start_paused = true)]
async fn scaling_survives_the_state_file_and_a_diff_in_the_next_process_is_clean() {
    let sim = sim();
    let docs = documents(&manifests(1, CPU));
    apply_once(&sim, &docs).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    sim.save(&path).unwrap();
    let next = Sim::load(
        SimConfig {
            throttling: false,
            ..SimConfig::default()
        },
        &path,
    )
    .unwrap();
    assert_eq!(policies(&next, "svc-0").await.len(), 1);
    let calls = apply_once(&next, &docs).await;
    assert!(mutating(&calls).is_empty(), "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn alb_request_count_waits_for_its_target_group_to_have_a_load_balancer_then_takes_its_label()
{
    let sim = sim();
    let text = manifests(0, "")
        + "---\napiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {name: tg-api}\nspec: {protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: ip}\n---\n"
        + &manifests(1, "    minCapacity: 1\n    maxCapacity: 4\n    targetTracking:\n      - {predefinedMetric: ALBRequestCountPerTarget, targetValue: 500}\n")
            .split_once("---\n")
            .unwrap()
            .1
            .replace(
                "  networkConfiguration:",
                "  loadBalancers:\n    - {targetGroup: tg-api, containerName: app, containerPort: 8000}\n  networkConfiguration:",
            );
    let docs = documents(&text);
    let observer = Observer::new(sim.cloud());
    let (plans, arns) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
    for a in apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
    }
    // The service is created with its scalable target; the request count policy waits.
    let targets = sim
        .cloud()
        .autoscaling
        .describe_scalable_targets(&[resource_id("shop", "svc-0")], None)
        .await
        .unwrap()
        .items;
    assert_eq!(targets.len(), 1);
    // The simulator's target groups have no load balancer (no listener rules yet): blocked,
    // with the reason, and no policy written.
    let (plans, _) = plan_all(&Observer::new(sim.cloud()), &docs, INSTANCE)
        .await
        .unwrap();
    let svc = plans.iter().find(|p| p.key.name == "svc-0").unwrap();
    assert_eq!(svc.status, Status::Blocked, "{svc:?}");
    let reason = svc.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("not attached to a load balancer"),
        "{reason}"
    );
    assert!(policies(&sim, "svc-0").await.is_empty());

    // A listener rule forwarding to the group attaches it to the seeded ALB (as ELBv2 does):
    // the next pass writes the policy with the label of that load balancer and group.
    let rule = "---\napiVersion: ecs-operator/v1\nkind: ListenerRule\nmetadata: {name: api}\nspec:\n  listener: {loadBalancerName: shop-alb, port: 80}\n  priority: 10\n  conditions: [{Field: path-pattern, Values: ['/api/*']}]\n  actions: [{Type: forward, ForwardConfig: {TargetGroups: [{TargetGroupName: tg-api}]}}]\n";
    let docs = documents(&(text + rule));
    apply_once(&sim, &docs).await;
    apply_once(&sim, &docs).await;
    let written = policies(&sim, "svc-0").await;
    assert_eq!(written.len(), 1, "{written:?}");
    let label = format!("{:?}", written[0]);
    assert!(
        label.contains("app/shop-alb/") && label.contains("/targetgroup/tg-api/"),
        "{label}"
    );
    let (plans, _) = plan_all(&Observer::new(sim.cloud()), &docs, INSTANCE)
        .await
        .unwrap();
    assert!(
        plans.iter().all(|p| p.status == Status::InSync),
        "{plans:#?}"
    );
}

/// The simulated scaler alone: scale-out at the first evaluation, scale-in only after its
/// cooldown, never with disableScaleIn, and the bounds hold.
#[tokio::test(start_paused = true)]
async fn the_simulated_scaler_keeps_cooldowns_bounds_and_disable_scale_in() {
    use ecs_operator::cloud::model::scaling::{
        PredefinedMetricSpecification, RegisterScalableTarget, TargetTrackingConfiguration,
    };
    let sim = sim();
    apply_once(&sim, &documents(&manifests(1, ""))).await;
    let id = resource_id("shop", "svc-0");
    let api = sim.cloud().autoscaling;
    api.register_scalable_target(&RegisterScalableTarget {
        resource_id: id.clone(),
        min_capacity: 1,
        max_capacity: 6,
        suspended_state: None,
    })
    .await
    .unwrap();
    let policy = |disable_scale_in: bool| PutScalingPolicy {
        name: "cpu".into(),
        resource_id: id.clone(),
        configuration: PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
            target_value: 50.0,
            predefined_metric: Some(PredefinedMetricSpecification {
                predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
                resource_label: None,
            }),
            customized_metric: None,
            scale_in_cooldown: Some(600),
            scale_out_cooldown: Some(60),
            disable_scale_in: Some(disable_scale_in),
        }),
    };
    api.put_scaling_policy(&policy(false)).await.unwrap();
    // 1,000% at a 50% target wants 20 tasks: held at the maximum, 6.
    sim.set_load("shop", "svc-0", Some(1000.0));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(desired_count(&sim).await, 6);
    // Load gone: the scale-in cooldown counts from the last scale-in (none yet), so it goes
    // to the minimum at the next evaluation.
    sim.set_load("shop", "svc-0", Some(40.0));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(desired_count(&sim).await, 1);
    // Up again, then down within 600 s of that scale-in: held.
    sim.set_load("shop", "svc-0", Some(200.0));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(desired_count(&sim).await, 4);
    sim.set_load("shop", "svc-0", Some(40.0));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(desired_count(&sim).await, 4, "within the scale-in cooldown");
    tokio::time::advance(Duration::from_secs(600)).await;
    let _ = desired_count(&sim).await; // a call: the scaler evaluates
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(desired_count(&sim).await, 1, "after the cooldown");
    // With disableScaleIn the count never comes down.
    api.put_scaling_policy(&policy(true)).await.unwrap();
    sim.set_load("shop", "svc-0", Some(300.0));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(desired_count(&sim).await, 6);
    sim.set_load("shop", "svc-0", Some(0.0));
    for _ in 0..20 {
        tokio::time::advance(Duration::from_secs(61)).await;
        let _ = desired_count(&sim).await;
    }
    assert_eq!(desired_count(&sim).await, 6, "disableScaleIn");
}
