//! The command line: clap definitions (every flag also read from an `ECS_OPERATOR_*`
//! environment variable) and the commands that are not long-running. `diff` and `apply` live
//! in `sync`.

pub mod healthcheck;
mod import;
mod lease;
mod run;
mod sync;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::connect::{BackendKind, BackendOptions};
use crate::manifest::{self, Diagnostic};
use crate::ratelimit::{Bucket, RateLimits, Shape};

/// A Kubernetes-style operator for Amazon ECS.
#[derive(Debug, Parser)]
#[command(name = "ecs-operator", version, about, long_about = None)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalOptions,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// Log format on stderr.
    #[arg(long, global = true, env = "ECS_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax: `info`, `ecs_operator=debug`).
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,
    /// Where the resources live: `aws`, or `sim` (the built-in simulator, no AWS account).
    #[arg(long, global = true, env = "ECS_OPERATOR_BACKEND", value_enum, default_value_t = BackendKind::Aws)]
    pub backend: BackendKind,
    /// AWS region (default: the standard chain, e.g. AWS_REGION).
    #[arg(long, global = true, env = "ECS_OPERATOR_REGION")]
    pub region: Option<String>,
    /// Endpoint URL of an AWS emulator such as moto server or LocalStack (AWS_ENDPOINT_URL is
    /// honoured too).
    #[arg(long, global = true, env = "ECS_OPERATOR_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Attempts per AWS call, the first included (throttling and 5xx are retried with backoff).
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_MAX_ATTEMPTS",
        default_value_t = 3
    )]
    pub max_attempts: u32,
    /// With `--backend sim`: the file the simulated account is kept in between commands.
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_SIM_STATE",
        default_value = ".ecs-operator/sim-state.json"
    )]
    pub sim_state: PathBuf,
    /// With `--backend sim`: images whose reference contains this text crash on start (to see a
    /// crash loop and the circuit breaker). `IMAGE=pull`, `=secret`, `=exit:N` or `=health`
    /// chooses how their tasks stop (CannotPullContainerError, unable to retrieve secret, an
    /// essential container exiting with N, failed ELB health checks; plain `IMAGE`: exit 1).
    /// Repeatable; comma-separated in the variable.
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_SIM_CRASH_IMAGE",
        value_delimiter = ','
    )]
    pub sim_crash_image: Vec<String>,
    /// With `--backend sim`: lifecycle hooks (BLUE_GREEN, LINEAR, CANARY deployments) whose
    /// Lambda ARN contains this text fail, and ECS's deployment rolls back; the others succeed.
    /// Repeatable; comma-separated in the variable.
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_SIM_FAIL_HOOK",
        value_delimiter = ','
    )]
    pub sim_fail_hook: Vec<String>,
    /// With `--backend sim`: `off` turns the simulator's AWS throttling off, and with it the
    /// client-side rate limits (those `--rate-limit` names stay), so that a fleet of thousands
    /// of services converges in real time (on AWS's buckets registering 10,000 task
    /// definitions alone takes close to three hours).
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_SIM_THROTTLING",
        value_enum,
        default_value_t = Toggle::On
    )]
    pub sim_throttling: Toggle,
    /// With `--backend sim`: the load of a service for the simulated Application Auto Scaling
    /// of its `autoScaling`, `CLUSTER/SERVICE=PERCENT`: its total demand in percent of one task
    /// (`shop/api=300`: three tasks busy; at a 60% CPU target the scaler wants five).
    /// Repeatable; comma-separated in the variable.
    #[arg(long, global = true, env = "ECS_OPERATOR_SIM_LOAD", value_delimiter = ',', value_parser = parse_sim_load)]
    pub sim_load: Vec<(String, String, f64)>,
    /// Override a client-side rate limit: `BUCKET=BURST/REFILL_PER_SECOND`, e.g.
    /// `service-modify=10/1` (repeatable; defaults are AWS's buckets).
    #[arg(long = "rate-limit", global = true, env = "ECS_OPERATOR_RATE_LIMIT", value_delimiter = ',', value_parser = parse_rate_limit)]
    pub rate_limits: Vec<(Bucket, Shape)>,
    /// AWS calls in flight at most.
    #[arg(long, global = true, env = "ECS_OPERATOR_MAX_IN_FLIGHT", default_value_t = crate::ratelimit::DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// This operator's name, written in the `ecs-operator/managed-by` tag of what it creates.
    #[arg(
        long,
        global = true,
        env = "ECS_OPERATOR_INSTANCE",
        default_value = "ecs-operator"
    )]
    pub instance: String,
}

