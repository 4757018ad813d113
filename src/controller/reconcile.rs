//! Reconciling one resource at a time ([`Controller::reconcile`], run by the work queues). The
//! full pass over every resource is in `controller::full_sync`, following rollouts in
//! `controller::rollouts`.
//!
//! A reconcile is a ladder of named stages, each of which either goes on or ends the reconcile
//! with an `Exit` (`ControlFlow::Break`): load the document (gone? held?), do a rollback the
//! tracker asked for, observe and plan (or take the plan the last full pass made), in sync or
//! suspended?, blocked?, waiting for a dependency?, held back after a failed rollout?, apply,
//! follow. Every exit carries one status `Record`, written by the reconcile's `Guard` on
//! every path (cancellation included) together with the reconcile's metrics.
//!
//! Errors are classified: a transient one (throttled, 5xx, conflict, not found, unknown) is
//! returned, so the queue backs the key off and retries; a terminal one (AWS rejected the
//! request as invalid, or access is denied) marks the resource Stalled with the reason and
//! waits for its manifest to change or the next full sync ([`Outcome::Stalled`]).

use std::collections::BTreeSet;
use std::ops::ControlFlow::{self, Break, Continue};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::desired::Desired;
pub use super::events::{Events, NoEvents, View};
use super::full_sync::live_health;
use super::memory::{Followed, Memories};
use super::queue::Outcome;
use super::record::{Guard, Record, Revision};
use crate::apply::{Applied, ApplyError, apply};
use crate::cloud::model::{Tags, UpdateService};
use crate::cloud::{Cloud, CloudError};
use crate::manifest::{Document, Kind, ResourceKey};
use crate::metrics::ReconcileResult;
use crate::observe::{Observed, Observer};
use crate::plan::{ResourcePlan, Status, TAG_HELD_BACK, held_back_hash};
use crate::planner::{Planned, plan_documents};
use crate::rollout::Tracker;
use crate::status::{Health, StatusBoard, SyncStatus};

pub use super::full_sync::FULL_SYNC_SERVICE_CHUNK;

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
    /// A reconcile (or a rollout read) still running after this long is dropped and retried
    /// with backoff: a call that never answers blocks its key for this long at most.
    pub reconcile_timeout: Duration,
    /// Every target group's attributes are read at least once in this long, whatever its
    /// `ecs-operator/attributes-hash` tag says: each full sync reads the share that is due
    /// (`observe::attributes`), so a change made by hand is put back within it.
    pub attributes_check_interval: Duration,
}

/// The default of [`Settings::attributes_check_interval`] (and of `run`'s option): 16 hours,
/// so that a quiet resync every 5 minutes (10 % jitter) at 10,000 target groups reads 53 to 58
/// groups' attributes and stays within 1.05 times the batching minimum of its reads (issue 15;
/// BENCHMARKS.md "Scale").
pub const ATTRIBUTES_CHECK_INTERVAL: &str = "16h";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            instance: "ecs-operator".into(),
            crash_loop_threshold: 3,
            rollout_timeout: Duration::from_secs(600),
            dependency_wait: Duration::from_secs(2),
            reconcile_timeout: Duration::from_secs(300),
            attributes_check_interval: humantime::parse_duration(ATTRIBUTES_CHECK_INTERVAL)
                .expect("the default interval parses"),
        }
    }
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Reading or planning failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A call of the plan failed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The reconcile did not end in time (a call did not answer).
    #[error("the reconcile did not end within {0:?} (a call did not answer); retried")]
    TimedOut(Duration),
}

impl ReconcileError {
    /// True when retrying cannot help (see [`crate::cloud::ErrorKind::is_terminal`]).
    pub fn is_terminal(&self) -> bool {
        match self {
            ReconcileError::Cloud(e) | ReconcileError::Apply(ApplyError::Cloud(e)) => {
                e.kind.is_terminal()
            }
            ReconcileError::Apply(_) | ReconcileError::TimedOut(_) => false,
        }
    }
}

