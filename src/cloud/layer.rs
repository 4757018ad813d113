//! The one generic wrapper around every cloud call: a [`Layer`] sees each call of the
//! [`Ecs`] and [`Elbv2`] traits (its [`Operation`] and the resource it is about) before it is
//! sent and after it answered, and [`Layered`] is the ONE forwarding implementation of both
//! traits, running every call through its layers in order. Rate limiting
//! (`ratelimit::Admission`), instrumentation (`metrics::instrument::Instrument`), the failed
//! call log line ([`LogFailures`]), the simulator's request counter and fault injection are
//! layers; none of them spells out the trait methods again.
//!
//! A layer's [`Layer::enter`] may wait (a token bucket), hold something for the duration of
//! the call in its [`Ticket`] (an in-flight permit, a start time), or fail the call without
//! sending it (an injected fault): the layers entered before it then see that error in
//! [`Layer::exit`], innermost first, and the inner call is never made. A call whose future is
//! dropped (a caller's timeout) drops its tickets without `exit`.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use super::model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, CreateTargetGroup,
    Described, Page, RegisteredTaskDefinition, Service, Tags, TargetGroup, TargetGroupHealthCheck,
    TargetHealth, Task, TaskDefinition, UpdateService,
};
use super::model::{CreateRule, Listener, LoadBalancer, Rule, RuleAction, RuleCondition};
use super::model::{ServiceDeployment, ServiceDeploymentBrief};
use super::operation::Operation;
use super::{Cloud, CloudError, CloudResult, Ecs, Elbv2, ErrorKind};

/// What a call is about, borrowed from its arguments (formatted only when logged).
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// Nothing in particular (a page of every target group).
    None,
    /// One name or ARN.
    One(&'a str),
    /// Several names or ARNs.
    Many(&'a [String]),
    /// A name or ARN within a cluster (`shop/api`).
    Within(&'a str, &'a str),
    /// Several names or ARNs within a cluster.
    WithinMany(&'a str, &'a [String]),
}

/// An ARN shortened to its resource part (`service/shop/api`); anything else as it is.
fn short(name: &str) -> &str {
    if name.starts_with("arn:") {
        name.splitn(6, ':').nth(5).unwrap_or(name)
    } else {
        name
    }
}

/// The first of a list and how many more.
fn list(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    match names {
        [] => Ok(()),
        [one] => f.write_str(short(one)),
        [first, rest @ ..] => write!(f, "{} (+{} more)", short(first), rest.len()),
    }
}

impl fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Resource::None => Ok(()),
            Resource::One(name) => f.write_str(short(name)),
            Resource::Many(names) => list(f, names),
            Resource::Within(cluster, name) => write!(f, "{}/{}", short(cluster), short(name)),
            Resource::WithinMany(cluster, names) => {
                write!(f, "{}/", short(cluster))?;
                list(f, names)
            }
        }
    }
}

/// One call as the layers see it.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    /// The operation.
    pub operation: Operation,
    /// What it is about.
    pub resource: Resource<'a>,
}

/// What a layer keeps from [`Layer::enter`] to [`Layer::exit`] (dropped with the call).
#[derive(Default)]
pub struct Ticket(Option<Box<dyn Any + Send>>);

impl Ticket {
    /// Nothing kept.
    pub fn none() -> Ticket {
        Ticket(None)
    }

    /// Keeps `value` for the duration of the call.
    pub fn hold<T: Any + Send>(value: T) -> Ticket {
        Ticket(Some(Box::new(value)))
    }

    /// The value kept, when it is a `T`.
    pub fn take<T: Any>(self) -> Option<T> {
        self.0.and_then(|b| b.downcast::<T>().ok()).map(|b| *b)
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Ticket(..)"
        } else {
            "Ticket"
        })
    }
}

/// Something done around every cloud call (object safe: [`Layered`] holds `dyn Layer`s).
#[async_trait]
pub trait Layer: Send + Sync {
    /// Before the call is sent: may wait, keep something in the ticket, or fail the call
    /// (it is then not sent).
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket>;

    /// After it answered (or a layer inside this one failed it): `outcome` is the error, which
    /// a layer may complete (a request id).
    fn exit(&self, call: &CallInfo<'_>, ticket: Ticket, outcome: Result<(), &mut CloudError>) {
        let _ = (call, ticket, outcome);
    }

