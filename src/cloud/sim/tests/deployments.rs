//! Service deployments and the native strategies on paused time: a blue/green deployment's
//! stages in order with green in the alternate target group beside blue, production traffic
//! moved and the bake time honoured; a failing hook rolled back; canary and linear traffic
//! steps with their bake times; ROLLING service deployments, one stopped by a newer one; the
//! API's batch limit and paging order.

use std::time::Duration;

use super::*;
use crate::cloud::model::{
    AdvancedConfiguration, DeploymentStrategy, LifecycleStage, ServiceDeploymentStatus,
};
use crate::manifest::generated::{
    CanaryConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookStage, LinearConfiguration,
};

const HOOK_OK: &str = "arn:aws:lambda:us-east-1:123456789012:function:check";
const HOOK_FAILS: &str = "arn:aws:lambda:us-east-1:123456789012:function:broken-check";

fn native(strategy: DeploymentStrategy, bake: u32) -> DeploymentConfiguration {
    DeploymentConfiguration {
        strategy: Some(strategy),
        bake_time_in_minutes: Some(bake),
        ..Default::default()
    }
}

fn hook(arn: &str, stage: DeploymentLifecycleHookStage) -> DeploymentLifecycleHook {
    DeploymentLifecycleHook {
        hook_target_arn: Some(arn.into()),
        role_arn: Some("arn:aws:iam::123456789012:role/ecs-hooks".into()),
        lifecycle_stages: vec![stage],
        ..Default::default()
    }
}

/// `api` (2 tasks of api:1, completed) in target group `blue` with `green` as the alternate,
/// with `configuration`; returns (blue ARN, green ARN).
async fn blue_service(cloud: &Cloud, configuration: DeploymentConfiguration) -> (String, String) {
    let blue = target_group(cloud, "blue").await.arn;
    let green = target_group(cloud, "green").await.arn;
    let td1 = register(cloud, "api:1").await;
    let mut input = with_target_group(create_input(&td1.arn, 2), &blue);
    input.load_balancers[0].advanced_configuration = Some(AdvancedConfiguration {
        alternate_target_group_arn: Some(green.clone()),
        production_listener_rule: Some(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/3"
                .into(),
        ),
        test_listener_rule: None,
        role_arn: Some("arn:aws:iam::123456789012:role/ecs-elb".into()),
    });
    input.deployment_configuration = Some(configuration);
    cloud.ecs.create_service(&input).await.expect("create");
    advance(60).await;
    let live = describe(cloud).await;
    assert_eq!(live.deployments.len(), 1, "{live:#?}");
    (blue, green)
}

async fn status_of(cloud: &Cloud, arn: &str) -> (ServiceDeploymentStatus, Option<LifecycleStage>) {
    let d = cloud
        .ecs
        .describe_service_deployments(&[arn.to_string()])
        .await
        .expect("describe service deployments");
    let d = &d.found[0];
    (d.status.unwrap(), d.lifecycle_stage)
}

