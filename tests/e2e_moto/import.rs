//! `import` end to end: a cluster, a target group and services created directly with the SDK
//! (the `aws` backend, as a person or another tool would), then the real binary imports them.
//! Without `--adopt` the diff refuses them as not ours and changes nothing else; with it the
//! diff differs only by the ownership tags, `apply` sets them, and `diff` then exits 0.

use std::path::Path;

use ecs_operator::cloud::model::{
    CreateCluster, CreateService, CreateTargetGroup, LaunchType, NetworkConfiguration,
    ServiceLoadBalancer, Tags, TargetGroupHealthCheck, TargetGroupProtocol, TargetType,
    TaskDefinition,
};
use ecs_operator::manifest::service::AwsVpcConfiguration;
use ecs_operator::manifest::shorthand::{NameValue, PairList, Scalar, Secret};
use ecs_operator::manifest::task_definition::{
    Compatibility, ContainerDefinition, HealthCheck, NetworkMode, PortMapping,
};
use ecs_operator::manifest::units::{TaskCpu, TaskMemory};
use serde_json::Value;

use crate::common::moto::moto_server;
use crate::support::App;

const MANAGED_BY: &str = "ecs-operator/managed-by";
const SECRET_ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/legacy/db-url";

fn task(family: &str, image: &str) -> TaskDefinition {
    TaskDefinition {
        family: Some(family.to_string()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(256)),
        memory: Some(TaskMemory(512)),
        container_definitions: vec![ContainerDefinition {
            name: "app".into(),
            image: image.into(),
            port_mappings: vec![PortMapping {
                name: None,
                container_port: Some(8000),
                host_port: None,
                protocol: None,
                app_protocol: None,
                container_port_range: None,
            }],
            environment: PairList(vec![NameValue {
                name: "LOG_LEVEL".into(),
                value: Scalar("info".into()),
            }]),
            secrets: PairList(vec![Secret {
                name: "DATABASE_URL".into(),
                value_from: SECRET_ARN.into(),
            }]),
            health_check: Some(HealthCheck {
                command: vec!["CMD".into(), "/app/check".into()],
                interval: Some(10),
                timeout: None,
                retries: None,
                start_period: None,
            }),
            ..ContainerDefinition::default()
        }],
        ..TaskDefinition::default()
    }
}

/// The cluster, the API's target group, the API behind it and a worker with no load balancer,
/// none of them tagged as the operator's.
async fn made_by_hand(app: &App) {
    let n = &app.names;
    let cloud = &app.cloud;
    let hand: Tags = [("team".to_string(), "legacy".to_string())].into();
    cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: n.cluster.clone(),
            tags: hand.clone(),
            ..CreateCluster::default()
        })
        .await
        .expect("CreateCluster");
    let tg = cloud
        .elbv2
        .create_target_group(&CreateTargetGroup {
            name: n.api_target_group.clone(),
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(8000),
            vpc_id: Some(moto_server().vpc_id.clone()),
            target_type: Some(TargetType::Ip),
            health_check: TargetGroupHealthCheck {
                path: Some("/health".into()),
                ..TargetGroupHealthCheck::default()
            },
            tags: hand.clone(),
            ..CreateTargetGroup::default()
        })
        .await
        .expect("CreateTargetGroup");
    let network = Some(NetworkConfiguration {
        awsvpc_configuration: AwsVpcConfiguration {
            subnets: app.subnets().to_vec(),
            security_groups: vec![app.security_group().to_string()],
            assign_public_ip: None,
        },
    });
    for (name, lb) in [(&n.api, Some(&tg.arn)), (&n.web, None)] {
        let td = cloud
            .ecs
            .register_task_definition(&task(name, &format!("legacy/{name}:1.0.0")), &Tags::new())
            .await
            .expect("RegisterTaskDefinition");
        cloud
            .ecs
            .create_service(&CreateService {
                cluster: n.cluster.clone(),
                name: name.clone(),
                task_definition: td.arn,
                desired_count: Some(1),
                launch_type: Some(LaunchType::Fargate),
                network_configuration: network.clone(),
                load_balancers: lb
                    .map(|arn| ServiceLoadBalancer {
                        target_group_arn: arn.clone(),
                        container_name: "app".into(),
                        container_port: 8000,
                        advanced_configuration: None,
                    })
                    .into_iter()
                    .collect(),
                tags: hand.clone(),
                client_token: format!("{name}-by-hand"),
                ..CreateService::default()
            })
            .await
            .expect("CreateService by hand");
    }
}

