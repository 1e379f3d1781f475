//! AWS adapters: DynamoDB (orders, idempotency, catalog), SQS (work queues), EventBridge
//! (domain events) and SSM Parameter Store (secrets). The same code runs against AWS and against
//! the local emulators (DynamoDB Local, moto), selected by the standard `AWS_ENDPOINT_URL_*`
//! variables.

use crate::catalog::{CatalogDocument, CatalogView, Offer, Reservation, Supplier};
use crate::catalog::{Reserved, reservation_check};
use crate::duplicates::{CustomerKey, PriorOrder};
use crate::events::DomainEvent;
use crate::idempotency::{IdempotencyRecord, IdempotencyStatus, IdempotencyStore, PutOutcome};
use crate::ids::{OrderId, Sku, SupplierId};
use crate::messages::{Step, WorkMessage};
use crate::performance::{COUNTERS, Measured, Outcome, Outcomes};
use crate::ports::{
    Catalog, ConfigText, Created, EventPublisher, OrderRef, OrderStore, OutcomeLedger, PortError, PortResult,
    QueueConsumer, ReceivedMessage, RoutingConfigStore, StockLedger, WorkQueue,
};
use crate::record::OrderRecord;
use crate::secrets::SecretBook;
use crate::status::OrderStatus;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValuesOnConditionCheckFailure};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------------------------------------
// Errors and request counting
// ---------------------------------------------------------------------------------------------

const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "RequestThrottled",
    "KMSThrottlingException",
];

/// Maps an SDK error to a port error: throttling, 5xx and transport failures are transient.
pub fn classify<E, R>(op: &str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let text = format!("{op}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            PortError::Transient(text)
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("");
            if TRANSIENT_CODES.contains(&code) || code.contains("Throttl") {
                PortError::Transient(text)
            } else {
                PortError::Permanent(text)
            }
        }
        _ => PortError::Permanent(text),
    }
}

/// Counts AWS requests per `Service.Operation` (every attempt, as AWS bills them). Attach one
/// to each client to measure requests per order.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl RequestCounter {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
    pub fn reset(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "DroplineRequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key =
            cfg.load::<Metadata>().map(|m| format!("{}.{}", m.service(), m.name())).unwrap_or_else(|| "unknown".into());
        if let Ok(mut m) = self.0.lock() {
            *m.entry(key).or_default() += 1;
        }
        Ok(())
    }
}

/// Clients for every service the pipeline uses, built once from the environment.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub requests: RequestCounter,
}

impl AwsClients {
    /// Loads the shared configuration (region, credentials, `AWS_ENDPOINT_URL_*`) and builds
    /// the clients. Building is cheap: connections open on first use.
    pub async fn from_env() -> Self {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_conf(&conf)
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        let requests = RequestCounter::default();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(conf).interceptor(requests.clone()).build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(conf).interceptor(requests.clone()).build(),
            ),
            eventbridge: aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(conf).interceptor(requests.clone()).build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(conf).interceptor(requests.clone()).build(),
            ),
            requests,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attribute helpers
// ---------------------------------------------------------------------------------------------

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn get_s<'a>(item: &'a Item, k: &str) -> Option<&'a str> {
    item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
}
fn get_n(item: &Item, k: &str) -> Option<i64> {
    item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}
fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

/// Index names and the bucket value of the sparse tracking index (shared with the template).
pub const STATUS_INDEX: &str = "by-status";
pub const TRACKING_INDEX: &str = "tracking-due";
/// Orders per customer email fingerprint, by placing time (duplicate detection).
pub const EMAIL_INDEX: &str = "by-customer-email";
/// Orders per shipping address fingerprint, by placing time (duplicate detection).
pub const ADDRESS_INDEX: &str = "by-customer-address";
/// What the duplicate indexes copy besides their keys: nothing personal.
pub const DUPLICATE_INDEX_ATTRIBUTES: [&str; 3] = ["status", "order_name", "items_key"];
const TRACKING_BUCKET: &str = "DUE";

