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

/// A row's place in an index: the order and its sort key (when it became due, or its status
/// since). Pages resume after one, and a sweep keeps one as its cursor between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPosition {
    pub id: OrderId,
    pub at: DateTime<Utc>,
}

impl From<&OrderRef> for IndexPosition {
    fn from(r: &OrderRef) -> Self {
        Self { id: r.id.clone(), at: r.status_since }
    }
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
    /// Orders of `slice` with a shipped purchase order due for a tracking check at or before
    /// `now`, oldest first, through the tracking index; the page after `after`.
    async fn tracking_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
        slice: crate::sharding::Slice,
    ) -> PortResult<Vec<IndexPosition>>;
    /// Orders whose outbox (undelivered events, unsent void notices) has been due since before
    /// `before`, oldest first, through the sparse `outbox-due` index; the page after `after`.
    async fn outbox_due(
        &self,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
    ) -> PortResult<Vec<IndexPosition>>;
    /// Where the paged sweep `sweep` stopped last (None: at the start). A key lookup.
    async fn sweep_cursor(&self, sweep: &str) -> PortResult<Option<IndexPosition>>;
    /// Records where `sweep` stopped, so its next run continues there (None: start over).
    /// Overlapping runs may overwrite each other's cursor: a sweep's work is idempotent.
    async fn save_sweep_cursor(&self, sweep: &str, cursor: Option<&IndexPosition>) -> PortResult<()>;
    /// Orders of the customer `key` recognizes placed between `from` and `to` (inclusive),
    /// through the duplicate indexes (at most a few hundred: a page is plenty for one customer).
    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>>;
}
