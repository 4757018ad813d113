//! Application Auto Scaling in the simulator: scalable targets, scaling policies and scheduled
//! actions of the simulated ECS services, the [`AutoScaling`] endpoints (`Sim::serve` each),
//! and a target tracking scaler driven by a load knob ([`Sim::set_load`]).
//!
//! # The scaler
//! The load of a service is its total demand in percent of one task (`300` = three tasks
//! busy). The metric of every target tracking policy (CPU, memory, requests per target, a
//! customized one alike) is that demand over the service's desired count. Every 60 s of
//! virtual time (checked lazily as calls arrive, like the rest of the simulator) each
//! scalable target with a target tracking policy and a load wants `ceil(load / target)`
//! tasks, within its min and max: more than now scales out once the scale-out cooldown has
//! passed since the last scale-out; fewer scales in once the scale-in cooldown has passed
//! (never with `disableScaleIn`, or with scaling suspended). With several policies the
//! largest count wins, as in AWS. Step scaling and scheduled actions are stored, never run
//! (no CloudWatch alarms or clock of schedules here).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Endpoints;
use super::arn;
use super::records::{SimTime, after};
use super::state::State;
use crate::cloud::AutoScaling;
use crate::cloud::defaults::scaling::ECS_COOLDOWN_SECONDS;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::Page;
use crate::cloud::model::scaling::{
    PolicyConfiguration, PutScalingPolicy, RegisterScalableTarget, ScalableTarget, ScalingPolicy,
    ScheduledAction, parse_resource_id,
};
use crate::cloud::operation::Operation;
use crate::cloud::{MAX_SCALING_POLICY_PAGE, MAX_SCALING_RESOURCE_IDS, MAX_SCHEDULED_ACTION_PAGE};
use crate::manifest::scaling::PredefinedMetric;

/// How often the scaler looks at the load.
const EVALUATION_PERIOD: Duration = Duration::from_secs(60);

/// One scalable target with what hangs off it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SimTarget {
    pub target: ScalableTarget,
    /// Policies by name.
    pub policies: BTreeMap<String, ScalingPolicy>,
    /// Scheduled actions by name.
    pub scheduled: BTreeMap<String, ScheduledAction>,
    /// When the scaler last scaled out and in.
    #[serde(default)]
    pub last_scale_out: Option<SimTime>,
    #[serde(default)]
    pub last_scale_in: Option<SimTime>,
}

/// Application Auto Scaling's part of the account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SimScaling {
    /// Targets by resource id.
    pub targets: BTreeMap<String, SimTarget>,
    /// Load per resource id (percent of one task): this process's knob, not saved.
    #[serde(skip)]
    pub load: BTreeMap<String, f64>,
    /// When the scaler looks next.
    #[serde(default)]
    pub next_evaluation: SimTime,
}

