//! What every queue-driven step shares: per-message processing with partial batch failures, and
//! the optimistic read-modify-write loop on an order.

use crate::ports::{OrderStore, PortError, StockLedger};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_domain::catalog::Reservation;
use dropline_domain::order::PoStatus;
use dropline_domain::order::{OrderRecord, PurchaseOrder};
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::wire::messages::WorkMessage;
use std::future::Future;

/// Why a message was not processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Try again later: the message goes back to the queue and is retried.
    #[error("retryable: {0}")]
    Retry(String),
    /// The message can never be processed: it fails on every receive and so reaches the
    /// dead-letter queue after maxReceiveCount, its reason logged each time.
    #[error("unprocessable: {0}")]
    Poison(String),
}

impl From<PortError> for StepError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Transient(_) | PortError::Conflict(_) => StepError::Retry(e.to_string()),
            PortError::Permanent(_) => StepError::Poison(e.to_string()),
        }
    }
}

/// Runs `handle` on each record of the batch, separately and concurrently (a slow supplier does
/// not make its batch-mates wait), and reports only the failed ones, so one bad message never
/// fails its batch-mates.
pub async fn process_batch<F, Fut>(step: &str, event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(WorkMessage) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let work = event.records.into_iter().map(|record| {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = record.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        let parsed = WorkMessage::parse(record.body.as_deref().unwrap_or(""));
        let handle = &handle;
        async move {
            let message = match parsed {
                Ok(m) => m,
                Err(reason) => {
                    tracing::error!(
                        step,
                        message_id,
                        receive_count,
                        reason,
                        "poison message: cannot be parsed; it will reach the dead-letter queue"
                    );
                    return Some(message_id);
                }
            };
            let order_id = message.order_id.to_string();
            match handle(message).await {
                Ok(()) => None,
                Err(StepError::Retry(reason)) => {
                    tracing::warn!(step, message_id, order_id, receive_count, reason, "message will be retried");
                    Some(message_id)
                }
                Err(StepError::Poison(reason)) => {
                    tracing::error!(
                        step,
                        message_id,
                        order_id,
                        receive_count,
                        reason,
                        "poison message: cannot be processed; it will reach the dead-letter queue"
                    );
                    Some(message_id)
                }
            }
        }
    });
    let mut response = SqsBatchResponse::default();
    for failed in futures_util::future::join_all(work).await.into_iter().flatten() {
        fail(&mut response, failed);
    }
    response
}

fn fail(response: &mut SqsBatchResponse, message_id: String) {
    if message_id.is_empty() {
        // Lambda treats an empty identifier as a failure of the whole batch; a record without an
        // id cannot be reported alone, so this is the only safe answer for it.
        tracing::error!("record without a message id; failing it");
    }
    response.add_failure(message_id);
}

/// Loads an order a message names; a message for an order that doesn't exist can never be
/// processed.
pub async fn load_order(store: &dyn OrderStore, id: &OrderId) -> Result<OrderRecord, StepError> {
    store.get(id).await?.ok_or_else(|| StepError::Poison(format!("order {id} does not exist")))
}

/// What `update_order` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated<T> {
    pub record: OrderRecord,
    /// False when `change` found nothing to do (the record is as loaded).
    pub changed: bool,
    pub value: T,
}

/// Loads the order, applies `change` and saves it with the version check, retrying from a fresh
/// read when another writer got there first. `change` returns `Ok(None)` when there is nothing to
/// do, `Ok(Some(v))` after changing the record.
pub async fn update_order<T, F>(
    store: &dyn OrderStore,
    id: &OrderId,
    change: F,
) -> Result<Updated<Option<T>>, StepError>
where
    F: FnMut(&mut OrderRecord) -> Result<Option<T>, StepError>,
{
    update_from(store, id, None, change).await
}

