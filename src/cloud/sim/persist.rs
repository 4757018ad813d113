//! Saving the simulated account to a JSON file and loading it in another process, so
//! `ecs-operator --backend sim diff` sees what an earlier `apply` created.
//!
//! # The file
//! One JSON object (keys in camelCase):
//! - `version`: the format, [`FORMAT_VERSION`]; any other is refused.
//! - `accountId`, `region`: the account the ARNs belong to (loading with another one is
//!   refused rather than answering "not found" for every ARN).
//! - `elapsed`: the account's virtual time when it was saved (`{secs, nanos}`). Every other
//!   time in the file (deployment times, throttles, queued events) is a moment of the same
//!   virtual clock, so pending work keeps its remaining duration: the loading process maps
//!   its own tokio "now" to `elapsed` and goes on from there.
//! - `rngSeed`: 64 hex digits seeding the id generator (task ids, deployment ids, target group
//!   ARN suffixes, IPs, event ids) when loaded.
//! - `clusters`, `taskDefinitions` (every revision, oldest first per family),
//!   `targetGroups` (with attributes, tags and targets), `services` (with deployments, live
//!   tasks, events and throttle state).
//! - `events`: the scheduler's queue (`at`, `seq`, `event`); `nextSeq` orders later ties.
//! - `ips`: holders of each IP in use (tasks and registered targets).
//!
//! Not saved: call counters and request ids, injected faults, throttling buckets (they start
//! full), and the settings of [`SimConfig`](super::SimConfig), which the loading process gives.

use std::collections::{BTreeMap, btree_map::Entry};
use std::fs;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::SimConfig;
use super::records::{Clock, ElbState, Event, ServiceState, SimTime, TargetGroupState};
use super::state::State;
use crate::cloud::model::{Cluster, RegisteredTaskDefinition};

/// The version of the file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Why the simulated account could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SimStateError {
    /// There is no file: nothing was saved yet (start with an empty account).
    #[error("no simulator state at {}", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// Reading, writing or renaming failed.
    #[error("cannot {action} simulator state {}", path.display())]
    Io {
        /// The file (or the directory that could not be created).
        path: PathBuf,
        /// What failed: "read", "write", "create the directory of".
        action: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is not JSON, or not JSON of this format.
    #[error("simulator state {} is not valid (at {location})", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Where in the document (`services[0].state.deployments`, `.` for the whole).
        location: String,
        /// The cause, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The file was written in another format version.
    #[error(
        "simulator state {} has format version {found}; this ecs-operator reads version {supported} (delete the file to start over)",
        path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The file's version.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// The file is of another account or Region than the simulator is configured with.
    #[error(
        "simulator state {} belongs to account {saved}, not {configured}",
        path.display()
    )]
    OtherAccount {
        /// The file.
        path: PathBuf,
        /// `account/region` of the file.
        saved: String,
        /// `account/region` of the configuration.
        configured: String,
    },
    /// Another process (or another simulator of this one) has the file open.
    #[error(
        "simulator state {} is in use by another ecs-operator process (its lock is held); stop it, or give this one another --sim-state",
        path.display()
    )]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// The file parses but contradicts itself (duplicate names, revisions out of sequence).
    #[error("simulator state {} is inconsistent: {message}", path.display())]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A service and its key.
#[derive(Serialize, Deserialize)]
struct SavedService {
    cluster: String,
    name: String,
    state: ServiceState,
}

/// A queued scheduler event.
#[derive(Serialize, Deserialize)]
struct SavedEvent {
    at: SimTime,
    seq: u64,
    event: Event,
}

