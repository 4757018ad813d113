//! `import`: writes manifests for the live services of a cluster (see [`crate::import`]).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{CliError, GlobalOptions};
use crate::connect;
use crate::import::{self, ImportError, ImportRequest};

/// `import` options.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ECS cluster to import.
    #[arg(long, env = "ECS_OPERATOR_CLUSTER")]
    pub cluster: String,
    /// A service to import (repeatable); default: every service of the cluster.
    #[arg(long = "service", env = "ECS_OPERATOR_SERVICE", value_delimiter = ',')]
    pub services: Vec<String>,
    /// Directory the manifests are written to (`<out>/<cluster>/...`).
    #[arg(long, env = "ECS_OPERATOR_OUT", default_value = "imported")]
    pub out: PathBuf,
    /// Add `ecs-operator/adopt: "true"` so that `apply` takes the resources over.
    #[arg(long, env = "ECS_OPERATOR_ADOPT")]
    pub adopt: bool,
    /// Overwrite files that exist already.
    #[arg(long, env = "ECS_OPERATOR_FORCE")]
    pub force: bool,
}

/// `ecs-operator import`: exit 0 when the files were written, 1 otherwise (the reason on
/// stderr).
pub async fn import(
    global: &GlobalOptions,
    args: &ImportArgs,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    let connected = connect::connect(&global.backend_options()).await?;
    let request = ImportRequest {
        cluster: args.cluster.clone(),
        services: args.services.clone(),
        adopt: args.adopt,
    };
    let result = match import::read(&connected.cloud, &request).await {
        Ok(imported) => {
            import::write(&args.out, &imported, args.force).map(|paths| (imported, paths))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((imported, paths)) => {
            for (file, path) in imported.files.iter().zip(&paths) {
                let keys: Vec<String> =
                    file.manifests.iter().map(|m| m.key().to_string()).collect();
                writeln!(out, "wrote {} ({})", path.display(), keys.join(", "))?;
            }
            for (key, why) in &imported.skipped {
                writeln!(out, "skipped {key}: {why}")?;
            }
            let services = imported
                .files
                .iter()
                .flat_map(|f| &f.manifests)
                .filter(|m| m.as_service().is_some())
                .count();
            writeln!(
                out,
                "imported: {services} services, {} skipped, into {}",
                imported.skipped.len(),
                args.out.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Cloud(e)) => Err(e.into()),
        Err(e) => {
            let mut line = format!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                line.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("{line}");
            Ok(ExitCode::FAILURE)
        }
    }
}
