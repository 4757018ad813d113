//! `ecs-operator run` (the controller, until SIGTERM or Ctrl-C) and `ecs-operator status` (a
//! running controller's `/status` as a table).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{CliError, GlobalOptions, OutputFormat};
use crate::connect::{self, BackendOptions};
use crate::controller::reconcile::Settings;
use crate::controller::run::{Http, RunConfig, SourceConfig, run as run_controller};
use crate::controller::server::Webhook;
use crate::source::git::{GitOptions, verify_signature};
use crate::status::StatusReport;

/// `run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory of manifests to watch.
    #[arg(
        long,
        env = "ECS_OPERATOR_MANIFESTS",
        required_unless_present = "git_url",
        conflicts_with = "git_url"
    )]
    pub manifests: Option<PathBuf>,
    /// Git repository of manifests (https://, file:// or a path). An https token is read from
    /// ECS_OPERATOR_GIT_TOKEN (never a flag, never logged).
    #[arg(long, env = "ECS_OPERATOR_GIT_URL")]
    pub git_url: Option<String>,
    /// Branch, tag or commit to apply.
    #[arg(long, env = "ECS_OPERATOR_GIT_REF", default_value = "main")]
    pub git_ref: String,
    /// Directory of the repository holding the manifests.
    #[arg(long, env = "ECS_OPERATOR_GIT_PATH", default_value = ".")]
    pub git_path: PathBuf,
    /// Time between fetches (a push webhook fetches at once).
    #[arg(long, env = "ECS_OPERATOR_GIT_INTERVAL", default_value = "60s", value_parser = humantime::parse_duration)]
    pub git_interval: Duration,
    /// Where the repository is cached.
    #[arg(
        long,
        env = "ECS_OPERATOR_GIT_CACHE",
        default_value = ".ecs-operator/git"
    )]
    pub git_cache: PathBuf,
    /// Address of the HTTP endpoints (/healthz, /readyz, /status, /metrics, /hooks/git).
    #[arg(
        long,
        env = "ECS_OPERATOR_METRICS_ADDR",
        default_value = "0.0.0.0:9090"
    )]
    pub metrics_addr: SocketAddr,
    /// Time a client has to send a request's head to the HTTP endpoints (also how long an
    /// idle keep-alive connection stays open).
    #[arg(long, env = "ECS_OPERATOR_HTTP_HEADER_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub http_header_timeout: Duration,
    /// Time one HTTP request may take, its body included (then 503).
    #[arg(long, env = "ECS_OPERATOR_HTTP_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub http_request_timeout: Duration,
    /// HTTP connections open at once; at the cap a new one closes the oldest idle one.
    #[arg(long, env = "ECS_OPERATOR_HTTP_MAX_CONNECTIONS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub http_max_connections: u32,
    /// Requests served on one keep-alive connection before it is closed.
    #[arg(long, env = "ECS_OPERATOR_HTTP_MAX_REQUESTS_PER_CONNECTION", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub http_max_requests_per_connection: u32,
    /// Age after which an HTTP connection is closed (after its request in flight).
    #[arg(long, env = "ECS_OPERATOR_HTTP_MAX_CONNECTION_AGE", default_value = "10m", value_parser = humantime::parse_duration)]
    pub http_max_connection_age: Duration,
    /// Time between full syncs that heal drift (jittered by 10 %).
    #[arg(long, env = "ECS_OPERATOR_RESYNC", default_value = "5m", value_parser = humantime::parse_duration)]
    pub resync: Duration,
    /// Reconciles in flight at once, per kind (clusters, target groups, services).
    #[arg(long, env = "ECS_OPERATOR_CONCURRENCY", default_value_t = 8)]
    pub concurrency: usize,
    /// Every target group's attributes are read at least once in this long, whatever its
    /// `ecs-operator/attributes-hash` tag says (each full sync reads its share), so that a
    /// change made by hand is put back; `0s` reads them all at every full sync.
    #[arg(long, env = "ECS_OPERATOR_ATTRIBUTES_CHECK_INTERVAL", default_value = crate::controller::reconcile::ATTRIBUTES_CHECK_INTERVAL, value_parser = humantime::parse_duration)]
    pub attributes_check_interval: Duration,
    /// Failed tasks of a new deployment, before it completes, that count as a crash loop.
    #[arg(long, env = "ECS_OPERATOR_CRASH_LOOP_THRESHOLD", default_value_t = 3)]
    pub crash_loop_threshold: u32,
    /// Time between reads of services whose rollout is followed.
    #[arg(long, env = "ECS_OPERATOR_ROLLOUT_POLL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub rollout_poll: Duration,
    /// A rollout not done after this long is reported Degraded.
    #[arg(long, env = "ECS_OPERATOR_ROLLOUT_TIMEOUT", default_value = "10m", value_parser = humantime::parse_duration)]
    pub rollout_timeout: Duration,
    /// A reconcile still running after this long (a call that does not answer) is dropped and
    /// retried with backoff.
    #[arg(long, env = "ECS_OPERATOR_RECONCILE_TIMEOUT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub reconcile_timeout: Duration,
    /// Quiet time after the last file event before reloading the directory.
    #[arg(long, env = "ECS_OPERATOR_DEBOUNCE", default_value = "100ms", value_parser = humantime::parse_duration)]
    pub debounce: Duration,
    /// On SIGTERM, how long reconciles in flight may take to finish.
    #[arg(long, env = "ECS_OPERATOR_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
    /// Leader election: `dynamodb` (a lease item in --lease-table); without it this operator
    /// reconciles as the only one.
    #[arg(
        long,
        env = "ECS_OPERATOR_LEADER_ELECTION",
        value_enum,
        requires = "lease_table"
    )]
    pub leader_election: Option<LeaderElection>,
    /// The DynamoDB table of the lease (see `lease create-table`).
    #[arg(long, env = "ECS_OPERATOR_LEASE_TABLE")]
    pub lease_table: Option<String>,
    /// The lease item's name: operators of one name elect one leader.
    #[arg(long, env = "ECS_OPERATOR_LEASE_NAME", default_value = "ecs-operator")]
    pub lease_name: String,
    /// How long a written lease lasts; a leader stops changing AWS a third of it before.
    #[arg(long, env = "ECS_OPERATOR_LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,
    /// Time between renewals of the leader (a standby reads every min(this, 1s)).
    #[arg(long, env = "ECS_OPERATOR_LEASE_RENEW", default_value = "5s", value_parser = humantime::parse_duration)]
    pub lease_renew: Duration,
    /// Bounds of each load of the manifests.
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

