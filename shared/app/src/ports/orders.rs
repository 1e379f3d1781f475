//! Order state, written conditionally.

use super::PortResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_domain::order::OrderRecord;
use dropline_domain::order::OrderStatus;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};

/// Result of creating an order record.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    Created(OrderRecord),
    /// An order with this id exists already (a redelivery or re-send); here it is.
    Existing(OrderRecord),
}

/// One row of an index query: enough to load the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRef {
    pub id: OrderId,
    pub status: OrderStatus,
    pub status_since: DateTime<Utc>,
}

/// Order state. Writes are conditional: `create` only if absent, `save` only if the stored
/// version is the record's version (which it then increments).
#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created>;
    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>>;
    /// Writes `record` if the stored version equals `record.version`; returns the stored record
    /// (version + 1). A lost race is `PortError::Conflict`.
    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord>;
    /// Orders in `status` since before `before`, oldest first, through the status index; the
    /// page after `after` (the last row of the previous page) when given.
    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>>;
    /// Orders with a shipped purchase order due for a tracking check at or before `now`,
    /// through the tracking index.
    async fn tracking_due(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<OrderId>>;
    /// Orders whose outbox (undelivered events, unsent void notices) has been due since before
    /// `before`, oldest first, through the sparse `outbox-due` index.
    async fn outbox_due(&self, before: DateTime<Utc>, limit: usize) -> PortResult<Vec<OrderId>>;
    /// Orders of the customer `key` recognizes placed between `from` and `to` (inclusive),
    /// through the duplicate indexes (at most a few hundred: a page is plenty for one customer).
    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>>;
}
