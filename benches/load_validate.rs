//! Load and validate 10,000 generated Service manifests, each with its TargetGroup, one file
//! per service as a large GitOps repository would hold them (20,000 documents in 10,000 files).
//! Goal (issue 2): under 1 second on one core. Results go in BENCHMARKS.md.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ecs_operator::manifest::{load_paths, validate};

const SERVICES: usize = 10_000;

fn service_file(i: usize) -> String {
    let port = 8000 + (i % 1000);
    format!(
        r#"# Generated service {i}
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata:
  name: tg-svc-{i}
spec:
  protocol: HTTP
  port: {port}
  vpcId: vpc-0abc1234def567890
  targetType: ip
  healthCheck:
    path: /health
    intervalSeconds: 15
    timeoutSeconds: 5
    healthyThresholdCount: 2
    unhealthyThresholdCount: 3
    matcher: "200-299"
  attributes:
    deregistration_delay.timeout_seconds: "30"
  tags:
    team: team-{team}
---
apiVersion: ecs-operator/v1
kind: Service
metadata:
  name: svc-{i}
  annotations:
    ecs-operator/adopt: "false"
spec:
  cluster: cluster-{cluster}
  desiredCount: {desired}
  launchType: FARGATE
  taskDefinition:
    cpu: "512"
    memory: 1 GB
    networkMode: awsvpc
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    taskRoleArn: arn:aws:iam::123456789012:role/svc-{i}
    containerDefinitions:
      - name: app
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-{i}:1.{minor}.0
        portMappings:
          - {{name: http, containerPort: {port}, appProtocol: http}}
        environment:
          LOG_LEVEL: info
          SERVICE_INDEX: {i}
        secrets:
          DATABASE_URL: arn:aws:ssm:us-east-1:123456789012:parameter/svc-{i}/database-url
        logConfiguration:
          logDriver: awslogs
          options:
            awslogs-group: /ecs/svc-{i}
            awslogs-region: us-east-1
            awslogs-stream-prefix: app
      - name: log-router
        image: public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0
        essential: false
        memoryReservation: 64
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-0aaa1111bbbb2222c, subnet-0ddd3333eeee4444f]
      securityGroups: [sg-0api5555ffff6666a]
  deploymentConfiguration:
    minimumHealthyPercent: 100
    maximumPercent: 200
    deploymentCircuitBreaker: {{enable: true, rollback: true}}
  healthCheckGracePeriodSeconds: 60
  loadBalancers:
    - {{targetGroup: tg-svc-{i}, containerName: app, containerPort: {port}}}
  tags:
    team: team-{team}
"#,
        team = i % 37,
        cluster = i % 20,
        desired = 1 + i % 4,
        minor = i % 9,
    )
}

/// Writes the generated repository into `dir` (100 folders of 100 files).
fn generate(dir: &Path) -> u64 {
    let mut bytes = 0;
    for i in 0..SERVICES {
        let folder = dir.join(format!("team-{:03}", i / 100));
        std::fs::create_dir_all(&folder).unwrap();
        let text = service_file(i);
        bytes += text.len() as u64;
        std::fs::write(folder.join(format!("svc-{i}.yaml")), text).unwrap();
    }
    bytes
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
