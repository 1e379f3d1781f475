//! The catalog, stock reservations and supplier outcomes in memory, deciding as the DynamoDB adapters do.

use super::sync::lock;
use async_trait::async_trait;
use dropline_app::ports::{Catalog, OutcomeLedger, PortResult, StockLedger};
use dropline_domain::catalog::{CatalogDocument, CatalogView, Offer, Reservation, Supplier};
use dropline_domain::catalog::{Reserved, apply_owner_check, refresh_hold, reservation_check};
use dropline_domain::performance::{Measured, Outcome};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The catalog held in memory, indexed by SKU, with its stock reservations.
#[derive(Default)]
pub struct MemoryCatalog {
    view: Mutex<CatalogView>,
    /// Per SKU, holder -> reservation.
    holds: Mutex<HashMap<Sku, BTreeMap<String, Reservation>>>,
    /// Supplier outcomes: the keys counted, and the counts.
    outcomes: Mutex<(std::collections::HashSet<String>, Measured)>,
}

impl MemoryCatalog {
    pub fn new(doc: &CatalogDocument) -> Self {
        Self { view: Mutex::new(CatalogView::of_document(doc)), holds: Mutex::default(), outcomes: Mutex::default() }
    }

    /// Every reservation held, by SKU then holder (for checks of what is held).
    pub fn reservations(&self) -> Vec<Reservation> {
        let holds = lock(&self.holds);
        let mut out: Vec<Reservation> = holds.values().flat_map(|h| h.values().cloned()).collect();
        out.sort_by(|a, b| (a.sku.as_str(), a.holder.as_str()).cmp(&(b.sku.as_str(), b.holder.as_str())));
        out
    }

    /// Every offer as it stands (stock after settlements), sorted by SKU and supplier.
    pub fn offers_now(&self) -> Vec<Offer> {
        let view = lock(&self.view);
        let mut out: Vec<Offer> = view.offers.values().flat_map(|o| o.iter().cloned()).collect();
        out.sort_by(|a, b| (a.sku.as_str(), a.supplier_id.as_str()).cmp(&(b.sku.as_str(), b.supplier_id.as_str())));
        out
    }

    /// The outcome counts as the ledger holds them.
    pub fn measured_all(&self) -> Measured {
        lock(&self.outcomes).1.clone()
    }

    /// The view for `skus`, with the suppliers they reference when `suppliers` is true, and the
    /// reservations counted.
    pub fn lookup(&self, skus: &[Sku], suppliers: bool) -> CatalogView {
        let all = lock(&self.view);
        let holds = lock(&self.holds);
        let mut out = CatalogView::default();
        let mut reservations = Vec::new();
        for sku in skus {
            if out.offers.contains_key(sku) {
                continue;
            }
            if let Some(offers) = all.offers.get(sku) {
                if suppliers {
                    for o in offers.iter() {
                        if let Some(s) = all.suppliers.get(&o.supplier_id) {
                            out.suppliers.entry(s.id.clone()).or_insert_with(|| s.clone());
                        }
                    }
                }
                out.offers.insert(sku.clone(), offers.clone());
                reservations.extend(holds.get(sku).into_iter().flat_map(|h| h.values().cloned()));
            }
        }
        out.count_reservations(reservations);
        out
    }
}

#[async_trait]
impl Catalog for MemoryCatalog {
    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        Ok(self.lookup(skus, true))
    }

    async fn offers(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        Ok(self.lookup(skus, false))
    }

    async fn supplier(&self, id: &SupplierId) -> PortResult<Option<Supplier>> {
        Ok(lock(&self.view).supplier(id).cloned())
    }
}

#[async_trait]
impl StockLedger for MemoryCatalog {
    async fn reserve(
        &self,
        r: &Reservation,
        fits: &(dyn for<'o> Fn(&'o Offer) -> bool + Send + Sync),
    ) -> PortResult<Reserved> {
        // One lock over the check and the write: what the conditional write does in DynamoDB.
        let view = lock(&self.view);
        let mut holds = lock(&self.holds);
        let sku_holds = holds.entry(r.sku.clone()).or_default();
        let offers = view.offers.get(&r.sku).map(|o| o.as_slice()).unwrap_or(&[]);
        if let Some(answer) = reservation_check(r, offers, sku_holds, fits) {
            if answer == Reserved::AlreadyHeld {
                refresh_hold(sku_holds, r);
            }
            return Ok(answer);
        }
        sku_holds.insert(r.holder.clone(), r.clone());
        Ok(Reserved::Taken)
    }

    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
        Ok(lock(&self.holds).get_mut(sku).and_then(|h| h.remove(holder)).is_some())
    }

    async fn release_others(&self, sku: &Sku, order: &OrderId, live: &[String]) -> PortResult<usize> {
        let mut holds = lock(&self.holds);
        let Some(h) = holds.get_mut(sku) else { return Ok(0) };
        let before = h.len();
        h.retain(|holder, r| !r.held_by(order) || live.iter().any(|l| l == holder));
        Ok(before - h.len())
    }

    async fn holds(&self, sku: &Sku) -> PortResult<Vec<Reservation>> {
        Ok(lock(&self.holds).get(sku).map(|h| h.values().cloned().collect()).unwrap_or_default())
    }

    async fn record_owner_check(
        &self,
        sku: &Sku,
        holder: &str,
        taken_by: chrono::DateTime<chrono::Utc>,
        owned: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> PortResult<bool> {
        let mut holds = lock(&self.holds);
        Ok(holds.get_mut(sku).is_some_and(|h| apply_owner_check(h, holder, taken_by, owned, now)))
    }

    async fn settle(&self, sku: &Sku, holder: &str, accepted_at: chrono::DateTime<chrono::Utc>) -> PortResult<bool> {
        let mut view = lock(&self.view);
        let Some(r) = lock(&self.holds).get_mut(sku).and_then(|h| h.remove(holder)) else {
            return Ok(false);
        };
        if let Some(offers) = view.offers.get_mut(sku) {
            r.take_from(Arc::make_mut(offers).as_mut_slice(), accepted_at);
        }
        Ok(true)
    }
}

#[async_trait]
impl OutcomeLedger for MemoryCatalog {
    async fn record(&self, outcome: &Outcome) -> PortResult<bool> {
        // One lock over the check and both writes: the transaction in DynamoDB.
        let mut guard = lock(&self.outcomes);
        let (seen, measured) = &mut *guard;
        if !seen.insert(outcome.key()) {
            return Ok(false);
        }
        measured.entry(outcome.supplier_id.clone()).or_default().count(&outcome.kind);
        Ok(true)
    }

    async fn measured(&self, suppliers: &[SupplierId]) -> PortResult<Measured> {
        let guard = lock(&self.outcomes);
        Ok(suppliers.iter().filter_map(|s| guard.1.get(s).map(|o| (s.clone(), *o))).collect())
    }
}

// ---------------------------------------------------------------------------------------------
