//! The manifest source behind `run`, as one adapter over a watched directory, a polled git
//! repository (woken early by the push webhook) or a feed the caller drives (tests): opened
//! once, then `Source::next` gives the first load at once and each later load after a
//! change, validated.
//!
//! Loading and validating a directory or a git commit run on tokio's blocking pool
//! ([`off_runtime`]), never on the async workers: a load of the largest manifests the limits admit takes seconds, and `/healthz` and
//! `/metrics` must answer all the while (ECS kills a task whose health check times out).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use std::collections::BTreeSet;

use super::desired::{Failing, validated, validated_tracking};
use crate::manifest::validate::ValidationCache;
use crate::manifest::{LoadCache, LoadLimits, Loaded};
use crate::source::SourceError;

/// Where manifests come from.
pub enum SourceConfig {
    /// A directory, watched.
    Dir {
        /// The directory.
        path: PathBuf,
        /// Quiet time after the last file event before reloading.
        debounce: Duration,
    },
    /// A git repository, fetched every `interval` and whenever `trigger` is notified (the
    /// push webhook).
    Git {
        /// The repository.
        options: crate::source::git::GitOptions,
        /// Time between fetches.
        interval: Duration,
        /// Wakes a fetch now.
        trigger: Arc<Notify>,
    },
    /// A source the caller drives (tests): each value received is a new load.
    Feed {
        /// `git:URL` or a description, for `/status`.
        location: String,
        /// Loads with their revision.
        loads: tokio::sync::mpsc::Receiver<(Loaded, Option<String>)>,
    },
}

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceConfig::Dir { path, debounce } => f
                .debug_struct("Dir")
                .field("path", path)
                .field("debounce", debounce)
                .finish(),
            SourceConfig::Git {
                options, interval, ..
            } => f
                .debug_struct("Git")
                .field("options", options)
                .field("interval", interval)
                .finish(),
            SourceConfig::Feed { location, .. } => {
                f.debug_struct("Feed").field("location", location).finish()
            }
        }
    }
}

/// What a directory source keeps from one load to the next: each file's load, each
/// document's findings, and what validation failed.
#[derive(Debug, Default)]
pub struct DirCaches {
    files: LoadCache,
    findings: ValidationCache,
    failing: Failing,
}

impl DirCaches {
    /// Loads and validates the directory `path` (looking at `named` only, when given: the
    /// paths the watcher named), with the files whose part of the validated load may differ
    /// from the last load with these caches (`None` for the first).
    pub fn load(
        &mut self,
        path: &std::path::Path,
        limits: &LoadLimits,
        named: Option<&BTreeSet<PathBuf>>,
    ) -> (Loaded, Option<BTreeSet<PathBuf>>) {
        let dir = crate::manifest::load_dir_changes_with(path, &mut self.files, limits, named);
        let (loaded, failing) =
            validated_tracking(dir.loaded, &mut self.findings, &mut self.failing);
        let touched = dir.touched.map(|mut touched| {
            touched.extend(failing);
            touched
        });
        (loaded, touched)
    }
}

/// One load of a source.
#[derive(Debug)]
pub(super) struct Load {
    /// The load, validated.
    pub loaded: Loaded,
    /// The git commit; `None` for a directory (its revision is derived from the content).
    pub revision: Option<String>,
    /// The files whose part of the validated load may differ from the source's last load
    /// (read again, gone, or with a document validation now fails or passes); `None`: take
    /// the whole load.
    pub touched: Option<BTreeSet<PathBuf>>,
}

/// The source behind `run`.
pub(super) enum Source {
    Dir {
        path: PathBuf,
        watcher: crate::source::DirWatcher,
        loaded_once: bool,
        /// The files, the per-document findings and what validation failed of the last load,
        /// taken by the blocking load and put back; `None` only while a load runs (or after a
        /// load task panicked: the next load starts from empty caches, and is taken whole).
        cache: Option<DirCaches>,
        limits: LoadLimits,
    },
    Git {
        source: crate::source::git::GitSource,
        interval: Duration,
        trigger: Arc<Notify>,
        loaded: Option<String>,
        limits: LoadLimits,
    },
    Feed {
        location: String,
        loads: tokio::sync::mpsc::Receiver<(Loaded, Option<String>)>,
    },
}

impl Source {
    /// Opens the source `config` names (a directory starts being watched).
    pub(super) fn open(config: SourceConfig, limits: LoadLimits) -> Result<Source, SourceError> {
        Ok(match config {
            SourceConfig::Dir { path, debounce } => Source::Dir {
                watcher: crate::source::watch(&path, debounce)?,
                path,
                loaded_once: false,
                cache: Some(Default::default()),
                limits,
            },
            SourceConfig::Git {
                options,
                interval,
                trigger,
            } => Source::Git {
                source: crate::source::git::GitSource::new(options),
                interval,
                trigger,
                loaded: None,
                limits,
            },
            SourceConfig::Feed { location, loads } => Source::Feed { location, loads },
        })
    }

