//! The catalog table's offers and suppliers (`SKU#`, `SUPPLIER#` items).

use super::errors::classify;
use super::items::*;
use super::stock::{LEDGER_ATTEMPTS, back_off, lost_race};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use dropline_app::ports::{Catalog, PortError, PortResult};
use dropline_domain::catalog::{CatalogDocument, CatalogView, Offer, Supplier};
use dropline_domain::primitives::ids::{OrderId, Sku, SupplierId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The catalog in DynamoDB: `SKU#<sku>` items holding that SKU's offers (and how many stock
/// counter shards it has), `SUPPLIER#<id>` items holding a supplier profile, and the stock
/// ledger's `HOLD#` and `STOCK#` items (`super::stock`). An order's view costs one BatchGetItem
/// for its SKUs, their first counter shards and its own holds, one for the other shards of the
/// SKUs that have them, and one for the suppliers they reference. Loading offers never touches
/// the holds or counters.
pub struct DynamoCatalog {
    pub(super) client: aws_sdk_dynamodb::Client,
    pub(super) table: String,
}

impl DynamoCatalog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub(super) async fn batch_get(&self, keys: Vec<String>) -> PortResult<Vec<Item>> {
        self.batch_get_with(keys, false).await
    }

    pub(super) async fn batch_get_with(&self, keys: Vec<String>, consistent: bool) -> PortResult<Vec<Item>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|k| HashMap::from([("pk".to_string(), s(k))])).collect()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(|e| PortError::Permanent(e.to_string()))?,
            );
            let mut rounds = 0;
            while let Some(req) = pending.take() {
                rounds += 1;
                let res = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| classify("BatchGetItem(catalog)", e))?;
                if let Some(items) = res.responses().and_then(|r| r.get(&self.table)) {
                    out.extend(items.iter().cloned());
                }
                if let Some(next) = res.unprocessed_keys().and_then(|u| u.get(&self.table))
                    && !next.keys().is_empty()
                {
                    if rounds >= 5 {
                        return Err(PortError::Transient("catalog reads kept coming back unprocessed".into()));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds)).await;
                    pending = Some(next.clone());
                }
            }
        }
        Ok(out)
    }

    /// Every item of the table, page by page, to `visit`. A Scan: for operator commands and
    /// whole-run checks only, never a request path.
    pub(super) async fn scan_all(&self, visit: impl FnMut(&Item) -> PortResult<()>) -> PortResult<()> {
        super::scan::scan_pages(self.client.scan().table_name(&self.table), "Scan(catalog)", visit).await
    }

    /// Every offer and supplier in the table, for operator commands (`feed import`, `catalog
    /// verify`).
    pub async fn document(&self) -> PortResult<CatalogDocument> {
        let mut doc = CatalogDocument::default();
        self.scan_all(|item| {
            if let Some(offers) = offers_of(item)? {
                doc.offers.extend(offers);
            } else if let Some(json) = get_s(item, "supplier") {
                doc.suppliers.push(
                    serde_json::from_str(json).map_err(|e| PortError::Permanent(format!("catalog supplier: {e}")))?,
                );
            }
            Ok(())
        })
        .await?;
        doc.suppliers.sort_by(|a, b| a.id.cmp(&b.id));
        doc.offers.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(doc)
    }

    /// Changes one SKU's offers with `change` as they are stored now, written only if nobody
    /// changed them meanwhile (a settle, another feed): read, change, conditional write, again
    /// on a lost race. Returns false when the SKU has no offers item.
    pub async fn patch_offers(&self, sku: &Sku, change: &(dyn Fn(&mut Vec<Offer>) + Sync)) -> PortResult<bool> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (Some(mut offers), Some(raw), shards) = self.ledger_read(sku).await? else {
                return Ok(false);
            };
            change(&mut offers);
            // Never fewer shards than before: held units may sit on any of them.
            let shards = shards.max(shards_for_offers(offers.iter()));
            let json = serde_json::to_string(&offers).map_err(|e| PortError::Permanent(e.to_string()))?;
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(format!("SKU#{sku}")))
                .update_expression("SET offers = :new, stock_shards = :shards")
                .condition_expression("offers = :old")
                .expression_attribute_values(":new", s(json))
                .expression_attribute_values(":old", s(raw))
                .expression_attribute_values(":shards", n(shards))
                .send()
                .await;
            match res {
                Ok(_) => return Ok(true),
                Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                    back_off(attempt).await
                }
                Err(e) => return Err(classify("UpdateItem(catalog offers)", e)),
            }
        }
        Err(lost_race(sku))
    }

    /// Writes a whole catalog document (the operator CLI's `catalog load`).
    pub async fn load(&self, doc: &CatalogDocument) -> PortResult<usize> {
        let mut by_sku: BTreeMap<&Sku, Vec<&Offer>> = BTreeMap::new();
        for o in &doc.offers {
            by_sku.entry(&o.sku).or_default().push(o);
        }
        // The shard counts stored now: a load never lowers one (held units may sit on any shard).
        let mut stored: HashMap<String, u32> = HashMap::new();
        for item in self.batch_get(by_sku.keys().map(|sku| format!("SKU#{sku}")).collect()).await? {
            if let Some(pk) = get_s(&item, "pk") {
                stored.insert(pk.to_string(), super::stock::stock_shards(&item));
            }
        }
        let mut items: Vec<Item> = Vec::new();
        for (sku, offers) in by_sku {
            let json = serde_json::to_string(&offers).map_err(|e| PortError::Permanent(e.to_string()))?;
            let pk = format!("SKU#{sku}");
            let shards = stored.get(&pk).copied().unwrap_or(1).max(shards_for_offers(offers.iter().copied()));
            items.push(HashMap::from([
                ("pk".to_string(), s(pk)),
                ("offers".to_string(), s(json)),
                ("stock_shards".to_string(), n(shards)),
            ]));
        }
        for sup in &doc.suppliers {
            let json = serde_json::to_string(sup).map_err(|e| PortError::Permanent(e.to_string()))?;
            items.push(HashMap::from([
                ("pk".to_string(), s(format!("SUPPLIER#{}", sup.id))),
                ("supplier".to_string(), s(json)),
            ]));
        }
        let total = items.len();
        for chunk in items.chunks(25) {
            let mut writes = Vec::with_capacity(chunk.len());
            for item in chunk {
                let put = aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(item.clone()))
                    .build()
                    .map_err(|e| PortError::Permanent(e.to_string()))?;
                writes.push(aws_sdk_dynamodb::types::WriteRequest::builder().put_request(put).build());
            }
            let mut rounds = 0;
            while !writes.is_empty() {
                rounds += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, writes)
                    .send()
                    .await
                    .map_err(|e| classify("BatchWriteItem(catalog)", e))?;
                writes = out.unprocessed_items().and_then(|u| u.get(&self.table)).cloned().unwrap_or_default();
                if !writes.is_empty() {
                    if rounds >= 8 {
                        return Err(PortError::Transient("catalog writes kept coming back unprocessed".into()));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds)).await;
                }
            }
        }
        Ok(total)
    }
}

