//! In-memory adapters for the demo, the local runner and unit tests. They keep the semantics of
//! their AWS counterparts (conditional writes, visibility timeouts, maxReceiveCount redrive,
//! idempotency conditions) and pass the same contract tests.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use dropline_app::idempotency::{IdempotencyRecord, IdempotencyStatus, may_overwrite};
use dropline_app::ports::{
    Catalog, Clock, ConfigText, Created, EventPublisher, OrderRef, OrderStore, OutcomeLedger, PortError, PortResult,
    QueueConsumer, ReceivedMessage, RoutingConfigStore, StockLedger, WorkQueue,
};
use dropline_app::ports::{IdempotencyStore, PutOutcome};
use dropline_domain::catalog::{CatalogDocument, CatalogView, Offer, Reservation, Supplier};
use dropline_domain::catalog::{Reserved, reservation_check};
use dropline_domain::order::OrderRecord;
use dropline_domain::order::OrderStatus;
use dropline_domain::performance::{Measured, Outcome};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};
use dropline_domain::wire::events::DomainEvent;
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the maps stay valid).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }
    pub fn advance(&self, d: Duration) {
        *lock(&self.0) += d;
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *lock(&self.0) = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------

/// Counts calls per operation, like the AWS adapters' request counters.
#[derive(Debug, Default)]
pub struct OpCounter(Mutex<BTreeMap<&'static str, u64>>);

impl OpCounter {
    pub fn hit(&self, op: &'static str) {
        *lock(&self.0).entry(op).or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.0).clone()
    }
}

#[derive(Default)]
pub struct MemoryOrderStore {
    items: Mutex<HashMap<OrderId, OrderRecord>>,
    pub ops: OpCounter,
}

impl MemoryOrderStore {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn all(&self) -> Vec<OrderRecord> {
        let mut v: Vec<_> = lock(&self.items).values().cloned().collect();
        v.sort_by(|a, b| a.receipt.received_at.cmp(&b.receipt.received_at).then(a.id.cmp(&b.id)));
        v
    }
}

#[async_trait]
impl OrderStore for MemoryOrderStore {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created> {
        self.ops.hit("create");
        let mut items = lock(&self.items);
        if let Some(existing) = items.get(&record.id) {
            return Ok(Created::Existing(existing.clone()));
        }
        let mut stored = record.clone();
        stored.version = 1;
        items.insert(stored.id.clone(), stored.clone());
        Ok(Created::Created(stored))
    }

    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>> {
        self.ops.hit("get");
        Ok(lock(&self.items).get(id).cloned())
    }

    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord> {
        self.ops.hit("save");
        let mut items = lock(&self.items);
        let current = items.get(&record.id).map(|r| r.version);
        if current != Some(record.version) {
            return Err(PortError::Conflict(format!(
                "order {} is at version {:?}, not {}",
                record.id, current, record.version
            )));
        }
        let mut stored = record.clone();
        stored.version += 1;
        items.insert(stored.id.clone(), stored.clone());
        Ok(stored)
    }

    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>> {
        self.ops.hit("query_status");
        let after = after.map(|a| (a.status_since, a.id.clone()));
        let mut v: Vec<OrderRef> = lock(&self.items)
            .values()
            .filter(|r| r.status == status && r.status_since < before)
            .filter(|r| after.as_ref().is_none_or(|a| (r.status_since, r.id.clone()) > *a))
            .map(|r| OrderRef { id: r.id.clone(), status: r.status, status_since: r.status_since })
            .collect();
        v.sort_by(|a, b| a.status_since.cmp(&b.status_since).then(a.id.cmp(&b.id)));
        v.truncate(limit);
        Ok(v)
    }

    async fn tracking_due(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<OrderId>> {
        self.ops.hit("query_tracking");
        let mut v: Vec<(DateTime<Utc>, OrderId)> = lock(&self.items)
            .values()
            .filter_map(|r| r.tracking_due_at().filter(|t| *t <= now).map(|t| (t, r.id.clone())))
            .collect();
        v.sort();
        Ok(v.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>> {
        self.ops.hit("query_customer");
        Ok(lock(&self.items)
            .values()
            .filter(|r| (from..=to).contains(&r.order.created_at))
            .filter(|r| dropline_domain::validation::duplicates::customer_keys(&r.order).contains(key))
            .map(PriorOrder::of)
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------

struct QueuedMessage {
    id: String,
    body: String,
    receive_count: u32,
    invisible_until: DateTime<Utc>,
    receipt: String,
    sent_at: DateTime<Utc>,
}

impl QueuedMessage {
    fn received(&self) -> ReceivedMessage {
        ReceivedMessage {
            message_id: self.id.clone(),
            receipt: self.receipt.clone(),
            body: self.body.clone(),
            receive_count: self.receive_count,
            sent_at: self.sent_at,
        }
    }
}

#[derive(Default)]
struct QueuePair {
    main: VecDeque<QueuedMessage>,
    dead: VecDeque<QueuedMessage>,
}

/// SQS-like queues, one per step, each with a dead-letter queue.
pub struct MemoryQueues {
    clock: Arc<dyn Clock>,
    queues: Mutex<HashMap<Step, QueuePair>>,
    seq: AtomicU64,
    pub visibility_timeout: Duration,
    pub max_receive_count: u32,
    pub ops: OpCounter,
}

impl MemoryQueues {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            queues: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            visibility_timeout: Duration::seconds(30),
            max_receive_count: 5,
            ops: OpCounter::default(),
        }
    }

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}-{:08}", self.seq.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Messages waiting (visible or in flight) and dead letters.
    pub fn depth(&self, step: Step) -> (usize, usize) {
        let q = lock(&self.queues);
        q.get(&step).map(|p| (p.main.len(), p.dead.len())).unwrap_or((0, 0))
    }

    /// The bodies of the dead letters of a step.
    pub fn dead_letter_bodies(&self, step: Step) -> Vec<String> {
        let q = lock(&self.queues);
        q.get(&step).map(|p| p.dead.iter().map(|m| m.body.clone()).collect()).unwrap_or_default()
    }

    /// Sends a raw body (tests use it to inject poison messages).
    pub fn send_raw(&self, step: Step, body: &str) {
        let now = self.clock.now();
        let msg = QueuedMessage {
            id: self.next_id("msg"),
            body: body.to_string(),
            receive_count: 0,
            invisible_until: now,
            receipt: String::new(),
            sent_at: now,
        };
        lock(&self.queues).entry(step).or_default().main.push_back(msg);
    }
}

#[async_trait]
impl WorkQueue for MemoryQueues {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()> {
        self.ops.hit("send");
        for m in messages {
            self.send_raw(step, &m.to_json());
        }
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for MemoryQueues {
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        self.ops.hit("receive");
        let now = self.clock.now();
        let mut queues = lock(&self.queues);
        let pair = queues.entry(step).or_default();
        // Redrive: a visible message already received maxReceiveCount times goes to the DLQ.
        let mut i = 0;
        while i < pair.main.len() {
            if pair.main[i].invisible_until <= now && pair.main[i].receive_count >= self.max_receive_count {
                if let Some(m) = pair.main.remove(i) {
                    pair.dead.push_back(m);
                }
            } else {
                i += 1;
            }
        }
        let mut out = Vec::new();
        for m in pair.main.iter_mut() {
            if out.len() >= max {
                break;
            }
            if m.invisible_until > now {
                continue;
            }
            m.receive_count += 1;
            m.invisible_until = now + self.visibility_timeout;
            m.receipt = format!("{}#{}", m.id, m.receive_count);
            out.push(m.received());
        }
        Ok(out)
    }

    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()> {
        self.ops.hit("delete");
        let mut queues = lock(&self.queues);
        if let Some(pair) = queues.get_mut(&step) {
            pair.main.retain(|m| m.receipt != receipt);
        }
        Ok(())
    }

    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let queues = lock(&self.queues);
        Ok(queues
            .get(&step)
            .map(|p| p.dead.iter().take(max).map(QueuedMessage::received).collect())
            .unwrap_or_default())
    }

    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize> {
        let now = self.clock.now();
        let mut queues = lock(&self.queues);
        let pair = queues.entry(step).or_default();
        let mut moved = 0;
        while moved < max {
            let Some(mut m) = pair.dead.pop_front() else {
                break;
            };
            m.receive_count = 0;
            m.invisible_until = now;
            pair.main.push_back(m);
            moved += 1;
        }
        Ok(moved)
    }
}

// ---------------------------------------------------------------------------------------------

/// Keeps every published event, in order.
#[derive(Default)]
pub struct MemoryEventBus {
    events: Mutex<Vec<DomainEvent>>,
    pub ops: OpCounter,
}

impl MemoryEventBus {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn events(&self) -> Vec<DomainEvent> {
        lock(&self.events).clone()
    }
}

#[async_trait]
impl EventPublisher for MemoryEventBus {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()> {
        self.ops.hit("put_events");
        lock(&self.events).extend(events.iter().cloned());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

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
            return Ok(answer);
        }
        sku_holds.insert(r.holder.clone(), r.clone());
        Ok(Reserved::Taken)
    }

    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
        Ok(lock(&self.holds).get_mut(sku).and_then(|h| h.remove(holder)).is_some())
    }

    async fn settle(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
        let mut view = lock(&self.view);
        let Some(r) = lock(&self.holds).get_mut(sku).and_then(|h| h.remove(holder)) else {
            return Ok(false);
        };
        if let Some(offers) = view.offers.get_mut(sku) {
            r.take_from(Arc::make_mut(offers).as_mut_slice());
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

#[derive(Default)]
pub struct MemoryIdempotencyStore {
    records: Mutex<HashMap<String, IdempotencyRecord>>,
    pub ops: OpCounter,
}

impl MemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn put_in_progress(&self, record: &IdempotencyRecord, now: DateTime<Utc>) -> PortResult<PutOutcome> {
        self.ops.hit("put");
        let mut records = lock(&self.records);
        if let Some(existing) = records.get(&record.id)
            && !may_overwrite(existing, now)
        {
            return Ok(PutOutcome::Exists(existing.clone()));
        }
        records.insert(record.id.clone(), record.clone());
        Ok(PutOutcome::Acquired)
    }

    async fn complete(&self, id: &str, data: &str, expiration: i64) -> PortResult<()> {
        self.ops.hit("update");
        let mut records = lock(&self.records);
        let r = records.get_mut(id).ok_or_else(|| PortError::Conflict(format!("no idempotency record {id}")))?;
        r.status = IdempotencyStatus::Completed;
        r.data = Some(data.to_string());
        r.expiration = expiration;
        r.in_progress_expiration = None;
        Ok(())
    }

    async fn delete(&self, id: &str) -> PortResult<()> {
        self.ops.hit("delete");
        lock(&self.records).remove(id);
        Ok(())
    }

    async fn get(&self, id: &str) -> PortResult<Option<IdempotencyRecord>> {
        Ok(lock(&self.records).get(id).cloned())
    }
}

/// A routing configuration in memory, or read from a file on every fetch (the cache in front of
/// it decides how often).
pub struct MemoryRoutingConfig {
    source: String,
    file: Option<std::path::PathBuf>,
    stored: Mutex<Option<(u32, String)>>,
}

impl MemoryRoutingConfig {
    /// An empty store.
    pub fn new() -> Self {
        Self { source: "memory".into(), file: None, stored: Mutex::new(None) }
    }

    /// A configuration held in memory from the start (the demo's).
    pub fn with_text(source: &str, text: &str) -> Self {
        Self { source: source.into(), file: None, stored: Mutex::new(Some((0, text.to_string()))) }
    }

    /// A file, read on every fetch; publishing writes it.
    pub fn file(path: impl Into<std::path::PathBuf>) -> Self {
        let path = path.into();
        Self { source: path.display().to_string(), file: Some(path), stored: Mutex::new(None) }
    }
}

impl Default for MemoryRoutingConfig {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl RoutingConfigStore for MemoryRoutingConfig {
    async fn fetch(&self) -> PortResult<Option<ConfigText>> {
        if let Some(path) = &self.file {
            return match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(ConfigText { source: self.source.clone(), text })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(PortError::Permanent(format!("{}: {e}", self.source))),
            };
        }
        Ok(lock(&self.stored).as_ref().map(|(_, text)| ConfigText { source: self.source.clone(), text: text.clone() }))
    }

    async fn publish(&self, version: u32, text: &str) -> PortResult<()> {
        let current = match self.fetch().await? {
            Some(c) => dropline_domain::routing::config::declared_version(&c.text),
            None => 0,
        };
        if version <= current {
            return Err(PortError::Conflict(format!("version {version} is not above the stored version {current}")));
        }
        if let Some(path) = &self.file {
            return std::fs::write(path, text).map_err(|e| PortError::Permanent(format!("{}: {e}", self.source)));
        }
        *lock(&self.stored) = Some((version, text.to_string()));
        Ok(())
    }
}