/// Orders in one DynamoDB table: one item per order (`pk` = order id), the record as JSON in
/// `body`, and projected attributes for the two indexes (`status`/`status_since`, and the
/// sparse `tracking_bucket`/`tracking_due_at`).
pub struct DynamoOrderStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoOrderStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn to_item(record: &OrderRecord, version: u64) -> PortResult<Item> {
        let mut r = record.clone();
        r.version = version;
        let body = serde_json::to_string(&r).map_err(|e| PortError::Permanent(format!("serialize order: {e}")))?;
        let mut item = Item::new();
        item.insert("pk".into(), s(record.id.as_str()));
        item.insert("version".into(), n(version));
        item.insert("status".into(), s(record.status.as_str()));
        item.insert("status_since".into(), n(record.status_since.timestamp_millis()));
        item.insert("body".into(), s(body));
        if let Some(due) = record.tracking_due_at() {
            item.insert("tracking_bucket".into(), s(TRACKING_BUCKET));
            item.insert("tracking_due_at".into(), n(due.timestamp_millis()));
        }
        for key in crate::duplicates::customer_keys(&record.order) {
            let attr = match key {
                CustomerKey::Email(_) => "email_key",
                CustomerKey::Address(_) => "address_key",
            };
            item.insert(attr.into(), s(key.value()));
        }
        item.insert("placed_at".into(), n(record.order.created_at.timestamp_millis()));
        item.insert("order_name".into(), s(record.order.name.as_str()));
        item.insert("items_key".into(), s(crate::duplicates::items_key(&record.order)));
        Ok(item)
    }

    fn from_item(item: &Item) -> PortResult<OrderRecord> {
        let body = get_s(item, "body").ok_or_else(|| PortError::Permanent("order item has no body".into()))?;
        let mut r: OrderRecord =
            serde_json::from_str(body).map_err(|e| PortError::Permanent(format!("unreadable order item: {e}")))?;
        if let Some(v) = get_n(item, "version") {
            r.version = u64::try_from(v).unwrap_or(0);
        }
        Ok(r)
    }
}

#[async_trait]
impl OrderStore for DynamoOrderStore {
    async fn create(&self, record: &OrderRecord) -> PortResult<Created> {
        let item = Self::to_item(record, 1)?;
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
                    Some(item) => Ok(Created::Existing(Self::from_item(&item)?)),
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
        out.item().map(Self::from_item).transpose()
    }

