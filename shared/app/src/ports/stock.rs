//! Supplier stock held for orders.

use super::PortResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_domain::catalog::{Offer, Reservation, Reserved};
use dropline_domain::primitives::ids::{OrderId, Sku};
use dropline_domain::stock::HoldLimit;

/// Supplier stock held for orders. Each hold is its holder's own record and its units are
/// counted atomically with it (in DynamoDB one transaction over the order's hold item and the
/// SKU's counter shards), so concurrent orders never take the same units, a redelivery never
/// takes them twice, and a crash leaves either both or neither. Every access is a key lookup.
#[async_trait]
pub trait StockLedger: Send + Sync {
    /// Holds `r.quantity` of the offer for `r.holder` if the held and accepted units of every
    /// holder, with these, stay within `limit` of the offer as stored now; a holder already
    /// holding is told so and nothing changes.
    async fn reserve(
        &self,
        r: &Reservation,
        limit: &(dyn for<'o> Fn(&'o Offer) -> HoldLimit + Send + Sync),
    ) -> PortResult<Reserved>;
    /// Gives the holder's units back; false when it held none.
    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool>;
    /// The supplier accepted (at `accepted_at`): the hold ends and its units count as accepted
    /// against the offer's snapshot until one counted after the acceptance replaces it
    /// (`dropline_domain::stock`); false when the holder held none.
    async fn settle(&self, sku: &Sku, holder: &str, accepted_at: DateTime<Utc>) -> PortResult<bool>;
    /// Gives back every hold `order` has on `sku` under a holder not in `live` (a purchase
    /// order it no longer has, or one a crashed attempt reserved for and never saved); returns
    /// how many holds ended.
    async fn release_others(&self, sku: &Sku, order: &OrderId, live: &[String]) -> PortResult<usize>;
    /// Every hold `order` has on `skus` (a key lookup per SKU).
    async fn holds_of(&self, order: &OrderId, skus: &[Sku]) -> PortResult<Vec<Reservation>>;
}
