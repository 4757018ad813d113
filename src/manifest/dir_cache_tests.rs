//! The directory cache against a fresh load: through edits, in order, and, given the paths
//! a watcher would name, through random sequences of edits, creations, removals, renames,
//! broken files and directory moves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;
use crate::manifest::load_paths;

type Summary = (
    usize,
    Vec<(PathBuf, u32, String, String)>,
    Vec<String>,
    Vec<(PathBuf, u32, Option<(String, String)>)>,
);

fn summary(l: &Loaded) -> Summary {
    (
        l.files,
        l.documents
            .iter()
            .map(|d| {
                (
                    d.file.clone(),
                    d.line,
                    d.manifest.metadata.name.clone(),
                    d.content_hash().to_string(),
                )
            })
            .collect(),
        l.diagnostics.iter().map(|d| d.to_string()).collect(),
        l.failed
            .iter()
            .map(|f| (f.file.clone(), f.line, f.identity.clone()))
            .collect(),
    )
}

#[test]
fn the_cached_directory_load_equals_a_fresh_one_through_edits() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |name: &str| {
        format!(
            "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: {name}\nspec: {{}}\n"
        )
    };
    std::fs::write(dir.path().join("a.yaml"), doc("a")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/b.yaml"), doc("b")).unwrap();
    std::fs::write(dir.path().join(".hidden.yaml"), doc("h")).unwrap();
    let mut cache = LoadCache::default();
    let root = dir.path().to_path_buf();
    let check = |cache: &mut LoadCache| {
        let cached = load_dir_cached(&root, cache);
        let fresh = load_paths(std::slice::from_ref(&root));
        assert_eq!(summary(&cached), summary(&fresh));
        cached
    };
    assert_eq!(check(&mut cache).documents.len(), 2);
    // Edit one (a different size, so even a coarse clock sees it), add one, break one.
    std::fs::write(dir.path().join("a.yaml"), doc("a-renamed")).unwrap();
    std::fs::write(dir.path().join("c.yml"), doc("c")).unwrap();
    std::fs::write(dir.path().join("sub/b.yaml"), "kind: [").unwrap();
    let l = check(&mut cache);
    assert_eq!(l.documents.len(), 2);
    assert!(
        l.documents
            .iter()
            .any(|d| d.manifest.metadata.name == "a-renamed")
    );
    assert_eq!(l.failed.len(), 1);
    // Remove one: gone from the load and from the cache.
    std::fs::remove_file(dir.path().join("c.yml")).unwrap();
    assert_eq!(check(&mut cache).documents.len(), 1);
    assert_eq!(cache.files.len(), 2);
}

#[test]
fn a_directory_load_is_the_cached_load_in_the_same_order() {
    const FILES: usize = 192;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..FILES {
        let text = if i % 17 == 5 {
            "kind: [".to_string()
        } else {
            format!(
                "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: c{i}\nspec: {{}}\n"
            )
        };
        std::fs::write(dir.path().join(format!("f{i:03}.yaml")), text).unwrap();
    }
    let root = dir.path().to_path_buf();
    let direct = load_paths(std::slice::from_ref(&root));
    let cached = load_dir_cached(&root, &mut LoadCache::default());
    assert_eq!(summary(&direct), summary(&cached));
    assert_eq!(direct.files, FILES);
    let names: Vec<&str> = direct
        .documents
        .iter()
        .map(|d| d.manifest.metadata.name.as_str())
        .collect();
    let want: Vec<String> = (0..FILES)
        .filter(|i| i % 17 != 5)
        .map(|i| format!("c{i}"))
        .collect();
    assert_eq!(names, want, "parsed on every core, joined in file order");
    assert!(!direct.failed.is_empty());
    // Kept and re-read files interleaved: still the direct load, in order.
    let mut cache = LoadCache::default();
    load_dir_cached(&root, &mut cache);
    for i in (0..FILES).step_by(10) {
        let text = format!(
            "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: renamed{i}\nspec: {{}}\n"
        );
        std::fs::write(dir.path().join(format!("f{i:03}.yaml")), text).unwrap();
    }
    let direct = load_paths(std::slice::from_ref(&root));
    assert_eq!(
        summary(&direct),
        summary(&load_dir_cached(&root, &mut cache))
    );
    assert_eq!(direct.documents[0].manifest.metadata.name, "renamed0");
}

/// One step of the random sequences below (and of the desired state's), with the paths a
/// watcher names for it.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Writes a file (its text drawn from the three numbers), creating its directory.
    Write(usize, usize, [u8; 3]),
    /// Removes a file.
    Remove(usize, usize),
    /// Renames a file (into another directory).
    Rename(usize, usize, usize, usize),
    /// Removes a directory with what is in it.
    RemoveDir(usize),
    /// Moves a directory to another name.
    MoveDir(usize, usize),
    /// Writes a hidden file (never read, never named by the watcher).
    Hidden(usize),
    /// Adds or removes a link to a file (the load must walk while it exists).
    Link(usize, usize),
}

const DIRS: [&str; 4] = ["", "a", "b", "b/c"];