    async fn save(&self, record: &OrderRecord) -> PortResult<OrderRecord> {
        let next = record.version + 1;
        let item = Self::to_item(record, next)?;
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(record.version))
            .send()
            .await;
        match res {
            Ok(_) => {
                let mut stored = record.clone();
                stored.version = next;
                Ok(stored)
            }
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
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
        let mut out = Vec::new();
        // A GSI's start key is the table key plus the index keys: all in an OrderRef.
        let mut start: Option<Item> = after.map(|a| {
            HashMap::from([
                ("pk".to_string(), s(a.id.as_str())),
                ("status".to_string(), s(a.status.as_str())),
                ("status_since".to_string(), n(a.status_since.timestamp_millis())),
            ])
        });
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(STATUS_INDEX)
                .key_condition_expression("#s = :s AND status_since < :before")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":s", s(status.as_str()))
                .expression_attribute_values(":before", n(before.timestamp_millis()))
                .limit(i32::try_from(limit.saturating_sub(out.len())).unwrap_or(i32::MAX).max(1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query(by-status)", e))?;
            for item in page.items() {
                let (Some(id), Some(since)) = (get_s(item, "pk"), get_n(item, "status_since")) else {
                    continue;
                };
                let Ok(id) = OrderId::new(id) else { continue };
                out.push(OrderRef { id, status, status_since: ms_to_time(since) });
            }
            match page.last_evaluated_key() {
                Some(k) if out.len() < limit => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn tracking_due(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<OrderId>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(TRACKING_INDEX)
                .key_condition_expression("tracking_bucket = :b AND tracking_due_at <= :now")
                .expression_attribute_values(":b", s(TRACKING_BUCKET))
                .expression_attribute_values(":now", n(now.timestamp_millis()))
                .limit(i32::try_from(limit.saturating_sub(out.len())).unwrap_or(i32::MAX).max(1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query(tracking-due)", e))?;
            for item in page.items() {
                if let Some(id) = get_s(item, "pk").and_then(|v| OrderId::new(v).ok()) {
                    out.push(id);
                }
            }
            match page.last_evaluated_key() {
                Some(k) if out.len() < limit => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
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

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

pub struct DynamoIdempotencyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoIdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn from_item(item: &Item) -> PortResult<IdempotencyRecord> {
        let bad = |what: &str| PortError::Permanent(format!("idempotency record without {what}"));
        Ok(IdempotencyRecord {
            id: get_s(item, "id").ok_or_else(|| bad("id"))?.to_string(),
            status: match get_s(item, "status") {
                Some("COMPLETED") => IdempotencyStatus::Completed,
                Some("INPROGRESS") => IdempotencyStatus::InProgress,
                _ => return Err(bad("a known status")),
            },
            expiration: get_n(item, "expiration").ok_or_else(|| bad("expiration"))?,
            in_progress_expiration: get_n(item, "in_progress_expiration"),
            data: get_s(item, "data").map(String::from),
            validation: get_s(item, "validation").unwrap_or_default().to_string(),
        })
    }
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn put_in_progress(&self, record: &IdempotencyRecord, now: DateTime<Utc>) -> PortResult<PutOutcome> {
        let mut item = Item::new();
        item.insert("id".into(), s(&record.id));
        item.insert("status".into(), s(record.status.as_str()));
        item.insert("expiration".into(), n(record.expiration));
        if let Some(ms) = record.in_progress_expiration {
            item.insert("in_progress_expiration".into(), n(ms));
        }
        item.insert("validation".into(), s(&record.validation));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(id) OR expiration < :now OR (#status = :inprogress AND in_progress_expiration < :now_ms)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":now_ms", n(now.timestamp_millis()))
            .expression_attribute_values(":inprogress", s(IdempotencyStatus::InProgress.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(PutOutcome::Acquired),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                let old = match se.err() {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                        c.item().cloned()
                    }
                    _ => None,
                };
                let existing = match old {
                    Some(item) => Self::from_item(&item)?,
                    None => self
                        .get(&record.id)
                        .await?
                        .ok_or_else(|| PortError::Transient(format!("idempotency record {} vanished", record.id)))?,
                };
                Ok(PutOutcome::Exists(existing))
            }
            Err(e) => Err(classify("PutItem(idempotency)", e)),
        }
    }

    async fn complete(&self, id: &str, data: &str, expiration: i64) -> PortResult<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(id))
            .update_expression("SET #status = :c, #data = :d, expiration = :e REMOVE in_progress_expiration")
            .condition_expression("attribute_exists(id)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#data", "data")
            .expression_attribute_values(":c", s(IdempotencyStatus::Completed.as_str()))
            .expression_attribute_values(":d", s(data))
            .expression_attribute_values(":e", n(expiration))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                Err(PortError::Conflict(format!("no idempotency record {id}")))
            }
            Err(e) => Err(classify("UpdateItem(idempotency)", e)),
        }
    }

    async fn delete(&self, id: &str) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", s(id))
            .send()
            .await
            .map_err(|e| classify("DeleteItem(idempotency)", e))?;
        Ok(())
    }

    async fn get(&self, id: &str) -> PortResult<Option<IdempotencyRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem(idempotency)", e))?;
        out.item().map(Self::from_item).transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------------------------

/// The catalog in DynamoDB: `SKU#<sku>` items holding that SKU's offers, `HOLD#<sku>` items
/// holding its stock reservations (with a version for conditional writes), `SUPPLIER#<id>` items
/// holding a supplier profile. An order's view costs one BatchGetItem for its SKUs and their
/// reservations and one for the suppliers they reference. Loading offers never touches the
/// reservations.
pub struct DynamoCatalog {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoCatalog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn batch_get(&self, keys: Vec<String>) -> PortResult<Vec<Item>> {
        self.batch_get_with(keys, false).await
    }

    async fn batch_get_with(&self, keys: Vec<String>, consistent: bool) -> PortResult<Vec<Item>> {
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

    /// Every offer and supplier in the table, for operator commands (`feed import`, `catalog
    /// verify`). A Scan: never called on a request path.
    pub async fn document(&self) -> PortResult<CatalogDocument> {
        let mut doc = CatalogDocument::default();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Scan(catalog)", e))?;
            for item in page.items() {
                if let Some(offers) = offers_of(item)? {
                    doc.offers.extend(offers);
                } else if let Some(json) = get_s(item, "supplier") {
                    doc.suppliers.push(
                        serde_json::from_str(json)
                            .map_err(|e| PortError::Permanent(format!("catalog supplier: {e}")))?,
                    );
                }
            }
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        doc.suppliers.sort_by(|a, b| a.id.cmp(&b.id));
        doc.offers.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(doc)
    }

    /// Changes one SKU's offers with `change` as they are stored now, written only if nobody
    /// changed them meanwhile (a settle, another feed): read, change, conditional write, again
    /// on a lost race. Returns false when the SKU has no offers item.
    pub async fn patch_offers(&self, sku: &Sku, change: &(dyn Fn(&mut Vec<Offer>) + Sync)) -> PortResult<bool> {
        for attempt in 0..LEDGER_ATTEMPTS {
            let (Some(mut offers), Some(raw), _) = self.ledger_read(sku).await? else {
                return Ok(false);
            };
            change(&mut offers);
            let json = serde_json::to_string(&offers).map_err(|e| PortError::Permanent(e.to_string()))?;
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(format!("SKU#{sku}")))
                .update_expression("SET offers = :new")
                .condition_expression("offers = :old")
                .expression_attribute_values(":new", s(json))
                .expression_attribute_values(":old", s(raw))
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
        let mut items: Vec<Item> = Vec::new();
        for (sku, offers) in by_sku {
            let json = serde_json::to_string(&offers).map_err(|e| PortError::Permanent(e.to_string()))?;
            items.push(HashMap::from([("pk".to_string(), s(format!("SKU#{sku}"))), ("offers".to_string(), s(json))]));
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
        let mut keys: Vec<String> = skus.iter().flat_map(|s| [format!("SKU#{s}"), format!("HOLD#{s}")]).collect();
        keys.sort();
        keys.dedup();
        let mut view = CatalogView::default();
        if keys.is_empty() {
            return Ok(view);
        }
        let mut reservations = Vec::new();
        for item in self.batch_get(keys).await? {
            let Some(pk) = get_s(&item, "pk") else { continue };
            if pk.starts_with("HOLD#") {
                reservations.extend(holds_of(&item)?.0.into_values());
                continue;
            }
            let Some(sku) = pk.strip_prefix("SKU#").and_then(|v| Sku::new(v).ok()) else {
                continue;
            };
            if let Some(offers) = offers_of(&item)? {
                view.offers.insert(sku, Arc::new(offers));
            }
        }
        view.count_reservations(reservations);
        Ok(view)
    }

    async fn view(&self, skus: &[Sku]) -> PortResult<CatalogView> {
        let mut view = self.offers(skus).await?;
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

/// A `SKU#` item's offers (none when the item is not an offers item).
fn offers_of(item: &Item) -> PortResult<Option<Vec<Offer>>> {
    get_s(item, "offers")
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| PortError::Permanent(format!("catalog item {}: {e}", get_s(item, "pk").unwrap_or("?"))))
        })
        .transpose()
}

/// A SKU's reservations (holder -> reservation) and the version they were read at (0: none yet).
type Holds = (BTreeMap<String, Reservation>, i64);

fn holds_of(item: &Item) -> PortResult<Holds> {
    let holds = match get_s(item, "holds") {
        Some(json) => {
            serde_json::from_str(json).map_err(|e| PortError::Permanent(format!("reservations item: {e}")))?
        }
        None => BTreeMap::new(),
    };
    Ok((holds, get_n(item, "ver").unwrap_or(0)))
}

/// How many times a reservation write is retried after losing a race for the same SKU.
const LEDGER_ATTEMPTS: u32 = 12;

impl DynamoCatalog {
    /// The SKU's offers and reservations, read strongly consistent (one BatchGetItem).
    async fn ledger_read(&self, sku: &Sku) -> PortResult<(Option<Vec<Offer>>, Option<String>, Holds)> {
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
async fn back_off(attempt: u32) {
    let jitter =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let ms = u64::from(2u32.saturating_pow(attempt.min(6))) + u64::from(jitter % 7);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

fn lost_race(sku: &Sku) -> PortError {
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
                return Ok(answer);
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

    async fn settle(&self, sku: &Sku, holder: &str) -> PortResult<bool> {
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
            r.take_from(&mut offers);
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

/// How long an outcome's marker is kept: longer than any supplier retries a callback.
const OUTCOME_MARKER_DAYS: i64 = 400;

/// Supplier outcomes in the catalog table: a `PERFORMANCE#<supplier>` item of counters, and an
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
            .key("pk", s(format!("PERFORMANCE#{}", outcome.supplier_id)))
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
        let keys = suppliers.iter().map(|s| format!("PERFORMANCE#{s}")).collect();
        let mut out = Measured::new();
        for item in self.batch_get(keys).await? {
            let Some(id) = get_s(&item, "pk").and_then(|pk| pk.strip_prefix("PERFORMANCE#")) else { continue };
            let Ok(id) = SupplierId::new(id) else { continue };
            let mut o = Outcomes::default();
            for name in COUNTERS {
                o.add(name, get_n(&item, name).and_then(|v| u64::try_from(v).ok()).unwrap_or(0));
            }
            out.insert(id, o);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// SQS
// ---------------------------------------------------------------------------------------------

/// Queue URLs per step.
#[derive(Debug, Clone, Default)]
pub struct QueueUrls {
    pub urls: HashMap<Step, String>,
    pub dead_letter_urls: HashMap<Step, String>,
}

impl QueueUrls {
    pub fn with(mut self, step: Step, url: impl Into<String>) -> Self {
        self.urls.insert(step, url.into());
        self
    }
    pub fn with_dlq(mut self, step: Step, url: impl Into<String>) -> Self {
        self.dead_letter_urls.insert(step, url.into());
        self
    }
}

pub struct SqsWorkQueue {
    client: aws_sdk_sqs::Client,
    urls: QueueUrls,
    /// How long `receive` waits for messages (long polling), seconds.
    pub wait_seconds: i32,
}

impl SqsWorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, urls: QueueUrls) -> Self {
        Self { client, urls, wait_seconds: 1 }
    }

    fn url(&self, step: Step) -> PortResult<&str> {
        self.urls
            .urls
            .get(&step)
            .map(String::as_str)
            .ok_or_else(|| PortError::Permanent(format!("no queue configured for step {step}")))
    }

    async fn dlq_url(&self, step: Step) -> PortResult<String> {
        if let Some(u) = self.urls.dead_letter_urls.get(&step) {
            return Ok(u.clone());
        }
        // Follow the queue's RedrivePolicy to its dead-letter queue.
        let url = self.url(step)?;
        let attrs = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", e))?;
        let policy = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
            .ok_or_else(|| PortError::Permanent(format!("queue for {step} has no dead-letter queue")))?;
        let v: serde_json::Value =
            serde_json::from_str(policy).map_err(|e| PortError::Permanent(format!("RedrivePolicy: {e}")))?;
        let arn = v["deadLetterTargetArn"].as_str().unwrap_or_default();
        let name = arn.rsplit(':').next().unwrap_or_default();
        let out = self.client.get_queue_url().queue_name(name).send().await.map_err(|e| classify("GetQueueUrl", e))?;
        out.queue_url().map(String::from).ok_or_else(|| PortError::Permanent(format!("no URL for queue {name}")))
    }

    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility: Option<i32>,
        wait: i32,
    ) -> PortResult<Vec<ReceivedMessage>> {
        let mut req = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .wait_time_seconds(wait)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp);
        if let Some(v) = visibility {
            req = req.visibility_timeout(v);
        }
        let out = req.send().await.map_err(|e| classify("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| {
                let attr = |k: aws_sdk_sqs::types::MessageSystemAttributeName| {
                    m.attributes().and_then(|a| a.get(&k)).and_then(|v| v.parse::<i64>().ok())
                };
                ReceivedMessage {
                    message_id: m.message_id().unwrap_or_default().to_string(),
                    receipt: m.receipt_handle().unwrap_or_default().to_string(),
                    body: m.body().unwrap_or_default().to_string(),
                    receive_count: attr(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| u32::try_from(c).ok())
                        .unwrap_or(1),
                    sent_at: ms_to_time(
                        attr(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp).unwrap_or(0),
                    ),
                }
            })
            .collect())
    }

    async fn send_bodies(&self, url: &str, bodies: &[String]) -> PortResult<()> {
        for chunk in bodies.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(b)
                        .build()
                        .map_err(|e| PortError::Permanent(e.to_string()))
                })
                .collect::<PortResult<_>>()?;
            let mut pending = entries;
            for attempt in 0..3 {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| classify("SendMessageBatch", e))?;
                if out.failed().is_empty() {
                    break;
                }
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                if attempt == 2 {
                    return Err(PortError::Transient(format!("SendMessageBatch: {} entries failed", failed.len())));
                }
                pending.retain(|e| failed.contains(&e.id()));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    async fn enqueue(&self, step: Step, messages: &[WorkMessage]) -> PortResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let url = self.url(step)?.to_string();
        let bodies: Vec<String> = messages.iter().map(WorkMessage::to_json).collect();
        self.send_bodies(&url, &bodies).await
    }
}

#[async_trait]
impl QueueConsumer for SqsWorkQueue {
    async fn receive(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.url(step)?.to_string();
        self.receive_from(&url, max, None, self.wait_seconds).await
    }

    async fn delete(&self, step: Step, receipt: &str) -> PortResult<()> {
        let url = self.url(step)?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| classify("DeleteMessage", e))?;
        Ok(())
    }

    async fn peek_dead_letters(&self, step: Step, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.dlq_url(step).await?;
        let mut out: Vec<ReceivedMessage> = Vec::new();
        // Receiving hides what it returns, so repeated receives page through the queue; each
        // message is then made visible again, leaving the queue as it was found.
        while out.len() < max {
            let page = self.receive_from(&url, max - out.len(), Some(30), 0).await?;
            if page.is_empty() {
                break;
            }
            out.extend(
                page.into_iter().filter(|m| !out.iter().any(|o| o.message_id == m.message_id)).collect::<Vec<_>>(),
            );
        }
        for chunk in out.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(&m.receipt)
                        .visibility_timeout(0)
                        .build()
                        .map_err(|e| PortError::Permanent(e.to_string()))
                })
                .collect::<PortResult<Vec<_>>>()?;
            self.client
                .change_message_visibility_batch()
                .queue_url(&url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| classify("ChangeMessageVisibilityBatch", e))?;
        }
        Ok(out)
    }

    /// Moves dead letters back by hand (receive, send, delete): `StartMessageMoveTask` is not
    /// available on every SQS implementation.
    async fn redrive(&self, step: Step, max: usize) -> PortResult<usize> {
        let dlq = self.dlq_url(step).await?;
        let target = self.url(step)?.to_string();
        let mut moved = 0;
        while moved < max {
            let page = self.receive_from(&dlq, (max - moved).min(10), Some(30), 0).await?;
            if page.is_empty() {
                break;
            }
            let bodies: Vec<String> = page.iter().map(|m| m.body.clone()).collect();
            self.send_bodies(&target, &bodies).await?;
            for m in &page {
                self.client
                    .delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(&m.receipt)
                    .send()
                    .await
                    .map_err(|e| classify("DeleteMessage(dlq)", e))?;
            }
            moved += page.len();
        }
        Ok(moved)
    }
}

