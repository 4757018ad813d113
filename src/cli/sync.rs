//! `diff` and `apply`: load and validate the manifests (any error: exit 1 before a single API
//! call), read live state, plan, then print the differences or make the calls.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::{CliError, GlobalOptions, LimitArgs, OutputFormat};
use crate::apply::{Applied, apply as apply_plans};
use crate::connect::{self, Connected};
use crate::manifest::{self, Kind, ResourceKey};
use crate::observe::Observer;
use crate::plan::{ResourcePlan, Status};
use crate::planner::plan_all;
use crate::prune::{MaxPrune, PrunePlan, plan_prune, prune};
use crate::rollout;

/// `diff` options.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Files or directories of manifests.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, env = "ECS_OPERATOR_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Also list the owned resources no manifest names anymore (what `apply --prune` deletes).
    #[arg(long, env = "ECS_OPERATOR_PRUNE")]
    pub prune: bool,
    /// Task definition revisions kept per family when pruning.
    #[arg(long, env = "ECS_OPERATOR_KEEP_REVISIONS", default_value_t = 5)]
    pub keep_revisions: usize,
    /// Read every target group's attributes (one DescribeTargetGroupAttributes each), not
    /// only those whose `ecs-operator/attributes-hash` tag does not match the manifest: finds
    /// attributes changed by hand.
    #[arg(long, env = "ECS_OPERATOR_READ_ATTRIBUTES")]
    pub read_attributes: bool,
    /// Bounds of the load.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `apply` options.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Files or directories of manifests.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// Print what would be done, change nothing.
    #[arg(long, env = "ECS_OPERATOR_DRY_RUN")]
    pub dry_run: bool,
    /// Follow the rollouts of changed services until they are stable or fail.
    #[arg(long, env = "ECS_OPERATOR_WAIT")]
    pub wait: bool,
    /// How long `--wait` waits (e.g. `10m`, `90s`).
    #[arg(long, env = "ECS_OPERATOR_WAIT_TIMEOUT", default_value = "15m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Delete owned resources no manifest names anymore: services (scaled to 0 first), target
    /// groups no service uses, task definition revisions beyond `--keep-revisions`.
    #[arg(long, env = "ECS_OPERATOR_PRUNE")]
    pub prune: bool,
    /// Refuse to prune more than this many services and target groups at once: a share of the
    /// owned ones (`10%`, at least 1) or a count (`3`).
    #[arg(long, env = "ECS_OPERATOR_MAX_PRUNE", default_value = "10%", value_parser = MaxPrune::parse)]
    pub max_prune: MaxPrune,
    /// Task definition revisions kept per family when pruning.
    #[arg(long, env = "ECS_OPERATOR_KEEP_REVISIONS", default_value_t = 5)]
    pub keep_revisions: usize,
    /// How often `--wait` polls the services.
    #[arg(long, env = "ECS_OPERATOR_WAIT_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Read every target group's attributes (one DescribeTargetGroupAttributes each), not
    /// only those whose `ecs-operator/attributes-hash` tag does not match the manifest: finds
    /// attributes changed by hand.
    #[arg(long, env = "ECS_OPERATOR_READ_ATTRIBUTES")]
    pub read_attributes: bool,
    /// Bounds of the load.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Loads and validates; on errors prints them to stderr and returns `None`.
fn load(paths: &[PathBuf], limits: &LimitArgs) -> Option<Vec<manifest::Document>> {
    let loaded = manifest::load_paths_with(paths, &limits.limits());
    let diagnostics = manifest::validate(&loaded);
    let mut stderr = std::io::stderr().lock();
    for d in &diagnostics {
        let _ = writeln!(stderr, "{d}");
    }
    if diagnostics.iter().any(|d| d.is_error()) || !loaded.is_complete() {
        let _ = writeln!(
            stderr,
            "manifests have errors: nothing was read from or changed in AWS"
        );
        return None;
    }
    Some(loaded.documents)
}

/// Colours for a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Counts of plans by status.
#[derive(Debug, Default, Serialize)]
struct Summary {
    create: usize,
    update: usize,
    blocked: usize,
    in_sync: usize,
    suspended: usize,
}

