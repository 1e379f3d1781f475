//! Published store webhook bodies (`tests/fixtures/webhooks/`, one per store and API version):
//! each is accepted by ingest, stored, and validated to the status and holds `cases.json` gives.

use dropline_app::idempotency::Idempotency;
use dropline_app::ports::OrderStore;
use dropline_domain::order::{OrderRecord, OrderStatus};
use dropline_domain::primitives::ids::OrderId;
use dropline_domain::wire::channels::StoreTimeZones;
use dropline_domain::wire::messages::Step;
use dropline_domain::wire::signature;
use dropline_ingest::{Ingest, WebRequest};
use dropline_local::demo::{self, SHOPIFY_SECRET, WOO_SECRET};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Case {
    file: String,
    channel: String,
    topic: String,
    store: String,
    #[serde(default)]
    time_zones: String,
    status: OrderStatus,
    holds: Vec<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    options: Vec<(String, String)>,
}

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/webhooks")
}

fn request(case: &Case, body: Vec<u8>) -> WebRequest {
    let delivery = format!("delivery-{}", case.file);
    if case.channel == "woocommerce" {
        let sig = signature::sign(WOO_SECRET.as_bytes(), &body);
        WebRequest::post(
            "/webhooks/woocommerce",
            &[
                ("content-type", "application/json"),
                ("x-wc-webhook-source", case.store.as_str()),
                ("x-wc-webhook-topic", case.topic.as_str()),
                ("x-wc-webhook-delivery-id", delivery.as_str()),
                ("x-wc-webhook-signature", sig.as_str()),
            ],
            body,
        )
    } else {
        let sig = signature::sign(SHOPIFY_SECRET.as_bytes(), &body);
        WebRequest::post(
            "/webhooks/shopify",
            &[
                ("content-type", "application/json"),
                ("x-shopify-shop-domain", case.store.as_str()),
                ("x-shopify-topic", case.topic.as_str()),
                ("x-shopify-webhook-id", delivery.as_str()),
                ("x-shopify-hmac-sha256", sig.as_str()),
            ],
            body,
        )
    }
}

/// Ingest (with the case's store clocks) and validation on the demo's world.
async fn run(case: &Case) -> OrderRecord {
    let w = demo::world(&demo::catalog().expect("catalog"));
    let demo_ingest = &w.pipeline.ingest;
    let ingest = Ingest {
        store: w.store.clone(),
        idempotency: Idempotency::new(w.idempotency.clone(), chrono::Duration::hours(24)),
        queue: w.queues.clone(),
        events: w.bus.clone(),
        secrets: dropline_app::secrets::SecretCache::fixed((*demo_ingest.secrets.current().await).clone()),
        clock: w.clock.clone(),
        stock: w.catalog.clone(),
        outcomes: w.catalog.clone(),
        time_zones: StoreTimeZones::parse(&case.time_zones).expect("time zones"),
    };
    let body = std::fs::read(folder().join(&case.file)).expect("fixture");
    let answer = ingest.handle(request(case, body)).await;
    assert_eq!(answer.status, 200, "{}: {}", case.file, answer.body);
    let id = OrderId::new(answer.body["order_id"].as_str().expect("order id")).expect("valid id");
    let pumped = w.pipeline.pump(Step::Validate).await.expect("validate");
    assert_eq!((pumped.received, pumped.failed), (1, 0), "{}", case.file);
    w.store.get(&id).await.expect("read").expect("stored")
}

