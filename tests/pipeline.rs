//! The pipeline end to end on the emulators (DynamoDB Local, moto over real HTTP with the real
//! SDK): the happy path, duplicates, bad signatures, poison messages and crashes.

use async_trait::async_trait;
use chrono::Duration;
use dropline_app::idempotency::Idempotency;
use dropline_app::ports::{OrderStore, PortResult, WorkQueue};
use dropline_domain::order::{AckStatus, SupplierEvent};
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::primitives::ids::{OrderId, PurchaseOrderId, SupplierId};
use dropline_domain::wire::messages::{Step, WorkMessage};
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::SIGNATURE_HEADER;
use dropline_ingest::Ingest;
use dropline_tests::{Stack, StackOptions, delivery, shopify_delivery};
use std::sync::Arc;

fn order_id_of(d: &dropline_local::demo::Delivery) -> OrderId {
    let body = d.body();
    let order = dropline_domain::wire::channels::shopify_order(&d.store, &body).expect("bundled order maps");
    OrderId::derive(order.channel, &order.store, &order.channel_order_id)
}

async fn order(stack: &Stack, id: &OrderId) -> dropline_domain::order::OrderRecord {
    stack.store.get(id).await.expect("get").expect("order stored")
}

async fn post_callback(stack: &Stack, supplier: &str, secret: &str, event: &SupplierEvent) -> u16 {
    let callback = dropline_domain::wire::supplier::SupplierCallback::new(event.clone(), chrono::Utc::now());
    let body = serde_json::to_vec(&callback).expect("json");
    stack
        .http
        .post(stack.url(&format!("/suppliers/{supplier}/events")))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature::sign(secret.as_bytes(), &body))
        .body(body)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_signed_webhook_travels_to_delivered() {
    let stack = Stack::start(StackOptions::default()).await;
    stack.aws.requests().reset();
    let d = shopify_delivery();
    let id = order_id_of(&d);

    let (status, body) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["order_id"], id.as_str());
    assert_eq!(order(&stack, &id).await.status, OrderStatus::Received, "durable before the answer");

    stack.settle().await;
    let r = order(&stack, &id).await;
    assert_eq!(r.status, OrderStatus::Submitted, "validated, routed and sent: {:?}", r.timeline);
    assert_eq!(r.purchase_orders.len(), 1);
    let po = &r.purchase_orders[0];
    assert_eq!(po.number, "1001-1");
    assert_eq!(stack.suppliers.received_per_supplier().get(po.supplier_id.as_str()), Some(&1));

    // Supplier callbacks must be authentic and about the supplier's own purchase orders.
    let ack = SupplierEvent::Acknowledgment {
        purchase_order_id: po.id.to_string(),
        status: AckStatus::Accepted,
        reason_code: None,
        message: None,
        supplier_reference: None,
    };
    let other = if po.supplier_id.as_str() == "eurodrop-de" { "northwind-us" } else { "eurodrop-de" };
    assert_eq!(post_callback(&stack, po.supplier_id.as_str(), "wrong-secret", &ack).await, 401);
    let other_secret = dropline_local::demo::supplier_secret(other);
    assert_eq!(post_callback(&stack, other, &other_secret, &ack).await, 403, "another supplier's PO");
    let unknown = SupplierEvent::Acknowledgment {
        purchase_order_id: PurchaseOrderId::new(OrderId::new("o_0000000000000000").expect("id"), 1).to_string(),
        status: AckStatus::Accepted,
        reason_code: None,
        message: None,
        supplier_reference: None,
    };
    let own_secret = dropline_local::demo::supplier_secret(po.supplier_id.as_str());
    assert_eq!(post_callback(&stack, po.supplier_id.as_str(), &own_secret, &unknown).await, 404);
    assert_eq!(order(&stack, &id).await.version, r.version, "refused callbacks change nothing");

    // The simulated supplier accepts and ships, calling back over HTTP.
    let statuses = stack.suppliers.deliver_callbacks().await;
    assert_eq!(statuses, vec![200, 200]);
    let r = order(&stack, &id).await;
    assert_eq!(r.status, OrderStatus::Shipped);
    let shipment = r.purchase_orders[0].shipment.clone().expect("shipment recorded");

    // Poll tracking on its schedule until the carrier reports delivery.
    for _ in 0..6 {
        stack.clock.advance(Duration::hours(6));
        let summary = stack.pipeline.poll_tracking().await;
        assert_eq!(summary.errors, 0, "{summary:?}");
        if order(&stack, &id).await.status == OrderStatus::Delivered {
            break;
        }
    }
    let r = order(&stack, &id).await;
    assert_eq!(
        r.status,
        OrderStatus::Delivered,
        "tracking {} ended {:?}",
        shipment.tracking_number,
        r.purchase_orders[0].shipment
    );
    assert_eq!(r.purchase_orders[0].status, PoStatus::Delivered);
    assert_eq!(stack.suppliers.requests(), 1, "the supplier got one request, once");

    let calls = stack.aws.requests().snapshot();
    println!("AWS requests for one order, webhook to delivered: {calls:?}");
    assert!(!calls.keys().any(|k| k.ends_with(".Scan")), "never a table scan: {calls:?}");
}

