//! [`Ecs`] for the simulated endpoints: each call is `Sim::serve` (advance virtual time,
//! throttle with the catalogue's buckets) answered by the state's method of the same name.
//! Counting and faults are layers around it (see `Sim::layers`).

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::Endpoints;
use crate::cloud::Ecs;
use crate::cloud::error::CloudResult;
use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, Described, Page,
    RegisteredTaskDefinition, Service, ServiceDeployment, ServiceDeploymentBrief, Tags, Task,
    TaskDefinition, UpdateService,
};
use crate::cloud::operation::Operation;

#[async_trait]
impl Ecs for Endpoints {
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        self.0
            .serve(Operation::DescribeClusters, |s| s.describe_clusters(names))
    }

    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster> {
        self.0
            .serve(Operation::CreateCluster, |s| s.create_cluster(input))
    }

    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        self.0.serve(Operation::UpdateCluster, |s| {
            s.update_cluster_settings(cluster, settings)
        })
    }

    async fn update_cluster_configuration(
        &self,
        cluster: &str,
        configuration: Option<&crate::cloud::model::ClusterConfiguration>,
        service_connect_defaults: Option<
            &crate::cloud::model::ClusterServiceConnectDefaultsRequest,
        >,
    ) -> CloudResult<Cluster> {
        self.0.serve(Operation::UpdateCluster, |s| {
            s.update_cluster_configuration(cluster, configuration, service_connect_defaults)
        })
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        self.0.serve(Operation::PutClusterCapacityProviders, |s| {
            s.put_cluster_capacity_providers(cluster, capacity_providers, default_strategy)
        })
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.0
            .serve(Operation::TagResource, |s| s.tag_resource(arn, tags))
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.0
            .serve(Operation::UntagResource, |s| s.untag_resource(arn, keys))
    }

    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.0.serve(Operation::ListServices, |s| {
            s.list_services(cluster, next_token)
        })
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        self.0.serve(Operation::DescribeServices, |s| {
            s.describe_services(cluster, services)
        })
    }

    async fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.0.serve(Operation::ListTasks, |s| {
            s.list_stopped_tasks(cluster, service, next_token)
        })
    }

    async fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> CloudResult<Described<Task>> {
        self.0.serve(Operation::DescribeTasks, |s| {
            s.describe_tasks(cluster, tasks)
        })
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ServiceDeploymentBrief>> {
        self.0.serve(Operation::ListServiceDeployments, |s| {
            s.list_service_deployments(cluster, service, next_token)
        })
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> CloudResult<Described<ServiceDeployment>> {
        self.0.serve(Operation::DescribeServiceDeployments, |s| {
            s.describe_service_deployments(arns)
        })
    }

    async fn create_service(&self, input: &CreateService) -> CloudResult<Service> {
        self.0
            .serve(Operation::CreateService, |s| s.create_service(input))
    }

    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service> {
        self.0
            .serve(Operation::UpdateService, |s| s.update_service(input))
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        self.0.serve(Operation::DeleteService, |s| {
            s.delete_service(cluster, service, force)
        })
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.0.serve(Operation::RegisterTaskDefinition, |s| {
            s.register_task_definition(definition, tags)
        })
    }

    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.0.serve(Operation::DescribeTaskDefinition, |s| {
            s.describe_task_definition(task_definition)
        })
    }

    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.0.serve(Operation::ListTaskDefinitions, |s| {
            s.list_task_definitions(family, next_token)
        })
    }

    async fn list_task_definition_families(
        &self,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        self.0.serve(Operation::ListTaskDefinitionFamilies, |s| {
            s.list_task_definition_families(next_token)
        })
    }

    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.0.serve(Operation::DeregisterTaskDefinition, |s| {
            s.deregister_task_definition(task_definition)
        })
    }
}
