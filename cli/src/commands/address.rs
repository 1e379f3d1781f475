//! `dropline address check`: an address against the rules, outside the pipeline.

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AddressCommand {
    /// Check one address (JSON: a Shopify-style shipping_address or the canonical form) and
    /// print the verdict. Exit status: 0 when nothing would hold the order, 1 when something
    /// would, 2 when the input can't be read.
    Check {
        /// A file, or - (the default) for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// Print `{"ok": ..., "issues": [{"code", "severity", "field", "message"}], ...}`.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: AddressCommand) -> Result<ExitCode, String> {
    match command {
        AddressCommand::Check { file, json } => {
            let input = if file == "-" {
                let mut s = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut s).map_err(|e| format!("stdin: {e}"))?;
                s
            } else {
                std::fs::read(&file).map_err(|e| format!("{file}: {e}"))?
            };
            let address = dropline_domain::wire::channels::address_json(&input).map_err(|e| format!("{file}: {e}"))?;
            let verdict = dropline_domain::validation::address::check(
                &address,
                dropline_domain::validation::address::AddressRules::bundled(),
            );
            print!("{}", dropline_cli::render::address_verdict(&verdict, json));
            Ok(if verdict.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}
