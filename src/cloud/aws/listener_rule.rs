//! ELBv2 load balancers, listeners and listener rules: the SDK calls of the listener rule
//! kind. Conditions and actions convert member by member through the generated
//! `ToSdk`/`FromSdk` ([`super::generated`]); a described priority is a string (`"10"`, or
//! `"default"` for the listener's default rule).

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types as sdk;
use tracing::debug;

use super::convert::{Conv, ConvError, at, required};
use super::errors::sdk_error;
use super::shape_conv::{FromSdk, ToSdk};
use super::target_group::elb_tags;
use crate::cloud::error::CloudResult;
use crate::cloud::model::{
    CreateRule, Listener, LoadBalancer, Page, Rule, RuleAction, RuleCondition,
};
use crate::cloud::{MAX_DESCRIBE_LOAD_BALANCERS, MAX_ELBV2_PAGE};

fn page_size() -> i32 {
    i32::try_from(MAX_ELBV2_PAGE).unwrap_or(i32::MAX)
}

fn next(marker: Option<&str>) -> Option<String> {
    marker.filter(|m| !m.is_empty()).map(str::to_owned)
}

/// A described rule of `listener_arn`.
fn rule_from_sdk(r: &sdk::Rule, listener_arn: &str) -> Conv<Rule> {
    let priority = match r.priority() {
        None | Some("default") => None,
        Some(p) => Some(
            p.parse::<u32>()
                .map_err(|_| ConvError::unknown("Rule.Priority", p))?,
        ),
    };
    Ok(Rule {
        arn: required(r.rule_arn(), "RuleArn")?.to_owned(),
        listener_arn: listener_arn.to_owned(),
        priority,
        conditions: r
            .conditions()
            .iter()
            .map(RuleCondition::from_sdk)
            .collect::<Conv<_>>()?,
        actions: r
            .actions()
            .iter()
            .map(RuleAction::from_sdk)
            .collect::<Conv<_>>()?,
        is_default: r.is_default().unwrap_or(false),
    })
}

fn conditions_to_sdk(c: &[RuleCondition]) -> Conv<Vec<sdk::RuleCondition>> {
    c.iter().map(ToSdk::to_sdk).collect()
}

fn actions_to_sdk(a: &[RuleAction]) -> Conv<Vec<sdk::Action>> {
    a.iter().map(ToSdk::to_sdk).collect()
}

/// DescribeLoadBalancers by name.
pub(super) async fn describe_load_balancers(
    client: &Client,
    names: &[String],
) -> CloudResult<Vec<LoadBalancer>> {
    const OP: &str = "DescribeLoadBalancers";
    if names.is_empty() {
        return Ok(Vec::new());
    }
    debug!(
        operation = OP,
        names = names.len(),
        max = MAX_DESCRIBE_LOAD_BALANCERS
    );
    let out = client
        .describe_load_balancers()
        .set_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(sdk_error(OP))?;
    out.load_balancers()
        .iter()
        .map(|lb| {
            Ok(LoadBalancer {
                name: required(lb.load_balancer_name(), "LoadBalancerName")?.to_owned(),
                arn: required(lb.load_balancer_arn(), "LoadBalancerArn")?.to_owned(),
                kind: lb
                    .r#type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
            })
        })
        .collect::<Conv<_>>()
        .map_err(at(OP))
}

/// DescribeListeners of a load balancer: one page.
pub(super) async fn describe_listeners(
    client: &Client,
    load_balancer_arn: &str,
    marker: Option<&str>,
) -> CloudResult<Page<Listener>> {
    const OP: &str = "DescribeListeners";
    debug!(
        operation = OP,
        load_balancer_arn,
        next_page = marker.is_some()
    );
    let out = client
        .describe_listeners()
        .load_balancer_arn(load_balancer_arn)
        .set_marker(marker.map(str::to_owned))
        .page_size(page_size())
        .send()
        .await
        .map_err(sdk_error(OP))?;
    let items = out
        .listeners()
        .iter()
        .map(|l| {
            Ok(Listener {
                arn: required(l.listener_arn(), "ListenerArn")?.to_owned(),
                load_balancer_arn: l
                    .load_balancer_arn()
                    .unwrap_or(load_balancer_arn)
                    .to_owned(),
                port: super::convert::opt_u32(l.port(), "Port")?.unwrap_or_default(),
                protocol: l
                    .protocol()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            })
        })
        .collect::<Conv<_>>()
        .map_err(at(OP))?;
    Ok(Page {
        items,
        next_token: next(out.next_marker()),
    })
}

