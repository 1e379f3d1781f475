//! The scheduled sweeps at volume, on memory adapters: poll-tracking pages through everything
//! due, checks several orders at once (never more than its concurrency), and several runs share
//! the sweep by slice, each order checked by exactly one.

use async_trait::async_trait;
use chrono::{Duration, Utc};
use dropline_adapters::memory::{ManualClock, MemoryEventBus, MemoryOrderStore};
use dropline_app::ports::{CarrierTracker, OrderStore, PortResult};
use dropline_app::sharding::Slice;
use dropline_domain::order::{OrderRecord, OrderStatus, PoLine};
use dropline_domain::primitives::ids::PurchaseOrderId;
use dropline_domain::primitives::money::Money;
use dropline_domain::wire::supplier::TrackingReport;
use dropline_poll_tracking::PollTracking;
use dropline_tests::contract::{new_record, shipped_po};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A carrier that answers "delivered" after a pause, counting the checks per number and the
/// most in flight at once.
#[derive(Default)]
struct SlowCarrier {
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    checks: Mutex<HashMap<String, usize>>,
}

#[async_trait]
impl CarrierTracker for SlowCarrier {
    async fn track(&self, _carrier: &str, number: &str) -> PortResult<TrackingReport> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        *self.checks.lock().expect("lock").entry(number.to_string()).or_default() += 1;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(TrackingReport { status: "delivered".into(), description: None, updated_at: None })
    }
}

fn shipped(n: u32, now: chrono::DateTime<Utc>) -> OrderRecord {
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

async fn world(orders: u32) -> (Arc<MemoryOrderStore>, Arc<SlowCarrier>, Arc<ManualClock>) {
    let now = Utc::now();
    let store = Arc::new(MemoryOrderStore::default());
    for n in 0..orders {
        store.create(&shipped(n, now)).await.expect("create");
    }
    (store, Arc::new(SlowCarrier::default()), Arc::new(ManualClock::new(now)))
}

fn poll(store: &Arc<MemoryOrderStore>, carrier: &Arc<SlowCarrier>, clock: &Arc<ManualClock>) -> PollTracking {
    PollTracking {
        store: store.clone(),
        tracker: carrier.clone(),
        events: Arc::new(MemoryEventBus::default()),
        clock: clock.clone(),
        batch_size: 7,
        concurrency: 4,
    }
}

#[tokio::test]
async fn a_run_pages_through_everything_due_checking_several_at_once_and_each_once() {
    let (store, carrier, clock) = world(50).await;
    let summary = poll(&store, &carrier, &clock).run().await.expect("run");
    // 50 due over pages of 7: all checked in one run, each once.
    assert_eq!(summary.orders_due, 50, "{summary:?}");
    assert_eq!(summary.parcels_checked, 50);
    assert_eq!(summary.delivered, 50, "{summary:?}");
    assert_eq!(summary.left_for_next_run, 0);
    let checks = carrier.checks.lock().expect("lock").clone();
    assert_eq!(checks.len(), 50);
    assert!(checks.values().all(|n| *n == 1), "{checks:?}");
    let most = carrier.most_in_flight.load(Ordering::SeqCst);
    assert!(most > 1 && most <= 4, "checks at once: {most}");
    // Nothing is due any more.
    assert_eq!(poll(&store, &carrier, &clock).run().await.expect("run").orders_due, 0);
}

#[tokio::test]
async fn slices_share_the_sweep_and_every_order_falls_to_exactly_one() {
    let (store, carrier, clock) = world(60).await;
    let mut due = 0;
    for index in 0..4 {
        let slice = Slice::new(index, 4).expect("slice");
        let s = poll(&store, &carrier, &clock).run_slice(slice).await.expect("run");
        assert!(s.orders_due < 60, "a slice takes a share, not all: {s:?}");
        due += s.orders_due;
    }
    assert_eq!(due, 60);
    let checks = carrier.checks.lock().expect("lock").clone();
    assert_eq!(checks.len(), 60);
    assert!(checks.values().all(|n| *n == 1), "{checks:?}");
}

#[test]
fn a_scheduled_event_names_its_slice_or_takes_the_whole_sweep() {
    use dropline_poll_tracking::RunRequest;
    assert_eq!(RunRequest::slice_of(&serde_json::json!({})), Ok(Slice::ALL));
    assert_eq!(
        RunRequest::slice_of(&serde_json::json!({"slice": {"index": 1, "count": 4}})),
        Ok(Slice::new(1, 4).expect("slice"))
    );
    // A misconfigured schedule is an error, not the whole sweep run quietly.
    assert!(RunRequest::slice_of(&serde_json::json!({"slice": {"index": 0, "count": 3}})).is_err());
    assert!(RunRequest::slice_of(&serde_json::json!({"slice": "all"})).is_err());
}
