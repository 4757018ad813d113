//! (Over 600 lines: one test per API behaviour on one shared fixture.)
//!
//! The API surface: ARNs, the defaults ECS and ELBv2 fill in, AWS's errors and batch limits,
//! CreateService idempotency, paging.

use std::collections::BTreeMap;

use super::*;
use crate::cloud::model::{
    DeploymentControllerType, IpAddressType, ProtocolVersion, SchedulingStrategy,
    TargetGroupHealthCheck,
};
use crate::cloud::{
    CloudError, ErrorKind, MAX_DESCRIBE_CLUSTERS, MAX_DESCRIBE_SERVICES,
    MAX_DESCRIBE_TARGET_GROUPS, MAX_TAG_ARNS,
};
use crate::manifest::shorthand::Scalar;
use crate::manifest::target_group::Matcher;
use crate::manifest::task_definition::{EnabledDisabled, HealthCheck, TransportProtocol};

/// (kind, code) of an error, for compact assertions.
fn code(e: CloudError) -> (ErrorKind, String) {
    (e.kind, e.code.unwrap_or_default())
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test(start_paused = true)]
async fn arns_are_shaped_like_aws_and_revisions_count_per_family() {
    let (_sim, cloud) = account(config()).await;
    let a1 = register(&cloud, "api:1").await;
    let a2 = register(&cloud, "api:2").await;
    let mut other = task_definition("web:1");
    other.family = Some("web".into());
    let w1 = cloud
        .ecs
        .register_task_definition(&other, &Default::default())
        .await
        .unwrap();
    let prefix = "arn:aws:ecs:us-east-1:123456789012:";
    assert_eq!(a1.arn, format!("{prefix}task-definition/api:1"));
    assert_eq!(a2.arn, format!("{prefix}task-definition/api:2"));
    assert_eq!((w1.revision, w1.family.as_str()), (1, "web"));

    let svc = cloud
        .ecs
        .create_service(&create_input("api", 1))
        .await
        .unwrap();
    assert_eq!(svc.arn, format!("{prefix}service/shop/api"));
    assert_eq!(svc.cluster_arn, format!("{prefix}cluster/shop"));
    assert_eq!(
        svc.task_definition, a2.arn,
        "a family alone means its latest revision"
    );

    let tg = target_group(&cloud, "shop-api").await;
    let (head, suffix) = tg.arn.rsplit_once('/').unwrap();
    assert_eq!(
        head,
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api"
    );
    assert_eq!(suffix.len(), 16);
    assert!(suffix.bytes().all(|b| b.is_ascii_hexdigit()));

    // Names and ARNs are both accepted.
    let by_arn = cloud
        .ecs
        .describe_services(&svc.cluster_arn, std::slice::from_ref(&svc.arn))
        .await
        .unwrap();
    assert_eq!(by_arn.found.len(), 1);
    let by_ref = cloud.ecs.describe_task_definition("api:1").await.unwrap();
    assert_eq!(by_ref.arn, a1.arn);
    let by_arn = cloud
        .elbv2
        .describe_target_groups(std::slice::from_ref(&tg.arn))
        .await
        .unwrap();
    assert_eq!(by_arn[0].name, "shop-api");
}

