//! Serde for the `cloud::model` types the account holds, which derive neither `Serialize`
//! nor `Deserialize`: serde "remote" definitions, field for field. serde builds the real type
//! from each definition with a struct literal, so a field added to a model type fails to
//! compile here instead of being silently dropped from saved accounts.
//!
//! Fields use [`one`] (a model value) and [`seq`] (a `Vec` or `VecDeque` of them); every model
//! type used that way implements [`Remote`] through its definition. Once the model types derive
//! serde with the same attributes, this module and those `with` attributes can go, and the file
//! format stays the same.

use std::collections::{BTreeMap, VecDeque};
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateService, DeploymentConfiguration,
    DeploymentControllerType, IpAddressType, LaunchType, NetworkConfiguration, PlacementConstraint,
    PlacementStrategy, PropagateTags, ProtocolVersion, RegisteredTaskDefinition, RolloutState,
    SchedulingStrategy, Service, ServiceEvent, ServiceLoadBalancer, Tags, TargetGroup,
    TargetGroupHealthCheck, TargetGroupProtocol, TargetHealthState, TargetType, TaskDefinition,
};

/// A type serialized through a definition of this module.
pub(in crate::cloud::sim) trait Remote: Sized {
    fn serialize_remote<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    fn deserialize_remote<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

macro_rules! remote {
    ($($ty:ty => $def:ident),* $(,)?) => {$(
        impl Remote for $ty {
            fn serialize_remote<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $def::serialize(self, s)
            }
            fn deserialize_remote<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $def::deserialize(d)
            }
        }
    )*};
}

remote!(
    Cluster => ClusterDef,
    ServiceLoadBalancer => ServiceLoadBalancerDef,
    RolloutState => RolloutStateDef,
    ServiceEvent => ServiceEventDef,
    Service => ServiceDef,
    CreateService => CreateServiceDef,
    RegisteredTaskDefinition => RegisteredTaskDefinitionDef,
    TargetGroup => TargetGroupDef,
    TargetHealthState => TargetHealthStateDef,
);

/// A borrowed model value, serializable.
struct Ser<'a, T>(&'a T);

impl<T: Remote> Serialize for Ser<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_remote(s)
    }
}

/// An owned model value, deserializable.
struct De<T>(T);

impl<'de, T: Remote> Deserialize<'de> for De<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize_remote(d).map(De)
    }
}

/// `#[serde(with = "mirror::one")]`: a field of a model type.
pub(in crate::cloud::sim) mod one {
    use super::*;

    pub(in crate::cloud::sim) fn serialize<T: Remote, S: Serializer>(
        v: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.serialize_remote(s)
    }

    pub(in crate::cloud::sim) fn deserialize<'de, T: Remote, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        T::deserialize_remote(d)
    }
}

/// A sequence of model values.
pub(in crate::cloud::sim) trait Seq: Sized {
    type Item: Remote;
    fn items(&self) -> impl Iterator<Item = &Self::Item>;
    fn from_items(items: impl Iterator<Item = Self::Item>) -> Self;
}

impl<T: Remote> Seq for Vec<T> {
    type Item = T;
    fn items(&self) -> impl Iterator<Item = &T> {
        self.iter()
    }
    fn from_items(items: impl Iterator<Item = T>) -> Self {
        items.collect()
    }
}

impl<T: Remote> Seq for VecDeque<T> {
    type Item = T;
    fn items(&self) -> impl Iterator<Item = &T> {
        self.iter()
    }
    fn from_items(items: impl Iterator<Item = T>) -> Self {
        items.collect()
    }
}

/// `#[serde(with = "mirror::seq")]`: a field holding a `Vec` or `VecDeque` of a model type.
pub(in crate::cloud::sim) mod seq {
    use super::*;

