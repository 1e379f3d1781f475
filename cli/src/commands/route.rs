//! `dropline route preview`: the routing engine on an order, with no side effects.

use super::*;
use chrono::Utc;
use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, DynamoCatalog, routing_config_store};
use dropline_app::ports::OutcomeLedger;
use dropline_cli::preview_inputs::Inputs;
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
        /// A supplier the order may not use, as after an earlier failure: SUPPLIER or
        /// SUPPLIER:CODE (rejected_earlier, ack_deadline_missed, stockout_after_acceptance).
        /// Repeatable; added to a stored record's own exclusions.
        #[arg(long, value_name = "SUPPLIER[:CODE]")]
        exclude: Vec<String>,
        /// Units other orders hold: a JSON list of reservations (holder, sku, supplier_id,
        /// quantity, at), counted against stock as route counts them.
        #[arg(long, value_name = "FILE")]
        reservations: Option<std::path::PathBuf>,
        /// Measured supplier outcomes instead of the table's: {"SUPPLIER": {"answered": N,
        /// "accepted": N, "shipped": N, "shipped_on_time": N, "cancelled_after_acceptance": N,
        /// "tracking_hours_total": N}}.
        #[arg(long, value_name = "FILE")]
        outcomes: Option<std::path::PathBuf>,
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: Option<String>,
        /// Where the stored configuration is: dynamodb (the catalog table's item) or ssm:NAME.
        #[arg(long, env = "DROPLINE_ROUTING_CONFIG", default_value = "dynamodb")]
        source: String,
    },
}

pub async fn run(command: RouteCommand) -> Result<ExitCode, String> {
    match command {
        RouteCommand::Preview {
            file,
            json,
            catalog,
            config,
            at,
            level,
            exclude,
            reservations,
            outcomes,
            table,
            source,
        } => {
            let (name, text) = read_file(&file)?;
            let subject = dropline_cli::preview::read_subject(&name, &text)?;
            let order = subject.order;
            let at = match at {
                Some(t) => parse_time("--at", &t)?,
                None => Utc::now(),
            };
            // A stored record previews as its reroute would run: its lines, exclusions, overrides.
            let mut inputs = subject.record.as_ref().map(Inputs::of_record).unwrap_or_default();
            if let Some(l) = level {
                inputs.level = Some(
                    dropline_domain::order::ServiceLevel::parse(&l)
                        .ok_or_else(|| format!("--level {l:?}: standard, expedited or overnight"))?,
                );
            }
            for e in &exclude {
                inputs.exclude(e, at)?;
            }
            if let Some(path) = &reservations {
                let (name, text) = read_file(path)?;
                inputs.read_reservations(&name, &text)?;
            }
            if let Some(path) = &outcomes {
                let (name, text) = read_file(path)?;
                inputs.read_outcomes(&name, &text)?;
            }
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
            // What the pipeline measured, as route scores it: the file's, else the table's.
            if let (None, Some(table), Some(aws)) = (&outcomes, &table, &aws) {
                let ids: Vec<_> = config.suppliers.iter().map(|s| s.id.clone()).collect();
                inputs.measured = DynamoCatalog::new(aws.dynamodb().clone(), table)
                    .measured(&ids)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let p = dropline_cli::preview::preview(&order, &view, &config, &policy, at, inputs);
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
