//! A snapshot of one manifest load and the diff between two of them (pure).
//!
//! A snapshot records, per resource key, a content hash of its manifest, its file and the keys
//! it references (a Service: its Cluster and the TargetGroup manifests it names), plus what
//! failed to load. [`diff`] turns two snapshots into the keys to reconcile and to delete.
//!
//! Product rule: a manifest that fails to load never looks like a deleted resource. A key that
//! disappeared while a document with its kind and name (or, when the identity could not be
//! read, any document of its file) failed to load is `held`, not `removed`.
//!
//! A [`Baseline`] is the snapshot kept from one load to the next, with the keys of each file
//! and the digest of the content revision: [`Baseline::update`] replaces the entries of the
//! files a save touched and gives the same baseline and changes as [`Baseline::of`] (the
//! snapshot and [`diff`] of the whole load), in work proportional to those files.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::cow_map::CowMap;
use crate::manifest::hash::content_hash as hash;
use crate::manifest::{Document, FailedDocument, Kind, Loaded, ResourceKey, Spec};

/// What a snapshot knows about one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable hash of the manifest's metadata and spec (not of its formatting or comments).
    pub content: String,
    /// The file it was loaded from (a move between files counts as a change: the source tag
    /// on the AWS resource names the file).
    pub file: PathBuf,
    /// Keys of other manifests it depends on.
    pub references: BTreeSet<ResourceKey>,
}

/// One load, reduced to what a diff needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Resources that loaded.
    pub resources: CowMap<ResourceKey, Entry>,
    /// `(kind, name)` of documents that failed to load, as written in the document.
    pub failed: BTreeSet<(String, String)>,
    /// Files with a failed document whose kind or name could not be read (or that could not
    /// be read at all).
    pub failed_files: BTreeSet<PathBuf>,
}

/// What changed between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Added, changed (content or file), or referencing a TargetGroup or Cluster that was
    /// added, changed or removed: reconcile these.
    pub changed: BTreeSet<ResourceKey>,
    /// Gone from the new load with no failed document that could be them: delete these (if
    /// pruning is on).
    pub removed: BTreeSet<ResourceKey>,
    /// Gone from the new load, but a document that may be them failed to load: leave alone
    /// and report as unknown.
    pub held: BTreeSet<ResourceKey>,
    /// `(kind, name)` of every document that failed in the new load.
    pub failed: BTreeSet<(String, String)>,
}

impl Changes {
    /// True when there is nothing to reconcile or delete.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

impl Snapshot {
    /// The snapshot of a load.
    pub fn of(loaded: &Loaded) -> Snapshot {
        Snapshot::from_parts(&loaded.documents, &loaded.failed)
    }

    /// The snapshot of loaded and failed documents.
    pub fn from_parts(documents: &[Document], failed: &[FailedDocument]) -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.set_failed(failed);
        for doc in documents {
            let entry = entry_of(doc);
            let key = doc.manifest.key();
            match snapshot.resources.get_mut(&key) {
                // A duplicate key (validation reports it): depend on both documents, so a change
                // to either is seen.
                Some(existing) => {
                    existing.content = hash(&(&existing.content, &entry.content));
                    existing.references.extend(entry.references);
                }
                None => {
                    snapshot.resources.insert(key, entry);
                }
            }
        }
        snapshot
    }

    /// Records what failed to load (replacing what was recorded).
    fn set_failed(&mut self, failed: &[FailedDocument]) {
        self.failed.clear();
        self.failed_files.clear();
        for f in failed {
            match &f.identity {
                Some(identity) => {
                    self.failed.insert(identity.clone());
                }
                None => {
                    self.failed_files.insert(f.file.clone());
                }
            }
        }
    }

    /// True when a failed document of this snapshot may be the resource `key`, last seen in
    /// `file`.
    pub fn may_have_failed(&self, key: &ResourceKey, file: &PathBuf) -> bool {
        self.failed_files.contains(file)
            || self
                .failed
                .iter()
                .any(|(kind, name)| kind == key.kind.as_str() && *name == key.name)
    }

    /// The baseline for the next diff: this snapshot plus the old entries of `held` keys, so
    /// a resource whose document is broken and then deleted is still seen as removed, and one
    /// fixed without a change is not reconciled again.
    pub fn carry_held(mut self, old: &Snapshot, changes: &Changes) -> Snapshot {
        for key in &changes.held {
            if let Some(entry) = old.resources.get(key)
                && !self.resources.contains_key(key)
            {
                self.resources.insert(key.clone(), entry.clone());
            }
        }
        self
    }
}