/// How operators elect a leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LeaderElection {
    /// A lease item in a DynamoDB table, written with conditional writes.
    Dynamodb,
}

/// `status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Base URL of a running controller.
    #[arg(
        long,
        env = "ECS_OPERATOR_URL",
        default_value = "http://127.0.0.1:9090"
    )]
    pub url: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `ecs-operator run`.
pub async fn run(
    global: &GlobalOptions,
    args: &RunArgs,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    let metrics = crate::metrics::Metrics::new();
    let election = match (args.leader_election, &args.lease_table) {
        (Some(LeaderElection::Dynamodb), Some(table)) => {
            let margin = args.lease_duration / 3;
            if args.lease_renew.is_zero() || args.lease_renew >= args.lease_duration - margin {
                return Err(CliError::Usage(format!(
                    "--lease-renew {} must be shorter than two thirds of --lease-duration {} (a leader stops a third before its lease expires)",
                    humantime::format_duration(args.lease_renew),
                    humantime::format_duration(args.lease_duration)
                )));
            }
            Some((
                table.clone(),
                crate::lease::LeaderGate::with_call_limit(margin),
            ))
        }
        _ => None,
    };
    let options = BackendOptions {
        metrics: Some(metrics.clone()),
        warn_failed_calls: true,
        gate: election.as_ref().map(|(_, gate)| gate.clone()),
        ..global.backend_options()
    };
    let connected = connect::connect(&options).await?;
    let trigger = Arc::new(tokio::sync::Notify::new());
    let source = match (&args.manifests, &args.git_url) {
        (Some(path), _) => SourceConfig::Dir {
            path: path.clone(),
            debounce: args.debounce,
        },
        (None, Some(url)) => SourceConfig::Git {
            options: GitOptions {
                url: url.clone(),
                reference: args.git_ref.clone(),
                path: args.git_path.clone(),
                cache_dir: args.git_cache.clone(),
                token: non_empty_env(GIT_TOKEN_ENV),
                max_file_bytes: args.limits.max_file_bytes,
            },
            interval: args.git_interval,
            trigger: trigger.clone(),
        },
        (None, None) => unreachable!("clap requires --manifests or --git-url"),
    };
    let webhook = match (&args.git_url, non_empty_env(WEBHOOK_SECRET_ENV)) {
        (Some(_), Some(secret)) => Some(Webhook {
            secret: secret.into_bytes().into(),
            trigger,
            verify: verify_signature,
        }),
        _ => None,
    };
    let mut config = RunConfig::new(source);
    config.settings = Settings {
        instance: global.instance.clone(),
        crash_loop_threshold: args.crash_loop_threshold,
        rollout_timeout: args.rollout_timeout,
        reconcile_timeout: args.reconcile_timeout,
        attributes_check_interval: args.attributes_check_interval,
        ..Settings::default()
    };
    config.queue.concurrency = args.concurrency.max(1);
    config.resync = args.resync;
    config.rollout_poll = args.rollout_poll;
    config.shutdown_timeout = args.shutdown_timeout;
    config.load_limits = args.limits.limits();
    if let Some((table, gate)) = election {
        let holder = crate::lease::default_holder();
        tracing::info!(lease = %args.lease_name, %table, %holder, "leader election on");
        config.election = Some(crate::lease::start(
            connected.lease_store(&table),
            Arc::new(crate::lease::SystemClock),
            crate::lease::ElectionConfig {
                name: args.lease_name.clone(),
                holder,
                duration: args.lease_duration,
                renew: args.lease_renew,
            },
            gate,
        ));
    }

    // Before anything answers: an early SIGTERM is a clean stop.
    let shutdown = terminated();
    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .map_err(|e| CliError::Bind(args.metrics_addr, e))?;
    let addr = listener.local_addr()?;
    writeln!(
        out,
        "ecs-operator: serving /status, /healthz, /readyz, /metrics on http://{}",
        display_addr(addr)
    )?;
    out.flush()?;
    let http = Http {
        listener,
        webhook,
        metrics: Some({
            let metrics = metrics.clone();
            Arc::new(move || metrics.encode())
        }),
        limits: crate::controller::server::HttpLimits {
            header_read_timeout: args.http_header_timeout,
            request_timeout: args.http_request_timeout,
            max_connections: args.http_max_connections as usize,
            max_requests_per_connection: args.http_max_requests_per_connection as usize,
            max_connection_age: args.http_max_connection_age,
        },
    };
    let result = run_controller(
        connected.cloud.clone(),
        config,
        Some(http),
        Arc::new(metrics),
        |_| {},
        shutdown,
    )
    .await;
    connected.persist(&options)?;
    result?;
    writeln!(out, "ecs-operator: stopped")?;
    Ok(ExitCode::SUCCESS)
}

