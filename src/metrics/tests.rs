//! (Over 600 lines: one harness that reads the exposition back, shared by every metric's test.)
//!
//! Tests of [`Metrics`]: values read back from the text exposition, the instrumented simulator
//! and the rate limiter's wait hook on paused tokio time.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::*;
use crate::cloud::model::DeploymentStrategy;
use crate::cloud::sim::{Fault, Sim, SimConfig};
use crate::connect::{BackendKind, BackendOptions, connect};
use crate::manifest::ResourceKey;
use crate::ratelimit::{RateLimits, Shape};

/// One sample of the exposition: metric name and labels.
type Series = (String, BTreeMap<String, String>);

/// Parses the text exposition format into samples (comments skipped).
pub(crate) fn parse(text: &str) -> Vec<(Series, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("NAME VALUE");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => (name.to_string(), parse_labels(rest.trim_end_matches('}'))),
        };
        out.push(((name, labels), value));
    }
    out
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return labels;
        }
        assert_eq!(chars.next(), Some('"'), "label value opens with a quote");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(name.trim_start_matches(',').to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
}

/// The value of the one sample named `name` with exactly `labels`, if present.
fn value(metrics: &Metrics, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse(&metrics.encode())
        .into_iter()
        .find(|((n, l), _)| n == name && *l == want)
        .map(|(_, v)| v)
}

/// Every sample named `name`.
fn samples(metrics: &Metrics, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    parse(&metrics.encode())
        .into_iter()
        .filter(|((n, _), _)| n == name)
        .map(|((_, l), v)| (l, v))
        .collect()
}

fn status(
    kind: Kind,
    cluster: Option<&str>,
    name: &str,
    sync: SyncStatus,
    health: Health,
) -> ResourceStatus {
    let mut s = ResourceStatus::unknown(&ResourceKey {
        kind,
        cluster: cluster.map(str::to_string),
        name: name.into(),
    });
    s.sync = sync;
    s.health = health;
    s
}

#[test]
fn a_new_registry_exports_zeros_for_closed_label_sets() {
    let m = Metrics::try_new().expect("registers");
    for kind in Kind::ALL {
        for result in ReconcileResult::ALL {
            let labels = [("kind", kind.as_str()), ("result", result.as_str())];
            assert_eq!(
                value(&m, "ecs_operator_reconcile_total", &labels),
                Some(0.0)
            );
        }
        let labels = [("kind", kind.as_str())];
        assert_eq!(
            value(&m, "ecs_operator_drift_detected_total", &labels),
            Some(0.0)
        );
        assert_eq!(
            value(&m, "ecs_operator_reconcile_duration_seconds_count", &labels),
            Some(0.0)
        );
    }
    for result in ["completed", "failed", "rolled_back"] {
        for strategy in ["rolling", "blue_green", "linear", "canary"] {
            assert_eq!(
                value(
                    &m,
                    "ecs_operator_rollouts_total",
                    &[("result", result), ("strategy", strategy)]
                ),
                Some(0.0)
            );
        }
    }
    for stage in ["rolling", "pre_scale_up", "bake_time", "clean_up"] {
        assert_eq!(
            value(
                &m,
                "ecs_operator_deployments_in_progress",
                &[("stage", stage)]
            ),
            Some(0.0)
        );
    }
    for reason in ["image_pull", "secret", "exit_code", "health_check", "other"] {
        assert_eq!(
            value(
                &m,
                "ecs_operator_rollout_failures_total",
                &[("reason", reason)]
            ),
            Some(0.0)
        );
    }
    let throttled = [
        ("service", "ecs"),
        ("operation", "DescribeServices"),
        ("outcome", "throttled"),
    ];
    assert_eq!(
        value(&m, "ecs_operator_api_requests_total", &throttled),
        Some(0.0)
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_ratelimit_wait_seconds_count",
            &[("bucket", "task-definition-modify")]
        ),
        Some(0.0)
    );
    assert_eq!(value(&m, "ecs_operator_workqueue_depth", &[]), Some(0.0));
    assert_eq!(
        value(&m, "ecs_operator_workqueue_retries_total", &[]),
        Some(0.0)
    );
    assert_eq!(value(&m, "ecs_operator_manifest_errors", &[]), Some(0.0));
    assert_eq!(
        value(&m, "ecs_operator_last_sync_timestamp_seconds", &[]),
        Some(0.0)
    );
    assert_eq!(samples(&m, "ecs_operator_resources").len(), 4 * 4 * 5);
    #[cfg(target_os = "linux")]
    assert!(
        value(&m, "process_resident_memory_bytes", &[]).is_some_and(|v| v > 0.0),
        "process metrics"
    );
}