/// How one reconcile ended, for the queue and readiness.
#[derive(Debug)]
pub struct Reconciled {
    /// What the queue does next (`Err`: back off and retry).
    pub result: Result<Outcome, ReconcileError>,
    /// False while the resource waits for a dependency (its cluster or target group): it has
    /// not been reconciled for real yet.
    pub settled: bool,
}

/// Hands keys to the work queues.
pub type Enqueue = Arc<dyn Fn(ResourceKey) + Send + Sync>;

/// The state reconciles share.
pub struct Controller {
    pub(super) cloud: Cloud,
    pub(super) observer: Observer,
    pub(super) settings: Settings,
    pub(super) status: StatusBoard,
    desired: RwLock<Arc<Desired>>,
    pub(super) enqueue: Enqueue,
    pub(super) events: Arc<dyn Events>,
    /// Everything remembered per key, in one map.
    pub(super) memory: Memories,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How a reconcile ends: its status record, its metric result and what comes next.
#[derive(Debug)]
pub(super) struct Exit {
    record: Record,
    result: ReconcileResult,
    next: Next,
}

#[derive(Debug)]
enum Next {
    /// Idle until the next trigger.
    Done,
    /// Waiting for a dependency: again after this delay.
    Wait(Duration),
    /// Failed for good: idle until the manifest changes or the next full sync.
    Stalled,
    /// Failed: back off and retry.
    Retry(ReconcileError),
}

impl Exit {
    fn done(result: ReconcileResult, record: Record) -> Exit {
        Exit {
            record,
            result,
            next: Next::Done,
        }
    }

    fn waiting(wait: Duration, record: Record) -> Exit {
        Exit {
            record,
            result: ReconcileResult::Skipped,
            next: Next::Wait(wait),
        }
    }

    /// A failure: Stalled when retrying cannot help, else retried with backoff.
    fn failed(error: ReconcileError) -> Exit {
        let message = error.to_string();
        if error.is_terminal() {
            tracing::warn!(%error, "AWS rejected this for good: stalled until the manifest changes or the next full sync");
            return Exit {
                record: Record::default()
                    .sync(SyncStatus::Stalled)
                    .error(message)
                    .message(
                        "stalled: not retried until the manifest changes or the next full sync",
                    ),
                result: ReconcileResult::Failed,
                next: Next::Stalled,
            };
        }
        Exit {
            record: Record::default().sync(SyncStatus::OutOfSync).error(message),
            result: ReconcileResult::Failed,
            next: Next::Retry(error),
        }
    }

