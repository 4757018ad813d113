//! ELBv2's target group defaults: the health check by protocol, protocol version and target
//! type, the attributes a new group reports by kind, and the target and address types. Filled
//! by the target group kind's views on both sides, stripped by import, stored by the simulator.

use std::collections::BTreeMap;

use super::strip_filled;
use crate::cloud::model::{
    IpAddressType, ProtocolVersion, TargetGroupHealthCheck, TargetGroupProtocol, TargetType,
};
use crate::manifest::shorthand::Scalar;
use crate::manifest::target_group::{Matcher, TargetGroupSpec};

/// The target type of a group created without one.
pub const TARGET_TYPE: TargetType = TargetType::Instance;
/// The IP address type of a group created without one.
pub const IP_ADDRESS_TYPE: IpAddressType = IpAddressType::Ipv4;

/// A target group as ELBv2 stores it: protocol version, target type, IP address type and the
/// health check ([`fill_health_check`]) filled in where the request leaves them out. The
/// attributes are a table of their own ([`target_group_attributes`]): the view compares only
/// those a manifest names.
pub fn fill_target_group(spec: &mut TargetGroupSpec) {
    spec.protocol_version = protocol_version(spec.protocol, spec.protocol_version);
    let target_type = *spec.target_type.get_or_insert(TARGET_TYPE);
    spec.ip_address_type.get_or_insert(IP_ADDRESS_TYPE);
    spec.health_check = Some(fill_health_check(
        spec.protocol,
        spec.protocol_version,
        target_type,
        &spec.health_check.take().unwrap_or_default(),
    ));
}

/// The target group without the values [`fill_target_group`] and
/// [`target_group_attributes`] put in.
pub fn strip_target_group(spec: &TargetGroupSpec) -> TargetGroupSpec {
    let target_type = spec.target_type.unwrap_or(TARGET_TYPE);
    let version = protocol_version(spec.protocol, spec.protocol_version);
    let blank = TargetGroupSpec {
        protocol: spec.protocol,
        target_type: spec.target_type,
        ..TargetGroupSpec::default()
    };
    let mut out = strip_filled(spec, blank, fill_target_group);
    out.health_check = spec
        .health_check
        .as_ref()
        .map(|hc| strip_health_check(spec.protocol, version, target_type, hc))
        .filter(|hc| *hc != TargetGroupHealthCheck::default());
    let given: BTreeMap<String, String> = spec
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    out.attributes = strip_attributes(spec.protocol, target_type, &given)
        .into_iter()
        .map(|(k, v)| (k, Scalar(v)))
        .collect();
    // Last: at its default, filling it again gives the others the same defaults.
    if out.target_type == Some(TARGET_TYPE) {
        out.target_type = None;
    }
    out
}

/// True for the protocols of Application Load Balancer target groups.
pub fn is_http(protocol: Option<TargetGroupProtocol>) -> bool {
    matches!(
        protocol,
        Some(TargetGroupProtocol::Http) | Some(TargetGroupProtocol::Https)
    )
}

/// protocolVersion as ELBv2 stores it: HTTP1 for HTTP/HTTPS groups, none otherwise.
pub fn protocol_version(
    protocol: Option<TargetGroupProtocol>,
    given: Option<ProtocolVersion>,
) -> Option<ProtocolVersion> {
    if is_http(protocol) {
        Some(given.unwrap_or(ProtocolVersion::Http1))
    } else {
        given
    }
}

