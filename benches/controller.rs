//! The controller (`run`) on the simulator with AWS's throttling buckets (issue 5's figures;
//! results in BENCHMARKS.md). Run: `cargo bench --bench controller` (add `-- a`, `-- b` or
//! `-- c` for one part).
//!
//! - (a) Converge 1,000 services, each behind its own target group, from an empty account, on
//!   virtual (paused) time: the time until every resource is Synced, against the lower bound
//!   RegisterTaskDefinition's bucket imposes (burst 20, then 1 per second), and the number of
//!   throttled responses (the simulator throttles like AWS; the client-side limiter should make
//!   that zero).
//! - (b) A resync with nothing changed at that size: read calls against the batching minimum,
//!   and mutating calls (0 expected).
//! - (c) Change latency on real time: with the 1,000 services loaded from a watched directory,
//!   the time from saving one file to the first mutating call, over 20 saves.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::controller::run::{Handle, RunConfig, SourceConfig, run};
use ecs_operator::manifest::{Loaded, load_str};
use ecs_operator::metrics::{Metrics, instrument};
use ecs_operator::ratelimit::{RateLimited, RateLimits};
use ecs_operator::status::{Health, SyncStatus};
use tokio::sync::{mpsc, oneshot};

/// Services in the benchmark: `BENCH_SERVICES` (default 1,000), e.g. `BENCH_SERVICES=10000
/// cargo bench --bench controller -- c` for issue 15's figures at 10,000.
fn services() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("BENCH_SERVICES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000)
    })
}

fn cluster() -> String {
    "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: bench\nspec: {}\n".into()
}

fn service_file(i: usize, count: u32) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata:\n  name: tg-{i:04}\nspec:\n  protocol: HTTP\n  port: 8000\n  vpcId: vpc-1\n  targetType: ip\n---\napiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: svc-{i:04}\nspec:\n  cluster: bench\n  desiredCount: {count}\n  launchType: FARGATE\n  loadBalancers:\n    - {{targetGroup: tg-{i:04}, containerName: app, containerPort: 8000}}\n  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [subnet-1]\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: app:{i}\n        portMappings:\n          - containerPort: 8000\n"
    )
}

fn manifests() -> Loaded {
    let mut all = Loaded::default();
    let mut add = |name: String, text: String| {
        let one = load_str(Path::new(&name), &text);
        assert!(one.failed.is_empty(), "{:?}", one.diagnostics);
        all.documents.extend(one.documents);
    };
    add("cluster.yaml".into(), cluster());
    for i in 0..services() {
        add(format!("svc-{i:04}.yaml"), service_file(i, 1));
    }
    all
}

fn is_read(op: &str) -> bool {
    op.starts_with("Describe") || op.starts_with("List")
}

fn sum(calls: &BTreeMap<String, u64>, read: bool) -> u64 {
    calls
        .iter()
        .filter(|(op, _)| is_read(op) == read)
        .map(|(_, n)| n)
        .sum()
}