#[tokio::test(start_paused = true)]
async fn a_blue_green_deployment_runs_its_stages_in_order_beside_blue_and_bakes() {
    let (sim, cloud) = account(config()).await;
    let mut configuration = native(DeploymentStrategy::BlueGreen, 10);
    configuration.lifecycle_hooks = vec![hook(HOOK_OK, DeploymentLifecycleHookStage::PostScaleUp)];
    let (blue, green) = blue_service(&cloud, configuration).await;
    let td2 = register(&cloud, "api:2").await;
    let updated = cloud
        .ecs
        .update_service(&update_to(&td2.arn))
        .await
        .unwrap();
    let arn = updated
        .current_service_deployment
        .clone()
        .expect("its deployment");
    assert!(arn.contains(":service-deployment/shop/api/"), "{arn}");
    // Scaling up: green beside blue, nothing shifted.
    advance(20).await;
    assert_eq!(
        status_of(&cloud, &arn).await,
        (
            ServiceDeploymentStatus::InProgress,
            Some(LifecycleStage::ScaleUp)
        )
    );
    assert_eq!(sim.tasks(CLUSTER, SERVICE).len(), 4, "green beside blue");
    // Five minutes into the bake time: still in progress, blue still running.
    advance(60 + 5 * 60).await;
    assert_eq!(
        status_of(&cloud, &arn).await,
        (
            ServiceDeploymentStatus::InProgress,
            Some(LifecycleStage::BakeTime)
        )
    );
    assert_eq!(
        sim.tasks(CLUSTER, SERVICE).len(),
        4,
        "blue kept while baking"
    );
    let health = cloud.elbv2.describe_target_health(&green).await.unwrap();
    assert_eq!(
        health.len(),
        2,
        "green's tasks are in the alternate target group"
    );
    advance(6 * 60).await;
    assert_eq!(
        status_of(&cloud, &arn).await.0,
        ServiceDeploymentStatus::Successful
    );
    let tasks = sim.tasks(CLUSTER, SERVICE);
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.task_definition == td2.arn));

    let run = sim.deployment_run(CLUSTER, SERVICE).unwrap();
    let stages: Vec<LifecycleStage> = run.stages.iter().map(|(s, _)| *s).collect();
    use LifecycleStage as S;
    assert_eq!(
        stages,
        [
            S::PreScaleUp,
            S::ScaleUp,
            S::PostScaleUp,
            S::TestTrafficShift,
            S::PostTestTrafficShift,
            S::PreProductionTrafficShift,
            S::ProductionTrafficShift,
            S::PostProductionTrafficShift,
            S::BakeTime,
            S::CleanUp,
        ]
    );
    let at = |stage| run.stages.iter().find(|(s, _)| *s == stage).unwrap().1;
    assert_eq!(at(S::CleanUp) - at(S::BakeTime), Duration::from_secs(600));
    // The hook of POST_SCALE_UP took its time.
    assert_eq!(
        at(S::TestTrafficShift) - at(S::PostScaleUp),
        Duration::from_secs(10)
    );
    let weights: Vec<f64> = run.traffic.iter().map(|(w, _)| *w).collect();
    assert_eq!(weights, [0.0, 100.0]);
    assert_eq!(run.blue_groups, [blue]);
    assert_eq!(run.green_groups, [green]);
}

#[tokio::test(start_paused = true)]
async fn a_failing_hook_rolls_the_deployment_back_to_blue() {
    let (sim, cloud) = account(config()).await;
    sim.set_failing_hooks(vec!["broken-check".into()]);
    let mut configuration = native(DeploymentStrategy::BlueGreen, 10);
    configuration.lifecycle_hooks = vec![hook(
        HOOK_FAILS,
        DeploymentLifecycleHookStage::PostTestTrafficShift,
    )];
    let (_, _) = blue_service(&cloud, configuration).await;
    let td1 = describe(&cloud).await.task_definition;
    let td2 = register(&cloud, "api:2").await;
    let arn = cloud
        .ecs
        .update_service(&update_to(&td2.arn))
        .await
        .unwrap()
        .current_service_deployment
        .unwrap();
    advance(120).await;
    let d = cloud
        .ecs
        .describe_service_deployments(std::slice::from_ref(&arn))
        .await
        .unwrap()
        .found
        .remove(0);
    assert_eq!(d.status, Some(ServiceDeploymentStatus::RollbackSuccessful));
    let reason = d.status_reason.unwrap();
    assert!(
        reason.contains("broken-check") && reason.contains("POST_TEST_TRAFFIC_SHIFT"),
        "{reason}"
    );
    assert!(
        d.rollback
            .unwrap()
            .service_revision_arn
            .unwrap()
            .ends_with("/1")
    );
    let live = describe(&cloud).await;
    assert_eq!(live.task_definition, td1);
    assert_eq!(live.primary().unwrap().task_definition, td1);
    let tasks = sim.tasks(CLUSTER, SERVICE);
    assert_eq!(tasks.len(), 2);
    assert!(
        tasks.iter().all(|t| t.task_definition == td1),
        "green stopped"
    );
    let run = sim.deployment_run(CLUSTER, SERVICE).unwrap();
    assert_eq!(
        run.traffic.last().unwrap().0,
        0.0,
        "production traffic back on blue"
    );
}

