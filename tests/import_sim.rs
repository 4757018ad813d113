//! `import` against the simulator: services created with the Cloud API directly (as a console
//! user or another tool would), imported, loaded back and validated, then planned. Without
//! `--adopt` the plan refuses them (not ours); with it the only differences are the ownership
//! tags, and after one apply everything is in sync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ecs_operator::apply::apply;
use ecs_operator::cloud::Cloud;
use ecs_operator::cloud::model::{
    CapacityProviderStrategyItem, CreateCluster, CreateService, CreateTargetGroup,
    DeploymentConfiguration, LaunchType, NetworkConfiguration, ServiceLoadBalancer, Tags,
    TargetGroupHealthCheck, TargetGroupProtocol, TargetType, TaskDefinition,
};
use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::import::{self, ImportError, ImportRequest};
use ecs_operator::manifest::service::{AwsVpcConfiguration, DeploymentCircuitBreaker};
use ecs_operator::manifest::shorthand::{NameValue, PairList, Scalar, Secret};
use ecs_operator::manifest::task_definition::{
    Compatibility, ContainerDefinition, HealthCheck, NetworkMode, PortMapping,
};
use ecs_operator::manifest::units::{TaskCpu, TaskMemory};
use ecs_operator::manifest::{Document, load_paths, validate};
use ecs_operator::observe::Observer;
use ecs_operator::plan::{ResourcePlan, Status, TAG_MANAGED_BY};
use ecs_operator::planner::plan_all;

const INSTANCE: &str = "import-test";
const CLUSTER: &str = "legacy";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api/db-AbCdEf";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn sim() -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    })
}

fn port(p: u32) -> PortMapping {
    PortMapping {
        name: None,
        container_port: Some(p),
        host_port: None,
        protocol: None,
        app_protocol: None,
        container_port_range: None,
    }
}

fn fargate_task(family: &str, image: &str, container_port: u32) -> TaskDefinition {
    TaskDefinition {
        family: Some(family.into()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(512)),
        memory: Some(TaskMemory(1024)),
        execution_role_arn: Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into()),
        container_definitions: vec![ContainerDefinition {
            name: "app".into(),
            image: image.into(),
            port_mappings: vec![port(container_port)],
            ..ContainerDefinition::default()
        }],
        ..TaskDefinition::default()
    }
}

fn awsvpc() -> Option<NetworkConfiguration> {
    Some(NetworkConfiguration {
        awsvpc_configuration: AwsVpcConfiguration {
            subnets: vec!["subnet-2".into(), "subnet-1".into()],
            security_groups: vec!["sg-1".into()],
            assign_public_ip: None,
        },
    })
}

