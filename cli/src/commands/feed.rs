//! `dropline feed import`: supplier stock and cost feeds into the catalog.

use super::*;
use chrono::Utc;
use clap::{Subcommand, ValueEnum};
use dropline_adapters::aws::{AwsClients, DynamoCatalog};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum FeedFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
pub enum FeedCommand {
    /// Apply one supplier's stock/cost feed to its offers. Rows are matched on supplier SKU,
    /// store SKU or barcode as the mapping says; every rejected row is listed with its line and
    /// reason. Exit status: 0 all rows applied, 1 some rejected (the others are applied), 2 the
    /// feed or mapping can't be read.
    Import {
        /// The feed file (CSV with a header row, or JSON).
        file: std::path::PathBuf,
        /// The supplier whose feed it is.
        #[arg(long)]
        supplier: String,
        /// The column mapping (JSON): {"match_on": "supplier_sku", "columns": {"supplier_sku": "Item", "stock": "Qty", "cost": "Price"}}.
        #[arg(long)]
        mapping: std::path::PathBuf,
        /// Default: from the file's extension.
        #[arg(long)]
        format: Option<FeedFormat>,
        /// When the supplier counted the stock, for rows without their own time (RFC 3339;
        /// default: now).
        #[arg(long)]
        as_of: Option<String>,
        /// Report what would change without writing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: String,
    },
}

pub async fn run(command: FeedCommand) -> Result<ExitCode, String> {
    match command {
        FeedCommand::Import { file, supplier, mapping, format, as_of, dry_run, table } => {
            use dropline_cli::feed;
            let (mapping_name, mapping_text) = read_file(&mapping)?;
            let mapping = feed::FeedMapping::parse(&mapping_name, &mapping_text).map_err(|e| e.to_string())?;
            let (name, text) = read_file(&file)?;
            let format = format.unwrap_or(if name.to_ascii_lowercase().ends_with(".json") {
                FeedFormat::Json
            } else {
                FeedFormat::Csv
            });
            let rows = match format {
                FeedFormat::Csv => feed::read_csv(&text, &mapping),
                FeedFormat::Json => feed::read_json(&text, &mapping),
            }
            .map_err(|e| format!("{name}: {e}"))?;
            let as_of = match as_of {
                Some(t) => parse_time("--as-of", &t)?,
                None => Utc::now(),
            };
            let supplier = dropline_domain::primitives::ids::SupplierId::new(supplier).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let catalog = DynamoCatalog::new(aws.dynamodb().clone(), table);
            let mut doc = catalog.document().await.map_err(|e| e.to_string())?;
            if !doc.suppliers.iter().any(|s| s.id == supplier) {
                return Err(format!("no supplier {supplier} in the catalog"));
            }
            let before = doc.offers.clone();
            let report = feed::apply(&mapping, &supplier, &mut doc.offers, &rows, as_of);
            // Write only this supplier's changed offers, each onto its SKU's item as stored now
            // (a conditional write), so a concurrent settle or another supplier's feed is kept.
            let changed: Vec<&dropline_domain::catalog::Offer> =
                doc.offers.iter().zip(&before).filter(|(a, b)| a != b).map(|(a, _)| a).collect();
            if !dry_run {
                for new in changed {
                    let patch = |offers: &mut Vec<dropline_domain::catalog::Offer>| {
                        if let Some(o) = offers.iter_mut().find(|o| o.supplier_id == new.supplier_id) {
                            (o.stock, o.stock_as_of, o.cost, o.active) =
                                (new.stock, new.stock_as_of, new.cost, new.active);
                        }
                    };
                    catalog.patch_offers(&new.sku, &patch).await.map_err(|e| e.to_string())?;
                }
            }
            println!(
                "{name}: {} row(s): {} updated, {} unchanged, {} rejected{}",
                report.rows,
                report.updated,
                report.unchanged,
                report.rejected.len(),
                if dry_run { " (dry run: nothing written)" } else { "" }
            );
            for (line, reason) in &report.rejected {
                println!("  line {line}: {reason}");
            }
            Ok(if report.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}