/// A random step.
pub(crate) fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let d = 0..DIRS.len();
    let f = 0usize..4;
    prop_oneof![
        6 => (d.clone(), f.clone(), any::<[u8; 3]>()).prop_map(|(d, f, seed)| Op::Write(d, f, seed)),
        2 => (d.clone(), f.clone()).prop_map(|(d, f)| Op::Remove(d, f)),
        2 => (d.clone(), f.clone(), d.clone(), f.clone()).prop_map(|(a, b, c, e)| Op::Rename(a, b, c, e)),
        1 => (1..DIRS.len()).prop_map(Op::RemoveDir),
        1 => (1..DIRS.len(), 1..DIRS.len()).prop_map(|(a, b)| Op::MoveDir(a, b)),
        1 => d.clone().prop_map(Op::Hidden),
        1 => (d, f).prop_map(|(d, f)| Op::Link(d, f)),
    ]
}

/// Runs `op` in `root` and returns the paths a watcher names for it. `text` makes a file's
/// text from a write's numbers and a padding of a new length at every write (so the walk's
/// size check sees each write too).
pub(crate) fn run(
    root: &Path,
    op: &Op,
    writes: &mut usize,
    text: impl Fn([u8; 3], &str) -> String,
) -> BTreeSet<PathBuf> {
    let file = |d: usize, f: usize| root.join(DIRS[d]).join(format!("f{f}.yaml"));
    let mut named = BTreeSet::new();
    match *op {
        Op::Write(d, f, seed) => {
            let dir = root.join(DIRS[d]);
            if !dir.is_dir() {
                std::fs::create_dir_all(&dir).unwrap();
                named.insert(dir);
            }
            *writes += 1;
            std::fs::write(file(d, f), text(seed, &"x".repeat(*writes))).unwrap();
            named.insert(file(d, f));
        }
        Op::Remove(d, f) => {
            if std::fs::remove_file(file(d, f)).is_ok() {
                named.insert(file(d, f));
            }
        }
        Op::Rename(d1, f1, d2, f2) => {
            if root.join(DIRS[d2]).is_dir() && std::fs::rename(file(d1, f1), file(d2, f2)).is_ok() {
                named.extend([file(d1, f1), file(d2, f2)]);
            }
        }
        Op::RemoveDir(d) => {
            if std::fs::remove_dir_all(root.join(DIRS[d])).is_ok() {
                named.insert(root.join(DIRS[d]));
            }
        }
        Op::MoveDir(d1, d2) => {
            let (from, to) = (root.join(DIRS[d1]), root.join(DIRS[d2]));
            if !to.exists() && !to.starts_with(&from) && std::fs::rename(&from, &to).is_ok() {
                named.extend([from, to]);
            }
        }
        Op::Hidden(d) => {
            let dir = root.join(DIRS[d]);
            if dir.is_dir() {
                std::fs::write(dir.join(".swap.yaml"), "kind: [").unwrap();
            }
        }
        Op::Link(d, f) => {
            let link = root.join(format!("link{d}{f}.yaml"));
            if std::fs::symlink_metadata(&link).is_ok() {
                std::fs::remove_file(&link).unwrap();
            } else {
                #[cfg(unix)]
                std::os::unix::fs::symlink(file(d, f), &link).unwrap();
            }
            named.insert(link);
        }
    }
    named
}

/// Each file's part of a load, to tell which files a step changed.
fn by_file(l: &Loaded) -> std::collections::BTreeMap<PathBuf, Vec<String>> {
    let mut files: std::collections::BTreeMap<PathBuf, Vec<String>> = Default::default();
    for d in &l.documents {
        files
            .entry(d.file.clone())
            .or_default()
            .push(format!("{} {}", d.line, d.content_hash()));
    }
    for f in &l.failed {
        files
            .entry(f.file.clone())
            .or_default()
            .push(format!("failed {} {:?}", f.line, f.identity));
    }
    for d in &l.diagnostics {
        files.entry(d.file.clone()).or_default().push(d.to_string());
    }
    files
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Loading only the paths a watcher named gives, at every step, what a load of the whole
    /// directory gives, and names every file whose part of the load changed.
    #[test]
    fn loading_the_named_paths_equals_a_full_load(
        ops in proptest::collection::vec(op(), 1..24),
        tight in proptest::bool::weighted(0.25),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let limits = LoadLimits {
            // Tight: a few files fill the total-bytes budget.
            max_total_bytes: if tight { 700 } else { LoadLimits::default().max_total_bytes },
            ..LoadLimits::default()
        };
        let mut cache = LoadCache::default();
        let mut writes = 0;
        // A cluster, or (one in five) a broken document.
        let text = |[name, broken, _]: [u8; 3], pad: &str| {
            if broken % 5 != 0 {
                format!(
                    "# {pad}\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: c{name}\nspec: {{}}\n"
                )
            } else {
                format!("# {pad}\nkind: Cluster\nmetadata: {{name: c{name}}}\nspec: [\n")
            }
        };
        let first = load_dir_changes_with(&root, &mut cache, &limits, None);
        proptest::prop_assert!(first.touched.is_none());
        let mut before = by_file(&first.loaded);
        for op in &ops {
            let named = run(&root, op, &mut writes, text);
            let got = load_dir_changes_with(&root, &mut cache, &limits, Some(&named));
            let fresh = load_paths_with(std::slice::from_ref(&root), &limits);
            proptest::prop_assert_eq!(summary(&got.loaded), summary(&fresh), "{:?}", op);
            let after = by_file(&fresh);
            let touched = got.touched.expect("a warm cache names what it touched");
            for file in before.keys().chain(after.keys()) {
                if before.get(file) != after.get(file) {
                    proptest::prop_assert!(
                        touched.contains(file),
                        "{:?} changed but is not touched by {:?}",
                        file,
                        op
                    );
                }
            }
            before = after;
        }
    }
}
