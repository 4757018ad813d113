//! What ELBv2 fills in for a target group when a request leaves it out: the health check by
//! protocol, protocol version and target type, and the attributes a new group reports by kind.
//! One table for the three places that need it: the diff's views (both sides normalized the
//! same way), `import` (a value equal to its default is left out of the manifest) and the
//! simulator (which describes what AWS would).

use std::collections::BTreeMap;

use crate::cloud::model::{
    ProtocolVersion, TargetGroupHealthCheck, TargetGroupProtocol, TargetType,
};
use crate::manifest::shorthand::Scalar;
use crate::manifest::target_group::Matcher;

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
