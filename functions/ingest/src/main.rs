//! Ingest Lambda: wiring only. Reads configuration, builds clients and loads secrets once, then
//! serves API Gateway requests.

use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoIdempotencyStore, DynamoOrderStore, EventBridgePublisher, QueueUrls, SqsWorkQueue,
    SsmSecrets, load_secrets,
};
use dropline_app::env::{optional, required};
use dropline_app::idempotency::Idempotency;
use dropline_app::ports::SystemClock;
use dropline_app::secrets::SecretCache;
use dropline_domain::wire::channels::StoreTimeZones;
use dropline_domain::wire::messages::Step;
use dropline_ingest::Ingest;
use lambda_http::{Error, service_fn};
use std::sync::Arc;

/// mimalloc: its malloc and free take a fraction of glibc's instructions (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropline_app::telemetry::init();
    let orders_table = required("DROPLINE_ORDERS_TABLE")?;
    let idempotency_table = required("DROPLINE_IDEMPOTENCY_TABLE")?;
    let validate_queue = required("DROPLINE_VALIDATE_QUEUE_URL")?;
    // Supplier callbacks that reject or report a stockout send the order back to routing.
    let route_queue = required("DROPLINE_ROUTE_QUEUE_URL")?;
    let catalog_table = required("DROPLINE_CATALOG_TABLE")?;
    let event_bus = required("DROPLINE_EVENT_BUS")?;
    let secrets_path = required("DROPLINE_SECRETS_PATH")?;
    let time_zones = StoreTimeZones::parse(&optional("DROPLINE_STORE_TIME_ZONES").unwrap_or_default())?;

    let aws = AwsClients::from_env().await;
    let secrets = load_secrets(aws.ssm(), &secrets_path).await?;
    if secrets.is_empty() {
        tracing::warn!(path = %secrets_path, "no secrets found: every webhook will be refused with 401");
    }
    for name in secrets.ignored_names() {
        tracing::warn!(path = %secrets_path, name, "secret not used: WooCommerce sites need their own, woocommerce/<site host>");
    }
    let catalog = Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), catalog_table));
    let ingest = Arc::new(Ingest {
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), orders_table)),
        idempotency: Idempotency::new(
            Arc::new(DynamoIdempotencyStore::new(aws.dynamodb().clone(), idempotency_table)),
            chrono::Duration::hours(24),
        ),
        queue: Arc::new(SqsWorkQueue::new(
            aws.sqs().clone(),
            QueueUrls::default().with(Step::Validate, validate_queue).with(Step::Route, route_queue),
        )),
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), event_bus)),
        // Read again every 5 minutes (and at once when a signature fails, at most once a minute).
        secrets: SecretCache::new(
            Arc::new(SsmSecrets { client: aws.ssm().clone(), root: secrets_path, scope: None }),
            secrets,
            std::time::Duration::from_secs(300),
        ),
        clock: Arc::new(SystemClock),
        stock: catalog.clone(),
        outcomes: catalog,
        time_zones,
    });
    lambda_http::run(service_fn(move |req| {
        let ingest = ingest.clone();
        async move { dropline_ingest::lambda::handle(&ingest, req).await }
    }))
    .await
}
