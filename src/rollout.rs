//! Following a service's rollout after a change: the PRIMARY deployment must run the revision
//! the operator set and complete; a FAILED rollout or a PRIMARY running another revision (ECS's
//! circuit breaker rolled it back) is a failure.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::cloud::model::{RolloutState, Service};
use crate::cloud::{Cloud, CloudError};
use crate::manifest::ResourceKey;

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutStatus {
    /// Still replacing tasks.
    Progressing {
        /// Tasks of the PRIMARY deployment running.
        running: u32,
        /// Tasks it wants.
        desired: u32,
        /// Tasks of it that failed.
        failed: u32,
    },
    /// The PRIMARY deployment runs the revision and completed.
    Completed {
        /// Tasks running.
        running: u32,
    },
    /// ECS marked the rollout FAILED.
    Failed {
        /// ECS's reason.
        reason: String,
    },
    /// The PRIMARY deployment runs another revision: ECS rolled the change back.
    RolledBack {
        /// The revision it went back to.
        to: String,
    },
    /// The service is gone.
    Missing,
}

impl RolloutStatus {
    /// True once the rollout will not change any more.
    pub fn is_final(&self) -> bool {
        !matches!(self, RolloutStatus::Progressing { .. })
    }

    /// True for a finished, good rollout.
    pub fn is_success(&self) -> bool {
        matches!(self, RolloutStatus::Completed { .. })
    }
}

impl fmt::Display for RolloutStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolloutStatus::Progressing {
                running,
                desired,
                failed,
            } => {
                write!(f, "{running}/{desired} running, {failed} failed")
            }
            RolloutStatus::Completed { running } => {
                write!(f, "rollout completed ({running} running)")
            }
            RolloutStatus::Failed { reason } => write!(f, "rollout failed: {reason}"),
            RolloutStatus::RolledBack { to } => {
                write!(f, "rolled back by ECS to {to} (circuit breaker)")
            }
            RolloutStatus::Missing => f.write_str("service not found"),
        }
    }
}

/// Assesses a described service against the revision the operator set (empty: any revision).
pub fn assess(service: Option<&Service>, revision: &str) -> RolloutStatus {
    let Some(service) = service else {
        return RolloutStatus::Missing;
    };
    let Some(primary) = service.primary() else {
        return RolloutStatus::Progressing {
            running: service.running_count,
            desired: service.desired_count,
            failed: 0,
        };
    };
    if !revision.is_empty() && primary.task_definition != revision {
        return RolloutStatus::RolledBack {
            to: primary.task_definition.clone(),
        };
    }
    match primary.rollout_state {
        Some(RolloutState::Failed) => RolloutStatus::Failed {
            reason: primary.rollout_state_reason.clone().unwrap_or_default(),
        },
        // Completed, with no older deployment still running tasks.
        Some(RolloutState::Completed)
            if primary.running_count >= primary.desired_count && service.deployments.len() == 1 =>
        {
            RolloutStatus::Completed {
                running: primary.running_count,
            }
        }
        _ => RolloutStatus::Progressing {
            running: primary.running_count,
            desired: primary.desired_count,
            failed: primary.failed_tasks,
        },
    }
}

/// Polls each (service, revision) every `interval` until its rollout is final or `timeout`
/// passes; `on_change` sees each status when it changes. Returns the last status of each (a
/// rollout still progressing at the timeout stays `Progressing`).
pub async fn follow(
    cloud: &Cloud,
    services: &[(ResourceKey, String)],
    timeout: Duration,
    interval: Duration,
    mut on_change: impl FnMut(&ResourceKey, &RolloutStatus),
) -> Result<Vec<(ResourceKey, RolloutStatus)>, CloudError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last: HashMap<&ResourceKey, RolloutStatus> = HashMap::new();
    loop {
        for (key, revision) in services {
            if last.get(key).is_some_and(RolloutStatus::is_final) {
                continue;
            }
            let cluster = key.cluster.clone().unwrap_or_default();
            let d = cloud
                .ecs
                .describe_services(&cluster, std::slice::from_ref(&key.name))
                .await?;
            let status = assess(d.found.first(), revision);
            if last.get(key) != Some(&status) {
                on_change(key, &status);
                last.insert(key, status);
            }
        }
        let done = last.values().all(RolloutStatus::is_final) && last.len() == services.len();
        if done || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    Ok(services
        .iter()
        .map(|(k, _)| (k.clone(), last.remove(k).unwrap_or(RolloutStatus::Missing)))
        .collect())
}

#[cfg(test)]
mod tests {
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
            &cloud,
            &[(key.clone(), good.arn.clone())],
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
        let (cloud, limit) = (sim.cloud(), Duration::from_secs(limit_secs));
        let out = follow(&cloud, &[target], limit, Duration::from_secs(5), |_, _| {}).await;
        out.unwrap().remove(0).1
    }

    #[tokio::test(start_paused = true)]
    async fn a_good_image_completes() {
        let sim = sim();
        let target = updated_to(&sim, "api:v2", true).await;
        let mut seen = Vec::new();
        let out = follow(
            &sim.cloud(),
            &[target],
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
            &sim.cloud(),
            &[target],
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
}
