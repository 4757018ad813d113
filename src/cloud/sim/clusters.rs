//! ECS cluster semantics (create, describe with missing names, settings, capacity
//! providers) and ECS tagging of clusters, services and task definitions by ARN.

use std::collections::BTreeMap;

use super::arn::valid_ecs_name;
use super::state::State;
use super::task_definitions::check_ecs_tags;
use crate::cloud::MAX_DESCRIBE_CLUSTERS;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{CapacityProviderStrategyItem, Cluster, CreateCluster, Described, Tags};

fn invalid(operation: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(operation, "InvalidParameterException", message)
}

/// UpdateCluster/CreateCluster accept only `containerInsights` = enabled|disabled|enhanced.
fn check_settings(operation: &'static str, settings: &BTreeMap<String, String>) -> CloudResult<()> {
    for (name, value) in settings {
        if name != "containerInsights" {
            return Err(invalid(
                operation,
                format!("Unknown cluster setting '{name}'."),
            ));
        }
        if !matches!(value.as_str(), "enabled" | "disabled" | "enhanced") {
            return Err(invalid(
                operation,
                format!("containerInsights must be enabled, disabled or enhanced, not '{value}'."),
            ));
        }
    }
    Ok(())
}

/// The default strategy may only name providers of the cluster.
fn check_strategy(
    operation: &'static str,
    providers: &[String],
    strategy: &[CapacityProviderStrategyItem],
) -> CloudResult<()> {
    for item in strategy {
        if !providers.contains(&item.capacity_provider) {
            return Err(invalid(
                operation,
                format!(
                    "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster: {}.",
                    item.capacity_provider
                ),
            ));
        }
    }
    Ok(())
}

impl State {
    /// A cluster as DescribeClusters shows it, with its live counts.
    fn cluster_view(&self, name: &str) -> Option<Cluster> {
        let mut c = self.clusters.get(name)?.clone();
        let services = self
            .services
            .iter()
            .filter(|((cluster, _), s)| cluster == name && s.service.status == "ACTIVE");
        let (mut active, mut running) = (0u32, 0u32);
        for (_, s) in services {
            active += 1;
            let n = s
                .tasks
                .values()
                .filter(|t| t.status == super::records::TaskStatus::Running)
                .count();
            running = running.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        }
        c.active_services_count = active;
        c.running_tasks_count = running;
        Some(c)
    }

