//! Saving the account and loading it into a new simulator (another process, for the CLI):
//! the same objects, virtual time going on where it stopped, ids that keep being unique, and
//! clear errors for missing, corrupt and foreign files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::cloud::model::{
    Cluster, Described, RolloutState, Tags, TargetHealth, TargetHealthState,
};
use crate::cloud::sim::{RestartThrottle, SimStateError, SimTask};

/// Everything the APIs show of the test account (and the simulator's own task view).
#[derive(Debug, PartialEq)]
struct Everything {
    clusters: Described<Cluster>,
    services: Described<Service>,
    task_definitions: Vec<RegisteredTaskDefinition>,
    target_groups: Vec<TargetGroup>,
    attributes: Vec<BTreeMap<String, String>>,
    tags: BTreeMap<String, Tags>,
    health: Vec<Vec<TargetHealth>>,
    tasks: Vec<SimTask>,
}

/// Describes every object of the account.
async fn everything(sim: &Sim) -> Everything {
    let cloud = sim.cloud();
    let clusters = cloud
        .ecs
        .describe_clusters(&[CLUSTER.to_string()])
        .await
        .unwrap();
    let services = cloud
        .ecs
        .describe_services(CLUSTER, &[SERVICE.to_string()])
        .await
        .unwrap();
    let mut task_definitions = Vec::new();
    for arn in cloud
        .ecs
        .list_task_definitions(SERVICE, None)
        .await
        .unwrap()
        .items
    {
        task_definitions.push(cloud.ecs.describe_task_definition(&arn).await.unwrap());
    }
    let target_groups = cloud
        .elbv2
        .describe_target_groups_page(None, 400)
        .await
        .unwrap()
        .items;
    let arns: Vec<String> = target_groups.iter().map(|g| g.arn.clone()).collect();
    let mut attributes = Vec::new();
    let mut health = Vec::new();
    for arn in &arns {
        attributes.push(
            cloud
                .elbv2
                .describe_target_group_attributes(arn)
                .await
                .unwrap(),
        );
        health.push(cloud.elbv2.describe_target_health(arn).await.unwrap());
    }
    let tags = if arns.is_empty() {
        BTreeMap::new()
    } else {
        cloud.elbv2.describe_tags(&arns).await.unwrap()
    };
    Everything {
        clusters,
        services,
        task_definitions,
        target_groups,
        attributes,
        tags,
        health,
        tasks: sim.tasks(CLUSTER, SERVICE),
    }
}

