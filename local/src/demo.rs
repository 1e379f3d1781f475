//! `make demo`: the whole pipeline in one process on embedded defaults: memory store, queues and
//! event bus, simulated suppliers and carrier, a manual clock. It replays a bundled sample of
//! store webhooks (good and bad) through all six handlers and prints what each stage did.

use crate::pipeline::{Pipeline, Ports};
use crate::sim::{SimulatedCarrier, SimulatedSuppliers};
use chrono::{Duration, TimeZone, Utc};
use dropline_adapters::memory::{
    ManualClock, MemoryCatalog, MemoryEventBus, MemoryIdempotencyStore, MemoryOrderStore, MemoryQueues,
    MemoryRoutingConfig,
};
use dropline_app::caches::ConfigCache;
use dropline_app::ports::Clock;
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::escalation::Thresholds;
use dropline_domain::order::{OrderRecord, TimelineKind};
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::validation::ValidationPolicy;
use dropline_domain::wire::messages::Step;
use dropline_domain::wire::secrets::SecretBook;
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{SIGNATURE_HEADER, SupplierCallback};
use dropline_ingest::WebRequest;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

pub const CATALOG: &str = include_str!("../demo/catalog.json");
pub const DELIVERIES: &str = include_str!("../demo/deliveries.json");

/// Demo secrets: what the simulated store and suppliers sign with.
pub const SHOPIFY_SECRET: &str = "demo-shopify-app-secret";
pub const WOO_SECRET: &str = "demo-woocommerce-webhook-secret";
/// The demo's WooCommerce site (its webhook secret is configured under woocommerce/<host>).
pub const WOO_HOST: &str = "shop.example.org";

/// One bundled webhook delivery.
#[derive(Debug, Clone, Deserialize)]
pub struct Delivery {
    pub case: String,
    #[serde(default)]
    pub note: String,
    pub channel: String,
    #[serde(default)]
    pub delivery_id: String,
    #[serde(default)]
    pub topic: String,
    pub store: String,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
    #[serde(default)]
    pub raw_body: Option<String>,
}

impl Delivery {
    pub fn body(&self) -> Vec<u8> {
        match (&self.raw_body, &self.payload) {
            (Some(raw), _) => raw.clone().into_bytes(),
            (None, Some(p)) => serde_json::to_vec(p).unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }

    /// The HTTP request the store would send, signed with `secret`.
    pub fn request(&self, secret: &str) -> WebRequest {
        let body = self.body();
        let sig = signature::sign(secret.as_bytes(), &body);
        let (path, headers): (&str, Vec<(&str, &str)>) = match self.channel.as_str() {
            "woocommerce" if self.raw_body.is_some() => {
                ("/webhooks/woocommerce", vec![("content-type", "application/x-www-form-urlencoded")])
            }
            "woocommerce" => (
                "/webhooks/woocommerce",
                vec![
                    ("content-type", "application/json"),
                    ("x-wc-webhook-source", self.store.as_str()),
                    ("x-wc-webhook-topic", self.topic.as_str()),
                    ("x-wc-webhook-delivery-id", self.delivery_id.as_str()),
                    ("x-wc-webhook-signature", sig.as_str()),
                ],
            ),
            _ => (
                "/webhooks/shopify",
                vec![
                    ("content-type", "application/json"),
                    ("x-shopify-shop-domain", self.store.as_str()),
                    ("x-shopify-topic", self.topic.as_str()),
                    ("x-shopify-webhook-id", self.delivery_id.as_str()),
                    ("x-shopify-hmac-sha256", sig.as_str()),
                ],
            ),
        };
        WebRequest::post(path, &headers, body)
    }

    pub fn secret(&self) -> &'static str {
        if self.channel == "woocommerce" { WOO_SECRET } else { SHOPIFY_SECRET }
    }
}

pub fn deliveries() -> Result<Vec<Delivery>, String> {
    serde_json::from_str(DELIVERIES).map_err(|e| format!("bundled deliveries: {e}"))
}

/// The demo's routing configuration (suppliers' calendars, zones, services, policy, rules).
pub const ROUTING: &str = include_str!("../demo/routing.json");

pub fn routing() -> Result<dropline_domain::routing::config::RoutingConfig, String> {
    dropline_domain::routing::config::RoutingConfig::parse("local/demo/routing.json", ROUTING)
        .map_err(|e| e.to_string())
}

pub fn catalog() -> Result<CatalogDocument, String> {
    CatalogDocument::parse("local/demo/catalog.json", CATALOG).map_err(|e| e.to_string())
}

pub fn supplier_secret(supplier: &str) -> String {
    format!("demo-secret-{supplier}")
}

