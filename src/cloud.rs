//! Cloud access: one trait per AWS service the operator calls ([`Ecs`], [`Elbv2`],
//! [`AutoScaling`]), with
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
use model::{CreateRule, Listener, LoadBalancer, Rule, RuleAction, RuleCondition};
pub use operation::{
    AUTOSCALING_OPERATIONS, AwsService, DYNAMODB_OPERATIONS, ECS_OPERATIONS, ELBV2_OPERATIONS,
    Operation,
};

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
// ---- listener rules (issue 14)
/// DescribeLoadBalancers: names per call.
pub const MAX_DESCRIBE_LOAD_BALANCERS: usize = 20;
/// DescribeListeners and DescribeRules: items per page (AWS's maximum).
pub const MAX_ELBV2_PAGE: usize = 400;

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

    // ---- listener rules (issue 14): load balancers and listeners are only read
    /// DescribeLoadBalancers by name (at most [`MAX_DESCRIBE_LOAD_BALANCERS`]). As in AWS,
    /// one missing name fails the whole call with [`ErrorKind::NotFound`].
    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>>;
    /// DescribeListeners of one load balancer: one page (up to [`MAX_ELBV2_PAGE`]).
    async fn describe_listeners(
        &self,
        load_balancer_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Listener>>;
    /// DescribeRules of one listener: one page (up to [`MAX_ELBV2_PAGE`]), the default rule
    /// included. A missing listener is [`ErrorKind::NotFound`].
    async fn describe_rules(
        &self,
        listener_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Rule>>;
    /// CreateRule with tags (target groups by ARN).
    async fn create_rule(&self, input: &CreateRule) -> CloudResult<Rule>;
    /// ModifyRule: replaces the conditions and the actions (the answer's `listener_arn` is
    /// empty: ModifyRule does not say).
    async fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: &[RuleCondition],
        actions: &[RuleAction],
    ) -> CloudResult<Rule>;
    /// SetRulePriorities: (rule ARN, priority) pairs, applied together.
    async fn set_rule_priorities(&self, priorities: &[(String, u32)]) -> CloudResult<Vec<Rule>>;
    /// DeleteRule (prune only).
    async fn delete_rule(&self, rule_arn: &str) -> CloudResult<()>;
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

/// Every service, as the rest of the operator holds them.
#[derive(Clone)]
pub struct Cloud {
    /// ECS.
    pub ecs: Arc<dyn Ecs>,
    /// ELBv2.
    pub elbv2: Arc<dyn Elbv2>,
    /// Application Auto Scaling.
    pub autoscaling: Arc<dyn AutoScaling>,
}

// ---- Application Auto Scaling (a Service's spec.autoScaling) --------------------------------

/// DescribeScalableTargets: resource ids per call (AWS's maximum, also its page size).
pub const MAX_SCALING_RESOURCE_IDS: usize = 50;
/// DescribeScalingPolicies: policies per page (AWS's maximum).
pub const MAX_SCALING_POLICY_PAGE: usize = 10;
/// DescribeScheduledActions: actions per page (AWS's maximum).
pub const MAX_SCHEDULED_ACTION_PAGE: usize = 50;

/// The Application Auto Scaling calls the operator makes, all in the `ecs` namespace on the
/// `ecs:service:DesiredCount` dimension ([`model::scaling`]).
#[async_trait]
pub trait AutoScaling: Send + Sync {
    /// RegisterScalableTarget: creates or updates the service's target.
    async fn register_scalable_target(
        &self,
        input: &model::scaling::RegisterScalableTarget,
    ) -> CloudResult<()>;
    /// DescribeScalableTargets of these resource ids (at most [`MAX_SCALING_RESOURCE_IDS`]):
    /// one page.
    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
        next_token: Option<&str>,
    ) -> CloudResult<Page<model::scaling::ScalableTarget>>;
    /// DeregisterScalableTarget: AWS deletes its policies and scheduled actions with it.
    async fn deregister_scalable_target(&self, resource_id: &str) -> CloudResult<()>;
    /// PutScalingPolicy (creates or replaces by name); returns the policy's ARN.
    async fn put_scaling_policy(
        &self,
        input: &model::scaling::PutScalingPolicy,
    ) -> CloudResult<String>;
    /// DescribeScalingPolicies: one page ([`MAX_SCALING_POLICY_PAGE`]) of one resource's
    /// policies, or of the namespace's when `resource_id` is `None`.
    async fn describe_scaling_policies(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<model::scaling::ScalingPolicy>>;
    /// DeleteScalingPolicy.
    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()>;
    /// PutScheduledAction (creates or replaces by name).
    async fn put_scheduled_action(
        &self,
        input: &model::scaling::ScheduledAction,
    ) -> CloudResult<()>;
    /// DescribeScheduledActions: one page ([`MAX_SCHEDULED_ACTION_PAGE`]) of one resource's
    /// actions, or of the namespace's when `resource_id` is `None`.
    async fn describe_scheduled_actions(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<model::scaling::ScheduledAction>>;
    /// DeleteScheduledAction.
    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> CloudResult<()>;
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cloud")
    }
}
