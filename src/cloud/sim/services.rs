//! ECS service semantics: CreateService (with ECS's defaults, its validation of the task
//! definition, network configuration and load balancers, and client-token idempotency),
//! UpdateService (a new deployment when the task definition or the task's environment
//! changes), DeleteService, DescribeServices (missing names reported, not an error) and
//! ListServices.

use std::collections::BTreeMap;
use std::time::Duration;

use super::arn::{self, valid_ecs_name};
use super::records::{Clock, STOPPED_TASK_RETENTION, ServiceKey, ServiceState, TaskStatus};
use super::state::State;
use super::task_definitions::check_ecs_tags;
use crate::cloud::defaults::service as defaults;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{
    CreateService, Deployment, Described, LaunchType, NetworkConfiguration, Page, PropagateTags,
    RegisteredTaskDefinition, SchedulingStrategy, Service, ServiceLoadBalancer, TargetType, Task,
    UpdateService,
};
use crate::cloud::{MAX_DESCRIBE_SERVICES, MAX_DESCRIBE_TASKS, MAX_LIST_SERVICES, MAX_LIST_TASKS};
use crate::manifest::service::CapacityProviderStrategyItem;
use crate::manifest::task_definition::{Compatibility, NetworkMode};

/// How long DescribeServices keeps showing a deleted (INACTIVE) service.
const INACTIVE_RETENTION: Duration = Duration::from_secs(3600);

fn invalid(operation: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(operation, "InvalidParameterException", message)
}

fn service_not_found(operation: &'static str) -> CloudError {
    CloudError::from_code(operation, "ServiceNotFoundException", "Service not found.")
}

impl ServiceState {
    /// The service as DescribeServices shows it.
    pub(super) fn view(&self, clock: &Clock) -> Service {
        let mut s = self.service.clone();
        let mut counts: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for t in self.tasks.values() {
            let c = counts.entry(t.deployment.as_str()).or_default();
            match t.status {
                TaskStatus::Running => c.0 += 1,
                TaskStatus::Pending => c.1 += 1,
            }
        }
        s.running_count = counts.values().map(|c| c.0).sum();
        s.pending_count = counts.values().map(|c| c.1).sum();
        s.deployments = self
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let (running, pending) = counts.get(d.id.as_str()).copied().unwrap_or_default();
                Deployment {
                    id: d.id.clone(),
                    status: if i == 0 { "PRIMARY" } else { "ACTIVE" }.to_string(),
                    task_definition: d.task_definition.clone(),
                    desired_count: d.desired_count,
                    running_count: running,
                    pending_count: pending,
                    failed_tasks: d.failed_tasks,
                    rollout_state: Some(d.rollout_state),
                    rollout_state_reason: Some(d.rollout_state_reason.clone()),
                    created_at: Some(clock.system_time(d.created_at)),
                    updated_at: Some(clock.system_time(d.updated_at)),
                }
            })
            .collect();
        s.events = self.events.iter().cloned().collect();
        s.current_service_deployment = self.service_deployments.first().map(|r| r.arn.clone());
        s
    }
}

/// Where tasks of a new service run when the request names neither a launch type nor a
/// strategy: the cluster's default strategy, else EC2.
fn placement(
    launch_type: Option<LaunchType>,
    strategy: &[CapacityProviderStrategyItem],
    cluster_default: &[CapacityProviderStrategyItem],
) -> (Option<LaunchType>, Vec<CapacityProviderStrategyItem>) {
    if launch_type.is_some() || !strategy.is_empty() {
        (launch_type, strategy.to_vec())
    } else if !cluster_default.is_empty() {
        (None, cluster_default.to_vec())
    } else {
        (Some(LaunchType::Ec2), Vec::new())
    }
}

impl State {
    /// The service view of `key` at the present.
    fn service_view(&self, key: &ServiceKey) -> Option<Service> {
        self.services.get(key).map(|s| s.view(&self.clock))
    }

