//! The domain events an order emits, by type. They serialize to the `detail-type` strings
//! subscribers match on (`OrderReceived`, `PurchaseOrderShipped`, ...).

use crate::order::OrderStatus;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    OrderReceived,
    OrderValidated,
    OrderHeld,
    OrderRouted,
    OrderSubmitted,
    OrderAccepted,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    OrderEscalated,
    PurchaseOrderSubmitted,
    PurchaseOrderAccepted,
    PurchaseOrderRejected,
    PurchaseOrderShipped,
    PurchaseOrderCancelled,
    /// A supplier accepted a purchase order after its rejection; it is told the order is void.
    PurchaseOrderVoided,
    TrackingUpdated,
}

impl EventType {
    pub const ALL: [EventType; 17] = [
        Self::OrderReceived,
        Self::OrderValidated,
        Self::OrderHeld,
        Self::OrderRouted,
        Self::OrderSubmitted,
        Self::OrderAccepted,
        Self::OrderShipped,
        Self::OrderDelivered,
        Self::OrderCancelled,
        Self::OrderEscalated,
        Self::PurchaseOrderSubmitted,
        Self::PurchaseOrderAccepted,
        Self::PurchaseOrderRejected,
        Self::PurchaseOrderShipped,
        Self::PurchaseOrderCancelled,
        Self::PurchaseOrderVoided,
        Self::TrackingUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderReceived => "OrderReceived",
            Self::OrderValidated => "OrderValidated",
            Self::OrderHeld => "OrderHeld",
            Self::OrderRouted => "OrderRouted",
            Self::OrderSubmitted => "OrderSubmitted",
            Self::OrderAccepted => "OrderAccepted",
            Self::OrderShipped => "OrderShipped",
            Self::OrderDelivered => "OrderDelivered",
            Self::OrderCancelled => "OrderCancelled",
            Self::OrderEscalated => "OrderEscalated",
            Self::PurchaseOrderSubmitted => "PurchaseOrderSubmitted",
            Self::PurchaseOrderAccepted => "PurchaseOrderAccepted",
            Self::PurchaseOrderRejected => "PurchaseOrderRejected",
            Self::PurchaseOrderShipped => "PurchaseOrderShipped",
            Self::PurchaseOrderCancelled => "PurchaseOrderCancelled",
            Self::PurchaseOrderVoided => "PurchaseOrderVoided",
            Self::TrackingUpdated => "TrackingUpdated",
        }
    }

    /// The event of an order's status episode.
    pub fn for_status(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Received => Self::OrderReceived,
            OrderStatus::Validated => Self::OrderValidated,
            OrderStatus::OnHold => Self::OrderHeld,
            OrderStatus::Routed => Self::OrderRouted,
            OrderStatus::Submitted => Self::OrderSubmitted,
            OrderStatus::Accepted => Self::OrderAccepted,
            OrderStatus::Shipped => Self::OrderShipped,
            OrderStatus::Delivered => Self::OrderDelivered,
            OrderStatus::Cancelled => Self::OrderCancelled,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_serialize_to_the_detail_type_strings() {
        for t in EventType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::Value::String(t.as_str().into()));
            assert_eq!(serde_json::from_value::<EventType>(serde_json::json!(t.as_str())).unwrap(), t);
        }
    }
}
