//! `/metrics` scraped over HTTP after the controller worked on the simulator: the API call
//! counts equal the calls the simulator saw, a drift is counted once, a crash-loop rollback
//! once, and the gauges describe the resources, the queue and the source.
//!
//! The scenario runs on paused tokio time (minutes of rollouts and resyncs in milliseconds);
//! time is resumed before the scrape, which goes over a real loopback socket.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ecs_operator::cloud::model::UpdateService;
use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::controller::run::{Handle, Http, RunConfig, SourceConfig, run};
use ecs_operator::manifest::{Loaded, load_str};
use ecs_operator::metrics::{Metrics, instrument};
use ecs_operator::ratelimit::{RateLimited, RateLimits};
use ecs_operator::status::Health;
use tokio::sync::{mpsc, oneshot};

const CLUSTER: &str =
    "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec: {}\n";

fn service(name: &str, image: &str, count: u32) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  cluster: shop\n  desiredCount: {count}\n  launchType: FARGATE\n  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [subnet-1]\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: {image}\n"
    )
}

fn load(api_image: &str) -> Loaded {
    let mut all = Loaded::default();
    for (name, text) in [
        ("cluster.yaml", CLUSTER.to_string()),
        ("api.yaml", service("api", api_image, 2)),
        ("worker.yaml", service("worker", "worker:1", 1)),
    ] {
        let one = load_str(Path::new(name), &text);
        assert!(one.failed.is_empty());
        all.documents.extend(one.documents);
    }
    all
}

/// `name{labels} value` lines of the exposition, by `name{labels}`.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
}

