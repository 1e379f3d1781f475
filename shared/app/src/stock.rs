//! A purchase order's stock reservations brought in line with its status.

use crate::ports::{PortError, StockLedger};
use dropline_domain::catalog::Reservation;
use dropline_domain::order::OrderRecord;
use dropline_domain::order::PoStatus;
use dropline_domain::order::PurchaseOrder;
use dropline_domain::primitives::ids::Sku;

/// Gives back the stock held for a purchase order's lines (idempotent: holders are per PO line).
pub async fn release_po(stock: &dyn StockLedger, po: &PurchaseOrder) -> Result<(), PortError> {
    for line in &po.lines {
        stock.release(&line.sku, &Reservation::holder_for(&po.id, &line.line_id, &po.supplier_id)).await?;
    }
    Ok(())
}

/// Brings a purchase order's stock reservations in line with its status: released when it was
/// rejected or cancelled, settled (the units count as accepted) once the supplier
/// accepted or shipped it. Idempotent, so callers run it after every change and again on every
/// redelivery, and a crash between the state write and here loses nothing.
pub async fn reconcile_stock(stock: &dyn StockLedger, po: &PurchaseOrder) -> Result<(), PortError> {
    match po.status {
        PoStatus::Rejected | PoStatus::Cancelled => release_po(stock, po).await,
        PoStatus::Accepted | PoStatus::Shipped | PoStatus::Delivered => {
            // When the supplier took the units out of its own count (as near as we know).
            let accepted_at = po.accepted_at.unwrap_or(po.status_since);
            for line in &po.lines {
                let holder = Reservation::holder_for(&po.id, &line.line_id, &po.supplier_id);
                stock.settle(&line.sku, &holder, accepted_at).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The holders of `record`'s standing purchase orders' lines (rejected and cancelled ones own
/// nothing).
fn owned_holders(record: &OrderRecord) -> Vec<String> {
    record
        .purchase_orders
        .iter()
        .filter(|p| !matches!(p.status, PoStatus::Rejected | PoStatus::Cancelled))
        .flat_map(|p| p.lines.iter().map(|l| Reservation::holder_for(&p.id, &l.line_id, &p.supplier_id)))
        .collect()
}

/// Ends every hold the order has that none of its standing purchase orders owns: what a crashed
/// routing attempt reserved and never saved, or what a rejected or cancelled one left. The
/// order's holds are found by key (each order's holds of a SKU are one record), so every path
/// that handles the order next (routing's redelivery, a hold, a cancellation) gives back what a
/// crashed attempt left. The holds
/// of an accepted or shipped purchase order are not this function's: they are settled (the
/// units leave the snapshot) by `reconcile_stock`, never given back. Idempotent.
pub async fn release_orphans(stock: &dyn StockLedger, record: &OrderRecord) -> Result<usize, PortError> {
    let live = owned_holders(record);
    let mut skus: Vec<&Sku> = record.order.lines.iter().filter_map(|l| l.sku.as_ref()).collect();
    skus.sort();
    skus.dedup();
    let mut ended = 0;
    for sku in skus {
        ended += stock.release_others(sku, &record.id, &live).await?;
    }
    Ok(ended)
}