#[tokio::test]
async fn the_same_webhook_three_times_concurrently_makes_one_order_and_one_purchase_order() {
    let stack = Stack::start(StackOptions::default()).await;
    let d = shopify_delivery();
    let id = order_id_of(&d);
    let (a, b, c) = tokio::join!(
        stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET),
        stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET),
        stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET),
    );
    let mut statuses = vec![a.0, b.0, c.0];
    for (status, body) in [&a, &b, &c] {
        assert!(*status == 200 || *status == 409, "{status} {body}");
    }
    assert!(statuses.contains(&200), "one delivery is accepted");
    // A store retries what was not answered 2xx (here: "in progress"); retries are answered 200.
    for s in statuses.iter_mut().filter(|s| **s != 200) {
        for _ in 0..20 {
            let (status, _) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
            if status == 200 {
                *s = status;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    assert_eq!(statuses, vec![200, 200, 200]);
    // The same order re-sent under a new delivery id (as orders/updated would) is not a new order.
    let mut resent = d.clone();
    resent.delivery_id = "b0c1d2e3-0000-4000-8000-000000000001".into();
    let (status, body) = stack.post_delivery(&resent, dropline_tests::SHOPIFY_SECRET).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));

    stack.settle().await;
    let r = order(&stack, &id).await;
    assert_eq!(r.purchase_orders.len(), 1);
    assert_eq!(r.status, OrderStatus::Submitted);
    let received: usize = stack.suppliers.received_per_supplier().values().sum();
    assert_eq!(received, 1, "one purchase order reached the supplier");
    assert_eq!(stack.suppliers.requests(), 1, "and it was sent once");
    let created = r.timeline.iter().filter(|e| e.to.as_deref() == Some("RECEIVED")).count();
    assert_eq!(created, 1, "one order record");
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_nothing_is_stored() {
    let stack = Stack::start(StackOptions::default()).await;
    let d = shopify_delivery();
    let id = order_id_of(&d);
    let (status, body) = stack.post_delivery(&d, "not-the-secret").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_signature");
    // No signature at all.
    let resp = stack
        .http
        .post(stack.url("/webhooks/shopify"))
        .header("x-shopify-shop-domain", d.store.as_str())
        .body(d.body())
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(stack.store.get(&id).await.expect("get").is_none(), "no order stored");
    assert_eq!(stack.queue_depth(Step::Validate).await, 0, "nothing enqueued");
    let scan =
        stack.aws.dynamodb().scan().table_name(&stack.infra.idempotency_table).send().await.expect("scan (test only)");
    assert_eq!(scan.count(), 0, "no idempotency record either");
}

#[tokio::test]
async fn a_malformed_body_gets_a_400_naming_the_problem() {
    let stack = Stack::start(StackOptions::default()).await;
    let mut d = shopify_delivery();
    let mut payload = d.payload.clone().expect("payload");
    payload["line_items"][0]["quantity"] = serde_json::json!("three");
    d.payload = Some(payload);
    let (status, body) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_payload");
    assert_eq!(body["field"], "line_items[0].quantity");
    let mut d = shopify_delivery();
    d.payload = None;
    d.raw_body = Some("{\"id\": 1, \"line_items\": [".into());
    let (status, body) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap_or("").starts_with("malformed JSON"), "{body}");
    // WooCommerce's activation ping: 200, nothing stored.
    let ping = delivery("woo_ping");
    let (status, body) = stack.post_delivery(&ping, "").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ping_acknowledged")));
    assert_eq!(stack.queue_depth(Step::Validate).await, 0);
}

