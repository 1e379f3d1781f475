//! Shipped orders due a tracking check, a carrier that answers after a pause, and the
//! poll-tracking sweep over them on memory adapters (the sweep tests and the bench's sweep rate).

use crate::contract::{new_record, shipped_po};
use async_trait::async_trait;
use chrono::{Duration, Utc};
use dropline_adapters::memory::{ManualClock, MemoryEventBus, MemoryOrderStore};
use dropline_app::ports::{CarrierTracker, OrderStore, PortResult};
use dropline_domain::order::{OrderRecord, OrderStatus, PoLine};
use dropline_domain::primitives::ids::PurchaseOrderId;
use dropline_domain::primitives::money::Money;
use dropline_domain::wire::supplier::TrackingReport;
use dropline_poll_tracking::PollTracking;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A carrier that answers "delivered" after a pause, counting the checks per number and the
/// most in flight at once.
#[derive(Default)]
pub struct SlowCarrier {
    /// How long each answer takes.
    pub latency: std::time::Duration,
    pub in_flight: AtomicUsize,
    pub most_in_flight: AtomicUsize,
    pub checks: Mutex<HashMap<String, usize>>,
}

#[async_trait]
impl CarrierTracker for SlowCarrier {
    async fn track(&self, _carrier: &str, number: &str) -> PortResult<TrackingReport> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.latency).await;
        *self.checks.lock().expect("lock").entry(number.to_string()).or_default() += 1;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(TrackingReport { status: "delivered".into(), description: None, updated_at: None })
    }
}

pub fn shipped(n: u32, now: chrono::DateTime<Utc>) -> OrderRecord {
    let mut r = new_record(n, now - Duration::hours(3));
    r.status = OrderStatus::Shipped;
    // Every line on the one purchase order.
    let lines = r
        .order
        .lines
        .iter()
        .filter_map(|l| l.sku.clone().map(|sku| (l, sku)))
        .map(|(l, sku)| PoLine {
            line_id: l.line_id.clone(),
            supplier_sku: format!("S-{sku}"),
            sku,
            title: l.title.clone(),
            quantity: l.quantity,
            unit_cost: Money::parse("1.00").expect("money"),
        })
        .collect();
    // Due over the last hour: the oldest first.
    let due = now - Duration::minutes(i64::from(n % 60) + 1);
    let mut po = shipped_po(PurchaseOrderId::new(r.id.clone(), 1), &format!("JD{n:08}"), now - Duration::hours(2), due);
    po.lines = lines;
    r.purchase_orders.push(po);
    r
}

/// `orders` shipped orders, all due, and a carrier answering after `latency`.
pub async fn world(
    orders: u32,
    latency: std::time::Duration,
) -> (Arc<MemoryOrderStore>, Arc<SlowCarrier>, Arc<ManualClock>) {
    let now = Utc::now();
    let store = Arc::new(MemoryOrderStore::default());
    for n in 0..orders {
        store.create(&shipped(n, now)).await.expect("create");
    }
    (store, Arc::new(SlowCarrier { latency, ..Default::default() }), Arc::new(ManualClock::new(now)))
}

/// The sweep over `world`, in pages of 7 with 4 checks at once (the tests' small numbers).
pub fn poll(store: &Arc<MemoryOrderStore>, carrier: &Arc<SlowCarrier>, clock: &Arc<ManualClock>) -> PollTracking {
    PollTracking {
        store: store.clone(),
        tracker: carrier.clone(),
        events: Arc::new(MemoryEventBus::default()),
        clock: clock.clone(),
        batch_size: 7,
        concurrency: 4,
    }
}
