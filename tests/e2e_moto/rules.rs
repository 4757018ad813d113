//! Listener rules (issue 14) end to end on moto: a rule on an ALB's listener (the ALB and its
//! HTTP:80 listener made in moto beforehand: load balancers and listeners are managed
//! elsewhere) is applied with the API's target group, `diff` is then clean; a rule changed by
//! hand with ModifyRule is reported and put back; a priority held by a rule someone else made is
//! refused with the reason and that rule is left as it is.

use ecs_operator::cloud::defaults::listener_rule::{fill_conditions, forward, path_pattern};
use ecs_operator::cloud::model::{CreateRule, Rule, Tags};

use crate::common::moto::{create_alb, moto_server};
use crate::support::App;

/// An ALB of this case's own, its listener's ARN.
async fn alb(app: &App) -> (String, String) {
    let name = format!("{}-alb", app.names.cluster);
    create_alb(moto_server(), &name, 80);
    let lb = app
        .cloud
        .elbv2
        .describe_load_balancers(std::slice::from_ref(&name))
        .await
        .unwrap()
        .remove(0);
    let listener = app
        .cloud
        .elbv2
        .describe_listeners(&lb.arn, None)
        .await
        .unwrap()
        .items
        .remove(0);
    (name, listener.arn)
}

fn rule_yaml(name: &str, alb: &str, priority: u32, path: &str, target_group: &str) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: ListenerRule\nmetadata:\n  name: {name}\nspec:\n  listener: {{loadBalancerName: {alb}, port: 80}}\n  priority: {priority}\n  conditions:\n    - Field: path-pattern\n      PathPatternConfig: {{Values: [\"{path}\"]}}\n  actions:\n    - Type: forward\n      ForwardConfig:\n        TargetGroups: [{{TargetGroupName: {target_group}}}]\n"
    )
}

async fn rules(app: &App, listener: &str) -> Vec<Rule> {
    app.cloud
        .elbv2
        .describe_rules(listener, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|r| !r.is_default)
        .collect()
}

#[tokio::test]
async fn a_rule_is_applied_then_drift_by_hand_is_reported_and_put_back() {
    let app = App::api_only().await;
    let (alb, listener) = alb(&app).await;
    let name = format!("{}-api-rule", app.names.cluster);
    app.write(
        "routing.yaml",
        &rule_yaml(&name, &alb, 10, "/api/*", &app.names.api_target_group),
    );
    app.apply().expect_code(0);
    app.diff().expect_code(0);
    let live = rules(&app, &listener).await;
    assert_eq!(live.len(), 1, "{live:#?}");
    let tg = app.api_target_group().await.arn;
    assert_eq!(
        fill_conditions(&live[0].conditions),
        fill_conditions(&[path_pattern(&["/api/*"])])
    );

    // By hand: another path.
    app.cloud
        .elbv2
        .modify_rule(
            &live[0].arn,
            &[path_pattern(&["/v2/*"])],
            &[forward(&[(tg.as_str(), None)])],
        )
        .await
        .unwrap();
    let diff = app.diff();
    diff.expect_code(2);
    let lines = diff.lines_under(&format!("~ ListenerRule/{name} "));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("conditions") && l.contains("/v2/*")),
        "{diff}"
    );
    app.apply().expect_code(0);
    app.diff().expect_code(0);
    let live = rules(&app, &listener).await;
    assert_eq!(
        fill_conditions(&live[0].conditions),
        fill_conditions(&[path_pattern(&["/api/*"])])
    );
}

#[tokio::test]
async fn a_priority_held_by_an_unowned_rule_is_refused_and_that_rule_left_alone() {
    let app = App::api_only().await;
    let (alb, listener) = alb(&app).await;
    app.apply().expect_code(0); // the target group
    let tg = app.api_target_group().await.arn;
    let theirs = app
        .cloud
        .elbv2
        .create_rule(&CreateRule {
            listener_arn: listener.clone(),
            priority: 10,
            conditions: vec![path_pattern(&["/legacy/*"])],
            actions: vec![forward(&[(tg.as_str(), None)])],
            tags: [("owner".to_string(), "someone-else".to_string())].into(),
        })
        .await
        .unwrap();
    let name = format!("{}-api-rule", app.names.cluster);
    app.write(
        "routing.yaml",
        &rule_yaml(&name, &alb, 10, "/api/*", &app.names.api_target_group),
    );
    let refused = app.apply();
    refused.expect_code(1);
    let reason = refused
        .lines_under(&format!("! ListenerRule/{name} (manifests/routing.yaml:"))
        .join("\n");
    assert!(
        reason.contains("priority 10") && reason.contains(&theirs.arn),
        "{refused}"
    );
    let live = rules(&app, &listener).await;
    assert_eq!(live.len(), 1);
    assert_eq!(
        fill_conditions(&live[0].conditions),
        fill_conditions(&[path_pattern(&["/legacy/*"])]),
        "left as it was"
    );
    let tags = app
        .cloud
        .elbv2
        .describe_tags(std::slice::from_ref(&theirs.arn))
        .await
        .unwrap();
    let want: Tags = [("owner".to_string(), "someone-else".to_string())].into();
    assert_eq!(tags[&theirs.arn], want);
}
