//! The one rollout tracker: following a service's rollout after a change. The PRIMARY
//! deployment must run the revision the operator set and complete (and, where asked, its
//! targets be healthy); a FAILED rollout, a crash loop, or a PRIMARY running another revision
//! (ECS's circuit breaker rolled it back) is a failure.
//!
//! - [`assess`]: where a described service's rollout stands ([`RolloutStatus`]); it is the
//!   service kind's knowledge, kept in `kind::health` and re-exported here.
//! - [`step`]: the tracker's pure transition over what was read ([`Seen`]) and the time: the
//!   next state (none once final) and a [`Verdict`]. No I/O, so it is table-tested.
//! - [`read`]: what `step` needs, through the [`Observer`] (DescribeServices by 10 per
//!   cluster; target health only of services whose deployment completed; the stopped tasks of
//!   a PRIMARY deployment only while it has failed tasks).
//! - [`stop_reason`]: why a stopped task failed (the closed reason set and the hints table).
//! - [`deployment`]: judging a rollout by its own service deployment (DescribeServiceDeployments
//!   by 20): a native strategy's stage, ECS's rollback, a deployment superseded by another.
//!   Without the API (moto) the tracker judges by DescribeServices' `deployments[]` alone.
//! - [`follow`]: drives `read` and `step` until every rollout is final (`apply --wait`). The
//!   controller drives the same two in `controller::rollouts`, acting on each verdict.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::CloudError;
use crate::cloud::model::{DeploymentStrategy, LifecycleStage, Service, ServiceDeployment};
use crate::manifest::ResourceKey;
use crate::observe::Observer;

pub use crate::kind::health::{RolloutStatus, assess};

pub mod deployment;
pub mod stop_reason;

use deployment::{Judged, StageView};

use stop_reason::{StopReason, Stopped};

/// A rollout being followed: the tracker's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    /// The task definition revision set.
    pub revision: String,
    /// When it started.
    pub started: Instant,
    /// The operator's own rollback (a crash loop of it is not rolled back again).
    pub rollback: bool,
    /// Why its tasks failed, as last read: kept so that a rollback by ECS (after which the
    /// failed deployment is no longer PRIMARY and its tasks are not read) still names it.
    pub cause: Option<Cause>,
    /// The service deployment ARN of the rollout (the answer of the call that started it,
    /// else found by [`read`]); `None` where the API has none.
    pub deployment: Option<String>,
    /// The native stage it was last seen in, and since when.
    pub stage: Option<(LifecycleStage, Instant)>,
}

impl Tracker {
    /// A rollout to `revision` starting now.
    pub fn new(revision: impl Into<String>, rollback: bool) -> Tracker {
        Tracker {
            revision: revision.into(),
            started: Instant::now(),
            rollback,
            cause: None,
            deployment: None,
            stage: None,
        }
    }

    /// The same rollout, followed by its service deployment `arn`.
    pub fn with_deployment(mut self, arn: Option<String>) -> Tracker {
        self.deployment = arn;
        self
    }
}

/// How a follower judges rollouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Failed tasks of the new deployment, before it completes, that make a crash loop; `None`:
    /// never (the rollout goes on until ECS ends it).
    pub crash_loop_threshold: Option<u32>,
    /// A rollout still progressing after this long is late.
    pub timeout: Duration,
    /// A completed deployment also needs healthy targets in its target groups.
    pub check_targets: bool,
}

/// What was read about one followed service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// The service, if it exists.
    pub service: Option<Service>,
    /// Whether its targets are healthy; `None` when not read (its deployment has not
    /// completed, or the policy does not check targets).
    pub targets_healthy: Option<bool>,
    /// The stopped tasks of its PRIMARY deployment, newest first (DescribeTasks), read while
    /// that deployment has failed tasks.
    pub stopped: Vec<Stopped>,
    /// Its service deployment (DescribeServiceDeployments); `None` without the API.
    pub deployment: Option<ServiceDeployment>,
}

/// Why the tasks of a crash loop failed: the newest failed task's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Its reason (the metric label).
    pub reason: StopReason,
    /// The reason with its hint, as status and the log say it.
    pub text: String,
}

impl Seen {
    /// The strategy of the rollout.
    pub fn strategy(&self) -> DeploymentStrategy {
        deployment::strategy(self.deployment.as_ref(), self.service.as_ref())
    }

    /// The failed tasks among the stopped ones.
    fn failures(&self) -> impl Iterator<Item = &Stopped> {
        self.stopped.iter().filter(|t| t.is_failure())
    }