/// `CLUSTER/SERVICE=PERCENT` of `--sim-load`.
fn parse_sim_load(flag: &str) -> Result<(String, String, f64), String> {
    let err = || format!("{flag:?} is not CLUSTER/SERVICE=PERCENT (shop/api=300)");
    let (service, percent) = flag.split_once('=').ok_or_else(err)?;
    let (cluster, service) = service.split_once('/').ok_or_else(err)?;
    let percent: f64 = percent.trim().parse().map_err(|_| err())?;
    if cluster.is_empty() || service.is_empty() || !percent.is_finite() || percent < 0.0 {
        return Err(err());
    }
    Ok((cluster.to_string(), service.to_string(), percent))
}

fn parse_rate_limit(flag: &str) -> Result<(Bucket, Shape), String> {
    RateLimits::parse(flag).map_err(|e| e.to_string())
}

impl GlobalOptions {
    /// AWS's bucket shapes with the `--rate-limit` overrides applied (only the overrides with
    /// `--backend sim --sim-throttling off`).
    pub fn rate_limits(&self) -> RateLimits {
        let mut limits = RateLimits::default();
        if !self.sim_throttles() {
            limits = limits.lifted();
        }
        limits.max_in_flight = self.max_in_flight.max(1);
        for (bucket, shape) in &self.rate_limits {
            limits.set(*bucket, *shape);
        }
        limits
    }

    /// False with `--backend sim --sim-throttling off`.
    fn sim_throttles(&self) -> bool {
        self.backend != BackendKind::Sim || self.sim_throttling == Toggle::On
    }

    /// The backend settings.
    pub fn backend_options(&self) -> BackendOptions {
        BackendOptions {
            kind: self.backend,
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
            sim_state: Some(self.sim_state.clone()),
            sim_crashing_images: self.sim_crash_image.clone(),
            sim_failing_hooks: self.sim_fail_hook.clone(),
            sim_throttling: self.sim_throttling == Toggle::On,
            sim_load: self.sim_load.clone(),
            rate_limits: self.rate_limits(),
            metrics: None,
            warn_failed_calls: false,
            gate: None,
        }
    }
}

/// A switch of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Toggle {
    /// On.
    On,
    /// Off.
    Off,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Report format of commands that print findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable lines.
    Text,
    /// One JSON document.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests without touching AWS: exit 0 when valid, 1 on errors.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the manifest kinds (for editors and CI linters).
    Schema,
    /// Compare manifests with live state: exit 0 in sync, 2 when anything differs, 1 on error.
    Diff(sync::DiffArgs),
    /// Make live state match the manifests (one pass).
    Apply(sync::ApplyArgs),
    /// Run the controller: watch the manifests and keep AWS matching them (until SIGTERM).
    Run(Box<run::RunArgs>),
    /// Print a running controller's per-resource status: exit 0 all synced, 2 otherwise.
    Status(run::StatusArgs),
    /// Write manifests for the live services of a cluster (and its target groups and itself).
    Import(import::ImportArgs),
    /// Probe the controller's /healthz: exit 0 on 2xx, 1 otherwise (the container health check).
    Healthcheck(healthcheck::HealthcheckArgs),
    /// The leader election's lease table (`lease create-table TABLE`).
    #[command(subcommand)]
    Lease(lease::LeaseCommand),
}

/// `validate` options.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories of manifests.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long, env = "ECS_OPERATOR_STRICT")]
    pub strict: bool,
    /// Report format.
    #[arg(long, env = "ECS_OPERATOR_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Bounds of the load.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The bounds of a manifest load (`validate`, `diff`, `apply`, `run`); README "Limits".
