//! Orders in DynamoDB: one item per order, written with a version condition; the index queries
//! (write-sharded keys, fanned out).

use super::errors::classify;
use super::items::*;
use super::order_body::StoredBody;
use super::shards::{DUE_SHARDS, STATUS_SHARDS, all_shards, shard_of, shard_value};
use super::time::ms_to_time;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use dropline_app::ports::{Created, IndexPosition, OrderRef, OrderStore, PortError, PortResult};
use dropline_app::sharding::Slice;
use dropline_domain::order::OrderRecord;
use dropline_domain::order::OrderStatus;
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::validation::duplicates::{CustomerKey, PriorOrder};
use std::collections::HashMap;

/// Index names and the bucket value of the sparse tracking index (shared with the template).
pub const STATUS_INDEX: &str = "by-status";
pub const TRACKING_INDEX: &str = "tracking-due";
/// Orders with undelivered side effects (events, void notices), by when they became due.
pub const OUTBOX_INDEX: &str = "outbox-due";
/// Orders per customer email fingerprint, by placing time (duplicate detection).
pub const EMAIL_INDEX: &str = "by-customer-email";
/// Orders per shipping address fingerprint, by placing time (duplicate detection).
pub const ADDRESS_INDEX: &str = "by-customer-address";
/// What the duplicate indexes copy besides their keys: nothing personal.
pub const DUPLICATE_INDEX_ATTRIBUTES: [&str; 3] = ["status", "order_name", "items_key"];
/// Each index's partition attribute, for the capacity meter.
pub const INDEX_PARTITION_KEYS: [(&str, &str); 5] = [
    (STATUS_INDEX, "status_shard"),
    (TRACKING_INDEX, "tracking_bucket"),
    (OUTBOX_INDEX, "outbox_bucket"),
    (EMAIL_INDEX, "email_key"),
    (ADDRESS_INDEX, "address_key"),
];
/// The prefix of the due indexes' sharded bucket values (`DUE#0` ... `DUE#255`).
const DUE_PREFIX: &str = "DUE";
/// The one bucket value of the due indexes before they were sharded: orders written then keep
/// it until their next write (a parcel due a check gets none until it is checked), so the sweeps
/// query it too, the whole sweep or its first slice.
const UNSHARDED_DUE_BUCKET: &str = "DUE";
/// The key of part `i` of the body of `id`'s version `version` (beside the orders; in no
/// index, since it has none of their attributes).
fn part_key(id: &OrderId, version: u64, i: usize) -> String {
    format!("{id}#BODY#{version}#{i}")
}

/// Shard queries of one fan-out in flight at once.
const SHARD_QUERIES_IN_FLIGHT: usize = 16;
/// The key of a sweep's cursor item (beside the orders; in no index, since it has none of
/// their attributes).
const SWEEP_PREFIX: &str = "SWEEP#";

/// Orders in one DynamoDB table: one item per order (`pk` = order id), the record as JSON in
/// `body`, and projected attributes for the two indexes (`status`/`status_since`, and the
/// sparse `tracking_bucket`/`tracking_due_at`).
pub struct DynamoOrderStore {
    pub(super) client: aws_sdk_dynamodb::Client,
    pub(super) table: String,
}

