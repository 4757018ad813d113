//! Load and validate 10,000 generated Service manifests, each with its TargetGroup, one file
//! per service as a large GitOps repository would hold them (20,000 documents in 10,000 files).
//! Goal (issue 2): under 1 second on one core. Results go in BENCHMARKS.md.
//!
//! `one_save_10k_services` is what the controller does for one saved file in that repository
//! (issue 15): the cached directory load, validation, and the next desired state with its
//! snapshot diff. Its goal is work proportional to what changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use ecs_operator::controller::desired::Desired;
use ecs_operator::controller::source_adapter::DirCaches;
use ecs_operator::manifest::{LoadLimits, load_paths, validate};
use ecs_operator::source::Changes;

mod fleet;

const SERVICES: usize = 10_000;

/// 20 clusters, as when the figures were first taken.
const CLUSTERS: usize = 20;

/// Writes the generated repository into `dir` (100 folders of 100 files).
fn generate(dir: &Path) -> u64 {
    fleet::generate(dir, SERVICES, CLUSTERS, 0)
}

/// One save as the controller's directory source makes it: the load (of `named` only, when
/// given), validation, and the next desired state in place of `desired`; `split` is shown the
/// time of each part.
fn save(
    caches: &mut DirCaches,
    dir: &Path,
    desired: &mut Desired,
    named: Option<&BTreeSet<PathBuf>>,
    split: &mut dyn FnMut(String),
) -> Changes {
    let t = Instant::now();
    let (loaded, touched) = caches.load(dir, &LoadLimits::default(), named);
    let load_time = t.elapsed();
    let t = Instant::now();
    let (next, changes) = match touched {
        Some(touched) => Desired::next_touched(desired, loaded, None, &touched),
        None => Desired::next(desired, loaded, None),
    };
    let next_time = t.elapsed();
    let t = Instant::now();
    *desired = next;
    let drop_time = t.elapsed();
    split(format!(
        "load and validate {load_time:?}, next desired state {next_time:?}, dropping the \
         previous one {drop_time:?}"
    ));
    changes
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let bytes = generate(dir.path());
    let roots: Vec<PathBuf> = vec![dir.path().to_path_buf()];
    // Sanity check outside the timing: everything loads and validates clean. The split of one
    // pass between loading and validating is printed for BENCHMARKS.md.
    let t = std::time::Instant::now();
    let loaded = load_paths(&roots);
    let load_time = t.elapsed();
    assert_eq!(loaded.documents.len(), 2 * SERVICES);
    let t = std::time::Instant::now();
    let diags = validate(&loaded);
    let validate_time = t.elapsed();
    eprintln!("one pass: load {load_time:?}, validate {validate_time:?}");
    assert!(diags.is_empty(), "{:?}", &diags[..diags.len().min(3)]);
    eprintln!(
        "generated {SERVICES} services + {SERVICES} target groups: {} files, {:.1} MiB",
        loaded.files,
        bytes as f64 / (1024.0 * 1024.0)
    );

    let mut group = c.benchmark_group("manifests");
    group.sample_size(10);
    group.bench_function("load_and_validate_10k_services", |b| {
        b.iter(|| {
            let loaded = load_paths(&roots);
            let diags = validate(&loaded);
            (loaded.documents.len(), diags.len())
        })
    });
    group.bench_function("load_only_10k_services", |b| {
        b.iter(|| load_paths(&roots).documents.len())
    });

    // One save as the controller makes it: a warm cache, one file rewritten with a new release
    // between iterations, the watcher naming it (or, `walked`, losing its events: every file
    // stat'ed).
    let mut caches = DirCaches::default();
    let mut desired = Desired::default();
    save(&mut caches, dir.path(), &mut desired, None, &mut |_| {});
    let mut release = 1;
    let saved = dir.path().join("team-000").join("svc-0.yaml");
    let named = BTreeSet::from([saved.clone()]);
    // The split of one save between its parts, for BENCHMARKS.md.
    for walked in [false, false, true] {
        release += 1;
        std::fs::write(&saved, fleet::service_file(0, CLUSTERS, release)).unwrap();
        let hint = (!walked).then_some(&named);
        save(&mut caches, dir.path(), &mut desired, hint, &mut |split| {
            eprintln!("one save{}: {split}", if walked { " (walked)" } else { "" })
        });
    }
    for (name, walked) in [
        ("one_save_10k_services", false),
        ("one_save_walked_10k_services", true),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    release += 1;
                    std::fs::write(&saved, fleet::service_file(0, CLUSTERS, release)).unwrap();
                },
                |()| {
                    let hint = (!walked).then_some(&named);
                    let changes = save(&mut caches, dir.path(), &mut desired, hint, &mut |_| {});
                    assert_eq!(changes.changed.len(), 1, "{changes:?}");
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
