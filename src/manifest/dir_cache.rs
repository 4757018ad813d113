//! Loading one directory again and again (the controller's watched directory): each file's
//! load is kept in a [`LoadCache`] and a file is read again only when it changed. With the
//! paths a watcher named ([`load_dir_changes_with`]), only those are looked at: no walk of the
//! directory and no stat of the other files. Every load also says which files it read again
//! or found gone ([`DirLoad::touched`]), so what follows the load can redo their part only.
//!
//! The result is always the one [`super::load_paths_with`] would give. The named paths are
//! trusted to be all that changed; anything the walk would decide differently makes the load
//! walk: a directory (or a path that is not a manifest name) among them, a link or a special
//! file at one or on its way, a path outside the directory, the last walk having refused or
//! linked a file, or the total-bytes budget in play (the walk decides which file is the first
//! over it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use super::files::{self, Found};
use super::load::{Budget, FileRead, Loaded, load_paths_with, parse_all};
use super::load_limits::LoadLimits;

/// Per-file results of earlier loads of a directory, for [`load_dir_cached`].
#[derive(Debug, Default)]
pub struct LoadCache {
    files: BTreeMap<PathBuf, CachedFile>,
    /// The directory the files were walked from, once loaded.
    root: Option<PathBuf>,
    /// The last walk read every manifest directly: no link, no refused entry, nothing over
    /// the total-bytes budget (the condition to load named paths only).
    plain: bool,
    /// The entries the last walk refused (touched by the next load, whatever it finds).
    refused: BTreeSet<PathBuf>,
}

#[derive(Debug)]
struct CachedFile {
    modified: Option<SystemTime>,
    len: u64,
    loaded: Loaded,
}

/// What a directory load gives.
#[derive(Debug)]
pub struct DirLoad {
    /// The load, the same as a load of the whole directory.
    pub loaded: Loaded,
    /// The files read again, added or gone since the cache's last load of this directory;
    /// `None` when there was no such load (every file is new).
    pub touched: Option<BTreeSet<PathBuf>>,
}

/// [`super::load_paths`] of one directory, re-reading only the files whose modification time
/// or size changed since the last call with the same cache (the controller reloads on every
/// save; a large repository should not be parsed again for one file). Same result as
/// `load_paths`.
pub fn load_dir_cached(root: &Path, cache: &mut LoadCache) -> Loaded {
    load_dir_cached_with(root, cache, &LoadLimits::default())
}

/// [`load_dir_cached`] within `limits`; same result as [`load_paths_with`].
pub fn load_dir_cached_with(root: &Path, cache: &mut LoadCache, limits: &LoadLimits) -> Loaded {
    load_dir_changes_with(root, cache, limits, None).loaded
}

/// [`load_dir_cached_with`], looking only at `changed` (paths a watcher named since the last
/// load with this cache) when they can be trusted (module doc); `None`: walk.
pub fn load_dir_changes_with(
    root: &Path,
    cache: &mut LoadCache,
    limits: &LoadLimits,
    changed: Option<&BTreeSet<PathBuf>>,
) -> DirLoad {
    if !root.is_dir() {
        *cache = LoadCache::default();
        return DirLoad {
            loaded: load_paths_with(&[root.to_path_buf()], limits),
            touched: None,
        };
    }
    let warm = cache.root.as_deref() == Some(root);
    if warm
        && cache.plain
        && let Some(changed) = changed
        && let Some(loaded) = load_named(root, cache, limits, changed)
    {
        return loaded;
    }
    let (loaded, touched) = walk(root, cache, limits);
    DirLoad {
        loaded,
        touched: warm.then_some(touched),
    }
}

/// The walk: every file stat'ed, those changed read again.
fn walk(root: &Path, cache: &mut LoadCache, limits: &LoadLimits) -> (Loaded, BTreeSet<PathBuf>) {
    let mut out = Loaded::default();
    let mut budget = Budget::new(limits);
    let mut plain = true;
    let mut touched = BTreeSet::new();
    let mut refused_now = BTreeSet::new();
    // In walk order: a file kept from the cache, or read now (the index of its read in
    // `reads`, parsed below on every core).
    enum Entry {
        Kept(PathBuf, CachedFile),
        Read(usize, Option<SystemTime>, u64),
        Refused(Loaded),
    }
    let mut entries = Vec::new();
    let mut reads: Vec<FileRead> = Vec::new();
    for found in files::walk(root) {
        let (path, open) = match found {
            Found::File { path, open } => (path, open),
            Found::Refused {
                path,
                rule,
                message,
            } => {
                plain = false;
                let mut refused = Loaded::default();
                refused.fail_file_rule(&path, rule, message);
                entries.push(Entry::Refused(refused));
                refused_now.insert(path);
                continue;
            }
        };
        plain &= path == open;
        let meta = std::fs::metadata(&open).ok();
        let modified = meta.as_ref().and_then(|m| m.modified().ok());
        let len = meta.as_ref().map_or(0, |m| m.len());
        match cache.files.remove(&path) {
            Some(c) if c.modified.is_some() && c.modified == modified && c.len == len => {
                // Cached: its bytes count as if read again. Refused, its finding takes its
                // place in walk order, as `load_paths` reports it.
                let mut refused = Loaded::default();
                if len <= limits.max_file_bytes && !budget.take(&path, len, &mut refused) {
                    touched.insert(path);
                    entries.push(Entry::Refused(refused));
                    continue;
                }
                entries.push(Entry::Kept(path, c));
            }
            _ => {
                touched.insert(path.clone());
                entries.push(Entry::Read(reads.len(), modified, len));
                reads.push(FileRead::read(&path, &open, &mut budget));
            }
        }
    }
    parse_all(&mut reads, limits);
    let mut reads: Vec<Option<FileRead>> = reads.into_iter().map(Some).collect();
    let mut seen = BTreeMap::new();
    for e in entries {
        let (path, file) = match e {
            Entry::Refused(refused) => {
                out.append(refused);
                continue;
            }
            Entry::Kept(path, c) => (path, c),
            Entry::Read(i, modified, len) => {
                let f = reads[i].take().expect("each read is one entry's");
                if f.over_budget {
                    // Read again next time: whether it fits depends on the other files.
                    out.append(f.into_parts().1);
                    continue;
                }
                let (path, loaded) = f.into_parts();
                (
                    path,
                    CachedFile {
                        modified,
                        len,
                        loaded,
                    },
                )
            }
        };
        out.append(file.loaded.clone());
        seen.insert(path, file);
    }
    plain &= budget.is_untouched_by_limit();
    budget.finish(&mut out);
    // What is left of the old cache is gone from the directory.
    touched.extend(std::mem::take(&mut cache.files).into_keys());
    touched.extend(std::mem::take(&mut cache.refused));
    touched.extend(refused_now.iter().cloned());
    cache.files = seen;
    cache.refused = refused_now;
    cache.root = Some(root.to_path_buf());
    cache.plain = plain;
    (out, touched)
}

