//! Native deployments on moto (issue 13): a BLUE_GREEN service's strategy fields (strategy,
//! bake time, hooks, the alternate target group named by its manifest) are sent, read back and
//! diff clean; and without the service deployments API (moto 5.2.1 has none) the rollout is
//! still followed, by DescribeServices' `deployments[]`.

use ecs_operator::cloud::model::DeploymentStrategy;
use ecs_operator::manifest::{Kind, ResourceKey};
use ecs_operator::observe::Observer;
use ecs_operator::rollout::{self, Policy, Tracker, Verdict};

use crate::support::App;

const HOOK: &str = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test";

/// The example with `api` deployed BLUE_GREEN, the web target group as its alternate.
async fn blue_green() -> App {
    let app = App::whole().await;
    let n = &app.names;
    app.edit(
        "api.yaml",
        "    deploymentCircuitBreaker: {enable: true, rollback: true}\n",
        &format!(
            "    deploymentCircuitBreaker: {{enable: true, rollback: true}}\n    strategy: BLUE_GREEN\n    bakeTimeInMinutes: 5\n    lifecycleHooks:\n      - {{hookTargetArn: '{HOOK}', roleArn: 'arn:aws:iam::123456789012:role/hooks', lifecycleStages: [POST_SCALE_UP]}}\n"
        ),
    );
    app.edit(
        "api.yaml",
        &format!(
            "- {{targetGroup: {}, containerName: api, containerPort: 8000}}",
            n.api_target_group
        ),
        &format!(
            "- {{targetGroup: {}, containerName: api, containerPort: 8000, advancedConfiguration: {{alternateTargetGroupArn: {}, productionListenerRule: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/3', roleArn: 'arn:aws:iam::123456789012:role/ecs-elb'}}}}",
            n.api_target_group, n.web_target_group
        ),
    );
    app
}

#[tokio::test]
async fn the_strategy_fields_are_sent_read_back_and_diff_clean() {
    let app = blue_green().await;
    app.apply().expect_code(0);
    let live = app.api_service().await;
    let dc = live
        .deployment_configuration
        .clone()
        .expect("configuration");
    assert_eq!(dc.strategy, Some(DeploymentStrategy::BlueGreen), "{dc:?}");
    assert_eq!(dc.bake_time_in_minutes, Some(5));
    assert_eq!(dc.lifecycle_hooks.len(), 1);
    assert_eq!(dc.lifecycle_hooks[0].hook_target_arn.as_deref(), Some(HOOK));
    let web_tg = app
        .cloud
        .elbv2
        .describe_target_groups(std::slice::from_ref(&app.names.web_target_group))
        .await
        .unwrap()
        .remove(0)
        .arn;
    let advanced = live.load_balancers[0]
        .advanced_configuration
        .clone()
        .expect("advanced configuration");
    assert_eq!(
        advanced.alternate_target_group_arn.as_deref(),
        Some(web_tg.as_str()),
        "the manifest name resolved to the ARN"
    );
    let diff = app.diff();
    diff.expect_code(0);
}

#[tokio::test]
async fn without_the_deployments_api_the_rollout_is_followed_by_describe_services() {
    let app = blue_green().await;
    app.apply().expect_code(0);
    let live = app.api_service().await;
    assert_eq!(live.current_service_deployment, None, "moto reports none");
    let observer = Observer::new(app.cloud.clone());
    let made_up = format!(
        "arn:aws:ecs:us-east-1:123456789012:service-deployment/{}/{}/x",
        app.names.cluster, app.names.api
    );
    assert_eq!(
        observer
            .service_deployments(std::slice::from_ref(&made_up))
            .await
            .expect("not implemented is not an error"),
        None
    );
    let key = ResourceKey {
        kind: Kind::Service,
        cluster: Some(app.names.cluster.clone()),
        name: app.names.api.clone(),
    };
    let tracker = Tracker::new(live.task_definition.clone(), false).with_deployment(Some(made_up));
    let policy = Policy {
        crash_loop_threshold: Some(3),
        timeout: std::time::Duration::from_secs(600),
        check_targets: false,
    };
    for _ in 0..2 {
        let seen = rollout::read(&observer, &[(key.clone(), &tracker)], false)
            .await
            .expect("read");
        assert_eq!(seen[0].deployment, None);
        assert!(seen[0].service.is_some());
        assert_eq!(seen[0].strategy(), DeploymentStrategy::BlueGreen);
        let (next, verdict) = rollout::step(
            tracker.clone(),
            &seen[0],
            &policy,
            tokio::time::Instant::now(),
        );
        // moto never moves the deployment on: still progressing, followed, and never taken
        // for a rollback or a crash loop.
        assert!(
            matches!(verdict, Verdict::Progressing { .. }),
            "{verdict:?}"
        );
        assert!(next.is_some());
    }
}
