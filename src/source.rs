//! Manifest sources for the controller: a debounced directory watcher ([`dir`]), a git
//! repository fetched into a bare cache with gix plus the webhook signature check ([`git`]),
//! and a pure snapshot of a load with a diff that says which resources to reconcile
//! ([`snapshot`]), kept from load to load in maps that successive versions share
//! ([`cow_map`]).
//!
//! The controller loop is: `watch(dir)`, load and [`Snapshot::of`] once, then on every
//! [`DirWatcher::changed`] reload, [`diff`] against the previous snapshot, reconcile
//! `changed`, delete `removed` (never `held` or `failed`) and keep
//! [`Snapshot::carry_held`] as the next baseline.

pub mod cow_map;
pub mod dir;
pub mod git;
pub mod snapshot;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use dir::{Change, DirWatcher, watch};
pub use git::{GitError, GitOptions, GitSnapshot, GitSource, verify_signature};
pub use snapshot::{Baseline, Changes, ContentDigest, Entry, Snapshot, diff};

/// Why a source could not be watched.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The path to watch is not a directory.
    #[error("{0}: not a directory")]
    NotADirectory(PathBuf),
    /// The operating system's file watcher refused (for example, inotify watch limit reached).
    #[error("watching {path}: {source}")]
    Watch {
        /// The directory.
        path: PathBuf,
        /// notify's error.
        #[source]
        source: notify::Error,
    },
    /// The watcher's event channel closed (the notify thread is gone).
    #[error("the file watcher stopped")]
    Closed,
    /// The watched directory is gone after a load (a checkout that swaps directories, a
    /// volume unmounted): the controller keeps the last load until it is back.
    #[error("{0}: the manifests directory is gone; keeping the last load until it is back")]
    Vanished(PathBuf),
    /// A git fetch failed (the controller keeps the last load and tries again).
    #[error(transparent)]
    Git(#[from] git::GitError),
    /// The blocking task loading the manifests panicked or was cancelled.
    #[error("loading the manifests failed: {0}")]
    LoadTask(String),
}
