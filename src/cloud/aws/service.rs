//! ECS clusters and services: model inputs -> SDK request builders, and described clusters and
//! services -> model types, plus ECS tags.
//!
//! Described clusters and services come in batches, so one resource the model cannot fully
//! represent must not fail the others: an SDK enum value the model does not know reads as
//! `None`, and a list item that cannot be represented (a classic load balancer attachment, a
//! placement rule of an unknown type) is left out; both are logged at debug level.

use std::collections::BTreeMap;

use aws_sdk_ecs::operation::create_service::builders::CreateServiceInputBuilder;
use aws_sdk_ecs::operation::update_service::builders::UpdateServiceInputBuilder;
use aws_sdk_ecs::types as sdk;

use super::convert::service::*;
use super::convert::{
    Conv, ConvError, non_empty, opt_i32, opt_u32, required, time, to_i32, to_u32,
};
use super::shape_conv::{FromSdk, coll, opt};
use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateService, Deployment, DeploymentConfiguration,
    NetworkConfiguration, PlacementConstraint, PlacementStrategy, RolloutState, Service,
    ServiceEvent, ServiceLoadBalancer, Tags, UpdateService,
};
use crate::manifest::service::AwsVpcConfiguration;

// ---------------------------------------------------------------------------------------------
// Tags

/// Model tags -> ECS tags (key order).
pub(super) fn ecs_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

/// ECS tags -> model tags.
pub(super) fn tags_from_ecs(tags: &[sdk::Tag]) -> Tags {
    super::convert::tags_from_pairs(tags.iter().map(|t| (t.key(), t.value())))
}

// ---------------------------------------------------------------------------------------------
// Clusters

/// Cluster settings -> SDK (`containerInsights` and any setting AWS adds later).
pub(super) fn cluster_settings(settings: &BTreeMap<String, String>) -> Vec<sdk::ClusterSetting> {
    settings
        .iter()
        .map(|(name, value)| {
            sdk::ClusterSetting::builder()
                .name(sdk::ClusterSettingName::from(name.as_str()))
                .value(value)
                .build()
        })
        .collect()
}

/// A capacity provider strategy -> SDK.
pub(super) fn strategy_to_sdk(
    items: &[CapacityProviderStrategyItem],
) -> Conv<Vec<sdk::CapacityProviderStrategyItem>> {
    items.iter().map(strategy_item_to_sdk).collect()
}

fn strategy_item_to_sdk(
    item: &CapacityProviderStrategyItem,
) -> Conv<sdk::CapacityProviderStrategyItem> {
    sdk::CapacityProviderStrategyItem::builder()
        .capacity_provider(&item.capacity_provider)
        .set_weight(opt_i32(item.weight, "capacityProviderStrategy.weight")?)
        .set_base(opt_i32(item.base, "capacityProviderStrategy.base")?)
        .build()
        .map_err(|e| ConvError::invalid(e.to_string()))
}

/// A strategy as ECS stores it (`weight` and `base` always present; 0 when unset).
fn strategy_from_sdk(
    items: &[sdk::CapacityProviderStrategyItem],
) -> Conv<Vec<CapacityProviderStrategyItem>> {
    items
        .iter()
        .map(|i| {
            Ok(CapacityProviderStrategyItem {
                capacity_provider: i.capacity_provider().to_owned(),
                weight: Some(to_u32(i.weight(), "capacityProviderStrategy.weight")?),
                base: Some(to_u32(i.base(), "capacityProviderStrategy.base")?),
            })
        })
        .collect()
}

