//! `ecs-operator run` as a process, on the simulator: it prints where it serves, turns ready,
//! answers `/status` and `ecs-operator status`, reconciles a manifest edited on disk (notify,
//! real time), and on SIGTERM stops taking work and exits 0; with leader election on (the
//! simulator's in-memory lease) it leads and says so in /status, `status` and the metrics.
//!
//! Waits poll a condition with a deadline (the controller runs in real time here); nothing
//! sleeps a fixed time to hide a race.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecs_operator::status::{StatusReport, SyncStatus};

#[path = "common/serving.rs"]
mod serving;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn start(dir: &Path, manifests: &Path) -> Running {
    let mut c = bin();
    c.args(["run", "--manifests"])
        .arg(manifests)
        .args(["--debounce", "50ms"]);
    spawn(dir, c)
}

fn spawn(dir: &Path, mut c: Command) -> Running {
    c.args(["--backend", "sim", "--sim-state"])
        .arg(dir.join("sim-state.json"))
        .args(["--log-level", "warn", "--metrics-addr", "127.0.0.1:0"]);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    let base = serving::serving_url(&mut child);
    Running { child, base }
}

fn get(url: &str) -> Option<(u16, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(ecs_operator::http_client::get(url, Duration::from_secs(5)))
        .ok()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "not {what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status(base: &str) -> StatusReport {
    let (code, body) = get(&format!("{base}/status")).expect("status answers");
    assert_eq!(code, 200);
    serde_json::from_str(&body).unwrap()
}

#[test]
fn run_serves_status_follows_edits_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    copy_dir(Path::new("manifests"), &manifests);
    let mut running = start(dir.path(), &manifests);
    let base = running.base.clone();

    assert_eq!(get(&format!("{base}/healthz")).unwrap().0, 200);
    wait_for("ready", Duration::from_secs(60), || {
        get(&format!("{base}/readyz")).is_some_and(|(code, _)| code == 200)
    });
    // Services wait for their cluster to be created: synced shortly after ready.
    wait_for("all synced", Duration::from_secs(30), || {
        let report = status(&base);
        report.resources.len() == 7
            && report
                .resources
                .iter()
                .all(|r| r.sync == SyncStatus::Synced)
    });
    let report = status(&base);
    let first = report.source.revision.clone().unwrap();
    assert!(first.starts_with("sha256:"), "{first}");

    // `ecs-operator status` prints the same as a table.
    let out = bin()
        .args(["status", "--url", &base])
        .output()
        .expect("status runs");
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.lines().any(|l| l.starts_with("Service")
            && l.contains("shop")
            && l.contains("api")
            && l.contains("Synced")),
        "{table}"
    );

    // Edit a manifest: the controller reloads and applies the new revision.
    let api = manifests.join("shop/api.yaml");
    let text = std::fs::read_to_string(&api).unwrap();
    assert!(text.contains("desiredCount: 2"));
    std::fs::write(&api, text.replace("desiredCount: 2", "desiredCount: 3")).unwrap();
    wait_for("the edit applied", Duration::from_secs(30), || {
        let report = status(&base);
        report.source.revision.as_deref() != Some(first.as_str())
            && report.resources.iter().any(|r| {
                r.name == "api"
                    && r.sync == SyncStatus::Synced
                    && r.revision == report.source.revision
            })
    });

    // SIGTERM: exit 0, saying so.
    let pid = running.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = running.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(running.child.stdout.as_mut().unwrap(), &mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");

    // The simulator's state was saved: a one-shot diff agrees nothing is left to do.
    let diff = bin()
        .args(["diff", "--backend", "sim", "--sim-state"])
        .arg(dir.path().join("sim-state.json"))
        .arg(&manifests)
        .output()
        .unwrap();
    assert_eq!(
        diff.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
}

/// `run` on a simulator state file: a second process on the file is refused while it runs
/// (the file is locked), and after a SIGKILL everything it did is in the file (written after
/// every mutating call), with no temp file left.
#[test]
fn a_killed_run_loses_no_simulator_state_and_a_second_process_on_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    copy_dir(Path::new("manifests"), &manifests);
    let mut running = start(dir.path(), &manifests);
    let base = running.base.clone();
    wait_for("all synced", Duration::from_secs(60), || {
        let report = status(&base);
        report.resources.len() == 7
            && report
                .resources
                .iter()
                .all(|r| r.sync == SyncStatus::Synced)
    });
    let state = dir.path().join("sim-state.json");
    let diff = || {
        bin()
            .args(["diff", "--backend", "sim", "--sim-state"])
            .arg(&state)
            .arg(&manifests)
            .output()
            .unwrap()
    };
    let refused = diff();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("is in use by another ecs-operator process"),
        "{stderr}"
    );

    running.child.kill().unwrap(); // SIGKILL: no save at exit
    running.child.wait().unwrap();
    let after = diff();
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&after.stdout),
        String::from_utf8_lossy(&after.stderr)
    );
    let temps: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn status_without_a_controller_exits_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = bin()
        .args(["status", "--url", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn post(url: &str, signature: &str, body: &[u8]) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(ecs_operator::http_client::post(
        url,
        &[
            ("x-hub-signature-256", signature),
            ("x-github-event", "push"),
        ],
        body.to_vec(),
        Duration::from_secs(5),
    ))
    .unwrap()
    .0
}

#[test]
fn run_from_git_applies_commits_with_their_sha_and_the_webhook_checks_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(Path::new("manifests"), &repo.join("deploy"));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);

    let mut c = bin();
    c.env("ECS_OPERATOR_WEBHOOK_SECRET", "s3cret")
        .args(["run", "--git-url"])
        .arg(format!("file://{}", repo.display()))
        .args([
            "--git-path",
            "deploy",
            "--git-interval",
            "1h",
            "--git-cache",
        ])
        .arg(dir.path().join("cache"));
    let running = spawn(dir.path(), c);
    let base = running.base.clone();
    wait_for(
        "synced at the first commit",
        Duration::from_secs(60),
        || {
            let r = status(&base);
            r.source.revision.as_deref() == Some(first.as_str())
                && r.resources.len() == 7
                && r.resources.iter().all(|s| {
                    s.sync == SyncStatus::Synced && s.revision.as_deref() == Some(first.as_str())
                })
        },
    );
    assert!(status(&base).source.location.starts_with("git:file://"));

    // A new commit: with a one-hour interval, only the webhook can bring it in.
    let api = repo.join("deploy/shop/api.yaml");
    let text = std::fs::read_to_string(&api).unwrap();
    std::fs::write(&api, text.replace("desiredCount: 2", "desiredCount: 4")).unwrap();
    git(&repo, &["commit", "-q", "-am", "scale the api"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);

    let body = br#"{"ref":"refs/heads/main"}"#;
    let hook = format!("{base}/hooks/git");
    assert_eq!(post(&hook, &sign("wrong", body), body), 401);
    assert_eq!(post(&hook, "sha256=00", body), 401);
    assert_eq!(
        status(&base).source.revision.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(post(&hook, &sign("s3cret", body), body), 202);
    wait_for("the new commit applied", Duration::from_secs(30), || {
        let r = status(&base);
        r.source.revision.as_deref() == Some(second.as_str())
            && r.resources.iter().any(|s| {
                s.name == "api"
                    && s.sync == SyncStatus::Synced
                    && s.revision.as_deref() == Some(second.as_str())
            })
    });
    // Only the api changed: the other resources keep the first commit as their revision.
    let r = status(&base);
    let web = r.resources.iter().find(|s| s.name == "web").unwrap();
    assert_eq!(web.revision.as_deref(), Some(first.as_str()));
}

#[test]
fn with_an_unreachable_git_remote_it_is_alive_not_ready_and_still_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.args(["run", "--git-url"])
        .arg(format!(
            "file://{}",
            dir.path().join("no-such-repo").display()
        ))
        .args(["--git-cache"])
        .arg(dir.path().join("cache"));
    let mut running = spawn(dir.path(), c);
    let base = running.base.clone();
    assert_eq!(get(&format!("{base}/healthz")).unwrap().0, 200);
    assert_eq!(get(&format!("{base}/readyz")).unwrap().0, 503);
    let report = status(&base);
    assert!(!report.ready && report.resources.is_empty());
    let pid = running.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(running.child.wait().unwrap().code(), Some(0));
}

