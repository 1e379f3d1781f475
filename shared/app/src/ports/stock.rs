//! Supplier stock held for orders.

use super::PortResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_domain::catalog::{Offer, Reservation, Reserved};
use dropline_domain::primitives::ids::{OrderId, Sku};

/// Supplier stock held for orders. Every change is atomic per SKU (a conditional write), and
/// idempotent per holder, so concurrent orders never take the same units and redeliveries never
/// take them twice.
#[async_trait]
pub trait StockLedger: Send + Sync {
    /// Holds `r.quantity` of the offer for `r.holder` if `fits` accepts the offer as stored now
    /// (its `reserved` counting every holder); a holder already holding is told so, and its
    /// hold is taken anew at `r.at` (`refresh_hold`).
    async fn reserve(
        &self,
        r: &Reservation,
        fits: &(dyn for<'o> Fn(&'o Offer) -> bool + Send + Sync),
    ) -> PortResult<Reserved>;
    /// Gives the holder's units back; false when it held none.
    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool>;
    /// The supplier accepted (at `accepted_at`): the held units leave its stock snapshot and the
    /// hold ends; false when the holder held none.
    async fn settle(&self, sku: &Sku, holder: &str, accepted_at: DateTime<Utc>) -> PortResult<bool>;
    /// Gives back every hold `order` has on `sku` under a holder not in `live` (a purchase
    /// order it no longer has, or one a crashed attempt reserved for and never saved); returns
    /// how many holds ended.
    async fn release_others(&self, sku: &Sku, order: &OrderId, live: &[String]) -> PortResult<usize>;
    /// Every hold on `sku` (a key lookup).
    async fn holds(&self, sku: &Sku) -> PortResult<Vec<Reservation>>;
    /// Records an owner check of `holder`'s hold, if it is still the hold taken at `taken_by`
    /// (one taken again since, by a retry reserving under the same holder, is not the check's):
    /// ended when no standing purchase order `owned` it, marked checked at `now` when one did.
    /// False when the hold was not there as seen.
    async fn record_owner_check(
        &self,
        sku: &Sku,
        holder: &str,
        taken_by: DateTime<Utc>,
        owned: bool,
        now: DateTime<Utc>,
    ) -> PortResult<bool>;
}
