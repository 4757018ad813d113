//! ELBv2 target groups: the health check flattened into CreateTargetGroup / ModifyTargetGroup
//! parameters, described groups, target health, attributes and tags.
//!
//! Described groups come in batches: a protocol or target type the model does not know reads as
//! `None`. A target health state the model does not know fails the call instead (the rollout
//! tracker must not miss a target); `unhealthy.draining` reads as draining.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::operation::create_target_group::builders::CreateTargetGroupInputBuilder;
use aws_sdk_elasticloadbalancingv2::operation::modify_target_group::builders::ModifyTargetGroupInputBuilder;
use aws_sdk_elasticloadbalancingv2::types as sdk;

use super::convert::target_group::*;
use super::convert::{Conv, ConvError, opt_i32, opt_u32, required};
use crate::cloud::model::{
    CreateTargetGroup, Tags, TargetGroup, TargetGroupHealthCheck, TargetHealth, TargetHealthState,
};
use crate::manifest::shorthand::Scalar;
use crate::manifest::target_group::Matcher;

/// Model tags -> ELBv2 tags (key order).
pub(super) fn elb_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

/// ELBv2 tags -> model tags.
pub(super) fn tags_from_elb(tags: &[sdk::Tag]) -> Tags {
    super::convert::tags_from_pairs(tags.iter().map(|t| (t.key(), t.value())))
}

/// Attributes -> SDK.
pub(super) fn attributes_to_sdk(
    attributes: &BTreeMap<String, String>,
) -> Vec<sdk::TargetGroupAttribute> {
    attributes
        .iter()
        .map(|(k, v)| sdk::TargetGroupAttribute::builder().key(k).value(v).build())
        .collect()
}

/// SDK attributes -> a map (attributes without a key are dropped).
pub(super) fn attributes_from_sdk(
    attributes: &[sdk::TargetGroupAttribute],
) -> BTreeMap<String, String> {
    super::convert::tags_from_pairs(attributes.iter().map(|a| (a.key(), a.value())))
}

/// Sets every health check field on a CreateTargetGroup or ModifyTargetGroup builder: the SDK
/// gives both the same setters but no shared trait. Unset fields are not sent. Evaluates to the
/// builder; `?` returns a conversion error from the enclosing function.
macro_rules! with_health_check {
    ($builder:expr, $hc:expr) => {{
        let hc: &TargetGroupHealthCheck = $hc;
        $builder
            .set_health_check_enabled(hc.enabled)
            .set_health_check_protocol(hc.protocol.map(protocol_to_sdk))
            .set_health_check_port(hc.port.as_ref().map(|p| p.0.clone()))
            .set_health_check_path(hc.path.clone())
            .set_health_check_interval_seconds(opt_i32(
                hc.interval_seconds,
                "healthCheck.intervalSeconds",
            )?)
            .set_health_check_timeout_seconds(opt_i32(
                hc.timeout_seconds,
                "healthCheck.timeoutSeconds",
            )?)
            .set_healthy_threshold_count(opt_i32(
                hc.healthy_threshold_count,
                "healthCheck.healthyThresholdCount",
            )?)
            .set_unhealthy_threshold_count(opt_i32(
                hc.unhealthy_threshold_count,
                "healthCheck.unhealthyThresholdCount",
            )?)
            .set_matcher(hc.matcher.as_ref().map(matcher_to_sdk))
    }};
}

/// The CreateTargetGroup request of `input`, health check flattened.
pub(super) fn create_input(input: &CreateTargetGroup) -> Conv<CreateTargetGroupInputBuilder> {
    let hc = &input.health_check;
    let builder = CreateTargetGroupInputBuilder::default()
        .name(&input.name)
        .set_protocol(input.protocol.map(protocol_to_sdk))
        .set_protocol_version(
            input
                .protocol_version
                .map(|v| protocol_version_to_sdk(v).to_owned()),
        )
        .set_port(opt_i32(input.port, "port")?)
        .set_vpc_id(input.vpc_id.clone())
        .set_target_type(input.target_type.map(target_type_to_sdk))
        .set_ip_address_type(input.ip_address_type.map(ip_address_type_to_sdk))
        .set_target_control_port(opt_i32(input.target_control_port, "targetControlPort")?)
        .set_tags(super::convert::non_empty(elb_tags(&input.tags)));
    Ok(with_health_check!(builder, hc))
}

