//! Publishing domain events.

use super::PortResult;
use async_trait::async_trait;
use dropline_domain::wire::events::DomainEvent;

/// Publishes domain events (EventBridge in AWS).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()>;
}