/// Like `update_order`, starting from a record the caller has just read (saving that read);
/// a version conflict reloads.
pub async fn update_from<T, F>(
    store: &dyn OrderStore,
    id: &OrderId,
    loaded: Option<OrderRecord>,
    mut change: F,
) -> Result<Updated<Option<T>>, StepError>
where
    F: FnMut(&mut OrderRecord) -> Result<Option<T>, StepError>,
{
    const ATTEMPTS: usize = 8;
    let mut loaded = loaded;
    for attempt in 1..=ATTEMPTS {
        let current = match loaded.take() {
            Some(r) => r,
            None => load_order(store, id).await?,
        };
        let mut next = current.clone();
        match change(&mut next)? {
            None => return Ok(Updated { record: current, changed: false, value: None }),
            Some(v) => match store.save(&next).await {
                Ok(saved) => return Ok(Updated { record: saved, changed: true, value: Some(v) }),
                Err(PortError::Conflict(_)) if attempt < ATTEMPTS => {
                    tracing::debug!(order_id = %id, attempt, "version conflict; reloading");
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    Err(StepError::Retry(format!("order {id}: too many concurrent writers")))
}

/// Gives back the stock held for a purchase order's lines (idempotent: holders are per PO line).
pub async fn release_po(stock: &dyn StockLedger, po: &PurchaseOrder) -> Result<(), PortError> {
    for line in &po.lines {
        stock.release(&line.sku, &Reservation::holder_for(&po.id, &line.line_id, &po.supplier_id)).await?;
    }
    Ok(())
}

/// Brings a purchase order's stock reservations in line with its status: released when it was
/// rejected or cancelled, settled (the units leave the supplier's snapshot) once the supplier
/// accepted or shipped it. Idempotent, so callers run it after every change and again on every
/// redelivery, and a crash between the state write and here loses nothing.
pub async fn reconcile_stock(stock: &dyn StockLedger, po: &PurchaseOrder) -> Result<(), PortError> {
    match po.status {
        PoStatus::Rejected | PoStatus::Cancelled => release_po(stock, po).await,
        PoStatus::Accepted | PoStatus::Shipped | PoStatus::Delivered => {
            for line in &po.lines {
                stock.settle(&line.sku, &Reservation::holder_for(&po.id, &line.line_id, &po.supplier_id)).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// When a purchase order's failure sent the order back to routing (`VALIDATED`), asks route to
/// place its lines again. Called after every state write that can cause it, and again on every
/// redelivery while the order waits (route is idempotent; escalation re-enqueues a forgotten one).
pub async fn request_reroute(
    queue: &dyn crate::ports::WorkQueue,
    record: &OrderRecord,
    actor: &str,
) -> Result<(), crate::ports::PortError> {
    if record.status != dropline_domain::order::OrderStatus::Validated || record.purchase_orders.is_empty() {
        return Ok(());
    }
    tracing::info!(order_id = %record.id, lines = ?record.uncovered_lines(), "rerouting");
    queue
        .enqueue(
            dropline_domain::wire::messages::Step::Route,
            &[dropline_domain::wire::messages::WorkMessage::order(record.id.clone(), actor)],
        )
        .await
}

/// Counts the outcomes a purchase order has reached in `slots` (those the caller's change can
/// have produced: `performance::ALL_SLOTS` when unsure) toward its supplier's performance.
/// Idempotent (the ledger counts each once), so callers run it after every change and again on
/// every redelivery, and a crash between the state write and here loses nothing.
pub async fn record_outcomes(
    ledger: &dyn crate::ports::OutcomeLedger,
    po: &PurchaseOrder,
    slots: &[&str],
) -> Result<(), PortError> {
    for outcome in dropline_domain::performance::outcomes_of(po).into_iter().filter(|o| slots.contains(&o.kind.slot()))
    {
        if ledger.record(&outcome).await? {
            tracing::info!(order_id = %po.id.order_id(), po = %po.id, supplier = %po.supplier_id, outcome = ?outcome.kind, "supplier outcome counted");
        }
    }
    Ok(())
}
