//! The order aggregate: the canonical order plus everything the pipeline decided about it. One
//! record is one DynamoDB item, written with an optimistic version check, so a step's whole
//! change (status, purchase orders, timeline entry) lands atomically or not at all.

use crate::findings::{HoldCategory, HoldReason, Override, overridable};
use crate::order::RoutingDecision;
use crate::order::{CanonicalOrder, ServiceLevel};
use crate::order::{OrderStatus, PoStatus};
use crate::primitives::ids::{DeliveryId, OrderId, PurchaseOrderId, Sku, SupplierId};
use crate::primitives::money::Money;
use crate::tracking::TrackingStatus;
use chrono::{DateTime, NaiveDate, Utc};
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    pub line_id: String,
    pub sku: Sku,
    pub supplier_sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_cost: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingCheckpoint {
    pub at: DateTime<Utc>,
    pub status: TrackingStatus,
    /// The carrier's own status word, as received.
    pub raw_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    /// When the tracking number reached the pipeline (the supplier's upload delay is the time
    /// since `shipped_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<DateTime<Utc>>,
    pub status: TrackingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked_at: Option<DateTime<Utc>>,
    /// When poll-tracking should look again; `None` once delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<TrackingCheckpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: String,
    pub message: String,
}

impl Rejection {
    /// The code a supplier's silence is recorded under when it misses its acknowledgment deadline.
    pub const ACK_DEADLINE_MISSED: &'static str = "ACK_DEADLINE_MISSED";
    /// The code of a purchase order the supplier's API refused (4xx) when it was sent.
    pub const SUBMISSION_REFUSED: &'static str = "SUBMISSION_REFUSED";

    /// Whether another supplier could fill the order: not when the supplier says the order
    /// itself is wrong (its address), which a human must fix first.
    pub fn reroutable(&self) -> bool {
        !self.code.to_ascii_uppercase().contains("ADDRESS")
    }
}

/// What a purchase order promises, from its supplier's calendar, handling and transit: when the
/// supplier must acknowledge it, when it must ship, and when it can arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub ack_by: DateTime<Utc>,
    pub ship_by: DateTime<Utc>,
    pub delivery_earliest: NaiveDate,
    pub delivery_latest: NaiveDate,
}

/// A supplier this order is not routed to again: it rejected the order, missed its
/// acknowledgment deadline, or reported a stockout after accepting. An operator's release
/// clears the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingExclusion {
    pub supplier_id: SupplierId,
    /// `rejected_earlier`, `ack_deadline_missed`, `stockout_after_acceptance`.
    pub code: String,
    pub reason: String,
    pub po: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub id: PurchaseOrderId,
    /// Human number: the store's order number plus a suffix (`1001-1`).
    pub number: String,
    pub supplier_id: SupplierId,
    pub lines: Vec<PoLine>,
    pub status: PoStatus,
    pub status_since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the supplier accepted it (or shipped it, which implies acceptance); kept when it
    /// later reports a stockout, so its performance counts the cancellation after acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    /// The supplier's own reference, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<Promise>,
}

impl PurchaseOrder {
    /// The idempotency key the supplier can dedupe on: stable for the life of this PO.
    pub fn idempotency_key(&self) -> String {
        format!("dropline-po-{}", self.id)
    }
}

/// What kind of overdue work an escalation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationKind {
    /// An in-flight step did not advance the order in time; the work was enqueued again.
    StuckInState,
    /// A purchase order was sent and the supplier has not acknowledged it in time.
    AcknowledgmentOverdue,
    /// Accepted but no shipment reported in time.
    ShipmentOverdue,
    /// Shipped but not delivered in time.
    DeliveryOverdue,
    /// Held and nobody resolved it in time.
    HoldUnresolved,
}

