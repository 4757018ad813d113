//! The Service kind (its task definition is [`super::task_definition`]): the comparable view
//! of a service (the spec filled with ECS's defaults, built the same way from a manifest and,
//! through [`spec_of_live`], from DescribeServices), the UpdateService request derived from
//! the computed differences ([`UPDATE_SERVICE`]), the plan (register, create, update, tag)
//! and the import conversion ([`spec_of_live`] with the defaults stripped).

use std::collections::BTreeMap;

use serde::Serialize;

use super::health::LiveHealth;
use super::task_definition::{self, TaskDefinitionPlan, TaskDefinitionTarget};
use super::{ImportContext, Keep, Unsupported};
use super::{
    KindOps, changed_fields, managed_tags, metadata, sorted, strategy, tag_map, user_tags,
};
use crate::cloud::defaults::service as defaults;
use crate::cloud::model::{
    self, AvailabilityZoneRebalancing, CapacityProviderStrategyItem, CreateService,
    DeploymentConfiguration, DeploymentControllerType, LaunchType, NetworkConfiguration,
    PlacementConstraint, PlacementStrategy, PropagateTags, SchedulingStrategy,
    ServiceConnectConfiguration, ServiceLoadBalancer, ServiceRegistry, ServiceVolumeConfiguration,
    Tags, UpdateService, VpcLatticeConfiguration,
};
use crate::diff::FieldChange;
use crate::diff::{compare, creation};
use crate::manifest::FieldPath;
use crate::manifest::document::{ANNOTATION_REDEPLOY, ANNOTATION_SUSPEND};
use crate::manifest::service::{DeploymentController, LoadBalancer, ServiceSpec};
use crate::manifest::task_definition::TaskDefinition;
use crate::manifest::{Document, Kind, Manifest, ResourceKey, Spec};
use crate::observe::{Observed, Read, Wanted};
use crate::plan::{
    LoadBalancerRef, PlanContext, ResourcePlan, Status, Step, TAG_AUTO_SCALING, TAG_REDEPLOY,
    TAG_SPEC_HASH, TAG_TASK_DEFINITION, TAG_TASK_DEFINITION_HASH, hash, ownership_problem,
    ownership_tags, prefixed, push_ecs_tags, replacement_problem, tag_delta,
};

/// The Service kind.
pub struct Service;

impl KindOps for Service {
    type Spec = ServiceSpec;
    const KIND: Kind = Kind::Service;

    fn health(key: &ResourceKey, observed: &Observed) -> LiveHealth {
        super::health::service(key, observed)
    }

    fn keep(doc: &Document, spec: &ServiceSpec, keep: &mut Keep) {
        let name = doc.manifest.metadata.name.clone();
        keep.clusters.insert(spec.cluster.clone());
        let family = match spec.task_definition.registered_family() {
            Some(family) => Some(family.to_string()),
            None => super::task_definition::desired_task_definition(&name, spec).family,
        };
        keep.families.extend(family);
        keep.services.insert((spec.cluster.clone(), name));
    }

    /// The service and the revision it runs.
    type Live<'a> = (&'a model::Service, &'a model::RegisteredTaskDefinition);

    fn import(
        (service, revision): Self::Live<'_>,
        ctx: &ImportContext<'_>,
    ) -> Result<Manifest, Unsupported> {
        import(service, ctx.cluster, revision, ctx.target_groups, ctx.adopt)
    }

    fn want(doc: &Document, spec: &ServiceSpec, wanted: &mut Wanted) {
        wanted.clusters.insert(spec.cluster.clone());
        wanted
            .services
            .entry(spec.cluster.clone())
            .or_default()
            .insert(doc.manifest.metadata.name.clone());
        super::service_scaling::want(spec, &doc.manifest.metadata.name, wanted);
        wanted.target_group_arns.extend(
            spec.load_balancers
                .iter()
                .filter_map(|lb| lb.target_group.clone()),
        );
        // Blue/green: an alternate target group named by its manifest.
        wanted.target_group_arns.extend(
            spec.load_balancers
                .iter()
                .filter_map(|lb| lb.advanced_configuration.as_ref())
                .filter_map(|a| a.alternate_target_group_arn.clone())
                .filter(|a| !a.starts_with("arn:")),
        );
    }