/// The whole file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    version: u32,
    account_id: String,
    region: String,
    elapsed: SimTime,
    rng_seed: String,
    next_seq: u64,
    clusters: Vec<Cluster>,
    task_definitions: Vec<RegisteredTaskDefinition>,
    target_groups: Vec<TargetGroupState>,
    services: Vec<SavedService>,
    events: Vec<SavedEvent>,
    ips: BTreeMap<Ipv4Addr, u32>,
    /// Application Auto Scaling (absent from files saved before it, and left out while the
    /// account has no scalable target, so such a file reads as before).
    #[serde(
        default,
        skip_serializing_if = "super::autoscaling::SimScaling::is_empty"
    )]
    scaling: super::autoscaling::SimScaling,
    /// Load balancers, listeners and rules; absent while they are the seeded ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elb: Option<ElbState>,
}

/// What is read first, so a file of another version is refused before its shape is judged.
#[derive(Deserialize)]
struct Header {
    version: u64,
}

/// Hex digits of a seed.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A seed from its hex digits.
fn parse_seed(s: &str) -> Option<[u8; 32]> {
    let mut seed = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(seed)
}

impl State {
    /// The account as saved. Re-seeds the id generator from its own stream, the seed going
    /// into the file: this simulator and any loaded from the file draw the same ids from here.
    fn snapshot(&mut self) -> Snapshot {
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        self.rng = StdRng::from_seed(seed);
        Snapshot {
            version: FORMAT_VERSION,
            account_id: self.config.account_id.clone(),
            region: self.config.region.clone(),
            elapsed: self.now,
            rng_seed: hex(&seed),
            next_seq: self.next_seq,
            clusters: self.clusters.values().cloned().collect(),
            task_definitions: self.families.values().flatten().cloned().collect(),
            target_groups: self.target_groups.values().cloned().collect(),
            services: self
                .services
                .iter()
                .map(|((cluster, name), state)| SavedService {
                    cluster: cluster.clone(),
                    name: name.clone(),
                    state: state.clone(),
                })
                .collect(),
            events: self
                .events
                .iter()
                .map(|((at, seq), event)| SavedEvent {
                    at: *at,
                    seq: *seq,
                    event: event.clone(),
                })
                .collect(),
            ips: self
                .ips
                .iter()
                .map(|(ip, n)| (Ipv4Addr::from(*ip), *n))
                .collect(),
            scaling: self.scaling.clone(),
            elb: (self.elb != self.seeded_elb()).then(|| self.elb.clone()),
        }
    }

    /// The account of a snapshot, its virtual time `snapshot.elapsed` at the tokio instant
    /// `origin`. Err is what contradicts itself.
    fn restore(config: SimConfig, snapshot: Snapshot, origin: Instant) -> Result<State, String> {
        let mut s = State::new(config, origin);
        s.clock = Clock::new(origin, snapshot.elapsed);
        s.now = snapshot.elapsed;
        let seed = parse_seed(&snapshot.rng_seed)
            .ok_or_else(|| format!("rngSeed {:?} is not 64 hex digits", snapshot.rng_seed))?;
        s.rng = StdRng::from_seed(seed);
        for c in snapshot.clusters {
            if let Some(old) = s.clusters.insert(c.name.clone(), c) {
                return Err(format!("cluster {} appears twice", old.name));
            }
        }
        for td in snapshot.task_definitions {
            let revisions = s.families.entry(td.family.clone()).or_default();
            if usize::try_from(td.revision).ok() != Some(revisions.len() + 1) {
                return Err(format!(
                    "task definition {} is revision {} where revision {} of its family was expected",
                    td.arn,
                    td.revision,
                    revisions.len() + 1
                ));
            }
            revisions.push(td);
        }
        for g in snapshot.target_groups {
            let (name, arn) = (g.group.name.clone(), g.group.arn.clone());
            if s.target_groups.insert(arn.clone(), g).is_some() {
                return Err(format!("target group {arn} appears twice"));
            }
            if s.target_group_arns.insert(name.clone(), arn).is_some() {
                return Err(format!("two target groups are named {name}"));
            }
        }
        for svc in snapshot.services {
            match s.services.entry((svc.cluster, svc.name)) {
                Entry::Occupied(e) => {
                    return Err(format!("service {}/{} appears twice", e.key().0, e.key().1));
                }
                Entry::Vacant(e) => {
                    e.insert(svc.state);
                }
            }
        }
        s.next_seq = snapshot.next_seq;
        for e in snapshot.events {
            s.next_seq = s.next_seq.max(e.seq);
            s.events.insert((e.at, e.seq), e.event);
        }
        s.ips = snapshot
            .ips
            .into_iter()
            .map(|(ip, n)| (u32::from(ip), n))
            .collect();
        s.scaling = snapshot.scaling;
        if let Some(elb) = snapshot.elb {
            s.elb = elb;
        }
        Ok(s)
    }
}

