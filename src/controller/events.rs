//! What the controller reports as it works ([`Events`]: reconciles, drift, rollouts) and how
//! a scrape reads its state ([`View`]); [`crate::metrics::Metrics`] implements it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::cloud::model::DeploymentStrategy;
use crate::manifest::Kind;
use crate::metrics::{ReconcileResult, RolloutResult};
use crate::rollout::stop_reason::StopReason;

/// The controller's state as a scrape of `/metrics` shows it (read at each scrape).
pub type View = Arc<dyn Fn() -> crate::metrics::ControllerState + Send + Sync>;

/// Reports what the controller does (metrics); every method has a no-op default.
pub trait Events: Send + Sync {
    /// A reconcile of `kind` ended.
    fn reconciled(&self, _kind: Kind, _result: ReconcileResult, _took: Duration) {}
    /// A full pass found drift made outside the operator.
    fn drift(&self, _kind: Kind) {}
    /// A rollout ended.
    fn rollout(&self, _result: RolloutResult, _strategy: DeploymentStrategy) {}
    /// The followed deployments in progress, by stage label (`crate::metrics::stage_labels`).
    fn deployments_in_progress(&self, _by_stage: &BTreeMap<String, i64>) {}
    /// A crash loop was caught; its tasks failed for `reason`.
    fn rollout_failure(&self, _reason: StopReason) {}
    /// Once, at start: how to read the status board, the queues and the source when asked.
    fn watch(&self, _view: View) {}
}

impl Events for crate::metrics::Metrics {
    fn reconciled(&self, kind: Kind, result: ReconcileResult, took: Duration) {
        self.reconcile(kind, result, took);
    }
    fn drift(&self, kind: Kind) {
        self.drift_detected(kind);
    }
    fn rollout(&self, result: RolloutResult, strategy: DeploymentStrategy) {
        crate::metrics::Metrics::rollout(self, result, strategy);
    }
    fn deployments_in_progress(&self, by_stage: &BTreeMap<String, i64>) {
        self.set_deployments_in_progress(by_stage);
    }
    fn rollout_failure(&self, reason: StopReason) {
        crate::metrics::Metrics::rollout_failure(self, reason);
    }
    fn watch(&self, view: View) {
        crate::metrics::Metrics::watch(self, move || view());
    }
}

/// No events.
#[derive(Debug, Default)]
pub struct NoEvents;
impl Events for NoEvents {}
