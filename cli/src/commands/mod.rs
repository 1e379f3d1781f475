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
pub mod upgrade;

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

/// A time given on the command line, in RFC 3339; the error says what is expected (issue 11,
/// defect 9: a date alone gave "premature end of input").
pub fn parse_time(flag: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(value.trim()).map(|t| t.with_timezone(&chrono::Utc)).map_err(|e| {
        format!(
            "{flag} {value:?}: expected an RFC 3339 time with its offset, such as 2026-11-20T15:00:00Z or \
             2026-11-20T10:00:00-05:00 ({e})"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_on_the_command_line_say_what_is_expected() {
        let t = parse_time("--at", "2026-11-20T10:00:00-05:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-20T15:00:00+00:00");
        for bad in ["2026-11-20", "2026-11-20T15:00:00", "tomorrow"] {
            let e = parse_time("--at", bad).unwrap_err();
            assert!(e.starts_with(&format!("--at {bad:?}: expected an RFC 3339 time")), "{e}");
            assert!(e.contains("2026-11-20T15:00:00Z"), "{e}");
        }
    }
}
