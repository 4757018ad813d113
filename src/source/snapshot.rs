//! A snapshot of one manifest load and the diff between two of them (pure).
//!
//! A snapshot records, per resource key, a content hash of its manifest, its file and the keys
//! it references (a Service: its Cluster and the TargetGroup manifests it names), plus what
//! failed to load. [`diff`] turns two snapshots into the keys to reconcile and to delete.
//!
//! Product rule: a manifest that fails to load never looks like a deleted resource. A key that
//! disappeared while a document with its kind and name (or, when the identity could not be
//! read, any document of its file) failed to load is `held`, not `removed`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

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
    pub resources: BTreeMap<ResourceKey, Entry>,
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
        for f in failed {
            match &f.identity {
                Some(identity) => {
                    snapshot.failed.insert(identity.clone());
                }
                None => {
                    snapshot.failed_files.insert(f.file.clone());
                }
            }
        }
        snapshot
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
            if let Some(entry) = old.resources.get(key) {
                self.resources
                    .entry(key.clone())
                    .or_insert_with(|| entry.clone());
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
    // Both maps are in key order: one walk over the two.
    let mut olds = old.resources.iter().peekable();
    let gone = |key: &ResourceKey, entry: &Entry, changes: &mut Changes| {
        if new.may_have_failed(key, &entry.file) {
            changes.held.insert(key.clone());
        } else {
            changes.removed.insert(key.clone());
        }
    };
    for (key, entry) in &new.resources {
        while let Some((o, e)) = olds.next_if(|(o, _)| *o < key) {
            gone(o, e, &mut changes);
        }
        let same = olds
            .next_if(|(o, _)| *o == key)
            .is_some_and(|(_, o)| o.content == entry.content && o.file == entry.file);
        if !same {
            changes.changed.insert(key.clone());
        }
    }
    for (o, e) in olds {
        gone(o, e, &mut changes);
    }
    let dependents: Vec<ResourceKey> = new
        .resources
        .iter()
        .filter(|(_, e)| {
            e.references
                .iter()
                .any(|r| changes.changed.contains(r) || changes.removed.contains(r))
        })
        .map(|(k, _)| k.clone())
        .collect();
    changes.changed.extend(dependents);
    changes
}
