//! Fault suites: the controller (`run`) against the simulator while the account misbehaves.
//! Every case ends with the same checks ([`check`]): live state equals the manifests (a plan
//! read through the simulator without its faults has nothing to do), no duplicate service,
//! target group or task definition revision, and the unowned cluster and target group that
//! were there before are untouched.
//!
//! - a throttling storm: half of all calls throttled for 10 minutes, through a create and an
//!   edit (3 seeds);
//! - a 5xx, then a connection reset (an answer that could not be read), on every operation
//!   in turn, through a create and an edit;
//! - a call that never answers, on every operation in turn: its key (or the full sync) is
//!   given up at the reconcile timeout and retried once it answers again;
//! - the controller dropped after its k-th mutating call, a new one started on the same
//!   account;
//! - every read failing: resources read Unknown after two resync intervals unobserved;
//! - an edit while a reconcile hangs in a call: the old changes are cleared at once;
//! - the source vanishing or half-written: a directory mid-checkout (a truncated file, the
//!   whole directory gone), a git repository that cannot be fetched (real time: the watcher
//!   and git are real).
//!
//! Everything but the source suite runs on paused tokio time (minutes in milliseconds).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ecs_operator::cloud::model::{CreateCluster, CreateTargetGroup, TargetGroup};
use ecs_operator::cloud::operation::Operation;
use ecs_operator::cloud::sim::{Fault, Sim, SimConfig};
use ecs_operator::cloud::{Cloud, ErrorKind};
use ecs_operator::controller::reconcile::NoEvents;
use ecs_operator::controller::run::{Handle, RunConfig, RunError, SourceConfig, run};
use ecs_operator::manifest::{Document, Kind, Loaded, ResourceKey, load_str};
use ecs_operator::observe::Observer;
use ecs_operator::planner::plan_all;
use ecs_operator::status::{Health, ResourceStatus, SyncStatus};
use tokio::sync::{mpsc, oneshot};

const INSTANCE: &str = "faults";

fn cluster(insights: &str) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec:\n  settings: {{containerInsights: {insights}}}\n"
    )
}

fn target_group(path: &str) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata:\n  name: shop-api\nspec:\n  protocol: HTTP\n  port: 8000\n  vpcId: vpc-1\n  targetType: ip\n  healthCheck: {{path: {path}}}\n"
    )
}

fn service(name: &str, image: &str, count: u32, lb: bool) -> String {
    let lb = if lb {
        "  loadBalancers:\n    - {targetGroup: shop-api, containerName: app, containerPort: 8000}\n"
    } else {
        ""
    };
    format!(
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  cluster: shop\n  desiredCount: {count}\n  launchType: FARGATE\n{lb}  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [subnet-1]\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: {image}\n        portMappings:\n          - containerPort: 8000\n        environment: {{MODE: {name}}}\n"
    )
}

/// The manifests as files: version 1, and version 2 edits every kind.
fn files(version: u32) -> Vec<(&'static str, String)> {
    let (insights, path, image, count) = match version {
        1 => ("disabled", "/health", "api:1", 2),
        _ => ("enabled", "/ready", "api:2", 3),
    };
    // The listener rule (issue 14) on the simulator's seeded ALB: the edit moves it and
    // changes its path (SetRulePriorities, ModifyRule).
    let (priority, route) = match version {
        1 => (10, "/api/*"),
        _ => (20, "/v2/*"),
    };
    vec![
        ("cluster.yaml", cluster(insights)),
        (
            "api.yaml",
            format!(
                "{}---\n{}",
                target_group(path),
                service("api", image, count, true)
            ),
        ),
        (
            "worker.yaml",
            service("worker", "worker:1", 1, false) + &worker_scaling(version),
        ),
        (
            "routing.yaml",
            format!(
                "apiVersion: ecs-operator/v1\nkind: ListenerRule\nmetadata: {{name: api-route}}\nspec:\n  listener: {{loadBalancerName: shop-alb, port: 80}}\n  priority: {priority}\n  conditions: [{{Field: path-pattern, Values: [\"{route}\"]}}]\n  actions: [{{Type: forward, ForwardConfig: {{TargetGroups: [{{TargetGroupName: shop-api}}]}}}}]\n"
            ),
        ),
    ]
}

