//! What the cloud traits take and return: live ECS and ELBv2 objects in the operator's own
//! types, independent of the AWS SDK. Where ECS and the manifests share a shape (task
//! definitions, network and deployment configuration, health checks) the manifest types are
//! reused, so a described revision and a desired one compare field by field.

use std::collections::BTreeMap;
use std::time::SystemTime;

pub use crate::manifest::cluster::{ClusterConfiguration, ClusterServiceConnectDefaultsRequest};
pub use crate::manifest::service::{
    AdvancedConfiguration, AvailabilityZoneRebalancing, CapacityProviderStrategyItem,
    DeploymentConfiguration, DeploymentControllerType, LaunchType, NetworkConfiguration,
    PlacementConstraint, PlacementStrategy, PropagateTags, SchedulingStrategy,
    ServiceConnectConfiguration, ServiceRegistry, ServiceVolumeConfiguration,
    VpcLatticeConfiguration,
};
pub use crate::manifest::target_group::{
    IpAddressType, ProtocolVersion, TargetGroupHealthCheck, TargetGroupProtocol, TargetType,
};
pub use crate::manifest::task_definition::TaskDefinition;

pub mod service_deployment;
pub use service_deployment::{
    DeploymentStrategy, LifecycleStage, ServiceDeployment, ServiceDeploymentBrief,
    ServiceDeploymentRollback, ServiceDeploymentStatus,
};

/// Tag holding a hash of a resource's normalized desired state (on a task definition revision:
/// its content hash). [`crate::plan`] re-exports it with the operator's other tags.
pub const TAG_SPEC_HASH: &str = "ecs-operator/spec-hash";

/// Resource tags, by key.
pub type Tags = BTreeMap<String, String>;

/// One page of a paginated listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Token of the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// The answer of a batched Describe call that reports missing names instead of failing
/// (DescribeClusters, DescribeServices).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Described<T> {
    /// What exists.
    pub found: Vec<T>,
    /// Names (or ARNs) AWS reported as missing (`failures[].reason == MISSING`).
    pub missing: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// ECS clusters

/// A live ECS cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, `FAILED`, `INACTIVE`.
    pub status: String,
    /// Settings by name (`containerInsights` -> `enabled`).
    pub settings: BTreeMap<String, String>,
    /// Capacity providers associated with the cluster.
    pub capacity_providers: Vec<String>,
    /// Default capacity provider strategy.
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Tags.
    pub tags: Tags,
    /// Services in ACTIVE state.
    pub active_services_count: u32,
    /// Running tasks.
    pub running_tasks_count: u32,
    /// ECS Exec and managed storage configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ClusterConfiguration>,
    /// Service Connect default namespace (its ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_defaults: Option<ClusterServiceConnectDefaultsRequest>,
}

impl Cluster {
    /// Whether the cluster exists: DescribeClusters also returns deleted (INACTIVE) clusters.
    pub fn exists(&self) -> bool {
        self.status != "INACTIVE"
    }
}

/// CreateCluster input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateCluster {
    /// Name.
    pub name: String,
    /// Settings by name.
    pub settings: BTreeMap<String, String>,
    /// Capacity providers.
    pub capacity_providers: Vec<String>,
    /// Default strategy.
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Tags.
    pub tags: Tags,
    /// ECS Exec and managed storage configuration.
    pub configuration: Option<ClusterConfiguration>,
    /// Service Connect default namespace.
    pub service_connect_defaults: Option<ClusterServiceConnectDefaultsRequest>,
}

// ---------------------------------------------------------------------------------------------
// ECS services

/// A target group attachment of a service, as ECS stores it (always by ARN).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceLoadBalancer {
    /// Target group ARN.
    pub target_group_arn: String,
    /// Container that receives the traffic.
    pub container_name: String,
    /// Its port.
    pub container_port: u32,
    /// Blue/green: the alternate target group and listener rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configuration: Option<AdvancedConfiguration>,
}

/// Rollout state of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    /// Still replacing tasks.
    InProgress,
    /// Reached steady state.
    Completed,
    /// Stopped by the circuit breaker (or alarms).
    Failed,
}

impl RolloutState {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::InProgress => "IN_PROGRESS",
            RolloutState::Completed => "COMPLETED",
            RolloutState::Failed => "FAILED",
        }
    }
}

