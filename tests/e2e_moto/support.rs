//! What every end-to-end case needs: a copy of the example manifests in a temp dir, made real for
//! moto (its VPC, subnets and security group) and unique per case (cluster, services, target
//! groups), the `ecs-operator` binary run on them against the shared moto server, and the
//! library's `aws` backend on the same server to read live state and to make drift behind the
//! operator's back.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ecs_operator::cloud::Cloud;
use ecs_operator::cloud::aws::{AwsOptions, connect};
use ecs_operator::cloud::model::{Service, TargetGroup};

use crate::common::moto::{MotoServer, moto_server};

/// The example application the quick start applies.
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/shop");
/// Its files.
pub const CLUSTER_YAML: &str = "cluster.yaml";
/// The API: its target group and service.
pub const API_YAML: &str = "api.yaml";
/// The web frontend: its target group and service.
pub const WEB_YAML: &str = "web.yaml";

/// The AWS names of one case's copy of the example.
#[derive(Debug, Clone)]
pub struct Names {
    /// The cluster (`shop` in the example).
    pub cluster: String,
    /// The API service (`api`), also its task definition family.
    pub api: String,
    /// The web service (`web`), also its task definition family.
    pub web: String,
    /// The API's target group (`shop-api`).
    pub api_target_group: String,
    /// The web's target group (`shop-web`).
    pub web_target_group: String,
}

impl Names {
    /// Names no other case of this run uses (nor a run of another process, should two share
    /// a server). Target group names stay far below ELBv2's 32 characters.
    fn unique() -> Names {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = format!(
            "e{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::Relaxed)
        );
        let names = Names {
            cluster: format!("{p}-shop"),
            api: format!("{p}-api"),
            web: format!("{p}-web"),
            api_target_group: format!("{p}-shop-api"),
            web_target_group: format!("{p}-shop-web"),
        };
        assert!(names.api_target_group.len() <= 32 && names.web_target_group.len() <= 32);
        names
    }
}

/// One case's copy of the example application, and the means to run the operator on it.
pub struct App {
    dir: tempfile::TempDir,
    /// Its AWS names.
    pub names: Names,
    /// The `aws` backend on the moto server: the SDK, as a person changing things by hand
    /// (or another tool) would use it.
    pub cloud: Cloud,
    server: &'static MotoServer,
}

impl App {
    /// The whole example: cluster, both target groups, both services.
    pub async fn whole() -> App {
        App::with_files(&[CLUSTER_YAML, API_YAML, WEB_YAML]).await
    }

    /// The example's cluster and its API (target group and service), for the cases about one
    /// service: what they check is not mixed with what happens to the other one.
    pub async fn api_only() -> App {
        App::with_files(&[CLUSTER_YAML, API_YAML]).await
    }

