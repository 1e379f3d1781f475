//! The catalog, stock reservations and supplier outcomes in memory, deciding as the DynamoDB adapters do.

use super::sync::lock;
use async_trait::async_trait;
use dropline_app::ports::{Catalog, OutcomeLedger, PortResult, StockLedger};
use dropline_domain::catalog::{CatalogDocument, CatalogView, Offer, Reservation, Reserved, Supplier};
use dropline_domain::performance::{Measured, Outcome};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use dropline_domain::stock::{HoldLimit, acceptance_minute, counts_against, hold_refusal, merge_buckets};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Units a supplier accepted, by the minute of the acceptance.
type Accepted = BTreeMap<i64, u32>;

/// The catalog held in memory, indexed by SKU, with its stock reservations.
#[derive(Default)]
pub struct MemoryCatalog {
    view: Mutex<CatalogView>,
    /// Per SKU, holder -> reservation.
    holds: Mutex<HashMap<Sku, BTreeMap<String, Reservation>>>,
    /// Per offer, the units its supplier accepted (counted against the snapshot until a newer one).
    accepted: Mutex<HashMap<(Sku, SupplierId), Accepted>>,
    /// Supplier outcomes: the keys counted, and the counts.
    outcomes: Mutex<(std::collections::HashSet<String>, Measured)>,
}

/// The units of `offer` held or accepted against its snapshot.
fn used(offer: &Offer, holds: Option<&BTreeMap<String, Reservation>>, accepted: Option<&Accepted>) -> u32 {
    let held = holds
        .into_iter()
        .flat_map(|h| h.values())
        .filter(|r| r.supplier_id == offer.supplier_id)
        .fold(0u32, |n, r| n.saturating_add(r.quantity));
    accepted_since(offer, accepted).saturating_add(held)
}

fn accepted_since(offer: &Offer, accepted: Option<&Accepted>) -> u32 {
    accepted
        .into_iter()
        .flat_map(|a| a.iter())
        .filter(|(m, _)| counts_against(**m, offer.stock_as_of))
        .fold(0u32, |n, (_, q)| n.saturating_add(*q))
}

impl MemoryCatalog {
    pub fn new(doc: &CatalogDocument) -> Self {
        Self { view: Mutex::new(CatalogView::of_document(doc)), ..Self::default() }
    }

    /// Every reservation held, by SKU then holder (for checks of what is held).
    pub fn reservations(&self) -> Vec<Reservation> {
        let holds = lock(&self.holds);
        let mut out: Vec<Reservation> = holds.values().flat_map(|h| h.values().cloned()).collect();
        out.sort_by(|a, b| (a.sku.as_str(), a.holder.as_str()).cmp(&(b.sku.as_str(), b.holder.as_str())));
        out
    }

    /// Every offer with the units left to it: its snapshot less what its supplier accepted since
    /// (sorted by SKU and supplier).
    pub fn offers_now(&self) -> Vec<Offer> {
        let view = lock(&self.view);
        let accepted = lock(&self.accepted);
        let mut out: Vec<Offer> = view
            .offers
            .values()
            .flat_map(|o| o.iter().cloned())
            .map(|mut o| {
                let since = accepted_since(&o, accepted.get(&(o.sku.clone(), o.supplier_id.clone())));
                o.stock = o.stock.saturating_sub(since);
                o
            })
            .collect();
        out.sort_by(|a, b| (a.sku.as_str(), a.supplier_id.as_str()).cmp(&(b.sku.as_str(), b.supplier_id.as_str())));
        out
    }

    /// The outcome counts as the ledger holds them.
    pub fn measured_all(&self) -> Measured {
        lock(&self.outcomes).1.clone()
    }

