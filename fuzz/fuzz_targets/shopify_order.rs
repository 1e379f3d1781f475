//! A Shopify order webhook body, as ingest reads it (then checked the way validation would).
#![no_main]
use dropline_domain::validation::address::{AddressRules, check};
use dropline_domain::wire::channels::shopify_order;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(order) = shopify_order("fuzz.myshopify.com", body) {
        if let Some(a) = &order.shipping_address {
            let _ = check(a, AddressRules::bundled());
        }
    }
});
