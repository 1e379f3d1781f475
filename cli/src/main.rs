//! `dropline`: operate the pipeline from a terminal, against AWS or the local emulators
//! (endpoints, region and credentials from the standard AWS environment variables), run the
//! demo, and run the dev stack.

use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoOrderStore, QueueUrls, SqsWorkQueue, routing_config_store,
};
use dropline_app::ports::{OrderStore, OutcomeLedger, QueueConsumer};
use dropline_cli::holds;
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::findings::HoldCategory;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::routing::config::RoutingConfig;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dropline", version, about = "Operate the Dropline order pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay the bundled sample of store orders through the whole pipeline, in process.
    Demo,
    /// Run the pipeline on the emulators (what `make dev` runs).
    Dev {
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
    },
    /// Inspect orders.
    Order {
        #[command(subcommand)]
        command: OrderCommand,
    },
    /// Work held orders: list, show, override a reason, release into validation.
    Holds {
        #[command(subcommand)]
        command: HoldsCommand,
    },
    /// Inspect and redrive dead-letter queues.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Check addresses against the rules, outside the pipeline.
    Address {
        #[command(subcommand)]
        command: AddressCommand,
    },
    /// Load supplier stock and cost feeds into the catalog.
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// Manage the catalog of suppliers and offers.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Preview routing decisions.
    Route {
        #[command(subcommand)]
        command: RouteCommand,
    },
    /// Check and publish the routing configuration.
    Routing {
        #[command(subcommand)]
        command: RoutingCommand,
    },
}

#[derive(Subcommand)]
enum RouteCommand {
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
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        table: Option<String>,
        /// Where the stored configuration is: dynamodb (the catalog table's item) or ssm:NAME.
        #[arg(long, env = "DROPLINE_ROUTING_CONFIG", default_value = "dynamodb")]
        source: String,
    },
}

#[derive(Subcommand)]
enum RoutingCommand {
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

/// One order to print.
#[derive(clap::Args)]
struct ShowArgs {
    /// The order id (o_...).
    id: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
    table: String,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum OrderCommand {
    /// Print an order's state and its timeline of transitions.
    Show(ShowArgs),
    /// Correct a held order's shipping address; the fields given replace the stored ones. The
    /// new address is checked now and again when the order is released.
    SetAddress {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        line1: Option<String>,
        #[arg(long)]
        line2: Option<String>,
        #[arg(long)]
        city: Option<String>,
        /// State or province code (CA, ON) or name.
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        postal_code: Option<String>,
        /// ISO 3166-1 alpha-2.
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[command(flatten)]
        op: OperatorArgs,
    },
}

#[derive(clap::Args)]
struct OperatorArgs {
    /// Who makes the change (recorded on the order's timeline as operator:NAME).
    #[arg(long, env = "DROPLINE_OPERATOR", default_value = "operator")]
    by: String,
    #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
    table: String,
}

#[derive(Subcommand)]
enum HoldsCommand {
    /// Held orders, oldest first.
    List {
        /// Only orders held for a reason of this category (address, payment, contact, duplicate,
        /// mapping, stock, pricing, routing, supplier, order).
        #[arg(long)]
        category: Option<String>,
        /// Only orders held at least this long (30m, 4h, 2d).
        #[arg(long)]
        older_than: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
        #[arg(long, env = "DROPLINE_ORDERS_TABLE")]
        table: String,
    },
    /// One held order: every reason with its field and suggested resolution, and its timeline.
    Show(ShowArgs),
    /// Accept one hold reason for this order, with a note saying why; it stays held until released.
    Override {
        id: String,
        /// The hold's code (as `holds show` prints it).
        code: String,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        op: OperatorArgs,
    },
    /// Send a held order back into validation (which applies overrides and fixed data).
    Release {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, env = "DROPLINE_VALIDATE_QUEUE_URL")]
        queue_url: String,
        /// Where stock reservations live (the purchase orders a release cancels give theirs back).
        #[arg(long, env = "DROPLINE_CATALOG_TABLE")]
        catalog_table: String,
        #[command(flatten)]
        op: OperatorArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StepArg {
    Validate,
    Route,
    #[value(alias = "notify")]
    NotifySupplier,
}

impl From<StepArg> for Step {
    fn from(s: StepArg) -> Step {
        match s {
            StepArg::Validate => Step::Validate,
            StepArg::Route => Step::Route,
            StepArg::NotifySupplier => Step::NotifySupplier,
        }
    }
}

#[derive(clap::Args)]
struct QueueArgs {
    /// The step whose dead-letter queue to use.
    step: StepArg,
    /// The step's queue URL (its DLQ is found from the queue's redrive policy). Defaults to
    /// DROPLINE_VALIDATE_QUEUE_URL, DROPLINE_ROUTE_QUEUE_URL or DROPLINE_NOTIFY_QUEUE_URL.
    #[arg(long)]
    queue_url: Option<String>,
}

impl QueueArgs {
    /// The step and a queue client for it.
    fn open(&self, aws: &AwsClients) -> Result<(Step, SqsWorkQueue), String> {
        let step: Step = self.step.into();
        Ok((step, SqsWorkQueue::new(aws.sqs().clone(), QueueUrls::default().with(step, self.url()?))))
    }

