//! (Over 600 lines: one function per behaviour, each small; the list is read as one catalogue.)
//!
//! The conformance cases: one async function per behaviour, run unchanged against every
//! backend. They assert what AWS does; where moto differs (aws-api-facts.md), the case checks
//! that moto really answered differently, says so through `Backend::moto_gap` (printed) and
//! skips only that assertion. If moto is fixed, the assertion runs again.

use std::collections::BTreeMap;

use ecs_operator::cloud::ErrorKind;
use ecs_operator::cloud::model::*;
use ecs_operator::manifest::service::{AwsVpcConfiguration, DeploymentCircuitBreaker};
use ecs_operator::manifest::shorthand::{NameValue, PairList, Secret};
use ecs_operator::manifest::target_group::Matcher;
use ecs_operator::manifest::task_definition::{
    Compatibility, ContainerDefinition, LogConfiguration, LogDriver, NetworkMode, PortMapping,
};
use ecs_operator::manifest::units::{TaskCpu, TaskMemory};

use super::support::{Backend, unique};

// Application Auto Scaling's cases.
pub use super::scaling_cases::*;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn task_definition(family: &str, image: &str) -> TaskDefinition {
    TaskDefinition {
        family: Some(family.to_string()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(256)),
        memory: Some(TaskMemory(512)),
        execution_role_arn: Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into()),
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
                value: ecs_operator::manifest::shorthand::Scalar("info".into()),
            }]),
            secrets: PairList(vec![Secret {
                name: "DB_URL".into(),
                value_from: "arn:aws:ssm:us-east-1:123456789012:parameter/db".into(),
            }]),
            log_configuration: Some(LogConfiguration {
                log_driver: LogDriver::Awslogs,
                options: [(
                    "awslogs-group".to_string(),
                    ecs_operator::manifest::shorthand::Scalar("/ecs/app".into()),
                )]
                .into_iter()
                .collect(),
                secret_options: vec![],
            }),
            ..ContainerDefinition::default()
        }],
        ..TaskDefinition::default()
    }
}

async fn cluster(b: &Backend) -> Cluster {
    b.cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: unique("conf"),
            tags: tags(&[("team", "shop")]),
            ..CreateCluster::default()
        })
        .await
        .expect("create cluster")
}

async fn registered(b: &Backend, family: &str) -> RegisteredTaskDefinition {
    b.cloud
        .ecs
        .register_task_definition(&task_definition(family, "app:1.0.0"), &Tags::new())
        .await
        .expect("register")
}

fn service_input(b: &Backend, cluster: &str, name: &str, task_definition: &str) -> CreateService {
    CreateService {
        cluster: cluster.to_string(),
        name: name.to_string(),
        task_definition: task_definition.to_string(),
        desired_count: Some(2),
        launch_type: Some(LaunchType::Fargate),
        network_configuration: Some(NetworkConfiguration {
            awsvpc_configuration: AwsVpcConfiguration {
                subnets: b.subnets.clone(),
                security_groups: vec![b.security_group.clone()],
                assign_public_ip: None,
            },
        }),
        deployment_configuration: Some(DeploymentConfiguration {
            maximum_percent: Some(200),
            minimum_healthy_percent: Some(100),
            deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                enable: true,
                rollback: true,
            }),
            alarms: None,
            ..Default::default()
        }),
        tags: tags(&[("ecs-operator/managed-by", "conformance")]),
        client_token: unique("token"),
        ..CreateService::default()
    }
}

/// A cluster, a registered task definition and a service in it.
pub(crate) async fn service(b: &Backend) -> (Cluster, RegisteredTaskDefinition, Service) {
    let c = cluster(b).await;
    let td = registered(b, &unique("fam")).await;
    let s = b
        .cloud
        .ecs
        .create_service(&service_input(b, &c.name, &unique("svc"), &td.arn))
        .await
        .expect("create service");
    (c, td, s)
}

fn target_group_input(b: &Backend, name: &str) -> CreateTargetGroup {
    CreateTargetGroup {
        name: name.to_string(),
        protocol: Some(TargetGroupProtocol::Http),
        port: Some(8000),
        vpc_id: Some(b.vpc_id.clone()),
        target_type: Some(TargetType::Ip),
        health_check: TargetGroupHealthCheck {
            path: Some("/health".into()),
            interval_seconds: Some(15),
            healthy_threshold_count: Some(2),
            matcher: Some(Matcher {
                http_code: Some("200-299".into()),
                grpc_code: None,
            }),
            ..TargetGroupHealthCheck::default()
        },
        tags: tags(&[("team", "shop")]),
        ..CreateTargetGroup::default()
    }
}

async fn target_group(b: &Backend) -> TargetGroup {
    let name = unique("tg");
    b.cloud
        .elbv2
        .create_target_group(&target_group_input(b, &name))
        .await
        .expect("create target group")
}

/// AWS rejects a call past its batch limit as invalid; moto answers anything else (the gap
/// named by `gap`).
fn assert_batch_limit_enforced<T: std::fmt::Debug>(
    b: &Backend,
    r: Result<T, ecs_operator::cloud::CloudError>,
    gap: &str,
) {
    let invalid = matches!(&r, Err(e) if e.kind == ErrorKind::Invalid);
    if !invalid && b.moto_gap(gap) {
        return;
    }
    assert_eq!(r.unwrap_err().kind, ErrorKind::Invalid);
}

fn names(n: usize, prefix: &str) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

// ---- clusters ---------------------------------------------------------------------------

