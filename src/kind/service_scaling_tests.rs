//! The scaling view and steps: AWS's filled defaults make no diff, a hand change is found and
//! put back, removed policies and actions are deleted, import round-trips, and the resource
//! label of ALBRequestCountPerTarget.

use super::*;
use crate::cloud::model::scaling::{ScalableTarget, ServiceScaling};
use crate::manifest::scaling::{AdjustmentType, StepAdjustment};

const ID: &str = "service/shop/api";

fn manifest() -> AutoScaling {
    serde_yaml::from_str(
        "minCapacity: 2\nmaxCapacity: 10\n\
         targetTracking:\n  - {predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 60}\n\
         stepScaling:\n  - {adjustmentType: ChangeInCapacity, stepAdjustments: [{metricIntervalLowerBound: 0, scalingAdjustment: 1}]}\n\
         scheduled:\n  - {name: night, schedule: 'cron(0 20 * * ? *)', minCapacity: 1}\n",
    )
    .unwrap()
}

/// What AWS holds after the steps of `manifest()` ran: the puts as sent, with AWS's defaults
/// (cooldowns 300, scale-in on, aggregation Average) and a step cooldown AWS chose.
fn as_aws_stores(auto: &AutoScaling) -> ServiceScaling {
    let desired = desired_view("api", auto, None);
    let mut live = ServiceScaling {
        target: Some(ScalableTarget {
            resource_id: ID.into(),
            min_capacity: auto.min_capacity,
            max_capacity: auto.max_capacity,
            role_arn: Some("arn:aws:iam::1:role/x".into()),
            suspended_state: SuspendedState::default(),
            arn: None,
        }),
        ..ServiceScaling::default()
    };
    for step in steps(ID, None, &desired) {
        match step {
            ScalingStep::PutPolicy(p) => {
                let mut configuration = p.configuration.clone();
                if let PolicyConfiguration::StepScaling(s) = &mut configuration {
                    s.cooldown = Some(300); // AWS's own choice: not in the manifest
                }
                live.policies.push(ScalingPolicy {
                    name: p.name,
                    resource_id: ID.into(),
                    arn: "arn:aws:autoscaling:x".into(),
                    configuration,
                    alarm_arns: vec![],
                })
            }
            ScalingStep::PutScheduled(a) => live.scheduled.push(a),
            _ => {}
        }
    }
    live
}

#[test]
fn what_aws_fills_in_is_no_diff_and_no_step() {
    let auto = manifest();
    let desired = desired_view("api", &auto, None);
    let first = steps(ID, None, &desired);
    let ops: Vec<&str> = first.iter().map(ScalingStep::operation).collect();
    assert_eq!(
        ops,
        [
            "RegisterScalableTarget",
            "PutScalingPolicy",
            "PutScalingPolicy",
            "PutScheduledAction"
        ]
    );
    let live = as_aws_stores(&auto);
    let view = live_view(&live, &desired).expect("a target");
    assert_eq!(compare(&view, &desired), vec![], "no perpetual diff");
    assert_eq!(steps(ID, Some(&view), &desired), vec![]);
}

#[test]
fn a_policy_changed_by_hand_is_put_back_and_extras_are_deleted() {
    let auto = manifest();
    let desired = desired_view("api", &auto, None);
    let mut live = as_aws_stores(&auto);
    if let PolicyConfiguration::TargetTracking(c) = &mut live.policies[0].configuration {
        c.target_value = 90.0;
    }
    live.policies.push(ScalingPolicy {
        name: "by-hand".into(),
        resource_id: ID.into(),
        arn: "arn:aws:autoscaling:y".into(),
        configuration: live.policies[0].configuration.clone(),
        alarm_arns: vec![],
    });
    live.target.as_mut().unwrap().max_capacity = 3;
    let view = live_view(&live, &desired).unwrap();
    let changes: Vec<String> = prefixed(compare(&view, &desired), "autoScaling")
        .iter()
        .map(|c| c.path.to_string())
        .collect();
    assert!(
        changes.contains(&"autoScaling.maxCapacity".to_string()),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("autoScaling.policies.ecs-operator-api-cpu")),
        "{changes:?}"
    );
    let ops: Vec<String> = steps(ID, Some(&view), &desired)
        .iter()
        .map(|s| match s {
            ScalingStep::PutPolicy(p) => format!("put {}", p.name),
            ScalingStep::DeletePolicy { name, .. } => format!("delete {name}"),
            other => other.operation().to_string(),
        })
        .collect();
    assert_eq!(
        ops,
        [
            "RegisterScalableTarget",
            "put ecs-operator-api-cpu",
            "delete by-hand"
        ]
    );
    // A scheduled action no longer named goes too.
    let mut fewer = auto.clone();
    fewer.scheduled.clear();
    let desired = desired_view("api", &fewer, None);
    let view = live_view(&as_aws_stores(&auto), &desired).unwrap();
    assert_eq!(
        steps(ID, Some(&view), &desired),
        vec![ScalingStep::DeleteScheduled {
            resource_id: ID.into(),
            name: "night".into()
        }]
    );
}

#[test]
fn a_step_cooldown_set_in_the_manifest_is_compared() {
    let mut auto = manifest();
    auto.step_scaling[0].cooldown = Some(60);
    let desired = desired_view("api", &auto, None);
    let live = as_aws_stores(&manifest());
    let view = live_view(&live, &desired).unwrap();
    let changes = compare(&view, &desired);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].path.to_string().ends_with("cooldown"),
        "{changes:?}"
    );
}

#[test]
fn import_round_trips_with_the_defaults_left_out() {
    let auto = manifest();
    let live = as_aws_stores(&auto);
    let imported = import("api", &live).expect("a target");
    assert_eq!(imported.min_capacity, 2);
    let t = &imported.target_tracking[0];
    assert_eq!(t.policy_name, None, "the derived name is left out");
    assert_eq!(t.scale_in_cooldown, None, "the default is left out");
    let s = &imported.step_scaling[0];
    assert_eq!(s.metric_aggregation_type, None);
    assert_eq!(
        s.cooldown,
        Some(300),
        "AWS's step cooldown is kept: no default known"
    );
    assert_eq!(
        s.step_adjustments,
        vec![StepAdjustment {
            metric_interval_lower_bound: Some(0.0),
            metric_interval_upper_bound: None,
            scaling_adjustment: 1
        }]
    );
    assert_eq!(s.adjustment_type, AdjustmentType::ChangeInCapacity);
    let desired = desired_view("api", &imported, None);
    let view = live_view(&live, &desired).unwrap();
    assert_eq!(
        compare(&view, &desired),
        vec![],
        "a diff right after import is clean"
    );
    assert_eq!(import("api", &ServiceScaling::default()), None);
}

#[test]
fn the_resource_label_joins_the_load_balancer_and_the_target_group() {
    let mut g = TargetGroup {
        name: "shop-api".into(),
        arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/943f017f100becff".into(),
        ..TargetGroup::default()
    };
    let reason = resource_label(&g).unwrap_err();
    assert!(
        reason.contains("not attached to a load balancer"),
        "{reason}"
    );
    g.load_balancer_arns = vec![
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/778d41231b141a0f"
            .into(),
    ];
    assert_eq!(
        resource_label(&g).unwrap(),
        "app/shop/778d41231b141a0f/targetgroup/shop-api/943f017f100becff"
    );
}