#[tokio::test(start_paused = true)]
async fn registered_task_definitions_carry_the_defaults_ecs_fills_in() {
    let (_sim, cloud) = account(config()).await;
    let mut td = task_definition("api:1");
    td.container_definitions[0].health_check = Some(HealthCheck {
        command: vec!["CMD-SHELL".into(), "curl -f localhost:8000".into()],
        interval: None,
        timeout: None,
        retries: None,
        start_period: Some(10),
    });
    let registered = cloud
        .ecs
        .register_task_definition(&td, &Default::default())
        .await
        .unwrap();
    let described = cloud
        .ecs
        .describe_task_definition(&registered.arn)
        .await
        .unwrap();
    assert_eq!(described, registered);
    assert_eq!(described.status, "ACTIVE");
    let c = &described.definition.container_definitions[0];
    assert_eq!((c.cpu, c.essential), (Some(0), Some(true)));
    let pm = &c.port_mappings[0];
    assert_eq!(
        (pm.container_port, pm.host_port, pm.protocol),
        (Some(8000), Some(8000), Some(TransportProtocol::Tcp))
    );
    let hc = c.health_check.as_ref().unwrap();
    assert_eq!(
        (hc.interval, hc.timeout, hc.retries, hc.start_period),
        (Some(30), Some(5), Some(3), Some(10))
    );
    // Task-level values stay as given.
    assert_eq!(described.definition.cpu, td.cpu);
    assert_eq!(described.definition.memory, td.memory);
    assert_eq!(
        described.definition.requires_compatibilities,
        td.requires_compatibilities
    );
}

