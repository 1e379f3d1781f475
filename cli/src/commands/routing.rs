//! `dropline routing`: check, publish and show the routing configuration.

use super::*;
use clap::Subcommand;
use dropline_adapters::aws::{AwsClients, routing_config_store};
use dropline_domain::routing::config::RoutingConfig;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RoutingCommand {
    /// Check a routing configuration file whole; exit 0 when good, 1 with the file, field and
    /// problem when not.
    Check { file: std::path::PathBuf },
    /// Check, then store a configuration; refused unless its version is above the stored one.
    /// Route functions pick it up within DROPLINE_ROUTING_CONFIG_TTL.
    Publish {
        file: std::path::PathBuf,
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: String,
        #[arg(long, env = "DROPLINE_ROUTING_CONFIG", default_value = "dynamodb")]
        source: String,
    },
    /// Print the stored configuration's version and source.
    Show {
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: String,
        #[arg(long, env = "DROPLINE_ROUTING_CONFIG", default_value = "dynamodb")]
        source: String,
    },
}

pub async fn run(command: RoutingCommand) -> Result<ExitCode, String> {
    match command {
        RoutingCommand::Check { file } => {
            let (name, text) = read_file(&file)?;
            match RoutingConfig::parse(&name, &text) {
                Ok(c) => {
                    println!(
                        "{name}: version {}, {} zone(s) of countries, {} supplier(s), {} rule(s): good",
                        c.version,
                        c.zone_of.values().collect::<std::collections::BTreeSet<_>>().len(),
                        c.suppliers.len(),
                        c.rules.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        RoutingCommand::Publish { file, table, source } => {
            let (name, text) = read_file(&file)?;
            let config = RoutingConfig::parse(&name, &text).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let store = routing_config_store(&source, &aws, &table)?;
            store.publish(config.version, &text).await.map_err(|e| e.to_string())?;
            println!("published {name} as version {} to {source}", config.version);
            Ok(ExitCode::SUCCESS)
        }
        RoutingCommand::Show { table, source } => {
            let aws = AwsClients::from_env().await;
            let store = routing_config_store(&source, &aws, &table)?;
            match store.fetch().await.map_err(|e| e.to_string())? {
                None => {
                    println!("no routing configuration stored at {source}");
                    Ok(ExitCode::from(1))
                }
                Some(c) => match RoutingConfig::parse(&c.source, &c.text) {
                    Ok(cfg) => {
                        println!(
                            "{}: version {}, {} supplier(s), {} rule(s)",
                            c.source,
                            cfg.version,
                            cfg.suppliers.len(),
                            cfg.rules.len()
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => {
                        println!("stored configuration does not pass its check: {e}");
                        Ok(ExitCode::from(1))
                    }
                },
            }
        }
    }
}