pub async fn create_cluster_then_describe_returns_it_with_tags(b: &Backend) {
    let name = unique("conf");
    let mut settings = BTreeMap::new();
    settings.insert("containerInsights".to_string(), "enabled".to_string());
    let created = b
        .cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: name.clone(),
            settings,
            tags: tags(&[("team", "shop")]),
            ..CreateCluster::default()
        })
        .await
        .unwrap();
    assert_eq!(created.name, name);
    assert!(
        created.arn.starts_with("arn:aws:ecs:")
            && created.arn.ends_with(&format!("cluster/{name}")),
        "{}",
        created.arn
    );
    let d = b
        .cloud
        .ecs
        .describe_clusters(std::slice::from_ref(&name))
        .await
        .unwrap();
    assert_eq!(d.found.len(), 1);
    assert!(d.missing.is_empty());
    let c = &d.found[0];
    assert_eq!(c.status, "ACTIVE");
    assert_eq!(c.tags.get("team").map(String::as_str), Some("shop"));
    assert_eq!(
        c.settings.get("containerInsights").map(String::as_str),
        Some("enabled")
    );
}

pub async fn describe_clusters_reports_missing_names_without_failing(b: &Backend) {
    let c = cluster(b).await;
    let missing = unique("nope");
    let d = b
        .cloud
        .ecs
        .describe_clusters(&[c.name.clone(), missing.clone()])
        .await
        .unwrap();
    assert_eq!(d.found.len(), 1);
    assert_eq!(d.found[0].name, c.name);
    assert_eq!(d.missing.len(), 1);
    assert!(d.missing[0].ends_with(&missing), "{:?}", d.missing);
}

pub async fn update_cluster_settings_changes_container_insights(b: &Backend) {
    let c = cluster(b).await;
    let mut settings = BTreeMap::new();
    settings.insert("containerInsights".to_string(), "enabled".to_string());
    let updated = b
        .cloud
        .ecs
        .update_cluster_settings(&c.name, &settings)
        .await
        .unwrap();
    assert_eq!(
        updated
            .settings
            .get("containerInsights")
            .map(String::as_str),
        Some("enabled")
    );
    let d = b
        .cloud
        .ecs
        .describe_clusters(std::slice::from_ref(&c.name))
        .await
        .unwrap();
    assert_eq!(
        d.found[0]
            .settings
            .get("containerInsights")
            .map(String::as_str),
        Some("enabled")
    );
}

pub async fn put_cluster_capacity_providers_sets_the_default_strategy(b: &Backend) {
    let c = cluster(b).await;
    let strategy = vec![CapacityProviderStrategyItem {
        capacity_provider: "FARGATE".into(),
        weight: Some(1),
        base: Some(1),
    }];
    let updated = b
        .cloud
        .ecs
        .put_cluster_capacity_providers(
            &c.name,
            &["FARGATE".into(), "FARGATE_SPOT".into()],
            &strategy,
        )
        .await
        .unwrap();
    assert_eq!(updated.capacity_providers, ["FARGATE", "FARGATE_SPOT"]);
    assert_eq!(
        updated.default_capacity_provider_strategy[0].capacity_provider,
        "FARGATE"
    );
}

pub async fn tag_and_untag_a_cluster(b: &Backend) {
    let c = cluster(b).await;
    b.cloud
        .ecs
        .tag_resource(&c.arn, &tags(&[("env", "prod")]))
        .await
        .unwrap();
    let d = b
        .cloud
        .ecs
        .describe_clusters(std::slice::from_ref(&c.name))
        .await
        .unwrap();
    assert_eq!(d.found[0].tags.get("env").map(String::as_str), Some("prod"));
    b.cloud
        .ecs
        .untag_resource(&c.arn, &["env".into()])
        .await
        .unwrap();
    let d = b
        .cloud
        .ecs
        .describe_clusters(std::slice::from_ref(&c.name))
        .await
        .unwrap();
    assert!(!d.found[0].tags.contains_key("env"));
    assert!(d.found[0].tags.contains_key("team"));
}

pub async fn describe_clusters_rejects_more_than_100_names(b: &Backend) {
    let r = b.cloud.ecs.describe_clusters(&names(101, "c")).await;
    assert_batch_limit_enforced(b, r, "DescribeClusters does not enforce its 100-name limit");
}

// ---- task definitions ---------------------------------------------------------------------

pub async fn register_then_describe_returns_the_definition_and_tags(b: &Backend) {
    let family = unique("fam");
    let want = task_definition(&family, "app:1.0.0");
    let reg = b
        .cloud
        .ecs
        .register_task_definition(&want, &tags(&[("ecs-operator/spec-hash", "abc")]))
        .await
        .unwrap();
    assert_eq!(reg.family, family);
    assert_eq!(reg.revision, 1);
    assert!(
        reg.arn.ends_with(&format!("task-definition/{family}:1")),
        "{}",
        reg.arn
    );
    let got = b
        .cloud
        .ecs
        .describe_task_definition(&reg.arn)
        .await
        .unwrap();
    assert_eq!(got.status, "ACTIVE");
    assert_eq!(
        got.tags.get("ecs-operator/spec-hash").map(String::as_str),
        Some("abc")
    );
    let d = &got.definition;
    assert_eq!(d.cpu, want.cpu);
    assert_eq!(d.memory, want.memory);
    assert_eq!(d.network_mode, want.network_mode);
    assert_eq!(d.execution_role_arn, want.execution_role_arn);
    let c = &d.container_definitions[0];
    let w = &want.container_definitions[0];
    assert_eq!(
        (c.name.as_str(), c.image.as_str()),
        (w.name.as_str(), w.image.as_str())
    );
    assert_eq!(c.environment, w.environment);
    assert_eq!(c.secrets, w.secrets);
    assert_eq!(c.port_mappings[0].container_port, Some(8000));
    assert_eq!(c.log_configuration, w.log_configuration);
    // ECS fills in defaults the diff must normalize.
    assert_eq!(c.essential, Some(true));
    let filled = c.port_mappings[0].protocol.is_some() || c.port_mappings[0].host_port.is_some();
    if filled || !b.moto_gap("RegisterTaskDefinition does not fill portMappings protocol/hostPort")
    {
        assert_eq!(
            c.port_mappings[0].protocol,
            Some(ecs_operator::manifest::task_definition::TransportProtocol::Tcp)
        );
        assert_eq!(c.port_mappings[0].host_port, Some(8000));
    }
    // By family:revision too.
    let by_rev = b
        .cloud
        .ecs
        .describe_task_definition(&format!("{family}:1"))
        .await
        .unwrap();
    assert_eq!(by_rev.arn, reg.arn);
}