    /// After the call succeeded, innermost layer first: an error to answer instead, as if the
    /// answer were lost on the way back (an injected fault); the layers' `exit` then see it.
    fn lose(&self, call: &CallInfo<'_>) -> Option<CloudError> {
        let _ = call;
        None
    }
}

/// A [`Cloud`] whose every call runs through `layers`, first to last on the way in and last
/// to first on the way out: the one forwarding of the [`Ecs`] and [`Elbv2`] traits.
#[derive(Clone)]
pub struct Layered {
    inner: Cloud,
    layers: Arc<[Arc<dyn Layer>]>,
}

impl fmt::Debug for Layered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layered")
            .field("inner", &self.inner)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Layered {
    /// `inner` behind `layers` (the first is the outermost).
    pub fn new(inner: Cloud, layers: Vec<Arc<dyn Layer>>) -> Layered {
        Layered {
            inner,
            layers: layers.into(),
        }
    }

    /// The layered services as the operator's [`Cloud`].
    pub fn cloud(self) -> Cloud {
        Cloud {
            ecs: Arc::new(self.clone()),
            elbv2: Arc::new(self.clone()),
            autoscaling: Arc::new(self),
        }
    }

    /// Runs `call` (a future not polled yet) through the layers.
    async fn run<T>(
        &self,
        operation: Operation,
        resource: Resource<'_>,
        call: impl Future<Output = CloudResult<T>>,
    ) -> CloudResult<T> {
        let info = CallInfo {
            operation,
            resource,
        };
        run(&self.layers, &info, call).await
    }
}

/// Runs `call` (a future not polled yet) through `layers`, first to last on the way in and
/// last to first on the way out: what [`Layered`] does for every trait call, and what the
/// lease store (`crate::lease`) does for its DynamoDB calls, so they are rate limited,
/// counted and logged like any other.
pub async fn run<T>(
    layers: &[Arc<dyn Layer>],
    info: &CallInfo<'_>,
    call: impl Future<Output = CloudResult<T>>,
) -> CloudResult<T> {
    let mut tickets = Vec::with_capacity(layers.len());
    for layer in layers.iter() {
        match layer.enter(info).await {
            Ok(ticket) => tickets.push(ticket),
            Err(mut e) => {
                for (layer, ticket) in layers.iter().zip(tickets).rev() {
                    layer.exit(info, ticket, Err(&mut e));
                }
                return Err(e);
            }
        }
    }
    let mut result = call.await;
    if result.is_ok()
        && let Some(lost) = layers.iter().rev().find_map(|l| l.lose(info))
    {
        result = Err(lost);
    }
    for (layer, ticket) in layers.iter().zip(tickets).rev() {
        layer.exit(info, ticket, result.as_mut().map(|_| ()));
    }
    result
}

/// `inner` behind `layers`; `inner` itself when there are none.
pub fn wrap(inner: Cloud, layers: Vec<Arc<dyn Layer>>) -> Cloud {
    if layers.is_empty() {
        inner
    } else {
        Layered::new(inner, layers).cloud()
    }
}

/// The one log line of a failed call: WARN, but DEBUG for NotFound on a read (how the
/// operator learns that something does not exist). The error's Display carries the
/// operation, kind, HTTP status, AWS code and request id.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFailures {
    /// WARN for every failure but a NotFound on a read (DEBUG); when false, DEBUG for all.
    pub warn: bool,
}

#[async_trait]
impl Layer for LogFailures {
    async fn enter(&self, _call: &CallInfo<'_>) -> CloudResult<Ticket> {
        Ok(Ticket::none())
    }

    fn exit(&self, call: &CallInfo<'_>, _ticket: Ticket, outcome: Result<(), &mut CloudError>) {
        let Err(error) = outcome else {
            return;
        };
        let error = &*error;
        if !self.warn || (error.kind == ErrorKind::NotFound && call.operation.is_read()) {
            tracing::debug!(resource = %call.resource, "{error}");
        } else {
            tracing::warn!(resource = %call.resource, "{error}");
        }
    }
}

