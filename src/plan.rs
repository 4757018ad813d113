//! Planning: what to do for each resource so live state matches the manifests. Pure except
//! for [`resolve_task_definition`], which reads task definition revisions through the
//! observer's cache.
//!
//! A plan per resource: its status (in sync, create, update, blocked, suspended), the field
//! changes (what `diff` prints) and the steps (what `apply` calls), in apply order: clusters,
//! target groups, then each service's task definition and the service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::cloud::CloudError;
use crate::cloud::model::{
    CreateCluster, CreateService, CreateTargetGroup, Service, ServiceLoadBalancer, Tags,
    TargetGroupHealthCheck, TaskDefinition, UpdateService,
};
use crate::diff::views::{self, SERVICE_IMMUTABLE, TARGET_GROUP_IMMUTABLE};
use crate::diff::{FieldChange, compare, creation, normalize};
use crate::manifest::cluster::ClusterSpec;
use crate::manifest::document::{ANNOTATION_ADOPT, ANNOTATION_SUSPEND};
use crate::manifest::path::FieldPath;
use crate::manifest::service::ServiceSpec;
use crate::manifest::target_group::TargetGroupSpec;
use crate::manifest::{Document, ResourceKey};
use crate::observe::{Observed, Observer};

/// Tag naming the operator instance that manages a resource.
pub const TAG_MANAGED_BY: &str = "ecs-operator/managed-by";
/// Tag naming the manifest file a resource comes from.
pub const TAG_SOURCE: &str = "ecs-operator/source";
/// Tag holding a hash of the resource's normalized desired state.
pub const TAG_SPEC_HASH: &str = "ecs-operator/spec-hash";
/// Tag on a service: the task definition revision the operator last set. While the service
/// still runs that revision and its spec hash matches, the revision need not be read again.
pub const TAG_TASK_DEFINITION: &str = "ecs-operator/task-definition";
/// Tag on a service: the content hash of the revision in [`TAG_TASK_DEFINITION`].
pub const TAG_TASK_DEFINITION_HASH: &str = "ecs-operator/task-definition-hash";
/// How many of a family's newest revisions are searched for one with the wanted content
/// before registering a new one.
pub const REVISIONS_SEARCHED: usize = 20;

/// What the plan does with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Live matches the manifest.
    InSync,
    /// It does not exist live; it will be created.
    Create,
    /// It exists and differs; it will be updated.
    Update,
    /// It cannot be applied (not ours, needs replacement, missing cluster).
    Blocked,
    /// `ecs-operator/suspend: "true"`: left alone.
    Suspended,
}

/// One call `apply` makes. Names stand in for ARNs that only exist after an earlier step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// CreateCluster.
    CreateCluster(CreateCluster),
    /// UpdateCluster settings.
    UpdateClusterSettings {
        /// Cluster name.
        cluster: String,
        /// Settings to set.
        settings: BTreeMap<String, String>,
    },
    /// PutClusterCapacityProviders.
    PutClusterCapacityProviders {
        /// Cluster name.
        cluster: String,
        /// Providers.
        providers: Vec<String>,
        /// Default strategy.
        strategy: Vec<crate::cloud::model::CapacityProviderStrategyItem>,
    },
    /// ECS TagResource.
    TagEcs {
        /// Resource ARN.
        arn: String,
        /// Tags to set.
        tags: Tags,
    },
    /// ECS UntagResource.
    UntagEcs {
        /// Resource ARN.
        arn: String,
        /// Keys to remove.
        keys: Vec<String>,
    },
    /// CreateTargetGroup, then its attributes.
    CreateTargetGroup {
        /// The group.
        input: CreateTargetGroup,
        /// Attributes to set after creation.
        attributes: BTreeMap<String, String>,
    },
    /// ModifyTargetGroup (health check).
    ModifyTargetGroup {
        /// Group ARN.
        arn: String,
        /// New health check.
        health_check: TargetGroupHealthCheck,
    },
    /// ModifyTargetGroupAttributes.
    ModifyTargetGroupAttributes {
        /// Group ARN.
        arn: String,
        /// Attributes to set.
        attributes: BTreeMap<String, String>,
    },
    /// ELBv2 AddTags.
    AddTargetGroupTags {
        /// Group ARN.
        arn: String,
        /// Tags.
        tags: Tags,
    },
    /// ELBv2 RemoveTags.
    RemoveTargetGroupTags {
        /// Group ARN.
        arn: String,
        /// Keys.
        keys: Vec<String>,
    },
    /// RegisterTaskDefinition; later steps of the same service use its ARN.
    RegisterTaskDefinition {
        /// The definition.
        definition: TaskDefinition,
        /// Its tags.
        tags: Tags,
    },
    /// CreateService. `input.task_definition` is empty when a registered revision fills it;
    /// load balancers name target groups by manifest name until resolved.
    CreateService {
        /// The service.
        input: CreateService,
        /// Target group attachments by manifest name or ARN.
        load_balancers: Vec<LoadBalancerRef>,
    },
    /// UpdateService; `input.task_definition` is `Some("")` when a registered revision fills it.
    UpdateService {
        /// The update.
        input: UpdateService,
        /// New attachments, when they change.
        load_balancers: Option<Vec<LoadBalancerRef>>,
    },
}

