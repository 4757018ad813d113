//! Service deployments as ListServiceDeployments and DescribeServiceDeployments answer them:
//! one per deployment ECS starts (a CreateService, or an UpdateService that needs new tasks),
//! with its status, lifecycle stage (native blue/green, linear and canary strategies) and
//! rollback. The service's `currentServiceDeployment` names the newest.

use std::fmt;
use std::time::SystemTime;

pub use crate::manifest::service::DeploymentStrategy;

/// A service deployment's status (AWS's `ServiceDeploymentStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceDeploymentStatus {
    /// Created, not started.
    Pending,
    /// Running its stages.
    InProgress,
    /// Done: the target revision serves everything.
    Successful,
    /// A stop was asked for (StopServiceDeployment, or a newer deployment).
    StopRequested,
    /// Stopped before the end (a newer deployment replaced it).
    Stopped,
    /// Failed, not rolled back.
    Failed,
    /// A rollback was asked for (a failed hook, alarms, the circuit breaker).
    RollbackRequested,
    /// Rolling back to the source revision.
    RollbackInProgress,
    /// Rolled back: the source revision serves everything again.
    RollbackSuccessful,
    /// The rollback failed too.
    RollbackFailed,
}

impl ServiceDeploymentStatus {
    /// Every status.
    pub const ALL: [ServiceDeploymentStatus; 10] = [
        ServiceDeploymentStatus::Pending,
        ServiceDeploymentStatus::InProgress,
        ServiceDeploymentStatus::Successful,
        ServiceDeploymentStatus::StopRequested,
        ServiceDeploymentStatus::Stopped,
        ServiceDeploymentStatus::Failed,
        ServiceDeploymentStatus::RollbackRequested,
        ServiceDeploymentStatus::RollbackInProgress,
        ServiceDeploymentStatus::RollbackSuccessful,
        ServiceDeploymentStatus::RollbackFailed,
    ];

    /// The API spelling (`ROLLBACK_SUCCESSFUL`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceDeploymentStatus::Pending => "PENDING",
            ServiceDeploymentStatus::InProgress => "IN_PROGRESS",
            ServiceDeploymentStatus::Successful => "SUCCESSFUL",
            ServiceDeploymentStatus::StopRequested => "STOP_REQUESTED",
            ServiceDeploymentStatus::Stopped => "STOPPED",
            ServiceDeploymentStatus::Failed => "FAILED",
            ServiceDeploymentStatus::RollbackRequested => "ROLLBACK_REQUESTED",
            ServiceDeploymentStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            ServiceDeploymentStatus::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            ServiceDeploymentStatus::RollbackFailed => "ROLLBACK_FAILED",
        }
    }

    /// The status of this API spelling.
    pub fn from_aws(s: &str) -> Option<ServiceDeploymentStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// True once the deployment will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ServiceDeploymentStatus::Successful
                | ServiceDeploymentStatus::Stopped
                | ServiceDeploymentStatus::Failed
                | ServiceDeploymentStatus::RollbackSuccessful
                | ServiceDeploymentStatus::RollbackFailed
        )
    }
}

impl fmt::Display for ServiceDeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lifecycle stages of a service deployment, in the order ECS runs them
/// (`ServiceDeploymentLifecycleStage`; RECONCILE_SERVICE only when more than one revision was
/// ACTIVE). A ROLLING deployment reports none.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LifecycleStage {
    /// More than one revision ACTIVE at the start.
    ReconcileService,
    /// Green not started; blue serves all production traffic.
    PreScaleUp,
    /// Green scales up to the desired count, serving no traffic.
    ScaleUp,
    /// Green started; blue serves all production traffic.
    PostScaleUp,
    /// Test traffic moves to green.
    TestTrafficShift,
    /// Green serves all test traffic.
    PostTestTrafficShift,
    /// Before each production traffic shift (each step of linear and canary).
    PreProductionTrafficShift,
    /// Production traffic moves to green (each step of linear and canary).
    ProductionTrafficShift,
    /// Green serves all production traffic.
    PostProductionTrafficShift,
    /// Blue and green both run, green serving, for the bake time.
    BakeTime,
    /// Blue scales down to 0.
    CleanUp,
}

impl LifecycleStage {
    /// Every stage, in the order ECS runs them.
    pub const ALL: [LifecycleStage; 11] = [
        LifecycleStage::ReconcileService,
        LifecycleStage::PreScaleUp,
        LifecycleStage::ScaleUp,
        LifecycleStage::PostScaleUp,
        LifecycleStage::TestTrafficShift,
        LifecycleStage::PostTestTrafficShift,
        LifecycleStage::PreProductionTrafficShift,
        LifecycleStage::ProductionTrafficShift,
        LifecycleStage::PostProductionTrafficShift,
        LifecycleStage::BakeTime,
        LifecycleStage::CleanUp,
    ];

    /// The API spelling (`BAKE_TIME`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::ReconcileService => "RECONCILE_SERVICE",
            LifecycleStage::PreScaleUp => "PRE_SCALE_UP",
            LifecycleStage::ScaleUp => "SCALE_UP",
            LifecycleStage::PostScaleUp => "POST_SCALE_UP",
            LifecycleStage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            LifecycleStage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            LifecycleStage::PreProductionTrafficShift => "PRE_PRODUCTION_TRAFFIC_SHIFT",
            LifecycleStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            LifecycleStage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            LifecycleStage::BakeTime => "BAKE_TIME",
            LifecycleStage::CleanUp => "CLEAN_UP",
        }
    }

    /// The stage of this API spelling.
    pub fn from_aws(s: &str) -> Option<LifecycleStage> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The metric label (`bake_time`).
    pub fn label(self) -> String {
        self.as_str().to_ascii_lowercase()
    }
}

impl fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of ListServiceDeployments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceDeploymentBrief {
    /// Its ARN.
    pub arn: String,
    /// Its status.
    pub status: Option<ServiceDeploymentStatus>,
    /// The service revision it deploys.
    pub target_service_revision_arn: Option<String>,
    /// When it was created.
    pub created_at: Option<SystemTime>,
}

/// A service deployment as DescribeServiceDeployments describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceDeployment {
    /// Its ARN (`arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`).
    pub arn: String,
    /// The service's ARN.
    pub service_arn: String,
    /// Its status (`None`: a status this model does not know).
    pub status: Option<ServiceDeploymentStatus>,
    /// Why it is in that status.
    pub status_reason: Option<String>,
    /// The stage it is in (native strategies).
    pub lifecycle_stage: Option<LifecycleStage>,
    /// The strategy it runs (its deploymentConfiguration's).
    pub strategy: Option<DeploymentStrategy>,
    /// The bake time it honours, in minutes.
    pub bake_time_in_minutes: Option<u32>,
    /// The revision it deploys.
    pub target_service_revision_arn: Option<String>,
    /// The revisions it replaces.
    pub source_service_revision_arns: Vec<String>,
    /// When it was created.
    pub created_at: Option<SystemTime>,
    /// When it started.
    pub started_at: Option<SystemTime>,
    /// When it finished.
    pub finished_at: Option<SystemTime>,
    /// When it last changed.
    pub updated_at: Option<SystemTime>,
    /// Its rollback, when there was one.
    pub rollback: Option<ServiceDeploymentRollback>,
}

/// The rollback of a service deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceDeploymentRollback {
    /// Why it rolled back.
    pub reason: Option<String>,
    /// The revision it went back to.
    pub service_revision_arn: Option<String>,
    /// When it started.
    pub started_at: Option<SystemTime>,
}
