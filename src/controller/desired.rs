//! The desired state the controller works towards: the documents of the last load, indexed by
//! resource key, with the source revision they came from and the keys whose manifests failed
//! to load ("held": never treated as deleted). Each load makes a new one; reconciles read an
//! `Arc` of it, so a load never changes what a running reconcile sees. The index and the
//! snapshot are maps the versions share ([`crate::source::cow_map`]): a save that touched a
//! few files ([`Desired::next_touched`]) replaces their entries only.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::manifest::escape::Escaped;
use crate::manifest::validate::ValidationCache;
use crate::manifest::{Document, Loaded, ResourceKey};
use crate::source::cow_map::CowMap;
use crate::source::{Baseline, Changes, ContentDigest, Snapshot};

/// Why a held resource is left alone (its status's last error).
pub const HELD_REASON: &str = "its manifest failed to load; left as it is until it loads again";

/// One load of the manifests.
#[derive(Debug, Default)]
pub struct Desired {
    /// Bumped on every load; a plan made under an older generation is not applied.
    pub generation: u64,
    /// Git commit SHA, or `sha256:<12 hex>` of a directory's manifests.
    pub revision: String,
    /// Every document that loaded.
    pub documents: Vec<Document>,
    /// Each key's first document.
    index: CowMap<ResourceKey, Document>,
    /// The load reduced for diffing (content hash per key), kept for the next load.
    baseline: Baseline,
    /// Keys whose manifest failed to load or validate: kept as they are, never deleted.
    pub held: BTreeSet<ResourceKey>,
    /// Documents that failed to load.
    pub manifest_errors: usize,
}

impl Desired {
    /// The desired state of `loaded`, following `previous`. `revision` names the source
    /// revision; `None` derives one from the content. Returns it with what changed.
    pub fn next(
        previous: &Desired,
        loaded: Loaded,
        revision: Option<String>,
    ) -> (Desired, Changes) {
        let (baseline, changes) = Baseline::of(&previous.baseline, &loaded);
        let mut index = CowMap::default();
        for doc in &loaded.documents {
            let key = doc.manifest.key();
            if !index.contains_key(&key) {
                index.insert(key, doc.clone());
            }
        }
        Desired::made(previous, loaded, revision, index, baseline, changes)
    }

    /// [`Desired::next`] of a load that differs from the one `previous` was made of only in
    /// the files `touched` (read again, removed, or with a document validation now fails or
    /// passes) and in what failed: the same result, with the work of those files only.
    pub fn next_touched(
        previous: &Desired,
        loaded: Loaded,
        revision: Option<String>,
        touched: &BTreeSet<PathBuf>,
    ) -> (Desired, Changes) {
        let documents: Vec<&Document> = loaded
            .documents
            .iter()
            .filter(|d| touched.contains(&d.file))
            .collect();
        let Some((baseline, changes)) =
            Baseline::update(&previous.baseline, touched, &documents, &loaded.failed)
        else {
            return Desired::next(previous, loaded, revision);
        };
        let mut index = previous.index.clone();
        for key in previous.baseline.keys_of(touched) {
            index.remove(key);
        }
        for doc in documents {
            index.insert(doc.manifest.key(), doc.clone());
        }
        Desired::made(previous, loaded, revision, index, baseline, changes)
    }

    fn made(
        previous: &Desired,
        loaded: Loaded,
        revision: Option<String>,
        index: CowMap<ResourceKey, Document>,
        baseline: Baseline,
        changes: Changes,
    ) -> (Desired, Changes) {
        // The snapshot carries held keys forward, so a key whose manifest still fails is in
        // `changes.held` again at every load until it loads or is removed.
        let desired = Desired {
            generation: previous.generation + 1,
            revision: revision.unwrap_or_else(|| revision_of(baseline.digest())),
            documents: loaded.documents,
            index,
            baseline,
            held: changes.held.clone(),
            manifest_errors: loaded.failed.len(),
        };
        (desired, changes)
    }

    /// The document of `key`, if it loaded.
    pub fn document(&self, key: &ResourceKey) -> Option<&Document> {
        self.index.get(key)
    }

    /// The documents of `keys` (each key's first), in the order of `keys`; keys with no
    /// document are left out. Looked up in the index: no key is built per document.
    pub fn select<'a>(
        &'a self,
        keys: impl IntoIterator<Item = &'a ResourceKey>,
    ) -> Vec<&'a Document> {
        keys.into_iter().filter_map(|k| self.document(k)).collect()
    }

    /// The content hash of `key`'s manifest (changes when its spec or metadata does).
    pub fn content(&self, key: &ResourceKey) -> Option<&str> {
        self.baseline
            .snapshot
            .resources
            .get(key)
            .map(|entry| entry.content.as_str())
    }

    /// Every key with a document, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &ResourceKey> {
        self.index.sorted_keys().into_iter()
    }

    /// The snapshot of this load (held keys' entries carried), the baseline of the next diff.
    pub fn snapshot(&self) -> &Snapshot {
        &self.baseline.snapshot
    }
}

/// Validates a load and moves every document with an error (its own, or one that names it,
/// by file and line) to `failed`: an invalid manifest is never applied, and, being failed
/// rather than absent, never looks deleted. Every finding is logged with file and line.
pub fn validated(loaded: Loaded) -> Loaded {
    let diagnostics = crate::manifest::validate(&loaded);
    failing_moved(loaded, diagnostics)
}

