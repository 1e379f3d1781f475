//! Tracking: the carrier statuses normalized into one vocabulary, and when to look at a
//! shipment again by what the carrier said last.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// The first check after a shipment is reported.
pub fn first_check_after() -> Duration {
    Duration::hours(1)
}

/// The wait before the next check; `None` once there is nothing more to learn.
pub fn next_check_after(status: TrackingStatus) -> Option<Duration> {
    Some(match status {
        TrackingStatus::Delivered => return None,
        TrackingStatus::OutForDelivery => Duration::hours(2),
        TrackingStatus::InTransit | TrackingStatus::AttemptFail | TrackingStatus::AvailableForPickup => {
            Duration::hours(6)
        }
        TrackingStatus::InfoReceived | TrackingStatus::Unknown => Duration::hours(12),
        TrackingStatus::Exception => Duration::hours(24),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