// ---------------------------------------------------------------------------------------------
// EventBridge
// ---------------------------------------------------------------------------------------------

pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> PortResult<()> {
        for chunk in events.chunks(10) {
            let mut pending: Vec<aws_sdk_eventbridge::types::PutEventsRequestEntry> = chunk
                .iter()
                .map(|e| {
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(&e.source)
                        .detail_type(&e.detail_type)
                        .detail(e.detail.to_string())
                        .resources(e.order_id.as_str())
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(e.time.timestamp_millis()))
                        .build()
                })
                .collect();
            for attempt in 0..3 {
                let out = self
                    .client
                    .put_events()
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| classify("PutEvents", e))?;
                if out.failed_entry_count() == 0 {
                    break;
                }
                // Entries come back in request order; keep those that carry an error.
                let retry: Vec<_> = pending
                    .iter()
                    .zip(out.entries())
                    .filter(|(_, r)| r.error_code().is_some())
                    .map(|(e, _)| e.clone())
                    .collect();
                if attempt == 2 || retry.is_empty() {
                    return Err(PortError::Transient(format!(
                        "PutEvents: {} entries failed",
                        out.failed_entry_count()
                    )));
                }
                pending = retry;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// SSM Parameter Store
// ---------------------------------------------------------------------------------------------

/// Loads every parameter under `path` (recursively, decrypted) into a secret book, names taken
/// relative to `path`.
pub async fn load_secrets(client: &aws_sdk_ssm::Client, path: &str) -> PortResult<SecretBook> {
    let path = format!("/{}", path.trim_matches('/'));
    let mut book = SecretBook::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_parameters_by_path()
            .path(&path)
            .recursive(true)
            .with_decryption(true)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("GetParametersByPath", e))?;
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                let rel = name.strip_prefix(&path).unwrap_or(name);
                book.insert(rel, value);
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(book)
}