/// `diff --output json` of `dir`, parsed.
fn diff_json(app: &App, dir: &Path, instance: &str) -> (i32, Value) {
    let run = app.run(
        "diff",
        &[
            dir.to_str().unwrap(),
            "--output",
            "json",
            "--instance",
            instance,
        ],
    );
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run}"));
    (run.code, json)
}

#[tokio::test]
async fn imported_services_diff_clean_but_for_ownership_and_are_in_sync_after_an_adopting_apply() {
    let app = App::api_only().await;
    let n = app.names.clone();
    let instance = format!("import-{}", n.cluster);
    made_by_hand(&app).await;
    let out = tempfile::tempdir().unwrap();

    // Without --adopt: refused as not ours, nothing else to say.
    let plain = out.path().join("plain");
    app.run(
        "import",
        &["--cluster", &n.cluster, "--out", plain.to_str().unwrap()],
    )
    .expect_code(0);
    let (code, json) = diff_json(&app, &plain, &instance);
    assert_eq!(code, 2, "{json:#}");
    let resources = json["resources"].as_array().unwrap();
    assert_eq!(
        resources.len(),
        4,
        "cluster, target group, two services: {json:#}"
    );
    for r in resources {
        assert_eq!(r["status"], "blocked", "{r:#}");
        assert!(
            r["reason"]
                .as_str()
                .unwrap()
                .contains("not created by ecs-operator"),
            "{r:#}"
        );
    }

    // With --adopt: every difference is an ownership tag.
    let adopted = out.path().join("adopted");
    let run = app.run(
        "import",
        &[
            "--cluster",
            &n.cluster,
            "--out",
            adopted.to_str().unwrap(),
            "--adopt",
        ],
    );
    run.expect_code(0);
    let api_yaml =
        std::fs::read_to_string(adopted.join(&n.cluster).join(format!("{}.yaml", n.api))).unwrap();
    assert!(
        api_yaml.contains(&format!("DATABASE_URL: {SECRET_ARN}")),
        "{api_yaml}"
    );
    assert!(
        api_yaml.contains(&format!("targetGroup: {}", n.api_target_group)),
        "{api_yaml}"
    );
    assert!(!api_yaml.contains(MANAGED_BY), "{api_yaml}");
    let (code, json) = diff_json(&app, &adopted, &instance);
    assert_eq!(code, 2, "{json:#}");
    for r in json["resources"].as_array().unwrap() {
        assert_eq!(r["status"], "update", "{r:#}");
        for c in r["changes"].as_array().unwrap() {
            let path = c["path"].as_str().unwrap();
            assert!(path.starts_with("tags.ecs-operator/"), "{r:#}");
        }
    }

    let dir = adopted.to_str().unwrap();
    app.run("apply", &[dir, "--instance", &instance])
        .expect_code(0);
    app.run("diff", &[dir, "--instance", &instance])
        .expect_code(0);
    for name in [&n.api, &n.web] {
        let s = app.service(name).await;
        assert_eq!(
            s.tags.get(MANAGED_BY),
            Some(&instance),
            "{name}: {:?}",
            s.tags
        );
        assert_eq!(s.tags.get("team").map(String::as_str), Some("legacy"));
        assert!(s.task_definition.ends_with(":1"), "no new revision: {s:?}");
    }
    let tg = app.api_target_group().await;
    let tags = app
        .cloud
        .elbv2
        .describe_tags(std::slice::from_ref(&tg.arn))
        .await
        .unwrap();
    assert_eq!(tags[&tg.arn].get(MANAGED_BY), Some(&instance), "{tags:?}");
}

#[tokio::test]
async fn import_refuses_to_overwrite_and_names_a_missing_service() {
    let app = App::api_only().await;
    let n = app.names.clone();
    made_by_hand(&app).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let args = ["--cluster", &n.cluster, "--service", &n.web, "--out", dir];
    let first = app.run("import", &args);
    first.expect_code(0);
    assert!(
        first.stdout.contains("imported: 1 services, 0 skipped"),
        "{first}"
    );
    let again = app.run("import", &args);
    again.expect_code(1);
    assert!(again.stderr.contains("exist already"), "{again}");
    let mut forced = args.to_vec();
    forced.push("--force");
    app.run("import", &forced).expect_code(0);
    let missing = app.run(
        "import",
        &["--cluster", &n.cluster, "--service", "absent", "--out", dir],
    );
    missing.expect_code(1);
    assert!(missing.stderr.contains("absent"), "{missing}");
}
