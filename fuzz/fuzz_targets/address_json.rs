//! The canonical address form (`dropline address check`), then the address rules.
#![no_main]
use dropline_domain::validation::address::{AddressRules, check};
use dropline_domain::wire::channels::address_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(a) = address_json(body) {
        let _ = check(&a, AddressRules::bundled());
    }
});