    /// The same exit, also recording `changes`.
    fn with_changes(mut self, changes: &[String]) -> Exit {
        self.record = self.record.changes(changes.to_vec());
        self
    }
}

/// A stage of the ladder: `Continue` with what it produced, or `Break` to end the reconcile.
type Stage<T = ()> = ControlFlow<Exit, T>;

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
            memory: Memories::default(),
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
        self.load_touched(loaded, revision, None)
    }

    /// [`Controller::load`] of a load that differs from the last one only in the files
    /// `touched` (when known: [`Desired::next_touched`]); the same keys.
    pub fn load_touched(
        &self,
        loaded: crate::manifest::Loaded,
        revision: Option<String>,
        touched: Option<&BTreeSet<std::path::PathBuf>>,
    ) -> BTreeSet<ResourceKey> {
        let previous = self.desired();
        let (next, changes) = match touched {
            Some(touched) => Desired::next_touched(&previous, loaded, revision, touched),
            None => Desired::next(&previous, loaded, revision),
        };
        let next = Arc::new(next);
        self.status.update_source(|s| {
            s.revision = Some(next.revision.clone());
            s.manifest_errors = next.manifest_errors;
            s.loaded_at = Some(now_rfc3339());
            s.last_error = None;
        });
        // A changed manifest may be applied again (held back or stalled before), and what
        // differed was the old manifest's: cleared now, recomputed by the reconcile queued.
        for key in &changes.changed {
            self.memory.with(key, |m| {
                m.held_back = None;
                m.stalled = None;
            });
            if self.status.get(key).is_some() {
                Record::default()
                    .changes(Vec::new())
                    .write(&self.status, key);
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

    /// Reconciles one resource. Its status and metrics are recorded whichever way it ends.
    pub async fn reconcile(&self, key: ResourceKey) -> Reconciled {
        let mut guard = Guard::new(&self.status, &self.events, &key);
        let desired = self.desired();
        let limit = self.settings.reconcile_timeout;
        let ladder = tokio::time::timeout(limit, self.ladder(&key, &desired, &mut guard)).await;
        let exit = match ladder {
            Ok(Continue(exit) | Break(exit)) => exit,
            Err(_) => {
                tracing::warn!(key = %key, timeout = ?limit, "reconcile timed out: a call did not answer");
                Exit::failed(ReconcileError::TimedOut(limit))
            }
        };
        if matches!(exit.next, Next::Stalled) {
            let content = desired.content(&key).map(str::to_string);
            self.memory.with(&key, |m| m.stalled = content);
        }
        guard.conclude(exit.record, exit.result);
        match exit.next {
            Next::Done => Reconciled {
                result: Ok(Outcome::Done),
                settled: true,
            },
            Next::Wait(wait) => Reconciled {
                result: Ok(Outcome::RequeueAfter(wait)),
                settled: false,
            },
            Next::Stalled => Reconciled {
                result: Ok(Outcome::Stalled),
                settled: true,
            },
            Next::Retry(e) => Reconciled {
                result: Err(e),
                settled: true,
            },
        }
    }

    /// The stages of one reconcile, in order.
    async fn ladder(
        &self,
        key: &ResourceKey,
        desired: &Desired,
        guard: &mut Guard<'_>,
    ) -> Stage<Exit> {
        let doc = self.document(key, desired)?;
        guard.note(Record::default().file(doc.file.clone()));
        let content = desired.content(key).unwrap_or_default().to_string();
        self.rollback_if_asked(key, &content).await?;
        let (plan, observed) = self.observe(key, desired).await?;
        guard.note(Record::default().observed());
        self.restore(key, &content, &observed);
        let health = live_health(key, &observed).0;
        let changes: Vec<String> = plan.changes.iter().map(|c| format!("spec.{c}")).collect();
        self.in_sync_or_suspended(&plan, desired, &observed)?;
        blocked(&plan, health, &changes)?;
        self.dependencies(doc, &observed, &changes)?;
        self.held_back(key, &content, &changes)?;
        let applied = self.apply(doc, &plan, &changes).await?;
        self.forget_held_back(key, &observed).await;
        Continue(self.follow_applied(key, desired, content, applied, health))
    }

    /// Load: the key's document, or the end of it (gone from the manifests, or held because
    /// its manifest failed to load).
    fn document<'d>(&self, key: &ResourceKey, desired: &'d Desired) -> Stage<&'d Document> {
        if let Some(doc) = desired.document(key) {
            return Continue(doc);
        }
        if desired.held.contains(key) {
            self.memory.with(key, |m| m.prefetched = None);
            let record = Record::default()
                .sync(SyncStatus::Unknown)
                .error(super::desired::HELD_REASON);
            return Break(Exit::done(ReconcileResult::Skipped, record));
        }
        // Gone from the manifests: no longer managed (run does not delete).
        self.memory.forget(key);
        Break(Exit::done(ReconcileResult::Skipped, Record::forget()))
    }

    /// The rollback the rollout tracker asked for (a crash loop), if any.
    async fn rollback_if_asked(&self, key: &ResourceKey, content: &str) -> Stage {
        match self.memory.with(key, |m| m.rollback_to.take()) {
            Some(to) => Break(self.roll_back(key, content, to).await),
            None => Continue(()),
        }
    }

    /// The operator's rollback of a crash-looping service to its last completed revision.
    async fn roll_back(&self, key: &ResourceKey, content: &str, to: String) -> Exit {
        let input = UpdateService {
            cluster: key.cluster.clone().unwrap_or_default(),
            name: key.name.clone(),
            task_definition: Some(to.clone()),
            ..UpdateService::default()
        };
        let live = match self.cloud.ecs.update_service(&input).await {
            Ok(live) => live,
            Err(e) => return Exit::failed(e.into()),
        };
        tracing::warn!(key = %key, to = %to, "rolled back a crash-looping rollout");
        let why = self
            .memory
            .read(key, |m| m.crash_reason.clone())
            .unwrap_or_default();
        // Held back also for a restarted controller (`restore` reads the tag).
        let tags = Tags::from([(TAG_HELD_BACK.to_string(), held_back_hash(content))]);
        if let Err(error) = self.cloud.ecs.tag_resource(&live.arn, &tags).await {
            tracing::warn!(key = %key, %error, "could not tag the service with the held-back manifest");
        }
        self.start_following(
            key,
            Tracker::new(to.clone(), true).with_deployment(live.current_service_deployment),
            content.to_string(),
        );
        let record = Record::default()
            .sync(SyncStatus::OutOfSync)
            .health(Health::Degraded)
            .task_definition(Some(to.clone()))
            .message(format!(
                "crash loop{why}: rolled back to {to}; this manifest is not applied again until it changes"
            ));
        Exit::done(ReconcileResult::Applied, record)
    }

    /// Other content was applied: a held-back tag on the service no longer holds.
    async fn forget_held_back(&self, key: &ResourceKey, observed: &Observed) {
        let live = observed
            .services
            .get(&(key.cluster.clone().unwrap_or_default(), key.name.clone()));
        let Some(live) = live.filter(|l| l.tags.contains_key(TAG_HELD_BACK)) else {
            return;
        };
        let keys = [TAG_HELD_BACK.to_string()];
        if let Err(error) = self.cloud.ecs.untag_resource(&live.arn, &keys).await {
            tracing::warn!(key = %key, %error, "could not remove the held-back tag");
        }
    }

    /// Observe and plan: the plan the last full pass made if the manifests have not changed
    /// since, else a plan from reading only this resource.
    async fn observe(
        &self,
        key: &ResourceKey,
        desired: &Desired,
    ) -> Stage<(ResourcePlan, Arc<Observed>)> {
        let prefetched = self
            .memory
            .with(key, |m| m.prefetched.take())
            .filter(|p| p.generation == desired.generation);
        if let Some(p) = prefetched {
            return Continue((p.plan, p.observed));
        }
        let planned = plan_documents(
            &self.observer,
            &desired.documents,
            desired.select([key]),
            &self.memory,
            &self.settings.instance,
        )
        .await;
        let Planned {
            mut plans,
            observed,
            target_group_arns,
        } = match planned {
            Ok(planned) => planned,
            // What differs is not known now: no changes shown rather than old ones.
            Err(e) => return Break(Exit::failed(e.into()).with_changes(&[])),
        };
        self.memory.learn_arns(&target_group_arns);
        match plans.pop() {
            Some(plan) => Continue((plan, Arc::new(observed))),
            None => Break(Exit::done(ReconcileResult::Skipped, Record::default())),
        }
    }

    /// In sync, or suspended: nothing to apply.
    fn in_sync_or_suspended(
        &self,
        plan: &ResourcePlan,
        desired: &Desired,
        observed: &Observed,
    ) -> Stage {
        let result = match plan.status {
            Status::InSync => ReconcileResult::InSync,
            Status::Suspended => ReconcileResult::Skipped,
            Status::Blocked | Status::Create | Status::Update => return Continue(()),
        };
        Break(Exit::done(result, self.in_sync(plan, desired, observed)))
    }

    /// A service waiting for its declared cluster to exist is tried again shortly.
    fn dependencies(&self, doc: &Document, observed: &Observed, changes: &[String]) -> Stage {
        let Some(wait) = waiting_for(doc, observed) else {
            return Continue(());
        };
        let record = Record::default()
            .sync(SyncStatus::OutOfSync)
            .message(wait)
            .changes(changes.to_vec());
        Break(Exit::waiting(self.settings.dependency_wait, record))
    }

    /// The same content rolled back or failed before: not applied again until it changes.
    fn held_back(&self, key: &ResourceKey, content: &str, changes: &[String]) -> Stage {
        let held = self
            .memory
            .read(key, |m| m.held_back.as_deref() == Some(content));
        if held != Some(true) {
            return Continue(());
        }
        let record = Record::default()
            .sync(SyncStatus::OutOfSync)
            .health(Health::Degraded)
            .changes(changes.to_vec());
        Break(Exit::done(ReconcileResult::Skipped, record))
    }

    /// Apply the plan, with the ARNs known of the target groups `doc` names (one created since
    /// the plan was made is found).
    async fn apply(
        &self,
        doc: &Document,
        plan: &ResourcePlan,
        changes: &[String],
    ) -> Stage<Applied> {
        let mut wanted = crate::observe::Wanted::default();
        crate::kind::want(doc, &mut wanted);
        let applied = apply(
            &self.cloud,
            &self.observer,
            std::slice::from_ref(plan),
            self.memory.target_group_arns(&wanted.target_group_arns),
            // One info line per call made (apply itself logs them at debug only, since its
            // report is what the apply command prints).
            |key, action| tracing::info!(key = %key, summary = %action, "applied"),
        )
        .await
        .pop();
        let Some(mut applied) = applied else {
            return Break(Exit::done(ReconcileResult::Skipped, Record::default()));
        };
        if let Some(arn) = &applied.target_group_arn {
            self.memory.learn_arns([(&plan.key.name, arn)]);
        }
        match applied.error.take() {
            Some(ApplyError::MissingTargetGroup(name)) => {
                let record = Record::default()
                    .sync(SyncStatus::OutOfSync)
                    .message(format!("waiting for target group {name:?} to exist"))
                    .changes(changes.to_vec());
                Break(Exit::waiting(self.settings.dependency_wait, record))
            }
            Some(e) => Break(Exit::failed(e.into()).with_changes(changes)),
            None => Continue(applied),
        }
    }

    /// Applied: Synced; a service whose revision changed has its rollout followed.
    fn follow_applied(
        &self,
        key: &ResourceKey,
        desired: &Desired,
        content: String,
        applied: Applied,
        health: Health,
    ) -> Exit {
        let started = match &applied.task_definition {
            Some(revision) if key.kind == Kind::Service => {
                let tracker = Tracker::new(revision.clone(), false)
                    .with_deployment(applied.service_deployment.clone());
                self.start_following(key, tracker, content.clone());
                true
            }
            _ => false,
        };
        self.memory.with(key, |m| {
            m.synced_content = Some(content);
            m.stalled = None;
        });
        let mut record = Record {
            revision: Some(Revision::Applied(desired.revision.clone())),
            ..Record::default()
        }
        .sync(SyncStatus::Synced)
        .changes(Vec::new())
        .no_error();
        if started {
            record = record
                .health(Health::Progressing)
                .message("rollout started")
                .task_definition(applied.task_definition);
        } else if !self.memory.is_following(key) {
            record = record.health(match key.kind {
                Kind::Service => health,
                _ => Health::Healthy,
            });
            // A message from before (waiting, stalled) no longer holds.
            record.message = Some(None);
        }
        Exit::done(ReconcileResult::Applied, record)
    }

    /// Follows the rollout `tracker` of `content`.
    pub(super) fn start_following(&self, key: &ResourceKey, tracker: Tracker, content: String) {
        self.memory.with(key, |m| {
            m.rollout = Some(Followed { tracker, content });
        });
    }
}

/// Blocked (not owned, or refused by the plan): left alone, saying why.
fn blocked(plan: &ResourcePlan, health: Health, changes: &[String]) -> Stage {
    if plan.status != Status::Blocked {
        return Continue(());
    }
    let reason = plan.reason.clone().unwrap_or_default();
    let record = Record::default()
        .sync(SyncStatus::OutOfSync)
        .health(health)
        .message(reason.clone())
        .error(reason)
        .changes(changes.to_vec());
    Break(Exit::done(ReconcileResult::Skipped, record))
}

/// Why a service cannot be applied yet: its (declared) cluster does not exist.
fn waiting_for(doc: &Document, observed: &Observed) -> Option<String> {
    let crate::manifest::Spec::Service(spec) = &doc.manifest.spec else {
        return None;
    };
    (!observed.clusters.contains_key(&spec.cluster))
        .then(|| format!("waiting for cluster {:?} to exist", spec.cluster))
}

/// Now as RFC 3339 (seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
