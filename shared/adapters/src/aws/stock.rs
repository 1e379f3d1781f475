//! Stock reservations in the catalog table (`HOLD#` items), with versioned conditional writes.

use super::catalog::{DynamoCatalog, Holds, holds_of, offers_of};
use super::errors::classify;
use super::items::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use dropline_app::ports::{PortError, PortResult, StockLedger};
use dropline_domain::catalog::{Offer, Reservation};
use dropline_domain::catalog::{Reserved, apply_owner_check, refresh_hold, reservation_check};
use dropline_domain::primitives::ids::{OrderId, Sku};
use std::collections::BTreeMap;

/// How many times a reservation write is retried after losing a race for the same SKU.
pub(super) const LEDGER_ATTEMPTS: u32 = 12;

impl DynamoCatalog {
    /// The SKU's offers and reservations, read strongly consistent (one BatchGetItem).
    pub(super) async fn ledger_read(&self, sku: &Sku) -> PortResult<(Option<Vec<Offer>>, Option<String>, Holds)> {
        let items = self.batch_get_with(vec![format!("SKU#{sku}"), format!("HOLD#{sku}")], true).await?;
        let (mut offers, mut raw, mut holds) = (None, None, (BTreeMap::new(), 0));
        for item in &items {
            match get_s(item, "pk") {
                Some(pk) if pk.starts_with("HOLD#") => holds = holds_of(item)?,
                Some(_) => {
                    offers = offers_of(item)?;
                    raw = get_s(item, "offers").map(String::from);
                }
                None => {}
            }
        }
        Ok((offers, raw, holds))
    }

    fn holds_put(
        &self,
        sku: &Sku,
        holds: &BTreeMap<String, Reservation>,
        version: i64,
    ) -> PortResult<aws_sdk_dynamodb::types::Put> {
        let json = serde_json::to_string(holds).map_err(|e| PortError::Permanent(e.to_string()))?;
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("HOLD#{sku}")))
            .item("holds", s(json))
            .item("ver", n(version + 1));
        let put = if version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("ver = :v").expression_attribute_values(":v", n(version))
        };
        put.build().map_err(|e| PortError::Permanent(e.to_string()))
    }

    /// Writes the SKU's reservations if nobody changed them since `version`; false when someone did.
    async fn write_holds(&self, sku: &Sku, holds: &BTreeMap<String, Reservation>, version: i64) -> PortResult<bool> {
        let put = self.holds_put(sku, holds, version)?;
        let res = self
            .client
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .set_condition_expression(put.condition_expression().map(String::from))
            .set_expression_attribute_values(put.expression_attribute_values().cloned())
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => Ok(false),
            Err(e) => Err(classify("PutItem(reservations)", e)),
        }
    }
}

/// A short, jittered pause after losing a race for a SKU's reservations, so racers spread out.
pub(super) async fn back_off(attempt: u32) {
    let jitter =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let ms = u64::from(2u32.saturating_pow(attempt.min(6))) + u64::from(jitter % 7);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

pub(super) fn lost_race(sku: &Sku) -> PortError {
    PortError::Conflict(format!("reservations of {sku} kept changing; try again"))
}

#[async_trait]
impl StockLedger for DynamoCatalog {
    async fn reserve(
        &self,
        r: &Reservation,
        fits: &(dyn for<'o> Fn(&'o Offer) -> bool + Send + Sync),
    ) -> PortResult<Reserved> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (offers, _, (mut holds, version)) = self.ledger_read(&r.sku).await?;
            if let Some(answer) = reservation_check(r, offers.as_deref().unwrap_or(&[]), &holds, fits) {
                // A retry taking up its own hold takes it anew (under the version read).
                if answer != Reserved::AlreadyHeld
                    || !refresh_hold(&mut holds, r)
                    || self.write_holds(&r.sku, &holds, version).await?
                {
                    return Ok(answer);
                }
                back_off(attempt).await;
                continue;
            }
            holds.insert(r.holder.clone(), r.clone());
            if self.write_holds(&r.sku, &holds, version).await? {
                return Ok(Reserved::Taken);
            }
            back_off(attempt).await;
        }
        Err(lost_race(&r.sku))
    }

    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (_, _, (mut holds, version)) = self.ledger_read(sku).await?;
            if holds.remove(holder).is_none() {
                return Ok(false);
            }
            if self.write_holds(sku, &holds, version).await? {
                return Ok(true);
            }
            back_off(attempt).await;
        }
        Err(lost_race(sku))
    }

    async fn release_others(&self, sku: &Sku, order: &OrderId, live: &[String]) -> PortResult<usize> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (_, _, (mut holds, version)) = self.ledger_read(sku).await?;
            let before = holds.len();
            holds.retain(|holder, r| !r.held_by(order) || live.iter().any(|l| l == holder));
            let ended = before - holds.len();
            if ended == 0 {
                return Ok(0);
            }
            if self.write_holds(sku, &holds, version).await? {
                return Ok(ended);
            }
            back_off(attempt).await;
        }
        Err(lost_race(sku))
    }

    async fn holds(&self, sku: &Sku) -> PortResult<Vec<Reservation>> {
        let (_, _, (holds, _)) = self.ledger_read(sku).await?;
        Ok(holds.into_values().collect())
    }

    async fn record_owner_check(
        &self,
        sku: &Sku,
        holder: &str,
        taken_by: chrono::DateTime<chrono::Utc>,
        owned: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> PortResult<bool> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (_, _, (mut holds, version)) = self.ledger_read(sku).await?;
            if !apply_owner_check(&mut holds, holder, taken_by, owned, now) {
                return Ok(false);
            }
            // Under the version read: a retry's new hold under the same holder fails the write.
            if self.write_holds(sku, &holds, version).await? {
                return Ok(true);
            }
            back_off(attempt).await;
        }
        Err(lost_race(sku))
    }

    async fn settle(&self, sku: &Sku, holder: &str, accepted_at: chrono::DateTime<chrono::Utc>) -> PortResult<bool> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (offers, raw, (mut holds, version)) = self.ledger_read(sku).await?;
            let Some(r) = holds.remove(holder) else { return Ok(false) };
            let (Some(mut offers), Some(raw)) = (offers, raw) else {
                // The offer is gone from the catalog: only the hold is left to end.
                if self.write_holds(sku, &holds, version).await? {
                    return Ok(true);
                }
                back_off(attempt).await;
                continue;
            };
            r.take_from(&mut offers, accepted_at);
            let json = serde_json::to_string(&offers).map_err(|e| PortError::Permanent(e.to_string()))?;
            // Both or neither: the hold ends exactly when its units leave the snapshot.
            let stock = aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.table)
                .key("pk", s(format!("SKU#{sku}")))
                .update_expression("SET offers = :new")
                .condition_expression("offers = :old")
                .expression_attribute_values(":new", s(json))
                .expression_attribute_values(":old", s(raw))
                .build()
                .map_err(|e| PortError::Permanent(e.to_string()))?;
            let res = self
                .client
                .transact_write_items()
                .transact_items(
                    aws_sdk_dynamodb::types::TransactWriteItem::builder()
                        .put(self.holds_put(sku, &holds, version)?)
                        .build(),
                )
                .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().update(stock).build())
                .send()
                .await;
            match res {
                Ok(_) => return Ok(true),
                Err(SdkError::ServiceError(se)) if se.err().is_transaction_canceled_exception() => {
                    back_off(attempt).await;
                    continue;
                }
                Err(e) => return Err(classify("TransactWriteItems(settle)", e)),
            }
        }
        Err(lost_race(sku))
    }
}
