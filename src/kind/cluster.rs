//! The Cluster kind: the comparable view of a cluster (the settings the manifest names,
//! capacity providers, tags), the plan (create, update settings, put capacity providers, tag)
//! with the requests derived from the differing fields, and the import conversion.

use std::collections::BTreeMap;

use serde::Serialize;

use super::health::LiveHealth;
use super::{ImportContext, Keep, Unsupported};
use super::{
    KindOps, changed_fields, managed_tags, metadata, sorted, strategy, tag_map, user_tags,
};
use crate::cloud::defaults::cluster as defaults;
use crate::cloud::model::{self, CapacityProviderStrategyItem, CreateCluster, Tags};
use crate::diff::{FieldChange, compare, creation};
use crate::manifest::cluster::ClusterSpec;
use crate::manifest::document::ANNOTATION_SUSPEND;
use crate::manifest::shorthand::{NameValue, PairList, Scalar};
use crate::manifest::{Document, Kind, Manifest, ResourceKey, Spec};
use crate::observe::{Observed, Read, Wanted};
use crate::plan::{
    PlanContext, ResourcePlan, Status, Step, TAG_SPEC_HASH, hash, ownership_problem,
    ownership_tags, push_ecs_tags,
};

/// The Cluster kind.
pub struct Cluster;

impl KindOps for Cluster {
    type Spec = ClusterSpec;
    const KIND: Kind = Kind::Cluster;

    fn health(key: &ResourceKey, observed: &Observed) -> LiveHealth {
        LiveHealth::present(observed.clusters.contains_key(&key.name))
    }

    fn keep(doc: &Document, _: &ClusterSpec, keep: &mut Keep) {
        keep.clusters.insert(doc.manifest.metadata.name.clone());
    }

    type Live<'a> = &'a model::Cluster;

    fn import(live: &model::Cluster, ctx: &ImportContext<'_>) -> Result<Manifest, Unsupported> {
        Ok(import(live, ctx.adopt))
    }

    fn want(doc: &Document, _: &ClusterSpec, wanted: &mut Wanted) {
        wanted.clusters.insert(doc.manifest.metadata.name.clone());
    }

    fn plan(
        ctx: &PlanContext,
        doc: &Document,
        spec: &ClusterSpec,
        observed: &Observed,
    ) -> Result<ResourcePlan, Read> {
        Ok(plan(ctx, doc, spec, observed))
    }
}

// ---- the view ------------------------------------------------------------------------------

/// The cluster fields the operator manages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// The settings the manifest names.
    pub settings: BTreeMap<String, String>,
    /// Capacity providers, sorted.
    pub capacity_providers: Vec<String>,
    /// Default strategy, sorted and defaulted.
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Managed tags.
    pub tags: Tags,
    /// ECS Exec and managed storage configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<model::ClusterConfiguration>,
    /// Service Connect default namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_connect_defaults: Option<model::ClusterServiceConnectDefaultsRequest>,
}

/// The view of a Cluster manifest.
pub fn desired_cluster(spec: &ClusterSpec, tags: Tags) -> ClusterView {
    ClusterView {
        settings: spec
            .settings
            .iter()
            .map(|s| (s.name.clone(), s.value.0.clone()))
            .collect(),
        capacity_providers: sorted(spec.capacity_providers.clone()),
        default_capacity_provider_strategy: strategy(&spec.default_capacity_provider_strategy),
        tags,
        configuration: spec.configuration.clone(),
        service_connect_defaults: spec.service_connect_defaults.clone(),
    }
}

