//! Drift made behind the operator's back with the SDK is reported by `diff` (exit 2, the field
//! named with its live and desired values) and put back by `apply`, after which `diff` exits 0.
//!
//! These cases apply the example's cluster and API only (`App::api_only`): the drift is made on
//! the API service and its target group, and what happens to the web service is
//! `sync.rs`'s concern.

use ecs_operator::cloud::model::{TargetGroupHealthCheck, UpdateService};

use crate::support::App;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api:1.4.2";
const OTHER_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api:9.9.9";

/// `diff` exits 2 and lists `change` under the resource `header` (`~ Service/...`).
fn assert_reported(app: &App, header: &str, change: &str) {
    let diff = app.diff();
    diff.expect_code(2);
    let lines = diff.lines_under(header);
    assert!(
        lines.iter().any(|l| l.trim() == change),
        "{diff}\nlists {change:?} under {header:?}"
    );
}

/// `apply` exits 0, then `diff` exits 0.
fn assert_put_back(app: &App) {
    app.apply().expect_code(0);
    app.diff().expect_code(0);
}

/// On the web frontend: the API's count is its auto scaling's, never drift.
#[tokio::test]
async fn a_desired_count_changed_with_update_service_is_reported_and_put_back() {
    let app = App::whole().await;
    let n = &app.names;
    app.apply().expect_code(0);
    app.cloud
        .ecs
        .update_service(&UpdateService {
            cluster: n.cluster.clone(),
            name: n.web.clone(),
            desired_count: Some(5),
            ..UpdateService::default()
        })
        .await
        .expect("UpdateService");

    assert_reported(
        &app,
        &format!("~ Service/{}/{} ", n.cluster, n.web),
        "spec.desiredCount: 5 -> 2",
    );
    assert_put_back(&app);
    assert_eq!(app.service(&n.web).await.desired_count, 2);
}

#[tokio::test]
async fn a_new_task_definition_revision_with_another_image_set_on_the_service_is_reported_and_put_back()
 {
    let app = App::api_only().await;
    let n = &app.names;
    app.apply().expect_code(0);
    let original = app.api_service().await.task_definition;
    let mut definition = app
        .cloud
        .ecs
        .describe_task_definition(&original)
        .await
        .expect("DescribeTaskDefinition")
        .definition;
    assert_eq!(definition.container_definitions[0].image, IMAGE);
    definition.container_definitions[0].image = OTHER_IMAGE.into();
    let other = app
        .cloud
        .ecs
        .register_task_definition(&definition, &Default::default())
        .await
        .expect("RegisterTaskDefinition");
    app.cloud
        .ecs
        .update_service(&UpdateService {
            cluster: n.cluster.clone(),
            name: n.api.clone(),
            task_definition: Some(other.arn.clone()),
            ..UpdateService::default()
        })
        .await
        .expect("UpdateService");

    assert_reported(
        &app,
        &format!("~ Service/{}/{} ", n.cluster, n.api),
        &format!(
            "spec.taskDefinition.containerDefinitions[0].image: \"{OTHER_IMAGE}\" -> \"{IMAGE}\""
        ),
    );
    assert_put_back(&app);
    // Back on the revision that has the manifest's content: nothing new was registered.
    assert_eq!(app.api_service().await.task_definition, original);
    let revisions = app
        .cloud
        .ecs
        .list_task_definitions(&n.api, None)
        .await
        .expect("ListTaskDefinitions");
    assert_eq!(revisions.items, vec![original, other.arn]);
}

#[tokio::test]
async fn a_target_group_health_check_path_modified_is_reported_and_put_back() {
    let app = App::api_only().await;
    let n = &app.names;
    app.apply().expect_code(0);
    let arn = app.api_target_group().await.arn;
    app.cloud
        .elbv2
        .modify_target_group(
            &arn,
            &TargetGroupHealthCheck {
                path: Some("/other".into()),
                ..TargetGroupHealthCheck::default()
            },
        )
        .await
        .expect("ModifyTargetGroup");
    assert_eq!(
        app.api_target_group().await.health_check.path.as_deref(),
        Some("/other")
    );

    assert_reported(
        &app,
        &format!("~ TargetGroup/{} ", n.api_target_group),
        "spec.healthCheck.path: \"/other\" -> \"/health\"",
    );
    assert_put_back(&app);
    assert_eq!(
        app.api_target_group().await.health_check.path.as_deref(),
        Some("/health")
    );
}

#[tokio::test]
async fn a_manifest_tag_removed_from_the_service_with_untag_resource_is_reported_and_put_back() {
    let app = App::api_only().await;
    let n = &app.names;
    app.apply().expect_code(0);
    let service = app.api_service().await;
    assert_eq!(
        service.tags.get("component").map(String::as_str),
        Some("api")
    );
    app.cloud
        .ecs
        .untag_resource(&service.arn, &["component".to_string()])
        .await
        .expect("UntagResource");
    assert!(!app.api_service().await.tags.contains_key("component"));

    assert_reported(
        &app,
        &format!("~ Service/{}/{} ", n.cluster, n.api),
        "spec.tags.component: (absent) -> \"api\"",
    );
    assert_put_back(&app);
    let tags = app.api_service().await.tags;
    assert_eq!(tags.get("component").map(String::as_str), Some("api"));
    assert_eq!(tags.get("team").map(String::as_str), Some("shop"));
}
