//! [`AutoScaling`] on aws-sdk-applicationautoscaling: one SDK call per method, namespace `ecs`
//! and dimension `ecs:service:DesiredCount` on each, errors through
//! [`errors::sdk_error`](super::errors::sdk_error), and the policy conversions between the
//! model and the SDK (the enums by their AWS spelling, which the model's serde names are).
//!
//! An answer's policy of a type or metric the model cannot hold (PredictiveScaling, a metric
//! math customized metric) is kept as [`PolicyConfiguration::Other`] rather than failing the
//! page: the plan then replaces it (when the manifest names it) or leaves it (when not ours).

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::Client;
use aws_sdk_applicationautoscaling::types as sdk;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::debug;

use super::errors::sdk_error;
use crate::cloud::AutoScaling;
use crate::cloud::error::{CloudError, CloudResult, ErrorKind};
use crate::cloud::model::Page;
use crate::cloud::model::scaling::{
    CustomizedMetric, MetricDimension, PolicyConfiguration, PredefinedMetricSpecification,
    PutScalingPolicy, RegisterScalableTarget, SCALABLE_DIMENSION, SERVICE_NAMESPACE,
    ScalableTarget, ScalingPolicy, ScheduledAction, StepAdjustment, StepScalingConfiguration,
    SuspendedState, TargetTrackingConfiguration,
};
use crate::cloud::{MAX_SCALING_POLICY_PAGE, MAX_SCALING_RESOURCE_IDS, MAX_SCHEDULED_ACTION_PAGE};

/// The Application Auto Scaling client of the `aws` backend.
#[derive(Debug, Clone)]
pub(super) struct AwsAutoScaling {
    client: Client,
}

impl AwsAutoScaling {
    /// Wraps a configured client.
    pub(super) fn new(client: Client) -> Self {
        AwsAutoScaling { client }
    }
}

fn namespace() -> sdk::ServiceNamespace {
    sdk::ServiceNamespace::from(SERVICE_NAMESPACE)
}

fn dimension() -> sdk::ScalableDimension {
    sdk::ScalableDimension::from(SCALABLE_DIMENSION)
}

/// A model enum's AWS spelling (its serde name).
fn spelling<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The model enum of an AWS spelling.
fn parse<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn build_error(
    op: &'static str,
) -> impl FnOnce(aws_smithy_types::error::operation::BuildError) -> CloudError {
    move |e| CloudError::new(ErrorKind::Invalid, op, e.to_string())
}

fn suspended_to_sdk(s: &SuspendedState) -> sdk::SuspendedState {
    sdk::SuspendedState::builder()
        .dynamic_scaling_in_suspended(s.dynamic_scaling_in_suspended)
        .dynamic_scaling_out_suspended(s.dynamic_scaling_out_suspended)
        .scheduled_scaling_suspended(s.scheduled_scaling_suspended)
        .build()
}

fn suspended_from_sdk(s: Option<&sdk::SuspendedState>) -> SuspendedState {
    s.map(|s| SuspendedState {
        dynamic_scaling_in_suspended: s.dynamic_scaling_in_suspended().unwrap_or(false),
        dynamic_scaling_out_suspended: s.dynamic_scaling_out_suspended().unwrap_or(false),
        scheduled_scaling_suspended: s.scheduled_scaling_suspended().unwrap_or(false),
    })
    .unwrap_or_default()
}

fn target_from_sdk(t: &sdk::ScalableTarget) -> ScalableTarget {
    ScalableTarget {
        resource_id: t.resource_id().to_string(),
        min_capacity: to_u32(t.min_capacity()),
        max_capacity: to_u32(t.max_capacity()),
        role_arn: Some(t.role_arn().to_string()).filter(|r| !r.is_empty()),
        suspended_state: suspended_from_sdk(t.suspended_state()),
        arn: t.scalable_target_arn().map(str::to_string),
    }
}

