//! Domain events published to the event bus (EventBridge in AWS).
//!
//! An event is written into the order's outbox in the same write as the change it reports
//! (`OrderRecord::transition` puts the status event there itself), then published and removed;
//! what a failure or a crash leaves in the outbox is published by the next step that touches the
//! order, or by escalate's sweep. Events therefore arrive at least once; `id` is deterministic
//! so subscribers can dedupe.

use crate::order::{EventType, OrderRecord};
use crate::primitives::ids::OrderId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const SOURCE_PREFIX: &str = "dropline.";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Deterministic: `<order id>/<detail type>/<discriminator>`.
    pub id: String,
    /// `dropline.<step>`.
    pub source: String,
    /// Past tense: `OrderReceived`, `OrderHeld`, `PurchaseOrderSubmitted`, ...
    pub detail_type: EventType,
    pub order_id: OrderId,
    pub time: DateTime<Utc>,
    pub detail: Value,
}

impl DomainEvent {
    /// An event about `record`, with the fields every subscriber wants, plus `extra`.
    pub fn about(
        step: &str,
        detail_type: EventType,
        record: &OrderRecord,
        discriminator: &str,
        extra: Value,
        now: DateTime<Utc>,
    ) -> Self {
        let id = format!("{}/{detail_type}/{discriminator}", record.id);
        let mut detail = json!({
            "event_id": id,
            "order_id": record.id,
            "order_name": record.order.name,
            "channel": record.order.channel,
            "store": record.order.store,
            "status": record.status,
        });
        if let (Some(d), Value::Object(extra)) = (detail.as_object_mut(), extra) {
            d.extend(extra);
        }
        Self {
            id,
            source: format!("{SOURCE_PREFIX}{step}"),
            detail_type,
            order_id: record.id.clone(),
            time: now,
            detail,
        }
    }

    /// The event for the order's current status episode (`OrderValidated`, `OrderHeld`, ...),
    /// identified by when the episode began, so a republish carries the same id.
    pub fn for_status(step: &str, record: &OrderRecord, now: DateTime<Utc>) -> Self {
        let detail_type = EventType::for_status(record.status);
        let extra = match record.status {
            // What holds it, not the messages: those may quote the customer's address, a
            // supplier's answer or a refund; subscribers read the order for them.
            crate::order::OrderStatus::OnHold => json!({
                "reasons": record.holds.iter()
                    .map(|h| json!({"code": h.code, "category": h.category, "severity": h.severity, "field": h.field}))
                    .collect::<Vec<_>>()
            }),
            crate::order::OrderStatus::Routed => json!({
                "purchase_orders": record.purchase_orders.iter()
                    .map(|p| json!({"purchase_order_id": p.id, "number": p.number, "supplier_id": p.supplier_id}))
                    .collect::<Vec<_>>()
            }),
            _ => json!({}),
        };
        Self::about(step, detail_type, record, &record.status_since.timestamp_millis().to_string(), extra, now)
    }
}
