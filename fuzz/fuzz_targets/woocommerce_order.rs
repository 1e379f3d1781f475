//! A WooCommerce order webhook body (every API version), and the activation-ping test.
#![no_main]
use dropline_domain::validation::address::{AddressRules, check};
use dropline_domain::wire::channels::{StoreTimeZones, is_woocommerce_ping, woocommerce_order};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = is_woocommerce_ping(Some("application/x-www-form-urlencoded"), body);
    if let Ok(order) = woocommerce_order("https://fuzz.example", body, &StoreTimeZones::default()) {
        if let Some(a) = &order.shipping_address {
            let _ = check(a, AddressRules::bundled());
        }
    }
});
