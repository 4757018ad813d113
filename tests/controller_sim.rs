//! (Over 600 lines: every scenario shares the one harness below.)
//!
//! The controller (`run`) against the simulator on paused tokio time: convergence and
//! readiness, a change reconciling only its resources, coalescing, a failing key backing off
//! while the others proceed, crash-loop rollback that is not retried, and drift healed at the
//! next resync, readiness waiting for a service whose cluster is slow to create, and a
//! resource AWS rejects for good (Stalled) that is not retried until its manifest changes, and
//! target group attributes changed by hand found by the attribute checks within their interval.
//! Waiting is done by advancing virtual time until a condition holds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_operator::cloud::ErrorKind;
use ecs_operator::cloud::model::{DeploymentStrategy, UpdateService};
use ecs_operator::cloud::sim::{Fault, Sim, SimConfig};
use ecs_operator::controller::reconcile::Events;
use ecs_operator::controller::run::{Handle, RunConfig, RunError, SourceConfig, run};
use ecs_operator::manifest::{Kind, Loaded, ResourceKey, load_str};
use ecs_operator::metrics::{ReconcileResult, RolloutResult};
use ecs_operator::rollout::stop_reason::StopReason;
use ecs_operator::status::{Health, ResourceStatus, SyncStatus};
use tokio::sync::{mpsc, oneshot};

const CLUSTER: &str =
    "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec: {}\n";

/// The target group attribute the cases change by hand.
const DELAY: &str = "deregistration_delay.timeout_seconds";

fn tg(name: &str) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata:\n  name: {name}\nspec:\n  protocol: HTTP\n  port: 8000\n  vpcId: vpc-1\n  targetType: ip\n"
    )
}

fn service(name: &str, image: &str, count: u32, target_group: Option<&str>) -> String {
    let lb = match target_group {
        Some(tg) => format!(
            "  loadBalancers:\n    - {{targetGroup: {tg}, containerName: app, containerPort: 8000}}\n"
        ),
        None => String::new(),
    };
    format!(
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  cluster: shop\n  desiredCount: {count}\n  launchType: FARGATE\n{lb}  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [subnet-1]\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: {image}\n        portMappings:\n          - containerPort: 8000\n"
    )
}

fn load(files: &[(&str, String)]) -> Loaded {
    let mut all = Loaded::default();
    for (name, text) in files {
        let one = load_str(Path::new(name), text);
        assert!(one.failed.is_empty(), "{name}: {:?}", one.diagnostics);
        all.files += one.files;
        all.documents.extend(one.documents);
        all.diagnostics.extend(one.diagnostics);
    }
    all
}

/// Counts what the controller reports.
#[derive(Default)]
struct Counts {
    reconciles: Mutex<BTreeMap<(Kind, String), u64>>,
    drift: AtomicU64,
    rollouts: Mutex<BTreeMap<&'static str, u64>>,
    /// By (result, strategy).
    strategies: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    failures: Mutex<BTreeMap<&'static str, u64>>,
    /// The last deployments-in-progress gauge, by stage.
    in_progress: Mutex<BTreeMap<String, i64>>,
}

impl Events for Counts {
    fn reconciled(&self, kind: Kind, result: ReconcileResult, _took: Duration) {
        *self
            .reconciles
            .lock()
            .unwrap()
            .entry((kind, format!("{result:?}")))
            .or_default() += 1;
    }
    fn drift(&self, _kind: Kind) {
        self.drift.fetch_add(1, Ordering::SeqCst);
    }
    fn rollout_failure(&self, reason: StopReason) {
        *self
            .failures
            .lock()
            .unwrap()
            .entry(reason.label())
            .or_default() += 1;
    }
    fn rollout(&self, result: RolloutResult, strategy: DeploymentStrategy) {
        *self
            .rollouts
            .lock()
            .unwrap()
            .entry(result.as_str())
            .or_default() += 1;
        *self
            .strategies
            .lock()
            .unwrap()
            .entry((result.as_str(), strategy.as_str()))
            .or_default() += 1;
    }
    fn deployments_in_progress(&self, by_stage: &BTreeMap<String, i64>) {
        *self.in_progress.lock().unwrap() = by_stage.clone();
    }
}

