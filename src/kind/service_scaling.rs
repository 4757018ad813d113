//! A Service's `spec.autoScaling`: the comparable view of its Application Auto Scaling
//! (bounds, policies by name, scheduled actions by name, AWS's defaults filled in from
//! `cloud::defaults::scaling`, built the same way from the manifest and from what was
//! described), the steps that make it so, the resource label of ALBRequestCountPerTarget, and
//! the import conversion.
//!
//! Ownership: with `autoScaling` set, the manifest owns the whole scaling of its service (the
//! service itself must be the operator's, which the service plan checks first): a policy or
//! scheduled action on its scalable target that the manifest does not name is deleted. Without
//! `autoScaling`, scaling is left alone, unless the service carries
//! [`TAG_AUTO_SCALING`](crate::plan::TAG_AUTO_SCALING) (the operator registered it): then
//! `autoScaling` was removed and the target is deregistered.
//!
//! The scaler owns `desiredCount` (see `service::desired_service`): it is never compared.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cloud::defaults::scaling as defaults;
use crate::cloud::model::scaling::{
    PolicyConfiguration, PredefinedMetricSpecification, PutScalingPolicy, RegisterScalableTarget,
    ScalingPolicy, ScheduledAction, ServiceScaling, StepScalingConfiguration, SuspendedState,
    TargetTrackingConfiguration, resource_id,
};
use crate::cloud::model::{Service, TargetGroup};
use crate::diff::{compare, creation};
use crate::manifest::scaling::{
    AutoScaling, PredefinedMetric, Scheduled, StepScaling, TargetTracking, policy_name,
    step_policy_name,
};
use crate::manifest::service::ServiceSpec;
use crate::observe::{Observed, Wanted};
use crate::plan::scaling::ScalingStep;
use crate::plan::{ResourcePlan, Status, Step, TAG_AUTO_SCALING, prefixed};

/// The scaling of a service as compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingView {
    /// Minimum tasks.
    pub min_capacity: u32,
    /// Maximum tasks.
    pub max_capacity: u32,
    /// What is suspended (all false by default).
    pub suspended_state: SuspendedState,
    /// Policies by name.
    pub policies: BTreeMap<String, PolicyView>,
    /// Scheduled actions by name.
    pub scheduled: BTreeMap<String, Scheduled>,
}

/// One policy as compared: target tracking or step scaling in the manifest's spelling with
/// the defaults filled, or a type the operator does not write.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyView {
    /// Target tracking, with its resource label (ALBRequestCountPerTarget).
    TargetTracking {
        /// The policy (its name is the map key, so none here).
        #[serde(flatten)]
        policy: TargetTracking,
        /// `app/<lb>/<id>/targetgroup/<tg>/<id>`.
        #[serde(skip_serializing_if = "Option::is_none")]
        resource_label: Option<String>,
    },
    /// Step scaling (its alarm is not compared: the operator does not write alarms).
    StepScaling(StepScaling),
    /// PredictiveScaling, a metric math policy, ...: replaced when the manifest names it.
    Other(String),
}

/// What planning a Service's scaling needs read.
pub fn want(spec: &ServiceSpec, name: &str, wanted: &mut Wanted) {
    let Some(a) = &spec.auto_scaling else {
        return;
    };
    wanted.scaling.insert(resource_id(&spec.cluster, name));
    if a.target_tracking
        .iter()
        .any(|t| t.predefined_metric == Some(PredefinedMetric::AlbRequestCountPerTarget))
        && let Some(tg) = label_target_group(spec)
    {
        wanted.label_target_groups.insert(tg);
    }
}

/// The name of the target group whose requests ALBRequestCountPerTarget counts: the
/// service's first attachment, by manifest name or by the name inside its ARN.
fn label_target_group(spec: &ServiceSpec) -> Option<String> {
    let lb = spec.load_balancers.first()?;
    lb.target_group.clone().or_else(|| {
        lb.target_group_arn
            .as_deref()
            .and_then(|arn| arn.split(":targetgroup/").nth(1))
            .and_then(|rest| rest.split('/').next())
            .map(str::to_string)
    })
}

