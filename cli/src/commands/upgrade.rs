//! `dropline upgrade`: rewrites a deployed stack's stored items for a new release.

use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, DynamoOrderStore};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UpgradeCommand {
    /// Give orders stored before the `by-status` index was sharded (issue 13) their
    /// `status_shard`, so that escalate and `holds list` see them again. Safe beside a running
    /// pipeline and to run again; scans the orders table (an operator command, once per upgrade).
    StatusIndex {
        /// Only count the orders that need it.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
        table: String,
    },
}

pub async fn run(command: UpgradeCommand) -> Result<ExitCode, String> {
    match command {
        UpgradeCommand::StatusIndex { dry_run, table } => {
            let aws = AwsClients::from_env().await;
            let store = DynamoOrderStore::new(aws.dynamodb().clone(), &table);
            let b = store.backfill_status_shards(dry_run).await.map_err(|e| e.to_string())?;
            if dry_run {
                println!("{} order(s) in {table} have no status_shard (dry run: nothing written)", b.found);
            } else {
                println!(
                    "{} order(s) in {table} had no status_shard: {} given one, {} written by the pipeline meanwhile",
                    b.found, b.written, b.changed_meanwhile
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
