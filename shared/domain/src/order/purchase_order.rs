//! Purchase orders: what one supplier is asked to ship, its lines, its promise, its answer and
//! its shipment.

use crate::order::*;
use crate::primitives::ids::{PurchaseOrderId, Sku, SupplierId};
use crate::primitives::money::Money;
use crate::tracking::TrackingStatus;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

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
    /// The ship-by is so close that the acknowledgment deadline cannot leave half the time to
    /// reroute: a silent supplier cannot be replaced in time (routing warns `no_time_to_reroute`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_time_to_reroute: bool,
    /// How long the supplier has to acknowledge, in minutes: `ack_by` is moved to the
    /// submission plus this when the purchase order reaches the supplier later than it was
    /// routed (an outage, a redrive), so the supplier always gets its full window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_window_minutes: Option<u32>,
}

impl Promise {
    /// The acknowledgment deadline for a purchase order submitted at `submitted`: the window
    /// counts from the submission (never earlier than the deadline set at routing).
    pub fn ack_by_from(&self, submitted: DateTime<Utc>) -> DateTime<Utc> {
        match self.ack_window_minutes {
            Some(m) => self.ack_by.max(submitted + chrono::Duration::minutes(i64::from(m))),
            None => self.ack_by,
        }
    }
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
    /// When routing created it: the issue date the supplier's document carries, the same on
    /// every attempt (None on records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
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
    /// When the supplier sent the last callback applied to it (and its sequence, if it numbers
    /// them): an older callback arriving later changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_word: Option<Said>,
    /// Why the supplier must be told this purchase order is void (it accepted it after its
    /// rejection, once the lines had gone elsewhere); notify-supplier sends the notice once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void_notice: Option<String>,
    /// The void notice reached the supplier (set by notify-supplier).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub void_notice_sent: bool,
}

/// When a supplier said something about a purchase order: its timestamp, and its sequence
/// number when it keeps one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

impl Said {
    /// Whether this was said before `last`: by sequence when both carry one, else by time.
    pub fn before(&self, last: &Said) -> bool {
        match (self.sequence, last.sequence) {
            (Some(a), Some(b)) => a < b,
            _ => self.at < last.at,
        }
    }
}

impl PurchaseOrder {
    /// Whether the supplier must be told not to ship it: cancelled for a missed
    /// acknowledgment deadline, or accepted after its rejection once the lines went elsewhere.
    pub fn needs_void_notice(&self) -> bool {
        matches!(self.status, PoStatus::Cancelled | PoStatus::Rejected)
            && (self.void_notice.is_some()
                || (self.status == PoStatus::Cancelled
                    && self.rejection.as_ref().is_some_and(|r| r.code == Rejection::ACK_DEADLINE_MISSED)))
    }

    /// Whether that notice is still to be sent.
    pub fn owes_void_notice(&self) -> bool {
        self.needs_void_notice() && !self.void_notice_sent
    }

    /// The idempotency key the supplier can dedupe on: stable for the life of this PO.
    pub fn idempotency_key(&self) -> String {
        format!("dropline-po-{}", self.id)
    }
}
