//! Supplier outcomes in the catalog table: counters and one marker per outcome, in one transaction.

use super::catalog::DynamoCatalog;
use super::errors::classify;
use super::items::*;
use super::shards::shard_of;
use super::stock::{LEDGER_ATTEMPTS, back_off};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use chrono::Utc;
use dropline_app::ports::{OutcomeLedger, PortError, PortResult};
use dropline_domain::performance::{COUNTERS, Measured, Outcome};
use dropline_domain::primitives::ids::SupplierId;

/// How long an outcome's marker is kept: longer than any supplier retries a callback.
pub(super) const OUTCOME_MARKER_DAYS: i64 = 400;
/// Counter items per supplier: each outcome adds to one (chosen from its key), readers sum them.
/// A supplier taking every order at 1,000 orders/s counts ~2,000 outcomes/s (2 transactional
/// write units each): 64 shards keep each near 62 write units/s.
pub const PERFORMANCE_SHARDS: u32 = 64;
const PERFORMANCE_PREFIX: &str = "PERFORMANCE#";

fn counter_key(supplier: &SupplierId, shard: u32) -> String {
    format!("{PERFORMANCE_PREFIX}{supplier}#{shard}")
}

/// Supplier outcomes in the catalog table: `PERFORMANCE#<supplier>#<shard>` items of counters, and an
/// `OUTCOME#<purchase order>#<slot>` marker per outcome counted (expiring through the table's
/// TTL on `expires_at`). The marker's conditional put and the counters' ADD are one
/// transaction: an outcome counts exactly once, whoever records it and however often.
#[async_trait]
impl OutcomeLedger for DynamoCatalog {
    async fn record(&self, outcome: &Outcome) -> PortResult<bool> {
        let expires = Utc::now() + chrono::Duration::days(OUTCOME_MARKER_DAYS);
        let marker = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("OUTCOME#{}", outcome.key())))
            .item("supplier_id", s(outcome.supplier_id.as_str()))
            .item("outcome", s(serde_json::to_string(&outcome.kind).map_err(|e| PortError::Permanent(e.to_string()))?))
            .item("expires_at", n(expires.timestamp()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| PortError::Permanent(e.to_string()))?;
        let deltas = outcome.kind.deltas();
        let adds: Vec<String> = (0..deltas.len()).map(|i| format!("#c{i} :v{i}")).collect();
        let mut counters = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("pk", s(counter_key(&outcome.supplier_id, shard_of(&outcome.key(), PERFORMANCE_SHARDS))))
            .update_expression(format!("ADD {}", adds.join(", ")));
        for (i, (name, value)) in deltas.iter().enumerate() {
            counters = counters
                .expression_attribute_names(format!("#c{i}"), *name)
                .expression_attribute_values(format!(":v{i}"), n(value));
        }
        let counters = counters.build().map_err(|e| PortError::Permanent(e.to_string()))?;
        for attempt in 0..LEDGER_ATTEMPTS {
            let res = self
                .client
                .transact_write_items()
                .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(marker.clone()).build())
                .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().update(counters.clone()).build())
                .send()
                .await;
            match res {
                Ok(_) => return Ok(true),
                Err(SdkError::ServiceError(se)) if se.err().is_transaction_canceled_exception() => {
                    let counted_before = match se.err() {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => e
                            .cancellation_reasons()
                            .first()
                            .and_then(|r| r.code())
                            .map(|c| c == "ConditionalCheckFailed")
                            .unwrap_or_else(|| e.message().is_some_and(|m| m.contains("[ConditionalCheckFailed"))),
                        _ => false,
                    };
                    if counted_before {
                        return Ok(false);
                    }
                    // Another outcome of the same supplier was being counted at the same time.
                    back_off(attempt).await;
                }
                Err(e) => return Err(classify("TransactWriteItems(outcome)", e)),
            }
        }
        Err(PortError::Conflict(format!("outcomes of {} kept changing; try again", outcome.supplier_id)))
    }

    async fn measured(&self, suppliers: &[SupplierId]) -> PortResult<Measured> {
        // Every shard, and the unsharded item that releases before sharding wrote.
        let keys = suppliers
            .iter()
            .flat_map(|s| {
                std::iter::once(format!("{PERFORMANCE_PREFIX}{s}"))
                    .chain((0..PERFORMANCE_SHARDS).map(move |k| counter_key(s, k)))
            })
            .collect();
        let mut out = Measured::new();
        for item in self.batch_get(keys).await? {
            let Some(rest) = get_s(&item, "pk").and_then(|pk| pk.strip_prefix(PERFORMANCE_PREFIX)) else { continue };
            let id = rest.split_once('#').map_or(rest, |(id, _)| id);
            let Ok(id) = SupplierId::new(id) else { continue };
            let o = out.entry(id).or_default();
            for name in COUNTERS {
                o.add(name, get_n(&item, name).and_then(|v| u64::try_from(v).ok()).unwrap_or(0));
            }
        }
        Ok(out)
    }
}
