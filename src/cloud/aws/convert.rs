//! What the model <-> SDK conversions share: checked integers, tags, timestamps, a conversion
//! error, and the table of every enum the model and the SDKs both know.
//!
//! Unknown SDK enum values (a variant AWS added after this model) never panic. The functions
//! generated here answer `None`; each caller picks what is safer for its field: `None` (or
//! skipping a list item) for descriptive fields of batched answers, so one odd resource does not
//! fail a whole batch, and an error of kind [`ErrorKind::Other`] for task definition content,
//! which must be read exactly before the operator decides to register a revision.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_ecs::primitives::DateTime;

use crate::cloud::error::{CloudError, ErrorKind};

/// Why a value could not be converted; becomes a [`CloudError`] once the operation is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConvError {
    kind: ErrorKind,
    message: String,
    /// Whether `message` already names the member (the innermost one is named, once).
    located: bool,
}

impl ConvError {
    /// A request value AWS could not take (kind [`ErrorKind::Invalid`]).
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        ConvError {
            kind: ErrorKind::Invalid,
            message: message.into(),
            located: false,
        }
    }

    /// A response value the model cannot represent (kind [`ErrorKind::Other`]).
    pub(super) fn unknown(field: &str, value: &str) -> Self {
        ConvError {
            kind: ErrorKind::Other,
            message: format!("{field}: value {value:?} is not supported by ecs-operator"),
            located: false,
        }
    }

    /// A response without a field AWS always sends (kind [`ErrorKind::Other`]).
    pub(super) fn missing(field: &str) -> Self {
        ConvError {
            kind: ErrorKind::Other,
            message: format!("the response has no {field}"),
            located: true,
        }
    }

    /// The error inside member `path` (`ContainerDefinition.cpu`), unless it names one already.
    pub(super) fn within(self, path: &str) -> Self {
        if self.located {
            return self;
        }
        ConvError {
            message: format!("{path}: {}", self.message),
            located: true,
            ..self
        }
    }

    /// The [`CloudError`] of `operation`.
    pub(super) fn at(self, operation: &'static str) -> CloudError {
        CloudError::new(self.kind, operation, self.message)
    }
}

/// A conversion result.
pub(super) type Conv<T> = Result<T, ConvError>;

/// A closure for `map_err`: `.map_err(at("RegisterTaskDefinition"))`.
pub(super) fn at(operation: &'static str) -> impl FnOnce(ConvError) -> CloudError {
    move |e| e.at(operation)
}

/// `u32` of the model -> `i32` of the SDKs (AWS rejects larger values anyway).
pub(super) fn to_i32(value: u32, field: &str) -> Conv<i32> {
    i32::try_from(value).map_err(|_| ConvError::invalid(format!("{field}: {value} is too large")))
}

/// Optional [`to_i32`].
pub(super) fn opt_i32(value: Option<u32>, field: &str) -> Conv<Option<i32>> {
    value.map(|v| to_i32(v, field)).transpose()
}

/// `i32` of the SDKs -> `u32` of the model (AWS never sends negatives).
pub(super) fn to_u32(value: i32, field: &str) -> Conv<u32> {
    u32::try_from(value).map_err(|_| ConvError::unknown(field, &value.to_string()))
}

/// Optional [`to_u32`].
pub(super) fn opt_u32(value: Option<i32>, field: &str) -> Conv<Option<u32>> {
    value.map(|v| to_u32(v, field)).transpose()
}

/// A field AWS always sends.
pub(super) fn required<T>(value: Option<T>, field: &str) -> Conv<T> {
    value.ok_or_else(|| ConvError::missing(field))
}

/// `Some(list)` unless empty: lists the model leaves empty are not sent.
pub(super) fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// A timestamp; one outside `SystemTime`'s range is dropped.
pub(super) fn time(value: Option<&DateTime>) -> Option<SystemTime> {
    value.and_then(|t| SystemTime::try_from(*t).ok())
}

/// Tags from key/value pairs that may lack either (both SDKs spell tags this way).
pub(super) fn tags_from_pairs<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

