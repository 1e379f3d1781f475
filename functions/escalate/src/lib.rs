//! Escalate: on a schedule, finds orders overdue in their status (through the `by-status`
//! index, never a scan), records an escalation on each, re-enqueues work that got stuck in an
//! automatic step, and publishes `OrderEscalated`. It also enforces acknowledgment deadlines:
//! a purchase order its supplier did not acknowledge by its promise's `ack_by` is cancelled,
//! the supplier excluded, and the order sent back to routing (route gives the units back).
//!
//! Overlapping runs escalate nothing twice: an escalation is identified by (kind, status episode,
//! round) and recorded under the order's version check; only the run whose write lands
//! re-enqueues and publishes.

use chrono::{DateTime, Utc};
use dropline_app::batch::StepError;
use dropline_app::order_update::update_order;
use dropline_app::outbox;
use dropline_app::outcomes::record_outcomes;
use dropline_app::ports::{Clock, EventPublisher, OrderRef, OrderStore, OutcomeLedger, WorkQueue};
use dropline_app::reroute::request_reroute;
use dropline_domain::escalation::{Thresholds, plan};
use dropline_domain::order::EventType;
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::performance::OutcomeSlot;
use dropline_domain::primitives::ids::PurchaseOrderId;
use dropline_domain::routing::config::MIN_ACK_DEADLINE_HOURS;
use dropline_domain::wire::messages::{Step, WorkMessage};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const ACTOR: &str = "escalate";

/// How many pages of `batch_size` rows one status may scan in one run.
const MAX_PAGES: usize = 10;

pub struct Escalate {
    pub store: Arc<dyn OrderStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    /// A missed acknowledgment deadline counts against the supplier's performance.
    pub outcomes: Arc<dyn OutcomeLedger>,
    pub thresholds: Thresholds,
    /// Orders escalated per status per run (and the page size of the index query).
    pub batch_size: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationSummary {
    /// Overdue orders looked at (some already escalated in their current round).
    pub overdue: usize,
    pub escalated: usize,
    pub requeued: usize,
    /// Escalations by kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Purchase orders cancelled for a missed acknowledgment deadline (their orders rerouted).
    pub ack_deadlines_missed: usize,
    /// Events left in orders' outboxes, published by the sweep.
    pub events_republished: usize,
    pub errors: usize,
}

impl Escalate {
    pub async fn run(&self) -> Result<EscalationSummary, StepError> {
        let now = self.clock.now();
        let mut summary = EscalationSummary::default();
        for (status, limit) in self.thresholds.iter() {
            // Page through the overdue orders, oldest first: orders already escalated in their
            // current round are passed over without starving the newer ones behind them.
            let mut after: Option<OrderRef> = None;
            let mut acted = 0;
            let mut scanned = 0;
            loop {
                let page =
                    self.store.in_status_since_before(status, now - limit, self.batch_size, after.as_ref()).await?;
                scanned += page.len();
                summary.overdue += page.len();
                for o in &page {
                    if self.escalate_one(o, now, &mut summary).await {
                        acted += 1;
                    }
                }
                if page.len() < self.batch_size || acted >= self.batch_size || scanned >= self.batch_size * MAX_PAGES {
                    break;
                }
                after = page.last().cloned();
            }
        }
        self.enforce_ack_deadlines(now, &mut summary).await?;
        self.sweep_outboxes(now, &mut summary).await?;
        tracing::info!(?summary, "escalation run done");
        Ok(summary)
    }

    /// Cancels submitted purchase orders past their acknowledgment deadline and reroutes their
    /// orders. Orders with an unacknowledged purchase order are ROUTED (another still pending)
    /// or SUBMITTED (not all acknowledged).
    async fn enforce_ack_deadlines(
        &self,
        now: DateTime<Utc>,
        summary: &mut EscalationSummary,
    ) -> Result<(), StepError> {
        // Orders younger than the shortest deadline in their status can't have a late purchase order.
        let before = now - chrono::Duration::hours(i64::from(MIN_ACK_DEADLINE_HOURS));
        for status in [OrderStatus::Routed, OrderStatus::Submitted] {
            let mut after: Option<OrderRef> = None;
            for _ in 0..MAX_PAGES {
                let page = self.store.in_status_since_before(status, before, self.batch_size, after.as_ref()).await?;
                for o in &page {
                    self.expire_acknowledgments(o, now, summary).await;
                }
                if page.len() < self.batch_size {
                    break;
                }
                after = page.last().cloned();
            }
        }
        Ok(())
    }

