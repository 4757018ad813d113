//! Planning on synthetic live state: what each situation plans, and that an in-sync resource
//! plans no call at all.

use std::path::Path;

use crate::cloud::model::{self, Cluster};
use crate::cloud::model::{Tags, TaskDefinition};
use crate::kind::task_definition::{TaskDefinitionPlan, TaskDefinitionTarget};
use crate::kind::{cluster, service, target_group};
use crate::manifest::Document;
use crate::manifest::{Spec, load_str};
use crate::observe::{Observed, ObservedTargetGroup};
use crate::plan::*;

const MANIFESTS: &str = "\
apiVersion: ecs-operator/v1
kind: Cluster
metadata: {name: shop}
spec:
  settings: {containerInsights: enabled}
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: shop-api}
spec:
  protocol: HTTP
  port: 8000
  vpcId: vpc-1
  targetType: ip
  healthCheck: {path: /health}
---
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: 2
  launchType: FARGATE
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - {name: api, image: 'api:1', portMappings: [{containerPort: 8000}]}
  networkConfiguration:
    awsvpcConfiguration: {subnets: [subnet-a]}
  deploymentConfiguration:
    deploymentCircuitBreaker: {enable: true, rollback: true}
  loadBalancers:
    - {targetGroup: shop-api, containerName: api, containerPort: 8000}
";

fn docs(text: &str) -> Vec<Document> {
    let loaded = load_str(Path::new("m.yaml"), text);
    assert!(loaded.is_complete(), "{:?}", loaded.diagnostics);
    loaded.documents
}

fn ctx() -> PlanContext {
    PlanContext {
        instance: "op".into(),
        target_group_arns: [(
            "shop-api".to_string(),
            "arn:aws:elasticloadbalancing:tg/shop-api/1".to_string(),
        )]
        .into(),
        declared_clusters: ["shop".to_string()].into(),
    }
}

fn ours(extra: &[(&str, &str)]) -> Tags {
    let mut t: Tags = [
        (TAG_MANAGED_BY.to_string(), "op".to_string()),
        (TAG_SOURCE.to_string(), "m.yaml".to_string()),
    ]
    .into();
    for (k, v) in extra {
        t.insert(k.to_string(), v.to_string());
    }
    t
}

fn cluster_plan(observed: &Observed, text: &str) -> ResourcePlan {
    let d = &docs(text)[0];
    let Spec::Cluster(c) = &d.manifest.spec else {
        panic!()
    };
    cluster::plan(&ctx(), d, c, observed)
}

#[test]
fn a_missing_cluster_is_created_with_ownership_tags() {
    let p = cluster_plan(&Observed::default(), MANIFESTS);
    assert_eq!(p.status, Status::Create);
    let Step::CreateCluster(input) = &p.steps[0] else {
        panic!("{:?}", p.steps)
    };
    assert_eq!(input.name, "shop");
    assert_eq!(
        input.tags.get(TAG_MANAGED_BY).map(String::as_str),
        Some("op")
    );
    assert_eq!(
        input.tags.get(TAG_SOURCE).map(String::as_str),
        Some("m.yaml")
    );
    assert!(input.tags.contains_key(TAG_SPEC_HASH));
    assert_eq!(
        input.settings.get("containerInsights").map(String::as_str),
        Some("enabled")
    );
}

fn live_cluster(settings: &str, tags: Tags) -> Observed {
    let mut o = Observed::default();
    o.clusters.insert(
        "shop".into(),
        Cluster {
            name: "shop".into(),
            arn: "arn:aws:ecs:us-east-1:1:cluster/shop".into(),
            status: "ACTIVE".into(),
            settings: [("containerInsights".to_string(), settings.to_string())].into(),
            tags,
            ..Default::default()
        },
    );
    o
}

#[test]
fn an_owned_cluster_in_sync_plans_no_call() {
    let p = cluster_plan(&live_cluster("enabled", ours(&[])), MANIFESTS);
    assert_eq!(p.status, Status::InSync);
    assert!(p.steps.is_empty() && p.changes.is_empty());
}

