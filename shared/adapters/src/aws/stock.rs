//! Stock reservations in the catalog table, so that no item takes every order of a hot SKU:
//!
//! - `HOLD#<sku>#<order>`: the order's holds of the SKU, one attribute `h#<holder>` each (the
//!   reservation and the counter shards its units came from). Only that order writes it.
//! - `STOCK#<sku>#<k>`, `k` below the SKU item's `stock_shards`: per supplier, the units held
//!   (`held#<supplier>`), the units held or accepted against the snapshot (`used#<supplier>`,
//!   what a hold's condition reads), the snapshot time that count is against
//!   (`base#<supplier>`, ms; 0 for a snapshot of unknown time) and the accepted units by minute
//!   (`acc#<supplier>#<minute>`, the older minutes merged so that a shard keeps a few per
//!   supplier and stays under 1 KB), with a version `v` every write adds to.
//!
//! Taking, giving back and settling a hold is one transaction over the hold item and the
//! shards it touches: both or neither. An order takes from its own shard (by its id) and from
//! several only when that one is full; each shard takes at most its share of the limit
//! (`dropline_domain::stock::allotment`), so the shards together never exceed it. When a newer
//! snapshot arrives, a shard's `used` is recounted against it (`rebase`) the first time a hold
//! finds it behind.

use super::catalog::DynamoCatalog;
use super::errors::classify;
use super::items::*;
use super::shards::shard_of;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use dropline_app::ports::{PortError, PortResult, StockLedger};
use dropline_domain::catalog::{Offer, Reservation, Reserved};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use dropline_domain::stock::{
    ACCEPTANCE_BUCKETS_KEPT, ACCEPTANCE_BUCKETS_MAX, HoldLimit, acceptance_minute, allotment, bucket_merges,
    counts_against, hold_refusal, snapshot_millis, split_hold,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How many times a stock write is tried again after losing a race for the same items.
pub(super) const LEDGER_ATTEMPTS: u32 = 12;

pub(super) fn hold_key(sku: &Sku, order: &OrderId) -> String {
    format!("HOLD#{sku}#{order}")
}

pub(super) fn shard_key(sku: &Sku, k: u32) -> String {
    format!("STOCK#{sku}#{k}")
}

fn holder_attr(holder: &str) -> String {
    format!("h#{holder}")
}

fn bucket_prefix(supplier: &SupplierId) -> String {
    format!("acc#{supplier}#")
}

/// A hold as its order's hold item keeps it: the reservation and the (shard, units) it took.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoredHold {
    #[serde(flatten)]
    pub r: Reservation,
    pub parts: Vec<(u32, u32)>,
}

/// Every hold in a hold item.
pub(super) fn holds_in(item: &Item) -> PortResult<Vec<StoredHold>> {
    let mut out = Vec::new();
    for (name, v) in item {
        if name.starts_with("h#") {
            let json = v.as_s().map_err(|_| PortError::Permanent(format!("hold attribute {name} is not a string")))?;
            out.push(serde_json::from_str(json).map_err(|e| PortError::Permanent(format!("hold {name}: {e}")))?);
        }
    }
    out.sort_by(|a: &StoredHold, b| a.r.holder.cmp(&b.r.holder));
    Ok(out)
}

/// One supplier's count in one shard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ShardCount {
    held: u32,
    used: u32,
    /// None: the shard never counted this supplier.
    base: Option<i64>,
    accepted: BTreeMap<i64, u32>,
    version: Option<i64>,
}