#[async_trait]
impl Catalog for DynamoCatalog {
    async fn offers(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        let (offers, _) = self.counted_offers(skus, None).await?;
        Ok(CatalogView {
            offers: offers.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            ..CatalogView::default()
        })
    }

    async fn view_for(&self, skus: &[Sku], order: &OrderId) -> PortResult<CatalogView> {
        let (offers, own) = self.counted_offers(skus, Some(order)).await?;
        let view = CatalogView {
            offers: offers.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            ..CatalogView::default()
        };
        Ok(self.with_suppliers(view).await?.seen_by(own))
    }

    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        let view = self.offers(skus).await?;
        self.with_suppliers(view).await
    }

    async fn supplier(&self, id: &SupplierId) -> PortResult<Option<Supplier>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("SUPPLIER#{id}")))
            .send()
            .await
            .map_err(|e| classify("GetItem(catalog supplier)", e))?;
        match out.item().and_then(|i| get_s(i, "supplier")) {
            None => Ok(None),
            Some(json) => serde_json::from_str(json)
                .map(Some)
                .map_err(|e| PortError::Permanent(format!("catalog supplier {id}: {e}"))),
        }
    }
}

impl DynamoCatalog {
    /// `view` with the suppliers its offers reference (one BatchGetItem).
    async fn with_suppliers(&self, mut view: CatalogView) -> PortResult<CatalogView> {
        let mut supplier_keys: Vec<String> =
            view.offers.values().flat_map(|os| os.iter()).map(|o| format!("SUPPLIER#{}", o.supplier_id)).collect();
        supplier_keys.sort();
        supplier_keys.dedup();
        if !supplier_keys.is_empty() {
            for item in self.batch_get(supplier_keys).await? {
                let Some(json) = get_s(&item, "supplier") else {
                    continue;
                };
                let sup: Supplier = serde_json::from_str(json)
                    .map_err(|e| PortError::Permanent(format!("catalog supplier item: {e}")))?;
                view.suppliers.insert(sup.id.clone(), Arc::new(sup));
            }
        }
        Ok(view)
    }
}

/// How many counter shards a SKU with these offers needs (by its largest snapshot).
fn shards_for_offers<'a>(offers: impl Iterator<Item = &'a Offer>) -> u32 {
    dropline_domain::stock::shards_for(offers.map(|o| o.stock).max().unwrap_or(0))
}

/// A `SKU#` item's offers (none when the item is not an offers item).
pub(super) fn offers_of(item: &Item) -> PortResult<Option<Vec<Offer>>> {
    get_s(item, "offers")
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| PortError::Permanent(format!("catalog item {}: {e}", get_s(item, "pk").unwrap_or("?"))))
        })
        .transpose()
}
