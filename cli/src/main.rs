//! `dropline`: operate the pipeline from a terminal, against AWS or the local emulators
//! (endpoints, region and credentials from the standard AWS environment variables), run the
//! demo, and run the dev stack.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dropline", version, about = "Operate the Dropline order pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay the bundled sample of store orders through the whole pipeline, in process.
    Demo,
    /// Run the pipeline on the emulators (what `make dev` runs).
    Dev(commands::dev::DevArgs),
    /// Inspect orders.
    Order {
        #[command(subcommand)]
        command: commands::order::OrderCommand,
    },
    /// Work held orders: list, show, override a reason, release into validation.
    Holds {
        #[command(subcommand)]
        command: commands::holds::HoldsCommand,
    },
    /// Inspect and redrive dead-letter queues.
    Dlq {
        #[command(subcommand)]
        command: commands::dlq::DlqCommand,
    },
    /// Check addresses against the rules, outside the pipeline.
    Address {
        #[command(subcommand)]
        command: commands::address::AddressCommand,
    },
    /// Load supplier stock and cost feeds into the catalog.
    Feed {
        #[command(subcommand)]
        command: commands::feed::FeedCommand,
    },
    /// Manage the catalog of suppliers and offers.
    Catalog {
        #[command(subcommand)]
        command: commands::catalog::CatalogCommand,
    },
    /// Preview routing decisions.
    Route {
        #[command(subcommand)]
        command: commands::route::RouteCommand,
    },
    /// Check and publish the routing configuration.
    Routing {
        #[command(subcommand)]
        command: commands::routing::RoutingCommand,
    },
    /// Rewrite stored items for a new release (see infra/README.md, "Upgrading").
    Upgrade {
        #[command(subcommand)]
        command: commands::upgrade::UpgradeCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dropline: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Demo => commands::dev::demo().await,
        Command::Dev(args) => commands::dev::dev(args).await,
        Command::Order { command } => commands::order::run(command).await,
        Command::Holds { command } => commands::holds::run(command).await,
        Command::Dlq { command } => commands::dlq::run(command).await,
        Command::Address { command } => commands::address::run(command).await,
        Command::Feed { command } => commands::feed::run(command).await,
        Command::Catalog { command } => commands::catalog::run(command).await,
        Command::Route { command } => commands::route::run(command).await,
        Command::Routing { command } => commands::routing::run(command).await,
        Command::Upgrade { command } => commands::upgrade::run(command).await,
    }
}