/// The https token of the git source.
pub const GIT_TOKEN_ENV: &str = "ECS_OPERATOR_GIT_TOKEN";
/// The push webhook's shared secret; without it `/hooks/git` answers 404.
pub const WEBHOOK_SECRET_ENV: &str = "ECS_OPERATOR_WEBHOOK_SECRET";

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// 0.0.0.0 is where it listens; 127.0.0.1 is where a person on the machine reaches it.
fn display_addr(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// Completes on SIGTERM (ECS stopping the task) or Ctrl-C.
fn terminated() -> impl std::future::Future<Output = ()> {
    // Registered now, before the server answers its first request: a SIGTERM that comes
    // early (ECS stopping a task that is still starting) is a clean stop, not the default
    // action's kill.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            match signals {
                (Some(mut term), Some(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!("SIGTERM received"),
                        _ = interrupt.recv() => tracing::info!("interrupt received"),
                    }
                }
                (Some(mut term), None) => {
                    term.recv().await;
                    tracing::info!("SIGTERM received");
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `ecs-operator status`: exit 0 when every resource is Synced and not Degraded, 2 otherwise,
/// 1 when the controller cannot be reached.
pub async fn status(args: &StatusArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let url = format!("{}/status", args.url.trim_end_matches('/'));
    let (code, body) = match crate::http_client::get(&url, Duration::from_secs(10)).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ecs-operator status: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    if code != 200 {
        eprintln!("ecs-operator status: {url} answered {code}");
        return Ok(ExitCode::from(1));
    }
    let report: StatusReport = serde_json::from_str(&body)?;
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => write!(out, "{}", table(&report))?,
    }
    let healthy = report.resources.iter().all(|r| {
        r.sync == crate::status::SyncStatus::Synced && r.health != crate::status::Health::Degraded
    });
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The status report as an aligned text table.
pub fn table(report: &StatusReport) -> String {
    let mut rows = vec![[
        "KIND".to_string(),
        "CLUSTER".into(),
        "NAME".into(),
        "SYNC".into(),
        "HEALTH".into(),
        "REVISION".into(),
        "MESSAGE".into(),
    ]];
    for r in &report.resources {
        let message = r
            .last_error
            .as_ref()
            .map(|e| format!("error: {e}"))
            .or_else(|| r.message.clone())
            .unwrap_or_default();
        rows.push([
            r.kind.as_str().to_string(),
            r.cluster.clone().unwrap_or_else(|| "-".into()),
            r.name.clone(),
            r.sync.as_str().into(),
            r.health.as_str().into(),
            r.revision
                .as_deref()
                .map(short_revision)
                .unwrap_or("-")
                .to_string(),
            message,
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format!(
        "source {} at {}{}; {} manifest errors\n{}\n",
        report.source.location,
        report.source.revision.as_deref().unwrap_or("-"),
        if report.ready { "" } else { " (not ready)" },
        report.source.manifest_errors,
        report.leader.line()
    );
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A git SHA shortened to 12 digits; other revisions as they are.
fn short_revision(r: &str) -> &str {
    if r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()) {
        &r[..12]
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Kind, ResourceKey};
    use crate::status::{StatusBoard, SyncStatus};

    #[test]
    fn the_status_table_shows_a_stalled_resource_with_its_reason() {
        let board = StatusBoard::new();
        let key = ResourceKey {
            kind: Kind::Service,
            cluster: Some("shop".into()),
            name: "api".into(),
        };
        board.update(&key, |s| {
            s.sync = SyncStatus::Stalled;
            s.message = Some("stalled: not retried until the manifest changes".into());
            s.last_error = Some("CreateService: access_denied".into());
        });
        let text = table(&board.report());
        let line = text
            .lines()
            .find(|l| l.starts_with("Service"))
            .expect("a row for the service");
        assert!(line.contains("Stalled"), "{text}");
        assert!(
            line.ends_with("error: CreateService: access_denied"),
            "{text}"
        );
    }
}