/// The health check as ELBv2 stores it. HTTP/HTTPS groups: enabled, the group's protocol,
/// port traffic-port, path `/`, interval 30, timeout 5, healthy 5, unhealthy 2, matcher 200
/// (gRPC groups: path `/AWS.ALB/healthcheck`, gRPC code 12). TCP-family groups: TCP checks,
/// timeout 10, no path or matcher unless the check itself is HTTP (then `/` and 200-399).
/// Lambda groups: disabled, interval 35, timeout 30.
pub fn fill_health_check(
    protocol: Option<TargetGroupProtocol>,
    protocol_version: Option<ProtocolVersion>,
    target_type: TargetType,
    given: &TargetGroupHealthCheck,
) -> TargetGroupHealthCheck {
    let mut hc = given.clone();
    hc.port
        .get_or_insert_with(|| Scalar("traffic-port".to_string()));
    hc.healthy_threshold_count.get_or_insert(5);
    hc.unhealthy_threshold_count.get_or_insert(2);
    if target_type == TargetType::Lambda {
        hc.enabled.get_or_insert(false);
        hc.interval_seconds.get_or_insert(35);
        hc.timeout_seconds.get_or_insert(30);
        hc.path.get_or_insert_with(|| "/".to_string());
        hc.matcher.get_or_insert_with(|| http_matcher("200"));
        hc.port = None;
        return hc;
    }
    hc.enabled.get_or_insert(true);
    hc.interval_seconds.get_or_insert(30);
    if is_http(protocol) {
        hc.protocol
            .get_or_insert(protocol.unwrap_or(TargetGroupProtocol::Http));
        hc.timeout_seconds.get_or_insert(5);
        if protocol_version == Some(ProtocolVersion::Grpc) {
            hc.path
                .get_or_insert_with(|| "/AWS.ALB/healthcheck".to_string());
            hc.matcher.get_or_insert_with(|| Matcher {
                http_code: None,
                grpc_code: Some("12".to_string()),
            });
        } else {
            hc.path.get_or_insert_with(|| "/".to_string());
            hc.matcher.get_or_insert_with(|| http_matcher("200"));
        }
    } else {
        hc.protocol.get_or_insert(TargetGroupProtocol::Tcp);
        hc.timeout_seconds.get_or_insert(10);
        if is_http(hc.protocol) {
            hc.path.get_or_insert_with(|| "/".to_string());
            hc.matcher.get_or_insert_with(|| http_matcher("200-399"));
        }
    }
    hc
}

/// The health check without the values [`fill_health_check`] puts in for this kind of group.
pub fn strip_health_check(
    protocol: Option<TargetGroupProtocol>,
    protocol_version: Option<ProtocolVersion>,
    target_type: TargetType,
    given: &TargetGroupHealthCheck,
) -> TargetGroupHealthCheck {
    let fill = |hc: &mut TargetGroupHealthCheck| {
        *hc = fill_health_check(protocol, protocol_version, target_type, hc)
    };
    // The check's own protocol decides some defaults (an HTTP check of a TCP group): strip
    // against a blank holding it, then drop it too when it is the group's default.
    let blank = TargetGroupHealthCheck {
        protocol: given.protocol,
        ..TargetGroupHealthCheck::default()
    };
    let mut hc = strip_filled(given, blank, fill);
    let mut defaults = TargetGroupHealthCheck::default();
    fill(&mut defaults);
    if hc.protocol.is_some() && hc.protocol == defaults.protocol {
        hc.protocol = None;
    }
    if target_type == TargetType::Lambda {
        hc.port = None; // a Lambda group has no port to check; the fill drops it too
    }
    hc
}