#[test]
fn a_changed_setting_updates_only_the_settings_and_the_hash_tag() {
    let p = cluster_plan(
        &live_cluster("disabled", ours(&[(TAG_SPEC_HASH, "old")])),
        MANIFESTS,
    );
    assert_eq!(p.status, Status::Update);
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].path.to_string(), "settings.containerInsights");
    assert!(matches!(&p.steps[0], Step::UpdateClusterSettings { .. }));
    let Step::TagEcs { tags, .. } = &p.steps[1] else {
        panic!("{:?}", p.steps)
    };
    assert_eq!(tags.keys().collect::<Vec<_>>(), [TAG_SPEC_HASH]);
    assert_eq!(p.steps.len(), 2);
}

#[test]
fn an_unowned_cluster_is_blocked_unless_adopted() {
    let observed = live_cluster("enabled", Tags::new());
    let p = cluster_plan(&observed, MANIFESTS);
    assert_eq!(p.status, Status::Blocked);
    assert!(
        p.reason.as_deref().unwrap().contains("ecs-operator/adopt"),
        "{:?}",
        p.reason
    );
    assert!(p.steps.is_empty());
    let adopted = MANIFESTS.replace(
        "metadata: {name: shop}",
        "metadata: {name: shop, annotations: {ecs-operator/adopt: 'true'}}",
    );
    let p = cluster_plan(&observed, &adopted);
    assert_eq!(p.status, Status::Update, "adoption tags it as ours");
    assert!(
        matches!(&p.steps[0], Step::TagEcs { tags, .. } if tags.get(TAG_MANAGED_BY).map(String::as_str) == Some("op"))
    );
}

#[test]
fn a_cluster_owned_by_another_instance_is_blocked() {
    let mut tags = ours(&[]);
    tags.insert(TAG_MANAGED_BY.into(), "someone-else".into());
    let p = cluster_plan(&live_cluster("enabled", tags), MANIFESTS);
    assert_eq!(p.status, Status::Blocked);
    assert!(p.reason.as_deref().unwrap().contains("someone-else"));
}

