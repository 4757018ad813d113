//! (Over 600 lines: one registry with every metric, its label sets at zero and the state a
//! scrape reads; splitting it would scatter the list a reader checks against the README.)
//!
//! Prometheus metrics: one [`prometheus::Registry`] holding every metric the operator exports,
//! behind [`Metrics`], which the controller, the cloud instrumentation and the rate limiter
//! update and the HTTP server encodes at `/metrics`.
//!
//! Every label set is closed (kinds, results, outcomes, buckets, sync statuses, health), except
//! the resource identity labels of `ecs_operator_resource_info` (cluster, name) and the
//! `revision` of `ecs_operator_source_info`. Closed label combinations are created at zero when
//! the registry is made, so dashboards and alerts see `0` instead of an absent series.
//!
//! - [`Instrument`]: the call layer that counts and times every call
//!   (`ecs_operator_api_requests_total`, `ecs_operator_api_request_duration_seconds`);
//!   [`instrument`] puts a [`Cloud`](crate::cloud::Cloud) behind it.
//! - [`Metrics::rate_limit_hook`]: the hook the rate limiter calls with each token wait
//!   (`ecs_operator_ratelimit_wait_seconds`).
//! - [`Metrics::watch`]: the controller's state (status board, queues, source), read at each
//!   scrape by [`Metrics::encode`], so the gauges describing it are right from the first
//!   scrape (no periodic fill lagging behind). Counters stay counters, counted as things happen.
//!
//! README.md, "Metrics, dashboard and alerts", lists every metric.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::cloud::ErrorKind;
use crate::cloud::model::{DeploymentStrategy, LifecycleStage};
use crate::manifest::Kind;
use crate::ratelimit::{Bucket, WaitHook};
use crate::rollout::RolloutStatus;
use crate::rollout::stop_reason::StopReason;
use crate::status::{Health, ResourceStatus, StatusReport, SyncStatus};

mod instrument;

pub use instrument::{
    DYNAMODB_OPERATIONS, ECS_OPERATIONS, ELBV2_OPERATIONS, Instrument, instrument,
};

/// Every sync status, in the order of the metric label sets.
pub const SYNC_STATUSES: [SyncStatus; 4] = [
    SyncStatus::Synced,
    SyncStatus::OutOfSync,
    SyncStatus::Stalled,
    SyncStatus::Unknown,
];

/// Every health, in the order of the metric label sets.
pub const HEALTHS: [Health; 5] = [
    Health::Healthy,
    Health::Progressing,
    Health::Degraded,
    Health::Missing,
    Health::Suspended,
];

/// How one reconcile of one resource ended (`ecs_operator_reconcile_total{result}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReconcileResult {
    /// Live already matched: nothing to do.
    InSync,
    /// Changes were applied.
    Applied,
    /// It failed (an AWS call, a missing dependency).
    Failed,
    /// Not reconciled: suspended, not owned, held back after a rollback, or its manifest
    /// failed to load.
    Skipped,
}

impl ReconcileResult {
    /// Every result.
    pub const ALL: [ReconcileResult; 4] = [
        ReconcileResult::InSync,
        ReconcileResult::Applied,
        ReconcileResult::Failed,
        ReconcileResult::Skipped,
    ];

    /// The label value (`in_sync`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::InSync => "in_sync",
            ReconcileResult::Applied => "applied",
            ReconcileResult::Failed => "failed",
            ReconcileResult::Skipped => "skipped",
        }
    }
}

/// The `strategy` label of `ecs_operator_rollouts_total` (`blue_green`).
pub fn strategy_label(strategy: DeploymentStrategy) -> String {
    strategy.as_str().to_ascii_lowercase()
}

/// The `stage` label of a ROLLING deployment in progress in
/// `ecs_operator_deployments_in_progress` (native ones carry their lifecycle stage,
/// `bake_time`).
pub const ROLLING_STAGE: &str = "rolling";