#[test]
fn reconcile_counts_by_kind_and_result_and_observes_the_duration() {
    let m = Metrics::new();
    m.reconcile(
        Kind::Service,
        ReconcileResult::Applied,
        Duration::from_millis(300),
    );
    m.reconcile(
        Kind::Service,
        ReconcileResult::Applied,
        Duration::from_millis(200),
    );
    m.reconcile(
        Kind::Service,
        ReconcileResult::Failed,
        Duration::from_secs(2),
    );
    m.reconcile(
        Kind::Cluster,
        ReconcileResult::InSync,
        Duration::from_millis(10),
    );
    let total = |kind: &str, result: &str| {
        value(
            &m,
            "ecs_operator_reconcile_total",
            &[("kind", kind), ("result", result)],
        )
    };
    assert_eq!(total("Service", "applied"), Some(2.0));
    assert_eq!(total("Service", "failed"), Some(1.0));
    assert_eq!(total("Service", "in_sync"), Some(0.0));
    assert_eq!(total("Cluster", "in_sync"), Some(1.0));
    let service = [("kind", "Service")];
    assert_eq!(
        value(
            &m,
            "ecs_operator_reconcile_duration_seconds_count",
            &service
        ),
        Some(3.0)
    );
    let sum = value(&m, "ecs_operator_reconcile_duration_seconds_sum", &service).unwrap();
    assert!((sum - 2.5).abs() < 1e-9, "{sum}");
    let le_half = [("kind", "Service"), ("le", "0.5")];
    assert_eq!(
        value(
            &m,
            "ecs_operator_reconcile_duration_seconds_bucket",
            &le_half
        ),
        Some(2.0)
    );
}

#[test]
fn set_resources_replaces_info_and_counts_so_removed_resources_disappear() {
    let m = Metrics::new();
    let api = status(
        Kind::Service,
        Some("shop"),
        "api",
        SyncStatus::OutOfSync,
        Health::Degraded,
    );
    let web = status(
        Kind::Service,
        Some("shop"),
        "web",
        SyncStatus::Synced,
        Health::Healthy,
    );
    let shop = status(
        Kind::Cluster,
        None,
        "shop",
        SyncStatus::Synced,
        Health::Healthy,
    );
    m.set_resources(&[api.clone(), web, shop]);
    let info = samples(&m, "ecs_operator_resource_info");
    assert_eq!(info.len(), 3);
    let api_labels = [
        ("kind", "Service"),
        ("cluster", "shop"),
        ("name", "api"),
        ("sync_status", "OutOfSync"),
        ("health", "Degraded"),
    ];
    assert_eq!(
        value(&m, "ecs_operator_resource_info", &api_labels),
        Some(1.0)
    );
    let cluster_labels = [
        ("kind", "Cluster"),
        ("cluster", ""),
        ("name", "shop"),
        ("sync_status", "Synced"),
        ("health", "Healthy"),
    ];
    assert_eq!(
        value(&m, "ecs_operator_resource_info", &cluster_labels),
        Some(1.0)
    );
    let count = |kind: &str, sync: &str, health: &str| {
        value(
            &m,
            "ecs_operator_resources",
            &[("kind", kind), ("sync_status", sync), ("health", health)],
        )
    };
    assert_eq!(count("Service", "Synced", "Healthy"), Some(1.0));
    assert_eq!(count("Service", "OutOfSync", "Degraded"), Some(1.0));
    assert_eq!(count("Cluster", "Synced", "Healthy"), Some(1.0));
    assert_eq!(count("TargetGroup", "Synced", "Healthy"), Some(0.0));

    // api is fixed, web and the cluster are gone.
    let mut fixed = api;
    fixed.sync = SyncStatus::Synced;
    fixed.health = Health::Healthy;
    m.set_resources(&[fixed]);
    let info = samples(&m, "ecs_operator_resource_info");
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].0["name"], "api");
    assert_eq!(info[0].0["sync_status"], "Synced");
    assert_eq!(count("Service", "Synced", "Healthy"), Some(1.0));
    assert_eq!(count("Service", "OutOfSync", "Degraded"), Some(0.0));
    assert_eq!(count("Cluster", "Synced", "Healthy"), Some(0.0));
}