#[tokio::test(start_paused = true)]
async fn services_carry_the_defaults_ecs_fills_in() {
    let (_sim, cloud) = account(config()).await;
    register(&cloud, "api:1").await;
    let svc = cloud
        .ecs
        .create_service(&create_input("api:1", 1))
        .await
        .unwrap();
    assert_eq!(
        svc.task_definition,
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api:1"
    );
    assert_eq!(svc.platform_version.as_deref(), Some("LATEST"));
    assert_eq!(svc.scheduling_strategy, Some(SchedulingStrategy::Replica));
    assert_eq!(
        svc.deployment_controller,
        Some(DeploymentControllerType::Ecs)
    );
    assert_eq!(
        svc.deployment_configuration,
        Some(DeploymentConfiguration {
            strategy: Some(crate::manifest::service::DeploymentStrategy::Rolling),
            ..deployment(100, 200, Some((false, false)))
        })
    );
    let nc = svc.network_configuration.as_ref().unwrap();
    assert_eq!(
        nc.awsvpc_configuration.assign_public_ip,
        Some(EnabledDisabled::Disabled)
    );
    assert_eq!(
        describe(&cloud).await.deployment_configuration,
        svc.deployment_configuration
    );

    // A partial deployment configuration keeps what was given and fills the rest.
    let svc = cloud
        .ecs
        .update_service(&UpdateService {
            cluster: CLUSTER.into(),
            name: SERVICE.into(),
            deployment_configuration: Some(DeploymentConfiguration {
                minimum_healthy_percent: Some(50),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        svc.deployment_configuration,
        Some(DeploymentConfiguration {
            strategy: Some(crate::manifest::service::DeploymentStrategy::Rolling),
            ..deployment(50, 200, Some((false, false)))
        })
    );
    assert_eq!(svc.deployments.len(), 1, "no new deployment for that");
}

#[tokio::test(start_paused = true)]
async fn target_groups_carry_the_defaults_elbv2_fills_in() {
    let (_sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;
    assert_eq!(tg.protocol_version, Some(ProtocolVersion::Http1));
    assert_eq!(tg.ip_address_type, Some(IpAddressType::Ipv4));
    assert_eq!(
        tg.health_check,
        TargetGroupHealthCheck {
            enabled: Some(true),
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(Scalar("traffic-port".into())),
            path: Some("/".into()),
            interval_seconds: Some(30),
            timeout_seconds: Some(5),
            healthy_threshold_count: Some(5),
            unhealthy_threshold_count: Some(2),
            matcher: Some(Matcher {
                http_code: Some("200".into()),
                grpc_code: None,
            }),
        }
    );
    let attributes = cloud
        .elbv2
        .describe_target_group_attributes(&tg.arn)
        .await
        .unwrap();
    for (k, v) in [
        ("deregistration_delay.timeout_seconds", "300"),
        ("stickiness.enabled", "false"),
        ("stickiness.type", "lb_cookie"),
        ("load_balancing.algorithm.type", "round_robin"),
        ("slow_start.duration_seconds", "0"),
    ] {
        assert_eq!(attributes.get(k).map(String::as_str), Some(v), "{k}");
    }

    // ModifyTargetGroup changes only what it is given.
    let modified = cloud
        .elbv2
        .modify_target_group(
            &tg.arn,
            &TargetGroupHealthCheck {
                path: Some("/health".into()),
                interval_seconds: Some(15),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(modified.health_check.path.as_deref(), Some("/health"));
    assert_eq!(modified.health_check.interval_seconds, Some(15));
    assert_eq!(modified.health_check.timeout_seconds, Some(5));
    let bad = cloud
        .elbv2
        .modify_target_group_attributes(
            &tg.arn,
            &BTreeMap::from([("no.such.attribute".to_string(), "1".to_string())]),
        )
        .await
        .unwrap_err();
    assert_eq!(code(bad), (ErrorKind::Invalid, "ValidationError".into()));
}

#[tokio::test(start_paused = true)]
async fn describe_calls_report_missing_names_or_fail_as_aws_does() {
    let (_sim, cloud) = account(config()).await;
    register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&create_input("api:1", 0))
        .await
        .unwrap();

    let d = cloud
        .ecs
        .describe_services(CLUSTER, &["api".into(), "nope".into()])
        .await
        .unwrap();
    assert_eq!(d.found.len(), 1);
    assert_eq!(d.missing, ["nope"]);

    let err = cloud
        .ecs
        .describe_services("no-cluster", &["api".into()])
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::NotFound, "ClusterNotFoundException".into())
    );

    let d = cloud
        .ecs
        .describe_clusters(&["shop".into(), "gone".into()])
        .await
        .unwrap();
    assert_eq!(d.found[0].name, "shop");
    assert_eq!(d.found[0].active_services_count, 1);
    assert_eq!(d.missing, ["gone"]);

    target_group(&cloud, "shop-api").await;
    let err = cloud
        .elbv2
        .describe_target_groups(&["shop-api".into(), "missing".into()])
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::NotFound, "TargetGroupNotFound".into())
    );
}

#[tokio::test(start_paused = true)]
async fn batch_limits_are_enforced_as_invalid_requests() {
    let (_sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;

    let ok = cloud
        .ecs
        .describe_services(CLUSTER, &names("s", MAX_DESCRIBE_SERVICES))
        .await
        .unwrap();
    assert_eq!(ok.missing.len(), MAX_DESCRIBE_SERVICES);
    let err = cloud
        .ecs
        .describe_services(CLUSTER, &names("s", MAX_DESCRIBE_SERVICES + 1))
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::Invalid, "InvalidParameterException".into())
    );

    let ok = cloud
        .ecs
        .describe_clusters(&names("c", MAX_DESCRIBE_CLUSTERS))
        .await
        .unwrap();
    assert_eq!(ok.missing.len(), MAX_DESCRIBE_CLUSTERS);
    let err = cloud
        .ecs
        .describe_clusters(&names("c", MAX_DESCRIBE_CLUSTERS + 1))
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::Invalid, "InvalidParameterException".into())
    );

    let many = vec!["shop-api".to_string(); MAX_DESCRIBE_TARGET_GROUPS];
    assert_eq!(
        cloud
            .elbv2
            .describe_target_groups(&many)
            .await
            .unwrap()
            .len(),
        MAX_DESCRIBE_TARGET_GROUPS
    );
    let too_many = vec!["shop-api".to_string(); MAX_DESCRIBE_TARGET_GROUPS + 1];
    let err = cloud
        .elbv2
        .describe_target_groups(&too_many)
        .await
        .unwrap_err();
    assert_eq!(code(err), (ErrorKind::Invalid, "ValidationError".into()));

    let arns = vec![tg.arn.clone(); MAX_TAG_ARNS];
    cloud.elbv2.describe_tags(&arns).await.unwrap();
    let arns = vec![tg.arn.clone(); MAX_TAG_ARNS + 1];
    let err = cloud.elbv2.describe_tags(&arns).await.unwrap_err();
    assert_eq!(code(err), (ErrorKind::Invalid, "ValidationError".into()));
    let tags = BTreeMap::from([("k".to_string(), "v".to_string())]);
    let err = cloud.elbv2.add_tags(&arns, &tags).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    let err = cloud
        .elbv2
        .remove_tags(&arns, &["k".to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
}

#[tokio::test(start_paused = true)]
async fn create_service_is_idempotent_only_for_the_same_client_token_and_input() {
    let (sim, cloud) = account(config()).await;
    register(&cloud, "api:1").await;
    let input = create_input("api:1", 2);
    let first = cloud.ecs.create_service(&input).await.unwrap();
    let retry = cloud.ecs.create_service(&input).await.unwrap();
    assert_eq!(retry.arn, first.arn);
    assert_eq!(retry.deployments.len(), 1);
    assert_eq!(retry.deployments[0].id, first.deployments[0].id);
    assert_eq!(
        sim.tasks(CLUSTER, SERVICE).len(),
        2,
        "no second set of tasks"
    );

    let other_token = CreateService {
        client_token: "token-2".into(),
        ..input.clone()
    };
    let err = cloud.ecs.create_service(&other_token).await.unwrap_err();
    assert_eq!(
        code(err.clone()),
        (ErrorKind::Invalid, "InvalidParameterException".into())
    );
    assert_eq!(err.message, "Creation of service was not idempotent.");

    let other_input = CreateService {
        desired_count: Some(3),
        ..input.clone()
    };
    let err = cloud.ecs.create_service(&other_input).await.unwrap_err();
    assert_eq!(err.message, "Creation of service was not idempotent.");

    // Once deleted, the name is free again.
    cloud
        .ecs
        .delete_service(CLUSTER, SERVICE, true)
        .await
        .unwrap();
    let again = cloud.ecs.create_service(&other_token).await.unwrap();
    assert_ne!(again.deployments[0].id, first.deployments[0].id);
}

#[tokio::test(start_paused = true)]
async fn create_target_group_returns_the_existing_group_for_the_same_settings() {
    let (_sim, cloud) = account(config()).await;
    let first = target_group(&cloud, "shop-api").await;
    let again = target_group(&cloud, "shop-api").await;
    assert_eq!(again, first);
    let mut different = target_group_input("shop-api");
    different.port = Some(9000);
    let err = cloud
        .elbv2
        .create_target_group(&different)
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::Conflict, "DuplicateTargetGroupName".into())
    );
}