impl DynamoOrderStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The order's item at `version`, and the part items its body needs (none for most).
    fn to_item(record: &OrderRecord, version: u64) -> PortResult<(Item, Vec<Item>)> {
        let mut r = record.clone();
        r.version = version;
        let body = serde_json::to_string(&r).map_err(|e| PortError::Permanent(format!("serialize order: {e}")))?;
        let mut item = Item::new();
        let mut parts = Vec::new();
        item.insert("pk".into(), s(record.id.as_str()));
        item.insert("version".into(), n(version));
        item.insert("status".into(), s(record.status.as_str()));
        let id = record.id.as_str();
        item.insert("status_shard".into(), s(shard_value(record.status.as_str(), shard_of(id, STATUS_SHARDS))));
        item.insert("status_since".into(), n(record.status_since.timestamp_millis()));
        match StoredBody::encode(body) {
            StoredBody::Inline(text) => {
                item.insert("body".into(), s(text));
            }
            StoredBody::Compressed(z) => {
                item.insert("body_z".into(), AttributeValue::B(Blob::new(z)));
            }
            StoredBody::Parts(chunks) => {
                item.insert("body_parts".into(), n(chunks.len()));
                for (i, chunk) in chunks.into_iter().enumerate() {
                    parts.push(HashMap::from([
                        ("pk".to_string(), s(part_key(&record.id, version, i))),
                        ("body_z".to_string(), AttributeValue::B(Blob::new(chunk))),
                    ]));
                }
            }
        }
        let due_bucket = shard_value(DUE_PREFIX, shard_of(id, DUE_SHARDS));
        if let Some(due) = record.tracking_due_at() {
            item.insert("tracking_bucket".into(), s(&due_bucket));
            item.insert("tracking_due_at".into(), n(due.timestamp_millis()));
        }
        // Sparse: only orders that still owe an event or a notice are in the index.
        if let Some(due) = record.outbox_due_at() {
            item.insert("outbox_bucket".into(), s(due_bucket));
            item.insert("outbox_due_at".into(), n(due.timestamp_millis()));
        }
        for key in &record.customer_keys {
            let attr = match key {
                CustomerKey::Email(_) => "email_key",
                CustomerKey::Address(_) => "address_key",
            };
            item.insert(attr.into(), s(key.value()));
        }
        item.insert("placed_at".into(), n(record.order.created_at.timestamp_millis()));
        item.insert("order_name".into(), s(record.order.name.as_str()));
        item.insert("items_key".into(), s(dropline_domain::validation::duplicates::items_key(&record.order)));
        Ok((item, parts))
    }

    /// Writes a body's part items (before the order's item that names them).
    async fn put_parts(&self, parts: &[Item]) -> PortResult<()> {
        for part in parts {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(part.clone()))
                .send()
                .await
                .map_err(|e| classify("PutItem(order body part)", e))?;
        }
        Ok(())
    }

    /// Deletes part items no order item names any more (a version replaced, a write refused);
    /// best effort: a leftover part is dead weight, never read.
    async fn drop_parts(&self, id: &OrderId, version: u64, count: usize) {
        for i in 0..count {
            let key = part_key(id, version, i);
            if let Err(e) = self.client.delete_item().table_name(&self.table).key("pk", s(&key)).send().await {
                tracing::warn!(order_id = %id, error = %classify("DeleteItem(order body part)", e), "an old body part is left");
            }
        }
    }

    /// The record an order item holds, its body read from its part items when it has them.
    async fn record_of(&self, item: &Item) -> PortResult<OrderRecord> {
        let json = match (get_s(item, "body"), item.get("body_z"), get_n(item, "body_parts")) {
            (Some(text), _, _) => text.to_string(),
            (None, Some(AttributeValue::B(z)), _) => StoredBody::inflate(z.as_ref())?,
            (None, None, Some(count)) => {
                let id = get_s(item, "pk").and_then(|v| OrderId::new(v).ok());
                let version = get_n(item, "version").and_then(|v| u64::try_from(v).ok());
                let (Some(id), Some(version)) = (id, version) else {
                    return Err(PortError::Permanent("order item with parts has no id or version".into()));
                };
                let mut z = Vec::new();
                for i in 0..usize::try_from(count).unwrap_or(0) {
                    let out = self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .key("pk", s(part_key(&id, version, i)))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| classify("GetItem(order body part)", e))?;
                    match out.item().and_then(|p| p.get("body_z")) {
                        Some(AttributeValue::B(chunk)) => z.extend_from_slice(chunk.as_ref()),
                        // Replaced since the item was read: the caller reads again.
                        _ => return Err(PortError::Transient(format!("order {id} changed while it was read"))),
                    }
                }
                StoredBody::inflate(&z)?
            }
            _ => return Err(PortError::Permanent("order item has no body".into())),
        };
        let mut r: OrderRecord =
            serde_json::from_str(&json).map_err(|e| PortError::Permanent(format!("unreadable order item: {e}")))?;
        if let Some(v) = get_n(item, "version") {
            r.version = u64::try_from(v).unwrap_or(0);
        }
        Ok(r)
    }

    /// The rows of a write-sharded index (`hash` one of `values`, `sort` a time in ms) whose
    /// time is in `lo..=hi` and past `after` (time, then id), oldest first, at most `limit`:
    /// every shard queried (a bounded Query each, 16 at a time), their heads merged.
    #[allow(clippy::too_many_arguments)]
    async fn sharded_rows(
        &self,
        index: &str,
        (hash, sort): (&str, &str),
        values: Vec<String>,
        (lo, hi): (i64, i64),
        limit: usize,
        after: Option<(i64, &OrderId)>,
    ) -> PortResult<Vec<(OrderId, i64)>> {
        use futures_util::StreamExt;
        if limit == 0 || hi < lo {
            return Ok(Vec::new());
        }
        let shards =
            values.into_iter().map(|value| self.shard_rows(index, (hash, sort), value, (lo, hi), limit, after));
        let mut rows: Vec<(OrderId, i64)> = Vec::new();
        let mut results = futures_util::stream::iter(shards).buffer_unordered(SHARD_QUERIES_IN_FLIGHT);
        while let Some(r) = results.next().await {
            rows.extend(r?);
        }
        rows.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
        rows.truncate(limit);
        Ok(rows)
    }

    /// One shard's rows for `sharded_rows`: paged until `limit` rows past `after`.
    async fn shard_rows(
        &self,
        index: &str,
        (hash, sort): (&str, &str),
        value: String,
        (lo, hi): (i64, i64),
        limit: usize,
        after: Option<(i64, &OrderId)>,
    ) -> PortResult<Vec<(OrderId, i64)>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#h = :h AND #s BETWEEN :lo AND :hi")
                .expression_attribute_names("#h", hash)
                .expression_attribute_names("#s", sort)
                .expression_attribute_values(":h", s(&value))
                .expression_attribute_values(":lo", n(lo))
                .expression_attribute_values(":hi", n(hi))
                .limit(i32::try_from(limit.saturating_sub(out.len())).unwrap_or(i32::MAX).max(1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify(&format!("Query({index})"), e))?;
            for item in page.items() {
                let (Some(id), Some(at)) = (get_s(item, "pk").and_then(|v| OrderId::new(v).ok()), get_n(item, sort))
                else {
                    continue;
                };
                // Past the cursor: a later time, or the same time and a later id.
                if after.is_none_or(|(t, a)| at > t || (at == t && id.as_str() > a.as_str())) {
                    out.push((id, at));
                }
            }
            match page.last_evaluated_key() {
                Some(k) if out.len() < limit => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Rows of one of the sparse "due" indexes (in `shards` of its `DUE#n` buckets, a due time)
    /// due before `t` (or at it, `inclusive`), oldest first, after `after`, at most `limit`.
    #[allow(clippy::too_many_arguments)]
    async fn due_rows(
        &self,
        index: &str,
        keys: (&str, &str),
        shards: Vec<String>,
        t: DateTime<Utc>,
        inclusive: bool,
        limit: usize,
        after: Option<&IndexPosition>,
    ) -> PortResult<Vec<IndexPosition>> {
        let hi = t.timestamp_millis() - i64::from(!inclusive);
        let lo = after.map_or(0, |a| a.at.timestamp_millis());
        let rows = self
            .sharded_rows(index, keys, shards, (lo, hi), limit, after.map(|a| (a.at.timestamp_millis(), &a.id)))
            .await?;
        Ok(rows.into_iter().map(|(id, at)| IndexPosition { id, at: ms_to_time(at) }).collect())
    }
}

#[async_trait]
impl OrderStore for DynamoOrderStore {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created> {
        let (item, parts) = Self::to_item(record, 1)?;
        self.put_parts(&parts).await?;
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => {
                let mut stored = record.clone();
                stored.version = 1;
                Ok(Created::Created(stored))
            }
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                let old = match se.err() {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                        c.item().cloned()
                    }
                    _ => None,
                };
                match old {
                    Some(item) => Ok(Created::Existing(self.record_of(&item).await?)),
                    None => self.get(&record.id).await?.map(Created::Existing).ok_or_else(|| {
                        PortError::Transient(format!("order {} exists but could not be read", record.id))
                    }),
                }
            }
            Err(e) => Err(classify("PutItem(order)", e)),
        }
    }

    async fn get(&self, id: &OrderId) -> PortResult<Option<OrderRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem(order)", e))?;
        match out.item() {
            Some(item) => self.record_of(item).await.map(Some),
            None => Ok(None),
        }
    }

    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord> {
        let next = record.version + 1;
        let (item, parts) = Self::to_item(record, next)?;
        self.put_parts(&parts).await?;
        // Only a body that was deflated past this can have had parts (orders do not shrink 20x).
        let large = item.contains_key("body_parts")
            || item.get("body_z").and_then(|z| z.as_b().ok()).is_some_and(|z| z.as_ref().len() > 16 * 1024);
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(record.version))
            // Whether the version replaced had part items to drop: asked only of a large body
            // (orders grow; one small now never had parts), so an ordinary save does not carry
            // its old item back.
            .set_return_values(large.then_some(aws_sdk_dynamodb::types::ReturnValue::AllOld))
            .send()
            .await;
        match res {
            Ok(out) => {
                // The version replaced kept its body in parts: they are read no more.
                if let Some(old) = out.attributes().and_then(|a| get_n(a, "body_parts")) {
                    self.drop_parts(&record.id, record.version, usize::try_from(old).unwrap_or(0)).await;
                }
                let mut stored = record.clone();
                stored.version = next;
                Ok(stored)
            }
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                self.drop_parts(&record.id, next, parts.len()).await;
                Err(PortError::Conflict(format!("order {} changed since version {}", record.id, record.version)))
            }
            Err(e) => Err(classify("PutItem(order save)", e)),
        }
    }

    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&OrderRef>,
    ) -> PortResult<Vec<OrderRef>> {
        let lo = after.map_or(0, |a| a.status_since.timestamp_millis());
        let rows = self
            .sharded_rows(
                STATUS_INDEX,
                ("status_shard", "status_since"),
                all_shards(status.as_str(), STATUS_SHARDS),
                (lo, before.timestamp_millis() - 1),
                limit,
                after.map(|a| (a.status_since.timestamp_millis(), &a.id)),
            )
            .await?;
        Ok(rows.into_iter().map(|(id, since)| OrderRef { id, status, status_since: ms_to_time(since) }).collect())
    }

    async fn tracking_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
        slice: Slice,
    ) -> PortResult<Vec<IndexPosition>> {
        let mut shards: Vec<String> = slice.shards().map(|k| shard_value(DUE_PREFIX, k)).collect();
        if slice.index() == 0 {
            shards.push(UNSHARDED_DUE_BUCKET.to_string());
        }
        self.due_rows(TRACKING_INDEX, ("tracking_bucket", "tracking_due_at"), shards, now, true, limit, after).await
    }

    async fn outbox_due(
        &self,
        before: DateTime<Utc>,
        limit: usize,
        after: Option<&IndexPosition>,
    ) -> PortResult<Vec<IndexPosition>> {
        let mut shards = all_shards(DUE_PREFIX, DUE_SHARDS);
        shards.push(UNSHARDED_DUE_BUCKET.to_string());
        self.due_rows(OUTBOX_INDEX, ("outbox_bucket", "outbox_due_at"), shards, before, false, limit, after).await
    }

    async fn sweep_cursor(&self, sweep: &str) -> PortResult<Option<IndexPosition>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("{SWEEP_PREFIX}{sweep}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem(sweep cursor)", e))?;
        let Some(item) = out.item() else { return Ok(None) };
        match (get_s(item, "cursor_id").and_then(|v| OrderId::new(v).ok()), get_n(item, "cursor_at")) {
            (Some(id), Some(at)) => Ok(Some(IndexPosition { id, at: ms_to_time(at) })),
            _ => Ok(None),
        }
    }

    async fn save_sweep_cursor(&self, sweep: &str, cursor: Option<&IndexPosition>) -> PortResult<()> {
        let mut item = Item::new();
        item.insert("pk".into(), s(format!("{SWEEP_PREFIX}{sweep}")));
        if let Some(c) = cursor {
            item.insert("cursor_id".into(), s(c.id.as_str()));
            item.insert("cursor_at".into(), n(c.at.timestamp_millis()));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify("PutItem(sweep cursor)", e))?;
        Ok(())
    }

    async fn same_customer(
        &self,
        key: &CustomerKey,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<PriorOrder>> {
        let (index, attr) = match key {
            CustomerKey::Email(_) => (EMAIL_INDEX, "email_key"),
            CustomerKey::Address(_) => (ADDRESS_INDEX, "address_key"),
        };
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :k AND placed_at BETWEEN :from AND :to")
            .expression_attribute_names("#k", attr)
            .expression_attribute_values(":k", s(key.value()))
            .expression_attribute_values(":from", n(from.timestamp_millis()))
            .expression_attribute_values(":to", n(to.timestamp_millis()))
            .limit(500)
            .send()
            .await
            .map_err(|e| classify(&format!("Query({index})"), e))?;
        let mut out = Vec::new();
        for item in page.items() {
            let (Some(id), Some(placed), Some(status), Some(items)) = (
                get_s(item, "pk").and_then(|v| OrderId::new(v).ok()),
                get_n(item, "placed_at"),
                get_s(item, "status").and_then(OrderStatus::parse),
                get_s(item, "items_key"),
            ) else {
                continue;
            };
            out.push(PriorOrder {
                id,
                name: get_s(item, "order_name").unwrap_or_default().to_string(),
                placed_at: ms_to_time(placed),
                status,
                items_key: items.to_string(),
            });
        }
        Ok(out)
    }
}
