//! Prune: deleting what the operator owns that no manifest names anymore. Off unless asked
//! (`--prune`); never run when any manifest failed to load (the CLI stops before); refused as a
//! whole when more than the configured share of the owned resources would go.
//!
//! Found by reading, only when pruning: the services of every cluster the manifests mention
//! (ListServices, DescribeServices by 10 with tags), every target group of the account (pages
//! of 400, DescribeTags by 20), and the revisions of the managed task definition families,
//! all through the [`Observer`]'s reads.

use std::collections::HashSet;
use std::fmt;

use crate::cloud::model::UpdateService;
use crate::cloud::{Cloud, CloudError};
use crate::kind::Keep;
use crate::manifest::Document;
use crate::observe::Observer;
use crate::plan::{TAG_LAST_COMPLETED, TAG_MANAGED_BY};

/// How much prune may do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PruneLimits {
    /// The most services and target groups one pass may delete.
    pub max: MaxPrune,
    /// Revisions kept per family (the newest, plus any a service runs).
    pub keep_revisions: usize,
}

/// `--max-prune`: a share of the owned resources (at least 1) or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxPrune {
    /// This fraction (0.1 = 10%) of the owned services and target groups, at least 1.
    Fraction(f64),
    /// At most this many.
    Count(usize),
}

impl MaxPrune {
    /// Parses `10%` or `3`.
    pub fn parse(s: &str) -> Result<MaxPrune, String> {
        let s = s.trim();
        if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a percentage"))?;
            if !(0.0..=100.0).contains(&v) {
                return Err(format!("{s:?} is not between 0% and 100%"));
            }
            return Ok(MaxPrune::Fraction(v / 100.0));
        }
        s.parse()
            .map(MaxPrune::Count)
            .map_err(|_| format!("{s:?} is neither a count nor a percentage"))
    }

    /// The limit for `owned` owned resources.
    pub fn limit(self, owned: usize) -> usize {
        match self {
            MaxPrune::Fraction(f) => ((owned as f64 * f).floor() as usize).max(1),
            MaxPrune::Count(n) => n,
        }
    }
}

impl fmt::Display for MaxPrune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxPrune::Fraction(v) => write!(f, "{}%", v * 100.0),
            MaxPrune::Count(n) => write!(f, "{n}"),
        }
    }
}

/// What a prune pass would delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrunePlan {
    /// Owned services no manifest names: (cluster, name).
    pub services: Vec<(String, String)>,
    /// Owned target groups no manifest names: (name, ARN).
    pub target_groups: Vec<(String, String)>,
    /// Owned listener rules no manifest names, as (name, rule ARN).
    pub rules: Vec<(String, String)>,
    /// Task definition revisions beyond the kept ones (ARNs).
    pub revisions: Vec<String>,
    /// Owned services and target groups found (the base of the share).
    pub owned: usize,
    /// Of [`PrunePlan::services`], those whose scalable target the operator registered
    /// (`ecs-operator/auto-scaling`): deregistered first, with its policies and scheduled
    /// actions, so the scaler does not fight the scale to 0. Part of the service's deletion,
    /// not counted on its own against `--max-prune`.
    pub scaled: Vec<(String, String)>,
}

impl PrunePlan {
    /// Services and target groups to delete (revisions are not counted against the limit).
    pub fn deletions(&self) -> usize {
        self.services.len() + self.target_groups.len() + self.rules.len()
    }

    /// True when nothing would be pruned.
    pub fn is_empty(&self) -> bool {
        self.deletions() == 0 && self.revisions.is_empty()
    }
}

/// Why a prune did not run, or what failed.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    /// More would go than the limit allows: nothing was deleted.
    #[error(
        "prune refused: {would} resources would be deleted, more than --max-prune {max} allows ({limit} of {owned} owned); nothing was deleted"
    )]
    TooMany {
        /// Deletions planned.
        would: usize,
        /// The limit in force.
        limit: usize,
        /// Owned resources found.
        owned: usize,
        /// The setting.
        max: MaxPrune,
    },
    /// A call failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// Finds what prune would delete.
