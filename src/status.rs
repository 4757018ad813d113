//! Per-resource status, as `/status` serves it and `ecs-operator status` prints it: sync
//! (Synced, OutOfSync, Stalled, Unknown), health (Healthy, Progressing, Degraded, Missing, Suspended),
//! the source revision last applied, the last error, when sync or health last changed and when
//! live state was last read. A resource not observed for longer than the board's staleness
//! bound ([`StatusBoard::set_stale_after`]: two resync intervals in `run`) reads Unknown: what
//! it said is no longer known to hold.
//!
//! [`StatusBoard`] is the shared, lock-protected map the reconciles write and the HTTP server
//! reads; it also holds the source's state and the readiness flag. Updates are small closures
//! over one entry ([`StatusBoard::update`]), which stamp the transition time only when sync or
//! health actually changes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::manifest::{Kind, ResourceKey};

/// Whether live state matches the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SyncStatus {
    /// Live matches the manifest.
    Synced,
    /// Live differs (not applied yet, blocked, failed or held back after a rollback).
    OutOfSync,
    /// AWS rejected the manifest for good (invalid, access denied): not retried until the
    /// manifest changes or the next full sync.
    Stalled,
    /// Not compared yet, or its manifest failed to load.
    Unknown,
}

/// How the live resource is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Health {
    /// Exists; a service's PRIMARY deployment completed with every task running.
    Healthy,
    /// A service rollout is under way.
    Progressing,
    /// A rollout failed, was rolled back, or does not finish.
    Degraded,
    /// Does not exist live.
    Missing,
    /// `ecs-operator/suspend: "true"`: not managed.
    Suspended,
}

impl SyncStatus {
    /// The name used in JSON, tables and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Synced => "Synced",
            SyncStatus::OutOfSync => "OutOfSync",
            SyncStatus::Stalled => "Stalled",
            SyncStatus::Unknown => "Unknown",
        }
    }
}

impl Health {
    /// The name used in JSON, tables and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Progressing => "Progressing",
            Health::Degraded => "Degraded",
            Health::Missing => "Missing",
            Health::Suspended => "Suspended",
        }
    }
}

/// The status of one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// Cluster, TargetGroup or Service.
    pub kind: Kind,
    /// A service's cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// Manifest file (as the source names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Sync status.
    pub sync: SyncStatus,
    /// Health.
    pub health: Health,
    /// Source revision (git commit SHA, or the directory's content hash) last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The task definition revision the service runs or is rolling out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// What is going on, in one line (rollout progress, why it is blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last error (cleared by the next successful reconcile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Fields that differ, for out-of-sync resources (`spec.desiredCount: 2 -> 3`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// When sync or health last changed (RFC 3339).
    #[serde(with = "humantime_serde_compat")]
    pub last_transition: SystemTime,
    /// When its live state was last read (RFC 3339), if ever.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "humantime_serde_compat::option"
    )]
    pub last_observed: Option<SystemTime>,
}

impl ResourceStatus {
    /// A resource not compared yet.
    pub fn unknown(key: &ResourceKey) -> ResourceStatus {
        ResourceStatus {
            kind: key.kind,
            cluster: key.cluster.clone(),
            name: key.name.clone(),
            file: None,
            sync: SyncStatus::Unknown,
            health: Health::Missing,
            revision: None,
            task_definition: None,
            message: None,
            last_error: None,
            changes: Vec::new(),
            last_transition: SystemTime::now(),
            last_observed: None,
        }
    }

    /// Its key.
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            kind: self.kind,
            cluster: self.cluster.clone(),
            name: self.name.clone(),
        }
    }
}

/// RFC 3339 (de)serialization of `SystemTime` through humantime.
mod humantime_serde_compat {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_rfc3339_seconds(*t).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339_weak(&text).map_err(serde::de::Error::custom)
    }

    /// The same for `Option<SystemTime>`.
    pub mod option {
        use std::time::SystemTime;

        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<SystemTime>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => humantime::parse_rfc3339_weak(&text)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

/// The manifest source's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    /// `dir:PATH` or the git URL (credentials stripped).
    pub location: String,
    /// The revision loaded last (git commit SHA, or `sha256:` content hash of a directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Documents that failed to load in the last load.
    pub manifest_errors: usize,
    /// The last source error (fetch failed, directory unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the source was last loaded (RFC 3339), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_at: Option<String>,
    /// When the last full sync (startup or resync) finished (RFC 3339), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
}

