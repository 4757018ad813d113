//! The steps of a Service's `spec.autoScaling` (Application Auto Scaling calls), run by
//! `apply` after the service's own steps, so a service created in the same apply exists
//! before its scalable target is registered.

use crate::cloud::model::scaling::{PutScalingPolicy, RegisterScalableTarget, ScheduledAction};

/// Tag on a service: the operator registered its scalable target. A manifest without
/// `autoScaling` then deregisters it (and removes the tag); a service scaled by someone else
/// (no tag) is left alone.
pub const TAG_AUTO_SCALING: &str = "ecs-operator/auto-scaling";

/// One Application Auto Scaling call of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalingStep {
    /// RegisterScalableTarget (creates it, or sets min, max, suspension).
    Register(RegisterScalableTarget),
    /// PutScalingPolicy (creates or replaces by name).
    PutPolicy(PutScalingPolicy),
    /// DeleteScalingPolicy of a policy the manifest no longer names.
    DeletePolicy {
        /// `service/<cluster>/<service>`.
        resource_id: String,
        /// Policy name.
        name: String,
    },
    /// PutScheduledAction (creates or replaces by name).
    PutScheduled(ScheduledAction),
    /// DeleteScheduledAction of an action the manifest no longer names.
    DeleteScheduled {
        /// `service/<cluster>/<service>`.
        resource_id: String,
        /// Action name.
        name: String,
    },
    /// DeregisterScalableTarget: `autoScaling` was removed (AWS deletes the policies and
    /// scheduled actions with it). Already gone counts as done.
    Deregister {
        /// `service/<cluster>/<service>`.
        resource_id: String,
    },
}

impl ScalingStep {
    /// The AWS operation.
    pub fn operation(&self) -> &'static str {
        match self {
            ScalingStep::Register(_) => "RegisterScalableTarget",
            ScalingStep::PutPolicy(_) => "PutScalingPolicy",
            ScalingStep::DeletePolicy { .. } => "DeleteScalingPolicy",
            ScalingStep::PutScheduled(_) => "PutScheduledAction",
            ScalingStep::DeleteScheduled { .. } => "DeleteScheduledAction",
            ScalingStep::Deregister { .. } => "DeregisterScalableTarget",
        }
    }
}