    /// Why the newest failed task failed.
    pub fn cause(&self) -> Option<Cause> {
        self.failures().next().map(|t| Cause {
            reason: stop_reason::classify(t).0,
            text: stop_reason::describe(t),
        })
    }
}

/// What a step of the tracker concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Still replacing tasks; `late` once past the policy's timeout.
    Progressing {
        /// Where it stands.
        status: RolloutStatus,
        /// Past the timeout (still followed).
        late: bool,
    },
    /// The deployment completed; its targets are not all healthy yet.
    WaitingForTargets {
        /// Tasks running.
        running: u32,
    },
    /// Completed (with healthy targets when the policy checks them).
    Completed {
        /// Tasks running.
        running: u32,
    },
    /// Failed tasks of the new deployment reached the crash-loop threshold.
    CrashLoop {
        /// Tasks of it that failed.
        failed: u32,
        /// Why, from its stopped tasks (none when they could not be read).
        cause: Option<Cause>,
    },
    /// ECS marked the rollout FAILED.
    Failed {
        /// ECS's reason.
        reason: String,
    },
    /// ECS rolled the change back (the PRIMARY runs another revision).
    RolledBack {
        /// The revision it went back to.
        to: String,
        /// Why the new tasks failed, when their stopped tasks were read before the rollback.
        cause: Option<Cause>,
    },
    /// A native strategy's deployment in a lifecycle stage.
    Stage {
        /// The stage.
        stage: StageView,
        /// The tasks (DescribeServices).
        status: RolloutStatus,
        /// Past the timeout (still followed).
        late: bool,
    },
    /// ECS is rolling a native deployment back (a failed hook, alarms).
    RollingBack {
        /// ECS's reason.
        reason: String,
    },
    /// ECS rolled a native deployment back: counted as rolled back, never completed.
    DeploymentRolledBack {
        /// The revision the service runs again.
        to: String,
        /// ECS's reason (the failed hook).
        reason: String,
    },
    /// A newer deployment (by hand, by another tool) stopped this one: not a rollback.
    Superseded {
        /// The service's current deployment, when known.
        by: Option<String>,
    },
    /// The service is gone.
    Missing,
}

impl Verdict {
    /// True once following ends.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Verdict::Progressing { .. }
                | Verdict::WaitingForTargets { .. }
                | Verdict::Stage { .. }
                | Verdict::RollingBack { .. }
        )
    }

    /// The rollout status this verdict reports (what `apply --wait` prints).
    pub fn status(&self) -> RolloutStatus {
        match self {
            Verdict::Progressing { status, .. } => status.clone(),
            Verdict::WaitingForTargets { running } => RolloutStatus::Progressing {
                running: *running,
                desired: *running,
                failed: 0,
            },
            Verdict::Completed { running } => RolloutStatus::Completed { running: *running },
            Verdict::CrashLoop { failed, cause } => RolloutStatus::Failed {
                reason: match cause {
                    Some(c) => format!("crash loop: {failed} tasks failed; {}", c.text),
                    None => format!("crash loop: {failed} tasks failed"),
                },
            },
            Verdict::Failed { reason } => RolloutStatus::Failed {
                reason: reason.clone(),
            },
            Verdict::RolledBack { to, .. } => RolloutStatus::RolledBack { to: to.clone() },
            Verdict::Stage { status, .. } => status.clone(),
            Verdict::RollingBack { reason } => RolloutStatus::Failed {
                reason: format!("ECS is rolling back: {reason}"),
            },
            Verdict::DeploymentRolledBack { to, .. } => {
                RolloutStatus::RolledBack { to: to.clone() }
            }
            Verdict::Superseded { by } => RolloutStatus::Failed {
                reason: deployment::superseded(by.as_deref()),
            },
            Verdict::Missing => RolloutStatus::Missing,
        }
    }
}

