//! Target group attributes (DescribeTargetGroupAttributes, one call per group, no batch
//! form): which groups' attributes are read whatever their `ecs-operator/attributes-hash` tag
//! says. A plan reads a group's attributes only when it cannot trust the tag
//! (`kind::target_group::attributes_read`, asked for as [`super::Read::TargetGroupAttributes`]);
//! these checks make it read them anyway, so that a change made by hand is found:
//! - [`AttributeChecks::All`]: `diff`/`apply --read-attributes` ([`Observer::with_all_attributes`]);
//! - [`AttributeChecks::Due`]: the controller's cadence. Each full sync hands the groups whose
//!   manifests set attributes to [`Observer::schedule_attribute_checks`], which makes due the
//!   ones read longest ago (never read first), `ceil(N × elapsed / interval)` of them
//!   ([`due_count`]): over any interval every group is read once, and a quiet resync reads
//!   only its share. A group stays due until its attributes are read.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Observer;

/// Which target groups' attributes are read whatever their tag says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeChecks {
    /// These (the controller's due checks; none by default: the tags are trusted).
    Due(BTreeSet<String>),
    /// Every group's.
    All,
}

impl Default for AttributeChecks {
    fn default() -> Self {
        AttributeChecks::Due(BTreeSet::new())
    }
}

impl AttributeChecks {
    /// Whether the attributes of group `name` are read whatever its tag says.
    pub fn forces(&self, name: &str) -> bool {
        match self {
            AttributeChecks::Due(names) => names.contains(name),
            AttributeChecks::All => true,
        }
    }
}

/// How many of `groups` groups a full sync checks after `elapsed` since the one before, for
/// each to be checked once per `interval`: `ceil(groups × elapsed / interval)`, at most
/// `groups` (all of them when `interval` is zero).
pub fn due_count(groups: usize, elapsed: Duration, interval: Duration) -> usize {
    if interval.is_zero() {
        return groups;
    }
    let share = groups as f64 * elapsed.as_secs_f64() / interval.as_secs_f64();
    (share.ceil() as usize).min(groups)
}

/// The `count` groups of `names` to check next: those read longest ago, never read first
/// (in name order), ties in name order.
pub fn oldest<'a>(
    names: impl IntoIterator<Item = &'a String>,
    read_at: &HashMap<String, Instant>,
    count: usize,
) -> Vec<String> {
    let mut by_age: Vec<(Option<Instant>, &String)> = names
        .into_iter()
        .map(|n| (read_at.get(n).copied(), n))
        .collect();
    by_age.sort();
    by_age
        .into_iter()
        .take(count)
        .map(|(_, n)| n.clone())
        .collect()
}

/// What the observer keeps for the checks: when each group's attributes were last read, the
/// groups due, and when the last full sync scheduled.
#[derive(Debug, Default)]
pub(super) struct CheckState {
    read_at: HashMap<String, Instant>,
    due: BTreeSet<String>,
    scheduled_at: Option<Instant>,
}

/// The observer's check state behind its lock.
#[derive(Debug, Default)]
pub(super) struct Checks(Mutex<CheckState>);

impl Checks {
    fn lock(&self) -> std::sync::MutexGuard<'_, CheckState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The due checks among `wanted`.
    pub(super) fn due_among(&self, wanted: &BTreeSet<String>) -> BTreeSet<String> {
        let state = self.lock();
        if state.due.len() < wanted.len() {
            state
                .due
                .iter()
                .filter(|n| wanted.contains(*n))
                .cloned()
                .collect()
        } else {
            wanted
                .iter()
                .filter(|n| state.due.contains(*n))
                .cloned()
                .collect()
        }
    }

    /// Records that the attributes of `name` were read now.
    pub(super) fn read(&self, name: &str) {
        let mut state = self.lock();
        state.due.remove(name);
        state.read_at.insert(name.to_string(), Instant::now());
    }
}

impl Observer {
    /// The same observer reading every target group's attributes ([`AttributeChecks::All`]):
    /// `diff`/`apply --read-attributes`.
    pub fn with_all_attributes(mut self) -> Observer {
        self.all_attributes = true;
        self
    }

    /// The checks the plans of `wanted` target groups make now.
    pub(super) fn attribute_checks(&self, wanted: &BTreeSet<String>) -> AttributeChecks {
        if self.all_attributes {
            return AttributeChecks::All;
        }
        AttributeChecks::Due(self.checks.due_among(wanted))
    }