/// The attributes that differ from what a new group of this kind reports.
pub fn strip_attributes(
    protocol: Option<TargetGroupProtocol>,
    target_type: TargetType,
    given: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let defaults = target_group_attributes(protocol, target_type);
    given
        .iter()
        .filter(|(k, v)| defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn http_matcher(codes: &str) -> Matcher {
    Matcher {
        http_code: Some(codes.to_string()),
        grpc_code: None,
    }
}

/// The attributes a new target group reports, by kind: Application Load Balancer groups
/// (HTTP/HTTPS), Network Load Balancer groups (TCP, TLS, UDP, TCP_UDP), Lambda groups, and
/// Gateway Load Balancer groups (GENEVE).
pub fn target_group_attributes(
    protocol: Option<TargetGroupProtocol>,
    target_type: TargetType,
) -> BTreeMap<String, String> {
    let health = [
        (
            "target_group_health.dns_failover.minimum_healthy_targets.count",
            "1",
        ),
        (
            "target_group_health.dns_failover.minimum_healthy_targets.percentage",
            "off",
        ),
        (
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
            "1",
        ),
        (
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
            "off",
        ),
    ];
    let pairs: Vec<(&str, &str)> = if target_type == TargetType::Lambda {
        vec![("lambda.multi_value_headers.enabled", "false")]
    } else if is_http(protocol) {
        let mut v = vec![
            ("deregistration_delay.timeout_seconds", "300"),
            ("load_balancing.algorithm.type", "round_robin"),
            ("load_balancing.algorithm.anomaly_mitigation", "off"),
            (
                "load_balancing.cross_zone.enabled",
                "use_load_balancer_configuration",
            ),
            ("slow_start.duration_seconds", "0"),
            ("stickiness.enabled", "false"),
            ("stickiness.type", "lb_cookie"),
            ("stickiness.lb_cookie.duration_seconds", "86400"),
            ("stickiness.app_cookie.cookie_name", ""),
            ("stickiness.app_cookie.duration_seconds", "86400"),
        ];
        v.extend(health);
        v
    } else if protocol == Some(TargetGroupProtocol::Geneve) {
        vec![
            ("deregistration_delay.timeout_seconds", "300"),
            ("stickiness.enabled", "false"),
            ("stickiness.type", "source_ip_dest_ip_proto"),
            ("target_failover.on_deregistration", "no_rebalance"),
            ("target_failover.on_unhealthy", "no_rebalance"),
        ]
    } else {
        // Client IPs are preserved by default except for TCP/TLS groups of IP targets.
        let preserve = if target_type == TargetType::Ip
            && matches!(
                protocol,
                Some(TargetGroupProtocol::Tcp) | Some(TargetGroupProtocol::Tls)
            ) {
            "false"
        } else {
            "true"
        };
        let mut v = vec![
            ("deregistration_delay.timeout_seconds", "300"),
            (
                "deregistration_delay.connection_termination.enabled",
                "false",
            ),
            ("preserve_client_ip.enabled", preserve),
            ("proxy_protocol_v2.enabled", "false"),
            ("stickiness.enabled", "false"),
            ("stickiness.type", "source_ip"),
            (
                "load_balancing.cross_zone.enabled",
                "use_load_balancer_configuration",
            ),
            (
                "target_health_state.unhealthy.connection_termination.enabled",
                "true",
            ),
            (
                "target_health_state.unhealthy.draining_interval_seconds",
                "0",
            ),
        ];
        v.extend(health);
        v
    };
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn protocols() -> impl Strategy<Value = Option<TargetGroupProtocol>> {
        prop::sample::select(vec![
            None,
            Some(TargetGroupProtocol::Http),
            Some(TargetGroupProtocol::Https),
            Some(TargetGroupProtocol::Tcp),
            Some(TargetGroupProtocol::Udp),
            Some(TargetGroupProtocol::Tls),
            Some(TargetGroupProtocol::Geneve),
        ])
    }

    fn target_types() -> impl Strategy<Value = TargetType> {
        prop::sample::select(vec![
            TargetType::Instance,
            TargetType::Ip,
            TargetType::Lambda,
        ])
    }

    fn health_checks() -> impl Strategy<Value = TargetGroupHealthCheck> {
        (
            (
                prop::option::of(any::<bool>()),
                prop::option::of(protocols().prop_filter_map("some", |p| p)),
                prop::option::of(prop::sample::select(vec!["traffic-port", "8080"])),
                prop::option::of(prop::sample::select(vec!["/", "/health"])),
            ),
            (
                prop::option::of(prop::sample::select(vec![5u32, 10, 30, 35])),
                prop::option::of(prop::sample::select(vec![5u32, 10, 30])),
                prop::option::of(2u32..6),
                prop::option::of(2u32..6),
                prop::option::of(prop::sample::select(vec!["200", "200-399"])),
            ),
        )
            .prop_map(|((enabled, protocol, port, path), (i, t, h, u, m))| {
                TargetGroupHealthCheck {
                    enabled,
                    protocol,
                    port: port.map(|p| Scalar(p.to_string())),
                    path: path.map(str::to_string),
                    interval_seconds: i,
                    timeout_seconds: t,
                    healthy_threshold_count: h,
                    unhealthy_threshold_count: u,
                    matcher: m.map(http_matcher),
                }
            })
    }

    proptest! {
        #[test]
        fn the_health_check_table_fills_idempotently_and_strips_what_it_fills(
            protocol in protocols(),
            target_type in target_types(),
            hc in health_checks(),
        ) {
            let version = protocol_version(protocol, None);
            let fill = |h: &TargetGroupHealthCheck| fill_health_check(protocol, version, target_type, h);
            let strip = |h: &TargetGroupHealthCheck| strip_health_check(protocol, version, target_type, h);
            prop_assert_eq!(fill(&fill(&hc)), fill(&hc));
            prop_assert_eq!(strip(&fill(&hc)), strip(&hc));
            prop_assert_eq!(fill(&strip(&hc)), fill(&hc), "stripping loses nothing the fill does not put back");
        }

        #[test]
        fn the_target_group_table_fills_idempotently_and_strips_what_it_fills(
            protocol in protocols(),
            target_type in prop::option::of(target_types()),
            ip in prop::option::of(prop::sample::select(vec![IpAddressType::Ipv4, IpAddressType::Ipv6])),
            hc in prop::option::of(health_checks()),
        ) {
            let spec = TargetGroupSpec {
                protocol,
                port: Some(80),
                target_type,
                ip_address_type: ip,
                health_check: hc,
                ..TargetGroupSpec::default()
            };
            let fill = |s: &TargetGroupSpec| {
                let mut s = s.clone();
                fill_target_group(&mut s);
                s
            };
            prop_assert_eq!(fill(&fill(&spec)), fill(&spec));
            prop_assert_eq!(strip_target_group(&fill(&spec)), strip_target_group(&spec));
            prop_assert_eq!(fill(&strip_target_group(&spec)), fill(&spec));
        }

        #[test]
        fn the_attribute_table_strips_what_a_new_group_reports(
            protocol in protocols(),
            target_type in target_types(),
            delay in prop::sample::select(vec!["30", "300"]),
        ) {
            let given: BTreeMap<String, String> =
                [("deregistration_delay.timeout_seconds".to_string(), delay.to_string())].into();
            let mut filled = target_group_attributes(protocol, target_type);
            filled.extend(given.clone());
            prop_assert_eq!(
                strip_attributes(protocol, target_type, &filled),
                strip_attributes(protocol, target_type, &given)
            );
        }
    }

    #[test]
    fn http_target_groups_get_alb_health_checks_and_tcp_groups_nlb_ones() {
        let hc = fill_health_check(
            Some(TargetGroupProtocol::Http),
            Some(ProtocolVersion::Http1),
            TargetType::Ip,
            &TargetGroupHealthCheck::default(),
        );
        assert_eq!(hc.port, Some(Scalar("traffic-port".into())));
        assert_eq!(hc.path.as_deref(), Some("/"));
        assert_eq!(
            (hc.interval_seconds, hc.timeout_seconds),
            (Some(30), Some(5))
        );
        assert_eq!(
            (hc.healthy_threshold_count, hc.unhealthy_threshold_count),
            (Some(5), Some(2))
        );
        assert_eq!(hc.matcher, Some(http_matcher("200")));
        let tcp = fill_health_check(
            Some(TargetGroupProtocol::Tcp),
            None,
            TargetType::Ip,
            &TargetGroupHealthCheck::default(),
        );
        assert_eq!(tcp.protocol, Some(TargetGroupProtocol::Tcp));
        assert_eq!((tcp.path, tcp.matcher), (None, None));
    }

    #[test]
    fn alb_target_groups_list_the_default_attributes() {
        let a = target_group_attributes(Some(TargetGroupProtocol::Http), TargetType::Ip);
        for (k, v) in [
            ("deregistration_delay.timeout_seconds", "300"),
            ("stickiness.enabled", "false"),
            ("stickiness.type", "lb_cookie"),
            ("load_balancing.algorithm.type", "round_robin"),
            ("slow_start.duration_seconds", "0"),
        ] {
            assert_eq!(a.get(k).map(String::as_str), Some(v), "{k}");
        }
    }
}