// ---------------------------------------------------------------------------------------------
// Routing configuration: a DynamoDB item (the catalog table's `ROUTING#CONFIG`) or an SSM parameter
// ---------------------------------------------------------------------------------------------

/// The routing configuration as one item of the catalog table: `version` and `body`, written
/// only over a lower version (a condition, so two publishers can't both win).
pub struct DynamoRoutingConfig {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoRoutingConfig {
    pub const KEY: &'static str = "ROUTING#CONFIG";

    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

#[async_trait]
impl RoutingConfigStore for DynamoRoutingConfig {
    async fn fetch(&self) -> PortResult<Option<ConfigText>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(Self::KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out.item().and_then(|item| get_s(item, "body")).map(|text| ConfigText {
            source: format!("dynamodb:{}/{}", self.table, Self::KEY),
            text: text.to_string(),
        }))
    }

    async fn publish(&self, version: u32, text: &str) -> PortResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(Self::KEY))
            .item("version", n(version))
            .item("body", s(text))
            .item("published_at", s(Utc::now().to_rfc3339()))
            .condition_expression("attribute_not_exists(pk) OR version < :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                Err(PortError::Conflict(format!("version {version} is not above the stored version")))
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }
}

/// The routing configuration as an SSM parameter (up to 8 KB: a few dozen suppliers; use the
/// DynamoDB item beyond). SSM has no conditional write: publishing checks the stored version
/// first, so two operators publishing at the same instant could both pass the check.
pub struct SsmRoutingConfig {
    client: aws_sdk_ssm::Client,
    name: String,
}

