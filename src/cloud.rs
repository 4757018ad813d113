//! Cloud access: one trait per AWS service the operator calls ([`Ecs`], [`Elbv2`]), with
//! exactly the calls it needs, and two implementations: [`aws`] (the AWS SDK) and [`sim`] (an
//! in-process simulator of ECS and ELBv2 semantics driven by tokio time).
//!
//! - [`error`]: [`CloudError`] with its closed [`ErrorKind`].
//! - [`model`]: the operator's own types for live objects and call inputs.
//! - [`aws`]: aws-sdk-ecs and aws-sdk-elasticloadbalancingv2 through aws-config.
//! - [`operation`]: the one catalogue of operations (AWS spelling, service, throttling
//!   bucket) and AWS's bucket shapes.
//! - [`layer`]: the one generic wrapper around every call ([`layer::Layer`], [`layer::Layered`]).
//! - [`sim`]: the simulator (scheduler, rolling deployments, circuit breaker, target health,
//!   throttling with the catalogue's buckets, fault injection as a layer, call counters).
//!
//! `cloud` imports nothing above it; choosing and connecting a backend (with the rate limiter
//! and the instrumentation around it) is `crate::connect`.
//!
//! Batch limits are AWS's: callers split their work into batches of at most the `MAX_*`
//! constants below. A backend given more answers [`ErrorKind::Invalid`], as AWS does.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub mod aws;
pub mod defaults;
pub mod error;
pub mod layer;
pub mod model;
pub mod operation;
pub mod sim;

pub use error::{CloudError, CloudResult, ErrorKind};
use model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, CreateTargetGroup,
    Described, Page, RegisteredTaskDefinition, Service, ServiceDeployment, ServiceDeploymentBrief,
    Tags, TargetGroup, TargetGroupHealthCheck, TargetHealth, Task, TaskDefinition, UpdateService,
};
pub use operation::{AwsService, DYNAMODB_OPERATIONS, ECS_OPERATIONS, ELBV2_OPERATIONS, Operation};

/// DescribeClusters: clusters per call.
pub const MAX_DESCRIBE_CLUSTERS: usize = 100;
/// DescribeServices: services per call.
pub const MAX_DESCRIBE_SERVICES: usize = 10;
/// ListServices: services per page.
pub const MAX_LIST_SERVICES: usize = 100;
/// ListTasks page size (AWS's maximum).
pub const MAX_LIST_TASKS: usize = 100;
/// Tasks per DescribeTasks call (AWS's maximum).
pub const MAX_DESCRIBE_TASKS: usize = 100;
/// DescribeServiceDeployments: ARNs per call (AWS's maximum).
pub const MAX_DESCRIBE_SERVICE_DEPLOYMENTS: usize = 20;
/// ListServiceDeployments page size (AWS's maximum).
pub const MAX_LIST_SERVICE_DEPLOYMENTS: usize = 100;
/// DescribeTargetGroups: names per call.
pub const MAX_DESCRIBE_TARGET_GROUPS: usize = 20;
/// DescribeTargetGroups without names: groups per page.
pub const MAX_TARGET_GROUP_PAGE: usize = 400;
/// ELBv2 DescribeTags, AddTags, RemoveTags: ARNs per call.
pub const MAX_TAG_ARNS: usize = 20;

/// The ECS calls the operator makes.
#[async_trait]
pub trait Ecs: Send + Sync {
    /// DescribeClusters (at most [`MAX_DESCRIBE_CLUSTERS`] names), with tags and settings.
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>>;
    /// CreateCluster.
    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster>;
    /// UpdateCluster: replaces the given settings.
    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster>;
    /// UpdateCluster: sets the configuration and the Service Connect defaults given (`None`
    /// leaves one as it is).
    async fn update_cluster_configuration(
        &self,
        cluster: &str,
        configuration: Option<&model::ClusterConfiguration>,
        service_connect_defaults: Option<&model::ClusterServiceConnectDefaultsRequest>,
    ) -> CloudResult<Cluster>;
    /// PutClusterCapacityProviders: replaces providers and default strategy.
    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster>;
    /// TagResource on a cluster, service or task definition ARN.
    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()>;
    /// UntagResource.
    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()>;