    async fn expire_acknowledgments(&self, o: &OrderRef, now: DateTime<Utc>, summary: &mut EscalationSummary) {
        let updated = update_order(self.store.as_ref(), &o.id, |r| {
            let late: Vec<PurchaseOrderId> = r
                .purchase_orders
                .iter()
                .filter(|p| {
                    // Sent, or maybe sent (the outcome unknown): either way it gets a void notice.
                    matches!(p.status, PoStatus::Submitted | PoStatus::Sending)
                        && p.promise.as_ref().is_some_and(|pr| pr.ack_by < now)
                })
                .map(|p| p.id.clone())
                .collect();
            if late.is_empty() {
                return Ok(None);
            }
            for id in &late {
                r.miss_acknowledgment(id, ACTOR, now).map_err(|e| StepError::Poison(e.to_string()))?;
                let supplier = r.po(id).map(|p| p.supplier_id.to_string()).unwrap_or_default();
                r.emit_about(
                    ACTOR,
                    EventType::PurchaseOrderCancelled,
                    &id.to_string(),
                    json!({"purchase_order_id": id, "supplier_id": supplier, "reason": "ack_deadline_missed"}),
                    now,
                );
            }
            Ok(Some(late))
        })
        .await;
        let u = match updated {
            Ok(u) => u,
            Err(e) => {
                summary.errors += 1;
                tracing::warn!(order_id = %o.id, error = %e, "acknowledgment deadline not enforced");
                return;
            }
        };
        let dropline_app::order_update::Updated { record, value: Some(late), .. } = u else { return };
        summary.ack_deadlines_missed += late.len();
        for id in &late {
            let supplier = record.po(id).map(|p| p.supplier_id.to_string()).unwrap_or_default();
            tracing::warn!(order_id = %o.id, po = %id, supplier = %supplier, "acknowledgment deadline missed; purchase order cancelled");
        }
        // Tell each supplier its purchase order is void (notify-supplier sends it once). A lost
        // request is made again by the outbox sweep, until notify records the notice sent.
        let notices: Vec<WorkMessage> = late.iter().map(|id| WorkMessage::purchase_order(id.clone(), ACTOR)).collect();
        if let Err(e) = self.queue.enqueue(Step::NotifySupplier, &notices).await {
            summary.errors += 1;
            tracing::error!(order_id = %o.id, error = %e, "cancellation notices not requested");
        }
        // Lost on a crash here, it is counted when route places the lines again.
        for po in late.iter().filter_map(|id| record.po(id)) {
            if let Err(e) = record_outcomes(self.outcomes.as_ref(), po, &[OutcomeSlot::Answer]).await {
                summary.errors += 1;
                tracing::warn!(order_id = %o.id, po = %po.id, error = %e, "missed acknowledgment not counted");
            }
        }
        let record = outbox::drain(self.events.as_ref(), self.store.as_ref(), record).await;
        // A lost request is made again by the `validated` threshold's re-enqueue.
        if let Err(e) = request_reroute(self.queue.as_ref(), &record, ACTOR).await {
            summary.errors += 1;
            tracing::error!(order_id = %o.id, error = %e, "reroute not requested");
        }
    }

    /// Delivers what orders still owe the world (through the `outbox-due` index): events a step
    /// could not publish (a failure, a crash, an operator's CLI, which publishes nothing itself)
    /// and void notices not yet sent to their supplier.
    async fn sweep_outboxes(&self, now: DateTime<Utc>, summary: &mut EscalationSummary) -> Result<(), StepError> {
        // Younger than a minute: the step that wrote it is most likely draining it now.
        let due = self.store.outbox_due(now - chrono::Duration::minutes(1), self.batch_size * MAX_PAGES).await?;
        for id in due {
            let record = match dropline_app::order_update::load_order(self.store.as_ref(), &id).await {
                Ok(r) => r,
                Err(e) => {
                    summary.errors += 1;
                    tracing::warn!(order_id = %id, error = %e, "outbox not swept");
                    continue;
                }
            };
            let notices: Vec<WorkMessage> = record
                .purchase_orders
                .iter()
                .filter(|p| p.owes_void_notice())
                .map(|p| WorkMessage::purchase_order(p.id.clone(), ACTOR))
                .collect();
            if !notices.is_empty() {
                match self.queue.enqueue(Step::NotifySupplier, &notices).await {
                    Ok(()) => summary.requeued += notices.len(),
                    Err(e) => {
                        summary.errors += 1;
                        tracing::error!(order_id = %id, error = %e, "void notices not requested");
                    }
                }
            }
            let pending = record.outbox.len();
            let after = outbox::drain(self.events.as_ref(), self.store.as_ref(), record).await;
            summary.events_republished += pending.saturating_sub(after.outbox.len());
        }
        Ok(())
    }

    /// Records this round's escalation of one order if no run did yet; true when it did.
    async fn escalate_one(&self, o: &OrderRef, now: DateTime<Utc>, summary: &mut EscalationSummary) -> bool {
        let updated = update_order(self.store.as_ref(), &o.id, |r| {
            // Decided on the fresh record, so a concurrent run that already recorded this round
            // leaves nothing to do.
            let Some(p) = plan(r, &self.thresholds, now) else { return Ok(None) };
            r.record_escalation(p.escalation.clone(), ACTOR);
            let e = &p.escalation;
            r.emit_about(
                ACTOR,
                EventType::OrderEscalated,
                &format!("{}/{}/{}", e.kind.as_str(), e.status_since.timestamp_millis(), e.round),
                json!({"kind": e.kind, "round": e.round, "message": e.message, "since": e.status_since}),
                now,
            );
            Ok(Some(p))
        })
        .await;
        let u = match updated {
            Ok(u) => u,
            Err(e) => {
                summary.errors += 1;
                tracing::warn!(order_id = %o.id, error = %e, "escalation not recorded");
                return false;
            }
        };
        let Some(p) = u.value else { return false };
        summary.escalated += 1;
        *summary.by_kind.entry(p.escalation.kind.as_str().to_string()).or_default() += 1;
        let e = &p.escalation;
        tracing::warn!(order_id = %o.id, status = %e.status, kind = e.kind.as_str(), round = e.round, message = %e.message, "order escalated");
        let mut by_step: BTreeMap<&str, (Step, Vec<WorkMessage>)> = BTreeMap::new();
        for (step, m) in p.requeue.iter().cloned() {
            by_step.entry(step.as_str()).or_insert_with(|| (step, Vec::new())).1.push(m);
        }
        for (_, (step, messages)) in by_step {
            match self.queue.enqueue(step, &messages).await {
                Ok(()) => summary.requeued += messages.len(),
                Err(err) => {
                    summary.errors += 1;
                    tracing::error!(order_id = %o.id, step = %step, error = %err, "stuck work not re-enqueued");
                }
            }
        }
        outbox::drain(self.events.as_ref(), self.store.as_ref(), u.record).await;
        true
    }
}
