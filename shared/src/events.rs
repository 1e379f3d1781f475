//! Domain events published to the event bus (EventBridge in AWS).
//!
//! Publishing follows the state write, so a crash between the two loses nothing: the triggering
//! message is redelivered, the step sees its own transition already stored and publishes again.
//! Events therefore arrive at least once; `id` is deterministic so subscribers can dedupe.

use crate::ids::OrderId;
use crate::record::OrderRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const SOURCE_PREFIX: &str = "dropline.";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Deterministic: `<order id>/<detail type>/<discriminator>`.
    pub id: String,
    /// `dropline.<step>`.
    pub source: String,
    /// Past tense: `OrderReceived`, `OrderHeld`, `PurchaseOrderSubmitted`, ...
    pub detail_type: String,
    pub order_id: OrderId,
    pub time: DateTime<Utc>,
    pub detail: Value,
}

impl DomainEvent {
    /// An event about `record`, with the fields every subscriber wants, plus `extra`.
    pub fn about(
        step: &str,
        detail_type: &str,
        record: &OrderRecord,
        discriminator: &str,
        extra: Value,
        now: DateTime<Utc>,
    ) -> Self {
        let mut detail = json!({
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
            id: format!("{}/{detail_type}/{discriminator}", record.id),
            source: format!("{SOURCE_PREFIX}{step}"),
            detail_type: detail_type.to_string(),
            order_id: record.id.clone(),
            time: now,
            detail: {
                let mut d = detail;
                if let Some(o) = d.as_object_mut() {
                    o.insert(
                        "event_id".into(),
                        Value::String(format!("{}/{detail_type}/{discriminator}", record.id)),
                    );
                }
                d
            },
        }
    }
}
