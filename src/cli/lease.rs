//! `ecs-operator lease create-table TABLE`: the leader election's lease table, for those who
//! do not make it in Terraform or CloudFormation (on-demand capacity, partition key `name`
//! (S), TTL on `expiresAt`). With `--backend sim` the table is in memory: nothing to make.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;

use super::{CliError, GlobalOptions};
use crate::connect;

/// `lease` subcommands.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// Create the DynamoDB table of the lease (on-demand, key `name`, TTL on `expiresAt`);
    /// a table that exists already is left as it is (TTL turned on).
    CreateTable {
        /// The table name (what `run --lease-table` names).
        table: String,
    },
}

/// Runs a `lease` subcommand.
pub async fn lease(
    global: &GlobalOptions,
    command: &LeaseCommand,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    match command {
        LeaseCommand::CreateTable { table } => {
            let connected = connect::connect(&global.backend_options()).await?;
            let line = connected.lease_store(table).create_table().await?;
            writeln!(out, "{line}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