/// The ModifyTargetGroup request: only the health check fields that are `Some` are sent.
pub(super) fn modify_input(
    arn: &str,
    hc: &TargetGroupHealthCheck,
) -> Conv<ModifyTargetGroupInputBuilder> {
    let builder = ModifyTargetGroupInputBuilder::default().target_group_arn(arn);
    Ok(with_health_check!(builder, hc))
}

fn matcher_to_sdk(m: &Matcher) -> sdk::Matcher {
    sdk::Matcher::builder()
        .set_http_code(m.http_code.clone())
        .set_grpc_code(m.grpc_code.clone())
        .build()
}

/// A described target group, every health check field as AWS reports it.
pub(super) fn target_group_from_sdk(tg: &sdk::TargetGroup) -> Conv<TargetGroup> {
    let name = required(tg.target_group_name(), "targetGroupName")?;
    let lenient = |field: &str, spelling: &str, known: bool| {
        if !known {
            tracing::debug!(
                target_group = name,
                field,
                value = spelling,
                "value not known to the model: ignored"
            );
        }
    };
    let protocol = tg.protocol().and_then(|p| {
        let v = protocol_from_sdk(p);
        lenient("protocol", p.as_str(), v.is_some());
        v
    });
    let health_check_protocol = tg.health_check_protocol().and_then(|p| {
        let v = protocol_from_sdk(p);
        lenient("healthCheckProtocol", p.as_str(), v.is_some());
        v
    });
    Ok(TargetGroup {
        name: name.to_owned(),
        arn: required(tg.target_group_arn(), "targetGroupArn")?.to_owned(),
        protocol,
        protocol_version: tg.protocol_version().and_then(|v| {
            let known = protocol_version_from_sdk(v);
            lenient("protocolVersion", v, known.is_some());
            known
        }),
        port: opt_u32(tg.port(), "port")?,
        target_control_port: opt_u32(tg.target_control_port(), "targetControlPort")?,
        vpc_id: tg.vpc_id().map(str::to_owned),
        target_type: tg.target_type().and_then(|t| {
            let v = target_type_from_sdk(t);
            lenient("targetType", t.as_str(), v.is_some());
            v
        }),
        ip_address_type: tg.ip_address_type().and_then(|t| {
            let v = ip_address_type_from_sdk(t);
            lenient("ipAddressType", t.as_str(), v.is_some());
            v
        }),
        health_check: TargetGroupHealthCheck {
            enabled: tg.health_check_enabled(),
            protocol: health_check_protocol,
            port: tg.health_check_port().map(|p| Scalar(p.to_owned())),
            path: tg.health_check_path().map(str::to_owned),
            interval_seconds: opt_u32(
                tg.health_check_interval_seconds(),
                "healthCheckIntervalSeconds",
            )?,
            timeout_seconds: opt_u32(
                tg.health_check_timeout_seconds(),
                "healthCheckTimeoutSeconds",
            )?,
            healthy_threshold_count: opt_u32(
                tg.healthy_threshold_count(),
                "healthyThresholdCount",
            )?,
            unhealthy_threshold_count: opt_u32(
                tg.unhealthy_threshold_count(),
                "unhealthyThresholdCount",
            )?,
            matcher: tg.matcher().map(|m| Matcher {
                http_code: m.http_code().map(str::to_owned),
                grpc_code: m.grpc_code().map(str::to_owned),
            }),
        },
        load_balancer_arns: tg.load_balancer_arns().to_vec(),
    })
}

/// One target and its health.
pub(super) fn target_health_from_sdk(d: &sdk::TargetHealthDescription) -> Conv<TargetHealth> {
    let target = required(d.target(), "Target")?;
    let health = required(d.target_health(), "TargetHealth")?;
    let state = required(health.state(), "TargetHealth.State")?;
    Ok(TargetHealth {
        id: target.id().unwrap_or_default().to_owned(),
        port: opt_u32(target.port(), "Target.Port")?,
        state: target_health_state(state)
            .ok_or_else(|| ConvError::unknown("TargetHealth.State", state.as_str()))?,
        reason: health.reason().map(|r| r.as_str().to_owned()),
    })
}

fn target_health_state(state: &sdk::TargetHealthStateEnum) -> Option<TargetHealthState> {
    use sdk::TargetHealthStateEnum as S;
    match state {
        S::Initial => Some(TargetHealthState::Initial),
        S::Healthy => Some(TargetHealthState::Healthy),
        S::Unhealthy => Some(TargetHealthState::Unhealthy),
        S::Unused => Some(TargetHealthState::Unused),
        S::Draining | S::UnhealthyDraining => Some(TargetHealthState::Draining),
        S::Unavailable => Some(TargetHealthState::Unavailable),
        _ => None,
    }
}
