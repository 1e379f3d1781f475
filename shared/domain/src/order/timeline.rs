//! The order's history: timeline entries, and the escalations recorded on it.

use crate::order::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
