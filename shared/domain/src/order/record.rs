//! The order aggregate: the canonical order plus everything the pipeline decided about it. One
//! record is one DynamoDB item, written with an optimistic version check, so a step's whole
//! change (status, purchase orders, timeline entry) lands atomically or not at all. Every status
//! change goes through `transition` or `transition_po`.

use crate::findings::{FindingCode, HoldCategory, HoldReason, Override};
use crate::order::*;
use crate::primitives::ids::{DeliveryId, OrderId, PurchaseOrderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("illegal order transition {from} -> {to}")]
    Order { from: OrderStatus, to: OrderStatus },
    #[error("illegal purchase order transition {from} -> {to} for {po}")]
    PurchaseOrder { po: String, from: PoStatus, to: PoStatus },
    #[error("no purchase order {0} on this order")]
    UnknownPurchaseOrder(String),
}

/// How the order entered the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub delivery_id: Option<DeliveryId>,
    pub topic: String,
    pub received_at: DateTime<Utc>,
}

/// The order aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub id: OrderId,
    /// Optimistic concurrency version: the store writes only if the stored version is this one.
    pub version: u64,
    pub status: OrderStatus,
    pub status_since: DateTime<Utc>,
    pub order: CanonicalOrder,
    pub receipt: Receipt,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<HoldReason>,
    /// Findings that did not hold the order (from its last validation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<HoldReason>,
    /// The service level the customer paid for (from validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purchase_orders: Vec<PurchaseOrder>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<Escalation>,
    /// Hold reasons an operator accepted: validation stores them as warnings from then on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
    /// Routing's decisions, the latest last (the last five kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing: Vec<RoutingDecision>,
    /// Suppliers routing may not use again for this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing_exclusions: Vec<RoutingExclusion>,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// The customer's fingerprints as validation computed them (keyed, see
    /// `validation::duplicates`), projected into the duplicate indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_keys: Vec<crate::primitives::customer_key::CustomerKey>,
    /// Domain events written with the change they report and not yet acknowledged by the bus
    /// (invariant: every transition has its event here until published).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<DomainEvent>,
}

/// The step an actor's events come from (`dropline.<step>`): a supplier's callback arrives
/// through ingest; an operator acts through the CLI.
pub fn step_of(actor: &str) -> &str {
    match actor.split_once(':') {
        Some(("supplier", _)) => "ingest",
        Some(("operator", _)) => "operator",
        _ => actor,
    }
}

impl OrderRecord {
    /// A newly received order, version 0 (not stored yet).
    pub fn received(order: CanonicalOrder, receipt: Receipt) -> Self {
        let id = OrderId::derive(order.channel, &order.store, &order.channel_order_id);
        let at = receipt.received_at;
        Self {
            id,
            version: 0,
            status: OrderStatus::Received,
            status_since: at,
            order,
            receipt,
            holds: Vec::new(),
            warnings: Vec::new(),
            service_level: None,
            purchase_orders: Vec::new(),
            escalations: Vec::new(),
            overrides: Vec::new(),
            routing: Vec::new(),
            routing_exclusions: Vec::new(),
            customer_keys: Vec::new(),
            timeline: vec![TimelineEntry {
                at,
                actor: "ingest".into(),
                kind: TimelineKind::Status,
                from: None,
                to: Some(OrderStatus::Received.as_str().into()),
                po: None,
                note: String::new(),
            }],
            outbox: Vec::new(),
        }
        .with_status_event("ingest", at)
    }

    fn with_status_event(mut self, actor: &str, now: DateTime<Utc>) -> Self {
        self.emit_status(actor, now);
        self
    }

    /// Puts `event` in the outbox (replacing one with its id).
    pub fn emit(&mut self, event: DomainEvent) {
        match self.outbox.iter_mut().find(|e| e.id == event.id) {
            Some(e) => *e = event,
            None => self.outbox.push(event),
        }
    }

    /// Puts an event about the order as it now stands in the outbox (`DomainEvent::about`).
    pub fn emit_about(
        &mut self,
        step: &str,
        detail_type: EventType,
        discriminator: &str,
        extra: serde_json::Value,
        now: DateTime<Utc>,
    ) {
        let event = DomainEvent::about(step, detail_type, self, discriminator, extra, now);
        self.emit(event);
    }

    fn emit_status(&mut self, actor: &str, now: DateTime<Utc>) {
        let event = DomainEvent::for_status(step_of(actor), self, now);
        self.emit(event);
    }

    /// Takes the events the bus acknowledged out of the outbox; true when any was there.
    pub fn published(&mut self, ids: &[String]) -> bool {
        let before = self.outbox.len();
        self.outbox.retain(|e| !ids.contains(&e.id));
        self.outbox.len() != before
    }

    /// When the order's oldest undelivered side effect became due: an event in the outbox, or a
    /// void notice a supplier has not been sent (projected into the `outbox-due` index).
    pub fn outbox_due_at(&self) -> Option<DateTime<Utc>> {
        let events = self.outbox.iter().map(|e| e.time);
        let notices = self
            .purchase_orders
            .iter()
            .filter(|p| p.needs_void_notice() && !p.void_notice_sent)
            .map(|p| p.status_since);
        events.chain(notices).min()
    }

