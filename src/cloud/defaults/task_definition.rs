//! ECS's task definition defaults: what RegisterTaskDefinition stores for a value the request
//! leaves out (network mode bridge, container cpu 0, essential true, port protocol tcp, host
//! port = container port under awsvpc and host networking, container health check interval
//! 30, timeout 5, retries 3).

use super::{strip, strip_filled};
use crate::cloud::model::TaskDefinition;
use crate::manifest::task_definition::{
    ContainerDefinition, HealthCheck, NetworkMode, PortMapping, TransportProtocol,
};

/// The network mode of a task definition registered without one (EC2 Linux).
pub const NETWORK_MODE: NetworkMode = NetworkMode::Bridge;
/// A container's cpu units when left out.
pub const CONTAINER_CPU: u32 = 0;
/// A container's `essential` when left out.
pub const ESSENTIAL: bool = true;
/// A port mapping's protocol when left out.
pub const PROTOCOL: TransportProtocol = TransportProtocol::Tcp;
/// The host port of a bridge-mode port mapping left to Docker (dynamic), as compared: an
/// omitted one and an explicit 0 are the same request.
pub const DYNAMIC_HOST_PORT: u32 = 0;
/// Container health check interval, timeout and retries when left out.
pub const HEALTH_CHECK_INTERVAL: u32 = 30;
/// See [`HEALTH_CHECK_INTERVAL`].
pub const HEALTH_CHECK_TIMEOUT: u32 = 5;
/// See [`HEALTH_CHECK_INTERVAL`].
pub const HEALTH_CHECK_RETRIES: u32 = 3;

/// What ECS stores for a task definition: [`fill_container`] for every container. The network
/// mode stays as given (ECS does not report one that was left out).
pub fn fill_task_definition(td: &mut TaskDefinition) {
    let network_mode = td.network_mode;
    for c in &mut td.container_definitions {
        fill_container(c, network_mode);
    }
}

/// What ECS stores for a container: cpu, essential, port protocol, the host port under
/// awsvpc and host networking, the health check's interval, timeout and retries.
pub fn fill_container(c: &mut ContainerDefinition, network_mode: Option<NetworkMode>) {
    c.cpu.get_or_insert(CONTAINER_CPU);
    c.essential.get_or_insert(ESSENTIAL);
    for pm in &mut c.port_mappings {
        fill_port_mapping(pm, network_mode);
    }
    if let Some(hc) = &mut c.health_check {
        fill_health_check(hc);
    }
}

/// A port mapping as ECS stores it: protocol tcp, hostPort = containerPort under awsvpc and
/// host networking (under bridge an omitted host port stays omitted: Docker picks one).
pub fn fill_port_mapping(pm: &mut PortMapping, network_mode: Option<NetworkMode>) {
    pm.protocol.get_or_insert(PROTOCOL);
    if matches!(
        network_mode,
        Some(NetworkMode::Awsvpc) | Some(NetworkMode::Host)
    ) && pm.host_port.is_none()
    {
        pm.host_port = pm.container_port;
    }
}

/// For comparing: the host port a bridge or none-mode mapping gets when it names none
/// ([`DYNAMIC_HOST_PORT`]), after [`fill_port_mapping`].
pub fn fill_dynamic_host_port(pm: &mut PortMapping, network_mode: NetworkMode) {
    if pm.container_port.is_some()
        && matches!(network_mode, NetworkMode::Bridge | NetworkMode::None)
    {
        pm.host_port.get_or_insert(DYNAMIC_HOST_PORT);
    }
}

/// A container health check with interval, timeout and retries filled in.
pub fn fill_health_check(hc: &mut HealthCheck) {
    hc.interval.get_or_insert(HEALTH_CHECK_INTERVAL);
    hc.timeout.get_or_insert(HEALTH_CHECK_TIMEOUT);
    hc.retries.get_or_insert(HEALTH_CHECK_RETRIES);
}