    /// DescribeClusters: missing names are reported, not an error; no names means `default`.
    pub(super) fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        const OP: &str = "DescribeClusters";
        if names.len() > MAX_DESCRIBE_CLUSTERS {
            return Err(invalid(
                OP,
                format!("At most {MAX_DESCRIBE_CLUSTERS} clusters can be described at once."),
            ));
        }
        let default = ["default".to_string()];
        let names = if names.is_empty() {
            &default[..]
        } else {
            names
        };
        let mut out = Described::default();
        for n in names {
            match self
                .arns
                .cluster_name(n)
                .and_then(|name| self.cluster_view(name))
            {
                Some(c) => out.found.push(c),
                None => out.missing.push(n.clone()),
            }
        }
        Ok(out)
    }

    /// CreateCluster: an existing cluster of that name is returned as it is.
    pub(super) fn create_cluster(&mut self, input: &CreateCluster) -> CloudResult<Cluster> {
        const OP: &str = "CreateCluster";
        if !valid_ecs_name(&input.name) {
            return Err(invalid(
                OP,
                "Cluster names must be 1 to 255 letters, numbers, hyphens or underscores.",
            ));
        }
        check_settings(OP, &input.settings)?;
        check_ecs_tags(OP, &input.tags)?;
        check_strategy(
            OP,
            &input.capacity_providers,
            &input.default_capacity_provider_strategy,
        )?;
        if !self.clusters.contains_key(&input.name) {
            let settings = crate::cloud::defaults::cluster::fill_settings(&input.settings);
            let cluster = Cluster {
                name: input.name.clone(),
                arn: self.arns.cluster(&input.name),
                status: "ACTIVE".into(),
                settings,
                capacity_providers: input.capacity_providers.clone(),
                default_capacity_provider_strategy: input
                    .default_capacity_provider_strategy
                    .clone(),
                tags: input.tags.clone(),
                active_services_count: 0,
                running_tasks_count: 0,
                configuration: input.configuration.clone(),
                service_connect_defaults: input.service_connect_defaults.clone(),
            };
            self.clusters.insert(input.name.clone(), cluster);
        }
        self.cluster_view(&input.name)
            .ok_or_else(|| invalid(OP, "Cluster could not be created."))
    }

    /// UpdateCluster: the given settings replace those of the same name.
    pub(super) fn update_cluster_settings(
        &mut self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        const OP: &str = "UpdateCluster";
        let name = self.cluster_key(OP, cluster)?;
        check_settings(OP, settings)?;
        if let Some(c) = self.clusters.get_mut(&name) {
            c.settings.extend(settings.clone());
        }
        self.cluster_view(&name).ok_or_else(|| {
            CloudError::from_code(OP, "ClusterNotFoundException", "Cluster not found.")
        })
    }

    /// UpdateCluster with a configuration and/or Service Connect defaults.
    pub(super) fn update_cluster_configuration(
        &mut self,
        cluster: &str,
        configuration: Option<&crate::cloud::model::ClusterConfiguration>,
        service_connect_defaults: Option<
            &crate::cloud::model::ClusterServiceConnectDefaultsRequest,
        >,
    ) -> CloudResult<Cluster> {
        const OP: &str = "UpdateCluster";
        let name = self.cluster_key(OP, cluster)?;
        if let Some(c) = self.clusters.get_mut(&name) {
            if let Some(v) = configuration {
                c.configuration = Some(v.clone());
            }
            if let Some(v) = service_connect_defaults {
                c.service_connect_defaults = Some(v.clone());
            }
        }
        self.cluster_view(&name).ok_or_else(|| {
            CloudError::from_code(OP, "ClusterNotFoundException", "Cluster not found.")
        })
    }

    /// PutClusterCapacityProviders: replaces providers and default strategy.
    pub(super) fn put_cluster_capacity_providers(
        &mut self,
        cluster: &str,
        providers: &[String],
        strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        const OP: &str = "PutClusterCapacityProviders";
        let name = self.cluster_key(OP, cluster)?;
        check_strategy(OP, providers, strategy)?;
        if let Some(c) = self.clusters.get_mut(&name) {
            c.capacity_providers = providers.to_vec();
            c.default_capacity_provider_strategy = strategy.to_vec();
        }
        self.cluster_view(&name).ok_or_else(|| {
            CloudError::from_code(OP, "ClusterNotFoundException", "Cluster not found.")
        })
    }

    /// The tags of the cluster, service or task definition an ECS ARN names.
    fn ecs_tags_mut(&mut self, operation: &'static str, arn: &str) -> CloudResult<&mut Tags> {
        let not_found = || {
            CloudError::from_code(
                operation,
                "ResourceNotFoundException",
                "The specified resource could not be found.",
            )
        };
        if !arn.starts_with("arn:") {
            return Err(invalid(operation, "The ARN provided is invalid."));
        }
        if arn.contains(":cluster/") {
            let name = self
                .arns
                .cluster_name(arn)
                .ok_or_else(not_found)?
                .to_string();
            return self
                .clusters
                .get_mut(&name)
                .map(|c| &mut c.tags)
                .ok_or_else(not_found);
        }
        if arn.contains(":service/") {
            let rest = arn.split_once(":service/").map(|(_, r)| r).unwrap_or("");
            let cluster = rest.split_once('/').map(|(c, _)| c).unwrap_or("");
            let key = self.service_key(cluster, arn).ok_or_else(not_found)?;
            return self
                .services
                .get_mut(&key)
                .filter(|s| s.service.status == "ACTIVE")
                .map(|s| &mut s.service.tags)
                .ok_or_else(not_found);
        }
        if arn.contains(":task-definition/") {
            return self.task_definition_tags_mut(arn).ok_or_else(not_found);
        }
        Err(invalid(operation, "The ARN provided is invalid."))
    }

    /// TagResource.
    pub(super) fn tag_resource(&mut self, arn: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        check_ecs_tags(OP, tags)?;
        let current = self.ecs_tags_mut(OP, arn)?;
        let mut after = current.clone();
        after.extend(tags.clone());
        check_ecs_tags(OP, &after)?;
        *current = after;
        Ok(())
    }

    /// UntagResource (keys that are not there are ignored).
    pub(super) fn untag_resource(&mut self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.ecs_tags_mut("UntagResource", arn)?
            .retain(|k, _| !keys.contains(k));
        Ok(())
    }
}
