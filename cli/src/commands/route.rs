//! `dropline route preview`: the routing engine on an order, with no side effects.

use super::*;
use chrono::Utc;
use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, DynamoCatalog, routing_config_store};
use dropline_app::ports::OutcomeLedger;
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::routing::config::RoutingConfig;
use dropline_domain::validation::ValidationPolicy;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RouteCommand {
    /// Run the routing engine on an order (canonical JSON, or a raw Shopify or WooCommerce
    /// payload) with no side effects: every candidate, its figures or the constraint that ruled
    /// it out, the ranked plans and the promise.
    Preview {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
        /// A catalog document to route against instead of the catalog table.
        #[arg(long)]
        catalog: Option<std::path::PathBuf>,
        /// A routing configuration file instead of the stored one.
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        /// Route as of this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        /// The service level instead of the one the shipping method maps to.
        #[arg(long)]
        level: Option<String>,
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: Option<String>,
        /// Where the stored configuration is: dynamodb (the catalog table's item) or ssm:NAME.
        #[arg(long, env = "DROPLINE_ROUTING_CONFIG", default_value = "dynamodb")]
        source: String,
    },
}

pub async fn run(command: RouteCommand) -> Result<ExitCode, String> {
    match command {
        RouteCommand::Preview { file, json, catalog, config, at, level, table, source } => {
            let (name, text) = read_file(&file)?;
            let order = dropline_cli::preview::read_order(&name, &text)?;
            let at = match at {
                Some(t) => parse_time("--at", &t)?,
                None => Utc::now(),
            };
            let level = match level {
                Some(l) => Some(
                    dropline_domain::order::ServiceLevel::parse(&l)
                        .ok_or_else(|| format!("--level {l:?}: standard, expedited or overnight"))?,
                ),
                None => None,
            };
            let skus: Vec<dropline_domain::primitives::ids::Sku> =
                order.lines.iter().filter_map(|l| l.sku.clone()).collect();
            // Built once, and only when the catalog, the configuration or the measured supplier
            // outcomes come from AWS.
            let aws = match &table {
                Some(_) => Some(AwsClients::from_env().await),
                None => None,
            };
            let view = match (&catalog, &table) {
                (Some(path), _) => {
                    let (name, text) = read_file(path)?;
                    let doc = CatalogDocument::parse(&name, &text).map_err(|e| e.to_string())?;
                    dropline_domain::catalog::CatalogView::of_document(&doc)
                }
                (None, Some(table)) => {
                    use dropline_app::ports::Catalog;
                    let aws = aws.as_ref().ok_or("no AWS clients")?;
                    DynamoCatalog::new(aws.dynamodb().clone(), table).view(&skus).await.map_err(|e| e.to_string())?
                }
                (None, None) => return Err("give --catalog FILE or --table (or set DROPLINE_CATALOG_TABLE)".into()),
            };
            let config = match (&config, &table) {
                (Some(path), _) => {
                    let (name, text) = read_file(path)?;
                    RoutingConfig::parse(&name, &text).map_err(|e| e.to_string())?
                }
                (None, Some(table)) => {
                    let aws = aws.as_ref().ok_or("no AWS clients")?;
                    let store = routing_config_store(&source, aws, table)?;
                    let stored =
                        store.fetch().await.map_err(|e| e.to_string())?.ok_or("no routing configuration stored")?;
                    RoutingConfig::parse(&stored.source, &stored.text).map_err(|e| e.to_string())?
                }
                (None, None) => return Err("give --config FILE or --table (or set DROPLINE_CATALOG_TABLE)".into()),
            };
            let policy = ValidationPolicy::from_lookup(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
            // What the pipeline measured, as route scores it; none without a table.
            let measured = match (&table, &aws) {
                (Some(table), Some(aws)) => {
                    let ids: Vec<_> = config.suppliers.iter().map(|s| s.id.clone()).collect();
                    DynamoCatalog::new(aws.dynamodb().clone(), table).measured(&ids).await.map_err(|e| e.to_string())?
                }
                _ => Default::default(),
            };
            let p = dropline_cli::preview::preview(&order, &view, &config, &policy, at, level, &measured);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&dropline_cli::preview::to_json(&p)).map_err(|e| e.to_string())?
                );
            } else {
                print!("{}", dropline_cli::preview::render(&p));
            }
            Ok(if p.held() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
