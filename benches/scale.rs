//! Issue 15's figures at 100, 1,000 and 10,000 services (results in BENCHMARKS.md, "Scale").
//! Run: `cargo bench --bench scale` (`-- 100 1000` for some sizes; `-- --write` also puts the
//! table into BENCHMARKS.md between its `scale` markers).
//!
//! Each size runs in its own child process (so that its peak RSS is its own), on the generated
//! fleet of `fleet/` (each service behind its own target group, 10 clusters), through the
//! library calls `diff` and `apply` make, against the simulator with AWS's throttling buckets
//! and the client-side limiter at its defaults, on paused tokio time: the AWS-bound figures are
//! virtual seconds (what the same calls would take against AWS's buckets, the same on every
//! run); the CPU figures are this process's own CPU time.
//!
//! - load + validate: wall time of `load_paths` + `validate`, best of 3;
//! - diff, empty account: virtual time, calls and CPU of planning every document;
//! - apply from empty: virtual time against the RegisterTaskDefinition floor (burst 20, then
//!   1 per second), throttled responses;
//! - diff, converged: virtual time, read calls against the batching minimum, CPU;
//! - image roll: every service gets a new image, `apply` in a new process (a fresh observer):
//!   calls per service, virtual time against the floor, throttled;
//! - diff after the roll: the reads a new process makes (each rolled service's revision once);
//! - peak RSS of the child, and RSS of the simulator's state alone (a second child loads the
//!   saved state): the operator's share is the difference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ecs_operator::apply::apply;
use ecs_operator::cloud::Cloud;
use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::manifest::{Document, load_paths, validate};
use ecs_operator::metrics::{Metrics, instrument};
use ecs_operator::observe::Observer;
use ecs_operator::plan::Status;
use ecs_operator::planner::plan_all;
use ecs_operator::ratelimit::{RateLimited, RateLimits};

mod fleet;

const CLUSTERS: usize = 10;
const INSTANCE: &str = "bench";
const SIZES: [usize; 3] = [100, 1_000, 10_000];

fn is_read(op: &str) -> bool {
    op.starts_with("Describe") || op.starts_with("List")
}

fn sum(calls: &BTreeMap<String, u64>, read: bool) -> u64 {
    calls
        .iter()
        .filter(|(op, _)| is_read(op) == read)
        .map(|(_, n)| n)
        .sum()
}

