//! The Service kind on synthetic live state: its view, and the UpdateService request
//! derived from the differences.

use super::*;
use crate::diff::compare;
use crate::manifest::service::AwsVpcConfiguration;
use crate::manifest::service::DeploymentCircuitBreaker;
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
        // Set, so a live change of it is drift (left out, ECS's choice stands).
        availability_zone_rebalancing: Some(AvailabilityZoneRebalancing::Enabled),
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
            ..Default::default()
        }),
        deployment_controller: Some(DeploymentControllerType::Ecs),
        availability_zone_rebalancing: Some(AvailabilityZoneRebalancing::Enabled),
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

type EditLive = fn(&mut model::Service);
type Expect = fn(&mut UpdateService, &ServiceSpec);

/// One row per UpdateService member: a live service differing from `spec()` in that one
/// field, and the request the plan derives (that member alone, with the desired value).
const UPDATE_ROWS: &[(&str, EditLive, Expect)] = &[
    (
        "desiredCount",
        |l| l.desired_count = 5,
        |u, _| u.desired_count = Some(2),
    ),
    (
        "capacityProviderStrategy",
        |l| {
            l.capacity_provider_strategy = vec![CapacityProviderStrategyItem {
                capacity_provider: "FARGATE_SPOT".into(),
                weight: Some(1),
                base: None,
            }]
        },
        |u, _| u.capacity_provider_strategy = Some(vec![]),
    ),
    (
        "platformVersion",
        |l| l.platform_version = Some("1.4.0".into()),
        |u, _| u.platform_version = Some("LATEST".into()),
    ),
    (
        "networkConfiguration",
        |l| {
            let n = l.network_configuration.as_mut().unwrap();
            n.awsvpc_configuration.subnets = vec!["subnet-c".into()];
        },
        |u, s| u.network_configuration = s.network_configuration.clone(),
    ),
    (
        "deploymentConfiguration",
        |l| {
            let d = l.deployment_configuration.as_mut().unwrap();
            d.maximum_percent = Some(150);
        },
        |u, _| {
            u.deployment_configuration = Some(DeploymentConfiguration {
                maximum_percent: Some(200),
                minimum_healthy_percent: Some(100),
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: false,
                    rollback: false,
                }),
                alarms: None,
                strategy: Some(crate::manifest::service::DeploymentStrategy::Rolling),
                ..Default::default()
            })
        },
    ),
    (
        "healthCheckGracePeriodSeconds",
        |l| l.health_check_grace_period_seconds = Some(30),
        |u, _| u.health_check_grace_period_seconds = Some(0),
    ),
    (
        "placementConstraints",
        |l| {
            l.placement_constraints = vec![PlacementConstraint {
                kind: crate::manifest::service::PlacementConstraintType::DistinctInstance,
                expression: None,
            }]
        },
        |u, _| u.placement_constraints = Some(vec![]),
    ),
    (
        "placementStrategy",
        |l| {
            l.placement_strategy = vec![PlacementStrategy {
                kind: crate::manifest::service::PlacementStrategyType::Random,
                field: None,
            }]
        },
        |u, _| u.placement_strategy = Some(vec![]),
    ),
    (
        "enableExecuteCommand",
        |l| l.enable_execute_command = true,
        |u, _| u.enable_execute_command = Some(false),
    ),
    (
        "propagateTags",
        |l| l.propagate_tags = Some(PropagateTags::Service),
        |u, _| u.propagate_tags = Some(PropagateTags::None),
    ),
    (
        "enableECSManagedTags",
        |l| l.enable_ecs_managed_tags = true,
        |u, _| u.enable_ecs_managed_tags = Some(false),
    ),
    (
        "availabilityZoneRebalancing",
        |l| l.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Disabled),
        |u, _| u.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Enabled),
    ),
    (
        "serviceRegistries",
        |l| {
            l.service_registries = vec![ServiceRegistry {
                registry_arn: Some("arn:aws:servicediscovery:us-east-1:1:service/srv-1".into()),
                ..Default::default()
            }]
        },
        |u, _| u.service_registries = Some(vec![]),
    ),
    (
        "serviceConnectConfiguration",
        |l| {
            l.service_connect_configuration = Some(ServiceConnectConfiguration {
                enabled: true,
                ..Default::default()
            })
        },
        // Removing it is not an update ECS takes (it keeps the last one): nothing is sent.
        |_, _| {},
    ),
    (
        "volumeConfigurations",
        |l| {
            l.volume_configurations = vec![ServiceVolumeConfiguration {
                name: "data".into(),
                managed_ebs_volume: None,
            }]
        },
        |u, _| u.volume_configurations = Some(vec![]),
    ),
    (
        "vpcLatticeConfigurations",
        |l| {
            l.vpc_lattice_configurations = vec![VpcLatticeConfiguration {
                role_arn: "arn:aws:iam::1:role/lattice".into(),
                target_group_arn: "arn:aws:vpc-lattice:us-east-1:1:targetgroup/tg-1".into(),
                port_name: "http".into(),
            }]
        },
        |u, _| u.vpc_lattice_configurations = Some(vec![]),
    ),
];

