//! Ingest: the HTTP entry point. Store webhooks (Shopify, WooCommerce) become stored orders;
//! supplier callbacks (acknowledgments, shipments) update purchase orders.
//!
//! A webhook is answered 2xx only once its order is durably stored. The order id is derived from
//! (channel, store, channel order id), so a redelivery or a re-send of the same order finds the
//! stored one instead of creating a second; the delivery id is an idempotency key whose stored
//! answer is replayed.

use chrono::{DateTime, Duration, Utc};
use dropline_app::batch::StepError;
use dropline_app::idempotency::{Begin, Idempotency, IdempotencyError, payload_hash};
use dropline_app::order_update::{update_from, update_order};
use dropline_app::outbox;
use dropline_app::outcomes::record_outcomes;
use dropline_app::ports::IdempotencyStore;
use dropline_app::ports::{Clock, Created, EventPublisher, OrderStore, OutcomeLedger, StockLedger, WorkQueue};
use dropline_app::reroute::request_reroute;
use dropline_app::secrets::SecretCache;
use dropline_app::stock::{reconcile_stock, release_orphans};
use dropline_domain::order::CanonicalOrder;
use dropline_domain::order::OrderStatus;
use dropline_domain::order::apply_supplier_event;
use dropline_domain::order::{OrderRecord, Receipt, StoreUpdate};
use dropline_domain::performance::outcome_slots;
use dropline_domain::primitives::ids::{DeliveryId, PurchaseOrderId, SupplierId};
use dropline_domain::wire::channels::StoreTimeZones;
use dropline_domain::wire::channels::{self, PayloadError};
use dropline_domain::wire::messages::{Step, WorkMessage};
use dropline_domain::wire::secrets::{SecretBook, Signer, StoreKeys};
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{SIGNATURE_HEADER, SupplierCallback};
use serde_json::{Value, json};
use std::sync::Arc;

pub mod lambda;

/// An HTTP request, independent of where it came from (API Gateway, the dev server, tests).
#[derive(Debug, Clone)]
pub struct WebRequest {
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
    /// When the invocation must have answered (Lambda's deadline); bounds idempotency locks.
    pub deadline: Option<DateTime<Utc>>,
}

impl WebRequest {
    pub fn post(path: &str, headers: &[(&str, &str)], body: impl Into<bytes::Bytes>) -> Self {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (http::HeaderName::try_from(*k), http::HeaderValue::try_from(*v)) {
                map.append(k, v);
            }
        }
        Self { method: "POST".into(), path: path.into(), headers: map, body: body.into(), deadline: None }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// A JSON answer.
#[derive(Debug, Clone, PartialEq)]
pub struct WebResponse {
    pub status: u16,
    pub body: Value,
}

impl WebResponse {
    fn new(status: u16, body: Value) -> Self {
        Self { status, body }
    }
    fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::new(status, json!({"error": code, "message": message.into()}))
    }
    fn invalid(e: &PayloadError) -> Self {
        Self::new(400, json!({"error": "invalid_payload", "field": e.field, "message": e.message}))
    }
}

/// The ingest service: everything built once at init.
pub struct Ingest {
    pub store: Arc<dyn OrderStore>,
    pub idempotency: Idempotency<dyn IdempotencyStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub events: Arc<dyn EventPublisher>,
    /// Read again after a TTL, and at once (at most once a minute) when a signature fails.
    pub secrets: SecretCache,
    pub clock: Arc<dyn Clock>,
    /// Stock reservations, released or settled as purchase orders end.
    pub stock: Arc<dyn StockLedger>,
    /// Supplier outcomes (acceptances, rejections, shipments), counted once per purchase order.
    pub outcomes: Arc<dyn OutcomeLedger>,
    /// Each store's wall clock, for site-local times without an offset (WooCommerce wc/v1).
    pub time_zones: StoreTimeZones,
}

/// Which endpoint a path names. API Gateway may prefix a stage name; only the tail counts.
enum Route {
    Shopify,
    WooCommerce,
    SupplierEvents(String),
}

fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [.., "webhooks", "shopify"] => Some(Route::Shopify),
        [.., "webhooks", "woocommerce"] => Some(Route::WooCommerce),
        [.., "suppliers", id, "events"] => Some(Route::SupplierEvents((*id).to_string())),
        _ => None,
    }
}

const SHOPIFY_HMAC: &str = "x-shopify-hmac-sha256";
/// The largest request body read: Lambda's limit for a synchronous invocation's payload (API
/// Gateway refuses a larger one before it reaches us), about 8,000 Shopify lines. Any order
/// under it is stored, however large its record (the store deflates and splits it).
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;
/// How long an order stays bound to the first store that delivered it under an app-wide secret.
const CLAIM_DAYS: i64 = 3 * 365;
const WOO_SIGNATURE: &str = "x-wc-webhook-signature";

impl Ingest {
    pub async fn handle(&self, req: WebRequest) -> WebResponse {
        let Some(r) = route(&req.path) else {
            return WebResponse::error(404, "not_found", format!("no endpoint at {}", req.path));
        };
        if !req.method.eq_ignore_ascii_case("POST") {
            return WebResponse::error(405, "method_not_allowed", "use POST");
        }
        if req.body.len() > MAX_BODY_BYTES {
            tracing::warn!(path = %req.path, bytes = req.body.len(), "request body too large; nothing read");
            return WebResponse::error(
                413,
                "payload_too_large",
                format!("the body has {} bytes; at most {MAX_BODY_BYTES} are read", req.body.len()),
            );
        }
        match r {
            Route::Shopify => self.shopify(&req).await,
            Route::WooCommerce => self.woocommerce(&req).await,
            Route::SupplierEvents(id) => self.supplier_event(&req, &id).await,
        }
    }

    async fn shopify(&self, req: &WebRequest) -> WebResponse {
        let shop = req.header("x-shopify-shop-domain").unwrap_or("");
        let Some(signer) = self.verify(req, SHOPIFY_HMAC, |b| b.shopify(shop)).await else {
            return unauthorized("shopify", shop);
        };
        if shop.is_empty() {
            return WebResponse::error(400, "missing_header", "X-Shopify-Shop-Domain is required");
        }
        let topic = req.header("x-shopify-topic").unwrap_or("orders/create");
        if !topic.starts_with("orders/") {
            return WebResponse::error(400, "unsupported_topic", format!("topic {topic} is not an order topic"));
        }
        let order = match channels::shopify_order(shop, &req.body) {
            Ok(o) => o,
            Err(e) => return refused("shopify", &e),
        };
        if signer == Signer::App
            && let Err(refusal) = self.bind_to_first_store(&order).await
        {
            return refusal;
        }
        self.accept(order, req.header("x-shopify-webhook-id"), topic, req).await
    }

    async fn woocommerce(&self, req: &WebRequest) -> WebResponse {
        if channels::is_woocommerce_ping(req.header("content-type"), &req.body) {
            // WooCommerce counts the activation ping as delivered only on exactly 200.
            tracing::info!(channel = "woocommerce", "activation ping acknowledged");
            return WebResponse::new(200, json!({"status": "ping_acknowledged"}));
        }
        let source = req.header("x-wc-webhook-source").unwrap_or("");
        if self.verify(req, WOO_SIGNATURE, |b| b.woocommerce(source)).await.is_none() {
            return unauthorized("woocommerce", source);
        }
        if source.is_empty() {
            return WebResponse::error(400, "missing_header", "X-WC-Webhook-Source is required");
        }
        let topic = req.header("x-wc-webhook-topic").unwrap_or("order.created");
        if !topic.starts_with("order.") {
            return WebResponse::error(400, "unsupported_topic", format!("topic {topic} is not an order topic"));
        }
        let order = match channels::woocommerce_order(source, &req.body, &self.time_zones) {
            Ok(o) => o,
            Err(e) => return refused("woocommerce", &e),
        };
        self.accept(order, req.header("x-wc-webhook-delivery-id"), topic, req).await
    }

