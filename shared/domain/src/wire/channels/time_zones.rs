//! Which wall clock each store's local timestamps are written in (WooCommerce's REST API v1
//! sends `date_created` in the site's time zone, with no offset).
//!
//! Configured as `site=zone` pairs separated by commas or semicolons, where `site` is the store
//! id (a WooCommerce site's host and path, a Shopify shop domain) or `*` for every other store:
//! `shop.example.com=Europe/Berlin, *=UTC+5:30`. Without an entry, UTC (WordPress's default).

use crate::primitives::local_time::{LocalClock, LocalClockError};
use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreTimeZones {
    stores: HashMap<String, LocalClock>,
    default: LocalClock,
}

/// Why a store time zone setting could not be read; names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreTimeZonesError {
    #[error("entry {0:?}: expected site=zone (shop.example.com=Europe/Berlin, or *=UTC+2)")]
    Entry(String),
    #[error("entry {entry:?}: {source}")]
    Zone { entry: String, source: LocalClockError },
}

impl StoreTimeZones {
    /// Reads `site=zone, *=zone`; an empty string is every store on UTC.
    pub fn parse(s: &str) -> Result<Self, StoreTimeZonesError> {
        let mut out = Self::default();
        for entry in s.split([',', ';', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
            let (site, zone) = entry.split_once('=').ok_or_else(|| StoreTimeZonesError::Entry(entry.to_string()))?;
            let site = site.trim();
            if site.is_empty() {
                return Err(StoreTimeZonesError::Entry(entry.to_string()));
            }
            let clock = LocalClock::parse(zone)
                .map_err(|source| StoreTimeZonesError::Zone { entry: entry.to_string(), source })?;
            if site == "*" {
                out.default = clock;
            } else {
                out.stores.insert(super::woo_store(site), clock);
            }
        }
        Ok(out)
    }

    /// Every store on one clock.
    pub fn uniform(clock: LocalClock) -> Self {
        Self { stores: HashMap::new(), default: clock }
    }

    /// The clock of a store, by its id (a site is matched without scheme or trailing slash).
    pub fn clock(&self, store: &str) -> LocalClock {
        self.stores.get(&super::woo_store(store)).copied().unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_store_then_default() {
        let z = StoreTimeZones::parse("https://Shop.Example.com/=Europe/Berlin; *=UTC+5:30").unwrap();
        assert_eq!(z.clock("shop.example.com").to_string(), "Europe/Berlin");
        assert_eq!(z.clock("http://shop.example.com").to_string(), "Europe/Berlin");
        assert_eq!(z.clock("other.example").to_string(), "UTC+05:30");
        assert_eq!(StoreTimeZones::parse("").unwrap().clock("x").to_string(), "UTC+00:00");
    }

    #[test]
    fn bad_entries_are_named() {
        let e = StoreTimeZones::parse("shop.example.com").unwrap_err();
        assert!(e.to_string().contains("expected site=zone"), "{e}");
        let e = StoreTimeZones::parse("a.example=Europe/Berlin, b.example=Mars/Base").unwrap_err();
        assert!(e.to_string().contains("b.example=Mars/Base") && e.to_string().contains("IANA"), "{e}");
    }
}
