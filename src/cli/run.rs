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
use crate::cloud::backend;
use crate::controller::reconcile::{NoEvents, Settings};
use crate::controller::run::{Http, RunConfig, SourceConfig, run as run_controller};
use crate::controller::status::StatusReport;

/// `run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory of manifests to watch.
    #[arg(long, env = "ECS_OPERATOR_MANIFESTS", required = true)]
    pub manifests: Option<PathBuf>,
    /// Address of the HTTP endpoints (/healthz, /readyz, /status, /metrics, /hooks/git).
    #[arg(
        long,
        env = "ECS_OPERATOR_METRICS_ADDR",
        default_value = "0.0.0.0:9090"
    )]
    pub metrics_addr: SocketAddr,
    /// Time between full syncs that heal drift (jittered by 10 %).
    #[arg(long, env = "ECS_OPERATOR_RESYNC", default_value = "5m", value_parser = humantime::parse_duration)]
    pub resync: Duration,
    /// Reconciles in flight at once, per kind (clusters, target groups, services).
    #[arg(long, env = "ECS_OPERATOR_CONCURRENCY", default_value_t = 8)]
    pub concurrency: usize,
    /// Failed tasks of a new deployment, before it completes, that count as a crash loop.
    #[arg(long, env = "ECS_OPERATOR_CRASH_LOOP_THRESHOLD", default_value_t = 3)]
    pub crash_loop_threshold: u32,
    /// Time between reads of services whose rollout is followed.
    #[arg(long, env = "ECS_OPERATOR_ROLLOUT_POLL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub rollout_poll: Duration,
    /// A rollout not done after this long is reported Degraded.
    #[arg(long, env = "ECS_OPERATOR_ROLLOUT_TIMEOUT", default_value = "10m", value_parser = humantime::parse_duration)]
    pub rollout_timeout: Duration,
    /// Quiet time after the last file event before reloading the directory.
    #[arg(long, env = "ECS_OPERATOR_DEBOUNCE", default_value = "100ms", value_parser = humantime::parse_duration)]
    pub debounce: Duration,
    /// On SIGTERM, how long reconciles in flight may take to finish.
    #[arg(long, env = "ECS_OPERATOR_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
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
    let options = global.backend_options();
    let connected = backend::connect(&options).await?;
    let source = match &args.manifests {
        Some(path) => SourceConfig::Dir {
            path: path.clone(),
            debounce: args.debounce,
        },
        None => unreachable!("clap requires --manifests"),
    };
    let mut config = RunConfig::new(source);
    config.settings = Settings {
        instance: global.instance.clone(),
        crash_loop_threshold: args.crash_loop_threshold,
        rollout_timeout: args.rollout_timeout,
        ..Settings::default()
    };
    config.queue.concurrency = args.concurrency.max(1);
    config.resync = args.resync;
    config.rollout_poll = args.rollout_poll;
    config.shutdown_timeout = args.shutdown_timeout;

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
        webhook: None,
        metrics: None,
    };
    let result = run_controller(
        connected.cloud.clone(),
        config,
        Some(http),
        Arc::new(NoEvents),
        |_, _| {},
        |_| {},
        terminated(),
    )
    .await;
    connected.persist(&options)?;
    result?;
    writeln!(out, "ecs-operator: stopped")?;
    Ok(ExitCode::SUCCESS)
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
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
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
        r.sync == crate::controller::status::SyncStatus::Synced
            && r.health != crate::controller::status::Health::Degraded
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
        "source {} at {}{}; {} manifest errors\n",
        report.source.location,
        report.source.revision.as_deref().unwrap_or("-"),
        if report.ready { "" } else { " (not ready)" },
        report.source.manifest_errors
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