/// The leader election, as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderStatus {
    /// `dynamodb`, or `off` (no election: this process leads).
    pub election: String,
    /// `leader` or `standby`.
    pub role: String,
    /// This process's holder id (empty without election).
    pub holder: String,
    /// The holder id of the current leader, when known.
    pub leader: Option<String>,
    /// The fencing number of the lease last seen (0 without election).
    pub fencing: u64,
}

impl Default for LeaderStatus {
    fn default() -> Self {
        LeaderStatus {
            election: "off".into(),
            role: "leader".into(),
            holder: String::new(),
            leader: None,
            fencing: 0,
        }
    }
}

impl LeaderStatus {
    /// The one line `ecs-operator status` prints about it.
    pub fn line(&self) -> String {
        if self.election == "off" {
            return "leader election off: this operator reconciles".into();
        }
        let leader = self.leader.as_deref().unwrap_or("none");
        format!(
            "leader election {}: this operator ({}) is {}; leader {leader}, fencing {}",
            self.election, self.holder, self.role, self.fencing
        )
    }
}

/// What `/status` serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// True once the first load and the first full sync are done.
    pub ready: bool,
    /// The source.
    pub source: SourceStatus,
    /// Every resource, sorted by kind, cluster and name.
    pub resources: Vec<ResourceStatus>,
    /// The leader election.
    #[serde(default)]
    pub leader: LeaderStatus,
}

#[derive(Debug, Default)]
struct Board {
    ready: bool,
    stale_after: Option<Duration>,
    leader: LeaderStatus,
    source: SourceStatus,
    resources: BTreeMap<ResourceKey, ResourceStatus>,
}

/// Shared status of every resource. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    inner: Arc<RwLock<Board>>,
    /// The board's clock: the wall clock at its first reading, and tokio's instant then.
    clock: Arc<std::sync::OnceLock<(tokio::time::Instant, SystemTime)>>,
}

impl StatusBoard {
    /// An empty board (not ready).
    pub fn new() -> StatusBoard {
        StatusBoard::default()
    }

    /// Changes the status of `key` (created as Unknown if absent). Stamps the transition time
    /// when sync or health changes.
    pub fn update(&self, key: &ResourceKey, f: impl FnOnce(&mut ResourceStatus)) {
        let mut board = self.write();
        let entry = board
            .resources
            .entry(key.clone())
            .or_insert_with(|| ResourceStatus::unknown(key));
        let before = (entry.sync, entry.health);
        f(entry);
        if (entry.sync, entry.health) != before {
            entry.last_transition = SystemTime::now();
        }
    }

    /// The status of `key`, if known.
    pub fn get(&self, key: &ResourceKey) -> Option<ResourceStatus> {
        self.read().resources.get(key).cloned()
    }

    /// Forgets `key` (its manifest is gone).
    pub fn remove(&self, key: &ResourceKey) {
        self.write().resources.remove(key);
    }

    /// Changes the source's state.
    pub fn update_source(&self, f: impl FnOnce(&mut SourceStatus)) {
        f(&mut self.write().source);
    }

    /// Marks the controller ready (first load and first full sync done).
    pub fn set_ready(&self) {
        self.write().ready = true;
    }

    /// Sets what the leader election knows.
    pub fn set_leader(&self, leader: LeaderStatus) {
        self.write().leader = leader;
    }

    /// True once [`StatusBoard::set_ready`] was called.
    pub fn is_ready(&self) -> bool {
        self.read().ready
    }

    /// Resources not observed for longer than `after` read Unknown in reports.
    pub fn set_stale_after(&self, after: Duration) {
        self.write().stale_after = Some(after);
    }

    /// Now, for `lastObserved` and its staleness: the wall clock at the board's first
    /// reading, moved on by tokio's clock since. Outside tests the two agree; on paused tokio
    /// time (the controller's tests) a resource goes stale in virtual minutes like everything
    /// else (each board reads the clock of the runtime it is used in).
    pub fn now(&self) -> SystemTime {
        let (instant, wall) = *self
            .clock
            .get_or_init(|| (tokio::time::Instant::now(), SystemTime::now()));
        wall + instant.elapsed()
    }

    /// Everything, for `/status`, as of [`StatusBoard::now`].
    pub fn report(&self) -> StatusReport {
        self.report_at(self.now())
    }

