//! The catalog, stock ledger and outcome ledger (one adapter in memory and in DynamoDB), with
//! faults.

use super::FaultPlan;
use async_trait::async_trait;
use dropline_app::ports::{Catalog, OutcomeLedger, PortResult, StockLedger};
use dropline_domain::catalog::{CatalogView, Offer, Reservation, Reserved, Supplier};
use dropline_domain::performance::{Measured, Outcome};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use dropline_domain::stock::HoldLimit;
use std::sync::Arc;

pub struct FaultyCatalog<C: ?Sized> {
    pub inner: Arc<C>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl<C: Catalog + ?Sized + 'static> Catalog for FaultyCatalog<C> {
    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        self.faults.around("catalog.view", false, self.inner.view(skus)).await
    }
    async fn view_for(&self, skus: &[Sku], order: &OrderId) -> PortResult<CatalogView> {
        self.faults.around("catalog.view", false, self.inner.view_for(skus, order)).await
    }
    async fn offers(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        self.faults.around("catalog.view", false, self.inner.offers(skus)).await
    }
    async fn supplier(&self, id: &SupplierId) -> PortResult<Option<Supplier>> {
        self.faults.around("catalog.supplier", false, self.inner.supplier(id)).await
    }
}

#[async_trait]
impl<C: StockLedger + ?Sized + 'static> StockLedger for FaultyCatalog<C> {
    async fn reserve(
        &self,
        r: &Reservation,
        limit: &(dyn for<'o> Fn(&'o Offer) -> HoldLimit + Send + Sync),
    ) -> PortResult<Reserved> {
        self.faults.around("stock.reserve", true, self.inner.reserve(r, limit)).await
    }
    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
        self.faults.around("stock.release", true, self.inner.release(sku, holder)).await
    }
    async fn settle(&self, sku: &Sku, holder: &str, at: chrono::DateTime<chrono::Utc>) -> PortResult<bool> {
        self.faults.around("stock.settle", true, self.inner.settle(sku, holder, at)).await
    }
    async fn release_others(&self, sku: &Sku, order: &OrderId, live: &[String]) -> PortResult<usize> {
        self.faults.around("stock.release", true, self.inner.release_others(sku, order, live)).await
    }
    async fn holds_of(&self, order: &OrderId, skus: &[Sku]) -> PortResult<Vec<Reservation>> {
        self.faults.around("stock.holds", false, self.inner.holds_of(order, skus)).await
    }
}

#[async_trait]
impl<C: OutcomeLedger + ?Sized + 'static> OutcomeLedger for FaultyCatalog<C> {
    async fn record(&self, outcome: &Outcome) -> PortResult<bool> {
        self.faults.around("outcomes.record", true, self.inner.record(outcome)).await
    }
    async fn measured(&self, suppliers: &[SupplierId]) -> PortResult<Measured> {
        self.faults.around("outcomes.measured", false, self.inner.measured(suppliers)).await
    }
}
