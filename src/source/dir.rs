//! Watching a manifest directory: notify's events, filtered to what can change a load and
//! debounced on tokio time, so a save or a checkout wakes the controller once.
//!
//! notify calls back on its own thread; the callback only sends into an unbounded tokio
//! channel, and [`DirWatcher::changed`] does the filtering and debouncing on the caller's task.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use notify::event::{CreateKind, ModifyKind, RemoveKind};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::SourceError;

/// A burst that never settles (a file rewritten continuously) still yields after this many
/// debounce periods, so the controller is not starved.
const MAX_WAIT_FACTOR: u32 = 20;

/// A recursive, debounced watch on one directory. Dropping it stops the watch.
pub struct DirWatcher {
    dir: PathBuf,
    roots: Vec<PathBuf>,
    debounce: Duration,
    rx: mpsc::UnboundedReceiver<notify::Result<Event>>,
    _watcher: RecommendedWatcher,
}

impl std::fmt::Debug for DirWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirWatcher")
            .field("dir", &self.dir)
            .field("debounce", &self.debounce)
            .finish_non_exhaustive()
    }
}

/// One settled burst of relevant events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Relevant paths the events named (for logs; reload the whole directory regardless).
    pub paths: BTreeSet<PathBuf>,
    /// The watcher lost events (queue overflow or a watcher error): reload everything.
    pub rescan: bool,
}

/// Starts watching `dir` recursively. Events that cannot change a load (hidden paths such as
/// `.git` or `.api.yaml.swp`, `~` backups, files not ending `.yaml`/`.yml`, reads) are
/// ignored, except that directories created, removed or renamed always count.
pub fn watch(dir: impl AsRef<Path>, debounce: Duration) -> Result<DirWatcher, SourceError> {
    let dir = dir.as_ref().to_path_buf();
    if !dir.is_dir() {
        return Err(SourceError::NotADirectory(dir));
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let watch_error = |source| SourceError::Watch {
        path: dir.clone(),
        source,
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
        // The receiver is gone only when the DirWatcher is being dropped.
        let _ = tx.send(event);
    })
    .map_err(watch_error)?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(watch_error)?;
    let mut roots = vec![dir.clone()];
    if let Ok(canonical) = dir.canonicalize()
        && canonical != dir
    {
        roots.push(canonical);
    }
    Ok(DirWatcher {
        dir,
        roots,
        debounce,
        rx,
        _watcher: watcher,
    })
}

impl DirWatcher {
    /// The watched directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits for the next relevant event, then until no relevant event came for the debounce
    /// period (at most 20 periods in all), and returns what the burst touched. Cancel-safe
    /// between bursts: events stay queued in the channel.
    pub async fn changed(&mut self) -> Result<Change, SourceError> {
        let mut change = Change::default();
        loop {
            let event = self.rx.recv().await.ok_or(SourceError::Closed)?;
            if self.absorb(event, &mut change) {
                break;
            }
        }
        let deadline = Instant::now() + self.debounce * MAX_WAIT_FACTOR;
        let mut quiet_at = Instant::now() + self.debounce;
        loop {
            match tokio::time::timeout_at(quiet_at.min(deadline), self.rx.recv()).await {
                Err(_elapsed) => return Ok(change),
                Ok(None) => return Err(SourceError::Closed),
                Ok(Some(event)) => {
                    if self.absorb(event, &mut change) {
                        quiet_at = Instant::now() + self.debounce;
                    }
                }
            }
        }
    }

    /// Records a relevant event into `change`; false for events to ignore.
    fn absorb(&self, event: notify::Result<Event>, change: &mut Change) -> bool {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(dir = %self.dir.display(), %error, "file watcher error; reloading");
                change.rescan = true;
                return true;
            }
        };
        if event.need_rescan() {
            change.rescan = true;
            return true;
        }
        let relevant: Vec<&PathBuf> = event
            .paths
            .iter()
            .filter(|p| self.is_relevant(&event.kind, p))
            .collect();
        if relevant.is_empty() {
            return false;
        }
        change.paths.extend(relevant.into_iter().cloned());
        true
    }

    fn is_relevant(&self, kind: &EventKind, path: &Path) -> bool {
        if matches!(kind, EventKind::Access(_)) {
            return false;
        }
        let Some(rel) = self.roots.iter().find_map(|r| path.strip_prefix(r).ok()) else {
            // Outside the watched directory as we spelled it: be safe and reload.
            return true;
        };
        if rel.components().any(|c| match c {
            Component::Normal(name) => is_hidden(name),
            _ => false,
        }) {
            return false;
        }
        if is_manifest_file(rel) {
            return true;
        }
        is_directory_change(kind, path)
    }
}

/// Dot files and directories (`.git`, `.api.yaml.swp`, `.#api.yaml`) and `~` backups.
fn is_hidden(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name.ends_with('~')
}

fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// A directory (or the watched directory itself) created, removed or renamed: a checkout that
/// swaps whole directories changes many files at once, and a removed directory's files may
/// not get events of their own.
fn is_directory_change(kind: &EventKind, path: &Path) -> bool {
    match kind {
        EventKind::Create(CreateKind::Folder) | EventKind::Remove(RemoveKind::Folder) => true,
        EventKind::Create(_) => path.is_dir(),
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)) => {
            // After a removal or the "from" half of a rename the path is gone and its type
            // unknown: count names without an extension, which directories usually have.
            path.is_dir() || (!path.exists() && path.extension().is_none())
        }
        _ => false,
    }
}