/// The account as the file's bytes (see [`State::snapshot`] on the id generator).
pub(super) fn encode(state: &mut State, path: &Path) -> Result<Vec<u8>, SimStateError> {
    let mut bytes =
        serde_json::to_vec_pretty(&state.snapshot()).map_err(|source| SimStateError::Json {
            path: path.to_path_buf(),
            location: ".".into(),
            source,
        })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The account saved at `path`, its clock going on from the tokio instant `origin`.
pub(super) fn read(
    config: SimConfig,
    path: &Path,
    origin: Instant,
) -> Result<State, SimStateError> {
    let bytes = fs::read(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            SimStateError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            SimStateError::Io {
                path: path.to_path_buf(),
                action: "read",
                source,
            }
        }
    })?;
    let json_error = |location: String, source| SimStateError::Json {
        path: path.to_path_buf(),
        location,
        source,
    };
    let header: Header = serde_json::from_slice(&bytes).map_err(|e| json_error(".".into(), e))?;
    if header.version != u64::from(FORMAT_VERSION) {
        return Err(SimStateError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: header.version,
            supported: FORMAT_VERSION,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let snapshot: Snapshot = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_error(e.path().to_string(), e.into_inner()))?;
    let saved = format!("{}/{}", snapshot.account_id, snapshot.region);
    let configured = format!("{}/{}", config.account_id, config.region);
    if saved != configured {
        return Err(SimStateError::OtherAccount {
            path: path.to_path_buf(),
            saved,
            configured,
        });
    }
    State::restore(config, snapshot, origin).map_err(|message| SimStateError::Inconsistent {
        path: path.to_path_buf(),
        message,
    })
}

/// Writes `bytes` to `path` atomically: into a new file of the same directory (created if
/// needed), flushed to disk, then renamed over `path`. Readers see the old file or the new
/// one, never a part.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SimStateError> {
    static TEMP_FILES: AtomicU64 = AtomicU64::new(0);
    let io_error = |action, p: &Path| {
        let p = p.to_path_buf();
        move |source| SimStateError::Io {
            path: p,
            action,
            source,
        }
    };
    let name = path.file_name().ok_or_else(|| SimStateError::Io {
        path: path.to_path_buf(),
        action: "write",
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(io_error("create the directory of", path))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        TEMP_FILES.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = dir.join(temp_name);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error("write", path)(source));
    }
    // Make the rename itself durable where directories can be synced.
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::cloud::sim::{Sim, SimConfig};

    /// A state file written by `ecs-operator --backend sim apply manifests` when the model
    /// types were still serialized through serde remote definitions (mid-rollout: deployments
    /// IN_PROGRESS, queued events, service events with timestamps).
    const BEFORE_MODEL_SERDE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/cloud/sim/tests/fixtures/sim-state-v1.json"
    );

    /// The file without the seed, which every save draws anew.
    fn unseeded(path: &Path) -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("rngSeed").unwrap();
        v
    }

    /// The model types derive serde now: a file saved before still loads, and saving it again
    /// writes the same document (the format did not change).
    #[tokio::test(start_paused = true)]
    async fn a_file_saved_through_the_former_mirror_types_loads_and_saves_the_same() {
        let fixture = Path::new(BEFORE_MODEL_SERDE);
        let sim = Sim::load(SimConfig::default(), fixture).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let again = dir.path().join("sim.json");
        sim.save(&again).unwrap();
        assert_eq!(unseeded(&again), unseeded(fixture));
    }
}