    /// `dir:PATH`, `git:URL@REF` (credentials stripped) or the feed's description.
    pub(super) fn location(&self) -> String {
        match self {
            Source::Dir { path, .. } => format!("dir:{}", path.display()),
            Source::Git { source, .. } => format!(
                "git:{}@{}",
                crate::source::git::display_url(&source.options().url),
                source.options().reference
            ),
            Source::Feed { location, .. } => location.clone(),
        }
    }

    /// The next load: at once the first time, then after each change. `None` when a feed ends.
    pub(super) async fn next(&mut self) -> Result<Option<Load>, SourceError> {
        match self {
            Source::Dir {
                path,
                watcher,
                loaded_once,
                cache,
                limits,
            } => {
                // The paths the watcher named: only those are looked at, unless it lost events.
                let mut named = None;
                if *loaded_once {
                    let change = watcher.changed().await?;
                    tracing::debug!(
                        paths = change.paths.len(),
                        rescan = change.rescan,
                        "manifests changed"
                    );
                    named = (!change.rescan).then_some(change.paths);
                }
                // Gone after a load: not "every manifest deleted" but a source that cannot
                // be read now (the run keeps the last load, as after a failed git fetch).
                if *loaded_once && !path.is_dir() {
                    return Err(SourceError::Vanished(path.clone()));
                }
                *loaded_once = true;
                let (path, limits) = (path.clone(), *limits);
                let mut caches = cache.take().unwrap_or_default();
                let (load, back) = off_runtime(move || {
                    let (loaded, touched) = caches.load(&path, &limits, named.as_ref());
                    let load = Load {
                        loaded,
                        revision: None,
                        touched,
                    };
                    (load, caches)
                })
                .await?;
                *cache = Some(back);
                Ok(Some(load))
            }
            Source::Git {
                source,
                interval,
                trigger,
                loaded,
                limits,
            } => {
                let mut retry = Duration::from_secs(1);
                loop {
                    if loaded.is_some() {
                        tokio::select! {
                            () = tokio::time::sleep(*interval) => {}
                            () = trigger.notified() => {}
                        }
                    }
                    let snapshot = match source.fetch().await {
                        Ok(snapshot) => snapshot,
                        // Before the first load there is nothing to keep: try again soon.
                        Err(e) if loaded.is_none() => {
                            tracing::warn!(error = %e, retry_in = ?retry, "first git fetch failed");
                            tokio::time::sleep(retry).await;
                            retry = (retry * 2).min(*interval);
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    if loaded.as_deref() == Some(snapshot.sha.as_str()) {
                        continue;
                    }
                    tracing::info!(sha = %snapshot.sha, files = snapshot.files.len(), "git: new commit");
                    *loaded = Some(snapshot.sha.clone());
                    let limits = *limits;
                    let files = snapshot.files;
                    let docs = off_runtime(move || {
                        validated(crate::manifest::load::load_texts_with(&files, &limits))
                    })
                    .await?;
                    return Ok(Some(Load {
                        loaded: docs,
                        revision: Some(snapshot.sha),
                        touched: None,
                    }));
                }
            }
            // The feed (tests) hands over loads already made; validating them in place keeps
            // their order against the queue as the tests drive it.
            Source::Feed { loads, .. } => Ok(loads.recv().await.map(|(loaded, revision)| Load {
                loaded: validated(loaded),
                revision,
                touched: None,
            })),
        }
    }
}

/// Runs `work` (a load, a validation) on tokio's blocking pool and waits for it without
/// holding an async worker.
pub(super) async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SourceError::LoadTask(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// While a directory loads, other tasks of a one-thread runtime still run: the load is off
    /// the async worker. (Loaded on the worker, the spinner could not run until it returned,
    /// as `/healthz` could not in issue 16.)
    #[tokio::test(flavor = "current_thread")]
    async fn a_load_leaves_the_async_worker_free() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..300 {
            let doc = format!(
                "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {{name: c{i}}}\nspec: {{}}\n"
            );
            std::fs::write(dir.path().join(format!("c{i}.yaml")), doc).unwrap();
        }
        let config = SourceConfig::Dir {
            path: dir.path().to_path_buf(),
            debounce: Duration::from_millis(10),
        };
        let mut source = Source::open(config, LoadLimits::default()).unwrap();
        let spins = Arc::new(AtomicUsize::new(0));
        let spinner = tokio::spawn({
            let spins = spins.clone();
            async move {
                loop {
                    spins.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                }
            }
        });
        let load = source.next().await.unwrap().unwrap();
        assert_eq!(load.loaded.documents.len(), 300);
        assert!(
            spins.load(Ordering::SeqCst) > 0,
            "the spinner never ran during the load"
        );
        spinner.abort();
    }
}