/// What to do with one named path.
enum Named {
    /// Read it (again).
    Read(PathBuf, Option<SystemTime>, u64),
    /// It is gone.
    Gone(PathBuf),
}

/// The load from the named paths only, or `None` when the walk must decide (module doc).
/// Nothing in the cache changes before the answer is known.
fn load_named(
    root: &Path,
    cache: &mut LoadCache,
    limits: &LoadLimits,
    changed: &BTreeSet<PathBuf>,
) -> Option<DirLoad> {
    let canonical = root.canonicalize().ok();
    let mut named = BTreeMap::new();
    for path in changed {
        let rel = path
            .strip_prefix(root)
            .ok()
            .or_else(|| path.strip_prefix(canonical.as_ref()?).ok())?;
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(name) => parts.push(name),
                _ => return None,
            }
        }
        if parts.is_empty() {
            return None;
        }
        if parts.iter().any(|p| p.to_string_lossy().starts_with('.')) {
            // The walk skips hidden entries and what is below them.
            continue;
        }
        let path = parts.iter().fold(root.to_path_buf(), |p, c| p.join(c));
        if !files::is_manifest_name(&path) {
            return None;
        }
        let action = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Named::Gone(path.clone()),
            Err(_) => return None,
            Ok(m) if m.is_file() => Named::Read(path.clone(), m.modified().ok(), m.len()),
            Ok(_) => return None,
        };
        // The directories on the way: real ones (a link to a directory is not walked into),
        // or the file is gone with its directory.
        let mut dir = root.to_path_buf();
        for part in &parts[..parts.len() - 1] {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return None,
                Err(_) if matches!(action, Named::Gone(_)) => break,
                Err(_) => return None,
            }
        }
        named.insert(path, action);
    }
    // The total-bytes budget over the whole set: this load must stay under it, so the walk's
    // order of files does not matter.
    let counted = |len: u64| if len <= limits.max_file_bytes { len } else { 0 };
    let mut total: u64 = 0;
    for (path, file) in &cache.files {
        if !named.contains_key(path) {
            total = total.saturating_add(counted(file.len));
        }
    }
    for action in named.values() {
        if let Named::Read(_, _, len) = action {
            total = total.saturating_add(counted(*len));
        }
    }
    if total > limits.max_total_bytes {
        return None;
    }
    let mut budget = Budget::new(limits);
    let mut reads = Vec::new();
    let mut touched = BTreeSet::new();
    for action in named.into_values() {
        match action {
            Named::Read(path, modified, len) => {
                reads.push((FileRead::read(&path, &path, &mut budget), modified, len));
                touched.insert(path);
            }
            Named::Gone(path) => {
                touched.insert(path);
            }
        }
    }
    if !budget.is_untouched_by_limit() {
        return None;
    }
    let mut files: Vec<FileRead> = Vec::with_capacity(reads.len());
    let mut stats = Vec::with_capacity(reads.len());
    for (read, modified, len) in reads {
        files.push(read);
        stats.push((modified, len));
    }
    parse_all(&mut files, limits);
    for path in &touched {
        cache.files.remove(path);
    }
    for (read, (modified, len)) in files.into_iter().zip(stats) {
        let (path, loaded) = read.into_parts();
        cache.files.insert(
            path,
            CachedFile {
                modified,
                len,
                loaded,
            },
        );
    }
    let mut out = Loaded::default();
    for file in cache.files.values() {
        out.append(file.loaded.clone());
    }
    Some(DirLoad {
        loaded: out,
        touched: Some(touched),
    })
}

#[cfg(test)]
#[path = "dir_cache_tests.rs"]
pub(crate) mod tests;
