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
                // A store update before anything reached a supplier: validated again.
                | (Validated, Received | Routed | OnHold | Cancelled)
                // An operator releases a held order back into validation.
                | (OnHold, Received | Cancelled)
                // Back to routing: a supplier rejected, missed its deadline or ran out.
                | (Routed, Received | Submitted | Validated | OnHold | Cancelled)
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
    /// A send was attempted and its outcome is unknown (the answer was lost, or the sender
    /// died): the supplier may have it. Resolved only by the supplier's answer (or a resend
    /// under the same idempotency key that it acknowledges), or by a cancellation notice.
    Sending,
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
            Self::Sending => "SENDING",
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
            (Pending, Sending | Submitted | Cancelled)
                // Maybe with the supplier: its answer, the send's confirmation, or a
                // cancellation (with a notice to the supplier) resolve it.
                | (Sending, Submitted | Accepted | Rejected | Shipped | Cancelled)
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
            Self::Pending | Self::Sending => 0,
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
}