#[tokio::test(start_paused = true)]
async fn a_canary_shifts_its_percent_then_the_rest_after_its_bake_time() {
    let (sim, cloud) = account(config()).await;
    let mut configuration = native(DeploymentStrategy::Canary, 0);
    configuration.canary_configuration = Some(CanaryConfiguration {
        canary_percent: Some(10.0),
        canary_bake_time_in_minutes: Some(5),
    });
    blue_service(&cloud, configuration).await;
    let td2 = register(&cloud, "api:2").await;
    cloud
        .ecs
        .update_service(&update_to(&td2.arn))
        .await
        .unwrap();
    advance(20 * 60).await;
    let run = sim.deployment_run(CLUSTER, SERVICE).unwrap();
    assert_eq!(run.status, ServiceDeploymentStatus::Successful);
    let weights: Vec<f64> = run.traffic.iter().map(|(w, _)| *w).collect();
    assert_eq!(weights, [0.0, 10.0, 100.0]);
    assert_eq!(
        run.traffic[2].1 - run.traffic[1].1,
        Duration::from_secs(300)
    );
}

#[tokio::test(start_paused = true)]
async fn a_linear_deployment_shifts_in_steps_with_a_bake_between_them() {
    let (sim, cloud) = account(config()).await;
    let mut configuration = native(DeploymentStrategy::Linear, 0);
    configuration.linear_configuration = Some(LinearConfiguration {
        step_percent: Some(25.0),
        step_bake_time_in_minutes: Some(2),
    });
    blue_service(&cloud, configuration).await;
    let td2 = register(&cloud, "api:2").await;
    cloud
        .ecs
        .update_service(&update_to(&td2.arn))
        .await
        .unwrap();
    advance(20 * 60).await;
    let run = sim.deployment_run(CLUSTER, SERVICE).unwrap();
    assert_eq!(run.status, ServiceDeploymentStatus::Successful);
    let weights: Vec<f64> = run.traffic.iter().map(|(w, _)| *w).collect();
    assert_eq!(weights, [0.0, 25.0, 50.0, 75.0, 100.0]);
    for pair in run.traffic[1..].windows(2) {
        assert_eq!(pair[1].1 - pair[0].1, Duration::from_secs(120));
    }
    let shifts = run
        .stages
        .iter()
        .filter(|(s, _)| *s == LifecycleStage::PreProductionTrafficShift)
        .count();
    assert_eq!(shifts, 4, "one PRE_PRODUCTION_TRAFFIC_SHIFT per step");
}

#[tokio::test(start_paused = true)]
async fn rolling_service_deployments_succeed_and_a_newer_one_stops_the_one_in_progress() {
    let (_sim, cloud) = account(config()).await;
    let td1 = register(&cloud, "api:1").await;
    let created = cloud
        .ecs
        .create_service(&create_input(&td1.arn, 2))
        .await
        .unwrap();
    let first = created.current_service_deployment.unwrap();
    advance(60).await;
    assert_eq!(
        status_of(&cloud, &first).await,
        (ServiceDeploymentStatus::Successful, None)
    );
    let td2 = register(&cloud, "api:2").await;
    let td3 = register(&cloud, "api:3").await;
    let ours = cloud
        .ecs
        .update_service(&update_to(&td2.arn))
        .await
        .unwrap();
    let ours = ours.current_service_deployment.unwrap();
    advance(1).await;
    let by_hand = cloud
        .ecs
        .update_service(&update_to(&td3.arn))
        .await
        .unwrap();
    let by_hand = by_hand.current_service_deployment.unwrap();
    assert_ne!(ours, by_hand);
    assert_eq!(
        status_of(&cloud, &ours).await.0,
        ServiceDeploymentStatus::Stopped
    );
    advance(120).await;
    assert_eq!(
        status_of(&cloud, &by_hand).await.0,
        ServiceDeploymentStatus::Successful
    );
    let listed = cloud
        .ecs
        .list_service_deployments(CLUSTER, SERVICE, None)
        .await
        .unwrap();
    let arns: Vec<&str> = listed.items.iter().map(|b| b.arn.as_str()).collect();
    assert_eq!(
        arns,
        [by_hand.as_str(), ours.as_str(), first.as_str()],
        "newest first"
    );
    let too_many = vec![ours.clone(); crate::cloud::MAX_DESCRIBE_SERVICE_DEPLOYMENTS + 1];
    let e = cloud
        .ecs
        .describe_service_deployments(&too_many)
        .await
        .unwrap_err();
    assert_eq!(e.kind, crate::cloud::ErrorKind::Invalid);
    let unknown = cloud
        .ecs
        .describe_service_deployments(&[
            "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/0".into(),
        ])
        .await
        .unwrap();
    assert_eq!(unknown.found.len(), 0);
    assert_eq!(unknown.missing.len(), 1);
}
