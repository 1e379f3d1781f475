//! Sending purchase orders and notices to suppliers.

use async_trait::async_trait;
use dropline_domain::catalog::Supplier;
use dropline_domain::wire::supplier::{CancellationNotice, PurchaseOrderDocument, SubmitReceipt};

/// Errors sending a purchase order to a supplier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Timeout, connection refused, 429, 5xx: retry later.
    #[error("supplier unreachable: {0}")]
    Transient(String),
    /// The supplier refused the request itself (4xx): retrying the same document won't help.
    #[error("supplier refused the request: {0}")]
    Refused(String),
}

/// Sends purchase orders to suppliers.
#[async_trait]
pub trait SupplierGateway: Send + Sync {
    async fn submit(&self, supplier: &Supplier, po: &PurchaseOrderDocument) -> Result<SubmitReceipt, GatewayError>;
    /// Tells the supplier a purchase order is void. A supplier that no longer knows it, or
    /// already has it cancelled, answers success too.
    async fn cancel(&self, supplier: &Supplier, notice: &CancellationNotice) -> Result<(), GatewayError>;
}
