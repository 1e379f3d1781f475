//! The pipeline on memory adapters, each behind its fault wrapper, with the soak's suppliers,
//! carrier and clock. The checker reads the adapters themselves, never through the faults.

use crate::emulators::{Emulated, Followed, Recorded};
use crate::faults::{
    FaultPlan, FaultyCarrier, FaultyCatalog, FaultyEvents, FaultyGateway, FaultyIdempotency, FaultyOrders,
    FaultyQueues, Rates,
};
use crate::suppliers::{SoakSuppliers, Temperament};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dropline_adapters::memory::{
    ManualClock, MemoryCatalog, MemoryEventBus, MemoryIdempotencyStore, MemoryOrderStore, MemoryQueues,
    MemoryRoutingConfig,
};
use dropline_app::caches::ConfigCache;
use dropline_app::ports::{
    Catalog, EventPublisher, IdempotencyStore, OrderStore, OutcomeLedger, QueueConsumer, StockLedger, WorkQueue,
};
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::catalog::{Offer, Reservation};
use dropline_domain::escalation::Thresholds;
use dropline_domain::performance::Measured;
use dropline_domain::primitives::ids::SupplierId;
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::wire::messages::Step;
use dropline_domain::wire::secrets::SecretBook;
use dropline_local::demo::{self, SHOPIFY_SECRET, WOO_SECRET, supplier_secret};
use dropline_local::pipeline::{Pipeline, Ports};
use dropline_local::sim::SimulatedCarrier;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Queues as one object: producer and consumer.
pub trait Queues: WorkQueue + QueueConsumer {}
impl<T: WorkQueue + QueueConsumer + ?Sized> Queues for T {}

/// The catalog, the stock ledger and the outcome ledger: one adapter.
pub trait Ledger: Catalog + StockLedger + OutcomeLedger {}
impl<T: Catalog + StockLedger + OutcomeLedger + ?Sized> Ledger for T {}

/// Where the pipeline's state lives.
pub enum Backend {
    Memory { queues: Arc<MemoryQueues>, catalog: Arc<MemoryCatalog> },
    Emulators(Box<Emulated>),
}

/// The ledgers as they ended, for the checker.
pub struct Ledgers {
    pub reservations: Vec<Reservation>,
    pub offers: Vec<Offer>,
    pub measured: Measured,
}

pub struct World {
    pub clock: Arc<ManualClock>,
    /// Every order as stored (in memory, or DynamoDB's state followed write by write).
    pub store: Arc<MemoryOrderStore>,
    /// Every event the bus accepted.
    pub bus: Arc<MemoryEventBus>,
    pub suppliers: Arc<SoakSuppliers>,
    pub faults: Arc<FaultPlan>,
    pub pipeline: Pipeline,
    /// The queues as the handlers and the runner see them (faults on).
    pub faulty_queues: Arc<FaultyQueues<dyn Queues>>,
    pub faulty_store: Arc<FaultyOrders>,
    pub faulty_stock: Arc<FaultyCatalog<dyn Ledger>>,
    /// Stock as loaded, per (SKU, supplier).
    pub initial_stock: BTreeMap<(String, String), u32>,
    pub supplier_ids: Vec<SupplierId>,
    pub start: DateTime<Utc>,
    pub backend: Backend,
}

impl World {
    /// Messages received and not yet deleted (invisible until their timeout).
    pub async fn in_flight(&self) -> usize {
        match &self.backend {
            Backend::Memory { queues, .. } => Step::ALL.iter().map(|s| queues.depth(*s).0).sum(),
            // Visibility 0: nothing waits.
            Backend::Emulators(_) => 0,
        }
    }

    /// Lets received-and-failed messages become visible again.
    pub fn let_messages_return(&self) {
        if let Backend::Memory { queues, .. } = &self.backend {
            self.clock.advance(queues.visibility_timeout + Duration::seconds(1));
        }
    }

    pub async fn ledgers(&self) -> Result<Ledgers, String> {
        match &self.backend {
            Backend::Memory { catalog, .. } => Ok(Ledgers {
                reservations: catalog.reservations(),
                offers: catalog.offers_now(),
                measured: catalog.measured_all(),
            }),
            Backend::Emulators(e) => Ok(Ledgers {
                reservations: e.catalog.all_reservations().await.map_err(|e| e.to_string())?,
                offers: e.catalog.offers_left().await.map_err(|e| e.to_string())?,
                measured: e.catalog.measured(&self.supplier_ids).await.map_err(|e| e.to_string())?,
            }),
        }
    }
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
    let start = start_time()?;
    let clock = Arc::new(ManualClock::new(start));
    let doc = catalog(orders)?;
    let store = Arc::new(MemoryOrderStore::new());
    let queues = Arc::new(MemoryQueues::new(clock.clone()));
    let bus = Arc::new(MemoryEventBus::new());
    let memory_catalog = Arc::new(MemoryCatalog::new(&doc));
    let parts = Parts {
        orders: store.clone(),
        idempotency: Arc::new(MemoryIdempotencyStore::new()),
        queues: queues.clone(),
        events: bus.clone(),
        ledger: memory_catalog.clone(),
    };
    Ok(assemble(seed, rates, clock, doc, store, bus, parts, Backend::Memory { queues, catalog: memory_catalog }))
}

