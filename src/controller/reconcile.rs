//! Reconciling: one resource at a time ([`Controller::reconcile`], run by the work queues), a
//! full pass over every resource ([`Controller::full_sync`], at start and on each resync), and
//! following service rollouts in batches ([`Controller::track_rollouts`]).
//!
//! - A reconcile plans its key (reading only that resource, or using the plan the last full
//!   pass made if the manifests have not changed since), applies the plan and records status.
//!   A service waiting for a declared cluster or target group that does not exist yet is
//!   requeued shortly, not failed. AWS errors are returned, so the queue backs the key off.
//! - A full pass reads everything in batches; resources in sync only get their status
//!   refreshed, the others are queued with the plan just made (no second read). A resource
//!   that was synced and is now out of sync although its manifest did not change drifted.
//! - After a service change its rollout is followed: Progressing, then Healthy when the
//!   PRIMARY deployment completes with every task running and its targets healthy. A crash
//!   loop (failed tasks of the new deployment reaching the threshold) is rolled back to the
//!   service's last completed revision; an ECS rollback or failed rollout is reported the same
//!   way. In every case the same manifest content is held back (not applied again) until the
//!   manifest changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::desired::Desired;
use super::queue::Outcome;
use crate::apply::{ApplyError, apply};
use crate::cloud::model::{Service, TargetHealthState, UpdateService};
use crate::cloud::{Cloud, CloudError, MAX_DESCRIBE_SERVICES};
use crate::manifest::{Kind, ResourceKey};
use crate::metrics::{ReconcileResult, RolloutResult};
use crate::observe::{Observed, Observer};
use crate::plan::{Planned, ResourcePlan, Status, plan_keys};
use crate::rollout::{RolloutStatus, assess};
use crate::status::{Health, StatusBoard, StatusReport, SyncStatus};

/// Services planned per phase of a full sync.
pub const FULL_SYNC_SERVICE_CHUNK: usize = 100;

/// Tuning of the controller's reconciles.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The operator instance (value of the `ecs-operator/managed-by` tag).
    pub instance: String,
    /// Failed tasks of a new deployment, before it completes, that make a crash loop.
    pub crash_loop_threshold: u32,
    /// A rollout not completed after this long is reported Degraded (and still followed).
    pub rollout_timeout: Duration,
    /// How soon a service waiting for its cluster or target group is tried again.
    pub dependency_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            instance: "ecs-operator".into(),
            crash_loop_threshold: 3,
            rollout_timeout: Duration::from_secs(600),
            dependency_wait: Duration::from_secs(2),
        }
    }
}

/// Why a reconcile failed (the queue backs the key off and retries).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Reading or planning failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A call of the plan failed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// A service rollout being followed.
#[derive(Debug, Clone, PartialEq)]
struct Rollout {
    /// The revision set.
    revision: String,
    /// Manifest content that was applied.
    content: String,
    /// When it started.
    started: Instant,
    /// This rollout is the operator's own rollback.
    rollback: bool,
}

/// What the controller remembers about a service between reconciles.
#[derive(Debug, Clone, Default)]
struct ServiceMemory {
    /// The last revision whose rollout completed.
    last_completed: Option<String>,
    /// The rollout being followed.
    rollout: Option<Rollout>,
    /// Manifest content that rolled back or failed: not applied again until it changes.
    held_back: Option<String>,
    /// A rollback the tracker asked for, done by the next reconcile of the key.
    rollback_to: Option<String>,
}

/// A plan made by a full pass, used by the reconcile that follows if nothing changed.
#[derive(Debug)]
struct Prefetched {
    generation: u64,
    plan: ResourcePlan,
    observed: Arc<Observed>,
}

/// Hands keys to the work queues.
pub type Enqueue = Arc<dyn Fn(ResourceKey) + Send + Sync>;

/// Reports what the controller does (metrics); every method has a no-op default.
pub trait Events: Send + Sync {
    /// A reconcile of `kind` ended.
    fn reconciled(&self, _kind: Kind, _result: ReconcileResult, _took: Duration) {}
    /// A full pass found drift made outside the operator.
    fn drift(&self, _kind: Kind) {}
    /// A rollout ended.
    fn rollout(&self, _result: RolloutResult) {}
    /// Every few seconds: the work queue's depth and retries so far, and the status board.
    fn tick(&self, _queue_depth: usize, _retries_total: u64, _report: &StatusReport) {}
}