#[tokio::test(start_paused = true)]
async fn service_and_task_definition_mistakes_answer_the_aws_errors() {
    let (_sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;

    let err = cloud
        .ecs
        .create_service(&create_input("nope:1", 1))
        .await
        .unwrap_err();
    assert_eq!(code(err), (ErrorKind::Invalid, "ClientException".into()));

    let err = cloud
        .ecs
        .describe_task_definition("api:9")
        .await
        .unwrap_err();
    assert_eq!(code(err), (ErrorKind::Invalid, "ClientException".into()));

    let mut no_family = task_definition("api:1");
    no_family.family = None;
    let err = cloud
        .ecs
        .register_task_definition(&no_family, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);

    let err = cloud
        .ecs
        .update_service(&update_to(&td.arn))
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::NotFound, "ServiceNotFoundException".into())
    );

    let mut missing_cluster = create_input(&td.arn, 1);
    missing_cluster.cluster = "nope".into();
    let err = cloud
        .ecs
        .create_service(&missing_cluster)
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::NotFound, "ClusterNotFoundException".into())
    );

    let mut no_network = create_input(&td.arn, 1);
    no_network.network_configuration = None;
    let err = cloud.ecs.create_service(&no_network).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);

    let mut wrong_port = with_target_group(
        create_input(&td.arn, 1),
        &target_group(&cloud, "shop-api").await.arn,
    );
    wrong_port.load_balancers[0].container_port = 9999;
    let err = cloud.ecs.create_service(&wrong_port).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);

    cloud
        .ecs
        .create_service(&create_input(&td.arn, 2))
        .await
        .unwrap();
    let err = cloud
        .ecs
        .delete_service(CLUSTER, SERVICE, false)
        .await
        .unwrap_err();
    assert_eq!(
        code(err),
        (ErrorKind::Invalid, "InvalidParameterException".into())
    );
    let deleted = cloud
        .ecs
        .delete_service(CLUSTER, SERVICE, true)
        .await
        .unwrap();
    assert_eq!(deleted.status, "DRAINING");
    let d = cloud
        .ecs
        .describe_services(CLUSTER, &[SERVICE.into()])
        .await
        .unwrap();
    assert_eq!(d.found[0].status, "INACTIVE");
    let listed = cloud.ecs.list_services(CLUSTER, None).await.unwrap();
    assert!(listed.items.is_empty());
}