/// Everything the demo wires, kept for inspection.
pub struct DemoWorld {
    pub clock: Arc<ManualClock>,
    pub store: Arc<MemoryOrderStore>,
    pub queues: Arc<MemoryQueues>,
    pub bus: Arc<MemoryEventBus>,
    pub idempotency: Arc<MemoryIdempotencyStore>,
    /// Offers and stock reservations.
    pub catalog: Arc<MemoryCatalog>,
    pub suppliers: Arc<SimulatedSuppliers>,
    pub carrier: Arc<SimulatedCarrier>,
    pub pipeline: Pipeline,
}

/// Wires the six handlers on memory adapters and simulated partners.
pub fn world(doc: &CatalogDocument) -> DemoWorld {
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 15, 0, 0).single().unwrap_or_else(Utc::now);
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(MemoryOrderStore::new());
    let queues = Arc::new(MemoryQueues::new(clock.clone()));
    let bus = Arc::new(MemoryEventBus::new());
    let idempotency = Arc::new(MemoryIdempotencyStore::new());
    let catalog = Arc::new(MemoryCatalog::new(doc));
    let suppliers = Arc::new(SimulatedSuppliers::default());
    let carrier = Arc::new(SimulatedCarrier::default());
    let mut secrets =
        SecretBook::new().with("shopify", SHOPIFY_SECRET).with(&format!("woocommerce/{WOO_HOST}"), WOO_SECRET);
    for s in &doc.suppliers {
        secrets.insert(&format!("suppliers/{}", s.id), &supplier_secret(s.id.as_str()));
    }
    let pipeline = Pipeline::wire(Ports {
        queue_visibility: Some(queues.visibility_timeout),
        store: store.clone(),
        idempotency: idempotency.clone(),
        queue: queues.clone(),
        consumer: queues.clone(),
        events: bus.clone(),
        catalog: catalog.clone(),
        stock: catalog.clone(),
        outcomes: catalog.clone(),
        gateway: suppliers.clone(),
        tracker: carrier.clone(),
        clock: clock.clone(),
        secrets,
        policy: ValidationPolicy::default(),
        thresholds: Thresholds::default(),
        routing: Arc::new(ConfigCache::new(
            Arc::new(MemoryRoutingConfig::with_text("local/demo/routing.json", ROUTING)),
            std::time::Duration::MAX,
        )),
    });
    DemoWorld { clock, store, queues, bus, idempotency, catalog, suppliers, carrier, pipeline }
}

impl DemoWorld {
    /// Delivers the simulated suppliers' callbacks through the ingest handler, signed.
    pub async fn deliver_supplier_callbacks(&self) -> BTreeMap<u16, usize> {
        let mut statuses = BTreeMap::new();
        for (supplier, event) in self.suppliers.take_outbox() {
            let callback = SupplierCallback::new(event, self.clock.now());
            let body = serde_json::to_vec(&callback).unwrap_or_default();
            let sig = signature::sign(supplier_secret(&supplier).as_bytes(), &body);
            let req = WebRequest::post(
                &format!("/suppliers/{supplier}/events"),
                &[("content-type", "application/json"), (SIGNATURE_HEADER, sig.as_str())],
                body,
            );
            let answer = self.pipeline.ingest.handle(req).await;
            *statuses.entry(answer.status).or_default() += 1;
        }
        statuses
    }

    /// Drains the queues, letting failed messages come back after their visibility timeout
    /// (the clock is moved past it) until nothing is left in flight.
    pub async fn settle(&self) -> Result<usize, String> {
        let mut total = 0;
        for _ in 0..20 {
            total += self.pipeline.drain().await.map_err(|e| e.to_string())?;
            let in_flight: usize = Step::ALL.iter().map(|s| self.queues.depth(*s).0).sum();
            if in_flight == 0 {
                break;
            }
            self.clock.advance(self.queues.visibility_timeout + Duration::seconds(1));
        }
        Ok(total)
    }
}

