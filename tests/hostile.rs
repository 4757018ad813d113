//! The hostile-input corpus (issue 16): manifests and paths made to break the loader, each run
//! through the real binary (`ecs-operator validate`), with the finding it must produce and a
//! bound on the peak memory (the child's `ru_maxrss`, from `wait4`) and the wall time of the
//! run. The bounds are generous ceilings for a debug build on a loaded machine, recorded per
//! case, not timing assertions; the measured figures of a release build are in BENCHMARKS.md
//! (`HOSTILE_BIN=target/release/ecs-operator cargo test --test hostile -- --nocapture` prints
//! them).
//!
//! With a target directory shared between worktrees, `target/debug/ecs-operator` is whichever
//! worktree linked it last: the test runs a copy taken at its start and first checks the copy is
//! this tree's (touch `src/main.rs` and run again if not, or set `HOSTILE_BIN`).
//!
//! Two sources of cases:
//! - `tests/hostile/*.yaml`: small files, committed, each with a header of comment lines:
//!   `# hostile: <what>`, `# expect: <rule|*> [<fragment>]` (a finding `[rule]` whose line holds
//!   the fragment), `# exit: 0|1|any` (default 1), `# forbid: <text>` (must not be printed).
//! - [`generated`]: what cannot or should not be committed (megabytes, links, FIFOs, devices,
//!   sockets, odd file names), written into a temporary directory at test time.
//!
//! Checked for every case: the exit code, every expected finding, no forbidden text, no raw
//! control character on stdout or stderr (everything user-supplied is escaped), stdout under
//! 64 KiB (findings are capped per document), and the memory and time bounds.

use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The corpus must not shrink below this (deleting files must fail the test).
const MIN_CASES: usize = 80;

/// Peak RSS allowed by default, MiB, for a binary whose own peak (refusing `/dev/zero`, no
/// input read) is [`BASELINE_RSS_MIB`]. The binary grows with the code (its kinds, its SDK
/// crates, its schema); what a case may spend beyond the binary's own peak does not: a bound
/// is raised by as much as the measured baseline is over this one.
const DEFAULT_MAX_RSS_MIB: u64 = 64;
/// The binary's own peak RSS, MiB, when the bounds were set (a debug build).
const BASELINE_RSS_MIB: u64 = 25;
/// Wall time allowed by default.
const DEFAULT_MAX_SECONDS: u64 = 30;
/// Stdout allowed at most.
const MAX_STDOUT_BYTES: usize = 64 << 10;

struct Case {
    name: String,
    /// Arguments after `validate`.
    args: Vec<String>,
    /// `(rule or "*", fragment)`: some output line ends in `[rule]` and holds the fragment.
    expect: Vec<(String, String)>,
    /// Expected exit code; `None`: either 0 or 1.
    exit: Option<i32>,
    forbid: Vec<String>,
    max_rss_mib: u64,
    max_seconds: u64,
}

impl Case {
    fn new(name: &str, path: &Path) -> Case {
        Case {
            name: name.to_string(),
            args: vec![path.display().to_string()],
            expect: Vec::new(),
            exit: Some(1),
            forbid: Vec::new(),
            max_rss_mib: DEFAULT_MAX_RSS_MIB,
            max_seconds: DEFAULT_MAX_SECONDS,
        }
    }

    fn expect(mut self, rule: &str, fragment: &str) -> Case {
        self.expect.push((rule.to_string(), fragment.to_string()));
        self
    }

    fn exit(mut self, code: Option<i32>) -> Case {
        self.exit = code;
        self
    }

    fn forbid(mut self, text: &str) -> Case {
        self.forbid.push(text.to_string());
        self
    }

    fn args(mut self, args: &[&str]) -> Case {
        let path = self.args.pop().unwrap();
        self.args = args.iter().map(|a| a.to_string()).collect();
        self.args.push(path);
        self
    }

    fn bounds(mut self, rss_mib: u64, seconds: u64) -> Case {
        self.max_rss_mib = rss_mib;
        self.max_seconds = seconds;
        self
    }
}