    fn url(&self) -> Result<String, String> {
        let var = match self.step {
            StepArg::Validate => "DROPLINE_VALIDATE_QUEUE_URL",
            StepArg::Route => "DROPLINE_ROUTE_QUEUE_URL",
            StepArg::NotifySupplier => "DROPLINE_NOTIFY_QUEUE_URL",
        };
        self.queue_url
            .clone()
            .or_else(|| std::env::var(var).ok())
            .ok_or_else(|| format!("give --queue-url or set {var}"))
    }
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List the messages waiting in a step's dead-letter queue, with why they can't be processed.
    List {
        #[command(flatten)]
        queue: QueueArgs,
        #[arg(long, default_value_t = 50)]
        max: usize,
    },
    /// Move messages from a step's dead-letter queue back to its queue.
    Redrive {
        #[command(flatten)]
        queue: QueueArgs,
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
}

#[derive(Subcommand)]
enum AddressCommand {
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

#[derive(Clone, Copy, ValueEnum)]
enum FeedFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum FeedCommand {
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

#[derive(Subcommand)]
enum CatalogCommand {
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

/// A file's display name and text, or an error naming the file.
fn read_file(path: &std::path::Path) -> Result<(String, String), String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    Ok((name, text))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dropline: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Demo => {
            let report = dropline_local::demo::run().await?;
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Dev {
            listen,
            suppliers_listen,
            carrier_listen,
            carrier_url,
            catalog,
            prefix,
            poll_every,
            escalate_every,
            thresholds,
        } => {
            dropline_app::telemetry::init_text();
            let thresholds = match thresholds {
                Some(t) => dropline_domain::escalation::Thresholds::parse(&t)?,
                None => dropline_domain::escalation::Thresholds::default(),
            };
            dropline_local::dev::run(dropline_local::dev::DevOptions {
                listen,
                suppliers_listen,
                carrier_listen,
                carrier_url,
                catalog,
                prefix,
                poll_every: std::time::Duration::from_secs(poll_every.max(1)),
                escalate_every: std::time::Duration::from_secs(escalate_every.max(1)),
                thresholds,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Order { command: OrderCommand::Show(ShowArgs { id, json, table }) } => {
            let id = OrderId::new(id).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let store = DynamoOrderStore::new(aws.dynamodb().clone(), table);
            match store.get(&id).await.map_err(|e| e.to_string())? {
                None => {
                    eprintln!("no order {id}");
                    Ok(ExitCode::from(1))
                }
                Some(r) if json => {
                    println!("{}", serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?);
                    Ok(ExitCode::SUCCESS)
                }
                Some(r) => {
                    print!("{}", dropline_cli::render::order(&r));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Order {
            command:
                OrderCommand::SetAddress { id, name, company, line1, line2, city, region, postal_code, country, phone, op },
        } => {
            let id = OrderId::new(id).map_err(|e| e.to_string())?;
            let patch = holds::AddressPatch { name, company, line1, line2, city, region, postal_code, country, phone };
            if patch.is_empty() {
                return Err("give at least one field to change (--line1, --postal-code, ...)".into());
            }
            let aws = AwsClients::from_env().await;
            let store = DynamoOrderStore::new(aws.dynamodb().clone(), op.table);
            let (r, changed) = holds::set_address(&store, &id, &patch, &op.by, Utc::now()).await?;
            println!("{id}: shipping address set ({}); release the order to validate it", changed.join(", "));
            if let Some(a) = &r.order.shipping_address {
                let verdict = dropline_domain::validation::address::check(
                    a,
                    dropline_domain::validation::address::AddressRules::bundled(),
                );
                print!("{}", dropline_cli::render::address_verdict(&verdict, false));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Holds { command } => holds_command(command).await,
        Command::Dlq { command } => {
            let aws = AwsClients::from_env().await;
            match command {
                DlqCommand::List { queue, max } => {
                    let (step, q) = queue.open(&aws)?;
                    let dead = q.peek_dead_letters(step, max).await.map_err(|e| e.to_string())?;
                    println!("{} message(s) in the {step} dead-letter queue", dead.len());
                    for m in dead {
                        let verdict = match WorkMessage::parse(&m.body) {
                            Ok(w) => format!(
                                "order {} (failed in processing; see the function's logs for this order id)",
                                w.order_id
                            ),
                            Err(e) => format!("unreadable: {e}"),
                        };
                        println!(
                            "  {}  received {}x, sent {}  {}\n    body: {}",
                            m.message_id,
                            m.receive_count,
                            m.sent_at.to_rfc3339(),
                            verdict,
                            m.body
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                DlqCommand::Redrive { queue, max } => {
                    let (step, q) = queue.open(&aws)?;
                    let moved = q.redrive(step, max).await.map_err(|e| e.to_string())?;
                    println!("moved {moved} message(s) back to the {step} queue");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Address { command: AddressCommand::Check { file, json } } => {
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
        Command::Feed { command: FeedCommand::Import { file, supplier, mapping, format, as_of, dry_run, table } } => {
            use dropline_cli::feed;
            let (mapping_name, mapping_text) = read_file(&mapping)?;
            let mapping = feed::FeedMapping::parse(&mapping_name, &mapping_text)?;
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
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| format!("--as-of {t:?}: {e}"))?
                    .with_timezone(&Utc),
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
        Command::Catalog { command: CatalogCommand::Verify { store_variants, file, json, table } } => {
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
        Command::Route { command: RouteCommand::Preview { file, json, catalog, config, at, level, table, source } } => {
            let (name, text) = read_file(&file)?;
            let order = dropline_cli::preview::read_order(&name, &text)?;
            let at = match at {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| format!("--at {t:?}: {e}"))?
                    .with_timezone(&Utc),
                None => Utc::now(),
            };
            let level = match level {
                Some(l) => Some(
                    dropline_domain::order::ServiceLevel::parse(&l)
                        .ok_or_else(|| format!("--level {l:?}: standard, expedited or overnight"))?,
                ),
                None => None,
            };
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
            let policy = ValidationPolicy::from_lookup(|k| std::env::var(k).ok())?;
            // What the pipeline measured, as route scores it; none without a table.
            let measured = match (&table, &aws) {
                (Some(table), Some(aws)) => {
                    let ids: Vec<_> = config.suppliers.iter().map(|s| s.id.clone()).collect();
                    DynamoCatalog::new(aws.dynamodb().clone(), table).measured(&ids).await.map_err(|e| e.to_string())?
                }
                _ => Default::default(),
            };
            let p = dropline_cli::preview::preview(&order, &view, &config, &policy, at, level, &measured);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&dropline_cli::preview::to_json(&p)).map_err(|e| e.to_string())?
                );
            } else {
                print!("{}", dropline_cli::preview::render(&p));
            }
            Ok(if p.routed.result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Routing { command: RoutingCommand::Check { file } } => {
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
        Command::Routing { command: RoutingCommand::Publish { file, table, source } } => {
            let (name, text) = read_file(&file)?;
            let config = RoutingConfig::parse(&name, &text).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let store = routing_config_store(&source, &aws, &table)?;
            store.publish(config.version, &text).await.map_err(|e| e.to_string())?;
            println!("published {name} as version {} to {source}", config.version);
            Ok(ExitCode::SUCCESS)
        }
        Command::Routing { command: RoutingCommand::Show { table, source } } => {
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
        Command::Catalog { command: CatalogCommand::Load { file, table } } => {
            let (name, text) = read_file(&file)?;
            let doc = CatalogDocument::parse(&name, &text).map_err(|e| e.to_string())?;
            let aws = AwsClients::from_env().await;
            let n = DynamoCatalog::new(aws.dynamodb().clone(), table).load(&doc).await.map_err(|e| e.to_string())?;
            println!("loaded {} supplier(s), {} offer(s) ({n} items)", doc.suppliers.len(), doc.offers.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn holds_command(command: HoldsCommand) -> Result<ExitCode, String> {
    let aws = AwsClients::from_env().await;
    let store = |table: String| DynamoOrderStore::new(aws.dynamodb().clone(), table);
    let order_id = |id: String| OrderId::new(id).map_err(|e| e.to_string());
    match command {
        HoldsCommand::List { category, older_than, limit, json, table } => {
            let category = match category {
                None => None,
                Some(c) => Some(
                    serde_json::from_value::<HoldCategory>(serde_json::Value::String(c.to_ascii_lowercase()))
                        .map_err(|_| format!("--category {c:?}: not a hold category"))?,
                ),
            };
            let older_than = older_than
                .map(|a| {
                    dropline_domain::primitives::duration::parse_duration(&a).map_err(|e| format!("--older-than {e}"))
                })
                .transpose()?;
            let filter = holds::HoldFilter { category, older_than, limit };
            let now = Utc::now();
            let held = holds::list(&store(table), &filter, now).await?;
            if json {
                let rows: Vec<serde_json::Value> = held
                    .iter()
                    .map(|r| {
                        serde_json::json!({"order_id": r.id, "name": r.order.name, "held_since": r.status_since, "holds": r.holds})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
            } else {
                print!("{}", holds::render_list(&held, now));
            }
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Show(ShowArgs { id, json, table }) => {
            let id = order_id(id)?;
            let Some(r) = store(table).get(&id).await.map_err(|e| e.to_string())? else {
                eprintln!("no order {id}");
                return Ok(ExitCode::from(1));
            };
            if json {
                let v = serde_json::json!({"order_id": r.id, "status": r.status, "holds": r.holds, "warnings": r.warnings, "overrides": r.overrides});
                println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
            } else {
                print!("{}", dropline_cli::render::order(&r));
            }
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Override { id, code, note, op } => {
            let id = order_id(id)?;
            holds::override_hold(&store(op.table), &id, &code, &note, &op.by, Utc::now()).await?;
            println!("{id}: {code} overridden; release the order to validate it again");
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Release { id, note, queue_url, catalog_table, op } => {
            let id = order_id(id)?;
            let queue = SqsWorkQueue::new(aws.sqs().clone(), QueueUrls::default().with(Step::Validate, queue_url));
            let stock = DynamoCatalog::new(aws.dynamodb().clone(), catalog_table);
            let r = holds::release(&store(op.table), &queue, &stock, &id, &note, &op.by, Utc::now()).await?;
            println!("{id}: {} and queued for validation", r.status);
            Ok(ExitCode::SUCCESS)
        }
    }
}
