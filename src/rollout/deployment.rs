//! Judging a rollout by its own service deployment (DescribeServiceDeployments), where the
//! API has one: the deployment the operator's CreateService or UpdateService started, never
//! another one in flight. A native strategy (BLUE_GREEN, LINEAR, CANARY) is judged by it
//! alone: its lifecycle stage while IN_PROGRESS, ECS's rollback (a failed hook, alarms) as
//! rolled back, SUCCESSFUL as done. For every strategy, a deployment STOPPED because a newer
//! one started (by hand, by another tool) is "superseded", not a rollback.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::model::{
    DeploymentStrategy, LifecycleStage, Service, ServiceDeployment, ServiceDeploymentStatus,
};

/// True for ECS's native strategies (ECS runs their stages and their rollback).
pub fn is_native(strategy: DeploymentStrategy) -> bool {
    matches!(
        strategy,
        DeploymentStrategy::BlueGreen | DeploymentStrategy::Linear | DeploymentStrategy::Canary
    )
}

/// What status says of a rollout another deployment stopped.
pub fn superseded(by: Option<&str>) -> String {
    match by {
        Some(by) => format!(
            "superseded: service deployment {by} (not this rollout's) replaced it before it ended"
        ),
        None => "superseded: another deployment replaced it before it ended".to_string(),
    }
}

/// The strategy a rollout runs: its service deployment's, else the service's configuration's.
pub fn strategy(
    deployment: Option<&ServiceDeployment>,
    service: Option<&Service>,
) -> DeploymentStrategy {
    deployment
        .and_then(|d| d.strategy)
        .or_else(|| {
            service
                .and_then(|s| s.deployment_configuration.as_ref())
                .and_then(|c| c.strategy)
        })
        .unwrap_or(DeploymentStrategy::Rolling)
}

/// Where a native deployment stands, as status says it (`BLUE_GREEN: BAKE_TIME, 3 of 10 min`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageView {
    /// Its strategy.
    pub strategy: DeploymentStrategy,
    /// Its stage.
    pub stage: LifecycleStage,
    /// How long it has been in the stage, as far as the tracker saw.
    pub for_: Duration,
    /// The bake time, during BAKE_TIME.
    pub bake_minutes: Option<u32>,
}

impl fmt::Display for StageView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.strategy.as_str(), self.stage)?;
        match (self.stage, self.bake_minutes) {
            (LifecycleStage::BakeTime, Some(bake)) => {
                write!(f, ", {} of {bake} min", self.for_.as_secs() / 60)
            }
            _ => Ok(()),
        }
    }
}

/// What a service deployment decides about its rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// Still running a native strategy's stage.
    Stage(StageView),
    /// ECS is rolling it back.
    RollingBack {
        /// ECS's reason.
        reason: String,
    },
    /// ECS rolled it back (a native strategy).
    RolledBack {
        /// ECS's reason (the failed hook, the alarm).
        reason: String,
    },
    /// It failed (ECS's FAILED or ROLLBACK_FAILED).
    Failed {
        /// ECS's reason.
        reason: String,
    },
    /// A newer deployment stopped it.
    Superseded {
        /// The service's current deployment, when known.
        by: Option<String>,
    },
    /// Nothing the deployment says beyond DescribeServices: judge by `deployments[]`.
    AsDescribed,
}

/// Judges the rollout by its service deployment `d`; `stage_since` is when the tracker first
/// saw the stage it is in (kept by the tracker), `now` the time.
pub fn judge(
    d: &ServiceDeployment,
    service: Option<&Service>,
    stage_since: Option<Instant>,
    now: Instant,
) -> Judged {
    let reason = || d.status_reason.clone().unwrap_or_default();
    let native = is_native(strategy(Some(d), service));
    match d.status {
        Some(ServiceDeploymentStatus::Stopped | ServiceDeploymentStatus::StopRequested) => {
            Judged::Superseded {
                by: service
                    .and_then(|s| s.current_service_deployment.clone())
                    .filter(|c| *c != d.arn),
            }
        }
        _ if !native => Judged::AsDescribed,
        Some(ServiceDeploymentStatus::RollbackRequested)
        | Some(ServiceDeploymentStatus::RollbackInProgress) => {
            Judged::RollingBack { reason: reason() }
        }
        Some(ServiceDeploymentStatus::RollbackSuccessful) => {
            Judged::RolledBack { reason: reason() }
        }
        Some(ServiceDeploymentStatus::RollbackFailed | ServiceDeploymentStatus::Failed) => {
            Judged::Failed { reason: reason() }
        }
        Some(ServiceDeploymentStatus::Successful) | None => Judged::AsDescribed,
        Some(ServiceDeploymentStatus::Pending | ServiceDeploymentStatus::InProgress) => {
            match d.lifecycle_stage {
                Some(stage) => Judged::Stage(StageView {
                    strategy: strategy(Some(d), service),
                    stage,
                    for_: stage_since.map_or(Duration::ZERO, |s| now.saturating_duration_since(s)),
                    bake_minutes: d.bake_time_in_minutes,
                }),
                None => Judged::AsDescribed,
            }
        }
    }
}
