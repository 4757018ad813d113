//! The controller's driver of the rollout tracker ([`crate::rollout::step`]): reads every
//! followed service through the observer (10 per call), steps each tracker, and acts on the
//! verdict: status, rollout metrics, what is remembered (the last completed revision, content
//! held back), and for a crash loop a rollback to the last completed revision, done by the
//! next reconcile of the key (so it is one of the key's reconciles, never concurrent with one).
//!
//! After a change a rollout is Progressing, then Healthy when the PRIMARY deployment completes
//! with every task running and its targets healthy. A crash loop (failed tasks of the new
//! deployment reaching the threshold) is rolled back to the service's last completed revision;
//! an ECS rollback or failed rollout is reported the same way. In every case the same manifest
//! content is held back (not applied again) until the manifest changes.

use std::collections::BTreeMap;

use tokio::time::Instant;

use super::memory::Followed;
use super::reconcile::Controller;
use super::record::Record;
use super::restore::completed_tags;
use crate::cloud::CloudError;
use crate::cloud::model::{DeploymentStrategy, Service, Tags};
use crate::kind::health::rollback_target;
use crate::manifest::ResourceKey;
use crate::metrics::{ROLLING_STAGE, RolloutResult};
use crate::plan::{TAG_HELD_BACK, TAG_LAST_COMPLETED, held_back_hash};
use crate::rollout::stop_reason::StopReason;
use crate::rollout::{self, Policy, Tracker, Verdict};
use crate::status::{Health, SyncStatus};

impl Controller {
    /// Reads every followed service (10 per call) and moves its rollout on. Nothing
    /// followed, nothing read.
    pub async fn track_rollouts(&self) -> Result<(), CloudError> {
        let followed = self.memory.followed();
        if followed.is_empty() {
            self.events.deployments_in_progress(&BTreeMap::new());
            return Ok(());
        }
        let wanted: Vec<(ResourceKey, &Tracker)> = followed
            .iter()
            .map(|(k, f)| (k.clone(), &f.tracker))
            .collect();
        let seen = rollout::read(&self.observer, &wanted, self.policy().check_targets).await?;
        let now = Instant::now();
        let mut in_progress: BTreeMap<String, i64> = BTreeMap::new();
        for ((key, followed), seen) in followed.into_iter().zip(seen) {
            let (next, verdict) =
                rollout::step(followed.tracker.clone(), &seen, &self.policy(), now);
            let live = seen.service.as_ref();
            let stage = match &verdict {
                Verdict::Stage { stage, .. } => Some(stage.stage.label()),
                v if !v.is_final() => Some(ROLLING_STAGE.to_string()),
                _ => None,
            };
            if let Some(stage) = stage {
                *in_progress.entry(stage).or_default() += 1;
            }
            let strategy = seen.strategy();
            let Some(tags) = self.act(&key, &followed, live, next, verdict, strategy) else {
                continue;
            };
            let Some(live) = live else { continue };
            // What a restarted controller must find: written on the service. A failed write
            // is tried again at the next verdict that needs it; memory has the fact meanwhile.
            match self.cloud.ecs.tag_resource(&live.arn, &tags).await {
                Ok(()) => tracing::debug!(key = %key, ?tags, "remembered on the service"),
                Err(error) => {
                    tracing::warn!(key = %key, %error, "could not tag the service with what the controller remembers")
                }
            }
        }
        self.events.deployments_in_progress(&in_progress);
        Ok(())
    }

    fn policy(&self) -> Policy {
        Policy {
            crash_loop_threshold: Some(self.settings.crash_loop_threshold),
            timeout: self.settings.rollout_timeout,
            check_targets: true,
        }
    }

