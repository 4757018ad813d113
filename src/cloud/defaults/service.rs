//! ECS's service defaults: what CreateService stores for a value the request leaves out
//! (launch type EC2 without a capacity provider strategy, scheduling REPLICA, deployment 200/100 or DAEMON 100/0 with the circuit breaker off,
//! assignPublicIp DISABLED, the ECS deployment controller, platform LATEST on Fargate, grace
//! period 0, no ECS Exec, no tag propagation, capacity provider weight and base 0), and the one
//! rule of what runs on Fargate.

use super::{strip, strip_filled};
use crate::cloud::model::{
    AvailabilityZoneRebalancing, CapacityProviderStrategyItem, DeploymentConfiguration,
    DeploymentControllerType, LaunchType, NetworkConfiguration, PropagateTags, SchedulingStrategy,
};
use crate::manifest::service::DeploymentStrategy;
use crate::manifest::service::{DeploymentCircuitBreaker, DeploymentController, ServiceSpec};
use crate::manifest::task_definition::EnabledDisabled;

pub use crate::manifest::service::runs_on_fargate as is_fargate;

/// The launch type of a service created with neither a launch type nor a capacity provider
/// strategy.
pub const LAUNCH_TYPE: LaunchType = LaunchType::Ec2;
/// availabilityZoneRebalancing of a service created without it, when the service can
/// rebalance (ECS sets DISABLED for one that cannot). Because that depends on ECS's rules, the
/// fill leaves the member alone: a manifest without it takes what ECS chose (the view), and
/// import leaves this value out.
pub const AVAILABILITY_ZONE_REBALANCING: AvailabilityZoneRebalancing =
    AvailabilityZoneRebalancing::Enabled;
/// The deployment strategy when none is given.
pub const DEPLOYMENT_STRATEGY: DeploymentStrategy = DeploymentStrategy::Rolling;
/// The scheduling strategy of a service created without one.
pub const SCHEDULING_STRATEGY: SchedulingStrategy = SchedulingStrategy::Replica;
/// The deployment controller ECS reports when none was asked for.
pub const DEPLOYMENT_CONTROLLER: DeploymentControllerType = DeploymentControllerType::Ecs;
/// The platform version of a Fargate service created without one.
pub const FARGATE_PLATFORM_VERSION: &str = "LATEST";
/// healthCheckGracePeriodSeconds when left out.
pub const HEALTH_CHECK_GRACE_PERIOD_SECONDS: u32 = 0;
/// enableExecuteCommand when left out.
pub const ENABLE_EXECUTE_COMMAND: bool = false;
/// propagateTags when left out.
pub const PROPAGATE_TAGS: PropagateTags = PropagateTags::None;
/// enableECSManagedTags when left out.
pub const ENABLE_ECS_MANAGED_TAGS: bool = false;
/// A capacity provider's weight and base when left out.
pub const CAPACITY_PROVIDER_WEIGHT: u32 = 0;
/// See [`CAPACITY_PROVIDER_WEIGHT`].
pub const CAPACITY_PROVIDER_BASE: u32 = 0;

/// A service as ECS stores it: every value CreateService fills in for one the request leaves
/// out (the constants above, the deployment and network tables below, capacity provider
/// weights and bases). The service kind's view fills both sides with it; import strips what
/// it fills ([`strip_service`]).
pub fn fill_service(spec: &mut ServiceSpec) {
    if spec.capacity_provider_strategy.is_empty() {
        spec.launch_type.get_or_insert(LAUNCH_TYPE);
    }
    let fargate = spec.is_fargate();
    let scheduling = *spec.scheduling_strategy.get_or_insert(SCHEDULING_STRATEGY);
    spec.platform_version = platform_version(spec.platform_version.take(), fargate);
    spec.network_configuration = fill_network_configuration(spec.network_configuration.take());
    spec.deployment_configuration = Some(fill_deployment_configuration(
        spec.deployment_configuration.take(),
        scheduling,
    ));
    spec.deployment_controller
        .get_or_insert(DeploymentController {
            kind: DEPLOYMENT_CONTROLLER,
        });
    spec.health_check_grace_period_seconds
        .get_or_insert(HEALTH_CHECK_GRACE_PERIOD_SECONDS);
    spec.enable_execute_command
        .get_or_insert(ENABLE_EXECUTE_COMMAND);
    spec.propagate_tags.get_or_insert(PROPAGATE_TAGS);
    spec.enable_ecs_managed_tags
        .get_or_insert(ENABLE_ECS_MANAGED_TAGS);
    for item in &mut spec.capacity_provider_strategy {
        *item = fill_strategy_item(item);
    }
}