impl SsmRoutingConfig {
    pub fn new(client: aws_sdk_ssm::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }
}

#[async_trait]
impl RoutingConfigStore for SsmRoutingConfig {
    async fn fetch(&self) -> PortResult<Option<ConfigText>> {
        match self.client.get_parameter().name(&self.name).with_decryption(true).send().await {
            Ok(out) => Ok(out
                .parameter()
                .and_then(|p| p.value())
                .map(|text| ConfigText { source: format!("ssm:{}", self.name), text: text.to_string() })),
            Err(SdkError::ServiceError(se)) if se.err().is_parameter_not_found() => Ok(None),
            Err(e) => Err(classify("GetParameter", e)),
        }
    }

    async fn publish(&self, version: u32, text: &str) -> PortResult<()> {
        if let Some(current) = self.fetch().await? {
            let stored = crate::routing_config::declared_version(&current.text);
            if version <= stored {
                return Err(PortError::Conflict(format!("version {version} is not above the stored version {stored}")));
            }
        }
        let tier = if text.len() > 4096 {
            aws_sdk_ssm::types::ParameterTier::Advanced
        } else {
            aws_sdk_ssm::types::ParameterTier::Standard
        };
        self.client
            .put_parameter()
            .name(&self.name)
            .value(text)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .tier(tier)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| classify("PutParameter", e))?;
        Ok(())
    }
}

/// The routing configuration store a `DROPLINE_ROUTING_CONFIG` value names: `dynamodb` (the
/// catalog table's item, the default), `ssm:/parameter/name`, or `file:/path/routing.json`.
pub fn routing_config_store(
    spec: &str,
    clients: &AwsClients,
    catalog_table: &str,
) -> Result<Arc<dyn RoutingConfigStore>, String> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "dynamodb" {
        return Ok(Arc::new(DynamoRoutingConfig::new(clients.dynamodb.clone(), catalog_table)));
    }
    if let Some(name) = spec.strip_prefix("ssm:").filter(|n| !n.trim().is_empty()) {
        return Ok(Arc::new(SsmRoutingConfig::new(clients.ssm.clone(), name.trim())));
    }
    if let Some(path) = spec.strip_prefix("file:").filter(|n| !n.trim().is_empty()) {
        return Ok(Arc::new(crate::adapters::memory::MemoryRoutingConfig::file(path.trim())));
    }
    Err(format!("{spec:?}: expected dynamodb, ssm:/parameter/name or file:/path"))
}
