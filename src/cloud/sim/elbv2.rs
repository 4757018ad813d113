//! [`Elbv2`] for the simulated endpoints: each call is `Sim::serve` (advance virtual time,
//! throttle with the catalogue's buckets, the shared account bucket included) answered by the
//! state's method of the same name. Counting and faults are layers around it.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::Endpoints;
use crate::cloud::Elbv2;
use crate::cloud::error::CloudResult;
use crate::cloud::model::{CreateRule, Listener, LoadBalancer, Rule, RuleAction, RuleCondition};
use crate::cloud::model::{
    CreateTargetGroup, Page, Tags, TargetGroup, TargetGroupHealthCheck, TargetHealth,
};
use crate::cloud::operation::Operation;

#[async_trait]
impl Elbv2 for Endpoints {
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        self.0.serve(Operation::DescribeTargetGroups, |s| {
            s.describe_target_groups(names)
        })
    }

    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        self.0.serve(Operation::DescribeTargetGroups, |s| {
            s.describe_target_groups_page(marker, page_size)
        })
    }

    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        self.0.serve(Operation::CreateTargetGroup, |s| {
            s.create_target_group(input)
        })
    }

    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        self.0.serve(Operation::ModifyTargetGroup, |s| {
            s.modify_target_group(arn, health_check)
        })
    }

    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        self.0.serve(Operation::DescribeTargetGroupAttributes, |s| {
            s.describe_target_group_attributes(arn)
        })
    }

    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        self.0.serve(Operation::ModifyTargetGroupAttributes, |s| {
            s.modify_target_group_attributes(arn, attributes)
        })
    }

    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        self.0
            .serve(Operation::DescribeTags, |s| s.describe_tags(arns))
    }

    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        self.0.serve(Operation::AddTags, |s| s.add_tags(arns, tags))
    }

    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        self.0
            .serve(Operation::RemoveTags, |s| s.remove_tags(arns, keys))
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.0
            .serve(Operation::DeleteTargetGroup, |s| s.delete_target_group(arn))
    }

    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        self.0.serve(Operation::DescribeTargetHealth, |s| {
            s.describe_target_health(arn)
        })
    }

    // ---- listener rules (issue 14): `listener_rules`
    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        self.0.serve(Operation::DescribeLoadBalancers, |s| {
            s.describe_load_balancers(names)
        })
    }

    async fn describe_listeners(
        &self,
        load_balancer_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Listener>> {
        self.0.serve(Operation::DescribeListeners, |s| {
            s.describe_listeners(load_balancer_arn, marker)
        })
    }

    async fn describe_rules(
        &self,
        listener_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Rule>> {
        self.0.serve(Operation::DescribeRules, |s| {
            s.describe_rules(listener_arn, marker)
        })
    }

    async fn create_rule(&self, input: &CreateRule) -> CloudResult<Rule> {
        self.0
            .serve(Operation::CreateRule, |s| s.create_rule(input))
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: &[RuleCondition],
        actions: &[RuleAction],
    ) -> CloudResult<Rule> {
        self.0.serve(Operation::ModifyRule, |s| {
            s.modify_rule(rule_arn, conditions, actions)
        })
    }

    async fn set_rule_priorities(&self, priorities: &[(String, u32)]) -> CloudResult<Vec<Rule>> {
        self.0.serve(Operation::SetRulePriorities, |s| {
            s.set_rule_priorities(priorities)
        })
    }

    async fn delete_rule(&self, rule_arn: &str) -> CloudResult<()> {
        self.0
            .serve(Operation::DeleteRule, |s| s.delete_rule(rule_arn))
    }
}