/// Generates both directions of an enum mapping: `$to(model) -> sdk` (total) and
/// `$from(&sdk) -> Option<model>` (`None` for SDK values the model does not know).
macro_rules! enum_pair {
    ($to:ident, $from:ident, $model:ty, $sdk:ty, [$($m:ident <=> $s:ident),+ $(,)?]) => {
        /// Model -> SDK.
        pub(in crate::cloud::aws) fn $to(value: $model) -> $sdk {
            type M = $model;
            type S = $sdk;
            match value {
                $(M::$m => S::$s,)+
            }
        }

        /// SDK -> model; `None` for a value the model does not know.
        pub(in crate::cloud::aws) fn $from(value: &$sdk) -> Option<$model> {
            type M = $model;
            type S = $sdk;
            match value {
                $(S::$s => Some(M::$m),)+
                _ => None,
            }
        }
    };
}

/// Enum tables of clusters and services.
pub(super) mod service {
    use aws_sdk_ecs::types as sdk;

    use crate::manifest::service as m;
    use crate::manifest::task_definition::EnabledDisabled;

    enum_pair!(launch_type_to_sdk, launch_type_from_sdk, m::LaunchType, sdk::LaunchType, [
        Ec2 <=> Ec2, Fargate <=> Fargate, External <=> External, ManagedInstances <=> ManagedInstances,
    ]);
    enum_pair!(scheduling_strategy_to_sdk, scheduling_strategy_from_sdk, m::SchedulingStrategy, sdk::SchedulingStrategy, [
        Replica <=> Replica, Daemon <=> Daemon,
    ]);
    enum_pair!(controller_to_sdk, controller_from_sdk, m::DeploymentControllerType, sdk::DeploymentControllerType, [
        Ecs <=> Ecs, CodeDeploy <=> CodeDeploy, External <=> External,
    ]);
    enum_pair!(propagate_tags_to_sdk, propagate_tags_from_sdk, m::PropagateTags, sdk::PropagateTags, [
        TaskDefinition <=> TaskDefinition, Service <=> Service, None <=> None,
    ]);
    enum_pair!(strategy_type_to_sdk, strategy_type_from_sdk, m::PlacementStrategyType, sdk::PlacementStrategyType, [
        Random <=> Random, Spread <=> Spread, Binpack <=> Binpack,
    ]);
    enum_pair!(constraint_type_to_sdk, constraint_type_from_sdk, m::PlacementConstraintType, sdk::PlacementConstraintType, [
        DistinctInstance <=> DistinctInstance, MemberOf <=> MemberOf,
    ]);
    enum_pair!(public_ip_to_sdk, public_ip_from_sdk, EnabledDisabled, sdk::AssignPublicIp, [
        Enabled <=> Enabled, Disabled <=> Disabled,
    ]);
}

/// Enum tables of target groups.
pub(super) mod target_group {
    use aws_sdk_elasticloadbalancingv2::types as sdk;

    use crate::manifest::target_group as m;

    enum_pair!(protocol_to_sdk, protocol_from_sdk, m::TargetGroupProtocol, sdk::ProtocolEnum, [
        Http <=> Http, Https <=> Https, Tcp <=> Tcp, Tls <=> Tls, Udp <=> Udp, TcpUdp <=> TcpUdp,
        Geneve <=> Geneve, Quic <=> Quic, TcpQuic <=> TcpQuic,
    ]);
    enum_pair!(target_type_to_sdk, target_type_from_sdk, m::TargetType, sdk::TargetTypeEnum, [
        Instance <=> Instance, Ip <=> Ip, Lambda <=> Lambda, Alb <=> Alb,
    ]);
    enum_pair!(ip_address_type_to_sdk, ip_address_type_from_sdk, m::IpAddressType, sdk::TargetGroupIpAddressTypeEnum, [
        Ipv4 <=> Ipv4, Ipv6 <=> Ipv6,
    ]);

    /// Protocol version (a string in the API) -> SDK spelling.
    pub(in crate::cloud::aws) fn protocol_version_to_sdk(
        value: m::ProtocolVersion,
    ) -> &'static str {
        match value {
            m::ProtocolVersion::Http1 => "HTTP1",
            m::ProtocolVersion::Http2 => "HTTP2",
            m::ProtocolVersion::Grpc => "GRPC",
        }
    }

    /// Protocol version from the API's string; `None` for one the model does not know.
    pub(in crate::cloud::aws) fn protocol_version_from_sdk(
        value: &str,
    ) -> Option<m::ProtocolVersion> {
        match value {
            "HTTP1" => Some(m::ProtocolVersion::Http1),
            "HTTP2" => Some(m::ProtocolVersion::Http2),
            "GRPC" => Some(m::ProtocolVersion::Grpc),
            _ => None,
        }
    }
}