/// The same world on DynamoDB Local and moto (their endpoints from the environment).
pub async fn build_on_emulators(seed: u64, orders: u32, rates: Rates) -> Result<World, String> {
    let start = start_time()?;
    let clock = Arc::new(ManualClock::new(start));
    let doc = catalog(orders)?;
    let e = Emulated::provision().await?;
    e.catalog.load(&doc).await.map_err(|e| e.to_string())?;
    let store = Arc::new(MemoryOrderStore::new());
    let bus = Arc::new(MemoryEventBus::new());
    let parts = Parts {
        orders: Arc::new(Followed { real: e.orders.clone(), view: store.clone() }),
        idempotency: e.idempotency.clone(),
        queues: e.queues.clone(),
        events: Arc::new(Recorded { real: e.events.clone(), view: bus.clone() }),
        ledger: e.catalog.clone(),
    };
    Ok(assemble(seed, rates, clock, doc, store, bus, parts, Backend::Emulators(Box::new(e))))
}

fn start_time() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 11, 27, 5, 0, 0).single().ok_or_else(|| "start time".to_string())
}

/// The adapters a world runs on, before their fault wrappers.
struct Parts {
    orders: Arc<dyn OrderStore>,
    idempotency: Arc<dyn IdempotencyStore>,
    queues: Arc<dyn Queues>,
    events: Arc<dyn EventPublisher>,
    ledger: Arc<dyn Ledger>,
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    seed: u64,
    rates: Rates,
    clock: Arc<ManualClock>,
    doc: CatalogDocument,
    store: Arc<MemoryOrderStore>,
    bus: Arc<MemoryEventBus>,
    parts: Parts,
    backend: Backend,
) -> World {
    let faults = Arc::new(FaultPlan::new(seed, rates));
    let initial_stock = doc.offers.iter().map(|o| ((o.sku.to_string(), o.supplier_id.to_string()), o.stock)).collect();
    let suppliers = Arc::new(SoakSuppliers::new(seed, clock.clone(), temperaments()));
    let mut secrets = SecretBook::new()
        .with("shopify", SHOPIFY_SECRET)
        .with(&format!("woocommerce/{}", crate::workload::WOO_SITE.trim_start_matches("https://")), WOO_SECRET);
    for s in &doc.suppliers {
        secrets.insert(&format!("suppliers/{}", s.id), &supplier_secret(s.id.as_str()));
    }
    let faulty_store = Arc::new(FaultyOrders { inner: parts.orders, faults: faults.clone() });
    let faulty_queues: Arc<FaultyQueues<dyn Queues>> =
        Arc::new(FaultyQueues { inner: parts.queues, faults: faults.clone() });
    let faulty_catalog: Arc<FaultyCatalog<dyn Ledger>> =
        Arc::new(FaultyCatalog { inner: parts.ledger, faults: faults.clone() });
    // Notify-supplier leases its messages on the simulation's clock; SQS on the emulators keeps
    // real time, so there the queue's own timeout (0) applies.
    let queue_visibility = match &backend {
        Backend::Memory { queues, .. } => Some(queues.visibility_timeout),
        Backend::Emulators(_) => None,
    };
    let pipeline = Pipeline::wire(Ports {
        queue_visibility,
        store: faulty_store.clone(),
        idempotency: Arc::new(FaultyIdempotency { inner: parts.idempotency, faults: faults.clone() }),
        queue: faulty_queues.clone(),
        consumer: faulty_queues.clone(),
        events: Arc::new(FaultyEvents { inner: parts.events, faults: faults.clone() }),
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
    World {
        start: dropline_app::ports::Clock::now(clock.as_ref()),
        clock,
        store,
        bus,
        suppliers,
        faults,
        pipeline,
        faulty_queues,
        faulty_store,
        faulty_stock: faulty_catalog,
        initial_stock,
        supplier_ids: doc.suppliers.iter().map(|s| s.id.clone()).collect(),
        backend,
    }
}
