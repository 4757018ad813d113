//! The conformance cases of the listener rule calls (issue 14), run against both backends like
//! the others: DescribeLoadBalancers, DescribeListeners, DescribeRules, CreateRule, ModifyRule,
//! SetRulePriorities, DeleteRule, and AddTags/RemoveTags/DescribeTags on a rule. The simulator
//! has the quick start's `shop-alb` seeded; on moto each case makes an ALB of its own with an
//! HTTP:80 listener (`tests/common/moto.rs`). Rules are compared in the one form of
//! `cloud::defaults::listener_rule`, as the operator compares them.

use ecs_operator::cloud::ErrorKind;
use ecs_operator::cloud::defaults::listener_rule::{
    fill_actions, fill_conditions, forward, host_header, path_pattern,
};
use ecs_operator::cloud::model::*;
use ecs_operator::manifest::target_group::{TargetGroupProtocol, TargetType};

use super::support::{Backend, unique};

/// The ARN of an HTTP:80 listener of an ALB of this backend, found by the load balancer's name
/// and the port as the operator finds it.
async fn listener(b: &Backend) -> String {
    let name = if b.name == "moto" {
        let name = unique("alb");
        crate::common::moto::create_alb(crate::common::moto::moto_server(), &name, 80);
        name
    } else {
        "shop-alb".to_string()
    };
    let lbs = b
        .cloud
        .elbv2
        .describe_load_balancers(std::slice::from_ref(&name))
        .await
        .expect("describe load balancers");
    assert_eq!(lbs.len(), 1);
    assert_eq!(lbs[0].name, name);
    let page = b
        .cloud
        .elbv2
        .describe_listeners(&lbs[0].arn, None)
        .await
        .expect("describe listeners");
    let l = page
        .items
        .iter()
        .find(|l| l.port == 80)
        .expect("an HTTP:80 listener");
    assert_eq!(l.load_balancer_arn, lbs[0].arn);
    assert_eq!(l.protocol, "HTTP");
    l.arn.clone()
}