impl EscalationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StuckInState => "stuck_in_state",
            Self::AcknowledgmentOverdue => "acknowledgment_overdue",
            Self::ShipmentOverdue => "shipment_overdue",
            Self::DeliveryOverdue => "delivery_overdue",
            Self::HoldUnresolved => "hold_unresolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub kind: EscalationKind,
    pub status: OrderStatus,
    /// The start of the status episode this escalation is about; with `round` it identifies the
    /// escalation, so overlapping runs record it once.
    pub status_since: DateTime<Utc>,
    /// 1 for the first threshold crossed in this episode, 2 for twice the threshold, ...
    pub round: u32,
    pub at: DateTime<Utc>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Status,
    PurchaseOrder,
    Tracking,
    Escalation,
    Note,
}

/// One entry of an order's history: what changed, when, and who or what changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: TimelineKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
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
            timeline: vec![TimelineEntry {
                at,
                actor: "ingest".into(),
                kind: TimelineKind::Status,
                from: None,
                to: Some(OrderStatus::Received.as_str().into()),
                po: None,
                note: String::new(),
            }],
        }
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
        Ok(())
    }

    /// Puts the order on hold with every reason found.
    pub fn hold(&mut self, reasons: Vec<HoldReason>, actor: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        let note = format!("held: {}", codes.join(", "));
        self.transition(OrderStatus::OnHold, actor, note, now)?;
        self.holds = reasons;
        Ok(())
    }

    fn po_mut(&mut self, id: &PurchaseOrderId) -> Result<&mut PurchaseOrder, TransitionError> {
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
        po.status = to;
        po.status_since = now;
        if to == PoStatus::Submitted {
            po.submitted_at = Some(now);
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
    fn roll_up(&mut self, actor: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
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
                        "supplier_rejected",
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
        } else if all(|s| s != PoStatus::Pending) {
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

/// Why an operator's change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("the order is {0}, not ON_HOLD")]
    NotHeld(OrderStatus),
    #[error("the order is not held for {0}; its holds: {1}")]
    NoSuchHold(String, String),
    #[error("{0} can't be overridden: fix its cause (see the hold's resolution)")]
    NotOverridable(String),
    #[error("an override needs a note saying why")]
    NoteRequired,
    #[error("nothing to change: the address is already that")]
    Unchanged,
    #[error(
        "purchase orders {0} already went to their suppliers: cancel them with the supplier, or wait for \
         re-routing of part of an order (not supported yet)"
    )]
    PurchaseOrdersOut(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl OrderRecord {
    /// The operator's override of `code`, if any.
    pub fn overridden(&self, code: &str) -> Option<&Override> {
        self.overrides.iter().find(|o| o.code == code)
    }

    /// Records that `code` does not stop this held order (the next validation keeps it as a
    /// warning). The order stays held until released.
    pub fn override_hold(&mut self, code: &str, note: &str, by: &str, now: DateTime<Utc>) -> Result<(), OperatorError> {
        if self.status != OrderStatus::OnHold {
            return Err(OperatorError::NotHeld(self.status));
        }
        if !self.holds.iter().any(|h| h.code == code) {
            let codes: Vec<&str> = self.holds.iter().map(|h| h.code.as_str()).collect();
            return Err(OperatorError::NoSuchHold(code.to_string(), codes.join(", ")));
        }
        if !overridable(code) {
            return Err(OperatorError::NotOverridable(code.to_string()));
        }
        if note.trim().is_empty() {
            return Err(OperatorError::NoteRequired);
        }
        self.overrides.retain(|o| o.code != code);
        self.overrides.push(Override { code: code.into(), note: note.trim().into(), by: by.into(), at: now });
        self.note(by, TimelineKind::Note, None, format!("override {code}: {}", note.trim()), now);
        Ok(())
    }

    /// Replaces the shipping address of a held order; returns the fields that changed (recorded
    /// on the timeline by name, never by value: addresses stay out of logs and histories).
    pub fn set_address(
        &mut self,
        address: crate::order::Address,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<&'static str>, OperatorError> {
        if self.status != OrderStatus::OnHold {
            return Err(OperatorError::NotHeld(self.status));
        }
        let old = self.order.shipping_address.clone().unwrap_or_default();
        let pairs: [(&'static str, &String, &String); 9] = [
            ("name", &old.name, &address.name),
            ("company", &old.company, &address.company),
            ("line1", &old.line1, &address.line1),
            ("line2", &old.line2, &address.line2),
            ("city", &old.city, &address.city),
            ("region", &old.region, &address.region),
            ("postal_code", &old.postal_code, &address.postal_code),
            ("country", &old.country, &address.country),
            ("phone", &old.phone, &address.phone),
        ];
        let changed: Vec<&'static str> = pairs.iter().filter(|(_, a, b)| a != b).map(|(f, _, _)| *f).collect();
        if changed.is_empty() && self.order.shipping_address.is_some() {
            return Err(OperatorError::Unchanged);
        }
        self.order.shipping_address = Some(address);
        self.note(by, TimelineKind::Note, None, format!("shipping address set: {}", changed.join(", ")), now);
        Ok(changed)
    }

    /// Sends a held order back into validation (which applies the overrides), to be routed
    /// afresh: purchase orders not sent yet, and rejected ones, are cancelled (their stock goes
    /// back when the caller reconciles them). Refused while a purchase order is with a supplier.
    pub fn release(&mut self, by: &str, note: &str, now: DateTime<Utc>) -> Result<(), OperatorError> {
        if self.status != OrderStatus::OnHold {
            return Err(OperatorError::NotHeld(self.status));
        }
        let out: Vec<String> = self
            .purchase_orders
            .iter()
            .filter(|p| !matches!(p.status, PoStatus::Pending | PoStatus::Rejected | PoStatus::Cancelled))
            .map(|p| p.number.clone())
            .collect();
        if !out.is_empty() {
            return Err(OperatorError::PurchaseOrdersOut(out.join(", ")));
        }
        let ended: Vec<PurchaseOrderId> = self
            .purchase_orders
            .iter()
            .filter(|p| matches!(p.status, PoStatus::Pending | PoStatus::Rejected))
            .map(|p| p.id.clone())
            .collect();
        for id in &ended {
            self.transition_po(id, PoStatus::Cancelled, by, "superseded: the order was released to route again", now)?;
        }
        let mut note =
            if note.trim().is_empty() { "released for validation".to_string() } else { note.trim().to_string() };
        if !self.routing_exclusions.is_empty() {
            // Routing starts afresh: suppliers that failed this order may be chosen again.
            let cleared: Vec<&str> = self.routing_exclusions.iter().map(|x| x.supplier_id.as_str()).collect();
            note = format!("{note}; routing exclusions cleared: {}", cleared.join(", "));
            self.routing_exclusions.clear();
        }
        self.transition(OrderStatus::Received, by, note, now)?;
        Ok(())
    }
}

/// What a newer version of an order from the store did to the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUpdate {
    /// Not newer than what is stored (a retry, or an out-of-order delivery): nothing changed.
    Stale,
    /// A held order took the store's new data and goes back to validation.
    Revalidate,
    /// Cancelled in the store before anything reached a supplier: cancelled here too.
    Cancelled,
    /// Cancelled in the store after a purchase order was sent: held for a human to cancel
    /// with the supplier.
    CancelledAfterSubmission,
    /// The order is already in progress; the update is on the timeline, not applied.
    Noted,
}

impl OrderRecord {
    /// Applies a newer version of the order sent by the store (`orders/updated`,
    /// `orders/cancelled`, WooCommerce `order.updated`).
    pub fn apply_store_update(
        &mut self,
        newer: CanonicalOrder,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoreUpdate, TransitionError> {
        if newer.updated_at <= self.order.updated_at {
            return Ok(StoreUpdate::Stale);
        }
        let cancelled = newer.cancelled_at.is_some();
        let sent =
            self.purchase_orders.iter().any(|p| p.status != PoStatus::Pending && p.status != PoStatus::Cancelled);
        if self.status.is_terminal() {
            self.order.updated_at = newer.updated_at;
            self.note(actor, TimelineKind::Note, None, "store update after the order ended; not applied".into(), now);
            return Ok(StoreUpdate::Noted);
        }
        if cancelled {
            self.order = newer;
            if sent {
                let reason = HoldReason::new(
                    "cancelled_after_submission",
                    HoldCategory::Order,
                    Some("cancelled_at".into()),
                    "the store cancelled this order after a purchase order was sent: cancel it with the supplier",
                );
                if self.status.can_move_to(OrderStatus::OnHold) {
                    self.hold(vec![reason], actor, now)?;
                } else {
                    self.note(actor, TimelineKind::Note, None, reason.message, now);
                }
                return Ok(StoreUpdate::CancelledAfterSubmission);
            }
            self.transition(OrderStatus::Cancelled, actor, "cancelled in the store", now)?;
            self.cancel_pending_pos(actor, now)?;
            return Ok(StoreUpdate::Cancelled);
        }
        if self.status == OrderStatus::OnHold && !sent {
            // The store fixed something (payment captured, address edited): validate again.
            self.order = newer;
            self.cancel_pending_pos(actor, now)?;
            self.transition(OrderStatus::Received, actor, "store update: validating again", now)?;
            return Ok(StoreUpdate::Revalidate);
        }
        self.order.updated_at = newer.updated_at;
        self.note(
            actor,
            TimelineKind::Note,
            None,
            "store update while the order is in progress; not applied".into(),
            now,
        );
        Ok(StoreUpdate::Noted)
    }

    /// Cancels purchase orders not sent yet (the order must already be out of the roll-up
    /// statuses, so cancelled POs don't roll it anywhere).
    fn cancel_pending_pos(&mut self, actor: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let pending: Vec<PurchaseOrderId> =
            self.purchase_orders.iter().filter(|p| p.status == PoStatus::Pending).map(|p| p.id.clone()).collect();
        for id in &pending {
            self.transition_po(id, PoStatus::Cancelled, actor, "order cancelled or changed before sending", now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::testing::sample_order;

    fn record() -> OrderRecord {
        let now = Utc::now();
        OrderRecord::received(
            sample_order(),
            Receipt { delivery_id: None, topic: "orders/create".into(), received_at: now },
        )
    }

    fn add_po(r: &mut OrderRecord, seq: u16) -> PurchaseOrderId {
        let id = PurchaseOrderId::new(r.id.clone(), seq);
        r.purchase_orders.push(PurchaseOrder {
            id: id.clone(),
            number: format!("1001-{seq}"),
            supplier_id: SupplierId::new("acme").unwrap(),
            lines: r
                .order
                .lines
                .iter()
                .map(|l| PoLine {
                    line_id: l.line_id.clone(),
                    sku: l.sku.clone().unwrap(),
                    supplier_sku: "s".into(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    unit_cost: Money::ZERO,
                })
                .collect(),
            status: PoStatus::Pending,
            status_since: Utc::now(),
            submitted_at: None,
            accepted_at: None,
            supplier_reference: None,
            rejection: None,
            shipment: None,
            promise: None,
        });
        id
    }

    #[test]
    fn store_updates_revalidate_held_orders_and_cancel_early_ones() {
        let now = Utc::now();
        let later = |mut o: CanonicalOrder, mins: i64| {
            o.updated_at += chrono::Duration::minutes(mins);
            o
        };
        // A held order gets the paid version: back to validation with the new data.
        let mut r = record();
        let mut unpaid = r.order.clone();
        unpaid.financial_status = crate::order::FinancialStatus::Pending;
        r.order = unpaid.clone();
        r.hold(vec![HoldReason::new("payment_not_accepted", HoldCategory::Payment, None, "unpaid")], "validate", now)
            .unwrap();
        assert_eq!(r.apply_store_update(unpaid.clone(), "ingest", now).unwrap(), StoreUpdate::Stale);
        let mut paid = later(unpaid, 5);
        paid.financial_status = crate::order::FinancialStatus::Paid;
        assert_eq!(r.apply_store_update(paid, "ingest", now).unwrap(), StoreUpdate::Revalidate);
        assert_eq!(r.status, OrderStatus::Received);
        assert_eq!(r.order.financial_status, crate::order::FinancialStatus::Paid);
        assert!(r.holds.is_empty());

        // Cancelled before anything was sent: cancelled, pending POs too.
        let mut r = record();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let po = add_po(&mut r, 1);
        r.transition(OrderStatus::Routed, "route", "", now).unwrap();
        let mut c = later(r.order.clone(), 5);
        c.cancelled_at = Some(now);
        assert_eq!(r.apply_store_update(c, "ingest", now).unwrap(), StoreUpdate::Cancelled);
        assert_eq!(r.status, OrderStatus::Cancelled);
        assert_eq!(r.po(&po).unwrap().status, PoStatus::Cancelled);

        // Cancelled after a PO went out: held for a human.
        let mut r = record();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let po = add_po(&mut r, 1);
        r.transition(OrderStatus::Routed, "route", "", now).unwrap();
        r.transition_po(&po, PoStatus::Submitted, "notify", "", now).unwrap();
        let mut c = later(r.order.clone(), 5);
        c.cancelled_at = Some(now);
        assert_eq!(r.apply_store_update(c, "ingest", now).unwrap(), StoreUpdate::CancelledAfterSubmission);
        assert_eq!(r.status, OrderStatus::OnHold);
        assert_eq!(r.holds[0].code, "cancelled_after_submission");

        // In progress: noted, not applied.
        let mut r = record();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let mut edit = later(r.order.clone(), 5);
        edit.lines[0].quantity = 9;
        assert_eq!(r.apply_store_update(edit, "ingest", now).unwrap(), StoreUpdate::Noted);
        assert_eq!(r.order.lines[0].quantity, 2);
    }

    #[test]
    fn illegal_moves_are_refused_and_leave_no_trace() {
        let mut r = record();
        let before = r.clone();
        let err = r.transition(OrderStatus::Shipped, "test", "", Utc::now()).unwrap_err();
        assert_eq!(err, TransitionError::Order { from: OrderStatus::Received, to: OrderStatus::Shipped });
        assert_eq!(r, before);
    }

    #[test]
    fn purchase_orders_roll_up_into_the_order_status() {
        let mut r = record();
        let now = Utc::now();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let a = add_po(&mut r, 1);
        let b = add_po(&mut r, 2);
        r.transition(OrderStatus::Routed, "route", "", now).unwrap();
        r.transition_po(&a, PoStatus::Submitted, "notify", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Routed, "one PO still pending");
        r.transition_po(&b, PoStatus::Submitted, "notify", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Submitted);
        r.transition_po(&a, PoStatus::Accepted, "supplier", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Submitted);
        r.transition_po(&b, PoStatus::Shipped, "supplier", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Accepted);
        r.transition_po(&a, PoStatus::Shipped, "supplier", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Shipped);
        r.transition_po(&a, PoStatus::Delivered, "tracking", "", now).unwrap();
        r.transition_po(&b, PoStatus::Delivered, "tracking", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Delivered);
        assert!(r.timeline.len() > 10);
    }

    #[test]
    fn a_rejection_sends_its_lines_back_to_routing_and_excludes_the_supplier() {
        let mut r = record();
        let now = Utc::now();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let a = add_po(&mut r, 1);
        r.transition(OrderStatus::Routed, "route", "", now).unwrap();
        r.transition_po(&a, PoStatus::Submitted, "notify", "", now).unwrap();
        r.purchase_orders[0].rejection =
            Some(Rejection { code: "INVENTORY_OUT_OF_STOCK".into(), message: "gone".into() });
        r.transition_po(&a, PoStatus::Rejected, "supplier", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Validated, "back to routing");
        assert_eq!(r.uncovered_lines(), vec![0, 1, 2]);
        assert_eq!(r.timeline.last().unwrap().note, "rerouting line 1, 2, 3");
        let x = &r.routing_exclusions[0];
        assert_eq!((x.supplier_id.as_str(), x.code.as_str(), x.po.as_str()), ("acme", "rejected_earlier", "1001-1"));
        assert_eq!(x.reason, "purchase order 1001-1: gone (INVENTORY_OUT_OF_STOCK)");

        // A supplier that accepted and then runs out; one that never answers.
        let mut r = record();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let a = add_po(&mut r, 1);
        let b = add_po(&mut r, 2);
        r.transition(OrderStatus::Routed, "route", "", now).unwrap();
        for id in [&a, &b] {
            r.transition_po(id, PoStatus::Submitted, "notify", "", now).unwrap();
        }
        r.transition_po(&a, PoStatus::Accepted, "supplier", "", now).unwrap();
        r.purchase_orders[0].rejection = Some(Rejection { code: "OUT_OF_STOCK".into(), message: "sold out".into() });
        r.transition_po(&a, PoStatus::Rejected, "supplier", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Submitted, "b still covers every line");
        assert_eq!(r.routing_exclusions[0].code, "stockout_after_acceptance");
        r.miss_acknowledgment(&b, "escalate", now).unwrap();
        assert_eq!(r.status, OrderStatus::Validated);
        assert_eq!(r.po(&b).unwrap().status, PoStatus::Cancelled);
        assert_eq!(r.routing_exclusions[1].code, "ack_deadline_missed");

        // An address the supplier can't ship to is the order's problem: it holds.
        let mut r = record();
        r.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        let a = add_po(&mut r, 1);
        r.transition(OrderStatus::Routed, "route", "", now).unwrap();
        r.transition_po(&a, PoStatus::Submitted, "notify", "", now).unwrap();
        r.purchase_orders[0].rejection =
            Some(Rejection { code: "ADDRESS_INVALID".into(), message: "no such street".into() });
        r.transition_po(&a, PoStatus::Rejected, "supplier", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::OnHold);
        assert_eq!(r.holds[0].code, "supplier_rejected");
        // A release routes afresh: the exclusions are cleared.
        r.release("operator:al", "", now).unwrap();
        assert!(r.routing_exclusions.is_empty());
        assert!(r.timeline.last().unwrap().note.contains("routing exclusions cleared: acme"));
    }

    #[test]
    fn operators_override_fix_and_release_held_orders_with_a_trace() {
        let now = Utc::now();
        let mut r = record();
        assert_eq!(r.release("operator:al", "", now), Err(OperatorError::NotHeld(OrderStatus::Received)));
        let held = |code: &str| HoldReason::new(code, HoldCategory::Payment, None, "x");
        r.hold(vec![held("payment_not_accepted"), held("sku_unmapped")], "validate", now).unwrap();

        assert!(matches!(
            r.override_hold("totals_mismatch", "n", "operator:al", now),
            Err(OperatorError::NoSuchHold(..))
        ));
        assert_eq!(
            r.override_hold("sku_unmapped", "n", "operator:al", now),
            Err(OperatorError::NotOverridable("sku_unmapped".into()))
        );
        assert_eq!(r.override_hold("payment_not_accepted", " ", "operator:al", now), Err(OperatorError::NoteRequired));
        r.override_hold("payment_not_accepted", "wire received", "operator:al", now).unwrap();
        r.override_hold("payment_not_accepted", "wire received, checked", "operator:al", now).unwrap();
        assert_eq!(r.overrides.len(), 1, "one override per code, the latest");
        assert_eq!(r.overridden("payment_not_accepted").unwrap().note, "wire received, checked");

        let mut a = r.order.shipping_address.clone().unwrap();
        assert_eq!(r.set_address(a.clone(), "operator:al", now), Err(OperatorError::Unchanged));
        a.postal_code = "62702".into();
        a.line1 = "14 Main St".into();
        assert_eq!(r.set_address(a, "operator:al", now).unwrap(), vec!["line1", "postal_code"]);
        let last = r.timeline.last().unwrap();
        assert_eq!(
            (last.actor.as_str(), last.note.as_str()),
            ("operator:al", "shipping address set: line1, postal_code")
        );

        r.release("operator:al", "", now).unwrap();
        assert_eq!(r.status, OrderStatus::Received);
        assert_eq!(r.status_set_by(), Some("operator:al"));
        assert!(r.holds.is_empty());

        let findings = vec![held("payment_not_accepted"), held("sku_unmapped")];
        let after = crate::findings::apply_overrides(&findings, &r.overrides);
        assert_eq!(after[0].severity, Severity::Warning);
        assert!(after[0].message.ends_with("(overridden by operator:al: wire received, checked)"));
        assert_eq!(after[1].severity, Severity::Hold, "only the overridden code");
    }
}
