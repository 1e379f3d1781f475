//! Poll-tracking Lambda: wiring only. Runs once per scheduled EventBridge event.

use dropline_adapters::aws::{AwsClients, DynamoOrderStore, EventBridgePublisher};
use dropline_adapters::http::{Egress, HttpCarrierTracker};
use dropline_app::env::{optional, parsed_or, required};
use dropline_app::ports::SystemClock;
use dropline_poll_tracking::{DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, PollTracking, RunRequest};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc: its malloc and free take a fraction of glibc's instructions (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropline_app::telemetry::init();
    let orders_table = required("DROPLINE_ORDERS_TABLE")?;
    let event_bus = required("DROPLINE_EVENT_BUS")?;
    let carrier_api = optional("DROPLINE_CARRIER_API_URL");
    let batch_size: usize = parsed_or("DROPLINE_TRACKING_BATCH_SIZE", DEFAULT_BATCH_SIZE)?;
    let concurrency: usize = parsed_or("DROPLINE_TRACKING_CONCURRENCY", DEFAULT_CONCURRENCY)?;

    let aws = AwsClients::from_env().await;
    let tracker = match carrier_api {
        Some(url) => Arc::new(HttpCarrierTracker::new(&url, Duration::from_secs(5), Egress::from_env())),
        None => {
            tracing::warn!("DROPLINE_CARRIER_API_URL is not set: tracking checks will fail until it is");
            Arc::new(HttpCarrierTracker::unconfigured())
        }
    };
    let poll = Arc::new(PollTracking {
        store: Arc::new(DynamoOrderStore::new(aws.dynamodb().clone(), orders_table)),
        tracker,
        events: Arc::new(EventBridgePublisher::new(aws.eventbridge().clone(), event_bus)),
        clock: Arc::new(SystemClock),
        batch_size,
        concurrency,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let poll = poll.clone();
        async move {
            let slice = RunRequest::slice_of(&event.payload)?;
            let summary = poll.run_slice(slice).await?;
            Ok::<Value, Error>(serde_json::to_value(summary)?)
        }
    }))
    .await
}