/// One deployment of a service (`deployments[]` of DescribeServices).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deployment {
    /// `ecs-svc/...`.
    pub id: String,
    /// `PRIMARY` (the newest), `ACTIVE` (older ones still running tasks) or `INACTIVE`.
    pub status: String,
    /// Task definition ARN of this deployment.
    pub task_definition: String,
    /// Tasks this deployment wants.
    pub desired_count: u32,
    /// Tasks RUNNING.
    pub running_count: u32,
    /// Tasks PENDING.
    pub pending_count: u32,
    /// Tasks that failed to start or stopped unexpectedly.
    pub failed_tasks: u32,
    /// Rollout state (ECS deployment controller only).
    pub rollout_state: Option<RolloutState>,
    /// Why the rollout is in that state.
    pub rollout_state_reason: Option<String>,
    /// Creation time.
    pub created_at: Option<SystemTime>,
    /// Last update.
    pub updated_at: Option<SystemTime>,
}

/// A task as DescribeTasks describes it (what the rollout reads of stopped tasks).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// ARN.
    pub arn: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// `PROVISIONING` ... `RUNNING` ... `STOPPED`.
    pub last_status: String,
    /// `RUNNING` or `STOPPED`.
    pub desired_status: String,
    /// Who started it: a service's deployment id (`ecs-svc/...`).
    pub started_by: Option<String>,
    /// Why it stopped, as a code (`TaskFailedToStart`, `EssentialContainerExited`,
    /// `ServiceSchedulerInitiated`, ...).
    pub stop_code: Option<String>,
    /// Why it stopped, in words.
    pub stopped_reason: Option<String>,
    /// Its containers.
    pub containers: Vec<TaskContainer>,
    /// When it stopped.
    pub stopped_at: Option<SystemTime>,
}

/// A container of a described task.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskContainer {
    /// Name.
    pub name: String,
    /// Exit code, once it exited.
    pub exit_code: Option<i32>,
    /// Why it stopped.
    pub reason: Option<String>,
}

/// A service event message (newest first in DescribeServices).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEvent {
    /// Event id.
    pub id: String,
    /// When.
    pub created_at: Option<SystemTime>,
    /// What ECS said.
    pub message: String,
}

/// A live ECS service.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// ARN of its cluster.
    pub cluster_arn: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// Desired tasks.
    pub desired_count: u32,
    /// Running tasks.
    pub running_count: u32,
    /// Pending tasks.
    pub pending_count: u32,
    /// Task definition ARN of the PRIMARY deployment.
    pub task_definition: String,
    /// Launch type (absent with a capacity provider strategy).
    pub launch_type: Option<LaunchType>,
    /// Capacity provider strategy.
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Fargate platform version.
    pub platform_version: Option<String>,
    /// REPLICA or DAEMON.
    pub scheduling_strategy: Option<SchedulingStrategy>,
    /// awsvpc configuration.
    pub network_configuration: Option<NetworkConfiguration>,
    /// Deployment configuration.
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// Deployment controller type.
    pub deployment_controller: Option<DeploymentControllerType>,
    /// Target group attachments.
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Grace period for load balancer health checks.
    pub health_check_grace_period_seconds: Option<u32>,
    /// Placement constraints.
    pub placement_constraints: Vec<PlacementConstraint>,
    /// Placement strategy.
    pub placement_strategy: Vec<PlacementStrategy>,
    /// ECS Exec enabled.
    pub enable_execute_command: bool,
    /// Tag propagation.
    pub propagate_tags: Option<PropagateTags>,
    /// ECS managed tags.
    pub enable_ecs_managed_tags: bool,
    /// Tags (DescribeServices with `include=[TAGS]`).
    pub tags: Tags,
    /// Availability Zone rebalancing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone_rebalancing: Option<AvailabilityZoneRebalancing>,
    /// Cloud Map registries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_registries: Vec<ServiceRegistry>,
    /// IAM role of a classic load balancer attachment (DescribeServices' `roleArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Service Connect (AWS reports it on the PRIMARY deployment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,
    /// Volumes configured at launch (on the PRIMARY deployment in AWS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_configurations: Vec<ServiceVolumeConfiguration>,
    /// VPC Lattice (on the PRIMARY deployment in AWS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_lattice_configurations: Vec<VpcLatticeConfiguration>,
    /// Deployments, PRIMARY first. Not serialized: the simulator keeps deployments in its
    /// own types and fills this in when describing.
    #[serde(skip)]
    pub deployments: Vec<Deployment>,
    /// Recent events, newest first (at most 100 in AWS). Not serialized, like `deployments`.
    #[serde(skip)]
    pub events: Vec<ServiceEvent>,
    /// Creation time.
    pub created_at: Option<SystemTime>,
    /// The ARN of its newest service deployment (`currentServiceDeployment`): in the answer
    /// of the CreateService or UpdateService that started it, the deployment the operator
    /// follows. Absent where the API has none (moto). Not serialized, like `deployments`.
    #[serde(skip)]
    pub current_service_deployment: Option<String>,
}