/// One transition of the tracker: from its state, what was read and the time, the next state
/// (`None` once the rollout is final) and the verdict.
pub fn step(
    mut tracker: Tracker,
    seen: &Seen,
    policy: &Policy,
    now: Instant,
) -> (Option<Tracker>, Verdict) {
    if let Some(cause) = seen.cause() {
        tracker.cause = Some(cause);
    }
    if tracker.deployment.is_none() {
        tracker.deployment = seen.deployment.as_ref().map(|d| d.arn.clone());
    }
    let native = deployment::is_native(seen.strategy());
    let judged = match &seen.deployment {
        Some(d) => {
            let stage = d.lifecycle_stage;
            if stage != tracker.stage.map(|(s, _)| s) {
                tracker.stage = stage.map(|s| (s, now));
            }
            deployment::judge(d, seen.service.as_ref(), tracker.stage.map(|(_, t)| t), now)
        }
        None => Judged::AsDescribed,
    };
    let mut status = assess(seen.service.as_ref(), &tracker.revision);
    let late = now.saturating_duration_since(tracker.started) > policy.timeout;
    let decided = match judged {
        Judged::Stage(stage) => Some(Verdict::Stage {
            stage,
            status: status.clone(),
            late,
        }),
        Judged::RollingBack { reason } => Some(Verdict::RollingBack { reason }),
        Judged::RolledBack { reason } => Some(Verdict::DeploymentRolledBack {
            to: seen
                .service
                .as_ref()
                .map(|s| s.task_definition.clone())
                .unwrap_or_default(),
            reason,
        }),
        Judged::Failed { reason } => Some(Verdict::Failed { reason }),
        Judged::Superseded { by } => Some(Verdict::Superseded { by }),
        Judged::AsDescribed => None,
    };
    if let Some(verdict) = decided {
        let next = (!verdict.is_final()).then_some(tracker);
        return (next, verdict);
    }
    // Failures counted from the stopped tasks too, where they were read.
    if let RolloutStatus::Progressing { failed, .. } = &mut status {
        let from_tasks = u32::try_from(seen.failures().count()).unwrap_or(u32::MAX);
        *failed = (*failed).max(from_tasks);
    }
    let verdict = match status {
        // The operator's crash-loop rollback is for ROLLING only: ECS rolls native ones back.
        RolloutStatus::Progressing { failed, .. }
            if !tracker.rollback
                && !native
                && policy.crash_loop_threshold.is_some_and(|t| failed >= t) =>
        {
            Verdict::CrashLoop {
                failed,
                cause: tracker.cause.clone(),
            }
        }
        RolloutStatus::Progressing { .. } => Verdict::Progressing { late, status },
        RolloutStatus::Completed { running }
            if policy.check_targets && seen.targets_healthy != Some(true) =>
        {
            Verdict::WaitingForTargets { running }
        }
        RolloutStatus::Completed { running } => Verdict::Completed { running },
        RolloutStatus::Failed { reason } => Verdict::Failed { reason },
        RolloutStatus::RolledBack { to } => Verdict::RolledBack {
            to,
            cause: tracker.cause.clone(),
        },
        RolloutStatus::Missing => Verdict::Missing,
    };
    let next = (!verdict.is_final()).then_some(tracker);
    (next, verdict)
}

/// Reads what [`step`] needs for each followed (service key, tracker): the services in
/// batches, their service deployments in batches (DescribeServiceDeployments by 20; a tracker
/// without its ARN looks it up once with ListServiceDeployments), then, when `check_targets`,
/// the target health of each whose deployment completed.
pub async fn read(
    observer: &Observer,
    followed: &[(ResourceKey, &Tracker)],
    check_targets: bool,
) -> Result<Vec<Seen>, CloudError> {
    // Names by cluster, each once, in key order: DescribeServices by 10 per cluster.
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, _) in followed {
        names
            .entry(key.cluster.clone().unwrap_or_default())
            .or_default()
            .insert(key.name.clone());
    }
    let mut services: HashMap<(String, String), Service> = HashMap::new();
    for (cluster, names) in names {
        let names: Vec<String> = names.into_iter().collect();
        for s in observer.services(&cluster, &names).await? {
            services.insert((cluster.clone(), s.name.clone()), s);
        }
    }
    let arns = deployment_arns(observer, followed, &services).await?;
    let wanted: Vec<String> = arns.iter().flatten().cloned().collect();
    let mut deployments: HashMap<String, ServiceDeployment> = match wanted.is_empty() {
        true => HashMap::new(),
        false => observer
            .service_deployments(&wanted)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.arn.clone(), d))
            .collect(),
    };
    let mut out = Vec::with_capacity(followed.len());
    for ((key, tracker), arn) in followed.iter().zip(arns) {
        let revision = &tracker.revision;
        let deployment = arn.and_then(|a| deployments.remove(&a));
        let service = services.remove(&(key.cluster.clone().unwrap_or_default(), key.name.clone()));
        let completed = matches!(
            assess(service.as_ref(), revision),
            RolloutStatus::Completed { .. }
        );
        let targets_healthy = match &service {
            Some(s) if check_targets && completed => Some(observer.targets_healthy(s).await?),
            _ => None,
        };
        let stopped = match &service {
            Some(s) => {
                stopped_of_primary(
                    observer,
                    key.cluster.as_deref().unwrap_or_default(),
                    s,
                    revision,
                )
                .await
            }
            None => Vec::new(),
        };
        out.push(Seen {
            service,
            targets_healthy,
            stopped,
            deployment,
        });
    }
    Ok(out)
}

