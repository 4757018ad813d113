//! Load and validate 10,000 generated Service manifests, each with its TargetGroup, one file
//! per service as a large GitOps repository would hold them (20,000 documents in 10,000 files).
//! Goal (issue 2): under 1 second on one core. Results go in BENCHMARKS.md.
//!
//! `one_save_10k_services` is what the controller does for one saved file in that repository
//! (issue 15): the cached directory load, validation, and the next desired state with its
//! snapshot diff. Its goal is work proportional to what changed.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ecs_operator::controller::desired::{Desired, validated_with};
use ecs_operator::manifest::validate::ValidationCache;
use ecs_operator::manifest::{LoadCache, load_dir_cached, load_paths, validate};

mod fleet;

const SERVICES: usize = 10_000;

/// 20 clusters, as when the figures were first taken.
const CLUSTERS: usize = 20;

/// Writes the generated repository into `dir` (100 folders of 100 files).
fn generate(dir: &Path) -> u64 {
    fleet::generate(dir, SERVICES, CLUSTERS, 0)
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

    // One save: a warm cache, one file rewritten with a new release between iterations.
    let mut cache = LoadCache::default();
    let mut findings = ValidationCache::default();
    let (mut desired, _) = Desired::next(
        &Desired::default(),
        validated_with(load_dir_cached(dir.path(), &mut cache), &mut findings),
        None,
    );
    let mut release = 1;
    let saved = dir.path().join("team-000").join("svc-0.yaml");
    // The split of one save between its parts, for BENCHMARKS.md.
    for _ in 0..3 {
        release += 1;
        std::fs::write(&saved, fleet::service_file(0, CLUSTERS, release)).unwrap();
        let t = std::time::Instant::now();
        let loaded = load_dir_cached(dir.path(), &mut cache);
        let load_time = t.elapsed();
        let t = std::time::Instant::now();
        let loaded = validated_with(loaded, &mut findings);
        let validate_time = t.elapsed();
        let t = std::time::Instant::now();
        let (next, _) = Desired::next(&desired, loaded, None);
        let next_time = t.elapsed();
        let t = std::time::Instant::now();
        desired = next;
        let drop_time = t.elapsed();
        eprintln!(
            "one save: cached load {load_time:?}, validate {validate_time:?}, \
             next desired state {next_time:?}, dropping the previous one {drop_time:?}"
        );
    }
    group.bench_function("one_save_10k_services", |b| {
        b.iter_batched(
            || {
                release += 1;
                std::fs::write(&saved, fleet::service_file(0, CLUSTERS, release)).unwrap();
            },
            |()| {
                let loaded = validated_with(load_dir_cached(dir.path(), &mut cache), &mut findings);
                let (next, changes) = Desired::next(&desired, loaded, None);
                assert_eq!(changes.changed.len(), 1, "{changes:?}");
                desired = next;
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