impl Step {
    /// The AWS operation the step starts with (`CreateTargetGroup`, `UpdateService`, ...).
    pub fn operation(&self) -> &'static str {
        match self {
            Step::CreateCluster(_) => "CreateCluster",
            Step::UpdateClusterSettings { .. } => "UpdateCluster",
            Step::PutClusterCapacityProviders { .. } => "PutClusterCapacityProviders",
            Step::TagEcs { .. } => "TagResource",
            Step::UntagEcs { .. } => "UntagResource",
            Step::CreateTargetGroup { .. } => "CreateTargetGroup",
            Step::ModifyTargetGroup { .. } => "ModifyTargetGroup",
            Step::ModifyTargetGroupAttributes { .. } => "ModifyTargetGroupAttributes",
            Step::AddTargetGroupTags { .. } => "AddTags",
            Step::RemoveTargetGroupTags { .. } => "RemoveTags",
            Step::RegisterTaskDefinition { .. } => "RegisterTaskDefinition",
            Step::CreateService { .. } => "CreateService",
            Step::UpdateService { .. } => "UpdateService",
        }
    }
}

/// A service's target group attachment before ARNs are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerRef {
    /// A TargetGroup manifest name, or an ARN (`arn:` prefix).
    pub target_group: String,
    /// Container.
    pub container_name: String,
    /// Port.
    pub container_port: u32,
}

impl LoadBalancerRef {
    /// The attachment with its ARN, when the target group's ARN is known.
    pub(crate) fn resolve(&self, arns: &BTreeMap<String, String>) -> Option<ServiceLoadBalancer> {
        let arn = if self.target_group.starts_with("arn:") {
            self.target_group.clone()
        } else {
            arns.get(&self.target_group)?.clone()
        };
        Some(ServiceLoadBalancer {
            target_group_arn: arn,
            container_name: self.container_name.clone(),
            container_port: self.container_port,
        })
    }
}

/// The plan of one resource.
#[derive(Debug, Clone, Serialize)]
pub struct ResourcePlan {
    /// Which resource.
    pub key: ResourceKey,
    /// Manifest file.
    pub file: PathBuf,
    /// Manifest line.
    pub line: u32,
    /// What happens.
    pub status: Status,
    /// Why, for blocked resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Differing fields, live -> desired.
    pub changes: Vec<FieldChange>,
    /// The calls apply makes.
    #[serde(skip)]
    pub steps: Vec<Step>,
}

impl ResourcePlan {
    fn new(doc: &Document, status: Status) -> ResourcePlan {
        ResourcePlan {
            key: doc.manifest.key(),
            file: doc.file.clone(),
            line: doc.line,
            status,
            reason: None,
            changes: Vec::new(),
            steps: Vec::new(),
        }
    }

    fn blocked(doc: &Document, reason: String) -> ResourcePlan {
        ResourcePlan {
            reason: Some(reason),
            ..ResourcePlan::new(doc, Status::Blocked)
        }
    }

    /// True when apply has nothing to do.
    pub fn is_in_sync(&self) -> bool {
        matches!(self.status, Status::InSync | Status::Suspended)
    }
}

/// Settings of a planning pass.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The operator instance (value of `ecs-operator/managed-by`).
    pub instance: String,
    /// Target group ARNs by manifest name, as observed.
    pub target_group_arns: BTreeMap<String, String>,
    /// Clusters declared by Cluster manifests (created before services if missing).
    pub declared_clusters: BTreeSet<String>,
}