impl Service {
    /// Whether the service exists: DescribeServices also returns deleted (INACTIVE) services.
    /// A DRAINING service exists (it is being deleted); see [`Service::is_draining`].
    pub fn exists(&self) -> bool {
        self.status != "INACTIVE"
    }

    /// Whether the service is being deleted (DRAINING): it exists, but nothing should change it.
    pub fn is_draining(&self) -> bool {
        self.status == "DRAINING"
    }

    /// The PRIMARY deployment.
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }
}

/// CreateService input.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateService {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name.
    pub name: String,
    /// Task definition ARN (or `family:revision`).
    pub task_definition: String,
    /// Desired tasks; `None` lets ECS default (and auto scaling decide).
    pub desired_count: Option<u32>,
    /// Launch type.
    pub launch_type: Option<LaunchType>,
    /// Capacity provider strategy.
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Platform version.
    pub platform_version: Option<String>,
    /// REPLICA or DAEMON.
    pub scheduling_strategy: Option<SchedulingStrategy>,
    /// awsvpc configuration.
    pub network_configuration: Option<NetworkConfiguration>,
    /// Deployment configuration.
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// Deployment controller.
    pub deployment_controller: Option<DeploymentControllerType>,
    /// Target group attachments.
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Health check grace period.
    pub health_check_grace_period_seconds: Option<u32>,
    /// Placement constraints.
    pub placement_constraints: Vec<PlacementConstraint>,
    /// Placement strategy.
    pub placement_strategy: Vec<PlacementStrategy>,
    /// ECS Exec.
    pub enable_execute_command: Option<bool>,
    /// Tag propagation.
    pub propagate_tags: Option<PropagateTags>,
    /// ECS managed tags.
    pub enable_ecs_managed_tags: Option<bool>,
    /// Tags.
    pub tags: Tags,
    /// Availability Zone rebalancing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone_rebalancing: Option<AvailabilityZoneRebalancing>,
    /// Cloud Map registries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_registries: Vec<ServiceRegistry>,
    /// IAM role of a classic load balancer attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Service Connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,
    /// Volumes configured at launch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_configurations: Vec<ServiceVolumeConfiguration>,
    /// VPC Lattice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_lattice_configurations: Vec<VpcLatticeConfiguration>,
    /// Idempotency token: a retried CreateService with the same token creates one service.
    pub client_token: String,
}

/// UpdateService input: `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateService {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name.
    pub name: String,
    /// New task definition.
    pub task_definition: Option<String>,
    /// New desired count.
    pub desired_count: Option<u32>,
    /// New capacity provider strategy.
    pub capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    /// New platform version.
    pub platform_version: Option<String>,
    /// New network configuration.
    pub network_configuration: Option<NetworkConfiguration>,
    /// New deployment configuration.
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// New target group attachments (`Some(vec![])` removes them all).
    pub load_balancers: Option<Vec<ServiceLoadBalancer>>,
    /// New grace period.
    pub health_check_grace_period_seconds: Option<u32>,
    /// New placement constraints.
    pub placement_constraints: Option<Vec<PlacementConstraint>>,
    /// New placement strategy.
    pub placement_strategy: Option<Vec<PlacementStrategy>>,
    /// ECS Exec.
    pub enable_execute_command: Option<bool>,
    /// Tag propagation.
    pub propagate_tags: Option<PropagateTags>,
    /// ECS managed tags.
    pub enable_ecs_managed_tags: Option<bool>,
    /// New Availability Zone rebalancing.
    pub availability_zone_rebalancing: Option<AvailabilityZoneRebalancing>,
    /// New Cloud Map registries (`Some(vec![])` removes them).
    pub service_registries: Option<Vec<ServiceRegistry>>,
    /// New Service Connect configuration.
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,
    /// New volumes configured at launch.
    pub volume_configurations: Option<Vec<ServiceVolumeConfiguration>>,
    /// New VPC Lattice configurations.
    pub vpc_lattice_configurations: Option<Vec<VpcLatticeConfiguration>>,
    /// Start a new deployment even if nothing changed.
    pub force_new_deployment: bool,
}

// ---------------------------------------------------------------------------------------------
// Task definitions