async fn target_group(b: &Backend) -> String {
    b.cloud
        .elbv2
        .create_target_group(&CreateTargetGroup {
            name: unique("rtg"),
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(8000),
            vpc_id: Some(b.vpc_id.clone()),
            target_type: Some(TargetType::Ip),
            ..CreateTargetGroup::default()
        })
        .await
        .expect("create target group")
        .arn
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn rules(b: &Backend, listener: &str) -> Vec<Rule> {
    let elbv2 = &b.cloud.elbv2;
    ecs_operator::cloud::all_pages(
        |m| async move { elbv2.describe_rules(listener, m.as_deref()).await },
    )
    .await
    .expect("describe rules")
}

async fn create(b: &Backend, listener: &str, priority: u32, tg: &str) -> Rule {
    b.cloud
        .elbv2
        .create_rule(&CreateRule {
            listener_arn: listener.to_string(),
            priority,
            conditions: vec![path_pattern(&["/api/*"])],
            actions: vec![forward(&[(tg, None)])],
            tags: tags(&[("ecs-operator/name", "api"), ("team", "shop")]),
        })
        .await
        .expect("create rule")
}

pub async fn a_load_balancer_and_its_listeners_are_found_by_name(b: &Backend) {
    listener(b).await;
    let e = b
        .cloud
        .elbv2
        .describe_load_balancers(&["no-such-alb".to_string()])
        .await
        .expect_err("a missing load balancer fails the call");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn create_rule_then_describe_rules_returns_it_and_the_default(b: &Backend) {
    let l = listener(b).await;
    let tg = target_group(b).await;
    let created = create(b, &l, 10, &tg).await;
    assert_eq!(created.priority, Some(10));
    let all = rules(b, &l).await;
    assert!(
        all.iter().any(|r| r.is_default && r.priority.is_none()),
        "{all:#?}"
    );
    let r = all
        .iter()
        .find(|r| r.arn == created.arn)
        .expect("the new rule");
    assert_eq!(r.priority, Some(10));
    assert_eq!(r.listener_arn, l);
    assert_eq!(
        fill_conditions(&r.conditions),
        fill_conditions(&[path_pattern(&["/api/*"])])
    );
    assert_eq!(
        fill_actions(&r.actions),
        fill_actions(&[forward(&[(&tg, None)])])
    );
    let t = b
        .cloud
        .elbv2
        .describe_tags(std::slice::from_ref(&created.arn))
        .await
        .expect("describe tags of a rule");
    assert_eq!(
        t[&created.arn].get("team").map(String::as_str),
        Some("shop")
    );
}

pub async fn a_priority_in_use_is_refused(b: &Backend) {
    let l = listener(b).await;
    let tg = target_group(b).await;
    create(b, &l, 10, &tg).await;
    let e = b
        .cloud
        .elbv2
        .create_rule(&CreateRule {
            listener_arn: l.clone(),
            priority: 10,
            conditions: vec![host_header(&["shop.example.com"])],
            actions: vec![forward(&[(&tg, None)])],
            tags: Tags::new(),
        })
        .await
        .expect_err("priority 10 is taken");
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert_eq!(e.code.as_deref(), Some("PriorityInUse"), "{e}");
}

pub async fn modify_rule_replaces_conditions_and_actions(b: &Backend) {
    let l = listener(b).await;
    let (tg, tg2) = (target_group(b).await, target_group(b).await);
    let r = create(b, &l, 10, &tg).await;
    let conditions = vec![path_pattern(&["/v2/*"]), host_header(&["api.example.com"])];
    let actions = vec![forward(&[(&tg, Some(3)), (&tg2, Some(1))])];
    b.cloud
        .elbv2
        .modify_rule(&r.arn, &conditions, &actions)
        .await
        .expect("modify rule");
    let after = rules(b, &l).await;
    let r = after.iter().find(|x| x.arn == r.arn).expect("still there");
    assert_eq!(fill_conditions(&r.conditions), fill_conditions(&conditions));
    assert_eq!(fill_actions(&r.actions), fill_actions(&actions));
    let e = b
        .cloud
        .elbv2
        .modify_rule(&format!("{}0", r.arn), &conditions, &actions)
        .await
        .expect_err("no such rule");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn set_rule_priorities_moves_a_rule(b: &Backend) {
    let l = listener(b).await;
    let tg = target_group(b).await;
    let r = create(b, &l, 10, &tg).await;
    b.cloud
        .elbv2
        .set_rule_priorities(&[(r.arn.clone(), 20)])
        .await
        .expect("set rule priorities");
    let after = rules(b, &l).await;
    assert_eq!(
        after.iter().find(|x| x.arn == r.arn).unwrap().priority,
        Some(20)
    );
    let other = b
        .cloud
        .elbv2
        .create_rule(&CreateRule {
            listener_arn: l.clone(),
            priority: 30,
            conditions: vec![path_pattern(&["/web/*"])],
            actions: vec![forward(&[(&tg, None)])],
            tags: Tags::new(),
        })
        .await
        .unwrap();
    let e = b
        .cloud
        .elbv2
        .set_rule_priorities(&[(other.arn.clone(), 20)])
        .await
        .expect_err("20 is taken");
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
}

pub async fn delete_rule_removes_it(b: &Backend) {
    let l = listener(b).await;
    let tg = target_group(b).await;
    let r = create(b, &l, 10, &tg).await;
    b.cloud
        .elbv2
        .delete_rule(&r.arn)
        .await
        .expect("delete rule");
    assert!(rules(b, &l).await.iter().all(|x| x.arn != r.arn));
    let again = b.cloud.elbv2.delete_rule(&r.arn).await;
    if again.is_ok()
        && b.moto_gap("DeleteRule of a rule that is gone answers success, not RuleNotFound")
    {
        return;
    }
    let e = again.expect_err("gone");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

pub async fn rule_tags_can_be_added_and_removed(b: &Backend) {
    let l = listener(b).await;
    let tg = target_group(b).await;
    let r = create(b, &l, 10, &tg).await;
    let arns = vec![r.arn.clone()];
    b.cloud
        .elbv2
        .add_tags(&arns, &tags(&[("ecs-operator/managed-by", "op")]))
        .await
        .unwrap();
    b.cloud
        .elbv2
        .remove_tags(&arns, &["team".to_string()])
        .await
        .unwrap();
    let t = b.cloud.elbv2.describe_tags(&arns).await.unwrap();
    assert_eq!(
        t[&r.arn],
        tags(&[
            ("ecs-operator/managed-by", "op"),
            ("ecs-operator/name", "api")
        ])
    );
}

pub async fn describe_rules_of_a_missing_listener_is_not_found(b: &Backend) {
    let l = listener(b).await;
    let missing = format!("{}0", l);
    let e = b
        .cloud
        .elbv2
        .describe_rules(&missing, None)
        .await
        .expect_err("no such listener");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}