/// Placeholder for "the revision the previous RegisterTaskDefinition step registered", in a
/// CreateService/UpdateService task definition or in the [`TAG_TASK_DEFINITION`] tag.
pub const REGISTERED: &str = "";

pub use crate::manifest::hash::content_hash as hash;

fn ownership_tags(ctx: &PlanContext, doc: &Document, mut tags: Tags) -> Tags {
    tags.insert(TAG_MANAGED_BY.into(), ctx.instance.clone());
    tags.insert(TAG_SOURCE.into(), doc.file.display().to_string());
    tags
}

/// Whether the operator may change an existing resource: it carries our tag, or the manifest
/// asks to adopt it.
fn ownership_problem(ctx: &PlanContext, doc: &Document, live_tags: &Tags) -> Option<String> {
    match live_tags.get(TAG_MANAGED_BY) {
        Some(owner) if *owner == ctx.instance => None,
        _ if doc.manifest.metadata.flag(ANNOTATION_ADOPT) => None,
        Some(owner) => Some(format!(
            "{} exists and is managed by ecs-operator instance {owner:?}, not {:?}; add the \
             annotation ecs-operator/adopt: \"true\" to take it over",
            doc.manifest.key(),
            ctx.instance
        )),
        None => Some(format!(
            "{} exists and was not created by ecs-operator; add the annotation \
             ecs-operator/adopt: \"true\" to manage it",
            doc.manifest.key()
        )),
    }
}

fn replacement_problem(
    changes: &[FieldChange],
    immutable: &[&str],
    prefix: &str,
) -> Option<String> {
    let fields: Vec<String> = changes
        .iter()
        .filter(|c| c.path.segments().first().is_some_and(|s| matches!(s, crate::manifest::path::Segment::Key(k) if immutable.contains(&k.as_str()))))
        .map(|c| format!("{prefix}{}", c.path))
        .collect();
    (!fields.is_empty()).then(|| {
        format!(
            "needs replacement: {} cannot change in place; nothing was deleted. Rename the \
             resource, or delete it by hand and apply again",
            fields.join(", ")
        )
    })
}

fn prefixed(changes: Vec<FieldChange>, prefix: &str) -> Vec<FieldChange> {
    let base = FieldPath::parse(prefix);
    changes
        .into_iter()
        .map(|mut c| {
            let mut p = base.clone();
            for s in c.path.segments() {
                p = match s {
                    crate::manifest::path::Segment::Key(k) => p.key(k.clone()),
                    crate::manifest::path::Segment::Index(i) => p.index(*i),
                };
            }
            c.path = p;
            c
        })
        .collect()
}

