//! `dropline demo` and `dropline dev`: the pipeline in one process, on memory adapters or on the emulators.

use std::process::ExitCode;

/// What `dropline dev` runs on (what `make dev` passes).
#[derive(clap::Args)]
pub struct DevArgs {
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: std::net::SocketAddr,
    #[arg(long, default_value = "127.0.0.1:3001")]
    suppliers_listen: std::net::SocketAddr,
    #[arg(long, default_value = "127.0.0.1:3002")]
    carrier_listen: std::net::SocketAddr,
    /// Use this carrier tracking API instead of the simulated carrier.
    #[arg(long, env = "DROPLINE_CARRIER_API_URL")]
    carrier_url: Option<String>,
    /// A catalog document to load instead of the demo's (suppliers with `sim://` endpoints
    /// are served by the simulated supplier; others are called for real).
    #[arg(long)]
    catalog: Option<std::path::PathBuf>,
    /// Name prefix of the tables, queues and bus.
    #[arg(long, default_value = "dev")]
    prefix: String,
    /// Seconds between tracking runs.
    #[arg(long, default_value_t = 60)]
    poll_every: u64,
    /// Seconds between escalation runs.
    #[arg(long, default_value_t = 60)]
    escalate_every: u64,
    #[arg(long, env = "DROPLINE_ESCALATION_THRESHOLDS")]
    thresholds: Option<String>,
}

/// Replays the bundled sample of store orders through the whole pipeline, in process.
pub async fn demo() -> Result<ExitCode, String> {
    let report = dropline_local::demo::run().await?;
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// Runs the pipeline on the emulators until stopped.
pub async fn dev(args: DevArgs) -> Result<ExitCode, String> {
    dropline_app::telemetry::init_text();
    let thresholds = match args.thresholds {
        Some(t) => dropline_domain::escalation::Thresholds::parse(&t).map_err(|e| e.to_string())?,
        None => dropline_domain::escalation::Thresholds::default(),
    };
    dropline_local::dev::run(dropline_local::dev::DevOptions {
        listen: args.listen,
        suppliers_listen: args.suppliers_listen,
        carrier_listen: args.carrier_listen,
        carrier_url: args.carrier_url,
        catalog: args.catalog,
        prefix: args.prefix,
        poll_every: std::time::Duration::from_secs(args.poll_every.max(1)),
        escalate_every: std::time::Duration::from_secs(args.escalate_every.max(1)),
        thresholds,
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
