//! The ListenerRule kind (issue 14) on the simulator and in validation: one table row per
//! validation rule (the finding, its field, and for a duplicate priority both files), the
//! forms ELBv2 accepts that mean the same rule converging with no perpetual diff, the plan of a
//! priority held by a rule the operator does not own (blocked, or adopted when asked), the
//! simulator routing requests by the rules, prune of an owned rule no manifest names, and the
//! reads of a converged diff against the batching minimum.

use std::path::{Path, PathBuf};

use ecs_operator::apply::apply;
use ecs_operator::cloud::defaults::listener_rule::{forward, path_pattern};
use ecs_operator::cloud::model::{CreateRule, Tags};
use ecs_operator::cloud::sim::{Sim, SimConfig, SimRequest, SimRoute};
use ecs_operator::manifest::load::load_texts;
use ecs_operator::manifest::{Document, Severity, validate};
use ecs_operator::observe::Observer;
use ecs_operator::plan::Status;
use ecs_operator::planner::plan_all;

const INSTANCE: &str = "test-operator";

const TARGET_GROUPS: &str = "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {name: shop-api}\nspec: {protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: ip}\n---\napiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {name: shop-web}\nspec: {protocol: HTTP, port: 8501, vpcId: vpc-1, targetType: ip}\n";

/// A rule named `name` at `priority` on shop-alb:80 with `body` (conditions and actions, YAML
/// indented under spec).
fn rule(name: &str, priority: u32, body: &str) -> String {
    format!(
        "apiVersion: ecs-operator/v1\nkind: ListenerRule\nmetadata: {{name: {name}}}\nspec:\n  listener: {{loadBalancerName: shop-alb, port: 80}}\n  priority: {priority}\n{body}"
    )
}

const API_BODY: &str = "  conditions:\n    - Field: path-pattern\n      PathPatternConfig: {Values: [\"/api/*\"]}\n  actions:\n    - Type: forward\n      ForwardConfig:\n        TargetGroups: [{TargetGroupName: shop-api}]\n";

const WEB_BODY: &str = "  conditions:\n    - {Field: path-pattern, Values: [\"/*\"]}\n  actions:\n    - Type: forward\n      ForwardConfig:\n        TargetGroups: [{TargetGroupName: shop-web, Weight: 1}]\n        TargetGroupStickinessConfig: {Enabled: false}\n";

fn files(rules: &[(&str, String)]) -> Vec<(PathBuf, String)> {
    let mut out = vec![(PathBuf::from("tgs.yaml"), TARGET_GROUPS.to_string())];
    out.extend(rules.iter().map(|(f, t)| (PathBuf::from(f), t.clone())));
    out
}

// ---- validation ----------------------------------------------------------------------------