/// The service without the values [`fill_service`] puts in.
pub fn strip_service(spec: &ServiceSpec) -> ServiceSpec {
    let blank = ServiceSpec {
        cluster: spec.cluster.clone(),
        // EC2 without a strategy is the default the fill puts in: strip it like the others.
        launch_type: spec
            .launch_type
            .filter(|l| *l != LAUNCH_TYPE || !spec.capacity_provider_strategy.is_empty()),
        capacity_provider_strategy: spec.capacity_provider_strategy.clone(),
        scheduling_strategy: spec.scheduling_strategy,
        task_definition: spec.task_definition.clone(),
        ..ServiceSpec::default()
    };
    let scheduling = spec.scheduling_strategy.unwrap_or(SCHEDULING_STRATEGY);
    let mut out = strip_filled(spec, blank, fill_service);
    out.deployment_configuration =
        strip_deployment_configuration(out.deployment_configuration.as_ref(), scheduling);
    out.network_configuration = strip_network_configuration(out.network_configuration.as_ref());
    for item in &mut out.capacity_provider_strategy {
        strip(&mut item.weight, &CAPACITY_PROVIDER_WEIGHT);
        strip(&mut item.base, &CAPACITY_PROVIDER_BASE);
    }
    strip(
        &mut out.availability_zone_rebalancing,
        &AVAILABILITY_ZONE_REBALANCING,
    );
    // Last: at its default, filling it again gives the others the same defaults.
    strip(&mut out.scheduling_strategy, &SCHEDULING_STRATEGY);
    out
}

/// The deployment percentages (maximum, minimum healthy) by scheduling strategy.
pub fn deployment_percentages(scheduling: SchedulingStrategy) -> (u32, u32) {
    match scheduling {
        SchedulingStrategy::Replica => (200, 100),
        SchedulingStrategy::Daemon => (100, 0),
    }
}

/// deploymentConfiguration as ECS stores it: the percentages of [`deployment_percentages`]
/// and the circuit breaker off, for each part the request left out.
pub fn fill_deployment_configuration(
    given: Option<DeploymentConfiguration>,
    scheduling: SchedulingStrategy,
) -> DeploymentConfiguration {
    let mut dc = given.unwrap_or_default();
    let (max, min) = deployment_percentages(scheduling);
    dc.maximum_percent.get_or_insert(max);
    dc.minimum_healthy_percent.get_or_insert(min);
    dc.deployment_circuit_breaker
        .get_or_insert(DeploymentCircuitBreaker {
            enable: false,
            rollback: false,
        });
    dc.strategy.get_or_insert(DEPLOYMENT_STRATEGY);
    dc
}

/// deploymentConfiguration without ECS's defaults; `None` when nothing is left.
pub fn strip_deployment_configuration(
    given: Option<&DeploymentConfiguration>,
    scheduling: SchedulingStrategy,
) -> Option<DeploymentConfiguration> {
    let d = strip_filled(given?, DeploymentConfiguration::default(), |d| {
        *d = fill_deployment_configuration(Some(d.clone()), scheduling)
    });
    (d != DeploymentConfiguration::default()).then_some(d)
}

/// assignPublicIp when left out.
pub const ASSIGN_PUBLIC_IP: EnabledDisabled = EnabledDisabled::Disabled;

/// networkConfiguration as ECS stores it: assignPublicIp [`ASSIGN_PUBLIC_IP`] when left out.
pub fn fill_network_configuration(
    given: Option<NetworkConfiguration>,
) -> Option<NetworkConfiguration> {
    given.map(|mut nc| {
        nc.awsvpc_configuration
            .assign_public_ip
            .get_or_insert(ASSIGN_PUBLIC_IP);
        nc
    })
}

/// networkConfiguration without ECS's defaults.
pub fn strip_network_configuration(
    given: Option<&NetworkConfiguration>,
) -> Option<NetworkConfiguration> {
    let mut n = given?.clone();
    strip(
        &mut n.awsvpc_configuration.assign_public_ip,
        &ASSIGN_PUBLIC_IP,
    );
    Some(n)
}

/// The deployment controller ECS reports when none was asked for.
pub fn deployment_controller(given: Option<DeploymentControllerType>) -> DeploymentControllerType {
    given.unwrap_or(DEPLOYMENT_CONTROLLER)
}

/// The platform version as ECS reports it: LATEST on Fargate when left out.
pub fn platform_version(given: Option<String>, fargate: bool) -> Option<String> {
    match given {
        None if fargate => Some(FARGATE_PLATFORM_VERSION.into()),
        other => other,
    }
}

