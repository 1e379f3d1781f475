//! Domain events kept in memory, in publication order.

use super::counter::OpCounter;
use super::sync::lock;
use async_trait::async_trait;
use dropline_app::ports::{EventPublisher, PortResult};
use dropline_domain::wire::events::DomainEvent;
use std::sync::Mutex;

/// Keeps every published event, in order.
#[derive(Default)]
pub struct MemoryEventBus {
    events: Mutex<Vec<DomainEvent>>,
    pub ops: OpCounter,
}

impl MemoryEventBus {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn events(&self) -> Vec<DomainEvent> {
        lock(&self.events).clone()
    }
}

#[async_trait]
impl EventPublisher for MemoryEventBus {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()> {
        self.ops.hit("put_events");
        lock(&self.events).extend(events.iter().cloned());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
