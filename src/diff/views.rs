//! Comparable views of services, target groups and clusters: the fields the operator manages,
//! with AWS defaults filled in and unordered lists sorted, built the same way from a manifest
//! and from a described live object. Two views are equal exactly when nothing needs changing.
//!
//! Tags: the view holds the manifest's tag keys plus the ownership tags (`managed-by`,
//! `source`). Tags someone else added live (cost allocation, ...) are left alone, never
//! reported.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cloud::defaults::service as service_defaults;
use crate::cloud::defaults::target_group as defaults;

use crate::cloud::model::{
    self, CapacityProviderStrategyItem, DeploymentConfiguration, DeploymentControllerType,
    LaunchType, NetworkConfiguration, PlacementConstraint, PlacementStrategy, PropagateTags,
    SchedulingStrategy, ServiceLoadBalancer, Tags, TargetGroupHealthCheck, TargetGroupProtocol,
};
use crate::manifest::cluster::ClusterSpec;
use crate::manifest::service::ServiceSpec;
use crate::manifest::shorthand::{PairList, Tag};
use crate::manifest::target_group::{IpAddressType, ProtocolVersion, TargetGroupSpec, TargetType};

/// Prefix of the tags the operator writes itself.
pub const OWN_TAG_PREFIX: &str = "ecs-operator/";

/// A manifest's tags as a map.
pub fn tag_map(tags: &PairList<Tag>) -> Tags {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.0.clone()))
        .collect()
}