/// (`manifest::load_limits` holds the defaults and their reasons.)
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest manifest file read (`4MiB`, `512KiB`, bytes).
    #[arg(long, env = "ECS_OPERATOR_MAX_FILE_BYTES", default_value = "4MiB", value_parser = parse_size)]
    pub max_file_bytes: u64,
    /// Largest total of every manifest file read in one load.
    #[arg(long, env = "ECS_OPERATOR_MAX_TOTAL_BYTES", default_value = "32MiB", value_parser = parse_size)]
    pub max_total_bytes: u64,
    /// Most `---`-separated documents in one file.
    #[arg(long, env = "ECS_OPERATOR_MAX_DOCUMENTS_PER_FILE", default_value_t = manifest::load_limits::DEFAULT_MAX_DOCUMENTS_PER_FILE)]
    pub max_documents_per_file: usize,
    /// Deepest nesting of mappings and sequences in a document.
    #[arg(long, env = "ECS_OPERATOR_MAX_DEPTH", default_value_t = manifest::load_limits::DEFAULT_MAX_DEPTH)]
    pub max_depth: usize,
    /// Most keys, values and items in one document.
    #[arg(long, env = "ECS_OPERATOR_MAX_NODES_PER_DOCUMENT", default_value_t = manifest::load_limits::DEFAULT_MAX_NODES_PER_DOCUMENT)]
    pub max_nodes_per_document: usize,
}

fn parse_size(flag: &str) -> Result<u64, String> {
    manifest::load_limits::ByteSize::parse(flag)
        .map(|b| b.0)
        .map_err(|e| e.to_string())
}

impl LimitArgs {
    /// The limits the flags give.
    pub fn limits(&self) -> manifest::LoadLimits {
        manifest::LoadLimits {
            max_file_bytes: self.max_file_bytes,
            max_total_bytes: self.max_total_bytes,
            max_documents_per_file: self.max_documents_per_file.max(1),
            max_depth: self.max_depth.max(1),
            max_nodes_per_document: self.max_nodes_per_document.max(1),
        }
    }
}