pub async fn plan_prune(
    cloud: &Cloud,
    documents: &[Document],
    instance: &str,
    keep_revisions: usize,
) -> Result<PrunePlan, CloudError> {
    let Keep {
        clusters,
        services: wanted_services,
        target_groups: wanted_groups,
        families,
        listener_rules: wanted_rules,
        listeners,
    } = crate::kind::keep(documents);
    let ours =
        |tags: &crate::cloud::model::Tags| tags.get(TAG_MANAGED_BY).is_some_and(|v| v == instance);
    let observer = Observer::new(cloud.clone());
    let mut plan = PrunePlan::default();
    let mut running = HashSet::new();
    for cluster in &clusters {
        // A cluster the manifests name but that does not exist has nothing to prune.
        let Some(arns) = observer.service_arns(cluster).await? else {
            continue;
        };
        for s in observer.services(cluster, &arns).await? {
            if s.is_draining() {
                continue; // already being deleted
            }
            // Kept: the revisions it runs (every deployment's) and its rollback target.
            running.insert(s.task_definition.clone());
            running.extend(s.deployments.iter().map(|d| d.task_definition.clone()));
            running.extend(crate::kind::health::rollback_target(&s));
            running.extend(s.tags.get(TAG_LAST_COMPLETED).cloned());
            if !ours(&s.tags) {
                continue;
            }
            plan.owned += 1;
            if !wanted_services.contains(&(cluster.clone(), s.name.clone())) {
                plan.services.push((cluster.clone(), s.name.clone()));
                if s.tags.contains_key(crate::plan::TAG_AUTO_SCALING) {
                    plan.scaled.push((cluster.clone(), s.name.clone()));
                }
            }
        }
    }
    let groups = observer.all_target_groups().await?;
    let arns: Vec<String> = groups.iter().map(|g| g.arn.clone()).collect();
    for (arn, tags) in observer.target_group_tags(&arns).await? {
        if !ours(&tags) {
            continue;
        }
        plan.owned += 1;
        if let Some(g) = groups.iter().find(|g| g.arn == arn)
            && !wanted_groups.contains(&g.name)
        {
            plan.target_groups.push((g.name.clone(), arn));
        }
    }
    // Listener rules (issue 14): on the listeners the manifests name and on every listener of
    // the load balancers the account's target groups are attached to.
    let mut seen = crate::observe::Observed::default();
    observer.observe_rules(&listeners, &mut seen).await?;
    let lbs: std::collections::BTreeSet<String> = groups
        .iter()
        .flat_map(|g| g.load_balancer_arns.iter().cloned())
        .collect();
    for l in observer.listeners_of(&lbs).await? {
        if !seen.rules.contains_key(&l.arn)
            && let Some(rules) = observer.listener_rules(&l.arn).await?
        {
            seen.rules.insert(l.arn, rules);
        }
    }
    for r in seen.rules.values().flatten() {
        if r.rule.is_default || !ours(&r.tags) {
            continue;
        }
        plan.owned += 1;
        let name = r
            .tags
            .get(crate::kind::listener_rule::TAG_RULE_NAME)
            .cloned()
            .unwrap_or_default();
        if !wanted_rules.contains(&name) {
            plan.rules.push((name, r.rule.arn.clone()));
        }
    }
    for family in &families {
        let revisions = observer.revisions(family).await?;
        // Oldest first: everything but the newest `keep_revisions`, the running ones and the
        // rollback targets goes.
        let cut = revisions.len().saturating_sub(keep_revisions);
        plan.revisions.extend(
            revisions[..cut]
                .iter()
                .filter(|r| !running.contains(*r))
                .cloned(),
        );
    }
    plan.services.sort();
    plan.target_groups.sort();
    plan.rules.sort();
    Ok(plan)
}

/// Deletes what `plan` lists, within `limits`: services are scaled to 0 and deleted, then target
/// groups (one still in use fails and is reported), then old revisions are deregistered.
/// Returns one line per call.
pub async fn prune(
    cloud: &Cloud,
    plan: &PrunePlan,
    max: MaxPrune,
) -> Result<Vec<String>, PruneError> {
    let limit = max.limit(plan.owned);
    if plan.deletions() > limit {
        return Err(PruneError::TooMany {
            would: plan.deletions(),
            limit,
            owned: plan.owned,
            max,
        });
    }
    let mut done = Vec::new();
    for (cluster, name) in &plan.services {
        if plan.scaled.contains(&(cluster.clone(), name.clone())) {
            let id = crate::cloud::model::scaling::resource_id(cluster, name);
            match cloud.autoscaling.deregister_scalable_target(&id).await {
                Ok(()) => done.push(format!("DeregisterScalableTarget {id}")),
                Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        cloud
            .ecs
            .update_service(&UpdateService {
                cluster: cluster.clone(),
                name: name.clone(),
                desired_count: Some(0),
                ..UpdateService::default()
            })
            .await?;
        done.push(format!("UpdateService {cluster}/{name} (desiredCount 0)"));
        cloud.ecs.delete_service(cluster, name, false).await?;
        done.push(format!("DeleteService {cluster}/{name}"));
    }
    // Rules before target groups: a group a rule forwards to cannot be deleted.
    for (name, arn) in &plan.rules {
        cloud.elbv2.delete_rule(arn).await?;
        done.push(format!("DeleteRule ListenerRule/{name}"));
    }
    for (name, arn) in &plan.target_groups {
        match cloud.elbv2.delete_target_group(arn).await {
            Ok(()) => done.push(format!("DeleteTargetGroup {name}")),
            // Still attached (a deleted service draining, a listener): a later pass gets it.
            Err(e) if e.kind == crate::cloud::ErrorKind::Conflict => done.push(format!(
                "kept TargetGroup {name}: still in use, pruned on a later pass"
            )),
            Err(e) => return Err(e.into()),
        }
    }
    for arn in &plan.revisions {
        cloud.ecs.deregister_task_definition(arn).await?;
        done.push(format!(
            "DeregisterTaskDefinition {}",
            arn.rsplit('/').next().unwrap_or(arn)
        ));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_prune_parses_shares_and_counts() {
        assert_eq!(MaxPrune::parse("10%"), Ok(MaxPrune::Fraction(0.1)));
        assert_eq!(MaxPrune::parse("3"), Ok(MaxPrune::Count(3)));
        assert!(MaxPrune::parse("ten").is_err());
        assert!(MaxPrune::parse("150%").is_err());
    }

    #[test]
    fn a_share_allows_at_least_one() {
        let cases = [(0, 1), (5, 1), (10, 1), (19, 1), (20, 2), (100, 10)];
        for (owned, limit) in cases {
            assert_eq!(MaxPrune::Fraction(0.1).limit(owned), limit, "{owned}");
        }
        assert_eq!(MaxPrune::Count(0).limit(100), 0);
    }
}
