//! Notify supplier: sends one purchase order to its supplier and records it as SUBMITTED.
//!
//! A supplier never receives the same purchase order twice from us:
//! * an idempotency record keyed on the purchase order id is taken before the send, with a lock
//!   that ends with the invocation holding it (Lambda's deadline plus a margin for clock skew):
//!   concurrent messages wait instead of resending, and a send cut short by a crash or a timeout
//!   is taken up by the first redelivery after that, not held for minutes by a dead holder;
//! * the stored result of a completed send is replayed if the state write after it was lost;
//! * every request carries an `Idempotency-Key` the supplier dedupes on, which covers the one
//!   case left (a crash after the supplier received the request but before we stored that).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Duration, Utc};
use dropline_app::batch::{StepError, process_batch};
use dropline_app::idempotency::{Begin, Idempotency, IdempotencyError, payload_hash};
use dropline_app::order_update::{load_order, update_from};
use dropline_app::outbox;
use dropline_app::ports::IdempotencyStore;
use dropline_app::ports::{
    Catalog, Clock, EventPublisher, GatewayError, OrderStore, StockLedger, SupplierGateway, WorkQueue,
};
use dropline_app::reroute::request_reroute;
use dropline_app::stock::reconcile_stock;
use dropline_domain::order::EventType;
use dropline_domain::order::{OrderRecord, PurchaseOrder, Rejection};
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::primitives::ids::PurchaseOrderId;
use dropline_domain::wire::messages::{Step, WorkMessage};
use dropline_domain::wire::supplier::{CancellationNotice, PurchaseOrderDocument, SubmitReceipt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

pub const ACTOR: &str = "notify-supplier";

pub struct NotifySupplier {
    pub store: Arc<dyn OrderStore>,
    pub catalog: Arc<dyn Catalog>,
    pub gateway: Arc<dyn SupplierGateway>,
    pub idempotency: Idempotency<dyn IdempotencyStore>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    /// Stock reservations: a refused purchase order gives its units back.
    pub stock: Arc<dyn StockLedger>,
    /// The route queue: a refused purchase order sends its lines back to routing. And its own
    /// queue, whose messages it leases for as long as the invocation lives.
    pub queue: Arc<dyn WorkQueue>,
    /// How long a send holds its purchase order's lock when the invocation's deadline is not
    /// known (the function's timeout): no send outlives its invocation, so a lock that ends
    /// with it never lets a retry overlap a send still in flight.
    pub send_lock: Duration,
    /// How long a message that failed stays hidden before its retry: the queue's own
    /// visibility timeout, which the lease shortened. None: messages are not leased (the
    /// queue's timeout applies), where the queue's clock is not the handler's.
    pub retry_after: Option<Duration>,
}

/// Past the invocation's deadline, for clocks that disagree by a little.
pub const LEASE_MARGIN_SECONDS: i64 = 5;

/// What the idempotency record stores about a send.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum SendOutcome {
    Delivered { receipt: SubmitReceipt },
    Refused { reason: String },
}