#[test]
fn queue_retries_grow_by_the_delta_of_the_cumulative_count() {
    let m = Metrics::new();
    m.set_queue(4, 3);
    assert_eq!(value(&m, "ecs_operator_workqueue_depth", &[]), Some(4.0));
    assert_eq!(
        value(&m, "ecs_operator_workqueue_retries_total", &[]),
        Some(3.0)
    );
    m.set_queue(1, 3);
    assert_eq!(
        value(&m, "ecs_operator_workqueue_retries_total", &[]),
        Some(3.0)
    );
    m.set_queue(0, 5);
    assert_eq!(value(&m, "ecs_operator_workqueue_depth", &[]), Some(0.0));
    assert_eq!(
        value(&m, "ecs_operator_workqueue_retries_total", &[]),
        Some(5.0)
    );
    // A new queue counts from zero again: its 2 retries are new ones.
    m.set_queue(0, 2);
    assert_eq!(
        value(&m, "ecs_operator_workqueue_retries_total", &[]),
        Some(7.0)
    );
}

#[test]
fn drift_rollouts_manifest_errors_source_and_last_sync() {
    let m = Metrics::new();
    m.drift_detected(Kind::Service);
    m.rollout(RolloutResult::RolledBack, DeploymentStrategy::Rolling);
    m.rollout(RolloutResult::Completed, DeploymentStrategy::Rolling);
    m.rollout(RolloutResult::Completed, DeploymentStrategy::Rolling);
    m.set_manifest_errors(2);
    m.set_source_revision("abc123");
    m.set_source_revision("def456");
    m.set_last_sync(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    assert_eq!(
        value(
            &m,
            "ecs_operator_drift_detected_total",
            &[("kind", "Service")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_drift_detected_total",
            &[("kind", "Cluster")]
        ),
        Some(0.0)
    );
    m.rollout_failure(crate::rollout::stop_reason::StopReason::ImagePull);
    let failures = |r: &str| value(&m, "ecs_operator_rollout_failures_total", &[("reason", r)]);
    assert_eq!(failures("image_pull"), Some(1.0));
    assert_eq!(failures("secret"), Some(0.0));
    let rollouts = |r: &str| {
        value(
            &m,
            "ecs_operator_rollouts_total",
            &[("result", r), ("strategy", "rolling")],
        )
    };
    assert_eq!(rollouts("rolled_back"), Some(1.0));
    assert_eq!(rollouts("completed"), Some(2.0));
    assert_eq!(rollouts("failed"), Some(0.0));
    assert_eq!(value(&m, "ecs_operator_manifest_errors", &[]), Some(2.0));
    let source = samples(&m, "ecs_operator_source_info");
    assert_eq!(source.len(), 1, "the old revision is gone: {source:?}");
    assert_eq!(source[0].0["revision"], "def456");
    assert_eq!(source[0].1, 1.0);
    assert_eq!(
        value(&m, "ecs_operator_last_sync_timestamp_seconds", &[]),
        Some(1_700_000_000.0)
    );
}

#[test]
fn rollout_results_follow_final_rollout_statuses() {
    use crate::rollout::RolloutStatus;
    assert_eq!(
        RolloutResult::from_status(&RolloutStatus::RolledBack { to: "api:3".into() }),
        Some(RolloutResult::RolledBack)
    );
    assert_eq!(
        RolloutResult::from_status(&RolloutStatus::Completed { running: 2 }),
        Some(RolloutResult::Completed)
    );
    assert_eq!(
        RolloutResult::from_status(&RolloutStatus::Progressing {
            running: 1,
            desired: 2,
            failed: 0
        }),
        None
    );
}

#[test]
fn label_values_are_escaped_in_the_exposition() {
    let m = Metrics::new();
    m.set_source_revision("we\"ird\\rev\nx");
    let source = samples(&m, "ecs_operator_source_info");
    assert_eq!(source[0].0["revision"], "we\"ird\\rev\nx");
}

#[tokio::test(start_paused = true)]
async fn the_instrumented_simulator_counts_every_call_with_its_outcome() {
    let sim = Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    });
    let m = Metrics::new();
    let cloud = instrument(sim.cloud(), &m);
    sim.inject("DescribeClusters", Fault::FailNext(2, ErrorKind::Throttled));
    sim.inject(
        "DescribeTargetGroups",
        Fault::FailNext(1, ErrorKind::NotFound),
    );
    sim.inject(
        "DescribeServices",
        Fault::Latency(Duration::from_millis(700)),
    );
    let names = vec!["shop".to_string()];
    let mut errors = 0;
    for _ in 0..5 {
        if cloud.ecs.describe_clusters(&names).await.is_err() {
            errors += 1;
        }
    }
    assert_eq!(errors, 2);
    for _ in 0..3 {
        let _ = cloud.elbv2.describe_target_groups_page(None, 10).await;
    }
    cloud
        .ecs
        .describe_services("shop", &["api".to_string()])
        .await
        .ok();

    let calls = |service: &str, op: &str, outcome: &str| {
        value(
            &m,
            "ecs_operator_api_requests_total",
            &[
                ("service", service),
                ("operation", op),
                ("outcome", outcome),
            ],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(calls("ecs", "DescribeClusters", "throttled"), 2.0);
    assert_eq!(calls("ecs", "DescribeClusters", "ok"), 3.0);
    assert_eq!(calls("elbv2", "DescribeTargetGroups", "not_found"), 1.0);
    assert_eq!(calls("elbv2", "DescribeTargetGroups", "ok"), 2.0);
    let counted: f64 = samples(&m, "ecs_operator_api_requests_total")
        .iter()
        .map(|(_, v)| v)
        .sum();
    let made: u64 = sim.calls().values().sum();
    assert_eq!(made, 9);
    assert_eq!(
        counted, made as f64,
        "every call the simulator saw is counted once"
    );

    let services = [("service", "ecs"), ("operation", "DescribeServices")];
    assert_eq!(
        value(
            &m,
            "ecs_operator_api_request_duration_seconds_count",
            &services
        ),
        Some(1.0)
    );
    let sum = value(
        &m,
        "ecs_operator_api_request_duration_seconds_sum",
        &services,
    )
    .unwrap();
    assert!(
        (sum - 0.7).abs() < 1e-6,
        "the injected latency is measured: {sum}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_wait_hook_observes_token_waits_per_bucket() {
    let sim = Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    });
    let m = Metrics::new();
    let limits = RateLimits::default().with(
        Bucket::ClusterRead,
        Shape {
            burst: 2,
            refill_per_second: 2.0,
        },
    );
    let cloud = crate::ratelimit::RateLimited::with_wait_hook(
        instrument(sim.cloud(), &m),
        &limits,
        m.rate_limit_hook(),
    )
    .cloud();
    let names = vec!["shop".to_string()];
    let start = tokio::time::Instant::now();
    for _ in 0..4 {
        cloud.ecs.describe_clusters(&names).await.unwrap();
    }
    // Two at once, then one every half second.
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    let bucket = [("bucket", "cluster-read")];
    assert_eq!(
        value(&m, "ecs_operator_ratelimit_wait_seconds_count", &bucket),
        Some(4.0)
    );
    let sum = value(&m, "ecs_operator_ratelimit_wait_seconds_sum", &bucket).unwrap();
    assert!((sum - 1.0).abs() < 1e-6, "{sum}");
    let waited_none = [("bucket", "cluster-read"), ("le", "0.001")];
    assert_eq!(
        value(
            &m,
            "ecs_operator_ratelimit_wait_seconds_bucket",
            &waited_none
        ),
        Some(2.0),
        "the burst did not wait"
    );
    assert_eq!(
        value(
            &m,
            "ecs_operator_ratelimit_wait_seconds_count",
            &[("bucket", "service-read")]
        ),
        Some(0.0)
    );
}

#[tokio::test(start_paused = true)]
async fn connect_puts_the_instrumentation_inside_the_rate_limiter() {
    let m = Metrics::new();
    let options = BackendOptions {
        kind: BackendKind::Sim,
        region: None,
        endpoint_url: None,
        max_attempts: 1,
        sim_state: None,
        sim_crashing_images: Vec::new(),
        sim_failing_hooks: Vec::new(),
        sim_throttling: true,
        sim_load: Vec::new(),
        gate: None,
        rate_limits: RateLimits::default().with(
            Bucket::TaskDefinitionRead,
            Shape {
                burst: 1,
                refill_per_second: 1.0,
            },
        ),
        metrics: Some(m.clone()),
        warn_failed_calls: true,
    };
    let connected = connect(&options).await.expect("the simulator connects");
    for _ in 0..3 {
        let _ = connected.cloud.ecs.describe_task_definition("api:1").await;
    }
    let sim_calls = connected.sim.as_ref().unwrap().calls();
    assert_eq!(sim_calls.get("DescribeTaskDefinition"), Some(&3));
    let counted: f64 = samples(&m, "ecs_operator_api_requests_total")
        .iter()
        .filter(|(l, _)| l["operation"] == "DescribeTaskDefinition")
        .map(|(_, v)| v)
        .sum();
    assert_eq!(counted, 3.0);
    let bucket = [("bucket", "task-definition-read")];
    assert_eq!(
        value(&m, "ecs_operator_ratelimit_wait_seconds_sum", &bucket),
        Some(2.0),
        "calls 2 and 3 waited a second each"
    );
    // The API duration excludes the token wait: the instrumentation is inside the limiter.
    let duration = [("service", "ecs"), ("operation", "DescribeTaskDefinition")];
    assert_eq!(
        value(
            &m,
            "ecs_operator_api_request_duration_seconds_sum",
            &duration
        ),
        Some(0.0)
    );

    let without = BackendOptions {
        metrics: None,
        ..options
    };
    let connected = connect(&without).await.expect("connects without metrics");
    let _ = connected.cloud.ecs.describe_task_definition("api:1").await;
    assert_eq!(
        connected.sim.unwrap().calls().get("DescribeTaskDefinition"),
        Some(&1)
    );
}

/// A `MakeWriter` into a shared buffer, to read what was logged.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn apply_logs_each_mutating_call_once_at_debug_without_secret_values() {
    use crate::observe::Observer;
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests");
    let documents = crate::manifest::load_paths(&[root]).documents;
    let sim = Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    });
    let observer = Observer::new(sim.cloud());
    let (plans, arns) = crate::planner::plan_all(&observer, &documents, "test")
        .await
        .expect("plans");
    let mut seen = Vec::new();
    let applied = crate::apply::apply(&sim.cloud(), &observer, &plans, arns, |key, action| {
        seen.push(format!("{key}: {action}"))
    })
    .await;
    assert!(applied.iter().all(|a| a.error.is_none()), "{applied:?}");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .filter(|l: &serde_json::Value| l["fields"]["message"] == "applied")
        .collect();
    assert_eq!(lines.len(), seen.len(), "one log line per action: {text}");
    assert!(
        seen.len() >= 5,
        "the examples create clusters, groups and services"
    );
    for (line, action) in lines.iter().zip(&seen) {
        // Not at the default level: apply's report on stdout already says it once.
        assert_eq!(line["level"], "DEBUG");
        let key = line["fields"]["key"].as_str().expect("key");
        let summary = line["fields"]["summary"].as_str().expect("summary");
        let operation = line["fields"]["action"].as_str().expect("action");
        assert_eq!(format!("{key}: {summary}"), *action);
        assert!(summary.starts_with(operation), "{summary} / {operation}");
    }
    // The example's environment values and secret references stay out of the logs.
    assert!(!text.contains("parameter/shop/api/database-url"), "{text}");
    assert!(!text.contains("LOG_LEVEL"), "{text}");
}