#[async_trait]
impl Ecs for Layered {
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        let call = self.inner.ecs.describe_clusters(names);
        self.run(Operation::DescribeClusters, Resource::Many(names), call)
            .await
    }

    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster> {
        let call = self.inner.ecs.create_cluster(input);
        self.run(Operation::CreateCluster, Resource::One(&input.name), call)
            .await
    }

    async fn update_cluster_configuration(
        &self,
        cluster: &str,
        configuration: Option<&crate::cloud::model::ClusterConfiguration>,
        service_connect_defaults: Option<
            &crate::cloud::model::ClusterServiceConnectDefaultsRequest,
        >,
    ) -> CloudResult<Cluster> {
        let call = self.inner.ecs.update_cluster_configuration(
            cluster,
            configuration,
            service_connect_defaults,
        );
        self.run(Operation::UpdateCluster, Resource::One(cluster), call)
            .await
    }

    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        let call = self.inner.ecs.update_cluster_settings(cluster, settings);
        self.run(Operation::UpdateCluster, Resource::One(cluster), call)
            .await
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        let call = self.inner.ecs.put_cluster_capacity_providers(
            cluster,
            capacity_providers,
            default_strategy,
        );
        let op = Operation::PutClusterCapacityProviders;
        self.run(op, Resource::One(cluster), call).await
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        let call = self.inner.ecs.tag_resource(arn, tags);
        self.run(Operation::TagResource, Resource::One(arn), call)
            .await
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        let call = self.inner.ecs.untag_resource(arn, keys);
        self.run(Operation::UntagResource, Resource::One(arn), call)
            .await
    }

    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        let call = self.inner.ecs.list_services(cluster, next_token);
        self.run(Operation::ListServices, Resource::One(cluster), call)
            .await
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        let call = self.inner.ecs.describe_services(cluster, services);
        let resource = Resource::WithinMany(cluster, services);
        self.run(Operation::DescribeServices, resource, call).await
    }

    async fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        let call = self
            .inner
            .ecs
            .list_stopped_tasks(cluster, service, next_token);
        let resource = Resource::Within(cluster, service);
        self.run(Operation::ListTasks, resource, call).await
    }

    async fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> CloudResult<Described<Task>> {
        let call = self.inner.ecs.describe_tasks(cluster, tasks);
        self.run(
            Operation::DescribeTasks,
            Resource::WithinMany(cluster, tasks),
            call,
        )
        .await
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ServiceDeploymentBrief>> {
        let call = self
            .inner
            .ecs
            .list_service_deployments(cluster, service, next_token);
        let resource = Resource::Within(cluster, service);
        self.run(Operation::ListServiceDeployments, resource, call)
            .await
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> CloudResult<Described<ServiceDeployment>> {
        let call = self.inner.ecs.describe_service_deployments(arns);
        self.run(
            Operation::DescribeServiceDeployments,
            Resource::Many(arns),
            call,
        )
        .await
    }

    async fn create_service(&self, input: &CreateService) -> CloudResult<Service> {
        let call = self.inner.ecs.create_service(input);
        let resource = Resource::Within(&input.cluster, &input.name);
        self.run(Operation::CreateService, resource, call).await
    }

    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service> {
        let call = self.inner.ecs.update_service(input);
        let resource = Resource::Within(&input.cluster, &input.name);
        self.run(Operation::UpdateService, resource, call).await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        let call = self.inner.ecs.delete_service(cluster, service, force);
        let resource = Resource::Within(cluster, service);
        self.run(Operation::DeleteService, resource, call).await
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let call = self.inner.ecs.register_task_definition(definition, tags);
        let resource = definition
            .family
            .as_deref()
            .map_or(Resource::None, Resource::One);
        self.run(Operation::RegisterTaskDefinition, resource, call)
            .await
    }

    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let call = self.inner.ecs.describe_task_definition(task_definition);
        let resource = Resource::One(task_definition);
        self.run(Operation::DescribeTaskDefinition, resource, call)
            .await
    }

    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        let call = self.inner.ecs.list_task_definitions(family, next_token);
        self.run(Operation::ListTaskDefinitions, Resource::One(family), call)
            .await
    }

    async fn list_task_definition_families(
        &self,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        let call = self.inner.ecs.list_task_definition_families(next_token);
        self.run(Operation::ListTaskDefinitionFamilies, Resource::None, call)
            .await
    }

    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let call = self.inner.ecs.deregister_task_definition(task_definition);
        let resource = Resource::One(task_definition);
        self.run(Operation::DeregisterTaskDefinition, resource, call)
            .await
    }
}