/// Tag changes as (to set, keys to remove), over the keys the operator manages: those of
/// `managed` (the manifest's and the ownership tags) and every `ecs-operator/*` key.
fn tag_delta(live: &Tags, want: &Tags, managed: &Tags) -> (Tags, Vec<String>) {
    let set: Tags = want
        .iter()
        .filter(|(k, v)| live.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = live
        .keys()
        .filter(|k| managed.contains_key(*k) || k.starts_with(views::OWN_TAG_PREFIX))
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

// ---- clusters ------------------------------------------------------------------------------

/// The plan of a Cluster manifest.
pub fn plan_cluster(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ClusterSpec,
    observed: &Observed,
) -> ResourcePlan {
    if doc.manifest.metadata.flag(ANNOTATION_SUSPEND) {
        return ResourcePlan::new(doc, Status::Suspended);
    }
    let name = &doc.manifest.metadata.name;
    let desired =
        views::desired_cluster(spec, ownership_tags(ctx, doc, views::tag_map(&spec.tags)));
    let Some(live) = observed.clusters.get(name) else {
        let mut p = ResourcePlan::new(doc, Status::Create);
        let mut tags = desired.tags.clone();
        tags.insert(TAG_SPEC_HASH.into(), hash(&desired));
        p.steps.push(Step::CreateCluster(CreateCluster {
            name: name.clone(),
            settings: desired.settings.clone(),
            capacity_providers: desired.capacity_providers.clone(),
            default_capacity_provider_strategy: desired.default_capacity_provider_strategy.clone(),
            tags,
        }));
        p.changes = creation(&desired);
        return p;
    };
    if let Some(reason) = ownership_problem(ctx, doc, &live.tags) {
        return ResourcePlan::blocked(doc, reason);
    }
    let live_view = views::live_cluster(live, &desired);
    let changes = compare(&live_view, &desired);
    if changes.is_empty() {
        return ResourcePlan::new(doc, Status::InSync);
    }
    let mut p = ResourcePlan::new(doc, Status::Update);
    if live_view.settings != desired.settings {
        p.steps.push(Step::UpdateClusterSettings {
            cluster: name.clone(),
            settings: desired.settings.clone(),
        });
    }
    if live_view.capacity_providers != desired.capacity_providers
        || live_view.default_capacity_provider_strategy
            != desired.default_capacity_provider_strategy
    {
        p.steps.push(Step::PutClusterCapacityProviders {
            cluster: name.clone(),
            providers: desired.capacity_providers.clone(),
            strategy: desired.default_capacity_provider_strategy.clone(),
        });
    }
    let mut want_tags = desired.tags.clone();
    want_tags.insert(TAG_SPEC_HASH.into(), hash(&desired));
    push_ecs_tags(&mut p, &live.arn, &live.tags, &want_tags, &desired.tags);
    p.changes = changes;
    p
}

/// Tag steps for an ECS resource: set what differs, remove managed keys that went away.
fn push_ecs_tags(p: &mut ResourcePlan, arn: &str, live: &Tags, want: &Tags, managed: &Tags) {
    let (set, remove) = tag_delta(live, want, managed);
    if !set.is_empty() {
        p.steps.push(Step::TagEcs {
            arn: arn.into(),
            tags: set,
        });
    }
    if !remove.is_empty() {
        p.steps.push(Step::UntagEcs {
            arn: arn.into(),
            keys: remove,
        });
    }
}

// ---- target groups -------------------------------------------------------------------------

/// The plan of a TargetGroup manifest.
pub fn plan_target_group(
    ctx: &PlanContext,
    doc: &Document,
    spec: &TargetGroupSpec,
    observed: &Observed,
) -> ResourcePlan {
    if doc.manifest.metadata.flag(ANNOTATION_SUSPEND) {
        return ResourcePlan::new(doc, Status::Suspended);
    }
    let name = &doc.manifest.metadata.name;
    let desired =
        views::desired_target_group(spec, ownership_tags(ctx, doc, views::tag_map(&spec.tags)));
    let mut want_tags = desired.tags.clone();
    want_tags.insert(TAG_SPEC_HASH.into(), hash(&desired));
    let Some(live) = observed.target_groups.get(name) else {
        let mut p = ResourcePlan::new(doc, Status::Create);
        p.steps.push(Step::CreateTargetGroup {
            input: CreateTargetGroup {
                name: name.clone(),
                protocol: spec.protocol,
                protocol_version: spec.protocol_version,
                port: spec.port,
                vpc_id: spec.vpc_id.clone(),
                target_type: spec.target_type,
                ip_address_type: spec.ip_address_type,
                health_check: spec.health_check.clone().unwrap_or_default(),
                tags: want_tags,
            },
            attributes: desired.attributes.clone(),
        });
        p.changes = creation(&desired);
        return p;
    };
    if let Some(reason) = ownership_problem(ctx, doc, &live.tags) {
        return ResourcePlan::blocked(doc, reason);
    }
    let live_view = views::live_target_group(&live.group, &live.attributes, &live.tags, &desired);
    let changes = compare(&live_view, &desired);
    if changes.is_empty() {
        return ResourcePlan::new(doc, Status::InSync);
    }
    if let Some(reason) = replacement_problem(&changes, TARGET_GROUP_IMMUTABLE, "spec.") {
        let mut p = ResourcePlan::blocked(doc, reason);
        p.changes = changes;
        return p;
    }
    let mut p = ResourcePlan::new(doc, Status::Update);
    let arn = live.group.arn.clone();
    if live_view.health_check != desired.health_check {
        p.steps.push(Step::ModifyTargetGroup {
            arn: arn.clone(),
            health_check: desired.health_check.clone(),
        });
    }
    if live_view.attributes != desired.attributes {
        p.steps.push(Step::ModifyTargetGroupAttributes {
            arn: arn.clone(),
            attributes: desired.attributes.clone(),
        });
    }
    let (set, remove) = tag_delta(&live.tags, &want_tags, &desired.tags);
    if !set.is_empty() {
        p.steps.push(Step::AddTargetGroupTags {
            arn: arn.clone(),
            tags: set,
        });
    }
    if !remove.is_empty() {
        p.steps
            .push(Step::RemoveTargetGroupTags { arn, keys: remove });
    }
    p.changes = changes;
    p
}

// ---- services ------------------------------------------------------------------------------

/// Where a service's task definition stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDefinitionTarget {
    /// The service already runs a revision with the wanted content.
    Keep(String),
    /// An existing revision has the wanted content: point the service at it.
    Use(String),
    /// No revision has it: register one.
    Register,
}

/// A service's task definition: the desired one and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefinitionPlan {
    /// Desired, normalized.
    pub desired: TaskDefinition,
    /// Hash of `desired`.
    pub hash: String,
    /// What to do.
    pub target: TaskDefinitionTarget,
    /// Field changes from the revision the service runs (empty for a new service).
    pub changes: Vec<FieldChange>,
}