/// A described cluster.
pub(super) fn cluster_from_sdk(c: &sdk::Cluster) -> Conv<Cluster> {
    Ok(Cluster {
        name: required(c.cluster_name(), "clusterName")?.to_owned(),
        arn: required(c.cluster_arn(), "clusterArn")?.to_owned(),
        status: c.status().unwrap_or_default().to_owned(),
        settings: c
            .settings()
            .iter()
            .filter_map(|s| Some((s.name()?.as_str().to_owned(), s.value()?.to_owned())))
            .collect(),
        capacity_providers: c.capacity_providers().to_vec(),
        default_capacity_provider_strategy: strategy_from_sdk(
            c.default_capacity_provider_strategy(),
        )?,
        tags: tags_from_ecs(c.tags()),
        active_services_count: to_u32(c.active_services_count(), "activeServicesCount")?,
        running_tasks_count: to_u32(c.running_tasks_count(), "runningTasksCount")?,
        configuration: c
            .configuration()
            .and_then(|v| lenient_member(c.cluster_name().unwrap_or_default(), "configuration", v)),
        service_connect_defaults: c
            .service_connect_defaults()
            .and_then(|d| d.namespace())
            .map(
                |namespace| crate::cloud::model::ClusterServiceConnectDefaultsRequest {
                    namespace: namespace.to_owned(),
                },
            ),
    })
}

// ---------------------------------------------------------------------------------------------
// Services: model -> SDK

/// The CreateService request of `input` (client token included when set).
pub(super) fn create_service_input(input: &CreateService) -> Conv<CreateServiceInputBuilder> {
    Ok(CreateServiceInputBuilder::default()
        .cluster(&input.cluster)
        .service_name(&input.name)
        .task_definition(&input.task_definition)
        .set_desired_count(opt_i32(input.desired_count, "desiredCount")?)
        .set_launch_type(input.launch_type.map(launch_type_to_sdk))
        .set_capacity_provider_strategy(non_empty(strategy_to_sdk(
            &input.capacity_provider_strategy,
        )?))
        .set_platform_version(input.platform_version.clone())
        .set_scheduling_strategy(input.scheduling_strategy.map(scheduling_strategy_to_sdk))
        .set_network_configuration(
            input
                .network_configuration
                .as_ref()
                .map(network_to_sdk)
                .transpose()?,
        )
        .set_deployment_configuration(opt(
            &input.deployment_configuration,
            "deploymentConfiguration",
        )?)
        .set_deployment_controller(input.deployment_controller.map(controller).transpose()?)
        .set_load_balancers(non_empty(load_balancers_to_sdk(&input.load_balancers)?))
        .set_health_check_grace_period_seconds(opt_i32(
            input.health_check_grace_period_seconds,
            "healthCheckGracePeriodSeconds",
        )?)
        .set_placement_constraints(non_empty(constraints_to_sdk(&input.placement_constraints)))
        .set_placement_strategy(non_empty(strategies_to_sdk(&input.placement_strategy)))
        .set_enable_execute_command(input.enable_execute_command)
        .set_propagate_tags(input.propagate_tags.map(propagate_tags_to_sdk))
        .set_enable_ecs_managed_tags(input.enable_ecs_managed_tags)
        .set_tags(non_empty(ecs_tags(&input.tags)))
        .set_availability_zone_rebalancing(opt(
            &input.availability_zone_rebalancing,
            "availabilityZoneRebalancing",
        )?)
        .set_service_registries(coll(&input.service_registries, "serviceRegistries")?)
        .set_role(input.role.clone())
        .set_service_connect_configuration(opt(
            &input.service_connect_configuration,
            "serviceConnectConfiguration",
        )?)
        .set_volume_configurations(coll(&input.volume_configurations, "volumeConfigurations")?)
        .set_vpc_lattice_configurations(coll(
            &input.vpc_lattice_configurations,
            "vpcLatticeConfigurations",
        )?)
        .set_client_token(Some(input.client_token.clone()).filter(|t| !t.is_empty())))
}

