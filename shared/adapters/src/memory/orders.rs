//! Orders in memory, with the DynamoDB adapter's conditions (create if absent, save at the stored version).

use super::counter::OpCounter;
use super::sync::lock;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_app::ports::{Created, IndexPosition, OrderRef, OrderStore, PortError, PortResult};
use dropline_app::sharding::Slice;
use dropline_domain::order::OrderRecord;
use dropline_domain::order::OrderStatus;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryOrderStore {
    items: Mutex<HashMap<OrderId, OrderRecord>>,
    /// The duplicate indexes, as the DynamoDB adapter's GSIs: customer key -> orders.
    customers: Mutex<HashMap<CustomerKey, Vec<OrderId>>>,
    cursors: Mutex<HashMap<String, IndexPosition>>,
    pub ops: OpCounter,
}

impl MemoryOrderStore {
    pub fn new() -> Self {
        Self::default()
    }
    /// Visits every stored order without copying it (checks over large stores).
    pub fn for_each(&self, mut f: impl FnMut(&OrderRecord)) {
        for r in lock(&self.items).values() {
            f(r);
        }
    }

    fn index(&self, record: &OrderRecord) {
        let mut customers = lock(&self.customers);
        for key in record.customer_keys.iter().cloned() {
            let ids = customers.entry(key).or_default();
            if !ids.contains(&record.id) {
                ids.push(record.id.clone());
            }
        }
    }

    /// Stores `record` exactly as given (its version too): a view following another store's
    /// accepted writes (the soak on the emulators checks DynamoDB's state through it).
    pub fn put(&self, record: OrderRecord) {
        lock(&self.items).insert(record.id.clone(), record.clone());
        self.index(&record);
    }

    pub fn all(&self) -> Vec<OrderRecord> {
        let mut v: Vec<_> = lock(&self.items).values().cloned().collect();
        v.sort_by(|a, b| a.receipt.received_at.cmp(&b.receipt.received_at).then(a.id.cmp(&b.id)));
        v
    }
}

#[async_trait]
impl OrderStore for MemoryOrderStore {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created> {
        self.ops.hit("create");
        let mut items = lock(&self.items);
        if let Some(existing) = items.get(&record.id) {
            return Ok(Created::Existing(existing.clone()));
        }
        let mut stored = record.clone();
        stored.version = 1;
        items.insert(stored.id.clone(), stored.clone());
        drop(items);
        self.index(&stored);
        Ok(Created::Created(stored))
    }

    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>> {
        self.ops.hit("get");
        Ok(lock(&self.items).get(id).cloned())
    }

    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord> {
        self.ops.hit("save");
        let mut items = lock(&self.items);
        let current = items.get(&record.id).map(|r| r.version);
        if current != Some(record.version) {
            return Err(PortError::Conflict(format!(
                "order {} is at version {:?}, not {}",
                record.id, current, record.version
            )));
        }
        let mut stored = record.clone();
        stored.version += 1;
        let contact_changed = items.get(&record.id).is_none_or(|r| r.customer_keys != record.customer_keys);
        items.insert(stored.id.clone(), stored.clone());
        drop(items);
        if contact_changed {
            self.index(&stored);
        }
        Ok(stored)
    }

    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>> {
        self.ops.hit("query_status");
        let after = after.map(|a| (a.status_since, a.id.clone()));
        let mut v: Vec<OrderRef> = lock(&self.items)
            .values()
            .filter(|r| r.status == status && r.status_since < before)
            .filter(|r| after.as_ref().is_none_or(|a| (r.status_since, r.id.clone()) > *a))
            .map(|r| OrderRef { id: r.id.clone(), status: r.status, status_since: r.status_since })
            .collect();
        v.sort_by(|a, b| a.status_since.cmp(&b.status_since).then(a.id.cmp(&b.id)));
        v.truncate(limit);
        Ok(v)
    }

    async fn tracking_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
        slice: Slice,
    ) -> PortResult<Vec<IndexPosition>> {
        self.ops.hit("query_tracking");
        let after = after.map(|a| (a.at, a.id.clone()));
        let mut v: Vec<(DateTime<Utc>, OrderId)> = lock(&self.items)
            .values()
            .filter(|r| slice.takes(&r.id))
            .filter_map(|r| r.tracking_due_at().filter(|t| *t <= now).map(|t| (t, r.id.clone())))
            .filter(|row| after.as_ref().is_none_or(|a| row > a))
            .collect();
        v.sort();
        Ok(v.into_iter().take(limit).map(|(at, id)| IndexPosition { id, at }).collect())
    }

    async fn outbox_due(
        &self,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
    ) -> PortResult<Vec<IndexPosition>> {
        self.ops.hit("query_outbox");
        let after = after.map(|a| (a.at, a.id.clone()));
        let mut v: Vec<(DateTime<Utc>, OrderId)> = lock(&self.items)
            .values()
            .filter_map(|r| r.outbox_due_at().filter(|t| *t < before).map(|t| (t, r.id.clone())))
            .filter(|row| after.as_ref().is_none_or(|a| row > a))
            .collect();
        v.sort();
        Ok(v.into_iter().take(limit).map(|(at, id)| IndexPosition { id, at }).collect())
    }

    async fn sweep_cursor(&self, sweep: &str) -> PortResult<Option<IndexPosition>> {
        self.ops.hit("get");
        Ok(lock(&self.cursors).get(sweep).cloned())
    }

    async fn save_sweep_cursor(&self, sweep: &str, cursor: Option<&IndexPosition>) -> PortResult<()> {
        self.ops.hit("save");
        let mut cursors = lock(&self.cursors);
        match cursor {
            Some(c) => cursors.insert(sweep.to_string(), c.clone()),
            None => cursors.remove(sweep),
        };
        Ok(())
    }

    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>> {
        self.ops.hit("query_customer");
        let ids = lock(&self.customers).get(key).cloned().unwrap_or_default();
        let items = lock(&self.items);
        // Through the index, as the GSI query; the keys an order has now decide (an edited
        // address leaves its old key pointing at an order that no longer matches).
        Ok(ids
            .iter()
            .filter_map(|id| items.get(id))
            .filter(|r| (from..=to).contains(&r.order.created_at))
            .filter(|r| r.customer_keys.contains(key))
            .map(PriorOrder::of)
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
