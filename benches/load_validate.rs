//! Load and validate 10,000 generated Service manifests, each with its TargetGroup, one file
//! per service as a large GitOps repository would hold them (20,000 documents in 10,000 files).
//! Goal (issue 2): under 1 second on one core. Results go in BENCHMARKS.md.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ecs_operator::manifest::{load_paths, validate};

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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