/// A capacity provider strategy item with weight and base filled in.
pub fn fill_strategy_item(item: &CapacityProviderStrategyItem) -> CapacityProviderStrategyItem {
    CapacityProviderStrategyItem {
        capacity_provider: item.capacity_provider.clone(),
        weight: Some(item.weight.unwrap_or(CAPACITY_PROVIDER_WEIGHT)),
        base: Some(item.base.unwrap_or(CAPACITY_PROVIDER_BASE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::service::{AwsVpcConfiguration, DeploymentAlarms};
    use proptest::prelude::*;

    fn schedulings() -> impl Strategy<Value = SchedulingStrategy> {
        prop::sample::select(vec![
            SchedulingStrategy::Replica,
            SchedulingStrategy::Daemon,
        ])
    }

    fn deployments() -> impl Strategy<Value = DeploymentConfiguration> {
        (
            prop::option::of(prop::sample::select(vec![100u32, 150, 200])),
            prop::option::of(prop::sample::select(vec![0u32, 50, 100])),
            prop::option::of((any::<bool>(), any::<bool>())),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(max, min, breaker, alarms)| DeploymentConfiguration {
                maximum_percent: max,
                minimum_healthy_percent: min,
                deployment_circuit_breaker: breaker
                    .map(|(enable, rollback)| DeploymentCircuitBreaker { enable, rollback }),
                alarms: alarms.map(|enable| DeploymentAlarms {
                    alarm_names: vec!["a".into()],
                    enable,
                    rollback: false,
                }),
                ..Default::default()
            })
    }

    proptest! {
        #[test]
        fn the_deployment_table_fills_idempotently_and_strips_what_it_fills(
            d in deployments(),
            s in schedulings(),
        ) {
            let fill = |d: &DeploymentConfiguration| fill_deployment_configuration(Some(d.clone()), s);
            let strip = |d: &DeploymentConfiguration| strip_deployment_configuration(Some(d), s);
            prop_assert_eq!(fill(&fill(&d)), fill(&d));
            prop_assert_eq!(strip(&fill(&d)), strip(&d));
            prop_assert_eq!(
                fill_deployment_configuration(strip(&d), s),
                fill(&d),
                "stripping loses nothing the fill does not put back"
            );
        }

        #[test]
        fn the_network_and_platform_tables_fill_idempotently_and_strip_what_they_fill(
            public in prop::option::of(prop::sample::select(vec![EnabledDisabled::Enabled, EnabledDisabled::Disabled])),
            version in prop::option::of(prop::sample::select(vec!["LATEST", "1.4.0"])),
            fargate in any::<bool>(),
        ) {
            let n = NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-a".into()],
                    security_groups: vec![],
                    assign_public_ip: public,
                },
            };
            let filled = fill_network_configuration(Some(n.clone()));
            prop_assert_eq!(fill_network_configuration(filled.clone()), filled.clone());
            prop_assert_eq!(
                strip_network_configuration(filled.as_ref()),
                strip_network_configuration(Some(&n))
            );
            let v = version.map(str::to_string);
            let filled = platform_version(v.clone(), fargate);
            prop_assert_eq!(platform_version(filled.clone(), fargate), filled);
        }
    }

    fn services() -> impl Strategy<Value = ServiceSpec> {
        (
            prop::option::of(prop::sample::select(vec![
                crate::manifest::service::LaunchType::Fargate,
                crate::manifest::service::LaunchType::Ec2,
            ])),
            prop::option::of(schedulings()),
            prop::option::of(deployments()),
            prop::option::of(prop::sample::select(vec!["LATEST", "1.4.0"])),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["FARGATE", "FARGATE_SPOT", "asg"]),
                    prop::option::of(0u32..2),
                    prop::option::of(0u32..2),
                ),
                0..3,
            ),
            (
                prop::option::of(prop::sample::select(vec![0u32, 60])),
                prop::option::of(any::<bool>()),
                prop::option::of(prop::sample::select(vec![
                    PropagateTags::None,
                    PropagateTags::Service,
                ])),
                prop::option::of(any::<bool>()),
            ),
        )
            .prop_map(
                |(launch_type, scheduling, d, v, items, (grace, exec, propagate, managed))| {
                    ServiceSpec {
                        cluster: "shop".into(),
                        launch_type,
                        capacity_provider_strategy: items
                            .into_iter()
                            .map(|(p, weight, base)| CapacityProviderStrategyItem {
                                capacity_provider: p.to_string(),
                                weight,
                                base,
                            })
                            .collect(),
                        scheduling_strategy: scheduling,
                        deployment_configuration: d,
                        platform_version: v.map(str::to_string),
                        health_check_grace_period_seconds: grace,
                        enable_execute_command: exec,
                        propagate_tags: propagate,
                        enable_ecs_managed_tags: managed,
                        ..ServiceSpec::default()
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn the_service_table_fills_idempotently_and_strips_what_it_fills(s in services()) {
            let fill = |s: &ServiceSpec| {
                let mut s = s.clone();
                fill_service(&mut s);
                s
            };
            prop_assert_eq!(fill(&fill(&s)), fill(&s));
            prop_assert_eq!(strip_service(&fill(&s)), strip_service(&s));
            prop_assert_eq!(
                fill(&strip_service(&s)),
                fill(&s),
                "stripping loses nothing the fill does not put back"
            );
        }
    }

    #[test]
    fn a_strategy_item_gets_weight_and_base_zero() {
        let item = fill_strategy_item(&CapacityProviderStrategyItem {
            capacity_provider: "FARGATE".into(),
            weight: None,
            base: None,
        });
        assert_eq!((item.weight, item.base), (Some(0), Some(0)));
        assert_eq!(fill_strategy_item(&item), item, "idempotent");
    }
}
