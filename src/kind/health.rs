//! What healthy means for each kind, from what the observer read: a cluster or a target group
//! is healthy when it exists; a service when its PRIMARY deployment completed with every task
//! running ([`assess`]). The controller's status and the rollout tracker both read it here
//! (as Argo CD keeps one health check per kind).

use std::fmt;

use crate::cloud::model::{RolloutState, Service};
use crate::manifest::ResourceKey;
use crate::observe::Observed;
use crate::plan::TAG_LAST_COMPLETED;
use crate::status::Health;

/// A resource's health as read: the [`Health`], a message, and for a service the revision its
/// PRIMARY deployment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveHealth {
    /// Healthy, Progressing, Degraded or Missing.
    pub health: Health,
    /// Why, when not healthy.
    pub message: Option<String>,
    /// The task definition revision a service runs.
    pub revision: Option<String>,
}

impl LiveHealth {
    /// Healthy when it exists, Missing otherwise.
    pub fn present(exists: bool) -> LiveHealth {
        LiveHealth {
            health: if exists {
                Health::Healthy
            } else {
                Health::Missing
            },
            message: None,
            revision: None,
        }
    }
}

/// A service's health from its rollout (any revision).
pub fn service(key: &ResourceKey, observed: &Observed) -> LiveHealth {
    let live = observed
        .services
        .get(&(key.cluster.clone().unwrap_or_default(), key.name.clone()));
    let Some(live) = live else {
        return LiveHealth::present(false);
    };
    let revision = Some(live.task_definition.clone());
    let (health, message) = match assess(Some(live), "") {
        // With autoScaling: what the scaler holds the count at (`service_scaling::summary`).
        RolloutStatus::Completed { .. } => (
            Health::Healthy,
            super::service_scaling::summary(key, live, observed),
        ),
        RolloutStatus::Failed { reason } => {
            (Health::Degraded, Some(format!("rollout failed: {reason}")))
        }
        other => (Health::Progressing, Some(other.to_string())),
    };
    LiveHealth {
        health,
        message,
        revision,
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutStatus {
    /// Still replacing tasks.
    Progressing {
        /// Tasks of the PRIMARY deployment running.
        running: u32,
        /// Tasks it wants.
        desired: u32,
        /// Tasks of it that failed.
        failed: u32,
    },
    /// The PRIMARY deployment runs the revision and completed.
    Completed {
        /// Tasks running.
        running: u32,
    },
    /// ECS marked the rollout FAILED.
    Failed {
        /// ECS's reason.
        reason: String,
    },
    /// The PRIMARY deployment runs another revision: ECS rolled the change back.
    RolledBack {
        /// The revision it went back to.
        to: String,
    },
    /// The service is gone.
    Missing,
}

impl RolloutStatus {
    /// True once the rollout will not change any more.
    pub fn is_final(&self) -> bool {
        !matches!(self, RolloutStatus::Progressing { .. })
    }

    /// True for a finished, good rollout.
    pub fn is_success(&self) -> bool {
        matches!(self, RolloutStatus::Completed { .. })
    }
}

impl fmt::Display for RolloutStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolloutStatus::Progressing {
                running,
                desired,
                failed,
            } => {
                write!(f, "{running}/{desired} running, {failed} failed")
            }
            RolloutStatus::Completed { running } => {
                write!(f, "rollout completed ({running} running)")
            }
            RolloutStatus::Failed { reason } => write!(f, "rollout failed: {reason}"),
            RolloutStatus::RolledBack { to } => {
                write!(f, "rolled back by ECS to {to}")
            }
            RolloutStatus::Missing => f.write_str("service not found"),
        }
    }
}

/// Assesses a described service against the revision the operator set (empty: any revision).
pub fn assess(service: Option<&Service>, revision: &str) -> RolloutStatus {
    let Some(service) = service else {
        return RolloutStatus::Missing;
    };
    let Some(primary) = service.primary() else {
        return RolloutStatus::Progressing {
            running: service.running_count,
            desired: service.desired_count,
            failed: 0,
        };
    };
    if !revision.is_empty() && primary.task_definition != revision {
        return RolloutStatus::RolledBack {
            to: primary.task_definition.clone(),
        };
    }
    match primary.rollout_state {
        Some(RolloutState::Failed) => RolloutStatus::Failed {
            reason: primary.rollout_state_reason.clone().unwrap_or_default(),
        },
        // Completed, with no older deployment still running tasks.
        Some(RolloutState::Completed)
            if primary.running_count >= primary.desired_count && service.deployments.len() == 1 =>
        {
            RolloutStatus::Completed {
                running: primary.running_count,
            }
        }
        _ => RolloutStatus::Progressing {
            running: primary.running_count,
            desired: primary.desired_count,
            failed: primary.failed_tasks,
        },
    }
}

/// A service's rollback target: the newest deployment ECS reports COMPLETED
/// (DescribeServices' `deployments[]`, PRIMARY first: an older ACTIVE one still runs while a
/// new one crash-loops), else the [`TAG_LAST_COMPLETED`] tag the controller writes when a
/// rollout completes. The controller rolls a crash loop back to it; prune keeps its revision.
pub fn rollback_target(live: &Service) -> Option<String> {
    live.deployments
        .iter()
        .find(|d| d.rollout_state == Some(RolloutState::Completed))
        .map(|d| d.task_definition.clone())
        .or_else(|| live.tags.get(TAG_LAST_COMPLETED).cloned())
}
