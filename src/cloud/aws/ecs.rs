//! [`Ecs`] on aws-sdk-ecs: one SDK call per method, errors through
//! [`errors::sdk_error`](super::errors::sdk_error), conversions in the sibling modules.

use super::shape_conv::opt;
use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    ClusterField, DesiredStatus, Failure, ServiceField, SortOrder, TaskDefinitionFamilyStatus,
    TaskDefinitionField, TaskDefinitionStatus,
};
use tracing::debug;

use super::convert::{at, time};
use super::errors::sdk_error;
use super::service::{
    cluster_from_sdk, cluster_settings, create_service_input, ecs_tags, service_from_sdk,
    strategy_to_sdk, update_service_input,
};
use super::task_definition::{register_input, registered_from_sdk};
use crate::cloud::error::{CloudError, CloudResult, ErrorKind};
use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, Described, Page,
    RegisteredTaskDefinition, Service, ServiceDeployment, ServiceDeploymentBrief, Tags, Task,
    TaskContainer, TaskDefinition, UpdateService,
};
use crate::cloud::{Ecs, MAX_LIST_SERVICES, MAX_LIST_TASKS};

/// The ECS client of the `aws` backend.
#[derive(Debug, Clone)]
pub(super) struct AwsEcs {
    client: Client,
    /// Whether the service deployments API was found missing (moto).
    deployments: std::sync::Arc<super::service_deployments::Support>,
}

impl AwsEcs {
    /// Wraps a configured client.
    pub(super) fn new(client: Client) -> Self {
        AwsEcs {
            client,
            deployments: Default::default(),
        }
    }
}

/// A described task.
fn task_from_sdk(t: &aws_sdk_ecs::types::Task) -> Task {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    Task {
        arn: text(t.task_arn()),
        task_definition: text(t.task_definition_arn()),
        last_status: text(t.last_status()),
        desired_status: text(t.desired_status()),
        started_by: t.started_by().map(str::to_owned),
        stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
        stopped_reason: t.stopped_reason().map(str::to_owned),
        containers: t
            .containers()
            .iter()
            .map(|c| TaskContainer {
                name: text(c.name()),
                exit_code: c.exit_code(),
                reason: c.reason().map(str::to_owned),
            })
            .collect(),
        stopped_at: time(t.stopped_at()),
    }
}

/// The failure reason of a name that does not exist.
const MISSING: &str = "MISSING";

/// Splits `failures` of a batched Describe into missing names (as the caller spelled them)
/// and an error for any other reason.
fn missing_names(
    operation: &'static str,
    requested: &[String],
    failures: &[Failure],
) -> CloudResult<Vec<String>> {
    let mut missing = Vec::with_capacity(failures.len());
    for f in failures {
        let arn = f.arn().unwrap_or_default();
        let reason = f.reason().unwrap_or_default();
        if reason != MISSING {
            let detail = f.detail().map(|d| format!(" ({d})")).unwrap_or_default();
            return Err(CloudError::new(
                ErrorKind::Other,
                operation,
                format!("{arn}: {reason}{detail}"),
            ));
        }
        missing.push(requested_name(requested, arn));
    }
    Ok(missing)
}

/// The requested name or ARN a failure ARN refers to (`.../service/shop/api` -> `api`), or the
/// ARN itself when none matches.
fn requested_name(requested: &[String], arn: &str) -> String {
    requested
        .iter()
        .find(|r| arn == r.as_str() || arn.rsplit('/').next() == Some(r.as_str()))
        .cloned()
        .unwrap_or_else(|| arn.to_owned())
}

/// A response field AWS always sends.
fn present<T>(operation: &'static str, value: Option<T>, field: &str) -> CloudResult<T> {
    value.ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            operation,
            format!("the response has no {field}"),
        )
    })
}