    fn plan(
        ctx: &PlanContext,
        doc: &Document,
        spec: &ServiceSpec,
        observed: &Observed,
    ) -> Result<ResourcePlan, Read> {
        if let Some(held) = held(ctx, doc, spec, observed) {
            return Ok(held);
        }
        let live = observed
            .services
            .get(&(spec.cluster.clone(), doc.manifest.metadata.name.clone()));
        let td = task_definition::resolve(doc, spec, live, observed)?;
        Ok(plan_with(ctx, doc, spec, observed, &td))
    }
}

// ---- the view ------------------------------------------------------------------------------

/// The service fields the operator manages (the task definition is compared on its own).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// Only when the manifest sets it (otherwise auto scaling owns it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<u32>,
    /// Launch type.
    pub launch_type: Option<LaunchType>,
    /// Capacity provider strategy, sorted, weight and base defaulted to 0.
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Platform version (`LATEST` on Fargate when unset).
    pub platform_version: Option<String>,
    /// Scheduling strategy (REPLICA when unset).
    pub scheduling_strategy: Option<SchedulingStrategy>,
    /// awsvpc settings, lists sorted, assignPublicIp DISABLED when unset.
    pub network_configuration: Option<NetworkConfiguration>,
    /// Percentages and circuit breaker with ECS's defaults.
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// Deployment controller (ECS when unset).
    pub deployment_controller: Option<DeploymentControllerType>,
    /// Target group attachments, sorted.
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Grace period (0 when unset).
    pub health_check_grace_period_seconds: Option<u32>,
    /// Placement constraints.
    pub placement_constraints: Vec<PlacementConstraint>,
    /// Placement strategy.
    pub placement_strategy: Vec<PlacementStrategy>,
    /// ECS Exec.
    pub enable_execute_command: Option<bool>,
    /// Tag propagation (NONE when unset).
    pub propagate_tags: Option<PropagateTags>,
    /// ECS managed tags.
    #[serde(rename = "enableECSManagedTags")]
    pub enable_ecs_managed_tags: Option<bool>,
    /// Managed tags.
    pub tags: Tags,
    /// Availability Zone rebalancing (ENABLED when unset).
    pub availability_zone_rebalancing: Option<AvailabilityZoneRebalancing>,
    /// Cloud Map registries, sorted.
    pub service_registries: Vec<ServiceRegistry>,
    /// The classic load balancer role, by name (an ARN's last part).
    pub role: Option<String>,
    /// Service Connect.
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,
    /// Volumes configured at launch, sorted by name.
    pub volume_configurations: Vec<ServiceVolumeConfiguration>,
    /// VPC Lattice, sorted.
    pub vpc_lattice_configurations: Vec<VpcLatticeConfiguration>,
}

/// The view of a Service manifest: the spec with ECS's defaults filled in
/// ([`defaults::fill_service`]) and the lists whose order ECS does not keep sorted; the
/// fields that are `Option` are always set. `load_balancers` are the manifest's attachments
/// with target group names already resolved to ARNs; `tags` include the ownership tags.
pub fn desired_service(
    spec: &ServiceSpec,
    load_balancers: Vec<ServiceLoadBalancer>,
    tags: Tags,
) -> ServiceView {
    let mut s = spec.clone();
    defaults::fill_service(&mut s);
    ServiceView {
        // With autoScaling the scaler owns the count: never compared (only used at creation).
        desired_count: s.desired_count.filter(|_| s.auto_scaling.is_none()),
        launch_type: s.launch_type,
        capacity_provider_strategy: strategy(&s.capacity_provider_strategy),
        platform_version: s.platform_version,
        scheduling_strategy: s.scheduling_strategy,
        network_configuration: s.network_configuration.map(network),
        deployment_configuration: s.deployment_configuration.map(deployment),
        deployment_controller: s.deployment_controller.map(|c| c.kind),
        load_balancers: sorted(load_balancers),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds,
        placement_constraints: s.placement_constraints,
        placement_strategy: s.placement_strategy,
        enable_execute_command: s.enable_execute_command,
        propagate_tags: s.propagate_tags,
        enable_ecs_managed_tags: s.enable_ecs_managed_tags,
        tags,
        availability_zone_rebalancing: s.availability_zone_rebalancing,
        service_registries: sorted(s.service_registries),
        role: s.role.map(|r| role_name(&r).to_string()),
        service_connect_configuration: s.service_connect_configuration,
        volume_configurations: {
            let mut v = s.volume_configurations;
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        },
        vpc_lattice_configurations: sorted(s.vpc_lattice_configurations),
    }
}

