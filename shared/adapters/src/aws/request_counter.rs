//! Counts AWS requests per `Service.Operation` (every attempt, as AWS bills them).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Counts AWS requests per `Service.Operation` (every attempt, as AWS bills them), and the
/// units each is billed in. Attach one to each client to measure requests per order.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    requests: BTreeMap<String, u64>,
    billed: BTreeMap<String, u64>,
}

/// The size of the unit SQS bills a request in, and EventBridge an event in.
pub const BILLING_CHUNK_BYTES: usize = 64 * 1024;

/// The units a request is billed in: SQS bills each 64 KB chunk of a request's payload as a
/// request; EventBridge bills each entry of a PutEvents (each 64 KB chunk of it) as an event;
/// everything else here is billed per request (DynamoDB's units come from its own answers).
fn billed_units(service: &str, operation: &str, body: Option<&[u8]>) -> u64 {
    let chunks = |len: usize| u64::try_from(len.div_ceil(BILLING_CHUNK_BYTES).max(1)).unwrap_or(u64::MAX);
    match (service, operation, body) {
        ("SQS", _, Some(b)) => chunks(b.len()),
        ("EventBridge", "PutEvents", Some(b)) => serde_json::from_slice::<serde_json::Value>(b)
            .ok()
            .and_then(|v| {
                v["Entries"].as_array().map(|entries| entries.iter().map(|e| chunks(e.to_string().len())).sum::<u64>())
            })
            .unwrap_or(1),
        _ => 1,
    }
}

impl RequestCounter {
    /// Requests per `Service.Operation`.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.requests.clone()).unwrap_or_default()
    }
    /// Billed units per `Service.Operation` (`billed_units`).
    pub fn billed(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.billed.clone()).unwrap_or_default()
    }
    pub fn reset(&self) {
        if let Ok(mut m) = self.0.lock() {
            *m = Counts::default();
        }
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "DroplineRequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) =
            cfg.load::<Metadata>().map(|m| (m.service().to_string(), m.name().to_string())).unwrap_or_default();
        let units = billed_units(&service, &operation, context.request().body().bytes());
        let key = if service.is_empty() { "unknown".to_string() } else { format!("{service}.{operation}") };
        if let Ok(mut m) = self.0.lock() {
            *m.requests.entry(key.clone()).or_default() += 1;
            *m.billed.entry(key).or_default() += units;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::billed_units;

    #[test]
    fn requests_are_billed_in_the_units_aws_bills_them() {
        assert_eq!(billed_units("SQS", "SendMessage", Some(&[0u8; 100])), 1);
        assert_eq!(billed_units("SQS", "SendMessageBatch", Some(&vec![0u8; 64 * 1024 + 1])), 2, "each 64 KB chunk");
        let events = br#"{"Entries":[{"Detail":"{}"},{"Detail":"{}"},{"Detail":"{}"}]}"#;
        assert_eq!(billed_units("EventBridge", "PutEvents", Some(events)), 3, "each entry is an event");
        assert_eq!(billed_units("DynamoDB", "PutItem", Some(b"{}")), 1);
    }
}
