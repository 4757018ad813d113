//! The service scheduler: desired counts, rolling updates, rollout states, the circuit
//! breaker, the restart throttle, and reproducible runs.

use super::*;
use crate::cloud::model::RolloutState;
use crate::cloud::sim::{RestartThrottle, SimTaskStatus};

/// (running, pending) tasks of `api` per the simulator's own view.
fn counts(sim: &Sim) -> (usize, usize) {
    let tasks = sim.tasks(CLUSTER, SERVICE);
    let running = tasks
        .iter()
        .filter(|t| t.status == SimTaskStatus::Running)
        .count();
    (running, tasks.len() - running)
}

#[tokio::test(start_paused = true)]
async fn a_service_reaches_its_desired_count_after_the_task_start_time() {
    let (sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;
    let created = cloud
        .ecs
        .create_service(&create_input(&td.arn, 3))
        .await
        .unwrap();
    assert_eq!((created.running_count, created.pending_count), (0, 3));
    assert_eq!(
        created.primary().map(|d| d.rollout_state),
        Some(Some(RolloutState::InProgress))
    );

    advance(9).await;
    assert_eq!(counts(&sim), (0, 3), "still starting after 9 s");
    advance(1).await;
    let svc = describe(&cloud).await;
    assert_eq!((svc.running_count, svc.pending_count), (3, 0));
    let primary = svc.primary().unwrap();
    assert_eq!(primary.running_count, 3);
    assert_eq!(primary.rollout_state, Some(RolloutState::Completed));
    assert_eq!(svc.deployments.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn scaling_out_and_in_follows_the_desired_count() {
    let (sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&create_input(&td.arn, 2))
        .await
        .unwrap();
    advance(10).await;
    let scale = |n| UpdateService {
        cluster: CLUSTER.into(),
        name: SERVICE.into(),
        desired_count: Some(n),
        ..Default::default()
    };
    let svc = cloud.ecs.update_service(&scale(5)).await.unwrap();
    assert_eq!((svc.running_count, svc.pending_count), (2, 3));
    assert_eq!(
        svc.deployments.len(),
        1,
        "a count change is not a deployment"
    );
    advance(10).await;
    assert_eq!(counts(&sim), (5, 0));
    let svc = cloud.ecs.update_service(&scale(1)).await.unwrap();
    assert_eq!((svc.running_count, svc.pending_count), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_rolling_update_stays_within_min_and_max_percent_at_every_step() {
    // (desired, minimumHealthyPercent, maximumPercent, fewest healthy, most tasks): ECS
    // rounds the minimum up and the maximum down, so 3 tasks at 50/150 allow 2..=4.
    for (desired, min, max, floor, ceiling) in [
        (4, 100, 200, 4, 8),
        (4, 50, 150, 2, 6),
        (4, 75, 125, 3, 5),
        (4, 50, 100, 2, 4),
        (4, 0, 100, 0, 4),
        (3, 50, 150, 2, 4),
        (5, 60, 130, 3, 6),
    ] {
        let (sim, cloud) = account(config()).await;
        let v1 = register(&cloud, "api:1").await;
        let v2 = register(&cloud, "api:2").await;
        let mut input = create_input(&v1.arn, desired);
        input.deployment_configuration = Some(deployment(min, max, None));
        cloud.ecs.create_service(&input).await.unwrap();
        advance(10).await;
        assert_eq!(counts(&sim), (desired as usize, 0));

        cloud.ecs.update_service(&update_to(&v2.arn)).await.unwrap();
        let mut saw_both = false;
        let mut steps = 0;
        loop {
            let tasks = sim.tasks(CLUSTER, SERVICE);
            let healthy = tasks.iter().filter(|t| t.healthy).count();
            assert!(
                tasks.len() <= ceiling,
                "{min}/{max}: {} tasks at step {steps}",
                tasks.len()
            );
            assert!(
                healthy >= floor,
                "{min}/{max}: {healthy} healthy at step {steps}"
            );
            let old = tasks.iter().filter(|t| t.task_definition == v1.arn).count();
            saw_both |= old > 0 && old < tasks.len();
            let svc = describe(&cloud).await;
            if svc.primary().and_then(|d| d.rollout_state) == Some(RolloutState::Completed) {
                assert_eq!(svc.deployments.len(), 1, "the old deployment is gone");
                assert_eq!(svc.running_count, desired);
                assert!(tasks.iter().all(|t| t.task_definition == v2.arn));
                break;
            }
            steps += 1;
            assert!(steps < 100, "{min}/{max}: no completion");
            advance(1).await;
        }
        // With a minimum of 0 ECS may stop every old task before starting new ones.
        assert!(
            saw_both || floor == 0,
            "{min}/{max}: old and new tasks never ran side by side"
        );
        assert!(steps >= 10, "{min}/{max}: completed in {steps} s");
    }
}

#[tokio::test(start_paused = true)]
async fn a_deployment_goes_from_in_progress_to_completed_and_the_old_one_disappears() {
    let (_sim, cloud) = account(config()).await;
    let v1 = register(&cloud, "api:1").await;
    let v2 = register(&cloud, "api:2").await;
    cloud
        .ecs
        .create_service(&create_input(&v1.arn, 2))
        .await
        .unwrap();
    advance(10).await;
    let first = describe(&cloud).await.primary().unwrap().id.clone();

    let svc = cloud.ecs.update_service(&update_to(&v2.arn)).await.unwrap();
    assert_eq!(svc.task_definition, v2.arn);
    let statuses: Vec<(&str, &str, Option<RolloutState>)> = svc
        .deployments
        .iter()
        .map(|d| {
            (
                d.status.as_str(),
                d.task_definition.as_str(),
                d.rollout_state,
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("PRIMARY", v2.arn.as_str(), Some(RolloutState::InProgress)),
            ("ACTIVE", v1.arn.as_str(), Some(RolloutState::Completed)),
        ]
    );
    assert_eq!(svc.deployments[1].id, first);

    advance(10).await;
    let svc = describe(&cloud).await;
    let primary = svc.primary().unwrap();
    assert_eq!(primary.rollout_state, Some(RolloutState::Completed));
    assert_eq!(
        primary.rollout_state_reason.as_deref(),
        Some(format!("ECS deployment {} completed.", primary.id).as_str())
    );
    assert_eq!(svc.deployments.len(), 1);
    assert_eq!(
        svc.events.first().map(|e| e.message.as_str()),
        Some("(service api) has reached a steady state."),
        "events are newest first"
    );
    assert!(
        svc.events[1].message.ends_with("deployment completed."),
        "{:?}",
        svc.events[1]
    );
}

#[tokio::test(start_paused = true)]
async fn a_crashing_image_trips_the_circuit_breaker_at_the_threshold_and_rolls_back() {
    let (sim, cloud) = account(config()).await;
    let good = register(&cloud, "api:1").await;
    let broken = register(&cloud, BROKEN).await;
    let mut input = create_input(&good.arn, 1);
    input.deployment_configuration = Some(deployment(100, 200, Some((true, true))));
    cloud.ecs.create_service(&input).await.unwrap();
    advance(10).await;
    let completed = describe(&cloud).await.primary().unwrap().id.clone();

    cloud
        .ecs
        .update_service(&update_to(&broken.arn))
        .await
        .unwrap();
    // One task at a time: it crashes 10 s after each launch. The threshold for 1 desired
    // task is 3 failed tasks.
    for failed in 1..=2 {
        advance(10).await;
        let svc = describe(&cloud).await;
        let primary = svc.primary().unwrap();
        assert_eq!(primary.task_definition, broken.arn);
        assert_eq!(primary.failed_tasks, failed);
        assert_eq!(primary.rollout_state, Some(RolloutState::InProgress));
        assert_eq!(svc.running_count, 1, "the old task keeps running");
    }
    advance(10).await;
    let svc = describe(&cloud).await;
    assert_eq!(svc.task_definition, good.arn, "rolled back");
    let primary = svc.primary().unwrap();
    assert_eq!(primary.task_definition, good.arn);
    assert_eq!(primary.rollout_state, Some(RolloutState::InProgress));
    assert_eq!(
        primary.rollout_state_reason.as_deref(),
        Some(
            format!("ECS deployment circuit breaker: rolling back to deploymentId {completed}.")
                .as_str()
        )
    );
    let messages: Vec<&str> = svc.events.iter().map(|e| e.message.as_str()).collect();
    let position = |wanted: &str| messages.iter().position(|m| m.ends_with(wanted));
    let rolling_back = position(&format!("rolling back to deployment {completed}."));
    let failed = position("deployment failed: tasks failed to start.");
    assert!(
        rolling_back.is_some() && failed.is_some() && rolling_back < failed,
        "newest first: {messages:?}"
    );
    assert!(
        svc.deployments
            .iter()
            .all(|d| d.task_definition != broken.arn),
        "the failed deployment had no tasks left and disappeared"
    );

    advance(10).await;
    let svc = describe(&cloud).await;
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::Completed)
    );
    assert_eq!(svc.deployments.len(), 1);
    assert!(
        sim.tasks(CLUSTER, SERVICE)
            .iter()
            .all(|t| t.task_definition == good.arn)
    );
}

#[tokio::test(start_paused = true)]
async fn the_circuit_breaker_threshold_is_half_the_desired_count() {
    // 10 desired tasks: the threshold is 5. With maximumPercent 110 one new task runs at a
    // time, so failures arrive one by one.
    let (_sim, cloud) = account(SimConfig {
        restart_throttle: RestartThrottle {
            free_failures: 100,
            ..RestartThrottle::default()
        },
        ..config()
    })
    .await;
    let good = register(&cloud, "api:1").await;
    let broken = register(&cloud, BROKEN).await;
    let mut input = create_input(&good.arn, 10);
    input.deployment_configuration = Some(deployment(100, 110, Some((true, false))));
    cloud.ecs.create_service(&input).await.unwrap();
    advance(10).await;
    cloud
        .ecs
        .update_service(&update_to(&broken.arn))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        advance(10).await;
        let svc = describe(&cloud).await;
        let p = svc.primary().unwrap();
        seen.push((p.failed_tasks, p.rollout_state));
        if p.rollout_state == Some(RolloutState::Failed) {
            break;
        }
    }
    let ip = Some(RolloutState::InProgress);
    assert_eq!(
        seen,
        [
            (1, ip),
            (2, ip),
            (3, ip),
            (4, ip),
            (5, Some(RolloutState::Failed))
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn without_rollback_a_failed_deployment_stays_failed_and_stops_launching() {
    let (sim, cloud) = account(config()).await;
    let good = register(&cloud, "api:1").await;
    let broken = register(&cloud, BROKEN).await;
    let mut input = create_input(&good.arn, 2);
    input.deployment_configuration = Some(deployment(100, 200, Some((true, false))));
    cloud.ecs.create_service(&input).await.unwrap();
    advance(10).await;
    cloud
        .ecs
        .update_service(&update_to(&broken.arn))
        .await
        .unwrap();
    // Two tasks at a time crash: 2 failures, then 4 (threshold 3).
    advance(20).await;
    let svc = describe(&cloud).await;
    let primary = svc.primary().unwrap();
    assert_eq!(primary.rollout_state, Some(RolloutState::Failed));
    assert_eq!(
        primary.rollout_state_reason.as_deref(),
        Some("ECS deployment circuit breaker: tasks failed to start.")
    );
    let failed = primary.failed_tasks;
    assert!(failed >= 3, "{failed}");
    assert_eq!(svc.task_definition, broken.arn, "no rollback");
    assert_eq!(
        svc.deployments.len(),
        2,
        "the old deployment keeps its tasks"
    );

    advance(600).await;
    let svc = describe(&cloud).await;
    let primary = svc.primary().unwrap();
    assert_eq!(primary.rollout_state, Some(RolloutState::Failed));
    assert_eq!(primary.failed_tasks, failed, "no more launches");
    let tasks = sim.tasks(CLUSTER, SERVICE);
    assert_eq!(tasks.len(), 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.task_definition == good.arn && t.healthy)
    );
}

#[tokio::test(start_paused = true)]
async fn rollback_without_a_completed_deployment_leaves_the_first_one_failed() {
    let (sim, cloud) = account(config()).await;
    let broken = register(&cloud, BROKEN).await;
    let mut input = create_input(&broken.arn, 1);
    input.deployment_configuration = Some(deployment(100, 200, Some((true, true))));
    cloud.ecs.create_service(&input).await.unwrap();
    advance(60).await;
    let svc = describe(&cloud).await;
    assert_eq!(svc.deployments.len(), 1);
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::Failed)
    );
    assert!(sim.tasks(CLUSTER, SERVICE).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_crash_loop_without_circuit_breaker_keeps_retrying_with_growing_delays() {
    let (sim, cloud) = account(config()).await;
    let broken = register(&cloud, BROKEN).await;
    cloud
        .ecs
        .create_service(&create_input(&broken.arn, 1))
        .await
        .unwrap();
    // Defaults: three free failures (10 s each), then waits of 30 s, 60 s, 120 s.
    let mut failures = Vec::new();
    for _ in 0..40 {
        advance(10).await;
        failures.push(describe(&cloud).await.primary().unwrap().failed_tasks);
    }
    let at = |seconds: usize| failures[seconds / 10 - 1];
    assert_eq!((at(10), at(20), at(30)), (1, 2, 3));
    assert_eq!(at(60), 3, "throttled for 30 s after the third failure");
    assert_eq!(at(70), 4, "relaunched at 60 s, crashed at 70 s");
    assert_eq!(at(120), 4, "then throttled for 60 s");
    assert_eq!(at(140), 5);
    assert_eq!(at(400), 6, "then 120 s");
    let svc = describe(&cloud).await;
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::InProgress),
        "ECS never gives up without the circuit breaker"
    );
    assert!(
        svc.events
            .iter()
            .any(|e| e.message
                == "(service api) is unable to consistently start tasks successfully.")
    );
    assert!(sim.tasks(CLUSTER, SERVICE).len() <= 1);
}

#[tokio::test(start_paused = true)]
async fn a_stopped_task_is_replaced() {
    let (sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&create_input(&td.arn, 2))
        .await
        .unwrap();
    advance(10).await;
    let before = sim.tasks(CLUSTER, SERVICE);
    assert!(sim.stop_task(CLUSTER, SERVICE, &before[0].id));
    assert!(!sim.stop_task(CLUSTER, SERVICE, "no-such-task"));
    let after = sim.tasks(CLUSTER, SERVICE);
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|t| t.id != before[0].id));
    assert_eq!(counts(&sim), (1, 1));
    advance(10).await;
    assert_eq!(counts(&sim), (2, 0));
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_gives_the_same_run() {
    async fn run(seed: u64) -> (Vec<(String, String)>, Vec<String>) {
        let (sim, cloud) = account(SimConfig { seed, ..config() }).await;
        let v1 = register(&cloud, "api:1").await;
        let v2 = register(&cloud, "api:2").await;
        cloud
            .ecs
            .create_service(&create_input(&v1.arn, 3))
            .await
            .unwrap();
        advance(15).await;
        cloud.ecs.update_service(&update_to(&v2.arn)).await.unwrap();
        advance(30).await;
        let tasks = sim
            .tasks(CLUSTER, SERVICE)
            .into_iter()
            .map(|t| (t.id, t.ip))
            .collect();
        let events = describe(&cloud)
            .await
            .events
            .into_iter()
            .map(|e| format!("{} {:?} {}", e.id, e.created_at, e.message))
            .collect();
        (tasks, events)
    }
    let a = run(42).await;
    assert_eq!(a, run(42).await);
    assert_ne!(a.0, run(43).await.0);
}

#[tokio::test(start_paused = true)]
async fn zero_and_huge_durations_neither_hang_nor_panic() {
    // Zero start time: tasks run as of the next call; a crash loop without any throttle
    // still moves forward a millisecond per crash.
    let (_sim, cloud) = account(SimConfig {
        task_start_time: Duration::ZERO,
        target_healthy_time: Duration::ZERO,
        restart_throttle: RestartThrottle {
            free_failures: u32::MAX,
            ..RestartThrottle::default()
        },
        ..config()
    })
    .await;
    let good = register(&cloud, "api:1").await;
    let broken = register(&cloud, BROKEN).await;
    cloud
        .ecs
        .create_service(&create_input(&good.arn, 2))
        .await
        .unwrap();
    let svc = describe(&cloud).await;
    assert_eq!(svc.running_count, 2);
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::Completed)
    );
    let mut other = create_input(&broken.arn, 1);
    other.name = "crashing".into();
    cloud.ecs.create_service(&other).await.unwrap();
    advance(1).await;
    let d = cloud
        .ecs
        .describe_services(CLUSTER, &["crashing".into()])
        .await
        .unwrap();
    assert_eq!(d.found[0].primary().unwrap().failed_tasks, 1000);

    let (sim, cloud) = account(SimConfig {
        task_start_time: Duration::MAX,
        target_healthy_time: Duration::MAX,
        ..config()
    })
    .await;
    let good = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&create_input(&good.arn, 1))
        .await
        .unwrap();
    advance(3600).await;
    assert_eq!(counts(&sim), (0, 1), "still starting, a long time from now");
}