    /// Everything as of `now`: a resource observed before, but not within the staleness
    /// bound, reads Unknown with a message saying since when.
    pub fn report_at(&self, now: SystemTime) -> StatusReport {
        let board = self.read();
        let resources = board
            .resources
            .values()
            .cloned()
            .map(|r| match board.stale_after {
                Some(after) => stale(r, after, now),
                None => r,
            })
            .collect();
        StatusReport {
            ready: board.ready,
            source: board.source.clone(),
            resources,
            leader: board.leader.clone(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Board> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Board> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// `r` as it reads at `now` when it must have been observed within `after`.
fn stale(mut r: ResourceStatus, after: Duration, now: SystemTime) -> ResourceStatus {
    let Some(observed) = r.last_observed else {
        return r;
    };
    let age = now.duration_since(observed).unwrap_or_default();
    if age > after && r.sync != SyncStatus::Unknown {
        r.sync = SyncStatus::Unknown;
        r.message = Some(format!(
            "not observed for {} (more than two resync intervals): live state unknown",
            humantime::format_duration(Duration::from_secs(age.as_secs()))
        ));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ResourceKey {
        ResourceKey {
            kind: Kind::Service,
            cluster: Some("shop".into()),
            name: "api".into(),
        }
    }

    #[test]
    fn transition_time_moves_only_when_sync_or_health_changes() {
        let board = StatusBoard::new();
        board.update(&key(), |s| s.sync = SyncStatus::Synced);
        let first = board.get(&key()).unwrap().last_transition;
        // Backdate it, then change only the message: the time must stay.
        board.update(&key(), |s| s.last_transition = SystemTime::UNIX_EPOCH);
        board.update(&key(), |s| s.message = Some("1/2 running".into()));
        assert_eq!(
            board.get(&key()).unwrap().last_transition,
            SystemTime::UNIX_EPOCH
        );
        board.update(&key(), |s| s.health = Health::Healthy);
        let after = board.get(&key()).unwrap().last_transition;
        assert!(after >= first, "a health change stamps the time");
    }

    #[test]
    fn a_resource_not_observed_within_the_bound_reads_unknown() {
        let board = StatusBoard::new();
        let seen = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        board.update(&key(), |s| {
            s.sync = SyncStatus::Synced;
            s.health = Health::Healthy;
            s.last_observed = Some(seen);
        });
        let at = |secs| board.report_at(seen + Duration::from_secs(secs)).resources[0].clone();
        assert_eq!(
            at(10_000).sync,
            SyncStatus::Synced,
            "no bound set: as recorded"
        );
        board.set_stale_after(Duration::from_secs(600));
        assert_eq!(
            at(600).sync,
            SyncStatus::Synced,
            "at the bound: still fresh"
        );
        let old = at(601);
        assert_eq!(old.sync, SyncStatus::Unknown);
        assert_eq!(
            old.message.as_deref(),
            Some("not observed for 10m 1s (more than two resync intervals): live state unknown")
        );
        assert_eq!(
            board.get(&key()).unwrap().sync,
            SyncStatus::Synced,
            "the record itself is unchanged: the next observation counts"
        );
        let json = serde_json::to_string(&board.report_at(seen)).unwrap();
        assert!(
            json.contains("\"lastObserved\":\"1970-01-12T13:46:40Z\""),
            "{json}"
        );
        let back: StatusReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back.resources[0].last_observed, Some(seen));
    }

    #[test]
    fn report_round_trips_through_json() {
        let board = StatusBoard::new();
        board.update(&key(), |s| {
            s.sync = SyncStatus::OutOfSync;
            s.health = Health::Degraded;
            s.revision = Some("0123abc".into());
            s.last_error = Some("boom".into());
            s.changes = vec!["spec.desiredCount: 2 -> 3".into()];
        });
        board.update_source(|s| s.location = "dir:manifests".into());
        let report = board.report();
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains("\"sync\":\"OutOfSync\""), "{json}");
        assert!(json.contains("\"lastTransition\":\""), "{json}");
        let back: StatusReport = serde_json::from_str(&json).unwrap();
        // RFC 3339 with seconds: compare everything but sub-second time.
        assert_eq!(back.resources[0].key(), key());
        assert_eq!(back.resources[0].sync, SyncStatus::OutOfSync);
        assert_eq!(back.resources[0].health, Health::Degraded);
        assert_eq!(back.source, report.source);
    }
}
