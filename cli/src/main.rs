//! `dropline`: operate the pipeline from a terminal, against AWS or the local emulators
//! (endpoints and region from the standard AWS environment variables), and run the demo.

use clap::{Parser, Subcommand};
use dropline_shared::ids::OrderId;
use dropline_shared::ports::OrderStore;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dropline",
    version,
    about = "Operate the Dropline order pipeline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay the bundled sample of store orders through the whole pipeline, in process.
    Demo,
    /// Inspect orders.
    Order {
        #[command(subcommand)]
        command: OrderCommand,
    },
}

#[derive(Subcommand)]
enum OrderCommand {
    /// Print an order's state and its timeline of transitions.
    Show {
        /// The order id (o_...).
        id: String,
        /// Print the stored record as JSON.
        #[arg(long)]
        json: bool,
        /// The orders table.
        #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
        table: String,
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
        Command::Demo => {
            let report = dropline_cli::demo::run().await?;
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Order {
            command: OrderCommand::Show { id, json, table },
        } => {
            let id = OrderId::new(id).map_err(|e| e.to_string())?;
            let aws = dropline_shared::adapters::aws::AwsClients::from_env().await;
            let store =
                dropline_shared::adapters::aws::DynamoOrderStore::new(aws.dynamodb.clone(), table);
            match store.get(&id).await.map_err(|e| e.to_string())? {
                None => {
                    eprintln!("no order {id}");
                    Ok(ExitCode::from(1))
                }
                Some(r) if json => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(r) => {
                    print!("{}", dropline_cli::render::order(&r));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}
