//! Logging setup. JSON lines in Lambda (CloudWatch parses them) and wherever logs go to a file
//! or pipe; compact text on a terminal only.
//! Log lines about an order carry its `order_id`; addresses, emails and phone numbers are never
//! logged.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Initializes `tracing` once. `RUST_LOG` sets the filter (default `info`). JSON unless
/// `DROPLINE_LOG_FORMAT=text`.
pub fn init() {
    let text = std::env::var("DROPLINE_LOG_FORMAT").is_ok_and(|v| v == "text");
    // CloudWatch stamps each line itself.
    if text { init_compact() } else { init_json(false) }
}

/// For the dev stack and the CLI: compact text on a terminal, JSON lines anywhere else (a file,
/// a pipe, CI), never colour codes off a terminal.
pub fn init_text() {
    if std::io::stderr().is_terminal() { init_compact() } else { init_json(true) }
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

fn init_json(with_time: bool) {
    let builder = tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).with_ansi(false);
    let json = builder.json().flatten_event(true).with_current_span(false);
    // `try_init` fails only when a subscriber is already set: keep that one.
    let _ = if with_time { json.try_init() } else { json.without_time().try_init() };
}

fn init_compact() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .compact()
        .with_target(false)
        .try_init();
}
