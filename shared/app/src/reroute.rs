//! Sending an order's uncovered lines back to routing.

use dropline_domain::order::OrderRecord;

/// When a purchase order's failure sent the order back to routing (`VALIDATED`), asks route to
/// place its lines again. Called after every state write that can cause it, and again on every
/// redelivery while the order waits (route is idempotent; escalation re-enqueues a forgotten one).
pub async fn request_reroute(
    queue: &dyn crate::ports::WorkQueue,
    record: &OrderRecord,
    actor: &str,
) -> Result<(), crate::ports::PortError> {
    if record.status != dropline_domain::order::OrderStatus::Validated || record.purchase_orders.is_empty() {
        return Ok(());
    }
    tracing::info!(order_id = %record.id, lines = ?record.uncovered_lines(), "rerouting");
    queue
        .enqueue(
            dropline_domain::wire::messages::Step::Route,
            &[dropline_domain::wire::messages::WorkMessage::order(record.id.clone(), actor)],
        )
        .await
}
