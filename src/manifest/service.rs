//! The `Service` kind: an ECS service (CreateService/UpdateService field names) with its task
//! definition inline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shorthand::Tags;
use super::task_definition::TaskDefinition;

pub use super::generated::{
    AdvancedConfiguration, AvailabilityZoneRebalancing, CanaryConfiguration, DeploymentAlarms,
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentLifecycleHook,
    DeploymentLifecycleHookStage, DeploymentStrategy, LinearConfiguration, PropagateTags,
    ServiceConnectConfiguration, ServiceRegistry, ServiceVolumeConfiguration,
    VpcLatticeConfiguration,
};

/// `spec` of a Service manifest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The ECS cluster name. It may be declared by a Cluster manifest or managed elsewhere.
    pub cluster: String,
    /// Accepted so CreateService JSON can be pasted as `spec`: it must be `metadata.name` (a
    /// warning says it is redundant; another name is an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Tasks to keep running. Omitted: left to auto scaling (never changed by the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<u32>,
    /// `FARGATE`, `EC2`, `EXTERNAL` or `MANAGED_INSTANCES`; exclusive with
    /// capacityProviderStrategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<LaunchType>,
    /// Capacity providers (`FARGATE`, `FARGATE_SPOT`, or an Auto Scaling group provider).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Fargate platform version (ECS default `LATEST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
    /// `REPLICA` (default) or `DAEMON`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_strategy: Option<SchedulingStrategy>,
    /// The task definition, inline (its family defaults to `metadata.name`), or a registered
    /// revision named as CreateService names it: `family:revision`, `family` (its latest
    /// ACTIVE revision) or an ARN. A named revision is run as it is; the operator registers
    /// none.
    #[serde(
        deserialize_with = "super::task_definition::inline_or_registered",
        serialize_with = "super::task_definition::serialize_inline_or_registered"
    )]
    #[schemars(with = "super::task_definition::InlineOrRegistered")]
    pub task_definition: TaskDefinition,
    /// Subnets, security groups and public IP for awsvpc tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
    /// Rolling update bounds and the circuit breaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// Only `ECS` (rolling update) is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_controller: Option<DeploymentController>,
    /// Target groups the tasks register in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers: Vec<LoadBalancer>,
    /// Seconds ECS ignores failing load balancer health checks after a task starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_grace_period_seconds: Option<u32>,
    /// Task placement strategy (EC2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placement_strategy: Vec<PlacementStrategy>,
    /// Task placement constraints (EC2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placement_constraints: Vec<PlacementConstraint>,
    /// Allow `aws ecs execute-command` into tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,
    /// Copy tags to tasks from `SERVICE` or `TASK_DEFINITION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate_tags: Option<PropagateTags>,
    /// Let ECS add its own `aws:ecs:*` tags to tasks.
    #[serde(rename = "enableECSManagedTags")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ecs_managed_tags: Option<bool>,
    /// Service tags (list or map).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// `ENABLED` (ECS's default) or `DISABLED`: ECS moves tasks to even out Availability Zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone_rebalancing: Option<AvailabilityZoneRebalancing>,
    /// Cloud Map service discovery registries.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::null::or_default"
    )]
    #[schemars(with = "Option<Vec<ServiceRegistry>>")]
    pub service_registries: Vec<ServiceRegistry>,
    /// IAM role for a classic load balancer attachment (name or ARN; not with awsvpc). Set at
    /// creation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Service Connect: the namespace, the endpoints this service offers, its logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,
    /// Volumes configured at launch (EBS), one per task definition volume with
    /// `configuredAtLaunch: true`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::null::or_default"
    )]
    #[schemars(with = "Option<Vec<ServiceVolumeConfiguration>>")]
    pub volume_configurations: Vec<ServiceVolumeConfiguration>,
    /// VPC Lattice target groups the tasks register in.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::null::or_default"
    )]
    #[schemars(with = "Option<Vec<VpcLatticeConfiguration>>")]
    pub vpc_lattice_configurations: Vec<VpcLatticeConfiguration>,
}

