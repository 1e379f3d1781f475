//! Route: chooses the supplier for every line of a validated order and creates one purchase
//! order per supplier (`1001-1`, `1001-2`), or holds the order when some line can't be placed.
//!
//! Idempotent under redelivery: purchase orders are created in the same conditional write that
//! moves the order from VALIDATED to ROUTED; a message for an order already routed re-sends its
//! still-pending purchase orders to notify-supplier.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_shared::events::DomainEvent;
use dropline_shared::ids::Sku;
use dropline_shared::messages::{Step, WorkMessage};
use dropline_shared::ports::{Catalog, Clock, EventPublisher, OrderStore, WorkQueue};
use dropline_shared::routing::plan;
use dropline_shared::status::{OrderStatus, PoStatus};
use dropline_shared::validation::UnknownStock;
use dropline_shared::worker::{StepError, load_order, process_batch, update_from};
use std::sync::Arc;

pub const ACTOR: &str = "route";

pub struct Route {
    pub store: Arc<dyn OrderStore>,
    pub catalog: Arc<dyn Catalog>,
    pub queue: Arc<dyn WorkQueue>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    /// Whether an offer with a stale stock snapshot may be chosen (the validation policy's).
    pub unknown_stock: UnknownStock,
}

impl Route {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(ACTOR, event, |m| self.process(m)).await
    }

    pub async fn process(&self, message: WorkMessage) -> Result<(), StepError> {
        let id = &message.order_id;
        let mut record = load_order(self.store.as_ref(), id).await?;
        let mut changed = false;
        if record.status == OrderStatus::Validated {
            let skus: Vec<Sku> = record.order.lines.iter().filter_map(|l| l.sku.clone()).collect();
            let catalog = self.catalog.view(&skus).await?;
            let now = self.clock.now();
            let decision = plan(&record.order, &catalog, now, self.unknown_stock);
            let updated = update_from(self.store.as_ref(), id, Some(record.clone()), |r| {
                if r.status != OrderStatus::Validated {
                    return Ok(None);
                }
                let result = match &decision {
                    Ok(plans) => {
                        let number = r.order.number().to_string();
                        // Continue after any earlier purchase orders (a re-route after a hold), so
                        // ids and idempotency keys never repeat.
                        let first = r.purchase_orders.iter().map(|p| p.id.seq()).max().unwrap_or(0);
                        for (i, p) in plans.iter().enumerate() {
                            let seq = u16::try_from(i + 1)
                                .ok()
                                .and_then(|n| first.checked_add(n))
                                .ok_or_else(|| StepError::Poison("too many purchase orders".into()))?;
                            r.purchase_orders.push(p.clone().into_purchase_order(&r.id, &number, seq, now));
                        }
                        let summary: Vec<String> =
                            r.purchase_orders.iter().map(|p| format!("{} -> {}", p.number, p.supplier_id)).collect();
                        r.transition(OrderStatus::Routed, ACTOR, summary.join(", "), now)
                    }
                    Err(reasons) => r.hold(reasons.clone(), ACTOR, now),
                };
                result.map_err(|e| StepError::Poison(e.to_string()))?;
                Ok(Some(()))
            })
            .await?;
            record = updated.record;
            changed = updated.changed;
            if changed {
                match record.status {
                    OrderStatus::Routed => {
                        tracing::info!(order_id = %id, purchase_orders = record.purchase_orders.len(), "order routed")
                    }
                    OrderStatus::OnHold => tracing::info!(order_id = %id, "order held: no route"),
                    _ => {}
                }
            }
        }
        if record.status_set_by() != Some(ACTOR) || !matches!(record.status, OrderStatus::Routed | OrderStatus::OnHold)
        {
            tracing::debug!(order_id = %id, status = %record.status, "nothing to route");
            return Ok(());
        }
        if !changed {
            tracing::info!(order_id = %id, status = %record.status, "redelivered; finishing what the first attempt began");
        }
        let pending: Vec<WorkMessage> = record
            .purchase_orders
            .iter()
            .filter(|p| p.status == PoStatus::Pending)
            .map(|p| WorkMessage::purchase_order(p.id.clone(), ACTOR))
            .collect();
        self.queue.enqueue(Step::NotifySupplier, &pending).await?;
        self.events.publish(&[DomainEvent::for_status(ACTOR, &record, self.clock.now())]).await?;
        Ok(())
    }
}
