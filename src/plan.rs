//! The vocabulary of plans, shared by every kind: the plan of a resource, its status and
//! steps, the ownership and tag helpers, apply order. Each kind's planning is in `kind`;
//! `planner` reads and then plans every document through its kind. Plans are pure: everything
//! a plan needs is read before it is made.
//!
//! A plan per resource: its status (in sync, create, update, blocked, suspended), the field
//! changes (what `diff` prints) and the steps (what `apply` calls), in apply order: clusters,
//! target groups, then each service's task definition and the service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::cloud::model::{
    CreateCluster, CreateService, CreateTargetGroup, ServiceLoadBalancer, Tags,
    TargetGroupHealthCheck, TaskDefinition, UpdateService,
};
use crate::diff::FieldChange;
use crate::manifest::document::ANNOTATION_ADOPT;
use crate::manifest::path::{FieldPath, Segment};
use crate::manifest::{Document, ResourceKey};

// A Service's spec.autoScaling: its steps and bookkeeping tag.
pub mod scaling;
pub use scaling::TAG_AUTO_SCALING;

/// Prefix of the tags the operator writes itself.
pub const OWN_TAG_PREFIX: &str = "ecs-operator/";
/// Tag naming the operator instance that manages a resource.
pub const TAG_MANAGED_BY: &str = "ecs-operator/managed-by";
/// Tag naming the manifest file a resource comes from.
pub const TAG_SOURCE: &str = "ecs-operator/source";
/// Tag holding a hash of the resource's normalized desired state (defined with the cloud
/// model, whose observer reads it on cached revisions).
pub use crate::cloud::model::TAG_SPEC_HASH;
/// Tag on a target group: the hash of the attributes its manifest sets
/// (`kind::target_group::attributes_hash`), written with them (at create, and whenever a plan
/// modifies the group's attributes or tags). While it equals the hash of the manifest's
/// attributes, they are not read (DescribeTargetGroupAttributes, one call per group).
pub const TAG_ATTRIBUTES_HASH: &str = "ecs-operator/attributes-hash";
/// Tag on a service: the task definition revision the operator last set. While the service
/// still runs that revision and its spec hash matches, the revision need not be read again.
pub const TAG_TASK_DEFINITION: &str = "ecs-operator/task-definition";
/// Tag on a service: the content hash of the revision in [`TAG_TASK_DEFINITION`].
pub const TAG_TASK_DEFINITION_HASH: &str = "ecs-operator/task-definition-hash";
/// Tag on a service: the value of its manifest's `ecs-operator/redeploy` annotation the
/// operator last deployed for; another value forces a new deployment.
pub const TAG_REDEPLOY: &str = "ecs-operator/redeploy";
/// Tag on a service: the task definition revision whose rollout last completed, written by the
/// controller when a rollout completes: the rollback target of a crash loop when ECS no longer
/// lists that deployment, so a restarted controller still has it.
pub const TAG_LAST_COMPLETED: &str = "ecs-operator/last-completed";
/// Tag on a service: the content hash ([`held_back_hash`]) of the manifest the controller held
/// back after it rolled back or failed; removed when other content is applied. A restarted
/// controller reads it and does not apply that manifest again.
pub const TAG_HELD_BACK: &str = "ecs-operator/held-back";
/// The controller's memory tags: the plans neither compare nor remove them (the controller
/// writes and removes them itself).
pub const MEMORY_TAGS: [&str; 2] = [TAG_LAST_COMPLETED, TAG_HELD_BACK];
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
    /// UpdateCluster configuration and Service Connect defaults.
    UpdateClusterConfiguration {
        /// Cluster name.
        cluster: String,
        /// The configuration to set (`None`: left as it is).
        configuration: Option<crate::cloud::model::ClusterConfiguration>,
        /// The Service Connect defaults to set (`None`: left as it is).
        service_connect_defaults: Option<crate::cloud::model::ClusterServiceConnectDefaultsRequest>,
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
    /// An Application Auto Scaling call of a Service's `spec.autoScaling`.
    Scaling(scaling::ScalingStep),
    // ---- listener rules (issue 14); their tags are AddTargetGroupTags/RemoveTargetGroupTags
    // (ELBv2 AddTags/RemoveTags take any ELBv2 ARN).
    /// CreateRule. A forward may still name TargetGroup manifests (`TargetGroupName`): apply
    /// puts their ARNs in.
    CreateRule(crate::cloud::model::CreateRule),
    /// ModifyRule (conditions and actions; target groups by name as in `CreateRule`).
    ModifyRule {
        /// Rule ARN.
        arn: String,
        /// Conditions.
        conditions: Vec<crate::cloud::model::RuleCondition>,
        /// Actions.
        actions: Vec<crate::cloud::model::RuleAction>,
    },
    /// SetRulePriorities of one rule.
    SetRulePriority {
        /// Rule ARN.
        arn: String,
        /// The new priority.
        priority: u32,
    },
}

