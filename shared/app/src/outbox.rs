//! Draining an order's outbox: its events go to the bus, then leave the order. The events were
//! written with the change they report, so a failure or a crash here loses nothing: the next
//! step that touches the order, or escalate's sweep of the `outbox-due` index, drains it again.
//! Delivery is at least once; event ids are deterministic.

use crate::batch::StepError;
use crate::order_update::update_from;
use crate::ports::{EventPublisher, OrderStore};
use dropline_domain::order::OrderRecord;

/// Publishes `record`'s outbox and removes what the bus took. Returns the record as stored
/// afterwards. A publish failure is logged and left for later: the state is already saved.
pub async fn drain(events: &dyn EventPublisher, store: &dyn OrderStore, record: OrderRecord) -> OrderRecord {
    if record.outbox.is_empty() {
        return record;
    }
    let id = record.id.clone();
    if let Err(e) = events.publish(&record.outbox).await {
        tracing::warn!(order_id = %id, pending = record.outbox.len(), error = %e, "events not published; they stay in the outbox");
        return record;
    }
    let ids: Vec<String> = record.outbox.iter().map(|e| e.id.clone()).collect();
    let fallback = record.clone();
    match update_from(store, &id, Some(record), |r| Ok::<_, StepError>(r.published(&ids).then_some(()))).await {
        Ok(u) => u.record,
        Err(e) => {
            // Published, not yet removed: published again later (subscribers dedupe by id).
            tracing::warn!(order_id = %id, error = %e, "published events not removed from the outbox");
            fallback
        }
    }
}
