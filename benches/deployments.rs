//! Following deployments (issue 13's figures; results in BENCHMARKS.md), on the simulator on
//! paused tokio time: the figures are virtual seconds and call counts, the same on every run.
//! Run: `cargo bench --bench deployments` (add `-- a` or `-- b` for one part).
//!
//! - (a) First failed task -> rollback call: one ROLLING service (2 tasks, circuit breaker
//!   off), its image changed to one that cannot be pulled; the virtual time from the first
//!   failed task of the new deployment (its `failedTasks` above 0, read every 100 ms) to the
//!   operator's UpdateService back to the last completed revision, at the default crash-loop
//!   threshold (3) and rollout poll (10 s).
//! - (b) Calls per followed deployment per poll at 1,000 services rolling at once: 1,000
//!   BLUE_GREEN services (each with its target group and an alternate) get a new image; while
//!   all 1,000 bake (60 minutes), the read calls of one rollout poll, per followed deployment.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::controller::run::{Handle, RunConfig, SourceConfig, run};
use ecs_operator::manifest::{Loaded, load_str};
use ecs_operator::metrics::Metrics;
use ecs_operator::status::{Health, SyncStatus};
use tokio::sync::{mpsc, oneshot};

/// Services of part (b): `BENCH_SERVICES` (default 1,000).
fn services() -> usize {
    std::env::var("BENCH_SERVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

const CLUSTER: &str =
    "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: bench\nspec: {}\n";

fn tg(name: &str) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata:\n  name: {name}\nspec:\n  protocol: HTTP\n  port: 8000\n  vpcId: vpc-1\n  targetType: ip\n"
    )
}

