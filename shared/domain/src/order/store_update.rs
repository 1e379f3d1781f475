//! A newer version of an order from the store, applied to the stored one without making a second order.

use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::*;
use crate::primitives::ids::PurchaseOrderId;
use chrono::{DateTime, Utc};

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
    /// Refunded in the store (in full or in part) before anything reached a supplier: held for a
    /// human, its unsent purchase orders cancelled.
    RefundHeld,
    /// Refunded in the store after a purchase order was sent: held for a human to agree with
    /// the supplier what still ships.
    RefundedAfterSubmission,
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
                    FindingCode::CancelledAfterSubmission,
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
        if refunded_since(&self.order, &newer) && self.status != OrderStatus::OnHold {
            return self.apply_refund(newer, sent, actor, now);
        }
        if self.status == OrderStatus::Received {
            // Not validated yet (or being validated: that write meets a newer version and
            // reads this one): validation sees the store's latest.
            self.order = newer;
            self.note(actor, TimelineKind::Note, None, "store update before validation: applied".into(), now);
            return Ok(StoreUpdate::Revalidate);
        }
        if !sent && matches!(self.status, OrderStatus::OnHold | OrderStatus::Validated | OrderStatus::Routed) {
            // Nothing reached a supplier: the store's change (payment captured, address edited)
            // is validated again, and purchase orders not sent yet are cancelled.
            self.order = newer;
            self.transition(OrderStatus::Received, actor, "store update: validating again", now)?;
            self.cancel_pending_pos(actor, now)?;
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

    /// A refund the stored order did not have, on an order not on hold (a held one validates
    /// again, and validation holds on the payment).
    fn apply_refund(
        &mut self,
        newer: CanonicalOrder,
        sent: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoreUpdate, TransitionError> {
        let c = newer.currency;
        let what = if newer.financial_status == FinancialStatus::Refunded {
            "refunded this order in full".to_string()
        } else {
            format!(
                "refunded {} {c} of {} {c}",
                newer.totals.refunded.in_minor_units(c),
                newer.totals.total.in_minor_units(c)
            )
        };
        self.order = newer;
        if self.status == OrderStatus::Received {
            // Not validated yet: validation reads the refunded order and holds it.
            self.note(actor, TimelineKind::Note, None, format!("the store {what}; validation will see it"), now);
            return Ok(StoreUpdate::Revalidate);
        }
        let (code, category, message, outcome) = if sent {
            (
                FindingCode::RefundedAfterSubmission,
                HoldCategory::Order,
                format!("the store {what} after a purchase order was sent: agree with the supplier what still ships"),
                StoreUpdate::RefundedAfterSubmission,
            )
        } else {
            (
                FindingCode::PaymentNotAccepted,
                HoldCategory::Payment,
                format!(
                    "the store {what} before anything was sent to a supplier: nothing is sent until a human decides"
                ),
                StoreUpdate::RefundHeld,
            )
        };
        let reason = HoldReason::new(code, category, Some("financial_status".into()), message);
        if !sent {
            self.hold(vec![reason], actor, now)?;
            self.cancel_pending_pos(actor, now)?;
        } else if self.status.can_move_to(OrderStatus::OnHold) {
            self.hold(vec![reason], actor, now)?;
        } else {
            // Shipped already: nothing to stop; the timeline says what happened.
            self.note(actor, TimelineKind::Note, None, reason.message, now);
        }
        Ok(outcome)
    }

    /// Cancels purchase orders not sent yet (the order must already be out of the roll-up
    /// statuses, so cancelled POs don't roll it anywhere).
    pub(super) fn cancel_pending_pos(&mut self, actor: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let pending: Vec<PurchaseOrderId> =
            self.purchase_orders.iter().filter(|p| p.status == PoStatus::Pending).map(|p| p.id.clone()).collect();
        for id in &pending {
            self.transition_po(id, PoStatus::Cancelled, actor, "order cancelled or changed before sending", now)?;
        }
        Ok(())
    }
}

/// Whether `newer` carries a refund the stored order did not.
fn refunded_since(stored: &CanonicalOrder, newer: &CanonicalOrder) -> bool {
    let refund_status = |o: &CanonicalOrder| {
        matches!(o.financial_status, FinancialStatus::Refunded | FinancialStatus::PartiallyRefunded)
    };
    newer.totals.refunded > stored.totals.refunded
        || (refund_status(newer) && newer.financial_status != stored.financial_status)
}