struct Started {
    handle: Handle,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(
    cloud: ecs_operator::cloud::Cloud,
    source: SourceConfig,
    metrics: Metrics,
) -> Started {
    let (stop, stopped) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel();
    let mut config = RunConfig::new(source);
    config.settings.instance = "bench".into();
    config.resync = Duration::from_secs(3600);
    config.resync_jitter = 0.0;
    let task = tokio::spawn(async move {
        run(
            cloud,
            config,
            None,
            Arc::new(metrics),
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
    // The handle arrives once the first load is in.
    let handle = handle_rx.await.expect("run started");
    Started { handle, stop, task }
}

/// This process's CPU time (user + system) from /proc (10 ms ticks).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn throttled(metrics: &Metrics) -> f64 {
    metrics
        .encode()
        .lines()
        .filter(|l| {
            l.starts_with("ecs_operator_api_requests_total") && l.contains("outcome=\"throttled\"")
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// (a) and (b), on paused time.
fn converge_and_resync() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Sim::new(SimConfig::default()); // AWS's buckets, throttling on
        let metrics = Metrics::new();
        let cloud = RateLimited::with_wait_hook(
            instrument(sim.cloud(), &metrics),
            &RateLimits::default(),
            metrics.rate_limit_hook(),
        )
        .cloud();
        let (feed, loads) = mpsc::channel(2);
        feed.send((manifests(), Some("rev-1".into()))).await.unwrap();
        let t0 = tokio::time::Instant::now();
        let started = start(
            cloud,
            SourceConfig::Feed {
                location: "bench".into(),
                loads,
            },
            metrics.clone(),
        )
        .await;
        let status = started.handle.controller.status().clone();
        let total = 1 + 2 * services();
        let mut synced_at = None;
        loop {
            let report = status.report();
            let synced = report.resources.len() == total
                && report.resources.iter().all(|r| r.sync == SyncStatus::Synced);
            if synced && synced_at.is_none() {
                synced_at = Some(t0.elapsed());
            }
            if synced && report.resources.iter().all(|r| r.health == Health::Healthy) {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(4 * 3600), "did not converge");
            // Every poll copies the whole report (one record per resource): half a virtual
            // second per 1,000 services keeps the polls' real time constant as the fleet, and
            // the virtual time to converge, grow (0.05 % of the floor at any size).
            let poll_ms = 500 * (services() as u64).div_ceil(1000);
            tokio::time::sleep(Duration::from_millis(poll_ms)).await;
        }
        let synced_at = synced_at.unwrap();
        let healthy_at = t0.elapsed();
        let calls = sim.calls();
        let registers = calls.get("RegisterTaskDefinition").copied().unwrap_or(0);
        // RegisterTaskDefinition: burst 20, then 1 per second.
        let bound = (registers.saturating_sub(20)) as f64;
        println!("(a) converge {n} services + {n} target groups + 1 cluster from empty (virtual time)", n = services());
        println!("    all Synced after {:.1} s; all Healthy after {:.1} s", synced_at.as_secs_f64(), healthy_at.as_secs_f64());
        println!("    RegisterTaskDefinition calls: {registers}; lower bound {bound:.0} s; ratio (Synced) {:.3}", synced_at.as_secs_f64() / bound);
        println!("    throttled responses from the simulator: {}", throttled(&metrics));
        println!("    calls: {} reads, {} mutating", sum(&calls, true), sum(&calls, false));

        // (b) a resync with nothing changed.
        sim.reset_calls();
        let before = throttled(&metrics);
        let cpu_before = cpu();
        let queued = started
            .handle
            .controller
            .full_sync(|keys| {
                for k in keys {
                    started.handle.queues.enqueue(k.clone());
                }
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let resync_cpu = cpu() - cpu_before;
        let calls = sim.calls();
        // Batching minimum: 1 DescribeClusters, 100 DescribeServices (10 each), 3
        // DescribeTargetGroups (pages of 400 from 400 names on, else 20 names a call), 50
        // DescribeTags (20 ARNs); no attribute reads (their tags match). The attribute checks
        // due (a share of the groups per resync) are counted in the reads.
        let groups = if services() >= ecs_operator::observe::PAGE_FROM_NAMES {
            services().div_ceil(ecs_operator::cloud::MAX_TARGET_GROUP_PAGE)
        } else {
            services().div_ceil(20)
        };
        let minimum = 1 + services().div_ceil(10) + groups + services().div_ceil(20);
        let reads = sum(&calls, true);
        println!("(b) resync with nothing changed at {} services", services());
        println!("    read calls {reads} (minimum {minimum}, ratio {:.3}); mutating calls {}; queued {}; throttled {}", reads as f64 / minimum as f64, sum(&calls, false), queued.len(), throttled(&metrics) - before);
        println!("    CPU of the resync (full sync and the reconciles it queued): {:.2} s", resync_cpu.as_secs_f64());
        println!("    by operation: {calls:?}");
        let _ = started.stop.send(());
        started.task.await.unwrap();
    });
}

/// (c) on real time: file saved -> first mutating call.
fn change_latency() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cluster.yaml"), cluster()).unwrap();
        for i in 0..services() {
            std::fs::write(dir.path().join(format!("svc-{i:04}.yaml")), service_file(i, 1)).unwrap();
        }
        // Real time: no simulated throttling (converging would take 1,000 s of registrations).
        let sim = Sim::new(SimConfig {
            throttling: false,
            ..SimConfig::default()
        });
        // No client-side limiter either: with it the first convergence would wait 1,000 s for
        // registrations; at steady state its buckets are full and it adds no wait.
        let started = start(
            sim.cloud(),
            SourceConfig::Dir {
                path: dir.path().to_path_buf(),
                debounce: Duration::from_millis(100),
            },
            Metrics::new(),
        )
        .await;
        let status = started.handle.controller.status().clone();
        let t0 = Instant::now();
        while !(status.is_ready()
            && status.report().resources.len() == 1 + 2 * services()
            && status.report().resources.iter().all(|r| r.sync == SyncStatus::Synced))
        {
            assert!(t0.elapsed() < Duration::from_secs(600), "did not converge");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("(c) change latency, {} services loaded from a watched directory (real time, debounce 100 ms)", services());
        println!("    initial convergence without throttling: {:.1} s", t0.elapsed().as_secs_f64());
        let mutating = || sum(&sim.calls(), false);
        let mut latencies = Vec::new();
        for round in 0..20u32 {
            let i = (round as usize * 37) % services();
            let before = mutating();
            let text = service_file(i, 2 + round);
            let saved = Instant::now();
            std::fs::write(dir.path().join(format!("svc-{i:04}.yaml")), text).unwrap();
            while mutating() == before {
                assert!(saved.elapsed() < Duration::from_secs(10), "no call after a save");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            latencies.push(saved.elapsed());
            // Let the reconcile finish before the next save.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "    save -> first mutating call over 20 saves: p50 {:.0} ms, p90 {:.0} ms, min {:.0} ms, max {:.0} ms",
            ms(latencies[9]),
            ms(latencies[17]),
            ms(latencies[0]),
            ms(latencies[19])
        );
        let _ = started.stop.send(());
        started.task.await.unwrap();
    });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(hwm) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        println!(
            "    peak RSS of the process (controller + simulator): {}",
            hwm.trim_start_matches("VmHWM:").trim()
        );
    }
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |p: &str| which.is_empty() || which.iter().any(|w| w == p);
    if want("a") || want("b") {
        converge_and_resync();
    }
    if want("c") {
        change_latency();
    }
}
