//! A supplier callback body (`POST /suppliers/{id}/events`), and the replay-window check.
#![no_main]
use dropline_domain::wire::channels::parse_json;
use dropline_domain::wire::supplier::SupplierCallback;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(c) = parse_json::<SupplierCallback>(body) {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let _ = c.outside_window(now);
        let _ = c.said();
        let _ = dropline_domain::primitives::ids::PurchaseOrderId::parse(c.event.purchase_order_id());
    }
});
