//! The order store, with faults.

use super::FaultPlan;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_app::ports::{Created, IndexPosition, OrderRef, OrderStore, PortResult};
use dropline_domain::order::{OrderRecord, OrderStatus};
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};
use std::sync::Arc;

pub struct FaultyOrders {
    pub inner: Arc<dyn OrderStore>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl OrderStore for FaultyOrders {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created> {
        self.faults.around("orders.create", true, self.inner.create(record)).await
    }
    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>> {
        self.faults.around("orders.get", false, self.inner.get(id)).await
    }
    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord> {
        self.faults.around("orders.save", true, self.inner.save(record)).await
    }
    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>> {
        self.faults.around("orders.query", false, self.inner.in_status_since_before(status, before, limit, after)).await
    }
    async fn tracking_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
        slice: dropline_app::sharding::Slice,
    ) -> PortResult<Vec<IndexPosition>> {
        self.faults.around("orders.query", false, self.inner.tracking_due(now, limit, after, slice)).await
    }
    async fn outbox_due(
        &self,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
    ) -> PortResult<Vec<IndexPosition>> {
        self.faults.around("orders.query", false, self.inner.outbox_due(before, limit, after)).await
    }
    async fn sweep_cursor(&self, sweep: &str) -> PortResult<Option<IndexPosition>> {
        self.faults.around("orders.get", false, self.inner.sweep_cursor(sweep)).await
    }
    async fn save_sweep_cursor(&self, sweep: &str, cursor: Option<&IndexPosition>) -> PortResult<()> {
        self.faults.around("orders.save", true, self.inner.save_sweep_cursor(sweep, cursor)).await
    }
    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>> {
        self.faults.around("orders.query", false, self.inner.same_customer(key, from, to)).await
    }
}