struct Harness {
    sim: Sim,
    feed: mpsc::Sender<(Loaded, Option<String>)>,
    handle: Handle,
    counts: Arc<Counts>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl Harness {
    async fn start(sim: Sim, first: Loaded, tweak: impl FnOnce(&mut RunConfig)) -> Harness {
        let (feed, loads) = mpsc::channel(16);
        feed.send((first, Some("rev-1".into()))).await.unwrap();
        let mut config = RunConfig::new(SourceConfig::Feed {
            location: "test".into(),
            loads,
        });
        config.settings.instance = "test-operator".into();
        config.queue.seed = Some(7);
        tweak(&mut config);
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
        Harness {
            sim,
            feed,
            handle,
            counts,
            stop: Some(stop),
            task,
        }
    }

    fn status(&self, key: &ResourceKey) -> Option<ResourceStatus> {
        self.handle.controller.status().get(key)
    }

    /// The revision the status board says a service runs.
    fn revision_of(&self, name: &str) -> String {
        self.status(&key(Kind::Service, name))
            .and_then(|s| s.task_definition)
            .unwrap_or_else(|| panic!("no revision for {name}"))
    }

    /// Loads `manifests` as a new source revision.
    async fn load(&self, manifests: Loaded, revision: &str) {
        self.feed
            .send((manifests, Some(revision.into())))
            .await
            .unwrap();
    }

    fn all(&self) -> Vec<ResourceStatus> {
        self.handle.controller.status().report().resources
    }

    /// Advances virtual time a second at a time until `done` holds (at most `limit`).
    async fn until(&self, limit: Duration, what: &str, done: impl Fn(&Harness) -> bool) {
        let start = tokio::time::Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < limit,
                "not {what} after {limit:?}: {:#?}",
                self.all()
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn converged(&self) {
        self.until(Duration::from_secs(300), "converged", |h| {
            h.handle.controller.status().is_ready()
                && h.all()
                    .iter()
                    .all(|s| s.sync == SyncStatus::Synced && s.health == Health::Healthy)
        })
        .await;
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }

    /// The live service `name` of cluster `shop`.
    async fn live(&self, name: &str) -> ecs_operator::cloud::model::Service {
        self.sim
            .cloud()
            .ecs
            .describe_services("shop", &[name.to_string()])
            .await
            .unwrap()
            .found
            .remove(0)
    }

    /// The task definition service `name` runs, as registered.
    async fn live_definition(&self, name: &str) -> ecs_operator::cloud::model::TaskDefinition {
        let live = self.live(name).await;
        self.sim
            .cloud()
            .ecs
            .describe_task_definition(&live.task_definition)
            .await
            .unwrap()
            .definition
    }

    /// The deployments-in-progress gauge of `stage` as last reported.
    fn in_progress_gauge(&self, stage: &str) -> i64 {
        self.counts
            .in_progress
            .lock()
            .unwrap()
            .get(stage)
            .copied()
            .unwrap_or(0)
    }

    fn mutating(&self) -> BTreeMap<String, u64> {
        self.sim
            .calls()
            .into_iter()
            .filter(|(op, _)| !op.starts_with("Describe") && !op.starts_with("List"))
            .collect()
    }
}

fn key(kind: Kind, name: &str) -> ResourceKey {
    ResourceKey {
        kind,
        cluster: (kind == Kind::Service).then(|| "shop".to_string()),
        name: name.into(),
    }
}

fn sim() -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    })
}

fn shop(api_image: &str, api_count: u32) -> Loaded {
    load(&[
        ("cluster.yaml", CLUSTER.to_string()),
        (
            "api.yaml",
            format!(
                "{}---\n{}",
                tg("shop-api"),
                service("api", api_image, api_count, Some("shop-api"))
            ),
        ),
        ("worker.yaml", service("worker", "worker:1", 1, None)),
    ])
}