/// (rule, field path, the rule's body under spec)
const ROWS: &[(&str, &str, &str)] = &[
    (
        "reference",
        "spec.actions[0].ForwardConfig.TargetGroups[0].TargetGroupName",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions:\n    - Type: forward\n      ForwardConfig: {TargetGroups: [{TargetGroupName: no-such-group}]}\n",
    ),
    (
        "range",
        "spec.actions[0].ForwardConfig.TargetGroups[0].Weight",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions:\n    - Type: forward\n      ForwardConfig: {TargetGroups: [{TargetGroupName: shop-api, Weight: 1000}]}\n",
    ),
    (
        "rule-action",
        "spec.actions[0].ForwardConfig.TargetGroups",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions:\n    - Type: forward\n      ForwardConfig: {TargetGroups: [{TargetGroupName: shop-api}, {TargetGroupName: shop-api}, {TargetGroupName: shop-api}, {TargetGroupName: shop-api}, {TargetGroupName: shop-api}, {TargetGroupName: shop-web}]}\n",
    ),
    (
        "condition",
        "spec.conditions[0].Field",
        "  conditions: [{Field: path, Values: [\"/x\"]}]\n  actions: [{Type: forward, TargetGroupArn: \"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1\"}]\n",
    ),
    (
        "condition",
        "spec.conditions[0].Values",
        "  conditions: [{Field: http-request-method, Values: [GET]}]\n  actions: [{Type: forward, TargetGroupArn: \"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1\"}]\n",
    ),
    (
        "condition",
        "spec.conditions[0].HostHeaderConfig",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"], HostHeaderConfig: {Values: [a.example.com]}}]\n  actions: [{Type: forward, TargetGroupArn: \"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1\"}]\n",
    ),
    (
        "condition",
        "spec.conditions[0]",
        "  conditions: [{Field: source-ip, SourceIpConfig: {Values: []}}]\n  actions: [{Type: forward, TargetGroupArn: \"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1\"}]\n",
    ),
    (
        "required",
        "spec.conditions",
        "  conditions: []\n  actions: [{Type: forward, TargetGroupArn: \"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1\"}]\n",
    ),
    (
        "rule-action",
        "spec.actions",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions:\n    - {Type: fixed-response, FixedResponseConfig: {StatusCode: \"404\"}}\n    - {Type: redirect, RedirectConfig: {StatusCode: HTTP_301}}\n",
    ),
    (
        "rule-action",
        "spec.actions[0].FixedResponseConfig.StatusCode",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: \"302\"}}]\n",
    ),
    (
        "rule-action",
        "spec.actions[0]",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions: [{Type: forward, TargetGroupArn: \"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1\", ForwardConfig: {TargetGroups: [{TargetGroupName: shop-api}]}}]\n",
    ),
    (
        "rule-action",
        "spec.actions[0].Type",
        "  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions: [{Type: authenticate-oidc}]\n",
    ),
];

#[test]
fn a_forward_to_a_tcp_target_group_is_an_error() {
    let tcp = "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {name: shop-tcp}\nspec: {protocol: TCP, port: 9000, vpcId: vpc-1, targetType: ip}\n".to_string();
    let body = API_BODY.replace("TargetGroupName: shop-api", "TargetGroupName: shop-tcp");
    let d = validate(&load_texts(&files(&[
        ("tcp.yaml", tcp),
        ("r.yaml", rule("r", 10, &body)),
    ])));
    assert!(
        d.iter().any(|x| x.rule == "target-group-protocol"
            && x.path.to_string()
                == "spec.actions[0].ForwardConfig.TargetGroups[0].TargetGroupName"),
        "{d:#?}"
    );
}

#[test]
fn the_valid_rules_are_clean() {
    let loaded = load_texts(&files(&[
        ("api.yaml", rule("shop-api", 10, API_BODY)),
        ("web.yaml", rule("shop-web", 1000, WEB_BODY)),
    ]));
    assert!(loaded.failed.is_empty(), "{:?}", loaded.diagnostics);
    let d = validate(&loaded);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn each_validation_rule_fires_with_its_field() {
    let mut failures = Vec::new();
    for (n, (rule_name, path, body)) in ROWS.iter().enumerate() {
        let loaded = load_texts(&files(&[("r.yaml", rule("r", 10, body))]));
        let d = validate(&loaded);
        let hit = d.iter().any(|x| {
            x.severity == Severity::Error && x.rule == *rule_name && x.path.to_string() == *path
        });
        if !hit {
            failures.push(format!(
                "row {n}: {rule_name} at {path} not reported: {d:#?}"
            ));
        }
        assert!(d.iter().all(|x| x.line > 0), "row {n}: {d:#?}");
    }
    // The listener named neither way, and a priority out of range.
    let bad = "apiVersion: ecs-operator/v1\nkind: ListenerRule\nmetadata: {name: r}\nspec:\n  listener: {port: 80}\n  priority: 0\n  conditions: [{Field: path-pattern, Values: [\"/x\"]}]\n  actions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: \"404\"}}]\n";
    let d = validate(&load_texts(&files(&[("r.yaml", bad.to_string())])));
    for (rule_name, path) in [("listener", "spec.listener"), ("range", "spec.priority")] {
        if !d
            .iter()
            .any(|x| x.rule == rule_name && x.path.to_string() == path)
        {
            failures.push(format!("{rule_name} at {path} not reported: {d:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_duplicate_priority_on_one_listener_names_both_files() {
    let loaded = load_texts(&files(&[
        ("api.yaml", rule("shop-api", 10, API_BODY)),
        ("web.yaml", rule("shop-web", 10, WEB_BODY)),
    ]));
    let d = validate(&loaded);
    let dup: Vec<_> = d
        .iter()
        .filter(|x| x.rule == "duplicate-priority")
        .collect();
    assert_eq!(dup.len(), 1, "{d:#?}");
    assert_eq!(dup[0].file, Path::new("web.yaml"));
    assert_eq!(dup[0].path.to_string(), "spec.priority");
    let text = dup[0].to_string();
    assert!(
        text.contains("api.yaml") && text.contains("web.yaml"),
        "{text}"
    );
    assert!(text.contains("ListenerRule/shop-api"), "{text}");
    // The same priority on another listener is fine.
    let other = rule("shop-web", 10, WEB_BODY).replace("port: 80", "port: 8080");
    let d = validate(&load_texts(&files(&[
        ("api.yaml", rule("shop-api", 10, API_BODY)),
        ("web.yaml", other),
    ])));
    assert!(d.iter().all(|x| x.rule != "duplicate-priority"), "{d:#?}");
}

// ---- the simulator --------------------------------------------------------------------------

fn sim() -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    })
}

fn documents(rules: &[(&str, String)]) -> Vec<Document> {
    let loaded = load_texts(&files(rules));
    let errors: Vec<String> = validate(&loaded)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    loaded.documents
}

async fn plans(sim: &Sim, docs: &[Document]) -> Vec<ecs_operator::plan::ResourcePlan> {
    let observer = Observer::new(sim.cloud());
    plan_all(&observer, docs, INSTANCE).await.expect("plan").0
}

async fn apply_once(sim: &Sim, docs: &[Document]) {
    let observer = Observer::new(sim.cloud());
    let (plans, arns) = plan_all(&observer, docs, INSTANCE).await.expect("plan");
    for a in apply(&sim.cloud(), &observer, &plans, arns, |_, _| {}).await {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
    }
}

async fn seeded_listener(sim: &Sim) -> String {
    let c = sim.cloud();
    let lb = c
        .elbv2
        .describe_load_balancers(&["shop-alb".into()])
        .await
        .unwrap()
        .remove(0);
    c.elbv2
        .describe_listeners(&lb.arn, None)
        .await
        .unwrap()
        .items
        .remove(0)
        .arn
}

#[tokio::test(start_paused = true)]
async fn rules_written_in_any_accepted_form_converge_and_route() {
    let sim = sim();
    // The web rule uses `Values`, an explicit weight 1 and stickiness off: ELBv2's defaults.
    let docs = documents(&[
        ("api.yaml", rule("shop-api", 10, API_BODY)),
        ("web.yaml", rule("shop-web", 1000, WEB_BODY)),
    ]);
    apply_once(&sim, &docs).await;
    for p in plans(&sim, &docs).await {
        assert_eq!(p.status, Status::InSync, "{}: {:#?}", p.key, p.changes);
    }
    let get = |host: &str, path: &str| sim.route("shop-alb", 80, &SimRequest::get(host, path));
    let to = |tg: &str| Some(SimRoute::Forward(vec![(tg.to_string(), 1)]));
    assert_eq!(get("shop.example.com", "/api/orders"), to("shop-api"));
    assert_eq!(get("shop.example.com", "/"), to("shop-web"));
    assert_eq!(get("shop.example.com", "/apix"), to("shop-web"));
    assert_eq!(sim.route("shop-alb", 443, &SimRequest::get("x", "/")), None);
    assert_eq!(sim.route("other-alb", 80, &SimRequest::get("x", "/")), None);
}

#[tokio::test(start_paused = true)]
async fn the_simulator_routes_by_host_method_header_query_and_source() {
    let sim = sim();
    let body = |cond: &str, code: &str| {
        format!(
            "  conditions: [{cond}]\n  actions: [{{Type: fixed-response, FixedResponseConfig: {{StatusCode: \"{code}\"}}}}]\n"
        )
    };
    let docs = documents(&[
        (
            "a.yaml",
            rule(
                "by-host",
                1,
                &body(
                    "{Field: host-header, Values: [\"*.admin.example.com\"]}",
                    "201",
                ),
            ),
        ),
        (
            "b.yaml",
            rule(
                "by-method",
                2,
                &body(
                    "{Field: http-request-method, HttpRequestMethodConfig: {Values: [POST]}}",
                    "202",
                ),
            ),
        ),
        (
            "c.yaml",
            rule(
                "by-header",
                3,
                &body(
                    "{Field: http-header, HttpHeaderConfig: {HttpHeaderName: X-Canary, Values: [\"yes\"]}}",
                    "203",
                ),
            ),
        ),
        (
            "d.yaml",
            rule(
                "by-query",
                4,
                &body(
                    "{Field: query-string, QueryStringConfig: {Values: [{Key: v, Value: \"2\"}]}}",
                    "204",
                ),
            ),
        ),
        (
            "e.yaml",
            rule(
                "by-source",
                5,
                &body(
                    "{Field: source-ip, SourceIpConfig: {Values: [10.0.0.0/8]}}",
                    "205",
                ),
            ),
        ),
    ]);
    apply_once(&sim, &docs).await;
    let route = |r: SimRequest| sim.route("shop-alb", 80, &r);
    let fixed = |c: &str| Some(SimRoute::Fixed(c.to_string()));
    let get = SimRequest::get("shop.example.com", "/");
    assert_eq!(
        route(SimRequest::get("eu.ADMIN.example.com", "/")),
        fixed("201")
    );
    assert_eq!(
        route(SimRequest {
            method: "POST".into(),
            ..get.clone()
        }),
        fixed("202")
    );
    assert_eq!(
        route(SimRequest {
            headers: vec![("x-canary".into(), "yes".into())],
            ..get.clone()
        }),
        fixed("203")
    );
    assert_eq!(
        route(SimRequest {
            query: vec![("v".into(), "2".into())],
            ..get.clone()
        }),
        fixed("204")
    );
    assert_eq!(
        route(SimRequest {
            source_ip: Some([10, 2, 3, 4].into()),
            ..get.clone()
        }),
        fixed("205")
    );
    assert_eq!(
        route(get),
        fixed("404"),
        "nothing matched: the default action"
    );
}

#[tokio::test(start_paused = true)]
async fn a_priority_held_by_an_unowned_rule_blocks_and_adopt_takes_it_over() {
    let sim = sim();
    let listener = seeded_listener(&sim).await;
    let docs = documents(&[]);
    apply_once(&sim, &docs).await; // the target groups
    let tg = sim
        .cloud()
        .elbv2
        .describe_target_groups(&["shop-api".into()])
        .await
        .unwrap()
        .remove(0)
        .arn;
    // Someone else's rule at priority 10.
    let theirs = sim
        .cloud()
        .elbv2
        .create_rule(&CreateRule {
            listener_arn: listener,
            priority: 10,
            conditions: vec![path_pattern(&["/old/*"])],
            actions: vec![forward(&[(tg.as_str(), None)])],
            tags: Tags::new(),
        })
        .await
        .unwrap();
    let docs = documents(&[("api.yaml", rule("shop-api", 10, API_BODY))]);
    let p = plans(&sim, &docs).await;
    let r = p
        .iter()
        .find(|p| {
            p.key.name == "shop-api" && p.key.kind == ecs_operator::manifest::Kind::ListenerRule
        })
        .unwrap();
    assert_eq!(r.status, Status::Blocked);
    let reason = r.reason.clone().unwrap();
    assert!(
        reason.contains("priority 10") && reason.contains(&theirs.arn),
        "{reason}"
    );
    assert!(reason.contains("ecs-operator/adopt"), "{reason}");
    // Nothing changed it.
    let before = sim.calls().get("ModifyRule").copied();
    apply_once(&sim, &docs).await;
    assert_eq!(sim.calls().get("ModifyRule").copied(), before);

    // Adopted: tagged as ours, then changed to the manifest's path.
    let adopted = rule("shop-api", 10, API_BODY).replace(
        "metadata: {name: shop-api}",
        "metadata: {name: shop-api, annotations: {ecs-operator/adopt: \"true\"}}",
    );
    let docs = documents(&[("api.yaml", adopted)]);
    apply_once(&sim, &docs).await;
    for p in plans(&sim, &docs).await {
        assert_eq!(p.status, Status::InSync, "{}: {:#?}", p.key, p.changes);
    }
    assert_eq!(
        sim.route("shop-alb", 80, &SimRequest::get("h", "/api/x")),
        Some(SimRoute::Forward(vec![("shop-api".into(), 1)]))
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_listener_blocks_and_a_listener_by_arn_works() {
    let sim = sim();
    let elsewhere = rule("shop-api", 10, API_BODY).replace("shop-alb", "no-such-alb");
    let docs = documents(&[("api.yaml", elsewhere)]);
    let p = plans(&sim, &docs).await;
    let r = p
        .iter()
        .find(|p| p.key.kind == ecs_operator::manifest::Kind::ListenerRule)
        .unwrap();
    assert_eq!(r.status, Status::Blocked);
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.contains("no-such-alb:80 does not exist") && reason.contains("managed elsewhere"),
        "{reason}"
    );
    let arn = seeded_listener(&sim).await;
    let by_arn = rule("shop-api", 10, API_BODY).replace(
        "listener: {loadBalancerName: shop-alb, port: 80}",
        &format!("listener: {{arn: \"{arn}\"}}"),
    );
    let docs = documents(&[("api.yaml", by_arn)]);
    apply_once(&sim, &docs).await;
    for p in plans(&sim, &docs).await {
        assert_eq!(p.status, Status::InSync, "{}: {:#?}", p.key, p.changes);
    }
    let calls = sim.calls();
    assert!(
        calls.contains_key("DescribeRules"),
        "the rules of the listener by ARN are read: {calls:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_moved_priority_and_a_changed_target_are_one_call_each() {
    let sim = sim();
    apply_once(
        &sim,
        &documents(&[("api.yaml", rule("shop-api", 10, API_BODY))]),
    )
    .await;
    sim.reset_calls();
    let moved = rule("shop-api", 20, &API_BODY.replace("shop-api}", "shop-web}"));
    let docs = documents(&[("api.yaml", moved)]);
    let p = plans(&sim, &docs).await;
    let r = p
        .iter()
        .find(|p| p.key.kind == ecs_operator::manifest::Kind::ListenerRule)
        .unwrap();
    assert_eq!(r.status, Status::Update);
    let ops: Vec<&str> = r.steps.iter().map(|s| s.operation()).collect();
    assert_eq!(ops, ["SetRulePriorities", "ModifyRule"], "{:#?}", r.changes);
    apply_once(&sim, &docs).await;
    for p in plans(&sim, &docs).await {
        assert_eq!(p.status, Status::InSync, "{}: {:#?}", p.key, p.changes);
    }
    assert_eq!(
        sim.route("shop-alb", 80, &SimRequest::get("h", "/api/x")),
        Some(SimRoute::Forward(vec![("shop-web".into(), 1)]))
    );
}

#[tokio::test(start_paused = true)]
async fn prune_deletes_an_owned_rule_no_manifest_names_and_counts_it() {
    let sim = sim();
    let both = documents(&[
        ("api.yaml", rule("shop-api", 10, API_BODY)),
        ("web.yaml", rule("shop-web", 1000, WEB_BODY)),
    ]);
    apply_once(&sim, &both).await;
    let one = documents(&[("api.yaml", rule("shop-api", 10, API_BODY))]);
    let plan = ecs_operator::prune::plan_prune(&sim.cloud(), &one, INSTANCE, 5)
        .await
        .unwrap();
    assert_eq!(plan.rules.len(), 1, "{plan:?}");
    assert_eq!(plan.rules[0].0, "shop-web");
    assert_eq!(plan.owned, 4, "2 target groups and 2 rules: {plan:?}");
    let done =
        ecs_operator::prune::prune(&sim.cloud(), &plan, ecs_operator::prune::MaxPrune::Count(1))
            .await
            .unwrap();
    assert_eq!(done, ["DeleteRule ListenerRule/shop-web"]);
    assert_eq!(
        sim.route("shop-alb", 80, &SimRequest::get("h", "/")),
        Some(SimRoute::Fixed("404".into()))
    );
}

/// A converged diff of `n` rules on the seeded listener (and their `n` target groups) reads
/// no more than the batch sizes require: besides the target groups' reads, DescribeRules by
/// 400 and DescribeTags by 20 for the rules, and the listener resolved once
/// (DescribeLoadBalancers + DescribeListeners).
#[tokio::test(start_paused = true)]
async fn a_converged_diff_reads_the_rules_in_the_fewest_calls() {
    for n in [2usize, 50, 100] {
        let sim = sim();
        let mut texts = Vec::new();
        for i in 0..n {
            texts.push((
                format!("r{i}.yaml"),
                format!(
                    "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {{name: tg-{i}}}\nspec: {{protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: ip}}\n---\n{}",
                    rule(
                        &format!("r-{i}"),
                        10 + i as u32,
                        &format!("  conditions: [{{Field: path-pattern, Values: [\"/p{i}/*\"]}}]\n  actions: [{{Type: forward, ForwardConfig: {{TargetGroups: [{{TargetGroupName: tg-{i}}}]}}}}]\n")
                    )
                ),
            ));
        }
        let loaded = load_texts(
            &texts
                .iter()
                .map(|(f, t)| (PathBuf::from(f), t.clone()))
                .collect::<Vec<_>>(),
        );
        assert!(validate(&loaded).iter().all(|d| !d.is_error()));
        let docs = loaded.documents;
        apply_once(&sim, &docs).await;
        sim.reset_calls();
        let ps = plans(&sim, &docs).await;
        assert!(ps.iter().all(|p| p.status == Status::InSync));
        let calls = sim.calls();
        let total: u64 = calls.values().sum();
        let n = n as u64;
        // Describe and tags; no attributes: these manifests set none, so none is read.
        let target_groups = n.div_ceil(20) * 2;
        let rules = 1 + 1 + n.div_ceil(400) + n.div_ceil(20); // lb, listener, rules, tags
        let minimum = target_groups + rules;
        eprintln!(
            "{n} rules + {n} target groups: {total} read calls (minimum {minimum}): {calls:?}"
        );
        assert_eq!(total, minimum, "{calls:?}");
    }
}

// ---- import ------------------------------------------------------------------------------

const SHOP: &str = "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\nspec: {}\n---\napiVersion: ecs-operator/v1\nkind: Service\nmetadata: {name: api}\nspec:\n  cluster: shop\n  desiredCount: 1\n  launchType: FARGATE\n  loadBalancers: [{targetGroup: shop-api, containerName: app, containerPort: 8000}]\n  networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions: [{name: app, image: api:1, portMappings: [{containerPort: 8000}]}]\n";

/// `import --cluster` also writes the rules that forward to the imported target groups, by
/// their TargetGroup manifest's name; adopted, they differ by the ownership tags only.
#[tokio::test(start_paused = true)]
async fn import_writes_the_rules_forwarding_to_the_imported_target_groups() {
    let sim = sim();
    let mut docs = documents(&[
        ("shop.yaml", SHOP.to_string()),
        ("api.yaml", rule("shop-api", 10, API_BODY)),
        ("web.yaml", rule("shop-web", 1000, WEB_BODY)),
    ]);
    // Made by another operator instance: imported with adopt, this one takes them over.
    let observer = Observer::new(sim.cloud());
    let (p, arns) = plan_all(&observer, &docs, "someone-else").await.unwrap();
    for a in apply(&sim.cloud(), &observer, &p, arns, |_, _| {}).await {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
    }
    docs.clear();
    let request = ecs_operator::import::ImportRequest {
        cluster: "shop".into(),
        services: vec![],
        adopt: true,
    };
    let imported = ecs_operator::import::read(&sim.cloud(), &request)
        .await
        .expect("import");
    let dir = tempfile::tempdir().unwrap();
    let written = ecs_operator::import::write(dir.path(), &imported, false).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    // Only the API's rule: the web rule forwards to a group no imported service uses.
    assert!(
        names.contains(&"shop/listener-rules/shop-api.yaml".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("shop-web")), "{names:?}");
    let text =
        std::fs::read_to_string(dir.path().join("shop/listener-rules/shop-api.yaml")).unwrap();
    assert!(text.contains("TargetGroupName: shop-api"), "{text}");
    assert!(text.contains("loadBalancerName: shop-alb"), "{text}");
    assert!(
        !text.contains("Weight"),
        "the default weight is left out: {text}"
    );
    let loaded = ecs_operator::manifest::load_paths(&[dir.path().to_path_buf()]);
    assert!(
        validate(&loaded).iter().all(|d| !d.is_error()),
        "{:#?}",
        validate(&loaded)
    );
    let observer = Observer::new(sim.cloud());
    let (p, arns) = plan_all(&observer, &loaded.documents, INSTANCE)
        .await
        .unwrap();
    let r = p
        .iter()
        .find(|p| p.key.kind == ecs_operator::manifest::Kind::ListenerRule)
        .unwrap();
    assert_eq!(r.status, Status::Update, "{r:#?}");
    assert!(
        r.changes
            .iter()
            .all(|c| c.to_string().starts_with("tags.ecs-operator/")),
        "only the ownership tags: {:#?}",
        r.changes
    );
    for a in apply(&sim.cloud(), &observer, &p, arns, |_, _| {}).await {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
    }
    for p in plans(&sim, &loaded.documents).await {
        assert_eq!(p.status, Status::InSync, "{}: {:#?}", p.key, p.changes);
    }
}
