//! `make dev`: the pipeline on the emulators for a developer. Ingest on 127.0.0.1:3000 with the
//! API's routes, queue pollers that behave like Lambda's SQS event source mapping, the two
//! schedules on timers, and the demo's simulated suppliers and carrier on loopback.

use crate::pipeline::{Pipeline, Ports};
use crate::provision::{Infra, QueueSettings, provision, put_secret};
use crate::server::serve_ingest;
use crate::sim::{serve_carrier, serve_suppliers};
use dropline_adapters::aws::DynamoRoutingConfig;
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoIdempotencyStore, DynamoOrderStore, EventBridgePublisher, SqsWorkQueue,
    load_secrets,
};
use dropline_adapters::http::{Egress, HttpCarrierTracker, HttpSupplierGateway, RetryPolicy};
use dropline_app::caches::ConfigCache;
use dropline_app::ports::RoutingConfigStore;
use dropline_app::ports::SystemClock;
use dropline_domain::escalation::Thresholds;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::wire::messages::Step;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub struct DevOptions {
    pub listen: SocketAddr,
    pub suppliers_listen: SocketAddr,
    pub carrier_listen: SocketAddr,
    /// An external carrier tracking API instead of the simulated one.
    pub carrier_url: Option<String>,
    /// A catalog document instead of the demo's.
    pub catalog: Option<std::path::PathBuf>,
    pub prefix: String,
    pub poll_every: Duration,
    pub escalate_every: Duration,
    pub thresholds: Thresholds,
}

