//! A purchase order's stock reservations brought in line with its status.

use crate::ports::{OrderStore, PortError, StockLedger};
use chrono::{DateTime, Utc};
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
/// rejected or cancelled, settled (the units leave the supplier's snapshot) once the supplier
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

/// The owner check: ends every hold on `sku` old enough that the attempt which took it has
/// finished (`Reservation::due_owner_check`) and that its order's standing purchase orders do
/// not own (those they own are marked checked, so each hold is checked once), whatever left it (a routing attempt that died before saving, an order held or
/// cancelled on a path that never saw the hold). A key lookup per owner order, no scan; a hold
/// taken again since it was read is kept (`release_stale`). Returns how many holds ended.
pub async fn reclaim_stale(
    stock: &dyn StockLedger,
    orders: &dyn OrderStore,
    sku: &Sku,
    now: DateTime<Utc>,
) -> Result<usize, PortError> {
    let mut stale: Vec<Reservation> = stock.holds(sku).await?.into_iter().filter(|r| r.due_owner_check(now)).collect();
    stale.sort_by(|a, b| a.holder.cmp(&b.holder));
    let mut ended = 0;
    let mut owner: Option<(String, Option<Vec<String>>)> = None;
    for r in stale {
        let Some(order) = r.order_id() else {
            tracing::warn!(sku = %sku, "a hold not in Dropline's form is left alone");
            continue;
        };
        // Holds are sorted by holder, so one order's come together: its record is read once.
        if owner.as_ref().is_none_or(|(id, _)| id != order.as_str()) {
            // Best effort: an order that cannot be read now (an outage, a record this version
            // cannot parse) keeps its holds until a later check; it never fails the caller.
            let owned = match orders.get(&order).await {
                Ok(record) => Some(record.map(|rec| owned_holders(&rec)).unwrap_or_default()),
                Err(e) => {
                    tracing::warn!(order_id = %order, sku = %sku, error = %e, "owner not readable; its holds are kept");
                    None
                }
            };
            owner = Some((order.to_string(), owned));
        }
        // None: the owner could not be read, so the hold is kept.
        let Some(owned) = owner.as_ref().and_then(|(_, owned)| owned.as_ref().map(|o| o.contains(&r.holder))) else {
            continue;
        };
        if stock.record_owner_check(sku, &r.holder, r.at, owned, now).await? && !owned {
            tracing::info!(order_id = %order, sku = %sku, quantity = r.quantity, "an orphaned hold ended");
            ended += 1;
        }
    }
    Ok(ended)
}

/// Ends every hold the order has that none of its standing purchase orders owns: what a crashed
/// routing attempt reserved and never saved, or what a rejected or cancelled one left. The holds
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
