//! The full pass over every resource ([`Controller::full_sync`], at start and on each resync):
//! reads everything in batches; resources in sync only get their status refreshed, the others
//! are queued with the plan just made (no second read). A resource that was synced and is now
//! out of sync although its manifest did not change drifted. Each pass also reads the share of
//! target group attributes due on their cadence (`Settings::attributes_check_interval`). Also
//! the record of a resource found in sync, which a reconcile writes too, and health as read
//! from live state.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::desired::Desired;
use super::memory::Prefetched;
use super::reconcile::{Controller, now_rfc3339};
use super::record::{Record, Revision};
use crate::cloud::CloudError;
use crate::manifest::{Kind, ResourceKey};
use crate::observe::Observed;
use crate::plan::{ResourcePlan, Status};
use crate::planner::plan_documents;
use crate::rollout::{RolloutStatus, assess};
use crate::status::{Health, SyncStatus};

/// Why a held-back manifest is not applied (a record a restarted controller writes).
const HELD_BACK_MESSAGE: &str = "this manifest rolled back or failed before (tag ecs-operator/held-back): not applied again until it changes";

/// Services planned per phase of a full sync: what the DescribeServices bucket's burst reads at
/// once (100 calls of 10), so the first registrations wait for no refill, and each phase's one
/// DescribeClusters is 1 read per 100 DescribeServices (at 100 a phase it was 1 per 10, more
/// than the rest of a quiet resync's reads beyond the batching minimum).
pub const FULL_SYNC_SERVICE_CHUNK: usize = 1000;

impl Controller {
    /// The record of a resource found in sync (or suspended) by a reconcile or a full sync;
    /// remembers the content now synced and a completed deployment's revision.
    pub(super) fn in_sync(
        &self,
        plan: &ResourcePlan,
        desired: &Desired,
        observed: &Observed,
    ) -> Record {
        let key = &plan.key;
        let completed = completed_revision(key, observed);
        let suspended = plan.status == Status::Suspended;
        let content = desired.content(key).map(str::to_string);
        // Content not recorded as synced before was applied by this revision (a reconcile
        // cut off after its calls, before its record, finds it in sync on its retry).
        let newly = self.memory.with(key, |m| {
            if completed.is_some() {
                m.last_completed = completed;
            }
            let newly = m.synced_content != content;
            if !suspended && content.is_some() {
                m.synced_content = content;
                m.stalled = None;
            }
            newly
        });
        let record = Record::default()
            .file(plan.file.clone())
            .changes(Vec::new())
            .no_error();
        if suspended {
            return record
                .sync(SyncStatus::Unknown)
                .health(Health::Suspended)
                .message("ecs-operator/suspend is \"true\": not managed");
        }
        let revision = if newly {
            Revision::Applied(desired.revision.clone())
        } else {
            Revision::FirstSeen(desired.revision.clone())
        };
        let mut record = Record {
            revision: Some(revision),
            ..record
        }
        .sync(SyncStatus::Synced);
        if !self.memory.is_following(key) {
            let (health, message, task_definition) = live_health(key, observed);
            record = record.health(health).task_definition(task_definition);
            record.message = Some(message);
        }
        record
    }

    /// Plans `keys` with batched reads; returns those not in sync (their plans kept).
    async fn sync_phase(
        &self,
        desired: &Desired,
        keys: &BTreeSet<ResourceKey>,
    ) -> Result<BTreeSet<ResourceKey>, CloudError> {
        let planned = plan_documents(
            &self.observer,
            &desired.documents,
            desired.select(keys),
            &self.memory,
            &self.settings.instance,
        )
        .await?;
        self.memory.learn_arns(&planned.target_group_arns);
        let observed = Arc::new(planned.observed);
        let mut queued = BTreeSet::new();
        for plan in planned.plans {
            let key = plan.key.clone();
            self.restore(&key, desired.content(&key).unwrap_or_default(), &observed);
            if plan.is_in_sync() {
                self.in_sync(&plan, desired, &observed)
                    .observed()
                    .write(&self.status, &key);
                continue;
            }
            let content = desired.content(&key).unwrap_or_default();
            let (held_back, synced, stalled) = self
                .memory
                .read(&key, |m| {
                    let is = |c: &Option<String>| c.as_deref() == Some(content);
                    (is(&m.held_back), is(&m.synced_content), is(&m.stalled))
                })
                .unwrap_or_default();
            if held_back {
                // A restarted controller has no record yet: say why nothing is applied.
                if self.status.get(&key).is_none() {
                    Record::default()
                        .file(plan.file.clone())
                        .sync(SyncStatus::OutOfSync)
                        .health(Health::Degraded)
                        .message(HELD_BACK_MESSAGE)
                        .observed()
                        .write(&self.status, &key);
                }
                continue;
            }
            let drifted = synced
                && self
                    .status
                    .get(&key)
                    .is_some_and(|s| s.sync == SyncStatus::Synced);
            if drifted {
                tracing::info!(key = %key, changes = plan.changes.len(), "drift detected");
                self.events.drift(key.kind);
            }
            let changes: Vec<String> = plan.changes.iter().map(|c| format!("spec.{c}")).collect();
            // Stalled stays Stalled while its content is the same: the reconcile queued now
            // tries it once more (permissions may have been fixed).
            let sync = if stalled {
                SyncStatus::Stalled
            } else {
                SyncStatus::OutOfSync
            };
            let mut record = Record::default()
                .file(plan.file.clone())
                .sync(sync)
                .changes(changes)
                .observed();
            if !self.memory.is_following(&key) {
                record = record.health(live_health(&key, &observed).0);
            }
            record.write(&self.status, &key);
            self.memory.with(&key, |m| {
                m.prefetched = Some(Prefetched {
                    generation: desired.generation,
                    plan,
                    observed: observed.clone(),
                });
            });
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
        let checks = crate::kind::target_group::with_attributes(&desired.documents);
        let due = self
            .observer
            .schedule_attribute_checks(&checks, self.settings.attributes_check_interval);
        tracing::debug!(groups = checks.len(), due, "target group attribute checks");
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
}

/// The revision of a service whose deployment completed, from what was read.
fn completed_revision(key: &ResourceKey, observed: &Observed) -> Option<String> {
    if key.kind != Kind::Service {
        return None;
    }
    let live = observed
        .services
        .get(&(key.cluster.clone().unwrap_or_default(), key.name.clone()))?;
    if !matches!(assess(Some(live), ""), RolloutStatus::Completed { .. }) {
        return None;
    }
    live.primary().map(|p| p.task_definition.clone())
}

/// Health, a message and the running revision of `key` from what was read (its kind says
/// what healthy means: `kind::health`).
pub(super) fn live_health(
    key: &ResourceKey,
    observed: &Observed,
) -> (Health, Option<String>, Option<String>) {
    let live = crate::kind::health(key, observed);
    (live.health, live.message, live.revision)
}