/// One run of the binary.
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    rss_kib: u64,
    elapsed: Duration,
}

fn built_binary() -> PathBuf {
    std::env::var_os("HOSTILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ecs-operator")))
}

/// The binary under test: a copy taken once, so that another build linking into a shared
/// target directory during the run cannot swap it.
fn binary() -> PathBuf {
    static COPY: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("ecs-operator");
        std::fs::copy(built_binary(), &copy).expect("copy the binary under test");
        (dir, copy)
    })
    .1
    .clone()
}

/// Runs `validate ARGS`, killed after `limit`, and measures its peak RSS with `wait4` (which
/// reaps the child: std's `wait` would lose its rusage).
#[allow(clippy::zombie_processes)]
fn run(args: &[String], limit: Duration) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new(binary())
        .arg("validate")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let readers = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .map(|r| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                // Keep what fits the check, drain the rest.
                let _ = r.by_ref().take(4 << 20).read_to_end(&mut buf);
                let _ = std::io::copy(&mut r, &mut std::io::sink());
            }
            buf
        })
    });
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    let killer = std::thread::spawn(move || {
        if watchdog.recv_timeout(limit).is_err() {
            // SAFETY: `pid` is our child, not reaped before `done` is sent.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for and reaps our child `pid`; `child` is never waited on by std.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let _ = done.send(());
    killer.join().unwrap();
    assert_eq!(reaped, pid, "wait4");
    let [out, err] = readers.map(|r| r.join().unwrap());
    Outcome {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: out,
        stderr: err,
        rss_kib: usage.ru_maxrss as u64,
        elapsed: start.elapsed(),
    }
}

/// The committed cases, from their headers.
fn committed() -> Vec<Case> {
    let dir = Path::new("tests/hostile");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut case = Case::new(&name, &path);
            let mut described = false;
            for line in text.lines().take_while(|l| l.starts_with('#')) {
                let (key, value) = line[1..].trim().split_once(':').unwrap_or((line, ""));
                let value = value.trim();
                match key {
                    "hostile" => described = true,
                    "expect" => {
                        let (rule, fragment) = value.split_once(' ').unwrap_or((value, ""));
                        case = case.expect(rule, fragment);
                    }
                    "exit" => {
                        case = case.exit(match value {
                            "any" => None,
                            code => Some(code.parse().expect("exit: 0, 1 or any")),
                        })
                    }
                    "forbid" => case = case.forbid(value),
                    other => panic!("{name}: unknown directive {other:?}"),
                }
            }
            assert!(described, "{name}: no `# hostile:` line");
            case
        })
        .collect()
}

const CLUSTER: &str = "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\n";
const SERVICE_HEAD: &str = "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {name: api}\nspec:\n  cluster: shop\n  desiredCount: 1\n  launchType: FARGATE\n  deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}\n  networkConfiguration: {awsvpcConfiguration: {subnets: [s-1], securityGroups: [sg-1]}}\n  taskDefinition:\n    cpu: '256'\n    memory: '512'\n    networkMode: awsvpc\n    containerDefinitions:\n";
/// A little under the default 4 MiB per file.
const NEAR_FILE_LIMIT: usize = (4 << 20) - 4096;

/// `head` followed by `line(i)` for i = 0.. until the text is about `bytes` long.
fn fill(head: &str, bytes: usize, line: impl Fn(usize) -> String) -> String {
    let mut s = head.to_string();
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(&line(i));
        i += 1;
    }
    s
}