    /// The one function through which an order changes status.
    pub fn transition(
        &mut self,
        to: OrderStatus,
        actor: &str,
        note: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if !self.status.can_move_to(to) {
            return Err(TransitionError::Order { from: self.status, to });
        }
        self.timeline.push(TimelineEntry {
            at: now,
            actor: actor.to_string(),
            kind: TimelineKind::Status,
            from: Some(self.status.as_str().into()),
            to: Some(to.as_str().into()),
            po: None,
            note: note.into(),
        });
        if to != OrderStatus::OnHold {
            self.holds.clear();
        }
        self.status = to;
        self.status_since = now;
        self.emit_status(actor, now);
        Ok(())
    }

    /// Puts the order on hold with every reason found.
    pub fn hold(&mut self, reasons: Vec<HoldReason>, actor: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        // Grouped: an order of any size keeps a bounded list (one reason naming 500 lines).
        let reasons = crate::findings::grouped(reasons);
        let mut codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        codes.dedup();
        let note = format!("held: {}", codes.join(", "));
        self.transition(OrderStatus::OnHold, actor, note, now)?;
        self.holds = reasons;
        // The held event carries the reasons.
        self.emit_status(actor, now);
        Ok(())
    }

    pub(super) fn po_mut(&mut self, id: &PurchaseOrderId) -> Result<&mut PurchaseOrder, TransitionError> {
        self.purchase_orders
            .iter_mut()
            .find(|p| &p.id == id)
            .ok_or_else(|| TransitionError::UnknownPurchaseOrder(id.to_string()))
    }

    pub fn po(&self, id: &PurchaseOrderId) -> Option<&PurchaseOrder> {
        self.purchase_orders.iter().find(|p| &p.id == id)
    }

    /// The one function through which a purchase order changes status. The order's own status
    /// follows by roll-up.
    pub fn transition_po(
        &mut self,
        id: &PurchaseOrderId,
        to: PoStatus,
        actor: &str,
        note: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        let po = self.po_mut(id)?;
        if !po.status.can_move_to(to) {
            return Err(TransitionError::PurchaseOrder { po: id.to_string(), from: po.status, to });
        }
        let from = po.status;
        // A purchase order kept before its creation time was: while PENDING, its status time
        // is its creation, which the supplier's document must keep carrying once it moves.
        if from == PoStatus::Pending && po.created_at.is_none() {
            po.created_at = Some(po.status_since);
        }
        po.status = to;
        po.status_since = now;
        if to == PoStatus::Submitted {
            po.submitted_at = Some(now);
            // The supplier's window to acknowledge counts from when it got the purchase order.
            if let Some(p) = po.promise.as_mut() {
                p.ack_by = p.ack_by_from(now);
            }
        }
        if matches!(to, PoStatus::Accepted | PoStatus::Shipped) && po.accepted_at.is_none() {
            po.accepted_at = Some(now);
        }
        let exclusion =
            po.rejection.as_ref().filter(|_| matches!(to, PoStatus::Rejected | PoStatus::Cancelled)).map(|rejection| {
                let code = match (from, rejection.code.as_str()) {
                    (_, Rejection::ACK_DEADLINE_MISSED) => "ack_deadline_missed",
                    (PoStatus::Accepted, _) => "stockout_after_acceptance",
                    _ => "rejected_earlier",
                };
                RoutingExclusion {
                    supplier_id: po.supplier_id.clone(),
                    code: code.into(),
                    reason: format!("purchase order {}: {} ({})", po.number, rejection.message, rejection.code),
                    po: po.number.clone(),
                    at: now,
                }
            });
        self.timeline.push(TimelineEntry {
            at: now,
            actor: actor.to_string(),
            kind: TimelineKind::PurchaseOrder,
            from: Some(from.as_str().into()),
            to: Some(to.as_str().into()),
            po: Some(id.to_string()),
            note: note.into(),
        });
        if let Some(x) = exclusion
            && !self.routing_exclusions.iter().any(|e| e.po == x.po)
        {
            self.routing_exclusions.push(x);
        }
        self.roll_up(actor, now)
    }

    /// The supplier did not acknowledge a submitted purchase order by its deadline: it is
    /// cancelled, the supplier is excluded, and the order goes back to routing for its lines.
    pub fn miss_acknowledgment(
        &mut self,
        id: &PurchaseOrderId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        let po = self.po_mut(id)?;
        let deadline = po.promise.as_ref().map(|p| p.ack_by.to_rfc3339()).unwrap_or_default();
        po.rejection = Some(Rejection {
            code: Rejection::ACK_DEADLINE_MISSED.into(),
            message: format!("no acknowledgment by {deadline}"),
        });
        self.transition_po(id, PoStatus::Cancelled, actor, "acknowledgment deadline missed; rerouting", now)
    }