/// A registered task definition revision.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredTaskDefinition {
    /// `arn:aws:ecs:region:account:task-definition/family:revision`.
    pub arn: String,
    /// Family.
    pub family: String,
    /// Revision number, from 1.
    pub revision: u32,
    /// `ACTIVE` or `INACTIVE` (deregistered).
    pub status: String,
    /// The definition as ECS stores it (with the defaults ECS fills in).
    pub definition: TaskDefinition,
    /// Tags (DescribeTaskDefinition with `include=[TAGS]`).
    pub tags: Tags,
    /// Registration time.
    pub registered_at: Option<SystemTime>,
}

/// The tags a registration of `definition` gives the revision: the definition's own `tags` and
/// `tags` (which win on a shared key). Both backends register with these; a described
/// definition carries no tags of its own (they are in [`RegisteredTaskDefinition::tags`]).
pub fn registration_tags(definition: &TaskDefinition, tags: &Tags) -> Tags {
    let mut all: Tags = definition
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.0.clone()))
        .collect();
    all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

// ---------------------------------------------------------------------------------------------
// ELBv2 target groups

/// A live target group.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroup {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Protocol.
    pub protocol: Option<TargetGroupProtocol>,
    /// HTTP protocol version.
    pub protocol_version: Option<ProtocolVersion>,
    /// Port.
    pub port: Option<u32>,
    /// VPC.
    pub vpc_id: Option<String>,
    /// Target type.
    pub target_type: Option<TargetType>,
    /// IP address type.
    pub ip_address_type: Option<IpAddressType>,
    /// Health check, every field as AWS reports it.
    pub health_check: TargetGroupHealthCheck,
    /// Load balancers forwarding to it.
    pub load_balancer_arns: Vec<String>,
    /// Target optimizer control port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_control_port: Option<u32>,
}

/// CreateTargetGroup input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateTargetGroup {
    /// Name (at most 32 characters).
    pub name: String,
    /// Protocol.
    pub protocol: Option<TargetGroupProtocol>,
    /// HTTP protocol version.
    pub protocol_version: Option<ProtocolVersion>,
    /// Port.
    pub port: Option<u32>,
    /// VPC.
    pub vpc_id: Option<String>,
    /// Target type.
    pub target_type: Option<TargetType>,
    /// IP address type.
    pub ip_address_type: Option<IpAddressType>,
    /// Health check settings (unset fields take ELBv2 defaults).
    pub health_check: TargetGroupHealthCheck,
    /// Target optimizer control port.
    pub target_control_port: Option<u32>,
    /// Tags.
    pub tags: Tags,
}

/// Health of a registered target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetHealthState {
    /// Registration in progress / first health checks.
    Initial,
    /// Passing health checks.
    Healthy,
    /// Failing health checks.
    Unhealthy,
    /// Not used by any load balancer or AZ.
    Unused,
    /// Deregistering.
    Draining,
    /// Health checks disabled.
    Unavailable,
}

/// One target and its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    /// Target id (IP address or instance id).
    pub id: String,
    /// Port.
    pub port: Option<u32>,
    /// State.
    pub state: TargetHealthState,
    /// Reason code when not healthy (`Target.FailedHealthChecks`, ...).
    pub reason: Option<String>,
}

// Application Auto Scaling (a Service's spec.autoScaling).
pub mod scaling;
// ---------------------------------------------------------------------------------------------
// ELBv2 load balancers, listeners and listener rules (the load balancers and listeners are only
// read: they are managed elsewhere)

pub use crate::manifest::listener_rule::{RuleAction, RuleCondition};

/// A live load balancer, as far as the operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `application`, `network`, `gateway`.
    pub kind: String,
}

/// A live listener, as far as the operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// ARN.
    pub arn: String,
    /// Its load balancer's ARN.
    pub load_balancer_arn: String,
    /// Port.
    pub port: u32,
    /// `HTTP`, `HTTPS`, ...
    pub protocol: String,
}

/// A live listener rule, as DescribeRules answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// ARN.
    pub arn: String,
    /// Its listener's ARN (from the call that read it).
    pub listener_arn: String,
    /// Priority; `None` for the listener's default rule.
    pub priority: Option<u32>,
    /// Conditions, as described.
    pub conditions: Vec<RuleCondition>,
    /// Actions, as described.
    pub actions: Vec<RuleAction>,
    /// The listener's default rule (its default actions).
    pub is_default: bool,
}

/// CreateRule input (target groups by ARN).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateRule {
    /// The listener.
    pub listener_arn: String,
    /// Priority, 1 to 50000.
    pub priority: u32,
    /// Conditions.
    pub conditions: Vec<RuleCondition>,
    /// Actions.
    pub actions: Vec<RuleAction>,
    /// Tags.
    pub tags: Tags,
}