/// The resource label of a target group: the last part of its (first) load balancer's ARN
/// and of its own, `app/<lb>/<id>/targetgroup/<tg>/<id>`. `Err` says why there is none.
pub fn resource_label(group: &TargetGroup) -> Result<String, String> {
    let tg = group
        .arn
        .split_once(":targetgroup/")
        .map(|(_, rest)| format!("targetgroup/{rest}"))
        .ok_or_else(|| format!("target group ARN {} is not an ELBv2 one", group.arn))?;
    let lb = group.load_balancer_arns.first().ok_or_else(|| {
        format!(
            "target group {} is not attached to a load balancer yet (a listener rule or default \
             action forwarding to it); ALBRequestCountPerTarget needs one. Apply again once it is",
            group.name
        )
    })?;
    let lb = lb
        .split_once(":loadbalancer/")
        .map(|(_, rest)| rest.to_string())
        .ok_or_else(|| format!("load balancer ARN {lb} is not an ELBv2 one"))?;
    Ok(format!("{lb}/{tg}"))
}

/// The desired view of `auto` of service `name` (`label`: the ALB resource label, when a
/// policy needs one).
pub fn desired_view(name: &str, auto: &AutoScaling, label: Option<&str>) -> ScalingView {
    let mut policies = BTreeMap::new();
    for t in &auto.target_tracking {
        let mut policy = TargetTracking {
            policy_name: None,
            ..t.clone()
        };
        defaults::fill_target_tracking(&mut policy);
        let resource_label = (t.predefined_metric
            == Some(PredefinedMetric::AlbRequestCountPerTarget))
        .then(|| label.unwrap_or_default().to_string());
        policies.insert(
            policy_name(name, t),
            PolicyView::TargetTracking {
                policy,
                resource_label,
            },
        );
    }
    for (i, s) in auto.step_scaling.iter().enumerate() {
        let mut policy = StepScaling {
            policy_name: None,
            alarm_arn: None,
            ..s.clone()
        };
        defaults::fill_step_scaling(&mut policy);
        policies.insert(
            step_policy_name(name, i, s),
            PolicyView::StepScaling(policy),
        );
    }
    ScalingView {
        min_capacity: auto.min_capacity,
        max_capacity: auto.max_capacity,
        suspended_state: auto.suspended.unwrap_or_default(),
        policies,
        scheduled: auto
            .scheduled
            .iter()
            .map(|s| (s.name.clone(), s.clone()))
            .collect(),
    }
}

/// A described target tracking configuration in the manifest's spelling (no name); `None`
/// for a metric the manifest cannot name.
pub fn tracking_of_live(
    c: &TargetTrackingConfiguration,
) -> Option<(TargetTracking, Option<String>)> {
    let predefined = match &c.predefined_metric {
        Some(p) => Some(PredefinedMetric::from_name(&p.predefined_metric_type)?),
        None => None,
    };
    Some((
        TargetTracking {
            policy_name: None,
            predefined_metric: predefined,
            customized_metric: c.customized_metric.clone(),
            target_value: c.target_value,
            scale_in_cooldown: c.scale_in_cooldown,
            scale_out_cooldown: c.scale_out_cooldown,
            disable_scale_in: c.disable_scale_in,
        },
        c.predefined_metric
            .as_ref()
            .and_then(|p| p.resource_label.clone()),
    ))
}

/// A described step scaling configuration in the manifest's spelling (no name, no alarm).
pub fn step_of_live(c: &StepScalingConfiguration) -> Option<StepScaling> {
    Some(StepScaling {
        policy_name: None,
        alarm_arn: None,
        adjustment_type: c.adjustment_type?,
        step_adjustments: c.step_adjustments.clone(),
        cooldown: c.cooldown,
        metric_aggregation_type: c.metric_aggregation_type,
        min_adjustment_magnitude: c.min_adjustment_magnitude,
    })
}