fn dimensions_to_sdk(
    op: &'static str,
    dims: &[MetricDimension],
) -> CloudResult<Vec<sdk::MetricDimension>> {
    dims.iter()
        .map(|d| {
            sdk::MetricDimension::builder()
                .name(&d.name)
                .value(&d.value)
                .build()
                .map_err(build_error(op))
        })
        .collect()
}

fn target_tracking_to_sdk(
    op: &'static str,
    c: &TargetTrackingConfiguration,
) -> CloudResult<sdk::TargetTrackingScalingPolicyConfiguration> {
    let predefined = match &c.predefined_metric {
        Some(p) => Some(
            sdk::PredefinedMetricSpecification::builder()
                .predefined_metric_type(sdk::MetricType::from(p.predefined_metric_type.as_str()))
                .set_resource_label(p.resource_label.clone())
                .build()
                .map_err(build_error(op))?,
        ),
        None => None,
    };
    let customized = match &c.customized_metric {
        Some(m) => Some(
            sdk::CustomizedMetricSpecification::builder()
                .metric_name(&m.metric_name)
                .namespace(&m.namespace)
                .statistic(sdk::MetricStatistic::from(spelling(&m.statistic).as_str()))
                .set_dimensions(
                    Some(dimensions_to_sdk(op, &m.dimensions)?).filter(|d| !d.is_empty()),
                )
                .set_unit(m.unit.clone())
                .build(),
        ),
        None => None,
    };
    sdk::TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(c.target_value)
        .set_predefined_metric_specification(predefined)
        .set_customized_metric_specification(customized)
        .set_scale_in_cooldown(c.scale_in_cooldown.map(to_i32))
        .set_scale_out_cooldown(c.scale_out_cooldown.map(to_i32))
        .set_disable_scale_in(c.disable_scale_in)
        .build()
        .map_err(build_error(op))
}

fn step_to_sdk(
    op: &'static str,
    c: &StepScalingConfiguration,
) -> CloudResult<sdk::StepScalingPolicyConfiguration> {
    let steps = c
        .step_adjustments
        .iter()
        .map(|s| {
            sdk::StepAdjustment::builder()
                .set_metric_interval_lower_bound(s.metric_interval_lower_bound)
                .set_metric_interval_upper_bound(s.metric_interval_upper_bound)
                .scaling_adjustment(s.scaling_adjustment)
                .build()
                .map_err(build_error(op))
        })
        .collect::<CloudResult<Vec<_>>>()?;
    Ok(sdk::StepScalingPolicyConfiguration::builder()
        .set_adjustment_type(
            c.adjustment_type
                .map(|a| sdk::AdjustmentType::from(spelling(&a).as_str())),
        )
        .set_step_adjustments(Some(steps))
        .set_cooldown(c.cooldown.map(to_i32))
        .set_metric_aggregation_type(
            c.metric_aggregation_type
                .map(|a| sdk::MetricAggregationType::from(spelling(&a).as_str())),
        )
        .set_min_adjustment_magnitude(c.min_adjustment_magnitude)
        .build())
}

