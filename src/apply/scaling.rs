//! Running a Service's Application Auto Scaling steps ([`ScalingStep`]), one call each.
//! Deleting what is already gone counts as done (a policy deleted by hand, a target AWS
//! removed with its service), so a repeated apply converges.

use crate::cloud::model::scaling::PolicyConfiguration;
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::plan::scaling::ScalingStep;

/// Runs one step and describes it in one line.
pub async fn run(cloud: &Cloud, step: &ScalingStep) -> Result<String, CloudError> {
    let api = &cloud.autoscaling;
    let gone = |r: Result<(), CloudError>| match r {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    };
    Ok(match step {
        ScalingStep::Register(input) => {
            api.register_scalable_target(input).await?;
            format!(
                "RegisterScalableTarget {} ({}..{})",
                input.resource_id, input.min_capacity, input.max_capacity
            )
        }
        ScalingStep::PutPolicy(input) => {
            api.put_scaling_policy(input).await?;
            let kind = match &input.configuration {
                PolicyConfiguration::TargetTracking(_) => "target tracking",
                PolicyConfiguration::StepScaling(_) => "step scaling",
                PolicyConfiguration::Other(k) => k.as_str(),
            };
            format!(
                "PutScalingPolicy {} {} ({kind})",
                input.resource_id, input.name
            )
        }
        ScalingStep::DeletePolicy { resource_id, name } => {
            gone(api.delete_scaling_policy(resource_id, name).await)?;
            format!("DeleteScalingPolicy {resource_id} {name}")
        }
        ScalingStep::PutScheduled(input) => {
            api.put_scheduled_action(input).await?;
            format!("PutScheduledAction {} {}", input.resource_id, input.name)
        }
        ScalingStep::DeleteScheduled { resource_id, name } => {
            gone(api.delete_scheduled_action(resource_id, name).await)?;
            format!("DeleteScheduledAction {resource_id} {name}")
        }
        ScalingStep::Deregister { resource_id } => {
            gone(api.deregister_scalable_target(resource_id).await)?;
            format!("DeregisterScalableTarget {resource_id}")
        }
    })
}