pub async fn revisions_count_up_per_family(b: &Backend) {
    let family = unique("fam");
    let r1 = registered(b, &family).await;
    let r2 = registered(b, &family).await;
    let other = registered(b, &unique("fam")).await;
    assert_eq!((r1.revision, r2.revision, other.revision), (1, 2, 1));
}

pub async fn list_task_definitions_returns_active_revisions_of_one_family_in_order(b: &Backend) {
    let family = unique("fam");
    for _ in 0..3 {
        registered(b, &family).await;
    }
    registered(b, &unique("other")).await;
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let page = b
            .cloud
            .ecs
            .list_task_definitions(&family, token.as_deref())
            .await
            .unwrap();
        arns.extend(page.items);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let revs: Vec<&str> = arns.iter().map(|a| a.rsplit(':').next().unwrap()).collect();
    assert_eq!(revs, ["1", "2", "3"], "{arns:?}");
    assert!(arns.iter().all(|a| a.contains(&format!("/{family}:"))));
}

pub async fn deregister_marks_a_revision_inactive(b: &Backend) {
    let family = unique("fam");
    let r1 = registered(b, &family).await;
    registered(b, &family).await;
    let gone = b
        .cloud
        .ecs
        .deregister_task_definition(&r1.arn)
        .await
        .unwrap();
    assert_eq!(gone.status, "INACTIVE");
    let page = b
        .cloud
        .ecs
        .list_task_definitions(&family, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1, "{:?}", page.items);
    assert!(page.items[0].ends_with(":2"));
    // A deregistered revision can still be described.
    let again = b.cloud.ecs.describe_task_definition(&r1.arn).await.unwrap();
    assert_eq!(again.status, "INACTIVE");
}

pub async fn describing_an_unknown_task_definition_fails(b: &Backend) {
    let e = b
        .cloud
        .ecs
        .describe_task_definition(&format!("{}:1", unique("nope")))
        .await
        .unwrap_err();
    // AWS answers ClientException ("Unable to describe task definition").
    assert!(
        matches!(e.kind, ErrorKind::Invalid | ErrorKind::NotFound),
        "{e}"
    );
}

// ---- services -------------------------------------------------------------------------------

pub async fn create_service_then_describe_returns_it_with_tags(b: &Backend) {
    let (c, td, s) = service(b).await;
    assert!(s.arn.contains(":service/"), "{}", s.arn);
    assert_eq!(s.status, "ACTIVE");
    let d = b
        .cloud
        .ecs
        .describe_services(&c.name, std::slice::from_ref(&s.name))
        .await
        .unwrap();
    assert_eq!(d.found.len(), 1);
    let got = &d.found[0];
    assert_eq!(got.desired_count, 2);
    assert_eq!(
        got.task_definition, td.arn,
        "taskDefinition is always an ARN"
    );
    assert_eq!(got.launch_type, Some(LaunchType::Fargate));
    assert_eq!(
        got.tags.get("ecs-operator/managed-by").map(String::as_str),
        Some("conformance")
    );
    let net = got
        .network_configuration
        .as_ref()
        .expect("network configuration");
    let mut subnets = net.awsvpc_configuration.subnets.clone();
    subnets.sort();
    let mut want = b.subnets.clone();
    want.sort();
    assert_eq!(subnets, want);
    assert!(got.primary().is_some(), "a PRIMARY deployment");
    if got.deployment_configuration.is_some()
        || !b.moto_gap("CreateService drops deploymentConfiguration")
    {
        let dc = got
            .deployment_configuration
            .as_ref()
            .expect("deployment configuration");
        assert_eq!(
            dc.deployment_circuit_breaker.as_ref().map(|c| c.enable),
            Some(true)
        );
    }
}

pub async fn describe_services_reports_missing_names_without_failing(b: &Backend) {
    let (c, _, s) = service(b).await;
    let d = b
        .cloud
        .ecs
        .describe_services(&c.name, &[s.name.clone(), "not-there".into()])
        .await
        .unwrap();
    assert_eq!(d.found.len(), 1);
    assert_eq!(d.missing.len(), 1);
    assert!(d.missing[0].ends_with("not-there"), "{:?}", d.missing);
}