/// Launch type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchType {
    /// EC2 container instances.
    Ec2,
    /// AWS Fargate.
    Fargate,
    /// ECS Anywhere.
    External,
    /// ECS Managed Instances.
    ManagedInstances,
}

/// One capacity provider of a strategy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CapacityProviderStrategyItem {
    /// Provider name.
    pub capacity_provider: String,
    /// Relative share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// Tasks placed here first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<u32>,
}

/// Scheduling strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SchedulingStrategy {
    /// Keep desiredCount tasks.
    Replica,
    /// One task per container instance (EC2).
    Daemon,
}

/// Network configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct NetworkConfiguration {
    /// awsvpc settings.
    pub awsvpc_configuration: AwsVpcConfiguration,
}

/// awsvpc settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AwsVpcConfiguration {
    /// Subnet IDs (order does not matter).
    pub subnets: Vec<String>,
    /// Security group IDs (order does not matter).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// `ENABLED` or `DISABLED` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_public_ip: Option<super::task_definition::EnabledDisabled>,
}

/// Deployment controller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DeploymentController {
    /// Only `ECS` is supported by ecs-operator.
    #[serde(rename = "type")]
    pub kind: DeploymentControllerType,
}

/// Deployment controller type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentControllerType {
    /// Rolling update by ECS.
    Ecs,
    /// Blue/green by CodeDeploy (not supported).
    CodeDeploy,
    /// A third-party controller (not supported).
    External,
}

/// A target group the service's tasks register in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Name of a TargetGroup manifest (exclusive with targetGroupArn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group: Option<String>,
    /// ARN of a target group managed elsewhere (exclusive with targetGroup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    /// A classic load balancer by name (instead of a target group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_name: Option<String>,
    /// A container of the task definition.
    pub container_name: String,
    /// A containerPort of that container.
    pub container_port: u32,
    /// Blue/green: the alternate target group and the listener rules ECS shifts traffic with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configuration: Option<AdvancedConfiguration>,
}

/// Placement strategy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PlacementStrategy {
    /// `random`, `spread` or `binpack`.
    #[serde(rename = "type")]
    pub kind: PlacementStrategyType,
    /// `instanceId`, `attribute:ecs.availability-zone`, `memory`, `cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Placement strategy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlacementStrategyType {
    /// Random.
    Random,
    /// Spread over a field.
    Spread,
    /// Pack by cpu or memory.
    Binpack,
}

/// Placement constraint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PlacementConstraint {
    /// `distinctInstance` or `memberOf`.
    #[serde(rename = "type")]
    pub kind: PlacementConstraintType,
    /// Cluster query expression for `memberOf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Placement constraint type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PlacementConstraintType {
    /// One task per instance.
    DistinctInstance,
    /// Instances matching an expression.
    MemberOf,
}

/// True when these placement settings put tasks on Fargate: launch type FARGATE, or a
/// capacity provider strategy made only of FARGATE/FARGATE_SPOT. The one rule: the manifest
/// checks, the views, import and the simulator read it (`cloud::defaults::service` re-exports
/// it as `is_fargate`).
pub fn runs_on_fargate(
    launch_type: Option<LaunchType>,
    strategy: &[CapacityProviderStrategyItem],
) -> bool {
    launch_type == Some(LaunchType::Fargate)
        || (!strategy.is_empty()
            && strategy
                .iter()
                .all(|s| matches!(s.capacity_provider.as_str(), "FARGATE" | "FARGATE_SPOT")))
}

impl ServiceSpec {
    /// True when the service runs on Fargate: launch type FARGATE, a strategy made only of
    /// FARGATE/FARGATE_SPOT, or a task definition that requires FARGATE.
    pub fn is_fargate(&self) -> bool {
        runs_on_fargate(self.launch_type, &self.capacity_provider_strategy)
            || self.task_definition.requires_fargate()
    }

    /// The effective network mode: the task definition's, or `bridge` on EC2 as ECS defaults.
    pub fn network_mode(&self) -> Option<super::task_definition::NetworkMode> {
        self.task_definition.network_mode
    }
}
