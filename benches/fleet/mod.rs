//! The generated fleet the benchmarks load: realistic Fargate services, each in its own file
//! with its TargetGroup (two containers, environment, secrets, logs, awsvpc, circuit breaker,
//! a load balancer; a full health check, attributes and tags on the target group).

#![allow(dead_code)]

use std::path::Path;

/// Service `i` with its target group, in cluster `cluster-{i % clusters}`, its app image at
/// patch level `release`.
pub fn service_file(i: usize, clusters: usize, release: u32) -> String {
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
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-{i}:1.{minor}.{release}
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
        cluster = i % clusters,
        desired = 1 + i % 4,
        minor = i % 9,
    )
}

/// The Cluster manifests `cluster-0` .. `cluster-{n-1}`, in one file.
pub fn clusters_file(n: usize) -> String {
    (0..n)
        .map(|c| format!("apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: cluster-{c}\nspec: {{}}\n"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Writes `services` services (100 folders of up to 100 files) into `dir`; returns the bytes
/// written.
pub fn generate(dir: &Path, services: usize, clusters: usize, release: u32) -> u64 {
    let mut bytes = 0;
    for i in 0..services {
        let folder = dir.join(format!("team-{:03}", i / 100));
        std::fs::create_dir_all(&folder).unwrap();
        let text = service_file(i, clusters, release);
        bytes += text.len() as u64;
        std::fs::write(folder.join(format!("svc-{i}.yaml")), text).unwrap();
    }
    bytes
}
