//! deploy/: the operator's own manifests validate and keep a running operator through a
//! rollout (a broken image included, on the simulator), and the Dockerfile, the manifests and the binary agree on names, paths and ports
//! (no container engine runs here, so this is what can be checked without building the image).

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;
use ecs_operator::apply::apply;
use ecs_operator::cli::Cli;
use ecs_operator::cli::healthcheck::DEFAULT_URL;
use ecs_operator::cloud::Cloud;
use ecs_operator::cloud::sim::{Sim, SimConfig};
use ecs_operator::manifest::service::ServiceSpec;
use ecs_operator::manifest::{Document, load_paths, load_str, validate};
use ecs_operator::observe::Observer;
use ecs_operator::planner::plan_all;
use ecs_operator::rollout::{RolloutStatus, assess};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn operator_service() -> ServiceSpec {
    let loaded = load_paths(&[Path::new(ROOT).join("deploy/operator")]);
    loaded
        .documents
        .iter()
        .find_map(|d| d.manifest.as_service().cloned())
        .expect("a Service manifest")
}

fn dockerfile() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("deploy/Dockerfile")).unwrap()
}

/// The JSON array of a Dockerfile instruction in exec form (`ENTRYPOINT ["/x"]`).
fn exec_form(instruction: &str) -> Vec<String> {
    let text = dockerfile().replace("\\\n", " ");
    let line = text
        .lines()
        .find(|l| l.starts_with(instruction))
        .unwrap_or_else(|| panic!("no {instruction} in deploy/Dockerfile"));
    let json = &line[line.find('[').expect("exec form")..];
    serde_json::from_str(json).unwrap()
}

#[test]
fn the_operators_own_manifests_in_deploy_operator_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/operator");
    let loaded = load_paths(&[dir]);
    let diagnostics = validate(&loaded);
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(loaded.is_complete());
    let service = loaded
        .documents
        .iter()
        .find_map(|d| d.manifest.as_service())
        .expect("a Service manifest");
    let dc = service.deployment_configuration.as_ref().unwrap();
    assert_eq!(
        (dc.minimum_healthy_percent, dc.maximum_percent),
        (Some(100), Some(200)),
        "a rollout of the operator never stops the running one first"
    );
    assert_eq!(
        service.desired_count,
        Some(2),
        "two tasks, one leader: a standby for availability"
    );
    let container = &service.task_definition.container_definitions[0];
    let env: BTreeMap<&str, &str> = container
        .environment
        .iter()
        .map(|e| (e.name.as_str(), e.value.0.as_str()))
        .collect();
    for name in [
        "ECS_OPERATOR_GIT_URL",
        "ECS_OPERATOR_GIT_REF",
        "ECS_OPERATOR_GIT_PATH",
        "ECS_OPERATOR_METRICS_ADDR",
        "ECS_OPERATOR_LEASE_TABLE",
    ] {
        assert!(env.contains_key(name), "{name} in {env:?}");
    }
    assert_eq!(
        env.get("ECS_OPERATOR_LEADER_ELECTION"),
        Some(&"dynamodb"),
        "two tasks need leader election"
    );
    let secrets: Vec<&str> = container.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        secrets,
        ["ECS_OPERATOR_GIT_TOKEN", "ECS_OPERATOR_WEBHOOK_SECRET"]
    );
    assert_eq!(
        container.health_check.as_ref().unwrap().command,
        ["CMD", "/ecs-operator", "healthcheck"]
    );
}

#[test]
fn the_dockerfile_runs_the_binary_cargo_builds_with_a_healthcheck_the_binary_has() {
    let text = dockerfile();
    assert!(text.contains("cargo build --release --locked --bin ecs-operator"));
    assert!(text.contains("cp target/release/ecs-operator /ecs-operator"));
    assert!(text.contains("COPY --from=build /ecs-operator /ecs-operator"));
    assert!(text.contains("USER nonroot"), "runs as non-root");
    assert_eq!(exec_form("ENTRYPOINT"), ["/ecs-operator"]);
    assert_eq!(exec_form("CMD"), ["run"]);
    let check = exec_form("HEALTHCHECK");
    assert_eq!(check, ["/ecs-operator", "healthcheck"]);
    // The subcommand exists and needs no argument.
    Cli::try_parse_from(["ecs-operator", "healthcheck"]).expect("healthcheck parses");
    // The ECS container health check is the same command.
    let service = operator_service();
    let container = &service.task_definition.container_definitions[0];
    let ecs_check = &container.health_check.as_ref().unwrap().command;
    assert_eq!(ecs_check[0], "CMD");
    assert_eq!(ecs_check[1..], check[..]);
}