/// A container without the values [`fill_container`] (and, for bridge mappings,
/// [`fill_dynamic_host_port`]) put in.
pub fn strip_container(c: &ContainerDefinition, network_mode: NetworkMode) -> ContainerDefinition {
    let mut c = strip_filled(c, ContainerDefinition::default(), |c| {
        fill_container(c, Some(network_mode))
    });
    for pm in &mut c.port_mappings {
        let blank = PortMapping {
            container_port: pm.container_port,
            ..blank_port_mapping()
        };
        *pm = strip_filled(pm, blank, |p| {
            fill_port_mapping(p, Some(network_mode));
            fill_dynamic_host_port(p, network_mode);
        });
    }
    if let Some(hc) = &mut c.health_check {
        strip(&mut hc.interval, &HEALTH_CHECK_INTERVAL);
        strip(&mut hc.timeout, &HEALTH_CHECK_TIMEOUT);
        strip(&mut hc.retries, &HEALTH_CHECK_RETRIES);
    }
    c
}

fn blank_port_mapping() -> PortMapping {
    PortMapping {
        name: None,
        container_port: None,
        host_port: None,
        protocol: None,
        app_protocol: None,
        container_port_range: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn modes() -> impl Strategy<Value = NetworkMode> {
        prop::sample::select(vec![
            NetworkMode::Bridge,
            NetworkMode::Host,
            NetworkMode::Awsvpc,
            NetworkMode::None,
        ])
    }

    fn containers() -> impl Strategy<Value = ContainerDefinition> {
        (
            prop::option::of(prop::sample::select(vec![0u32, 256])),
            prop::option::of(any::<bool>()),
            prop::collection::vec(
                (
                    prop::option::of(prop::sample::select(vec![80u32, 8000])),
                    prop::option::of(prop::sample::select(vec![0u32, 80, 8000])),
                    prop::option::of(prop::sample::select(vec![
                        TransportProtocol::Tcp,
                        TransportProtocol::Udp,
                    ])),
                ),
                0..3,
            ),
            prop::option::of((
                prop::option::of(prop::sample::select(vec![10u32, 30])),
                prop::option::of(prop::sample::select(vec![2u32, 5])),
                prop::option::of(prop::sample::select(vec![3u32, 5])),
            )),
        )
            .prop_map(|(cpu, essential, ports, hc)| ContainerDefinition {
                name: "api".into(),
                image: "api:1".into(),
                cpu,
                essential,
                port_mappings: ports
                    .into_iter()
                    .map(|(container_port, host_port, protocol)| PortMapping {
                        container_port,
                        host_port,
                        protocol,
                        ..blank_port_mapping()
                    })
                    .collect(),
                health_check: hc.map(|(interval, timeout, retries)| HealthCheck {
                    command: vec!["CMD".into(), "true".into()],
                    interval,
                    timeout,
                    retries,
                    start_period: None,
                }),
                ..Default::default()
            })
    }

    /// The comparison fill: what ECS stores, and dynamic host ports.
    fn fill(c: &ContainerDefinition, mode: NetworkMode) -> ContainerDefinition {
        let mut c = c.clone();
        fill_container(&mut c, Some(mode));
        for pm in &mut c.port_mappings {
            fill_dynamic_host_port(pm, mode);
        }
        c
    }

    proptest! {
        #[test]
        fn the_container_table_fills_idempotently_and_strips_what_it_fills(
            c in containers(),
            mode in modes(),
        ) {
            prop_assert_eq!(fill(&fill(&c, mode), mode), fill(&c, mode));
            prop_assert_eq!(strip_container(&fill(&c, mode), mode), strip_container(&c, mode));
            prop_assert_eq!(
                fill(&strip_container(&c, mode), mode),
                fill(&c, mode),
                "stripping loses nothing the fill does not put back"
            );
        }
    }

    #[test]
    fn containers_get_the_values_ecs_fills_in() {
        let mut td = TaskDefinition {
            network_mode: Some(NetworkMode::Awsvpc),
            container_definitions: vec![ContainerDefinition {
                name: "api".into(),
                image: "api:1".into(),
                port_mappings: vec![PortMapping {
                    container_port: Some(8000),
                    ..blank_port_mapping()
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
                    container_port: Some(80),
                    ..blank_port_mapping()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        fill_task_definition(&mut td);
        assert_eq!(td.container_definitions[0].port_mappings[0].host_port, None);
    }
}
