//! Validate: checks a received order against the rules and the catalog, then moves it to
//! VALIDATED (and on to routing) or ON_HOLD with every reason found.
//!
//! Idempotent under redelivery: the transition is a conditional write from RECEIVED; a message
//! for an order already validated re-sends it to routing (the first attempt may have died before
//! the enqueue) and otherwise does nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dropline_app::batch::{StepError, process_batch};
use dropline_app::order_update::{load_order, update_from};
use dropline_app::outbox;
use dropline_app::ports::{Catalog, Clock, EventPublisher, OrderStore, WorkQueue};
use dropline_domain::findings::HoldReason;
use dropline_domain::findings::apply_overrides;
use dropline_domain::order::OrderStatus;
use dropline_domain::order::TimelineKind;
use dropline_domain::primitives::ids::Sku;
use dropline_domain::validation::duplicates::{FingerprintKey, customer_keys, probable_duplicate};
use dropline_domain::validation::{ValidationPolicy, validate};
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::sync::Arc;

pub const ACTOR: &str = "validate";

pub struct Validate {
    pub store: Arc<dyn OrderStore>,
    pub catalog: Arc<dyn Catalog>,
    pub queue: Arc<dyn WorkQueue>,
    pub events: Arc<dyn EventPublisher>,
    pub policy: ValidationPolicy,
    pub clock: Arc<dyn Clock>,
    /// The key of the customer fingerprints (duplicate detection); only validation holds it.
    pub fingerprints: FingerprintKey,
}

impl Validate {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(ACTOR, event, |m| self.process(m)).await
    }

    pub async fn process(&self, message: WorkMessage) -> Result<(), StepError> {
        let id = &message.order_id;
        let mut record = load_order(self.store.as_ref(), id).await?;
        let mut changed = false;
        if record.status == OrderStatus::Received {
            let skus: Vec<Sku> = record.order.lines.iter().filter_map(|l| l.sku.clone()).collect();
            // The order's own reservations (a re-validation after a hold) are its own units.
            let catalog = self.catalog.view_for(&skus, id).await?;
            let now = self.clock.now();
            let mut report = validate(&record.order, &catalog, &self.policy, now);
            // Probable duplicates, through the customer indexes (one Query per key).
            let window = self.policy.duplicate_window;
            let placed = record.order.created_at;
            let mut candidates = Vec::new();
            let keys = customer_keys(&record.order, &self.fingerprints);
            for key in &keys {
                let from = placed.checked_sub_signed(window).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                let to = placed.checked_add_signed(window).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
                candidates.extend(self.store.same_customer(key, from, to).await?);
            }
            report.findings.extend(probable_duplicate(id, &record.order, &candidates, window));
            let updated = update_from(self.store.as_ref(), id, Some(record.clone()), |r| {
                if r.status != OrderStatus::Received {
                    return Ok(None);
                }
                // An operator's overrides turn those holds into warnings.
                let (holds, warnings): (Vec<HoldReason>, Vec<HoldReason>) =
                    apply_overrides(&report.findings, &r.overrides).into_iter().partition(HoldReason::holds);
                r.warnings = dropline_domain::findings::grouped(warnings);
                r.service_level = report.service_level;
                // Into the duplicate indexes with this write: later orders find this one.
                r.customer_keys = keys.clone();
                if let Some(verdict) = &report.address
                    && !verdict.changes.is_empty()
                {
                    // Normalization is applied and recorded, field by field.
                    let changed: Vec<String> =
                        verdict.changes.iter().map(|c| format!("{}: {:?} -> {:?}", c.field, c.from, c.to)).collect();
                    r.order.shipping_address = Some(verdict.address.clone());
                    r.note(ACTOR, TimelineKind::Note, None, format!("address normalized: {}", changed.join("; ")), now);
                }
                let result = if holds.is_empty() {
                    r.transition(OrderStatus::Validated, ACTOR, "", now)
                } else {
                    r.hold(holds, ACTOR, now)
                };
                result.map_err(|e| StepError::Poison(e.to_string()))?;
                Ok(Some(()))
            })
            .await?;
            record = updated.record;
            changed = updated.changed;
            match record.status {
                OrderStatus::Validated => tracing::info!(order_id = %id, "order validated"),
                OrderStatus::OnHold => {
                    let codes: Vec<&str> = record.holds.iter().map(|h| h.code.as_str()).collect();
                    tracing::info!(order_id = %id, reasons = ?codes, "order held");
                }
                _ => {}
            }
        }
        if record.status_set_by() != Some(ACTOR)
            || !matches!(record.status, OrderStatus::Validated | OrderStatus::OnHold)
        {
            tracing::debug!(order_id = %id, status = %record.status, "nothing to validate");
            return Ok(());
        }
        if !changed {
            tracing::info!(order_id = %id, status = %record.status, "redelivered; finishing what the first attempt began");
        }
        // Push on, then tell the world; both are repeated on redelivery, so a crash between the
        // state write and here loses nothing.
        if record.status == OrderStatus::Validated {
            self.queue.enqueue(Step::Route, &[WorkMessage::order(id.clone(), ACTOR)]).await?;
        }
        // The status event went into the outbox with the transition; publish it now.
        outbox::drain(self.events.as_ref(), self.store.as_ref(), record).await;
        Ok(())
    }
}
