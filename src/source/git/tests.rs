//! Git source tests against repositories made by the `git` CLI in temporary directories and
//! fetched over `file://` (gix spawns `git-upload-pack`, so no network), plus the webhook
//! signature table. The only https test points at a closed loopback port.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::manifest::load::load_texts;

const CLUSTER: &str =
    "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\nspec: {}\n";

/// A work repository on branch `main`, driven with the git CLI, isolated from the user's and
/// the system's git config.
struct Upstream {
    dir: tempfile::TempDir,
}

impl Upstream {
    fn new() -> Upstream {
        let upstream = Upstream {
            dir: tempfile::tempdir().unwrap(),
        };
        upstream.git(&["init", "-q", "-b", "main"]);
        upstream
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args([
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.com",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("the git CLI is needed to make test repositories");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn write(&self, path: &str, text: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// Stages everything and commits; returns the new commit's SHA.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.rev_parse("HEAD")
    }

    fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }
}

fn cluster(name: &str) -> String {
    CLUSTER.replace("shop", name)
}

fn source(upstream: &Upstream, cache: &tempfile::TempDir, path: &str) -> GitSource {
    let mut options = GitOptions::new(upstream.url(), cache.path().join("cache"));
    options.path = PathBuf::from(path);
    GitSource::new(options)
}

fn paths(snapshot: &GitSnapshot) -> Vec<&str> {
    snapshot
        .files
        .iter()
        .map(|(p, _)| p.to_str().unwrap())
        .collect()
}

/// A repository with manifests at several depths, plus what must be left out: files outside
/// the path, non-YAML files, hidden files and hidden directories.
fn seeded() -> (Upstream, String) {
    let up = Upstream::new();
    up.write("manifests/shop/api.yaml", cluster("api"));
    up.write("manifests/cluster.yml", cluster("shop"));
    up.write("manifests/README.md", "# not a manifest\n");
    up.write("manifests/shop/notes.txt", "not yaml\n");
    up.write("manifests/.hidden.yaml", cluster("hidden"));
    up.write("manifests/.github/workflow.yaml", cluster("hidden2"));
    up.write("manifests/shop/.cache/x.yml", cluster("hidden3"));
    up.write("other/outside.yaml", cluster("outside"));
    let sha = up.commit("first");
    (up, sha)
}

#[tokio::test]
async fn a_blob_over_the_file_limit_is_refused_before_it_is_read() {
    let up = Upstream::new();
    up.write("m/a.yaml", cluster("a"));
    up.write(
        "m/big.yaml",
        format!("{}# {}\n", cluster("big"), "x".repeat(2000)),
    );
    let sha = up.commit("big");
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "m");
    src.options.max_file_bytes = 1000;
    let e = src.fetch().await.unwrap_err();
    assert!(
        matches!(&e, GitError::TooLarge { path, size, .. } if path == Path::new("m/big.yaml") && *size > 2000),
        "{e}"
    );
    assert!(e.to_string().contains(&sha), "{e}");
    // Named as the path itself, too.
    let mut one = source(&up, &cache, "m/big.yaml");
    one.options.max_file_bytes = 1000;
    assert!(matches!(one.fetch().await, Err(GitError::TooLarge { .. })));
    src.options.max_file_bytes = 1 << 20;
    assert_eq!(src.fetch().await.unwrap().files.len(), 2);
}

#[tokio::test]
async fn first_fetch_reads_the_yaml_under_the_path_at_the_branch_commit() {
    let (up, sha) = seeded();
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "manifests");
    assert_eq!(src.last_sha(), None);
    let snap = src.fetch().await.unwrap();
    assert_eq!(snap.sha, sha);
    assert_eq!(src.last_sha(), Some(sha.as_str()));
    assert_eq!(
        paths(&snap),
        ["manifests/cluster.yml", "manifests/shop/api.yaml"]
    );
    assert_eq!(snap.files[1].1, cluster("api"));
    // The cache is bare and holds no worktree files.
    assert!(!cache.path().join("cache/manifests").exists());
}

