//! What the controller remembers about each resource between reconciles: one [`Memory`] per
//! key in one map ([`Memories`]), so a key's facts (content synced, the plan a full sync made,
//! a target group's ARN, a rollout followed, content held back or stalled) are read and
//! changed together under one lock, never held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::manifest::{Kind, ResourceKey};
use crate::observe::Observed;
use crate::plan::ResourcePlan;
use crate::rollout::Tracker;

/// A plan made by a full pass, used by the reconcile that follows if nothing changed.
#[derive(Debug)]
pub(super) struct Prefetched {
    /// The desired state's generation it was made under.
    pub generation: u64,
    /// The plan.
    pub plan: ResourcePlan,
    /// What it was made from.
    pub observed: Arc<Observed>,
}

/// A service rollout being followed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Followed {
    /// The tracker's state.
    pub tracker: Tracker,
    /// Manifest content that was applied.
    pub content: String,
}

/// What the controller remembers about one resource.
#[derive(Debug, Default)]
pub(super) struct Memory {
    /// Content last applied or found in sync (to tell drift from a manifest change).
    pub synced_content: Option<String>,
    /// The plan the last full sync made, for the reconcile that follows it.
    pub prefetched: Option<Prefetched>,
    /// A target group's ARN, once read or created.
    pub arn: Option<String>,
    /// Content AWS rejected for good (the resource is Stalled until it changes).
    pub stalled: Option<String>,
    /// A service's last revision whose rollout completed.
    pub last_completed: Option<String>,
    /// A service's rollout being followed.
    pub rollout: Option<Followed>,
    /// Manifest content that rolled back or failed: not applied again until it changes.
    pub held_back: Option<String>,
    /// A rollback the tracker asked for, done by the next reconcile of the key.
    pub rollback_to: Option<String>,
    /// Why the last crash loop's tasks failed (" (reason: hint)"), for the rollback's status.
    pub crash_reason: String,
    /// A service's memory was restored from what AWS keeps (`controller::restore`), once per
    /// process, the first time it was read.
    pub restored: bool,
}

/// Every key's [`Memory`].
#[derive(Debug, Default)]
pub(super) struct Memories {
    by_key: Mutex<HashMap<ResourceKey, Memory>>,
}

impl Memories {
    /// Runs `f` on `key`'s memory (made empty if absent).
    pub fn with<R>(&self, key: &ResourceKey, f: impl FnOnce(&mut Memory) -> R) -> R {
        f(self.lock().entry(key.clone()).or_default())
    }

    /// Reads `key`'s memory, if any.
    pub fn read<R>(&self, key: &ResourceKey, f: impl FnOnce(&Memory) -> R) -> Option<R> {
        self.lock().get(key).map(f)
    }

    /// Forgets `key` (its manifest is gone).
    pub fn forget(&self, key: &ResourceKey) {
        self.lock().remove(key);
    }

    /// True while a rollout of `key` is followed (its health is the tracker's to set).
    pub fn is_following(&self, key: &ResourceKey) -> bool {
        self.read(key, |m| m.rollout.is_some()).unwrap_or(false)
    }

    /// The ARNs known so far of the target groups `names` (the ones a plan or an apply needs),
    /// by name: one lookup per name, not a walk of every memory.
    pub fn target_group_arns<'a>(
        &self,
        names: impl IntoIterator<Item = &'a String>,
    ) -> BTreeMap<String, String> {
        let by_key = self.lock();
        names
            .into_iter()
            .filter_map(|name| {
                let arn = by_key.get(&target_group_key(name))?.arn.clone()?;
                Some((name.clone(), arn))
            })
            .collect()
    }

    /// Remembers target group ARNs (by name); only real ARNs (a plan names groups it is about
    /// to create with a placeholder).
    pub fn learn_arns<'a>(&self, arns: impl IntoIterator<Item = (&'a String, &'a String)>) {
        let mut by_key = self.lock();
        for (name, arn) in arns.into_iter().filter(|(_, a)| a.starts_with("arn:")) {
            by_key.entry(target_group_key(name)).or_default().arn = Some(arn.clone());
        }
    }

    /// Every rollout followed.
    pub fn followed(&self) -> Vec<(ResourceKey, Followed)> {
        self.lock()
            .iter()
            .filter_map(|(k, m)| Some((k.clone(), m.rollout.clone()?)))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ResourceKey, Memory>> {
        // Every change is complete before anything can panic: a poisoned map is consistent.
        self.by_key.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl crate::planner::KnownArns for Memories {
    fn known(&self, names: &std::collections::BTreeSet<String>) -> BTreeMap<String, String> {
        self.target_group_arns(names)
    }
}

/// The key of the TargetGroup manifest `name`, whose memory holds its ARN.
fn target_group_key(name: &str) -> ResourceKey {
    ResourceKey {
        kind: Kind::TargetGroup,
        cluster: None,
        name: name.to_string(),
    }
}