fn untouched() -> UpdateService {
    UpdateService {
        cluster: "shop".into(),
        name: "api".into(),
        ..UpdateService::default()
    }
}

#[test]
fn the_derived_update_request_carries_exactly_the_differing_fields() {
    let spec = spec();
    let d = desired_service(&spec, vec![], own_tags());
    for (field, edit, expect) in UPDATE_ROWS {
        let mut l = live();
        edit(&mut l);
        let changes = compare(&live_service(&l, &d), &d);
        assert_eq!(changed_fields(&changes), [*field].into(), "{field}");
        let mut want = untouched();
        expect(&mut want, &spec);
        assert_eq!(update_request(&changes, &d, &spec, "api"), want, "{field}");
    }
    let mut l = live();
    for (_, edit, _) in UPDATE_ROWS {
        edit(&mut l);
    }
    let mut want = untouched();
    for (_, _, expect) in UPDATE_ROWS {
        expect(&mut want, &spec);
    }
    let changes = compare(&live_service(&l, &d), &d);
    assert_eq!(
        update_request(&changes, &d, &spec, "api"),
        want,
        "every field at once"
    );
    assert_eq!(
        update_request(&compare(&live_service(&live(), &d), &d), &d, &spec, "api"),
        untouched(),
        "nothing differs, nothing is set"
    );
}

#[test]
fn every_view_field_is_an_update_service_member_or_named_as_not_one() {
    let rows: Vec<&str> = UPDATE_ROWS.iter().map(|(f, _, _)| *f).collect();
    let table: Vec<&str> = UPDATE_SERVICE.iter().map(|(f, _)| *f).collect();
    assert_eq!(rows, table, "one test row per UpdateService member");
    let d = desired_service(&spec(), vec![], own_tags());
    let fields: Vec<String> = serde_json::to_value(&d)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for f in &fields {
        assert!(
            table.contains(&f.as_str()) || NOT_IN_UPDATE_SERVICE.contains(&f.as_str()),
            "view field {f} is neither set by UpdateService nor named in NOT_IN_UPDATE_SERVICE"
        );
    }
    assert_eq!(fields.len(), table.len() + NOT_IN_UPDATE_SERVICE.len());
}

#[test]
fn availability_zone_rebalancing_left_out_takes_what_ecs_chose() {
    let mut spec = spec();
    spec.availability_zone_rebalancing = None;
    let d = desired_service(&spec, vec![], own_tags());
    for chosen in [
        None,
        Some(AvailabilityZoneRebalancing::Enabled),
        Some(AvailabilityZoneRebalancing::Disabled),
    ] {
        let mut l = live();
        l.availability_zone_rebalancing = chosen;
        assert_eq!(compare(&live_service(&l, &d), &d), vec![], "{chosen:?}");
    }
}
