//! Notify-supplier Lambda: wiring only. Reads configuration, builds clients and loads supplier
//! secrets once, then consumes its SQS queue with partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoIdempotencyStore, DynamoOrderStore, EventBridgePublisher, QueueUrls, SqsWorkQueue,
    SsmSecrets, load_secrets_under,
};
use dropline_adapters::http::{Egress, HttpSupplierGateway, RetryPolicy};
use dropline_app::env::{parsed_or, required};
use dropline_app::idempotency::Idempotency;
use dropline_app::ports::SystemClock;
use dropline_app::secrets::SecretCache;
use dropline_domain::wire::messages::Step;
use dropline_notify_supplier::NotifySupplier;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use std::time::Duration;

/// mimalloc: its malloc and free take a fraction of glibc's instructions (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropline_app::telemetry::init();
    let orders_table = required("DROPLINE_ORDERS_TABLE")?;
    let idempotency_table = required("DROPLINE_IDEMPOTENCY_TABLE")?;
    let catalog_table = required("DROPLINE_CATALOG_TABLE")?;
    let event_bus = required("DROPLINE_EVENT_BUS")?;
    let secrets_path = required("DROPLINE_SECRETS_PATH")?;
    // A refused purchase order sends its lines back to routing.
    let route_queue = required("DROPLINE_ROUTE_QUEUE_URL")?;
    // Its own queue: it leases the messages it handles (their visibility) for its lifetime.
    let own_queue = required("DROPLINE_NOTIFY_QUEUE_URL")?;
    // The queue's visibility timeout, which a failed message gets again after the lease.
    let retry_after_s: i64 = parsed_or("DROPLINE_RETRY_AFTER_SECONDS", 180)?;
    let timeout_ms: u64 = parsed_or("DROPLINE_SUPPLIER_TIMEOUT_MS", 5000)?;
    let max_attempts: u32 = parsed_or("DROPLINE_SUPPLIER_MAX_ATTEMPTS", 3)?;

    let aws = AwsClients::from_env().await;
    // Only the suppliers' signing secrets: its policy allows no other branch.
    let secrets = load_secrets_under(aws.ssm(), &secrets_path, Some("suppliers")).await?;
    let policy = RetryPolicy { timeout: Duration::from_millis(timeout_ms), max_attempts, ..RetryPolicy::default() };
    let catalog = Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), catalog_table));
    let step = Arc::new(NotifySupplier {
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), orders_table)),
        catalog: catalog.clone(),
        stock: catalog,
        queue: Arc::new(SqsWorkQueue::new(
            aws.sqs().clone(),
            QueueUrls::default().with(Step::Route, route_queue).with(Step::NotifySupplier, own_queue),
        )),
        gateway: Arc::new(HttpSupplierGateway::new(
            // Read again every 5 minutes: a supplier's rotated key without a redeploy.
            SecretCache::new(
                Arc::new(SsmSecrets { client: aws.ssm().clone(), root: secrets_path, scope: Some("suppliers".into()) }),
                secrets,
                Duration::from_secs(300),
            ),
            policy,
            Egress::from_env(),
        )),
        idempotency: Idempotency::new(
            Arc::new(DynamoIdempotencyStore::new(aws.dynamodb().clone(), idempotency_table)),
            chrono::Duration::days(7),
        ),
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), event_bus)),
        clock: Arc::new(SystemClock),
        // Only when an invocation's deadline is unknown: the function's timeout.
        send_lock: chrono::Duration::seconds(30),
        retry_after: Some(chrono::Duration::seconds(retry_after_s)),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let step = step.clone();
        async move {
            let deadline = chrono::DateTime::<chrono::Utc>::from(event.context.deadline());
            Ok::<SqsBatchResponse, Error>(step.handle_by(event.payload, Some(deadline)).await)
        }
    }))
    .await
}