/// The worker's `autoScaling`, so the Application Auto Scaling calls meet the faults too:
/// version 2 changes the policy and adds a scheduled action.
fn worker_scaling(version: u32) -> String {
    let (target, scheduled) = match version {
        1 => (60, ""),
        _ => (
            50,
            "    scheduled:\n      - {name: night, schedule: 'cron(0 20 * * ? *)', minCapacity: 1}\n",
        ),
    };
    format!(
        "  autoScaling:\n    minCapacity: 1\n    maxCapacity: 3\n    targetTracking:\n      - {{predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: {target}}}\n{scheduled}"
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

fn sim(seed: u64) -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        seed,
        task_start_time: Duration::from_secs(5),
        target_healthy_time: Duration::from_secs(5),
        ..SimConfig::default()
    })
}

/// What was in the account before the operator: a cluster and a target group nobody's
/// manifests name, with no ownership tag.
#[derive(Debug, PartialEq)]
struct Unowned {
    cluster: Option<ecs_operator::cloud::model::Cluster>,
    target_group: Option<TargetGroup>,
}

async fn seed_unowned(cloud: &Cloud) {
    cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: "legacy".into(),
            ..CreateCluster::default()
        })
        .await
        .unwrap();
    cloud
        .elbv2
        .create_target_group(&CreateTargetGroup {
            name: "legacy-tg".into(),
            protocol: Some(ecs_operator::manifest::target_group::TargetGroupProtocol::Http),
            port: Some(80),
            vpc_id: Some("vpc-1".into()),
            ..CreateTargetGroup::default()
        })
        .await
        .unwrap();
}

async fn unowned(cloud: &Cloud) -> Unowned {
    Unowned {
        cluster: cloud
            .ecs
            .describe_clusters(&["legacy".into()])
            .await
            .unwrap()
            .found
            .pop(),
        target_group: cloud
            .elbv2
            .describe_target_groups(&["legacy-tg".into()])
            .await
            .unwrap()
            .pop(),
    }
}

/// The invariants every case ends with; `before` is the unowned resources at the start.
async fn check(case: &str, sim: &Sim, documents: &[Document], before: &Unowned) {
    // Reads through the simulated endpoints alone: no fault, not counted.
    let cloud = sim.endpoints();
    let (plans, _) = plan_all(&Observer::new(cloud.clone()), documents, INSTANCE)
        .await
        .unwrap_or_else(|e| panic!("{case}: planning failed: {e}"));
    let pending: Vec<String> = plans
        .iter()
        .filter(|p| !p.is_in_sync())
        .map(|p| format!("{} {:?} {:?}", p.key, p.status, p.reason))
        .collect();
    assert!(pending.is_empty(), "{case}: live differs: {pending:?}");

    let services = cloud.ecs.list_services("shop", None).await.unwrap().items;
    assert_eq!(services.len(), 2, "{case}: services {services:?}");
    let groups = cloud
        .elbv2
        .describe_target_groups_page(None, 400)
        .await
        .unwrap()
        .items;
    let mut names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["legacy-tg", "shop-api"], "{case}: target groups");

    for family in ["api", "worker"] {
        let arns = cloud
            .ecs
            .list_task_definitions(family, None)
            .await
            .unwrap()
            .items;
        let mut seen = BTreeMap::new();
        for arn in &arns {
            let td = cloud.ecs.describe_task_definition(arn).await.unwrap();
            let content = serde_json::to_string(&td.definition).unwrap();
            if let Some(first) = seen.insert(content, arn.clone()) {
                panic!("{case}: {arn} has the same content as {first}");
            }
        }
    }
    assert_eq!(&unowned(&cloud).await, before, "{case}: unowned changed");
}