pub async fn describe_services_of_a_missing_cluster_is_not_found(b: &Backend) {
    let e = b
        .cloud
        .ecs
        .describe_services(&unique("nope"), &["x".into()])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn describe_services_rejects_more_than_10_names(b: &Backend) {
    let c = cluster(b).await;
    let r = b
        .cloud
        .ecs
        .describe_services(&c.name, &names(11, "s"))
        .await;
    assert_batch_limit_enforced(
        b,
        r,
        "DescribeServices does not enforce its 10-service limit",
    );
}

pub async fn create_service_retried_with_the_same_token_creates_one_service(b: &Backend) {
    let c = cluster(b).await;
    let td = registered(b, &unique("fam")).await;
    let input = service_input(b, &c.name, &unique("svc"), &td.arn);
    let first = b.cloud.ecs.create_service(&input).await.unwrap();
    let again = b.cloud.ecs.create_service(&input).await;
    if again.is_err() && b.moto_gap("CreateService rejects a retry with the same clientToken") {
        return;
    }
    assert_eq!(again.unwrap().arn, first.arn);
    let listed = b.cloud.ecs.list_services(&c.name, None).await.unwrap();
    assert_eq!(listed.items.len(), 1);
}

pub async fn create_service_that_exists_with_a_new_token_is_rejected(b: &Backend) {
    let (c, td, s) = service(b).await;
    let e = b
        .cloud
        .ecs
        .create_service(&service_input(b, &c.name, &s.name, &td.arn))
        .await;
    if e.is_ok() && b.moto_gap("CreateService of an existing service succeeds") {
        return;
    }
    assert_eq!(e.unwrap_err().kind, ErrorKind::Invalid);
}

pub async fn update_service_changes_only_what_it_is_given(b: &Backend) {
    let (c, _, s) = service(b).await;
    let td2 = registered(b, &unique("fam")).await;
    let updated = b
        .cloud
        .ecs
        .update_service(&UpdateService {
            cluster: c.name.clone(),
            name: s.name.clone(),
            task_definition: Some(td2.arn.clone()),
            desired_count: Some(3),
            ..UpdateService::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.desired_count, 3);
    let d = b
        .cloud
        .ecs
        .describe_services(&c.name, std::slice::from_ref(&s.name))
        .await
        .unwrap();
    let got = &d.found[0];
    assert_eq!(got.desired_count, 3);
    if got.task_definition == td2.arn
        || !b.moto_gap("UpdateService stores taskDefinition as sent, not as an ARN")
    {
        assert_eq!(got.task_definition, td2.arn);
    }
    assert_eq!(
        got.launch_type,
        Some(LaunchType::Fargate),
        "unchanged fields stay"
    );
    assert_eq!(
        got.tags.get("ecs-operator/managed-by").map(String::as_str),
        Some("conformance")
    );
}

pub async fn update_of_a_missing_service_is_not_found(b: &Backend) {
    let c = cluster(b).await;
    let e = b
        .cloud
        .ecs
        .update_service(&UpdateService {
            cluster: c.name.clone(),
            name: "not-there".into(),
            desired_count: Some(1),
            ..UpdateService::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn delete_service_with_force_removes_it(b: &Backend) {
    let (c, _, s) = service(b).await;
    let deleted = b
        .cloud
        .ecs
        .delete_service(&c.name, &s.name, true)
        .await
        .unwrap();
    assert_eq!(deleted.name, s.name);
    let d = b
        .cloud
        .ecs
        .describe_services(&c.name, std::slice::from_ref(&s.name))
        .await
        .unwrap();
    // AWS keeps a deleted service visible as DRAINING/INACTIVE for a while, or reports it missing.
    assert!(
        d.found.iter().all(|s| s.status != "ACTIVE"),
        "{:?}",
        d.found
    );
}

pub async fn list_services_returns_every_service_of_the_cluster(b: &Backend) {
    let c = cluster(b).await;
    let td = registered(b, &unique("fam")).await;
    let mut want = Vec::new();
    for _ in 0..3 {
        let name = unique("svc");
        b.cloud
            .ecs
            .create_service(&service_input(b, &c.name, &name, &td.arn))
            .await
            .unwrap();
        want.push(name);
    }
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let page = b
            .cloud
            .ecs
            .list_services(&c.name, token.as_deref())
            .await
            .unwrap();
        got.extend(page.items);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let mut got: Vec<String> = got
        .iter()
        .map(|a| a.rsplit('/').next().unwrap().to_string())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

pub async fn tag_and_untag_a_service(b: &Backend) {
    let (c, _, s) = service(b).await;
    b.cloud
        .ecs
        .tag_resource(&s.arn, &tags(&[("ecs-operator/spec-hash", "h2")]))
        .await
        .unwrap();
    b.cloud
        .ecs
        .untag_resource(&s.arn, &["ecs-operator/managed-by".into()])
        .await
        .unwrap();
    let d = b
        .cloud
        .ecs
        .describe_services(&c.name, std::slice::from_ref(&s.name))
        .await
        .unwrap();
    let t = &d.found[0].tags;
    assert_eq!(
        t.get("ecs-operator/spec-hash").map(String::as_str),
        Some("h2")
    );
    assert!(!t.contains_key("ecs-operator/managed-by"));
}

// ---- tasks ------------------------------------------------------------------------------

/// A service that has stopped no task yet lists no STOPPED task. (Stopped tasks with their
/// stop codes are the simulator's scheduler's: moto runs no service tasks at all, so there is
/// nothing to list on it; the simulator's own tests and `controller_sim` cover them.)
pub async fn list_stopped_tasks_of_a_new_service_is_empty(b: &Backend) {
    let (c, _, s) = service(b).await;
    let page = b
        .cloud
        .ecs
        .list_stopped_tasks(&c.name, &s.name, None)
        .await
        .unwrap();
    assert_eq!(page.items, Vec::<String>::new());
    assert_eq!(page.next_token, None);
}

/// ListTasks for a service that does not exist is ServiceNotFoundException on AWS.
pub async fn list_stopped_tasks_of_a_missing_service_is_not_found(b: &Backend) {
    let c = cluster(b).await;
    let r = b
        .cloud
        .ecs
        .list_stopped_tasks(&c.name, &unique("nope"), None)
        .await;
    if r.is_ok() && b.moto_gap("ListTasks of a missing service lists nothing instead of failing") {
        return;
    }
    assert_eq!(r.unwrap_err().kind, ErrorKind::NotFound);
}

/// DescribeTasks reports an unknown task ARN as missing without failing.
pub async fn describe_tasks_reports_unknown_arns_as_missing(b: &Backend) {
    let c = cluster(b).await;
    let arn = format!(
        "arn:aws:ecs:us-east-1:123456789012:task/{}/0123456789abcdef0123456789abcdef",
        c.name
    );
    let r = b
        .cloud
        .ecs
        .describe_tasks(&c.name, std::slice::from_ref(&arn))
        .await;
    match r {
        Ok(d) => {
            assert!(d.found.is_empty(), "{:?}", d.found);
            if d.missing.is_empty()
                && b.moto_gap(
                    "DescribeTasks leaves an unknown task out instead of reporting it MISSING",
                )
            {
                return;
            }
            assert_eq!(d.missing, [arn]);
        }
        Err(e) => {
            assert!(
                b.moto_gap(
                    "DescribeTasks fails on an unknown task instead of reporting it MISSING"
                ),
                "{e}"
            );
        }
    }
}

pub async fn describe_tasks_rejects_more_than_100_arns(b: &Backend) {
    let c = cluster(b).await;
    let r = b.cloud.ecs.describe_tasks(&c.name, &names(101, "t")).await;
    assert_batch_limit_enforced(b, r, "DescribeTasks does not enforce its 100-task limit");
}

// ---- service deployments (issue 13) --------------------------------------------------------

/// A new service names its service deployment (`currentServiceDeployment`), which
/// DescribeServiceDeployments describes and ListServiceDeployments lists.
pub async fn a_new_service_names_its_service_deployment(b: &Backend) {
    let (c, _, s) = service(b).await;
    let Some(arn) = s.current_service_deployment.clone() else {
        assert!(b.moto_gap("CreateService answers no currentServiceDeployment"));
        return;
    };
    assert!(arn.contains(":service-deployment/"), "{arn}");
    let d = b
        .cloud
        .ecs
        .describe_service_deployments(std::slice::from_ref(&arn))
        .await
        .unwrap();
    assert_eq!(d.found.len(), 1);
    assert_eq!(d.found[0].service_arn, s.arn);
    assert!(d.found[0].status.is_some());
    let listed = b
        .cloud
        .ecs
        .list_service_deployments(&c.name, &s.name, None)
        .await
        .unwrap();
    assert!(listed.items.iter().any(|i| i.arn == arn), "{listed:?}");
}

/// DescribeServiceDeployments takes at most 20 ARNs; an unknown one is missing, not an error.
/// Moto 5.2.1 implements neither call: the backend answers "not implemented".
pub async fn describe_service_deployments_reports_unknown_arns_and_its_limit(b: &Backend) {
    let arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/unknown".to_string();
    let r = b
        .cloud
        .ecs
        .describe_service_deployments(std::slice::from_ref(&arn))
        .await;
    if let Err(e) = &r
        && e.is_not_implemented()
        && b.moto_gap("no DescribeServiceDeployments (HTTP 500, not implemented)")
    {
        return;
    }
    let d = r.unwrap();
    assert_eq!(d.found.len(), 0);
    assert_eq!(d.missing, [arn]);
    let r = b
        .cloud
        .ecs
        .describe_service_deployments(&names(21, "arn:sd"))
        .await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Invalid);
}

// ---- target groups --------------------------------------------------------------------------

pub async fn create_target_group_then_describe_by_name(b: &Backend) {
    let tg = target_group(b).await;
    assert!(
        tg.arn.starts_with("arn:aws:elasticloadbalancing:"),
        "{}",
        tg.arn
    );
    let got = b
        .cloud
        .elbv2
        .describe_target_groups(std::slice::from_ref(&tg.name))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.arn, tg.arn);
    assert_eq!(g.protocol, Some(TargetGroupProtocol::Http));
    assert_eq!(g.port, Some(8000));
    assert_eq!(g.target_type, Some(TargetType::Ip));
    assert_eq!(g.vpc_id.as_deref(), Some(b.vpc_id.as_str()));
    let hc = &g.health_check;
    assert_eq!(hc.path.as_deref(), Some("/health"));
    assert_eq!(hc.interval_seconds, Some(15));
    assert_eq!(hc.healthy_threshold_count, Some(2));
    assert_eq!(
        hc.matcher.as_ref().and_then(|m| m.http_code.as_deref()),
        Some("200-299")
    );
    // Defaults ELBv2 fills in.
    assert_eq!(hc.timeout_seconds, Some(5));
    assert_eq!(hc.unhealthy_threshold_count, Some(2));
}

pub async fn describe_target_groups_fails_whole_when_a_name_is_missing(b: &Backend) {
    let tg = target_group(b).await;
    let e = b
        .cloud
        .elbv2
        .describe_target_groups(&[tg.name.clone(), unique("nope")])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn describe_target_groups_rejects_more_than_20_names(b: &Backend) {
    let r = b.cloud.elbv2.describe_target_groups(&names(21, "tg")).await;
    assert_batch_limit_enforced(
        b,
        r,
        "DescribeTargetGroups does not enforce its 20-name limit",
    );
}

pub async fn describe_target_groups_by_page_lists_every_group(b: &Backend) {
    let a = target_group(b).await;
    let c = target_group(b).await;
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = b
            .cloud
            .elbv2
            .describe_target_groups_page(marker.as_deref(), 1)
            .await
            .unwrap();
        assert!(page.items.len() <= 1 || b.moto_gap("DescribeTargetGroups ignores PageSize"));
        seen.extend(page.items.into_iter().map(|t| t.arn));
        marker = page.next_token;
        if marker.is_none() {
            break;
        }
    }
    assert!(seen.contains(&a.arn) && seen.contains(&c.arn));
}

pub async fn creating_a_target_group_name_twice_with_other_settings_conflicts(b: &Backend) {
    let tg = target_group(b).await;
    let mut input = target_group_input(b, &tg.name);
    input.port = Some(9000);
    let e = b.cloud.elbv2.create_target_group(&input).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
}

pub async fn modify_target_group_changes_the_health_check(b: &Backend) {
    let tg = target_group(b).await;
    let hc = TargetGroupHealthCheck {
        path: Some("/ready".into()),
        interval_seconds: Some(30),
        unhealthy_threshold_count: Some(4),
        ..TargetGroupHealthCheck::default()
    };
    let m = b
        .cloud
        .elbv2
        .modify_target_group(&tg.arn, &hc)
        .await
        .unwrap();
    assert_eq!(m.health_check.path.as_deref(), Some("/ready"));
    let got = b
        .cloud
        .elbv2
        .describe_target_groups(std::slice::from_ref(&tg.name))
        .await
        .unwrap();
    let hc = &got[0].health_check;
    assert_eq!(hc.path.as_deref(), Some("/ready"));
    assert_eq!(hc.interval_seconds, Some(30));
    assert_eq!(hc.unhealthy_threshold_count, Some(4));
    assert_eq!(
        hc.healthy_threshold_count,
        Some(2),
        "fields not given are left alone"
    );
}

pub async fn target_group_attributes_have_defaults_and_can_be_changed(b: &Backend) {
    let tg = target_group(b).await;
    let attrs = b
        .cloud
        .elbv2
        .describe_target_group_attributes(&tg.arn)
        .await
        .unwrap();
    assert_eq!(
        attrs
            .get("deregistration_delay.timeout_seconds")
            .map(String::as_str),
        Some("300")
    );
    let mut change = BTreeMap::new();
    change.insert(
        "deregistration_delay.timeout_seconds".to_string(),
        "30".to_string(),
    );
    let after = b
        .cloud
        .elbv2
        .modify_target_group_attributes(&tg.arn, &change)
        .await
        .unwrap();
    assert_eq!(
        after
            .get("deregistration_delay.timeout_seconds")
            .map(String::as_str),
        Some("30")
    );
    let again = b
        .cloud
        .elbv2
        .describe_target_group_attributes(&tg.arn)
        .await
        .unwrap();
    assert_eq!(
        again
            .get("deregistration_delay.timeout_seconds")
            .map(String::as_str),
        Some("30")
    );
}

pub async fn target_group_tags_can_be_read_added_and_removed(b: &Backend) {
    let a = target_group(b).await;
    let c = target_group(b).await;
    let arns = vec![a.arn.clone(), c.arn.clone()];
    b.cloud
        .elbv2
        .add_tags(&arns, &tags(&[("ecs-operator/managed-by", "conf")]))
        .await
        .unwrap();
    b.cloud
        .elbv2
        .remove_tags(std::slice::from_ref(&c.arn), &["team".into()])
        .await
        .unwrap();
    let t = b.cloud.elbv2.describe_tags(&arns).await.unwrap();
    assert_eq!(t[&a.arn].get("team").map(String::as_str), Some("shop"));
    assert_eq!(
        t[&a.arn].get("ecs-operator/managed-by").map(String::as_str),
        Some("conf")
    );
    assert!(!t[&c.arn].contains_key("team"));
    assert_eq!(
        t[&c.arn].get("ecs-operator/managed-by").map(String::as_str),
        Some("conf")
    );
}

pub async fn describe_tags_rejects_more_than_20_arns(b: &Backend) {
    let tg = target_group(b).await;
    let arns = vec![tg.arn.clone(); 21];
    let r = b.cloud.elbv2.describe_tags(&arns).await;
    assert_batch_limit_enforced(b, r, "DescribeTags does not enforce its 20-ARN limit");
}

pub async fn delete_target_group_removes_it(b: &Backend) {
    let tg = target_group(b).await;
    b.cloud.elbv2.delete_target_group(&tg.arn).await.unwrap();
    let e = b
        .cloud
        .elbv2
        .describe_target_groups(std::slice::from_ref(&tg.name))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

pub async fn a_new_target_group_has_no_targets(b: &Backend) {
    let tg = target_group(b).await;
    let health = b.cloud.elbv2.describe_target_health(&tg.arn).await.unwrap();
    assert!(health.is_empty(), "{health:?}");
}

pub async fn target_health_of_a_missing_group_is_not_found(b: &Backend) {
    let tg = target_group(b).await;
    b.cloud.elbv2.delete_target_group(&tg.arn).await.unwrap();
    let e = b
        .cloud
        .elbv2
        .describe_target_health(&tg.arn)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn a_service_behind_a_target_group_keeps_its_attachment(b: &Backend) {
    let c = cluster(b).await;
    let td = registered(b, &unique("fam")).await;
    let tg = target_group(b).await;
    let mut input = service_input(b, &c.name, &unique("svc"), &td.arn);
    input.load_balancers = vec![ServiceLoadBalancer {
        target_group_arn: tg.arn.clone(),
        container_name: "app".into(),
        container_port: 8000,
        advanced_configuration: None,
    }];
    input.health_check_grace_period_seconds = Some(60);
    let s = b.cloud.ecs.create_service(&input).await.unwrap();
    let d = b
        .cloud
        .ecs
        .describe_services(&c.name, std::slice::from_ref(&s.name))
        .await
        .unwrap();
    assert_eq!(d.found[0].load_balancers, input.load_balancers);
    if d.found[0].health_check_grace_period_seconds.is_some()
        || !b.moto_gap("CreateService drops healthCheckGracePeriodSeconds")
    {
        assert_eq!(d.found[0].health_check_grace_period_seconds, Some(60));
    }
}

/// The task definition with every member of RegisterTaskDefinition set at every depth (the
/// fixture codegen/shapes.py derives from the AWS model), with a family of this case.
fn every_member(family: &str) -> ecs_operator::cloud::model::TaskDefinition {
    let json = include_str!("../fixtures/every-member/RegisterTaskDefinitionRequest.json");
    let mut td: ecs_operator::cloud::model::TaskDefinition =
        serde_json::from_str(json).expect("the fixture parses");
    td.family = Some(family.to_string());
    td
}

pub async fn every_member_of_a_task_definition_comes_back(b: &Backend) {
    let family = unique("every");
    let want = every_member(&family);
    let reg = b
        .cloud
        .ecs
        .register_task_definition(&want, &Tags::new())
        .await
        .unwrap();
    let got = b
        .cloud
        .ecs
        .describe_task_definition(&reg.arn)
        .await
        .unwrap();
    // The definition's own tags come back among the revision's tags, not inside it.
    for t in want.tags.iter() {
        assert_eq!(got.tags.get(&t.key), Some(&t.value.0), "tag {}", t.key);
    }
    let want = ecs_operator::cloud::model::TaskDefinition {
        tags: Default::default(),
        ..want
    };
    // Moto 5.2.1 does not keep enableFaultInjection; any other difference fails on both.
    const MOTO_DROPS: &[&str] = &["enableFaultInjection"];
    let differ: Vec<String> = ecs_operator::diff::compare(&want, &got.definition)
        .iter()
        .map(|c| c.path.to_string())
        .collect();
    let unexplained: Vec<&String> = differ
        .iter()
        .filter(|p| {
            !(MOTO_DROPS.contains(&p.as_str())
                && b.moto_gap(&format!("DescribeTaskDefinition does not return {p}")))
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "members that did not come back: {unexplained:?}"
    );
}

/// A value of a generated shape with every member set (tests/fixtures/every-member).
fn every<T: serde::de::DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).expect("the fixture parses")
}

/// The members of the service's generated shapes, every one set at every depth, as
/// CreateService sends them, then as UpdateService sends them: each comes back.
pub async fn every_member_of_a_service_comes_back(b: &Backend) {
    let c = cluster(b).await;
    let td = registered(b, &unique("fam")).await;
    let mut deployment: DeploymentConfiguration = every(include_str!(
        "../fixtures/every-member/DeploymentConfiguration.json"
    ));
    // Percentages a rolling deployment takes (the fixture's are arbitrary numbers).
    deployment.maximum_percent = Some(200);
    deployment.minimum_healthy_percent = Some(50);
    let registries: ServiceRegistry = every(include_str!(
        "../fixtures/every-member/ServiceRegistry.json"
    ));
    let connect: ServiceConnectConfiguration = every(include_str!(
        "../fixtures/every-member/ServiceConnectConfiguration.json"
    ));
    let volume: ServiceVolumeConfiguration = every(include_str!(
        "../fixtures/every-member/ServiceVolumeConfiguration.json"
    ));
    let lattice: VpcLatticeConfiguration = every(include_str!(
        "../fixtures/every-member/VpcLatticeConfiguration.json"
    ));
    let mut input = service_input(b, &c.name, &unique("svc"), &td.arn);
    input.deployment_configuration = Some(deployment.clone());
    input.service_registries = vec![registries.clone()];
    input.service_connect_configuration = Some(connect.clone());
    input.volume_configurations = vec![volume.clone()];
    input.vpc_lattice_configurations = vec![lattice.clone()];
    input.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Disabled);
    let created = b.cloud.ecs.create_service(&input).await.expect("create");
    // What a service reads back, member by member (None: not reported).
    let members = |s: &Service| -> Vec<(&'static str, Option<serde_json::Value>)> {
        let j = |v: serde_json::Value| (!v.is_null() && v != serde_json::json!([])).then_some(v);
        vec![
            (
                "deploymentConfiguration",
                j(serde_json::json!(s.deployment_configuration)),
            ),
            (
                "serviceRegistries",
                j(serde_json::json!(s.service_registries)),
            ),
            (
                "serviceConnectConfiguration",
                j(serde_json::json!(s.service_connect_configuration)),
            ),
            (
                "volumeConfigurations",
                j(serde_json::json!(s.volume_configurations)),
            ),
            (
                "vpcLatticeConfigurations",
                j(serde_json::json!(s.vpc_lattice_configurations)),
            ),
            (
                "availabilityZoneRebalancing",
                j(serde_json::json!(s.availability_zone_rebalancing)),
            ),
        ]
    };
    let want = vec![
        ("deploymentConfiguration", serde_json::json!(deployment)),
        ("serviceRegistries", serde_json::json!([registries])),
        ("serviceConnectConfiguration", serde_json::json!(connect)),
        ("volumeConfigurations", serde_json::json!([volume])),
        ("vpcLatticeConfigurations", serde_json::json!([lattice])),
        ("availabilityZoneRebalancing", serde_json::json!("DISABLED")),
    ];
    let read = || async {
        let d = b
            .cloud
            .ecs
            .describe_services(&c.name, std::slice::from_ref(&created.name))
            .await
            .unwrap();
        d.found[0].clone()
    };
    // CreateService: moto 5.2.1 drops deploymentConfiguration (aws-api-facts.md) and the
    // newer members; any other difference fails on both backends.
    let came_back = |got: &Service, call: &str| {
        for ((name, got), (_, want)) in members(got).into_iter().zip(&want) {
            if got.as_ref() != Some(want)
                && !(got.is_none() && b.moto_gap(&format!("{call} does not keep {name}")))
            {
                panic!("{name} did not come back from {call}: {got:?}, want {want}");
            }
        }
    };
    came_back(&read().await, "CreateService");
    // UpdateService: every member, again.
    b.cloud
        .ecs
        .update_service(&UpdateService {
            cluster: c.name.clone(),
            name: created.name.clone(),
            deployment_configuration: Some(deployment.clone()),
            service_registries: Some(vec![registries.clone()]),
            service_connect_configuration: Some(connect.clone()),
            volume_configurations: Some(vec![volume.clone()]),
            vpc_lattice_configurations: Some(vec![lattice.clone()]),
            availability_zone_rebalancing: Some(AvailabilityZoneRebalancing::Disabled),
            ..UpdateService::default()
        })
        .await
        .expect("update");
    came_back(&read().await, "UpdateService");
}

/// The cluster's generated shapes with every member set, on CreateCluster and on UpdateCluster:
/// each comes back. The Service Connect namespace is compared by its name (AWS answers with
/// the namespace's ARN).
pub async fn every_member_of_a_cluster_comes_back(b: &Backend) {
    let configuration: ClusterConfiguration = every(include_str!(
        "../fixtures/every-member/ClusterConfiguration.json"
    ));
    let defaults: ClusterServiceConnectDefaultsRequest = every(include_str!(
        "../fixtures/every-member/ClusterServiceConnectDefaultsRequest.json"
    ));
    let check = |c: &Cluster, call: &str| {
        let got = c.configuration.as_ref();
        if got != Some(&configuration)
            && !(got.is_none() && b.moto_gap(&format!("{call} does not keep configuration")))
        {
            panic!("configuration did not come back from {call}: {got:?}");
        }
        let got = c.service_connect_defaults.as_ref().map(|d| {
            d.namespace
                .rsplit_once('/')
                .map_or(d.namespace.as_str(), |(_, n)| n)
                .to_string()
        });
        if got.as_ref() != Some(&defaults.namespace)
            && !(got.is_none()
                && b.moto_gap(&format!("{call} does not keep serviceConnectDefaults")))
        {
            panic!("serviceConnectDefaults did not come back from {call}: {got:?}");
        }
    };
    let name = unique("every");
    b.cloud
        .ecs
        .create_cluster(&CreateCluster {
            name: name.clone(),
            configuration: Some(configuration.clone()),
            service_connect_defaults: Some(defaults.clone()),
            ..CreateCluster::default()
        })
        .await
        .expect("create");
    let read = || async {
        b.cloud
            .ecs
            .describe_clusters(std::slice::from_ref(&name))
            .await
            .unwrap()
            .found
            .remove(0)
    };
    check(&read().await, "CreateCluster");
    b.cloud
        .ecs
        .update_cluster_configuration(&name, Some(&configuration), Some(&defaults))
        .await
        .expect("update");
    check(&read().await, "UpdateCluster");
}

/// Every member of CreateTargetGroup set (health check members included, none at ELBv2's
/// default): each comes back from DescribeTargetGroups.
pub async fn every_member_of_a_target_group_comes_back(b: &Backend) {
    use ecs_operator::manifest::target_group::{IpAddressType, ProtocolVersion};
    let input = CreateTargetGroup {
        name: unique("every"),
        protocol: Some(TargetGroupProtocol::Http),
        protocol_version: Some(ProtocolVersion::Http2),
        port: Some(8080),
        vpc_id: Some(b.vpc_id.clone()),
        target_type: Some(TargetType::Ip),
        ip_address_type: Some(IpAddressType::Ipv4),
        health_check: TargetGroupHealthCheck {
            enabled: Some(true),
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(ecs_operator::manifest::shorthand::Scalar("8081".into())),
            path: Some("/ready".into()),
            interval_seconds: Some(20),
            timeout_seconds: Some(7),
            healthy_threshold_count: Some(3),
            unhealthy_threshold_count: Some(4),
            matcher: Some(Matcher {
                http_code: Some("200,204".into()),
                grpc_code: None,
            }),
        },
        target_control_port: Some(9000),
        tags: tags(&[("team", "shop")]),
    };
    b.cloud
        .elbv2
        .create_target_group(&input)
        .await
        .expect("create");
    let got = b
        .cloud
        .elbv2
        .describe_target_groups(std::slice::from_ref(&input.name))
        .await
        .unwrap()
        .remove(0);
    let d = |v: &dyn std::fmt::Debug| format!("{v:?}");
    let pairs = [
        ("Protocol", d(&got.protocol), d(&input.protocol)),
        (
            "ProtocolVersion",
            d(&got.protocol_version),
            d(&input.protocol_version),
        ),
        ("Port", d(&got.port), d(&input.port)),
        ("VpcId", d(&got.vpc_id), d(&input.vpc_id)),
        ("TargetType", d(&got.target_type), d(&input.target_type)),
        (
            "IpAddressType",
            d(&got.ip_address_type),
            d(&input.ip_address_type),
        ),
        ("HealthCheck*", d(&got.health_check), d(&input.health_check)),
        (
            "TargetControlPort",
            d(&got.target_control_port),
            d(&input.target_control_port),
        ),
    ];
    for (member, got, want) in pairs {
        if got != want
            && !(got == "None"
                && b.moto_gap(&format!("DescribeTargetGroups does not return {member}")))
        {
            panic!("{member} did not come back: {got}, want {want}");
        }
    }
}
// The listener rule cases (issue 14) live in their own file.
pub use super::rules::*;
