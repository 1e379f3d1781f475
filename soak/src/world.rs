//! The pipeline on memory adapters, each behind its fault wrapper, with the soak's suppliers,
//! carrier and clock. The checker reads the adapters themselves, never through the faults.

use crate::faults::{
    FaultPlan, FaultyCarrier, FaultyCatalog, FaultyEvents, FaultyGateway, FaultyIdempotency, FaultyOrders,
    FaultyQueues, Rates,
};
use crate::suppliers::{SoakSuppliers, Temperament};
use chrono::{DateTime, TimeZone, Utc};
use dropline_adapters::memory::{
    ManualClock, MemoryCatalog, MemoryEventBus, MemoryIdempotencyStore, MemoryOrderStore, MemoryQueues,
    MemoryRoutingConfig,
};
use dropline_app::caches::ConfigCache;
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::escalation::Thresholds;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::wire::secrets::SecretBook;
use dropline_local::demo::{self, SHOPIFY_SECRET, WOO_SECRET, supplier_secret};
use dropline_local::pipeline::{Pipeline, Ports};
use dropline_local::sim::SimulatedCarrier;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct World {
    pub clock: Arc<ManualClock>,
    pub store: Arc<MemoryOrderStore>,
    pub queues: Arc<MemoryQueues>,
    pub bus: Arc<MemoryEventBus>,
    pub catalog: Arc<MemoryCatalog>,
    pub suppliers: Arc<SoakSuppliers>,
    pub faults: Arc<FaultPlan>,
    pub pipeline: Pipeline,
    /// The queues as the handlers and the runner see them (faults on).
    pub faulty_queues: Arc<FaultyQueues<MemoryQueues>>,
    pub faulty_store: Arc<FaultyOrders>,
    pub faulty_stock: Arc<FaultyCatalog<MemoryCatalog>>,
    /// Stock as loaded, per (SKU, supplier).
    pub initial_stock: BTreeMap<(String, String), u32>,
    pub start: DateTime<Utc>,
}

/// The demo's catalog with stock scaled to the run: hot SKUs keep a handful of units, the rest
/// enough for most orders.
pub fn catalog(orders: u32) -> Result<CatalogDocument, String> {
    let mut doc = demo::catalog()?;
    let hot = ["CANDLE-SOY-CEDAR", "HOODIE-GRY-L", "MUG-CER-15OZ"];
    for o in &mut doc.offers {
        o.stock = if hot.contains(&o.sku.as_str()) { 6 + o.stock % 7 } else { o.stock.max(20) * (orders / 150 + 1) };
    }
    Ok(doc)
}

fn temperaments() -> BTreeMap<String, Temperament> {
    let t = |reject, silent, accept_after_reject, answer_within_minutes| Temperament {
        reject,
        silent,
        accept_after_reject,
        answer_within_minutes,
    };
    BTreeMap::from([
        ("northwind-us".to_string(), t(0.08, 0.04, 0.03, 40)),
        ("eurodrop-de".to_string(), t(0.12, 0.08, 0.05, 300)),
        ("pacific-au".to_string(), t(0.05, 0.12, 0.02, 900)),
    ])
}

pub fn build(seed: u64, orders: u32, rates: Rates) -> Result<World, String> {
    let start = Utc.with_ymd_and_hms(2026, 11, 27, 5, 0, 0).single().ok_or("start time")?;
    let clock = Arc::new(ManualClock::new(start));
    let faults = Arc::new(FaultPlan::new(seed, rates));
    let store = Arc::new(MemoryOrderStore::new());
    let queues = Arc::new(MemoryQueues::new(clock.clone()));
    let bus = Arc::new(MemoryEventBus::new());
    let idempotency = Arc::new(MemoryIdempotencyStore::new());
    let doc = catalog(orders)?;
    let initial_stock = doc.offers.iter().map(|o| ((o.sku.to_string(), o.supplier_id.to_string()), o.stock)).collect();
    let catalog = Arc::new(MemoryCatalog::new(&doc));
    let suppliers = Arc::new(SoakSuppliers::new(seed, clock.clone(), temperaments()));
    let mut secrets = SecretBook::new()
        .with("shopify", SHOPIFY_SECRET)
        .with(&format!("woocommerce/{}", crate::workload::WOO_SITE.trim_start_matches("https://")), WOO_SECRET);
    for s in &doc.suppliers {
        secrets.insert(&format!("suppliers/{}", s.id), &supplier_secret(s.id.as_str()));
    }
    let faulty_store = Arc::new(FaultyOrders { inner: store.clone(), faults: faults.clone() });
    let faulty_queues = Arc::new(FaultyQueues { inner: queues.clone(), faults: faults.clone() });
    let faulty_catalog = Arc::new(FaultyCatalog { inner: catalog.clone(), faults: faults.clone() });
    let pipeline = Pipeline::wire(Ports {
        store: faulty_store.clone(),
        idempotency: Arc::new(FaultyIdempotency { inner: idempotency, faults: faults.clone() }),
        queue: faulty_queues.clone(),
        consumer: faulty_queues.clone(),
        events: Arc::new(FaultyEvents { inner: bus.clone(), faults: faults.clone() }),
        catalog: faulty_catalog.clone(),
        stock: faulty_catalog.clone(),
        outcomes: faulty_catalog.clone(),
        gateway: Arc::new(FaultyGateway { inner: suppliers.clone(), faults: faults.clone() }),
        tracker: Arc::new(FaultyCarrier { inner: Arc::new(SimulatedCarrier::default()), faults: faults.clone() }),
        clock: clock.clone(),
        secrets,
        policy: ValidationPolicy::default(),
        thresholds: Thresholds::default(),
        routing: Arc::new(ConfigCache::new(
            Arc::new(MemoryRoutingConfig::with_text("local/demo/routing.json", demo::ROUTING)),
            std::time::Duration::MAX,
        )),
    });
    Ok(World {
        clock,
        store,
        queues,
        bus,
        catalog,
        suppliers,
        faults,
        pipeline,
        faulty_queues,
        faulty_store,
        faulty_stock: faulty_catalog,
        initial_stock,
        start,
    })
}
