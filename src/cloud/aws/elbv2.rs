//! [`Elbv2`] on aws-sdk-elasticloadbalancingv2: one SDK call per method, errors through
//! [`errors::sdk_error`](super::errors::sdk_error), conversions in
//! [`target_group`](super::target_group).
//!
//! Calls that AWS would reject for an empty list (DescribeTags, AddTags, RemoveTags,
//! ModifyTargetGroupAttributes) or that would mean something else without one
//! (DescribeTargetGroups without names lists every group) answer locally instead.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::Client;
use tracing::debug;

use super::convert::{Conv, at};
use super::errors::sdk_error;
use super::listener_rule;
use super::target_group::{
    attributes_from_sdk, attributes_to_sdk, create_input, elb_tags, modify_input, tags_from_elb,
    target_group_from_sdk, target_health_from_sdk,
};
use crate::cloud::Elbv2;
use crate::cloud::error::{CloudError, CloudResult, ErrorKind};
use crate::cloud::model::{CreateRule, Listener, LoadBalancer, Rule, RuleAction, RuleCondition};
use crate::cloud::model::{
    CreateTargetGroup, Page, Tags, TargetGroup, TargetGroupHealthCheck, TargetHealth,
};

/// The ELBv2 client of the `aws` backend.
#[derive(Debug, Clone)]
pub(super) struct AwsElbv2 {
    client: Client,
}

impl AwsElbv2 {
    /// Wraps a configured client.
    pub(super) fn new(client: Client) -> Self {
        AwsElbv2 { client }
    }
}

/// Converts every described group.
fn groups(items: &[aws_sdk_elasticloadbalancingv2::types::TargetGroup]) -> Conv<Vec<TargetGroup>> {
    items.iter().map(target_group_from_sdk).collect()
}

/// The one group a Create/Modify call answers with.
fn only_group(
    operation: &'static str,
    items: &[aws_sdk_elasticloadbalancingv2::types::TargetGroup],
) -> CloudResult<TargetGroup> {
    let first = items.first().ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            operation,
            "the response has no target group",
        )
    })?;
    target_group_from_sdk(first).map_err(at(operation))
}

#[async_trait]
impl Elbv2 for AwsElbv2 {
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        const OP: &str = "DescribeTargetGroups";
        if names.is_empty() {
            return Ok(Vec::new());
        }
        debug!(operation = OP, names = names.len());
        let out = self
            .client
            .describe_target_groups()
            .set_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        groups(out.target_groups()).map_err(at(OP))
    }

    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        const OP: &str = "DescribeTargetGroups";
        debug!(operation = OP, next_page = marker.is_some(), page_size);
        let out = self
            .client
            .describe_target_groups()
            .set_marker(marker.map(str::to_owned))
            .page_size(i32::try_from(page_size).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: groups(out.target_groups()).map_err(at(OP))?,
            next_token: out
                .next_marker()
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
        })
    }

    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        const OP: &str = "CreateTargetGroup";
        debug!(operation = OP, target_group = %input.name);
        let out = create_input(input)
            .map_err(at(OP))?
            .send_with(&self.client)
            .await
            .map_err(sdk_error(OP))?;
        only_group(OP, out.target_groups())
    }

    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        const OP: &str = "ModifyTargetGroup";
        debug!(operation = OP, arn);
        let out = modify_input(arn, health_check)
            .map_err(at(OP))?
            .send_with(&self.client)
            .await
            .map_err(sdk_error(OP))?;
        only_group(OP, out.target_groups())
    }

    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        const OP: &str = "DescribeTargetGroupAttributes";
        debug!(operation = OP, arn);
        let out = self
            .client
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(attributes_from_sdk(out.attributes()))
    }

    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        const OP: &str = "ModifyTargetGroupAttributes";
        if attributes.is_empty() {
            return self.describe_target_group_attributes(arn).await;
        }
        debug!(operation = OP, arn, attributes = attributes.len());
        let out = self
            .client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .set_attributes(Some(attributes_to_sdk(attributes)))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(attributes_from_sdk(out.attributes()))
    }

    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        const OP: &str = "DescribeTags";
        if arns.is_empty() {
            return Ok(BTreeMap::new());
        }
        debug!(operation = OP, arns = arns.len());
        let out = self
            .client
            .describe_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(out
            .tag_descriptions()
            .iter()
            .filter_map(|d| Some((d.resource_arn()?.to_owned(), tags_from_elb(d.tags()))))
            .collect())
    }

    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        const OP: &str = "AddTags";
        if arns.is_empty() || tags.is_empty() {
            return Ok(());
        }
        debug!(operation = OP, arns = arns.len(), tags = tags.len());
        self.client
            .add_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .set_tags(Some(elb_tags(tags)))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        const OP: &str = "RemoveTags";
        if arns.is_empty() || keys.is_empty() {
            return Ok(());
        }
        debug!(operation = OP, arns = arns.len(), keys = keys.len());
        self.client
            .remove_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        const OP: &str = "DeleteTargetGroup";
        debug!(operation = OP, arn);
        self.client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        const OP: &str = "DescribeTargetHealth";
        debug!(operation = OP, arn);
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        out.target_health_descriptions()
            .iter()
            .map(target_health_from_sdk)
            .collect::<Conv<_>>()
            .map_err(at(OP))
    }

    // ---- listener rules (issue 14): the calls are in `listener_rule`
    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        listener_rule::describe_load_balancers(&self.client, names).await
    }

    async fn describe_listeners(
        &self,
        load_balancer_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Listener>> {
        listener_rule::describe_listeners(&self.client, load_balancer_arn, marker).await
    }

    async fn describe_rules(
        &self,
        listener_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Rule>> {
        listener_rule::describe_rules(&self.client, listener_arn, marker).await
    }

    async fn create_rule(&self, input: &CreateRule) -> CloudResult<Rule> {
        listener_rule::create_rule(&self.client, input).await
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: &[RuleCondition],
        actions: &[RuleAction],
    ) -> CloudResult<Rule> {
        listener_rule::modify_rule(&self.client, rule_arn, conditions, actions).await
    }

    async fn set_rule_priorities(&self, priorities: &[(String, u32)]) -> CloudResult<Vec<Rule>> {
        listener_rule::set_rule_priorities(&self.client, priorities).await
    }

    async fn delete_rule(&self, rule_arn: &str) -> CloudResult<()> {
        listener_rule::delete_rule(&self.client, rule_arn).await
    }
}