/// Failures of the CLI itself (not findings about manifests).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A cloud call failed.
    #[error(transparent)]
    Cloud(#[from] crate::cloud::CloudError),
    /// The backend could not be set up or its state saved.
    #[error(transparent)]
    Connect(#[from] crate::connect::ConnectError),
    /// Writing the report failed.
    #[error("cannot write output")]
    Write(#[from] std::io::Error),
    /// The HTTP address could not be bound.
    #[error("cannot listen on {0}")]
    Bind(std::net::SocketAddr, #[source] std::io::Error),
    /// The controller stopped with an error.
    #[error(transparent)]
    Run(#[from] crate::controller::run::RunError),
    /// Serializing the report failed.
    #[error("cannot encode output as JSON")]
    Json(#[from] serde_json::Error),
    /// Options that do not go together.
    #[error("{0}")]
    Usage(String),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let mut stdout = std::io::stdout().lock();
    match cli.command {
        Command::Diff(args) => sync::diff(&cli.global, &args, &mut stdout).await,
        Command::Apply(args) => sync::apply(&cli.global, &args, &mut stdout).await,
        Command::Run(args) => run::run(&cli.global, &args, &mut stdout).await,
        Command::Status(args) => run::status(&args, &mut stdout).await,
        Command::Validate(args) => validate(&args, &mut stdout),
        Command::Import(args) => import::import(&cli.global, &args, &mut stdout).await,
        Command::Healthcheck(args) => healthcheck::healthcheck(&args, &mut stdout).await,
        Command::Lease(command) => lease::lease(&cli.global, &command, &mut stdout).await,
        Command::Schema => {
            serde_json::to_writer_pretty(&mut stdout, crate::manifest::schema::manifest_schema())?;
            writeln!(stdout)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The `validate --output json` report.
#[derive(Debug, Serialize)]
pub struct ValidationReport {
    /// True when nothing blocks an apply (with `--strict`, no warnings either).
    pub valid: bool,
    /// Files read.
    pub files: usize,
    /// Documents that decoded.
    pub documents: usize,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Every finding, sorted by file and line.
    pub diagnostics: Vec<Diagnostic>,
}

impl ValidationReport {
    /// Loads and validates `paths` within `limits`.
    pub fn build(
        paths: &[PathBuf],
        strict: bool,
        limits: &manifest::LoadLimits,
    ) -> ValidationReport {
        let loaded = manifest::load_paths_with(paths, limits);
        let diagnostics = manifest::validate(&loaded);
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        ValidationReport {
            valid: errors == 0 && (!strict || warnings == 0),
            files: loaded.files,
            documents: loaded.documents.len(),
            errors,
            warnings,
            diagnostics,
        }
    }
}

fn validate(args: &ValidateArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let report = ValidationReport::build(&args.paths, args.strict, &args.limits.limits());
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for d in &report.diagnostics {
                writeln!(out, "{d}")?;
            }
            writeln!(
                out,
                "{}: {}, {}, {}, {}{}",
                if report.valid { "valid" } else { "invalid" },
                count(report.files, "file"),
                count(report.documents, "document"),
                count(report.errors, "error"),
                count(report.warnings, "warning"),
                if args.strict && report.warnings > 0 {
                    " (--strict)"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `1 file`, `2 files`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_flags_override_aws_defaults_and_the_rest_stay() {
        let cli = Cli::try_parse_from([
            "ecs-operator",
            "--rate-limit",
            "service-modify=10/1",
            "--rate-limit",
            "elbv2-account=5/0.5",
            "--max-in-flight",
            "4",
            "validate",
        ])
        .unwrap();
        let limits = cli.global.rate_limits();
        let shape = |b| {
            let s = limits.shape(b);
            (s.burst, s.refill_per_second)
        };
        assert_eq!(shape(Bucket::ServiceModify), (10, 1.0));
        assert_eq!(shape(Bucket::Elbv2Account), (5, 0.5));
        assert_eq!(
            shape(Bucket::TaskDefinitionModify),
            (19, 1.0),
            "AWS's default less the client's token of headroom"
        );
        assert_eq!(limits.max_in_flight, 4);
    }

    #[test]
    fn sim_load_parses_cluster_service_and_percent() {
        assert_eq!(
            super::parse_sim_load("shop/api=300"),
            Ok(("shop".into(), "api".into(), 300.0))
        );
        for bad in [
            "shop=300",
            "shop/api",
            "/api=3",
            "shop/api=-1",
            "shop/api=lots",
        ] {
            assert!(super::parse_sim_load(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sim_throttling_off_lifts_the_client_limits_but_not_the_named_ones() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["ecs-operator"];
            argv.extend_from_slice(args);
            argv.push("validate");
            Cli::try_parse_from(argv).unwrap().global
        };
        let off = parse(&[
            "--backend",
            "sim",
            "--sim-throttling",
            "off",
            "--rate-limit",
            "service-modify=10/1",
        ]);
        let limits = off.rate_limits();
        assert!(!limits.limits(Bucket::TaskDefinitionModify));
        assert!(
            limits.limits(Bucket::ServiceModify),
            "named by --rate-limit"
        );
        assert!(!off.backend_options().sim_throttling);
        let on = parse(&["--backend", "sim"]).rate_limits();
        assert!(on.limits(Bucket::TaskDefinitionModify), "on by default");
        let aws = parse(&["--sim-throttling", "off"]).rate_limits();
        assert!(
            aws.limits(Bucket::TaskDefinitionModify),
            "AWS itself throttles: the flag is the simulator's"
        );
    }

    #[test]
    fn limit_flags_default_to_the_documented_values_and_take_units() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from(args.iter().copied()).unwrap();
            match cli.command {
                Command::Validate(v) => v.limits.limits(),
                _ => unreachable!(),
            }
        };
        assert_eq!(
            parse(&["ecs-operator", "validate"]),
            manifest::LoadLimits::default()
        );
        let l = parse(&[
            "ecs-operator",
            "validate",
            "--max-file-bytes",
            "512KiB",
            "--max-total-bytes",
            "1MB",
            "--max-documents-per-file",
            "3",
            "--max-depth",
            "0",
        ]);
        assert_eq!(
            (
                l.max_file_bytes,
                l.max_total_bytes,
                l.max_documents_per_file,
                l.max_depth
            ),
            (512 << 10, 1_000_000, 3, 1)
        );
        let e = Cli::try_parse_from(["ecs-operator", "validate", "--max-file-bytes", "4 parsecs"])
            .unwrap_err();
        assert!(e.to_string().contains("KiB"), "{e}");
    }

    #[test]
    fn a_bad_rate_limit_flag_is_refused_with_the_known_names() {
        let e = Cli::try_parse_from(["ecs-operator", "--rate-limit", "bogus=1/1", "validate"])
            .unwrap_err();
        assert!(e.to_string().contains("service-modify"), "{e}");
    }
}