#[async_trait]
impl Ecs for AwsEcs {
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        const OP: &str = "DescribeClusters";
        if names.is_empty() {
            // Without names, DescribeClusters describes the `default` cluster.
            return Ok(Described::default());
        }
        debug!(operation = OP, clusters = names.len());
        let out = self
            .client
            .describe_clusters()
            .set_clusters(Some(names.to_vec()))
            .include(ClusterField::Tags)
            .include(ClusterField::Settings)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Described {
            found: out
                .clusters()
                .iter()
                .map(cluster_from_sdk)
                .collect::<Result<_, _>>()
                .map_err(at(OP))?,
            missing: missing_names(OP, names, out.failures())?,
        })
    }

    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster> {
        const OP: &str = "CreateCluster";
        debug!(operation = OP, cluster = %input.name);
        let strategy =
            strategy_to_sdk(&input.default_capacity_provider_strategy).map_err(at(OP))?;
        let out = self
            .client
            .create_cluster()
            .cluster_name(&input.name)
            .set_settings(super::convert::non_empty(cluster_settings(&input.settings)))
            .set_capacity_providers(super::convert::non_empty(input.capacity_providers.clone()))
            .set_default_capacity_provider_strategy(super::convert::non_empty(strategy))
            .set_tags(super::convert::non_empty(ecs_tags(&input.tags)))
            .set_configuration(opt(&input.configuration, "configuration").map_err(at(OP))?)
            .set_service_connect_defaults(
                opt(&input.service_connect_defaults, "serviceConnectDefaults").map_err(at(OP))?,
            )
            .send()
            .await
            .map_err(sdk_error(OP))?;
        cluster_from_sdk(present(OP, out.cluster(), "cluster")?).map_err(at(OP))
    }

    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        const OP: &str = "UpdateCluster";
        debug!(operation = OP, cluster);
        let out = self
            .client
            .update_cluster()
            .cluster(cluster)
            .set_settings(Some(cluster_settings(settings)))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        cluster_from_sdk(present(OP, out.cluster(), "cluster")?).map_err(at(OP))
    }

    async fn update_cluster_configuration(
        &self,
        cluster: &str,
        configuration: Option<&crate::cloud::model::ClusterConfiguration>,
        service_connect_defaults: Option<
            &crate::cloud::model::ClusterServiceConnectDefaultsRequest,
        >,
    ) -> CloudResult<Cluster> {
        const OP: &str = "UpdateCluster";
        debug!(operation = OP, cluster);
        let configuration = opt(&configuration.cloned(), "configuration").map_err(at(OP))?;
        let defaults =
            opt(&service_connect_defaults.cloned(), "serviceConnectDefaults").map_err(at(OP))?;
        let out = self
            .client
            .update_cluster()
            .cluster(cluster)
            .set_configuration(configuration)
            .set_service_connect_defaults(defaults)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        cluster_from_sdk(present(OP, out.cluster(), "cluster")?).map_err(at(OP))
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        const OP: &str = "PutClusterCapacityProviders";
        debug!(operation = OP, cluster);
        let strategy = strategy_to_sdk(default_strategy).map_err(at(OP))?;
        let out = self
            .client
            .put_cluster_capacity_providers()
            .cluster(cluster)
            .set_capacity_providers(Some(capacity_providers.to_vec()))
            .set_default_capacity_provider_strategy(Some(strategy))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        cluster_from_sdk(present(OP, out.cluster(), "cluster")?).map_err(at(OP))
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        debug!(operation = OP, arn, tags = tags.len());
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(tags)))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        const OP: &str = "UntagResource";
        debug!(operation = OP, arn, keys = keys.len());
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(())
    }

    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListServices";
        debug!(operation = OP, cluster, next_page = next_token.is_some());
        let out = self
            .client
            .list_services()
            .cluster(cluster)
            .max_results(MAX_LIST_SERVICES as i32)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out.service_arns().to_vec(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        const OP: &str = "DescribeServices";
        if services.is_empty() {
            return Ok(Described::default());
        }
        debug!(operation = OP, cluster, services = services.len());
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(services.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Described {
            found: out
                .services()
                .iter()
                .map(service_from_sdk)
                .collect::<Result<_, _>>()
                .map_err(at(OP))?,
            missing: missing_names(OP, services, out.failures())?,
        })
    }

    async fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListTasks";
        debug!(
            operation = OP,
            cluster,
            service,
            next_page = next_token.is_some()
        );
        let out = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(DesiredStatus::Stopped)
            .max_results(MAX_LIST_TASKS as i32)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out.task_arns().to_vec(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> CloudResult<Described<Task>> {
        const OP: &str = "DescribeTasks";
        if tasks.is_empty() {
            return Ok(Described::default());
        }
        debug!(operation = OP, cluster, tasks = tasks.len());
        let out = self
            .client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(tasks.to_vec()))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Described {
            found: out.tasks().iter().map(task_from_sdk).collect(),
            missing: missing_names(OP, tasks, out.failures())?,
        })
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ServiceDeploymentBrief>> {
        super::service_deployments::list(
            &self.client,
            &self.deployments,
            cluster,
            service,
            next_token,
        )
        .await
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> CloudResult<Described<ServiceDeployment>> {
        super::service_deployments::describe(&self.client, &self.deployments, arns).await
    }

    async fn create_service(&self, input: &CreateService) -> CloudResult<Service> {
        const OP: &str = "CreateService";
        debug!(operation = OP, cluster = %input.cluster, service = %input.name);
        let out = create_service_input(input)
            .map_err(at(OP))?
            .send_with(&self.client)
            .await
            .map_err(sdk_error(OP))?;
        service_from_sdk(present(OP, out.service(), "service")?).map_err(at(OP))
    }

    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service> {
        const OP: &str = "UpdateService";
        debug!(operation = OP, cluster = %input.cluster, service = %input.name);
        let out = update_service_input(input)
            .map_err(at(OP))?
            .send_with(&self.client)
            .await
            .map_err(sdk_error(OP))?;
        service_from_sdk(present(OP, out.service(), "service")?).map_err(at(OP))
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        const OP: &str = "DeleteService";
        debug!(operation = OP, cluster, service, force);
        let out = self
            .client
            .delete_service()
            .cluster(cluster)
            .service(service)
            .force(force)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        service_from_sdk(present(OP, out.service(), "service")?).map_err(at(OP))
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        const OP: &str = "RegisterTaskDefinition";
        debug!(operation = OP, family = ?definition.family);
        // No SDK retry for this call: one after an answer lost on the way back would register
        // the same content twice (no client token); `apply::register` looks before it retries.
        let once = Client::from_conf(
            Client::config(&self.client)
                .to_builder()
                .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())
                .build(),
        );
        let out = register_input(definition, tags)
            .map_err(at(OP))?
            .send_with(&once)
            .await
            .map_err(sdk_error(OP))?;
        let td = present(OP, out.task_definition(), "taskDefinition")?;
        registered_from_sdk(td, out.tags()).map_err(at(OP))
    }

    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        const OP: &str = "DescribeTaskDefinition";
        debug!(operation = OP, task_definition);
        let out = self
            .client
            .describe_task_definition()
            .task_definition(task_definition)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        let td = present(OP, out.task_definition(), "taskDefinition")?;
        registered_from_sdk(td, out.tags()).map_err(at(OP))
    }

    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListTaskDefinitions";
        debug!(operation = OP, family, next_page = next_token.is_some());
        let out = self
            .client
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .sort(SortOrder::Asc)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out
                .task_definition_arns()
                .iter()
                .filter(|arn| family_of(arn) == Some(family))
                .cloned()
                .collect(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn list_task_definition_families(
        &self,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListTaskDefinitionFamilies";
        debug!(operation = OP, next_page = next_token.is_some());
        let out = self
            .client
            .list_task_definition_families()
            .status(TaskDefinitionFamilyStatus::Active)
            .max_results(100)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(sdk_error(OP))?;
        Ok(Page {
            items: out.families().to_vec(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        const OP: &str = "DeregisterTaskDefinition";
        debug!(operation = OP, task_definition);
        let out = self
            .client
            .deregister_task_definition()
            .task_definition(task_definition)
            .send()
            .await
            .map_err(sdk_error(OP))?;
        let td = present(OP, out.task_definition(), "taskDefinition")?;
        registered_from_sdk(td, &[]).map_err(at(OP))
    }
}

/// The family of a task definition ARN (`...:task-definition/api:3` -> `api`). Emulators may
/// match `familyPrefix` as a prefix; the trait lists one family exactly.
fn family_of(arn: &str) -> Option<&str> {
    let name = arn.rsplit_once(":task-definition/")?.1;
    Some(name.rsplit_once(':').map_or(name, |(family, _)| family))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_definition_arn_names_its_family() {
        assert_eq!(
            family_of("arn:aws:ecs:us-east-1:123456789012:task-definition/api:12"),
            Some("api")
        );
        assert_eq!(
            family_of("arn:aws:ecs:us-east-1:123456789012:task-definition/api-worker:1"),
            Some("api-worker")
        );
        assert_eq!(family_of("api:1"), None);
    }

    #[test]
    fn a_missing_failure_reports_the_name_the_caller_asked_for() {
        let requested = vec![
            "api".to_owned(),
            "arn:aws:ecs:r:1:service/shop/web".to_owned(),
        ];
        let failures = [
            Failure::builder()
                .arn("arn:aws:ecs:us-east-1:123456789012:service/shop/api")
                .reason("MISSING")
                .build(),
            Failure::builder()
                .arn("arn:aws:ecs:r:1:service/shop/web")
                .reason("MISSING")
                .build(),
            Failure::builder()
                .arn("arn:aws:ecs:r:1:service/shop/other")
                .reason("MISSING")
                .build(),
        ];
        let missing = missing_names("DescribeServices", &requested, &failures).unwrap();
        assert_eq!(
            missing,
            [
                "api",
                "arn:aws:ecs:r:1:service/shop/web",
                "arn:aws:ecs:r:1:service/shop/other"
            ]
        );
    }
}