impl Step {
    /// The AWS operation the step starts with (`CreateTargetGroup`, `UpdateService`, ...).
    pub fn operation(&self) -> &'static str {
        match self {
            Step::CreateCluster(_) => "CreateCluster",
            Step::UpdateClusterSettings { .. } => "UpdateCluster",
            Step::UpdateClusterConfiguration { .. } => "UpdateCluster",
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
            Step::Scaling(s) => s.operation(),
            Step::CreateRule(_) => "CreateRule",
            Step::ModifyRule { .. } => "ModifyRule",
            Step::SetRulePriority { .. } => "SetRulePriorities",
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
    /// Blue/green settings, as given.
    pub advanced_configuration: Option<crate::cloud::model::AdvancedConfiguration>,
}

impl LoadBalancerRef {
    /// The attachment with its ARN, when the target group's ARN is known (and the alternate
    /// target group's, for blue/green: a TargetGroup manifest name there is resolved the same
    /// way).
    pub(crate) fn resolve(&self, arns: &BTreeMap<String, String>) -> Option<ServiceLoadBalancer> {
        let by_name = |name: &str| {
            if name.starts_with("arn:") {
                Some(name.to_string())
            } else {
                arns.get(name).cloned()
            }
        };
        let mut advanced = self.advanced_configuration.clone();
        if let Some(alternate) = advanced
            .as_mut()
            .and_then(|a| a.alternate_target_group_arn.as_mut())
        {
            *alternate = by_name(alternate)?;
        }
        Some(ServiceLoadBalancer {
            target_group_arn: by_name(&self.target_group)?,
            container_name: self.container_name.clone(),
            container_port: self.container_port,
            advanced_configuration: advanced,
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
    pub(crate) fn new(doc: &Document, status: Status) -> ResourcePlan {
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

    pub(crate) fn blocked(doc: &Document, reason: String) -> ResourcePlan {
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

/// The value of [`TAG_HELD_BACK`] for a manifest's content.
pub fn held_back_hash(content: &str) -> String {
    hash(&content)
}

pub(crate) fn ownership_tags(ctx: &PlanContext, doc: &Document, mut tags: Tags) -> Tags {
    tags.insert(TAG_MANAGED_BY.into(), ctx.instance.clone());
    tags.insert(TAG_SOURCE.into(), doc.file.display().to_string());
    tags
}

/// Whether the operator may change an existing resource: it carries our tag, or the manifest
/// asks to adopt it.
pub(crate) fn ownership_problem(
    ctx: &PlanContext,
    doc: &Document,
    live_tags: &Tags,
) -> Option<String> {
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

pub(crate) fn replacement_problem(
    changes: &[FieldChange],
    immutable: &[&str],
    prefix: &str,
) -> Option<String> {
    let fields: Vec<String> = changes
        .iter()
        .filter(|c| {
            c.path
                .segments()
                .first()
                .is_some_and(|s| matches!(s, Segment::Key(k) if immutable.contains(&k.as_str())))
        })
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

pub(crate) fn prefixed(changes: Vec<FieldChange>, prefix: &str) -> Vec<FieldChange> {
    let base = FieldPath::parse(prefix);
    changes
        .into_iter()
        .map(|mut c| {
            let mut p = base.clone();
            for s in c.path.segments() {
                p = match s {
                    Segment::Key(k) => p.key(k.clone()),
                    Segment::Index(i) => p.index(*i),
                };
            }
            c.path = p;
            c
        })
        .collect()
}

/// Tag changes as (to set, keys to remove), over the keys the operator manages: those of
/// `managed` (the manifest's and the ownership tags) and every `ecs-operator/*` key but the
/// controller's [`MEMORY_TAGS`].
pub(crate) fn tag_delta(live: &Tags, want: &Tags, managed: &Tags) -> (Tags, Vec<String>) {
    let set: Tags = want
        .iter()
        .filter(|(k, v)| live.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = live
        .keys()
        .filter(|k| managed.contains_key(*k) || k.starts_with(OWN_TAG_PREFIX))
        .filter(|k| !want.contains_key(*k) && !MEMORY_TAGS.contains(&k.as_str()))
        .cloned()
        .collect();
    (set, remove)
}

/// Tag steps for an ECS resource: set what differs, remove managed keys that went away.
pub(crate) fn push_ecs_tags(
    p: &mut ResourcePlan,
    arn: &str,
    live: &Tags,
    want: &Tags,
    managed: &Tags,
) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controllers_memory_tags_are_neither_compared_nor_removed() {
        let live: Tags = [
            (TAG_SPEC_HASH, "old"),
            (TAG_LAST_COMPLETED, "arn:td/api:1"),
            (TAG_HELD_BACK, "abc"),
            ("ecs-operator/stale", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let want: Tags = [(TAG_SPEC_HASH.to_string(), "new".to_string())].into();
        let (set, remove) = tag_delta(&live, &want, &Tags::new());
        assert_eq!(set, want);
        assert_eq!(remove, ["ecs-operator/stale"]);
    }
}
