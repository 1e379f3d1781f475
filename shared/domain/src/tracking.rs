//! When to look at a shipment again, by what the carrier said last.

use crate::order::TrackingStatus;
use chrono::Duration;

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