/// Live tags limited to the keys the desired view has (the manifest's and the ownership
/// tags). The operator's bookkeeping tags (hashes) are not part of any view: they change with
/// every change and would only repeat it.
fn managed_tags(live: &Tags, desired: &Tags) -> Tags {
    live.iter()
        .filter(|(k, _)| desired.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

// ---- services ----------------------------------------------------------------------------

/// The service fields the operator manages (the task definition is compared on its own).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// Only when the manifest sets it (otherwise auto scaling owns it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<u32>,
    /// Launch type.
    pub launch_type: Option<LaunchType>,
    /// Capacity provider strategy, sorted, weight and base defaulted to 0.
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Platform version (`LATEST` on Fargate when unset).
    pub platform_version: Option<String>,
    /// Scheduling strategy (REPLICA when unset).
    pub scheduling_strategy: SchedulingStrategy,
    /// awsvpc settings, lists sorted, assignPublicIp DISABLED when unset.
    pub network_configuration: Option<NetworkConfiguration>,
    /// Percentages and circuit breaker with ECS's defaults.
    pub deployment_configuration: DeploymentConfiguration,
    /// Deployment controller (ECS when unset).
    pub deployment_controller: DeploymentControllerType,
    /// Target group attachments, sorted.
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Grace period (0 when unset).
    pub health_check_grace_period_seconds: u32,
    /// Placement constraints.
    pub placement_constraints: Vec<PlacementConstraint>,
    /// Placement strategy.
    pub placement_strategy: Vec<PlacementStrategy>,
    /// ECS Exec.
    pub enable_execute_command: bool,
    /// Tag propagation (NONE when unset).
    pub propagate_tags: PropagateTags,
    /// ECS managed tags.
    #[serde(rename = "enableECSManagedTags")]
    pub enable_ecs_managed_tags: bool,
    /// Managed tags.
    pub tags: Tags,
}

/// The view of a Service manifest. `load_balancers` are the manifest's attachments with target
/// group names already resolved to ARNs; `tags` include the ownership tags.
pub fn desired_service(
    spec: &ServiceSpec,
    load_balancers: Vec<ServiceLoadBalancer>,
    tags: Tags,
) -> ServiceView {
    let fargate = spec.is_fargate();
    let scheduling = spec
        .scheduling_strategy
        .unwrap_or(service_defaults::SCHEDULING_STRATEGY);
    ServiceView {
        desired_count: spec.desired_count,
        launch_type: spec.launch_type,
        capacity_provider_strategy: strategy(&spec.capacity_provider_strategy),
        platform_version: service_defaults::platform_version(
            spec.platform_version.clone(),
            fargate,
        ),
        scheduling_strategy: scheduling,
        network_configuration: spec.network_configuration.clone().map(network),
        deployment_configuration: deployment(spec.deployment_configuration.clone(), scheduling),
        deployment_controller: service_defaults::deployment_controller(
            spec.deployment_controller.as_ref().map(|c| c.kind),
        ),
        load_balancers: sorted(load_balancers),
        health_check_grace_period_seconds: spec
            .health_check_grace_period_seconds
            .unwrap_or(service_defaults::HEALTH_CHECK_GRACE_PERIOD_SECONDS),
        placement_constraints: spec.placement_constraints.clone(),
        placement_strategy: spec.placement_strategy.clone(),
        enable_execute_command: spec
            .enable_execute_command
            .unwrap_or(service_defaults::ENABLE_EXECUTE_COMMAND),
        propagate_tags: spec
            .propagate_tags
            .unwrap_or(service_defaults::PROPAGATE_TAGS),
        enable_ecs_managed_tags: spec
            .enable_ecs_managed_tags
            .unwrap_or(service_defaults::ENABLE_ECS_MANAGED_TAGS),
        tags,
    }
}

/// The view of a live service, shaped by the desired view (which fields and tags count).
pub fn live_service(live: &model::Service, desired: &ServiceView) -> ServiceView {
    let fargate = service_defaults::is_fargate(live.launch_type, &live.capacity_provider_strategy);
    let scheduling = live
        .scheduling_strategy
        .unwrap_or(service_defaults::SCHEDULING_STRATEGY);
    ServiceView {
        desired_count: desired.desired_count.map(|_| live.desired_count),
        launch_type: live.launch_type,
        capacity_provider_strategy: strategy(&live.capacity_provider_strategy),
        platform_version: service_defaults::platform_version(
            live.platform_version.clone(),
            fargate,
        ),
        scheduling_strategy: scheduling,
        network_configuration: live.network_configuration.clone().map(network),
        deployment_configuration: deployment(live.deployment_configuration.clone(), scheduling),
        deployment_controller: service_defaults::deployment_controller(live.deployment_controller),
        load_balancers: sorted(live.load_balancers.clone()),
        health_check_grace_period_seconds: live
            .health_check_grace_period_seconds
            .unwrap_or(service_defaults::HEALTH_CHECK_GRACE_PERIOD_SECONDS),
        placement_constraints: live.placement_constraints.clone(),
        placement_strategy: live.placement_strategy.clone(),
        enable_execute_command: live.enable_execute_command,
        propagate_tags: live
            .propagate_tags
            .unwrap_or(service_defaults::PROPAGATE_TAGS),
        enable_ecs_managed_tags: live.enable_ecs_managed_tags,
        tags: managed_tags(&live.tags, &desired.tags),
    }
}

fn strategy(items: &[CapacityProviderStrategyItem]) -> Vec<CapacityProviderStrategyItem> {
    let mut v: Vec<_> = items
        .iter()
        .map(service_defaults::fill_strategy_item)
        .collect();
    v.sort_by(|a, b| a.capacity_provider.cmp(&b.capacity_provider));
    v
}

fn network(mut n: NetworkConfiguration) -> NetworkConfiguration {
    let c = &mut n.awsvpc_configuration;
    c.subnets.sort();
    c.security_groups.sort();
    service_defaults::fill_network_configuration(Some(n.clone())).unwrap_or(n)
}

fn deployment(
    d: Option<DeploymentConfiguration>,
    s: SchedulingStrategy,
) -> DeploymentConfiguration {
    let mut d = service_defaults::fill_deployment_configuration(d, s);
    if d.alarms
        .as_ref()
        .is_some_and(|a| !a.enable && a.alarm_names.is_empty())
    {
        d.alarms = None;
    }
    if let Some(a) = &mut d.alarms {
        a.alarm_names.sort();
    }
    d
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

// ---- target groups -----------------------------------------------------------------------

/// The target group fields the operator manages, with ELBv2's defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupView {
    /// Protocol (needs replacement to change).
    pub protocol: Option<TargetGroupProtocol>,
    /// HTTP version (needs replacement to change).
    pub protocol_version: Option<ProtocolVersion>,
    /// Port (needs replacement to change).
    pub port: Option<u32>,
    /// VPC (needs replacement to change).
    pub vpc_id: Option<String>,
    /// Target type (needs replacement to change).
    pub target_type: TargetType,
    /// IP address type (needs replacement to change).
    pub ip_address_type: IpAddressType,
    /// Health check with every default filled in.
    pub health_check: TargetGroupHealthCheck,
    /// The attributes the manifest sets.
    pub attributes: BTreeMap<String, String>,
    /// Managed tags.
    pub tags: Tags,
}

/// Fields of a target group ELBv2 cannot change in place.
pub const TARGET_GROUP_IMMUTABLE: &[&str] = &[
    "protocol",
    "protocolVersion",
    "port",
    "vpcId",
    "targetType",
    "ipAddressType",
];

/// Fields of a service ECS cannot change with UpdateService.
pub const SERVICE_IMMUTABLE: &[&str] =
    &["launchType", "schedulingStrategy", "deploymentController"];

/// The view of a TargetGroup manifest (`tags` include the ownership tags).
pub fn desired_target_group(spec: &TargetGroupSpec, tags: Tags) -> TargetGroupView {
    TargetGroupView {
        protocol: spec.protocol,
        protocol_version: defaults::protocol_version(spec.protocol, spec.protocol_version),
        port: spec.port,
        vpc_id: spec.vpc_id.clone(),
        target_type: spec.target_type.unwrap_or(defaults::TARGET_TYPE),
        ip_address_type: spec.ip_address_type.unwrap_or(defaults::IP_ADDRESS_TYPE),
        health_check: defaults::fill_health_check(
            spec.protocol,
            defaults::protocol_version(spec.protocol, spec.protocol_version),
            spec.target_type.unwrap_or(defaults::TARGET_TYPE),
            &spec.health_check.clone().unwrap_or_default(),
        ),
        attributes: spec
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
        tags,
    }
}

/// The view of a live target group with its attributes and tags, shaped by the desired view.
pub fn live_target_group(
    live: &model::TargetGroup,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
    desired: &TargetGroupView,
) -> TargetGroupView {
    TargetGroupView {
        protocol: live.protocol,
        protocol_version: defaults::protocol_version(live.protocol, live.protocol_version),
        port: live.port,
        vpc_id: live.vpc_id.clone(),
        target_type: live.target_type.unwrap_or(defaults::TARGET_TYPE),
        ip_address_type: live.ip_address_type.unwrap_or(defaults::IP_ADDRESS_TYPE),
        health_check: defaults::fill_health_check(
            live.protocol,
            defaults::protocol_version(live.protocol, live.protocol_version),
            live.target_type.unwrap_or(defaults::TARGET_TYPE),
            &live.health_check,
        ),
        attributes: attributes
            .iter()
            .filter(|(k, _)| desired.attributes.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        tags: managed_tags(tags, &desired.tags),
    }
}

// ---- clusters ----------------------------------------------------------------------------

/// The cluster fields the operator manages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// The settings the manifest names.
    pub settings: BTreeMap<String, String>,
    /// Capacity providers, sorted.
    pub capacity_providers: Vec<String>,
    /// Default strategy, sorted and defaulted.
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Managed tags.
    pub tags: Tags,
}

/// The view of a Cluster manifest.
pub fn desired_cluster(spec: &ClusterSpec, tags: Tags) -> ClusterView {
    ClusterView {
        settings: spec
            .settings
            .iter()
            .map(|s| (s.name.clone(), s.value.0.clone()))
            .collect(),
        capacity_providers: sorted(spec.capacity_providers.clone()),
        default_capacity_provider_strategy: strategy(&spec.default_capacity_provider_strategy),
        tags,
    }
}

/// The view of a live cluster, shaped by the desired view.
pub fn live_cluster(live: &model::Cluster, desired: &ClusterView) -> ClusterView {
    ClusterView {
        settings: live
            .settings
            .iter()
            .filter(|(k, _)| desired.settings.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        capacity_providers: sorted(live.capacity_providers.clone()),
        default_capacity_provider_strategy: strategy(&live.default_capacity_provider_strategy),
        tags: managed_tags(&live.tags, &desired.tags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compare;
    use crate::manifest::service::AwsVpcConfiguration;
    use crate::manifest::service::DeploymentCircuitBreaker;
    use crate::manifest::shorthand::Scalar;
    use crate::manifest::target_group::Matcher;
    use crate::manifest::task_definition::EnabledDisabled;

    fn spec() -> ServiceSpec {
        ServiceSpec {
            cluster: "shop".into(),
            desired_count: Some(2),
            launch_type: Some(LaunchType::Fargate),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-b".into(), "subnet-a".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: None,
                },
            }),
            ..Default::default()
        }
    }

    fn own_tags() -> Tags {
        [
            ("ecs-operator/managed-by".to_string(), "op".to_string()),
            ("team".into(), "shop".into()),
        ]
        .into()
    }

    /// What DescribeServices returns for `spec()` created by the operator.
    fn live() -> model::Service {
        model::Service {
            name: "api".into(),
            desired_count: 2,
            launch_type: Some(LaunchType::Fargate),
            platform_version: Some("LATEST".into()),
            scheduling_strategy: Some(SchedulingStrategy::Replica),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-a".into(), "subnet-b".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: Some(EnabledDisabled::Disabled),
                },
            }),
            deployment_configuration: Some(DeploymentConfiguration {
                maximum_percent: Some(200),
                minimum_healthy_percent: Some(100),
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: false,
                    rollback: false,
                }),
                alarms: None,
            }),
            deployment_controller: Some(DeploymentControllerType::Ecs),
            tags: {
                let mut t = own_tags();
                t.insert("cost-center".into(), "42".into());
                t
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_service_as_ecs_describes_it_is_in_sync() {
        let d = desired_service(&spec(), vec![], own_tags());
        let l = live_service(&live(), &d);
        assert_eq!(
            compare(&l, &d),
            vec![],
            "defaults, order and foreign tags are not drift"
        );
    }

    #[test]
    fn drift_is_named_by_field() {
        let d = desired_service(&spec(), vec![], own_tags());
        let mut l = live();
        l.desired_count = 5;
        l.tags.remove("team");
        let changes: Vec<String> = compare(&live_service(&l, &d), &d)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            changes,
            ["desiredCount: 5 -> 2", "tags.team: (absent) -> \"shop\""]
        );
    }

    #[test]
    fn desired_count_left_to_auto_scaling_is_not_compared() {
        let mut s = spec();
        s.desired_count = None;
        let d = desired_service(&s, vec![], own_tags());
        let mut l = live();
        l.desired_count = 7;
        assert!(compare(&live_service(&l, &d), &d).is_empty());
    }

    #[test]
    fn target_group_defaults_are_not_drift() {
        let spec = TargetGroupSpec {
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(8000),
            vpc_id: Some("vpc-1".into()),
            target_type: Some(TargetType::Ip),
            health_check: Some(TargetGroupHealthCheck {
                path: Some("/health".into()),
                ..Default::default()
            }),
            attributes: [(
                "deregistration_delay.timeout_seconds".to_string(),
                Scalar("30".into()),
            )]
            .into(),
            ..Default::default()
        };
        let d = desired_target_group(&spec, own_tags());
        let live = model::TargetGroup {
            name: "tg".into(),
            protocol: Some(TargetGroupProtocol::Http),
            protocol_version: Some(ProtocolVersion::Http1),
            port: Some(8000),
            vpc_id: Some("vpc-1".into()),
            target_type: Some(TargetType::Ip),
            ip_address_type: Some(IpAddressType::Ipv4),
            health_check: TargetGroupHealthCheck {
                enabled: Some(true),
                protocol: Some(TargetGroupProtocol::Http),
                port: Some(Scalar("traffic-port".into())),
                path: Some("/health".into()),
                interval_seconds: Some(30),
                timeout_seconds: Some(5),
                healthy_threshold_count: Some(5),
                unhealthy_threshold_count: Some(2),
                matcher: Some(Matcher {
                    http_code: Some("200".into()),
                    grpc_code: None,
                }),
            },
            ..Default::default()
        };
        let attrs: BTreeMap<String, String> = [
            (
                "deregistration_delay.timeout_seconds".to_string(),
                "30".to_string(),
            ),
            ("stickiness.enabled".to_string(), "false".to_string()),
        ]
        .into();
        assert!(compare(&live_target_group(&live, &attrs, &own_tags(), &d), &d).is_empty());
        let mut drifted = live.clone();
        drifted.health_check.path = Some("/".into());
        let c = compare(&live_target_group(&drifted, &attrs, &own_tags(), &d), &d);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path.to_string(), "healthCheck.path");
    }

    #[test]
    fn cluster_settings_not_in_the_manifest_are_not_compared() {
        let spec = ClusterSpec::default();
        let d = desired_cluster(&spec, own_tags());
        let live = model::Cluster {
            settings: [("containerInsights".to_string(), "disabled".to_string())].into(),
            tags: own_tags(),
            ..Default::default()
        };
        assert!(compare(&live_cluster(&live, &d), &d).is_empty());
    }
}