    /// The view for `skus`, with the suppliers they reference when `suppliers` is true, and
    /// every order's held and accepted units counted.
    pub fn lookup(&self, skus: &[Sku], suppliers: bool) -> CatalogView {
        let all = lock(&self.view);
        let holds = lock(&self.holds);
        let accepted = lock(&self.accepted);
        let mut out = CatalogView::default();
        for sku in skus {
            if out.offers.contains_key(sku) {
                continue;
            }
            let Some(offers) = all.offers.get(sku) else { continue };
            if suppliers {
                for o in offers.iter() {
                    if let Some(s) = all.suppliers.get(&o.supplier_id) {
                        out.suppliers.entry(s.id.clone()).or_insert_with(|| s.clone());
                    }
                }
            }
            let held = holds.get(sku);
            let reserved: Vec<u32> = offers
                .iter()
                .map(|o| {
                    // The key is built (two copies) only when something was accepted at all.
                    let since =
                        if accepted.is_empty() { None } else { accepted.get(&(sku.clone(), o.supplier_id.clone())) };
                    used(o, held, since)
                })
                .collect();
            // Nothing held or accepted since the snapshot (most SKUs): the offers are shared,
            // not copied.
            let shared = if offers.iter().zip(&reserved).all(|(o, r)| o.reserved == *r) {
                offers.clone()
            } else {
                let counted =
                    offers.iter().zip(reserved).map(|(o, reserved)| Offer { reserved, ..o.clone() }).collect();
                std::sync::Arc::new(counted)
            };
            out.offers.insert(sku.clone(), shared);
        }
        out
    }
}

#[async_trait]
impl Catalog for MemoryCatalog {
    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        Ok(self.lookup(skus, true))
    }

    async fn view_for(&self, skus: &[Sku], order: &OrderId) -> PortResult<CatalogView> {
        let own = self.holds_of(order, skus).await?;
        Ok(self.lookup(skus, true).seen_by(own))
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
        limit: &(dyn for<'o> Fn(&'o Offer) -> HoldLimit + Send + Sync),
    ) -> PortResult<Reserved> {
        // One lock over the check and the write: what the transaction does in DynamoDB.
        let view = lock(&self.view);
        let mut holds = lock(&self.holds);
        let accepted = lock(&self.accepted);
        let sku_holds = holds.entry(r.sku.clone()).or_default();
        if sku_holds.contains_key(&r.holder) {
            return Ok(Reserved::AlreadyHeld);
        }
        let offers = view.offers.get(&r.sku).map(|o| o.as_slice()).unwrap_or(&[]);
        let Some(offer) = offers.iter().find(|o| o.supplier_id == r.supplier_id) else {
            return Ok(Reserved::NoOffer);
        };
        let used = used(offer, Some(sku_holds), accepted.get(&(r.sku.clone(), r.supplier_id.clone())));
        if let Some(refusal) = hold_refusal(offer, used, r.quantity, limit(offer)) {
            return Ok(refusal);
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

    async fn holds_of(&self, order: &OrderId, skus: &[Sku]) -> PortResult<Vec<Reservation>> {
        let holds = lock(&self.holds);
        let mut out: Vec<Reservation> = Vec::new();
        for sku in skus {
            if out.iter().any(|r| &r.sku == sku) {
                continue;
            }
            out.extend(holds.get(sku).into_iter().flat_map(|h| h.values()).filter(|r| r.held_by(order)).cloned());
        }
        Ok(out)
    }

    async fn settle(&self, sku: &Sku, holder: &str, accepted_at: chrono::DateTime<chrono::Utc>) -> PortResult<bool> {
        let view = lock(&self.view);
        let Some(r) = lock(&self.holds).get_mut(sku).and_then(|h| h.remove(holder)) else {
            return Ok(false);
        };
        let minute = acceptance_minute(accepted_at);
        let snapshot = view.offers_for(sku).iter().find(|o| o.supplier_id == r.supplier_id).map(|o| o.stock_as_of);
        // Accepted before the snapshot was counted: the supplier's count has it already.
        if snapshot.is_some_and(|as_of| counts_against(minute, as_of)) {
            let mut accepted = lock(&self.accepted);
            let buckets = accepted.entry((sku.clone(), r.supplier_id.clone())).or_default();
            *buckets.entry(minute).or_default() += r.quantity;
            // Merged as a DynamoDB counter merges them, so both count the same units.
            merge_buckets(buckets);
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