fn entry_of(doc: &Document) -> Entry {
    let m = &doc.manifest;
    let mut references = BTreeSet::new();
    match &m.spec {
        Spec::Cluster(_) | Spec::TargetGroup(_) => {}
        Spec::ListenerRule(s) => {
            for tg in s.actions.iter().filter_map(|a| a.forward_config.as_ref()) {
                for name in tg
                    .target_groups
                    .iter()
                    .filter_map(|t| t.target_group_name.as_ref())
                {
                    references.insert(ResourceKey {
                        kind: Kind::TargetGroup,
                        cluster: None,
                        name: name.clone(),
                    });
                }
            }
        }
        Spec::Service(s) => {
            references.insert(ResourceKey {
                kind: Kind::Cluster,
                cluster: None,
                name: s.cluster.clone(),
            });
            for lb in &s.load_balancers {
                if let Some(tg) = &lb.target_group {
                    references.insert(ResourceKey {
                        kind: Kind::TargetGroup,
                        cluster: None,
                        name: tg.clone(),
                    });
                }
            }
        }
    }
    Entry {
        content: doc.content_hash().to_string(),
        file: doc.file.clone(),
        references,
    }
}

/// The changes from `old` to `new`.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Changes {
    let mut changes = Changes {
        failed: new.failed.clone(),
        ..Changes::default()
    };
    let gone = |key: &ResourceKey, entry: &Entry, changes: &mut Changes| {
        if new.may_have_failed(key, &entry.file) {
            changes.held.insert(key.clone());
        } else {
            changes.removed.insert(key.clone());
        }
    };
    // A key is in the same shard of both maps, and a shard is in key order: one walk over
    // each pair of shards.
    for (olds, news) in old.resources.shard_pairs(&new.resources) {
        let mut olds = olds.iter().peekable();
        for (key, entry) in news {
            while let Some((o, e)) = olds.next_if(|(o, _)| *o < key) {
                gone(o, e, &mut changes);
            }
            let same = olds
                .next_if(|(o, _)| *o == key)
                .is_some_and(|(_, o)| same_entry(o, entry));
            if !same {
                changes.changed.insert(key.clone());
            }
        }
        for (o, e) in olds {
            gone(o, e, &mut changes);
        }
    }
    add_dependents(new, &BTreeSet::new(), &mut changes);
    changes
}

/// True when a resource is unchanged: same content from the same file.
fn same_entry(old: &Entry, new: &Entry) -> bool {
    old.content == new.content && old.file == new.file
}

/// Adds to `changes.changed` every resource of `new` (but those in `skip`) that references a
/// changed or removed one. Only TargetGroup and Cluster manifests are referenced: when none of
/// those changed, nothing is walked.
fn add_dependents(new: &Snapshot, skip: &BTreeSet<ResourceKey>, changes: &mut Changes) {
    let referenced = |k: &ResourceKey| matches!(k.kind, Kind::TargetGroup | Kind::Cluster);
    if !changes
        .changed
        .iter()
        .chain(&changes.removed)
        .any(referenced)
    {
        return;
    }
    let dependents: Vec<ResourceKey> = new
        .resources
        .iter()
        .filter(|(k, _)| !skip.contains(*k))
        .filter(|(_, e)| {
            e.references
                .iter()
                .any(|r| changes.changed.contains(r) || changes.removed.contains(r))
        })
        .map(|(k, _)| k.clone())
        .collect();
    changes.changed.extend(dependents);
}

/// An order-independent digest of a snapshot's `(key, content)` pairs: the wrapping sum of
/// each pair's SHA-256, so an entry is added or taken out without hashing the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentDigest([u64; 4]);

impl ContentDigest {
    /// The digest of every entry of `resources`.
    pub fn of(resources: &CowMap<ResourceKey, Entry>) -> ContentDigest {
        let mut digest = ContentDigest::default();
        for (key, entry) in resources.iter() {
            digest.add(key, &entry.content);
        }
        digest
    }