#[tokio::test(start_paused = true)]
async fn list_calls_page_through_everything_once() {
    let (_sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;
    for i in 0..205 {
        let mut input = create_input(&td.arn, 0);
        input.name = format!("svc-{i:03}");
        cloud.ecs.create_service(&input).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = cloud
            .ecs
            .list_services(CLUSTER, token.as_deref())
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= crate::cloud::MAX_LIST_SERVICES);
        seen.extend(page.items);
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 205);
    seen.dedup();
    assert_eq!(seen.len(), 205);
    let err = cloud
        .ecs
        .list_services(CLUSTER, Some("not a token"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);

    for i in 0..5 {
        target_group(&cloud, &format!("tg-{i}")).await;
    }
    let first = cloud
        .elbv2
        .describe_target_groups_page(None, 2)
        .await
        .unwrap();
    let second = cloud
        .elbv2
        .describe_target_groups_page(first.next_token.as_deref(), 2)
        .await
        .unwrap();
    let third = cloud
        .elbv2
        .describe_target_groups_page(second.next_token.as_deref(), 2)
        .await
        .unwrap();
    let all: Vec<String> = [first.items, second.items, third.items]
        .concat()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(all, ["tg-0", "tg-1", "tg-2", "tg-3", "tg-4"]);
    assert_eq!(third.next_token, None);

    for _ in 0..3 {
        register(&cloud, "api:2").await;
    }
    cloud.ecs.deregister_task_definition("api:2").await.unwrap();
    let listed = cloud.ecs.list_task_definitions("api", None).await.unwrap();
    let revisions: Vec<&str> = listed
        .items
        .iter()
        .map(|a| a.rsplit(':').next().unwrap_or_default())
        .collect();
    assert_eq!(revisions, ["1", "3", "4"], "ACTIVE revisions, oldest first");
}

#[tokio::test(start_paused = true)]
async fn tags_are_kept_per_resource() {
    let (_sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;
    let mut input = create_input(&td.arn, 0);
    input.tags = BTreeMap::from([("managed-by".into(), "ecs-operator".into())]);
    let svc = cloud.ecs.create_service(&input).await.unwrap();
    cloud
        .ecs
        .tag_resource(&svc.arn, &BTreeMap::from([("team".into(), "shop".into())]))
        .await
        .unwrap();
    cloud
        .ecs
        .untag_resource(&svc.arn, &["managed-by".to_string()])
        .await
        .unwrap();
    let tags = describe(&cloud).await.tags;
    assert_eq!(tags, BTreeMap::from([("team".into(), "shop".into())]));
    let err = cloud
        .ecs
        .tag_resource(&svc.arn, &BTreeMap::from([("aws:x".into(), "y".into())]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);

    let tg = target_group(&cloud, "shop-api").await;
    cloud
        .elbv2
        .add_tags(
            std::slice::from_ref(&tg.arn),
            &BTreeMap::from([("team".into(), "shop".into())]),
        )
        .await
        .unwrap();
    let tags = cloud
        .elbv2
        .describe_tags(std::slice::from_ref(&tg.arn))
        .await
        .unwrap();
    assert_eq!(tags[&tg.arn].get("team").map(String::as_str), Some("shop"));
}
