//! Ports: what the pipeline needs from the outside world, as traits. Adapters for memory (demo,
//! unit tests) and for AWS (Lambda) implement them, and both pass the same contract tests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dropline_domain::catalog::{CatalogView, Offer, Reservation, Reserved, Supplier};
use dropline_domain::order::OrderRecord;
use dropline_domain::order::OrderStatus;
use dropline_domain::performance::{Measured, Outcome};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};
use dropline_domain::wire::events::DomainEvent;
use dropline_domain::wire::messages::{Step, WorkMessage};
use dropline_domain::wire::supplier::{CancellationNotice, PurchaseOrderDocument, SubmitReceipt, TrackingReport};
use std::sync::Arc;

/// Errors any adapter can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// A conditional write lost a race: the stored item is not in the expected state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Worth retrying (throttling, timeouts, 5xx, connection errors).
    #[error("transient: {0}")]
    Transient(String),
    /// Will fail again the same way (validation error, 4xx, bad data).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl PortError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Transient(_) | PortError::Conflict(_))
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// The wall clock, injectable so tests and the demo control time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Result of creating an order record.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    Created(OrderRecord),
    /// An order with this id exists already (a redelivery or re-send); here it is.
    Existing(OrderRecord),
}

/// One row of an index query: enough to load the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRef {
    pub id: OrderId,
    pub status: OrderStatus,
    pub status_since: DateTime<Utc>,
}

/// Order state. Writes are conditional: `create` only if absent, `save` only if the stored
/// version is the record's version (which it then increments).
#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created>;
    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>>;
    /// Writes `record` if the stored version equals `record.version`; returns the stored record
    /// (version + 1). A lost race is `PortError::Conflict`.
    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord>;
    /// Orders in `status` since before `before`, oldest first, through the status index; the
    /// page after `after` (the last row of the previous page) when given.
    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>>;
    /// Orders with a shipped purchase order due for a tracking check at or before `now`,
    /// through the tracking index.
    async fn tracking_due(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<OrderId>>;
    /// Orders of the customer `key` recognizes placed between `from` and `to` (inclusive),
    /// through the duplicate indexes (at most a few hundred: a page is plenty for one customer).
    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>>;
}

/// Hands work to the next step (an SQS queue per step in AWS).
#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()>;
}

/// Publishes domain events (EventBridge in AWS).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()>;
}

/// The catalog: offers per store SKU and supplier profiles.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// The offers for `skus` and every supplier they reference.
    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView>;
    /// The offers for `skus` only (`suppliers` left empty): what validation needs.
    async fn offers(&self, skus: &[Sku]) -> PortResult<CatalogView>;
    async fn supplier(&self, id: &SupplierId) -> PortResult<Option<Supplier>>;
}

/// Supplier stock held for orders. Every change is atomic per SKU (a conditional write), and
/// idempotent per holder, so concurrent orders never take the same units and redeliveries never
/// take them twice.
#[async_trait]
pub trait StockLedger: Send + Sync {
    /// Holds `r.quantity` of the offer for `r.holder` if `fits` accepts the offer as stored now
    /// (its `reserved` counting every holder); a holder already holding is told so.
    async fn reserve(
        &self,
        r: &Reservation,
        fits: &(dyn for<'o> Fn(&'o Offer) -> bool + Send + Sync),
    ) -> PortResult<Reserved>;
    /// Gives the holder's units back; false when it held none.
    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool>;
    /// The supplier accepted: the held units leave its stock snapshot and the hold ends; false
    /// when the holder held none.
    async fn settle(&self, sku: &Sku, holder: &str) -> PortResult<bool>;
}

/// Errors sending a purchase order to a supplier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Timeout, connection refused, 429, 5xx: retry later.
    #[error("supplier unreachable: {0}")]
    Transient(String),
    /// The supplier refused the request itself (4xx): retrying the same document won't help.
    #[error("supplier refused the request: {0}")]
    Refused(String),
}

/// Sends purchase orders to suppliers.
#[async_trait]
pub trait SupplierGateway: Send + Sync {
    async fn submit(&self, supplier: &Supplier, po: &PurchaseOrderDocument) -> Result<SubmitReceipt, GatewayError>;
    /// Tells the supplier a purchase order is void. A supplier that no longer knows it, or
    /// already has it cancelled, answers success too.
    async fn cancel(&self, supplier: &Supplier, notice: &CancellationNotice) -> Result<(), GatewayError>;
}

/// Asks a carrier (or an aggregator) where a parcel is.
#[async_trait]
pub trait CarrierTracker: Send + Sync {
    async fn track(&self, carrier: &str, tracking_number: &str) -> PortResult<TrackingReport>;
}

/// Lets several handlers share one adapter.
pub type Shared<T> = Arc<T>;

/// A message taken from a step's queue (what Lambda's SQS event source mapping hands a function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Handle for deleting this receipt of the message.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
    pub sent_at: DateTime<Utc>,
}

/// The consuming side of the work queues: used by the local runner (playing Lambda's event source
/// mapping), the operator CLI (dead-letter queues) and tests. Lambda itself consumes in AWS.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` visible messages, hidden for the visibility timeout. A message received more
    /// than the queue's maxReceiveCount times moves to the dead-letter queue instead.
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>>;
    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()>;
    /// Messages in the step's dead-letter queue, left there as they were.
    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>>;
    /// Moves up to `max` dead letters back to the step's queue; returns how many moved.
    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize>;
}

/// A stored routing configuration: its text and where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigText {
    /// `routing.json`, `dynamodb:TABLE/ROUTING#CONFIG`, `ssm:/dropline/routing`.
    pub source: String,
    pub text: String,
}

/// Where the routing configuration lives: a file (demo, local runs), a DynamoDB item or an
/// SSM parameter (AWS).
#[async_trait]
pub trait RoutingConfigStore: Send + Sync {
    /// The stored configuration, if any.
    async fn fetch(&self) -> PortResult<Option<ConfigText>>;
    /// Stores a configuration the caller has checked whole. Refused (`Conflict`) unless its
    /// version is above the stored one: two operators can't overwrite each other unknowingly,
    /// and an old file is never applied by mistake.
    async fn publish(&self, version: u32, text: &str) -> PortResult<()>;
}

/// Supplier outcomes (answers, shipments, cancellations), each counted once per purchase order:
/// a redelivered callback, a retried step or two concurrent invocations recording the same
/// outcome count it once (a conditional write and the counter update in one transaction).
#[async_trait]
pub trait OutcomeLedger: Send + Sync {
    /// Counts `outcome` toward its supplier: true when counted now, false when this purchase
    /// order's outcome of that slot (answer, shipment, cancellation) was counted before.
    async fn record(&self, outcome: &Outcome) -> PortResult<bool>;
    /// The outcomes counted for `suppliers` (a supplier with none is left out).
    async fn measured(&self, suppliers: &[SupplierId]) -> PortResult<Measured>;
}