/// Every `stage` label of `ecs_operator_deployments_in_progress`.
pub fn stage_labels() -> Vec<String> {
    let mut labels: Vec<String> = LifecycleStage::ALL.iter().map(|s| s.label()).collect();
    labels.push(ROLLING_STAGE.to_string());
    labels
}

/// How a rollout ended (`ecs_operator_rollouts_total{result,strategy}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RolloutResult {
    /// The PRIMARY deployment completed.
    Completed,
    /// ECS marked it failed, or the operator gave up on it.
    Failed,
    /// It was rolled back (by ECS's circuit breaker or by the operator).
    RolledBack,
}

impl RolloutResult {
    /// Every result.
    pub const ALL: [RolloutResult; 3] = [
        RolloutResult::Completed,
        RolloutResult::Failed,
        RolloutResult::RolledBack,
    ];

    /// The label value (`rolled_back`).
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutResult::Completed => "completed",
            RolloutResult::Failed => "failed",
            RolloutResult::RolledBack => "rolled_back",
        }
    }

    /// The result of a final rollout status; `None` while it is still progressing, and for a
    /// service that disappeared (counted as failed by nobody: the caller decides).
    pub fn from_status(status: &RolloutStatus) -> Option<RolloutResult> {
        match status {
            RolloutStatus::Completed { .. } => Some(RolloutResult::Completed),
            RolloutStatus::Failed { .. } => Some(RolloutResult::Failed),
            RolloutStatus::RolledBack { .. } => Some(RolloutResult::RolledBack),
            RolloutStatus::Progressing { .. } | RolloutStatus::Missing => None,
        }
    }
}

/// The label value of an API call's outcome: `ok`, or the [`ErrorKind`] (`throttled`).
pub fn outcome_label(error: Option<ErrorKind>) -> &'static str {
    error.map_or("ok", ErrorKind::as_str)
}

/// What the gauges about the controller show: its state when a scrape reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControllerState {
    /// Keys waiting or running in the work queues.
    pub queue_depth: usize,
    /// Failed reconciles the queues scheduled a retry for, since they were made.
    pub retries_total: u64,
    /// The status board: every resource, the source and the leader election
    /// (`ecs_operator_leader` is 1 when its role is leader, always so without election).
    pub report: StatusReport,
    /// Times this process became leader or stopped being leader, since it started.
    pub leader_transitions: u64,
    /// Lease calls of the elector that failed, since it started.
    pub lease_renew_failures: u64,
}

/// Reads the controller's state at a scrape.
type StateReader = Arc<dyn Fn() -> ControllerState + Send + Sync>;

/// The metrics could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The prometheus crate refused a metric (a duplicate or malformed name).
    #[error("registering metrics: {0}")]
    Register(#[from] prometheus::Error),
}

/// Every metric of the operator in one registry. Cheap to clone: clones share the registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

struct Inner {
    registry: Registry,
    reconcile_total: IntCounterVec,
    reconcile_duration: HistogramVec,
    resource_info: IntGaugeVec,
    resources: IntGaugeVec,
    drift_detected: IntCounterVec,
    api_requests: IntCounterVec,
    api_duration: HistogramVec,
    ratelimit_wait: HistogramVec,
    queue_depth: IntGauge,
    queue_retries: IntCounter,
    /// The queue's cumulative retry count last seen by [`Metrics::set_queue`].
    queue_retries_seen: Mutex<u64>,
    rollouts: IntCounterVec,
    rollout_failures: IntCounterVec,
    deployments_in_progress: IntGaugeVec,
    leader: IntGauge,
    leader_transitions: IntCounter,
    lease_renew_failures: IntCounter,
    /// The cumulative leader transitions and lease failures last seen at a scrape.
    leader_seen: Mutex<(u64, u64)>,
    manifest_errors: IntGauge,
    source_info: IntGaugeVec,
    last_sync: Gauge,
    /// Held while a reset-then-set gauge family is rewritten and while encoding, so a scrape
    /// never sees it half-written (empty).
    rewrite: Mutex<()>,
    /// The controller's state, read at each scrape ([`Metrics::watch`]).
    state: Mutex<Option<StateReader>>,
}