#[async_trait]
impl Elbv2 for Layered {
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        let call = self.inner.elbv2.describe_target_groups(names);
        self.run(Operation::DescribeTargetGroups, Resource::Many(names), call)
            .await
    }

    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        let call = self
            .inner
            .elbv2
            .describe_target_groups_page(marker, page_size);
        self.run(Operation::DescribeTargetGroups, Resource::None, call)
            .await
    }

    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        let call = self.inner.elbv2.create_target_group(input);
        let resource = Resource::One(&input.name);
        self.run(Operation::CreateTargetGroup, resource, call).await
    }

    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        let call = self.inner.elbv2.modify_target_group(arn, health_check);
        self.run(Operation::ModifyTargetGroup, Resource::One(arn), call)
            .await
    }

    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        let call = self.inner.elbv2.describe_target_group_attributes(arn);
        let op = Operation::DescribeTargetGroupAttributes;
        self.run(op, Resource::One(arn), call).await
    }

    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        let call = self
            .inner
            .elbv2
            .modify_target_group_attributes(arn, attributes);
        let op = Operation::ModifyTargetGroupAttributes;
        self.run(op, Resource::One(arn), call).await
    }

    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        let call = self.inner.elbv2.describe_tags(arns);
        self.run(Operation::DescribeTags, Resource::Many(arns), call)
            .await
    }

    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        let call = self.inner.elbv2.add_tags(arns, tags);
        self.run(Operation::AddTags, Resource::Many(arns), call)
            .await
    }

    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        let call = self.inner.elbv2.remove_tags(arns, keys);
        self.run(Operation::RemoveTags, Resource::Many(arns), call)
            .await
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        let call = self.inner.elbv2.delete_target_group(arn);
        self.run(Operation::DeleteTargetGroup, Resource::One(arn), call)
            .await
    }

    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        let call = self.inner.elbv2.describe_target_health(arn);
        self.run(Operation::DescribeTargetHealth, Resource::One(arn), call)
            .await
    }

    // ---- listener rules (issue 14)
    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        let call = self.inner.elbv2.describe_load_balancers(names);
        self.run(
            Operation::DescribeLoadBalancers,
            Resource::Many(names),
            call,
        )
        .await
    }

    async fn describe_listeners(
        &self,
        load_balancer_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Listener>> {
        let call = self
            .inner
            .elbv2
            .describe_listeners(load_balancer_arn, marker);
        let resource = Resource::One(load_balancer_arn);
        self.run(Operation::DescribeListeners, resource, call).await
    }

    async fn describe_rules(
        &self,
        listener_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Rule>> {
        let call = self.inner.elbv2.describe_rules(listener_arn, marker);
        self.run(Operation::DescribeRules, Resource::One(listener_arn), call)
            .await
    }

    async fn create_rule(&self, input: &CreateRule) -> CloudResult<Rule> {
        let call = self.inner.elbv2.create_rule(input);
        let resource = Resource::One(&input.listener_arn);
        self.run(Operation::CreateRule, resource, call).await
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: &[RuleCondition],
        actions: &[RuleAction],
    ) -> CloudResult<Rule> {
        let call = self.inner.elbv2.modify_rule(rule_arn, conditions, actions);
        self.run(Operation::ModifyRule, Resource::One(rule_arn), call)
            .await
    }

    async fn set_rule_priorities(&self, priorities: &[(String, u32)]) -> CloudResult<Vec<Rule>> {
        let call = self.inner.elbv2.set_rule_priorities(priorities);
        let first = priorities.first().map_or("", |(arn, _)| arn.as_str());
        self.run(Operation::SetRulePriorities, Resource::One(first), call)
            .await
    }

    async fn delete_rule(&self, rule_arn: &str) -> CloudResult<()> {
        let call = self.inner.elbv2.delete_rule(rule_arn);
        self.run(Operation::DeleteRule, Resource::One(rule_arn), call)
            .await
    }
}

// Application Auto Scaling's forwarding.
mod autoscaling;

#[cfg(test)]
pub(crate) mod tests;