    fn lanes(key: &ResourceKey, content: &str) -> [u64; 4] {
        let json = serde_json::to_vec(&(key, content)).unwrap_or_default();
        let sum = Sha256::digest(&json);
        std::array::from_fn(|i| {
            u64::from_le_bytes(sum[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
        })
    }

    fn add(&mut self, key: &ResourceKey, content: &str) {
        for (lane, v) in self.0.iter_mut().zip(Self::lanes(key, content)) {
            *lane = lane.wrapping_add(v);
        }
    }

    fn subtract(&mut self, key: &ResourceKey, content: &str) {
        for (lane, v) in self.0.iter_mut().zip(Self::lanes(key, content)) {
            *lane = lane.wrapping_sub(v);
        }
    }

    /// 12 hex digits of the SHA-256 of the digest.
    pub fn short_hex(&self) -> String {
        let bytes: Vec<u8> = self.0.iter().flat_map(|l| l.to_le_bytes()).collect();
        Sha256::digest(&bytes)
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The snapshot kept between loads, with what updating it in place needs (module doc).
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The last load's snapshot, held keys' entries carried ([`Snapshot::carry_held`]).
    pub snapshot: Snapshot,
    /// The keys of each file's loaded documents.
    by_file: CowMap<PathBuf, Arc<[ResourceKey]>>,
    /// The keys carried because they are held (the last load's `changes.held`).
    held: BTreeSet<ResourceKey>,
    /// Two loaded documents had one key (validation fails the second, so only an unvalidated
    /// load has this): the next load is snapshotted whole.
    duplicates: bool,
    /// The digest of `snapshot.resources`.
    digest: ContentDigest,
}

impl Baseline {
    /// The baseline of `loaded` following `previous`, from the whole load, with the changes.
    pub fn of(previous: &Baseline, loaded: &Loaded) -> (Baseline, Changes) {
        let snapshot = Snapshot::of(loaded);
        let changes = diff(&previous.snapshot, &snapshot);
        let snapshot = snapshot.carry_held(&previous.snapshot, &changes);
        let mut by_file: std::collections::BTreeMap<&PathBuf, Vec<ResourceKey>> =
            Default::default();
        let mut keys = BTreeSet::new();
        let mut duplicates = false;
        for doc in &loaded.documents {
            let key = doc.manifest.key();
            duplicates |= !keys.insert(key.clone());
            by_file.entry(&doc.file).or_default().push(key);
        }
        let baseline = Baseline {
            digest: ContentDigest::of(&snapshot.resources),
            snapshot,
            by_file: by_file
                .into_iter()
                .map(|(file, keys)| (file.clone(), Arc::from(keys)))
                .collect(),
            held: changes.held.clone(),
            duplicates,
        };
        (baseline, changes)
    }

    /// [`Baseline::of`] for a load that differs from the one `previous` was made of only in
    /// the documents of `touched` files (`documents`: those files' loaded documents, in load
    /// order) and in what failed (`failed`: all of it). `None` when a key is loaded twice:
    /// the caller takes the whole load.
    pub fn update(
        previous: &Baseline,
        touched: &BTreeSet<PathBuf>,
        documents: &[&Document],
        failed: &[FailedDocument],
    ) -> Option<(Baseline, Changes)> {
        if previous.duplicates {
            return None;
        }
        let mut next = previous.clone();
        next.snapshot.set_failed(failed);
        // Every key of the touched files, and every held key, is gone unless loaded again.
        let mut gone: BTreeSet<ResourceKey> = previous.held.clone();
        for file in touched {
            if let Some(keys) = next.by_file.remove(file) {
                gone.extend(keys.iter().cloned());
            }
        }
        for key in &gone {
            if let Some(entry) = next.snapshot.resources.remove(key) {
                next.digest.subtract(key, &entry.content);
            }
        }
        let mut changes = Changes {
            failed: next.snapshot.failed.clone(),
            ..Changes::default()
        };
        let mut by_file: std::collections::BTreeMap<&PathBuf, Vec<ResourceKey>> =
            Default::default();
        for doc in documents {
            let key = doc.manifest.key();
            if next.snapshot.resources.contains_key(&key) {
                return None;
            }
            let entry = entry_of(doc);
            gone.remove(&key);
            if !previous
                .snapshot
                .resources
                .get(&key)
                .is_some_and(|old| same_entry(old, &entry))
            {
                changes.changed.insert(key.clone());
            }
            next.digest.add(&key, &entry.content);
            next.snapshot.resources.insert(key.clone(), entry);
            by_file.entry(&doc.file).or_default().push(key);
        }
        for (file, keys) in by_file {
            next.by_file.insert(file.clone(), Arc::from(keys));
        }
        for key in gone {
            // Each gone key was in the previous snapshot (a file's or a held one).
            let old = previous.snapshot.resources.get(&key)?;
            if next.snapshot.may_have_failed(&key, &old.file) {
                next.digest.add(&key, &old.content);
                next.snapshot.resources.insert(key.clone(), old.clone());
                changes.held.insert(key);
            } else {
                changes.removed.insert(key);
            }
        }
        add_dependents(&next.snapshot, &changes.held.clone(), &mut changes);
        next.held = changes.held.clone();
        Some((next, changes))
    }

    /// The keys of the documents the files `files` loaded.
    pub fn keys_of<'a>(
        &'a self,
        files: &'a BTreeSet<PathBuf>,
    ) -> impl Iterator<Item = &'a ResourceKey> {
        files
            .iter()
            .filter_map(|f| self.by_file.get(f))
            .flat_map(|keys| keys.iter())
    }

    /// The digest of the snapshot's content.
    pub fn digest(&self) -> ContentDigest {
        self.digest
    }
}