fn policy_view(p: &ScalingPolicy) -> PolicyView {
    match &p.configuration {
        PolicyConfiguration::TargetTracking(c) => match tracking_of_live(c) {
            Some((mut policy, resource_label)) => {
                defaults::fill_target_tracking(&mut policy);
                PolicyView::TargetTracking {
                    policy,
                    resource_label,
                }
            }
            None => PolicyView::Other("TargetTrackingScaling".into()),
        },
        PolicyConfiguration::StepScaling(c) => match step_of_live(c) {
            Some(mut s) => {
                defaults::fill_step_scaling(&mut s);
                PolicyView::StepScaling(s)
            }
            None => PolicyView::Other("StepScaling".into()),
        },
        PolicyConfiguration::Other(kind) => PolicyView::Other(kind.clone()),
    }
}

/// The live view, shaped by the desired one: a step policy's cooldown counts only where the
/// manifest sets it (AWS documents no default for it).
pub fn live_view(live: &ServiceScaling, desired: &ScalingView) -> Option<ScalingView> {
    let target = live.target.as_ref()?;
    let mut policies: BTreeMap<String, PolicyView> = live
        .policies
        .iter()
        .map(|p| (p.name.clone(), policy_view(p)))
        .collect();
    for (name, view) in policies.iter_mut() {
        if let (PolicyView::StepScaling(l), Some(PolicyView::StepScaling(d))) =
            (view, desired.policies.get(name))
            && d.cooldown.is_none()
        {
            l.cooldown = None;
        }
    }
    Some(ScalingView {
        min_capacity: target.min_capacity,
        max_capacity: target.max_capacity,
        suspended_state: target.suspended_state,
        policies,
        scheduled: live
            .scheduled
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    Scheduled {
                        name: a.name.clone(),
                        schedule: a.schedule.clone(),
                        timezone: a.timezone.clone(),
                        min_capacity: a.min_capacity,
                        max_capacity: a.max_capacity,
                    },
                )
            })
            .collect(),
    })
}

/// The PutScalingPolicy of a desired policy.
fn put_policy(id: &str, name: &str, view: &PolicyView) -> Option<PutScalingPolicy> {
    let configuration = match view {
        PolicyView::TargetTracking {
            policy,
            resource_label,
        } => PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
            target_value: policy.target_value,
            predefined_metric: policy
                .predefined_metric
                .map(|m| PredefinedMetricSpecification {
                    predefined_metric_type: m.as_str().to_string(),
                    resource_label: resource_label.clone(),
                }),
            customized_metric: policy.customized_metric.clone(),
            scale_in_cooldown: policy.scale_in_cooldown,
            scale_out_cooldown: policy.scale_out_cooldown,
            disable_scale_in: policy.disable_scale_in,
        }),
        PolicyView::StepScaling(s) => PolicyConfiguration::StepScaling(StepScalingConfiguration {
            adjustment_type: Some(s.adjustment_type),
            step_adjustments: s.step_adjustments.clone(),
            cooldown: s.cooldown,
            metric_aggregation_type: s.metric_aggregation_type,
            min_adjustment_magnitude: s.min_adjustment_magnitude,
        }),
        PolicyView::Other(_) => return None,
    };
    Some(PutScalingPolicy {
        name: name.to_string(),
        resource_id: id.to_string(),
        configuration,
    })
}

/// The steps that turn `live` (none: no scalable target) into `desired`.
pub fn steps(id: &str, live: Option<&ScalingView>, desired: &ScalingView) -> Vec<ScalingStep> {
    let mut out = Vec::new();
    let bounds = |v: &ScalingView| (v.min_capacity, v.max_capacity, v.suspended_state);
    if live.map(bounds) != Some(bounds(desired)) {
        out.push(ScalingStep::Register(RegisterScalableTarget {
            resource_id: id.to_string(),
            min_capacity: desired.min_capacity,
            max_capacity: desired.max_capacity,
            suspended_state: Some(desired.suspended_state),
        }));
    }
    let empty = BTreeMap::new();
    let live_policies = live.map_or(&empty, |l| &l.policies);
    for (name, view) in &desired.policies {
        if live_policies.get(name) != Some(view)
            && let Some(put) = put_policy(id, name, view)
        {
            out.push(ScalingStep::PutPolicy(put));
        }
    }
    for name in live_policies
        .keys()
        .filter(|n| !desired.policies.contains_key(*n))
    {
        out.push(ScalingStep::DeletePolicy {
            resource_id: id.to_string(),
            name: name.clone(),
        });
    }
    let empty = BTreeMap::new();
    let live_scheduled = live.map_or(&empty, |l| &l.scheduled);
    for (name, action) in &desired.scheduled {
        if live_scheduled.get(name) != Some(action) {
            out.push(ScalingStep::PutScheduled(ScheduledAction {
                name: name.clone(),
                resource_id: id.to_string(),
                schedule: action.schedule.clone(),
                timezone: action.timezone.clone(),
                min_capacity: action.min_capacity,
                max_capacity: action.max_capacity,
            }));
        }
    }
    for name in live_scheduled
        .keys()
        .filter(|n| !desired.scheduled.contains_key(*n))
    {
        out.push(ScalingStep::DeleteScheduled {
            resource_id: id.to_string(),
            name: name.clone(),
        });
    }
    out
}