#[tokio::test]
async fn a_poison_message_reaches_the_dlq_and_its_batch_mates_succeed() {
    let stack = Stack::start(StackOptions::default()).await;
    let good_a = delivery("ok_gb_multi");
    let good_b = delivery("ok_fr_single");
    // The two good orders are stored; their validation messages share a batch with the poison.
    let (sa, _) = stack.post_delivery(&good_a, dropline_tests::SHOPIFY_SECRET).await;
    let (sb, _) = stack.post_delivery(&good_b, dropline_tests::WOO_SECRET).await;
    assert_eq!((sa, sb), (200, 200));
    stack
        .aws
        .sqs()
        .send_message()
        .queue_url(&stack.infra.queues.urls[&Step::Validate])
        .message_body("{\"order_id\": \"this is not an order id\"}")
        .send()
        .await
        .expect("send poison");

    let first = stack.pipeline.pump(Step::Validate).await.expect("pump");
    assert_eq!(first.failed, 1, "only the poison message fails: {first:?}");
    assert_eq!(first.received, 3);
    for _ in 0..20 {
        if stack.dlq_depth(Step::Validate).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        stack.pipeline.pump(Step::Validate).await.expect("pump");
    }
    assert_eq!(stack.dlq_depth(Step::Validate).await, 1, "after maxReceiveCount it is a dead letter");
    assert_eq!(stack.queue_depth(Step::Validate).await, 0);
    use dropline_app::ports::QueueConsumer;
    let dead = stack.queues.peek_dead_letters(Step::Validate, 10).await.expect("peek");
    assert_eq!(dead[0].body, "{\"order_id\": \"this is not an order id\"}");
    for d in [&good_a, &good_b] {
        let body = d.body();
        let o = if d.channel == "woocommerce" {
            dropline_domain::wire::channels::woocommerce_order(&d.store, &body, &Default::default())
        } else {
            dropline_domain::wire::channels::shopify_order(&d.store, &body)
        }
        .expect("maps");
        let id = OrderId::derive(o.channel, &o.store, &o.channel_order_id);
        assert_eq!(order(&stack, &id).await.status, OrderStatus::Validated, "batch-mate processed");
    }
}

/// A queue whose send never completes: with a timeout around the handler, the handler's future is
/// dropped at that await point, exactly as if the process had died there.
struct DeadQueue;

#[async_trait]
impl WorkQueue for DeadQueue {
    async fn enqueue(&self, _step: Step, _messages: &[WorkMessage]) -> PortResult<()> {
        std::future::pending().await
    }
    async fn keep_hidden(&self, _step: Step, _receipts: &[String], _seconds: u32) -> PortResult<()> {
        std::future::pending().await
    }
}

/// Runs ingest until it is about to enqueue, then "kills the process".
async fn crash_after_order_write(stack: &Stack, d: &dropline_local::demo::Delivery) {
    let crashing = Ingest {
        store: stack.store.clone(),
        idempotency: Idempotency::new(stack.idempotency.clone(), Duration::hours(24)),
        queue: Arc::new(DeadQueue),
        events: stack.events.clone(),
        secrets: dropline_app::secrets::SecretCache::fixed(stack.secrets.clone()),
        clock: stack.clock.clone(),
        stock: stack.ledger.clone(),
        outcomes: stack.ledger.clone(),
        time_zones: Default::default(),
    };
    let mut req = d.request(dropline_tests::SHOPIFY_SECRET);
    req.deadline = Some(stack.clock.now_plus(Duration::seconds(3)));
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(2), crashing.handle(req)).await;
    assert!(outcome.is_err(), "the process died before answering");
}

