//! The event bus, with faults.

use super::FaultPlan;
use async_trait::async_trait;
use dropline_app::ports::{EventPublisher, PortResult};
use dropline_domain::wire::events::DomainEvent;
use std::sync::Arc;

pub struct FaultyEvents {
    pub inner: Arc<dyn EventPublisher>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl EventPublisher for FaultyEvents {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()> {
        self.faults.around("events.publish", true, self.inner.publish(events)).await
    }
}