    /// A full sync's schedule: of `groups` (the target groups whose manifests set attributes),
    /// makes due the [`due_count`] read longest ago, for the time since the last schedule (none
    /// at the first); forgets the groups no longer named. Returns how many are due now.
    pub fn schedule_attribute_checks(
        &self,
        groups: &BTreeSet<String>,
        interval: Duration,
    ) -> usize {
        let now = Instant::now();
        let mut state = self.checks.lock();
        let elapsed = state
            .scheduled_at
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        state.scheduled_at = Some(now);
        state.read_at.retain(|n, _| groups.contains(n));
        state.due.retain(|n| groups.contains(n));
        let count = due_count(groups.len(), elapsed, interval).saturating_sub(state.due.len());
        let next = oldest(
            groups.iter().filter(|n| !state.due.contains(*n)),
            &state.read_at,
            count,
        );
        state.due.extend(next);
        state.due.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_count_spreads_every_group_over_the_interval() {
        let hour = Duration::from_secs(3600);
        let five_min = Duration::from_secs(300);
        // (groups, elapsed, interval, due)
        let table = [
            (10_000, Duration::ZERO, 12 * hour, 0),
            (10_000, five_min, 12 * hour, 70), // 69.4 rounded up
            (10_000, five_min, hour, 834),
            (10_000, 13 * hour, 12 * hour, 10_000),
            (100, five_min, 12 * hour, 1),
            (0, five_min, hour, 0),
            (7, five_min, Duration::ZERO, 7),
        ];
        for (groups, elapsed, interval, due) in table {
            assert_eq!(
                due_count(groups, elapsed, interval),
                due,
                "{groups} groups, {elapsed:?} of {interval:?}"
            );
        }
    }

    #[test]
    fn the_oldest_are_the_never_read_then_the_least_recent() {
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        let t = Instant::now();
        let read_at: HashMap<String, Instant> = [
            ("a".to_string(), t + Duration::from_secs(2)),
            ("b".to_string(), t + Duration::from_secs(1)),
        ]
        .into();
        assert_eq!(oldest(&names, &read_at, 3), ["c", "d", "b"]);
        assert_eq!(oldest(&names, &read_at, 9), ["c", "d", "b", "a"]);
        assert!(oldest(&names, &read_at, 0).is_empty());
    }

    #[test]
    fn checks_force_what_they_name() {
        assert!(AttributeChecks::All.forces("x"));
        assert!(!AttributeChecks::default().forces("x"));
        assert!(AttributeChecks::Due(["x".to_string()].into()).forces("x"));
        assert!(!AttributeChecks::Due(["x".to_string()].into()).forces("y"));
    }

    #[tokio::test(start_paused = true)]
    async fn every_group_is_checked_within_the_interval() {
        let observer = Observer::new(
            crate::cloud::sim::Sim::new(crate::cloud::sim::SimConfig::default()).cloud(),
        );
        let groups: BTreeSet<String> = (0..10).map(|i| format!("tg-{i}")).collect();
        let interval = Duration::from_secs(3600);
        let resync = Duration::from_secs(300);
        assert_eq!(observer.schedule_attribute_checks(&groups, interval), 0);
        let start = Instant::now();
        let mut last_read: HashMap<String, Instant> =
            groups.iter().map(|n| (n.clone(), start)).collect();
        let mut reads = 0;
        // Six intervals of resyncs, each reading what is due.
        for _ in 0..72 {
            tokio::time::sleep(resync).await;
            observer.schedule_attribute_checks(&groups, interval);
            for name in observer.checks.due_among(&groups) {
                let before = last_read.insert(name.clone(), Instant::now()).unwrap();
                assert!(
                    Instant::now() - before <= interval + resync,
                    "{name}: {:?} between reads",
                    Instant::now() - before
                );
                observer.checks.read(&name);
                reads += 1;
            }
            assert!(observer.checks.due_among(&groups).is_empty());
            // No group waits longer than the interval and one resync.
            for (name, at) in &last_read {
                assert!(Instant::now() - *at <= interval + resync, "{name} waits");
            }
        }
        // One read per resync (ceil(10 × 300 / 3600) = 1): each group about 6 times.
        assert_eq!(reads, 72);
    }
}