/// The model of a described configuration; `Other` for what the model cannot hold.
fn configuration_from_sdk(p: &sdk::ScalingPolicy) -> PolicyConfiguration {
    let other = || PolicyConfiguration::Other(p.policy_type().as_str().to_string());
    match p.policy_type() {
        sdk::PolicyType::TargetTrackingScaling => {
            let Some(c) = p.target_tracking_scaling_policy_configuration() else {
                return other();
            };
            let customized = match c.customized_metric_specification() {
                Some(m) => {
                    let (Some(name), Some(ns), Some(stat)) = (
                        m.metric_name(),
                        m.namespace(),
                        m.statistic().and_then(|s| parse(s.as_str())),
                    ) else {
                        return other(); // metric math: not written by the operator
                    };
                    Some(CustomizedMetric {
                        metric_name: name.to_string(),
                        namespace: ns.to_string(),
                        statistic: stat,
                        dimensions: m
                            .dimensions()
                            .iter()
                            .map(|d| MetricDimension {
                                name: d.name().to_string(),
                                value: d.value().to_string(),
                            })
                            .collect(),
                        unit: m.unit().map(str::to_string),
                    })
                }
                None => None,
            };
            PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
                target_value: c.target_value(),
                predefined_metric: c.predefined_metric_specification().map(|m| {
                    PredefinedMetricSpecification {
                        predefined_metric_type: m.predefined_metric_type().as_str().to_string(),
                        resource_label: m.resource_label().map(str::to_string),
                    }
                }),
                customized_metric: customized,
                scale_in_cooldown: c.scale_in_cooldown().map(to_u32),
                scale_out_cooldown: c.scale_out_cooldown().map(to_u32),
                disable_scale_in: c.disable_scale_in(),
            })
        }
        sdk::PolicyType::StepScaling => {
            let Some(c) = p.step_scaling_policy_configuration() else {
                return other();
            };
            PolicyConfiguration::StepScaling(StepScalingConfiguration {
                adjustment_type: c.adjustment_type().and_then(|a| parse(a.as_str())),
                step_adjustments: c
                    .step_adjustments()
                    .iter()
                    .map(|s| StepAdjustment {
                        metric_interval_lower_bound: s.metric_interval_lower_bound(),
                        metric_interval_upper_bound: s.metric_interval_upper_bound(),
                        scaling_adjustment: s.scaling_adjustment(),
                    })
                    .collect(),
                cooldown: c.cooldown().map(to_u32),
                metric_aggregation_type: c
                    .metric_aggregation_type()
                    .and_then(|a| parse(a.as_str())),
                min_adjustment_magnitude: c.min_adjustment_magnitude(),
            })
        }
        _ => other(),
    }
}

fn policy_from_sdk(p: &sdk::ScalingPolicy) -> ScalingPolicy {
    ScalingPolicy {
        name: p.policy_name().to_string(),
        resource_id: p.resource_id().to_string(),
        arn: p.policy_arn().to_string(),
        configuration: configuration_from_sdk(p),
        alarm_arns: p
            .alarms()
            .iter()
            .map(|a| a.alarm_arn().to_string())
            .collect(),
    }
}

fn scheduled_from_sdk(a: &sdk::ScheduledAction) -> ScheduledAction {
    let action = a.scalable_target_action();
    ScheduledAction {
        name: a.scheduled_action_name().to_string(),
        resource_id: a.resource_id().to_string(),
        schedule: a.schedule().to_string(),
        timezone: a.timezone().map(str::to_string).filter(|t| t != "UTC"),
        min_capacity: action.and_then(|x| x.min_capacity()).map(to_u32),
        max_capacity: action.and_then(|x| x.max_capacity()).map(to_u32),
    }
}