    /// A body verified by a secret several shops share (a public app's) proves it is genuine, not
    /// which shop sent it: the shop header is unsigned. The store's order id is unique across
    /// the platform (Shopify ids are global), so the first shop to deliver it owns it; the same
    /// body re-posted under another shop's name is refused instead of becoming a second order
    /// and a second purchase order. The claim outlives any replay that could still verify.
    async fn bind_to_first_store(&self, order: &CanonicalOrder) -> Result<(), WebResponse> {
        let now = self.clock.now();
        if now - order.updated_at > Duration::days(CLAIM_DAYS - 30) {
            tracing::warn!(channel = %order.channel, store = %order.store, "app-signed order too old to bind to its store");
            return Err(WebResponse::error(
                422,
                "too_old",
                "this order was last updated too long ago to prove its store; reconcile it from the store",
            ));
        }
        let claims = self.idempotency.with_ttl(Duration::days(CLAIM_DAYS));
        let key = format!("claim:{}:{}", order.channel, order.channel_order_id);
        let owner = payload_hash(order.store.as_str().as_bytes());
        // No lock beyond this call: a claim not completed (a crash, a failed write) is taken
        // again by the next delivery, and nothing was stored under it.
        match claims.begin(&key, &owner, now, now).await {
            Ok(Begin::Completed(_)) => Ok(()),
            Ok(Begin::Proceed) => match claims.complete(&key, order.store.as_str(), now).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    tracing::error!(store = %order.store, error = %e, "store claim not recorded");
                    Err(WebResponse::error(503, "unavailable", "try again later"))
                }
            },
            // The same shop, concurrently: its own claim is being written.
            Err(IdempotencyError::InProgress(_)) => Ok(()),
            Err(IdempotencyError::PayloadMismatch(_)) => {
                tracing::warn!(channel = %order.channel, store = %order.store, "order already belongs to another store; refused");
                Err(WebResponse::error(
                    403,
                    "store_mismatch",
                    "this order was delivered by another store; its signature does not speak for this one",
                ))
            }
            Err(IdempotencyError::Store(e)) => {
                tracing::error!(store = %order.store, error = %e, "idempotency store unavailable");
                Err(WebResponse::error(503, "unavailable", "try again later"))
            }
        }
    }

    /// Verifies the request's signature with the keys `keys_of` picks; on a mismatch, once more
    /// with freshly read secrets (a rotation or a new store since the last read). Which kind of
    /// secret verified it, or None.
    async fn verify(
        &self,
        req: &WebRequest,
        header: &str,
        keys_of: impl for<'b> Fn(&'b SecretBook) -> StoreKeys<'b>,
    ) -> Option<Signer> {
        let book = self.secrets.current().await;
        let keys = keys_of(&book);
        if verified(&keys, req, header) {
            return Some(keys.signer);
        }
        let fresh = self.secrets.refreshed().await?;
        let keys = keys_of(&fresh);
        verified(&keys, req, header).then_some(keys.signer)
    }

    /// Stores a mapped order exactly once and hands it to validation.
    async fn accept(
        &self,
        order: CanonicalOrder,
        delivery: Option<&str>,
        topic: &str,
        req: &WebRequest,
    ) -> WebResponse {
        let now = self.clock.now();
        let delivery_id = delivery.and_then(|d| DeliveryId::new(d).ok());
        let record = OrderRecord::received(
            order,
            Receipt { delivery_id: delivery_id.clone(), topic: topic.to_string(), received_at: now },
        );
        let order_id = record.id.clone();
        // The delivery key includes the order: WooCommerce delivery ids are only unique per second.
        let key = format!(
            "ingest:{}:{}",
            record.order.channel,
            payload_hash(
                format!(
                    "{}\0{}\0{}",
                    record.order.store,
                    record.order.channel_order_id,
                    delivery.map(String::from).unwrap_or_else(|| payload_hash(&req.body))
                )
                .as_bytes()
            )
        );
        let deadline = req.deadline.unwrap_or(now + Duration::seconds(10));
        match self.idempotency.begin(&key, &payload_hash(&req.body), now, deadline).await {
            Ok(Begin::Completed(stored)) => {
                tracing::info!(order_id = %order_id, "redelivery of a completed webhook; replaying the stored answer");
                let mut body: Value = serde_json::from_str(&stored).unwrap_or_else(|_| json!({}));
                body["duplicate_delivery"] = json!(true);
                return WebResponse::new(200, body);
            }
            Ok(Begin::Proceed) => {}
            Err(IdempotencyError::InProgress(_)) => {
                return WebResponse::error(409, "in_progress", "this delivery is being processed; retry later");
            }
            Err(IdempotencyError::PayloadMismatch(_)) => {
                tracing::warn!(order_id = %order_id, "delivery id reused with a different payload");
                return WebResponse::error(
                    409,
                    "delivery_id_reused",
                    "this delivery id was used for a different payload",
                );
            }
            Err(IdempotencyError::Store(e)) => {
                tracing::error!(order_id = %order_id, error = %e, "idempotency store unavailable");
                return WebResponse::error(503, "unavailable", "try again later");
            }
        }

        let answer = match self.store.create(&record).await {
            Ok(Created::Created(stored)) => {
                tracing::info!(order_id = %order_id, channel = %stored.order.channel, lines = stored.order.lines.len(), "order received");
                self.push_on(&stored, "ingest").await;
                // OrderReceived was stored in the order's outbox with it.
                outbox::drain(self.events.as_ref(), self.store.as_ref(), stored).await;
                json!({"status": "accepted", "order_id": order_id})
            }
            Ok(Created::Existing(existing)) => match self.update_existing(existing, record.order, now).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::error!(order_id = %order_id, error = %e, "store update not recorded");
                    if let Err(e) = self.idempotency.abandon(&key).await {
                        tracing::warn!(order_id = %order_id, error = %e, "idempotency record not released; it expires at the deadline");
                    }
                    return WebResponse::error(503, "unavailable", "the update could not be stored; retry");
                }
            },
            Err(e) => {
                tracing::error!(order_id = %order_id, error = %e, "order not stored");
                if let Err(e) = self.idempotency.abandon(&key).await {
                    tracing::warn!(order_id = %order_id, error = %e, "idempotency record not released; it expires at the deadline");
                }
                return WebResponse::error(503, "unavailable", "the order could not be stored; retry");
            }
        };
        if let Err(e) = self.idempotency.complete(&key, &answer.to_string(), now).await {
            // The order is stored; a redelivery will find it by id.
            tracing::warn!(order_id = %order_id, error = %e, "idempotency record not completed");
        }
        WebResponse::new(200, answer)
    }

    /// A delivery for an order already stored: a redelivery, or a newer version of it (paid,
    /// edited, cancelled). Never a second order.
    async fn update_existing(
        &self,
        existing: OrderRecord,
        newer: CanonicalOrder,
        now: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let order_id = existing.id.clone();
        let updated = update_from(self.store.as_ref(), &order_id, Some(existing), |r| {
            match r.apply_store_update(newer.clone(), "ingest", now) {
                Ok(StoreUpdate::Stale) => Ok(None),
                Ok(outcome) => Ok(Some(outcome)),
                Err(e) => Err(StepError::Poison(e.to_string())),
            }
        })
        .await?;
        let (changed, outcome) = (updated.changed, updated.value.unwrap_or(StoreUpdate::Stale));
        let r = &updated.record;
        tracing::info!(order_id = %order_id, status = %r.status, outcome = ?outcome, "order already stored; not creating it twice");
        if r.status == OrderStatus::Received {
            // A re-validation, or the first attempt died between the write and the enqueue.
            self.push_on(r, if changed { "store-update" } else { "redelivery" }).await;
        }
        // Its status events went into the outbox with the change.
        let r = &outbox::drain(self.events.as_ref(), self.store.as_ref(), updated.record).await;
        // A cancellation (or a refund hold) gives the stock back: after the event (a failure here
        // is answered 503 and the store's retry, finding the update applied, repeats only this).
        if r.status == OrderStatus::Cancelled
            || matches!(outcome, StoreUpdate::Cancelled | StoreUpdate::RefundHeld | StoreUpdate::Revalidate)
        {
            for po in &r.purchase_orders {
                reconcile_stock(self.stock.as_ref(), po).await?;
            }
            // And what a crashed routing attempt reserved and never saved.
            release_orphans(self.stock.as_ref(), r).await?;
        }
        let status = match outcome {
            StoreUpdate::Stale | StoreUpdate::Noted => "duplicate",
            StoreUpdate::Revalidate => "updated",
            StoreUpdate::Cancelled => "cancelled",
            StoreUpdate::CancelledAfterSubmission | StoreUpdate::RefundHeld | StoreUpdate::RefundedAfterSubmission => {
                "held"
            }
        };
        Ok(json!({"status": status, "order_id": order_id, "order_status": r.status}))
    }

    /// Enqueues validation. A failure is logged, not returned: the order is durable, and the
    /// escalation sweep re-enqueues orders that stay RECEIVED.
    async fn push_on(&self, record: &OrderRecord, cause: &str) {
        let msg = WorkMessage::order(record.id.clone(), cause);
        if let Err(e) = self.queue.enqueue(Step::Validate, &[msg]).await {
            tracing::error!(order_id = %record.id, error = %e, "validation not enqueued; the escalation sweep will retry");
        }
    }

    async fn supplier_event(&self, req: &WebRequest, supplier: &str) -> WebResponse {
        let Ok(supplier_id) = SupplierId::new(supplier) else {
            return WebResponse::error(404, "unknown_supplier", "no such supplier");
        };
        let id = supplier_id.as_str();
        if self
            .verify(req, SIGNATURE_HEADER, |b| StoreKeys { signer: Signer::Store, secrets: b.supplier(id) })
            .await
            .is_none()
        {
            return unauthorized("supplier", supplier_id.as_str());
        }
        let callback: SupplierCallback = match channels::parse_json(&req.body) {
            Ok(c) => c,
            Err(e) => return WebResponse::invalid(&e),
        };
        let now = self.clock.now();
        if let Some(why) = callback.outside_window(now) {
            tracing::warn!(supplier = %supplier_id, reason = %why, "supplier callback outside the replay window");
            return WebResponse::new(
                422,
                json!({"error": "outside_replay_window", "field": "sent_at", "message": why}),
            );
        }
        let (event, said) = (callback.event.clone(), callback.said());
        let Ok(po_id) = PurchaseOrderId::parse(event.purchase_order_id()) else {
            return WebResponse::error(404, "unknown_purchase_order", "no such purchase order");
        };
        let actor = format!("supplier:{supplier_id}");
        let mut verdict: Option<WebResponse> = None;
        let result = update_order(self.store.as_ref(), po_id.order_id(), |r| {
            let Some(po) = r.po(&po_id) else {
                verdict = Some(WebResponse::error(404, "unknown_purchase_order", "no such purchase order"));
                return Err(StepError::Poison("unknown purchase order".into()));
            };
            if po.supplier_id != supplier_id {
                verdict =
                    Some(WebResponse::error(403, "wrong_supplier", "this purchase order belongs to another supplier"));
                return Err(StepError::Poison("wrong supplier".into()));
            }
            match apply_supplier_event(r, &po_id, &event, said, &actor, now) {
                Ok(Some(detail_type)) => {
                    // In the same write as the change it reports (the status event, if the
                    // callback moved the order, is there already).
                    r.emit_about(
                        "ingest",
                        detail_type,
                        &po_id.to_string(),
                        json!({"purchase_order_id": po_id, "supplier_id": supplier_id}),
                        now,
                    );
                    Ok(Some(detail_type))
                }
                Ok(None) => Ok(None),
                Err(conflict) => {
                    verdict = Some(WebResponse::error(409, "conflict", conflict.clone()));
                    Err(StepError::Poison(conflict))
                }
            }
        })
        .await;
        match result {
            Ok(u) => {
                let po_status = u.record.po(&po_id).map(|p| p.status);
                if u.value.is_some() {
                    tracing::info!(order_id = %u.record.id, po = %po_id, status = ?po_status, "supplier event recorded");
                }
                let changed = u.changed;
                let record = outbox::drain(self.events.as_ref(), self.store.as_ref(), u.record).await;
                // Rejected: the units go back; accepted or shipped: they leave the supplier's
                // stock. Done on every delivery of the callback (after its event), so a failure
                // here is answered 503 and the supplier's retry repeats only this.
                if let Some(po) = record.po(&po_id)
                    && let Err(e) = reconcile_stock(self.stock.as_ref(), po).await
                {
                    tracing::error!(order_id = %record.id, po = %po_id, error = %e, "stock reservation not updated");
                    return WebResponse::error(503, "unavailable", "try again later");
                }
                // The supplier's answer, shipment or stockout counts toward its performance
                // (once, however often the callback comes). Only the slots this kind of
                // callback can fill: a shipment does not re-count the acceptance before it.
                if let Some(po) = record.po(&po_id)
                    && let Err(e) =
                        record_outcomes(self.outcomes.as_ref(), po, outcome_slots(&event, &record, &po_id)).await
                {
                    tracing::error!(order_id = %record.id, po = %po_id, error = %e, "supplier outcome not counted");
                    return WebResponse::error(503, "unavailable", "try again later");
                }
                // Accepted after its rejection: notify-supplier tells the supplier it is void
                // (once; asked again on the supplier's retry while it waits).
                let void = record.po(&po_id).is_some_and(|p| p.needs_void_notice());
                if record.po(&po_id).is_some_and(|p| p.owes_void_notice())
                    && let Err(e) = self
                        .queue
                        .enqueue(Step::NotifySupplier, &[WorkMessage::purchase_order(po_id.clone(), "ingest")])
                        .await
                {
                    tracing::error!(order_id = %record.id, po = %po_id, error = %e, "void notice not requested");
                    return WebResponse::error(503, "unavailable", "try again later");
                }
                // A rejection or a stockout sent the order back to routing: ask route to place
                // the lines elsewhere (again on the supplier's retry, while it waits).
                if let Err(e) = request_reroute(self.queue.as_ref(), &record, "ingest").await {
                    tracing::error!(order_id = %record.id, po = %po_id, error = %e, "reroute not requested");
                    return WebResponse::error(503, "unavailable", "try again later");
                }
                WebResponse::new(
                    200,
                    json!({
                        "status": match (changed, void) {
                            (_, true) => "void",
                            (true, false) => "recorded",
                            (false, false) => "unchanged",
                        },
                        "purchase_order_id": po_id,
                        "purchase_order_status": po_status,
                    }),
                )
            }
            Err(e) => match verdict {
                Some(v) => v,
                None => match e {
                    StepError::Poison(m) if m.contains("does not exist") => {
                        WebResponse::error(404, "unknown_purchase_order", "no such purchase order")
                    }
                    other => {
                        tracing::error!(po = %po_id, error = %other, "supplier event not recorded");
                        WebResponse::error(503, "unavailable", "try again later")
                    }
                },
            },
        }
    }
}

fn verified(keys: &StoreKeys<'_>, req: &WebRequest, header: &str) -> bool {
    match req.header(header) {
        Some(sig) => signature::verify(&keys.secrets, &req.body, sig),
        None => false,
    }
}

/// A store order Dropline cannot read: 400 naming the problem, logged with the reason (never the
/// body, which holds the customer's details).
fn refused(channel: &str, e: &PayloadError) -> WebResponse {
    tracing::warn!(channel, field = %e.field, reason = %e.message, "store order refused");
    WebResponse::invalid(e)
}

fn unauthorized(channel: &str, scope: &str) -> WebResponse {
    // The scope (shop domain, site, supplier id) is no personal data; it helps find misconfigured secrets.
    tracing::warn!(channel, scope, "signature missing or invalid; nothing stored");
    WebResponse::error(401, "invalid_signature", "the request signature does not verify")
}
