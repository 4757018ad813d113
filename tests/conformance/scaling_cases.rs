//! Conformance cases of the Application Auto Scaling calls (a Service's `spec.autoScaling`):
//! each of the nine calls of the `AutoScaling` trait against both backends.

use ecs_operator::cloud::ErrorKind;
use ecs_operator::cloud::model::scaling::*;

use super::cases::service;
use super::support::Backend;

/// A service with a scalable target of 1..4 registered.
async fn registered_target(b: &Backend) -> String {
    let (c, _, s) = service(b).await;
    let id = resource_id(&c.name, &s.name);
    b.cloud
        .autoscaling
        .register_scalable_target(&RegisterScalableTarget {
            resource_id: id.clone(),
            min_capacity: 1,
            max_capacity: 4,
            suspended_state: None,
        })
        .await
        .expect("register scalable target");
    id
}

async fn targets(b: &Backend, id: &str) -> Vec<ScalableTarget> {
    b.cloud
        .autoscaling
        .describe_scalable_targets(&[id.to_string()], None)
        .await
        .expect("describe scalable targets")
        .items
}

async fn policies(b: &Backend, id: &str) -> Vec<ScalingPolicy> {
    b.cloud
        .autoscaling
        .describe_scaling_policies(Some(id), None)
        .await
        .expect("describe scaling policies")
        .items
}

async fn actions(b: &Backend, id: &str) -> Vec<ScheduledAction> {
    b.cloud
        .autoscaling
        .describe_scheduled_actions(Some(id), None)
        .await
        .expect("describe scheduled actions")
        .items
}

fn cpu(target_value: f64) -> PolicyConfiguration {
    PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
        target_value,
        predefined_metric: Some(PredefinedMetricSpecification {
            predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
            resource_label: None,
        }),
        customized_metric: None,
        scale_in_cooldown: None,
        scale_out_cooldown: Some(60),
        disable_scale_in: None,
    })
}

pub async fn register_scalable_target_then_describe_returns_its_bounds(b: &Backend) {
    let id = registered_target(b).await;
    let got = targets(b, &id).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].min_capacity, got[0].max_capacity), (1, 4));
    assert_eq!(got[0].resource_id, id);
    assert_eq!(got[0].suspended_state, SuspendedState::default());
    // Registering again changes the bounds of the same target.
    b.cloud
        .autoscaling
        .register_scalable_target(&RegisterScalableTarget {
            resource_id: id.clone(),
            min_capacity: 2,
            max_capacity: 8,
            suspended_state: None,
        })
        .await
        .unwrap();
    let got = targets(b, &id).await;
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].min_capacity, got[0].max_capacity), (2, 8));
    // An id with no target is simply not in the answer.
    let none = targets(b, "service/nowhere/nothing").await;
    assert!(none.is_empty(), "{none:?}");
}

pub async fn put_target_tracking_policy_then_describe_returns_it(b: &Backend) {
    let id = registered_target(b).await;
    let arn = b
        .cloud
        .autoscaling
        .put_scaling_policy(&PutScalingPolicy {
            name: "cpu".into(),
            resource_id: id.clone(),
            configuration: cpu(60.0),
        })
        .await
        .expect("put scaling policy");
    assert!(arn.starts_with("arn:aws:autoscaling:"), "{arn}");
    let got = policies(b, &id).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].name, "cpu");
    assert_eq!(got[0].arn, arn);
    let PolicyConfiguration::TargetTracking(c) = &got[0].configuration else {
        panic!("{got:?}");
    };
    assert_eq!(c.target_value, 60.0);
    assert_eq!(c.scale_out_cooldown, Some(60));
    assert_eq!(
        c.predefined_metric
            .as_ref()
            .map(|m| m.predefined_metric_type.as_str()),
        Some("ECSServiceAverageCPUUtilization")
    );
    if c.scale_in_cooldown.is_some() || !b.moto_gap("PutScalingPolicy fills no default cooldown") {
        assert_eq!(c.scale_in_cooldown, Some(300), "AWS's default for ECS");
    }
    // Put again with the same name replaces it, same ARN.
    let again = b
        .cloud
        .autoscaling
        .put_scaling_policy(&PutScalingPolicy {
            name: "cpu".into(),
            resource_id: id.clone(),
            configuration: cpu(40.0),
        })
        .await
        .unwrap();
    if again != arn && b.moto_gap("PutScalingPolicy of an existing name gives it a new ARN") {
    } else {
        assert_eq!(again, arn, "replaced in place");
    }
    let got = policies(b, &id).await;
    assert_eq!(got.len(), 1);
    assert!(
        matches!(&got[0].configuration, PolicyConfiguration::TargetTracking(c) if c.target_value == 40.0)
    );
}

