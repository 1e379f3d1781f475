//! The scheduled sweeps at volume, on memory adapters: poll-tracking pages through everything
//! due, checks several orders at once (never more than its concurrency), and several runs share
//! the sweep by slice, each order checked by exactly one.

use dropline_app::sharding::Slice;
use dropline_tests::sweep::{poll, world};
use std::sync::atomic::Ordering;

const LATENCY: std::time::Duration = std::time::Duration::from_millis(5);

#[tokio::test]
async fn a_run_pages_through_everything_due_checking_several_at_once_and_each_once() {
    let (store, carrier, clock) = world(50, LATENCY).await;
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
    let (store, carrier, clock) = world(60, LATENCY).await;
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