    /// ListServices: one page of service ARNs (up to [`MAX_LIST_SERVICES`]).
    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>>;
    /// DescribeServices (at most [`MAX_DESCRIBE_SERVICES`] names or ARNs) with tags.
    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>>;
    /// ListTasks of a service with desiredStatus STOPPED: one page of task ARNs (up to
    /// [`MAX_LIST_TASKS`]).
    async fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>>;
    /// DescribeTasks (at most [`MAX_DESCRIBE_TASKS`] ARNs).
    async fn describe_tasks(&self, cluster: &str, tasks: &[String])
    -> CloudResult<Described<Task>>;
    /// ListServiceDeployments of a service, newest first: one page (up to
    /// [`MAX_LIST_SERVICE_DEPLOYMENTS`]). An API without it (moto) answers
    /// [`CloudError::is_not_implemented`].
    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ServiceDeploymentBrief>>;
    /// DescribeServiceDeployments (at most [`MAX_DESCRIBE_SERVICE_DEPLOYMENTS`] ARNs). An API
    /// without it (moto) answers [`CloudError::is_not_implemented`].
    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> CloudResult<Described<ServiceDeployment>>;
    /// CreateService with a client token.
    async fn create_service(&self, input: &CreateService) -> CloudResult<Service>;
    /// UpdateService.
    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service>;
    /// DeleteService (`force` deletes a service that still has desired tasks).
    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service>;

    /// RegisterTaskDefinition with tags. `definition.family` must be set.
    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition>;
    /// DescribeTaskDefinition (ARN or `family:revision`) with tags.
    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition>;
    /// ListTaskDefinitions of one family (ACTIVE revisions, oldest first): one page of ARNs.
    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>>;
    /// ListTaskDefinitionFamilies: one page of the names of the families with an ACTIVE
    /// revision (100 a page), so that a plan knows which families have no revision to reuse
    /// without asking each one.
    async fn list_task_definition_families(
        &self,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>>;
    /// DeregisterTaskDefinition.
    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition>;
}

/// The ELBv2 calls the operator makes.
#[async_trait]
pub trait Elbv2: Send + Sync {
    /// DescribeTargetGroups by name (at most [`MAX_DESCRIBE_TARGET_GROUPS`]). As in AWS, one
    /// missing name fails the whole call with [`ErrorKind::NotFound`].
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>>;
    /// DescribeTargetGroups without names: one page (`page_size` up to
    /// [`MAX_TARGET_GROUP_PAGE`]).
    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>>;
    /// CreateTargetGroup with tags.
    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup>;
    /// ModifyTargetGroup: health check settings (unset fields are left as they are).
    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup>;
    /// DescribeTargetGroupAttributes.
    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>>;
    /// ModifyTargetGroupAttributes; returns every attribute after the change.
    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>>;
    /// DescribeTags (at most [`MAX_TAG_ARNS`] ARNs): tags by ARN.
    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>>;
    /// AddTags to up to [`MAX_TAG_ARNS`] resources.
    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()>;
    /// RemoveTags from up to [`MAX_TAG_ARNS`] resources.
    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()>;
    /// DeleteTargetGroup.
    async fn delete_target_group(&self, arn: &str) -> CloudResult<()>;
    /// DescribeTargetHealth of every registered target.
    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>>;
}

/// Follows `next_token` from the first page to the last and returns every item.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> CloudResult<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = CloudResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = fetch(token.take()).await?;
        items.extend(page.items);
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(items),
        }
    }
}

/// Both services, as the rest of the operator holds them.
#[derive(Clone)]
pub struct Cloud {
    /// ECS.
    pub ecs: Arc<dyn Ecs>,
    /// ELBv2.
    pub elbv2: Arc<dyn Elbv2>,
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cloud")
    }
}