impl Events for crate::metrics::Metrics {
    fn reconciled(&self, kind: Kind, result: ReconcileResult, took: Duration) {
        self.reconcile(kind, result, took);
    }
    fn drift(&self, kind: Kind) {
        self.drift_detected(kind);
    }
    fn rollout(&self, result: RolloutResult) {
        crate::metrics::Metrics::rollout(self, result);
    }
    fn tick(&self, queue_depth: usize, retries_total: u64, report: &StatusReport) {
        self.set_queue(queue_depth, retries_total);
        self.set_resources(&report.resources);
        self.set_manifest_errors(report.source.manifest_errors);
        if let Some(revision) = &report.source.revision {
            self.set_source_revision(revision);
        }
        if let Some(at) = report
            .source
            .last_sync
            .as_deref()
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        {
            self.set_last_sync(at);
        }
    }
}

/// No events.
#[derive(Debug, Default)]
pub struct NoEvents;
impl Events for NoEvents {}

/// The state reconciles share.
pub struct Controller {
    cloud: Cloud,
    observer: Observer,
    settings: Settings,
    status: StatusBoard,
    desired: RwLock<Arc<Desired>>,
    enqueue: Enqueue,
    events: Arc<dyn Events>,
    target_group_arns: Mutex<BTreeMap<String, String>>,
    prefetched: Mutex<HashMap<ResourceKey, Prefetched>>,
    services: Mutex<HashMap<ResourceKey, ServiceMemory>>,
    /// Content last applied or found in sync, per key (to tell drift from a manifest change).
    synced_content: Mutex<HashMap<ResourceKey, String>>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Controller {
    /// A controller over `cloud` with no manifests loaded yet.
    pub fn new(
        cloud: Cloud,
        settings: Settings,
        status: StatusBoard,
        enqueue: Enqueue,
        events: Arc<dyn Events>,
    ) -> Controller {
        Controller {
            observer: Observer::new(cloud.clone()),
            cloud,
            settings,
            status,
            desired: RwLock::new(Arc::new(Desired::default())),
            enqueue,
            events,
            target_group_arns: Mutex::new(BTreeMap::new()),
            prefetched: Mutex::new(HashMap::new()),
            services: Mutex::new(HashMap::new()),
            synced_content: Mutex::new(HashMap::new()),
        }
    }

    /// The status board.
    pub fn status(&self) -> &StatusBoard {
        &self.status
    }

    /// The desired state now.
    pub fn desired(&self) -> Arc<Desired> {
        self.desired
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes a new load and returns the keys it changed, removed or holds (for the caller to
    /// queue; the first load's are left to the first full sync).
    pub fn load(
        &self,
        loaded: crate::manifest::Loaded,
        revision: Option<String>,
    ) -> BTreeSet<ResourceKey> {
        let previous = self.desired();
        let (next, changes) = Desired::next(&previous, loaded, revision);
        let next = Arc::new(next);
        self.status.update_source(|s| {
            s.revision = Some(next.revision.clone());
            s.manifest_errors = next.manifest_errors;
            s.loaded_at = Some(now_rfc3339());
            s.last_error = None;
        });
        // A changed manifest may be applied again, and plans made before it are stale.
        {
            let mut services = lock(&self.services);
            for key in &changes.changed {
                if let Some(m) = services.get_mut(key) {
                    m.held_back = None;
                }
            }
        }
        *self.desired.write().unwrap_or_else(|e| e.into_inner()) = next;
        let keys: BTreeSet<ResourceKey> = changes
            .changed
            .iter()
            .chain(&changes.removed)
            .chain(&changes.held)
            .cloned()
            .collect();
        tracing::info!(
            changed = changes.changed.len(),
            removed = changes.removed.len(),
            held = changes.held.len(),
            failed = changes.failed.len(),
            "manifests loaded"
        );
        keys
    }

    /// Reconciles one resource.
    pub async fn reconcile(&self, key: ResourceKey) -> Result<Outcome, ReconcileError> {
        let started = Instant::now();
        let result = self.reconcile_inner(&key).await;
        let kind = match &result {
            Ok((_, r)) => *r,
            Err(_) => ReconcileResult::Failed,
        };
        self.events.reconciled(key.kind, kind, started.elapsed());
        match result {
            Ok((outcome, _)) => Ok(outcome),
            Err(e) => {
                let message = e.to_string();
                self.status.update(&key, |s| {
                    s.sync = SyncStatus::OutOfSync;
                    s.last_error = Some(message);
                });
                Err(e)
            }
        }
    }

    async fn reconcile_inner(
        &self,
        key: &ResourceKey,
    ) -> Result<(Outcome, ReconcileResult), ReconcileError> {
        let desired = self.desired();
        let Some(doc) = desired.document(key) else {
            lock(&self.prefetched).remove(key);
            if desired.held.contains(key) {
                self.status.update(key, |s| {
                    s.sync = SyncStatus::Unknown;
                    s.last_error = Some(super::desired::HELD_REASON.to_string());
                });
            } else {
                // Gone from the manifests: no longer managed (run does not delete).
                self.status.remove(key);
                lock(&self.services).remove(key);
                lock(&self.synced_content).remove(key);
            }
            return Ok((Outcome::Done, ReconcileResult::Skipped));
        };
        let content = desired.content(key).unwrap_or_default().to_string();
        self.status.update(key, |s| s.file = Some(doc.file.clone()));

        let rollback = lock(&self.services)
            .get_mut(key)
            .and_then(|m| m.rollback_to.take());
        if let Some(to) = rollback {
            return self.roll_back(key, &content, to).await;
        }

        let prefetched = lock(&self.prefetched)
            .remove(key)
            .filter(|p| p.generation == desired.generation);
        let (plan, observed) = match prefetched {
            Some(p) => (p.plan, p.observed),
            None => {
                let keys = BTreeSet::from([key.clone()]);
                let known = lock(&self.target_group_arns).clone();
                let planned = plan_keys(
                    &self.observer,
                    &desired.documents,
                    Some(&keys),
                    &known,
                    &self.settings.instance,
                )
                .await?;
                self.learn_arns(&planned);
                let Planned {
                    mut plans,
                    observed,
                    ..
                } = planned;
                let Some(plan) = plans.pop() else {
                    return Ok((Outcome::Done, ReconcileResult::Skipped));
                };
                (plan, Arc::new(observed))
            }
        };
        let health = self.live_health(key, &observed).0;
        let changes: Vec<String> = plan.changes.iter().map(|c| format!("spec.{c}")).collect();

        match plan.status {
            Status::Suspended | Status::InSync => {
                self.record_in_sync(&plan, &desired, &observed);
                let result = if plan.status == Status::InSync {
                    ReconcileResult::InSync
                } else {
                    ReconcileResult::Skipped
                };
                return Ok((Outcome::Done, result));
            }
            Status::Blocked => {
                let reason = plan.reason.clone().unwrap_or_default();
                self.status.update(key, |s| {
                    s.sync = SyncStatus::OutOfSync;
                    s.health = health;
                    s.message = Some(reason.clone());
                    s.last_error = Some(reason);
                    s.changes = changes;
                });
                return Ok((Outcome::Done, ReconcileResult::Skipped));
            }
            Status::Create | Status::Update => {}
        }

        if let Some(wait) = waiting_for(doc, &observed) {
            self.status.update(key, |s| {
                s.sync = SyncStatus::OutOfSync;
                s.message = Some(wait);
                s.changes = changes;
            });
            return Ok((
                Outcome::RequeueAfter(self.settings.dependency_wait),
                ReconcileResult::Skipped,
            ));
        }
        let held_back = lock(&self.services)
            .get(key)
            .and_then(|m| m.held_back.clone());
        if held_back.as_deref() == Some(content.as_str()) {
            self.status.update(key, |s| {
                s.sync = SyncStatus::OutOfSync;
                s.health = Health::Degraded;
                s.changes = changes;
            });
            return Ok((Outcome::Done, ReconcileResult::Skipped));
        }

        let known = lock(&self.target_group_arns).clone();
        let applied = apply(
            &self.cloud,
            &self.observer,
            std::slice::from_ref(&plan),
            known,
            // apply logs each call at info with the key; nothing more to say here.
            |_, _| {},
        )
        .await
        .pop();
        let Some(applied) = applied else {
            return Ok((Outcome::Done, ReconcileResult::Skipped));
        };
        if let Some(arn) = &applied.target_group_arn {
            lock(&self.target_group_arns).insert(key.name.clone(), arn.clone());
        }
        match applied.error {
            Some(ApplyError::MissingTargetGroup(name)) => {
                self.status.update(key, |s| {
                    s.sync = SyncStatus::OutOfSync;
                    s.message = Some(format!("waiting for target group {name:?} to exist"));
                    s.changes = changes;
                });
                return Ok((
                    Outcome::RequeueAfter(self.settings.dependency_wait),
                    ReconcileResult::Skipped,
                ));
            }
            Some(e) => return Err(e.into()),
            None => {}
        }
        lock(&self.synced_content).insert(key.clone(), content.clone());
        let started_rollout = match &applied.task_definition {
            Some(revision) if key.kind == Kind::Service => {
                self.follow(key, revision.clone(), content, false);
                true
            }
            _ => false,
        };
        let following = self.is_following(key);
        self.status.update(key, |s| {
            s.sync = SyncStatus::Synced;
            s.revision = Some(desired.revision.clone());
            s.changes.clear();
            s.last_error = None;
            if started_rollout {
                s.health = Health::Progressing;
                s.message = Some("rollout started".into());
                s.task_definition = applied.task_definition.clone();
            } else if !following {
                s.health = match key.kind {
                    Kind::Service => health,
                    _ => Health::Healthy,
                };
            }
        });
        Ok((Outcome::Done, ReconcileResult::Applied))
    }

    fn learn_arns(&self, planned: &Planned) {
        lock(&self.target_group_arns).extend(
            planned
                .target_group_arns
                .iter()
                .filter(|(_, arn)| arn.starts_with("arn:"))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }

    /// Health, a message and the running revision of `key` from what was read.
    fn live_health(
        &self,
        key: &ResourceKey,
        observed: &Observed,
    ) -> (Health, Option<String>, Option<String>) {
        match key.kind {
            Kind::Cluster => (
                present(observed.clusters.contains_key(&key.name)),
                None,
                None,
            ),
            Kind::TargetGroup => (
                present(observed.target_groups.contains_key(&key.name)),
                None,
                None,
            ),
            Kind::Service => {
                let live = observed
                    .services
                    .get(&(key.cluster.clone().unwrap_or_default(), key.name.clone()));
                let Some(live) = live else {
                    return (Health::Missing, None, None);
                };
                let td = Some(live.task_definition.clone());
                match assess(Some(live), "") {
                    RolloutStatus::Completed { .. } => (Health::Healthy, None, td),
                    RolloutStatus::Failed { reason } => (
                        Health::Degraded,
                        Some(format!("rollout failed: {reason}")),
                        td,
                    ),
                    other => (Health::Progressing, Some(other.to_string()), td),
                }
            }
        }
    }

    /// Records a resource found in sync (or suspended) by a reconcile or a full sync: its
    /// status, the content now synced, and a completed deployment's revision.
    fn record_in_sync(&self, plan: &ResourcePlan, desired: &Desired, observed: &Observed) {
        let key = &plan.key;
        self.note_completed(key, observed);
        let suspended = plan.status == Status::Suspended;
        if !suspended && let Some(content) = desired.content(key) {
            lock(&self.synced_content).insert(key.clone(), content.to_string());
        }
        let (health, message, task_definition) = self.live_health(key, observed);
        let following = self.is_following(key);
        self.status.update(key, |s| {
            s.file = Some(plan.file.clone());
            s.changes.clear();
            s.last_error = None;
            if suspended {
                s.sync = SyncStatus::Unknown;
                s.health = Health::Suspended;
                s.message = Some("ecs-operator/suspend is \"true\": not managed".into());
                return;
            }
            s.sync = SyncStatus::Synced;
            // Found in sync: the revision last applied stays; a first sight takes this one.
            s.revision.get_or_insert_with(|| desired.revision.clone());
            if !following {
                s.health = health;
                s.message = message;
                s.task_definition = task_definition;
            }
        });
    }

    /// Remembers the revision of a service whose deployment completed.
    fn note_completed(&self, key: &ResourceKey, observed: &Observed) {
        if key.kind != Kind::Service {
            return;
        }
        let live = observed
            .services
            .get(&(key.cluster.clone().unwrap_or_default(), key.name.clone()));
        if let Some(live) = live
            && matches!(assess(Some(live), ""), RolloutStatus::Completed { .. })
            && let Some(primary) = live.primary()
        {
            lock(&self.services)
                .entry(key.clone())
                .or_default()
                .last_completed = Some(primary.task_definition.clone());
        }
    }

    fn follow(&self, key: &ResourceKey, revision: String, content: String, rollback: bool) {
        lock(&self.services).entry(key.clone()).or_default().rollout = Some(Rollout {
            revision,
            content,
            started: Instant::now(),
            rollback,
        });
    }

    /// The operator's rollback of a crash-looping service to its last completed revision.
    async fn roll_back(
        &self,
        key: &ResourceKey,
        content: &str,
        to: String,
    ) -> Result<(Outcome, ReconcileResult), ReconcileError> {
        let input = UpdateService {
            cluster: key.cluster.clone().unwrap_or_default(),
            name: key.name.clone(),
            task_definition: Some(to.clone()),
            ..UpdateService::default()
        };
        self.cloud.ecs.update_service(&input).await?;
        tracing::warn!(key = %key, to = %to, "rolled back a crash-looping rollout");
        self.follow(key, to.clone(), content.to_string(), true);
        self.status.update(key, |s| {
            s.sync = SyncStatus::OutOfSync;
            s.health = Health::Degraded;
            s.task_definition = Some(to.clone());
            s.message = Some(format!(
                "crash loop: rolled back to {to}; this manifest is not applied again until it changes"
            ));
        });
        Ok((Outcome::Done, ReconcileResult::Applied))
    }

    /// Plans `keys` with batched reads; returns those not in sync (their plans kept).
    async fn sync_phase(
        &self,
        desired: &Desired,
        keys: &BTreeSet<ResourceKey>,
    ) -> Result<BTreeSet<ResourceKey>, CloudError> {
        let known = lock(&self.target_group_arns).clone();
        let planned = plan_keys(
            &self.observer,
            &desired.documents,
            Some(keys),
            &known,
            &self.settings.instance,
        )
        .await?;
        self.learn_arns(&planned);
        let observed = Arc::new(planned.observed);
        let mut queued = BTreeSet::new();
        for plan in planned.plans {
            let key = plan.key.clone();
            let content = desired.content(&key).unwrap_or_default().to_string();
            if plan.is_in_sync() {
                self.record_in_sync(&plan, desired, &observed);
                continue;
            }
            let health = self.live_health(&key, &observed).0;
            let held_back = lock(&self.services)
                .get(&key)
                .and_then(|m| m.held_back.clone());
            if held_back.as_deref() == Some(content.as_str()) {
                continue;
            }
            let drifted = lock(&self.synced_content).get(&key) == Some(&content)
                && self
                    .status
                    .get(&key)
                    .is_some_and(|s| s.sync == SyncStatus::Synced);
            if drifted {
                tracing::info!(key = %key, changes = plan.changes.len(), "drift detected");
                self.events.drift(key.kind);
            }
            let changes: Vec<String> = plan.changes.iter().map(|c| format!("spec.{c}")).collect();
            let following = self.is_following(&key);
            self.status.update(&key, |s| {
                s.file = Some(plan.file.clone());
                s.sync = SyncStatus::OutOfSync;
                s.changes = changes;
                if !following {
                    s.health = health;
                }
            });
            lock(&self.prefetched).insert(
                key.clone(),
                Prefetched {
                    generation: desired.generation,
                    plan,
                    observed: observed.clone(),
                },
            );
            queued.insert(key);
        }
        Ok(queued)
    }

    /// One full pass: reads every resource in batches, refreshes the status of what is in
    /// sync and keeps the plan just made for the rest, handing their keys to `queue` as each
    /// phase is planned: clusters and target groups first, then services by
    /// [`FULL_SYNC_SERVICE_CHUNK`], so registrations (1 per second on AWS) start while later
    /// services are still being read. Returns every key handed over.
    pub async fn full_sync(
        &self,
        mut queue: impl FnMut(&BTreeSet<ResourceKey>),
    ) -> Result<BTreeSet<ResourceKey>, CloudError> {
        let desired = self.desired();
        let (services, others): (Vec<ResourceKey>, Vec<ResourceKey>) = desired
            .keys()
            .cloned()
            .partition(|k| k.kind == Kind::Service);
        let mut phases: Vec<BTreeSet<ResourceKey>> = vec![others.into_iter().collect()];
        phases.extend(
            services
                .chunks(FULL_SYNC_SERVICE_CHUNK)
                .map(|c| c.iter().cloned().collect()),
        );
        let mut queued = BTreeSet::new();
        for phase in phases.iter().filter(|p| !p.is_empty()) {
            let mine = self.sync_phase(&desired, phase).await?;
            queue(&mine);
            queued.extend(mine);
        }
        self.status
            .update_source(|s| s.last_sync = Some(now_rfc3339()));
        Ok(queued)
    }

    /// Reads every followed service (10 per call) and moves its rollout on.
    pub async fn track_rollouts(&self) -> Result<(), CloudError> {
        let followed: Vec<(ResourceKey, Rollout)> = lock(&self.services)
            .iter()
            .filter_map(|(k, m)| m.rollout.clone().map(|r| (k.clone(), r)))
            .collect();
        let mut by_cluster: BTreeMap<String, Vec<(ResourceKey, Rollout)>> = BTreeMap::new();
        for (key, rollout) in followed {
            by_cluster
                .entry(key.cluster.clone().unwrap_or_default())
                .or_default()
                .push((key, rollout));
        }
        for (cluster, services) in by_cluster {
            for batch in services.chunks(MAX_DESCRIBE_SERVICES) {
                let names: Vec<String> = batch.iter().map(|(k, _)| k.name.clone()).collect();
                let described = self.cloud.ecs.describe_services(&cluster, &names).await?;
                for (key, rollout) in batch {
                    // A service deleted meanwhile is described INACTIVE for a while: gone.
                    let live = described
                        .found
                        .iter()
                        .find(|s| s.name == key.name && s.status != "INACTIVE");
                    self.step_rollout(key, rollout, live).await?;
                }
            }
        }
        Ok(())
    }

    async fn step_rollout(
        &self,
        key: &ResourceKey,
        rollout: &Rollout,
        live: Option<&Service>,
    ) -> Result<(), CloudError> {
        let status = assess(live, &rollout.revision);
        let settings = &self.settings;
        let finish = |health: Health, message: String| {
            self.status.update(key, |s| {
                s.health = health;
                s.message = Some(message);
                s.task_definition = Some(rollout.revision.clone());
            });
            if let Some(m) = lock(&self.services).get_mut(key)
                && m.rollout.as_ref() == Some(rollout)
            {
                m.rollout = None;
            }
        };
        match status {
            RolloutStatus::Progressing { failed, .. }
                if !rollout.rollback && failed >= settings.crash_loop_threshold =>
            {
                let last = lock(&self.services)
                    .get(key)
                    .and_then(|m| m.last_completed.clone());
                {
                    let mut services = lock(&self.services);
                    let m = services.entry(key.clone()).or_default();
                    m.held_back = Some(rollout.content.clone());
                }
                match last.filter(|l| *l != rollout.revision) {
                    Some(to) => {
                        finish(
                            Health::Degraded,
                            format!(
                                "crash loop: {failed} tasks of {} failed; rolling back to {to}",
                                rollout.revision
                            ),
                        );
                        lock(&self.services)
                            .entry(key.clone())
                            .or_default()
                            .rollback_to = Some(to);
                        self.events.rollout(RolloutResult::RolledBack);
                        (self.enqueue)(key.clone());
                    }
                    None => {
                        self.events.rollout(RolloutResult::Failed);
                        finish(
                            Health::Degraded,
                            format!(
                                "crash loop: {failed} tasks of {} failed and no earlier revision completed to roll back to",
                                rollout.revision
                            ),
                        );
                    }
                }
            }
            RolloutStatus::Progressing { .. } => {
                let late = rollout.started.elapsed() > settings.rollout_timeout;
                self.status.update(key, |s| {
                    s.health = if late {
                        Health::Degraded
                    } else {
                        Health::Progressing
                    };
                    s.message = Some(if late {
                        format!(
                            "{status}; not completed after {}",
                            humantime::format_duration(settings.rollout_timeout)
                        )
                    } else {
                        status.to_string()
                    });
                });
            }
            RolloutStatus::Completed { running } => {
                let service = live.expect("completed implies described");
                if !self.targets_healthy(service).await? {
                    self.status.update(key, |s| {
                        s.health = Health::Progressing;
                        s.message = Some(format!("{running} running, waiting for healthy targets"));
                    });
                    return Ok(());
                }
                lock(&self.services)
                    .entry(key.clone())
                    .or_default()
                    .last_completed = Some(rollout.revision.clone());
                if rollout.rollback {
                    finish(
                        Health::Degraded,
                        format!(
                            "rolled back to {} after a crash loop; fix the manifest to roll forward",
                            rollout.revision
                        ),
                    );
                } else {
                    self.events.rollout(RolloutResult::Completed);
                    finish(
                        Health::Healthy,
                        format!("rollout completed ({running} running)"),
                    );
                }
            }
            RolloutStatus::Failed { reason } => {
                self.hold_back(key, rollout);
                self.events.rollout(RolloutResult::Failed);
                finish(Health::Degraded, format!("rollout failed: {reason}"));
            }
            RolloutStatus::RolledBack { to } => {
                self.hold_back(key, rollout);
                lock(&self.services)
                    .entry(key.clone())
                    .or_default()
                    .last_completed = Some(to.clone());
                self.events.rollout(RolloutResult::RolledBack);
                self.status.update(key, |s| s.sync = SyncStatus::OutOfSync);
                finish(
                    Health::Degraded,
                    format!(
                        "ECS rolled {} back to {to} (circuit breaker); this manifest is not applied again until it changes",
                        rollout.revision
                    ),
                );
            }
            RolloutStatus::Missing => finish(Health::Missing, "service not found".into()),
        }
        Ok(())
    }

    fn hold_back(&self, key: &ResourceKey, rollout: &Rollout) {
        if !rollout.rollback {
            lock(&self.services)
                .entry(key.clone())
                .or_default()
                .held_back = Some(rollout.content.clone());
        }
    }

    /// True when every target of the service's target groups that is not draining is healthy.
    async fn targets_healthy(&self, service: &Service) -> Result<bool, CloudError> {
        for lb in &service.load_balancers {
            let targets = self
                .cloud
                .elbv2
                .describe_target_health(&lb.target_group_arn)
                .await?;
            let bad = targets.iter().any(|t| {
                matches!(
                    t.state,
                    TargetHealthState::Initial | TargetHealthState::Unhealthy
                )
            });
            if bad {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// True while a rollout of `key` is followed (its health is the tracker's to set).
    fn is_following(&self, key: &ResourceKey) -> bool {
        lock(&self.services)
            .get(key)
            .is_some_and(|m| m.rollout.is_some())
    }
}

/// Why a service cannot be applied yet: its (declared) cluster does not exist.
fn waiting_for(doc: &crate::manifest::Document, observed: &Observed) -> Option<String> {
    let crate::manifest::Spec::Service(spec) = &doc.manifest.spec else {
        return None;
    };
    (!observed.clusters.contains_key(&spec.cluster))
        .then(|| format!("waiting for cluster {:?} to exist", spec.cluster))
}

fn present(exists: bool) -> Health {
    if exists {
        Health::Healthy
    } else {
        Health::Missing
    }
}

/// Now as RFC 3339 (seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
