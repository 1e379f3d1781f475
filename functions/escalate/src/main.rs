//! Escalate Lambda: wiring only. Runs once per scheduled EventBridge event.

use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoOrderStore, EventBridgePublisher, QueueUrls, SqsWorkQueue,
};
use dropline_app::env::{optional, parsed_or, required};
use dropline_app::ports::SystemClock;
use dropline_domain::escalation::Thresholds;
use dropline_domain::wire::messages::Step;
use dropline_escalate::{DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, Escalate};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;

/// mimalloc: its malloc and free take a fraction of glibc's instructions (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropline_app::telemetry::init();
    let orders_table = required("DROPLINE_ORDERS_TABLE")?;
    let event_bus = required("DROPLINE_EVENT_BUS")?;
    // Supplier outcomes (a missed acknowledgment) are counted in the catalog table.
    let catalog_table = required("DROPLINE_CATALOG_TABLE")?;
    let queues = QueueUrls::default()
        .with(Step::Validate, required("DROPLINE_VALIDATE_QUEUE_URL")?)
        .with(Step::Route, required("DROPLINE_ROUTE_QUEUE_URL")?)
        .with(Step::NotifySupplier, required("DROPLINE_NOTIFY_QUEUE_URL")?);
    let thresholds = match optional("DROPLINE_ESCALATION_THRESHOLDS") {
        Some(t) => Thresholds::parse(&t).map_err(|problem| format!("DROPLINE_ESCALATION_THRESHOLDS: {problem}"))?,
        None => Thresholds::default(),
    };

    let aws = AwsClients::from_env().await;
    let escalate = Arc::new(Escalate {
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), orders_table)),
        queue: Arc::new(SqsWorkQueue::new(aws.sqs().clone(), queues)),
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), event_bus)),
        clock: Arc::new(SystemClock),
        outcomes: Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), catalog_table)),
        thresholds,
        batch_size: parsed_or("DROPLINE_ESCALATION_BATCH_SIZE", DEFAULT_BATCH_SIZE)?,
        concurrency: parsed_or("DROPLINE_ESCALATION_CONCURRENCY", DEFAULT_CONCURRENCY)?,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let escalate = escalate.clone();
        async move {
            // Stop the sweeps with time to spare to save their cursors and answer.
            let budget = event
                .context
                .deadline()
                .duration_since(std::time::SystemTime::now())
                .ok()
                .map(|left| left.saturating_sub(std::time::Duration::from_secs(5).min(left / 5)));
            let summary = escalate.run_within(budget).await?;
            Ok::<Value, Error>(serde_json::to_value(summary)?)
        }
    }))
    .await
}
