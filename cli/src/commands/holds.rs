//! `dropline holds`: list, show, override and release held orders.

use super::*;
use chrono::Utc;
use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, DynamoCatalog, DynamoOrderStore, QueueUrls, SqsWorkQueue};
use dropline_app::ports::OrderStore;
use dropline_cli::holds;
use dropline_domain::findings::HoldCategory;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::wire::messages::Step;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum HoldsCommand {
    /// Held orders, oldest first.
    List {
        /// Only orders held for a reason of this category (address, payment, contact, duplicate,
        /// mapping, stock, pricing, routing, supplier, order).
        #[arg(long)]
        category: Option<String>,
        /// Only orders held at least this long (30m, 4h, 2d).
        #[arg(long)]
        older_than: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
        #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
        table: String,
    },
    /// One held order: every reason with its field and suggested resolution, and its timeline.
    Show(ShowArgs),
    /// Accept one hold reason for this order, with a note saying why; it stays held until released.
    Override {
        id: String,
        /// The hold's code (as `holds show` prints it).
        code: String,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        op: OperatorArgs,
    },
    /// Send a held order back into validation (which applies overrides and fixed data).
    Release {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, env = "DROPLINE_VALIDATE_QUEUE_URL")]
        queue_url: String,
        /// Where stock reservations live (the purchase orders a release cancels give theirs back).
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        catalog_table: String,
        #[command(flatten)]
        op: OperatorArgs,
    },
}

pub async fn run(command: HoldsCommand) -> Result<ExitCode, String> {
    let aws = AwsClients::from_env().await;
    let store = |table: String| DynamoOrderStore::new(aws.dynamodb().clone(), table);
    let order_id = |id: String| OrderId::new(id).map_err(|e| e.to_string());
    match command {
        HoldsCommand::List { category, older_than, limit, json, table } => {
            let category = match category {
                None => None,
                Some(c) => Some(
                    serde_json::from_value::<HoldCategory>(serde_json::Value::String(c.to_ascii_lowercase()))
                        .map_err(|_| format!("--category {c:?}: not a hold category"))?,
                ),
            };
            let older_than = older_than
                .map(|a| {
                    dropline_domain::primitives::duration::parse_duration(&a).map_err(|e| format!("--older-than {e}"))
                })
                .transpose()?;
            let filter = holds::HoldFilter { category, older_than, limit };
            let now = Utc::now();
            let held = holds::list(&store(table), &filter, now).await?;
            if json {
                let rows: Vec<serde_json::Value> = held
                    .iter()
                    .map(|r| {
                        serde_json::json!({"order_id": r.id, "name": r.order.name, "held_since": r.status_since, "holds": r.holds})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
            } else {
                print!("{}", holds::render_list(&held, now));
            }
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Show(ShowArgs { id, json, table }) => {
            let id = order_id(id)?;
            let Some(r) = store(table).get(&id).await.map_err(|e| e.to_string())? else {
                eprintln!("no order {id}");
                return Ok(ExitCode::from(1));
            };
            if json {
                let v = serde_json::json!({"order_id": r.id, "status": r.status, "holds": r.holds, "warnings": r.warnings, "overrides": r.overrides});
                println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
            } else {
                print!("{}", dropline_cli::render::order(&r));
            }
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Override { id, code, note, op } => {
            let id = order_id(id)?;
            holds::override_hold(&store(op.table), &id, &code, &note, &op.by, Utc::now()).await?;
            println!("{id}: {code} overridden; release the order to validate it again");
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Release { id, note, queue_url, catalog_table, op } => {
            let id = order_id(id)?;
            let queue = SqsWorkQueue::new(aws.sqs().clone(), QueueUrls::default().with(Step::Validate, queue_url));
            let stock = DynamoCatalog::new(aws.dynamodb().clone(), catalog_table);
            let r = holds::release(&store(op.table), &queue, &stock, &id, &note, &op.by, Utc::now()).await?;
            println!("{id}: {} and queued for validation", r.status);
            Ok(ExitCode::SUCCESS)
        }
    }
}