/// Adds the scaling of a Service to its plan `p` (made by the service plan, not held):
/// changes under `autoScaling`, and the steps after the service's own. A plan in sync becomes
/// an update when scaling differs; a missing resource label blocks the plan with its reason.
pub fn extend(
    name: &str,
    spec: &ServiceSpec,
    observed: &Observed,
    live: Option<&Service>,
    p: &mut ResourcePlan,
) {
    if matches!(p.status, Status::Blocked | Status::Suspended) {
        return;
    }
    let id = resource_id(&spec.cluster, name);
    let Some(auto) = &spec.auto_scaling else {
        // Removed from the manifest: deregister what the operator registered.
        if let Some(live) = live.filter(|l| l.tags.contains_key(TAG_AUTO_SCALING)) {
            p.changes.push(crate::diff::FieldChange {
                path: crate::manifest::FieldPath::parse("autoScaling"),
                old: Some(serde_json::Value::String(format!(
                    "scalable target {id} (registered by ecs-operator)"
                ))),
                new: None,
            });
            p.steps
                .push(Step::Scaling(ScalingStep::Deregister { resource_id: id }));
            p.steps.push(Step::UntagEcs {
                arn: live.arn.clone(),
                keys: vec![TAG_AUTO_SCALING.to_string()],
            });
            if p.status == Status::InSync {
                p.status = Status::Update;
            }
        }
        return;
    };
    let needs_label = auto
        .target_tracking
        .iter()
        .any(|t| t.predefined_metric == Some(PredefinedMetric::AlbRequestCountPerTarget));
    let label = if needs_label {
        let group = label_target_group(spec).and_then(|n| {
            observed
                .label_groups
                .get(&n)
                .or_else(|| observed.target_groups.get(&n).map(|g| &g.group))
                .map(|g| (n, g))
        });
        let found = match group.map(|(_, g)| resource_label(g)) {
            Some(found) => found,
            None => Err(format!(
                "ALBRequestCountPerTarget needs the service's target group {} to exist and be \
                 attached to a load balancer; apply again once it is",
                label_target_group(spec).unwrap_or_default()
            )),
        };
        match found {
            Ok(label) => Some(label),
            // A service still to be created is created with the rest of its scaling; the
            // request count policy waits (the next plan blocks with the reason until then).
            Err(_) if live.is_none() => None,
            Err(reason) => return block(p, reason),
        }
    } else {
        None
    };
    let desired = desired_view(name, auto, label.as_deref());
    let live_view = live
        .and_then(|_| observed.scaling.get(&id))
        .and_then(|l| live_view(l, &desired));
    let changes = match &live_view {
        Some(l) => compare(l, &desired),
        None => creation(&desired),
    };
    let mut steps = steps(&id, live_view.as_ref(), &desired);
    if needs_label && label.is_none() {
        steps.retain(|s| !is_request_count(s));
    }
    if changes.is_empty() && steps.is_empty() {
        return;
    }
    p.changes.extend(prefixed(changes, "autoScaling"));
    p.steps.extend(steps.into_iter().map(Step::Scaling));
    if p.status == Status::InSync {
        p.status = Status::Update;
    }
}

