//! Snapshot diff tables (pure) and watcher tests against a real temporary directory (real
//! filesystem events, so real time with bounded waits).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::snapshot::{Snapshot, diff};
use super::{DirWatcher, watch};
use crate::manifest::{Document, FailedDocument, Kind, ResourceKey, load_str};

const CLUSTER: &str = "\
apiVersion: ecs-operator/v1
kind: Cluster
metadata: {name: shop}
spec:
  capacityProviders: [FARGATE]
";

const TG: &str = "\
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: shop-api}
spec:
  protocol: HTTP
  port: 8000
  vpcId: vpc-1
  targetType: ip
";

const API: &str = "\
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: 2
  launchType: FARGATE
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - name: api
        image: api:1.0.0
        portMappings: [{containerPort: 8000}]
  networkConfiguration:
    awsvpcConfiguration: {subnets: [subnet-a]}
  loadBalancers:
    - {targetGroup: shop-api, containerName: api, containerPort: 8000}
";

const WORKER: &str = "\
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: worker}
spec:
  cluster: shop
  desiredCount: 1
  launchType: FARGATE
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - {name: worker, image: 'worker:1'}
  networkConfiguration:
    awsvpcConfiguration: {subnets: [subnet-a]}
";

/// A Service document that names itself but does not decode.
const API_BROKEN: &str = "\
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: lots
";

/// Loads each `(file, text)` and snapshots them together.
fn snap(files: &[(&str, &str)]) -> Snapshot {
    let mut documents: Vec<Document> = Vec::new();
    let mut failed: Vec<FailedDocument> = Vec::new();
    for (file, text) in files {
        let loaded = load_str(Path::new(file), text);
        documents.extend(loaded.documents);
        failed.extend(loaded.failed);
    }
    Snapshot::from_parts(&documents, &failed)
}

fn service(name: &str) -> ResourceKey {
    ResourceKey {
        kind: Kind::Service,
        cluster: Some("shop".into()),
        name: name.into(),
    }
}

fn key(kind: Kind, name: &str) -> ResourceKey {
    ResourceKey {
        kind,
        cluster: None,
        name: name.into(),
    }
}

fn keys(list: &[ResourceKey]) -> BTreeSet<ResourceKey> {
    list.iter().cloned().collect()
}

fn base() -> Vec<(&'static str, String)> {
    vec![
        ("cluster.yaml", CLUSTER.to_string()),
        ("tg.yaml", TG.to_string()),
        ("api.yaml", API.to_string()),
        ("worker.yaml", WORKER.to_string()),
    ]
}