/// DescribeRules of a listener: one page.
pub(super) async fn describe_rules(
    client: &Client,
    listener_arn: &str,
    marker: Option<&str>,
) -> CloudResult<Page<Rule>> {
    const OP: &str = "DescribeRules";
    debug!(operation = OP, listener_arn, next_page = marker.is_some());
    let out = client
        .describe_rules()
        .listener_arn(listener_arn)
        .set_marker(marker.map(str::to_owned))
        .page_size(page_size())
        .send()
        .await
        .map_err(sdk_error(OP))?;
    let items = out
        .rules()
        .iter()
        .map(|r| rule_from_sdk(r, listener_arn))
        .collect::<Conv<_>>()
        .map_err(at(OP))?;
    Ok(Page {
        items,
        next_token: next(out.next_marker()),
    })
}

/// CreateRule with tags.
pub(super) async fn create_rule(client: &Client, input: &CreateRule) -> CloudResult<Rule> {
    const OP: &str = "CreateRule";
    debug!(operation = OP, listener_arn = %input.listener_arn, priority = input.priority);
    let out = client
        .create_rule()
        .listener_arn(&input.listener_arn)
        .priority(i32::try_from(input.priority).unwrap_or(i32::MAX))
        .set_conditions(Some(conditions_to_sdk(&input.conditions).map_err(at(OP))?))
        .set_actions(Some(actions_to_sdk(&input.actions).map_err(at(OP))?))
        .set_tags(super::convert::non_empty(elb_tags(&input.tags)))
        .send()
        .await
        .map_err(sdk_error(OP))?;
    only_rule(OP, out.rules(), &input.listener_arn)
}

/// ModifyRule: conditions and actions replaced.
pub(super) async fn modify_rule(
    client: &Client,
    rule_arn: &str,
    conditions: &[RuleCondition],
    actions: &[RuleAction],
) -> CloudResult<Rule> {
    const OP: &str = "ModifyRule";
    debug!(operation = OP, rule_arn);
    let out = client
        .modify_rule()
        .rule_arn(rule_arn)
        .set_conditions(Some(conditions_to_sdk(conditions).map_err(at(OP))?))
        .set_actions(Some(actions_to_sdk(actions).map_err(at(OP))?))
        .send()
        .await
        .map_err(sdk_error(OP))?;
    only_rule(OP, out.rules(), "")
}

/// SetRulePriorities.
pub(super) async fn set_rule_priorities(
    client: &Client,
    priorities: &[(String, u32)],
) -> CloudResult<Vec<Rule>> {
    const OP: &str = "SetRulePriorities";
    if priorities.is_empty() {
        return Ok(Vec::new());
    }
    debug!(operation = OP, rules = priorities.len());
    let pairs = priorities
        .iter()
        .map(|(arn, p)| {
            sdk::RulePriorityPair::builder()
                .rule_arn(arn)
                .priority(i32::try_from(*p).unwrap_or(i32::MAX))
                .build()
        })
        .collect();
    let out = client
        .set_rule_priorities()
        .set_rule_priorities(Some(pairs))
        .send()
        .await
        .map_err(sdk_error(OP))?;
    out.rules()
        .iter()
        .map(|r| rule_from_sdk(r, ""))
        .collect::<Conv<_>>()
        .map_err(at(OP))
}

/// DeleteRule.
pub(super) async fn delete_rule(client: &Client, rule_arn: &str) -> CloudResult<()> {
    const OP: &str = "DeleteRule";
    debug!(operation = OP, rule_arn);
    client
        .delete_rule()
        .rule_arn(rule_arn)
        .send()
        .await
        .map_err(sdk_error(OP))?;
    Ok(())
}

fn only_rule(
    operation: &'static str,
    rules: &[sdk::Rule],
    listener_arn: &str,
) -> CloudResult<Rule> {
    let first = rules.first().ok_or_else(|| {
        crate::cloud::CloudError::new(
            crate::cloud::ErrorKind::Other,
            operation,
            "the response has no rule",
        )
    })?;
    rule_from_sdk(first, listener_arn).map_err(at(operation))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The every-member fixtures of codegen/shapes.py: each member is kept by the manifest
    /// types and survives ToSdk then FromSdk (a member a conversion dropped fails here).
    #[test]
    fn every_member_of_a_condition_and_an_action_survives_the_sdk_round_trip() {
        let json = include_str!("../../../tests/fixtures/every-member/RuleCondition.json");
        let c: RuleCondition = serde_json::from_str(json).expect("the fixture parses");
        let fixture: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), fixture);
        let back = RuleCondition::from_sdk(&c.to_sdk().expect("to the SDK")).expect("back");
        assert_eq!(back, c);

        let json = include_str!("../../../tests/fixtures/every-member/Action.json");
        let a: RuleAction = serde_json::from_str(json).expect("the fixture parses");
        let fixture: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_value(&a).unwrap(), fixture);
        let back = RuleAction::from_sdk(&a.to_sdk().expect("to the SDK")).expect("back");
        assert_eq!(back, a);
    }
}