#[test]
fn the_port_is_the_same_in_the_image_the_task_and_the_healthcheck() {
    let port: u32 = DEFAULT_URL
        .trim_start_matches("http://")
        .split(['/', ':'])
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(dockerfile().contains(&format!("EXPOSE {port}")));
    let service = operator_service();
    let container = &service.task_definition.container_definitions[0];
    assert_eq!(container.port_mappings[0].container_port, Some(port));
    assert_eq!(service.load_balancers[0].container_port, port);
    let addr = container
        .environment
        .iter()
        .find(|e| e.name == "ECS_OPERATOR_METRICS_ADDR")
        .unwrap();
    assert_eq!(addr.value.0, format!("0.0.0.0:{port}"));
    assert!(
        container
            .image
            .ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))),
        "the image tag is this release: {}",
        container.image
    );
}

/// The operator's manifests with another image tag, as one would commit them.
fn operator_documents(tag: &str) -> Vec<Document> {
    let dir = Path::new(ROOT).join("deploy/operator");
    let mut text = String::new();
    for file in ["cluster.yaml", "ecs-operator.yaml"] {
        if !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&std::fs::read_to_string(dir.join(file)).unwrap());
    }
    let text = text.replace("ecs-operator:0.1.0", &format!("ecs-operator:{tag}"));
    let loaded = load_str(Path::new("deploy/operator/all.yaml"), &text);
    assert!(validate(&loaded).iter().all(|d| !d.is_error()), "{text}");
    loaded.documents
}

async fn apply_documents(cloud: &Cloud, docs: &[Document]) -> String {
    let observer = Observer::new(cloud.clone());
    let (plans, arns) = plan_all(&observer, docs, "ecs-operator").await.unwrap();
    let applied = apply(cloud, &observer, &plans, arns, |_, _| {}).await;
    let mut revision = String::new();
    for a in applied {
        assert!(a.error.is_none(), "{}: {:?}", a.key, a.error);
        if let Some(td) = a.task_definition {
            revision = td;
        }
    }
    revision
}

/// Polls the operator's service every 5 virtual seconds until its rollout of `revision` is
/// final; no poll may see more than four tasks (maximumPercent 200 of two).
async fn follow_keeping_one_running(cloud: &Cloud, revision: &str) -> RolloutStatus {
    for _ in 0..720 {
        tokio::time::advance(std::time::Duration::from_secs(5)).await;
        let d = cloud
            .ecs
            .describe_services("ops", &["ecs-operator".to_string()])
            .await
            .unwrap();
        let service = d.found.first();
        let status = assess(service, revision);
        if let Some(s) = service {
            assert!(
                s.running_count <= 2 * s.desired_count,
                "maximumPercent 200: {s:?}"
            );
        }
        if status.is_final() {
            return status;
        }
    }
    panic!("no final rollout state within an hour");
}

