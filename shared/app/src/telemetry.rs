//! Logging setup. JSON lines in Lambda (CloudWatch parses them), compact text on a terminal.
//! Log lines about an order carry its `order_id`; addresses, emails and phone numbers are never
//! logged.

use tracing_subscriber::EnvFilter;

/// Initializes `tracing` once. `RUST_LOG` sets the filter (default `info`). JSON unless
/// `DROPLINE_LOG_FORMAT=text`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("DROPLINE_LOG_FORMAT").is_ok_and(|v| v == "text");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `try_init` fails only when a subscriber is already set: keep that one.
    if text {
        let _ = builder.compact().with_target(false).try_init();
    } else {
        let _ = builder.json().flatten_event(true).with_current_span(false).without_time().try_init();
    }
}

/// Compact text logs (for terminals: the dev stack, the CLI).
pub fn init_text() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .compact()
        .with_target(false)
        .try_init();
}