pub async fn step_scaling_policy_is_stored_and_deleted(b: &Backend) {
    let id = registered_target(b).await;
    let step = PolicyConfiguration::StepScaling(StepScalingConfiguration {
        adjustment_type: Some(AdjustmentType::ChangeInCapacity),
        step_adjustments: vec![StepAdjustment {
            metric_interval_lower_bound: Some(0.0),
            metric_interval_upper_bound: None,
            scaling_adjustment: 2,
        }],
        cooldown: Some(60),
        metric_aggregation_type: Some(MetricAggregationType::Maximum),
        min_adjustment_magnitude: None,
    });
    b.cloud
        .autoscaling
        .put_scaling_policy(&PutScalingPolicy {
            name: "step".into(),
            resource_id: id.clone(),
            configuration: step.clone(),
        })
        .await
        .expect("put step policy");
    let got = policies(b, &id).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].configuration, step);
    b.cloud
        .autoscaling
        .delete_scaling_policy(&id, "step")
        .await
        .expect("delete");
    assert!(policies(b, &id).await.is_empty());
    let e = b
        .cloud
        .autoscaling
        .delete_scaling_policy(&id, "step")
        .await
        .expect_err("deleting it again");
    if e.kind != ErrorKind::NotFound
        && b.moto_gap("DeleteScalingPolicy of a missing policy is a ValidationException")
    {
        return;
    }
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn scheduled_actions_are_put_described_and_deleted(b: &Backend) {
    let id = registered_target(b).await;
    let night = ScheduledAction {
        name: "night".into(),
        resource_id: id.clone(),
        schedule: "cron(0 20 * * ? *)".into(),
        timezone: Some("Europe/Paris".into()),
        min_capacity: Some(1),
        max_capacity: Some(2),
    };
    b.cloud
        .autoscaling
        .put_scheduled_action(&night)
        .await
        .expect("put scheduled action");
    let got = actions(b, &id).await;
    assert_eq!(got, vec![night.clone()]);
    b.cloud
        .autoscaling
        .delete_scheduled_action(&id, "night")
        .await
        .expect("delete scheduled action");
    assert!(actions(b, &id).await.is_empty());
    let again = b
        .cloud
        .autoscaling
        .delete_scheduled_action(&id, "night")
        .await;
    if again.is_ok() && b.moto_gap("DeleteScheduledAction of a missing action succeeds") {
        return;
    }
    let e = again.expect_err("deleting it again");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn deregister_removes_the_target_and_its_policies(b: &Backend) {
    let id = registered_target(b).await;
    b.cloud
        .autoscaling
        .put_scaling_policy(&PutScalingPolicy {
            name: "cpu".into(),
            resource_id: id.clone(),
            configuration: cpu(60.0),
        })
        .await
        .unwrap();
    b.cloud
        .autoscaling
        .deregister_scalable_target(&id)
        .await
        .expect("deregister");
    assert!(targets(b, &id).await.is_empty());
    let left = policies(b, &id).await;
    if !left.is_empty() && b.moto_gap("DeregisterScalableTarget keeps the target's policies") {
        return;
    }
    assert!(left.is_empty(), "{left:?}");
    let e = b
        .cloud
        .autoscaling
        .deregister_scalable_target(&id)
        .await
        .expect_err("deregistering it again");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}