/// A role's name: `web` of `web` or of `arn:aws:iam::123456789012:role/path/web`.
fn role_name(role: &str) -> &str {
    if role.starts_with("arn:") {
        role.rsplit('/').next().unwrap_or(role)
    } else {
        role
    }
}

/// The view of a live service, shaped by the desired view (which fields and tags count): the
/// view of [`spec_of_live`], so both sides go through [`desired_service`] and a field is
/// mapped once.
pub fn live_service(live: &model::Service, desired: &ServiceView) -> ServiceView {
    let mut view = desired_service(
        &spec_of_live(live, ""),
        live.load_balancers.clone(),
        managed_tags(&live.tags, &desired.tags),
    );
    view.desired_count = desired.desired_count.map(|_| live.desired_count);
    // Left out of the manifest: ECS's choice (see `AVAILABILITY_ZONE_REBALANCING`) stands.
    if desired.availability_zone_rebalancing.is_none() {
        view.availability_zone_rebalancing = None;
    }
    view
}

/// A live service in the manifest's spelling, as described: nothing left out, attachments by
/// target group ARN, every tag, no task definition (it is compared on its own). The live view
/// and import start from it.
pub fn spec_of_live(live: &model::Service, cluster: &str) -> ServiceSpec {
    ServiceSpec {
        cluster: cluster.to_string(),
        desired_count: Some(live.desired_count),
        launch_type: live.launch_type,
        capacity_provider_strategy: live.capacity_provider_strategy.clone(),
        platform_version: live.platform_version.clone(),
        scheduling_strategy: live.scheduling_strategy,
        task_definition: TaskDefinition::default(),
        network_configuration: live.network_configuration.clone(),
        deployment_configuration: live.deployment_configuration.clone(),
        deployment_controller: live
            .deployment_controller
            .map(|kind| DeploymentController { kind }),
        load_balancers: live
            .load_balancers
            .iter()
            .map(|lb| LoadBalancer {
                target_group: None,
                target_group_arn: Some(lb.target_group_arn.clone()),
                load_balancer_name: None,
                container_name: lb.container_name.clone(),
                container_port: lb.container_port,
                advanced_configuration: lb.advanced_configuration.clone(),
            })
            .collect(),
        health_check_grace_period_seconds: live.health_check_grace_period_seconds,
        placement_strategy: live.placement_strategy.clone(),
        placement_constraints: live.placement_constraints.clone(),
        enable_execute_command: Some(live.enable_execute_command),
        propagate_tags: live.propagate_tags,
        enable_ecs_managed_tags: Some(live.enable_ecs_managed_tags),
        tags: user_tags(&live.tags),
        service_name: None,
        availability_zone_rebalancing: live.availability_zone_rebalancing,
        service_registries: live.service_registries.clone(),
        role: live.role_arn.clone(),
        service_connect_configuration: live.service_connect_configuration.clone(),
        volume_configurations: live.volume_configurations.clone(),
        vpc_lattice_configurations: live.vpc_lattice_configurations.clone(),
        auto_scaling: None, // Application Auto Scaling's, read on its own (`service_scaling`)
    }
}

fn network(mut n: NetworkConfiguration) -> NetworkConfiguration {
    let c = &mut n.awsvpc_configuration;
    c.subnets.sort();
    c.security_groups.sort();
    n
}

fn deployment(mut d: DeploymentConfiguration) -> DeploymentConfiguration {
    if d.alarms
        .as_ref()
        .is_some_and(|a| !a.enable && a.alarm_names.is_empty())
    {
        d.alarms = None;
    }
    if let Some(a) = &mut d.alarms {
        a.alarm_names.sort();
    }
    d
}