/// What `status` says of a scaled service: `auto scaling 2..10, 5 desired (cpu 60)`; `None`
/// when it has no scalable target (or it was not read).
pub fn summary(
    key: &crate::manifest::ResourceKey,
    live: &Service,
    observed: &Observed,
) -> Option<String> {
    let id = resource_id(key.cluster.as_deref().unwrap_or_default(), &key.name);
    let scaling = observed.scaling.get(&id)?;
    let target = scaling.target.as_ref()?;
    let policies: Vec<String> = scaling
        .policies
        .iter()
        .map(|p| match &p.configuration {
            PolicyConfiguration::TargetTracking(c) => {
                let metric = c
                    .predefined_metric
                    .as_ref()
                    .and_then(|m| PredefinedMetric::from_name(&m.predefined_metric_type))
                    .map_or("custom", |m| match m {
                        PredefinedMetric::Cpu => "cpu",
                        PredefinedMetric::Memory => "memory",
                        PredefinedMetric::AlbRequestCountPerTarget => "requests",
                    });
                format!("{metric} {}", c.target_value)
            }
            PolicyConfiguration::StepScaling(_) => "step".to_string(),
            PolicyConfiguration::Other(kind) => kind.clone(),
        })
        .collect();
    let mut line = format!(
        "auto scaling {}..{}, {} desired",
        target.min_capacity, target.max_capacity, live.desired_count
    );
    if !policies.is_empty() {
        line.push_str(&format!(" ({})", policies.join(", ")));
    }
    if !scaling.scheduled.is_empty() {
        line.push_str(&format!(", {} scheduled", scaling.scheduled.len()));
    }
    Some(line)
}

/// A PutScalingPolicy of ALBRequestCountPerTarget.
fn is_request_count(step: &ScalingStep) -> bool {
    let ScalingStep::PutPolicy(p) = step else {
        return false;
    };
    matches!(&p.configuration, PolicyConfiguration::TargetTracking(c)
    if c.predefined_metric.as_ref().is_some_and(|m| {
        m.predefined_metric_type == PredefinedMetric::AlbRequestCountPerTarget.as_str()
    }))
}

fn block(p: &mut ResourcePlan, reason: String) {
    p.status = Status::Blocked;
    p.reason = Some(reason);
    p.steps.clear();
}

/// The `autoScaling` of a live service's scaling, with AWS's defaults left out (`import`);
/// `None` when it has no scalable target. Names that are the derived ones are left out too,
/// and policies the manifest cannot write are skipped.
pub fn import(name: &str, live: &ServiceScaling) -> Option<AutoScaling> {
    let target = live.target.as_ref()?;
    let mut auto = AutoScaling {
        min_capacity: target.min_capacity,
        max_capacity: target.max_capacity,
        suspended: Some(target.suspended_state).filter(|s| *s != SuspendedState::default()),
        ..AutoScaling::default()
    };
    for p in &live.policies {
        match &p.configuration {
            PolicyConfiguration::TargetTracking(c) => {
                if let Some((t, _)) = tracking_of_live(c) {
                    let mut t = defaults::strip_target_tracking(&t);
                    if policy_name(name, &t) != p.name {
                        t.policy_name = Some(p.name.clone());
                    }
                    auto.target_tracking.push(t);
                }
            }
            PolicyConfiguration::StepScaling(c) => {
                if let Some(s) = step_of_live(c) {
                    let mut s = defaults::strip_step_scaling(&s);
                    s.alarm_arn = p.alarm_arns.first().cloned();
                    let index = auto.step_scaling.len();
                    if step_policy_name(name, index, &s) != p.name {
                        s.policy_name = Some(p.name.clone());
                    }
                    auto.step_scaling.push(s);
                }
            }
            PolicyConfiguration::Other(_) => {}
        }
    }
    auto.scheduled = live
        .scheduled
        .iter()
        .map(|a| Scheduled {
            name: a.name.clone(),
            schedule: a.schedule.clone(),
            timezone: a.timezone.clone(),
            min_capacity: a.min_capacity,
            max_capacity: a.max_capacity,
        })
        .collect();
    Some(auto)
}

#[cfg(test)]
#[path = "service_scaling_tests.rs"]
mod tests;