fn snap_owned(files: &[(&'static str, String)]) -> Snapshot {
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    snap(&borrowed)
}

#[test]
fn the_base_fixtures_all_load() {
    let s = snap_owned(&base());
    assert_eq!(s.resources.len(), 4, "{s:?}");
    assert!(s.failed.is_empty() && s.failed_files.is_empty());
    assert_eq!(
        s.resources[&service("api")].references,
        keys(&[
            key(Kind::Cluster, "shop"),
            key(Kind::TargetGroup, "shop-api")
        ])
    );
}

#[test]
fn diff_table() {
    struct Case {
        name: &'static str,
        edit: fn(&mut Vec<(&'static str, String)>),
        changed: Vec<ResourceKey>,
        removed: Vec<ResourceKey>,
        held: Vec<ResourceKey>,
    }
    let cases = vec![
        Case {
            name: "nothing changed reports nothing",
            edit: |_| {},
            changed: vec![],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "a comment or reformatting is not a change",
            edit: |f| f[3].1 = format!("# the worker\n{}\n\n", f[3].1),
            changed: vec![],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "an added document is changed",
            edit: |f| f.push(("web.yaml", API.replace("name: api}", "name: web}"))),
            changed: vec![service("web")],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "an edited spec changes only that resource",
            edit: |f| f[3].1 = f[3].1.replace("desiredCount: 1", "desiredCount: 3"),
            changed: vec![service("worker")],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "a document moved to another file is changed",
            edit: |f| f[3].0 = "workers/worker.yaml",
            changed: vec![service("worker")],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "a deleted document is removed",
            edit: |f| {
                f.remove(3);
            },
            changed: vec![],
            removed: vec![service("worker")],
            held: vec![],
        },
        Case {
            name: "a changed target group also changes the services that use it",
            edit: |f| f[1].1 = f[1].1.replace("port: 8000", "port: 8080"),
            changed: vec![key(Kind::TargetGroup, "shop-api"), service("api")],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "a changed cluster also changes every service in it",
            edit: |f| f[0].1 = f[0].1.replace("[FARGATE]", "[FARGATE, FARGATE_SPOT]"),
            changed: vec![
                key(Kind::Cluster, "shop"),
                service("api"),
                service("worker"),
            ],
            removed: vec![],
            held: vec![],
        },
        Case {
            name: "a removed target group changes the services that used it",
            edit: |f| {
                f.remove(1);
            },
            changed: vec![service("api")],
            removed: vec![key(Kind::TargetGroup, "shop-api")],
            held: vec![],
        },
        Case {
            name: "a broken document is held and never removed",
            edit: |f| f[2].1 = API_BROKEN.to_string(),
            changed: vec![],
            removed: vec![],
            held: vec![service("api")],
        },
        Case {
            name: "an unreadable document is held by its file and never removed",
            edit: |f| f[3].1 = "kind: [unclosed\n".to_string(),
            changed: vec![],
            removed: vec![],
            held: vec![service("worker")],
        },
    ];
    let old = snap_owned(&base());
    for case in cases {
        let mut files = base();
        (case.edit)(&mut files);
        let new = snap_owned(&files);
        let changes = diff(&old, &new);
        assert_eq!(
            changes.changed,
            keys(&case.changed),
            "{}: changed",
            case.name
        );
        assert_eq!(
            changes.removed,
            keys(&case.removed),
            "{}: removed",
            case.name
        );
        assert_eq!(changes.held, keys(&case.held), "{}: held", case.name);
    }
}

#[test]
fn a_broken_document_is_reported_as_failed_by_kind_and_name() {
    let mut files = base();
    files[2].1 = API_BROKEN.to_string();
    let changes = diff(&snap_owned(&base()), &snap_owned(&files));
    assert_eq!(
        changes.failed,
        [("Service".to_string(), "api".to_string())].into()
    );
    assert!(!changes.removed.contains(&service("api")));
}

#[test]
fn everything_is_changed_against_an_empty_snapshot() {
    let changes = diff(&Snapshot::default(), &snap_owned(&base()));
    assert_eq!(changes.changed.len(), 4);
    assert!(changes.removed.is_empty());
}

#[test]
fn a_held_resource_deleted_after_it_broke_is_removed_once_carried_over() {
    let good = snap_owned(&base());
    let mut broken_files = base();
    broken_files[2].1 = API_BROKEN.to_string();
    let broken = snap_owned(&broken_files);
    let changes = diff(&good, &broken);
    let baseline = broken.carry_held(&good, &changes);

    // Fixed without a change: nothing to do.
    assert!(diff(&baseline, &good).is_empty());
    // Deleted while broken: now it is removed.
    let mut deleted = base();
    deleted.remove(2);
    let changes = diff(&baseline, &snap_owned(&deleted));
    assert_eq!(changes.removed, keys(&[service("api")]));
}

// ---- the watcher, on real time ----

const DEBOUNCE: Duration = Duration::from_millis(100);
/// Generous: the CI machine may be slow to deliver events.
const EXPECT: Duration = Duration::from_secs(5);
/// Long enough that a second burst would have settled and been reported.
const QUIET: Duration = Duration::from_millis(700);

fn dir_with_manifest() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.yaml"), API).unwrap();
    std::fs::create_dir(dir.path().join("team")).unwrap();
    std::fs::write(dir.path().join("team/worker.yaml"), WORKER).unwrap();
    dir
}

async fn expect_change(w: &mut DirWatcher, what: &str) -> super::Change {
    tokio::time::timeout(EXPECT, w.changed())
        .await
        .unwrap_or_else(|_| panic!("{what}: no change reported within {EXPECT:?}"))
        .unwrap()
}

async fn expect_quiet(w: &mut DirWatcher, what: &str) {
    if let Ok(change) = tokio::time::timeout(QUIET, w.changed()).await {
        panic!("{what}: unexpected change {change:?}");
    }
}

#[tokio::test]
async fn watching_a_file_is_refused() {
    let dir = dir_with_manifest();
    let err = watch(dir.path().join("api.yaml"), DEBOUNCE).unwrap_err();
    assert!(matches!(err, super::SourceError::NotADirectory(_)), "{err}");
}

#[tokio::test]
async fn a_file_write_triggers_once() {
    let dir = dir_with_manifest();
    let mut w = watch(dir.path(), DEBOUNCE).unwrap();
    std::fs::write(dir.path().join("api.yaml"), API.replace("2", "3")).unwrap();
    let change = expect_change(&mut w, "write").await;
    assert!(
        change.paths.iter().any(|p| p.ends_with("api.yaml")),
        "{change:?}"
    );
    expect_quiet(&mut w, "after one write").await;
}

#[tokio::test]
async fn a_write_in_a_subdirectory_triggers() {
    let dir = dir_with_manifest();
    let mut w = watch(dir.path(), DEBOUNCE).unwrap();
    std::fs::write(
        dir.path().join("team/worker.yaml"),
        WORKER.replace("1", "2"),
    )
    .unwrap();
    expect_change(&mut w, "nested write").await;
    expect_quiet(&mut w, "after one nested write").await;
}

#[tokio::test]
async fn a_save_by_writing_a_temp_file_and_renaming_it_triggers_once() {
    let dir = dir_with_manifest();
    let mut w = watch(dir.path(), DEBOUNCE).unwrap();
    // vim-style: a backup, a temp file, a rename over the original, the backup removed.
    let original = dir.path().join("api.yaml");
    std::fs::copy(&original, dir.path().join("api.yaml~")).unwrap();
    let temp = dir.path().join("api.yaml.tmp.4913");
    std::fs::write(&temp, API.replace("2", "4")).unwrap();
    std::fs::rename(&temp, &original).unwrap();
    std::fs::remove_file(dir.path().join("api.yaml~")).unwrap();
    expect_change(&mut w, "save by rename").await;
    expect_quiet(&mut w, "after one save by rename").await;
}

#[tokio::test]
async fn swap_files_and_non_yaml_files_do_not_trigger() {
    let dir = dir_with_manifest();
    let mut w = watch(dir.path(), DEBOUNCE).unwrap();
    std::fs::write(dir.path().join(".api.yaml.swp"), "swap").unwrap();
    std::fs::write(dir.path().join("README.md"), "notes").unwrap();
    std::fs::write(dir.path().join("team/notes.txt"), "notes").unwrap();
    std::fs::write(dir.path().join("api.yaml~"), "backup").unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD.yaml"), "ref").unwrap();
    expect_quiet(&mut w, "ignored files").await;
}

#[tokio::test]
async fn removing_and_recreating_a_subdirectory_triggers() {
    let dir = dir_with_manifest();
    let mut w = watch(dir.path(), DEBOUNCE).unwrap();
    std::fs::remove_dir_all(dir.path().join("team")).unwrap();
    expect_change(&mut w, "subdirectory removed").await;
    std::fs::create_dir(dir.path().join("team")).unwrap();
    std::fs::write(dir.path().join("team/worker.yaml"), WORKER).unwrap();
    expect_change(&mut w, "subdirectory recreated").await;
    // The recreated directory is watched: a later write inside it is seen.
    std::fs::write(
        dir.path().join("team/worker.yaml"),
        WORKER.replace("1", "5"),
    )
    .unwrap();
    expect_change(&mut w, "write in the recreated subdirectory").await;
}

#[tokio::test]
async fn a_directory_swapped_in_by_rename_triggers() {
    let dir = dir_with_manifest();
    let staging = tempfile::tempdir_in(dir.path().parent().unwrap()).unwrap();
    std::fs::write(staging.path().join("worker.yaml"), WORKER).unwrap();
    let mut w = watch(dir.path(), DEBOUNCE).unwrap();
    // A checkout that moves the old directory aside and a new one into place.
    std::fs::rename(dir.path().join("team"), dir.path().join("team-old")).unwrap();
    std::fs::rename(staging.path(), dir.path().join("team")).unwrap();
    expect_change(&mut w, "directory swap").await;
}

proptest::proptest! {
    /// The diff's one merge walk over both snapshots finds what a lookup of every key in the
    /// other snapshot finds (the definition), whatever keys the two hold.
    #[test]
    fn the_merge_walk_diff_matches_the_lookup_definition(
        old in proptest::collection::btree_map(0u8..24, (0u8..3, 0u8..2), 0..16),
        new in proptest::collection::btree_map(0u8..24, (0u8..3, 0u8..2), 0..16),
        failed in proptest::collection::btree_set(0u8..24, 0..4),
    ) {
        use super::snapshot::Entry;
        let snapshot = |m: &std::collections::BTreeMap<u8, (u8, u8)>| {
            let mut s = Snapshot::default();
            for (k, (content, file)) in m {
                s.resources.insert(
                    key(Kind::Cluster, &format!("c{k:02}")),
                    Entry {
                        content: content.to_string(),
                        file: format!("f{file}.yaml").into(),
                        references: BTreeSet::new(),
                    },
                );
            }
            s
        };
        let (o, mut n) = (snapshot(&old), snapshot(&new));
        n.failed = failed.iter().map(|k| ("Cluster".to_string(), format!("c{k:02}"))).collect();
        let changes = diff(&o, &n);
        let mut expected = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (k, e) in &n.resources {
            if o.resources.get(k) != Some(e) {
                expected.0.insert(k.clone());
            }
        }
        for (k, e) in &o.resources {
            if !n.resources.contains_key(k) {
                if n.may_have_failed(k, &e.file) {
                    expected.1.insert(k.clone());
                } else {
                    expected.2.insert(k.clone());
                }
            }
        }
        proptest::prop_assert_eq!(changes.changed, expected.0);
        proptest::prop_assert_eq!(changes.held, expected.1);
        proptest::prop_assert_eq!(changes.removed, expected.2);
    }
}
