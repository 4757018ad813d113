//! The observer's reads besides the full observation: one cluster, the services of a cluster,
//! every target group of the account, target groups by ARN, their tags and attributes, the
//! revisions of a family. `import` and `prune` read through these, so every read of live state
//! is batched the same way and "exists" means one thing ([`Cluster::exists`],
//! [`Service::exists`]).

use std::collections::{BTreeMap, BTreeSet};

use super::Observer;
use crate::cloud::model::{Cluster, Service, ServiceDeployment, Tags, TargetGroup, Task};
use crate::cloud::{
    CloudError, ErrorKind, MAX_DESCRIBE_SERVICE_DEPLOYMENTS, MAX_DESCRIBE_SERVICES,
    MAX_DESCRIBE_TARGET_GROUPS, MAX_DESCRIBE_TASKS, MAX_TAG_ARNS, MAX_TARGET_GROUP_PAGE, all_pages,
};

/// The name in a target group ARN (`...:targetgroup/NAME/ID`).
pub fn target_group_name(arn: &str) -> Option<&str> {
    arn.split_once(":targetgroup/")?.1.split('/').next()
}

impl Observer {
    /// The cluster of this name, if it exists (one DescribeClusters).
    pub async fn cluster(&self, name: &str) -> Result<Option<Cluster>, CloudError> {
        let described = self
            .cloud
            .ecs
            .describe_clusters(std::slice::from_ref(&name.to_string()))
            .await?;
        Ok(described
            .found
            .into_iter()
            .find(|c| c.exists() && c.name == name))
    }

    /// The services of `cluster` among `names` (names or ARNs) that exist, with tags:
    /// DescribeServices by [`MAX_DESCRIBE_SERVICES`], in the order asked.
    pub async fn services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<Service>, CloudError> {
        let mut found = Vec::new();
        for batch in names.chunks(MAX_DESCRIBE_SERVICES) {
            let d = self.cloud.ecs.describe_services(cluster, batch).await?;
            found.extend(d.found.into_iter().filter(Service::exists));
        }
        Ok(found)
    }

    /// Service deployments by ARN (DescribeServiceDeployments by
    /// [`MAX_DESCRIBE_SERVICE_DEPLOYMENTS`]); `None` when the endpoint has no deployments API
    /// (moto): the caller follows DescribeServices' `deployments[]` instead.
    pub async fn service_deployments(
        &self,
        arns: &[String],
    ) -> Result<Option<Vec<ServiceDeployment>>, CloudError> {
        let mut found = Vec::new();
        for batch in arns.chunks(MAX_DESCRIBE_SERVICE_DEPLOYMENTS) {
            match self.cloud.ecs.describe_service_deployments(batch).await {
                Ok(d) => found.extend(d.found),
                Err(e) if e.is_not_implemented() => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Some(found))
    }

    /// The service deployment of `service` started by the call that created the deployment
    /// created at `since` (DescribeServices' `createdAt` of it): the oldest listed
    /// (ListServiceDeployments, first page, newest first) created then or later, so that one
    /// started afterwards (by hand, by another tool) is not taken for it. `None` when there
    /// is none or the endpoint has no deployments API.
    pub async fn service_deployment_since(
        &self,
        cluster: &str,
        service: &str,
        since: std::time::SystemTime,
    ) -> Result<Option<String>, CloudError> {
        let page = match self
            .cloud
            .ecs
            .list_service_deployments(cluster, service, None)
            .await
        {
            Ok(page) => page,
            Err(e) if e.is_not_implemented() => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(page
            .items
            .into_iter()
            .filter(|b| b.created_at.is_some_and(|t| t >= since))
            .min_by_key(|b| b.created_at)
            .map(|b| b.arn))
    }

    /// The stopped tasks of `service` that deployment `deployment` started (their `startedBy`),
    /// for the rollout to learn why they failed: ListTasks desiredStatus=STOPPED (the first
    /// page, [`crate::cloud::MAX_LIST_TASKS`] tasks, is enough to name a crash loop), then DescribeTasks by
    /// [`MAX_DESCRIBE_TASKS`].
    pub async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        deployment: &str,
    ) -> Result<Vec<Task>, CloudError> {
        let ecs = &self.cloud.ecs;
        let arns = ecs.list_stopped_tasks(cluster, service, None).await?.items;
        let mut found = Vec::new();
        for batch in arns.chunks(MAX_DESCRIBE_TASKS) {
            let d = ecs.describe_tasks(cluster, batch).await?;
            found.extend(
                d.found
                    .into_iter()
                    .filter(|t| t.started_by.as_deref() == Some(deployment)),
            );
        }
        Ok(found)
    }

    /// Every service ARN of `cluster` (ListServices, every page); `None` when the cluster does
    /// not exist.
    pub async fn service_arns(&self, cluster: &str) -> Result<Option<Vec<String>>, CloudError> {
        let ecs = &self.cloud.ecs;
        let listed =
            all_pages(|token| async move { ecs.list_services(cluster, token.as_deref()).await })
                .await;
        match listed {
            Ok(arns) => Ok(Some(arns)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every target group of the account (DescribeTargetGroups, pages of
    /// [`MAX_TARGET_GROUP_PAGE`]).
    pub async fn all_target_groups(&self) -> Result<Vec<TargetGroup>, CloudError> {
        let elbv2 = &self.cloud.elbv2;
        all_pages(|marker| async move {
            let size = MAX_TARGET_GROUP_PAGE as u32;
            elbv2
                .describe_target_groups_page(marker.as_deref(), size)
                .await
        })
        .await
    }

    /// The target groups with these ARNs that exist, found by the names in the ARNs, 20 per
    /// call, sorted by name. One missing name fails a whole DescribeTargetGroups call, so a
    /// failing batch is retried one name at a time.
    pub async fn target_groups_with_arns(
        &self,
        arns: &BTreeSet<String>,
    ) -> Result<Vec<TargetGroup>, CloudError> {
        let names: Vec<String> = arns
            .iter()
            .filter_map(|a| target_group_name(a).map(str::to_owned))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let elbv2 = &self.cloud.elbv2;
        let mut found = Vec::new();
        for batch in names.chunks(MAX_DESCRIBE_TARGET_GROUPS) {
            match elbv2.describe_target_groups(batch).await {
                Ok(groups) => found.extend(groups),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    for name in batch {
                        match elbv2
                            .describe_target_groups(std::slice::from_ref(name))
                            .await
                        {
                            Ok(groups) => found.extend(groups),
                            Err(e) if e.kind == ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        found.retain(|g| arns.contains(&g.arn));
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Tags of target groups by ARN (DescribeTags by [`MAX_TAG_ARNS`]).
    pub async fn target_group_tags(
        &self,
        arns: &[String],
    ) -> Result<BTreeMap<String, Tags>, CloudError> {
        let mut tags = BTreeMap::new();
        for batch in arns.chunks(MAX_TAG_ARNS) {
            tags.extend(self.cloud.elbv2.describe_tags(batch).await?);
        }
        Ok(tags)
    }

    /// The attributes of one target group.
    pub async fn target_group_attributes(
        &self,
        arn: &str,
    ) -> Result<BTreeMap<String, String>, CloudError> {
        self.cloud.elbv2.describe_target_group_attributes(arn).await
    }

    /// The ACTIVE revisions of a task definition family, oldest first (ListTaskDefinitions,
    /// every page).
    pub async fn revisions(&self, family: &str) -> Result<Vec<String>, CloudError> {
        let ecs = &self.cloud.ecs;
        all_pages(|token| async move { ecs.list_task_definitions(family, token.as_deref()).await })
            .await
    }
}
