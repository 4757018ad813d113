//! The tracker's transition table, and `follow` against the simulator on paused time.

use super::*;
use crate::cloud::model::*;
use crate::cloud::sim::{Sim, SimConfig};
use crate::manifest::Kind;
use crate::manifest::service::{AwsVpcConfiguration, DeploymentCircuitBreaker};
use crate::manifest::task_definition::{Compatibility, ContainerDefinition, NetworkMode};
use crate::manifest::units::{TaskCpu, TaskMemory};

fn td(image: &str) -> TaskDefinition {
    TaskDefinition {
        family: Some("api".into()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(256)),
        memory: Some(TaskMemory(512)),
        container_definitions: vec![ContainerDefinition {
            name: "api".into(),
            image: image.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn observer(sim: &Sim) -> Observer {
    Observer::new(sim.cloud())
}

/// A service running `api:good` to completion, then updated to `image`.
async fn updated_to(sim: &Sim, image: &str, rollback: bool) -> (ResourceKey, String) {
    let cloud = sim.cloud();
    cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: "shop".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let good = cloud
        .ecs
        .register_task_definition(&td("api:good"), &Tags::new())
        .await
        .unwrap();
    cloud
        .ecs
        .create_service(&CreateService {
            cluster: "shop".into(),
            name: "api".into(),
            task_definition: good.arn.clone(),
            desired_count: Some(2),
            launch_type: Some(LaunchType::Fargate),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-a".into()],
                    security_groups: vec![],
                    assign_public_ip: None,
                },
            }),
            deployment_configuration: Some(DeploymentConfiguration {
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: true,
                    rollback,
                }),
                ..Default::default()
            }),
            client_token: "t".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = ResourceKey {
        kind: Kind::Service,
        cluster: Some("shop".into()),
        name: "api".into(),
    };
    let first = follow(
        &observer(sim),
        &[(key.clone(), Tracker::new(good.arn.clone(), false))],
        Duration::from_secs(600),
        Duration::from_secs(5),
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(first[0].1.is_success(), "{:?}", first[0].1);
    let next = cloud
        .ecs
        .register_task_definition(&td(image), &Tags::new())
        .await
        .unwrap();
    cloud
        .ecs
        .update_service(&UpdateService {
            cluster: "shop".into(),
            name: "api".into(),
            task_definition: Some(next.arn.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    (key, next.arn)
}

fn sim() -> Sim {
    Sim::new(SimConfig {
        crashing_images: vec!["crash".into()],
        throttling: false,
        ..SimConfig::default()
    })
}

/// The final status of one rollout, polled every 5 s for at most `limit_secs`.
async fn outcome(sim: &Sim, target: (ResourceKey, String), limit_secs: u64) -> RolloutStatus {
    let limit = Duration::from_secs(limit_secs);
    let out = follow(
        &observer(sim),
        &[(target.0.clone(), Tracker::new(target.1.clone(), false))],
        limit,
        Duration::from_secs(5),
        |_, _| {},
    )
    .await;
    out.unwrap().remove(0).1
}

#[tokio::test(start_paused = true)]
async fn a_good_image_completes() {
    let sim = sim();
    let target = updated_to(&sim, "api:v2", true).await;
    let mut seen = Vec::new();
    let out = follow(
        &observer(&sim),
        &[(target.0.clone(), Tracker::new(target.1.clone(), false))],
        Duration::from_secs(600),
        Duration::from_secs(5),
        |_, s| seen.push(s.to_string()),
    )
    .await
    .unwrap();
    assert!(out[0].1.is_success(), "{:?}", out[0].1);
    assert!(
        seen.len() >= 2,
        "progress was reported before completion: {seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_crash_loop_with_rollback_is_reported_as_rolled_back() {
    let sim = sim();
    let target = updated_to(&sim, "api:crash", true).await;
    let status = outcome(&sim, target, 3600).await;
    assert!(
        matches!(&status, RolloutStatus::RolledBack { to } if to.ends_with("api:1")),
        "{status:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_crash_loop_without_rollback_is_reported_as_failed() {
    let sim = sim();
    let target = updated_to(&sim, "api:crash", false).await;
    let status = outcome(&sim, target, 3600).await;
    assert!(matches!(status, RolloutStatus::Failed { .. }), "{status:?}");
}

#[tokio::test(start_paused = true)]
async fn a_rollout_still_going_at_the_timeout_stays_progressing() {
    let sim = sim();
    let target = updated_to(&sim, "api:v2", true).await;
    let out = follow(
        &observer(&sim),
        &[(target.0.clone(), Tracker::new(target.1.clone(), false))],
        Duration::from_secs(2),
        Duration::from_secs(1),
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(
        matches!(out[0].1, RolloutStatus::Progressing { .. }),
        "{:?}",
        out[0].1
    );
}

fn deployment(
    revision: &str,
    running: u32,
    failed: u32,
    state: Option<RolloutState>,
) -> Deployment {
    Deployment {
        id: "ecs-svc/1".into(),
        status: "PRIMARY".into(),
        task_definition: revision.into(),
        desired_count: 2,
        running_count: running,
        failed_tasks: failed,
        rollout_state: state,
        rollout_state_reason: state
            .filter(|s| *s == RolloutState::Failed)
            .map(|_| "tasks failed to start".into()),
        pending_count: 0,
        created_at: None,
        updated_at: None,
    }
}

fn live(deployments: Vec<Deployment>) -> Option<Service> {
    Some(Service {
        name: "api".into(),
        status: "ACTIVE".into(),
        desired_count: 2,
        task_definition: deployments[0].task_definition.clone(),
        deployments,
        ..Default::default()
    })
}

/// A task that failed to start, for this reason.
fn failed(reason: &str) -> Stopped {
    Stopped {
        stop_code: Some("TaskFailedToStart".into()),
        stopped_reason: reason.into(),
        exit_codes: vec![],
    }
}

const CONTROLLER: Policy = Policy {
    crash_loop_threshold: Some(3),
    timeout: Duration::from_secs(600),
    check_targets: true,
};

/// One row: the tracker (`rollback`, age in seconds), what was read, the verdict expected.
struct Row {
    name: &'static str,
    rollback: bool,
    age: u64,
    seen: Seen,
    verdict: Verdict,
}

#[test]
fn the_tracker_step_gives_each_verdict_from_what_was_read() {
    use RolloutState::{Completed, Failed, InProgress};
    let old = "arn:td/api:1";
    let new = "arn:td/api:2";
    let seen = |service, targets_healthy| Seen {
        service,
        targets_healthy,
        stopped: Vec::new(),
        deployment: None,
    };
    let rows = [
        Row {
            name: "completed with healthy targets",
            rollback: false,
            age: 60,
            seen: seen(
                live(vec![deployment(new, 2, 0, Some(Completed))]),
                Some(true),
            ),
            verdict: Verdict::Completed { running: 2 },
        },
        Row {
            name: "completed, targets unhealthy",
            rollback: false,
            age: 60,
            seen: seen(
                live(vec![deployment(new, 2, 0, Some(Completed))]),
                Some(false),
            ),
            verdict: Verdict::WaitingForTargets { running: 2 },
        },
        Row {
            name: "completed, targets not read yet",
            rollback: false,
            age: 60,
            seen: seen(live(vec![deployment(new, 2, 0, Some(Completed))]), None),
            verdict: Verdict::WaitingForTargets { running: 2 },
        },
        Row {
            name: "completed but the old deployment still runs tasks",
            rollback: false,
            age: 60,
            seen: seen(
                live(vec![
                    deployment(new, 2, 0, Some(Completed)),
                    Deployment {
                        status: "ACTIVE".into(),
                        ..deployment(old, 1, 0, Some(Completed))
                    },
                ]),
                None,
            ),
            verdict: Verdict::Progressing {
                status: RolloutStatus::Progressing {
                    running: 2,
                    desired: 2,
                    failed: 0,
                },
                late: false,
            },
        },
        Row {
            name: "ECS marked it failed",
            rollback: false,
            age: 60,
            seen: seen(live(vec![deployment(new, 0, 2, Some(Failed))]), None),
            verdict: Verdict::Failed {
                reason: "tasks failed to start".into(),
            },
        },
        Row {
            name: "circuit breaker rolled it back",
            rollback: false,
            age: 60,
            seen: seen(live(vec![deployment(old, 2, 0, Some(Completed))]), None),
            verdict: Verdict::RolledBack {
                to: old.into(),
                cause: None,
            },
        },
        Row {
            name: "crash loop: 3 stopped tasks reach the threshold",
            rollback: false,
            age: 60,
            seen: seen(live(vec![deployment(new, 0, 3, Some(InProgress))]), None),
            verdict: Verdict::CrashLoop {
                failed: 3,
                cause: None,
            },
        },
        Row {
            name: "2 stopped tasks are not a crash loop yet",
            rollback: false,
            age: 60,
            seen: seen(live(vec![deployment(new, 1, 2, Some(InProgress))]), None),
            verdict: Verdict::Progressing {
                status: RolloutStatus::Progressing {
                    running: 1,
                    desired: 2,
                    failed: 2,
                },
                late: false,
            },
        },
        Row {
            name: "the operator's own rollback is not rolled back again",
            rollback: true,
            age: 60,
            seen: seen(live(vec![deployment(new, 0, 5, Some(InProgress))]), None),
            verdict: Verdict::Progressing {
                status: RolloutStatus::Progressing {
                    running: 0,
                    desired: 2,
                    failed: 5,
                },
                late: false,
            },
        },
        Row {
            name: "timeout: still progressing after 10 minutes is late",
            rollback: false,
            age: 601,
            seen: seen(live(vec![deployment(new, 1, 0, Some(InProgress))]), None),
            verdict: Verdict::Progressing {
                status: RolloutStatus::Progressing {
                    running: 1,
                    desired: 2,
                    failed: 0,
                },
                late: true,
            },
        },
        Row {
            name: "the service is gone",
            rollback: false,
            age: 60,
            seen: seen(None, None),
            verdict: Verdict::Missing,
        },
    ];
    let now = Instant::now();
    for row in rows {
        let tracker = Tracker {
            revision: new.into(),
            started: now - Duration::from_secs(row.age),
            rollback: row.rollback,
            cause: None,
            deployment: None,
            stage: None,
        };
        let (next, verdict) = step(tracker.clone(), &row.seen, &CONTROLLER, now);
        assert_eq!(verdict, row.verdict, "{}", row.name);
        // Following goes on exactly while the verdict is not final, with the same state (but
        // for the cause of failures it read, which it keeps).
        let expected = (!row.verdict.is_final()).then_some(Tracker {
            cause: row.seen.cause().or(tracker.cause.clone()),
            ..tracker
        });
        assert_eq!(next, expected, "{}", row.name);
    }
}

#[test]
fn without_a_threshold_or_a_target_check_only_ecs_ends_a_rollout() {
    let policy = Policy {
        crash_loop_threshold: None,
        timeout: Duration::from_secs(60),
        check_targets: false,
    };
    let now = Instant::now();
    let tracker = Tracker {
        revision: "arn:td/api:2".into(),
        started: now,
        rollback: false,
        cause: None,
        deployment: None,
        stage: None,
    };
    let crashing = Seen {
        service: live(vec![deployment(
            "arn:td/api:2",
            0,
            9,
            Some(RolloutState::InProgress),
        )]),
        targets_healthy: None,
        stopped: Vec::new(),
        deployment: None,
    };
    let (next, verdict) = step(tracker.clone(), &crashing, &policy, now);
    assert!(
        next.is_some() && matches!(verdict, Verdict::Progressing { .. }),
        "{verdict:?}"
    );
    let done = Seen {
        service: live(vec![deployment(
            "arn:td/api:2",
            2,
            0,
            Some(RolloutState::Completed),
        )]),
        targets_healthy: None,
        stopped: Vec::new(),
        deployment: None,
    };
    let (next, verdict) = step(tracker, &done, &policy, now);
    assert_eq!((next, verdict), (None, Verdict::Completed { running: 2 }));
}

#[test]
fn failures_are_counted_from_the_stopped_tasks_and_the_newest_names_the_cause() {
    let now = Instant::now();
    let tracker = Tracker {
        revision: "arn:td/api:2".into(),
        started: now,
        rollback: false,
        cause: None,
        deployment: None,
        stage: None,
    };
    let scaled_in = Stopped {
        stop_code: Some("ServiceSchedulerInitiated".into()),
        stopped_reason: "Scaling activity initiated by (deployment ecs-svc/1)".into(),
        exit_codes: vec![],
    };
    // DescribeServices counts 1 failed task; the stopped tasks show 3 (and one scaled in).
    let seen = Seen {
        service: live(vec![deployment(
            "arn:td/api:2",
            0,
            1,
            Some(RolloutState::InProgress),
        )]),
        targets_healthy: None,
        stopped: vec![
            failed("CannotPullContainerError: pull image manifest has been retried"),
            scaled_in.clone(),
            failed("CannotPullContainerError: ref not found"),
            failed("ResourceInitializationError: unable to retrieve secret from asm"),
        ],
        deployment: None,
    };
    let (next, verdict) = step(tracker.clone(), &seen, &CONTROLLER, now);
    assert_eq!(next, None);
    let Verdict::CrashLoop {
        failed: 3,
        cause: Some(cause),
    } = &verdict
    else {
        panic!("{verdict:?}");
    };
    assert_eq!(cause.reason, StopReason::ImagePull);
    assert!(
        verdict
            .status()
            .to_string()
            .contains("crash loop: 3 tasks failed; CannotPullContainerError: the execution role needs ECR pull"),
        "{}",
        verdict.status()
    );
    // Tasks the scheduler stopped are no failures.
    let quiet = Seen {
        deployment: None,
        stopped: vec![scaled_in.clone(), scaled_in.clone(), scaled_in],
        ..seen
    };
    let (_, verdict) = step(tracker, &quiet, &CONTROLLER, now);
    assert!(
        matches!(verdict, Verdict::Progressing { .. }),
        "{verdict:?}"
    );
}

#[test]
fn a_rollback_by_ecs_names_the_cause_read_before_it() {
    let now = Instant::now();
    let tracker = Tracker::new("arn:td/api:2", false);
    let pull = failed("CannotPullContainerError: ref not found");
    // Two failed tasks: below the threshold, still progressing; the cause is kept.
    let failing = Seen {
        service: live(vec![deployment(
            "arn:td/api:2",
            0,
            2,
            Some(RolloutState::InProgress),
        )]),
        targets_healthy: None,
        deployment: None,
        stopped: vec![pull.clone(), pull],
    };
    let (next, verdict) = step(tracker, &failing, &CONTROLLER, now);
    assert!(
        matches!(verdict, Verdict::Progressing { .. }),
        "{verdict:?}"
    );
    let next = next.expect("still followed");
    assert_eq!(
        next.cause.as_ref().map(|c| c.reason),
        Some(StopReason::ImagePull)
    );
    // Then ECS's circuit breaker rolls back: the failed deployment's tasks are not read any
    // more, and the verdict still says why.
    let rolled_back = Seen {
        service: live(vec![deployment(
            "arn:td/api:1",
            2,
            0,
            Some(RolloutState::Completed),
        )]),
        targets_healthy: None,
        deployment: None,
        stopped: Vec::new(),
    };
    let (next, verdict) = step(next, &rolled_back, &CONTROLLER, now);
    assert_eq!(next, None);
    let Verdict::RolledBack {
        to,
        cause: Some(cause),
    } = verdict
    else {
        panic!("{verdict:?}");
    };
    assert_eq!(to, "arn:td/api:1");
    assert!(
        cause.text.starts_with("CannotPullContainerError"),
        "{}",
        cause.text
    );
}

// ---------------------------------------------------------------------------------------------
// Judged by its own service deployment (issue 13)

mod by_deployment {
    use super::*;
    use crate::cloud::model::{
        DeploymentConfiguration, DeploymentStrategy, LifecycleStage, ServiceDeployment,
        ServiceDeploymentStatus,
    };

    const OURS: &str = "arn:aws:ecs:us-east-1:1:service-deployment/shop/api/ours";
    const THEIRS: &str = "arn:aws:ecs:us-east-1:1:service-deployment/shop/api/theirs";

    fn ours(
        strategy: DeploymentStrategy,
        status: ServiceDeploymentStatus,
        stage: Option<LifecycleStage>,
    ) -> ServiceDeployment {
        ServiceDeployment {
            arn: OURS.into(),
            status: Some(status),
            status_reason: Some("the reason".into()),
            lifecycle_stage: stage,
            strategy: Some(strategy),
            bake_time_in_minutes: Some(10),
            ..Default::default()
        }
    }

    /// `api` with its PRIMARY (`revision`, 2 running, `failed` failed, in progress), of
    /// `strategy`, currently deploying `current`.
    fn service(
        revision: &str,
        failed: u32,
        strategy: DeploymentStrategy,
        current: &str,
    ) -> Service {
        let mut s = live(vec![deployment(
            revision,
            2,
            failed,
            Some(RolloutState::InProgress),
        )])
        .unwrap();
        s.deployment_configuration = Some(DeploymentConfiguration {
            strategy: Some(strategy),
            ..Default::default()
        });
        s.current_service_deployment = Some(current.into());
        s
    }

    fn seen(service: Service, d: ServiceDeployment) -> Seen {
        Seen {
            service: Some(service),
            deployment: Some(d),
            ..Default::default()
        }
    }

    #[test]
    fn a_native_stage_is_progressing_with_its_time_in_stage_and_never_a_crash_loop() {
        use DeploymentStrategy::BlueGreen;
        let tracker = Tracker::new("arn:td/api:2", false).with_deployment(Some(OURS.into()));
        let t0 = Instant::now();
        let baking = seen(
            service("arn:td/api:2", 5, BlueGreen, OURS),
            ours(
                BlueGreen,
                ServiceDeploymentStatus::InProgress,
                Some(LifecycleStage::BakeTime),
            ),
        );
        let (next, verdict) = step(tracker, &baking, &CONTROLLER, t0);
        let next = next.expect("still followed");
        assert!(matches!(verdict, Verdict::Stage { .. }), "{verdict:?}");
        let (next, verdict) = step(next, &baking, &CONTROLLER, t0 + Duration::from_secs(190));
        let Verdict::Stage { stage, late, .. } = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(stage.to_string(), "BLUE_GREEN: BAKE_TIME, 3 of 10 min");
        assert!(!late);
        assert!(next.is_some());
    }

    #[test]
    fn ecs_rolling_a_native_deployment_back_is_degraded_then_rolled_back() {
        use DeploymentStrategy::Canary;
        let tracker = Tracker::new("arn:td/api:2", false).with_deployment(Some(OURS.into()));
        let now = Instant::now();
        let rolling_back = seen(
            service("arn:td/api:2", 0, Canary, OURS),
            ours(Canary, ServiceDeploymentStatus::RollbackInProgress, None),
        );
        let (next, verdict) = step(tracker, &rolling_back, &CONTROLLER, now);
        assert_eq!(
            verdict,
            Verdict::RollingBack {
                reason: "the reason".into()
            }
        );
        let done = seen(
            service("arn:td/api:1", 0, Canary, OURS),
            ours(Canary, ServiceDeploymentStatus::RollbackSuccessful, None),
        );
        let (next, verdict) = step(next.unwrap(), &done, &CONTROLLER, now);
        assert_eq!(next, None);
        assert_eq!(
            verdict,
            Verdict::DeploymentRolledBack {
                to: "arn:td/api:1".into(),
                reason: "the reason".into()
            }
        );
    }

    #[test]
    fn a_deployment_stopped_by_another_is_superseded_not_rolled_back() {
        // Without the deployment, the PRIMARY running another revision reads as a rollback.
        let tracker = Tracker::new("arn:td/api:2", false);
        let other = service("arn:td/api:3", 0, DeploymentStrategy::Rolling, THEIRS);
        let blind = Seen {
            service: Some(other.clone()),
            ..Default::default()
        };
        let (_, verdict) = step(tracker.clone(), &blind, &CONTROLLER, Instant::now());
        assert!(matches!(verdict, Verdict::RolledBack { .. }), "{verdict:?}");
        let stopped = seen(
            other,
            ours(
                DeploymentStrategy::Rolling,
                ServiceDeploymentStatus::Stopped,
                None,
            ),
        );
        let (next, verdict) = step(tracker, &stopped, &CONTROLLER, Instant::now());
        assert_eq!(next, None);
        assert_eq!(
            verdict,
            Verdict::Superseded {
                by: Some(THEIRS.into())
            }
        );
    }

    #[test]
    fn a_rolling_deployment_in_progress_is_judged_by_its_tasks_as_before() {
        use DeploymentStrategy::Rolling;
        let tracker = Tracker::new("arn:td/api:2", false).with_deployment(Some(OURS.into()));
        let crashing = seen(
            service("arn:td/api:2", 3, Rolling, OURS),
            ours(Rolling, ServiceDeploymentStatus::InProgress, None),
        );
        let (_, verdict) = step(tracker, &crashing, &CONTROLLER, Instant::now());
        assert!(
            matches!(verdict, Verdict::CrashLoop { failed: 3, .. }),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_tracker_without_its_arn_takes_the_one_it_read() {
        let tracker = Tracker::new("arn:td/api:2", false);
        let s = seen(
            service("arn:td/api:2", 0, DeploymentStrategy::Rolling, OURS),
            ours(
                DeploymentStrategy::Rolling,
                ServiceDeploymentStatus::InProgress,
                None,
            ),
        );
        let (next, _) = step(tracker, &s, &CONTROLLER, Instant::now());
        assert_eq!(next.unwrap().deployment.as_deref(), Some(OURS));
    }
}
