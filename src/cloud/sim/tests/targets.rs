//! Target registration: running tasks join their service's target groups as `initial`,
//! turn `healthy`, and drain for the deregistration delay when they stop.

use std::collections::BTreeMap;

use super::*;
use crate::cloud::ErrorKind;
use crate::cloud::model::{RolloutState, TargetHealthState};

/// (id, port, state, reason) of every target.
async fn health(
    cloud: &Cloud,
    arn: &str,
) -> Vec<(String, Option<u32>, TargetHealthState, Option<String>)> {
    cloud
        .elbv2
        .describe_target_health(arn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.port, t.state, t.reason))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn running_tasks_register_as_initial_then_turn_healthy() {
    let (sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;
    let td = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&with_target_group(create_input(&td.arn, 2), &tg.arn))
        .await
        .unwrap();
    assert!(
        health(&cloud, &tg.arn).await.is_empty(),
        "pending tasks are not targets"
    );

    advance(10).await;
    let mut ips: Vec<String> = sim
        .tasks(CLUSTER, SERVICE)
        .into_iter()
        .map(|t| t.ip)
        .collect();
    ips.sort();
    assert!(ips.iter().all(|ip| ip.starts_with("10.0.")), "{ips:?}");
    let mut targets = health(&cloud, &tg.arn).await;
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    let initial: Vec<_> = ips
        .iter()
        .map(|ip| {
            (
                ip.clone(),
                Some(8000),
                TargetHealthState::Initial,
                Some("Elb.RegistrationInProgress".to_string()),
            )
        })
        .collect();
    assert_eq!(targets, initial);
    let svc = describe(&cloud).await;
    assert_eq!(svc.running_count, 2);
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::InProgress),
        "not complete before the targets are healthy"
    );

    advance(14).await;
    assert!(
        health(&cloud, &tg.arn)
            .await
            .iter()
            .all(|t| t.2 == TargetHealthState::Initial)
    );
    advance(1).await;
    let targets = health(&cloud, &tg.arn).await;
    assert_eq!(targets.len(), 2);
    assert!(
        targets
            .iter()
            .all(|t| t.2 == TargetHealthState::Healthy && t.3.is_none())
    );
    assert_eq!(
        describe(&cloud).await.primary().unwrap().rollout_state,
        Some(RolloutState::Completed)
    );
}

#[tokio::test(start_paused = true)]
async fn targets_drain_for_the_deregistration_delay_on_scale_in() {
    let (sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;
    let td = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&with_target_group(create_input(&td.arn, 3), &tg.arn))
        .await
        .unwrap();
    advance(25).await;
    cloud
        .elbv2
        .modify_target_group_attributes(
            &tg.arn,
            &BTreeMap::from([(
                "deregistration_delay.timeout_seconds".to_string(),
                "30".to_string(),
            )]),
        )
        .await
        .unwrap();

    let svc = cloud
        .ecs
        .update_service(&UpdateService {
            cluster: CLUSTER.into(),
            name: SERVICE.into(),
            desired_count: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(svc.running_count, 1);
    let kept = sim.tasks(CLUSTER, SERVICE);
    assert_eq!(kept.len(), 1);
    let targets = health(&cloud, &tg.arn).await;
    assert_eq!(targets.len(), 3, "stopped tasks' targets are still listed");
    for t in &targets {
        if t.0 == kept[0].ip {
            assert_eq!(t.2, TargetHealthState::Healthy);
        } else {
            assert_eq!(t.2, TargetHealthState::Draining);
            assert_eq!(t.3.as_deref(), Some("Target.DeregistrationInProgress"));
        }
    }
    let messages: Vec<String> = svc.events.iter().map(|e| e.message.clone()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("(service api) deregistered 1 targets in (target-group ")),
        "{messages:?}"
    );

    advance(29).await;
    assert_eq!(health(&cloud, &tg.arn).await.len(), 3);
    advance(1).await;
    let targets = health(&cloud, &tg.arn).await;
    assert_eq!(
        targets,
        [(
            kept[0].ip.clone(),
            Some(8000),
            TargetHealthState::Healthy,
            None
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn a_rolling_update_behind_a_target_group_waits_for_healthy_targets() {
    let (sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;
    let v1 = register(&cloud, "api:1").await;
    let v2 = register(&cloud, "api:2").await;
    cloud
        .ecs
        .create_service(&with_target_group(create_input(&v1.arn, 2), &tg.arn))
        .await
        .unwrap();
    advance(25).await;
    cloud.ecs.update_service(&update_to(&v2.arn)).await.unwrap();
    // New tasks run after 10 s but are healthy only 15 s later: until then the old ones stay.
    advance(24).await;
    let old = |sim: &Sim| {
        sim.tasks(CLUSTER, SERVICE)
            .iter()
            .filter(|t| t.task_definition == v1.arn)
            .count()
    };
    assert_eq!(old(&sim), 2);
    advance(1).await;
    assert_eq!(old(&sim), 0);
    let states: Vec<TargetHealthState> = health(&cloud, &tg.arn)
        .await
        .into_iter()
        .map(|t| t.2)
        .collect();
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == TargetHealthState::Healthy)
            .count(),
        2
    );
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == TargetHealthState::Draining)
            .count(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_target_group_in_use_by_a_service_cannot_be_deleted() {
    let (_sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;
    let td = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&with_target_group(create_input(&td.arn, 0), &tg.arn))
        .await
        .unwrap();
    let err = cloud.elbv2.delete_target_group(&tg.arn).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (ErrorKind::Conflict, Some("ResourceInUse"))
    );

    cloud
        .ecs
        .delete_service(CLUSTER, SERVICE, false)
        .await
        .unwrap();
    cloud.elbv2.delete_target_group(&tg.arn).await.unwrap();
    let err = cloud
        .elbv2
        .describe_target_groups(&["shop-api".to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}