/// Cases written into `dir` at test time.
fn generated(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    };
    let sub = |name: &str| {
        let p = dir.join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let passwd = "root:x:0:0";

    // Sizes.
    let p = write(
        "g-5mib-flat.yaml",
        &fill(CLUSTER, 5 << 20, |i| format!("# {i}\n")),
    );
    cases.push(Case::new("5 MiB file", &p).expect("max-file-bytes", "over the limit of 4MiB"));
    let p = dir.join("g-sparse-1gib.yaml");
    std::fs::File::create(&p).unwrap().set_len(1 << 30).unwrap();
    cases.push(Case::new("1 GiB sparse file", &p).expect("max-file-bytes", "1073741824 bytes"));
    let flat_tags = fill(
        &format!("{CLUSTER}spec:\n  tags:\n"),
        NEAR_FILE_LIMIT,
        |i| format!("    tag-{i}: v\n"),
    );
    let p = write("g-flat-tags.yaml", &flat_tags);
    cases.push(
        Case::new("4 MiB flat manifest (250,000 tags)", &p)
            .expect("max-nodes", "more than 20000 keys"),
    );
    let p = write(
        "g-flat-tags-small-limit.yaml",
        &flat_tags[..flat_tags.len() / 2],
    );
    cases.push(
        Case::new("2 MiB manifest, --max-file-bytes 1MiB", &p)
            .args(&["--max-file-bytes", "1MiB"])
            .expect("max-file-bytes", "over the limit of 1MiB"),
    );
    let p = write(
        "g-unknown-keys.yaml",
        &fill(&format!("{CLUSTER}spec:\n"), NEAR_FILE_LIMIT, |i| {
            format!("  unknown-{i}: 1\n")
        }),
    );
    cases.push(
        Case::new("4 MiB of unknown keys", &p).expect("max-nodes", "--max-nodes-per-document"),
    );
    let p = write(
        "g-5000-unknown-keys.yaml",
        &(0..5000).fold(format!("{CLUSTER}spec:\n"), |mut s, i| {
            let _ = writeln!(s, "  unknown-{i}: 1");
            s
        }),
    );
    cases.push(
        Case::new("5,000 unknown keys: 20 shown", &p)
            .expect("unknown-field", "unknown field `unknown-0`")
            .expect(
                "more-findings",
                "4980 more findings in this document not shown",
            ),
    );
    let p = write(
        "g-duplicate-keys.yaml",
        &fill(&format!("{CLUSTER}spec: {{}}\nx:\n"), 1 << 20, |_| {
            "  same: 1\n".to_string()
        }),
    );
    cases.push(Case::new("1 MiB of one key repeated", &p).expect("max-nodes", ""));
    let p = write(
        "g-duplicate-keys-5000.yaml",
        &(0..5000).fold(format!("{CLUSTER}spec: {{}}\nx:\n"), |mut s, _| {
            s.push_str("  same: 1\n");
            s
        }),
    );
    cases.push(
        Case::new("one key written 5,000 times", &p)
            .expect("duplicate-key", "key `same` is written twice")
            .expect("more-findings", "more findings"),
    );
    let p = write(
        "g-env-value-3mib.yaml",
        &format!(
            "{SERVICE_HEAD}      - name: app\n        image: app:1\n        environment: {{BIG: '{}'}}\n",
            "x".repeat(3 << 20)
        ),
    );
    cases.push(
        Case::new("3 MiB environment value", &p)
            .expect("aws-limit", "over ECS's limit of 65536")
            .forbid(&"x".repeat(100)),
    );
    let p = write(
        "g-env-value-1mb.yaml",
        &format!(
            "{SERVICE_HEAD}      - name: app\n        image: app:1\n        environment: {{BIG: '{}'}}\n",
            "y".repeat(1_000_000)
        ),
    );
    cases.push(
        Case::new("1 MB environment value", &p)
            .expect("aws-limit", "this environment takes")
            .forbid(&"y".repeat(100)),
    );
    let p = write(
        "g-10000-env.yaml",
        &(0..10_000).fold(
            format!(
                "{SERVICE_HEAD}      - name: app\n        image: app:1\n        environment:\n"
            ),
            |mut s, i| {
                let _ = writeln!(s, "          VAR_{i}: value-{i}");
                s
            },
        ),
    );
    cases.push(Case::new("10,000 environment variables", &p).expect("max-nodes", ""));
    let p = write(
        "g-3000-env.yaml",
        &(0..3000).fold(
            format!(
                "{SERVICE_HEAD}      - name: app\n        image: app:1\n        environment:\n"
            ),
            |mut s, i| {
                let _ = writeln!(s, "          VAR_{i}: value-{i}");
                s
            },
        ),
    );
    cases.push(Case::new("3,000 environment variables", &p).expect("aws-limit", "bytes as JSON"));
    let p = write(
        "g-100000-containers.yaml",
        &(0..100_000).fold(SERVICE_HEAD.to_string(), |mut s, i| {
            let _ = writeln!(s, "      - {{name: c{i}, image: 'x:1'}}");
            s
        }),
    );
    cases.push(Case::new("100,000 containers", &p).expect("max-nodes", ""));
    let p = write(
        "g-1000-containers.yaml",
        &(0..1000).fold(SERVICE_HEAD.to_string(), |mut s, i| {
            let _ = writeln!(s, "      - {{name: c{i}, image: 'x:1', essential: false}}");
            s
        }),
    );
    cases.push(
        Case::new("1,000 containers", &p)
            .expect("aws-limit", "1000 containers, over ECS's limit of 10"),
    );
    let p = write(
        "g-2000-tags.yaml",
        &(0..2000).fold(format!("{CLUSTER}spec:\n  tags:\n"), |mut s, i| {
            let _ = writeln!(s, "    - {{key: k{i}, value: v}}");
            s
        }),
    );
    cases.push(Case::new("2,000 tags (list form)", &p).expect("aws-limit", "2000 tags"));
    let p = write(
        "g-tag-value-3mib.yaml",
        &format!(
            "{CLUSTER}spec:\n  tags: {{big: '{}'}}\n",
            "z".repeat(3 << 20)
        ),
    );
    cases.push(
        Case::new("3 MiB tag value", &p)
            .expect("aws-limit", "tag value of 3145728 characters")
            .forbid(&"z".repeat(100)),
    );
    let p = write(
        "g-long-line-key.yaml",
        &format!("{CLUSTER}spec:\n  {}: 1\n", "k".repeat(3 << 20)),
    );
    cases.push(
        Case::new("a 3 MiB key on one line", &p)
            .expect("type", "characters)")
            .forbid(&"k".repeat(100)),
    );
    let p = write(
        "g-long-quoted-key.yaml",
        &format!("{CLUSTER}spec:\n  \"{}\": 1\n", "q".repeat(1 << 20)),
    );
    cases.push(
        Case::new("a 1 MiB quoted key", &p)
            .expect("type", "characters)")
            .forbid(&"q".repeat(200)),
    );

    // Nesting.
    let mut deep = format!("{CLUSTER}spec: {{}}\nx:\n");
    for i in 0..2000 {
        let _ = writeln!(deep, "{}k:", " ".repeat(i + 1));
    }
    let p = write("g-block-2000-deep.yaml", &deep);
    cases.push(
        Case::new("2,000-deep block nesting (2 MiB)", &p)
            .expect("max-depth", "nested deeper than 32"),
    );
    let p = write(
        "g-flow-1m-deep.yaml",
        &format!(
            "{CLUSTER}spec: {{}}\nx: {}{}\n",
            "[".repeat(1_000_000),
            "]".repeat(1_000_000)
        ),
    );
    cases.push(Case::new("1,000,000-deep flow nesting", &p).expect("max-depth", ""));
    let p = write(
        "g-flow-mapping-deep.yaml",
        &format!(
            "{CLUSTER}spec: {{}}\nx: {}1{}\n",
            "{a: ".repeat(100_000),
            "}".repeat(100_000)
        ),
    );
    cases.push(Case::new("100,000-deep flow mappings", &p).expect("max-depth", ""));
    let p = write(
        "g-depth-flag.yaml",
        &format!("{CLUSTER}spec: {{settings: [[[[[[1]]]]]]}}\n"),
    );
    cases.push(
        Case::new("--max-depth 4 refuses 8 levels", &p)
            .args(&["--max-depth", "4"])
            .expect("max-depth", "nested deeper than 4 levels"),
    );

    // Documents.
    let p = write(
        "g-10001-documents.yaml",
        &(0..10_001).fold(String::new(), |mut s, i| {
            s.push_str("---\n");
            s.push_str(&CLUSTER.replace("shop", &format!("c{i}")));
            s.push_str("spec: {}\n");
            s
        }),
    );
    cases.push(
        Case::new("10,001 documents in a file", &p).expect("max-documents", "10001 documents"),
    );
    let p = write("g-markers.yaml", &"---\n".repeat(1_000_000));
    cases.push(
        Case::new("1,000,000 document markers", &p)
            .expect("max-documents", "")
            .bounds(96, 30),
    );
    let p = write(
        "g-few-documents.yaml",
        &format!("{CLUSTER}spec: {{}}\n---\n{CLUSTER}spec: {{}}\n---\n{CLUSTER}spec: {{}}\n"),
    );
    cases.push(
        Case::new("--max-documents-per-file 2", &p)
            .args(&["--max-documents-per-file", "2"])
            .expect("max-documents", "over the limit of 2"),
    );
    let total = sub("g-total");
    for i in 0..12 {
        let text = fill(
            &CLUSTER.replace("shop", &format!("c{i}")),
            NEAR_FILE_LIMIT,
            |_| "# padding padding padding padding padding\n".to_string(),
        ) + "spec: {}\n";
        std::fs::write(total.join(format!("{i}.yaml")), text).unwrap();
    }
    cases.push(
        Case::new("12 files of 4 MiB: over 32 MiB in all", &total)
            .expect(
                "max-total-bytes",
                "over the limit of 32MiB for all manifests",
            )
            .expect("max-total-bytes", "3 more files from here on not read")
            .bounds(128, 60),
    );
    cases.push(
        Case::new("--max-total-bytes 8MiB", &total)
            .args(&["--max-total-bytes", "8MiB"])
            .expect("max-total-bytes", "over the limit of 8MiB"),
    );
    let many = sub("g-many-files");
    for i in 0..3000 {
        std::fs::write(
            many.join(format!("c{i:04}.yaml")),
            format!("{}spec: {{}}\n", CLUSTER.replace("shop", &format!("c{i}"))),
        )
        .unwrap();
    }
    cases.push(Case::new("3,000 small files", &many).exit(Some(0)));

    // Links, special files, odd names.
    let links = sub("g-link-passwd");
    symlink("/etc/passwd", links.join("passwd.yaml")).unwrap();
    cases.push(
        Case::new("a link to /etc/passwd", &links)
            .expect(
                "symlink",
                "passwd.yaml is a symbolic link to a path outside",
            )
            .forbid(passwd),
    );
    let links = sub("g-link-dir");
    symlink("/etc", links.join("etc")).unwrap();
    cases.push(
        Case::new("a link to a directory outside", &links)
            .expect("symlink", "etc is a symbolic link to a path outside")
            .forbid(passwd),
    );
    let links = sub("g-link-dangling");
    symlink(links.join("missing.yaml"), links.join("dangling.yaml")).unwrap();
    cases.push(Case::new("a dangling link", &links).expect("symlink", "cannot be resolved"));
    let links = sub("g-link-loop");
    symlink(links.join("b.yaml"), links.join("a.yaml")).unwrap();
    symlink(links.join("a.yaml"), links.join("b.yaml")).unwrap();
    cases.push(Case::new("a loop of links", &links).expect("symlink", "cannot be resolved"));
    let links = sub("g-link-relative-escape");
    symlink("../../../../../../../../etc/passwd", links.join("up.yaml")).unwrap();
    cases.push(
        Case::new("a relative link climbing out", &links)
            .expect("symlink", "outside")
            .forbid(passwd),
    );
    let links = sub("g-link-hidden");
    symlink("/etc/passwd", links.join(".hidden.yaml")).unwrap();
    std::fs::write(links.join("c.yaml"), format!("{CLUSTER}spec: {{}}\n")).unwrap();
    cases.push(
        Case::new("a hidden link is skipped like any hidden entry", &links)
            .exit(Some(0))
            .forbid(passwd),
    );
    let links = sub("g-link-configmap");
    std::fs::create_dir(links.join("..2026_12_01")).unwrap();
    std::fs::write(
        links.join("..2026_12_01/c.yaml"),
        format!("{CLUSTER}spec: {{}}\n"),
    )
    .unwrap();
    symlink("..2026_12_01", links.join("..data")).unwrap();
    symlink("..data/c.yaml", links.join("c.yaml")).unwrap();
    cases.push(Case::new("a ConfigMap volume's links stay inside: read", &links).exit(Some(0)));
    let fifo_dir = sub("g-fifo");
    let fifo = fifo_dir.join("pipe.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    cases.push(Case::new("a FIFO in the directory", &fifo_dir).expect("file-type", "is a FIFO"));
    cases.push(Case::new("a FIFO as the path", &fifo).expect("file-type", "is a FIFO"));
    cases.push(
        Case::new("/dev/zero as the path", Path::new("/dev/zero"))
            .expect("file-type", "is a character device"),
    );
    let sock_dir = sub("g-socket");
    drop(std::os::unix::net::UnixListener::bind(sock_dir.join("s.yaml")).unwrap());
    cases
        .push(Case::new("a socket in the directory", &sock_dir).expect("file-type", "is a socket"));
    let devlink = sub("g-link-dev");
    symlink("/dev/zero", devlink.join("zero.yaml")).unwrap();
    cases.push(Case::new("a link to /dev/zero", &devlink).expect("symlink", "outside"));
    cases.push(
        Case::new(
            "/proc/self/status: no size, read to its end, values never quoted",
            Path::new("/proc/self/status"),
        )
        .expect("unknown-field", "unknown field `Name`")
        .forbid("ecs-operator"),
    );
    let p = write(
        "g-name-\u{1b}[2J\u{7}.yaml",
        &format!("{CLUSTER}spec: {{bogus: 1}}\n"),
    );
    cases.push(
        Case::new("ESC and BEL in a file name", &p)
            .expect("unknown-field", "g-name-\\u{1b}[2J\\u{7}.yaml"),
    );
    let p = write(
        "g-name-new\nline.yaml",
        &format!("{CLUSTER}spec: {{bogus: 1}}\n"),
    );
    cases.push(Case::new("a newline in a file name", &p).expect("unknown-field", "new\\u{a}line"));
    let bytes_dir = sub("g-not-utf8");
    std::fs::write(
        bytes_dir.join("b.yaml"),
        b"kind: \xff\xfe\x00\x01 root:x:0:0\n",
    )
    .unwrap();
    cases.push(
        Case::new("bytes that are not UTF-8", &bytes_dir)
            .expect("io", "is not UTF-8 text")
            .forbid(passwd),
    );
    cases.push(
        Case::new("a missing path", &dir.join("nothing-here")).expect("io", "does not exist"),
    );
    cases
}

#[test]
fn hostile_inputs_get_their_error_within_bounds() {
    let probe = run(&["/dev/zero".to_string()], Duration::from_secs(30));
    assert!(
        String::from_utf8_lossy(&probe.stdout).contains("character device"),
        "{} is not this tree's binary (another worktree linked it into the shared target \
         directory?): touch src/main.rs and run again, or set HOSTILE_BIN",
        built_binary().display()
    );
    // What the binary takes before reading any input: the bounds are over this.
    let baseline_mib = probe.rss_kib / 1024;
    let growth = baseline_mib.saturating_sub(BASELINE_RSS_MIB);
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = committed();
    let committed_count = cases.len();
    cases.extend(generated(tmp.path()));
    assert!(
        cases.len() >= MIN_CASES,
        "{} cases, at least {MIN_CASES} expected",
        cases.len()
    );
    let mut failures = String::new();
    let mut table = String::new();
    for case in &cases {
        let out = run(&case.args, Duration::from_secs(case.max_seconds));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut fail = |why: String| {
            let _ = writeln!(failures, "{}: {why}", case.name);
        };
        let rss_mib = out.rss_kib as f64 / 1024.0;
        let _ = writeln!(
            table,
            "| {} | {:.0} | {:.2} |",
            case.name.escape_debug(),
            rss_mib,
            out.elapsed.as_secs_f64()
        );
        match (case.exit, out.code) {
            (_, None) => fail(format!("killed (over {} s?)", case.max_seconds)),
            (Some(want), Some(got)) if want != got => {
                fail(format!("exit {got}, expected {want}\n{stdout}{stderr}"))
            }
            (None, Some(got)) if got > 1 => fail(format!("exit {got}\n{stdout}{stderr}")),
            _ => {}
        }
        for (rule, fragment) in &case.expect {
            let found = stdout.lines().any(|l| {
                (rule == "*" || l.ends_with(&format!("[{rule}]"))) && l.contains(fragment.as_str())
            });
            if !found {
                fail(format!(
                    "no [{rule}] finding holding {fragment:?} in:\n{stdout}"
                ));
            }
        }
        for text in &case.forbid {
            if stdout.contains(text.as_str()) || stderr.contains(text.as_str()) {
                fail(format!("printed {text:?}"));
            }
        }
        if let Some(c) = stdout
            .chars()
            .chain(stderr.chars())
            .find(|c| *c != '\n' && ecs_operator::manifest::escape::needs_escape(*c))
        {
            fail(format!("raw control character {c:?} in the output"));
        }
        if out.stdout.len() > MAX_STDOUT_BYTES {
            fail(format!("{} bytes of output", out.stdout.len()));
        }
        let max_rss_mib = case.max_rss_mib + growth;
        if rss_mib > max_rss_mib as f64 {
            fail(format!(
                "peak RSS {rss_mib:.0} MiB, over {max_rss_mib} MiB ({} for a binary of \
                 {BASELINE_RSS_MIB} MiB; this one takes {baseline_mib})",
                case.max_rss_mib
            ));
        }
        if out.elapsed > Duration::from_secs(case.max_seconds) {
            fail(format!("{:?}, over {} s", out.elapsed, case.max_seconds));
        }
    }
    println!(
        "{} cases ({committed_count} committed, {} generated), binary {} (its own peak RSS \
         {baseline_mib} MiB)\n| case | peak RSS MiB | seconds |\n|---|---|---|\n{table}",
        cases.len(),
        cases.len() - committed_count,
        built_binary().display()
    );
    assert!(failures.is_empty(), "{failures}");
}

/// The operator's own tags are what [`ecs_operator::manifest::limits::OPERATOR_TAGS`] takes
/// from AWS's 50 (the tag constants live in `plan`, above `manifest`).
#[test]
fn the_tags_reserved_for_the_operator_are_its_own() {
    use ecs_operator::plan;
    let own = [
        plan::TAG_MANAGED_BY,
        plan::TAG_SOURCE,
        plan::TAG_SPEC_HASH,
        plan::TAG_TASK_DEFINITION,
        plan::TAG_TASK_DEFINITION_HASH,
        plan::TAG_LAST_COMPLETED,
        plan::TAG_HELD_BACK,
    ];
    assert_eq!(own.len(), ecs_operator::manifest::limits::OPERATOR_TAGS);
}

mod mutations {
    //! Valid manifests mutated at random (bytes inserted, lines dropped, duplicated, moved,
    //! re-indented), loaded and validated in process: never a panic, either an error or a clean
    //! load, and a bounded, escaped report.

    use ecs_operator::manifest::{load_str, validate};
    use proptest::prelude::*;
    use std::path::Path;

    const BASE: &str = "apiVersion: ecs-operator/v1
kind: Service
metadata:
  name: api
  annotations: {ecs-operator/prune: 'true'}
spec:
  cluster: shop
  desiredCount: 2
  launchType: FARGATE
  deploymentConfiguration:
    deploymentCircuitBreaker: {enable: true, rollback: true}
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-1, subnet-2]
      securityGroups: [sg-1]
  loadBalancers:
    - {targetGroup: web, containerName: app, containerPort: 8080}
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - name: app
        image: app:1.0
        portMappings: [{containerPort: 8080}]
        environment: {LOG_LEVEL: info, DB_HOST: db}
        secrets: {DB_PASSWORD: 'arn:aws:ssm:us-east-1:1:parameter/db'}
  tags: {team: shop}
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: web}
spec:
  port: 8080
  protocol: HTTP
  vpcId: vpc-1
  targetType: ip
  healthCheck: {path: /healthz}