#[test]
fn with_leader_election_on_the_simulator_it_leads_and_says_so_in_status_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    copy_dir(Path::new("manifests"), &manifests);
    let mut c = bin();
    c.args(["run", "--manifests"])
        .arg(&manifests)
        .args(["--leader-election", "dynamodb", "--lease-table", "leases"])
        .env("HOSTNAME", "task-1");
    let running = spawn(dir.path(), c);
    let base = running.base.clone();
    wait_for("leading and synced", Duration::from_secs(60), || {
        let report = status(&base);
        report.leader.role == "leader"
            && report.resources.len() == 7
            && report
                .resources
                .iter()
                .all(|r| r.sync == SyncStatus::Synced)
    });
    let leader = status(&base).leader;
    assert_eq!(leader.election, "dynamodb");
    assert!(leader.holder.starts_with("task-1-"), "{leader:?}");
    assert_eq!(leader.leader.as_deref(), Some(leader.holder.as_str()));
    assert_eq!(leader.fencing, 1);

    let out = bin()
        .args(["status", "--url", &base])
        .output()
        .expect("status runs");
    let table = String::from_utf8(out.stdout).unwrap();
    let line = table.lines().nth(1).unwrap_or_default();
    assert!(
        line.starts_with("leader election dynamodb: this operator (task-1-")
            && line.contains("is leader"),
        "{table}"
    );

    let (_, metrics) = get(&format!("{base}/metrics")).unwrap();
    for want in [
        "ecs_operator_leader 1",
        "ecs_operator_leader_transitions_total 1",
        "ecs_operator_lease_renew_failures_total 0",
    ] {
        assert!(metrics.lines().any(|l| l == want), "{want}");
    }
}

#[test]
fn leader_election_flags_are_checked() {
    let out = bin()
        .args(["run", "--manifests", "manifests", "--backend", "sim"])
        .args(["--leader-election", "dynamodb"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lease-table"));
    let out = bin()
        .args(["run", "--manifests", "manifests", "--backend", "sim"])
        .args(["--leader-election", "dynamodb", "--lease-table", "t"])
        .args(["--lease-duration", "6s", "--lease-renew", "5s"])
        .args(["--metrics-addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--lease-renew 5s must be shorter"),
        "{stderr}"
    );
}