#[tokio::test(start_paused = true)]
async fn crashed_tasks_are_listed_stopped_with_their_stop_code_and_reason_for_an_hour() {
    let mut config = config();
    config.crashing_images = vec![format!("{BROKEN}=pull"), "api:exits=exit:3".into()];
    let (_sim, cloud) = account(config).await;
    let broken = register(&cloud, BROKEN).await;
    let svc = cloud
        .ecs
        .create_service(&create_input(&broken.arn, 1))
        .await
        .unwrap();
    let deployment = svc.primary().unwrap().id.clone();
    advance(10).await;
    let page = cloud
        .ecs
        .list_stopped_tasks(CLUSTER, SERVICE, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let d = cloud
        .ecs
        .describe_tasks(CLUSTER, &page.items)
        .await
        .unwrap();
    let task = &d.found[0];
    assert_eq!(task.stop_code.as_deref(), Some("TaskFailedToStart"));
    assert!(
        task.stopped_reason
            .as_deref()
            .unwrap()
            .starts_with("CannotPullContainerError"),
        "{task:?}"
    );
    assert_eq!(task.started_by.as_deref(), Some(deployment.as_str()));
    assert_eq!(task.last_status, "STOPPED");
    assert!(task.stopped_at.is_some());

    // An essential container that exits: its code is on the container.
    let exits = register(&cloud, "api:exits").await;
    cloud
        .ecs
        .update_service(&UpdateService {
            cluster: CLUSTER.into(),
            name: SERVICE.into(),
            task_definition: Some(exits.arn.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    advance(30).await;
    let arns = cloud
        .ecs
        .list_stopped_tasks(CLUSTER, SERVICE, None)
        .await
        .unwrap()
        .items;
    let d = cloud.ecs.describe_tasks(CLUSTER, &arns).await.unwrap();
    let exited = d
        .found
        .iter()
        .find(|t| t.task_definition == exits.arn)
        .expect("a task of the new revision stopped");
    assert_eq!(
        exited.stop_code.as_deref(),
        Some("EssentialContainerExited")
    );
    assert_eq!(exited.containers[0].exit_code, Some(3));

    // Kept an hour, as ECS keeps them at least that long; gone after.
    let service = cloud
        .ecs
        .update_service(&UpdateService {
            cluster: CLUSTER.into(),
            name: SERVICE.into(),
            desired_count: Some(0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(service.desired_count, 0);
    advance(60 * 60 - 30).await; // an hour after the first crash (at 10 s)
    let first = &page.items[0];
    let left = cloud
        .ecs
        .list_stopped_tasks(CLUSTER, SERVICE, None)
        .await
        .unwrap()
        .items;
    assert!(
        !left.contains(first),
        "the first crash was over an hour ago"
    );
    assert!(!left.is_empty(), "later ones are still kept");
}