#[tokio::test(start_paused = true)]
async fn converges_becomes_ready_and_a_quiet_resync_changes_nothing() {
    let h = Harness::start(sim(), shop("api:1", 2), |_| {}).await;
    h.converged().await;
    assert_eq!(h.all().len(), 4);
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.revision.as_deref(), Some("rev-1"));
    assert!(
        api.task_definition
            .as_deref()
            .unwrap()
            .contains(":task-definition/api:1"),
        "{api:?}"
    );
    assert_eq!(h.counts.rollouts.lock().unwrap().get("completed"), Some(&2));

    // A full resync later: everything read again, nothing changed, no drift.
    h.sim.reset_calls();
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    assert!(h.mutating().is_empty(), "{:?}", h.mutating());
    assert!(h.sim.calls().get("DescribeServices").copied().unwrap_or(0) >= 1);
    assert_eq!(h.counts.drift.load(Ordering::SeqCst), 0);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_change_reconciles_only_its_resource() {
    let h = Harness::start(sim(), shop("api:1", 2), |_| {}).await;
    h.converged().await;
    h.sim.reset_calls();
    h.load(shop("api:1", 3), "rev-2").await;
    h.until(Duration::from_secs(60), "api at rev-2", |h| {
        h.status(&key(Kind::Service, "api"))
            .unwrap()
            .revision
            .as_deref()
            == Some("rev-2")
    })
    .await;
    let calls = h.sim.calls();
    // Only the api service was read and updated: one cluster read, one service read.
    assert_eq!(calls.get("UpdateService"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("DescribeServices"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("DescribeClusters"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("DescribeTargetGroupAttributes"),
        None,
        "{calls:?}"
    );
    assert_eq!(
        calls.get("RegisterTaskDefinition"),
        None,
        "same image: no new revision"
    );
    // The others keep the revision they were last applied at.
    let worker = h.status(&key(Kind::Service, "worker")).unwrap();
    assert_eq!(worker.revision.as_deref(), Some("rev-1"));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn triggers_for_one_key_coalesce() {
    let h = Harness::start(sim(), shop("api:1", 2), |_| {}).await;
    h.converged().await;
    h.sim.reset_calls();
    // Five loads in a row before the queue runs: the api key runs once, at the last one.
    for count in 3..8 {
        h.feed
            .send((shop("api:1", count), Some(format!("rev-{count}"))))
            .await
            .unwrap();
    }
    h.until(Duration::from_secs(60), "api at rev-7", |h| {
        h.status(&key(Kind::Service, "api"))
            .unwrap()
            .revision
            .as_deref()
            == Some("rev-7")
    })
    .await;
    let updates = h.sim.calls().get("UpdateService").copied().unwrap_or(0);
    assert!(updates <= 2, "{updates} UpdateService calls for 5 triggers");
    let desired = h.live("api").await.desired_count;
    assert_eq!(desired, 7);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_key_backs_off_while_the_others_proceed() {
    let s = sim();
    // The target group cannot be created 3 times in a row.
    s.inject(
        "CreateTargetGroup",
        Fault::FailNext(3, ErrorKind::Transient),
    );
    let h = Harness::start(s, shop("api:1", 2), |_| {}).await;
    // The worker (no target group) converges while the group is failing.
    h.until(Duration::from_secs(60), "worker synced", |h| {
        h.status(&key(Kind::Service, "worker"))
            .is_some_and(|s| s.sync == SyncStatus::Synced)
    })
    .await;
    let tg = h.status(&key(Kind::TargetGroup, "shop-api")).unwrap();
    assert_eq!(tg.sync, SyncStatus::OutOfSync);
    assert!(tg.last_error.is_some(), "{tg:?}");
    // Backoff 1 s, 2 s, 4 s: then it works, and the api service follows.
    h.converged().await;
    let (_, retries) = h.handle.queues.stats();
    assert_eq!(retries, 3);
    assert_eq!(h.sim.calls().get("CreateTargetGroup"), Some(&4));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_loop_is_rolled_back_and_not_retried_until_the_manifest_changes() {
    let s = sim();
    s.set_crashing_images(vec!["api:bad".into()]);
    let h = Harness::start(s, shop("api:1", 2), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    let good = h.revision_of("api");

    h.load(shop("api:bad", 2), "rev-bad").await;
    h.until(Duration::from_secs(300), "rolled back", |h| {
        let api = h.status(&key(Kind::Service, "api")).unwrap();
        api.health == Health::Degraded
            && api.message.as_deref().unwrap_or("").contains("rolled back")
            && api.task_definition.as_deref() == Some(good.as_str())
    })
    .await;
    assert_eq!(
        h.counts.rollouts.lock().unwrap().get("rolled_back"),
        Some(&1)
    );
    let live = h.live("api").await;
    assert_eq!(
        live.task_definition, good,
        "the service runs the last good revision"
    );

    // Resyncs come and go: the bad spec is not applied again.
    let updates = h.sim.calls().get("UpdateService").copied().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(11 * 60)).await;
    assert_eq!(
        h.sim.calls().get("UpdateService").copied().unwrap_or(0),
        updates
    );
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.sync, SyncStatus::OutOfSync);
    assert_eq!(api.health, Health::Degraded);

    // A fixed manifest rolls forward.
    h.load(shop("api:2", 2), "rev-fixed").await;
    h.converged().await;
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.revision.as_deref(), Some("rev-fixed"));
    assert_ne!(api.task_definition.as_deref(), Some(good.as_str()));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn drift_made_behind_the_controllers_back_is_healed_at_the_next_resync() {
    let h = Harness::start(sim(), shop("api:1", 2), |c| {
        c.resync = Duration::from_secs(60);
    })
    .await;
    h.converged().await;
    h.sim
        .cloud()
        .ecs
        .update_service(&UpdateService {
            cluster: "shop".into(),
            name: "api".into(),
            desired_count: Some(5),
            ..UpdateService::default()
        })
        .await
        .unwrap();
    let desired = || async { h.live("api").await.desired_count };
    assert_eq!(desired().await, 5);
    tokio::time::sleep(Duration::from_secs(70)).await;
    assert_eq!(desired().await, 2, "healed at the resync");
    assert_eq!(h.counts.drift.load(Ordering::SeqCst), 1);
    h.stop().await;
}

/// `count` services, each behind its own target group setting a deregistration delay of 30 s.
fn groups_with_attributes(count: usize) -> Loaded {
    let mut files = vec![("cluster.yaml".to_string(), CLUSTER.to_string())];
    for i in 0..count {
        let group = format!(
            "{}  attributes: {{deregistration_delay.timeout_seconds: '30'}}\n",
            tg(&format!("tg-{i}"))
        );
        let svc = service(&format!("svc-{i}"), "app:1", 1, Some(&format!("tg-{i}")));
        files.push((format!("svc-{i}.yaml"), format!("{group}---\n{svc}")));
    }
    let files: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    load(&files)
}

#[tokio::test(start_paused = true)]
async fn attributes_changed_by_hand_are_found_by_the_checks_within_their_interval() {
    let resync = Duration::from_secs(300);
    let interval = Duration::from_secs(40 * 60);
    let h = Harness::start(sim(), groups_with_attributes(4), |c| {
        c.resync = resync;
        c.settings.attributes_check_interval = interval;
    })
    .await;
    h.converged().await;
    let cloud = h.sim.cloud();
    let groups = cloud
        .elbv2
        .describe_target_groups(&["tg-3".to_string()])
        .await;
    let arn = groups.unwrap().remove(0).arn;
    let delay = || async {
        cloud
            .elbv2
            .describe_target_group_attributes(&arn)
            .await
            .unwrap()[DELAY]
            .clone()
    };
    // By hand: the deregistration delay the manifest sets to 30 s.
    let by_hand = [(DELAY.to_string(), "300".to_string())].into();
    let modify = cloud.elbv2.modify_target_group_attributes(&arn, &by_hand);
    modify.await.unwrap();
    h.sim.reset_calls();
    let changed = tokio::time::Instant::now();
    // Each resync reads ceil(4 groups x 5 min / 40 min) = 1 group's attributes, the one read
    // longest ago: every group within the interval, plus one resync and its jitter.
    let bound = interval + resync.mul_f64(1.1) * 2;
    let mut polls = 0; // this test's own reads
    while {
        polls += 1;
        delay().await != "30"
    } {
        assert!(changed.elapsed() < bound, "not put back after {bound:?}");
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let took = changed.elapsed();
    assert_eq!(h.counts.drift.load(Ordering::SeqCst), 1);
    let resyncs = (took.as_secs_f64() / (resync.as_secs_f64() * 0.9)).ceil() as u64;
    let reads = h
        .sim
        .calls()
        .get("DescribeTargetGroupAttributes")
        .copied()
        .unwrap_or(0)
        - polls;
    assert!(
        (1..=resyncs).contains(&reads),
        "{reads} attribute reads in {took:?} ({resyncs} resyncs at most): {:?}",
        h.sim.calls()
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_broken_manifest_is_held_and_nothing_is_deleted_or_changed() {
    let h = Harness::start(sim(), shop("api:1", 2), |_| {}).await;
    h.converged().await;
    h.sim.reset_calls();
    // The api file breaks: its resources are held (Unknown), not removed.
    let mut broken = load(&[
        ("cluster.yaml", CLUSTER.to_string()),
        ("worker.yaml", service("worker", "worker:1", 1, None)),
    ]);
    let bad = load_str(
        Path::new("api.yaml"),
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  cluster: shop\n  desiredCount: two\n",
    );
    assert_eq!(bad.failed.len(), 1);
    broken.failed.extend(bad.failed);
    h.load(broken, "rev-broken").await;
    h.until(Duration::from_secs(30), "api held", |h| {
        h.status(&key(Kind::Service, "api"))
            .is_some_and(|s| s.sync == SyncStatus::Unknown)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(h.mutating().is_empty(), "{:?}", h.mutating());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_calls_in_flight_within_the_bound() {
    let s = sim();
    let h = Harness::start(s, shop("api:1", 2), |c| {
        c.shutdown_timeout = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    // The next UpdateService hangs: shutdown still returns, after the bound.
    h.sim.inject("UpdateService", Fault::Hang);
    h.load(shop("api:1", 4), "rev-2").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = tokio::time::Instant::now();
    h.stop().await;
    let took = before.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(7),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_ecs_circuit_breaker_rollback_is_reported_and_the_spec_held_back() {
    let s = sim();
    s.set_crashing_images(vec!["api:bad".into()]);
    let with_breaker = |image: &str| {
        let text = service("api", image, 2, None).replace(
            "  launchType: FARGATE\n",
            "  launchType: FARGATE\n  deploymentConfiguration:\n    deploymentCircuitBreaker: {enable: true, rollback: true}\n",
        );
        load(&[("cluster.yaml", CLUSTER.to_string()), ("api.yaml", text)])
    };
    // The operator's own crash-loop threshold out of the way: ECS's breaker acts first.
    let h = Harness::start(s, with_breaker("api:1"), |c| {
        c.settings.crash_loop_threshold = 1000;
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    let good = h.revision_of("api");
    h.load(with_breaker("api:bad"), "rev-bad").await;
    h.until(
        Duration::from_secs(3600),
        "breaker rollback reported",
        |h| {
            h.status(&key(Kind::Service, "api")).is_some_and(|s| {
                s.health == Health::Degraded
                    && s.message
                        .as_deref()
                        .unwrap_or("")
                        .contains("circuit breaker")
            })
        },
    )
    .await;
    assert_eq!(
        h.counts.rollouts.lock().unwrap().get("rolled_back"),
        Some(&1)
    );
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.sync, SyncStatus::OutOfSync);
    // Not applied again at later resyncs.
    let updates = h.sim.calls().get("UpdateService").copied().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(11 * 60)).await;
    assert_eq!(
        h.sim.calls().get("UpdateService").copied().unwrap_or(0),
        updates
    );
    let live = h.live("api").await;
    assert_eq!(live.task_definition, good);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_suspended_resource_is_left_alone() {
    let h = Harness::start(sim(), shop("api:1", 2), |c| {
        c.resync = Duration::from_secs(60);
    })
    .await;
    h.converged().await;
    let suspended = shop("api:1", 5);
    let mut docs = suspended;
    for d in &mut docs.documents {
        if d.manifest.metadata.name == "api" {
            d.manifest_mut().metadata.annotations.insert(
                "ecs-operator/suspend".into(),
                serde_yaml::from_str("\"true\"").unwrap(),
            );
        }
    }
    h.sim.reset_calls();
    h.feed.send((docs, Some("rev-2".into()))).await.unwrap();
    h.until(Duration::from_secs(30), "api suspended", |h| {
        h.status(&key(Kind::Service, "api"))
            .is_some_and(|s| s.health == Health::Suspended)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3 * 60)).await;
    assert!(h.mutating().is_empty(), "{:?}", h.mutating());
    h.stop().await;
}

/// A cluster and one service without a target group.
fn small(worker_image: &str) -> Loaded {
    load(&[
        ("cluster.yaml", CLUSTER.to_string()),
        ("worker.yaml", service("worker", worker_image, 1, None)),
    ])
}

#[tokio::test(start_paused = true)]
async fn readiness_waits_for_a_service_whose_cluster_is_slow_to_create() {
    let s = sim();
    // CreateCluster takes 30 s: meanwhile the service waits for it (requeued every 2 s).
    s.inject("CreateCluster", Fault::Latency(Duration::from_secs(30)));
    let h = Harness::start(s, small("worker:1"), |_| {}).await;
    h.until(Duration::from_secs(20), "worker waiting", |h| {
        h.status(&key(Kind::Service, "worker"))
            .and_then(|s| s.message)
            .is_some_and(|m| m.contains("waiting for cluster"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(
        !h.handle.controller.status().is_ready(),
        "ready while a service still waits for its cluster: {:#?}",
        h.all()
    );
    assert_eq!(h.sim.calls().get("CreateService"), None);
    // Once the cluster exists the service is created, and only then is the controller ready.
    h.until(Duration::from_secs(60), "ready", |h| {
        h.handle.controller.status().is_ready()
    })
    .await;
    assert_eq!(h.sim.calls().get("CreateService"), Some(&1));
    let worker = h.status(&key(Kind::Service, "worker")).unwrap();
    assert_eq!(worker.sync, SyncStatus::Synced, "{worker:?}");
    h.converged().await;
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_access_denied_service_stalls_and_is_retried_only_when_its_manifest_changes() {
    let s = sim();
    s.inject("CreateService", Fault::FailNext(1, ErrorKind::AccessDenied));
    // A long resync: only a manifest change may bring the stalled service back.
    let h = Harness::start(s, small("worker:1"), |c| {
        c.resync = Duration::from_secs(3600);
    })
    .await;
    let worker = key(Kind::Service, "worker");
    h.until(Duration::from_secs(60), "worker stalled", |h| {
        h.status(&worker)
            .is_some_and(|s| s.sync == SyncStatus::Stalled)
    })
    .await;
    let stalled = h.status(&worker).unwrap();
    let reason = stalled.last_error.clone().unwrap_or_default();
    assert!(reason.contains("AccessDenied"), "{stalled:?}");
    assert!(
        stalled.message.as_deref().unwrap_or("").contains("stalled"),
        "{stalled:?}"
    );
    // Not retried: the call count stays put over virtual minutes, and nothing backs off.
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    assert_eq!(h.sim.calls().get("CreateService"), Some(&1));
    assert_eq!(h.handle.queues.stats().1, 0, "no retries with backoff");
    assert!(
        h.handle.controller.status().is_ready(),
        "a stalled key was reconciled for real"
    );
    assert_eq!(h.status(&worker).unwrap().sync, SyncStatus::Stalled);

    // The manifest changes: it is tried again (the fault is spent) and converges.
    h.load(small("worker:2"), "rev-2").await;
    h.converged().await;
    assert_eq!(h.sim.calls().get("CreateService"), Some(&2));
    let synced = h.status(&worker).unwrap();
    assert_eq!(synced.last_error, None, "{synced:?}");
    assert!(
        !synced.message.as_deref().unwrap_or("").contains("stalled"),
        "{synced:?}"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_manifest_aws_rejects_as_invalid_is_retried_only_at_each_full_sync() {
    let s = sim();
    s.inject("CreateService", Fault::FailNext(2, ErrorKind::Invalid));
    let h = Harness::start(s, small("worker:1"), |c| {
        c.resync = Duration::from_secs(600);
        c.resync_jitter = 0.0;
    })
    .await;
    let worker = key(Kind::Service, "worker");
    let creates = |h: &Harness| h.sim.calls().get("CreateService").copied().unwrap_or(0);
    h.until(Duration::from_secs(60), "worker stalled", |h| {
        h.status(&worker)
            .is_some_and(|s| s.sync == SyncStatus::Stalled)
    })
    .await;
    // Until the first resync (10 min after start): one call, no retry.
    tokio::time::sleep(Duration::from_secs(8 * 60)).await;
    assert_eq!(creates(&h), 1);
    // The resync tries it once more (still rejected: Stalled again, not OutOfSync).
    h.until(Duration::from_secs(5 * 60), "tried at the resync", |h| {
        creates(h) == 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(creates(&h), 2);
    assert_eq!(h.status(&worker).unwrap().sync, SyncStatus::Stalled);
    // The next resync finds AWS accepting it.
    h.until(
        Duration::from_secs(15 * 60),
        "created at the next resync",
        |h| {
            h.status(&worker)
                .is_some_and(|s| s.sync == SyncStatus::Synced)
        },
    )
    .await;
    h.converged().await;
    assert_eq!(creates(&h), 3);
    assert_eq!(h.handle.queues.stats().1, 0, "never retried with backoff");
    h.stop().await;
}

/// Restart safety: the rollback target and the held-back manifest live in AWS (the service's
/// deployments and the controller's tags), so a second controller started over the same
/// account after the first is dropped neither re-applies a rolled-back manifest nor loses its
/// target.
#[tokio::test(start_paused = true)]
async fn a_restarted_controller_keeps_a_rolled_back_manifest_held_back() {
    let s = sim();
    s.set_crashing_images(vec!["api:bad".into()]);
    let h = Harness::start(s.clone(), shop("api:1", 2), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    let good = h.revision_of("api");
    h.load(shop("api:bad", 2), "rev-bad").await;
    h.until(Duration::from_secs(300), "rolled back", |h| {
        let api = h.status(&key(Kind::Service, "api")).unwrap();
        api.message
            .as_deref()
            .unwrap_or("")
            .contains("fix the manifest to roll forward")
    })
    .await;
    let live = h.live("api").await;
    assert_eq!(live.task_definition, good);
    assert!(
        live.tags.contains_key("ecs-operator/held-back"),
        "{:?}",
        live.tags
    );
    h.stop().await;

    // A new controller over the same account, with the same broken manifest.
    let updates = s.calls().get("UpdateService").copied().unwrap_or(0);
    let h = Harness::start(s, shop("api:bad", 2), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.until(Duration::from_secs(300), "ready", |h| {
        h.handle.controller.status().is_ready()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(11 * 60)).await;
    assert_eq!(
        h.sim.calls().get("UpdateService").copied().unwrap_or(0),
        updates,
        "nothing re-applied"
    );
    assert_eq!(h.live("api").await.task_definition, good);
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.sync, SyncStatus::OutOfSync);
    assert_eq!(api.health, Health::Degraded);
    assert!(
        api.message.as_deref().unwrap_or("").contains("held-back"),
        "{api:?}"
    );

    // A fixed manifest rolls forward, and the held-back tag goes.
    h.load(shop("api:2", 2), "rev-fixed").await;
    h.converged().await;
    let live = h.live("api").await;
    assert_ne!(live.task_definition, good);
    assert!(!live.tags.contains_key("ecs-operator/held-back"));
    assert_eq!(
        live.tags.get("ecs-operator/last-completed"),
        Some(&live.task_definition),
        "the completed rollout is remembered on the service"
    );
    h.stop().await;
}

/// A controller restarted in the middle of a crash loop follows the rollout again, finds the
/// target (the older deployment ECS still lists as completed) and rolls back.
#[tokio::test(start_paused = true)]
async fn a_controller_restarted_in_a_crash_loop_still_rolls_it_back() {
    let s = sim();
    s.set_crashing_images(vec!["api:bad".into()]);
    // The first controller never rolls back (its threshold out of reach).
    let h = Harness::start(s.clone(), shop("api:1", 2), |c| {
        c.settings.crash_loop_threshold = 1000;
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    let good = h.revision_of("api");
    h.load(shop("api:bad", 2), "rev-bad").await;
    h.until(Duration::from_secs(300), "crash-looping", |h| {
        h.status(&key(Kind::Service, "api"))
            .and_then(|s| s.message)
            .is_some_and(|m| m.contains("failed") && !m.contains(" 0 failed"))
    })
    .await;
    h.stop().await;
    assert_ne!(
        s.cloud()
            .ecs
            .describe_services("shop", &["api".into()])
            .await
            .unwrap()
            .found[0]
            .task_definition,
        good
    );

    let h = Harness::start(s, shop("api:bad", 2), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.until(Duration::from_secs(300), "rolled back", |h| {
        h.status(&key(Kind::Service, "api"))
            .and_then(|s| s.message)
            .is_some_and(|m| m.contains("fix the manifest to roll forward"))
    })
    .await;
    assert_eq!(h.live("api").await.task_definition, good);
    assert_eq!(
        h.counts.rollouts.lock().unwrap().get("rolled_back"),
        Some(&1)
    );
    let updates = h.sim.calls().get("UpdateService").copied().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(11 * 60)).await;
    assert_eq!(
        h.sim.calls().get("UpdateService").copied().unwrap_or(0),
        updates
    );
    h.stop().await;
}

/// A crash loop of each stop reason the simulator's tasks can have is rolled back at the
/// threshold (3 failed tasks), with the reason and its hint in status and the metric.
#[tokio::test(start_paused = true)]
async fn a_crash_loop_of_each_stop_reason_is_rolled_back_with_the_reason_and_hint() {
    let cases = [
        (
            "pull",
            "image_pull",
            "CannotPullContainerError: the execution role needs ECR pull, and a private subnet needs a NAT gateway or ECR endpoints",
        ),
        (
            "secret",
            "secret",
            "unable to retrieve secret: the execution role needs secretsmanager:GetSecretValue / ssm:GetParameters (and kms:Decrypt) for it",
        ),
        (
            "exit:2",
            "exit_code",
            "an essential container exited with code 2",
        ),
        (
            "health",
            "health_check",
            "ELB health checks failed: check the grace period, path and port",
        ),
    ];
    for (crash, label, text) in cases {
        let s = sim();
        s.set_crashing_images(vec![format!("api:bad={crash}")]);
        let h = Harness::start(s, shop("api:1", 2), |c| {
            c.rollout_poll = Duration::from_secs(5);
        })
        .await;
        h.converged().await;
        let good = h.revision_of("api");
        h.load(shop("api:bad", 2), "rev-bad").await;
        h.until(Duration::from_secs(300), "rolled back", |h| {
            h.status(&key(Kind::Service, "api"))
                .and_then(|s| s.message)
                .is_some_and(|m| m.contains("fix the manifest to roll forward"))
        })
        .await;
        let api = h.status(&key(Kind::Service, "api")).unwrap();
        let message = api.message.unwrap();
        assert!(message.contains(text), "{crash}: {message}");
        assert_eq!(api.task_definition.as_deref(), Some(good.as_str()));
        assert_eq!(h.live("api").await.task_definition, good);
        assert_eq!(
            h.counts.failures.lock().unwrap().clone(),
            BTreeMap::from([(label, 1)]),
            "{crash}"
        );
        h.stop().await;
    }
}

// ---- listener rules (issue 14) -------------------------------------------------------------

const RULE: &str = "apiVersion: ecs-operator/v1\nkind: ListenerRule\nmetadata:\n  name: shop-api\nspec:\n  listener: {loadBalancerName: shop-alb, port: 80}\n  priority: 10\n  conditions:\n    - Field: path-pattern\n      PathPatternConfig: {Values: [\"/api/*\"]}\n  actions:\n    - Type: forward\n      ForwardConfig:\n        TargetGroups: [{TargetGroupName: shop-api}]\n";

fn shop_with_rule() -> Loaded {
    let mut all = shop("api:1", 2);
    let rule = load(&[("routing.yaml", RULE.to_string())]);
    all.files += rule.files;
    all.documents.extend(rule.documents);
    all
}

/// The rule the operator made on the seeded listener, by its name tag.
async fn live_rule(sim: &Sim) -> ecs_operator::cloud::model::Rule {
    let cloud = sim.cloud();
    let lb = cloud
        .elbv2
        .describe_load_balancers(&["shop-alb".to_string()])
        .await
        .unwrap()
        .remove(0);
    let listener = cloud
        .elbv2
        .describe_listeners(&lb.arn, None)
        .await
        .unwrap()
        .items
        .remove(0);
    let rules = cloud
        .elbv2
        .describe_rules(&listener.arn, None)
        .await
        .unwrap()
        .items;
    rules.into_iter().find(|r| !r.is_default).expect("the rule")
}

#[tokio::test(start_paused = true)]
async fn a_listener_rule_edited_by_hand_is_healed_at_the_next_resync() {
    use ecs_operator::cloud::defaults::listener_rule::{forward, path_pattern};
    use ecs_operator::cloud::sim::{SimRequest, SimRoute};
    let h = Harness::start(sim(), shop_with_rule(), |c| {
        c.resync = Duration::from_secs(60);
    })
    .await;
    h.converged().await;
    let rule_key = key(Kind::ListenerRule, "shop-api");
    let s = h.status(&rule_key).expect("the rule has a status");
    assert_eq!((s.sync, s.health), (SyncStatus::Synced, Health::Healthy));
    let api = SimRoute::Forward(vec![("shop-api".into(), 1)]);
    let route = |path: &str| {
        h.sim
            .route("shop-alb", 80, &SimRequest::get("shop.example.com", path))
    };
    assert_eq!(route("/api/items"), Some(api.clone()));
    assert_eq!(
        route("/"),
        Some(SimRoute::Fixed("404".into())),
        "the listener's default"
    );

    // A quiet resync: the listener was resolved once, so only its rules and their tags are read.
    h.sim.reset_calls();
    tokio::time::sleep(Duration::from_secs(70)).await;
    let calls = h.sim.calls();
    assert!(h.mutating().is_empty(), "{:?}", h.mutating());
    assert_eq!(calls.get("DescribeRules"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("DescribeLoadBalancers"),
        None,
        "cached: {calls:?}"
    );
    assert_eq!(calls.get("DescribeListeners"), None, "cached: {calls:?}");
    eprintln!("quiet resync with one listener rule: {calls:?}");

    // Someone points the rule elsewhere by hand.
    let live = live_rule(&h.sim).await;
    let tg = forward(&[(
        live.actions[0].target_group_arn.clone().unwrap().as_str(),
        None,
    )]);
    h.sim
        .cloud()
        .elbv2
        .modify_rule(&live.arn, &[path_pattern(&["/v2/*"])], &[tg])
        .await
        .unwrap();
    assert_eq!(route("/api/items"), Some(SimRoute::Fixed("404".into())));
    tokio::time::sleep(Duration::from_secs(70)).await;
    assert_eq!(route("/api/items"), Some(api), "healed at the resync");
    assert_eq!(h.counts.drift.load(Ordering::SeqCst), 1);
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Native deployments (issue 13): followed by their own service deployment.

const HOOK: &str = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test";

/// `api` in target group `blue` with `green` as the alternate (by manifest name), with the
/// deployment configuration `deployment` (YAML flow mapping).
fn native_shop(image: &str, deployment: &str) -> Loaded {
    let text = service("api", image, 2, Some("blue"))
        .replace(
            "containerPort: 8000}\n",
            "containerPort: 8000, advancedConfiguration: {alternateTargetGroupArn: green, productionListenerRule: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/3', roleArn: 'arn:aws:iam::123456789012:role/ecs-elb'}}\n",
        )
        .replace(
            "  launchType: FARGATE\n",
            &format!("  launchType: FARGATE\n  deploymentConfiguration: {deployment}\n"),
        );
    load(&[
        ("cluster.yaml", CLUSTER.to_string()),
        ("tgs.yaml", format!("{}---\n{}", tg("blue"), tg("green"))),
        ("api.yaml", text),
    ])
}

fn message(h: &Harness) -> String {
    h.status(&key(Kind::Service, "api"))
        .and_then(|s| s.message)
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn a_blue_green_rollout_shows_its_stage_and_is_healthy_only_once_ecs_says_successful() {
    let config = format!(
        "{{strategy: BLUE_GREEN, bakeTimeInMinutes: 10, lifecycleHooks: [{{hookTargetArn: '{HOOK}', roleArn: 'arn:aws:iam::123456789012:role/hooks', lifecycleStages: [POST_SCALE_UP]}}]}}"
    );
    let h = Harness::start(sim(), native_shop("api:1", &config), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    h.load(native_shop("api:2", &config), "rev-2").await;
    h.until(Duration::from_secs(600), "baking", |h| {
        message(h).contains("BLUE_GREEN: BAKE_TIME, 3 of 10 min")
    })
    .await;
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.health, Health::Progressing, "{api:?}");
    assert_eq!(
        h.in_progress_gauge("bake_time"),
        1,
        "{:?}",
        h.counts.in_progress.lock().unwrap()
    );
    h.until(Duration::from_secs(900), "completed", |h| {
        h.status(&key(Kind::Service, "api"))
            .is_some_and(|s| s.health == Health::Healthy)
    })
    .await;
    assert!(message(&h).contains("rollout completed"), "{}", message(&h));
    assert_eq!(
        h.counts
            .strategies
            .lock()
            .unwrap()
            .get(&("completed", "BLUE_GREEN")),
        Some(&2),
        "the first deployment and this one"
    );
    let run = h.sim.deployment_run("shop", "api").unwrap();
    let bake = run
        .stages
        .iter()
        .find(|(s, _)| *s == ecs_operator::cloud::model::LifecycleStage::BakeTime)
        .unwrap()
        .1;
    let clean = run.stages.last().unwrap().1;
    assert_eq!(clean - bake, Duration::from_secs(600), "bake time honoured");
    // Followed by its deployment: DescribeServiceDeployments was called, ListServiceDeployments
    // (the look-up without an ARN) never.
    let calls = h.sim.calls();
    assert!(
        calls
            .get("DescribeServiceDeployments")
            .is_some_and(|n| *n > 0)
    );
    assert_eq!(calls.get("ListServiceDeployments"), None);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_hook_is_reported_as_rolled_back_by_ecs_and_held_back() {
    let s = sim();
    s.set_failing_hooks(vec!["smoke-test".into()]);
    let config = format!(
        "{{strategy: BLUE_GREEN, bakeTimeInMinutes: 5, lifecycleHooks: [{{hookTargetArn: '{HOOK}', roleArn: 'arn:aws:iam::123456789012:role/hooks', lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]}}]}}"
    );
    let h = Harness::start(s, native_shop("api:1", &config), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    let good = h.revision_of("api");
    h.load(native_shop("api:2", &config), "rev-2").await;
    h.until(Duration::from_secs(600), "rolled back", |h| {
        message(h).contains("ECS rolled")
    })
    .await;
    let api = h.status(&key(Kind::Service, "api")).unwrap();
    assert_eq!(api.health, Health::Degraded);
    assert_eq!(api.sync, SyncStatus::OutOfSync);
    let text = message(&h);
    assert!(
        text.contains("BLUE_GREEN") && text.contains("smoke-test"),
        "{text}"
    );
    let strategies = h.counts.strategies.lock().unwrap().clone();
    assert_eq!(strategies.get(&("rolled_back", "BLUE_GREEN")), Some(&1));
    assert_eq!(
        strategies.get(&("completed", "BLUE_GREEN")),
        Some(&1),
        "only the first"
    );
    // Not applied again.
    let updates = h.sim.calls().get("UpdateService").copied().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(11 * 60)).await;
    assert_eq!(
        h.sim.calls().get("UpdateService").copied().unwrap_or(0),
        updates
    );
    assert_eq!(h.live("api").await.task_definition, good);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_deployment_started_by_hand_is_not_taken_for_ours_nor_for_a_rollback() {
    let h = Harness::start(sim(), shop("api:1", 2), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    h.load(shop("api:2", 2), "rev-2").await;
    h.until(Duration::from_secs(60), "rollout started", |h| {
        h.status(&key(Kind::Service, "api"))
            .is_some_and(|s| s.health == Health::Progressing)
    })
    .await;
    let mut definition = h.live_definition("api").await;
    definition.container_definitions[0].image = "api:by-hand".into();
    let by_hand = h
        .sim
        .cloud()
        .ecs
        .register_task_definition(&definition, &Default::default())
        .await
        .unwrap();
    // Someone deploys another revision while ours is in flight.
    h.sim
        .cloud()
        .ecs
        .update_service(&UpdateService {
            cluster: "shop".into(),
            name: "api".into(),
            task_definition: Some(by_hand.arn.clone()),
            ..UpdateService::default()
        })
        .await
        .unwrap();
    h.until(Duration::from_secs(120), "superseded", |h| {
        message(h).contains("superseded")
    })
    .await;
    let rollouts = h.counts.rollouts.lock().unwrap().clone();
    assert_eq!(rollouts.get("rolled_back"), None, "{rollouts:?}");
    assert_eq!(h.counts.failures.lock().unwrap().len(), 0);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_canary_rollout_reports_its_traffic_shift_then_completes() {
    let config = "{strategy: CANARY, canaryConfiguration: {canaryPercent: 10.0, canaryBakeTimeInMinutes: 5}}";
    let h = Harness::start(sim(), native_shop("api:1", config), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    h.load(native_shop("api:2", config), "rev-2").await;
    h.until(Duration::from_secs(300), "shifting", |h| {
        message(h).contains("CANARY: PRODUCTION_TRAFFIC_SHIFT")
    })
    .await;
    assert_eq!(
        h.status(&key(Kind::Service, "api")).unwrap().health,
        Health::Progressing
    );
    h.until(Duration::from_secs(900), "completed", |h| {
        h.status(&key(Kind::Service, "api"))
            .is_some_and(|s| s.health == Health::Healthy)
    })
    .await;
    let run = h.sim.deployment_run("shop", "api").unwrap();
    let weights: Vec<f64> = run.traffic.iter().map(|(w, _)| *w).collect();
    assert_eq!(weights, [0.0, 10.0, 100.0]);
    assert_eq!(
        h.counts
            .strategies
            .lock()
            .unwrap()
            .get(&("completed", "CANARY")),
        Some(&2)
    );
    h.stop().await;
}

/// A controller restarted in the middle of a blue/green deployment finds its deployment again
/// (ListServiceDeployments, once) and follows it to the end.
#[tokio::test(start_paused = true)]
async fn a_controller_restarted_mid_blue_green_finds_its_deployment_and_follows_it() {
    let s = sim();
    let config = "{strategy: BLUE_GREEN, bakeTimeInMinutes: 10}";
    let h = Harness::start(s.clone(), native_shop("api:1", config), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.converged().await;
    h.load(native_shop("api:2", config), "rev-2").await;
    h.until(Duration::from_secs(600), "baking", |h| {
        message(h).contains("BAKE_TIME")
    })
    .await;
    h.stop().await;
    s.reset_calls();

    let h = Harness::start(s, native_shop("api:2", config), |c| {
        c.rollout_poll = Duration::from_secs(5);
    })
    .await;
    h.until(Duration::from_secs(120), "baking again", |h| {
        message(h).contains("BLUE_GREEN: BAKE_TIME")
    })
    .await;
    h.until(Duration::from_secs(900), "completed", |h| {
        h.status(&key(Kind::Service, "api"))
            .is_some_and(|s| s.health == Health::Healthy)
    })
    .await;
    let calls = h.sim.calls();
    assert_eq!(calls.get("ListServiceDeployments"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("UpdateService"), None, "nothing applied again");
    assert_eq!(
        h.counts
            .strategies
            .lock()
            .unwrap()
            .get(&("completed", "BLUE_GREEN")),
        Some(&1)
    );
    h.stop().await;
}
