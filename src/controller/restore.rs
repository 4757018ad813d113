//! Memory that survives a restart: what the controller must not forget about a service lives
//! in AWS, and a controller that starts (or restarts) reads it back from what the observer
//! read, with no local state:
//!
//! - the rollback target: the last deployment ECS reports COMPLETED (DescribeServices'
//!   `deployments[]`: the PRIMARY, or an older ACTIVE one still running while a new one
//!   crash-loops), else the [`TAG_LAST_COMPLETED`] tag the controller writes when a rollout
//!   completes;
//! - the held-back manifest: the [`TAG_HELD_BACK`] tag (a content hash) written when the
//!   controller rolls back (or ECS did, or the rollout failed) and removed when other content
//!   is applied;
//! - a rollout in flight: a PRIMARY deployment still progressing with the revision the
//!   operator set (its [`TAG_TASK_DEFINITION`] tag), or the operator's own rollback of a
//!   held-back manifest, is followed again, so a crash loop is still caught.

use crate::cloud::model::{Service, Tags};
use crate::kind::health::rollback_target;
use crate::manifest::{Kind, ResourceKey};
use crate::observe::Observed;
use crate::plan::{TAG_HELD_BACK, TAG_LAST_COMPLETED, TAG_TASK_DEFINITION, held_back_hash};
use crate::rollout::{RolloutStatus, Tracker, assess};

use super::reconcile::Controller;

impl Controller {
    /// Restores `key`'s memory from the live service read, the first time this process sees
    /// it (a service only; nothing known is overwritten): the held-back content, the rollback
    /// target, and a rollout in flight.
    pub(super) fn restore(&self, key: &ResourceKey, content: &str, observed: &Observed) {
        if key.kind != Kind::Service {
            return;
        }
        let Some(live) = observed
            .services
            .get(&(key.cluster.clone().unwrap_or_default(), key.name.clone()))
        else {
            return;
        };
        let held_tag = live.tags.get(TAG_HELD_BACK) == Some(&held_back_hash(content));
        let follow = self.memory.with(key, |m| {
            if std::mem::replace(&mut m.restored, true) {
                return None;
            }
            if m.held_back.is_none() && held_tag {
                m.held_back = Some(content.to_string());
            }
            if m.last_completed.is_none() {
                m.last_completed = rollback_target(live);
            }
            let held = m.held_back.as_deref() == Some(content);
            if m.rollout.is_some() || m.rollback_to.is_some() {
                return None;
            }
            in_flight(live, held)
        });
        if let Some((revision, rollback)) = follow {
            tracing::info!(key = %key, revision = %revision, rollback, "following a rollout in flight");
            // Its service deployment is looked up by the tracker's first read.
            self.start_following(key, Tracker::new(revision, rollback), content.to_string());
        }
    }
}

/// A rollout in flight worth following: (revision, the operator's own rollback). The PRIMARY
/// still progressing with the revision the operator set is followed as a rollout; with
/// another revision while the manifest is held back, as the operator's rollback.
fn in_flight(live: &Service, held: bool) -> Option<(String, bool)> {
    let primary = live.primary()?;
    if !matches!(assess(Some(live), ""), RolloutStatus::Progressing { .. }) {
        return None;
    }
    // The revision the operator set, or a later one of the same family: a roll writes no tag
    // (`kind::service`), so the tag still names the revision before it.
    let ours = live.tags.get(TAG_TASK_DEFINITION).is_some_and(|tagged| {
        tagged == &primary.task_definition || later_in_family(&primary.task_definition, tagged)
    });
    match (ours, held) {
        (true, _) => Some((primary.task_definition.clone(), false)),
        (false, true) => Some((primary.task_definition.clone(), true)),
        (false, false) => None,
    }
}

/// True when `revision` is a later revision of `than`'s family (`family:N` at the end of both).
fn later_in_family(revision: &str, than: &str) -> bool {
    let split = |arn: &str| {
        let (family, n) = arn.rsplit('/').next()?.rsplit_once(':')?;
        Some((family.to_string(), n.parse::<u32>().ok()?))
    };
    matches!((split(revision), split(than)), (Some((f, a)), Some((g, b))) if f == g && a > b)
}

/// The tags to write when a rollout of `revision` completed (none if already there).
pub(super) fn completed_tags(live_tags: &Tags, revision: &str) -> Option<Tags> {
    (live_tags.get(TAG_LAST_COMPLETED).map(String::as_str) != Some(revision)).then_some(Tags::from(
        [(TAG_LAST_COMPLETED.to_string(), revision.to_string())],
    ))
}

#[cfg(test)]
mod tests {
    use super::later_in_family;

    #[test]
    fn a_later_revision_of_the_same_family_counts_as_the_operators() {
        let arn = |r: &str| format!("arn:aws:ecs:us-east-1:1:task-definition/{r}");
        assert!(later_in_family(&arn("api:4"), &arn("api:3")));
        assert!(!later_in_family(&arn("api:3"), &arn("api:3")));
        assert!(!later_in_family(&arn("api:2"), &arn("api:3")));
        assert!(!later_in_family(&arn("web:4"), &arn("api:3")));
        assert!(!later_in_family("garbage", &arn("api:3")));
    }
}
