//! The catalog: offers per store SKU and supplier profiles.

use super::PortResult;
use async_trait::async_trait;
use dropline_domain::catalog::{CatalogView, Supplier};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};

/// The catalog: offers per store SKU and supplier profiles.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// The offers for `skus` and every supplier they reference, `reserved` counting every
    /// order's held and accepted units.
    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView>;
    /// `view` as `order` sees it: its own holds are its units, so they are listed in
    /// `reservations` and not counted in `reserved` (`CatalogView::seen_by`).
    async fn view_for(&self, skus: &[Sku], order: &OrderId) -> PortResult<CatalogView>;
    /// The offers for `skus` only (`suppliers` left empty): what validation needs.
    async fn offers(&self, skus: &[Sku]) -> PortResult<CatalogView>;
    async fn supplier(&self, id: &SupplierId) -> PortResult<Option<Supplier>>;
}