/// Decides a service's task definition: compares the revision the service runs (read through
/// the observer's cache, and not at all when the service's tags show the operator set it with
/// the same content) with the desired one, and looks for an existing revision with the desired
/// content among the family's newest [`REVISIONS_SEARCHED`].
pub async fn resolve_task_definition(
    observer: &Observer,
    doc: &Document,
    spec: &ServiceSpec,
    live: Option<&Service>,
) -> Result<TaskDefinitionPlan, CloudError> {
    let desired = normalize::task_definition(&normalize::desired_task_definition(
        &doc.manifest.metadata.name,
        spec,
    ));
    let hash = hash(&desired);
    let mut changes = Vec::new();
    if let Some(live) = live {
        let set_by_us = live.tags.get(TAG_TASK_DEFINITION) == Some(&live.task_definition)
            && live.tags.get(TAG_TASK_DEFINITION_HASH) == Some(&hash);
        if set_by_us {
            return Ok(TaskDefinitionPlan {
                desired,
                hash,
                target: TaskDefinitionTarget::Keep(live.task_definition.clone()),
                changes,
            });
        }
        let current = observer.task_definition(&live.task_definition).await?;
        let current = normalize::task_definition(&current.definition);
        changes = compare(&current, &desired);
        if changes.is_empty() {
            return Ok(TaskDefinitionPlan {
                desired,
                hash,
                target: TaskDefinitionTarget::Keep(live.task_definition.clone()),
                changes,
            });
        }
    }
    let family = desired.family.clone().unwrap_or_default();
    let (ecs, family) = (&observer.cloud().ecs, family.as_str());
    let arns = crate::cloud::all_pages(|token| async move {
        ecs.list_task_definitions(family, token.as_deref()).await
    })
    .await?;
    for arn in arns.iter().rev().take(REVISIONS_SEARCHED) {
        let rev = observer.task_definition(arn).await?;
        if normalize::task_definition(&rev.definition) == desired {
            return Ok(TaskDefinitionPlan {
                desired,
                hash,
                target: TaskDefinitionTarget::Use(arn.clone()),
                changes,
            });
        }
    }
    Ok(TaskDefinitionPlan {
        desired,
        hash,
        target: TaskDefinitionTarget::Register,
        changes,
    })
}