/// Builds the stack on whatever endpoints the AWS environment names, and runs until Ctrl-C.
pub async fn run(opts: DevOptions) -> Result<(), String> {
    let aws = AwsClients::from_env().await;
    let infra = provision(&aws, &opts.prefix, QueueSettings::default()).await?;
    let mut doc = match &opts.catalog {
        None => crate::demo::catalog()?,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            dropline_domain::catalog::CatalogDocument::parse(&path.display().to_string(), &text)
                .map_err(|e| e.to_string())?
        }
    };
    put_secret(&aws, &infra, "shopify", crate::demo::SHOPIFY_SECRET).await?;
    put_secret(&aws, &infra, &format!("woocommerce/{}", crate::demo::WOO_HOST), crate::demo::WOO_SECRET).await?;
    let mut supplier_secrets = HashMap::new();
    for s in &doc.suppliers {
        let secret = crate::demo::supplier_secret(s.id.as_str());
        put_secret(&aws, &infra, &format!("suppliers/{}", s.id), &secret).await?;
        supplier_secrets.insert(s.id.to_string(), secret);
    }
    let callback_base = format!("http://{}", opts.listen);
    let suppliers = serve_suppliers(opts.suppliers_listen, supplier_secrets, HashMap::new(), callback_base, true)
        .await
        .map_err(|e| format!("simulated suppliers on {}: {e}", opts.suppliers_listen))?;
    for s in &mut doc.suppliers {
        if s.endpoint.starts_with("sim://") {
            s.endpoint = suppliers.endpoint(s.id.as_str());
        }
    }
    let catalog = Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table));
    // A restart keeps the stock and reservations it finds: only a first start, or an explicit
    // --catalog, loads the document.
    let first = doc.suppliers.first().map(|s| s.id.clone());
    let loaded = match &first {
        Some(id) => {
            dropline_app::ports::Catalog::supplier(catalog.as_ref(), id).await.map_err(|e| e.to_string())?.is_some()
        }
        None => false,
    };
    if opts.catalog.is_some() || !loaded {
        catalog.load(&doc).await.map_err(|e| e.to_string())?;
    }
    let routing = DynamoRoutingConfig::new(aws.dynamodb().clone(), &infra.catalog_table);
    if routing.fetch().await.map_err(|e| e.to_string())?.is_none() {
        let config = crate::demo::routing()?;
        routing.publish(config.version, crate::demo::ROUTING).await.map_err(|e| e.to_string())?;
    }
    let carrier_url = match &opts.carrier_url {
        Some(u) => u.clone(),
        None => serve_carrier(opts.carrier_listen)
            .await
            .map_err(|e| format!("simulated carrier on {}: {e}", opts.carrier_listen))?
            .base_url(),
    };

    let pipeline = Arc::new(wire(&aws, &infra, catalog, &carrier_url, opts.thresholds.clone()).await?);
    let addr = serve_ingest(opts.listen, pipeline.ingest.clone()).await.map_err(|e| format!("{}: {e}", opts.listen))?;

    println!("Dropline dev stack '{}' is up", infra.prefix);
    println!("  ingest      http://{addr}  (POST /webhooks/shopify, /webhooks/woocommerce, /suppliers/{{id}}/events)");
    println!("  suppliers   http://{} (simulated; they call back to ingest)", suppliers.addr);
    println!("  carrier     {carrier_url}");
    println!("  secrets     shopify={} woocommerce={}", crate::demo::SHOPIFY_SECRET, crate::demo::WOO_SECRET);
    println!("  tables      {} {} {}", infra.orders_table, infra.idempotency_table, infra.catalog_table);
    let env_file = write_env_file(&infra);
    println!("In another shell: source {env_file}; target/debug/dropline order show <order id>");
    println!("Ctrl-C stops.");

    for step in Step::ALL {
        let p = pipeline.clone();
        tokio::spawn(async move {
            loop {
                match p.pump(step).await {
                    Ok(n) if n.received > 0 => {
                        tracing::info!(step = %step, received = n.received, failed = n.failed, "batch handled")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(step = %step, error = %e, "poll failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }
    let p = pipeline.clone();
    let poll_every = opts.poll_every;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(poll_every);
        loop {
            tick.tick().await;
            let s = p.poll_tracking().await;
            if s.parcels_checked > 0 {
                tracing::info!(?s, "tracking run");
            }
        }
    });
    let p = pipeline.clone();
    let escalate_every = opts.escalate_every;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(escalate_every);
        loop {
            tick.tick().await;
            let s = p.escalate().await;
            if s.escalated > 0 {
                tracing::info!(?s, "escalation run");
            }
        }
    });
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    println!("stopping");
    Ok(())
}

/// The six handlers on the AWS adapters (pointed at the emulators by the environment).
pub async fn wire(
    aws: &AwsClients,
    infra: &Infra,
    catalog: Arc<DynamoCatalog>,
    carrier_url: &str,
    thresholds: Thresholds,
) -> Result<Pipeline, String> {
    let secrets = load_secrets(aws.ssm(), &infra.secrets_path).await.map_err(|e| e.to_string())?;
    let queues = Arc::new(SqsWorkQueue::new(aws.sqs().clone(), infra.queues.clone()));
    Ok(Pipeline::wire(Ports {
        queue_visibility: Some(chrono::Duration::seconds(crate::provision::QUEUE_VISIBILITY_SECONDS.into())),
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table)),
        idempotency: Arc::new(DynamoIdempotencyStore::new(aws.dynamodb().clone(), &infra.idempotency_table)),
        queue: queues.clone(),
        consumer: queues,
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), &infra.event_bus)),
        catalog: catalog.clone(),
        stock: catalog.clone(),
        outcomes: catalog,
        gateway: Arc::new(HttpSupplierGateway::new(
            dropline_app::secrets::SecretCache::fixed(secrets.clone()),
            RetryPolicy::default(),
            Egress::WITH_LOOPBACK,
        )),
        tracker: Arc::new(HttpCarrierTracker::new(carrier_url, Duration::from_secs(5), Egress::WITH_LOOPBACK)),
        clock: Arc::new(SystemClock),
        secrets,
        policy: ValidationPolicy::default(),
        thresholds,
        routing: Arc::new(ConfigCache::new(
            Arc::new(DynamoRoutingConfig::new(aws.dynamodb().clone(), &infra.catalog_table)),
            Duration::from_secs(60),
        )),
    }))
}

/// Writes the variables an operator shell needs (endpoints, tables, queues) to `.run/dev.env`.
fn write_env_file(infra: &Infra) -> String {
    let mut lines = Vec::new();
    for var in [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
        "AWS_ENDPOINT_URL_SSM",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        if let Ok(v) = std::env::var(var) {
            lines.push(format!("export {var}={v}"));
        }
    }
    lines.push(format!("export DROPLINE_ORDERS_TABLE={}", infra.orders_table));
    lines.push(format!("export DROPLINE_CATALOG_TABLE={}", infra.catalog_table));
    for (step, var) in [
        (Step::Validate, "DROPLINE_VALIDATE_QUEUE_URL"),
        (Step::Route, "DROPLINE_ROUTE_QUEUE_URL"),
        (Step::NotifySupplier, "DROPLINE_NOTIFY_QUEUE_URL"),
    ] {
        if let Some(url) = infra.queues.urls.get(&step) {
            lines.push(format!("export {var}={url}"));
        }
    }
    let path = ".run/dev.env";
    if std::fs::create_dir_all(".run").and_then(|_| std::fs::write(path, lines.join("\n") + "\n")).is_err() {
        println!("(could not write {path}; the variables are:)\n{}", lines.join("\n"));
    }
    path.to_string()
}