    /// An ACTIVE service, or ServiceNotFoundException / ServiceNotActiveException.
    fn active_service(
        &self,
        operation: &'static str,
        key: &ServiceKey,
    ) -> CloudResult<&ServiceState> {
        let svc = self
            .services
            .get(key)
            .ok_or_else(|| service_not_found(operation))?;
        if svc.service.status != "ACTIVE" {
            return Err(CloudError::from_code(
                operation,
                "ServiceNotActiveException",
                "Service was not ACTIVE.",
            ));
        }
        Ok(svc)
    }

    /// A task definition a service may run: existing and ACTIVE.
    fn runnable_task_definition(
        &self,
        operation: &'static str,
        reference: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let td = self.find_task_definition(reference).ok_or_else(|| {
            CloudError::from_code(operation, "ClientException", "TaskDefinition not found.")
        })?;
        if td.status != "ACTIVE" {
            return Err(invalid(operation, "TaskDefinition is inactive"));
        }
        Ok(td.clone())
    }

    /// ECS's checks of a service's load balancers against its task definition.
    fn check_load_balancers(
        &self,
        operation: &'static str,
        load_balancers: &[ServiceLoadBalancer],
        td: &RegisteredTaskDefinition,
    ) -> CloudResult<()> {
        let awsvpc = td.definition.network_mode == Some(NetworkMode::Awsvpc);
        for lb in load_balancers {
            let group = self.target_groups.get(&lb.target_group_arn).ok_or_else(|| {
                invalid(
                    operation,
                    format!(
                        "Unable to validate the specified targetGroupArn {}: target group not found.",
                        lb.target_group_arn
                    ),
                )
            })?;
            let container = td.definition.container(&lb.container_name).ok_or_else(|| {
                invalid(
                    operation,
                    format!(
                        "The container {} does not exist in the task definition.",
                        lb.container_name
                    ),
                )
            })?;
            if !container
                .port_mappings
                .iter()
                .any(|pm| pm.container_port == Some(lb.container_port))
            {
                return Err(invalid(
                    operation,
                    format!(
                        "The container {} did not have a container port {} defined.",
                        lb.container_name, lb.container_port
                    ),
                ));
            }
            if awsvpc && group.group.target_type != Some(TargetType::Ip) {
                return Err(invalid(
                    operation,
                    format!(
                        "The provided target group {} has target type instance, which is incompatible with the awsvpc network mode specified in the task definition.",
                        lb.target_group_arn
                    ),
                ));
            }
        }
        Ok(())
    }

    /// ECS's checks of the network configuration against the task definition; the
    /// configuration as stored.
    fn check_network(
        operation: &'static str,
        given: Option<&NetworkConfiguration>,
        td: &RegisteredTaskDefinition,
    ) -> CloudResult<Option<NetworkConfiguration>> {
        let awsvpc = td.definition.network_mode == Some(NetworkMode::Awsvpc);
        match given {
            None if awsvpc => Err(invalid(
                operation,
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            )),
            Some(_) if !awsvpc => Err(invalid(
                operation,
                "Network Configuration is not valid for the given networkMode of this task definition.",
            )),
            Some(nc) if nc.awsvpc_configuration.subnets.is_empty() => {
                Err(invalid(operation, "subnets can not be empty."))
            }
            _ => Ok(defaults::fill_network_configuration(given.cloned())),
        }
    }