    async fn with_files(files: &[&str]) -> App {
        let server = moto_server();
        let names = Names::unique();
        let dir = tempfile::tempdir().expect("temp dir");
        let manifests = dir.path().join("manifests");
        std::fs::create_dir(&manifests).unwrap();
        for (file, text) in rewrite_example(&names, server) {
            if files.contains(&file.as_str()) {
                std::fs::write(manifests.join(&file), text).unwrap();
            }
        }
        let options = AwsOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(server.url.clone()),
            static_credentials: Some(("test".into(), "test".into())),
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            ..AwsOptions::default()
        };
        let cloud = connect(&options)
            .await
            .expect("aws backend connects to moto");
        App {
            dir,
            names,
            cloud,
            server,
        }
    }

    /// The moto server's URL.
    pub fn endpoint(&self) -> &str {
        &self.server.url
    }

    /// A manifest file of this copy, as the operator is given it (relative to the directory
    /// it runs in, so reports read `manifests/api.yaml:24` as a user's would).
    pub fn manifest(&self, file: &str) -> PathBuf {
        Path::new("manifests").join(file)
    }

    /// The text of a manifest file.
    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(self.manifest(file))).unwrap()
    }

    /// Writes a manifest file of this copy (a new one: the listener rules of issue 14).
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(self.manifest(file)), text).unwrap();
    }

    /// Replaces the one occurrence of `from` in a manifest file with `to`.
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let text = self.read(file);
        assert_eq!(
            text.matches(from).count(),
            1,
            "{file} has {from:?} once:\n{text}"
        );
        std::fs::write(
            self.dir.path().join(self.manifest(file)),
            text.replacen(from, to, 1),
        )
        .unwrap();
    }

    /// `ecs-operator <command> --backend aws --endpoint-url <moto> --region us-east-1 <args>`
    /// with test credentials and nothing of the real credential chain (no profile, no config
    /// files, no instance metadata) in its environment, nor `NO_COLOR`: whether output is
    /// coloured is the binary's own decision.
    pub fn command(&self, command: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("AWS_") || k.starts_with("ECS_OPERATOR_") {
                c.env_remove(&key);
            }
        }
        // Empty AWS config and credentials files: no profile of the machine running the tests.
        let empty = self.dir.path().join("empty-aws-config");
        std::fs::write(&empty, "").unwrap();
        c.env_remove("NO_COLOR")
            .current_dir(self.dir.path())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .arg(command)
            .args(["--backend", "aws", "--endpoint-url", &self.server.url])
            .args(["--region", "us-east-1"])
            .args(args);
        c
    }

    /// Runs [`App::command`] to completion.
    pub fn run(&self, command: &str, args: &[&str]) -> Run {
        let mut c = self.command(command, args);
        let out = c.output().expect("ecs-operator runs");
        Run {
            command: format!("ecs-operator {command} {}", args.join(" ")),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// `ecs-operator diff manifests`.
    pub fn diff(&self) -> Run {
        self.run("diff", &["manifests"])
    }

    /// `ecs-operator apply manifests`.
    pub fn apply(&self) -> Run {
        self.run("apply", &["manifests"])
    }

    /// The live API service.
    pub async fn api_service(&self) -> Service {
        self.service(&self.names.api).await
    }

    /// A live service of this copy's cluster.
    pub async fn service(&self, name: &str) -> Service {
        let d = self
            .cloud
            .ecs
            .describe_services(&self.names.cluster, &[name.to_string()])
            .await
            .expect("DescribeServices");
        assert_eq!(d.found.len(), 1, "service {name} exists: {d:?}");
        d.found.into_iter().next().unwrap()
    }

    /// The live API target group.
    pub async fn api_target_group(&self) -> TargetGroup {
        let mut found = self
            .cloud
            .elbv2
            .describe_target_groups(std::slice::from_ref(&self.names.api_target_group))
            .await
            .expect("DescribeTargetGroups");
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    /// moto's default subnets.
    pub fn subnets(&self) -> &[String] {
        &self.server.subnets
    }

    /// moto's default security group.
    pub fn security_group(&self) -> &str {
        &self.server.security_group
    }
}

/// The example's files with moto's VPC, subnets and security groups, and the case's names.
/// Lines are replaced one for one, so line numbers stay those of the example. Every
/// replacement must apply somewhere: if the example changes, this fails instead of testing
/// something else.
fn rewrite_example(names: &Names, server: &MotoServer) -> Vec<(String, String)> {
    let subnets = format!("subnets: [{}]", server.subnets.join(", "));
    let security_group = format!("securityGroups: [{}]", server.security_group);
    let lb = |tg: &str, container: &str, port: u32| {
        format!("- {{targetGroup: {tg}, containerName: {container}, containerPort: {port}}}")
    };
    let table: Vec<(&str, String)> = vec![
        ("name: shop", format!("name: {}", names.cluster)),
        ("cluster: shop", format!("cluster: {}", names.cluster)),
        (
            "name: shop-api",
            format!("name: {}", names.api_target_group),
        ),
        (
            "name: shop-web",
            format!("name: {}", names.web_target_group),
        ),
        ("name: api", format!("name: {}", names.api)),
        ("name: web", format!("name: {}", names.web)),
        (
            "vpcId: vpc-0abc1234def567890",
            format!("vpcId: {}", server.vpc_id),
        ),
        (
            "subnets: [subnet-0aaa1111bbbb2222c, subnet-0ddd3333eeee4444f]",
            subnets,
        ),
        (
            "securityGroups: [sg-0api5555ffff6666a]",
            security_group.clone(),
        ),
        ("securityGroups: [sg-0web7777aaaa8888b]", security_group),
        (
            "- {targetGroup: shop-api, containerName: api, containerPort: 8000}",
            lb(&names.api_target_group, "api", 8000),
        ),
        (
            "- {targetGroup: shop-web, containerName: web, containerPort: 8501}",
            lb(&names.web_target_group, "web", 8501),
        ),
    ];
    let mut used = vec![false; table.len()];
    let mut out = Vec::new();
    for file in [CLUSTER_YAML, API_YAML, WEB_YAML] {
        let text = std::fs::read_to_string(Path::new(EXAMPLE).join(file))
            .unwrap_or_else(|e| panic!("read {EXAMPLE}/{file}: {e}"));
        let mut lines = Vec::new();
        for line in text.lines() {
            let content = line.trim_start();
            let indent = &line[..line.len() - content.len()];
            match table.iter().position(|(from, _)| *from == content) {
                Some(i) => {
                    used[i] = true;
                    lines.push(format!("{indent}{}", table[i].1));
                }
                None => lines.push(line.to_string()),
            }
        }
        out.push((file.to_string(), lines.join("\n") + "\n"));
    }
    for ((from, _), used) in table.iter().zip(used) {
        assert!(used, "the example manifests no longer have a line {from:?}");
    }
    out
}

/// One run of the binary.
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// Exit code.
    pub code: i32,
    /// Report.
    pub stdout: String,
    /// Logs and manifest findings.
    pub stderr: String,
}

impl Run {
    /// Panics, showing the whole run, unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit code of {self}");
        self
    }

    /// The indented lines printed under the resource whose header line starts with `header`
    /// (`~ Service/cluster/api`), as `diff` and a blocked `apply` print them.
    pub fn lines_under(&self, header: &str) -> Vec<&str> {
        let mut lines = self.stdout.lines();
        assert!(
            lines.any(|l| l.starts_with(header)),
            "{self}\nhas no line starting with {header:?}"
        );
        lines.take_while(|l| l.starts_with("    ")).collect()
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (exit {})\n--- stdout\n{}--- stderr\n{}---",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// A child process killed (and reaped) when dropped, so a failing test leaves none behind.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running controller's `/status`, when it answers 200.
pub async fn status(base: &str) -> Option<ecs_operator::status::StatusReport> {
    let (code, body) =
        ecs_operator::http_client::get(&format!("{base}/status"), Duration::from_secs(5))
            .await
            .ok()?;
    (code == 200).then(|| serde_json::from_str(&body).expect("status JSON"))
}

/// Polls `done` every 200 ms (real time) until it holds; fails after `limit`.
pub async fn wait_for<F: Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> F,
) {
    let start = std::time::Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "not {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
