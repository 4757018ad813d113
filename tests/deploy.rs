//! deploy/: the operator's own manifests validate and keep a running operator through a
//! rollout, and the Dockerfile, the manifests and the binary agree on names, paths and ports
//! (no container engine runs here, so this is what can be checked without building the image).

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;
use ecs_operator::cli::Cli;
use ecs_operator::cli::healthcheck::DEFAULT_URL;
use ecs_operator::manifest::service::ServiceSpec;
use ecs_operator::manifest::{load_paths, validate};

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
    assert_eq!(service.desired_count, Some(1));
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
    ] {
        assert!(env.contains_key(name), "{name} in {env:?}");
    }
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