/// This process's CPU time (user + system) from /proc (10 ms ticks).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the command name: state is field 0, utime 11, stime 12.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A line of /proc/self/status in MiB (`VmHWM`, `VmRSS`).
fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn throttled(metrics: &Metrics) -> f64 {
    metrics
        .encode()
        .lines()
        .filter(|l| {
            l.starts_with("ecs_operator_api_requests_total") && l.contains("outcome=\"throttled\"")
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

fn write_fleet(dir: &Path, services: usize, release: u32) {
    fleet::generate(dir, services, CLUSTERS, release);
    std::fs::write(dir.join("clusters.yaml"), fleet::clusters_file(CLUSTERS)).unwrap();
}

fn load(dir: &Path) -> Vec<Document> {
    let loaded = load_paths(&[dir.to_path_buf()]);
    let diagnostics = validate(&loaded);
    assert!(diagnostics.is_empty(), "{:?}", &diagnostics[..1]);
    loaded.documents
}

/// The RegisterTaskDefinition floor of `n` registrations: a burst of 20, then 1 per second.
fn floor(n: u64) -> f64 {
    n.saturating_sub(20) as f64
}

/// One figure: `name value`, read back by the parent.
fn out(name: &str, value: impl std::fmt::Display) {
    println!("{name} {value}");
}

/// Batching minimum of reading `services` services (spread over `CLUSTERS` clusters) with one
/// target group each: DescribeClusters by 100, DescribeServices by 10 per cluster,
/// DescribeTargetGroups by 20 names (by pages of 400 from 400 names on: the account holds
/// just these groups), DescribeTags by 20; no attributes (their tags match the manifests).
fn read_minimum(services: usize) -> usize {
    let per_cluster: usize = (0..CLUSTERS)
        .map(|c| (services / CLUSTERS + usize::from(c < services % CLUSTERS)).div_ceil(10))
        .sum();
    let groups = if services >= ecs_operator::observe::PAGE_FROM_NAMES {
        services.div_ceil(ecs_operator::cloud::MAX_TARGET_GROUP_PAGE)
    } else {
        services.div_ceil(20)
    };
    CLUSTERS.div_ceil(100) + per_cluster + groups + services.div_ceil(20)
}

/// Plans (`diff`) with a new observer; returns the plans, the virtual and CPU time.
async fn diff(
    cloud: &Cloud,
    docs: &[Document],
) -> (Vec<ecs_operator::plan::ResourcePlan>, Duration, Duration) {
    let (t, c) = (tokio::time::Instant::now(), cpu());
    let observer = Observer::new(cloud.clone()).with_field_changes();
    let (plans, _) = plan_all(&observer, docs, INSTANCE).await.expect("diff");
    (plans, t.elapsed(), cpu() - c)
}

/// `apply` with a new observer; returns the virtual time. Every resource must apply.
async fn apply_all(cloud: &Cloud, docs: &[Document]) -> Duration {
    let t = tokio::time::Instant::now();
    let observer = Observer::new(cloud.clone());
    let (plans, arns) = plan_all(&observer, docs, INSTANCE).await.expect("plan");
    let applied = apply(cloud, &observer, &plans, arns, |_, _| {}).await;
    let failed: Vec<_> = applied.iter().filter(|a| a.error.is_some()).collect();
    assert!(
        failed.is_empty(),
        "{} failed, first {:?}",
        failed.len(),
        failed.first()
    );
    t.elapsed()
}

/// The child's work for one size.
fn run_size(services: usize, state_file: &Path) {
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), services, 0);
    let mut best = Duration::MAX;
    let mut docs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        docs = load(dir.path());
        best = best.min(t.elapsed());
    }
    assert_eq!(docs.len(), 2 * services + CLUSTERS);
    out("load_validate_s", format!("{:.3}", best.as_secs_f64()));
    // The new image in the same files (the source tag names the file: the same paths).
    write_fleet(dir.path(), services, 1);
    let rolled = load(dir.path());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Sim::new(SimConfig::default()); // AWS's buckets, throttling on
        let metrics = Metrics::new();
        let cloud = RateLimited::with_wait_hook(
            instrument(sim.cloud(), &metrics),
            &RateLimits::default(),
            metrics.rate_limit_hook(),
        )
        .cloud();

        let (plans, virt, cpu_s) = diff(&cloud, &docs).await;
        assert!(plans.iter().all(|p| p.status == Status::Create));
        let calls = sim.calls();
        out("diff_empty_virtual_s", format!("{:.1}", virt.as_secs_f64()));
        out("diff_empty_cpu_s", format!("{:.2}", cpu_s.as_secs_f64()));
        out("diff_empty_calls", sum(&calls, true) + sum(&calls, false));
        out("diff_empty_by_op", format!("{calls:?}").replace(' ', ""));

        sim.reset_calls();
        let (c, before) = (cpu(), throttled(&metrics));
        let virt = apply_all(&cloud, &docs).await;
        let calls = sim.calls();
        let registers = calls.get("RegisterTaskDefinition").copied().unwrap_or(0);
        out("converge_virtual_s", format!("{:.0}", virt.as_secs_f64()));
        out("converge_floor_s", format!("{:.0}", floor(registers)));
        out(
            "converge_ratio",
            format!("{:.3}", virt.as_secs_f64() / floor(registers).max(1.0)),
        );
        out("converge_throttled", throttled(&metrics) - before);
        out(
            "converge_cpu_s",
            format!("{:.2}", (cpu() - c).as_secs_f64()),
        );
        out("converge_calls", sum(&calls, true) + sum(&calls, false));

        tokio::time::sleep(Duration::from_secs(120)).await; // the tasks start; buckets refill
        sim.reset_calls();
        let (plans, virt, cpu_s) = diff(&cloud, &docs).await;
        let not_in_sync = plans.iter().filter(|p| p.status != Status::InSync).count();
        assert_eq!(
            not_in_sync,
            0,
            "{:?}",
            plans.iter().find(|p| p.status != Status::InSync)
        );
        let calls = sim.calls();
        let reads = sum(&calls, true);
        out(
            "diff_converged_virtual_s",
            format!("{:.1}", virt.as_secs_f64()),
        );
        out(
            "diff_converged_cpu_s",
            format!("{:.2}", cpu_s.as_secs_f64()),
        );
        out("diff_converged_reads", reads);
        out("diff_converged_minimum", read_minimum(services));
        out(
            "diff_converged_ratio",
            format!("{:.3}", reads as f64 / read_minimum(services) as f64),
        );

        tokio::time::sleep(Duration::from_secs(120)).await;
        sim.reset_calls();
        let (c, before) = (cpu(), throttled(&metrics));
        let virt = apply_all(&cloud, &rolled).await;
        let calls = sim.calls();
        let registers = calls.get("RegisterTaskDefinition").copied().unwrap_or(0);
        let all = sum(&calls, true) + sum(&calls, false);
        assert_eq!(registers as usize, services, "one registration per service");
        out("roll_calls", all);
        out(
            "roll_calls_per_service",
            format!("{:.3}", all as f64 / services as f64),
        );
        out("roll_by_op", format!("{calls:?}").replace(' ', ""));
        out("roll_virtual_s", format!("{:.0}", virt.as_secs_f64()));
        out("roll_floor_s", format!("{:.0}", floor(registers)));
        out(
            "roll_ratio",
            format!("{:.3}", virt.as_secs_f64() / floor(registers).max(1.0)),
        );
        out("roll_throttled", throttled(&metrics) - before);
        out("roll_cpu_s", format!("{:.2}", (cpu() - c).as_secs_f64()));

        sim.reset_calls();
        let (plans, virt, _) = diff(&cloud, &rolled).await;
        assert!(plans.iter().all(|p| p.status == Status::InSync));
        let calls = sim.calls();
        out(
            "diff_after_roll_virtual_s",
            format!("{:.1}", virt.as_secs_f64()),
        );
        out("diff_after_roll_reads", sum(&calls, true));
        sim.save(state_file).expect("save the simulated account");
    });
    out("peak_rss_mib", format!("{:.0}", status_mib("VmHWM:")));
}

