//! Route Lambda: wiring only. Reads configuration and builds clients once, then consumes
//! its SQS queue with partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoOrderStore, EventBridgePublisher, QueueUrls, SqsWorkQueue, routing_config_store,
};
use dropline_app::caches::ConfigCache;
use dropline_app::caches::MeasuredCache;
use dropline_app::env::{optional, required};
use dropline_app::ports::SystemClock;
use dropline_domain::primitives::duration::parse_duration;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::wire::messages::Step;
use dropline_route::Route;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;

/// mimalloc: its malloc and free take a fraction of glibc's instructions (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropline_app::telemetry::init();
    let orders_table = required("DROPLINE_ORDERS_TABLE")?;
    let catalog_table = required("DROPLINE_CATALOG_TABLE")?;
    let next_queue = required("DROPLINE_NOTIFY_QUEUE_URL")?;
    let event_bus = required("DROPLINE_EVENT_BUS")?;
    // The validation policy's unknown-stock rule and margin floor apply to the chosen plan.
    let policy = ValidationPolicy::from_lookup(|name| std::env::var(name).ok())?;

    let routing = optional("DROPLINE_ROUTING_CONFIG").unwrap_or_else(|| "dynamodb".into());
    let ttl = parse_duration(&optional("DROPLINE_ROUTING_CONFIG_TTL").unwrap_or_else(|| "60s".into()))
        .map_err(|problem| format!("DROPLINE_ROUTING_CONFIG_TTL: {problem}"))?
        .to_std()
        .map_err(|e| format!("DROPLINE_ROUTING_CONFIG_TTL: {e}"))?;

    let aws = AwsClients::from_env().await;
    // The configuration itself is fetched at first use, not at init.
    let config_store =
        routing_config_store(&routing, &aws, &catalog_table).map_err(|p| format!("DROPLINE_ROUTING_CONFIG: {p}"))?;
    let catalog = Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), catalog_table));
    let step = Arc::new(Route {
        policy,
        config: Arc::new(ConfigCache::new(config_store, ttl)),
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), orders_table)),
        catalog: catalog.clone(),
        stock: catalog.clone(),
        // Supplier performance is re-read with the configuration, at most once per ttl.
        measured: Arc::new(MeasuredCache::new(catalog.clone(), ttl)),
        outcomes: catalog,
        queue: Arc::new(SqsWorkQueue::new(
            aws.sqs().clone(),
            QueueUrls::default().with(Step::NotifySupplier, next_queue),
        )),
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), event_bus)),
        clock: Arc::new(SystemClock),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let step = step.clone();
        async move { Ok::<SqsBatchResponse, Error>(step.handle(event.payload).await) }
    }))
    .await
}