/// The service deployment ARN of each followed rollout: the tracker's, else (where the
/// service reports one, so the API exists) the one created with the PRIMARY deployment of
/// the revision followed ([`Observer::service_deployment_since`]).
async fn deployment_arns(
    observer: &Observer,
    followed: &[(ResourceKey, &Tracker)],
    services: &HashMap<(String, String), Service>,
) -> Result<Vec<Option<String>>, CloudError> {
    let mut out = Vec::with_capacity(followed.len());
    for (key, tracker) in followed {
        if tracker.deployment.is_some() {
            out.push(tracker.deployment.clone());
            continue;
        }
        let cluster = key.cluster.clone().unwrap_or_default();
        let since = services
            .get(&(cluster.clone(), key.name.clone()))
            .filter(|s| s.current_service_deployment.is_some())
            .and_then(|s| {
                s.deployments
                    .iter()
                    .find(|d| d.task_definition == tracker.revision)
                    .and_then(|d| d.created_at)
            });
        out.push(match since {
            Some(since) => {
                observer
                    .service_deployment_since(&cluster, &key.name, since)
                    .await?
            }
            None => None,
        });
    }
    Ok(out)
}

/// The stopped tasks of a service's PRIMARY deployment while it progresses with failed tasks
/// (none otherwise: no calls). A backend that cannot list them (moto) leaves the count to
/// DescribeServices' `failedTasks` and the reason unnamed.
async fn stopped_of_primary(
    observer: &Observer,
    cluster: &str,
    service: &Service,
    revision: &str,
) -> Vec<Stopped> {
    let Some(primary) = service.primary() else {
        return Vec::new();
    };
    if primary.failed_tasks == 0
        || !matches!(
            assess(Some(service), revision),
            RolloutStatus::Progressing { .. }
        )
    {
        return Vec::new();
    }
    match observer
        .stopped_tasks(cluster, &service.name, &primary.id)
        .await
    {
        Ok(mut tasks) => {
            tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
            tasks.iter().map(Stopped::of).collect()
        }
        Err(error) => {
            tracing::debug!(service = %service.name, %error, "stopped tasks not read");
            Vec::new()
        }
    }
}

/// Follows each (service, tracker: the revision set and its service deployment, when the
/// answer named it) every `interval` until its rollout is final or `timeout`
/// passes; `on_change` sees each status when it changes. Returns the last status of each (a
/// rollout still progressing at the timeout stays `Progressing`). Judged with no crash-loop
/// threshold and no target check: ECS's own verdict (`apply --wait`).
pub async fn follow(
    observer: &Observer,
    services: &[(ResourceKey, Tracker)],
    timeout: Duration,
    interval: Duration,
    mut on_change: impl FnMut(&ResourceKey, &RolloutStatus),
) -> Result<Vec<(ResourceKey, RolloutStatus)>, CloudError> {
    let policy = Policy {
        crash_loop_threshold: None,
        timeout,
        check_targets: false,
    };
    let deadline = Instant::now() + timeout;
    let mut trackers: HashMap<&ResourceKey, Tracker> =
        services.iter().map(|(k, t)| (k, t.clone())).collect();
    let mut last: HashMap<&ResourceKey, RolloutStatus> = HashMap::new();
    loop {
        let open: Vec<(ResourceKey, &Tracker)> = services
            .iter()
            .filter_map(|(k, _)| Some((k.clone(), trackers.get(k)?)))
            .collect();
        let seen = read(observer, &open, false).await?;
        let open: Vec<ResourceKey> = open.into_iter().map(|(k, _)| k).collect();
        let now = Instant::now();
        for (key, seen) in open.iter().zip(&seen) {
            let Some((key, tracker)) = trackers.remove_entry(key) else {
                continue;
            };
            let (next, verdict) = step(tracker, seen, &policy, now);
            let status = verdict.status();
            if last.get(key) != Some(&status) {
                on_change(key, &status);
                last.insert(key, status);
            }
            if let Some(next) = next {
                trackers.insert(key, next);
            }
        }
        if trackers.is_empty() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    Ok(services
        .iter()
        .map(|(k, _)| (k.clone(), last.remove(k).unwrap_or(RolloutStatus::Missing)))
        .collect())
}

#[cfg(test)]
mod tests;