/// Service `name` running `image` behind `blue`; with `green`, deployed BLUE_GREEN with a
/// 60-minute bake time.
fn service(name: &str, image: &str, blue: &str, green: Option<&str>) -> String {
    let (advanced, deployment) = match green {
        Some(green) => (
            format!(
                ", advancedConfiguration: {{alternateTargetGroupArn: {green}, productionListenerRule: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/bench/1/2/3', roleArn: 'arn:aws:iam::123456789012:role/ecs-elb'}}"
            ),
            "  deploymentConfiguration: {strategy: BLUE_GREEN, bakeTimeInMinutes: 60}\n"
                .to_string(),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  cluster: bench\n  desiredCount: 2\n  launchType: FARGATE\n{deployment}  loadBalancers:\n    - {{targetGroup: {blue}, containerName: app, containerPort: 8000{advanced}}}\n  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [subnet-1]\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: {image}\n        portMappings:\n          - containerPort: 8000\n"
    )
}

fn load(files: Vec<(String, String)>) -> Loaded {
    let mut all = Loaded::default();
    for (name, text) in files {
        let one = load_str(Path::new(&name), &text);
        assert!(one.failed.is_empty(), "{:?}", one.diagnostics);
        all.documents.extend(one.documents);
    }
    all
}

struct Started {
    handle: Handle,
    feed: mpsc::Sender<(Loaded, Option<String>)>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(sim: &Sim, first: Loaded) -> Started {
    let (feed, loads) = mpsc::channel(2);
    feed.send((first, Some("rev-1".into()))).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel();
    let mut config = RunConfig::new(SourceConfig::Feed {
        location: "bench".into(),
        loads,
    });
    config.settings.instance = "bench".into();
    config.resync = Duration::from_secs(6 * 3600);
    config.resync_jitter = 0.0;
    let cloud = sim.cloud();
    let task = tokio::spawn(async move {
        run(
            cloud,
            config,
            None,
            Arc::new(Metrics::new()),
            move |h| {
                let _ = handle_tx.send(h.clone());
            },
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .expect("run");
    });
    let handle = handle_rx.await.expect("run started");
    Started {
        handle,
        feed,
        stop,
        task,
    }
}

async fn converged(handle: &Handle, total: usize) {
    let status = handle.controller.status().clone();
    let t0 = tokio::time::Instant::now();
    loop {
        let report = status.report();
        if report.resources.len() == total
            && report
                .resources
                .iter()
                .all(|r| r.sync == SyncStatus::Synced && r.health == Health::Healthy)
        {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(4 * 3600),
            "did not converge"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

/// (a) first failed task -> rollback call.
fn first_failure_to_rollback() {
    paused().block_on(async {
        let sim = Sim::new(SimConfig {
            throttling: false,
            crashing_images: vec!["app:broken=pull".into()],
            ..SimConfig::default()
        });
        let files = |image: &str| {
            vec![
                ("cluster.yaml".to_string(), CLUSTER.to_string()),
                ("tg.yaml".to_string(), tg("tg-api")),
                ("api.yaml".to_string(), service("api", image, "tg-api", None)),
            ]
        };
        let started = start(&sim, load(files("app:1"))).await;
        converged(&started.handle, 3).await;
        let updates = || sim.calls().get("UpdateService").copied().unwrap_or(0);
        let before = updates();
        started
            .feed
            .send((load(files("app:broken")), Some("rev-2".into())))
            .await
            .unwrap();
        let cloud = sim.endpoints();
        let t0 = tokio::time::Instant::now();
        let (mut failed_at, mut rolled_back_at, mut applied_at) = (None, None, None);
        while rolled_back_at.is_none() {
            assert!(t0.elapsed() < Duration::from_secs(3600), "no rollback");
            tokio::time::sleep(Duration::from_millis(100)).await;
            let n = updates();
            if n > before && applied_at.is_none() {
                applied_at = Some(t0.elapsed());
            }
            if n > before + 1 {
                rolled_back_at = Some(t0.elapsed());
            }
            if failed_at.is_none() {
                let live = cloud
                    .ecs
                    .describe_services("bench", &["api".to_string()])
                    .await
                    .unwrap()
                    .found
                    .remove(0);
                if live.primary().is_some_and(|p| p.failed_tasks > 0) {
                    failed_at = Some(t0.elapsed());
                }
            }
        }
        let (failed, back) = (failed_at.unwrap(), rolled_back_at.unwrap());
        println!("(a) first failed task -> rollback call (ROLLING, threshold 3, poll 10 s, task start 10 s)");
        println!(
            "    change applied at {:.1} s; first failed task at {:.1} s; rollback UpdateService at {:.1} s",
            applied_at.unwrap().as_secs_f64(),
            failed.as_secs_f64(),
            back.as_secs_f64()
        );
        println!(
            "    first failed task -> rollback call: {:.1} s",
            (back - failed).as_secs_f64()
        );
        let _ = started.stop.send(());
        started.task.await.unwrap();
    });
}

/// (b) calls per followed deployment per poll, `services()` BLUE_GREEN services baking.
fn calls_per_poll() {
    paused().block_on(async {
        let n = services();
        let sim = Sim::new(SimConfig {
            throttling: false,
            ..SimConfig::default()
        });
        let files = |image: &str| {
            let mut files = vec![("cluster.yaml".to_string(), CLUSTER.to_string())];
            for i in 0..n {
                let (name, blue, green) =
                    (format!("svc-{i:04}"), format!("b-{i:04}"), format!("g-{i:04}"));
                let text = format!(
                    "{}---\n{}---\n{}",
                    tg(&blue),
                    tg(&green),
                    service(&name, &format!("{image}-{i}"), &blue, Some(&green))
                );
                files.push((format!("{name}.yaml"), text));
            }
            files
        };
        let started = start(&sim, load(files("app:1"))).await;
        converged(&started.handle, 1 + 3 * n).await;
        started
            .feed
            .send((load(files("app:2")), Some("rev-2".into())))
            .await
            .unwrap();
        // Every service applied, and every rollout in its bake time.
        let t0 = tokio::time::Instant::now();
        loop {
            let baking = (0..n)
                .filter(|i| {
                    sim.deployment_run("bench", &format!("svc-{i:04}"))
                        .and_then(|r| r.stages.last().map(|(s, _)| *s))
                        == Some(ecs_operator::cloud::model::LifecycleStage::BakeTime)
                })
                .count();
            if baking == n {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(3000), "{baking} of {n} baking");
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let reached = t0.elapsed();
        // Two polls later (the status has caught up), measure over 10 polls.
        tokio::time::sleep(Duration::from_secs(20)).await;
        sim.reset_calls();
        let polls = 10u32;
        tokio::time::sleep(Duration::from_secs(10) * polls).await;
        let calls: BTreeMap<String, u64> = sim.calls();
        let reads: u64 = calls
            .iter()
            .filter(|(op, _)| op.starts_with("Describe") || op.starts_with("List"))
            .map(|(_, c)| c)
            .sum();
        let per = reads as f64 / f64::from(polls) / n as f64;
        println!("(b) {n} BLUE_GREEN deployments followed at once, all in BAKE_TIME (reached {:.0} s after the change)", reached.as_secs_f64());
        println!("    over {polls} polls of 10 s: {calls:?}");
        println!("    read calls per followed deployment per poll: {per:.3}");
        let _ = started.stop.send(());
        started.task.await.unwrap();
    });
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |part: &str| filter.is_empty() || filter.iter().any(|f| f == part);
    if wants("a") {
        first_failure_to_rollback();
    }
    if wants("b") {
        calls_per_poll();
    }
}