#[tokio::test(start_paused = true)]
async fn metrics_over_http_match_what_the_controller_did() {
    let sim = Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    });
    sim.set_crashing_images(vec!["api:bad".into()]);
    let metrics = Metrics::new();
    let cloud = RateLimited::with_wait_hook(
        instrument(sim.cloud(), &metrics),
        &RateLimits::default(),
        metrics.rate_limit_hook(),
    )
    .cloud();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (feed, loads) = mpsc::channel(4);
    feed.send((load("api:1"), Some("rev-1".into())))
        .await
        .unwrap();
    let mut config = RunConfig::new(SourceConfig::Feed {
        location: "test".into(),
        loads,
    });
    config.settings.instance = "metrics-test".into();
    config.resync = Duration::from_secs(60);
    config.resync_jitter = 0.0;
    config.rollout_poll = Duration::from_secs(5);
    let (stop, stopped) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel::<Handle>();
    let events = metrics.clone();
    let text = metrics.clone();
    let task = tokio::spawn(async move {
        run(
            cloud,
            config,
            Some(Http {
                listener,
                webhook: None,
                metrics: Some(std::sync::Arc::new(move || text.encode())),
                limits: Default::default(),
            }),
            std::sync::Arc::new(events),
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
    let status = handle.controller.status().clone();
    until("healthy", || {
        status.is_ready()
            && status
                .report()
                .resources
                .iter()
                .all(|r| r.health == Health::Healthy)
    })
    .await;

    // A drift, healed at the next resync (60 s).
    sim.cloud()
        .ecs
        .update_service(&UpdateService {
            cluster: "shop".into(),
            name: "worker".into(),
            desired_count: Some(3),
            ..UpdateService::default()
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(70)).await;

    // A crash loop, rolled back.
    feed.send((load("api:bad"), Some("rev-2".into())))
        .await
        .unwrap();
    until("rolled back", || {
        status.report().resources.iter().any(|r| {
            r.message
                .as_deref()
                .unwrap_or("")
                .contains("rolled back to")
        })
    })
    .await;
    // Let the rollback go on a little, then stop the clock and scrape for real (the gauges are
    // read at the scrape).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let calls = sim.calls();
    tokio::time::resume();
    let (code, body) =
        ecs_operator::http_client::get(&format!("http://{addr}/metrics"), Duration::from_secs(5))
            .await
            .unwrap();
    assert_eq!(code, 200);
    let m = samples(&body);

    // Every call the simulator saw, counted once with outcome ok (no faults here). The drift
    // made by hand above went around the instrumented client: take it off.
    for (op, n) in &calls {
        let by_hand = u64::from(op == "UpdateService");
        let service = if ecs_operator::metrics::ECS_OPERATIONS.contains(&op.as_str()) {
            "ecs"
        } else {
            "elbv2"
        };
        let series = format!(
            "ecs_operator_api_requests_total{{operation=\"{op}\",outcome=\"ok\",service=\"{service}\"}}"
        );
        assert_eq!(value(&m, &series) as u64, n - by_hand, "{series}");
    }
    assert_eq!(
        value(&m, "ecs_operator_drift_detected_total{kind=\"Service\"}"),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_rollouts_total{result=\"rolled_back\",strategy=\"rolling\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_rollouts_total{result=\"completed\",strategy=\"rolling\"}"
        ),
        2.0,
        "api and worker rolled out once each"
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_reconcile_total{kind=\"Service\",result=\"failed\"}"
        ),
        0.0
    );
    assert!(
        value(
            &m,
            "ecs_operator_reconcile_total{kind=\"Service\",result=\"applied\"}"
        ) >= 4.0
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_resources{health=\"Degraded\",kind=\"Service\",sync_status=\"OutOfSync\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_resources{health=\"Healthy\",kind=\"Service\",sync_status=\"Synced\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_resource_info{cluster=\"shop\",health=\"Degraded\",kind=\"Service\",name=\"api\",sync_status=\"OutOfSync\"}"
        ),
        1.0
    );
    assert_eq!(
        value(&m, "ecs_operator_source_info{revision=\"rev-2\"}"),
        1.0
    );
    assert_eq!(value(&m, "ecs_operator_manifest_errors"), 0.0);
    assert_eq!(value(&m, "ecs_operator_workqueue_depth"), 0.0);
    assert_eq!(value(&m, "ecs_operator_workqueue_retries_total"), 0.0);
    assert!(value(&m, "ecs_operator_last_sync_timestamp_seconds") > 1.7e9);
    let waits: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("ecs_operator_ratelimit_wait_seconds_count"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        waits as u64,
        calls.values().sum::<u64>() - 1,
        "one wait observed per rate-limited call"
    );
    assert!(body.contains("process_resident_memory_bytes"));

    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

/// Advances virtual time a second at a time until `done` holds (at most 10 minutes).
async fn until(what: &str, done: impl Fn() -> bool) {
    let start = tokio::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(600), "not {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The first scrape after `/readyz` turns 200 already lists every resource in
/// `ecs_operator_resource_info` (the gauges are read from the status board at the scrape, not
/// filled on a timer that may not have run yet).
#[tokio::test(start_paused = true)]
async fn a_scrape_right_after_readiness_has_every_resource() {
    let sim = Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    });
    let metrics = Metrics::new();
    let cloud = instrument(sim.cloud(), &metrics);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (feed, loads) = mpsc::channel(4);
    feed.send((load("api:1"), Some("rev-1".into())))
        .await
        .unwrap();
    let config = RunConfig::new(SourceConfig::Feed {
        location: "test".into(),
        loads,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel::<Handle>();
    let events = metrics.clone();
    let text = metrics.clone();
    let task = tokio::spawn(async move {
        run(
            cloud,
            config,
            Some(Http {
                listener,
                webhook: None,
                metrics: Some(std::sync::Arc::new(move || text.encode())),
                limits: Default::default(),
            }),
            std::sync::Arc::new(events),
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
    let status = handle.controller.status().clone();
    // Virtual time in 10 ms steps until ready, then at once (real time) /readyz and /metrics.
    let start = tokio::time::Instant::now();
    while !status.is_ready() {
        assert!(start.elapsed() < Duration::from_secs(600), "never ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::resume();
    let get = |path: &str| {
        let url = format!("http://{addr}{path}");
        async move {
            ecs_operator::http_client::get(&url, Duration::from_secs(5))
                .await
                .unwrap()
        }
    };
    assert_eq!(get("/readyz").await.0, 200);
    let (code, body) = get("/metrics").await;
    assert_eq!(code, 200);
    let info: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("ecs_operator_resource_info{"))
        .collect();
    for (kind, cluster, name) in [
        ("Cluster", "", "shop"),
        ("Service", "shop", "api"),
        ("Service", "shop", "worker"),
    ] {
        let labels = format!("cluster=\"{cluster}\",health=");
        assert!(
            info.iter().any(|l| l.contains(&format!("kind=\"{kind}\""))
                && l.contains(&format!("name=\"{name}\""))
                && l.contains(&labels)
                && l.ends_with(" 1")),
            "{kind} {name} missing from the first scrape after ready: {info:#?}"
        );
    }
    assert_eq!(info.len(), 3, "{info:#?}");
    assert!(
        body.contains("ecs_operator_source_info{revision=\"rev-1\"} 1"),
        "{body}"
    );
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
