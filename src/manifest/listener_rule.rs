//! The `ListenerRule` kind: one rule of an ELBv2 listener (path or host routing to target
//! groups). Field names are CreateRule's in camelCase; `conditions` and `actions` are ELBv2's
//! own JSON shapes (generated from the AWS model, `RuleCondition` and `RuleAction` in
//! [`super::generated`]), so `aws elbv2 describe-rules` output can be pasted in. A forward may
//! name TargetGroup manifests (`TargetGroupName`) instead of ARNs.
//!
//! The load balancer and its listeners stay managed elsewhere (Terraform, CDK, the console):
//! a rule names its listener by ARN, or by the load balancer's name and the listener's port.
//! A listener's default action is not a rule the operator manages: a catch-all is a rule of
//! its own with the condition `path-pattern: /*` at a high priority number.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::generated::{
    ActionTypeEnum, FixedResponseActionConfig, ForwardActionConfig, HostHeaderConditionConfig,
    HttpHeaderConditionConfig, HttpRequestMethodConditionConfig, PathPatternConditionConfig,
    QueryStringConditionConfig, QueryStringKeyValuePair, RedirectActionConfig,
    RedirectActionStatusCodeEnum, RuleAction, RuleCondition, SourceIpConditionConfig,
    TargetGroupStickinessConfig, TargetGroupTuple,
};
use super::shorthand::Tags;

/// The lowest rule priority ELBv2 accepts (evaluated first).
pub const MIN_PRIORITY: u32 = 1;
/// The highest rule priority ELBv2 accepts (evaluated last, before the default action).
pub const MAX_PRIORITY: u32 = 50_000;
/// The largest weight of a target group in a forward action.
pub const MAX_WEIGHT: u32 = 999;
/// Target groups one forward action may name.
pub const MAX_FORWARD_TARGET_GROUPS: usize = 5;
/// The condition fields ELBv2 knows (`RuleCondition.Field`).
pub const CONDITION_FIELDS: &[&str] = &[
    "path-pattern",
    "host-header",
    "http-header",
    "query-string",
    "http-request-method",
    "source-ip",
];

/// `spec` of a ListenerRule manifest. `metadata.name` names the rule for the operator (ELBv2
/// rules have no name): it is kept in the rule's tag `ecs-operator/name`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ListenerRuleSpec {
    /// The listener the rule belongs to (managed elsewhere).
    pub listener: ListenerRef,
    /// Evaluation order, 1 (first) to 50000 (last); unique per listener.
    pub priority: u32,
    /// When the rule applies: ELBv2 `RuleCondition`s (all must match).
    #[serde(default)]
    pub conditions: Vec<RuleCondition>,
    /// What it does: ELBv2 `Action`s (`forward`, `fixed-response`, `redirect`).
    #[serde(default)]
    pub actions: Vec<RuleAction>,
    /// Tags (list or map).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// Which listener: its ARN, or its load balancer's name and its port.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ListenerRef {
    /// The listener's ARN (exclusive with `loadBalancerName` and `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The name of the load balancer (with `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_name: Option<String>,
    /// The port of the listener on that load balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
}

impl ListenerRef {
    /// A listener by ARN.
    pub fn by_arn(arn: &str) -> ListenerRef {
        ListenerRef {
            arn: Some(arn.to_string()),
            ..ListenerRef::default()
        }
    }

    /// A listener by load balancer name and port.
    pub fn named(load_balancer: &str, port: u32) -> ListenerRef {
        ListenerRef {
            load_balancer_name: Some(load_balancer.to_string()),
            port: Some(port),
            ..ListenerRef::default()
        }
    }
}

impl std::fmt::Display for ListenerRef {
    /// `shop-alb:80`, or the ARN.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.arn, &self.load_balancer_name, self.port) {
            (Some(arn), _, _) => f.write_str(arn),
            (None, Some(lb), Some(port)) => write!(f, "{lb}:{port}"),
            (None, Some(lb), None) => write!(f, "{lb}:?"),
            (None, None, _) => f.write_str("?"),
        }
    }
}