#[tokio::test]
async fn every_published_body_is_stored_with_the_expected_holds() {
    let cases: Vec<Case> =
        serde_json::from_slice(&std::fs::read(folder().join("cases.json")).expect("cases")).expect("cases.json");
    // Every body in the folder has a case, and every case a body.
    let mut files: Vec<String> = std::fs::read_dir(folder())
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json") && f != "cases.json")
        .collect();
    files.sort();
    let mut named: Vec<String> = cases.iter().map(|c| c.file.clone()).collect();
    named.sort();
    assert_eq!(files, named, "cases.json and the folder disagree");
    for channel in
        ["shopify-", "woocommerce-wc-v1-", "woocommerce-wc-v2-", "woocommerce-wc-v3-", "woocommerce-legacy-v3-"]
    {
        assert!(files.iter().any(|f| f.starts_with(channel)), "no body for {channel}");
    }

    let mut failures = Vec::new();
    for case in &cases {
        let r = run(case).await;
        let codes: Vec<&str> = r.holds.iter().map(|h| h.code.as_str()).collect();
        if r.status != case.status || codes != case.holds {
            failures.push(format!(
                "{}: {} with holds {:?}, expected {} with {:?}\n  {:#?}",
                case.file, r.status, codes, case.status, case.holds, r.holds
            ));
            continue;
        }
        if let Some(at) = &case.created_at {
            assert_eq!(r.order.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), *at, "{}", case.file);
        }
        if !case.options.is_empty() {
            let options: Vec<(String, String)> =
                r.order.lines[0].options.iter().map(|o| (o.name.clone(), o.value.clone())).collect();
            assert_eq!(options, case.options, "{}", case.file);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if std::env::var_os("SHOW_HOLDS").is_some() {
        for case in &cases {
            for h in run(case).await.holds {
                eprintln!("{}: {} {}", case.file, h.code, h.message);
            }
        }
    }
}

#[tokio::test]
async fn refund_holds_name_the_amount_refunded() {
    let case = Case {
        file: "woocommerce-wc-v3-order-updated-partially-refunded.json".into(),
        channel: "woocommerce".into(),
        topic: "order.updated".into(),
        store: "https://shop.example.org".into(),
        time_zones: String::new(),
        status: OrderStatus::OnHold,
        holds: vec![],
        created_at: None,
        options: vec![],
    };
    let r = run(&case).await;
    assert_eq!(r.order.financial_status.as_str(), "partially_refunded");
    assert!(r.holds[0].message.contains("24.50 EUR of 64.14 EUR refunded"), "{}", r.holds[0].message);
}

/// An `order.updated` with a refund arriving after routing, before the purchase order is sent:
/// the order is held, the unsent purchase order cancelled and its stock given back.
#[tokio::test]
async fn a_refund_after_routing_holds_the_order_and_gives_the_stock_back() {
    use dropline_domain::order::PoStatus;
    use dropline_domain::primitives::ids::Sku;
    let w = demo::world(&demo::catalog().expect("catalog"));
    let case = |file: &str, topic: &str| Case {
        file: file.into(),
        channel: "woocommerce".into(),
        topic: topic.into(),
        store: "https://shop.example.org".into(),
        time_zones: String::new(),
        status: OrderStatus::Validated,
        holds: vec![],
        created_at: None,
        options: vec![],
    };
    let created = std::fs::read(folder().join("woocommerce-wc-v3-order-created.json")).expect("fixture");
    let answer = w.pipeline.ingest.handle(request(&case("created", "order.created"), created.clone())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = OrderId::new(answer.body["order_id"].as_str().expect("id")).expect("id");
    w.pipeline.pump(Step::Validate).await.expect("validate");
    w.pipeline.pump(Step::Route).await.expect("route");
    let routed = w.store.get(&id).await.expect("read").expect("stored");
    assert_eq!(routed.status, OrderStatus::Routed);
    let sku = Sku::new("TEE-BLK-M").expect("sku");
    let reserved =
        || w.catalog.lookup(std::slice::from_ref(&sku), false).offers_for(&sku).iter().map(|o| o.reserved).sum::<u32>();
    assert_eq!(reserved(), 2);

    let mut update: serde_json::Value = serde_json::from_slice(&created).expect("json");
    update["refunds"] = serde_json::json!([{"id": 6120, "reason": "one shirt returned", "total": "-24.50"}]);
    update["date_modified_gmt"] = serde_json::json!("2026-11-20T15:20:00");
    let answer = w
        .pipeline
        .ingest
        .handle(request(&case("updated", "order.updated"), serde_json::to_vec(&update).expect("body")))
        .await;
    assert_eq!((answer.status, answer.body["status"].as_str()), (200, Some("held")), "{}", answer.body);
    let held = w.store.get(&id).await.expect("read").expect("stored");
    assert_eq!(held.status, OrderStatus::OnHold);
    assert!(held.purchase_orders.iter().all(|p| p.status == PoStatus::Cancelled));
    assert!(held.holds[0].message.contains("refunded 24.50 EUR of 64.14 EUR"), "{}", held.holds[0].message);
    assert_eq!(reserved(), 0, "the unsent purchase order's units are back");
    // Nothing reaches the supplier.
    w.pipeline.drain().await.expect("drain");
    assert_eq!(w.suppliers.requests(), 0);
}
