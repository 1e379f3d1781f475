//! Dropline's supplier protocol: the purchase order document and cancellation notice sent to a
//! supplier, its answer to a submission, and what a carrier tracker reports. The callbacks a
//! supplier sends back are `order::SupplierEvent`: what they do to the order is the aggregate's.

use crate::order::Address;
use crate::order::{OrderRecord, PurchaseOrder, Said, SupplierEvent};
use crate::primitives::ids::{PurchaseOrderId, SupplierId};
use crate::primitives::money::Currency;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Header carrying the base64 HMAC-SHA256 of the body under the supplier's secret, both ways.
pub const SIGNATURE_HEADER: &str = "X-Dropline-Signature";
/// Header carrying the key the supplier dedupes purchase orders on.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoDocumentLine {
    /// The store's id of the order line: what a supplier acknowledges or ships per line.
    #[serde(default)]
    pub line_id: String,
    pub supplier_sku: String,
    pub store_sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_cost: String,
}

/// Tells a supplier a purchase order is void (it missed its acknowledgment deadline and the
/// order went to another supplier): it must not ship it. Sent as `POST {endpoint}/{purchase
/// order id}/cancellation`, signed like a purchase order, with its own idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationNotice {
    pub purchase_order_id: PurchaseOrderId,
    pub po_number: String,
    pub idempotency_key: String,
    pub supplier_id: SupplierId,
    /// `ack_deadline_missed`, or `accepted_after_rejection`.
    pub reason: String,
    pub message: String,
    pub cancelled_at: DateTime<Utc>,
}

impl CancellationNotice {
    /// The notice for a void purchase order: cancelled for a missed acknowledgment deadline, or
    /// accepted by the supplier after its rejection once the lines went elsewhere.
    pub fn for_po(po: &PurchaseOrder) -> Self {
        let (reason, message) = match &po.void_notice {
            Some(reason) => (
                reason.clone(),
                "you accepted this purchase order after rejecting it; its lines were placed elsewhere: do not ship it"
                    .to_string(),
            ),
            None => {
                ("ack_deadline_missed".into(), po.rejection.as_ref().map(|r| r.message.clone()).unwrap_or_default())
            }
        };
        Self {
            purchase_order_id: po.id.clone(),
            po_number: po.number.clone(),
            idempotency_key: format!("{}-cancel", po.idempotency_key()),
            supplier_id: po.supplier_id.clone(),
            reason,
            message,
            cancelled_at: po.status_since,
        }
    }
}

/// How far back a callback's `sent_at` may be (a replay of an older one is refused), and how far
/// ahead of Dropline's clock (the supplier's clock may run fast).
pub const CALLBACK_MAX_AGE_HOURS: i64 = 7 * 24;
pub const CALLBACK_MAX_SKEW_MINUTES: i64 = 5;

/// A supplier's callback as posted to `POST /suppliers/{supplier_id}/events`, signed: the event,
/// when the supplier sent it and, if it numbers its callbacks per purchase order, the number.
/// Callbacks about one purchase order are applied in that order: an older one arriving after
/// a newer one changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierCallback {
    #[serde(flatten)]
    pub event: SupplierEvent,
    /// When the supplier sent it (RFC 3339). Inside the signed body: it cannot be rewritten.
    pub sent_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

impl SupplierCallback {
    pub fn new(event: SupplierEvent, sent_at: DateTime<Utc>) -> Self {
        Self { event, sent_at, sequence: None }
    }

    pub fn said(&self) -> Said {
        Said { at: self.sent_at, sequence: self.sequence }
    }

    /// Why the callback is outside the window Dropline accepts at `now`, if it is.
    pub fn outside_window(&self, now: DateTime<Utc>) -> Option<String> {
        if self.sent_at < now - chrono::Duration::hours(CALLBACK_MAX_AGE_HOURS) {
            return Some(format!(
                "sent_at {} is more than {} days old: a replay is refused",
                self.sent_at.to_rfc3339(),
                CALLBACK_MAX_AGE_HOURS / 24
            ));
        }
        if self.sent_at > now + chrono::Duration::minutes(CALLBACK_MAX_SKEW_MINUTES) {
            return Some(format!(
                "sent_at {} is ahead of the time here by more than {} minutes",
                self.sent_at.to_rfc3339(),
                CALLBACK_MAX_SKEW_MINUTES
            ));
        }
        None
    }
}

/// What a supplier receives: everything needed to ship, nothing it should not see (no prices the
/// customer paid, no payment data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderDocument {
    pub purchase_order_id: PurchaseOrderId,
    pub po_number: String,
    pub idempotency_key: String,
    pub supplier_id: SupplierId,
    pub order_name: String,
    pub currency: Currency,
    pub lines: Vec<PoDocumentLine>,
    pub ship_to: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl PurchaseOrderDocument {
    pub fn build(record: &OrderRecord, po: &PurchaseOrder) -> Self {
        let o = &record.order;
        Self {
            purchase_order_id: po.id.clone(),
            po_number: po.number.clone(),
            idempotency_key: po.idempotency_key(),
            supplier_id: po.supplier_id.clone(),
            order_name: o.name.clone(),
            currency: o.currency,
            lines: po
                .lines
                .iter()
                .map(|l| PoDocumentLine {
                    line_id: l.line_id.clone(),
                    supplier_sku: l.supplier_sku.clone(),
                    store_sku: l.sku.to_string(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    unit_cost: l.unit_cost.to_string(),
                })
                .collect(),
            ship_to: o.shipping_address.clone().unwrap_or_default(),
            customer_email: o.contact.email.clone(),
            customer_phone: o.contact.phone.clone(),
            shipping_method: o.shipping_method.as_ref().map(|m| m.code.clone()),
            // Not the status time: a send marks the purchase order SENDING, and its retry must
            // carry the same body under the same idempotency key.
            created_at: po.created_at.unwrap_or(po.status_since),
        }
    }
}

/// The supplier's answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubmitReceipt {
    /// The supplier's own reference for the order, if it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_reference: Option<String>,
    /// True when the supplier says it had already received this idempotency key.
    #[serde(default)]
    pub duplicate: bool,
}

/// What the carrier tracker reports for one parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingReport {
    /// The carrier's status word (normalized by `TrackingStatus::normalize`).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}