/// A cluster made by hand: an API behind a target group (environment, a secret by ARN, a
/// container health check, circuit breaker on), and a Fargate Spot worker with no load
/// balancer and a task definition family of another name.
async fn legacy_account(cloud: &Cloud) {
    let hand: Tags = [("team".to_string(), "shop".to_string())].into();
    cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: CLUSTER.into(),
            settings: [("containerInsights".to_string(), "enabled".to_string())].into(),
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
            tags: hand.clone(),
            ..CreateCluster::default()
        })
        .await
        .unwrap();
    let tg = cloud
        .elbv2
        .create_target_group(&CreateTargetGroup {
            name: "legacy-api".into(),
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(8000),
            vpc_id: Some("vpc-1".into()),
            target_type: Some(TargetType::Ip),
            health_check: TargetGroupHealthCheck {
                path: Some("/health".into()),
                interval_seconds: Some(15),
                healthy_threshold_count: Some(2),
                ..TargetGroupHealthCheck::default()
            },
            tags: hand.clone(),
            ..CreateTargetGroup::default()
        })
        .await
        .unwrap();
    cloud
        .elbv2
        .modify_target_group_attributes(
            &tg.arn,
            &[(
                "deregistration_delay.timeout_seconds".to_string(),
                "30".to_string(),
            )]
            .into(),
        )
        .await
        .unwrap();

    let mut api = fargate_task("api", "registry.example/api:1.4.2", 8000);
    let c = &mut api.container_definitions[0];
    c.environment = PairList(vec![
        NameValue {
            name: "LOG_LEVEL".into(),
            value: Scalar("info".into()),
        },
        NameValue {
            name: "PORT".into(),
            value: Scalar("8000".into()),
        },
    ]);
    c.secrets = PairList(vec![Secret {
        name: "DATABASE_URL".into(),
        value_from: SECRET_ARN.into(),
    }]);
    c.health_check = Some(HealthCheck {
        command: vec!["CMD".into(), "/app/healthcheck".into()],
        interval: None,
        timeout: Some(3),
        retries: None,
        start_period: Some(20),
    });
    let api = cloud
        .ecs
        .register_task_definition(&api, &Tags::new())
        .await
        .unwrap();
    cloud
        .ecs
        .create_service(&CreateService {
            cluster: CLUSTER.into(),
            name: "api".into(),
            task_definition: api.arn,
            desired_count: Some(2),
            launch_type: Some(LaunchType::Fargate),
            network_configuration: awsvpc(),
            deployment_configuration: Some(DeploymentConfiguration {
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: true,
                    rollback: true,
                }),
                ..DeploymentConfiguration::default()
            }),
            load_balancers: vec![ServiceLoadBalancer {
                target_group_arn: tg.arn.clone(),
                container_name: "app".into(),
                container_port: 8000,
                advanced_configuration: None,
            }],
            health_check_grace_period_seconds: Some(60),
            tags: hand.clone(),
            client_token: "hand-api".into(),
            ..CreateService::default()
        })
        .await
        .unwrap();

    let worker = cloud
        .ecs
        .register_task_definition(
            &fargate_task("jobs-runner", "registry.example/worker:2.0.1", 9000),
            &Tags::new(),
        )
        .await
        .unwrap();
    cloud
        .ecs
        .create_service(&CreateService {
            cluster: CLUSTER.into(),
            name: "worker".into(),
            task_definition: worker.arn,
            desired_count: Some(1),
            capacity_provider_strategy: vec![CapacityProviderStrategyItem {
                capacity_provider: "FARGATE_SPOT".into(),
                weight: Some(1),
                base: None,
            }],
            network_configuration: awsvpc(),
            deployment_configuration: Some(DeploymentConfiguration {
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: true,
                    rollback: false,
                }),
                ..DeploymentConfiguration::default()
            }),
            client_token: "hand-worker".into(),
            ..CreateService::default()
        })
        .await
        .unwrap();
}

/// Imports into a fresh directory and loads what was written; asserts it is valid.
async fn import_and_load(cloud: &Cloud, adopt: bool) -> (tempfile::TempDir, Vec<Document>) {
    let request = ImportRequest {
        cluster: CLUSTER.into(),
        services: vec![],
        adopt,
    };
    let imported = import::read(cloud, &request).await.expect("import");
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    let dir = tempfile::tempdir().unwrap();
    let written = import::write(dir.path(), &imported, false).expect("write");
    let relative: Vec<PathBuf> = written
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        relative,
        [
            "legacy/cluster.yaml",
            "legacy/target-groups/legacy-api.yaml",
            "legacy/api.yaml",
            "legacy/worker.yaml"
        ]
        .map(PathBuf::from)
    );
    let loaded = load_paths(&[dir.path().to_path_buf()]);
    let errors: Vec<String> = validate(&loaded)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(loaded.is_complete());
    assert_eq!(loaded.documents.len(), 4);
    (dir, loaded.documents)
}

fn by_key(plans: &[ResourcePlan]) -> BTreeMap<String, &ResourcePlan> {
    plans.iter().map(|p| (p.key.to_string(), p)).collect()
}

#[test]
fn imported_manifests_of_unowned_services_are_refused_as_not_ours() {
    runtime().block_on(async {
        let sim = sim();
        legacy_account(&sim.cloud()).await;
        let (_dir, docs) = import_and_load(&sim.cloud(), false).await;
        let observer = Observer::new(sim.cloud());
        let (plans, _) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        assert_eq!(plans.len(), 4);
        for p in &plans {
            assert_eq!(p.status, Status::Blocked, "{}: {p:#?}", p.key);
            let reason = p.reason.as_deref().unwrap_or_default();
            assert!(
                reason.contains("not created by ecs-operator"),
                "{}: {reason}",
                p.key
            );
        }
    });
}