/// A running controller on paused time.
struct Run {
    sim: Sim,
    feed: mpsc::Sender<(Loaded, Option<String>)>,
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

fn config(loads: mpsc::Receiver<(Loaded, Option<String>)>) -> RunConfig {
    let mut config = RunConfig::new(SourceConfig::Feed {
        location: "faults".into(),
        loads,
    });
    config.settings.instance = INSTANCE.into();
    config.settings.reconcile_timeout = Duration::from_secs(60);
    config.queue.seed = Some(7);
    config.resync = Duration::from_secs(120);
    config.rollout_poll = Duration::from_secs(5);
    config
}

impl Run {
    async fn start(sim: &Sim, first: Loaded) -> Run {
        let (feed, loads) = mpsc::channel(16);
        feed.send((first, Some("rev-1".into()))).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (handle_tx, handle_rx) = oneshot::channel();
        let cloud = sim.cloud();
        let task = tokio::spawn(async move {
            run(
                cloud,
                config(loads),
                None,
                std::sync::Arc::new(NoEvents),
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
        Run {
            sim: sim.clone(),
            feed,
            handle,
            stop: Some(stop),
            task,
        }
    }

    fn all(&self) -> Vec<ResourceStatus> {
        self.handle.controller.status().report().resources
    }

    /// Advances virtual time a second at a time until `done` holds (at most `limit`).
    async fn until(&self, case: &str, limit: Duration, what: &str, done: impl Fn(&Run) -> bool) {
        let start = tokio::time::Instant::now();
        while !done(self) {
            if start.elapsed() >= limit {
                let live = self
                    .sim
                    .endpoints()
                    .ecs
                    .describe_services("shop", &["api".into(), "worker".into()])
                    .await;
                panic!(
                    "{case}: not {what} after {limit:?}: {:#?}\nlive: {live:#?}",
                    self.all()
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Every resource Synced and Healthy, those the edit changes (all but the worker) at
    /// `revision`.
    async fn converged(&self, case: &str, revision: &str, limit: Duration) {
        self.until(case, limit, "converged", |r| {
            let all = r.all();
            r.handle.controller.status().is_ready()
                && all.len() == 5
                && all.iter().all(|s| {
                    s.sync == SyncStatus::Synced
                        && s.health == Health::Healthy
                        && (s.name == "worker" || s.revision.as_deref() == Some(revision))
                })
        })
        .await;
    }

    async fn edit(&self, version: u32) {
        self.feed
            .send((load(&files(version)), Some(format!("rev-{version}"))))
            .await
            .unwrap();
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Every operation of the ECS and ELBv2 traits.
fn operations() -> Vec<Operation> {
    Operation::ALL
        .into_iter()
        .filter(|o| o.is_cloud_call())
        .collect()
}

/// Starts from an empty account (with the unowned resources), converges, edits every kind,
/// converges again, checks; `arm` injects the faults before each phase and `calm` takes
/// them away after `storm` of virtual time.
async fn create_and_edit(
    case: &str,
    sim: &Sim,
    arm: impl Fn(&Sim),
    storm: Duration,
    limit: Duration,
) {
    seed_unowned(&sim.endpoints()).await;
    let before = unowned(&sim.endpoints()).await;
    arm(sim);
    let run = Run::start(sim, load(&files(1))).await;
    tokio::time::sleep(storm).await;
    sim.clear_faults();
    run.converged(case, "rev-1", limit).await;
    arm(sim);
    run.edit(2).await;
    tokio::time::sleep(storm).await;
    sim.clear_faults();
    run.converged(case, "rev-2", limit).await;
    run.stop().await;
    check(case, sim, &load(&files(2)).documents, &before).await;
}

#[tokio::test(start_paused = true)]
async fn a_throttling_storm_of_ten_minutes_ends_converged() {
    for seed in [1, 2, 3] {
        let case = format!("throttling storm, seed {seed}");
        let sim = sim(seed);
        let arm = |sim: &Sim| {
            for op in operations() {
                sim.inject(op.as_str(), Fault::ErrorRate(0.5, ErrorKind::Throttled));
            }
        };
        create_and_edit(
            &case,
            &sim,
            arm,
            Duration::from_secs(600),
            Duration::from_secs(900),
        )
        .await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_5xx_then_a_connection_reset_on_every_operation_in_turn_ends_converged() {
    let (mut cases, mut exercised) = (0, 0);
    for op in operations() {
        for (what, kind) in [
            ("5xx", ErrorKind::Transient),
            ("connection reset", ErrorKind::Other),
        ] {
            let case = format!("{what} on {}", op.as_str());
            let sim = sim(11);
            let arm = |sim: &Sim| sim.inject(op.as_str(), Fault::FailNext(3, kind));
            create_and_edit(&case, &sim, arm, Duration::ZERO, Duration::from_secs(600)).await;
            cases += 1;
            if sim.calls().get(op.as_str()).is_some_and(|n| *n > 0) {
                exercised += 1;
            }
        }
    }
    assert_eq!(cases, 2 * operations().len());
    // Most operations are called by a create and an edit; the rest (deletes, prune's reads)
    // pass without their fault ever firing.
    assert!(exercised >= cases / 2, "{exercised} of {cases} exercised");
    println!("5xx and connection reset: {cases} cases, {exercised} with the fault fired");
}

#[tokio::test(start_paused = true)]
async fn a_call_that_never_answers_on_every_operation_in_turn_is_given_up_and_retried() {
    let (mut cases, mut exercised) = (0, 0);
    for op in operations() {
        let case = format!("hang on {}", op.as_str());
        let sim = sim(21);
        // Hangs for two reconcile timeouts, then answers again.
        let arm = |sim: &Sim| sim.inject(op.as_str(), Fault::Hang);
        create_and_edit(
            &case,
            &sim,
            arm,
            Duration::from_secs(120),
            Duration::from_secs(900),
        )
        .await;
        cases += 1;
        if sim.calls().get(op.as_str()).is_some_and(|n| *n > 0) {
            exercised += 1;
        }
    }
    println!("hanging call: {cases} cases, {exercised} with the call made");
}

#[tokio::test(start_paused = true)]
async fn a_controller_dropped_mid_apply_and_a_new_one_on_the_same_account_converge() {
    // How many mutating calls a clean convergence makes: the drop points.
    let mutating = |sim: &Sim| -> u64 {
        sim.calls()
            .into_iter()
            .filter(|(op, _)| Operation::from_name(op).is_some_and(|o| !o.is_read()))
            .map(|(_, n)| n)
            .sum()
    };
    let total = {
        let sim = sim(31);
        let run = Run::start(&sim, load(&files(1))).await;
        run.converged("clean", "rev-1", Duration::from_secs(300))
            .await;
        run.stop().await;
        mutating(&sim)
    };
    assert!(total >= 6, "{total} mutating calls");
    for k in 1..total {
        let case = format!("dropped after mutating call {k} of {total}");
        let sim = sim(31);
        seed_unowned(&sim.endpoints()).await;
        let before = unowned(&sim.endpoints()).await;
        let base = mutating(&sim);
        // Every call takes a while, so the drop falls while call k is in flight (counted,
        // not yet sent): calls 1..k-1 done, the rest never made.
        for op in operations() {
            sim.inject(op.as_str(), Fault::Latency(Duration::from_millis(200)));
        }
        let first = Run::start(&sim, load(&files(1))).await;
        while mutating(&sim) < base + k {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Dropped: no shutdown, reconciles in flight cut where they are.
        first.task.abort();
        let _ = first.task.await;
        sim.clear_faults();
        let second = Run::start(&sim, load(&files(1))).await;
        second
            .converged(&case, "rev-1", Duration::from_secs(300))
            .await;
        second.stop().await;
        check(&case, &sim, &load(&files(1)).documents, &before).await;
    }
    println!("dropped mid-apply: {} cases", total - 1);
}

#[tokio::test(start_paused = true)]
async fn live_state_unreadable_for_two_resyncs_reads_unknown_then_synced_again() {
    let case = "live state unreadable";
    let sim = sim(41);
    seed_unowned(&sim.endpoints()).await;
    let before = unowned(&sim.endpoints()).await;
    let run = Run::start(&sim, load(&files(1))).await;
    run.converged(case, "rev-1", Duration::from_secs(300)).await;
    // Every read fails (the endpoint restarted, a network partition): nothing is observed.
    for op in operations().into_iter().filter(|o| o.is_read()) {
        sim.inject(op.as_str(), Fault::ErrorRate(1.0, ErrorKind::Transient));
    }
    let start = tokio::time::Instant::now();
    run.until(case, Duration::from_secs(600), "Unknown", |r| {
        r.all().iter().all(|s| s.sync == SyncStatus::Unknown)
    })
    .await;
    // Two resync intervals of 120 s, with their 10 % jitter: 264 s after the last read.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(200) && took <= Duration::from_secs(300),
        "{case}: Unknown after {took:?}"
    );
    let message = run.all()[0].message.clone().unwrap_or_default();
    assert!(message.contains("not observed for"), "{message}");
    sim.clear_faults();
    run.until(case, Duration::from_secs(600), "observed again", |r| {
        r.all()
            .iter()
            .all(|s| s.sync == SyncStatus::Synced && s.health == Health::Healthy)
    })
    .await;
    run.stop().await;
    check(case, &sim, &load(&files(1)).documents, &before).await;
}

/// What differed is the old manifest's: an edit clears it at once, even while the resource's
/// reconcile is stuck in a call (a CreateService that does not answer), rather than show the
/// old values until that reconcile ends.
#[tokio::test(start_paused = true)]
async fn an_edit_clears_the_old_changes_at_once() {
    let sim = Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    });
    sim.inject("CreateService", Fault::Hang);
    let (feed, loads) = mpsc::channel(4);
    let files = |image: &str| {
        load(&[
            ("cluster.yaml", cluster("disabled")),
            ("api.yaml", service("api", image, 1, false)),
        ])
    };
    feed.send((files("api:1"), Some("rev-1".into())))
        .await
        .unwrap();
    let mut config = RunConfig::new(SourceConfig::Feed {
        location: "stale".into(),
        loads,
    });
    config.settings.instance = "stale".into();
    let (_stop, stopped) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel::<Handle>();
    let cloud = sim.cloud();
    tokio::spawn(async move {
        run(
            cloud,
            config,
            None,
            std::sync::Arc::new(NoEvents),
            move |h| {
                let _ = handle_tx.send(h.clone());
            },
            async move {
                let _ = stopped.await;
            },
        )
        .await
    });
    let handle = handle_rx.await.unwrap();
    let key = ResourceKey {
        kind: Kind::Service,
        cluster: Some("shop".into()),
        name: "api".into(),
    };
    let changes = || {
        handle
            .controller
            .status()
            .get(&key)
            .map(|s| s.changes.join("\n"))
            .unwrap_or_default()
    };
    let start = tokio::time::Instant::now();
    // The service's create is in flight, hanging; its status shows the create's changes.
    while !(changes().contains("api:1") && sim.calls().get("CreateService") == Some(&1)) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no changes, or no create: {}",
            changes()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    feed.send((files("api:2"), Some("rev-2".into())))
        .await
        .unwrap();
    // The load is taken within a tick; the stuck reconcile is still in its call.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let now = changes();
    assert!(!now.contains("api:1"), "old changes still shown: {now}");
}

// ---- the source (real time) ------------------------------------------------------------

/// A controller on a real source, in real time, with a fast simulator.
struct Live {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

fn fast_sim() -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        task_start_time: Duration::from_millis(20),
        target_healthy_time: Duration::from_millis(20),
        ..SimConfig::default()
    })
}

impl Live {
    async fn start(sim: &Sim, source: SourceConfig) -> Live {
        let (stop, stopped) = oneshot::channel::<()>();
        let (handle_tx, handle_rx) = oneshot::channel();
        let cloud = sim.cloud();
        let mut config = RunConfig::new(source);
        config.settings.instance = INSTANCE.into();
        config.settings.dependency_wait = Duration::from_millis(100);
        config.rollout_poll = Duration::from_millis(100);
        let task = tokio::spawn(async move {
            run(
                cloud,
                config,
                None,
                std::sync::Arc::new(NoEvents),
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
        Live {
            handle,
            stop: Some(stop),
            task,
        }
    }

    async fn until(&self, case: &str, what: &str, done: impl Fn(&Live) -> bool) {
        let start = std::time::Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{case}: not {what} within 30 s: {:#?}",
                self.handle.controller.status().report()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every resource Synced and Healthy, those an edit changes (all but the worker) at
    /// `revision` when given.
    fn synced_at(&self, revision: Option<&str>) -> bool {
        let report = self.handle.controller.status().report();
        report.resources.len() == 5
            && report.resources.iter().all(|s| {
                s.sync == SyncStatus::Synced
                    && s.health == Health::Healthy
                    && (s.name == "worker"
                        || revision.is_none_or(|r| s.revision.as_deref() == Some(r)))
            })
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

fn write_files(dir: &Path, version: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files(version) {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn mutating_calls(sim: &Sim) -> u64 {
    sim.calls()
        .into_iter()
        .filter(|(op, _)| Operation::from_name(op).is_some_and(|o| !o.is_read()))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_mid_checkout_changes_nothing_until_it_is_whole_again() {
    let case = "directory mid-checkout";
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("manifests");
    write_files(&dir, 1);
    let sim = fast_sim();
    seed_unowned(&sim.endpoints()).await;
    let before = unowned(&sim.endpoints()).await;
    let live = Live::start(
        &sim,
        SourceConfig::Dir {
            path: dir.clone(),
            debounce: Duration::from_millis(20),
        },
    )
    .await;
    live.until(case, "synced", |l| l.synced_at(None)).await;
    let calls = mutating_calls(&sim);
    let revision = live
        .handle
        .controller
        .status()
        .report()
        .source
        .revision
        .unwrap();

    // Half-written: api.yaml cut mid-document (its target group and service are held).
    let api = files(2)
        .into_iter()
        .find(|(n, _)| *n == "api.yaml")
        .unwrap()
        .1;
    std::fs::write(dir.join("api.yaml"), &api[..api.len() / 2]).unwrap();
    // Its resources are held (Unknown, saying why); nothing is changed in AWS.
    live.until(case, "the cut file's resources held", |l| {
        let report = l.handle.controller.status().report();
        report.source.manifest_errors > 0
            && report
                .resources
                .iter()
                .filter(|r| r.name == "api" || r.name == "shop-api")
                .all(|r| r.sync == SyncStatus::Unknown && r.last_error.is_some())
    })
    .await;
    assert_eq!(
        mutating_calls(&sim),
        calls,
        "{case}: a half-written file changed AWS"
    );

    // Gone: the whole directory moved away, as a checkout that swaps directories does.
    let away = root.path().join("away");
    std::fs::rename(&dir, &away).unwrap();
    // The source says so and keeps the last load: every resource still listed.
    live.until(case, "the vanished directory seen", |l| {
        let report = l.handle.controller.status().report();
        report
            .source
            .last_error
            .is_some_and(|e| e.contains("directory is gone"))
    })
    .await;
    let report = live.handle.controller.status().report();
    assert_eq!(report.resources.len(), 5, "{case}: {report:#?}");
    assert_eq!(
        mutating_calls(&sim),
        calls,
        "{case}: a vanished directory changed AWS"
    );

    // Whole again, at version 2: applied.
    std::fs::remove_dir_all(&away).unwrap();
    write_files(&dir, 2);
    live.until(case, "version 2 applied", |l| {
        let source = l.handle.controller.status().report().source;
        source.manifest_errors == 0
            && source.revision.as_deref() != Some(revision.as_str())
            && l.synced_at(source.revision.as_deref())
    })
    .await;
    live.stop().await;
    // The directory source names files by their path: so must the check's documents.
    let loaded = ecs_operator::manifest::load_dir_cached(&dir, &mut Default::default());
    check(case, &sim, &loaded.documents, &before).await;
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(repo)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_fetch_error_changes_nothing_and_the_next_commit_applies() {
    let case = "git fetch error";
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    write_files(&repo, 1);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "v1"]);
    let sim = fast_sim();
    seed_unowned(&sim.endpoints()).await;
    let before = unowned(&sim.endpoints()).await;
    let options = ecs_operator::source::git::GitOptions::new(
        repo.display().to_string(),
        root.path().join("cache"),
    );
    let trigger = std::sync::Arc::new(tokio::sync::Notify::new());
    let live = Live::start(
        &sim,
        SourceConfig::Git {
            options,
            interval: Duration::from_millis(100),
            trigger,
        },
    )
    .await;
    live.until(case, "synced", |l| l.synced_at(None)).await;
    let calls = mutating_calls(&sim);

    // The remote vanishes: fetches fail, the source says so, nothing changes.
    let away = root.path().join("away");
    std::fs::rename(&repo, &away).unwrap();
    live.until(case, "the fetch error shown", |l| {
        l.handle
            .controller
            .status()
            .report()
            .source
            .last_error
            .is_some()
    })
    .await;
    assert_eq!(
        mutating_calls(&sim),
        calls,
        "{case}: a fetch error changed AWS"
    );
    assert!(
        live.synced_at(None),
        "{case}: status changed on a fetch error"
    );

    // Back, with a new commit: applied.
    std::fs::rename(&away, &repo).unwrap();
    write_files(&repo, 2);
    git(&repo, &["commit", "-q", "-am", "v2"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    live.until(case, "the new commit applied", |l| l.synced_at(Some(&sha)))
        .await;
    live.stop().await;
    check(case, &sim, &load(&files(2)).documents, &before).await;
}