trait ClockExt {
    fn now_plus(&self, d: Duration) -> chrono::DateTime<chrono::Utc>;
}
impl ClockExt for dropline_adapters::memory::ManualClock {
    fn now_plus(&self, d: Duration) -> chrono::DateTime<chrono::Utc> {
        use dropline_app::ports::Clock;
        self.now() + d
    }
}

#[tokio::test]
async fn a_crash_between_order_write_and_enqueue_is_recovered_by_the_redelivery() {
    let stack = Stack::start(StackOptions::default()).await;
    let d = shopify_delivery();
    let id = order_id_of(&d);
    crash_after_order_write(&stack, &d).await;
    assert_eq!(order(&stack, &id).await.status, OrderStatus::Received, "stored, never enqueued");
    assert_eq!(stack.queue_depth(Step::Validate).await, 0);

    // Shopify got no answer, so it redelivers; by then the dead invocation's lock has expired.
    stack.clock.advance(Duration::seconds(5));
    let (status, body) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
    assert_eq!(status, 200, "{body}");
    stack.settle().await;
    let r = order(&stack, &id).await;
    assert_eq!(r.status, OrderStatus::Submitted);
    assert_eq!(stack.suppliers.requests(), 1, "the order reached the supplier, once");
}

#[tokio::test]
async fn a_crash_between_order_write_and_enqueue_is_recovered_by_the_sweep() {
    let stack = Stack::start(StackOptions::default()).await;
    let d = shopify_delivery();
    let id = order_id_of(&d);
    crash_after_order_write(&stack, &d).await;
    // No redelivery this time: the scheduled escalation run finds the order stuck in RECEIVED.
    stack.clock.advance(Duration::minutes(6));
    let summary = stack.pipeline.escalate().await;
    assert_eq!(summary.requeued, 1, "{summary:?}");
    let again = stack.pipeline.escalate().await;
    assert_eq!(again.escalated, 0, "an overlapping run escalates nothing twice");
    stack.settle().await;
    let r = order(&stack, &id).await;
    assert_eq!(r.status, OrderStatus::Submitted, "{:?}", r.timeline);
    assert_eq!(stack.suppliers.requests(), 1, "the order reached the supplier, once");
    assert_eq!(r.escalations.len(), 1);
}