/// A fresh directory (removed when dropped) and a state file path in a subdirectory of it
/// that does not exist yet.
fn state_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("sim.json");
    (dir, path)
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A task definition of family `api` with most of what manifests write (environment as a
/// map, secrets, logs, a health check, CPU in vCPUs), through the manifest's own reader.
fn rich_task_definition(image: &str) -> TaskDefinition {
    let yaml = format!(
        r#"
family: api
requiresCompatibilities: [FARGATE]
networkMode: awsvpc
cpu: 0.25 vCPU
memory: 0.5 GB
containerDefinitions:
  - name: api
    image: {image}
    portMappings: [{{containerPort: 8000}}]
    environment: {{LOG_LEVEL: info, WORKERS: 4}}
    secrets: {{DB_PASSWORD: arn:aws:ssm:us-east-1:123456789012:parameter/db}}
    logConfiguration:
      logDriver: awslogs
      options: {{awslogs-group: /ecs/api, awslogs-region: us-east-1}}
    healthCheck:
      command: [CMD-SHELL, curl -f http://localhost:8000/health]
      interval: 10
"#
    );
    serde_yaml::from_str(&yaml).expect("task definition YAML")
}

/// The account every test saves: the `shop-api` target group (deregistration delay 30 s,
/// tagged), two revisions of `api` (tagged), and the service `api` (2 tasks behind the target
/// group) 12 s into its rolling update from revision 1 to revision 2: the new tasks run and
/// their targets are `initial` until 25 s, the old ones still serve.
async fn mid_rollout() -> (Sim, Cloud) {
    let (sim, cloud) = account(config()).await;
    let tg = target_group(&cloud, "shop-api").await;
    let delay = BTreeMap::from([(
        "deregistration_delay.timeout_seconds".to_string(),
        "30".to_string(),
    )]);
    cloud
        .elbv2
        .modify_target_group_attributes(&tg.arn, &delay)
        .await
        .unwrap();
    cloud
        .elbv2
        .add_tags(
            std::slice::from_ref(&tg.arn),
            &tags(&[("team", "shop"), ("env", "dev")]),
        )
        .await
        .unwrap();
    let td1 = cloud
        .ecs
        .register_task_definition(&rich_task_definition("api:1"), &tags(&[("team", "shop")]))
        .await
        .unwrap();
    cloud
        .ecs
        .create_service(&with_target_group(create_input(&td1.arn, 2), &tg.arn))
        .await
        .unwrap();
    advance(25).await;
    assert_eq!(
        describe(&cloud).await.primary().unwrap().rollout_state,
        Some(RolloutState::Completed)
    );
    let td2 = cloud
        .ecs
        .register_task_definition(&rich_task_definition("api:2"), &tags(&[("team", "shop")]))
        .await
        .unwrap();
    cloud
        .ecs
        .update_service(&update_to(&td2.arn))
        .await
        .unwrap();
    advance(12).await;
    (sim, cloud)
}

/// Target states of a target group.
async fn states(cloud: &Cloud, arn: &str) -> Vec<TargetHealthState> {
    let mut s: Vec<_> = cloud
        .elbv2
        .describe_target_health(arn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.state)
        .collect();
    s.sort_by_key(|s| format!("{s:?}")); // Draining, Healthy, Initial
    s
}

#[tokio::test(start_paused = true)]
async fn a_loaded_account_describes_the_same_objects_as_the_saved_one() {
    let (sim, _cloud) = mid_rollout().await;
    let (_dir, path) = state_file();
    sim.save(&path).unwrap();
    let loaded = Sim::load(config(), &path).unwrap();

    let before = everything(&sim).await;
    let after = everything(&loaded).await;
    assert_eq!(after, before);

    // What the comparison covers, spelled out.
    let svc = &after.services.found[0];
    assert_eq!(svc.deployments.len(), 2, "mid-rollout: PRIMARY and ACTIVE");
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::InProgress)
    );
    assert_eq!(
        svc.primary().unwrap().task_definition,
        after.task_definitions[1].arn
    );
    assert_eq!(
        after
            .task_definitions
            .iter()
            .map(|t| t.revision)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        after.task_definitions[1].definition, before.task_definitions[1].definition,
        "environment, secrets, logs and health check survive"
    );
    assert_eq!(after.task_definitions[1].tags, tags(&[("team", "shop")]));
    let tg = &after.target_groups[0];
    assert_eq!(
        after.tags[&tg.arn],
        tags(&[("env", "dev"), ("team", "shop")])
    );
    assert_eq!(
        after.attributes[0]["deregistration_delay.timeout_seconds"],
        "30"
    );
    assert_eq!(after.health[0].len(), 4, "2 old healthy, 2 new initial");
    assert_eq!(after.tasks.len(), 4);
    assert!(!svc.events.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_rollout_goes_on_after_loading_with_its_remaining_time() {
    let (sim, _cloud) = mid_rollout().await;
    let (_dir, path) = state_file();
    sim.save(&path).unwrap();
    drop(sim);
    // Time between the processes does not count.
    advance(3600).await;
    let loaded = Sim::load(config(), &path).unwrap();
    let cloud = loaded.cloud();
    let tg = describe(&cloud).await.load_balancers[0]
        .target_group_arn
        .clone();
    use TargetHealthState::{Draining, Healthy, Initial};

    // The new targets turn healthy 25 s after the update, 13 s after the save.
    advance(12).await;
    let svc = describe(&cloud).await;
    assert_eq!(
        svc.primary().unwrap().rollout_state,
        Some(RolloutState::InProgress)
    );
    assert_eq!(
        states(&cloud, &tg).await,
        [Healthy, Healthy, Initial, Initial]
    );

    advance(1).await;
    let svc = describe(&cloud).await;
    let primary = svc.primary().unwrap();
    assert_eq!(primary.rollout_state, Some(RolloutState::Completed));
    assert_eq!(svc.deployments.len(), 1);
    assert_eq!((svc.running_count, svc.pending_count), (2, 0));
    assert_eq!(
        states(&cloud, &tg).await,
        [Draining, Draining, Healthy, Healthy]
    );

    // The old targets drain for the group's 30 s.
    advance(29).await;
    assert_eq!(states(&cloud, &tg).await.len(), 4);
    advance(1).await;
    assert_eq!(states(&cloud, &tg).await, [Healthy, Healthy]);

    // Timestamps go on from the saved virtual time too: the deployment completed 25 s after
    // it was created, whatever happened between the processes.
    let primary = describe(&cloud).await.primary().unwrap().clone();
    let took = primary
        .updated_at
        .unwrap()
        .duration_since(primary.created_at.unwrap())
        .unwrap();
    assert_eq!(took, Duration::from_secs(25));
}

#[tokio::test(start_paused = true)]
async fn revisions_and_ids_continue_after_loading_without_colliding() {
    let (sim, _cloud) = mid_rollout().await;
    let (_dir, path) = state_file();
    let old_tasks: Vec<SimTask> = sim.tasks(CLUSTER, SERVICE);
    let old_deployments: Vec<String> = describe(&sim.cloud())
        .await
        .deployments
        .into_iter()
        .map(|d| d.id)
        .collect();
    sim.save(&path).unwrap();
    let loaded = Sim::load(config(), &path).unwrap();
    let cloud = loaded.cloud();

    let td3 = register(&cloud, "api:3").await;
    assert_eq!(td3.revision, 3);
    assert!(td3.arn.ends_with("task-definition/api:3"), "{}", td3.arn);

    let old_tg = describe(&cloud).await.load_balancers[0]
        .target_group_arn
        .clone();
    let web = target_group(&cloud, "shop-web").await;
    assert_ne!(web.arn, old_tg);
    let suffix = |arn: &str| arn.rsplit('/').next().unwrap().to_string();
    assert_ne!(suffix(&web.arn), suffix(&old_tg), "fresh ARN suffix");

    let svc = cloud
        .ecs
        .update_service(&update_to(&td3.arn))
        .await
        .unwrap();
    let new_deployment = &svc.primary().unwrap().id;
    assert!(
        !old_deployments.contains(new_deployment),
        "{new_deployment} was already used"
    );
    let new_tasks: Vec<SimTask> = loaded
        .tasks(CLUSTER, SERVICE)
        .into_iter()
        .filter(|t| t.deployment_id == *new_deployment)
        .collect();
    assert_eq!(new_tasks.len(), 2);
    for t in &new_tasks {
        assert!(
            old_tasks.iter().all(|o| o.id != t.id && o.arn != t.arn),
            "task {} reused",
            t.id
        );
    }
    let mut event_ids: Vec<String> = describe(&cloud)
        .await
        .events
        .into_iter()
        .map(|e| e.id)
        .collect();
    let n = event_ids.len();
    event_ids.sort();
    event_ids.dedup();
    assert_eq!(event_ids.len(), n, "event ids stay unique");
}

#[tokio::test(start_paused = true)]
async fn the_saving_simulator_and_a_loaded_one_go_on_identically() {
    let (sim, cloud) = mid_rollout().await;
    let (_dir, path) = state_file();
    sim.save(&path).unwrap();
    let loaded = Sim::load(config(), &path).unwrap();
    let td3 = register(&cloud, "api:3").await;
    let td3_loaded = register(&loaded.cloud(), "api:3").await;
    assert_eq!(td3, td3_loaded);
    for c in [&cloud, &loaded.cloud()] {
        c.ecs.update_service(&update_to(&td3.arn)).await.unwrap();
    }
    for _ in 0..60 {
        advance(1).await;
        assert_eq!(everything(&loaded).await, everything(&sim).await);
    }
}

#[tokio::test(start_paused = true)]
async fn a_throttled_crash_loop_keeps_its_remaining_restart_delay() {
    let cfg = SimConfig {
        restart_throttle: RestartThrottle {
            free_failures: 2,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(300),
        },
        ..config()
    };
    let (sim, cloud) = account(cfg.clone()).await;
    let td = register(&cloud, BROKEN).await;
    let mut input = create_input(&td.arn, 1);
    input.deployment_configuration = Some(deployment(100, 200, None));
    cloud.ecs.create_service(&input).await.unwrap();
    // Crashes at 10 s and 20 s; the second starts a 30 s delay: the next launch is at 50 s.
    advance(25).await;
    assert!(sim.tasks(CLUSTER, SERVICE).is_empty(), "throttled");
    let (_dir, path) = state_file();
    sim.save(&path).unwrap();
    drop(sim);
    let loaded = Sim::load(cfg, &path).unwrap();

    advance(24).await;
    assert!(
        loaded.tasks(CLUSTER, SERVICE).is_empty(),
        "still throttled at 49 s"
    );
    advance(1).await;
    assert_eq!(loaded.tasks(CLUSTER, SERVICE).len(), 1, "launched at 50 s");
    assert_eq!(
        describe(&loaded.cloud())
            .await
            .primary()
            .unwrap()
            .failed_tasks,
        2
    );
}

#[tokio::test(start_paused = true)]
async fn an_empty_account_round_trips() {
    let sim = Sim::new(config());
    let (_dir, path) = state_file();
    sim.save(&path).unwrap();
    let loaded = Sim::load(config(), &path).unwrap();
    let d = loaded
        .cloud()
        .ecs
        .describe_clusters(&[CLUSTER.to_string()])
        .await
        .unwrap();
    assert_eq!(d.missing, [CLUSTER]);
}

#[tokio::test(start_paused = true)]
async fn loading_a_missing_file_is_not_found() {
    let (_dir, path) = state_file();
    let err = Sim::load(config(), &path).unwrap_err();
    assert!(
        matches!(&err, SimStateError::NotFound { path: p } if *p == path),
        "{err:?}"
    );
}

/// The error message with its causes, as the CLI shows it.
fn chain(err: &SimStateError) -> String {
    let mut out = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Saves the test account and returns its file as JSON.
async fn saved_json(path: &Path) -> serde_json::Value {
    let (sim, _cloud) = mid_rollout().await;
    sim.save(path).unwrap();
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_file_is_a_clear_error() {
    let (_dir, path) = state_file();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"version\": 1, \"clusters\": [").unwrap();
    let err = Sim::load(config(), &path).unwrap_err();
    assert!(matches!(err, SimStateError::Json { .. }), "{err:?}");
    let msg = chain(&err);
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");

    // Valid JSON of the wrong shape: the message says where.
    let mut json = saved_json(&path).await;
    json["services"][0]["state"]["deployments"][0]["desiredCount"] = "two".into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = Sim::load(config(), &path).unwrap_err();
    let msg = chain(&err);
    assert!(
        msg.contains("services[0].state.deployments[0].desiredCount"),
        "{msg}"
    );

    // Parts that contradict each other.
    let mut json = saved_json(&path).await;
    json["taskDefinitions"][1]["revision"] = 5.into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = Sim::load(config(), &path).unwrap_err();
    assert!(matches!(err, SimStateError::Inconsistent { .. }), "{err:?}");
    assert!(chain(&err).contains("is revision 5"), "{}", chain(&err));
}

#[tokio::test(start_paused = true)]
async fn a_file_of_another_version_is_rejected() {
    let (_dir, path) = state_file();
    let mut json = saved_json(&path).await;
    assert_eq!(json["version"], 1);
    json["version"] = 2.into();
    // A later format may look different: the version decides first.
    json["services"] = "changed".into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = Sim::load(config(), &path).unwrap_err();
    assert!(
        matches!(
            err,
            SimStateError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_file_of_another_account_is_rejected() {
    let (_dir, path) = state_file();
    Sim::new(config()).save(&path).unwrap();
    let other = SimConfig {
        region: "eu-west-1".into(),
        ..config()
    };
    let err = Sim::load(other, &path).unwrap_err();
    assert!(matches!(err, SimStateError::OtherAccount { .. }), "{err:?}");
    assert!(
        chain(&err).contains("123456789012/us-east-1"),
        "{}",
        chain(&err)
    );
}

#[tokio::test(start_paused = true)]
async fn saving_creates_the_directory_and_replaces_the_file_leaving_nothing_else() {
    let (dir, path) = state_file();
    let (sim, _cloud) = mid_rollout().await;
    sim.save(&path).unwrap();
    let first = std::fs::read(&path).unwrap();
    advance(60).await;
    sim.save(&path).unwrap();
    let second = std::fs::read(&path).unwrap();
    assert_ne!(first, second);
    let files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["sim.json"], "no temporary file is left");

    let top: Vec<String> = serde_json::from_slice::<serde_json::Value>(&second)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut expected = [
        "version",
        "accountId",
        "region",
        "elapsed",
        "rngSeed",
        "nextSeq",
        "clusters",
        "taskDefinitions",
        "targetGroups",
        "services",
        "events",
        "ips",
    ]
    .map(String::from)
    .to_vec();
    expected.sort();
    let mut top = top;
    top.sort();
    assert_eq!(top, expected);

    // A path whose parent is a file cannot be written: an I/O error naming the path.
    let blocked = dir.path().join("state").join("sim.json").join("x.json");
    let err = sim.save(&blocked).unwrap_err();
    assert!(matches!(err, SimStateError::Io { .. }), "{err:?}");
}
