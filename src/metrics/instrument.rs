//! Counting and timing every cloud call: [`Instrumented`] wraps a [`Cloud`] and implements
//! [`Ecs`] and [`Elbv2`] by delegation, recording `ecs_operator_api_requests_total` and
//! `ecs_operator_api_request_duration_seconds` with the AWS operation name as `operation` and
//! `ok` or the [`ErrorKind`](crate::cloud::ErrorKind) as `outcome`.
//!
//! `backend::connect` puts it inside the rate limiter (rate limiter, then instrumentation, then
//! the backend), so the counts are the calls really sent and the durations exclude token waits.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use super::Metrics;
use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, CreateTargetGroup,
    Described, Page, RegisteredTaskDefinition, Service, Tags, TargetGroup, TargetGroupHealthCheck,
    TargetHealth, TaskDefinition, UpdateService,
};
use crate::cloud::{Cloud, CloudResult, Ecs, Elbv2};
pub use crate::cloud::{ECS_OPERATIONS, ELBV2_OPERATIONS};

/// A [`Cloud`] whose calls are counted and timed in [`Metrics`].
#[derive(Clone)]
pub struct Instrumented {
    inner: Cloud,
    metrics: Metrics,
}

impl std::fmt::Debug for Instrumented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrumented")
            .field("inner", &self.inner)
            .finish()
    }
}

/// `cloud` with every call counted and timed in `metrics`.
pub fn instrument(cloud: Cloud, metrics: &Metrics) -> Cloud {
    Instrumented::new(cloud, metrics).cloud()
}

impl Instrumented {
    /// `inner`, counted in `metrics`.
    pub fn new(inner: Cloud, metrics: &Metrics) -> Instrumented {
        Instrumented {
            inner,
            metrics: metrics.clone(),
        }
    }

    /// The instrumented services as the operator's [`Cloud`].
    pub fn cloud(self) -> Cloud {
        Cloud {
            ecs: Arc::new(self.clone()),
            elbv2: Arc::new(self),
        }
    }

    /// Runs `call`, then records it (tokio time, so paused test time is measured too).
    async fn observe<T>(
        &self,
        service: &'static str,
        operation: &'static str,
        call: impl Future<Output = CloudResult<T>>,
    ) -> CloudResult<T> {
        let start = tokio::time::Instant::now();
        let result = call.await;
        let error = result.as_ref().err().map(|e| e.kind);
        self.metrics
            .api_request(service, operation, error, start.elapsed());
        result
    }
}

#[async_trait]
impl Ecs for Instrumented {
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        self.observe(
            "ecs",
            "DescribeClusters",
            self.inner.ecs.describe_clusters(names),
        )
        .await
    }

    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster> {
        self.observe("ecs", "CreateCluster", self.inner.ecs.create_cluster(input))
            .await
    }

    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        self.observe(
            "ecs",
            "UpdateCluster",
            self.inner.ecs.update_cluster_settings(cluster, settings),
        )
        .await
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        self.observe(
            "ecs",
            "PutClusterCapacityProviders",
            self.inner.ecs.put_cluster_capacity_providers(
                cluster,
                capacity_providers,
                default_strategy,
            ),
        )
        .await
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.observe("ecs", "TagResource", self.inner.ecs.tag_resource(arn, tags))
            .await
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.observe(
            "ecs",
            "UntagResource",
            self.inner.ecs.untag_resource(arn, keys),
        )
        .await
    }

    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.observe(
            "ecs",
            "ListServices",
            self.inner.ecs.list_services(cluster, next_token),
        )
        .await
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        self.observe(
            "ecs",
            "DescribeServices",
            self.inner.ecs.describe_services(cluster, services),
        )
        .await
    }

    async fn create_service(&self, input: &CreateService) -> CloudResult<Service> {
        self.observe("ecs", "CreateService", self.inner.ecs.create_service(input))
            .await
    }

    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service> {
        self.observe("ecs", "UpdateService", self.inner.ecs.update_service(input))
            .await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        self.observe(
            "ecs",
            "DeleteService",
            self.inner.ecs.delete_service(cluster, service, force),
        )
        .await
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.observe(
            "ecs",
            "RegisterTaskDefinition",
            self.inner.ecs.register_task_definition(definition, tags),
        )
        .await
    }

    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.observe(
            "ecs",
            "DescribeTaskDefinition",
            self.inner.ecs.describe_task_definition(task_definition),
        )
        .await
    }

    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.observe(
            "ecs",
            "ListTaskDefinitions",
            self.inner.ecs.list_task_definitions(family, next_token),
        )
        .await
    }

    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.observe(
            "ecs",
            "DeregisterTaskDefinition",
            self.inner.ecs.deregister_task_definition(task_definition),
        )
        .await
    }
}

#[async_trait]
impl Elbv2 for Instrumented {
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        self.observe(
            "elbv2",
            "DescribeTargetGroups",
            self.inner.elbv2.describe_target_groups(names),
        )
        .await
    }

    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        self.observe(
            "elbv2",
            "DescribeTargetGroups",
            self.inner
                .elbv2
                .describe_target_groups_page(marker, page_size),
        )
        .await
    }

    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        self.observe(
            "elbv2",
            "CreateTargetGroup",
            self.inner.elbv2.create_target_group(input),
        )
        .await
    }

    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        self.observe(
            "elbv2",
            "ModifyTargetGroup",
            self.inner.elbv2.modify_target_group(arn, health_check),
        )
        .await
    }

    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        self.observe(
            "elbv2",
            "DescribeTargetGroupAttributes",
            self.inner.elbv2.describe_target_group_attributes(arn),
        )
        .await
    }

    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        self.observe(
            "elbv2",
            "ModifyTargetGroupAttributes",
            self.inner
                .elbv2
                .modify_target_group_attributes(arn, attributes),
        )
        .await
    }

    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        self.observe(
            "elbv2",
            "DescribeTags",
            self.inner.elbv2.describe_tags(arns),
        )
        .await
    }

    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        self.observe("elbv2", "AddTags", self.inner.elbv2.add_tags(arns, tags))
            .await
    }

    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        self.observe(
            "elbv2",
            "RemoveTags",
            self.inner.elbv2.remove_tags(arns, keys),
        )
        .await
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.observe(
            "elbv2",
            "DeleteTargetGroup",
            self.inner.elbv2.delete_target_group(arn),
        )
        .await
    }

    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        self.observe(
            "elbv2",
            "DescribeTargetHealth",
            self.inner.elbv2.describe_target_health(arn),
        )
        .await
    }
}