/// The UpdateService request of `input`: only the fields that are `Some` are sent.
pub(super) fn update_service_input(input: &UpdateService) -> Conv<UpdateServiceInputBuilder> {
    let strategy = input
        .capacity_provider_strategy
        .as_deref()
        .map(strategy_to_sdk)
        .transpose()?;
    let load_balancers = input
        .load_balancers
        .as_deref()
        .map(load_balancers_to_sdk)
        .transpose()?;
    Ok(UpdateServiceInputBuilder::default()
        .cluster(&input.cluster)
        .service(&input.name)
        .set_task_definition(input.task_definition.clone())
        .set_desired_count(opt_i32(input.desired_count, "desiredCount")?)
        .set_capacity_provider_strategy(strategy)
        .set_platform_version(input.platform_version.clone())
        .set_network_configuration(
            input
                .network_configuration
                .as_ref()
                .map(network_to_sdk)
                .transpose()?,
        )
        .set_deployment_configuration(opt(
            &input.deployment_configuration,
            "deploymentConfiguration",
        )?)
        .set_load_balancers(load_balancers)
        .set_health_check_grace_period_seconds(opt_i32(
            input.health_check_grace_period_seconds,
            "healthCheckGracePeriodSeconds",
        )?)
        .set_placement_constraints(
            input
                .placement_constraints
                .as_deref()
                .map(constraints_to_sdk),
        )
        .set_placement_strategy(input.placement_strategy.as_deref().map(strategies_to_sdk))
        .set_enable_execute_command(input.enable_execute_command)
        .set_propagate_tags(input.propagate_tags.map(propagate_tags_to_sdk))
        .set_enable_ecs_managed_tags(input.enable_ecs_managed_tags)
        .set_availability_zone_rebalancing(opt(
            &input.availability_zone_rebalancing,
            "availabilityZoneRebalancing",
        )?)
        // `Some(empty)` is sent: it removes them.
        .set_service_registries(opt(&input.service_registries, "serviceRegistries")?)
        .set_service_connect_configuration(opt(
            &input.service_connect_configuration,
            "serviceConnectConfiguration",
        )?)
        .set_volume_configurations(opt(&input.volume_configurations, "volumeConfigurations")?)
        .set_vpc_lattice_configurations(opt(
            &input.vpc_lattice_configurations,
            "vpcLatticeConfigurations",
        )?)
        .set_force_new_deployment(input.force_new_deployment.then_some(true)))
}

fn controller(
    kind: crate::cloud::model::DeploymentControllerType,
) -> Conv<sdk::DeploymentController> {
    sdk::DeploymentController::builder()
        .r#type(controller_to_sdk(kind))
        .build()
        .map_err(|e| ConvError::invalid(e.to_string()))
}

fn network_to_sdk(n: &NetworkConfiguration) -> Conv<sdk::NetworkConfiguration> {
    let vpc = &n.awsvpc_configuration;
    let awsvpc = sdk::AwsVpcConfiguration::builder()
        .set_subnets(Some(vpc.subnets.clone()))
        .set_security_groups(non_empty(vpc.security_groups.clone()))
        .set_assign_public_ip(vpc.assign_public_ip.map(public_ip_to_sdk))
        .build()
        .map_err(|e| ConvError::invalid(e.to_string()))?;
    Ok(sdk::NetworkConfiguration::builder()
        .awsvpc_configuration(awsvpc)
        .build())
}

fn load_balancers_to_sdk(lbs: &[ServiceLoadBalancer]) -> Conv<Vec<sdk::LoadBalancer>> {
    lbs.iter()
        .map(|lb| {
            Ok(sdk::LoadBalancer::builder()
                .target_group_arn(&lb.target_group_arn)
                .container_name(&lb.container_name)
                .container_port(to_i32(lb.container_port, "loadBalancers.containerPort")?)
                .set_advanced_configuration(opt(
                    &lb.advanced_configuration,
                    "loadBalancers.advancedConfiguration",
                )?)
                .build())
        })
        .collect()
}

fn constraints_to_sdk(constraints: &[PlacementConstraint]) -> Vec<sdk::PlacementConstraint> {
    constraints
        .iter()
        .map(|c| {
            sdk::PlacementConstraint::builder()
                .r#type(constraint_type_to_sdk(c.kind))
                .set_expression(c.expression.clone())
                .build()
        })
        .collect()
}

