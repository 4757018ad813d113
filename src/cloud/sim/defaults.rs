//! The values ECS and ELBv2 fill in when a request leaves them out, applied the way AWS
//! stores them, so what the simulator describes is what AWS would describe and the
//! operator's normalization meets the same shapes against `sim` and `aws`.

use crate::cloud::model::{
    DeploymentConfiguration, DeploymentControllerType, LaunchType, NetworkConfiguration,
    SchedulingStrategy, TaskDefinition,
};
use crate::manifest::service::{CapacityProviderStrategyItem, DeploymentCircuitBreaker};
use crate::manifest::task_definition::{EnabledDisabled, NetworkMode, TransportProtocol};

/// Container defaults of RegisterTaskDefinition: cpu 0, essential true, port mappings with
/// protocol tcp (and hostPort = containerPort under awsvpc and host networking), container
/// health checks with interval 30, timeout 5, retries 3.
pub(super) fn fill_task_definition(td: &mut TaskDefinition) {
    let host_port_is_container_port = matches!(
        td.network_mode,
        Some(NetworkMode::Awsvpc) | Some(NetworkMode::Host)
    );
    for c in &mut td.container_definitions {
        c.cpu.get_or_insert(0);
        c.essential.get_or_insert(true);
        for pm in &mut c.port_mappings {
            pm.protocol.get_or_insert(TransportProtocol::Tcp);
            if host_port_is_container_port && pm.host_port.is_none() {
                pm.host_port = pm.container_port;
            }
        }
        if let Some(hc) = &mut c.health_check {
            hc.interval.get_or_insert(30);
            hc.timeout.get_or_insert(5);
            hc.retries.get_or_insert(3);
        }
    }
}

/// True when these settings place tasks on Fargate.
pub(super) fn is_fargate(
    launch_type: Option<LaunchType>,
    strategy: &[CapacityProviderStrategyItem],
) -> bool {
    launch_type == Some(LaunchType::Fargate)
        || (!strategy.is_empty()
            && strategy
                .iter()
                .all(|s| matches!(s.capacity_provider.as_str(), "FARGATE" | "FARGATE_SPOT")))
}

/// deploymentConfiguration as ECS stores it: 200/100 (DAEMON: 100/0) and the circuit breaker
/// off, for each part the request left out.
pub(super) fn fill_deployment_configuration(
    given: Option<DeploymentConfiguration>,
    scheduling: SchedulingStrategy,
) -> DeploymentConfiguration {
    let mut dc = given.unwrap_or_default();
    let (max, min) = match scheduling {
        SchedulingStrategy::Replica => (200, 100),
        SchedulingStrategy::Daemon => (100, 0),
    };
    dc.maximum_percent.get_or_insert(max);
    dc.minimum_healthy_percent.get_or_insert(min);
    dc.deployment_circuit_breaker
        .get_or_insert(DeploymentCircuitBreaker {
            enable: false,
            rollback: false,
        });
    dc
}

/// networkConfiguration as ECS stores it: assignPublicIp DISABLED when left out.
pub(super) fn fill_network_configuration(
    given: Option<NetworkConfiguration>,
) -> Option<NetworkConfiguration> {
    given.map(|mut nc| {
        nc.awsvpc_configuration
            .assign_public_ip
            .get_or_insert(EnabledDisabled::Disabled);
        nc
    })
}

/// The deployment controller ECS reports when none was asked for.
pub(super) fn deployment_controller(
    given: Option<DeploymentControllerType>,
) -> DeploymentControllerType {
    given.unwrap_or(DeploymentControllerType::Ecs)
}

pub(super) use crate::diff::defaults::{
    fill_health_check, is_http, protocol_version, target_group_attributes,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::task_definition::{ContainerDefinition, HealthCheck, PortMapping};

    #[test]
    fn containers_get_the_values_ecs_fills_in() {
        let mut td = TaskDefinition {
            network_mode: Some(NetworkMode::Awsvpc),
            container_definitions: vec![ContainerDefinition {
                name: "api".into(),
                image: "api:1".into(),
                port_mappings: vec![PortMapping {
                    name: None,
                    container_port: Some(8000),
                    host_port: None,
                    protocol: None,
                    app_protocol: None,
                    container_port_range: None,
                }],
                health_check: Some(HealthCheck {
                    command: vec!["CMD".into(), "true".into()],
                    interval: None,
                    timeout: Some(2),
                    retries: None,
                    start_period: None,
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        fill_task_definition(&mut td);
        let c = &td.container_definitions[0];
        assert_eq!((c.cpu, c.essential), (Some(0), Some(true)));
        let pm = &c.port_mappings[0];
        assert_eq!(pm.host_port, Some(8000));
        assert_eq!(pm.protocol, Some(TransportProtocol::Tcp));
        let hc = c
            .health_check
            .as_ref()
            .map(|h| (h.interval, h.timeout, h.retries));
        assert_eq!(
            hc,
            Some((Some(30), Some(2), Some(3))),
            "given values are kept"
        );
    }

    #[test]
    fn bridge_mode_leaves_the_host_port_to_docker() {
        let mut td = TaskDefinition {
            network_mode: Some(NetworkMode::Bridge),
            container_definitions: vec![ContainerDefinition {
                name: "api".into(),
                image: "api:1".into(),
                port_mappings: vec![PortMapping {
                    name: None,
                    container_port: Some(80),
                    host_port: None,
                    protocol: None,
                    app_protocol: None,
                    container_port_range: None,
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        fill_task_definition(&mut td);
        assert_eq!(td.container_definitions[0].port_mappings[0].host_port, None);
    }
}
