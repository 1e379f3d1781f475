//! The supplier gateway and the carrier tracker, with faults: a supplier that received the
//! purchase order but whose answer timed out is the lost acknowledgment at its most costly.

use super::FaultPlan;
use async_trait::async_trait;
use dropline_app::ports::{CarrierTracker, GatewayError, PortResult, SupplierGateway};
use dropline_domain::catalog::Supplier;
use dropline_domain::wire::supplier::{CancellationNotice, PurchaseOrderDocument, SubmitReceipt, TrackingReport};
use std::sync::Arc;

pub struct FaultyGateway {
    pub inner: Arc<dyn SupplierGateway>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl SupplierGateway for FaultyGateway {
    async fn submit(&self, supplier: &Supplier, po: &PurchaseOrderDocument) -> Result<SubmitReceipt, GatewayError> {
        self.faults.around_with("supplier.submit", true, GatewayError::Transient, self.inner.submit(supplier, po)).await
    }
    async fn cancel(&self, supplier: &Supplier, notice: &CancellationNotice) -> Result<(), GatewayError> {
        self.faults
            .around_with("supplier.cancel", true, GatewayError::Transient, self.inner.cancel(supplier, notice))
            .await
    }
}

pub struct FaultyCarrier {
    pub inner: Arc<dyn CarrierTracker>,
    pub faults: Arc<FaultPlan>,
}

#[async_trait]
impl CarrierTracker for FaultyCarrier {
    async fn track(&self, carrier: &str, tracking_number: &str) -> PortResult<TrackingReport> {
        self.faults.around("carrier.track", false, self.inner.track(carrier, tracking_number)).await
    }
}
