//! Counting the outcomes a purchase order reached toward its supplier's performance.

use crate::ports::PortError;
use dropline_domain::order::PurchaseOrder;
use dropline_domain::performance::OutcomeSlot;

/// Counts the outcomes a purchase order has reached in `slots` (those the caller's change can
/// have produced: `OutcomeSlot::ALL` when unsure) toward its supplier's performance.
/// Idempotent (the ledger counts each once), so callers run it after every change and again on
/// every redelivery, and a crash between the state write and here loses nothing.
pub async fn record_outcomes(
    ledger: &dyn crate::ports::OutcomeLedger,
    po: &PurchaseOrder,
    slots: &[OutcomeSlot],
) -> Result<(), PortError> {
    for outcome in dropline_domain::performance::outcomes_of(po).into_iter().filter(|o| slots.contains(&o.kind.slot()))
    {
        if ledger.record(&outcome).await? {
            tracing::info!(order_id = %po.id.order_id(), po = %po.id, supplier = %po.supplier_id, outcome = ?outcome.kind, "supplier outcome counted");
        }
    }
    Ok(())
}