fn num(item: &Item, name: &str) -> u32 {
    get_n(item, name).map_or(0, |v| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

impl ShardCount {
    pub(super) fn of(item: Option<&Item>, supplier: &SupplierId) -> Self {
        let Some(item) = item else { return Self::default() };
        let prefix = bucket_prefix(supplier);
        let accepted = item
            .keys()
            .filter_map(|name| name.strip_prefix(&prefix).and_then(|m| m.parse::<i64>().ok()).map(|m| (m, name)))
            .map(|(m, name)| (m, num(item, name)))
            .collect();
        Self {
            held: num(item, &format!("held#{supplier}")),
            used: num(item, &format!("used#{supplier}")),
            base: get_n(item, &format!("base#{supplier}")),
            accepted,
            version: get_n(item, "v"),
        }
    }

    /// The units held or accepted against the snapshot counted at `as_of`.
    pub(super) fn used_against(&self, as_of: Option<chrono::DateTime<chrono::Utc>>) -> u32 {
        match self.base {
            None => 0,
            Some(b) if b == snapshot_millis(as_of) => self.used,
            Some(_) => self.accepted_against(as_of).saturating_add(self.held),
        }
    }

    pub(super) fn accepted_against(&self, as_of: Option<chrono::DateTime<chrono::Utc>>) -> u32 {
        self.accepted.iter().filter(|(m, _)| counts_against(**m, as_of)).fold(0u32, |n, (_, q)| n.saturating_add(*q))
    }
}

/// What `reserve` does to one shard: take `units` from shard `k`, within `max` units used
/// after it (None: unlimited), against the snapshot `base`.
struct Take {
    k: u32,
    units: u32,
    max: Option<u32>,
}

impl DynamoCatalog {
    /// The SKU's offers (and their JSON as stored) and its shard count, read strongly consistent.
    pub(super) async fn ledger_read(&self, sku: &Sku) -> PortResult<(Option<Vec<Offer>>, Option<String>, u32)> {
        let Some(item) = self.get_consistent(format!("SKU#{sku}")).await? else { return Ok((None, None, 1)) };
        Ok((super::catalog::offers_of(&item)?, get_s(&item, "offers").map(String::from), stock_shards(&item)))
    }

    async fn get_consistent(&self, key: String) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem(stock)", e))?;
        Ok(out.item().cloned())
    }

    /// `holder`'s hold as stored (with its raw JSON, the condition of the write that ends it).
    async fn read_hold(&self, sku: &Sku, holder: &str) -> PortResult<Option<(OrderId, StoredHold, String)>> {
        let Some(order) = Reservation::order_of(holder) else { return Ok(None) };
        let Some(item) = self.get_consistent(hold_key(sku, &order)).await? else { return Ok(None) };
        let Some(json) = get_s(&item, &holder_attr(holder)) else { return Ok(None) };
        let hold: StoredHold =
            serde_json::from_str(json).map_err(|e| PortError::Permanent(format!("hold {holder}: {e}")))?;
        Ok(Some((order, hold, json.to_string())))
    }

    /// Shards `0..shards` of `sku`, read strongly consistent (missing ones as None).
    async fn read_shards(&self, sku: &Sku, shards: u32) -> PortResult<Vec<Option<Item>>> {
        let keys: Vec<String> = (0..shards).map(|k| shard_key(sku, k)).collect();
        let mut by_key: HashMap<String, Item> = HashMap::new();
        for item in self.batch_get_with(keys.clone(), true).await? {
            if let Some(pk) = get_s(&item, "pk") {
                by_key.insert(pk.to_string(), item);
            }
        }
        Ok(keys.iter().map(|k| by_key.remove(k)).collect())
    }

    fn update(&self, key: String) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder().table_name(&self.table).key("pk", s(key))
    }

    /// Runs a transaction; false when a condition failed or it lost a race (try again).
    async fn transact(&self, what: &str, items: Vec<Update>) -> PortResult<bool> {
        let items: Vec<TransactWriteItem> =
            items.into_iter().map(|u| TransactWriteItem::builder().update(u).build()).collect();
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se)) if se.err().is_transaction_canceled_exception() => Ok(false),
            Err(e) => Err(classify(what, e)),
        }
    }

    /// Takes the hold: its record, and its units from each shard in `takes`.
    async fn take(&self, r: &Reservation, order: &OrderId, base: i64, takes: &[Take]) -> PortResult<bool> {
        let hold = StoredHold { r: r.clone(), parts: takes.iter().map(|t| (t.k, t.units)).collect() };
        let json = serde_json::to_string(&hold).map_err(|e| PortError::Permanent(e.to_string()))?;
        let mut items = vec![
            self.update(hold_key(&r.sku, order))
                .update_expression("SET #h = :hold")
                .condition_expression("attribute_not_exists(#h)")
                .expression_attribute_names("#h", holder_attr(&r.holder))
                .expression_attribute_values(":hold", s(json))
                .build()
                .map_err(|e| PortError::Permanent(e.to_string()))?,
        ];
        for t in takes {
            let sup = &r.supplier_id;
            let mut u = self
                .update(shard_key(&r.sku, t.k))
                .update_expression("ADD #held :x, #used :x, v :one SET #base = :base")
                .expression_attribute_names("#held", format!("held#{sup}"))
                .expression_attribute_names("#used", format!("used#{sup}"))
                .expression_attribute_names("#base", format!("base#{sup}"))
                .expression_attribute_values(":x", n(t.units))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":base", n(base));
            u = match t.max {
                Some(max) => u
                    .condition_expression(
                        "(attribute_not_exists(#base) OR #base = :base) AND (attribute_not_exists(#used) OR #used <= :max)",
                    )
                    .expression_attribute_values(":max", n(max)),
                None => u.condition_expression("attribute_not_exists(#base) OR #base = :base"),
            };
            items.push(u.build().map_err(|e| PortError::Permanent(e.to_string()))?);
        }
        self.transact("TransactWriteItems(reserve)", items).await
    }

    /// Recounts a shard's `used` for `supplier` against the snapshot `as_of` (a newer one than
    /// it counted against): held units and the acceptances that still count; the older
    /// acceptance buckets go. Best effort: false when the shard changed meanwhile.
    async fn rebase(
        &self,
        sku: &Sku,
        k: u32,
        supplier: &SupplierId,
        count: &ShardCount,
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> PortResult<bool> {
        let used = count.accepted_against(as_of).saturating_add(count.held);
        let stale: Vec<String> = count
            .accepted
            .keys()
            .filter(|m| !counts_against(**m, as_of))
            .map(|m| format!("{}{m}", bucket_prefix(supplier)))
            .collect();
        let mut expr = "SET #used = :used, #base = :base ADD v :one".to_string();
        let mut u = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(shard_key(sku, k)))
            .expression_attribute_names("#used", format!("used#{supplier}"))
            .expression_attribute_names("#base", format!("base#{supplier}"))
            .expression_attribute_values(":used", n(used))
            .expression_attribute_values(":base", n(snapshot_millis(as_of)))
            .expression_attribute_values(":one", n(1));
        if !stale.is_empty() {
            let names: Vec<String> = (0..stale.len()).map(|i| format!("#s{i}")).collect();
            expr.push_str(&format!(" REMOVE {}", names.join(", ")));
            for (name, attr) in names.iter().zip(&stale) {
                u = u.expression_attribute_names(name, attr);
            }
        }
        u = match count.version {
            Some(v) => u.condition_expression("v = :v").expression_attribute_values(":v", n(v)),
            None => u.condition_expression("attribute_not_exists(v)"),
        };
        let res = u.update_expression(expr).send().await;
        match res {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se))
                if se.err().is_conditional_check_failed_exception() || se.err().is_transaction_conflict_exception() =>
            {
                Ok(false)
            }
            Err(e) => Err(classify("UpdateItem(stock rebase)", e)),
        }
    }

    /// Merges a shard's acceptance buckets of `supplier` down to `ACCEPTANCE_BUCKETS_KEPT` when it
    /// keeps more than `ACCEPTANCE_BUCKETS_MAX` (no newer snapshot came to end them), as
    /// `bucket_merges` plans, so the shard stays a small item (one write unit, two in a
    /// transaction). Best effort: written only if every bucket it touches still holds what was read.
    pub(super) async fn compact(&self, sku: &Sku, k: u32, supplier: &SupplierId, count: &ShardCount) -> PortResult<()> {
        if count.accepted.len() <= ACCEPTANCE_BUCKETS_MAX {
            return Ok(());
        }
        let minutes: Vec<i64> = count.accepted.keys().copied().collect();
        let plan = bucket_merges(&minutes, ACCEPTANCE_BUCKETS_KEPT);
        if plan.is_empty() {
            return Ok(());
        }
        let prefix = bucket_prefix(supplier);
        let units = |m: &i64| count.accepted.get(m).copied().unwrap_or(0);
        let mut req = self.client.update_item().table_name(&self.table).key("pk", s(shard_key(sku, k)));
        let (mut sets, mut removes, mut conds) = (Vec::new(), Vec::new(), Vec::new());
        let mut i = 0usize;
        for (into, parts) in &plan {
            let total = parts.iter().fold(units(into), |n, m| n.saturating_add(units(m)));
            req = req
                .expression_attribute_names(format!("#b{i}"), format!("{prefix}{into}"))
                .expression_attribute_values(format!(":b{i}"), n(units(into)))
                .expression_attribute_values(format!(":t{i}"), n(total));
            sets.push(format!("#b{i} = :t{i}"));
            conds.push(format!("#b{i} = :b{i}"));
            i += 1;
            for m in parts {
                req = req
                    .expression_attribute_names(format!("#b{i}"), format!("{prefix}{m}"))
                    .expression_attribute_values(format!(":b{i}"), n(units(m)));
                removes.push(format!("#b{i}"));
                conds.push(format!("#b{i} = :b{i}"));
                i += 1;
            }
        }
        let res = req
            .update_expression(format!("SET {} REMOVE {}", sets.join(", "), removes.join(", ")))
            .condition_expression(conds.join(" AND "))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if se.err().is_conditional_check_failed_exception() || se.err().is_transaction_conflict_exception() =>
            {
                Ok(())
            }
            Err(e) => Err(classify("UpdateItem(stock buckets)", e)),
        }
    }

    /// Ends `hold` (read as `json`): its record goes and its shards give back its units, which
    /// count as accepted from minute `accepted` when it is a settlement that still counts.
    async fn end_hold(
        &self,
        order: &OrderId,
        hold: &StoredHold,
        json: &str,
        accepted: Option<(i64, i64)>,
    ) -> PortResult<bool> {
        let sku = &hold.r.sku;
        let sup = &hold.r.supplier_id;
        let mut items = vec![
            self.update(hold_key(sku, order))
                .update_expression("REMOVE #h")
                .condition_expression("#h = :hold")
                .expression_attribute_names("#h", holder_attr(&hold.r.holder))
                .expression_attribute_values(":hold", s(json))
                .build()
                .map_err(|e| PortError::Permanent(e.to_string()))?,
        ];
        for (k, x) in &hold.parts {
            let u = self
                .update(shard_key(sku, *k))
                .expression_attribute_names("#held", format!("held#{sup}"))
                .expression_attribute_values(":neg", n(-i64::from(*x)))
                .expression_attribute_values(":one", n(1));
            let u = match accepted {
                // Still counted against the snapshot: it moves from held to accepted, and
                // stays in `used` (unless the shard counts against a newer snapshot).
                Some((minute, base)) => u
                    .update_expression("ADD #held :neg, #acc :x, v :one")
                    .condition_expression("attribute_not_exists(#base) OR #base <= :base")
                    .expression_attribute_names("#acc", format!("{}{minute}", bucket_prefix(sup)))
                    .expression_attribute_names("#base", format!("base#{sup}"))
                    .expression_attribute_values(":x", n(*x))
                    .expression_attribute_values(":base", n(base)),
                None => u
                    .update_expression("ADD #held :neg, #used :neg, v :one")
                    .expression_attribute_names("#used", format!("used#{sup}")),
            };
            items.push(u.build().map_err(|e| PortError::Permanent(e.to_string()))?);
        }
        self.transact("TransactWriteItems(end hold)", items).await
    }

    /// Gives back or settles `holder`'s hold; false when it held none.
    async fn finish(
        &self,
        sku: &Sku,
        holder: &str,
        accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> PortResult<bool> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let Some((order, hold, json)) = self.read_hold(sku, holder).await? else { return Ok(false) };
            let accepted = match accepted_at {
                None => None,
                Some(at) => {
                    let (offers, _, _) = self.ledger_read(sku).await?;
                    let minute = acceptance_minute(at);
                    let offer = offers.unwrap_or_default().into_iter().find(|o| o.supplier_id == hold.r.supplier_id);
                    // Accepted before the snapshot was counted (or the offer is gone): nothing
                    // counts against it any more.
                    offer
                        .filter(|o| counts_against(minute, o.stock_as_of))
                        .map(|o| (minute, snapshot_millis(o.stock_as_of)))
                }
            };
            if self.end_hold(&order, &hold, &json, accepted).await? {
                return Ok(true);
            }
            back_off(attempt).await;
        }
        Err(lost_race(sku))
    }
}

