//! Every operation goes through the layers exactly once, in order; a layer failing a call
//! stops it before the backend; resources read short.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::cloud::model::{CreateCluster, CreateService, CreateTargetGroup, Tags, UpdateService};
use crate::cloud::sim::{Sim, SimConfig};
use crate::manifest::task_definition::{Compatibility, ContainerDefinition, NetworkMode};
use crate::manifest::units::{TaskCpu, TaskMemory};

/// A valid Fargate task definition of family `api`.
fn task_definition() -> TaskDefinition {
    TaskDefinition {
        family: Some("api".into()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(256)),
        memory: Some(TaskMemory(512)),
        container_definitions: vec![ContainerDefinition {
            name: "api".into(),
            image: "api:1".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Makes one call of `op` through `cloud` with placeholder arguments (most answer an error:
/// only the call matters). `None` for an operation the traits do not make.
pub(crate) async fn call(cloud: &Cloud, op: Operation) -> Option<CloudResult<()>> {
    let (ecs, elbv2) = (&cloud.ecs, &cloud.elbv2);
    let names = vec!["shop".to_string()];
    let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0";
    let arns = vec![arn.to_string()];
    let map = BTreeMap::new();
    let tags = Tags::new();
    let service = |name: &str| UpdateService {
        cluster: "shop".into(),
        name: name.into(),
        ..Default::default()
    };
    use Operation as O;
    Some(match op {
        O::DescribeClusters => ecs.describe_clusters(&names).await.map(drop),
        O::CreateCluster => {
            let input = CreateCluster {
                name: "shop".into(),
                ..Default::default()
            };
            ecs.create_cluster(&input).await.map(drop)
        }
        O::UpdateCluster => ecs.update_cluster_settings("shop", &map).await.map(drop),
        O::PutClusterCapacityProviders => ecs
            .put_cluster_capacity_providers("shop", &[], &[])
            .await
            .map(drop),
        O::TagResource => ecs.tag_resource("arn:x", &tags).await,
        O::UntagResource => ecs.untag_resource("arn:x", &[]).await,
        O::ListServices => ecs.list_services("shop", None).await.map(drop),
        O::DescribeServices => ecs.describe_services("shop", &names).await.map(drop),
        O::ListTasks => ecs.list_stopped_tasks("shop", "api", None).await.map(drop),
        O::DescribeTasks => ecs.describe_tasks("shop", &names).await.map(drop),
        O::ListServiceDeployments => ecs
            .list_service_deployments("shop", "api", None)
            .await
            .map(drop),
        O::DescribeServiceDeployments => ecs.describe_service_deployments(&arns).await.map(drop),
        O::CreateService => {
            let input = CreateService {
                cluster: "shop".into(),
                name: "api".into(),
                ..Default::default()
            };
            ecs.create_service(&input).await.map(drop)
        }
        O::UpdateService => ecs.update_service(&service("api")).await.map(drop),
        O::DeleteService => ecs.delete_service("shop", "api", true).await.map(drop),
        O::RegisterTaskDefinition => ecs
            .register_task_definition(&task_definition(), &tags)
            .await
            .map(drop),
        O::DescribeTaskDefinition => ecs.describe_task_definition("api:1").await.map(drop),
        O::ListTaskDefinitions => ecs.list_task_definitions("api", None).await.map(drop),
        O::ListTaskDefinitionFamilies => ecs.list_task_definition_families(None).await.map(drop),
        O::DeregisterTaskDefinition => ecs.deregister_task_definition("api:1").await.map(drop),
        O::DescribeTargetGroups => elbv2.describe_target_groups(&names).await.map(drop),
        O::CreateTargetGroup => {
            let input = CreateTargetGroup {
                name: "tg".into(),
                ..Default::default()
            };
            elbv2.create_target_group(&input).await.map(drop)
        }
        O::ModifyTargetGroup => elbv2
            .modify_target_group(arn, &Default::default())
            .await
            .map(drop),
        O::DescribeTargetGroupAttributes => {
            elbv2.describe_target_group_attributes(arn).await.map(drop)
        }
        O::ModifyTargetGroupAttributes => elbv2
            .modify_target_group_attributes(arn, &map)
            .await
            .map(drop),
        O::DescribeTags => elbv2.describe_tags(&arns).await.map(drop),
        O::AddTags => elbv2.add_tags(&arns, &tags).await,
        O::RemoveTags => elbv2.remove_tags(&arns, &[]).await,
        O::DeleteTargetGroup => elbv2.delete_target_group(arn).await,
        O::DescribeTargetHealth => elbv2.describe_target_health(arn).await.map(drop),
        // Application Auto Scaling
        O::RegisterScalableTarget => {
            let input = crate::cloud::model::scaling::RegisterScalableTarget {
                resource_id: "service/shop/api".into(),
                min_capacity: 1,
                max_capacity: 2,
                suspended_state: None,
            };
            cloud.autoscaling.register_scalable_target(&input).await
        }
        O::DescribeScalableTargets => cloud
            .autoscaling
            .describe_scalable_targets(&["service/shop/api".into()], None)
            .await
            .map(drop),
        O::DeregisterScalableTarget => {
            cloud
                .autoscaling
                .deregister_scalable_target("service/shop/api")
                .await
        }
        O::PutScalingPolicy => {
            let input = crate::cloud::model::scaling::PutScalingPolicy {
                name: "cpu".into(),
                resource_id: "service/shop/api".into(),
                configuration: crate::cloud::model::scaling::PolicyConfiguration::Other(
                    "PredictiveScaling".into(),
                ),
            };
            cloud.autoscaling.put_scaling_policy(&input).await.map(drop)
        }
        O::DescribeScalingPolicies => cloud
            .autoscaling
            .describe_scaling_policies(None, None)
            .await
            .map(drop),
        O::DeleteScalingPolicy => {
            cloud
                .autoscaling
                .delete_scaling_policy("service/shop/api", "cpu")
                .await
        }
        O::PutScheduledAction => {
            let input = crate::cloud::model::scaling::ScheduledAction {
                name: "night".into(),
                resource_id: "service/shop/api".into(),
                schedule: "rate(1 day)".into(),
                timezone: None,
                min_capacity: Some(1),
                max_capacity: None,
            };
            cloud.autoscaling.put_scheduled_action(&input).await
        }
        O::DescribeScheduledActions => cloud
            .autoscaling
            .describe_scheduled_actions(None, None)
            .await
            .map(drop),
        O::DeleteScheduledAction => {
            cloud
                .autoscaling
                .delete_scheduled_action("service/shop/api", "night")
                .await
        }
        // Listener rules (issue 14).
        O::DescribeLoadBalancers => elbv2.describe_load_balancers(&names).await.map(drop),
        O::DescribeListeners => elbv2.describe_listeners(arn, None).await.map(drop),
        O::DescribeRules => elbv2.describe_rules(arn, None).await.map(drop),
        O::CreateRule => elbv2
            .create_rule(&crate::cloud::model::CreateRule::default())
            .await
            .map(drop),
        O::ModifyRule => elbv2.modify_rule(arn, &[], &[]).await.map(drop),
        O::SetRulePriorities => elbv2
            .set_rule_priorities(&[(arn.to_string(), 1)])
            .await
            .map(drop),
        O::DeleteRule => elbv2.delete_rule(arn).await,
        _ => {
            assert!(
                !op.is_cloud_call(),
                "{op} is called by the traits: add it here"
            );
            return None;
        }
    })
}

/// What a recording layer saw.
#[derive(Debug, Default)]
struct Seen {
    entered: BTreeMap<Operation, u32>,
    exited: BTreeMap<Operation, u32>,
    events: Vec<String>,
    resources: Vec<String>,
}

/// A layer that records every enter and exit, and fails the calls of `fail`.
struct Recording {
    name: &'static str,
    seen: Arc<Mutex<Seen>>,
    fail: Option<Operation>,
}

#[async_trait]
impl Layer for Recording {
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        let mut seen = self.seen.lock().unwrap();
        *seen.entered.entry(call.operation).or_default() += 1;
        seen.events
            .push(format!("{} enter {}", self.name, call.operation));
        seen.resources.push(call.resource.to_string());
        if self.fail == Some(call.operation) {
            return Err(CloudError::new(
                ErrorKind::AccessDenied,
                call.operation.as_str(),
                "refused by a layer",
            ));
        }
        Ok(Ticket::hold(self.name))
    }

    fn exit(&self, call: &CallInfo<'_>, ticket: Ticket, outcome: Result<(), &mut CloudError>) {
        assert_eq!(ticket.take::<&str>(), Some(self.name), "its own ticket");
        let mut seen = self.seen.lock().unwrap();
        *seen.exited.entry(call.operation).or_default() += 1;
        let outcome = match outcome {
            Ok(()) => "ok".to_string(),
            Err(e) => e.kind.to_string(),
        };
        seen.events
            .push(format!("{} exit {} {outcome}", self.name, call.operation));
    }
}

fn recording(name: &'static str, fail: Option<Operation>) -> (Arc<Recording>, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let layer = Arc::new(Recording {
        name,
        seen: Arc::clone(&seen),
        fail,
    });
    (layer, seen)
}

fn quiet_sim() -> Sim {
    Sim::new(SimConfig {
        throttling: false,
        ..SimConfig::default()
    })
}

#[tokio::test(start_paused = true)]
async fn every_operation_goes_through_every_layer_exactly_once() {
    let sim = quiet_sim();
    let (outer, outer_seen) = recording("outer", None);
    let (inner, inner_seen) = recording("inner", None);
    let cloud = Layered::new(sim.cloud(), vec![outer, inner]).cloud();
    let mut made = 0u32;
    for op in Operation::ALL {
        let before = sim.calls().get(op.as_str()).copied().unwrap_or(0);
        if call(&cloud, op).await.is_none() {
            continue;
        }
        made += 1;
        for seen in [&outer_seen, &inner_seen] {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.entered.get(&op), Some(&1), "{op}");
            assert_eq!(seen.exited.get(&op), Some(&1), "{op}");
        }
        let after = sim.calls().get(op.as_str()).copied().unwrap_or(0);
        assert_eq!(after, before + 1, "{op} reached the backend once");
    }
    assert_eq!(
        made as usize,
        Operation::called().filter(|op| op.is_cloud_call()).count()
    );
    // The other trait method of DescribeTargetGroups.
    cloud
        .elbv2
        .describe_target_groups_page(None, 10)
        .await
        .unwrap();
    let seen = outer_seen.lock().unwrap();
    assert_eq!(seen.entered[&Operation::DescribeTargetGroups], 2);
    assert_eq!(seen.exited[&Operation::DescribeTargetGroups], 2);
    assert_eq!(seen.entered.values().sum::<u32>(), made + 1);
}

#[tokio::test(start_paused = true)]
async fn layers_enter_in_order_and_exit_in_reverse() {
    let (a, seen) = recording("a", None);
    let b = Arc::new(Recording {
        name: "b",
        seen: Arc::clone(&seen),
        fail: None,
    });
    let cloud = Layered::new(quiet_sim().cloud(), vec![a, b]).cloud();
    let _ = cloud.ecs.describe_clusters(&["shop".into()]).await;
    assert_eq!(
        seen.lock().unwrap().events,
        [
            "a enter DescribeClusters",
            "b enter DescribeClusters",
            "b exit DescribeClusters ok",
            "a exit DescribeClusters ok",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_layer_failing_a_call_stops_it_before_the_backend_and_outer_layers_see_the_error() {
    let sim = quiet_sim();
    let (outer, outer_seen) = recording("outer", None);
    let (failing, _) = recording("failing", Some(Operation::CreateCluster));
    let (inner, inner_seen) = recording("inner", None);
    let cloud = Layered::new(sim.cloud(), vec![outer, failing, inner]).cloud();
    let input = CreateCluster {
        name: "shop".into(),
        ..Default::default()
    };
    let err = cloud.ecs.create_cluster(&input).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(err.operation, "CreateCluster");
    assert!(sim.calls().is_empty(), "nothing reached the simulator");
    assert!(inner_seen.lock().unwrap().entered.is_empty());
    assert_eq!(
        outer_seen.lock().unwrap().events,
        [
            "outer enter CreateCluster",
            "outer exit CreateCluster access_denied"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn resources_are_short_names_of_what_a_call_is_about() {
    let (layer, seen) = recording("r", None);
    let cloud = Layered::new(quiet_sim().cloud(), vec![layer]).cloud();
    let _ = cloud
        .ecs
        .describe_services("shop", &["api".into(), "web".into(), "worker".into()])
        .await;
    let _ = cloud.ecs.delete_service("shop", "api", false).await;
    let _ = cloud
        .elbv2
        .describe_target_health(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/0f1e",
        )
        .await;
    let _ = cloud.elbv2.describe_target_groups_page(None, 10).await;
    assert_eq!(
        seen.lock().unwrap().resources,
        [
            "shop/api (+2 more)",
            "shop/api",
            "targetgroup/shop-api/0f1e",
            ""
        ]
    );
}

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything logged at DEBUG and above on this thread while the guard lives.
    fn debug_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// The lines logged so far.
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_call_is_one_short_warn_line_and_a_missing_resource_on_a_read_is_debug() {
    let (captured, _guard) = Captured::debug_logs();

    let sim = quiet_sim();
    sim.inject(
        "UpdateService",
        crate::cloud::sim::Fault::FailNext(1, ErrorKind::Transient),
    );
    let cloud = Layered::new(sim.cloud(), vec![Arc::new(LogFailures { warn: true })]).cloud();
    let update = UpdateService {
        cluster: "shop".into(),
        name: "api".into(),
        ..Default::default()
    };
    let err = cloud.ecs.update_service(&update).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    let missing = cloud.elbv2.describe_target_groups(&["nope".into()]).await;
    assert_eq!(missing.unwrap_err().kind, ErrorKind::NotFound);
    cloud.ecs.describe_clusters(&["shop".into()]).await.unwrap();

    let text = captured.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one line per failed call, none for success: {text}"
    );
    assert!(lines[0].contains(" WARN "), "{text}");
    assert!(
        lines[0].contains(
            "UpdateService: transient (ServerException, request id sim-00000001): injected fault"
        ),
        "{text}"
    );
    assert!(lines[0].contains("resource=shop/api"), "{text}");
    assert!(lines[1].contains("DEBUG"), "{text}");
    assert!(
        lines[1].contains("DescribeTargetGroups: not_found"),
        "{text}"
    );
    assert!(lines[1].contains("resource=nope"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_command_logs_failed_calls_at_debug_since_it_prints_them_itself() {
    let (captured, _guard) = Captured::debug_logs();

    let sim = quiet_sim();
    sim.inject(
        "UpdateService",
        crate::cloud::sim::Fault::FailNext(1, ErrorKind::Transient),
    );
    let cloud = Layered::new(sim.cloud(), vec![Arc::new(LogFailures { warn: false })]).cloud();
    let update = UpdateService {
        cluster: "shop".into(),
        name: "api".into(),
        ..Default::default()
    };
    cloud.ecs.update_service(&update).await.unwrap_err();
    let text = captured.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("DEBUG"), "{text}");
    assert!(lines[0].contains("UpdateService: transient"), "{text}");
}
