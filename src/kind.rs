//! One module per kind of resource, each holding everything about its kind: the mapping
//! between manifest and API (a comparable *view* built the same way from the manifest and from
//! the live object, with AWS's defaults from [`crate::cloud::defaults`] filled in), the
//! comparison, the update requests derived from the computed differences, its (pure) plan and
//! its import conversion.
//!
//! - [`cluster`]: the Cluster kind.
//! - [`target_group`]: the TargetGroup kind.
//! - [`listener_rule`]: the ListenerRule kind (issue 14).
//! - [`service`]: Service, with its task definition in [`task_definition`].
//!
//! The layers reach every kind through [`KindOps`] (the way Crossplane's managed reconciler
//! drives one Observe/Create/Update/Delete client per resource): [`want`] says what to read
//! for a document, [`plan`] plans it from what was read, [`health()`] says how the live
//! resource is doing (in [`health`](mod@health)), [`keep`] what its manifest keeps from
//! pruning, and [`KindOps::import`] turns a live resource into its manifest.
//!
//! Tags: a view holds the manifest's tag keys plus the ownership tags (`managed-by`,
//! `source`). Tags someone else added live (cost allocation, ...) are left alone, never
//! reported.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::defaults::service::fill_strategy_item;
use crate::cloud::model::{CapacityProviderStrategyItem, Tags};
use crate::diff::FieldChange;
use crate::manifest::document::ANNOTATION_ADOPT;
use crate::manifest::path::Segment;
use crate::manifest::shorthand::{self, PairList, Scalar, Tag};
use crate::manifest::{Document, Kind, Manifest, Metadata, ResourceKey, Spec};
use crate::observe::{Observed, Read, Wanted};
use crate::plan::{PlanContext, ResourcePlan};
use health::LiveHealth;

pub mod cluster;
pub mod health;
pub mod listener_rule;
pub mod service;
// A Service's spec.autoScaling.
pub mod service_scaling;
pub mod target_group;
pub mod task_definition;

#[cfg(test)]
mod plan_tests;

/// What the layers need of a kind.
pub trait KindOps {
    /// The kind's manifest spec.
    type Spec;
    /// Which kind.
    const KIND: Kind;
    /// Adds what planning the document needs read (one batched observe serves every document).
    fn want(doc: &Document, spec: &Self::Spec, wanted: &mut Wanted);
    /// The document's plan from what was read, with no I/O. `Err` names a read the plan needs
    /// that `observed` does not hold yet; the caller reads it and plans again.
    fn plan(
        ctx: &PlanContext,
        doc: &Document,
        spec: &Self::Spec,
        observed: &Observed,
    ) -> Result<ResourcePlan, Read>;
    /// How the live resource named by `key` is doing, from what was read.
    fn health(key: &ResourceKey, observed: &Observed) -> LiveHealth;
    /// Adds what the document keeps from pruning (its own name, and what it uses).
    fn keep(doc: &Document, spec: &Self::Spec, keep: &mut Keep);
    /// What `import` reads of one live resource of the kind.
    type Live<'a>;
    /// The manifest of a live resource, with what AWS fills in left out (`import`).
    fn import(live: Self::Live<'_>, ctx: &ImportContext<'_>) -> Result<Manifest, Unsupported>;
}

/// What `import` knows besides the live resource.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    /// Add `ecs-operator/adopt: "true"`.
    pub adopt: bool,
    /// The cluster being imported.
    pub cluster: &'a str,
    /// Names of the target groups imported with it, by ARN: a service's attachment to one of
    /// them refers to its manifest by name; any other stays a `targetGroupArn`.
    pub target_groups: &'a BTreeMap<String, String>,
}

/// Why a live resource cannot become a manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A deployment controller other than ECS (the manifests reject it: another controller
    /// would fight the operator).
    #[error("its deployment controller is {0}; ecs-operator manages ECS rolling updates only")]
    DeploymentController(&'static str),
}

/// What the manifests keep from pruning: the resources they name and the places prune looks
/// in (the clusters whose services it lists, the task definition families whose old
/// revisions it deregisters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keep {
    /// Clusters to look in (declared or used by a service).
    pub clusters: BTreeSet<String>,
    /// Services by (cluster, name).
    pub services: BTreeSet<(String, String)>,
    /// Target groups by name.
    pub target_groups: BTreeSet<String>,
    /// Task definition families of the services.
    pub families: BTreeSet<String>,
    /// ListenerRule names (their `ecs-operator/name` tag).
    pub listener_rules: BTreeSet<String>,
    /// Listeners the ListenerRule manifests name (prune looks at their rules).
    pub listeners: BTreeSet<crate::manifest::listener_rule::ListenerRef>,
}