/// The SKU item's shard count (1 when it has none).
pub(super) fn stock_shards(item: &Item) -> u32 {
    get_n(item, "stock_shards").and_then(|v| u32::try_from(v).ok()).unwrap_or(1).max(1)
}

/// A short, jittered pause after losing a race for a SKU's stock, so racers spread out.
pub(super) async fn back_off(attempt: u32) {
    let jitter =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let ms = u64::from(2u32.saturating_pow(attempt.min(6))) + u64::from(jitter % 7);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

pub(super) fn lost_race(sku: &Sku) -> PortError {
    PortError::Conflict(format!("stock of {sku} kept changing; try again"))
}

#[async_trait]
impl StockLedger for DynamoCatalog {
    async fn reserve(
        &self,
        r: &Reservation,
        limit: &(dyn for<'o> Fn(&'o Offer) -> HoldLimit + Send + Sync),
    ) -> PortResult<Reserved> {
        let order = Reservation::order_of(&r.holder)
            .ok_or_else(|| PortError::Permanent(format!("holder {} does not name a purchase order", r.holder)))?;
        for attempt in 0..LEDGER_ATTEMPTS {
            let (offers, _, shards) = self.ledger_read(&r.sku).await?;
            let Some(offer) = offers.unwrap_or_default().into_iter().find(|o| o.supplier_id == r.supplier_id) else {
                return Ok(Reserved::NoOffer);
            };
            let lim = limit(&offer);
            let base = snapshot_millis(offer.stock_as_of);
            let home = shard_of(order.as_str(), shards);
            // First try: the order's own shard, without reading it.
            let share = |k: u32| match lim {
                HoldLimit::Units(l) => Some(allotment(l, shards, k)),
                _ => None,
            };
            let first = match (lim, share(home)) {
                (HoldLimit::Refused, _) => None,
                (_, Some(s)) if s < r.quantity => None,
                (_, s) => Some(Take { k: home, units: r.quantity, max: s.map(|s| s - r.quantity) }),
            };
            if let Some(t) = first
                && self.take(r, &order, base, &[t]).await?
            {
                return Ok(Reserved::Taken);
            }
            // Refused, or it did not fit, or something changed: see how things stand.
            let held = self.get_consistent(hold_key(&r.sku, &order)).await?;
            if held.as_ref().is_some_and(|i| i.contains_key(&holder_attr(&r.holder))) {
                return Ok(Reserved::AlreadyHeld);
            }
            let items = self.read_shards(&r.sku, shards).await?;
            let counts: Vec<ShardCount> = items.iter().map(|i| ShardCount::of(i.as_ref(), &r.supplier_id)).collect();
            let mut behind = false;
            for (k, c) in (0u32..).zip(&counts) {
                match c.base {
                    Some(b) if b < base => {
                        self.rebase(&r.sku, k, &r.supplier_id, c, offer.stock_as_of).await?;
                        behind = true;
                    }
                    // The shard counts against a newer snapshot than was read: read again.
                    Some(b) if b > base => behind = true,
                    _ => {}
                }
            }
            if behind {
                continue;
            }
            let used_total = counts.iter().fold(0u32, |n, c| n.saturating_add(c.used_against(offer.stock_as_of)));
            if let Some(refusal) = hold_refusal(&offer, used_total, r.quantity, lim) {
                return Ok(refusal);
            }
            let free: Vec<u32> = (0u32..)
                .zip(&counts)
                .map(|(k, c)| share(k).map_or(r.quantity, |s| s.saturating_sub(c.used_against(offer.stock_as_of))))
                .collect();
            let home_index = usize::try_from(home).unwrap_or(0);
            // Within the limit, but a shard over its share (the stock fell below what was held)
            // leaves the others too little: refused as short.
            let Some(parts) = split_hold(&free, home_index, r.quantity) else {
                let refused = hold_refusal(&offer, used_total, r.quantity, HoldLimit::Units(used_total));
                return Ok(refused.unwrap_or(Reserved::Refused(Box::new(offer))));
            };
            let takes: Vec<Take> =
                parts.into_iter().map(|(k, x)| Take { k, units: x, max: share(k).map(|s| s - x) }).collect();
            if self.take(r, &order, base, &takes).await? {
                return Ok(Reserved::Taken);
            }
            back_off(attempt).await;
        }
        Err(lost_race(&r.sku))
    }

    async fn release(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
        self.finish(sku, holder, None).await
    }

    async fn settle(&self, sku: &Sku, holder: &str, accepted_at: chrono::DateTime<chrono::Utc>) -> PortResult<bool> {
        self.finish(sku, holder, Some(accepted_at)).await
    }

    async fn release_others(&self, sku: &Sku, order: &OrderId, live: &[String]) -> PortResult<usize> {
        let Some(item) = self.get_consistent(hold_key(sku, order)).await? else { return Ok(0) };
        let mut ended = 0;
        for h in holds_in(&item)? {
            if !live.contains(&h.r.holder) && self.release(sku, &h.r.holder).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    async fn holds_of(&self, order: &OrderId, skus: &[Sku]) -> PortResult<Vec<Reservation>> {
        let mut keys: Vec<String> = skus.iter().map(|s| hold_key(s, order)).collect();
        keys.sort();
        keys.dedup();
        let mut out = Vec::new();
        for item in self.batch_get_with(keys, true).await? {
            out.extend(holds_in(&item)?.into_iter().map(|h| h.r));
        }
        Ok(out)
    }
}

impl DynamoCatalog {
    /// The offers of `skus` with every order's held and accepted units counted into `reserved`,
    /// and `order`'s own holds: one BatchGetItem for the SKU items, their first shards and the
    /// order's hold items, and one more for the other shards of the SKUs that have them.
    pub(super) async fn counted_offers(
        &self,
        skus: &[Sku],
        order: Option<&OrderId>,
    ) -> PortResult<(HashMap<Sku, Vec<Offer>>, Vec<Reservation>)> {
        let mut skus: Vec<&Sku> = skus.iter().collect();
        skus.sort();
        skus.dedup();
        let mut keys = Vec::with_capacity(skus.len() * 3);
        for sku in &skus {
            keys.push(format!("SKU#{sku}"));
            keys.push(shard_key(sku, 0));
            if let Some(o) = order {
                keys.push(hold_key(sku, o));
            }
        }
        let mut items: HashMap<String, Item> = HashMap::new();
        for item in self.batch_get(keys).await? {
            if let Some(pk) = get_s(&item, "pk") {
                items.insert(pk.to_string(), item);
            }
        }
        let mut more = Vec::new();
        for sku in &skus {
            let shards = items.get(&format!("SKU#{sku}")).map_or(1, stock_shards);
            more.extend((1..shards).map(|k| shard_key(sku, k)));
        }
        if !more.is_empty() {
            for item in self.batch_get(more).await? {
                if let Some(pk) = get_s(&item, "pk") {
                    items.insert(pk.to_string(), item);
                }
            }
        }
        let mut offers_by_sku = HashMap::new();
        let mut own = Vec::new();
        for sku in skus {
            if let Some(o) = order
                && let Some(item) = items.get(&hold_key(sku, o))
            {
                own.extend(holds_in(item)?.into_iter().map(|h| h.r));
            }
            let Some(sku_item) = items.get(&format!("SKU#{sku}")) else { continue };
            let Some(mut offers) = super::catalog::offers_of(sku_item)? else { continue };
            let shards = stock_shards(sku_item);
            for offer in &mut offers {
                let mut used = 0u32;
                for k in 0..shards {
                    let count = ShardCount::of(items.get(&shard_key(sku, k)), &offer.supplier_id);
                    used = used.saturating_add(count.used_against(offer.stock_as_of));
                    if let Err(e) = self.compact(sku, k, &offer.supplier_id, &count).await {
                        tracing::warn!(sku = %sku, shard = k, error = %e, "acceptance buckets not merged");
                    }
                }
                offer.reserved = used;
            }
            offers_by_sku.insert(sku.clone(), offers);
        }
        Ok((offers_by_sku, own))
    }

    /// Every offer with the units left to it: its snapshot less what its supplier accepted
    /// since (a Scan: for checks over a whole run, never a request path).
    pub async fn offers_left(&self) -> PortResult<Vec<Offer>> {
        let mut offers = Vec::new();
        let mut shards: HashMap<String, Item> = HashMap::new();
        self.scan_all(|item| {
            match get_s(item, "pk") {
                Some(pk) if pk.starts_with("STOCK#") => {
                    shards.insert(pk.to_string(), item.clone());
                }
                Some(pk) if pk.starts_with("SKU#") => {
                    let k = stock_shards(item);
                    offers.extend(super::catalog::offers_of(item)?.unwrap_or_default().into_iter().map(|o| (o, k)));
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
        let mut out: Vec<Offer> = offers
            .into_iter()
            .map(|(mut o, k)| {
                let accepted = (0..k)
                    .map(|i| {
                        ShardCount::of(shards.get(&shard_key(&o.sku, i)), &o.supplier_id)
                            .accepted_against(o.stock_as_of)
                    })
                    .fold(0u32, u32::saturating_add);
                o.stock = o.stock.saturating_sub(accepted);
                o
            })
            .collect();
        out.sort_by(|a, b| (a.sku.as_str(), a.supplier_id.as_str()).cmp(&(b.sku.as_str(), b.supplier_id.as_str())));
        Ok(out)
    }

    /// Every outstanding reservation in the table, for checks over a whole run (the soak on the
    /// emulators; a Scan).
    pub async fn all_reservations(&self) -> PortResult<Vec<Reservation>> {
        let mut out = Vec::new();
        self.scan_all(|item| {
            if get_s(item, "pk").is_some_and(|pk| pk.starts_with("HOLD#")) {
                out.extend(holds_in(item)?.into_iter().map(|h| h.r));
            }
            Ok(())
        })
        .await?;
        Ok(out)
    }
}