/// Fields of a service ECS cannot change with UpdateService.
pub const SERVICE_IMMUTABLE: &[&str] = &[
    "launchType",
    "schedulingStrategy",
    "deploymentController",
    "role",
];

// ---- the update request, derived from the differences --------------------------------------

/// Sets one UpdateService member from the desired view (or, where the request takes the
/// manifest's own spelling, from the spec).
type SetMember = fn(&mut UpdateService, &ServiceView, &ServiceSpec);

/// Each view field UpdateService changes in place, with the member it sets. The other view
/// fields: [`SERVICE_IMMUTABLE`] (a change blocks the plan), `loadBalancers` (the step's own
/// attachments) and `tags` (TagResource/UntagResource).
pub const UPDATE_SERVICE: &[(&str, SetMember)] = &[
    ("desiredCount", |u, d, _| u.desired_count = d.desired_count),
    ("capacityProviderStrategy", |u, _, s| {
        u.capacity_provider_strategy = Some(s.capacity_provider_strategy.clone())
    }),
    ("platformVersion", |u, d, _| {
        u.platform_version = d.platform_version.clone()
    }),
    ("networkConfiguration", |u, _, s| {
        u.network_configuration = s.network_configuration.clone()
    }),
    ("deploymentConfiguration", |u, d, _| {
        u.deployment_configuration = d.deployment_configuration.clone()
    }),
    ("healthCheckGracePeriodSeconds", |u, d, _| {
        u.health_check_grace_period_seconds = d.health_check_grace_period_seconds
    }),
    ("placementConstraints", |u, d, _| {
        u.placement_constraints = Some(d.placement_constraints.clone())
    }),
    ("placementStrategy", |u, d, _| {
        u.placement_strategy = Some(d.placement_strategy.clone())
    }),
    ("enableExecuteCommand", |u, d, _| {
        u.enable_execute_command = d.enable_execute_command
    }),
    ("propagateTags", |u, d, _| {
        u.propagate_tags = d.propagate_tags
    }),
    ("enableECSManagedTags", |u, d, _| {
        u.enable_ecs_managed_tags = d.enable_ecs_managed_tags
    }),
    ("availabilityZoneRebalancing", |u, d, _| {
        u.availability_zone_rebalancing = d.availability_zone_rebalancing
    }),
    ("serviceRegistries", |u, d, _| {
        u.service_registries = Some(d.service_registries.clone())
    }),
    ("serviceConnectConfiguration", |u, d, _| {
        u.service_connect_configuration = d.service_connect_configuration.clone()
    }),
    ("volumeConfigurations", |u, d, _| {
        u.volume_configurations = Some(d.volume_configurations.clone())
    }),
    ("vpcLatticeConfigurations", |u, d, _| {
        u.vpc_lattice_configurations = Some(d.vpc_lattice_configurations.clone())
    }),
];

/// The view fields no UpdateService member carries (see [`UPDATE_SERVICE`]).
pub const NOT_IN_UPDATE_SERVICE: &[&str] = &[
    "launchType",
    "schedulingStrategy",
    "deploymentController",
    "role",
    "loadBalancers",
    "tags",
];

/// The UpdateService members the differing fields of `changes` set (cluster and name aside).
pub fn update_request(
    changes: &[crate::diff::FieldChange],
    desired: &ServiceView,
    spec: &ServiceSpec,
    name: &str,
) -> UpdateService {
    let mut update = UpdateService {
        cluster: spec.cluster.clone(),
        name: name.to_string(),
        ..UpdateService::default()
    };
    let changed = changed_fields(changes);
    for (field, set) in UPDATE_SERVICE {
        if changed.contains(field) {
            set(&mut update, desired, spec);
        }
    }
    update
}

// ---- the plan ------------------------------------------------------------------------------