#[tokio::test(start_paused = true)]
async fn a_broken_operator_image_is_rolled_back_and_an_operator_runs_throughout() {
    let sim = Sim::new(SimConfig {
        throttling: false,
        crashing_images: vec!["broken".into()],
        ..SimConfig::default()
    });
    let cloud = sim.cloud();
    let first = apply_documents(&cloud, &operator_documents("0.1.0")).await;
    let status = follow_keeping_one_running(&cloud, &first).await;
    assert!(status.is_success(), "{status:?}");

    let broken = apply_documents(&cloud, &operator_documents("0.2.0-broken")).await;
    assert_ne!(broken, first);
    // From here on the running operator must never go away.
    let mut rolled_back = None;
    for _ in 0..720 {
        tokio::time::advance(std::time::Duration::from_secs(5)).await;
        let d = cloud
            .ecs
            .describe_services("ops", &["ecs-operator".to_string()])
            .await
            .unwrap();
        let s = &d.found[0];
        let running_old: u32 = s
            .deployments
            .iter()
            .filter(|d| d.task_definition == first)
            .map(|d| d.running_count)
            .sum();
        assert!(
            running_old >= 2,
            "both working operator tasks keep running during the broken rollout (minimumHealthyPercent 100): {:#?}",
            s.deployments
        );
        if let RolloutStatus::RolledBack { to } = assess(Some(s), &broken) {
            rolled_back = Some(to);
            break;
        }
    }
    assert_eq!(
        rolled_back.as_deref(),
        Some(first.as_str()),
        "circuit breaker rolls back"
    );
    let status = follow_keeping_one_running(&cloud, &first).await;
    assert!(status.is_success(), "{status:?}");
}

/// The controller managing its own service from deploy/operator: a crash-looping operator
/// image is rolled back (by the controller or by ECS's circuit breaker, whichever comes first),
/// both operator tasks are RUNNING at every virtual second, and the broken manifest is not applied
/// again. `run` never deletes (no prune), so the service itself cannot disappear.
#[tokio::test(start_paused = true)]
async fn the_controller_managing_itself_never_leaves_no_operator_running() {
    use ecs_operator::cloud::sim::SimTaskStatus;
    use ecs_operator::controller::run::{RunConfig, SourceConfig, run};
    use ecs_operator::controller::status::Health;
    use ecs_operator::manifest::{Kind, Loaded, ResourceKey};

    let sim = Sim::new(SimConfig {
        throttling: false,
        crashing_images: vec!["broken".into()],
        ..SimConfig::default()
    });
    let as_loaded = |tag: &str| Loaded {
        documents: operator_documents(tag),
        ..Loaded::default()
    };
    let (feed, loads) = tokio::sync::mpsc::channel(2);
    feed.send((as_loaded("0.1.0"), Some("good".into())))
        .await
        .unwrap();
    let mut config = RunConfig::new(SourceConfig::Feed {
        location: "test".into(),
        loads,
    });
    config.rollout_poll = std::time::Duration::from_secs(5);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
    let cloud = sim.cloud();
    let task = tokio::spawn(async move {
        run(
            cloud,
            config,
            None,
            std::sync::Arc::new(ecs_operator::controller::reconcile::NoEvents),
            move |h| {
                let _ = handle_tx.send(h.clone());
            },
            async move {
                let _ = stopped.await;
            },
        )
        .await
    });
    let handle: ecs_operator::controller::run::Handle = handle_rx.await.unwrap();
    let key = ResourceKey {
        kind: Kind::Service,
        cluster: Some("ops".into()),
        name: "ecs-operator".into(),
    };
    let status = handle.controller.status().clone();
    let running = || {
        sim.tasks("ops", "ecs-operator")
            .iter()
            .filter(|t| t.status == SimTaskStatus::Running)
            .count()
    };
    let mut waited = 0;
    while status.get(&key).is_none_or(|s| s.health != Health::Healthy) {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        waited += 1;
        assert!(waited < 600, "the operator never became healthy");
    }
    let good = status.get(&key).unwrap().task_definition.unwrap();

    feed.send((as_loaded("0.2.0-broken"), Some("broken".into())))
        .await
        .unwrap();
    let mut rolled_back = false;
    for _ in 0..1800 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(running() >= 2, "fewer than two operator tasks running");
        let s = status.get(&key).unwrap();
        if s.health == Health::Degraded && s.message.as_deref().unwrap_or("").contains("back") {
            rolled_back = true;
        }
    }
    assert!(rolled_back, "{:?}", status.get(&key));
    let live = sim
        .cloud()
        .ecs
        .describe_services("ops", &["ecs-operator".to_string()])
        .await
        .unwrap()
        .found
        .remove(0);
    assert_eq!(live.task_definition, good, "back on the last good revision");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