impl Summary {
    fn of(plans: &[ResourcePlan]) -> Summary {
        let mut s = Summary::default();
        for p in plans {
            match p.status {
                Status::Create => s.create += 1,
                Status::Update => s.update += 1,
                Status::Blocked => s.blocked += 1,
                Status::InSync => s.in_sync += 1,
                Status::Suspended => s.suspended += 1,
            }
        }
        s
    }

    fn line(&self) -> String {
        format!(
            "{} to create, {} to update, {} blocked, {} in sync, {} suspended",
            self.create, self.update, self.blocked, self.in_sync, self.suspended
        )
    }
}

fn print_plan(out: &mut impl Write, style: &Style, p: &ResourcePlan) -> std::io::Result<()> {
    let (mark, colour, word) = match p.status {
        Status::Create => ("+", "32", "create"),
        Status::Update => ("~", "33", "update"),
        Status::Blocked => ("!", "31", "blocked"),
        Status::InSync | Status::Suspended => return Ok(()),
    };
    writeln!(
        out,
        "{} {} ({}:{}) {}",
        style.paint(colour, mark),
        style.paint("1", &p.key.to_string()),
        p.file.display(),
        p.line,
        word
    )?;
    if let Some(reason) = &p.reason {
        writeln!(out, "    {}", style.paint("31", reason))?;
    }
    if p.status != Status::Create {
        for c in &p.changes {
            writeln!(out, "    spec.{c}")?;
        }
    }
    Ok(())
}

/// Connects and plans; `field_changes` reads the revision each changed service runs, for
/// field-level changes (`diff`, `apply --dry-run`), where `apply` shows content hashes;
/// `all_attributes` reads every target group's attributes (`--read-attributes`).
async fn connect_and_plan(
    global: &GlobalOptions,
    documents: &[manifest::Document],
    field_changes: bool,
    all_attributes: bool,
) -> Result<
    (
        Connected,
        Observer,
        Vec<ResourcePlan>,
        std::collections::BTreeMap<String, String>,
    ),
    CliError,
> {
    let connected = connect::connect(&global.backend_options()).await?;
    let mut observer = Observer::new(connected.cloud.clone());
    if field_changes {
        observer = observer.with_field_changes();
    }
    if all_attributes {
        observer = observer.with_all_attributes();
    }
    let (plans, arns) = plan_all(&observer, documents, &global.instance).await?;
    Ok((connected, observer, plans, arns))
}

