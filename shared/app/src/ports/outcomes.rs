//! Supplier outcomes, each counted once.

use super::PortResult;
use async_trait::async_trait;
use dropline_domain::performance::{Measured, Outcome};
use dropline_domain::primitives::ids::SupplierId;

/// Supplier outcomes (answers, shipments, cancellations), each counted once per purchase order:
/// a redelivered callback, a retried step or two concurrent invocations recording the same
/// outcome count it once (a conditional write and the counter update in one transaction).
#[async_trait]
pub trait OutcomeLedger: Send + Sync {
    /// Counts `outcome` toward its supplier: true when counted now, false when this purchase
    /// order's outcome of that slot (answer, shipment, cancellation) was counted before.
    async fn record(&self, outcome: &Outcome) -> PortResult<bool>;
    /// The outcomes counted for `suppliers` (a supplier with none is left out).
    async fn measured(&self, suppliers: &[SupplierId]) -> PortResult<Measured>;
}