/// Buckets of the reconcile duration histogram, in seconds.
const RECONCILE_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
/// Buckets of the API request duration histogram, in seconds.
const API_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Buckets of the token wait histogram, in seconds (most calls wait 0).
const WAIT_BUCKETS: &[f64] = &[
    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, MetricsError> {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn gauge_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntGaugeVec, MetricsError> {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn histogram_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> Result<HistogramVec, MetricsError> {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    let metric = HistogramVec::new(opts, labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric registered and the closed label sets at zero.
    ///
    /// # Panics
    /// Never in practice: registration fails only for duplicate or malformed names, which are
    /// constants here (and [`Metrics::try_new`] is tested).
    pub fn new() -> Metrics {
        Metrics::try_new().expect("the operator's metric names are valid and distinct")
    }

    /// [`Metrics::new`], with the registration error if any.
    pub fn try_new() -> Result<Metrics, MetricsError> {
        let r = Registry::new();
        let inner = Inner {
            reconcile_total: counter_vec(
                &r,
                "ecs_operator_reconcile_total",
                "Reconciles of one resource, by kind and result (in_sync, applied, failed, skipped).",
                &["kind", "result"],
            )?,
            reconcile_duration: histogram_vec(
                &r,
                "ecs_operator_reconcile_duration_seconds",
                "Time one reconcile of one resource took, by kind.",
                &["kind"],
                RECONCILE_BUCKETS,
            )?,
            resource_info: gauge_vec(
                &r,
                "ecs_operator_resource_info",
                "1 per managed resource, labelled with its sync status and health (cluster is empty except for services).",
                &["kind", "cluster", "name", "sync_status", "health"],
            )?,
            resources: gauge_vec(
                &r,
                "ecs_operator_resources",
                "Resources by kind, sync status and health.",
                &["kind", "sync_status", "health"],
            )?,
            drift_detected: counter_vec(
                &r,
                "ecs_operator_drift_detected_total",
                "Drift found at resync (live changed outside the operator), by kind.",
                &["kind"],
            )?,
            api_requests: counter_vec(
                &r,
                "ecs_operator_api_requests_total",
                "AWS API calls sent, by service (ecs, elbv2, application-autoscaling, dynamodb for the lease), operation and outcome (ok or the error kind).",
                &["service", "operation", "outcome"],
            )?,
            api_duration: histogram_vec(
                &r,
                "ecs_operator_api_request_duration_seconds",
                "Time an AWS API call took (SDK retries included), by service and operation.",
                &["service", "operation"],
                API_BUCKETS,
            )?,
            ratelimit_wait: histogram_vec(
                &r,
                "ecs_operator_ratelimit_wait_seconds",
                "Time a call waited for a token of a client-side rate limit bucket, by bucket.",
                &["bucket"],
                WAIT_BUCKETS,
            )?,
            queue_depth: {
                let g = IntGauge::new(
                    "ecs_operator_workqueue_depth",
                    "Resources waiting in the work queue (due now or backing off).",
                )?;
                r.register(Box::new(g.clone()))?;
                g
            },
            queue_retries: {
                let c = IntCounter::new(
                    "ecs_operator_workqueue_retries_total",
                    "Failed reconciles that were scheduled for a retry with backoff.",
                )?;
                r.register(Box::new(c.clone()))?;
                c
            },
            queue_retries_seen: Mutex::new(0),
            leader: {
                let g = IntGauge::new(
                    "ecs_operator_leader",
                    "1 while this operator leads (holds the lease; always without leader election), 0 on standby.",
                )?;
                r.register(Box::new(g.clone()))?;
                g
            },
            leader_transitions: {
                let c = IntCounter::new(
                    "ecs_operator_leader_transitions_total",
                    "Times this operator became leader or stopped being leader.",
                )?;
                r.register(Box::new(c.clone()))?;
                c
            },
            lease_renew_failures: {
                let c = IntCounter::new(
                    "ecs_operator_lease_renew_failures_total",
                    "Lease calls (acquire or renew) that failed or timed out.",
                )?;
                r.register(Box::new(c.clone()))?;
                c
            },
            leader_seen: Mutex::new((0, 0)),
            rollouts: counter_vec(
                &r,
                "ecs_operator_rollouts_total",
                "Service rollouts followed to the end, by result (completed, failed, rolled_back) and deployment strategy (rolling, blue_green, linear, canary).",
                &["result", "strategy"],
            )?,
            deployments_in_progress: gauge_vec(
                &r,
                "ecs_operator_deployments_in_progress",
                "Followed service deployments in progress, by lifecycle stage (a native strategy's, bake_time...; rolling for ROLLING ones).",
                &["stage"],
            )?,
            rollout_failures: counter_vec(
                &r,
                "ecs_operator_rollout_failures_total",
                "Crash loops the controller caught, by the reason of their failed tasks (image_pull, secret, exit_code, health_check, other).",
                &["reason"],
            )?,
            manifest_errors: {
                let g = IntGauge::new(
                    "ecs_operator_manifest_errors",
                    "Manifest documents that failed to load in the last load of the source.",
                )?;
                r.register(Box::new(g.clone()))?;
                g
            },
            source_info: gauge_vec(
                &r,
                "ecs_operator_source_info",
                "1, labelled with the source revision loaded last (git commit or directory content hash).",
                &["revision"],
            )?,
            last_sync: {
                let g = Gauge::new(
                    "ecs_operator_last_sync_timestamp_seconds",
                    "Unix time the last full sync (startup or resync) finished; 0 before the first.",
                )?;
                r.register(Box::new(g.clone()))?;
                g
            },
            rewrite: Mutex::new(()),
            state: Mutex::new(None),
            registry: r,
        };
        #[cfg(target_os = "linux")]
        inner.registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;

        for kind in Kind::ALL {
            for result in ReconcileResult::ALL {
                inner
                    .reconcile_total
                    .with_label_values(&[kind.as_str(), result.as_str()]);
            }
            inner.reconcile_duration.with_label_values(&[kind.as_str()]);
            inner.drift_detected.with_label_values(&[kind.as_str()]);
            for sync in SYNC_STATUSES {
                for health in HEALTHS {
                    inner.resources.with_label_values(&[
                        kind.as_str(),
                        sync.as_str(),
                        health.as_str(),
                    ]);
                }
            }
        }
        for result in RolloutResult::ALL {
            for strategy in DeploymentStrategy::ALL {
                inner
                    .rollouts
                    .with_label_values(&[result.as_str(), &strategy_label(*strategy)]);
            }
        }
        for stage in stage_labels() {
            inner.deployments_in_progress.with_label_values(&[&stage]);
        }
        for reason in StopReason::ALL {
            inner.rollout_failures.with_label_values(&[reason.label()]);
        }
        for bucket in Bucket::ALL {
            inner.ratelimit_wait.with_label_values(&[bucket.as_str()]);
        }
        for operation in crate::cloud::Operation::called() {
            let (service, operation) = (operation.service().as_str(), operation.as_str());
            // ok and throttled of every operation: the throttling panels and alert see 0.
            for outcome in ["ok", ErrorKind::Throttled.as_str()] {
                inner
                    .api_requests
                    .with_label_values(&[service, operation, outcome]);
            }
        }
        Ok(Metrics {
            inner: Arc::new(inner),
        })
    }

    /// The registry, to register more collectors.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Counts one reconcile of a resource of `kind` and observes how long it took.
    pub fn reconcile(&self, kind: Kind, result: ReconcileResult, duration: Duration) {
        self.inner
            .reconcile_total
            .with_label_values(&[kind.as_str(), result.as_str()])
            .inc();
        self.inner
            .reconcile_duration
            .with_label_values(&[kind.as_str()])
            .observe(duration.as_secs_f64());
    }

    /// Replaces `ecs_operator_resource_info` and `ecs_operator_resources` with `resources`:
    /// both are reset first, so a resource no longer listed disappears.
    pub fn set_resources(&self, resources: &[ResourceStatus]) {
        let _guard = self.rewrite();
        self.set_resources_locked(resources);
    }

    fn set_resources_locked(&self, resources: &[ResourceStatus]) {
        let inner = &self.inner;
        inner.resource_info.reset();
        inner.resources.reset();
        for kind in Kind::ALL {
            for sync in SYNC_STATUSES {
                for health in HEALTHS {
                    let n = resources
                        .iter()
                        .filter(|r| r.kind == kind && r.sync == sync && r.health == health)
                        .count();
                    inner
                        .resources
                        .with_label_values(&[kind.as_str(), sync.as_str(), health.as_str()])
                        .set(n as i64);
                }
            }
        }
        for r in resources {
            inner
                .resource_info
                .with_label_values(&[
                    r.kind.as_str(),
                    r.cluster.as_deref().unwrap_or(""),
                    r.name.as_str(),
                    r.sync.as_str(),
                    r.health.as_str(),
                ])
                .set(1);
        }
    }

    /// Counts drift found at resync on a resource of `kind`.
    pub fn drift_detected(&self, kind: Kind) {
        self.inner
            .drift_detected
            .with_label_values(&[kind.as_str()])
            .inc();
    }

    /// Counts one AWS API call and observes how long it took. `service` is `ecs` or `elbv2`,
    /// `operation` the AWS operation name (`DescribeServices`), `error` the kind of its error.
    pub fn api_request(
        &self,
        service: &'static str,
        operation: &'static str,
        error: Option<ErrorKind>,
        duration: Duration,
    ) {
        self.inner
            .api_requests
            .with_label_values(&[service, operation, outcome_label(error)])
            .inc();
        self.inner
            .api_duration
            .with_label_values(&[service, operation])
            .observe(duration.as_secs_f64());
    }

    /// Observes one wait for a token of `bucket` (zero when one was there).
    pub fn ratelimit_wait(&self, bucket: Bucket, waited: Duration) {
        self.inner
            .ratelimit_wait
            .with_label_values(&[bucket.as_str()])
            .observe(waited.as_secs_f64());
    }

    /// The rate limiter's hook feeding [`Metrics::ratelimit_wait`] (see
    /// [`Admission::new`](crate::ratelimit::Admission::new)).
    pub fn rate_limit_hook(&self) -> WaitHook {
        let metrics = self.clone();
        Arc::new(move |bucket, waited| metrics.ratelimit_wait(bucket, waited))
    }

    /// Sets the work queue depth, and increases the retry counter by what `retries_total` (the
    /// queue's cumulative count) grew since the last call. A count lower than the last one
    /// (a new queue) is taken as counted from zero.
    pub fn set_queue(&self, depth: usize, retries_total: u64) {
        self.inner
            .queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        let mut seen = self
            .inner
            .queue_retries_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let delta = if retries_total >= *seen {
            retries_total - *seen
        } else {
            retries_total
        };
        self.inner.queue_retries.inc_by(delta);
        *seen = retries_total;
    }

    /// Sets the leader gauge, and increases the transition and lease failure counters by what
    /// the elector's cumulative counts grew since the last call.
    pub fn set_leader(&self, leading: bool, transitions: u64, renew_failures: u64) {
        self.inner.leader.set(i64::from(leading));
        let mut seen = self
            .inner
            .leader_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let grow = |now: u64, before: u64| now.checked_sub(before).unwrap_or(now);
        self.inner
            .leader_transitions
            .inc_by(grow(transitions, seen.0));
        self.inner
            .lease_renew_failures
            .inc_by(grow(renew_failures, seen.1));
        *seen = (transitions, renew_failures);
    }

    /// Counts one finished rollout of a deployment `strategy`.
    pub fn rollout(&self, result: RolloutResult, strategy: DeploymentStrategy) {
        self.inner
            .rollouts
            .with_label_values(&[result.as_str(), &strategy_label(strategy)])
            .inc();
    }

    /// Sets the followed deployments in progress by stage label ([`stage_labels`]); a label
    /// not given is 0.
    pub fn set_deployments_in_progress(&self, by_stage: &BTreeMap<String, i64>) {
        for stage in stage_labels() {
            self.inner
                .deployments_in_progress
                .with_label_values(&[&stage])
                .set(by_stage.get(&stage).copied().unwrap_or(0));
        }
    }

    /// Counts one crash loop caught, by the reason its tasks failed.
    pub fn rollout_failure(&self, reason: StopReason) {
        self.inner
            .rollout_failures
            .with_label_values(&[reason.label()])
            .inc();
    }

    /// Sets the number of manifest documents that failed to load.
    pub fn set_manifest_errors(&self, n: usize) {
        self.inner
            .manifest_errors
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Sets the source revision loaded last (the previous one disappears).
    pub fn set_source_revision(&self, revision: &str) {
        let _guard = self.rewrite();
        self.set_source_revision_locked(revision);
    }

    fn set_source_revision_locked(&self, revision: &str) {
        self.inner.source_info.reset();
        self.inner.source_info.with_label_values(&[revision]).set(1);
    }

    /// Sets when the last full sync finished.
    pub fn set_last_sync(&self, at: SystemTime) {
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.inner.last_sync.set(secs);
    }

    /// Reads the controller's state with `state` at every scrape from now on: the resource,
    /// queue, manifest error, source and last sync gauges are filled from it just before
    /// [`Metrics::encode`] gathers.
    pub fn watch(&self, state: impl Fn() -> ControllerState + Send + Sync + 'static) {
        *self.inner.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(state));
    }

    /// Sets every gauge about the controller from `state` (what a scrape does first).
    pub fn set_state(&self, state: &ControllerState) {
        let _guard = self.rewrite();
        self.set_state_locked(state);
    }

    fn set_state_locked(&self, state: &ControllerState) {
        self.set_queue(state.queue_depth, state.retries_total);
        self.set_leader(
            state.report.leader.role == "leader",
            state.leader_transitions,
            state.lease_renew_failures,
        );
        self.set_resources_locked(&state.report.resources);
        self.set_manifest_errors(state.report.source.manifest_errors);
        if let Some(revision) = &state.report.source.revision {
            self.set_source_revision_locked(revision);
        }
        if let Some(at) = state
            .report
            .source
            .last_sync
            .as_deref()
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        {
            self.set_last_sync(at);
        }
    }

    /// Every metric in the Prometheus text exposition format (what `/metrics` serves), with
    /// the controller's state read now.
    pub fn encode(&self) -> String {
        let reader = self
            .inner
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // Read before taking the rewrite lock: the reader takes the board's and queues' locks.
        let state = reader.map(|read| read());
        let families = {
            let _guard = self.rewrite();
            if let Some(state) = &state {
                self.set_state_locked(state);
            }
            self.inner.registry.gather()
        };
        let mut out = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&families, &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        out
    }

    /// The content type of [`Metrics::encode`]'s output.
    pub fn content_type() -> &'static str {
        prometheus::TEXT_FORMAT
    }

    fn rewrite(&self) -> MutexGuard<'_, ()> {
        self.inner.rewrite.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
