//! [`Elbv2`] for [`Sim`]: each call goes through `Sim::call` (counters, faults, throttling
//! with the shared account bucket, advancing virtual time) and is answered by the state's
//! method of the same name.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{Api, Sim};
use crate::cloud::Elbv2;
use crate::cloud::error::CloudResult;
use crate::cloud::model::{
    CreateTargetGroup, Page, Tags, TargetGroup, TargetGroupHealthCheck, TargetHealth,
};

#[async_trait]
impl Elbv2 for Sim {
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        self.call(Api::Elbv2, "DescribeTargetGroups", |s| {
            s.describe_target_groups(names)
        })
        .await
    }

    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        self.call(Api::Elbv2, "DescribeTargetGroups", |s| {
            s.describe_target_groups_page(marker, page_size)
        })
        .await
    }

    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        self.call(Api::Elbv2, "CreateTargetGroup", |s| {
            s.create_target_group(input)
        })
        .await
    }

    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        self.call(Api::Elbv2, "ModifyTargetGroup", |s| {
            s.modify_target_group(arn, health_check)
        })
        .await
    }

    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        self.call(Api::Elbv2, "DescribeTargetGroupAttributes", |s| {
            s.describe_target_group_attributes(arn)
        })
        .await
    }

    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        self.call(Api::Elbv2, "ModifyTargetGroupAttributes", |s| {
            s.modify_target_group_attributes(arn, attributes)
        })
        .await
    }

    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        self.call(Api::Elbv2, "DescribeTags", |s| s.describe_tags(arns))
            .await
    }

    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        self.call(Api::Elbv2, "AddTags", |s| s.add_tags(arns, tags))
            .await
    }

    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        self.call(Api::Elbv2, "RemoveTags", |s| s.remove_tags(arns, keys))
            .await
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.call(Api::Elbv2, "DeleteTargetGroup", |s| {
            s.delete_target_group(arn)
        })
        .await
    }

    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        self.call(Api::Elbv2, "DescribeTargetHealth", |s| {
            s.describe_target_health(arn)
        })
        .await
    }
}