#[tokio::test]
async fn the_root_path_reads_the_whole_tree_sorted_like_the_directory_loader() {
    let (up, _) = seeded();
    up.write("a.yaml", cluster("a"));
    up.write("b/m.yaml", cluster("m"));
    up.write("b/deep/z.yml", cluster("z"));
    up.commit("more");
    let cache = tempfile::tempdir().unwrap();
    let snap = source(&up, &cache, ".").fetch().await.unwrap();
    assert_eq!(
        paths(&snap),
        [
            "a.yaml",
            "b/deep/z.yml",
            "b/m.yaml",
            "manifests/cluster.yml",
            "manifests/shop/api.yaml",
            "other/outside.yaml",
        ]
    );
}

#[tokio::test]
async fn a_new_commit_is_picked_up_and_an_unchanged_remote_keeps_its_sha() {
    let (up, first) = seeded();
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "manifests");
    assert_eq!(src.fetch().await.unwrap().sha, first);
    let again = src.fetch().await.unwrap();
    assert_eq!(again.sha, first);
    assert_eq!(again.files.len(), 2);

    up.write("manifests/shop/worker.yaml", cluster("worker"));
    up.git(&["rm", "-q", "manifests/cluster.yml"]);
    let second = up.commit("second");
    let snap = src.fetch().await.unwrap();
    assert_eq!(snap.sha, second);
    assert_eq!(src.last_sha(), Some(second.as_str()));
    assert_eq!(
        paths(&snap),
        ["manifests/shop/api.yaml", "manifests/shop/worker.yaml"]
    );
}

#[tokio::test]
async fn a_force_push_to_an_unrelated_commit_is_followed() {
    let (up, first) = seeded();
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "manifests");
    assert_eq!(src.fetch().await.unwrap().sha, first);

    // An orphan history, then main moved onto it: not a fast-forward.
    up.git(&["checkout", "-q", "--orphan", "rewrite"]);
    up.git(&["rm", "-rq", "--cached", "."]);
    std::fs::remove_dir_all(up.path().join("manifests")).unwrap();
    std::fs::remove_dir_all(up.path().join("other")).unwrap();
    up.write("manifests/only.yaml", cluster("only"));
    let rewritten = up.commit("rewritten");
    up.git(&["branch", "-f", "main", "rewrite"]);
    assert_eq!(up.rev_parse("main"), rewritten);

    let snap = src.fetch().await.unwrap();
    assert_eq!(snap.sha, rewritten);
    assert_eq!(paths(&snap), ["manifests/only.yaml"]);
}

#[tokio::test]
async fn tags_lightweight_and_annotated_resolve_to_their_commit() {
    let (up, first) = seeded();
    up.git(&["tag", "light"]);
    up.git(&["tag", "-a", "v1", "-m", "release 1"]);
    up.write("manifests/later.yaml", cluster("later"));
    let second = up.commit("second");
    assert_ne!(up.rev_parse("v1"), first, "v1 is an annotated tag object");

    let cache = tempfile::tempdir().unwrap();
    for (reference, want) in [("light", &first), ("v1", &first), ("main", &second)] {
        let mut src = source(&up, &cache, "manifests");
        src.options.reference = reference.to_string();
        let snap = src.fetch().await.unwrap();
        assert_eq!(&snap.sha, want, "reference {reference}");
    }
}

#[tokio::test]
async fn a_branch_wins_over_a_tag_of_the_same_name() {
    let (up, first) = seeded();
    up.git(&["tag", "release"]);
    up.write("manifests/later.yaml", cluster("later"));
    up.commit("second");
    up.git(&["branch", "release", "HEAD"]);
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "manifests");
    src.options.reference = "release".into();
    assert_eq!(src.fetch().await.unwrap().sha, up.rev_parse("HEAD"));
    src.options.reference = "refs/tags/release".into();
    assert_eq!(src.fetch().await.unwrap().sha, first);
}

#[tokio::test]
async fn a_full_sha_and_a_local_path_url_work() {
    let (up, first) = seeded();
    up.write("manifests/later.yaml", cluster("later"));
    up.commit("second");
    let cache = tempfile::tempdir().unwrap();
    let mut options = GitOptions::new(up.path().display().to_string(), cache.path());
    options.reference = first.clone();
    options.path = PathBuf::from("./manifests/");
    let snap = GitSource::new(options).fetch().await.unwrap();
    assert_eq!(snap.sha, first);
    assert_eq!(snap.files.len(), 2);
}

