//! Asking a carrier where a parcel is.

use super::PortResult;
use async_trait::async_trait;
use dropline_domain::wire::supplier::TrackingReport;

/// Asks a carrier (or an aggregator) where a parcel is.
#[async_trait]
pub trait CarrierTracker: Send + Sync {
    async fn track(&self, carrier: &str, tracking_number: &str) -> PortResult<TrackingReport>;
}