fn strategies_to_sdk(strategies: &[PlacementStrategy]) -> Vec<sdk::PlacementStrategy> {
    strategies
        .iter()
        .map(|s| {
            sdk::PlacementStrategy::builder()
                .r#type(strategy_type_to_sdk(s.kind))
                .set_field(s.field.clone())
                .build()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Services: SDK -> model

/// A described service.
pub(super) fn service_from_sdk(s: &sdk::Service) -> Conv<Service> {
    let name = required(s.service_name(), "serviceName")?;
    Ok(Service {
        name: name.to_owned(),
        arn: required(s.service_arn(), "serviceArn")?.to_owned(),
        cluster_arn: s.cluster_arn().unwrap_or_default().to_owned(),
        status: s.status().unwrap_or_default().to_owned(),
        desired_count: to_u32(s.desired_count(), "desiredCount")?,
        running_count: to_u32(s.running_count(), "runningCount")?,
        pending_count: to_u32(s.pending_count(), "pendingCount")?,
        task_definition: s.task_definition().unwrap_or_default().to_owned(),
        launch_type: s
            .launch_type()
            .and_then(|l| lenient(name, "launchType", l.as_str(), launch_type_from_sdk(l))),
        capacity_provider_strategy: strategy_from_sdk(s.capacity_provider_strategy())?,
        platform_version: s.platform_version().map(str::to_owned),
        scheduling_strategy: s.scheduling_strategy().and_then(|v| {
            lenient(
                name,
                "schedulingStrategy",
                v.as_str(),
                scheduling_strategy_from_sdk(v),
            )
        }),
        network_configuration: s
            .network_configuration()
            .and_then(|n| network_from_sdk(name, n)),
        deployment_configuration: s
            .deployment_configuration()
            .map(DeploymentConfiguration::from_sdk)
            .transpose()?,
        deployment_controller: s.deployment_controller().and_then(|c| {
            let kind = c.r#type();
            lenient(
                name,
                "deploymentController",
                kind.as_str(),
                controller_from_sdk(kind),
            )
        }),
        load_balancers: load_balancers_from_sdk(name, s.load_balancers())?,
        health_check_grace_period_seconds: opt_u32(
            s.health_check_grace_period_seconds(),
            "healthCheckGracePeriodSeconds",
        )?,
        placement_constraints: constraints_from_sdk(name, s.placement_constraints()),
        placement_strategy: strategies_from_sdk(name, s.placement_strategy()),
        enable_execute_command: s.enable_execute_command(),
        propagate_tags: s.propagate_tags().and_then(|p| {
            lenient(
                name,
                "propagateTags",
                p.as_str(),
                propagate_tags_from_sdk(p),
            )
        }),
        enable_ecs_managed_tags: s.enable_ecs_managed_tags(),
        tags: tags_from_ecs(s.tags()),
        deployments: s
            .deployments()
            .iter()
            .map(|d| deployment_from_sdk(name, d))
            .collect::<Conv<_>>()?,
        events: s.events().iter().map(event_from_sdk).collect(),
        created_at: time(s.created_at()),
        current_service_deployment: s.current_service_deployment().map(str::to_owned),
        availability_zone_rebalancing: s
            .availability_zone_rebalancing()
            .and_then(|v| lenient_member(name, "availabilityZoneRebalancing", v)),
        service_registries: s
            .service_registries()
            .iter()
            .filter_map(|r| lenient_member(name, "serviceRegistries", r))
            .collect(),
        role_arn: s.role_arn().map(str::to_owned),
        // AWS reports these on the deployments; the PRIMARY one is what the service runs.
        service_connect_configuration: primary(s)
            .and_then(|d| d.service_connect_configuration())
            .and_then(|c| lenient_member(name, "serviceConnectConfiguration", c)),
        volume_configurations: primary(s)
            .map(|d| d.volume_configurations())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| lenient_member(name, "volumeConfigurations", v))
            .collect(),
        vpc_lattice_configurations: primary(s)
            .map(|d| d.vpc_lattice_configurations())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| lenient_member(name, "vpcLatticeConfigurations", v))
            .collect(),
    })
}

fn primary(s: &sdk::Service) -> Option<&sdk::Deployment> {
    s.deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
}

/// A value the model does not know reads as `None` (logged at debug level).
fn lenient<T>(service: &str, field: &str, spelling: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        tracing::debug!(
            service,
            field,
            value = spelling,
            "value not known to the model: ignored"
        );
    }
    value
}

fn network_from_sdk(service: &str, n: &sdk::NetworkConfiguration) -> Option<NetworkConfiguration> {
    let vpc = n.awsvpc_configuration()?;
    Some(NetworkConfiguration {
        awsvpc_configuration: AwsVpcConfiguration {
            subnets: vpc.subnets().to_vec(),
            security_groups: vpc.security_groups().to_vec(),
            assign_public_ip: vpc.assign_public_ip().and_then(|p| {
                lenient(service, "assignPublicIp", p.as_str(), public_ip_from_sdk(p))
            }),
        },
    })
}