/// [`validated`] with the per-document findings of earlier loads of the same source kept in
/// `cache` (a save revalidates what it changed; the result is the same).
pub fn validated_with(loaded: Loaded, cache: &mut ValidationCache) -> Loaded {
    let diagnostics = crate::manifest::validate::validate_cached(&loaded, cache);
    failing_moved(loaded, diagnostics)
}

/// The documents validation failed in a source's last load, by file and line.
#[derive(Debug, Default)]
pub struct Failing(BTreeSet<(PathBuf, u32)>);

/// [`validated_with`], also giving the files where validation fails or passes a document
/// it did not in the last load of the source (`failing` keeps what it failed): with the
/// files the load read again, they are every file whose part of the validated load changed.
pub fn validated_tracking(
    loaded: Loaded,
    cache: &mut ValidationCache,
    failing: &mut Failing,
) -> (Loaded, BTreeSet<PathBuf>) {
    let diagnostics = crate::manifest::validate::validate_cached(&loaded, cache);
    let mut now = BTreeSet::new();
    let loaded = failing_moved_with(loaded, diagnostics, |doc| {
        now.insert((doc.file.clone(), doc.line));
    });
    let files = now
        .symmetric_difference(&failing.0)
        .map(|(file, _)| file.clone())
        .collect();
    failing.0 = now;
    (loaded, files)
}

/// Logs `diagnostics` and moves each document with an error to `failed`.
fn failing_moved(loaded: Loaded, diagnostics: Vec<crate::manifest::Diagnostic>) -> Loaded {
    failing_moved_with(loaded, diagnostics, |_| {})
}

/// [`failing_moved`], showing `moved` each document moved.
fn failing_moved_with(
    mut loaded: Loaded,
    diagnostics: Vec<crate::manifest::Diagnostic>,
    mut moved: impl FnMut(&Document),
) -> Loaded {
    for d in &diagnostics {
        // `{d}` escapes control characters itself; the file name field needs it too.
        let file = d.file.display().to_string();
        let file = Escaped(&file);
        if d.is_error() {
            tracing::error!(%file, line = d.line, "{d}");
        } else {
            tracing::warn!(%file, line = d.line, "{d}");
        }
    }
    // The document a finding belongs to: the last one of its file starting at or before it.
    let mut bad = std::collections::BTreeSet::new();
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        let owner = loaded
            .documents
            .iter()
            .enumerate()
            .filter(|(_, doc)| doc.file == d.file && doc.line <= d.line.max(1))
            .max_by_key(|(_, doc)| doc.line)
            .map(|(i, _)| i);
        if let Some(i) = owner {
            bad.insert(i);
        }
    }
    let documents = std::mem::take(&mut loaded.documents);
    for (i, doc) in documents.into_iter().enumerate() {
        if bad.contains(&i) {
            moved(&doc);
            loaded.failed.push(crate::manifest::FailedDocument {
                file: doc.file.clone(),
                line: doc.line,
                identity: Some((
                    doc.manifest.kind().as_str().to_string(),
                    doc.manifest.metadata.name.clone(),
                )),
            });
        } else {
            loaded.documents.push(doc);
        }
    }
    loaded
}

/// `sha256:` and 12 hex digits of the manifests' content: the same set of specs gives the same
/// revision, whatever the formatting, comments or file order.
pub fn content_revision(snapshot: &Snapshot) -> String {
    revision_of(ContentDigest::of(&snapshot.resources))
}

fn revision_of(digest: ContentDigest) -> String {
    format!("sha256:{}", digest.short_hex())
}

#[cfg(test)]
#[path = "desired_incremental_tests.rs"]
mod incremental_tests;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::manifest::{Kind, load_str};

    const CLUSTER: &str =
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec: {}\n";

    fn key() -> ResourceKey {
        ResourceKey {
            kind: Kind::Cluster,
            cluster: None,
            name: "shop".into(),
        }
    }

    #[test]
    fn a_broken_manifest_is_held_not_removed_and_stays_held() {
        let first = load_str(Path::new("c.yaml"), CLUSTER);
        assert!(first.failed.is_empty(), "{:?}", first.diagnostics);
        let (d1, c1) = Desired::next(&Desired::default(), first, None);
        assert!(c1.changed.contains(&key()));
        assert!(d1.document(&key()).is_some());
        assert!(d1.revision.starts_with("sha256:"));

        let broken = load_str(
            Path::new("c.yaml"),
            "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec:\n  nope: 1\n",
        );
        let (d2, c2) = Desired::next(&d1, broken, None);
        assert!(c2.removed.is_empty());
        assert!(d2.held.contains(&key()));
        assert!(d2.document(&key()).is_none());
        assert_eq!(d2.generation, 2);

        // Another unrelated reload while still broken: still held, not removed.
        let still = load_str(
            Path::new("c.yaml"),
            "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec:\n  nope: 2\n",
        );
        let (d3, c3) = Desired::next(&d2, still, None);
        assert!(c3.removed.is_empty());
        assert!(d3.held.contains(&key()));

        // Fixed: back, and no longer held.
        let fixed = load_str(Path::new("c.yaml"), CLUSTER);
        let (d4, _) = Desired::next(&d3, fixed, None);
        assert!(d4.held.is_empty());
        assert_eq!(d4.revision, d1.revision, "same content, same revision");
    }
}