fn tg_observed(port: u32, path: &str) -> Observed {
    let mut o = Observed::default();
    o.target_groups.insert(
        "shop-api".into(),
        ObservedTargetGroup {
            group: model::TargetGroup {
                name: "shop-api".into(),
                arn: "arn:aws:elasticloadbalancing:tg/shop-api/1".into(),
                protocol: Some(model::TargetGroupProtocol::Http),
                port: Some(port),
                vpc_id: Some("vpc-1".into()),
                target_type: Some(model::TargetType::Ip),
                health_check: model::TargetGroupHealthCheck {
                    path: Some(path.into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            attributes: Default::default(),
            tags: ours(&[]),
        },
    );
    o
}

fn tg_plan(observed: &Observed) -> ResourcePlan {
    tg_plan_of(MANIFESTS, observed).expect("no attributes: none read")
}

fn tg_plan_of(text: &str, observed: &Observed) -> Result<ResourcePlan, crate::observe::Read> {
    let all = docs(text);
    let d = &all[1];
    let Spec::TargetGroup(t) = &d.manifest.spec else {
        panic!()
    };
    target_group::plan(&ctx(), d, t, observed)
}

/// The manifests with the target group setting `deregistration_delay.timeout_seconds: 30`.
fn with_delay() -> String {
    MANIFESTS.replace(
        "  healthCheck: {path: /health}\n",
        "  healthCheck: {path: /health}\n  attributes: {deregistration_delay.timeout_seconds: '30'}\n",
    )
}

fn delay_attributes(seconds: &str) -> std::collections::BTreeMap<String, String> {
    [(
        "deregistration_delay.timeout_seconds".to_string(),
        seconds.to_string(),
    )]
    .into()
}

/// The live group in sync but for what `edit` changes.
fn tg_observed_with(edit: impl FnOnce(&mut ObservedTargetGroup)) -> Observed {
    let mut o = tg_observed(8000, "/health");
    edit(o.target_groups.get_mut("shop-api").unwrap());
    o
}

/// (manifest, live attributes-hash tag, live attributes read, check forced, read?).
type AttributeCase<'a> = (&'a str, Option<&'a str>, Option<&'a str>, bool, bool);

#[test]
fn target_group_attributes_are_read_only_when_the_tag_cannot_be_trusted() {
    let hash = target_group::attributes_hash(&delay_attributes("30")).unwrap();
    let read = crate::observe::Read::TargetGroupAttributes("shop-api".into());
    let table: [AttributeCase; 9] = [
        ("none", None, None, false, false),
        ("none", None, None, true, false),
        ("delay", Some(hash.as_str()), None, false, false),
        ("delay", None, None, false, true),
        ("delay", Some("stale"), None, false, true),
        ("delay", Some(hash.as_str()), None, true, true),
        ("delay", Some(hash.as_str()), Some("30"), true, false),
        ("delay", Some("stale"), Some("30"), false, false),
        ("delay", None, Some("300"), false, false),
    ];
    for (manifest, tag, attributes, forced, wants_read) in table {
        let text = if manifest == "none" {
            MANIFESTS.to_string()
        } else {
            with_delay()
        };
        let mut observed = tg_observed_with(|g| {
            if let Some(t) = tag {
                g.tags.insert(TAG_ATTRIBUTES_HASH.into(), t.into());
            }
            g.attributes = attributes.map(delay_attributes);
        });
        if forced {
            observed.attribute_checks = crate::observe::attributes::AttributeChecks::All;
        }
        let plan = tg_plan_of(&text, &observed);
        let case = format!("{manifest} {tag:?} {attributes:?} forced {forced}");
        if wants_read {
            assert_eq!(plan.err(), Some(read.clone()), "{case}");
        } else {
            assert!(plan.is_ok(), "{case}: {plan:?}");
        }
    }
}

#[test]
fn trusted_attributes_are_in_sync_and_drifted_ones_are_set_then_tagged() {
    let hash = target_group::attributes_hash(&delay_attributes("30")).unwrap();
    // The tag holds the manifest's hash: taken as set, nothing read, in sync.
    let trusted = tg_observed_with(|g| {
        g.tags.insert(TAG_ATTRIBUTES_HASH.into(), hash.clone());
    });
    assert_eq!(
        tg_plan_of(&with_delay(), &trusted).unwrap().status,
        Status::InSync
    );
    // Read (no tag yet) and in sync: nothing to do; the tag is written with the next change.
    let read_same = tg_observed_with(|g| g.attributes = Some(delay_attributes("30")));
    assert_eq!(
        tg_plan_of(&with_delay(), &read_same).unwrap().status,
        Status::InSync
    );
    // Read and changed by hand: modified, then the tag written after the modify.
    let drifted = tg_observed_with(|g| g.attributes = Some(delay_attributes("300")));
    let p = tg_plan_of(&with_delay(), &drifted).unwrap();
    assert_eq!(p.status, Status::Update);
    let ops: Vec<&str> = p.steps.iter().map(Step::operation).collect();
    assert_eq!(ops, ["ModifyTargetGroupAttributes", "AddTags"]);
    let Step::AddTargetGroupTags { tags, .. } = &p.steps[1] else {
        panic!()
    };
    assert_eq!(tags.get(TAG_ATTRIBUTES_HASH), Some(&hash));
    // Created: the create's tags carry the hash of the attributes set with it.
    let p = tg_plan_of(&with_delay(), &Observed::default()).unwrap();
    let Step::CreateTargetGroup { input, attributes } = &p.steps[0] else {
        panic!()
    };
    assert_eq!(input.tags.get(TAG_ATTRIBUTES_HASH), Some(&hash));
    assert_eq!(attributes, &delay_attributes("30"));
    // No attributes in the manifest: no tag.
    let p = tg_plan_of(MANIFESTS, &Observed::default()).unwrap();
    let Step::CreateTargetGroup { input, .. } = &p.steps[0] else {
        panic!()
    };
    assert!(!input.tags.contains_key(TAG_ATTRIBUTES_HASH));
}

#[test]
fn a_target_group_health_check_drift_is_modified_in_place() {
    let p = tg_plan(&tg_observed(8000, "/"));
    assert_eq!(p.status, Status::Update);
    assert_eq!(
        p.changes
            .iter()
            .map(|c| c.path.to_string())
            .collect::<Vec<_>>(),
        ["healthCheck.path"]
    );
    assert!(
        matches!(&p.steps[0], Step::ModifyTargetGroup { health_check, .. } if health_check.path.as_deref() == Some("/health"))
    );
}

#[test]
fn a_target_group_port_change_needs_replacement_and_deletes_nothing() {
    let p = tg_plan(&tg_observed(9000, "/health"));
    assert_eq!(p.status, Status::Blocked);
    let reason = p.reason.unwrap();
    assert!(
        reason.contains("needs replacement") && reason.contains("spec.port"),
        "{reason}"
    );
    assert!(p.steps.is_empty());
}

fn svc_doc() -> Document {
    docs(MANIFESTS).remove(2)
}

fn td_plan(doc: &Document, target: TaskDefinitionTarget) -> TaskDefinitionPlan {
    let Spec::Service(s) = &doc.manifest.spec else {
        panic!()
    };
    let desired = crate::kind::task_definition::task_definition(
        &crate::kind::task_definition::desired_task_definition("api", s),
    );
    TaskDefinitionPlan {
        hash: crate::kind::task_definition::content_hash(&desired),
        desired,
        target,
        changes: vec![],
    }
}

fn live_service(doc: &Document, desired_count: u32) -> model::Service {
    let Spec::Service(s) = &doc.manifest.spec else {
        panic!()
    };
    model::Service {
        name: "api".into(),
        arn: "arn:aws:ecs:us-east-1:1:service/shop/api".into(),
        status: "ACTIVE".into(),
        desired_count,
        task_definition: "arn:td/api:1".into(),
        launch_type: Some(model::LaunchType::Fargate),
        network_configuration: s.network_configuration.clone(),
        deployment_configuration: s.deployment_configuration.clone(),
        load_balancers: vec![model::ServiceLoadBalancer {
            target_group_arn: "arn:aws:elasticloadbalancing:tg/shop-api/1".into(),
            container_name: "api".into(),
            container_port: 8000,
            advanced_configuration: None,
        }],
        tags: ours(&[]),
        ..Default::default()
    }
}

fn svc_plan(observed: &Observed, doc: &Document, td: &TaskDefinitionPlan) -> ResourcePlan {
    let Spec::Service(s) = &doc.manifest.spec else {
        panic!()
    };
    service::plan_with(&ctx(), doc, s, observed, td)
}

/// The plan of `doc` against `live` in the owned cluster, the task definition kept at api:1.
fn plan_keeping_api_1(doc: &Document, live: model::Service) -> ResourcePlan {
    let mut o = live_cluster("enabled", ours(&[]));
    o.services.insert(("shop".into(), "api".into()), live);
    svc_plan(
        &o,
        doc,
        &td_plan(doc, TaskDefinitionTarget::Keep("arn:td/api:1".into())),
    )
}

#[test]
fn a_service_in_sync_plans_no_call() {
    let doc = svc_doc();
    let p = plan_keeping_api_1(&doc, live_service(&doc, 2));
    assert_eq!(p.status, Status::InSync, "{:?}", p.changes);
    assert!(p.steps.is_empty());
}

#[test]
fn desired_count_drift_updates_only_the_count() {
    let doc = svc_doc();
    let p = plan_keeping_api_1(&doc, live_service(&doc, 5));
    assert_eq!(p.status, Status::Update);
    let Step::UpdateService {
        input,
        load_balancers,
    } = &p.steps[0]
    else {
        panic!("{:?}", p.steps)
    };
    assert_eq!(input.desired_count, Some(2));
    assert_eq!(
        input.task_definition, None,
        "no new revision for a count change"
    );
    assert!(input.network_configuration.is_none() && load_balancers.is_none());
}

#[test]
fn a_new_service_registers_then_creates_with_the_registered_revision() {
    let doc = svc_doc();
    let o = live_cluster("enabled", ours(&[]));
    let p = svc_plan(&o, &doc, &td_plan(&doc, TaskDefinitionTarget::Register));
    assert_eq!(p.status, Status::Create);
    assert!(
        matches!(&p.steps[0], Step::RegisterTaskDefinition { definition, .. } if definition.family.as_deref() == Some("api"))
    );
    let Step::CreateService {
        input,
        load_balancers,
    } = &p.steps[1]
    else {
        panic!()
    };
    assert_eq!(input.task_definition, REGISTERED);
    assert_eq!(load_balancers[0].target_group, "shop-api");
    assert!(input.client_token.starts_with("ecs-operator-"));
}

#[test]
fn a_reverted_spec_reuses_the_existing_revision() {
    let doc = svc_doc();
    let mut o = live_cluster("enabled", ours(&[]));
    o.services
        .insert(("shop".into(), "api".into()), live_service(&doc, 2));
    let p = svc_plan(
        &o,
        &doc,
        &td_plan(&doc, TaskDefinitionTarget::Use("arn:td/api:1".into())),
    );
    assert_eq!(
        p.status,
        Status::Update,
        "setting another revision is an update"
    );
    assert!(
        !p.steps
            .iter()
            .any(|s| matches!(s, Step::RegisterTaskDefinition { .. }))
    );
    assert!(p.steps.iter().any(|s| matches!(s, Step::UpdateService { input, .. } if input.task_definition.as_deref() == Some("arn:td/api:1"))));
}

#[test]
fn a_service_in_an_undeclared_missing_cluster_is_blocked() {
    let text = MANIFESTS.replace("cluster: shop", "cluster: elsewhere");
    let doc = docs(&text).remove(2);
    let p = svc_plan(
        &Observed::default(),
        &doc,
        &td_plan(&doc, TaskDefinitionTarget::Register),
    );
    assert_eq!(p.status, Status::Blocked);
    assert!(p.reason.unwrap().contains("elsewhere"));
}

#[test]
fn a_launch_type_change_needs_replacement() {
    let doc = svc_doc();
    let mut o = live_cluster("enabled", ours(&[]));
    let mut live = live_service(&doc, 2);
    live.launch_type = Some(model::LaunchType::Ec2);
    o.services.insert(("shop".into(), "api".into()), live);
    let p = svc_plan(
        &o,
        &doc,
        &td_plan(&doc, TaskDefinitionTarget::Keep("arn:td/api:1".into())),
    );
    assert_eq!(p.status, Status::Blocked);
    assert!(p.reason.unwrap().contains("spec.launchType"));
}

fn revision(arn: &str, definition: &TaskDefinition) -> model::RegisteredTaskDefinition {
    model::RegisteredTaskDefinition {
        arn: arn.into(),
        family: "api".into(),
        revision: 1,
        status: "ACTIVE".into(),
        definition: definition.clone(),
        tags: Tags::new(),
        registered_at: None,
    }
}

#[test]
fn a_service_plan_reads_nothing_itself_and_names_each_read_in_the_search_order() {
    use crate::kind::task_definition::resolve;
    use crate::observe::Read;
    let doc = svc_doc();
    let s = doc.manifest.as_service().unwrap();
    let live = live_service(&doc, 2);
    let desired = td_plan(&doc, TaskDefinitionTarget::Register).desired;
    let mut older = desired.clone();
    older.container_definitions[0].image = "api:0".into();
    let mut o = live_cluster("enabled", ours(&[]));
    o.services
        .insert(("shop".into(), "api".into()), live.clone());

    let need = |o: &Observed| resolve(&doc, s, Some(&live), o).unwrap_err();
    assert_eq!(
        need(&o),
        Read::Revision("arn:td/api:1".into()),
        "the revision it runs"
    );
    assert_eq!(
        crate::kind::plan(&ctx(), &doc, &o).unwrap_err(),
        Read::Revision("arn:td/api:1".into()),
        "the same through the kind dispatch"
    );
    o.revisions
        .insert("arn:td/api:1".into(), revision("arn:td/api:1", &older));
    assert_eq!(
        need(&o),
        Read::Families,
        "then which families have a revision"
    );
    o.active_families = Some(crate::observe::Families::of(["api".to_string()].into()));
    assert_eq!(
        need(&o),
        Read::Family("api".into()),
        "then the family's revisions"
    );
    o.families.insert(
        "api".into(),
        vec!["arn:td/api:1".into(), "arn:td/api:2".into()],
    );
    assert_eq!(
        need(&o),
        Read::Revision("arn:td/api:2".into()),
        "newest first"
    );

    let mut found = o.clone();
    found
        .revisions
        .insert("arn:td/api:2".into(), revision("arn:td/api:2", &desired));
    let td = resolve(&doc, s, Some(&live), &found).unwrap();
    assert_eq!(td.target, TaskDefinitionTarget::Use("arn:td/api:2".into()));
    assert_eq!(td.changes.len(), 1, "{:?}", td.changes);
    let p = crate::kind::plan(&ctx(), &doc, &found).unwrap();
    assert_eq!(p.status, Status::Update);

    let mut none = o.clone();
    none.revisions
        .insert("arn:td/api:2".into(), revision("arn:td/api:2", &older));
    let td = resolve(&doc, s, Some(&live), &none).unwrap();
    assert_eq!(td.target, TaskDefinitionTarget::Register);

    let mut tagged = live.clone();
    tagged
        .tags
        .insert(TAG_TASK_DEFINITION.into(), "arn:td/api:1".into());
    tagged.tags.insert(
        TAG_TASK_DEFINITION_HASH.into(),
        crate::kind::task_definition::content_hash(&desired),
    );
    let td = resolve(&doc, s, Some(&tagged), &Observed::default()).unwrap();
    assert_eq!(
        td.target,
        TaskDefinitionTarget::Keep("arn:td/api:1".into()),
        "a revision the operator set with this content is not read"
    );
}

#[test]
fn each_kind_keeps_its_own_name_and_a_service_its_cluster_and_family() {
    let keep = crate::kind::keep(&docs(MANIFESTS));
    assert_eq!(keep.clusters, ["shop".to_string()].into());
    assert_eq!(keep.target_groups, ["shop-api".to_string()].into());
    assert_eq!(
        keep.services,
        [("shop".to_string(), "api".to_string())].into()
    );
    assert_eq!(keep.families, ["api".to_string()].into());
}

#[test]
fn health_is_each_kinds_own() {
    use crate::cloud::model::{Deployment, RolloutState, Service};
    use crate::kind::health;
    use crate::manifest::{Kind, ResourceKey};
    use crate::status::Health;
    let key = |kind, cluster: Option<&str>, name: &str| ResourceKey {
        kind,
        cluster: cluster.map(str::to_string),
        name: name.into(),
    };
    let service = |state, reason: &str| Service {
        name: "api".into(),
        task_definition: "api:3".into(),
        deployments: vec![Deployment {
            status: "PRIMARY".into(),
            task_definition: "api:3".into(),
            desired_count: 2,
            running_count: 2,
            rollout_state: Some(state),
            rollout_state_reason: Some(reason.into()),
            ..Deployment::default()
        }],
        ..Service::default()
    };
    let mut observed = Observed::default();
    let api = key(Kind::Service, Some("shop"), "api");
    assert_eq!(health(&api, &observed).health, Health::Missing);
    observed.services.insert(
        ("shop".into(), "api".into()),
        service(RolloutState::Completed, ""),
    );
    let h = health(&api, &observed);
    assert_eq!(
        (h.health, h.revision.as_deref()),
        (Health::Healthy, Some("api:3"))
    );
    observed.services.insert(
        ("shop".into(), "api".into()),
        service(RolloutState::Failed, "tasks failed to start"),
    );
    let h = health(&api, &observed);
    assert_eq!(h.health, Health::Degraded);
    assert_eq!(
        h.message.as_deref(),
        Some("rollout failed: tasks failed to start")
    );
    observed.services.insert(
        ("shop".into(), "api".into()),
        service(RolloutState::InProgress, ""),
    );
    assert_eq!(health(&api, &observed).health, Health::Progressing);
    let cluster = key(Kind::Cluster, None, "shop");
    assert_eq!(health(&cluster, &observed).health, Health::Missing);
    observed.clusters.insert("shop".into(), Default::default());
    assert_eq!(health(&cluster, &observed).health, Health::Healthy);
    let group = key(Kind::TargetGroup, None, "shop-api");
    assert_eq!(health(&group, &observed).health, Health::Missing);
}

/// The Service manifest with `ecs-operator/redeploy: <value>`.
fn redeploy_doc(value: &str) -> Document {
    let text = MANIFESTS.replace(
        "metadata: {name: api}",
        &format!("metadata: {{name: api, annotations: {{ecs-operator/redeploy: '{value}'}}}}"),
    );
    docs(&text).remove(2)
}

#[test]
fn a_changed_redeploy_annotation_forces_a_new_deployment_once() {
    // (live tag, annotation) -> forced?
    for (live_tag, value, forced) in [
        (None, "1", true),
        (Some("1"), "2", true),
        (Some("2"), "2", false),
    ] {
        let doc = redeploy_doc(value);
        let mut svc = live_service(&doc, 2);
        if let Some(v) = live_tag {
            svc.tags.insert(TAG_REDEPLOY.into(), v.into());
        }
        let p = plan_keeping_api_1(&doc, svc);
        let update = p.steps.iter().find_map(|s| match s {
            Step::UpdateService { input, .. } => Some(input),
            _ => None,
        });
        assert_eq!(
            update.is_some_and(|u| u.force_new_deployment),
            forced,
            "{live_tag:?} -> {value}: {:?}",
            p.steps
        );
        if forced {
            let tagged = p.steps.iter().any(|s| {
                matches!(s, Step::TagEcs { tags, .. } if tags.get(TAG_REDEPLOY).map(String::as_str) == Some(value))
            });
            assert!(
                tagged,
                "the value deployed for is remembered: {:?}",
                p.steps
            );
        } else {
            assert_eq!(p.status, Status::InSync, "{:?}", p.changes);
        }
    }
}

#[test]
fn removing_the_network_configuration_is_blocked_with_the_reason() {
    let text = MANIFESTS.replace(
        "  networkConfiguration:\n    awsvpcConfiguration: {subnets: [subnet-a]}\n",
        "",
    );
    let without = docs(&text).remove(2);
    let live = live_service(&svc_doc(), 2); // still has its network configuration
    let p = plan_keeping_api_1(&without, live);
    assert_eq!(p.status, Status::Blocked, "{:?}", p.steps);
    assert!(p.steps.is_empty());
    let reason = p.reason.unwrap_or_default();
    assert!(reason.contains("cannot remove"), "{reason}");
}

/// The service of `svc_doc()` as the operator left it: its tags name revision api:1 with
/// content hash `tagged_hash`.
fn tagged_live(doc: &Document, tagged_hash: &str) -> model::Service {
    let mut live = live_service(doc, 2);
    live.tags
        .insert(TAG_TASK_DEFINITION.into(), "arn:td/api:1".into());
    live.tags
        .insert(TAG_TASK_DEFINITION_HASH.into(), tagged_hash.into());
    live
}

#[test]
fn an_image_roll_registers_and_updates_with_no_read_and_no_tag_write() {
    use crate::kind::task_definition::resolve;
    let doc = svc_doc();
    let s = doc.manifest.as_service().unwrap();
    let live = tagged_live(
        &doc,
        &format!(
            "{}an-older-content-hash",
            crate::kind::task_definition::HASH_FORMAT
        ),
    );
    let mut o = live_cluster("enabled", ours(&[]));
    o.services
        .insert(("shop".into(), "api".into()), live.clone());
    let td = resolve(&doc, s, Some(&live), &o).expect("no read needed");
    assert_eq!(td.target, TaskDefinitionTarget::Register);
    assert_eq!(td.changes.len(), 1);
    assert_eq!(td.changes[0].path.to_string(), "contentHash");
    let p = crate::kind::plan(&ctx(), &doc, &o).expect("no read needed");
    let ops: Vec<&str> = p.steps.iter().map(Step::operation).collect();
    assert_eq!(ops, ["RegisterTaskDefinition", "UpdateService"]);

    // `diff` wants the field changes: it reads the revision the service runs.
    let detailed = Observed {
        field_changes: true,
        ..o.clone()
    };
    assert_eq!(
        resolve(&doc, s, Some(&live), &detailed).unwrap_err(),
        crate::observe::Read::Revision("arn:td/api:1".into())
    );
}

#[test]
fn a_new_service_of_a_family_with_no_revision_registers_without_a_search() {
    use crate::kind::task_definition::resolve;
    let doc = svc_doc();
    let s = doc.manifest.as_service().unwrap();
    let mut o = live_cluster("enabled", ours(&[]));
    assert_eq!(
        resolve(&doc, s, None, &o).unwrap_err(),
        crate::observe::Read::Families
    );
    o.active_families = Some(crate::observe::Families::of(["other".to_string()].into()));
    let td = resolve(&doc, s, None, &o).expect("no listing of the family");
    assert_eq!(td.target, TaskDefinitionTarget::Register);
}

#[test]
fn a_revision_the_tags_do_not_name_is_read_once_and_its_own_tags_decide() {
    use crate::kind::task_definition::resolve;
    let doc = svc_doc();
    let s = doc.manifest.as_service().unwrap();
    let desired = td_plan(&doc, TaskDefinitionTarget::Register).desired;
    let mut older = desired.clone();
    older.container_definitions[0].image = "api:0".into();
    // An earlier apply rolled the service to api:2 and wrote no tag: the tags name api:1.
    let mut live = tagged_live(&doc, "hash-of-api-1");
    live.task_definition = "arn:td/api:2".into();
    let mut o = live_cluster("enabled", ours(&[]));
    assert_eq!(
        resolve(&doc, s, Some(&live), &o).unwrap_err(),
        crate::observe::Read::Revision("arn:td/api:2".into())
    );
    let mut registered = revision("arn:td/api:2", &older);
    registered.tags.insert(TAG_MANAGED_BY.into(), "op".into());
    registered
        .tags
        .insert(TAG_SPEC_HASH.into(), "hash-of-api-2".into());
    o.revisions
        .insert("arn:td/api:2".into(), registered.clone());
    let td = resolve(&doc, s, Some(&live), &o).expect("the operator's revision: no search");
    assert_eq!(td.target, TaskDefinitionTarget::Register);
    assert!(!td.changes.is_empty());

    registered.tags.insert(
        TAG_SPEC_HASH.into(),
        crate::kind::task_definition::content_hash(&desired),
    );
    o.revisions.insert("arn:td/api:2".into(), registered);
    let td = resolve(&doc, s, Some(&live), &o).unwrap();
    assert_eq!(
        td.target,
        TaskDefinitionTarget::Keep("arn:td/api:2".into()),
        "its content hash tag is the wanted one"
    );
}

#[test]
fn a_content_hash_of_an_older_release_is_not_trusted_the_revision_is_read() {
    let doc = svc_doc();
    let Spec::Service(s) = &doc.manifest.spec else {
        panic!()
    };
    let mut live = live_service(&doc, 2);
    live.tags
        .insert(TAG_TASK_DEFINITION.into(), "arn:td/api:1".into());
    // The same content, hashed the way an older release did: no format prefix.
    live.tags
        .insert(TAG_TASK_DEFINITION_HASH.into(), "0123456789abcdef".into());
    let read = crate::kind::task_definition::resolve(&doc, s, Some(&live), &Observed::default());
    assert_eq!(
        read.err(),
        Some(crate::observe::Read::Revision("arn:td/api:1".into())),
        "the running revision is read, not assumed changed (an upgrade must not register)"
    );
}