#[test]
fn imported_and_adopted_manifests_differ_only_by_ownership_tags_and_are_in_sync_after_one_apply() {
    runtime().block_on(async {
        let sim = sim();
        let cloud = sim.cloud();
        legacy_account(&cloud).await;
        let (dir, docs) = import_and_load(&cloud, true).await;

        let api = std::fs::read_to_string(dir.path().join("legacy/api.yaml")).unwrap();
        assert!(
            api.contains(&format!("DATABASE_URL: {SECRET_ARN}")),
            "{api}"
        );
        assert!(api.contains("LOG_LEVEL: info"), "{api}");
        assert!(api.contains("targetGroup: legacy-api"), "{api}");
        assert!(api.contains("ecs-operator/adopt: 'true'"), "{api}");
        let worker = std::fs::read_to_string(dir.path().join("legacy/worker.yaml")).unwrap();
        assert!(worker.contains("family: jobs-runner"), "{worker}");

        let observer = Observer::new(cloud.clone());
        let (plans, arns) = plan_all(&observer, &docs, INSTANCE).await.unwrap();
        for p in &plans {
            assert_eq!(p.status, Status::Update, "{}: {p:#?}", p.key);
            for c in &p.changes {
                assert!(
                    c.to_string().starts_with("tags.ecs-operator/"),
                    "{}: only the ownership tags differ, not {c}",
                    p.key
                );
            }
            let ops: Vec<&str> = p.steps.iter().map(|s| s.operation()).collect();
            assert!(
                ops.iter()
                    .all(|op| matches!(*op, "TagResource" | "AddTags")),
                "{}: {ops:?}",
                p.key
            );
        }
        let applied = apply(&cloud, &observer, &plans, arns, |_, _| {}).await;
        for a in &applied {
            assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
        }
        sim.reset_calls();

        let (plans, _) = plan_all(&Observer::new(cloud.clone()), &docs, INSTANCE)
            .await
            .unwrap();
        let plans = by_key(&plans);
        for (key, p) in &plans {
            assert_eq!(p.status, Status::InSync, "{key}: {:#?}", p.changes);
        }
        assert!(
            !sim.calls().contains_key("RegisterTaskDefinition"),
            "adopting registers no revision: {:?}",
            sim.calls()
        );
        let live = cloud
            .ecs
            .describe_services(CLUSTER, &["api".into(), "worker".into()])
            .await
            .unwrap();
        for s in &live.found {
            assert_eq!(
                s.tags.get(TAG_MANAGED_BY).map(String::as_str),
                Some(INSTANCE),
                "{}",
                s.name
            );
            assert!(s.task_definition.ends_with(":1"), "{}", s.task_definition);
        }
    });
}

#[test]
fn a_named_service_is_imported_alone_and_a_missing_one_is_an_error() {
    runtime().block_on(async {
        let sim = sim();
        let cloud = sim.cloud();
        legacy_account(&cloud).await;
        let one = import::read(
            &cloud,
            &ImportRequest {
                cluster: CLUSTER.into(),
                services: vec!["worker".into()],
                adopt: false,
            },
        )
        .await
        .unwrap();
        let paths: Vec<&Path> = one.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(
            paths,
            [
                Path::new("legacy/cluster.yaml"),
                Path::new("legacy/worker.yaml")
            ]
        );
        let e = import::read(
            &cloud,
            &ImportRequest {
                cluster: CLUSTER.into(),
                services: vec!["api".into(), "nope".into()],
                adopt: false,
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, ImportError::ServicesNotFound { services, .. } if services == &["nope"]),
            "{e}"
        );
        let e = import::read(
            &cloud,
            &ImportRequest {
                cluster: "absent".into(),
                ..ImportRequest::default()
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ImportError::ClusterNotFound(_)), "{e}");
    });
}