/// The view of a live cluster, shaped by the desired view (which settings and tags count):
/// the view of [`spec_of_live`], so both sides go through [`desired_cluster`].
pub fn live_cluster(live: &model::Cluster, desired: &ClusterView) -> ClusterView {
    let shown: BTreeMap<String, String> = live
        .settings
        .iter()
        .filter(|(k, _)| desired.settings.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    desired_cluster(
        &spec_of_live(live, &shown),
        managed_tags(&live.tags, &desired.tags),
    )
}

/// A live cluster in the manifest's spelling, with these settings. The live view and import
/// start from it.
pub fn spec_of_live(live: &model::Cluster, settings: &BTreeMap<String, String>) -> ClusterSpec {
    ClusterSpec {
        settings: PairList(
            settings
                .iter()
                .map(|(k, v)| NameValue {
                    name: k.clone(),
                    value: Scalar(v.clone()),
                })
                .collect(),
        ),
        capacity_providers: sorted(live.capacity_providers.clone()),
        default_capacity_provider_strategy: live.default_capacity_provider_strategy.clone(),
        tags: user_tags(&live.tags),
        configuration: live.configuration.clone(),
        service_connect_defaults: live.service_connect_defaults.clone(),
    }
}

// ---- the update requests, derived from the differences ------------------------------------

/// Builds one update call from the desired view and the cluster's name.
type Request = fn(&ClusterView, &str) -> Step;

/// Each update call, with the view fields it changes: a call is made when any of its fields
/// differs. The other view field is `tags` (TagResource/UntagResource).
pub const UPDATE_CLUSTER: &[(&[&str], Request)] = &[
    (&["settings"], |d, name| Step::UpdateClusterSettings {
        cluster: name.to_string(),
        settings: d.settings.clone(),
    }),
    (&["configuration", "serviceConnectDefaults"], |d, name| {
        Step::UpdateClusterConfiguration {
            cluster: name.to_string(),
            configuration: d.configuration.clone(),
            service_connect_defaults: d.service_connect_defaults.clone(),
        }
    }),
    (
        &["capacityProviders", "defaultCapacityProviderStrategy"],
        |d, name| Step::PutClusterCapacityProviders {
            cluster: name.to_string(),
            providers: d.capacity_providers.clone(),
            strategy: d.default_capacity_provider_strategy.clone(),
        },
    ),
];

/// The update calls the differing fields of `changes` need, in [`UPDATE_CLUSTER`]'s order.
pub fn update_requests(changes: &[FieldChange], desired: &ClusterView, name: &str) -> Vec<Step> {
    let changed = changed_fields(changes);
    UPDATE_CLUSTER
        .iter()
        .filter(|(fields, _)| fields.iter().any(|f| changed.contains(f)))
        .map(|(_, request)| request(desired, name))
        .collect()
}

// ---- the plan ------------------------------------------------------------------------------

/// The plan of a Cluster manifest.
pub fn plan(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ClusterSpec,
    observed: &Observed,
) -> ResourcePlan {
    if doc.manifest.metadata.flag(ANNOTATION_SUSPEND) {
        return ResourcePlan::new(doc, Status::Suspended);
    }
    let name = &doc.manifest.metadata.name;
    let desired = desired_cluster(spec, ownership_tags(ctx, doc, tag_map(&spec.tags)));
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
            configuration: desired.configuration.clone(),
            service_connect_defaults: desired.service_connect_defaults.clone(),
        }));
        p.changes = creation(&desired);
        return p;
    };
    if let Some(reason) = ownership_problem(ctx, doc, &live.tags) {
        return ResourcePlan::blocked(doc, reason);
    }
    let live_view = live_cluster(live, &desired);
    let changes = compare(&live_view, &desired);
    if changes.is_empty() {
        return ResourcePlan::new(doc, Status::InSync);
    }
    let mut p = ResourcePlan::new(doc, Status::Update);
    p.steps.extend(update_requests(&changes, &desired, name));
    let mut want_tags = desired.tags.clone();
    want_tags.insert(TAG_SPEC_HASH.into(), hash(&desired));
    push_ecs_tags(&mut p, &live.arn, &live.tags, &want_tags, &desired.tags);
    p.changes = changes;
    p
}

// ---- import --------------------------------------------------------------------------------

/// The Cluster manifest of a live cluster. Settings at their default (`containerInsights:
/// disabled`) are left out: the diff compares only the settings a manifest names.
pub fn import(live: &model::Cluster, adopt: bool) -> Manifest {
    Manifest {
        metadata: metadata(&live.name, adopt),
        spec: Spec::Cluster(spec_of_live(
            live,
            &defaults::strip_settings(&live.settings),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compare;

    fn own_tags() -> Tags {
        [
            ("ecs-operator/managed-by".to_string(), "op".to_string()),
            ("team".into(), "shop".into()),
        ]
        .into()
    }

    #[test]
    fn cluster_settings_not_in_the_manifest_are_not_compared() {
        let spec = ClusterSpec::default();
        let d = desired_cluster(&spec, own_tags());
        let live = model::Cluster {
            settings: [("containerInsights".to_string(), "disabled".to_string())].into(),
            tags: own_tags(),
            ..Default::default()
        };
        assert!(compare(&live_cluster(&live, &d), &d).is_empty());
    }

    #[test]
    fn the_update_calls_are_derived_from_the_differing_fields_and_cover_the_view() {
        let spec = ClusterSpec {
            settings: PairList(vec![NameValue {
                name: "containerInsights".into(),
                value: Scalar("enabled".into()),
            }]),
            capacity_providers: vec!["FARGATE".into()],
            ..ClusterSpec::default()
        };
        let d = desired_cluster(&spec, own_tags());
        let live = model::Cluster {
            settings: [("containerInsights".to_string(), "enabled".to_string())].into(),
            capacity_providers: vec!["FARGATE".into()],
            tags: own_tags(),
            ..Default::default()
        };
        let ops = |l: &model::Cluster| -> Vec<&'static str> {
            update_requests(&compare(&live_cluster(l, &d), &d), &d, "shop")
                .iter()
                .map(Step::operation)
                .collect()
        };
        assert!(ops(&live).is_empty());
        let mut l = live.clone();
        l.settings
            .insert("containerInsights".into(), "disabled".into());
        assert_eq!(ops(&l), ["UpdateCluster"]);
        let mut l = live.clone();
        l.capacity_providers.clear();
        assert_eq!(ops(&l), ["PutClusterCapacityProviders"]);
        l.settings.clear();
        l.tags.clear();
        assert_eq!(ops(&l), ["UpdateCluster", "PutClusterCapacityProviders"]);

        let covered: Vec<&str> = UPDATE_CLUSTER
            .iter()
            .flat_map(|(fields, _)| fields.iter().copied())
            .chain(["tags"])
            .collect();
        for field in serde_json::to_value(&d)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(
                covered.contains(&field.as_str()),
                "{field} has no update call"
            );
        }
    }
}
