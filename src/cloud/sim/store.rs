//! The state file a simulator keeps (`--sim-state`, [`Sim::open`](super::Sim::open)): taken
//! with a lock for the simulator's lifetime, so a second process on the same file gets
//! [`SimStateError::Locked`] instead of one of them losing the other's writes; written
//! (atomically, `persist::write_atomically`) after every mutating call, so a process killed
//! with SIGKILL loses nothing it answered; and temp files a killed write left behind are
//! removed when the file is next opened.
//!
//! The lock is an advisory `flock` ([`std::fs::File::try_lock`]) on `.NAME.lock` beside the
//! file (the state file itself is replaced on every write, so it cannot carry the lock).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::persist::SimStateError;
use super::{Sim, persist};
use crate::cloud::layer::{CallInfo, Layer, Ticket};
use crate::cloud::{CloudError, CloudResult};

/// A locked state file.
#[derive(Debug)]
pub(super) struct Store {
    /// The state file.
    pub path: PathBuf,
    /// Held open (and locked) while the store lives.
    _lock: File,
    /// One write at a time, in the order the states were taken.
    writing: Mutex<()>,
}

/// `dir` and the file name of `path`.
fn parts(path: &Path) -> Result<(PathBuf, String), SimStateError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| SimStateError::Io {
            path: path.to_path_buf(),
            action: "lock",
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"),
        })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string()))
}

impl Store {
    /// Locks `path` (creating its directory and lock file), then removes temp files of it
    /// that an earlier, killed process left.
    pub fn lock(path: &Path) -> Result<Store, SimStateError> {
        let (dir, name) = parts(path)?;
        let io = |action| {
            move |source| SimStateError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        fs::create_dir_all(&dir).map_err(io("create the directory of"))?;
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!(".{name}.lock")))
            .map_err(io("lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(SimStateError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("lock")(e)),
        }
        let prefix = format!(".{name}.");
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let file = entry.file_name();
                let file = file.to_string_lossy();
                if file.starts_with(&prefix) && file.ends_with(".tmp") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(Store {
            path: path.to_path_buf(),
            _lock: lock,
            writing: Mutex::new(()),
        })
    }

    /// Writes the account of `sim` now.
    pub fn save(&self, sim: &Sim) -> Result<(), SimStateError> {
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = {
            let mut s = sim.lock();
            s.advance(tokio::time::Instant::now());
            persist::encode(&mut s, &self.path)?
        };
        persist::write_atomically(&self.path, &bytes)
    }
}

/// The layer that writes the state file after every mutating call that reached the
/// simulated account (innermost, so a faulted call that was never sent writes nothing).
pub(super) struct SaveAfterWrites(pub Sim, pub Arc<Store>);

#[async_trait]
impl Layer for SaveAfterWrites {
    async fn enter(&self, _call: &CallInfo<'_>) -> CloudResult<Ticket> {
        Ok(Ticket::none())
    }

    fn exit(&self, call: &CallInfo<'_>, _ticket: Ticket, _outcome: Result<(), &mut CloudError>) {
        if call.operation.is_read() {
            return;
        }
        if let Err(error) = self.1.save(&self.0) {
            tracing::error!(%error, "could not write the simulator state");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cloud::model::CreateCluster;
    use crate::cloud::sim::{Sim, SimConfig, SimStateError};

    #[tokio::test(start_paused = true)]
    async fn a_second_simulator_on_one_file_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let first = Sim::open(SimConfig::default(), &path).unwrap();
        let second = Sim::open(SimConfig::default(), &path);
        assert!(
            matches!(&second, Err(SimStateError::Locked { path: p }) if *p == path),
            "{second:?}"
        );
        let message = second.unwrap_err().to_string();
        assert!(message.contains("in use by another"), "{message}");
        drop(first);
        Sim::open(SimConfig::default(), &path).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn every_mutating_call_is_in_the_file_at_once_and_reads_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let sim = Sim::open(SimConfig::default(), &path).unwrap();
        let cloud = sim.cloud();
        cloud.ecs.describe_clusters(&["shop".into()]).await.unwrap();
        assert!(!path.exists(), "a read wrote the file");
        cloud
            .ecs
            .create_cluster(&CreateCluster {
                name: "shop".into(),
                ..CreateCluster::default()
            })
            .await
            .unwrap();
        // Read back by another simulator, without the first one saving.
        let seen = Sim::load(SimConfig::default(), &path).unwrap();
        let clusters = seen
            .cloud()
            .ecs
            .describe_clusters(&["shop".into()])
            .await
            .unwrap();
        assert_eq!(clusters.found.len(), 1, "{clusters:?}");
        drop(sim);
    }

    #[tokio::test(start_paused = true)]
    async fn temp_files_a_killed_write_left_are_removed_when_the_file_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let stale = dir.path().join(".state.json.4242.0.tmp");
        let other = dir.path().join(".other.json.4242.0.tmp");
        std::fs::write(&stale, "{").unwrap();
        std::fs::write(&other, "{").unwrap();
        let _sim = Sim::open(SimConfig::default(), &path).unwrap();
        assert!(!stale.exists());
        assert!(other.exists(), "another file's temp files are not ours");
    }
}
