//! One module per command group, each with its clap definitions and what it runs.

pub mod address;
pub mod catalog;
pub mod dev;
pub mod dlq;
pub mod feed;
pub mod holds;
pub mod order;
pub mod route;
pub mod routing;

/// One order to print.
#[derive(clap::Args)]
pub struct ShowArgs {
    /// The order id (o_...).
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
    pub table: String,
}

#[derive(clap::Args)]
pub struct OperatorArgs {
    /// Who makes the change (recorded on the order's timeline as operator:NAME).
    #[arg(long, env = "DROPLINE_OPERATOR", default_value = "operator")]
    pub by: String,
    #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
    pub table: String,
}

/// A file's display name and text, or an error naming the file.
pub fn read_file(path: &std::path::Path) -> Result<(String, String), String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    Ok((name, text))
}
