//! The `ecs-operator` binary as a user runs it: exit codes, report formats, environment
//! variables.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("ECS_OPERATOR_STRICT")
        .env_remove("ECS_OPERATOR_OUTPUT");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const WARNS: &str = "\
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: 1
  taskDefinition:
    containerDefinitions:
      - {name: api, image: 'api:latest', memory: 256}
";

#[test]
fn validate_accepts_the_example_manifests() {
    let (code, out, _) = run(bin().args(["validate", "manifests"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("valid: 4 files, 7 documents, 0 errors, 0 warnings"),
        "{out}"
    );
}

#[test]
fn validate_defaults_to_the_manifests_directory() {
    let (code, out, _) = run(bin().arg("validate"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("7 documents"), "{out}");
}

#[test]
fn validate_reports_every_error_of_every_file_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: a}\nspec: {bogus: 1}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {name: b}\nspec:\n  cluster: a\n  desiredCount: -1\n",
    );
    let (code, out, _) = run(bin().arg("validate").arg(dir.path()));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("a.yaml:4 spec.bogus: unknown field `bogus`"),
        "{out}"
    );
    assert!(out.contains("b.yaml:6 spec.desiredCount: invalid type: integer `-1`, expected a whole number of at least 0"), "{out}");
    assert!(
        out.contains("invalid: 2 files, 0 documents, 2 errors, 0 warnings"),
        "{out}"
    );
}

#[test]
fn warnings_pass_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "w.yaml", WARNS);
    let (code, out, _) = run(bin().arg("validate").arg(&f));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning: ") && out.contains("uses `latest`"),
        "{out}"
    );
    let (code, out, _) = run(bin().arg("validate").arg("--strict").arg(&f));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("(--strict)"), "{out}");
    let (code, _, _) = run(bin()
        .arg("validate")
        .arg(&f)
        .env("ECS_OPERATOR_STRICT", "true"));
    assert_eq!(code, 1, "ECS_OPERATOR_STRICT is honoured");
}

#[test]
fn json_output_is_one_document_for_machines() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "w.yaml", WARNS);
    let (code, out, _) = run(bin().args(["validate", "--output", "json"]).arg(&f));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["documents"], 1);
    let d = v["diagnostics"].as_array().unwrap();
    assert!(
        d.iter().any(|d| d["rule"] == "image-tag"
            && d["line"] == 9
            && d["path"] == "spec.taskDefinition.containerDefinitions[0].image"
            && d["severity"] == "warning"),
        "{out}"
    );
}

#[test]
fn schema_prints_a_draft7_json_schema() {
    let (code, out, _) = run(bin().arg("schema"));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(
        v["oneOf"].as_array().unwrap().len(),
        4,
        "one branch per kind"
    );
}

#[test]
fn a_missing_path_is_an_error_not_an_empty_valid_set() {
    let (code, out, _) = run(bin().args(["validate", "does-not-exist"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does-not-exist does not exist"), "{out}");
}

#[test]
fn the_readme_error_example_is_what_users_see() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("manifests/shop");
    std::fs::create_dir_all(&shop).unwrap();
    for name in ["cluster.yaml", "api.yaml", "web.yaml", "routing.yaml"] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("manifests/shop")
                .join(name),
        )
        .unwrap();
        let text = if name == "web.yaml" {
            text.replace("    memory: \"512\"", "    memory: \"4096\"")
        } else {
            text
        };
        std::fs::write(shop.join(name), text).unwrap();
    }
    let (code, out, _) = run(bin()
        .current_dir(dir.path())
        .args(["validate", "manifests"]));
    assert_eq!(code, 1);
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for line in out.lines() {
        assert!(
            readme.contains(line),
            "README.md does not show this output line: {line}"
        );
    }
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn the_quick_start_applies_on_the_simulator_and_a_later_diff_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sim.json");
    let sim = |args: &[&str]| {
        let mut c = bin();
        c.args(["--backend", "sim", "--sim-state"])
            .arg(&state)
            .args(args);
        run(&mut c)
    };
    let (code, out, err) = sim(&["apply", "manifests"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("applied: 7 changed, 0 in sync, 0 blocked, 0 failed"),
        "{out}"
    );
    let (code, out, _) = sim(&["diff", "manifests"]);
    assert_eq!(code, 0, "a later process sees what apply made: {out}");
    assert!(out.contains("7 in sync"), "{out}");
    // An edit shows as drift with the field named.
    let edited = dir.path().join("manifests");
    std::fs::create_dir_all(edited.join("shop")).unwrap();
    for name in ["cluster.yaml", "api.yaml", "web.yaml"] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("manifests/shop")
                .join(name),
        )
        .unwrap();
        std::fs::write(
            edited.join("shop").join(name),
            text.replace("desiredCount: 2", "desiredCount: 3").replace(
                "http://api.shop.internal:8000",
                "http://S3CR3T@api.shop.internal:8000",
            ),
        )
        .unwrap();
    }
    let (code, out, _) = sim(&["diff", edited.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("spec.desiredCount: 2 -> 3"), "{out}");
    // An environment value is named, never shown (README "Secrets"), in text and JSON.
    assert!(out.contains("environment.API_URL: (changed)"), "{out}");
    let (_, json, _) = sim(&["diff", "--output", "json", edited.to_str().unwrap()]);
    assert!(
        json.contains("API_URL") && json.contains("(hidden)"),
        "{json}"
    );
    for text in [&out, &json] {
        assert!(
            !text.contains("S3CR3T") && !text.contains("api.shop.internal"),
            "{text}"
        );
    }
}

#[test]
fn diff_and_apply_stop_on_bad_manifests_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.yaml",
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: a}\nspec: {bogus: 1}\n",
    );
    for cmd in ["diff", "apply"] {
        // An endpoint nothing listens on: any call would fail differently (and slowly).
        let (code, out, err) = run(bin()
            .args([
                "--backend",
                "aws",
                "--region",
                "us-east-1",
                "--endpoint-url",
                "http://127.0.0.1:9",
                cmd,
            ])
            .arg(dir.path()));
        assert_eq!(code, 1, "{cmd}: {out}{err}");
        assert!(
            err.contains("bad.yaml:4 spec.bogus: unknown field `bogus`"),
            "{err}"
        );
        assert!(
            err.contains("nothing was read from or changed in AWS"),
            "{err}"
        );
        assert!(out.is_empty(), "{out}");
    }
}