/// The plan of a Service that is left alone or cannot be applied (suspended, a missing
/// cluster no manifest declares, not ours), decided from observed state alone, so that no task
/// definition is read for it.
fn service_held(
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

/// The plan of a Service manifest, given its task definition plan.
pub fn plan_service(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ServiceSpec,
    observed: &Observed,
    td: &TaskDefinitionPlan,
) -> ResourcePlan {
    if let Some(held) = service_held(ctx, doc, spec, observed) {
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
                })
        })
        .collect();
    let desired = views::desired_service(
        spec,
        resolved,
        ownership_tags(ctx, doc, views::tag_map(&spec.tags)),
    );
    let spec_hash = hash(&(&desired, &td.hash));
    let live = observed.services.get(&(spec.cluster.clone(), name.clone()));
    let Some(live) = live else {
        let mut p = ResourcePlan::new(doc, Status::Create);
        let task_definition = match &td.target {
            TaskDefinitionTarget::Register => {
                p.steps.push(register_step(ctx, doc, td));
                REGISTERED.to_string()
            }
            TaskDefinitionTarget::Keep(arn) | TaskDefinitionTarget::Use(arn) => arn.clone(),
        };
        let mut tags = desired.tags.clone();
        tags.insert(TAG_SPEC_HASH.into(), spec_hash.clone());
        tags.insert(TAG_TASK_DEFINITION.into(), task_definition.clone());
        tags.insert(TAG_TASK_DEFINITION_HASH.into(), td.hash.clone());
        p.steps.push(Step::CreateService {
            input: CreateService {
                cluster: spec.cluster.clone(),
                name: name.clone(),
                task_definition,
                desired_count: spec.desired_count,
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
                client_token: format!("ecs-operator-{spec_hash}"),
            },
            load_balancers: refs,
        });
        p.changes = creation(&desired);
        p.changes
            .extend(prefixed(creation(&td.desired), "taskDefinition"));
        return p;
    };
    let live_view = views::live_service(live, &desired);
    let mut changes = compare(&live_view, &desired);
    if let Some(reason) = replacement_problem(&changes, SERVICE_IMMUTABLE, "spec.") {
        let mut p = ResourcePlan::blocked(doc, reason);
        p.changes = changes;
        return p;
    }
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
    let new_td = match &td.target {
        TaskDefinitionTarget::Keep(_) => None,
        TaskDefinitionTarget::Use(arn) => Some(arn.clone()),
        TaskDefinitionTarget::Register => {
            p.steps.push(register_step(ctx, doc, td));
            Some(REGISTERED.to_string())
        }
    };
    let mut update = UpdateService {
        cluster: spec.cluster.clone(),
        name: name.clone(),
        task_definition: new_td,
        ..UpdateService::default()
    };
    let d = &desired;
    let l = &live_view;
    if d.desired_count != l.desired_count {
        update.desired_count = d.desired_count;
    }
    if d.capacity_provider_strategy != l.capacity_provider_strategy {
        update.capacity_provider_strategy = Some(spec.capacity_provider_strategy.clone());
    }
    if d.platform_version != l.platform_version {
        update.platform_version = d.platform_version.clone();
    }
    if d.network_configuration != l.network_configuration {
        update.network_configuration = spec.network_configuration.clone();
    }
    if d.deployment_configuration != l.deployment_configuration {
        update.deployment_configuration = Some(d.deployment_configuration.clone());
    }
    if d.health_check_grace_period_seconds != l.health_check_grace_period_seconds {
        update.health_check_grace_period_seconds = Some(d.health_check_grace_period_seconds);
    }
    if d.placement_constraints != l.placement_constraints {
        update.placement_constraints = Some(d.placement_constraints.clone());
    }
    if d.placement_strategy != l.placement_strategy {
        update.placement_strategy = Some(d.placement_strategy.clone());
    }
    if d.enable_execute_command != l.enable_execute_command {
        update.enable_execute_command = Some(d.enable_execute_command);
    }
    if d.propagate_tags != l.propagate_tags {
        update.propagate_tags = Some(d.propagate_tags);
    }
    if d.enable_ecs_managed_tags != l.enable_ecs_managed_tags {
        update.enable_ecs_managed_tags = Some(d.enable_ecs_managed_tags);
    }
    let load_balancers = (d.load_balancers != l.load_balancers).then(|| refs.clone());
    let touches_service = update
        != UpdateService {
            cluster: spec.cluster.clone(),
            name: name.clone(),
            ..UpdateService::default()
        }
        || load_balancers.is_some();
    if touches_service {
        p.steps.push(Step::UpdateService {
            input: update,
            load_balancers,
        });
    }
    // Bookkeeping tags (spec hash, the revision we set) are written whenever anything changes.
    if !changes.is_empty() {
        let mut want_tags = desired.tags.clone();
        want_tags.insert(TAG_SPEC_HASH.into(), spec_hash);
        let revision = match &td.target {
            TaskDefinitionTarget::Keep(arn) | TaskDefinitionTarget::Use(arn) => arn.clone(),
            TaskDefinitionTarget::Register => REGISTERED.to_string(),
        };
        want_tags.insert(TAG_TASK_DEFINITION.into(), revision);
        want_tags.insert(TAG_TASK_DEFINITION_HASH.into(), td.hash.clone());
        push_ecs_tags(&mut p, &live.arn, &live.tags, &want_tags, &desired.tags);
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

/// Plans every document: reads live state in batches, decides task definitions, and returns
/// the plans in apply order (clusters, target groups, services) with the observed target group
/// ARNs by name (apply adds the ones it creates).
pub async fn plan_all(
    observer: &Observer,
    documents: &[Document],
    instance: &str,
) -> Result<(Vec<ResourcePlan>, BTreeMap<String, String>), CloudError> {
    let planned = plan_keys(observer, documents, None, &BTreeMap::new(), instance).await?;
    Ok((planned.plans, planned.target_group_arns))
}

/// The result of [`plan_keys`].
#[derive(Debug, Clone)]
pub struct Planned {
    /// Plans in apply order.
    pub plans: Vec<ResourcePlan>,
    /// Target group ARNs by manifest name: the ones given, plus the ones observed.
    pub target_group_arns: BTreeMap<String, String>,
    /// What was read.
    pub observed: Observed,
}

/// Plans the documents whose key is in `keys` (all when `None`), reading only their live state
/// in batches. `documents` is the whole manifest set: Cluster manifests in it count as declared
/// even when not planned. Target groups a planned service names but that are not planned
/// themselves are looked up by name (ARN only) unless `known_arns` has them.
pub async fn plan_keys(
    observer: &Observer,
    documents: &[Document],
    keys: Option<&BTreeSet<ResourceKey>>,
    known_arns: &BTreeMap<String, String>,
    instance: &str,
) -> Result<Planned, CloudError> {
    use crate::manifest::Spec;
    let selected: Vec<&Document> = documents
        .iter()
        .filter(|d| keys.is_none_or(|k| k.contains(&d.manifest.key())))
        .collect();
    let mut wanted = crate::observe::Wanted::default();
    let declared_clusters: BTreeSet<String> = documents
        .iter()
        .filter(|d| matches!(d.manifest.spec, Spec::Cluster(_)))
        .map(|d| d.manifest.metadata.name.clone())
        .collect();
    let mut referenced = BTreeSet::new();
    for doc in &selected {
        let name = doc.manifest.metadata.name.clone();
        match &doc.manifest.spec {
            Spec::Cluster(_) => {
                wanted.clusters.insert(name);
            }
            Spec::TargetGroup(_) => {
                wanted.target_groups.insert(name);
            }
            Spec::Service(s) => {
                wanted.clusters.insert(s.cluster.clone());
                wanted
                    .services
                    .entry(s.cluster.clone())
                    .or_default()
                    .insert(name);
                referenced.extend(
                    s.load_balancers
                        .iter()
                        .filter_map(|lb| lb.target_group.clone()),
                );
            }
        }
    }
    let observed = observer.observe(&wanted).await?;
    let mut target_group_arns = known_arns.clone();
    target_group_arns.extend(
        observed
            .target_groups
            .iter()
            .map(|(name, tg)| (name.clone(), tg.group.arn.clone())),
    );
    let unknown: BTreeSet<String> = referenced
        .into_iter()
        .filter(|name| !target_group_arns.contains_key(name))
        .collect();
    if !unknown.is_empty() {
        target_group_arns.extend(observer.target_group_arns(&unknown).await?);
    }
    let ctx = PlanContext {
        instance: instance.to_string(),
        target_group_arns,
        declared_clusters,
    };
    let mut ordered = selected;
    ordered.sort_by_key(|d| d.manifest.kind());
    let mut plans = Vec::with_capacity(ordered.len());
    for doc in ordered {
        plans.push(match &doc.manifest.spec {
            Spec::Cluster(c) => plan_cluster(&ctx, doc, c, &observed),
            Spec::TargetGroup(t) => plan_target_group(&ctx, doc, t, &observed),
            Spec::Service(s) => match service_held(&ctx, doc, s, &observed) {
                Some(held) => held,
                None => {
                    let live = observed
                        .services
                        .get(&(s.cluster.clone(), doc.manifest.metadata.name.clone()));
                    let td = resolve_task_definition(observer, doc, s, live).await?;
                    plan_service(&ctx, doc, s, &observed, &td)
                }
            },
        });
    }
    Ok(Planned {
        plans,
        target_group_arns: ctx.target_group_arns,
        observed,
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