/// The plan of a Service that is left alone or cannot be applied (suspended, a missing
/// cluster no manifest declares, not ours), decided from observed state alone, so that no task
/// definition is read for it.
pub fn held(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ServiceSpec,
    observed: &Observed,
) -> Option<ResourcePlan> {
    if doc.manifest.metadata.flag(ANNOTATION_SUSPEND) {
        return Some(ResourcePlan::new(doc, Status::Suspended));
    }
    let key = (spec.cluster.clone(), doc.manifest.metadata.name.clone());
    match observed.services.get(&key) {
        Some(live) => {
            ownership_problem(ctx, doc, &live.tags).map(|r| ResourcePlan::blocked(doc, r))
        }
        None if !observed.clusters.contains_key(&spec.cluster)
            && !ctx.declared_clusters.contains(&spec.cluster) =>
        {
            Some(ResourcePlan::blocked(
                doc,
                format!(
                    "cluster {:?} does not exist and no Cluster manifest declares it",
                    spec.cluster
                ),
            ))
        }
        None => None,
    }
}

/// The plan of a Service manifest, given its task definition plan: the service's own, then
/// its `autoScaling` ([`super::service_scaling::extend`]).
pub fn plan_with(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ServiceSpec,
    observed: &Observed,
    td: &TaskDefinitionPlan,
) -> ResourcePlan {
    let mut p = plan_service(ctx, doc, spec, observed, td);
    let name = &doc.manifest.metadata.name;
    let live = observed.services.get(&(spec.cluster.clone(), name.clone()));
    super::service_scaling::extend(name, spec, observed, live, &mut p);
    p
}

