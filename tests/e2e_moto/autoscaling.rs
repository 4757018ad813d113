//! The example API's `autoScaling` (target tracking on CPU 60% between 2 and 10) against moto:
//! `apply` registers the scalable target and the policy, `diff` is clean right after, and a
//! policy changed by hand with the SDK is reported by `diff` and put back by `apply`.

use ecs_operator::cloud::model::scaling::{PolicyConfiguration, PutScalingPolicy, resource_id};

use crate::support::App;

#[tokio::test]
async fn the_api_scales_on_cpu_and_a_policy_changed_by_hand_is_put_back() {
    let app = App::api_only().await;
    let n = &app.names;
    app.apply().expect_code(0);
    app.diff().expect_code(0);
    let id = resource_id(&n.cluster, &n.api);
    let targets = app
        .cloud
        .autoscaling
        .describe_scalable_targets(std::slice::from_ref(&id), None)
        .await
        .expect("DescribeScalableTargets")
        .items;
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!((targets[0].min_capacity, targets[0].max_capacity), (2, 10));
    let policies = app
        .cloud
        .autoscaling
        .describe_scaling_policies(Some(&id), None)
        .await
        .expect("DescribeScalingPolicies")
        .items;
    assert_eq!(policies.len(), 1, "{policies:?}");
    let policy = &policies[0];
    assert_eq!(policy.name, format!("ecs-operator-{}-cpu", n.api));
    let PolicyConfiguration::TargetTracking(mut c) = policy.configuration.clone() else {
        panic!("{policy:?}");
    };
    assert_eq!(c.target_value, 60.0);

    c.target_value = 90.0;
    app.cloud
        .autoscaling
        .put_scaling_policy(&PutScalingPolicy {
            name: policy.name.clone(),
            resource_id: id.clone(),
            configuration: PolicyConfiguration::TargetTracking(c),
        })
        .await
        .expect("PutScalingPolicy by hand");
    let diff = app.diff();
    diff.expect_code(2);
    let header = format!("~ Service/{}/{} ", n.cluster, n.api);
    let change = format!(
        "spec.autoScaling.policies.{}.targetTracking.targetValue: 90.0 -> 60.0",
        policy.name
    );
    assert!(
        diff.lines_under(&header).iter().any(|l| l.trim() == change),
        "{diff}\nlists {change:?} under {header:?}"
    );
    app.apply().expect_code(0);
    app.diff().expect_code(0);
    let back = app
        .cloud
        .autoscaling
        .describe_scaling_policies(Some(&id), None)
        .await
        .unwrap()
        .items;
    assert!(
        matches!(&back[0].configuration, PolicyConfiguration::TargetTracking(c) if c.target_value == 60.0),
        "{back:?}"
    );
}
