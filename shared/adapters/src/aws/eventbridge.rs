//! Domain events on an EventBridge bus.

use super::errors::classify;
use async_trait::async_trait;
use dropline_app::ports::{EventPublisher, PortError, PortResult};
use dropline_domain::wire::events::DomainEvent;

pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()> {
        for chunk in events.chunks(10) {
            let mut pending: Vec<aws_sdk_eventbridge::types::PutEventsRequestEntry> = chunk
                .iter()
                .map(|e| {
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(&e.source)
                        .detail_type(e.detail_type.as_str())
                        .detail(e.detail.to_string())
                        .resources(e.order_id.as_str())
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(e.time.timestamp_millis()))
                        .build()
                })
                .collect();
            for attempt in 0..3 {
                let out = self
                    .client
                    .put_events()
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| classify("PutEvents", e))?;
                if out.failed_entry_count() == 0 {
                    break;
                }
                // Entries come back in request order; keep those that carry an error.
                let retry: Vec<_> = pending
                    .iter()
                    .zip(out.entries())
                    .filter(|(_, r)| r.error_code().is_some())
                    .map(|(e, _)| e.clone())
                    .collect();
                if attempt == 2 || retry.is_empty() {
                    return Err(PortError::Transient(format!(
                        "PutEvents: {} entries failed",
                        out.failed_entry_count()
                    )));
                }
                pending = retry;
            }
        }
        Ok(())
    }
}
