//! Work messages between steps (SQS bodies).

use crate::primitives::ids::{OrderId, PurchaseOrderId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A queued step. Each has its own queue and dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Validate,
    Route,
    NotifySupplier,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Validate, Step::Route, Step::NotifySupplier];
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Validate => "validate",
            Step::Route => "route",
            Step::NotifySupplier => "notify-supplier",
        }
    }
    pub fn parse(s: &str) -> Option<Step> {
        Self::ALL.into_iter().find(|st| st.as_str() == s || (s == "notify" && *st == Step::NotifySupplier))
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One unit of work: an order (and for notify-supplier, one of its purchase orders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkMessage {
    pub order_id: OrderId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_id: Option<PurchaseOrderId>,
    /// Who enqueued it and why (`ingest`, `redelivery`, `escalate`, `operator`): for the logs.
    #[serde(default)]
    pub cause: String,
}

impl WorkMessage {
    pub fn order(order_id: OrderId, cause: &str) -> Self {
        Self { order_id, po_id: None, cause: cause.into() }
    }
    pub fn purchase_order(po_id: PurchaseOrderId, cause: &str) -> Self {
        Self { order_id: po_id.order_id().clone(), po_id: Some(po_id), cause: cause.into() }
    }
    pub fn to_json(&self) -> String {
        // A struct of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
    pub fn parse(body: &str) -> Result<Self, String> {
        let m: WorkMessage = serde_json::from_str(body).map_err(|e| format!("not a work message: {e}"))?;
        if let Some(po) = &m.po_id
            && po.order_id() != &m.order_id
        {
            return Err(format!("purchase order {po} does not belong to order {}", m.order_id));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reject_garbage() {
        let po = PurchaseOrderId::new(OrderId::new("o_0000000000000001").unwrap(), 1);
        let m = WorkMessage::purchase_order(po, "route");
        assert_eq!(WorkMessage::parse(&m.to_json()).unwrap(), m);
        assert!(WorkMessage::parse("garbage").is_err());
        assert!(WorkMessage::parse(r#"{"order_id":"bad id!"}"#).is_err());
        assert!(WorkMessage::parse(r#"{"order_id":"o_0000000000000001","po_id":"o_0000000000000002-1"}"#).is_err());
        assert_eq!(Step::parse("notify"), Some(Step::NotifySupplier));
    }
}
