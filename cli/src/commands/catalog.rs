//! `dropline catalog`: verify the catalog's mappings, load a catalog document.

use super::*;
use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, DynamoCatalog};
use dropline_domain::catalog::CatalogDocument;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Before go-live: every unmapped store SKU, ambiguous mapping, discontinued target and
    /// variant attribute mismatch. Exit status 0 when clean, 1 when something was found, 2 when
    /// an input can't be read.
    Verify {
        /// The store's variants: a CSV (`sku`, `title`, `variant_title`, `option:NAME` columns),
        /// Shopify's product export CSV, or JSON (`[{sku, title, options: {NAME: VALUE}}]`).
        /// Without it only the catalog's own problems are checked.
        #[arg(long)]
        store_variants: Option<std::path::PathBuf>,
        /// Check this catalog document instead of the catalog table.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: Option<String>,
    },
    /// Load a catalog document (suppliers and offers, JSON) into the catalog table.
    Load {
        file: std::path::PathBuf,
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: String,
    },
}

pub async fn run(command: CatalogCommand) -> Result<ExitCode, String> {
    match command {
        CatalogCommand::Verify { store_variants, file, json, table } => {
            let doc = match (file, table) {
                (Some(file), _) => {
                    let (name, text) = read_file(&file)?;
                    CatalogDocument::parse(&name, &text).map_err(|e| e.to_string())?
                }
                (None, Some(table)) => {
                    let aws = AwsClients::from_env().await;
                    DynamoCatalog::new(aws.dynamodb().clone(), table).document().await.map_err(|e| e.to_string())?
                }
                (None, None) => return Err("give --file or --table (or set DROPLINE_CATALOG_TABLE)".into()),
            };
            let store = match store_variants {
                None => None,
                Some(path) => {
                    let (name, text) = read_file(&path)?;
                    Some(dropline_cli::verify::read_store_variants(&name, &text)?)
                }
            };
            let findings = dropline_cli::verify::verify(&doc, store.as_deref());
            if json {
                let v = serde_json::json!({"ok": findings.is_empty(), "findings": findings});
                println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
            } else {
                println!(
                    "{} supplier(s), {} offer(s){}: {} problem(s)",
                    doc.suppliers.len(),
                    doc.offers.len(),
                    store.as_ref().map(|s| format!(", {} store variant(s)", s.len())).unwrap_or_default(),
                    findings.len()
                );
                for f in &findings {
                    println!("  {:<18} {:<16} {}", f.kind, f.sku, f.message);
                }
            }
            Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        CatalogCommand::Load { file, table } => {
            let (name, text) = read_file(&file)?;
            let doc = CatalogDocument::parse(&name, &text).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let n = DynamoCatalog::new(aws.dynamodb().clone(), table).load(&doc).await.map_err(|e| e.to_string())?;
            println!("loaded {} supplier(s), {} offer(s) ({n} items)", doc.suppliers.len(), doc.offers.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
