//! Application Auto Scaling objects of ECS services (namespace `ecs`, dimension
//! `ecs:service:DesiredCount`) as the [`AutoScaling`](crate::cloud::AutoScaling) trait takes
//! and returns them. The policy shapes are the manifest's own (`manifest::scaling`), so a
//! described policy and a desired one compare field by field.

use serde::{Deserialize, Serialize};

pub use crate::manifest::scaling::{
    AdjustmentType, CustomizedMetric, MetricAggregationType, MetricDimension, MetricStatistic,
    StepAdjustment, SuspendedState,
};

/// The service namespace of every call (`ServiceNamespace`).
pub const SERVICE_NAMESPACE: &str = "ecs";
/// The scalable dimension of an ECS service.
pub const SCALABLE_DIMENSION: &str = "ecs:service:DesiredCount";

/// The resource id of a service: `service/<cluster>/<service>`.
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The (cluster, service) of a resource id, when it is a service's.
pub fn parse_resource_id(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("service/")?;
    let (cluster, service) = rest.split_once('/')?;
    (!cluster.is_empty() && !service.is_empty() && !service.contains('/'))
        .then_some((cluster, service))
}

/// A registered scalable target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalableTarget {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// Minimum capacity.
    pub min_capacity: u32,
    /// Maximum capacity.
    pub max_capacity: u32,
    /// The role Application Auto Scaling acts with (the service-linked role when none was
    /// given): filled by AWS, never compared.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// What is suspended.
    #[serde(default)]
    pub suspended_state: SuspendedState,
    /// The target's ARN.
    #[serde(default)]
    pub arn: Option<String>,
}

/// RegisterScalableTarget: creates or updates the target of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterScalableTarget {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// Minimum capacity.
    pub min_capacity: u32,
    /// Maximum capacity.
    pub max_capacity: u32,
    /// What to suspend (`None`: left as it is).
    pub suspended_state: Option<SuspendedState>,
}

/// The policy type and its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyConfiguration {
    /// TargetTrackingScaling.
    TargetTracking(TargetTrackingConfiguration),
    /// StepScaling.
    StepScaling(StepScalingConfiguration),
    /// A policy type the operator does not write (PredictiveScaling): kept by name.
    Other(String),
}

/// TargetTrackingScalingPolicyConfiguration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTrackingConfiguration {
    /// The target value.
    pub target_value: f64,
    /// PredefinedMetricType (AWS spelling) and its resource label.
    pub predefined_metric: Option<PredefinedMetricSpecification>,
    /// A customized metric.
    pub customized_metric: Option<CustomizedMetric>,
    /// Seconds.
    pub scale_in_cooldown: Option<u32>,
    /// Seconds.
    pub scale_out_cooldown: Option<u32>,
    /// Never scale in.
    pub disable_scale_in: Option<bool>,
}

/// PredefinedMetricSpecification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredefinedMetricSpecification {
    /// `ECSServiceAverageCPUUtilization`, ... (AWS spelling, any type AWS answers with).
    pub predefined_metric_type: String,
    /// `app/<lb>/<id>/targetgroup/<tg>/<id>` for ALBRequestCountPerTarget.
    pub resource_label: Option<String>,
}

/// StepScalingPolicyConfiguration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepScalingConfiguration {
    /// How a step adjusts.
    pub adjustment_type: Option<AdjustmentType>,
    /// The steps.
    pub step_adjustments: Vec<StepAdjustment>,
    /// Seconds.
    pub cooldown: Option<u32>,
    /// Aggregation.
    pub metric_aggregation_type: Option<MetricAggregationType>,
    /// Least magnitude.
    pub min_adjustment_magnitude: Option<i32>,
}

/// A scaling policy as described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicy {
    /// The policy's name (unique per resource).
    pub name: String,
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// Its ARN (what a step scaling alarm's action names).
    pub arn: String,
    /// Type and configuration.
    pub configuration: PolicyConfiguration,
    /// The ARNs of the CloudWatch alarms that trigger it.
    #[serde(default)]
    pub alarm_arns: Vec<String>,
}

/// PutScalingPolicy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutScalingPolicy {
    /// Name.
    pub name: String,
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// Type and configuration (not [`PolicyConfiguration::Other`]).
    pub configuration: PolicyConfiguration,
}

/// A scheduled action as described, or as PutScheduledAction writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledAction {
    /// Name (unique per resource).
    pub name: String,
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// `at(...)`, `rate(...)` or `cron(...)`.
    pub schedule: String,
    /// IANA time zone (UTC when none).
    pub timezone: Option<String>,
    /// New minimum.
    pub min_capacity: Option<u32>,
    /// New maximum.
    pub max_capacity: Option<u32>,
}

/// Everything Application Auto Scaling holds about one service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceScaling {
    /// The scalable target (none: the service is not scaled).
    pub target: Option<ScalableTarget>,
    /// Its policies, by name order.
    pub policies: Vec<ScalingPolicy>,
    /// Its scheduled actions, by name order.
    pub scheduled: Vec<ScheduledAction>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_round_trip_and_others_are_refused() {
        let id = resource_id("shop", "api");
        assert_eq!(id, "service/shop/api");
        assert_eq!(parse_resource_id(&id), Some(("shop", "api")));
        for bad in [
            "table/orders",
            "service/shop",
            "service//api",
            "service/a/b/c",
        ] {
            assert_eq!(parse_resource_id(bad), None, "{bad}");
        }
    }
}