    pub(in crate::cloud::sim) fn serialize<C: Seq, S: Serializer>(
        v: &C,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.items().map(Ser))
    }

    pub(in crate::cloud::sim) fn deserialize<'de, C: Seq, D: Deserializer<'de>>(
        d: D,
    ) -> Result<C, D::Error> {
        let items = Vec::<De<C::Item>>::deserialize(d)?;
        Ok(C::from_items(items.into_iter().map(|De(v)| v)))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Cluster", rename_all = "camelCase")]
struct ClusterDef {
    name: String,
    arn: String,
    status: String,
    settings: BTreeMap<String, String>,
    capacity_providers: Vec<String>,
    default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    tags: Tags,
    active_services_count: u32,
    running_tasks_count: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "ServiceLoadBalancer", rename_all = "camelCase")]
struct ServiceLoadBalancerDef {
    target_group_arn: String,
    container_name: String,
    container_port: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "RolloutState", rename_all = "SCREAMING_SNAKE_CASE")]
enum RolloutStateDef {
    InProgress,
    Completed,
    Failed,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "ServiceEvent", rename_all = "camelCase")]
struct ServiceEventDef {
    id: String,
    created_at: Option<SystemTime>,
    message: String,
}

/// The service as the account stores it: `deployments` and `events` are only filled in by
/// DescribeServices' view (the account keeps them in its own types), so they are not saved.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Service", rename_all = "camelCase")]
struct ServiceDef {
    name: String,
    arn: String,
    cluster_arn: String,
    status: String,
    desired_count: u32,
    running_count: u32,
    pending_count: u32,
    task_definition: String,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    platform_version: Option<String>,
    scheduling_strategy: Option<SchedulingStrategy>,
    network_configuration: Option<NetworkConfiguration>,
    deployment_configuration: Option<DeploymentConfiguration>,
    deployment_controller: Option<DeploymentControllerType>,
    #[serde(with = "seq")]
    load_balancers: Vec<ServiceLoadBalancer>,
    health_check_grace_period_seconds: Option<u32>,
    placement_constraints: Vec<PlacementConstraint>,
    placement_strategy: Vec<PlacementStrategy>,
    enable_execute_command: bool,
    propagate_tags: Option<PropagateTags>,
    enable_ecs_managed_tags: bool,
    tags: Tags,
    #[serde(skip)]
    deployments: Vec<crate::cloud::model::Deployment>,
    #[serde(skip)]
    events: Vec<ServiceEvent>,
    created_at: Option<SystemTime>,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "CreateService", rename_all = "camelCase")]
struct CreateServiceDef {
    cluster: String,
    name: String,
    task_definition: String,
    desired_count: Option<u32>,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    platform_version: Option<String>,
    scheduling_strategy: Option<SchedulingStrategy>,
    network_configuration: Option<NetworkConfiguration>,
    deployment_configuration: Option<DeploymentConfiguration>,
    deployment_controller: Option<DeploymentControllerType>,
    #[serde(with = "seq")]
    load_balancers: Vec<ServiceLoadBalancer>,
    health_check_grace_period_seconds: Option<u32>,
    placement_constraints: Vec<PlacementConstraint>,
    placement_strategy: Vec<PlacementStrategy>,
    enable_execute_command: Option<bool>,
    propagate_tags: Option<PropagateTags>,
    enable_ecs_managed_tags: Option<bool>,
    tags: Tags,
    client_token: String,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "RegisteredTaskDefinition", rename_all = "camelCase")]
struct RegisteredTaskDefinitionDef {
    arn: String,
    family: String,
    revision: u32,
    status: String,
    definition: TaskDefinition,
    tags: Tags,
    registered_at: Option<SystemTime>,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "TargetGroup", rename_all = "camelCase")]
struct TargetGroupDef {
    name: String,
    arn: String,
    protocol: Option<TargetGroupProtocol>,
    protocol_version: Option<ProtocolVersion>,
    port: Option<u32>,
    vpc_id: Option<String>,
    target_type: Option<TargetType>,
    ip_address_type: Option<IpAddressType>,
    health_check: TargetGroupHealthCheck,
    load_balancer_arns: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "TargetHealthState", rename_all = "lowercase")]
enum TargetHealthStateDef {
    Initial,
    Healthy,
    Unhealthy,
    Unused,
    Draining,
    Unavailable,
}
