//! Statuses and the one place that says which moves between them are legal.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An order's status. `Routed` .. `Delivered` roll up from its purchase orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Stored by ingest; waiting for validation.
    Received,
    /// Passed validation; waiting for routing.
    Validated,
    /// Stopped for a human: the hold reasons say why.
    OnHold,
    /// Purchase orders created; not all sent yet.
    Routed,
    /// Every purchase order sent; not all acknowledged.
    Submitted,
    /// Every purchase order accepted (some may have shipped).
    Accepted,
    /// Every purchase order shipped; not all delivered.
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        Self::Received,
        Self::Validated,
        Self::OnHold,
        Self::Routed,
        Self::Submitted,
        Self::Accepted,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "RECEIVED",
            Self::Validated => "VALIDATED",
            Self::OnHold => "ON_HOLD",
            Self::Routed => "ROUTED",
            Self::Submitted => "SUBMITTED",
            Self::Accepted => "ACCEPTED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }

    /// The legal moves. Every status change of an order goes through this.
    pub fn can_move_to(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Received, Validated | OnHold | Cancelled)
                | (Validated, Routed | OnHold | Cancelled)
                // An operator releases a held order back into validation.
                | (OnHold, Received | Cancelled)
                // Back to routing: a supplier rejected, missed its deadline or ran out.
                | (Routed, Submitted | Validated | OnHold | Cancelled)
                | (Submitted, Accepted | Shipped | Validated | OnHold | Cancelled)
                | (Accepted, Shipped | Validated | OnHold | Cancelled)
                | (Shipped, Delivered)
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A purchase order's status, as agreed with its supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PoStatus {
    /// Created by routing; not sent yet.
    Pending,
    /// Sent; the supplier has not answered.
    Submitted,
    Accepted,
    Rejected,
    /// The supplier reported a shipment with a tracking number.
    Shipped,
    /// The carrier reported delivery.
    Delivered,
    Cancelled,
}

impl PoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Submitted => "SUBMITTED",
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "REJECTED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn can_move_to(self, to: PoStatus) -> bool {
        use PoStatus::*;
        matches!(
            (self, to),
            (Pending, Submitted | Cancelled)
                | (Submitted, Accepted | Rejected | Cancelled)
                // A shipment notice before (or instead of) an acknowledgment implies acceptance.
                | (Submitted, Shipped)
                // A stockout reported after acceptance.
                | (Accepted, Shipped | Rejected | Cancelled)
                | (Shipped, Delivered)
                // A rejected PO superseded when an operator releases the order to route again.
                | (Rejected, Cancelled)
        )
    }

    /// How far along the happy path the PO is; used to ignore stale, out-of-order callbacks.
    pub fn progress(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Submitted => 1,
            Self::Accepted => 2,
            Self::Shipped => 3,
            Self::Delivered => 4,
            Self::Rejected | Self::Cancelled => 5,
        }
    }
}

impl fmt::Display for PoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A shipment's normalized tracking status (vocabulary after AfterShip and EasyPost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    /// Label created or no scan yet.
    InfoReceived,
    InTransit,
    OutForDelivery,
    AvailableForPickup,
    /// A delivery attempt failed; the carrier will retry.
    AttemptFail,
    Delivered,
    /// Returned, lost, damaged, customs hold: needs a human.
    Exception,
    Unknown,
}

impl TrackingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InfoReceived => "info_received",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::AvailableForPickup => "available_for_pickup",
            Self::AttemptFail => "attempt_fail",
            Self::Delivered => "delivered",
            Self::Exception => "exception",
            Self::Unknown => "unknown",
        }
    }

    /// Maps a carrier's status word (several vocabularies) to ours.
    pub fn normalize(raw: &str) -> TrackingStatus {
        let k: String =
            raw.trim().chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
        match k.as_str() {
            "pending" | "inforeceived" | "pretransit" | "labelcreated" | "accepted" => Self::InfoReceived,
            "intransit" | "transit" | "deliverydelayed" | "arrivedatfacility" | "departed" => Self::InTransit,
            "outfordelivery" => Self::OutForDelivery,
            "availableforpickup" | "readyforpickup" => Self::AvailableForPickup,
            "attemptfail" | "deliveryfailed" | "failedattempt" => Self::AttemptFail,
            "delivered" => Self::Delivered,
            "exception" | "failure" | "returntosender" | "returned" | "cancelled" | "error" | "onhold" | "lost"
            | "damaged" | "expired" => Self::Exception,
            _ => Self::Unknown,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered)
    }
}

impl fmt::Display for TrackingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_moves() {
        use OrderStatus::*;
        assert!(Received.can_move_to(Validated));
        assert!(Received.can_move_to(OnHold));
        assert!(!Received.can_move_to(Routed));
        assert!(OnHold.can_move_to(Received));
        assert!(!Delivered.can_move_to(Cancelled));
        assert!(!Shipped.can_move_to(Cancelled));
        for s in OrderStatus::ALL {
            assert!(!s.can_move_to(s), "{s} -> {s} must not be a move");
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        for t in [Delivered, Cancelled] {
            for s in OrderStatus::ALL {
                assert!(!t.can_move_to(s));
            }
        }
    }

    #[test]
    fn po_moves() {
        use PoStatus::*;
        assert!(Pending.can_move_to(Submitted));
        assert!(Submitted.can_move_to(Shipped));
        assert!(!Rejected.can_move_to(Accepted));
        assert!(!Delivered.can_move_to(Shipped));
        assert!(!Pending.can_move_to(Accepted));
    }

    #[test]
    fn tracking_vocabularies_normalize() {
        assert_eq!(TrackingStatus::normalize("InTransit"), TrackingStatus::InTransit);
        assert_eq!(TrackingStatus::normalize("in_transit"), TrackingStatus::InTransit);
        assert_eq!(TrackingStatus::normalize("out_for_delivery"), TrackingStatus::OutForDelivery);
        assert_eq!(TrackingStatus::normalize("Delivered"), TrackingStatus::Delivered);
        assert_eq!(TrackingStatus::normalize("return_to_sender"), TrackingStatus::Exception);
        assert_eq!(TrackingStatus::normalize("pre_transit"), TrackingStatus::InfoReceived);
        assert_eq!(TrackingStatus::normalize("weird"), TrackingStatus::Unknown);
    }
}