impl NotifySupplier {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_by(event, None).await
    }

    /// One invocation that must end by `deadline` (Lambda's): the send locks it takes end then.
    ///
    /// The messages are leased for as long as the locks (plus a second) instead of the queue's
    /// visibility timeout (six times the function's, as AWS advises): when the invocation dies
    /// (a crash, a timeout), its messages come back as soon as its locks have ended, and the
    /// first redelivery sends. A message that failed is hidden for the queue's own timeout
    /// again, so retries keep their pace. Both are best effort: without them the queue's
    /// timeout applies.
    pub async fn handle_by(&self, event: SqsEvent, deadline: Option<DateTime<Utc>>) -> SqsBatchResponse {
        let lease = self.lease_until(deadline);
        let receipts: Vec<(String, String)> =
            event.records.iter().filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?))).collect();
        let leased = deadline.and(self.retry_after);
        if leased.is_some() {
            let all: Vec<String> = receipts.iter().map(|(_, r)| r.clone()).collect();
            self.hide_for(&all, lease - self.clock.now() + Duration::seconds(1)).await;
        }
        let response = process_batch(ACTOR, event, |m| self.process_until(m, lease)).await;
        if let Some(retry_after) = leased {
            let failed: Vec<String> = receipts
                .iter()
                .filter(|(id, _)| response.batch_item_failures.iter().any(|f| &f.item_identifier == id))
                .map(|(_, r)| r.clone())
                .collect();
            self.hide_for(&failed, retry_after).await;
        }
        response
    }

    async fn hide_for(&self, receipts: &[String], span: Duration) {
        if receipts.is_empty() {
            return;
        }
        // Whole seconds, rounded up: never shorter than the span.
        let seconds = u32::try_from((span.num_milliseconds().max(0) + 999) / 1000).unwrap_or(u32::MAX);
        if let Err(e) = self.queue.keep_hidden(Step::NotifySupplier, receipts, seconds).await {
            tracing::warn!(error = %e, messages = receipts.len(), "message visibility unchanged; the queue's own applies");
        }
    }

    fn lease_until(&self, deadline: Option<DateTime<Utc>>) -> DateTime<Utc> {
        match deadline {
            Some(d) => d + Duration::seconds(LEASE_MARGIN_SECONDS),
            None => self.clock.now() + self.send_lock,
        }
    }

    pub async fn process(&self, message: WorkMessage) -> Result<(), StepError> {
        self.process_until(message, self.lease_until(None)).await
    }

    /// Handles one message; the locks it takes last until `lease` (the invocation's end).
    async fn process_until(&self, message: WorkMessage, lease: DateTime<Utc>) -> Result<(), StepError> {
        let Some(po_id) = message.po_id.clone() else {
            return Err(StepError::Poison("notify-supplier needs a purchase order id".into()));
        };
        let order_id = po_id.order_id().clone();
        let mut record = load_order(self.store.as_ref(), &order_id).await?;
        let Some(po) = record.po(&po_id).cloned() else {
            return Err(StepError::Poison(format!("order {order_id} has no purchase order {po_id}")));
        };
        if po.needs_void_notice() {
            // Escalate cancelled it for a missed acknowledgment, or the supplier accepted it after
            // its rejection: tell the supplier not to ship.
            self.send_void_notice(&po, lease).await?;
            reconcile_stock(self.stock.as_ref(), &po).await?;
            request_reroute(self.queue.as_ref(), &record, ACTOR).await?;
            return Ok(());
        }
        if !matches!(po.status, PoStatus::Pending | PoStatus::Sending) {
            tracing::info!(order_id = %order_id, po = %po_id, status = %po.status, "purchase order already sent");
            // A crash after recording a refusal left its units held, or its reroute unasked:
            // finish both (idempotent).
            reconcile_stock(self.stock.as_ref(), &po).await?;
            request_reroute(self.queue.as_ref(), &record, ACTOR).await?;
            return Ok(());
        }
        // A purchase order that may already be with the supplier is sent again under the same
        // key whatever the order's status (the supplier dedupes): only its answer settles it.
        if po.status == PoStatus::Pending && record.status != OrderStatus::Routed {
            tracing::info!(order_id = %order_id, po = %po_id, status = %record.status, "order no longer routed; not sending");
            return Ok(());
        }
        // A void notice this supplier is owed for an earlier purchase order of the order goes
        // first: it must not hold the same lines twice, even for a moment.
        let owed: Vec<PurchaseOrder> = record
            .purchase_orders
            .iter()
            .filter(|p| p.supplier_id == po.supplier_id && p.owes_void_notice())
            .cloned()
            .collect();
        for old in &owed {
            if let Some(saved) = self.send_void_notice(old, lease).await? {
                record = saved;
            }
        }
        let supplier = self
            .catalog
            .supplier(&po.supplier_id)
            .await?
            .ok_or_else(|| StepError::Poison(format!("supplier {} is not configured", po.supplier_id)))?;
        let document = PurchaseOrderDocument::build(&record, &po);
        let body = serde_json::to_vec(&document).map_err(|e| StepError::Poison(e.to_string()))?;
        let key = format!("notify:{po_id}");
        let now = self.clock.now();

        let outcome = match self.idempotency.begin(&key, &payload_hash(&body), now, lease).await {
            Ok(Begin::Completed(stored)) => {
                tracing::info!(order_id = %order_id, po = %po_id, "already sent; recording the stored outcome");
                serde_json::from_str::<SendOutcome>(&stored)
                    .map_err(|e| StepError::Poison(format!("unreadable stored send outcome: {e}")))?
            }
            Ok(Begin::Proceed) => {
                // Recorded before the call: if its answer is lost, nothing takes the purchase
                // order for unsent.
                record = self.mark_sending(record, &po_id, &key).await?;
                match self.gateway.submit(&supplier, &document).await {
                    Ok(receipt) => {
                        let outcome = SendOutcome::Delivered { receipt };
                        self.remember(&key, &outcome).await;
                        outcome
                    }
                    Err(GatewayError::Refused(reason)) => {
                        // The reason may echo customer data: it goes to the order, not to the log.
                        tracing::warn!(order_id = %order_id, po = %po_id, supplier = %supplier.id, "supplier refused the purchase order");
                        let outcome = SendOutcome::Refused { reason };
                        self.remember(&key, &outcome).await;
                        outcome
                    }
                    Err(GatewayError::Transient(reason)) => {
                        // Free the key so the retry (SQS redelivery) sends again.
                        if let Err(e) = self.idempotency.abandon(&key).await {
                            tracing::warn!(order_id = %order_id, po = %po_id, error = %e, "lock not released; it expires on its own");
                        }
                        return Err(StepError::Retry(format!("supplier {} unreachable: {reason}", supplier.id)));
                    }
                }
            }
            Err(IdempotencyError::InProgress(_)) => {
                return Err(StepError::Retry(format!("purchase order {po_id} is being sent by another invocation")));
            }
            Err(IdempotencyError::PayloadMismatch(_)) => {
                return Err(StepError::Poison(format!(
                    "purchase order {po_id} changed after it was sent; not sending a second version"
                )));
            }
            Err(IdempotencyError::Store(e)) => return Err(e.into()),
        };

        let now = self.clock.now();
        let updated = update_from(self.store.as_ref(), &order_id, Some(record), |r| {
            if !matches!(r.po(&po_id).map(|p| p.status), Some(PoStatus::Pending | PoStatus::Sending)) {
                return Ok(None);
            }
            let to_error = |e: dropline_domain::order::TransitionError| StepError::Poison(e.to_string());
            let detail_type = match &outcome {
                SendOutcome::Delivered { receipt } => {
                    if let Some(p) = r.purchase_orders.iter_mut().find(|p| p.id == po_id)
                        && p.supplier_reference.is_none()
                    {
                        p.supplier_reference = receipt.supplier_reference.clone();
                    }
                    r.transition_po(&po_id, PoStatus::Submitted, ACTOR, "", now).map_err(to_error)?;
                    EventType::PurchaseOrderSubmitted
                }
                SendOutcome::Refused { reason } => {
                    r.transition_po(&po_id, PoStatus::Submitted, ACTOR, "", now).map_err(to_error)?;
                    if let Some(p) = r.purchase_orders.iter_mut().find(|p| p.id == po_id) {
                        p.rejection =
                            Some(Rejection { code: Rejection::SUBMISSION_REFUSED.into(), message: reason.clone() });
                    }
                    r.transition_po(&po_id, PoStatus::Rejected, ACTOR, "submission refused", now).map_err(to_error)?;
                    EventType::PurchaseOrderRejected
                }
            };
            // In the same write as the change it reports.
            r.emit_about(
                ACTOR,
                detail_type,
                &po_id.to_string(),
                json!({"purchase_order_id": po_id, "po_number": po.number, "supplier_id": po.supplier_id}),
                now,
            );
            Ok(Some(detail_type))
        })
        .await?;
        if let Some(detail_type) = updated.value {
            tracing::info!(order_id = %order_id, po = %po_id, supplier = %supplier.id, event = %detail_type, "purchase order recorded");
        }
        let record = outbox::drain(self.events.as_ref(), self.store.as_ref(), updated.record).await;
        if let Some(p) = record.po(&po_id) {
            reconcile_stock(self.stock.as_ref(), p).await?;
        }
        request_reroute(self.queue.as_ref(), &record, ACTOR).await?;
        Ok(())
    }

    /// Sends `po`'s void notice (once) and records it sent, so escalate's sweep stops asking.
    /// Returns the order as saved when that record was written.
    async fn send_void_notice(
        &self,
        po: &PurchaseOrder,
        lease: DateTime<Utc>,
    ) -> Result<Option<OrderRecord>, StepError> {
        self.send_cancellation(po, lease).await?;
        if po.void_notice_sent {
            return Ok(None);
        }
        let u = dropline_app::order_update::update_order(self.store.as_ref(), po.id.order_id(), |r| {
            let p = r.purchase_orders.iter_mut().find(|p| p.id == po.id).filter(|p| !p.void_notice_sent);
            Ok(p.map(|p| p.void_notice_sent = true))
        })
        .await?;
        Ok(Some(u.record))
    }

    /// Records that a send is being attempted (PENDING -> SENDING) before the supplier is called.
    /// A failure to record it frees the send lock: the retry tries again.
    async fn mark_sending(
        &self,
        record: OrderRecord,
        po_id: &PurchaseOrderId,
        key: &str,
    ) -> Result<OrderRecord, StepError> {
        let now = self.clock.now();
        let marked = update_from(self.store.as_ref(), po_id.order_id(), Some(record), |r| {
            if r.po(po_id).map(|p| p.status) != Some(PoStatus::Pending) {
                return Ok(None);
            }
            r.transition_po(po_id, PoStatus::Sending, ACTOR, "sending", now)
                .map(Some)
                .map_err(|e| StepError::Poison(e.to_string()))
        })
        .await;
        match marked {
            Ok(u) => Ok(u.record),
            Err(e) => {
                if let Err(abandon) = self.idempotency.abandon(key).await {
                    tracing::warn!(po = %po_id, error = %abandon, "lock not released; it expires on its own");
                }
                Err(e)
            }
        }
    }

    /// Sends the cancellation notice of `po` once: an idempotency record per purchase order
    /// keeps redeliveries from sending it again (the notice's own idempotency key covers a
    /// crash between the send and the record).
    async fn send_cancellation(&self, po: &PurchaseOrder, lease: DateTime<Utc>) -> Result<(), StepError> {
        let order_id = po.id.order_id();
        let notice = CancellationNotice::for_po(po);
        let key = format!("notify-cancel:{}", po.id);
        let now = self.clock.now();
        // The hash covers what identifies the notice, not what moves after (the purchase order's
        // status time changes when an operator supersedes it): a retry is the same notice.
        let identity = format!("{}:{}", notice.purchase_order_id, notice.reason);
        match self.idempotency.begin(&key, &payload_hash(identity.as_bytes()), now, lease).await {
            Ok(Begin::Completed(_)) => {
                tracing::info!(order_id = %order_id, po = %po.id, "cancellation already sent");
                return Ok(());
            }
            Ok(Begin::Proceed) => {}
            Err(IdempotencyError::InProgress(_)) => {
                return Err(StepError::Retry(format!("cancellation of {} is being sent", po.id)));
            }
            // Another notice for the same purchase order (its reason changed): this one was sent.
            Err(IdempotencyError::PayloadMismatch(_)) => return Ok(()),
            Err(IdempotencyError::Store(e)) => return Err(e.into()),
        }
        let supplier = self
            .catalog
            .supplier(&po.supplier_id)
            .await?
            .ok_or_else(|| StepError::Poison(format!("supplier {} is not configured", po.supplier_id)))?;
        match self.gateway.cancel(&supplier, &notice).await {
            Ok(()) => {
                tracing::info!(order_id = %order_id, po = %po.id, supplier = %po.supplier_id, "supplier told the purchase order is cancelled");
                if let Err(e) = self.idempotency.complete(&key, "{}", self.clock.now()).await {
                    tracing::warn!(order_id = %order_id, po = %po.id, error = %e, "cancellation not recorded as sent; a retry resends it with the same key");
                }
                Ok(())
            }
            Err(e) => {
                if let Err(e) = self.idempotency.abandon(&key).await {
                    tracing::warn!(order_id = %order_id, po = %po.id, error = %e, "lock not released; it expires on its own");
                }
                match e {
                    GatewayError::Transient(m) => Err(StepError::Retry(format!("cancellation of {}: {m}", po.id))),
                    GatewayError::Refused(m) => {
                        Err(StepError::Poison(format!("cancellation of {} refused: {m}", po.id)))
                    }
                }
            }
        }
    }

    async fn remember(&self, key: &str, outcome: &SendOutcome) {
        let data = serde_json::to_string(outcome).unwrap_or_default();
        if let Err(e) = self.idempotency.complete(key, &data, self.clock.now()).await {
            // The lock then holds until it expires; the retry after that resends with the same
            // Idempotency-Key, which the supplier dedupes.
            tracing::warn!(key, error = %e, "send outcome not stored");
        }
    }
}
