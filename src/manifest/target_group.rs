//! The `TargetGroup` kind: an ELBv2 target group. Field names are the CreateTargetGroup
//! parameters in camelCase, with the health check grouped under `healthCheck`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::shorthand::{StringMap, Tags};

/// The longest target group name ELBv2 accepts.
pub const MAX_NAME_LEN: usize = 32;

/// `spec` of a TargetGroup manifest. `metadata.name` is the AWS target group name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TargetGroupSpec {
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `GENEVE`, `QUIC` or `TCP_QUIC` (none for
    /// lambda).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<TargetGroupProtocol>,
    /// `HTTP1` (default), `HTTP2` or `GRPC` for HTTP/HTTPS groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<ProtocolVersion>,
    /// Port the targets receive traffic on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// VPC of the targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// `ip` for Fargate/awsvpc tasks, `instance` for bridge/host mode on EC2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<TargetType>,
    /// `ipv4` (default) or `ipv6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<IpAddressType>,
    /// Health check settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<TargetGroupHealthCheck>,
    /// Target group attributes (`deregistration_delay.timeout_seconds`, `stickiness.enabled`,
    /// ...), values as strings.
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub attributes: StringMap,
    /// Tags (list or map).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// The port the target control agent and the load balancer exchange management traffic on
    /// (the target optimizer); set at creation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_control_port: Option<u32>,
}

/// Target group protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetGroupProtocol {
    /// HTTP.
    Http,
    /// HTTPS.
    Https,
    /// TCP.
    Tcp,
    /// TLS.
    Tls,
    /// UDP.
    Udp,
    /// TCP and UDP.
    TcpUdp,
    /// GENEVE (Gateway Load Balancer).
    Geneve,
    /// QUIC (Network Load Balancer).
    Quic,
    /// TCP and QUIC (Network Load Balancer).
    TcpQuic,
}

/// HTTP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProtocolVersion {
    /// HTTP/1.1.
    Http1,
    /// HTTP/2.
    Http2,
    /// gRPC.
    Grpc,
}

/// Target type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetType {
    /// EC2 instance IDs.
    Instance,
    /// IP addresses (awsvpc tasks).
    Ip,
    /// A Lambda function.
    Lambda,
    /// An Application Load Balancer.
    Alb,
}

/// IP address type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpAddressType {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

/// Every ELBv2 health check setting of a target group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TargetGroupHealthCheck {
    /// HealthCheckEnabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// HealthCheckProtocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<TargetGroupProtocol>,
    /// HealthCheckPort: a port number or `traffic-port` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<super::shorthand::Scalar>,
    /// HealthCheckPath (default `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// HealthCheckIntervalSeconds, 5 to 300 (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u32>,
    /// HealthCheckTimeoutSeconds, 2 to 120 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// HealthyThresholdCount, 2 to 10 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_threshold_count: Option<u32>,
    /// UnhealthyThresholdCount, 2 to 10 (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_threshold_count: Option<u32>,
    /// Matcher: HTTP codes as a string (`"200-299"`) or `{httpCode, grpcCode}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matcher: Option<Matcher>,
}

/// Success codes of a health check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    /// HTTP codes: `"200"`, `"200,202"`, `"200-299"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_code: Option<String>,
    /// gRPC codes: `"12"`, `"0-99"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_code: Option<String>,
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Full {
            #[serde(alias = "HttpCode")]
            http_code: Option<super::shorthand::Scalar>,
            #[serde(alias = "GrpcCode")]
            grpc_code: Option<super::shorthand::Scalar>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Matcher;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("HTTP codes such as \"200-299\", or {httpCode, grpcCode}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Matcher, E> {
                Ok(Matcher {
                    http_code: Some(v.to_string()),
                    grpc_code: None,
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Matcher, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Matcher, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Matcher, A::Error> {
                let full = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Matcher {
                    http_code: full.http_code.map(|s| s.0),
                    grpc_code: full.grpc_code.map(|s| s.0),
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Matcher {
    fn schema_name() -> Cow<'static, str> {
        "Matcher".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "oneOf": [
                {"type": ["string", "integer"], "description": "HTTP success codes, e.g. \"200-299\""},
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "httpCode": {"type": ["string", "integer"]},
                        "grpcCode": {"type": ["string", "integer"]}
                    }
                }
            ]
        })
    }
}