/// `ecs-operator diff`.
pub async fn diff(
    global: &GlobalOptions,
    args: &DiffArgs,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    let Some(documents) = load(&args.paths, &args.limits) else {
        return Ok(ExitCode::from(1));
    };
    let (connected, _, plans, _) =
        connect_and_plan(global, &documents, true, args.read_attributes).await?;
    let summary = Summary::of(&plans);
    let pruned = if args.prune {
        plan_prune(
            &connected.cloud,
            &documents,
            &global.instance,
            args.keep_revisions,
        )
        .await?
    } else {
        PrunePlan::default()
    };
    let drift = plans.iter().any(|p| !p.is_in_sync()) || !pruned.is_empty();
    match args.output {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Report<'a> {
                in_sync: bool,
                summary: &'a Summary,
                resources: &'a [ResourcePlan],
            }
            serde_json::to_writer_pretty(
                &mut *out,
                &Report {
                    in_sync: !drift,
                    summary: &summary,
                    resources: &plans,
                },
            )?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            let style = Style {
                on: std::io::stdout().is_terminal(),
            };
            for p in &plans {
                print_plan(out, &style, p)?;
            }
            for line in prune_lines(&pruned) {
                writeln!(out, "{} {line} (prune)", style.paint("31", "-"))?;
            }
            writeln!(out, "{}", summary.line())?;
        }
    }
    Ok(if drift {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `ecs-operator apply`.
pub async fn apply(
    global: &GlobalOptions,
    args: &ApplyArgs,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    let Some(documents) = load(&args.paths, &args.limits) else {
        return Ok(ExitCode::from(1));
    };
    let (connected, observer, plans, arns) =
        connect_and_plan(global, &documents, args.dry_run, args.read_attributes).await?;
    let style = Style {
        on: std::io::stdout().is_terminal(),
    };
    let summary = Summary::of(&plans);
    if args.dry_run {
        for p in &plans {
            print_plan(out, &style, p)?;
            for step in &p.steps {
                writeln!(out, "    would call: {}", step.operation())?;
            }
        }
        writeln!(out, "dry run: {}", summary.line())?;
        connected.persist(&global.backend_options())?;
        return Ok(ExitCode::SUCCESS);
    }
    for p in plans.iter().filter(|p| p.status == Status::Blocked) {
        print_plan(out, &style, p)?;
    }
    let mut lines = Vec::new();
    let applied = apply_plans(&connected.cloud, &observer, &plans, arns, |key, action| {
        lines.push(format!("{key}: {action}"))
    })
    .await;
    for l in &lines {
        writeln!(out, "{l}")?;
    }
    let failed: Vec<&Applied> = applied.iter().filter(|a| a.error.is_some()).collect();
    for a in &failed {
        writeln!(
            out,
            "{} {}: {}",
            style.paint("31", "!"),
            a.key,
            a.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
        )?;
    }
    let mut ok = failed.is_empty() && summary.blocked == 0;
    if args.prune && ok {
        let pruned = plan_prune(
            &connected.cloud,
            &documents,
            &global.instance,
            args.keep_revisions,
        )
        .await?;
        match prune(&connected.cloud, &pruned, args.max_prune).await {
            Ok(lines) => {
                for l in lines {
                    writeln!(out, "prune: {l}")?;
                }
            }
            Err(e) => {
                writeln!(out, "{} {e}", style.paint("31", "!"))?;
                ok = false;
            }
        }
    }
    let changed = applied.iter().filter(|a| !a.actions.is_empty()).count();
    writeln!(
        out,
        "applied: {changed} changed, {} in sync, {} blocked, {} failed",
        summary.in_sync,
        summary.blocked,
        failed.len()
    )?;
    connected.persist(&global.backend_options())?;
    if args.wait && ok {
        ok = wait(&connected, &applied, args, out).await?;
        connected.persist(&global.backend_options())?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `Service/shop/old`, `TargetGroup/old-tg`, `TaskDefinition api:3`.
fn prune_lines(p: &PrunePlan) -> Vec<String> {
    let services = p.services.iter().map(|(c, n)| format!("Service/{c}/{n}"));
    let groups = p
        .target_groups
        .iter()
        .map(|(n, _)| format!("TargetGroup/{n}"));
    let revisions = p
        .revisions
        .iter()
        .map(|a| format!("TaskDefinition {}", a.rsplit('/').next().unwrap_or(a)));
    let rules = p.rules.iter().map(|(n, _)| format!("ListenerRule/{n}"));
    services
        .chain(rules)
        .chain(groups)
        .chain(revisions)
        .collect()
}

/// Follows each changed service until its PRIMARY deployment runs the revision apply set and
/// completed, or failed, or ECS's circuit breaker rolled it back.
async fn wait(
    connected: &Connected,
    applied: &[Applied],
    args: &ApplyArgs,
    out: &mut impl Write,
) -> Result<bool, CliError> {
    // Each followed by its own service deployment where the answer named it.
    let services: Vec<(ResourceKey, rollout::Tracker)> = applied
        .iter()
        .filter(|a| a.key.kind == Kind::Service && !a.actions.is_empty())
        .map(|a| {
            let tracker =
                rollout::Tracker::new(a.task_definition.clone().unwrap_or_default(), false)
                    .with_deployment(a.service_deployment.clone());
            (a.key.clone(), tracker)
        })
        .collect();
    // Printed as it happens; a failed write only loses a progress line.
    // The one rollout tracker, reading through the observer (services batched by 10).
    let observer = Observer::new(connected.cloud.clone());
    let result = rollout::follow(
        &observer,
        &services,
        args.timeout,
        args.poll_interval,
        |key, status| {
            let _ = writeln!(out, "{key}: {status}");
        },
    )
    .await?;
    let mut ok = true;
    for (key, status) in result {
        if !status.is_final() {
            writeln!(
                out,
                "{key}: still rolling out after {}",
                humantime::format_duration(args.timeout)
            )?;
        }
        ok &= status.is_success();
    }
    Ok(ok)
}
