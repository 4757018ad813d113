//! Configuration errors of the `aws` backend as a user meets them: one clear line each on
//! stderr, before any AWS call, and nothing of the SDK's own warnings at the default level.

use std::path::Path;
use std::process::Command;

/// `ecs-operator diff manifests --backend aws` with nothing of the machine's credential chain
/// (no `AWS_*` variables, empty config and credentials files, no instance metadata), against
/// a loopback port nothing listens on.
fn diff(home: &Path, args: &[&str]) -> (i32, String) {
    let empty = home.join("empty-aws-config");
    std::fs::write(&empty, "").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("AWS_") || k.starts_with("ECS_OPERATOR_") || k == "RUST_LOG" {
            c.env_remove(&key);
        }
    }
    let out = c
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .args(["diff", "manifests", "--backend", "aws"])
        .args(["--endpoint-url", "http://127.0.0.1:9"])
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn no_credentials_is_one_line_naming_where_they_are_looked_for() {
    let home = tempfile::tempdir().unwrap();
    let (code, stderr) = diff(home.path(), &["--region", "us-east-1"]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line only: {stderr}");
    assert!(
        lines[0].starts_with("error: no AWS credentials found: set AWS_ACCESS_KEY_ID"),
        "{stderr}"
    );
    assert!(
        lines[0].contains("AWS_PROFILE") && lines[0].contains("role"),
        "{stderr}"
    );
}

#[test]
fn no_region_is_one_line_naming_the_flag_and_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let (code, stderr) = diff(home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: no AWS region: set --region or AWS_REGION (or a region in the AWS profile)"
    );
}