    /// Acts on one verdict about `followed` (skipped if a reconcile replaced that rollout
    /// meanwhile: the verdict is about a rollout no longer followed). Returns the memory tags
    /// to write on the service (`restore` reads them back after a restart).
    fn act(
        &self,
        key: &ResourceKey,
        followed: &Followed,
        live: Option<&Service>,
        next: Option<Tracker>,
        verdict: Verdict,
        strategy: DeploymentStrategy,
    ) -> Option<Tags> {
        let revision = &followed.tracker.revision;
        let own_rollback = followed.tracker.rollback;
        let still = self.memory.with(key, |m| {
            if m.rollout.as_ref() != Some(followed) {
                return false;
            }
            m.rollout = next.map(|tracker| Followed {
                tracker,
                content: followed.content.clone(),
            });
            true
        });
        if !still {
            return None;
        }
        let held_back_tag = || {
            (!own_rollback).then(|| {
                Tags::from([(TAG_HELD_BACK.to_string(), held_back_hash(&followed.content))])
            })
        };
        let mut tags = None;
        let finished = |health: Health, message: String| {
            Record::default()
                .health(health)
                .message(message)
                .task_definition(Some(revision.clone()))
        };
        let hold_back = || {
            if !own_rollback {
                self.memory
                    .with(key, |m| m.held_back = Some(followed.content.clone()));
            }
        };
        let record = match verdict {
            Verdict::CrashLoop { failed, cause } => {
                let reason = cause.as_ref().map_or(StopReason::Other, |c| c.reason);
                self.events.rollout_failure(reason);
                let why = cause.map(|c| format!(" ({})", c.text)).unwrap_or_default();
                tracing::warn!(key = %key, revision = %revision, failed, reason = reason.label(), "crash loop{why}");
                let last = self.memory.with(key, |m| {
                    m.held_back = Some(followed.content.clone());
                    m.crash_reason = why.clone();
                    m.last_completed.clone()
                });
                let last = last.or_else(|| live.and_then(rollback_target));
                match last.filter(|l| l != revision) {
                    Some(to) => {
                        let record = finished(
                            Health::Degraded,
                            format!(
                                "crash loop: {failed} tasks of {revision} failed{why}; rolling back to {to}"
                            ),
                        );
                        self.memory.with(key, |m| m.rollback_to = Some(to));
                        self.events.rollout(RolloutResult::RolledBack, strategy);
                        (self.enqueue)(key.clone());
                        record
                    }
                    None => {
                        tags = held_back_tag();
                        self.events.rollout(RolloutResult::Failed, strategy);
                        finished(
                            Health::Degraded,
                            format!(
                                "crash loop: {failed} tasks of {revision} failed{why} and no earlier revision completed to roll back to"
                            ),
                        )
                    }
                }
            }
            // The operator's own rollback: the manifest failed, so Degraded while it goes on.
            Verdict::Progressing { status, .. } if own_rollback => Record::default()
                .health(Health::Degraded)
                .message(format!("crash loop: rolled back to {revision}; {status}")),
            Verdict::WaitingForTargets { running } if own_rollback => Record::default()
                .health(Health::Degraded)
                .message(format!(
                    "crash loop: rolled back to {revision}; {running} running, waiting for healthy targets"
                )),
            Verdict::Progressing { status, late } if late => Record::default()
                .health(Health::Degraded)
                .message(format!(
                    "{status}; not completed after {}",
                    humantime::format_duration(self.settings.rollout_timeout)
                )),
            Verdict::Progressing { status, .. } => Record::default()
                .health(Health::Progressing)
                .message(status.to_string()),
            Verdict::WaitingForTargets { running } => Record::default()
                .health(Health::Progressing)
                .message(format!("{running} running, waiting for healthy targets")),
            Verdict::Completed { running } => {
                self.memory
                    .with(key, |m| m.last_completed = Some(revision.clone()));
                tags = live.and_then(|l| completed_tags(&l.tags, revision));
                if own_rollback {
                    let why = self
                        .memory
                        .read(key, |m| m.crash_reason.clone())
                        .unwrap_or_default();
                    finished(
                        Health::Degraded,
                        format!(
                            "rolled back to {revision} after a crash loop{why}; fix the manifest to roll forward"
                        ),
                    )
                } else {
                    self.events.rollout(RolloutResult::Completed, strategy);
                    finished(
                        Health::Healthy,
                        format!("rollout completed ({running} running)"),
                    )
                }
            }
            Verdict::Failed { reason } => {
                hold_back();
                tags = held_back_tag();
                self.events.rollout(RolloutResult::Failed, strategy);
                finished(Health::Degraded, format!("rollout failed: {reason}"))
            }
            Verdict::RolledBack { to, cause } => {
                let reason = cause.as_ref().map_or(StopReason::Other, |c| c.reason);
                self.events.rollout_failure(reason);
                tracing::warn!(key = %key, revision = %revision, to = %to, reason = reason.label(), "rolled back by ECS's circuit breaker");
                hold_back();
                let mut set = held_back_tag().unwrap_or_default();
                set.insert(TAG_LAST_COMPLETED.to_string(), to.clone());
                tags = Some(set);
                self.memory
                    .with(key, |m| m.last_completed = Some(to.clone()));
                self.events.rollout(RolloutResult::RolledBack, strategy);
                finished(
                    Health::Degraded,
                    match cause {
                        Some(cause) => format!(
                            "ECS rolled {revision} back to {to} (circuit breaker) after a crash loop ({}); this manifest is not applied again until it changes",
                            cause.text
                        ),
                        None => format!(
                            "ECS rolled {revision} back to {to} (circuit breaker); this manifest is not applied again until it changes"
                        ),
                    },
                )
                .sync(SyncStatus::OutOfSync)
            }
            Verdict::Stage {
                stage,
                status,
                late,
            } => Record::default()
                .health(if late {
                    Health::Degraded
                } else {
                    Health::Progressing
                })
                .message(match late {
                    true => format!(
                        "{stage}; {status}; not completed after {}",
                        humantime::format_duration(self.settings.rollout_timeout)
                    ),
                    false => format!("{stage}; {status}"),
                }),
            Verdict::RollingBack { reason } => Record::default()
                .health(Health::Degraded)
                .message(format!("ECS is rolling {revision} back: {reason}")),
            Verdict::DeploymentRolledBack { to, reason } => {
                tracing::warn!(key = %key, revision = %revision, to = %to, %reason, "rolled back by ECS");
                hold_back();
                let mut set = held_back_tag().unwrap_or_default();
                set.insert(TAG_LAST_COMPLETED.to_string(), to.clone());
                tags = Some(set);
                self.memory
                    .with(key, |m| m.last_completed = Some(to.clone()));
                self.events.rollout(RolloutResult::RolledBack, strategy);
                finished(
                    Health::Degraded,
                    format!(
                        "ECS rolled {revision} back to {to} ({} deployment): {reason}; this manifest is not applied again until it changes",
                        strategy.as_str()
                    ),
                )
                .sync(SyncStatus::OutOfSync)
            }
            Verdict::Superseded { by } => {
                tracing::warn!(key = %key, revision = %revision, by = ?by, "rollout superseded by another deployment");
                finished(
                    Health::Degraded,
                    rollout::deployment::superseded(by.as_deref()),
                )
            }
            Verdict::Missing => finished(Health::Missing, "service not found".into()),
        };
        // The verdict came from the service as just read.
        record.observed().write(&self.status, key);
        tags
    }
}