#[async_trait]
impl AutoScaling for AwsAutoScaling {
    async fn register_scalable_target(&self, input: &RegisterScalableTarget) -> CloudResult<()> {
        const OP: &str = "RegisterScalableTarget";
        debug!(operation = OP, resource = %input.resource_id);
        self.client
            .register_scalable_target()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .resource_id(&input.resource_id)
            .min_capacity(to_i32(input.min_capacity))
            .max_capacity(to_i32(input.max_capacity))
            .set_suspended_state(input.suspended_state.as_ref().map(suspended_to_sdk))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalableTarget>> {
        const OP: &str = "DescribeScalableTargets";
        if resource_ids.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                next_token: None,
            });
        }
        debug!(operation = OP, resources = resource_ids.len());
        let out = self
            .client
            .describe_scalable_targets()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .set_resource_ids(Some(resource_ids.to_vec()))
            .max_results(MAX_SCALING_RESOURCE_IDS as i32)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out.scalable_targets().iter().map(target_from_sdk).collect(),
            next_token: out.next_token().map(str::to_string),
        })
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> CloudResult<()> {
        const OP: &str = "DeregisterScalableTarget";
        debug!(operation = OP, resource = resource_id);
        self.client
            .deregister_scalable_target()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .resource_id(resource_id)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn put_scaling_policy(&self, input: &PutScalingPolicy) -> CloudResult<String> {
        const OP: &str = "PutScalingPolicy";
        debug!(operation = OP, resource = %input.resource_id, policy = %input.name);
        let request = self
            .client
            .put_scaling_policy()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .resource_id(&input.resource_id)
            .policy_name(&input.name);
        let request = match &input.configuration {
            PolicyConfiguration::TargetTracking(c) => request
                .policy_type(sdk::PolicyType::TargetTrackingScaling)
                .target_tracking_scaling_policy_configuration(target_tracking_to_sdk(OP, c)?),
            PolicyConfiguration::StepScaling(c) => request
                .policy_type(sdk::PolicyType::StepScaling)
                .step_scaling_policy_configuration(step_to_sdk(OP, c)?),
            PolicyConfiguration::Other(kind) => {
                return Err(CloudError::new(
                    ErrorKind::Invalid,
                    OP,
                    format!("policy type {kind} is not written by ecs-operator"),
                ));
            }
        };
        let out = request.send().await.map_err(sdk_error(OP))?;
        Ok(out.policy_arn().to_string())
    }

    async fn describe_scaling_policies(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalingPolicy>> {
        const OP: &str = "DescribeScalingPolicies";
        debug!(operation = OP, resource = ?resource_id);
        let out = self
            .client
            .describe_scaling_policies()
            .service_namespace(namespace())
            .set_resource_id(resource_id.map(str::to_string))
            .set_scalable_dimension(resource_id.map(|_| dimension()))
            .max_results(MAX_SCALING_POLICY_PAGE as i32)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out
                .scaling_policies()
                .iter()
                .filter(|p| p.scalable_dimension().as_str() == SCALABLE_DIMENSION)
                .map(policy_from_sdk)
                .collect(),
            next_token: out.next_token().map(str::to_string),
        })
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        const OP: &str = "DeleteScalingPolicy";
        debug!(operation = OP, resource = resource_id, policy = name);
        self.client
            .delete_scaling_policy()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .resource_id(resource_id)
            .policy_name(name)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn put_scheduled_action(&self, input: &ScheduledAction) -> CloudResult<()> {
        const OP: &str = "PutScheduledAction";
        debug!(operation = OP, resource = %input.resource_id, action = %input.name);
        let action = sdk::ScalableTargetAction::builder()
            .set_min_capacity(input.min_capacity.map(to_i32))
            .set_max_capacity(input.max_capacity.map(to_i32))
            .build();
        self.client
            .put_scheduled_action()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .resource_id(&input.resource_id)
            .scheduled_action_name(&input.name)
            .schedule(&input.schedule)
            .set_timezone(input.timezone.clone())
            .scalable_target_action(action)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScheduledAction>> {
        const OP: &str = "DescribeScheduledActions";
        debug!(operation = OP, resource = ?resource_id);
        let out = self
            .client
            .describe_scheduled_actions()
            .service_namespace(namespace())
            .set_resource_id(resource_id.map(str::to_string))
            .set_scalable_dimension(resource_id.map(|_| dimension()))
            .max_results(MAX_SCHEDULED_ACTION_PAGE as i32)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out
                .scheduled_actions()
                .iter()
                .filter(|a| {
                    a.scalable_dimension()
                        .is_none_or(|d| d.as_str() == SCALABLE_DIMENSION)
                })
                .map(scheduled_from_sdk)
                .collect(),
            next_token: out.next_token().map(str::to_string),
        })
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        const OP: &str = "DeleteScheduledAction";
        debug!(operation = OP, resource = resource_id, action = name);
        self.client
            .delete_scheduled_action()
            .service_namespace(namespace())
            .scalable_dimension(dimension())
            .resource_id(resource_id)
            .scheduled_action_name(name)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }
}