---
apiVersion: ecs-operator/v1
kind: Cluster
metadata: {name: shop}
spec:
  settings: {containerInsights: enabled}
";

    /// Text that breaks YAML in interesting ways.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ": ",
        "- ",
        ",",
        "&a ",
        "*a",
        "!!str ",
        "!Ref ",
        "|",
        ">",
        "'",
        "\"",
        "\\e",
        "\u{1b}",
        "\u{7}",
        "\u{202e}",
        "\t",
        "\n",
        "\n---\n",
        "\n...\n",
        "#",
        "%",
        "@",
        "`",
        "? ",
        "~",
        "<<: *a",
        "\u{feff}",
        "\0",
        "é",
        "99999999999999999999",
        "-1",
        ".nan",
        "metadata:",
        "spec:",
        "kind: Cluster",
        "\"\\u0000\"",
        "\r\n",
    ];

    #[derive(Debug, Clone)]
    enum Edit {
        Insert(usize, usize),
        Delete(usize, usize),
        DuplicateLine(usize),
        DropLine(usize),
        SwapLines(usize, usize),
        Indent(usize, usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), 0..PIECES.len()).prop_map(|(at, p)| Edit::Insert(at, p)),
            (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
            any::<usize>().prop_map(Edit::DuplicateLine),
            any::<usize>().prop_map(Edit::DropLine),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
            (any::<usize>(), 0usize..6).prop_map(|(at, n)| Edit::Indent(at, n)),
        ]
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut s = text.to_string();
        for e in edits {
            let boundary = |s: &str, at: usize| {
                let mut i = at % (s.len() + 1);
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let mut lines: Vec<String> = s.split_inclusive('\n').map(str::to_string).collect();
            let n = lines.len().max(1);
            match e {
                Edit::Insert(at, p) => {
                    let i = boundary(&s, *at);
                    s.insert_str(i, PIECES[*p]);
                    continue;
                }
                Edit::Delete(at, len) => {
                    let i = boundary(&s, *at);
                    let j = boundary(&s, i + len);
                    if j > i {
                        s.replace_range(i..j, "");
                    }
                    continue;
                }
                _ if lines.is_empty() => continue,
                Edit::DuplicateLine(at) => {
                    let l = lines[at % n].clone();
                    lines.insert(at % n, l);
                }
                Edit::DropLine(at) => {
                    lines.remove(at % n);
                }
                Edit::SwapLines(a, b) => lines.swap(a % n, b % n),
                Edit::Indent(at, k) => lines[at % n].insert_str(0, &" ".repeat(*k)),
            }
            s = lines.concat();
        }
        s
    }

    #[test]
    fn the_base_is_valid() {
        let loaded = load_str(Path::new("m.yaml"), BASE);
        let errors: Vec<String> = validate(&loaded)
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        assert_eq!((loaded.documents.len(), errors), (3, Vec::<String>::new()));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn mutated_manifests_load_or_fail_cleanly(edits in proptest::collection::vec(edit(), 1..8)) {
            let text = apply(BASE, &edits);
            let loaded = load_str(Path::new("m.yaml"), &text);
            let diagnostics = validate(&loaded);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            // Error or valid: a document that failed has an error that says why.
            prop_assert!(loaded.failed.is_empty() || errors > 0, "{text:?}");
            let shown: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
            let bytes: usize = shown.iter().map(|l| l.len()).sum();
            prop_assert!(bytes < 64 << 10, "{bytes} bytes of findings");
            for line in &shown {
                prop_assert!(
                    !line.chars().any(ecs_operator::manifest::escape::needs_escape),
                    "raw control character in {line:?}"
                );
                prop_assert!(line.len() < 2048, "a finding of {} bytes", line.len());
            }
        }
    }
}
