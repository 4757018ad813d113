//! Reading, then planning: [`plan_documents`] reads the live state of the documents asked for in
//! batches (through the [`Observer`]), then plans each document through its kind
//! (`kind::plan`, pure). A plan that needs more than the first read (a service's task
//! definition revisions) names it as a [`Read`](crate::observe::Read); the observer reads it
//! and the plan is made again, so planning itself never calls AWS.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::CloudError;
use crate::manifest::Document;
use crate::observe::{Observed, Observer};
use crate::plan::{PlanContext, ResourcePlan};

/// Plans every document: reads live state in batches, decides task definitions, and returns
/// the plans in apply order (clusters, target groups, services) with the observed target group
/// ARNs by name (apply adds the ones it creates).
pub async fn plan_all(
    observer: &Observer,
    documents: &[Document],
    instance: &str,
) -> Result<(Vec<ResourcePlan>, BTreeMap<String, String>), CloudError> {
    let planned = plan_documents(
        observer,
        documents,
        documents.iter().collect(),
        &NoneKnown,
        instance,
    )
    .await?;
    Ok((planned.plans, planned.target_group_arns))
}

/// Target group ARNs the caller already knows (the controller's memory), asked for by name.
pub trait KnownArns: Sync {
    /// The ARNs known of `names`, by name; a name not known is left out.
    fn known(&self, names: &BTreeSet<String>) -> BTreeMap<String, String>;
}

/// Nothing known: every ARN is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoneKnown;

impl KnownArns for NoneKnown {
    fn known(&self, _: &BTreeSet<String>) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

/// The result of [`plan_documents`].
#[derive(Debug, Clone)]
pub struct Planned {
    /// Plans in apply order.
    pub plans: Vec<ResourcePlan>,
    /// Target group ARNs by manifest name: the ones given, plus the ones observed.
    pub target_group_arns: BTreeMap<String, String>,
    /// What was read.
    pub observed: Observed,
}

/// Plans `selected`, reading only their live state in batches. `documents` is the whole
/// manifest set: Cluster manifests in it count as declared even when not planned. Target
/// groups a planned service names but that are not planned themselves are looked up by name
/// (ARN only) unless `known_arns` knows them. The caller selects (the controller from its
/// desired state's index, `Desired::select`).
pub async fn plan_documents(
    observer: &Observer,
    documents: &[Document],
    selected: Vec<&Document>,
    known_arns: &dyn KnownArns,
    instance: &str,
) -> Result<Planned, CloudError> {
    use crate::manifest::Spec;
    let declared_clusters: BTreeSet<String> = documents
        .iter()
        .filter(|d| matches!(d.manifest.spec, Spec::Cluster(_)))
        .map(|d| d.manifest.metadata.name.clone())
        .collect();
    let mut wanted = crate::observe::Wanted::default();
    for doc in &selected {
        crate::kind::want(doc, &mut wanted);
    }
    let mut observed = observer.observe(&wanted).await?;
    // Only the names these documents need: a reconcile of one service asks for its own group.
    let mut target_group_arns = known_arns.known(&wanted.target_group_arns);
    target_group_arns.extend(
        observed
            .target_groups
            .iter()
            .map(|(name, tg)| (name.clone(), tg.group.arn.clone())),
    );
    let unknown: BTreeSet<String> = wanted
        .target_group_arns
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
        // A plan names what it still needs read (a service's task definition revisions); the
        // observer reads it and the pure plan is made again, until it has everything.
        let mut plan = loop {
            match crate::kind::plan(&ctx, doc, &observed) {
                Ok(plan) => break plan,
                Err(read) => observer.read(&read, &mut observed).await?,
            }
        };
        // Kept until applied (a full sync's plan waits for its reconcile): steps are large
        // (a whole task definition or create request) and grew without knowing their count.
        plan.steps.shrink_to_fit();
        plan.changes.shrink_to_fit();
        plans.push(plan);
    }
    Ok(Planned {
        plans,
        target_group_arns: ctx.target_group_arns,
        observed,
    })
}
