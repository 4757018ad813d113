//! Tests of the simulator through the [`Ecs`] and [`Elbv2`] traits, on paused tokio time:
//! every test drives virtual time with `tokio::time::advance` and never sleeps for real.
//!
//! - `scheduler`: desired counts, rolling updates within min/max percent, rollout states,
//!   the circuit breaker with and without rollback, the restart throttle, determinism.
//! - `targets`: target registration, initial -> healthy, draining on scale-in.
//! - `api`: AWS errors, batch limits, idempotency, paging, the defaults ECS and ELBv2 fill in.
//! - `limits`: throttling buckets, injected faults, call counters.
//! - `persistence`: saving the account and loading it into a new simulator.

use std::time::Duration;

use super::{Sim, SimConfig};
use crate::cloud::Cloud;
use crate::cloud::model::{
    CreateCluster, CreateService, CreateTargetGroup, RegisteredTaskDefinition, Service,
    ServiceLoadBalancer, TargetGroup, TargetGroupProtocol, TargetType, TaskDefinition,
    UpdateService,
};
use crate::manifest::service::{
    AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType,
    NetworkConfiguration,
};
use crate::manifest::task_definition::{
    Compatibility, ContainerDefinition, NetworkMode, PortMapping,
};
use crate::manifest::units::{TaskCpu, TaskMemory};

mod api;
mod deployments;
mod limits;
mod persistence;
mod scheduler;
mod targets;

/// The cluster every test uses.
const CLUSTER: &str = "shop";
/// The service every test uses.
const SERVICE: &str = "api";
/// The image the crashing tests mark as broken.
const BROKEN: &str = "api:broken";

/// Settings without throttling (the `limits` tests turn it on).
fn config() -> SimConfig {
    SimConfig {
        throttling: false,
        crashing_images: vec![BROKEN.to_string()],
        ..SimConfig::default()
    }
}

/// A simulator with the `shop` cluster.
async fn account(config: SimConfig) -> (Sim, Cloud) {
    let sim = Sim::new(config);
    let cloud = sim.cloud();
    cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: CLUSTER.into(),
            ..Default::default()
        })
        .await
        .expect("create cluster");
    (sim, cloud)
}

/// A Fargate task definition of family `api` with one container listening on 8000.
fn task_definition(image: &str) -> TaskDefinition {
    TaskDefinition {
        family: Some(SERVICE.into()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(256)),
        memory: Some(TaskMemory(512)),
        container_definitions: vec![ContainerDefinition {
            name: "api".into(),
            image: image.into(),
            port_mappings: vec![PortMapping {
                name: None,
                container_port: Some(8000),
                host_port: None,
                protocol: None,
                app_protocol: None,
                container_port_range: None,
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Registers a revision of `api` running `image`.
async fn register(cloud: &Cloud, image: &str) -> RegisteredTaskDefinition {
    cloud
        .ecs
        .register_task_definition(&task_definition(image), &Default::default())
        .await
        .expect("register task definition")
}

/// Deployment settings.
fn deployment(min: u32, max: u32, breaker: Option<(bool, bool)>) -> DeploymentConfiguration {
    DeploymentConfiguration {
        minimum_healthy_percent: Some(min),
        maximum_percent: Some(max),
        deployment_circuit_breaker: breaker
            .map(|(enable, rollback)| DeploymentCircuitBreaker { enable, rollback }),
        alarms: None,
        ..Default::default()
    }
}

/// CreateService of `api` in `shop` on Fargate.
fn create_input(task_definition: &str, desired: u32) -> CreateService {
    CreateService {
        cluster: CLUSTER.into(),
        name: SERVICE.into(),
        task_definition: task_definition.into(),
        desired_count: Some(desired),
        launch_type: Some(LaunchType::Fargate),
        network_configuration: Some(NetworkConfiguration {
            awsvpc_configuration: AwsVpcConfiguration {
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                security_groups: vec!["sg-api".into()],
                assign_public_ip: None,
            },
        }),
        client_token: "token-1".into(),
        ..Default::default()
    }
}

/// UpdateService of `api` to another task definition.
fn update_to(task_definition: &str) -> UpdateService {
    UpdateService {
        cluster: CLUSTER.into(),
        name: SERVICE.into(),
        task_definition: Some(task_definition.into()),
        ..Default::default()
    }
}

/// An HTTP target group of IP targets on port 8000.
fn target_group_input(name: &str) -> CreateTargetGroup {
    CreateTargetGroup {
        name: name.into(),
        protocol: Some(TargetGroupProtocol::Http),
        port: Some(8000),
        vpc_id: Some("vpc-0abc".into()),
        target_type: Some(TargetType::Ip),
        ..Default::default()
    }
}

/// Creates the target group `name`.
async fn target_group(cloud: &Cloud, name: &str) -> TargetGroup {
    cloud
        .elbv2
        .create_target_group(&target_group_input(name))
        .await
        .expect("create target group")
}

/// The service `api` attached to a target group on container `api` port 8000.
fn with_target_group(mut input: CreateService, target_group_arn: &str) -> CreateService {
    input.load_balancers = vec![ServiceLoadBalancer {
        target_group_arn: target_group_arn.into(),
        container_name: "api".into(),
        container_port: 8000,
        advanced_configuration: None,
    }];
    input
}

/// DescribeServices of `api`.
async fn describe(cloud: &Cloud) -> Service {
    let mut d = cloud
        .ecs
        .describe_services(CLUSTER, &[SERVICE.to_string()])
        .await
        .expect("describe services");
    assert_eq!(d.missing, Vec::<String>::new());
    d.found.pop().expect("the service")
}

/// Moves virtual time forward.
async fn advance(seconds: u64) {
    tokio::time::advance(Duration::from_secs(seconds)).await;
}