/// What planning `doc` needs read, whatever its kind.
pub fn want(doc: &Document, wanted: &mut Wanted) {
    match &doc.manifest.spec {
        Spec::Cluster(c) => cluster::Cluster::want(doc, c, wanted),
        Spec::TargetGroup(t) => target_group::TargetGroup::want(doc, t, wanted),
        Spec::ListenerRule(r) => listener_rule::ListenerRule::want(doc, r, wanted),
        Spec::Service(s) => service::Service::want(doc, s, wanted),
    }
}

/// How the live resource named by `key` is doing, whatever its kind (see [`KindOps::health`]).
pub fn health(key: &ResourceKey, observed: &Observed) -> LiveHealth {
    match key.kind {
        Kind::Cluster => cluster::Cluster::health(key, observed),
        Kind::TargetGroup => target_group::TargetGroup::health(key, observed),
        Kind::ListenerRule => listener_rule::ListenerRule::health(key, observed),
        Kind::Service => service::Service::health(key, observed),
    }
}

/// What every document keeps from pruning (see [`KindOps::keep`]).
pub fn keep(documents: &[Document]) -> Keep {
    let mut keep = Keep::default();
    for doc in documents {
        match &doc.manifest.spec {
            Spec::Cluster(c) => cluster::Cluster::keep(doc, c, &mut keep),
            Spec::TargetGroup(t) => target_group::TargetGroup::keep(doc, t, &mut keep),
            Spec::ListenerRule(r) => listener_rule::ListenerRule::keep(doc, r, &mut keep),
            Spec::Service(s) => service::Service::keep(doc, s, &mut keep),
        }
    }
    keep
}

/// The plan of `doc`, whatever its kind (see [`KindOps::plan`]).
pub fn plan(ctx: &PlanContext, doc: &Document, observed: &Observed) -> Result<ResourcePlan, Read> {
    match &doc.manifest.spec {
        Spec::Cluster(c) => cluster::Cluster::plan(ctx, doc, c, observed),
        Spec::TargetGroup(t) => target_group::TargetGroup::plan(ctx, doc, t, observed),
        Spec::ListenerRule(r) => listener_rule::ListenerRule::plan(ctx, doc, r, observed),
        Spec::Service(s) => service::Service::plan(ctx, doc, s, observed),
    }
}

/// Tags a manifest should carry: everything but the operator's own bookkeeping
/// (`ecs-operator/*`, which apply writes itself) and AWS's reserved `aws:*` keys (nobody can
/// set those).
pub fn user_tags(live: &Tags) -> shorthand::Tags {
    PairList(
        live.iter()
            .filter(|(k, _)| !k.starts_with(OWN_TAG_PREFIX) && !k.starts_with("aws:"))
            .map(|(k, v)| Tag {
                key: k.clone(),
                value: Scalar(v.clone()),
            })
            .collect(),
    )
}

/// The metadata of an imported manifest: its name, and the adopt annotation when asked.
pub(crate) fn metadata(name: &str, adopt: bool) -> Metadata {
    let mut annotations = BTreeMap::new();
    if adopt {
        annotations.insert(ANNOTATION_ADOPT.to_string(), Scalar("true".into()));
    }
    Metadata {
        name: name.to_string(),
        annotations,
    }
}

pub use crate::plan::OWN_TAG_PREFIX;

/// A manifest's tags as a map.
pub fn tag_map(tags: &PairList<Tag>) -> Tags {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.0.clone()))
        .collect()
}

/// Live tags limited to the keys the desired view has (the manifest's and the ownership
/// tags). The operator's bookkeeping tags (hashes) are not part of any view: they change with
/// every change and would only repeat it.
pub(crate) fn managed_tags(live: &Tags, desired: &Tags) -> Tags {
    live.iter()
        .filter(|(k, _)| desired.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A capacity provider strategy as compared: sorted, weight and base filled in.
pub(crate) fn strategy(
    items: &[CapacityProviderStrategyItem],
) -> Vec<CapacityProviderStrategyItem> {
    let mut v: Vec<_> = items.iter().map(fill_strategy_item).collect();
    v.sort_by(|a, b| a.capacity_provider.cmp(&b.capacity_provider));
    v
}

pub(crate) fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// The top-level view fields (camelCase, as the view serializes them) that `changes` touch:
/// what the update requests are derived from.
pub fn changed_fields(changes: &[FieldChange]) -> BTreeSet<&str> {
    changes
        .iter()
        .filter_map(|c| match c.path.segments().first() {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        })
        .collect()
}
