//! A supplier's word about a purchase order (an acknowledgment or a shipment), and what it does
//! to the order: the one place a callback changes the aggregate.

use crate::order::EventType;
use crate::order::PoStatus;
use crate::order::{OrderRecord, Rejection, Said, Shipment, TimelineKind, TransitionError};
use crate::primitives::ids::PurchaseOrderId;
use crate::tracking::TrackingStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A callback from a supplier (`POST /suppliers/{supplier_id}/events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SupplierEvent {
    /// The supplier accepted or rejected a purchase order.
    Acknowledgment {
        purchase_order_id: String,
        status: AckStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason_code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier_reference: Option<String>,
    },
    /// The supplier shipped a purchase order.
    Shipment {
        purchase_order_id: String,
        carrier: String,
        tracking_number: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipped_at: Option<DateTime<Utc>>,
    },
}

impl SupplierEvent {
    pub fn purchase_order_id(&self) -> &str {
        match self {
            SupplierEvent::Acknowledgment { purchase_order_id, .. }
            | SupplierEvent::Shipment { purchase_order_id, .. } => purchase_order_id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    Accepted,
    Rejected,
}

/// Applies a supplier callback to the order. Returns the event to publish when something
/// changed, `None` when the callback repeats what is recorded or was said before the last one
/// applied (a stale retry), or a conflict message.
pub fn apply_supplier_event(
    r: &mut OrderRecord,
    po_id: &PurchaseOrderId,
    event: &SupplierEvent,
    said: Said,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<EventType>, String> {
    let last = r.po(po_id).ok_or("unknown purchase order")?.last_word;
    if last.is_some_and(|l| said.before(&l)) {
        // Said before the last callback applied: a stale retry. Nothing to write.
        return Ok(None);
    }
    let applied = apply_in_order(r, po_id, event, actor, now)?;
    if applied.is_some()
        && let Some(po) = r.purchase_orders.iter_mut().find(|p| &p.id == po_id)
    {
        po.last_word = Some(said);
    }
    Ok(applied)
}

fn apply_in_order(
    r: &mut OrderRecord,
    po_id: &PurchaseOrderId,
    event: &SupplierEvent,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<EventType>, String> {
    let status = r.po(po_id).map(|p| p.status).ok_or("unknown purchase order")?;
    let err = |e: TransitionError| e.to_string();
    // A callback can overtake our own record of the submission (the supplier answers before
    // notify-supplier saved SUBMITTED): the callback itself proves the PO was received.
    let ensure_submitted = |r: &mut OrderRecord| -> Result<(), String> {
        if matches!(r.po(po_id).map(|p| p.status), Some(PoStatus::Pending | PoStatus::Sending)) {
            r.transition_po(po_id, PoStatus::Submitted, actor, "implied by the supplier's callback", now)
                .map_err(err)?;
        }
        Ok(())
    };
    match event {
        SupplierEvent::Acknowledgment { status: AckStatus::Accepted, supplier_reference, .. } => match status {
            PoStatus::Pending | PoStatus::Sending | PoStatus::Submitted => {
                ensure_submitted(r)?;
                set_reference(r, po_id, supplier_reference.clone());
                r.transition_po(po_id, PoStatus::Accepted, actor, "", now).map_err(err)?;
                Ok(Some(EventType::PurchaseOrderAccepted))
            }
            // Already accepted, or further along: an acknowledgment arriving late changes nothing.
            PoStatus::Accepted | PoStatus::Shipped | PoStatus::Delivered => Ok(None),
            // Accepted after its rejection (or after it was cancelled): the lines have gone, or
            // will go, elsewhere. The supplier must be told it is void, or it ships them twice.
            PoStatus::Rejected | PoStatus::Cancelled => {
                let already = r.po(po_id).is_some_and(|p| p.void_notice.is_some());
                if already {
                    return Ok(None);
                }
                if let Some(po) = r.purchase_orders.iter_mut().find(|p| &p.id == po_id) {
                    po.void_notice = Some("accepted_after_rejection".into());
                }
                let note = format!("accepted after it was {status}: the supplier is told it is void");
                r.note(actor, TimelineKind::PurchaseOrder, Some(po_id), note, now);
                Ok(Some(EventType::PurchaseOrderVoided))
            }
        },
        SupplierEvent::Acknowledgment { status: AckStatus::Rejected, reason_code, message, .. } => match status {
            PoStatus::Pending | PoStatus::Sending | PoStatus::Submitted | PoStatus::Accepted => {
                ensure_submitted(r)?;
                if let Some(po) = r.purchase_orders.iter_mut().find(|p| &p.id == po_id) {
                    po.rejection = Some(Rejection {
                        code: reason_code.clone().unwrap_or_else(|| "OTHER".into()),
                        message: message.clone().unwrap_or_default(),
                    });
                }
                r.transition_po(po_id, PoStatus::Rejected, actor, reason_code.clone().unwrap_or_default(), now)
                    .map_err(err)?;
                Ok(Some(EventType::PurchaseOrderRejected))
            }
            // Cancelled (its acknowledgment window passed, or the order was cancelled): both sides
            // agree it is off, and a late refusal is an answer, not a conflict. The soak found
            // suppliers answering 409 to their own late rejections.
            PoStatus::Rejected | PoStatus::Cancelled => Ok(None),
            PoStatus::Shipped | PoStatus::Delivered => {
                Err(format!("purchase order is {status}; it cannot be rejected"))
            }
        },
        SupplierEvent::Shipment { carrier, tracking_number, shipped_at, .. } => {
            if carrier.trim().is_empty() || tracking_number.trim().is_empty() {
                return Err("a shipment needs a carrier and a tracking number".into());
            }
            match status {
                PoStatus::Pending | PoStatus::Sending | PoStatus::Submitted | PoStatus::Accepted => {
                    ensure_submitted(r)?;
                    if let Some(po) = r.purchase_orders.iter_mut().find(|p| &p.id == po_id) {
                        po.shipment = Some(Shipment {
                            carrier: carrier.trim().to_string(),
                            tracking_number: tracking_number.trim().to_string(),
                            shipped_at: shipped_at.unwrap_or(now),
                            reported_at: Some(now),
                            status: TrackingStatus::InfoReceived,
                            last_checked_at: None,
                            next_check_at: Some(now + crate::tracking::first_check_after()),
                            checkpoints: Vec::new(),
                        });
                    }
                    r.transition_po(po_id, PoStatus::Shipped, actor, format!("{carrier} {tracking_number}"), now)
                        .map_err(err)?;
                    Ok(Some(EventType::PurchaseOrderShipped))
                }
                PoStatus::Shipped | PoStatus::Delivered => {
                    let same = r
                        .po(po_id)
                        .and_then(|p| p.shipment.as_ref())
                        .is_some_and(|s| s.tracking_number == tracking_number.trim());
                    if same {
                        Ok(None)
                    } else {
                        Err("purchase order already shipped with another tracking number".into())
                    }
                }
                PoStatus::Rejected | PoStatus::Cancelled => Err(format!("purchase order is {status}; it cannot ship")),
            }
        }
    }
}

fn set_reference(r: &mut OrderRecord, po_id: &PurchaseOrderId, reference: Option<String>) {
    if let (Some(po), Some(reference)) = (r.purchase_orders.iter_mut().find(|p| &p.id == po_id), reference) {
        po.supplier_reference = Some(reference);
    }
}