/// A member of a batched answer read with the generated conversion: a value this model does
/// not know leaves the member out (logged) rather than failing the whole batch.
fn lenient_member<S, T: FromSdk<S>>(service: &str, field: &str, value: &S) -> Option<T> {
    match T::from_sdk(value) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::debug!(service, field, error = ?e, "value not read");
            None
        }
    }
}

/// Target group attachments; classic load balancer attachments (no target group) are left out.
fn load_balancers_from_sdk(
    service: &str,
    lbs: &[sdk::LoadBalancer],
) -> Conv<Vec<ServiceLoadBalancer>> {
    let mut out = Vec::with_capacity(lbs.len());
    for lb in lbs {
        let Some(arn) = lb.target_group_arn() else {
            tracing::debug!(service, load_balancer = ?lb.load_balancer_name(), "classic load balancer attachment ignored");
            continue;
        };
        out.push(ServiceLoadBalancer {
            target_group_arn: arn.to_owned(),
            container_name: lb.container_name().unwrap_or_default().to_owned(),
            container_port: to_u32(lb.container_port().unwrap_or_default(), "containerPort")?,
            advanced_configuration: lb
                .advanced_configuration()
                .and_then(|a| lenient_member(service, "advancedConfiguration", a)),
        });
    }
    Ok(out)
}

fn constraints_from_sdk(
    service: &str,
    items: &[sdk::PlacementConstraint],
) -> Vec<PlacementConstraint> {
    items
        .iter()
        .filter_map(|c| {
            let t = c.r#type()?;
            Some(PlacementConstraint {
                kind: lenient(
                    service,
                    "placementConstraints.type",
                    t.as_str(),
                    constraint_type_from_sdk(t),
                )?,
                expression: c.expression().map(str::to_owned),
            })
        })
        .collect()
}

fn strategies_from_sdk(service: &str, items: &[sdk::PlacementStrategy]) -> Vec<PlacementStrategy> {
    items
        .iter()
        .filter_map(|s| {
            let t = s.r#type()?;
            Some(PlacementStrategy {
                kind: lenient(
                    service,
                    "placementStrategy.type",
                    t.as_str(),
                    strategy_type_from_sdk(t),
                )?,
                field: s.field().map(str::to_owned),
            })
        })
        .collect()
}

fn deployment_from_sdk(service: &str, d: &sdk::Deployment) -> Conv<Deployment> {
    Ok(Deployment {
        id: d.id().unwrap_or_default().to_owned(),
        status: d.status().unwrap_or_default().to_owned(),
        task_definition: d.task_definition().unwrap_or_default().to_owned(),
        desired_count: to_u32(d.desired_count(), "deployments.desiredCount")?,
        running_count: to_u32(d.running_count(), "deployments.runningCount")?,
        pending_count: to_u32(d.pending_count(), "deployments.pendingCount")?,
        failed_tasks: to_u32(d.failed_tasks(), "deployments.failedTasks")?,
        rollout_state: d.rollout_state().and_then(|r| {
            lenient(
                service,
                "deployments.rolloutState",
                r.as_str(),
                rollout_state(r),
            )
        }),
        rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
        created_at: time(d.created_at()),
        updated_at: time(d.updated_at()),
    })
}

fn rollout_state(state: &sdk::DeploymentRolloutState) -> Option<RolloutState> {
    match state {
        sdk::DeploymentRolloutState::InProgress => Some(RolloutState::InProgress),
        sdk::DeploymentRolloutState::Completed => Some(RolloutState::Completed),
        sdk::DeploymentRolloutState::Failed => Some(RolloutState::Failed),
        _ => None,
    }
}

fn event_from_sdk(e: &sdk::ServiceEvent) -> ServiceEvent {
    ServiceEvent {
        id: e.id().unwrap_or_default().to_owned(),
        created_at: time(e.created_at()),
        message: e.message().unwrap_or_default().to_owned(),
    }
}