#[tokio::test]
async fn a_supplier_outage_is_retried_through_the_queue_then_lands_in_the_dlq() {
    let mut opts = StackOptions::default();
    let always_down = dropline_local::sim::SupplierBehaviour { fail_first: usize::MAX, ..Default::default() };
    for s in ["northwind-us", "eurodrop-de", "pacific-au"] {
        opts.supplier_behaviour.insert(s.into(), always_down.clone());
    }
    let stack = Stack::start(opts).await;
    let d = shopify_delivery();
    let id = order_id_of(&d);
    stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
    for _ in 0..30 {
        stack.pipeline.drain().await.expect("drain");
        if stack.dlq_depth(Step::NotifySupplier).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
    assert_eq!(stack.dlq_depth(Step::NotifySupplier).await, 1, "the purchase order message is a dead letter");
    let r = order(&stack, &id).await;
    // Attempted and never confirmed: SENDING (the supplier may have it), not taken for unsent;
    // escalation resends it under the same key.
    assert_eq!(r.purchase_orders[0].status, PoStatus::Sending, "never recorded as sent, nor as unsent");
    // 3 receives x 2 attempts each (bounded retries with backoff inside an invocation).
    assert_eq!(stack.suppliers.requests(), 6);
    let _ = SupplierId::new("x");
}

/// A copy of the bundled US order as another customer's order (its own ids, email and street).
fn another_customers_order(n: u64) -> dropline_local::demo::Delivery {
    let mut d = shopify_delivery();
    let p = d.payload.as_mut().expect("payload");
    p["id"] = serde_json::json!(7_000_000_000u64 + n);
    p["name"] = serde_json::json!(format!("#{}", 7000 + n));
    p["email"] = serde_json::json!(format!("customer{n}@example.com"));
    p["shipping_address"]["address1"] = serde_json::json!(format!("{} Cedar Glen Dr", 100 + n));
    d.delivery_id = format!("concurrency-{n}");
    d
}

#[tokio::test]
async fn two_orders_for_the_last_unit_one_proceeds_and_one_holds() {
    let stack = Stack::start(StackOptions::default()).await;
    // One TEE-BLK-M left in the whole catalog, at northwind-us.
    let mut doc = stack.catalog.clone();
    let sku = dropline_domain::primitives::ids::Sku::new("TEE-BLK-M").unwrap();
    for o in doc.offers.iter_mut().filter(|o| o.sku == sku) {
        o.stock = if o.supplier_id.as_str() == "northwind-us" { 1 } else { 0 };
    }
    stack.ledger.load(&doc).await.expect("load");
    let (a, b) = (another_customers_order(1), another_customers_order(2));
    let ids = [order_id_of(&a), order_id_of(&b)];
    for d in [&a, &b] {
        let (status, body) = stack.post_delivery(d, dropline_tests::SHOPIFY_SECRET).await;
        assert_eq!(status, 200, "{body}");
    }
    // Both pass validation: one unit is available to each as far as validation can tell.
    while stack.pipeline.pump(Step::Validate).await.expect("pump").received > 0 {}
    for id in &ids {
        assert_eq!(order(&stack, id).await.status, OrderStatus::Validated);
    }
    // Routing takes both messages in one batch and works them concurrently.
    assert_eq!(stack.pipeline.pump(Step::Route).await.expect("pump").received, 2);
    let records = [order(&stack, &ids[0]).await, order(&stack, &ids[1]).await];
    let statuses: Vec<OrderStatus> = records.iter().map(|r| r.status).collect();
    let routed = records.iter().filter(|r| r.status == OrderStatus::Routed).count();
    let held: Vec<_> = records.iter().filter(|r| r.status == OrderStatus::OnHold).collect();
    assert_eq!((routed, held.len()), (1, 1), "one proceeds, one holds: {statuses:?}");
    assert_eq!(held[0].holds[0].code, "out_of_stock", "{:?}", held[0].holds);
    assert_eq!(held[0].holds[0].category, dropline_domain::findings::HoldCategory::Stock);
    let view = dropline_app::ports::Catalog::view(stack.ledger.as_ref(), std::slice::from_ref(&sku)).await.unwrap();
    let nw = view.offers_for(&sku).iter().find(|o| o.supplier_id.as_str() == "northwind-us").unwrap().clone();
    assert_eq!((nw.stock, nw.reserved), (1, 1), "the unit is held for the routed order");

    // The supplier accepts and ships: the hold ends, and the unit counts as accepted against
    // the snapshot (once, not twice) until a newer count has it.
    stack.settle().await;
    assert_eq!(stack.suppliers.deliver_callbacks().await, vec![200, 200]);
    let view = dropline_app::ports::Catalog::view(stack.ledger.as_ref(), std::slice::from_ref(&sku)).await.unwrap();
    let nw = view.offers_for(&sku).iter().find(|o| o.supplier_id.as_str() == "northwind-us").unwrap().clone();
    assert_eq!((nw.stock, nw.reserved), (1, 1), "settled once, not twice");
    let mine = dropline_app::ports::StockLedger::holds_of(
        stack.ledger.as_ref(),
        &records.iter().find(|r| r.status == OrderStatus::Routed).unwrap().id,
        std::slice::from_ref(&sku),
    );
    assert!(mine.await.unwrap().is_empty(), "the hold ended");
    assert!(view.reservations.is_empty());
}

#[tokio::test]
async fn the_same_customer_ordering_the_same_items_again_is_held_as_a_possible_duplicate() {
    let stack = Stack::start(StackOptions::default()).await;
    stack.aws.requests().reset();
    let first = shopify_delivery();
    let mut again = shopify_delivery();
    let p = again.payload.as_mut().expect("payload");
    p["id"] = serde_json::json!(6_481_227_999_001u64);
    p["name"] = serde_json::json!("#1101");
    // An hour later, the email typed in another case: the same customer.
    p["created_at"] = serde_json::json!("2026-11-20T11:40:00-05:00");
    p["email"] = serde_json::json!("Maya.Okafor@Example.com");
    again.delivery_id = "dup-candidate-1".into();
    for d in [&first, &again] {
        let (status, body) = stack.post_delivery(d, dropline_tests::SHOPIFY_SECRET).await;
        assert_eq!(status, 200, "{body}");
        stack.settle().await;
    }
    let (a, b) = (order(&stack, &order_id_of(&first)).await, order(&stack, &order_id_of(&again)).await);
    assert_eq!(a.status, OrderStatus::Submitted);
    assert_eq!(b.status, OrderStatus::OnHold, "{:?}", b.holds);
    assert_eq!(b.holds.len(), 1);
    assert_eq!(b.holds[0].code, "possible_duplicate");
    assert!(b.holds[0].message.contains(&format!("order #1001 ({})", a.id)), "{}", b.holds[0].message);
    let calls = stack.aws.requests().snapshot();
    assert!(calls.keys().any(|k| k.ends_with(".Query")), "found through an index: {calls:?}");
    assert!(!calls.keys().any(|k| k.ends_with(".Scan")), "never a scan: {calls:?}");

    // The operator confirms it's a second, wanted order.
    let now = stack.clock.now_plus(Duration::minutes(5));
    dropline_cli::holds::override_hold(
        stack.store.as_ref(),
        &b.id,
        "possible_duplicate",
        "customer wants two",
        "bo",
        now,
    )
    .await
    .expect("override");
    dropline_cli::holds::release(
        stack.store.as_ref(),
        stack.queues.as_ref(),
        stack.ledger.as_ref(),
        &b.id,
        "",
        "bo",
        now,
    )
    .await
    .expect("release");
    stack.settle().await;
    let b = order(&stack, &b.id).await;
    assert_eq!(b.status, OrderStatus::Submitted, "{:?}", b.holds);
    assert!(b.warnings.iter().any(|w| w.code == "possible_duplicate"), "{:?}", b.warnings);
}

#[tokio::test]
async fn a_supplier_that_rejects_is_replaced_and_the_reservation_moves_with_the_order() {
    let mut opts = StackOptions::default();
    let out_of_tees = dropline_local::sim::SupplierBehaviour {
        reject_skus: ["NW-TEE-001-BK-M".to_string()].into_iter().collect(),
        ..Default::default()
    };
    opts.supplier_behaviour.insert("northwind-us".into(), out_of_tees);
    let stack = Stack::start(opts).await;
    let sku = dropline_domain::primitives::ids::Sku::new("TEE-BLK-M").unwrap();
    let held = |view: &dropline_domain::catalog::CatalogView| -> Vec<(String, u32, u32)> {
        let mut v: Vec<_> =
            view.offers_for(&sku).iter().map(|o| (o.supplier_id.to_string(), o.stock, o.reserved)).collect();
        v.sort();
        v
    };
    let d = shopify_delivery();
    let id = order_id_of(&d);
    assert_eq!(stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await.0, 200);
    stack.settle().await;
    let r = order(&stack, &id).await;
    assert_eq!(r.purchase_orders[0].supplier_id.as_str(), "northwind-us", "the best score first");
    let view = dropline_app::ports::Catalog::view(stack.ledger.as_ref(), std::slice::from_ref(&sku)).await.unwrap();
    let before = held(&view);
    assert_eq!(before.iter().find(|h| h.0 == "northwind-us").unwrap().2, 1);

    // northwind-us rejects over HTTP; ingest sends the order back to routing through SQS.
    assert_eq!(stack.suppliers.deliver_callbacks().await, vec![200]);
    assert_eq!(order(&stack, &id).await.status, OrderStatus::Validated);
    stack.settle().await;
    let r = order(&stack, &id).await;
    let pos: Vec<(&str, &str, PoStatus)> =
        r.purchase_orders.iter().map(|p| (p.number.as_str(), p.supplier_id.as_str(), p.status)).collect();
    assert_eq!(
        pos,
        vec![("1001-1", "northwind-us", PoStatus::Rejected), ("1001-2", "pacific-au", PoStatus::Submitted)]
    );
    assert_eq!(r.routing_exclusions[0].code, "rejected_earlier");
    assert!(r.purchase_orders[1].promise.is_some());
    let view = dropline_app::ports::Catalog::view(stack.ledger.as_ref(), std::slice::from_ref(&sku)).await.unwrap();
    let moved = held(&view);
    assert_eq!(moved.iter().find(|h| h.0 == "northwind-us").unwrap().2, 0, "released at the rejecting supplier");
    assert_eq!(moved.iter().find(|h| h.0 == "pacific-au").unwrap().2, 1, "held at the new one");

    // pacific-au accepts and ships: the order completes there, the unit leaves its snapshot.
    assert_eq!(stack.suppliers.deliver_callbacks().await, vec![200, 200]);
    let r = order(&stack, &id).await;
    assert_eq!(r.status, OrderStatus::Shipped);
    let view = dropline_app::ports::Catalog::view(stack.ledger.as_ref(), std::slice::from_ref(&sku)).await.unwrap();
    let after = held(&view);
    let pac_before = before.iter().find(|h| h.0 == "pacific-au").unwrap();
    assert_eq!(
        after.iter().find(|h| h.0 == "pacific-au").unwrap(),
        &("pacific-au".to_string(), pac_before.1, pac_before.2 + 1),
        "the accepted unit counts against pacific-au's snapshot until a newer count has it"
    );
    assert!(view.reservations.is_empty());
    assert_eq!(stack.suppliers.requests(), 2, "one purchase order to each supplier, once");

    // Both suppliers' records in DynamoDB, counted once each (route's catch-up on the reroute
    // recorded the rejection again, and counted nothing).
    use dropline_app::ports::OutcomeLedger;
    use dropline_domain::performance::Outcomes;
    let ids = [SupplierId::new("northwind-us").unwrap(), SupplierId::new("pacific-au").unwrap()];
    let m = stack.ledger.measured(&ids).await.expect("measured");
    assert_eq!(m.get(&ids[0]).copied(), Some(Outcomes { answered: 1, ..Outcomes::default() }));
    let pacific = m.get(&ids[1]).copied().expect("pacific-au measured");
    assert_eq!((pacific.answered, pacific.accepted, pacific.shipped, pacific.shipped_on_time), (1, 1, 1, 1));
}

#[tokio::test]
async fn a_supplier_silent_past_its_deadline_is_told_over_http_and_replaced() {
    let stack = Stack::start(StackOptions::default()).await;
    let d = shopify_delivery();
    let id = order_id_of(&d);
    assert_eq!(stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await.0, 200);
    stack.settle().await;
    let first = order(&stack, &id).await.purchase_orders[0].clone();
    assert_eq!(first.supplier_id.as_str(), "northwind-us");
    // northwind-us never answers (its callbacks stay in its outbox); 13 h later it is replaced.
    stack.clock.advance(Duration::hours(13));
    let s = stack.pipeline.escalate().await;
    assert_eq!(s.ack_deadlines_missed, 1, "{s:?}");
    stack.settle().await;
    let r = order(&stack, &id).await;
    assert_eq!(r.po(&first.id).expect("po").status, PoStatus::Cancelled);
    assert_eq!(r.purchase_orders[1].supplier_id.as_str(), "pacific-au");
    assert_eq!(stack.suppliers.cancellations(), vec![first.id.to_string()], "told over signed HTTP, once");
    use dropline_app::ports::OutcomeLedger;
    let northwind = SupplierId::new("northwind-us").unwrap();
    let m = stack.ledger.measured(std::slice::from_ref(&northwind)).await.expect("measured");
    assert_eq!(m.get(&northwind).map(|o| (o.answered, o.accepted)), Some((1, 0)), "silence counted once");
}

/// `n` copies of the demo order's line, each its own line id, with the SKU `sku(i)`.
fn with_lines(n: usize, sku: impl Fn(usize) -> String) -> dropline_local::demo::Delivery {
    let mut d = shopify_delivery();
    d.delivery_id = format!("big-{n}-{}", uuid::Uuid::new_v4().simple());
    let p = d.payload.as_mut().expect("payload");
    p["id"] = serde_json::json!(9_100_000_000_000u64 + n as u64);
    let line = p["line_items"][0].clone();
    let lines: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut l = line.clone();
            l["id"] = serde_json::json!(900_000 + i);
            l["sku"] = serde_json::json!(sku(i));
            l
        })
        .collect();
    p["line_items"] = serde_json::Value::Array(lines);
    d
}