#[test]
fn a_watched_state_is_read_at_every_scrape() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    let m = Metrics::new();
    let reads = Arc::new(AtomicUsize::new(0));
    let board = crate::status::StatusBoard::new();
    board.update_source(|s| s.revision = Some("rev-1".into()));
    {
        let (reads, board) = (reads.clone(), board.clone());
        m.watch(move || {
            let n = reads.fetch_add(1, Ordering::SeqCst);
            crate::metrics::ControllerState {
                queue_depth: n,
                retries_total: 2 * n as u64,
                report: board.report(),
                ..Default::default()
            }
        });
    }
    // Nothing is published before a scrape asks; the first scrape is already right.
    assert_eq!(reads.load(Ordering::SeqCst), 0);
    assert_eq!(
        value(&m, "ecs_operator_source_info", &[("revision", "rev-1")]),
        Some(1.0)
    );
    assert!(samples(&m, "ecs_operator_resource_info").is_empty());
    // A resource that appears on the board is in the very next scrape, with its status.
    let key = ResourceKey {
        kind: Kind::Service,
        cluster: Some("shop".into()),
        name: "api".into(),
    };
    board.update(&key, |s| {
        s.sync = SyncStatus::Stalled;
        s.health = Health::Healthy;
    });
    let info = samples(&m, "ecs_operator_resource_info");
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].0["sync_status"], "Stalled");
    // Each scrape reads the queues again: depth is the latest, retries grow by the delta.
    assert_eq!(value(&m, "ecs_operator_workqueue_depth", &[]), Some(3.0));
    assert_eq!(
        value(&m, "ecs_operator_workqueue_retries_total", &[]),
        Some(8.0)
    );
}