    /// DescribeServices.
    pub(super) fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        const OP: &str = "DescribeServices";
        if services.is_empty() || services.len() > MAX_DESCRIBE_SERVICES {
            return Err(invalid(
                OP,
                format!("Between 1 and {MAX_DESCRIBE_SERVICES} services can be described at once."),
            ));
        }
        let cluster = self.cluster_key(OP, cluster)?;
        let mut out = Described::default();
        for s in services {
            let visible = self
                .arns
                .service_name(&cluster, s)
                .and_then(|name| self.services.get(&(cluster.clone(), name.to_string())))
                .filter(|svc| {
                    svc.deleted_at
                        .is_none_or(|d| self.now.saturating_since(d) < INACTIVE_RETENTION)
                });
            match visible {
                Some(svc) => out.found.push(svc.view(&self.clock)),
                None => out.missing.push(s.clone()),
            }
        }
        Ok(out)
    }

    /// ListTasks desiredStatus=STOPPED of a service: its stopped tasks still kept (an hour),
    /// newest first, a page at a time (the token is the number of tasks already listed).
    pub(super) fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListTasks";
        let cluster = self.cluster_key(OP, cluster)?;
        let skip = match next_token {
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| invalid(OP, "Invalid nextToken."))?,
            None => 0,
        };
        let name = self.arns.service_name(&cluster, service).unwrap_or(service);
        let Some(svc) = self.services.get(&(cluster.clone(), name.to_string())) else {
            return Err(service_not_found(OP));
        };
        let kept = svc
            .stopped
            .iter()
            .rev()
            .filter(|t| self.now.saturating_since(t.at) < STOPPED_TASK_RETENTION);
        let mut rest = kept.skip(skip);
        let items: Vec<String> = rest
            .by_ref()
            .take(MAX_LIST_TASKS)
            .map(|t| t.task.arn.clone())
            .collect();
        let next_token = rest.next().map(|_| (skip + items.len()).to_string());
        Ok(Page { items, next_token })
    }

    /// DescribeTasks: stopped tasks by ARN (a task not found, or a live one, is MISSING: the
    /// operator describes only what ListTasks STOPPED listed).
    pub(super) fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> CloudResult<Described<Task>> {
        const OP: &str = "DescribeTasks";
        if tasks.is_empty() || tasks.len() > MAX_DESCRIBE_TASKS {
            return Err(invalid(
                OP,
                format!("Between 1 and {MAX_DESCRIBE_TASKS} tasks can be described at once."),
            ));
        }
        let cluster = self.cluster_key(OP, cluster)?;
        let mut out = Described::default();
        for arn in tasks {
            let found = self
                .services
                .range((cluster.clone(), String::new())..)
                .take_while(|((c, _), _)| *c == cluster)
                .find_map(|(_, svc)| svc.stopped.iter().find(|t| t.task.arn == *arn))
                .filter(|t| self.now.saturating_since(t.at) < STOPPED_TASK_RETENTION);
            match found {
                Some(t) => {
                    let mut task = t.task.clone();
                    task.stopped_at = Some(self.clock.system_time(t.at));
                    out.found.push(task);
                }
                None => out.missing.push(arn.clone()),
            }
        }
        Ok(out)
    }

    /// ListServices: ARNs of ACTIVE services in name order, a page at a time.
    pub(super) fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListServices";
        let cluster = self.cluster_key(OP, cluster)?;
        let after = match next_token {
            Some(t) => {
                Some(arn::parse_page_token(t).ok_or_else(|| invalid(OP, "Invalid nextToken."))?)
            }
            None => None,
        };
        let mut rest = self
            .services
            .range((cluster.clone(), after.clone().unwrap_or_default())..)
            .take_while(|((c, _), _)| *c == cluster)
            .filter(|((_, n), s)| s.service.status == "ACTIVE" && Some(n) != after.as_ref());
        let page: Vec<(&ServiceKey, &ServiceState)> =
            rest.by_ref().take(MAX_LIST_SERVICES).collect();
        let next_token = match (rest.next(), page.last()) {
            (Some(_), Some(((_, last), _))) => Some(arn::page_token(last)),
            _ => None,
        };
        Ok(Page {
            items: page.iter().map(|(_, s)| s.service.arn.clone()).collect(),
            next_token,
        })
    }

    /// CreateService.
    pub(super) fn create_service(&mut self, input: &CreateService) -> CloudResult<Service> {
        const OP: &str = "CreateService";
        let cluster = self.cluster_key(OP, &input.cluster)?;
        if !valid_ecs_name(&input.name) {
            return Err(invalid(
                OP,
                "Service names must be 1 to 255 letters, numbers, hyphens or underscores.",
            ));
        }
        check_ecs_tags(OP, &input.tags)?;
        let key: ServiceKey = (cluster.clone(), input.name.clone());
        if let Some(existing) = self.services.get(&key)
            && existing.service.status == "ACTIVE"
        {
            let retry = !input.client_token.is_empty()
                && existing.create_input.client_token == input.client_token
                && existing.create_input == *input;
            return if retry {
                Ok(existing.view(&self.clock))
            } else {
                Err(invalid(OP, "Creation of service was not idempotent."))
            };
        }
        let td = self.runnable_task_definition(OP, &input.task_definition)?;
        if input.launch_type.is_some() && !input.capacity_provider_strategy.is_empty() {
            return Err(invalid(
                OP,
                "Specifying both a launch type and capacity provider strategy is not supported.",
            ));
        }
        let cluster_default = self
            .clusters
            .get(&cluster)
            .map(|c| c.default_capacity_provider_strategy.clone())
            .unwrap_or_default();
        let (launch_type, strategy) = placement(
            input.launch_type,
            &input.capacity_provider_strategy,
            &cluster_default,
        );
        let fargate = defaults::is_fargate(launch_type, &strategy);
        let scheduling = input
            .scheduling_strategy
            .unwrap_or(SchedulingStrategy::Replica);
        if fargate && scheduling == SchedulingStrategy::Daemon {
            return Err(invalid(
                OP,
                "Fargate does not support the DAEMON scheduling strategy.",
            ));
        }
        if fargate
            && !td
                .definition
                .requires_compatibilities
                .contains(&Compatibility::Fargate)
        {
            return Err(invalid(
                OP,
                "Task definition does not support launch_type FARGATE.",
            ));
        }
        if !fargate && input.platform_version.is_some() {
            return Err(invalid(
                OP,
                "The platform version can only be specified for Fargate.",
            ));
        }
        let network = Self::check_network(OP, input.network_configuration.as_ref(), &td)?;
        self.check_load_balancers(OP, &input.load_balancers, &td)?;
        // DAEMON places one task per container instance; the simulator has none.
        let desired = match scheduling {
            SchedulingStrategy::Replica => input.desired_count.unwrap_or(0),
            SchedulingStrategy::Daemon => 0,
        };
        let service = Service {
            name: input.name.clone(),
            arn: self.arns.service(&cluster, &input.name),
            cluster_arn: self.arns.cluster(&cluster),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: 0,
            pending_count: 0,
            task_definition: td.arn.clone(),
            launch_type,
            capacity_provider_strategy: strategy,
            platform_version: if fargate {
                Some(
                    input
                        .platform_version
                        .clone()
                        .unwrap_or_else(|| "LATEST".into()),
                )
            } else {
                None
            },
            scheduling_strategy: Some(scheduling),
            network_configuration: network,
            deployment_configuration: Some(defaults::fill_deployment_configuration(
                input.deployment_configuration.clone(),
                scheduling,
            )),
            deployment_controller: Some(defaults::deployment_controller(
                input.deployment_controller,
            )),
            load_balancers: input.load_balancers.clone(),
            health_check_grace_period_seconds: input.health_check_grace_period_seconds,
            placement_constraints: input.placement_constraints.clone(),
            placement_strategy: input.placement_strategy.clone(),
            enable_execute_command: input.enable_execute_command.unwrap_or(false),
            propagate_tags: Some(input.propagate_tags.unwrap_or(PropagateTags::None)),
            enable_ecs_managed_tags: input.enable_ecs_managed_tags.unwrap_or(false),
            tags: input.tags.clone(),
            availability_zone_rebalancing: Some(
                input
                    .availability_zone_rebalancing
                    .unwrap_or(defaults::AVAILABILITY_ZONE_REBALANCING),
            ),
            service_registries: input.service_registries.clone(),
            role_arn: input.role.as_deref().map(|r| self.arns.role(r)),
            service_connect_configuration: input.service_connect_configuration.clone(),
            volume_configurations: input.volume_configurations.clone(),
            vpc_lattice_configurations: input.vpc_lattice_configurations.clone(),
            deployments: Vec::new(),
            events: Vec::new(),
            created_at: Some(self.timestamp()),
            current_service_deployment: None,
        };
        let deployment = arn::deployment_id(&mut self.rng);
        self.services.insert(
            key.clone(),
            ServiceState::new(service, input.clone(), deployment, self.now),
        );
        self.begin_service_deployment(&key);
        self.reconcile(&key);
        self.service_view(&key).ok_or_else(|| service_not_found(OP))
    }

    /// UpdateService.
    pub(super) fn update_service(&mut self, input: &UpdateService) -> CloudResult<Service> {
        const OP: &str = "UpdateService";
        let cluster = self.cluster_key(OP, &input.cluster)?;
        let name = self
            .arns
            .service_name(&cluster, &input.name)
            .ok_or_else(|| service_not_found(OP))?;
        let key: ServiceKey = (cluster, name.to_string());
        let current = self.active_service(OP, &key)?.service.clone();

        let td = match &input.task_definition {
            Some(t) => self.runnable_task_definition(OP, t)?,
            None => self
                .find_task_definition(&current.task_definition)
                .cloned()
                .ok_or_else(|| {
                    CloudError::from_code(OP, "ClientException", "TaskDefinition not found.")
                })?,
        };
        let load_balancers = input
            .load_balancers
            .clone()
            .unwrap_or_else(|| current.load_balancers.clone());
        if input.task_definition.is_some() || input.load_balancers.is_some() {
            self.check_load_balancers(OP, &load_balancers, &td)?;
        }
        let network = match &input.network_configuration {
            Some(nc) => Self::check_network(OP, Some(nc), &td)?,
            None if input.task_definition.is_some() => {
                Self::check_network(OP, current.network_configuration.as_ref(), &td)?
            }
            None => current.network_configuration.clone(),
        };
        let strategy = input
            .capacity_provider_strategy
            .clone()
            .unwrap_or_else(|| current.capacity_provider_strategy.clone());
        let launch_type = if input
            .capacity_provider_strategy
            .as_ref()
            .is_some_and(|s| !s.is_empty())
        {
            None
        } else {
            current.launch_type
        };
        let fargate = defaults::is_fargate(launch_type, &strategy);
        if input.platform_version.is_some() && !fargate {
            return Err(invalid(
                OP,
                "The platform version can only be specified for Fargate.",
            ));
        }
        if fargate
            && !td
                .definition
                .requires_compatibilities
                .contains(&Compatibility::Fargate)
        {
            return Err(invalid(
                OP,
                "Task definition does not support launch_type FARGATE.",
            ));
        }
        let platform_version = match &input.platform_version {
            Some(p) => Some(p.clone()),
            None if fargate => current
                .platform_version
                .clone()
                .or_else(|| Some("LATEST".into())),
            None => None,
        };
        let mut deployment_configuration =
            current.deployment_configuration.clone().unwrap_or_default();
        if let Some(change) = &input.deployment_configuration {
            if change.maximum_percent.is_some() {
                deployment_configuration.maximum_percent = change.maximum_percent;
            }
            if change.minimum_healthy_percent.is_some() {
                deployment_configuration.minimum_healthy_percent = change.minimum_healthy_percent;
            }
            if change.deployment_circuit_breaker.is_some() {
                deployment_configuration.deployment_circuit_breaker =
                    change.deployment_circuit_breaker.clone();
            }
            if change.alarms.is_some() {
                deployment_configuration.alarms = change.alarms.clone();
            }
            // The native strategies' settings go together: a change of strategy sets them
            // all, as sent.
            if change.strategy.is_some() || !change.lifecycle_hooks.is_empty() {
                deployment_configuration.strategy = change.strategy;
                deployment_configuration.lifecycle_hooks = change.lifecycle_hooks.clone();
            }
            if change.bake_time_in_minutes.is_some() {
                deployment_configuration.bake_time_in_minutes = change.bake_time_in_minutes;
            }
            if change.linear_configuration.is_some() {
                deployment_configuration.linear_configuration = change.linear_configuration.clone();
            }
            if change.canary_configuration.is_some() {
                deployment_configuration.canary_configuration = change.canary_configuration.clone();
            }
        }

        let new_deployment = input.force_new_deployment
            || td.arn != current.task_definition
            || load_balancers != current.load_balancers
            || network != current.network_configuration
            || platform_version != current.platform_version
            || strategy != current.capacity_provider_strategy;

        let Some(svc) = self.services.get_mut(&key) else {
            return Err(service_not_found(OP));
        };
        let s = &mut svc.service;
        if let Some(n) = input.desired_count {
            s.desired_count = n;
        }
        s.capacity_provider_strategy = strategy;
        s.launch_type = launch_type;
        s.platform_version = platform_version;
        s.network_configuration = network;
        s.deployment_configuration = Some(deployment_configuration);
        if let Some(v) = input.health_check_grace_period_seconds {
            s.health_check_grace_period_seconds = Some(v);
        }
        if let Some(v) = &input.placement_constraints {
            s.placement_constraints = v.clone();
        }
        if let Some(v) = &input.placement_strategy {
            s.placement_strategy = v.clone();
        }
        if let Some(v) = input.enable_execute_command {
            s.enable_execute_command = v;
        }
        if let Some(v) = input.propagate_tags {
            s.propagate_tags = Some(v);
        }
        if let Some(v) = input.enable_ecs_managed_tags {
            s.enable_ecs_managed_tags = v;
        }
        if let Some(v) = input.availability_zone_rebalancing {
            s.availability_zone_rebalancing = Some(v);
        }
        if let Some(v) = &input.service_registries {
            s.service_registries = v.clone();
        }
        if let Some(v) = &input.service_connect_configuration {
            s.service_connect_configuration = Some(v.clone());
        }
        if let Some(v) = &input.volume_configurations {
            s.volume_configurations = v.clone();
        }
        if let Some(v) = &input.vpc_lattice_configurations {
            s.vpc_lattice_configurations = v.clone();
        }
        if new_deployment {
            self.start_deployment(&key, td.arn, load_balancers, None);
            self.begin_service_deployment(&key);
        }
        self.reconcile(&key);
        self.service_view(&key).ok_or_else(|| service_not_found(OP))
    }

    /// DeleteService: stops every task; the answer shows DRAINING, later reads INACTIVE.
    pub(super) fn delete_service(
        &mut self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        const OP: &str = "DeleteService";
        let cluster = self.cluster_key(OP, cluster)?;
        let name = self
            .arns
            .service_name(&cluster, service)
            .ok_or_else(|| service_not_found(OP))?;
        let key: ServiceKey = (cluster, name.to_string());
        let svc = self.active_service(OP, &key)?;
        if svc.service.desired_count > 0 && !force {
            return Err(invalid(
                OP,
                "The service cannot be stopped while it is scaled above 0.",
            ));
        }
        let ids: Vec<String> = svc.tasks.keys().cloned().collect();
        self.stop_tasks(&key, &ids);
        let now = self.now;
        let Some(svc) = self.services.get_mut(&key) else {
            return Err(service_not_found(OP));
        };
        svc.service.desired_count = 0;
        svc.service.status = "INACTIVE".into();
        svc.deleted_at = Some(now);
        svc.deployments.truncate(1);
        if let Some(d) = svc.deployments.first_mut() {
            d.desired_count = 0;
        }
        let mut view = svc.view(&self.clock);
        view.status = "DRAINING".into();
        Ok(view)
    }
}