#[tokio::test]
async fn a_missing_ref_is_an_error_naming_the_ref_and_the_url() {
    let (up, _) = seeded();
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "manifests");
    src.options.reference = "no-such-branch".into();
    let err = src.fetch().await.unwrap_err();
    assert!(matches!(err, GitError::RefNotFound { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("no-such-branch"), "{text}");
    assert!(text.contains(&up.url()), "{text}");
    assert_eq!(src.last_sha(), None);

    // An unknown SHA too.
    src.options.reference = "0123456789abcdef0123456789abcdef01234567".into();
    let err = src.fetch().await.unwrap_err();
    assert!(matches!(err, GitError::RefNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_missing_or_escaping_path_is_an_error() {
    let (up, sha) = seeded();
    let cache = tempfile::tempdir().unwrap();
    let err = source(&up, &cache, "nope/deeper")
        .fetch()
        .await
        .unwrap_err();
    match &err {
        GitError::PathNotFound { path, sha: at, .. } => {
            assert_eq!(path, Path::new("nope/deeper"));
            assert_eq!(at, &sha);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("nope/deeper"), "{err}");
    assert!(err.to_string().contains("main"), "{err}");

    for bad in ["../x", "/etc"] {
        let err = source(&up, &cache, bad).fetch().await.unwrap_err();
        assert!(matches!(err, GitError::BadPath { .. }), "{bad}: {err:?}");
    }
}

#[tokio::test]
async fn a_single_file_path_is_read_and_a_non_utf8_manifest_is_an_error() {
    let (up, _) = seeded();
    let cache = tempfile::tempdir().unwrap();
    let snap = source(&up, &cache, "manifests/shop/api.yaml")
        .fetch()
        .await
        .unwrap();
    assert_eq!(paths(&snap), ["manifests/shop/api.yaml"]);

    up.write("manifests/latin1.yaml", b"name: caf\xe9\n");
    up.commit("latin-1");
    let err = source(&up, &cache, "manifests").fetch().await.unwrap_err();
    match &err {
        GitError::NotUtf8 { path, .. } => assert_eq!(path, Path::new("manifests/latin1.yaml")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_cache_dir_that_is_not_a_repository_is_refused_not_overwritten() {
    let (up, _) = seeded();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(cache.path().join("keep.txt"), "user data").unwrap();
    let mut options = GitOptions::new(up.url(), cache.path());
    options.path = "manifests".into();
    let err = GitSource::new(options).fetch().await.unwrap_err();
    assert!(matches!(err, GitError::Cache { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(cache.path().join("keep.txt")).unwrap(),
        "user data"
    );
}

#[tokio::test]
async fn diagnostics_of_loaded_texts_name_the_repository_relative_path_and_line() {
    let up = Upstream::new();
    up.write("manifests/shop/ok.yaml", cluster("ok"));
    up.write(
        "manifests/shop/broken.yaml",
        "# comment\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: b}\nspec:\n  bogus: true\n",
    );
    up.commit("broken");
    let cache = tempfile::tempdir().unwrap();
    let snap = source(&up, &cache, "manifests").fetch().await.unwrap();
    let loaded = load_texts(&snap.files);
    assert_eq!(loaded.files, 2);
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(
        loaded.documents[0].file,
        Path::new("manifests/shop/ok.yaml")
    );
    let d = &loaded.diagnostics[0];
    assert_eq!(d.file, Path::new("manifests/shop/broken.yaml"));
    assert_eq!((d.line, d.path.to_string().as_str()), (6, "spec.bogus"));
    assert_eq!(
        loaded.failed[0].file,
        Path::new("manifests/shop/broken.yaml")
    );
}

#[tokio::test]
async fn a_commit_touching_one_file_changes_only_its_resources_in_the_snapshot_diff() {
    // The controller's loop: fetch, load_texts, Snapshot::of, and diff against the previous.
    use crate::source::{Snapshot, diff};
    let up = Upstream::new();
    up.write("manifests/a.yaml", cluster("a"));
    up.write("manifests/b.yaml", cluster("b"));
    up.commit("two clusters");
    let cache = tempfile::tempdir().unwrap();
    let mut src = source(&up, &cache, "manifests");
    let before = Snapshot::of(&load_texts(&src.fetch().await.unwrap().files));
    assert_eq!(before.resources.len(), 2);

    up.write(
        "manifests/b.yaml",
        cluster("b").replace("spec: {}", "spec: {capacityProviders: [FARGATE]}"),
    );
    up.commit("b uses Fargate");
    let after = Snapshot::of(&load_texts(&src.fetch().await.unwrap().files));
    let changes = diff(&before, &after);
    let changed: Vec<&str> = changes.changed.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(changed, ["b"]);
    assert!(changes.removed.is_empty());
}

#[tokio::test]
async fn the_token_never_shows_in_debug_or_errors() {
    const TOKEN: &str = "ghp_s3cr3tT0kenValue";
    const URL_PASSWORD: &str = "urlPa55word";
    let cache = tempfile::tempdir().unwrap();
    // A closed loopback port: the connection is refused at once, no network involved.
    let mut options = GitOptions::new(
        format!("https://someone:{URL_PASSWORD}@127.0.0.1:1/x.git"),
        cache.path(),
    );
    options.token = Some(TOKEN.to_string());
    let debug = format!("{options:?}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("https://127.0.0.1:1/x.git"), "{debug}");

    let mut src = GitSource::new(options);
    let err = src.fetch().await.unwrap_err();
    assert!(matches!(err, GitError::Fetch { .. }), "{err:?}");
    let display = err.to_string();
    assert!(display.contains("https://127.0.0.1:1/x.git"), "{display}");
    assert!(display.contains("main"), "{display}");
    for text in [debug, display, format!("{err:?}"), format!("{src:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains(URL_PASSWORD), "{text}");
        assert!(!text.contains("someone"), "{text}");
    }
    // Nothing about the remote was written to the cache's config.
    let config = std::fs::read_to_string(cache.path().join("config")).unwrap();
    assert!(!config.contains("127.0.0.1"), "{config}");
}

#[test]
fn display_url_strips_userinfo_only() {
    for (url, shown) in [
        (
            "https://x-access-token:abc@github.com/o/r.git",
            "https://github.com/o/r.git",
        ),
        ("https://user@host/r", "https://host/r"),
        ("https://host/a@b", "https://host/a@b"),
        ("https://host", "https://host"),
        ("file:///tmp/r", "file:///tmp/r"),
        ("/tmp/some@dir", "/tmp/some@dir"),
    ] {
        assert_eq!(display_url(url), shown, "{url}");
    }
}

#[test]
fn webhook_signatures() {
    // GitHub's documented example ("Validating webhook deliveries").
    let secret = b"It's a Secret to Everybody";
    let body = b"Hello, World!";
    let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let upper = format!("sha256={}", good["sha256=".len()..].to_uppercase());
    let flipped = good.replace("757107", "757108");
    let sha1_style = good.replace("sha256=", "sha1=");
    let no_prefix = &good["sha256=".len()..];
    let truncated = &good[..good.len() - 2];
    let odd = &good[..good.len() - 1];
    let extended = format!("{good}00");
    let not_hex = good.replace("757107", "75710g");
    let cases: &[(&str, Option<&str>, bool)] = &[
        ("the documented vector", Some(good), true),
        ("uppercase hex is accepted", Some(&upper), true),
        ("one digit changed", Some(&flipped), false),
        ("sha1= prefix", Some(&sha1_style), false),
        ("no prefix", Some(no_prefix), false),
        ("missing header", None, false),
        ("empty header", Some(""), false),
        ("prefix only", Some("sha256="), false),
        ("truncated by a byte", Some(truncated), false),
        ("odd number of digits", Some(odd), false),
        ("extended by a byte", Some(&extended), false),
        ("not hex", Some(&not_hex), false),
    ];
    for (what, header, ok) in cases {
        assert_eq!(verify_signature(secret, body, *header), *ok, "{what}");
    }
    assert!(!verify_signature(b"another secret", body, Some(good)));
    assert!(!verify_signature(secret, b"Hello, World", Some(good)));
}