    /// Line ids no live purchase order (one not rejected or cancelled) covers.
    pub fn uncovered_lines(&self) -> Vec<usize> {
        let covered: std::collections::HashSet<&str> = self
            .purchase_orders
            .iter()
            .filter(|p| !matches!(p.status, PoStatus::Rejected | PoStatus::Cancelled))
            .flat_map(|p| p.lines.iter().map(|l| l.line_id.as_str()))
            .collect();
        (0..self.order.lines.len()).filter(|&i| !covered.contains(self.order.lines[i].line_id.as_str())).collect()
    }

    /// Moves the order's status to what its purchase orders say, if that differs.
    pub(super) fn roll_up(&mut self, actor: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let Some(target) = self.rolled_up_status() else {
            return Ok(());
        };
        if target == self.status {
            return Ok(());
        }
        if target == OrderStatus::OnHold {
            let reasons = self
                .purchase_orders
                .iter()
                .filter(|p| p.status == PoStatus::Rejected)
                .filter_map(|p| {
                    let r = p.rejection.as_ref()?;
                    Some(HoldReason::new(
                        FindingCode::SupplierRejected,
                        HoldCategory::Supplier,
                        Some(format!("purchase_orders.{}", p.number)),
                        format!("{} rejected purchase order {}: {} ({})", p.supplier_id, p.number, r.message, r.code),
                    ))
                })
                .collect();
            return self.hold(reasons, actor, now);
        }
        if target == OrderStatus::Validated {
            let lines: Vec<&str> =
                self.uncovered_lines().into_iter().map(|i| self.order.lines[i].line_id.as_str()).collect();
            let note = format!("rerouting line {}", lines.join(", "));
            return self.transition(target, actor, note, now);
        }
        self.transition(target, actor, "", now)
    }

    /// The order status its purchase orders imply, once it has any. A rejected purchase order
    /// (or one cancelled for a missed acknowledgment) leaves lines uncovered: the order goes
    /// back to routing (`VALIDATED`) for them, unless the supplier said the order itself is
    /// wrong, which holds it.
    pub fn rolled_up_status(&self) -> Option<OrderStatus> {
        if self.purchase_orders.is_empty()
            || !matches!(
                self.status,
                OrderStatus::Routed | OrderStatus::Submitted | OrderStatus::Accepted | OrderStatus::Shipped
            )
        {
            return None;
        }
        let order_problem = self
            .purchase_orders
            .iter()
            .any(|p| p.status == PoStatus::Rejected && p.rejection.as_ref().is_none_or(|r| !r.reroutable()));
        if order_problem {
            return Some(OrderStatus::OnHold);
        }
        if !self.uncovered_lines().is_empty() {
            return Some(OrderStatus::Validated);
        }
        // Rejected and cancelled purchase orders (superseded, never sent) don't count.
        let live: Vec<PoStatus> = self
            .purchase_orders
            .iter()
            .map(|p| p.status)
            .filter(|s| !matches!(s, PoStatus::Cancelled | PoStatus::Rejected))
            .collect();
        if live.is_empty() {
            return None;
        }
        let all = |f: fn(PoStatus) -> bool| live.iter().all(|s| f(*s));
        Some(if all(|s| s == PoStatus::Delivered) {
            OrderStatus::Delivered
        } else if all(|s| matches!(s, PoStatus::Shipped | PoStatus::Delivered)) {
            OrderStatus::Shipped
        } else if all(|s| matches!(s, PoStatus::Accepted | PoStatus::Shipped | PoStatus::Delivered)) {
            OrderStatus::Accepted
        } else if all(|s| !matches!(s, PoStatus::Pending | PoStatus::Sending)) {
            OrderStatus::Submitted
        } else {
            OrderStatus::Routed
        })
    }

    /// The earliest time a shipped purchase order is due for a tracking check (projected into
    /// the `tracking-due` index).
    pub fn tracking_due_at(&self) -> Option<DateTime<Utc>> {
        self.purchase_orders
            .iter()
            .filter(|p| p.status == PoStatus::Shipped)
            .filter_map(|p| p.shipment.as_ref()?.next_check_at)
            .min()
    }

    /// Who set the current status (the actor of the last status entry of the timeline).
    pub fn status_set_by(&self) -> Option<&str> {
        self.timeline.iter().rev().find(|e| e.kind == TimelineKind::Status).map(|e| e.actor.as_str())
    }

    pub fn has_escalation(&self, kind: EscalationKind, status_since: DateTime<Utc>, round: u32) -> bool {
        self.escalations.iter().any(|e| e.kind == kind && e.status_since == status_since && e.round == round)
    }

    pub fn record_escalation(&mut self, e: Escalation, actor: &str) {
        self.timeline.push(TimelineEntry {
            at: e.at,
            actor: actor.to_string(),
            kind: TimelineKind::Escalation,
            from: None,
            to: Some(e.kind.as_str().into()),
            po: None,
            note: e.message.clone(),
        });
        self.escalations.push(e);
    }

    pub fn note(
        &mut self,
        actor: &str,
        kind: TimelineKind,
        po: Option<&PurchaseOrderId>,
        note: String,
        now: DateTime<Utc>,
    ) {
        self.timeline.push(TimelineEntry {
            at: now,
            actor: actor.to_string(),
            kind,
            from: None,
            to: None,
            po: po.map(ToString::to_string),
            note,
        });
    }
}