/// The plan of the service itself (no `autoScaling`).
fn plan_service(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ServiceSpec,
    observed: &Observed,
    td: &TaskDefinitionPlan,
) -> ResourcePlan {
    if let Some(held) = held(ctx, doc, spec, observed) {
        return held;
    }
    let name = &doc.manifest.metadata.name;
    let refs: Vec<LoadBalancerRef> = spec
        .load_balancers
        .iter()
        .map(|lb| LoadBalancerRef {
            target_group: lb
                .target_group
                .clone()
                .or(lb.target_group_arn.clone())
                .unwrap_or_default(),
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
            advanced_configuration: lb.advanced_configuration.clone(),
        })
        .collect();
    // Target groups still to be created get a placeholder ARN: it shows as a change.
    let resolved: Vec<ServiceLoadBalancer> = refs
        .iter()
        .map(|r| {
            r.resolve(&ctx.target_group_arns)
                .unwrap_or(ServiceLoadBalancer {
                    target_group_arn: format!("(target group {} to be created)", r.target_group),
                    container_name: r.container_name.clone(),
                    container_port: r.container_port,
                    advanced_configuration: r.advanced_configuration.clone(),
                })
        })
        .collect();
    let mut tags = ownership_tags(ctx, doc, tag_map(&spec.tags));
    if spec.auto_scaling.is_some() {
        tags.insert(TAG_AUTO_SCALING.into(), "true".into());
    }
    let desired = desired_service(spec, resolved, tags);
    // Only a create or a change writes it: a service in sync hashes nothing.
    let spec_hash = || hash(&(&desired, &td.hash));
    let redeploy = doc
        .manifest
        .metadata
        .annotations
        .get(ANNOTATION_REDEPLOY)
        .map(|v| v.0.clone());
    let live = observed.services.get(&(spec.cluster.clone(), name.clone()));
    let Some(live) = live else {
        let mut p = ResourcePlan::new(doc, Status::Create);
        if td.target == TaskDefinitionTarget::Register {
            p.steps.push(register_step(ctx, doc, td));
        }
        let task_definition = td.revision();
        let mut tags = desired.tags.clone();
        let spec_hash = spec_hash();
        tags.insert(TAG_SPEC_HASH.into(), spec_hash.clone());
        tags.insert(TAG_TASK_DEFINITION.into(), task_definition.clone());
        tags.insert(TAG_TASK_DEFINITION_HASH.into(), td.hash.clone());
        if let Some(v) = &redeploy {
            tags.insert(TAG_REDEPLOY.into(), v.clone());
        }
        p.steps.push(Step::CreateService {
            input: CreateService {
                cluster: spec.cluster.clone(),
                name: name.clone(),
                task_definition,
                // With autoScaling and no count: start at its minimum.
                desired_count: spec
                    .desired_count
                    .or(spec.auto_scaling.as_ref().map(|a| a.min_capacity)),
                launch_type: spec.launch_type,
                capacity_provider_strategy: spec.capacity_provider_strategy.clone(),
                platform_version: spec.platform_version.clone(),
                scheduling_strategy: spec.scheduling_strategy,
                network_configuration: spec.network_configuration.clone(),
                deployment_configuration: spec.deployment_configuration.clone(),
                deployment_controller: spec.deployment_controller.as_ref().map(|c| c.kind),
                load_balancers: Vec::new(),
                health_check_grace_period_seconds: spec.health_check_grace_period_seconds,
                placement_constraints: spec.placement_constraints.clone(),
                placement_strategy: spec.placement_strategy.clone(),
                enable_execute_command: spec.enable_execute_command,
                propagate_tags: spec.propagate_tags,
                enable_ecs_managed_tags: spec.enable_ecs_managed_tags,
                tags,
                availability_zone_rebalancing: spec.availability_zone_rebalancing,
                service_registries: spec.service_registries.clone(),
                role: spec.role.clone(),
                service_connect_configuration: spec.service_connect_configuration.clone(),
                volume_configurations: spec.volume_configurations.clone(),
                vpc_lattice_configurations: spec.vpc_lattice_configurations.clone(),
                client_token: format!("ecs-operator-{spec_hash}"),
            },
            load_balancers: refs,
        });
        p.changes = creation(&desired);
        p.changes
            .extend(prefixed(creation(&td.desired), "taskDefinition"));
        return p;
    };
    let live_view = live_service(live, &desired);
    let mut changes = compare(&live_view, &desired);
    if let Some(reason) = replacement_problem(&changes, SERVICE_IMMUTABLE, "spec.") {
        let mut p = ResourcePlan::blocked(doc, reason);
        p.changes = changes;
        return p;
    }
    // UpdateService cannot remove a network configuration: say so rather than plan a change
    // that never reaches AWS.
    if desired.network_configuration.is_none() && live_view.network_configuration.is_some() {
        let mut p = ResourcePlan::blocked(
            doc,
            "spec.networkConfiguration was removed, but ECS cannot remove a service's network \
             configuration with UpdateService; put it back, or delete the service by hand and \
             apply again"
                .to_string(),
        );
        p.changes = changes;
        return p;
    }
    let mut update = update_request(&changes, &desired, spec, name);
    if redeploy.is_some() && live.tags.get(TAG_REDEPLOY) != redeploy.as_ref() {
        update.force_new_deployment = true;
        changes.push(FieldChange {
            path: FieldPath::parse("metadata.annotations").key(ANNOTATION_REDEPLOY),
            old: live.tags.get(TAG_REDEPLOY).map(|v| v.clone().into()),
            new: redeploy.clone().map(Into::into),
        });
    }
    let load_balancers = changed_fields(&changes)
        .contains("loadBalancers")
        .then(|| refs.clone());
    changes.extend(prefixed(td.changes.clone(), "taskDefinition"));
    // Setting another revision is an update even when no field difference was reported.
    let sets_revision = !matches!(td.target, TaskDefinitionTarget::Keep(_));
    let mut p = ResourcePlan::new(
        doc,
        if changes.is_empty() && !sets_revision {
            Status::InSync
        } else {
            Status::Update
        },
    );
    if td.target == TaskDefinitionTarget::Register {
        p.steps.push(register_step(ctx, doc, td));
    }
    update.task_definition = sets_revision.then(|| td.revision());
    let untouched = UpdateService {
        cluster: spec.cluster.clone(),
        name: name.clone(),
        ..UpdateService::default()
    };
    if update != untouched || load_balancers.is_some() {
        p.steps.push(Step::UpdateService {
            input: update,
            load_balancers,
        });
    }
    // The bookkeeping tags (spec hash, the revision we set and its content hash) ride along
    // with a tag change the manifest asks for, never alone: a TagResource per service would make
    // an image roll three calls instead of two. Without them the next process reads the
    // revision the service runs once (`task_definition::resolve`); this one has it cached.
    if !changes.is_empty() {
        let bookkeeping = [
            (TAG_SPEC_HASH, spec_hash()),
            (TAG_TASK_DEFINITION, td.revision()),
            (TAG_TASK_DEFINITION_HASH, td.hash.clone()),
        ];
        // The redeploy annotation's value is a tag the manifest asks for: a new value is
        // written (with the bookkeeping) as the forced deployment is made.
        let mut wanted = desired.tags.clone();
        if let Some(v) = &redeploy {
            wanted.insert(TAG_REDEPLOY.into(), v.clone());
        }
        let mut as_live = wanted.clone();
        for (key, _) in &bookkeeping {
            if let Some(v) = live.tags.get(*key) {
                as_live.insert(key.to_string(), v.clone());
            }
        }
        let (set, remove) = tag_delta(&live.tags, &as_live, &desired.tags);
        if !set.is_empty() || !remove.is_empty() {
            let mut want_tags = wanted.clone();
            want_tags.extend(bookkeeping.map(|(k, v)| (k.to_string(), v)));
            push_ecs_tags(&mut p, &live.arn, &live.tags, &want_tags, &desired.tags);
        }
    }
    p.changes = changes;
    p
}