/// The second child: RSS of the simulator's state alone.
fn run_sim_only(state_file: &Path) {
    let base = status_mib("VmRSS:");
    let sim = Sim::load(SimConfig::default(), state_file).expect("load the state");
    out("sim_rss_mib", format!("{:.0}", status_mib("VmRSS:") - base));
    drop(sim);
}

fn child(args: &[&str]) -> BTreeMap<String, String> {
    let exe = std::env::current_exe().unwrap();
    let t = Instant::now();
    let output = Command::new(exe)
        .args(args)
        .output()
        .expect("run the child");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut figures: BTreeMap<String, String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    figures.insert(
        "bench_wall_s".into(),
        format!("{:.0}", t.elapsed().as_secs_f64()),
    );
    figures
}

fn table(results: &[(usize, BTreeMap<String, String>)]) -> String {
    let rows: &[(&str, &str)] = &[
        ("load + validate, wall (best of 3)", "load_validate_s"),
        ("diff, empty account: virtual s", "diff_empty_virtual_s"),
        ("diff, empty account: calls", "diff_empty_calls"),
        ("diff, empty account: CPU s", "diff_empty_cpu_s"),
        ("apply from empty: virtual s", "converge_virtual_s"),
        (
            "apply from empty: RegisterTaskDefinition floor s",
            "converge_floor_s",
        ),
        ("apply from empty: ratio to the floor", "converge_ratio"),
        ("apply from empty: throttled", "converge_throttled"),
        ("diff, converged: virtual s", "diff_converged_virtual_s"),
        ("diff, converged: read calls", "diff_converged_reads"),
        (
            "diff, converged: batching minimum",
            "diff_converged_minimum",
        ),
        ("diff, converged: ratio", "diff_converged_ratio"),
        (
            "diff, converged: CPU s (a full read + plan pass)",
            "diff_converged_cpu_s",
        ),
        ("image roll (apply): calls", "roll_calls"),
        (
            "image roll (apply): calls per service",
            "roll_calls_per_service",
        ),
        ("image roll (apply): virtual s", "roll_virtual_s"),
        ("image roll (apply): ratio to the floor", "roll_ratio"),
        ("image roll (apply): throttled", "roll_throttled"),
        (
            "diff after the roll (new process): read calls",
            "diff_after_roll_reads",
        ),
        (
            "diff after the roll: virtual s",
            "diff_after_roll_virtual_s",
        ),
        ("peak RSS, operator + simulator, MiB", "peak_rss_mib"),
        ("RSS of the simulator's state alone, MiB", "sim_rss_mib"),
        (
            "the operator's share (the difference), MiB",
            "operator_share_mib",
        ),
        ("benchmark wall time, s", "bench_wall_s"),
    ];
    let mut t = String::from("| figure |");
    for (n, _) in results {
        t.push_str(&format!(" {n} services |"));
    }
    t.push_str("\n|---|");
    for _ in results {
        t.push_str("---|");
    }
    t.push('\n');
    for (label, key) in rows {
        t.push_str(&format!("| {label} |"));
        for (_, f) in results {
            t.push_str(&format!(" {} |", f.get(*key).map_or("-", String::as_str)));
        }
        t.push('\n');
    }
    for (n, f) in results {
        if let Some(by_op) = f.get("roll_by_op") {
            t.push_str(&format!(
                "\nImage roll at {n} services, calls by operation: `{by_op}`\n"
            ));
        }
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, n, file] = args.as_slice()
        && flag == "--size"
    {
        return run_size(n.parse().expect("a size"), &PathBuf::from(file));
    }
    if let [flag, file] = args.as_slice()
        && flag == "--sim-only"
    {
        return run_sim_only(Path::new(file));
    }
    let write = args.iter().any(|a| a == "--write");
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = SIZES.to_vec();
    }
    let mut results = Vec::new();
    for n in sizes {
        let state = tempfile::NamedTempFile::new().unwrap();
        let path = state.path().to_str().unwrap().to_string();
        let mut figures = child(&["--size", &n.to_string(), &path]);
        let mut sim_only = child(&["--sim-only", &path]);
        sim_only.remove("bench_wall_s");
        figures.extend(sim_only);
        if let (Some(all), Some(sim)) = (figures.get("peak_rss_mib"), figures.get("sim_rss_mib")) {
            let share = all.parse::<f64>().unwrap_or(0.0) - sim.parse::<f64>().unwrap_or(0.0);
            figures.insert("operator_share_mib".into(), format!("{share:.0}"));
        }
        eprintln!("{n} services: {figures:?}");
        results.push((n, figures));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let text = format!(
        "Measured {} on {cores} cores with `cargo bench --bench scale -- --write`.\n\n{}",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        table(&results)
    );
    println!("{text}");
    if write {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- scale:begin -->\n", "<!-- scale:end -->");
        let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
            panic!("BENCHMARKS.md has no scale markers");
        };
        let updated = format!("{}{begin}{text}\n{}", &doc[..a], &doc[b..]);
        std::fs::write(&path, updated).unwrap();
    }
}