/// Orders of any size, on the emulators: a 1,000-line order (a stock reason per line), a
/// 2,500-line one (an unmapped SKU per line) and one with a 4 KB SKU are each answered 200,
/// stored in DynamoDB (deflated past the item limit) and listed by `holds list` with their
/// reasons grouped, never refused, never a 503 the store retries forever.
#[tokio::test]
async fn orders_of_any_size_are_stored_and_listed_as_holds() {
    let stack = Stack::start(StackOptions::default()).await;
    let big = with_lines(1_000, |_| "TEE-BLK-M".to_string());
    let bigger = with_lines(2_500, |i| format!("NOT-SOLD-{i}"));
    let mut odd = with_lines(1, |_| "Z".repeat(4096));
    odd.payload.as_mut().expect("payload")["id"] = serde_json::json!(9_200_000_000_001u64);
    let mut ids = Vec::new();
    for d in [&big, &bigger, &odd] {
        let (status, body) = stack.post_delivery(d, dropline_tests::SHOPIFY_SECRET).await;
        assert_eq!(status, 200, "{body}");
        ids.push(OrderId::new(body["order_id"].as_str().expect("id")).expect("id"));
    }
    stack.settle().await;
    let listed = dropline_cli::holds::list(stack.store.as_ref(), &Default::default(), chrono::Utc::now())
        .await
        .expect("holds list");
    let by_id = |id: &OrderId| listed.iter().find(|r| &r.id == id).unwrap_or_else(|| panic!("{id} listed"));
    let (a, b, c) = (by_id(&ids[0]), by_id(&ids[1]), by_id(&ids[2]));
    assert_eq!(a.order.lines.len(), 1_000);
    assert!(a.holds.len() < 10, "grouped: {} reasons", a.holds.len());
    assert_eq!(b.order.lines.len(), 2_500);
    let unmapped: Vec<_> = b.holds.iter().filter(|h| h.code == "sku_unmapped").collect();
    assert_eq!(unmapped.len(), 1, "{:?}", b.holds.iter().map(|h| h.code).collect::<Vec<_>>());
    assert!(unmapped[0].message.starts_with("2500 lines (1-2500)"), "{}", unmapped[0].message);
    assert!(c.holds.iter().any(|h| h.code == "sku_invalid"), "{:?}", c.holds);
    for q in [Step::Validate, Step::Route] {
        assert_eq!(stack.dlq_depth(q).await, 0, "nothing dead-lettered from {q:?}");
    }
    // The 2,500-line order's item is deflated, well under DynamoDB's 400 KB.
    let item = stack
        .aws
        .dynamodb()
        .get_item()
        .table_name(&stack.infra.orders_table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(ids[1].to_string()))
        .send()
        .await
        .expect("get")
        .item
        .expect("item");
    assert!(item.contains_key("body_z") && !item.contains_key("body"), "{:?}", item.keys().collect::<Vec<_>>());
}