/// Runs the demo and returns the report.
pub async fn run() -> Result<String, String> {
    let doc = catalog()?;
    let deliveries = deliveries()?;
    let w = world(&doc);
    let mut out = String::new();
    let p = &w.pipeline;

    // 1. Store webhooks, one by one as they would arrive, each followed by the work it causes.
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut lines: Vec<String> = Vec::new();
    for d in &deliveries {
        let answer = p.ingest.handle(d.request(d.secret())).await;
        let label = answer_label(answer.status, &answer.body);
        *answers.entry(label.clone()).or_default() += 1;
        lines.push(format!("  {:<30} {:<12} {}", d.case, d.channel, label));
        w.clock.advance(Duration::seconds(20));
        w.settle().await?;
    }
    // Two deliveries no store should send: a forged signature, and a signed body that is not an order.
    if let Some(first) = deliveries.iter().find(|d| d.payload.is_some()) {
        let forged = p.ingest.handle(first.request("not-the-secret")).await;
        let label = answer_label(forged.status, &forged.body);
        *answers.entry(label.clone()).or_default() += 1;
        lines.push(format!("  {:<30} {:<12} {}", "forged_signature", first.channel, label));
        let mut not_order = first.clone();
        not_order.payload = Some(serde_json::json!({"id": 42, "title": "a product, not an order"}));
        let bad = p.ingest.handle(not_order.request(not_order.secret())).await;
        let label = format!("{} ({})", answer_label(bad.status, &bad.body), bad.body["message"].as_str().unwrap_or(""));
        *answers.entry(answer_label(bad.status, &bad.body)).or_default() += 1;
        lines.push(format!("  {:<30} {:<12} {}", "not_an_order", not_order.channel, label));
    }

    // 2. Suppliers acknowledge and ship (their callbacks come back through ingest).
    w.clock.advance(Duration::minutes(30));
    let callbacks = w.deliver_supplier_callbacks().await;
    w.settle().await?;

    // 3. A poison message in the validation queue: it fails on every receive and reaches the DLQ.
    w.queues.send_raw(Step::Validate, "{\"order_id\": \"not an order id\"}");
    w.settle().await?;

    // 4. Tracking runs on its schedule while parcels travel.
    let mut polls = Vec::new();
    for _ in 0..6 {
        w.clock.advance(Duration::hours(6));
        polls.push(p.poll_tracking().await);
    }

    // 5. A day later, the escalation run finds what still waits for a human.
    w.clock.advance(Duration::hours(25));
    let escalation = p.escalate().await;
    let again = p.escalate().await;

    let orders = w.store.all();
    writeln!(out, "Dropline demo: {} store webhooks replayed through all six handlers", deliveries.len() + 2).ok();
    writeln!(out, "(in process: memory store, queues and event bus; simulated suppliers and carrier; no network)\n")
        .ok();

    writeln!(out, "INGEST  {} deliveries", deliveries.len() + 2).ok();
    for l in &lines {
        writeln!(out, "{l}").ok();
    }
    writeln!(out, "  answers: {}", join_counts(&answers)).ok();

    let validated = count_by(&orders, |r| actor_moved(r, "validate", OrderStatus::Validated));
    let held_validate: Vec<&OrderRecord> =
        orders.iter().filter(|r| actor_moved(r, "validate", OrderStatus::OnHold)).collect();
    let mut hold_codes: BTreeMap<String, usize> = BTreeMap::new();
    for r in &held_validate {
        for h in held_reasons(r, "validate") {
            *hold_codes.entry(h).or_default() += 1;
        }
    }
    writeln!(out, "\nVALIDATE  {} orders stored, {} validated, {} held", orders.len(), validated, held_validate.len())
        .ok();
    writeln!(out, "  holds by reason: {}", join_counts(&hold_codes)).ok();

    let routed = count_by(&orders, |r| actor_moved(r, "route", OrderStatus::Routed));
    let held_route: Vec<&OrderRecord> =
        orders.iter().filter(|r| actor_moved(r, "route", OrderStatus::OnHold)).collect();
    let mut route_codes: BTreeMap<String, usize> = BTreeMap::new();
    for r in &held_route {
        for h in held_reasons(r, "route") {
            *route_codes.entry(h).or_default() += 1;
        }
    }
    let mut per_supplier: BTreeMap<String, usize> = BTreeMap::new();
    for po in orders.iter().flat_map(|r| &r.purchase_orders) {
        *per_supplier.entry(po.supplier_id.to_string()).or_default() += 1;
    }
    writeln!(out, "\nROUTE  {} routed, {} held ({})", routed, held_route.len(), join_counts(&route_codes)).ok();
    writeln!(out, "  purchase orders per supplier: {}", join_counts(&per_supplier)).ok();

    let submitted = orders
        .iter()
        .flat_map(|r| &r.timeline)
        .filter(|e| e.kind == TimelineKind::PurchaseOrder && e.to.as_deref() == Some("SUBMITTED"))
        .count();
    let received = w.suppliers.received_per_supplier();
    writeln!(
        out,
        "\nNOTIFY SUPPLIER  {} purchase orders submitted; suppliers received {} distinct in {} requests ({})",
        submitted,
        received.values().sum::<usize>(),
        w.suppliers.requests(),
        join_counts(&received)
    )
    .ok();
    let mut po_status: BTreeMap<String, usize> = BTreeMap::new();
    for po in orders.iter().flat_map(|r| &r.purchase_orders) {
        *po_status.entry(po.status.to_string()).or_default() += 1;
    }
    writeln!(
        out,
        "  supplier callbacks: {}",
        join_counts(&callbacks.iter().map(|(k, v)| (format!("HTTP {k}"), *v)).collect())
    )
    .ok();

    let mut tracking: BTreeMap<String, usize> = BTreeMap::new();
    for s in orders.iter().flat_map(|r| &r.purchase_orders).filter_map(|p| p.shipment.as_ref()) {
        *tracking.entry(s.status.to_string()).or_default() += 1;
    }
    let checks: usize = polls.iter().map(|s| s.parcels_checked).sum();
    writeln!(
        out,
        "\nPOLL TRACKING  {} runs, {} carrier checks; parcels by status: {}",
        polls.len(),
        checks,
        join_counts(&tracking)
    )
    .ok();
    writeln!(out, "  purchase orders by status: {}", join_counts(&po_status)).ok();

    writeln!(
        out,
        "\nESCALATE  {} overdue, {} escalated ({}), {} re-enqueued; an overlapping second run escalated {}",
        escalation.overdue,
        escalation.escalated,
        join_counts(&escalation.by_kind),
        escalation.requeued,
        again.escalated
    )
    .ok();

    let dlq: Vec<String> = Step::ALL.iter().map(|s| format!("{} {}", s, w.queues.depth(*s).1)).collect();
    writeln!(out, "\nDEAD-LETTER QUEUES  {}", dlq.join(", ")).ok();
    for body in w.queues.dead_letter_bodies(Step::Validate) {
        writeln!(out, "  validate DLQ: {body}").ok();
    }

    let mut events: BTreeMap<String, usize> = BTreeMap::new();
    for e in w.bus.events() {
        *events.entry(e.detail_type.as_str().to_string()).or_default() += 1;
    }
    writeln!(out, "\nEVENTS  {} published: {}", events.values().sum::<usize>(), join_counts(&events)).ok();

    writeln!(out, "\nORDERS").ok();
    writeln!(out, "  {:<7} {:<12} {:<3} {:<10} detail", "order", "channel", "to", "status").ok();
    for r in &orders {
        let detail = match r.status {
            OrderStatus::OnHold => r.holds.iter().map(|h| h.code.as_str()).collect::<Vec<_>>().join(", "),
            _ => r
                .purchase_orders
                .iter()
                .map(|p| {
                    let t = p.shipment.as_ref().map(|s| format!(" {}", s.status)).unwrap_or_default();
                    format!("{} {} {}{}", p.number, p.supplier_id, p.status, t)
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        writeln!(
            out,
            "  {:<7} {:<12} {:<3} {:<10} {}",
            r.order.name,
            r.order.channel,
            r.order.destination_country().unwrap_or("--"),
            r.status,
            detail
        )
        .ok();
    }
    let delivered = orders.iter().filter(|r| r.status == OrderStatus::Delivered).count();
    let exceptions = orders
        .iter()
        .flat_map(|r| &r.purchase_orders)
        .filter(|p| {
            p.status == PoStatus::Shipped && p.shipment.as_ref().is_some_and(|s| s.status.to_string() == "exception")
        })
        .count();
    writeln!(
        out,
        "\n{} orders: {} delivered, {} on hold, {} parcel(s) in exception; clock at {}",
        orders.len(),
        delivered,
        orders.iter().filter(|r| r.status == OrderStatus::OnHold).count(),
        exceptions,
        w.clock.now().format("%Y-%m-%d %H:%M UTC")
    )
    .ok();
    Ok(out)
}

fn answer_label(status: u16, body: &serde_json::Value) -> String {
    let word = body["status"].as_str().or(body["error"].as_str()).unwrap_or("");
    let dup = if body["duplicate_delivery"].as_bool() == Some(true) { " (replayed)" } else { "" };
    format!("{status} {word}{dup}")
}

fn join_counts(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

fn count_by(orders: &[OrderRecord], f: impl Fn(&OrderRecord) -> bool) -> usize {
    orders.iter().filter(|r| f(r)).count()
}

fn actor_moved(r: &OrderRecord, actor: &str, to: OrderStatus) -> bool {
    r.timeline
        .iter()
        .any(|e| e.kind == TimelineKind::Status && e.actor == actor && e.to.as_deref() == Some(to.as_str()))
}

/// The hold codes of an order `actor` put on hold (and nothing released since).
fn held_reasons(r: &OrderRecord, actor: &str) -> Vec<String> {
    if r.status == OrderStatus::OnHold && r.status_set_by() == Some(actor) {
        r.holds.iter().map(|h| h.code.as_str().to_string()).collect()
    } else {
        Vec::new()
    }
}
