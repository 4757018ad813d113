//! [`Ecs`] for [`Sim`]: each call goes through `Sim::call` (counters, faults, throttling,
//! advancing virtual time) and is answered by the state's method of the same name.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{Api, Sim};
use crate::cloud::Ecs;
use crate::cloud::error::CloudResult;
use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, Described, Page,
    RegisteredTaskDefinition, Service, Tags, TaskDefinition, UpdateService,
};

#[async_trait]
impl Ecs for Sim {
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        self.call(Api::Ecs, "DescribeClusters", |s| s.describe_clusters(names))
            .await
    }

    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster> {
        self.call(Api::Ecs, "CreateCluster", |s| s.create_cluster(input))
            .await
    }

    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        self.call(Api::Ecs, "UpdateCluster", |s| {
            s.update_cluster_settings(cluster, settings)
        })
        .await
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        self.call(Api::Ecs, "PutClusterCapacityProviders", |s| {
            s.put_cluster_capacity_providers(cluster, capacity_providers, default_strategy)
        })
        .await
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.call(Api::Ecs, "TagResource", |s| s.tag_resource(arn, tags))
            .await
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.call(Api::Ecs, "UntagResource", |s| s.untag_resource(arn, keys))
            .await
    }

    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.call(Api::Ecs, "ListServices", |s| {
            s.list_services(cluster, next_token)
        })
        .await
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        self.call(Api::Ecs, "DescribeServices", |s| {
            s.describe_services(cluster, services)
        })
        .await
    }

    async fn create_service(&self, input: &CreateService) -> CloudResult<Service> {
        self.call(Api::Ecs, "CreateService", |s| s.create_service(input))
            .await
    }

    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service> {
        self.call(Api::Ecs, "UpdateService", |s| s.update_service(input))
            .await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        self.call(Api::Ecs, "DeleteService", |s| {
            s.delete_service(cluster, service, force)
        })
        .await
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.call(Api::Ecs, "RegisterTaskDefinition", |s| {
            s.register_task_definition(definition, tags)
        })
        .await
    }

    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.call(Api::Ecs, "DescribeTaskDefinition", |s| {
            s.describe_task_definition(task_definition)
        })
        .await
    }

    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.call(Api::Ecs, "ListTaskDefinitions", |s| {
            s.list_task_definitions(family, next_token)
        })
        .await
    }

    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.call(Api::Ecs, "DeregisterTaskDefinition", |s| {
            s.deregister_task_definition(task_definition)
        })
        .await
    }
}
