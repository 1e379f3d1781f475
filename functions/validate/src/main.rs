//! Validate Lambda: wiring only. Reads configuration and builds clients once, then consumes
//! its SQS queue with partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_adapters::aws::{
    AwsClients, DynamoCatalog, DynamoOrderStore, EventBridgePublisher, QueueUrls, SqsWorkQueue, load_secret,
};
use dropline_app::env::required;
use dropline_app::ports::SystemClock;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::validation::duplicates::FingerprintKey;
use dropline_domain::wire::messages::Step;
use dropline_validate::Validate;
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
    let next_queue = required("DROPLINE_ROUTE_QUEUE_URL")?;
    let event_bus = required("DROPLINE_EVENT_BUS")?;
    let policy = ValidationPolicy::from_lookup(|name| std::env::var(name).ok())?;
    let secrets_path = required("DROPLINE_SECRETS_PATH")?;

    let aws = AwsClients::from_env().await;
    // The one secret validation reads: the key of the customer fingerprints.
    let fingerprints = load_secret(aws.ssm(), &secrets_path, "fingerprints").await?.ok_or_else(|| {
        format!("no {secrets_path}/fingerprints: create it (a random value of 32 or more characters keys the duplicate-detection fingerprints)")
    })?;
    let step = Arc::new(Validate {
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), orders_table)),
        catalog: Arc::new(DynamoCatalog::new(aws.dynamodb().clone(), catalog_table)),
        queue: Arc::new(SqsWorkQueue::new(aws.sqs().clone(), QueueUrls::default().with(Step::Route, next_queue))),
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), event_bus)),
        policy,
        clock: Arc::new(SystemClock),
        fingerprints: FingerprintKey::new(fingerprints),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let step = step.clone();
        async move { Ok::<SqsBatchResponse, Error>(step.handle(event.payload).await) }
    }))
    .await
}
