//! `dropline order`: show an order, fix a held order's address.

use super::*;
use chrono::Utc;
use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, DynamoOrderStore};
use dropline_app::ports::OrderStore;
use dropline_cli::holds;
use dropline_domain::primitives::ids::OrderId;
use std::process::ExitCode;

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum OrderCommand {
    /// Print an order's state and its timeline of transitions.
    Show(ShowArgs),
    /// Correct a held order's shipping address; the fields given replace the stored ones. The
    /// new address is checked now and again when the order is released.
    SetAddress {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        line1: Option<String>,
        #[arg(long)]
        line2: Option<String>,
        #[arg(long)]
        city: Option<String>,
        /// State or province code (CA, ON) or name.
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        postal_code: Option<String>,
        /// ISO 3166-1 alpha-2.
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[command(flatten)]
        op: OperatorArgs,
    },
}

pub async fn run(command: OrderCommand) -> Result<ExitCode, String> {
    match command {
        OrderCommand::Show(ShowArgs { id, json, table }) => {
            let id = OrderId::new(id).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let store = DynamoOrderStore::new(aws.dynamodb().clone(), table);
            match store.get(&id).await.map_err(|e| e.to_string())? {
                None => {
                    eprintln!("no order {id}");
                    Ok(ExitCode::from(1))
                }
                Some(r) if json => {
                    println!("{}", serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?);
                    Ok(ExitCode::SUCCESS)
                }
                Some(r) => {
                    print!("{}", dropline_cli::render::order(&r));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        OrderCommand::SetAddress { id, name, company, line1, line2, city, region, postal_code, country, phone, op } => {
            let id = OrderId::new(id).map_err(|e| e.to_string())?;
            let patch = holds::AddressPatch { name, company, line1, line2, city, region, postal_code, country, phone };
            if patch.is_empty() {
                return Err("give at least one field to change (--line1, --postal-code, ...)".into());
            }
            let aws = AwsClients::from_env().await;
            let store = DynamoOrderStore::new(aws.dynamodb().clone(), op.table);
            let (r, changed) = holds::set_address(&store, &id, &patch, &op.by, Utc::now()).await?;
            println!("{id}: shipping address set ({}); release the order to validate it", changed.join(", "));
            if let Some(a) = &r.order.shipping_address {
                let verdict = dropline_domain::validation::address::check(
                    a,
                    dropline_domain::validation::address::AddressRules::bundled(),
                );
                print!("{}", dropline_cli::render::address_verdict(&verdict, false));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