fn register_step(ctx: &PlanContext, doc: &Document, td: &TaskDefinitionPlan) -> Step {
    let mut tags = ownership_tags(ctx, doc, Tags::new());
    tags.insert(TAG_SPEC_HASH.into(), td.hash.clone());
    Step::RegisterTaskDefinition {
        definition: td.desired.clone(),
        tags,
    }
}

// ---- import --------------------------------------------------------------------------------

/// The Service manifest of a live service and the revision it runs. `target_groups` names
/// the target groups imported with it, by ARN: their attachments refer to the TargetGroup
/// manifest by name; any other stays a `targetGroupArn`.
pub fn import(
    live: &model::Service,
    cluster: &str,
    revision: &model::RegisteredTaskDefinition,
    target_groups: &BTreeMap<String, String>,
    adopt: bool,
) -> Result<Manifest, Unsupported> {
    match live.deployment_controller {
        Some(DeploymentControllerType::CodeDeploy) => {
            return Err(Unsupported::DeploymentController("CODE_DEPLOY"));
        }
        Some(DeploymentControllerType::External) => {
            return Err(Unsupported::DeploymentController("EXTERNAL"));
        }
        Some(DeploymentControllerType::Ecs) | None => {}
    }
    let mut spec = spec_of_live(live, cluster);
    // A DAEMON service's count follows the instances; the manifest must not set it.
    if live.scheduling_strategy == Some(SchedulingStrategy::Daemon) {
        spec.desired_count = None;
    }
    if !spec.capacity_provider_strategy.is_empty() {
        spec.launch_type = None; // the strategy decides where tasks run
    }
    if let Some(n) = &mut spec.network_configuration {
        n.awsvpc_configuration.subnets.sort();
        n.awsvpc_configuration.security_groups.sort();
    }
    for lb in &mut spec.load_balancers {
        if let Some(name) = lb
            .target_group_arn
            .as_ref()
            .and_then(|a| target_groups.get(a))
        {
            lb.target_group = Some(name.clone());
            lb.target_group_arn = None;
        }
        // Blue/green: the alternate target group by its manifest name too.
        if let Some(alternate) = lb
            .advanced_configuration
            .as_mut()
            .and_then(|a| a.alternate_target_group_arn.as_mut())
            && let Some(name) = target_groups.get(alternate.as_str())
        {
            *alternate = name.clone();
        }
    }
    let mut spec = defaults::strip_service(&spec);
    // After the strip: what the definition leaves out depends on the placement import writes.
    spec.task_definition = task_definition::import(
        &task_definition::live_definition(revision),
        &live.name,
        &spec,
    );
    // Alarms that are off and name none are no alarms.
    if let Some(d) = &mut spec.deployment_configuration
        && d.alarms
            .as_ref()
            .is_some_and(|a| !a.enable && a.alarm_names.is_empty())
    {
        d.alarms = None;
    }
    spec.deployment_configuration = spec
        .deployment_configuration
        .filter(|d| *d != DeploymentConfiguration::default());
    Ok(Manifest {
        metadata: metadata(&live.name, adopt),
        spec: Spec::Service(Box::new(spec)),
    })
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