impl SimScaling {
    /// No scalable target (what a saved file may leave out).
    pub(super) fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

fn invalid(op: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(op, "ValidationException", message)
}

fn not_found(op: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(op, "ObjectNotFoundException", message)
}

/// The page after `token` of `items` (sorted by their key), `size` at most.
fn page<'a, T: Clone + 'a>(
    op: &'static str,
    items: impl Iterator<Item = (String, &'a T)>,
    token: Option<&str>,
    size: usize,
) -> CloudResult<Page<T>> {
    let after = match token {
        Some(t) => Some(arn::parse_page_token(t).ok_or_else(|| invalid(op, "Invalid token"))?),
        None => None,
    };
    let mut rest = items.filter(|(k, _)| after.as_ref().is_none_or(|a| k > a));
    let chosen: Vec<(String, &T)> = rest.by_ref().take(size).collect();
    let next_token = match (rest.next(), chosen.last()) {
        (Some(_), Some((last, _))) => Some(arn::page_token(last)),
        _ => None,
    };
    Ok(Page {
        items: chosen.into_iter().map(|(_, v)| v.clone()).collect(),
        next_token,
    })
}

impl State {
    /// The key of the ACTIVE service a resource id names, or a ValidationException as AWS
    /// answers for a service that does not exist.
    fn scaled_service(&self, op: &'static str, resource_id: &str) -> CloudResult<(String, String)> {
        let (cluster, service) = parse_resource_id(resource_id)
            .ok_or_else(|| invalid(op, format!("Unsupported resource id {resource_id}")))?;
        let key = (cluster.to_string(), service.to_string());
        match self.services.get(&key) {
            Some(s) if s.service.status == "ACTIVE" => Ok(key),
            _ => Err(invalid(
                op,
                format!("ECS service doesn't exist: {resource_id}"),
            )),
        }
    }

    /// RegisterScalableTarget: creates the target, or changes its bounds. The service's
    /// desired count is moved inside the new bounds at once.
    pub(super) fn register_scalable_target(
        &mut self,
        input: &RegisterScalableTarget,
    ) -> CloudResult<()> {
        const OP: &str = "RegisterScalableTarget";
        let key = self.scaled_service(OP, &input.resource_id)?;
        if input.min_capacity > input.max_capacity {
            return Err(invalid(
                OP,
                "Minimum capacity cannot be greater than maximum capacity",
            ));
        }
        let role = format!(
            "arn:aws:iam::{}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/\
             AWSServiceRoleForApplicationAutoScaling_ECSService",
            self.config.account_id
        );
        let arn = format!(
            "arn:aws:application-autoscaling:{}:{}:scalable-target/{}",
            self.config.region,
            self.config.account_id,
            arn::hex(&mut self.rng, 12)
        );
        let entry = self
            .scaling
            .targets
            .entry(input.resource_id.clone())
            .or_insert_with(|| SimTarget {
                target: ScalableTarget {
                    resource_id: input.resource_id.clone(),
                    min_capacity: input.min_capacity,
                    max_capacity: input.max_capacity,
                    role_arn: Some(role),
                    suspended_state: Default::default(),
                    arn: Some(arn),
                },
                policies: BTreeMap::new(),
                scheduled: BTreeMap::new(),
                last_scale_out: None,
                last_scale_in: None,
            });
        entry.target.min_capacity = input.min_capacity;
        entry.target.max_capacity = input.max_capacity;
        if let Some(s) = input.suspended_state {
            entry.target.suspended_state = s;
        }
        let (min, max) = (input.min_capacity, input.max_capacity);
        let current = self.services[&key].service.desired_count;
        let bounded = current.clamp(min, max);
        if bounded != current {
            self.scale_service(&key, bounded);
        }
        Ok(())
    }

    /// DescribeScalableTargets.
    pub(super) fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalableTarget>> {
        const OP: &str = "DescribeScalableTargets";
        if resource_ids.len() > MAX_SCALING_RESOURCE_IDS {
            return Err(invalid(OP, "ResourceIds: at most 50"));
        }
        let items = self
            .scaling
            .targets
            .iter()
            .filter(|(id, _)| resource_ids.is_empty() || resource_ids.contains(id))
            .map(|(id, t)| (id.clone(), &t.target));
        page(OP, items, next_token, MAX_SCALING_RESOURCE_IDS)
    }

    /// DeregisterScalableTarget: its policies and scheduled actions go with it.
    pub(super) fn deregister_scalable_target(&mut self, resource_id: &str) -> CloudResult<()> {
        const OP: &str = "DeregisterScalableTarget";
        self.scaling
            .targets
            .remove(resource_id)
            .map(|_| ())
            .ok_or_else(|| {
                not_found(
                    OP,
                    format!("No scalable target registered for {resource_id}"),
                )
            })
    }

    /// PutScalingPolicy: creates or replaces the policy of this name; AWS's defaults stored.
    pub(super) fn put_scaling_policy(&mut self, input: &PutScalingPolicy) -> CloudResult<String> {
        const OP: &str = "PutScalingPolicy";
        let mut configuration = input.configuration.clone();
        match &mut configuration {
            PolicyConfiguration::TargetTracking(t) => {
                if !(t.target_value.is_finite() && t.target_value > 0.0) {
                    return Err(invalid(OP, "TargetValue must be greater than 0"));
                }
                match (&t.predefined_metric, &t.customized_metric) {
                    (Some(_), Some(_)) | (None, None) => {
                        return Err(invalid(
                            OP,
                            "Exactly one of PredefinedMetricSpecification and \
                             CustomizedMetricSpecification is required",
                        ));
                    }
                    (Some(p), None) => {
                        let alb = PredefinedMetric::AlbRequestCountPerTarget.as_str();
                        if (p.predefined_metric_type == alb) != p.resource_label.is_some() {
                            return Err(invalid(
                                OP,
                                "ResourceLabel is required for ALBRequestCountPerTarget and \
                                 only allowed there",
                            ));
                        }
                    }
                    (None, Some(_)) => {}
                }
                t.scale_in_cooldown.get_or_insert(ECS_COOLDOWN_SECONDS);
                t.scale_out_cooldown.get_or_insert(ECS_COOLDOWN_SECONDS);
                t.disable_scale_in.get_or_insert(false);
            }
            PolicyConfiguration::StepScaling(s) => {
                if s.adjustment_type.is_none() || s.step_adjustments.is_empty() {
                    return Err(invalid(
                        OP,
                        "AdjustmentType and at least one StepAdjustment are required",
                    ));
                }
                s.metric_aggregation_type
                    .get_or_insert(crate::manifest::scaling::MetricAggregationType::Average);
            }
            PolicyConfiguration::Other(kind) => {
                return Err(invalid(OP, format!("Unsupported policy type {kind}")));
            }
        }
        let region = self.config.region.clone();
        let account = self.config.account_id.clone();
        let id = arn::uuid(&mut self.rng);
        let Some(target) = self.scaling.targets.get_mut(&input.resource_id) else {
            return Err(not_found(
                OP,
                format!("No scalable target registered for {}", input.resource_id),
            ));
        };
        let arn = match target.policies.get(&input.name) {
            Some(old) => old.arn.clone(),
            None => format!(
                "arn:aws:autoscaling:{region}:{account}:scalingPolicy:{id}:resource/ecs/{}:policyName/{}",
                input.resource_id, input.name
            ),
        };
        target.policies.insert(
            input.name.clone(),
            ScalingPolicy {
                name: input.name.clone(),
                resource_id: input.resource_id.clone(),
                arn: arn.clone(),
                configuration,
                alarm_arns: Vec::new(),
            },
        );
        Ok(arn)
    }

    /// DescribeScalingPolicies, pages of 10 in (resource id, name) order.
    pub(super) fn describe_scaling_policies(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalingPolicy>> {
        let items = self
            .scaling
            .targets
            .iter()
            .filter(|(id, _)| resource_id.is_none_or(|r| r == id.as_str()))
            .flat_map(|(id, t)| {
                t.policies
                    .iter()
                    .map(move |(n, p)| (format!("{id}\n{n}"), p))
            });
        page(
            "DescribeScalingPolicies",
            items,
            next_token,
            MAX_SCALING_POLICY_PAGE,
        )
    }

    /// DeleteScalingPolicy.
    pub(super) fn delete_scaling_policy(
        &mut self,
        resource_id: &str,
        name: &str,
    ) -> CloudResult<()> {
        const OP: &str = "DeleteScalingPolicy";
        self.scaling
            .targets
            .get_mut(resource_id)
            .and_then(|t| t.policies.remove(name))
            .map(|_| ())
            .ok_or_else(|| not_found(OP, format!("No scaling policy found for service namespace: ecs, resource ID: {resource_id}, policy name: {name}")))
    }

    /// PutScheduledAction: creates or replaces the action of this name.
    pub(super) fn put_scheduled_action(&mut self, input: &ScheduledAction) -> CloudResult<()> {
        const OP: &str = "PutScheduledAction";
        if !crate::manifest::scaling::is_schedule_expression(&input.schedule) {
            return Err(invalid(
                OP,
                format!("Invalid schedule {:?}", input.schedule),
            ));
        }
        let Some(target) = self.scaling.targets.get_mut(&input.resource_id) else {
            return Err(not_found(
                OP,
                format!("No scalable target registered for {}", input.resource_id),
            ));
        };
        target.scheduled.insert(input.name.clone(), input.clone());
        Ok(())
    }

    /// DescribeScheduledActions, pages of 50 in (resource id, name) order.
    pub(super) fn describe_scheduled_actions(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScheduledAction>> {
        let items = self
            .scaling
            .targets
            .iter()
            .filter(|(id, _)| resource_id.is_none_or(|r| r == id.as_str()))
            .flat_map(|(id, t)| {
                t.scheduled
                    .iter()
                    .map(move |(n, a)| (format!("{id}\n{n}"), a))
            });
        page(
            "DescribeScheduledActions",
            items,
            next_token,
            MAX_SCHEDULED_ACTION_PAGE,
        )
    }

    /// DeleteScheduledAction.
    pub(super) fn delete_scheduled_action(
        &mut self,
        resource_id: &str,
        name: &str,
    ) -> CloudResult<()> {
        const OP: &str = "DeleteScheduledAction";
        self.scaling
            .targets
            .get_mut(resource_id)
            .and_then(|t| t.scheduled.remove(name))
            .map(|_| ())
            .ok_or_else(|| not_found(OP, format!("No scheduled action {name} for {resource_id}")))
    }

    /// Sets a service's desired count as the scaler does (not an API call).
    fn scale_service(&mut self, key: &(String, String), count: u32) {
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        let from = svc.service.desired_count;
        svc.service.desired_count = count;
        let message = format!(
            "(service {}) Application Auto Scaling changed the desired count from {from} to {count}.",
            key.1
        );
        self.service_event(key, message);
        self.reconcile(key);
    }

    /// The scaler (module docs): runs when its next evaluation is due.
    pub(super) fn autoscale(&mut self) {
        if self.now < self.scaling.next_evaluation || self.scaling.load.is_empty() {
            return;
        }
        self.scaling.next_evaluation = after(self.now, EVALUATION_PERIOD);
        let now = self.now;
        let mut moves = Vec::new();
        for (id, t) in &self.scaling.targets {
            let Some(load) = self.scaling.load.get(id).copied() else {
                continue;
            };
            let Some(key) = parse_resource_id(id).map(|(c, s)| (c.to_string(), s.to_string()))
            else {
                continue;
            };
            let Some(current) = self.services.get(&key).map(|s| s.service.desired_count) else {
                continue;
            };
            let mut wanted: Option<(u32, bool, u32, u32)> = None;
            for p in t.policies.values() {
                let PolicyConfiguration::TargetTracking(c) = &p.configuration else {
                    continue;
                };
                let count = (load / c.target_value).ceil().max(0.0) as u32;
                let count = count.clamp(t.target.min_capacity, t.target.max_capacity);
                if wanted.is_none_or(|(n, ..)| count > n) {
                    wanted = Some((
                        count,
                        c.disable_scale_in.unwrap_or(false),
                        c.scale_in_cooldown.unwrap_or(ECS_COOLDOWN_SECONDS),
                        c.scale_out_cooldown.unwrap_or(ECS_COOLDOWN_SECONDS),
                    ));
                }
            }
            let Some((count, no_scale_in, in_cooldown, out_cooldown)) = wanted else {
                continue;
            };
            let passed = |last: Option<SimTime>, secs: u32| {
                last.is_none_or(|l| now.saturating_since(l) >= Duration::from_secs(secs.into()))
            };
            let suspended = t.target.suspended_state;
            if count > current
                && !suspended.dynamic_scaling_out_suspended
                && passed(t.last_scale_out, out_cooldown)
            {
                moves.push((id.clone(), key, count, true));
            } else if count < current
                && !no_scale_in
                && !suspended.dynamic_scaling_in_suspended
                && passed(t.last_scale_in, in_cooldown)
            {
                moves.push((id.clone(), key, count, false));
            }
        }
        for (id, key, count, out) in moves {
            if let Some(t) = self.scaling.targets.get_mut(&id) {
                if out {
                    t.last_scale_out = Some(now);
                } else {
                    t.last_scale_in = Some(now);
                }
            }
            self.scale_service(&key, count);
        }
    }
}

#[async_trait]
impl AutoScaling for Endpoints {
    async fn register_scalable_target(&self, input: &RegisterScalableTarget) -> CloudResult<()> {
        self.0.serve(Operation::RegisterScalableTarget, |s| {
            s.register_scalable_target(input)
        })
    }

    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalableTarget>> {
        self.0.serve(Operation::DescribeScalableTargets, |s| {
            s.describe_scalable_targets(resource_ids, next_token)
        })
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> CloudResult<()> {
        self.0.serve(Operation::DeregisterScalableTarget, |s| {
            s.deregister_scalable_target(resource_id)
        })
    }

    async fn put_scaling_policy(&self, input: &PutScalingPolicy) -> CloudResult<String> {
        self.0
            .serve(Operation::PutScalingPolicy, |s| s.put_scaling_policy(input))
    }

    async fn describe_scaling_policies(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalingPolicy>> {
        self.0.serve(Operation::DescribeScalingPolicies, |s| {
            s.describe_scaling_policies(resource_id, next_token)
        })
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        self.0.serve(Operation::DeleteScalingPolicy, |s| {
            s.delete_scaling_policy(resource_id, name)
        })
    }

    async fn put_scheduled_action(&self, input: &ScheduledAction) -> CloudResult<()> {
        self.0.serve(Operation::PutScheduledAction, |s| {
            s.put_scheduled_action(input)
        })
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScheduledAction>> {
        self.0.serve(Operation::DescribeScheduledActions, |s| {
            s.describe_scheduled_actions(resource_id, next_token)
        })
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        self.0.serve(Operation::DeleteScheduledAction, |s| {
            s.delete_scheduled_action(resource_id, name)
        })
    }
}
