//! The handlers on memory adapters: duplicates, reordering and crashes, fast and without I/O.
//! (The same properties on real infrastructure: `tests/pipeline.rs`.)

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Duration;
use dropline_app::ports::{Clock, OrderStore, OutcomeLedger, PortError, PortResult, QueueConsumer, ReceivedMessage};
use dropline_domain::order::apply_supplier_event;
use dropline_domain::order::{AckStatus, SupplierEvent};
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::performance::{Measured, Outcome, OutcomeKind, Outcomes};
use dropline_domain::primitives::ids::{OrderId, PurchaseOrderId, SupplierId};
use dropline_domain::wire::messages::{Step, WorkMessage};
use dropline_domain::wire::signature;
use dropline_domain::wire::supplier::{SIGNATURE_HEADER, SupplierCallback};
use dropline_ingest::WebRequest;
use dropline_local::demo::{self, DemoWorld, SHOPIFY_SECRET, supplier_secret};
use dropline_local::pipeline::sqs_event;
use std::sync::Arc;

fn world() -> DemoWorld {
    demo::world(&demo::catalog().expect("catalog"))
}

fn delivery(case: &str) -> demo::Delivery {
    demo::deliveries().expect("deliveries").into_iter().find(|d| d.case == case).expect("case")
}

async fn ingest(w: &DemoWorld, case: &str) -> OrderId {
    let d = delivery(case);
    let answer = w.pipeline.ingest.handle(d.request(d.secret())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    OrderId::new(answer.body["order_id"].as_str().expect("order id")).expect("valid")
}

fn event_for(messages: &[WorkMessage]) -> SqsEvent {
    let received: Vec<ReceivedMessage> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| ReceivedMessage {
            message_id: format!("m{i}"),
            receipt: format!("r{i}"),
            body: m.to_json(),
            receive_count: 1,
            sent_at: chrono::Utc::now(),
        })
        .collect();
    sqs_event(&received)
}

#[tokio::test]
async fn the_demo_runs_and_reports_every_stage() {
    let report = demo::run().await.expect("demo");
    for section in [
        "INGEST",
        "VALIDATE",
        "ROUTE",
        "NOTIFY SUPPLIER",
        "POLL TRACKING",
        "ESCALATE",
        "DEAD-LETTER QUEUES",
        "EVENTS",
        "ORDERS",
    ] {
        assert!(report.contains(section), "missing {section}:\n{report}");
    }
    assert!(report.contains("401 invalid_signature"));
    assert!(report.contains("400 invalid_payload"));
    assert!(report.contains("an overlapping second run escalated 0"));
    assert!(report.contains("validate 1, route 0, notify-supplier 0"), "the poison message alone is a dead letter");
}

#[tokio::test]
async fn duplicate_validate_messages_validate_once() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    let msg = WorkMessage::order(id.clone(), "test");
    // The same message twice in one batch, then again later (at-least-once delivery).
    let resp = w.pipeline.validate.handle(event_for(&[msg.clone(), msg.clone()])).await;
    assert!(resp.batch_item_failures.is_empty());
    let resp = w.pipeline.validate.handle(event_for(&[msg])).await;
    assert!(resp.batch_item_failures.is_empty());
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Validated);
    let validations = r.timeline.iter().filter(|e| e.to.as_deref() == Some("VALIDATED")).count();
    assert_eq!(validations, 1, "one transition");
}

#[tokio::test]
async fn concurrent_notify_messages_for_one_po_send_it_once() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    // Validate and route (the queues hold the work).
    for step in [Step::Validate, Step::Route] {
        w.pipeline.pump(step).await.expect("pump");
    }
    let po = PurchaseOrderId::new(id.clone(), 1);
    let msg = WorkMessage::purchase_order(po.clone(), "test");
    let notify = w.pipeline.notify.clone();
    let (a, b, c) = tokio::join!(
        notify.handle(event_for(std::slice::from_ref(&msg))),
        notify.handle(event_for(std::slice::from_ref(&msg))),
        notify.handle(event_for(&[msg.clone(), msg.clone()])),
    );
    let failures = a.batch_item_failures.len() + b.batch_item_failures.len() + c.batch_item_failures.len();
    // Losers either see the PO already sent or find it locked (and retry later).
    assert!(failures <= 3);
    w.pipeline.drain().await.expect("drain");
    assert_eq!(w.suppliers.requests(), 1, "one request reached the supplier");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.po(&po).map(|p| p.status), Some(PoStatus::Submitted));
}

#[tokio::test]
async fn a_crash_after_the_send_before_the_save_does_not_send_twice() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    for step in [Step::Validate, Step::Route] {
        w.pipeline.pump(step).await.expect("pump");
    }
    let po = PurchaseOrderId::new(id.clone(), 1);
    // Simulate the crash: the send happened and its outcome was recorded, but the order write
    // was lost. Reset the PO to PENDING in the store, as if the save never happened.
    w.pipeline.pump(Step::NotifySupplier).await.expect("pump");
    assert_eq!(w.suppliers.requests(), 1);
    let mut r = w.store.get(&id).await.expect("get").expect("order");
    r.purchase_orders[0].status = PoStatus::Pending;
    r.status = OrderStatus::Routed;
    w.store.save(&r).await.expect("rewind");
    // The redelivered message finds the completed send and records it without resending.
    let resp = w.pipeline.notify.handle(event_for(&[WorkMessage::purchase_order(po.clone(), "redelivery")])).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(w.suppliers.requests(), 1, "not sent again");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.po(&po).map(|p| p.status), Some(PoStatus::Submitted));
}

#[tokio::test]
async fn supplier_callbacks_out_of_order_and_repeated() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    for step in [Step::Validate, Step::Route] {
        w.pipeline.pump(step).await.expect("pump");
    }
    let r = w.store.get(&id).await.expect("get").expect("order");
    let po = r.purchase_orders[0].clone();
    let supplier = po.supplier_id.to_string();
    let send = |event: SupplierEvent| {
        let body = serde_json::to_vec(&SupplierCallback::new(event, w.clock.now())).expect("json");
        let sig = signature::sign(supplier_secret(&supplier).as_bytes(), &body);
        WebRequest::post(&format!("/suppliers/{supplier}/events"), &[(SIGNATURE_HEADER, sig.as_str())], body)
    };
    let shipment = SupplierEvent::Shipment {
        purchase_order_id: po.id.to_string(),
        carrier: "dhl".into(),
        tracking_number: "JD0001".into(),
        shipped_at: None,
    };
    // The shipment overtakes both our own record of the submission and the acknowledgment.
    let a = w.pipeline.ingest.handle(send(shipment.clone())).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("recorded")));
    let a = w.pipeline.ingest.handle(send(shipment.clone())).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("unchanged")), "a repeat changes nothing");
    let late_ack = ack(&po.id, AckStatus::Accepted, None, None);
    let a = w.pipeline.ingest.handle(send(late_ack)).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("unchanged")), "a late acknowledgment is absorbed");
    let reject = ack(&po.id, AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK"), None);
    let a = w.pipeline.ingest.handle(send(reject)).await;
    assert_eq!(a.status, 409, "a shipped PO cannot be rejected: {}", a.body);
    let other_tracking = SupplierEvent::Shipment {
        purchase_order_id: po.id.to_string(),
        carrier: "dhl".into(),
        tracking_number: "JD9999".into(),
        shipped_at: None,
    };
    assert_eq!(w.pipeline.ingest.handle(send(other_tracking)).await.status, 409);
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Shipped);
    assert_eq!(
        measured(&w, &supplier).await,
        Outcomes { answered: 1, accepted: 1, shipped: 1, shipped_on_time: 1, ..Outcomes::default() },
        "the shipment implied the acceptance; repeats and the late acknowledgment count nothing"
    );
    // The notify message still in the queue finds the PO past PENDING and sends nothing.
    w.pipeline.drain().await.expect("drain");
    assert_eq!(w.suppliers.requests(), 0);
}

#[tokio::test]
async fn a_rejection_reroutes_to_the_next_supplier_and_an_address_problem_holds() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let first = r.purchase_orders[0].clone();
    assert_eq!(first.supplier_id.as_str(), "northwind-us");
    let promise = first.promise.clone().expect("a promise");
    assert!(
        promise.ship_by > promise.ack_by - chrono::Duration::hours(12)
            && promise.delivery_earliest <= promise.delivery_latest
    );
    assert_eq!(r.routing.len(), 1);
    assert_eq!(r.routing[0].outcome, "routed: northwind-us");

    // The address is the order's problem, not the supplier's: a human looks first.
    let mut held = r.clone();
    let event = ack(&first.id, AckStatus::Rejected, Some("ADDRESS_UNDELIVERABLE"), Some("no such street"));
    let changed = apply_supplier_event(
        &mut held,
        &first.id,
        &event,
        dropline_domain::order::Said { at: w.clock.now(), sequence: None },
        "supplier:northwind-us",
        w.clock.now(),
    )
    .expect("applies");
    assert_eq!(changed, Some(dropline_domain::order::EventType::PurchaseOrderRejected));
    assert_eq!(held.status, OrderStatus::OnHold);
    assert_eq!(held.holds[0].code, "supplier_rejected");
    assert!(held.holds[0].message.contains("no such street"));

    // Out of stock: rerouted to pacific-au, the other supplier shipping TEE-BLK-M to the US.
    let reject = ack(&first.id, AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK"), Some("sold out"));
    let answer = w.pipeline.ingest.handle(signed_callback("northwind-us", &reject)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Validated);
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let pos: Vec<(&str, &str, PoStatus)> =
        r.purchase_orders.iter().map(|p| (p.number.as_str(), p.supplier_id.as_str(), p.status)).collect();
    assert_eq!(pos[0], ("1001-1", "northwind-us", PoStatus::Rejected));
    assert_eq!(pos[1].0, "1001-2");
    assert_eq!(pos[1].1, "pacific-au");
    assert!(matches!(r.status, OrderStatus::Submitted | OrderStatus::Accepted | OrderStatus::Shipped), "{}", r.status);
    let last = r.routing.last().expect("decision");
    let northwind = last.candidates.iter().find(|c| c.supplier_id.as_str() == "northwind-us").expect("candidate");
    assert_eq!(northwind.ruled_out[0].constraint, "rejected_earlier");
    assert!(r.timeline.iter().any(|t| t.note.contains("rerouted after 1001-1 (rejected_earlier)")));
    // The supplier's retry of its callback counts nothing more.
    let again = w.pipeline.ingest.handle(signed_callback("northwind-us", &reject)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(measured(&w, "northwind-us").await, Outcomes { answered: 1, ..Outcomes::default() });
}

async fn measured(w: &DemoWorld, supplier: &str) -> Outcomes {
    let id = SupplierId::new(supplier).expect("id");
    w.catalog.measured(std::slice::from_ref(&id)).await.expect("measured").get(&id).copied().unwrap_or_default()
}

/// A ledger that is down: every write fails.
struct DownLedger;
#[async_trait::async_trait]
impl OutcomeLedger for DownLedger {
    async fn record(&self, _: &Outcome) -> PortResult<bool> {
        Err(PortError::Transient("ledger unreachable".into()))
    }
    async fn measured(&self, _: &[SupplierId]) -> PortResult<Measured> {
        Err(PortError::Transient("ledger unreachable".into()))
    }
}

#[tokio::test]
async fn an_outcome_lost_to_a_crash_is_counted_on_the_suppliers_retry_and_only_once() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let po = w.store.get(&id).await.expect("get").expect("order").purchase_orders[0].clone();
    let accept = ack(&po.id, AckStatus::Accepted, None, None);
    // The acceptance is saved, then counting it fails: the supplier is told to retry.
    let ingest_down = dropline_ingest::Ingest {
        store: w.store.clone(),
        idempotency: dropline_app::idempotency::Idempotency::new(w.idempotency.clone(), Duration::hours(24)),
        queue: w.queues.clone(),
        events: w.bus.clone(),
        secrets: dropline_app::secrets::SecretCache::fixed((*w.pipeline.ingest.secrets.current().await).clone()),
        clock: w.clock.clone(),
        stock: w.catalog.clone(),
        outcomes: Arc::new(DownLedger),
        time_zones: Default::default(),
    };
    let answer = ingest_down.handle(signed_callback("northwind-us", &accept)).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").po(&po.id).expect("po").status, PoStatus::Accepted);
    assert_eq!(measured(&w, "northwind-us").await, Outcomes::default());
    // The retry finds the acceptance recorded ("unchanged") and counts it; later retries don't.
    for _ in 0..3 {
        let answer = w.pipeline.ingest.handle(signed_callback("northwind-us", &accept)).await;
        assert_eq!((answer.status, answer.body["status"].as_str()), (200, Some("unchanged")));
    }
    assert_eq!(measured(&w, "northwind-us").await, Outcomes { answered: 1, accepted: 1, ..Outcomes::default() });
}

#[tokio::test]
async fn the_outcomes_the_pipeline_counted_are_what_routing_scores() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let reliability = |r: &dropline_domain::order::OrderRecord, s: &str| {
        let decision = r.routing.last().expect("decision");
        let c = decision.candidates.iter().find(|c| c.supplier_id.as_str() == s).expect("candidate");
        c.figures.as_ref().expect("figures").reliability
    };
    let before = reliability(&r, "northwind-us");
    assert!(before > 0.75, "its configured record: {before}");

    // In another world, northwind-us has rejected 1 500 of 2 000 purchase orders, as counted by
    // the pipeline; its configured record weighs as 380.
    let w = world();
    let northwind = SupplierId::new("northwind-us").expect("id");
    for n in 0..2000u32 {
        let order = OrderId::new(format!("o_hist{n:012}")).expect("id");
        let kind = if n < 1500 { OutcomeKind::Rejected } else { OutcomeKind::Accepted };
        let o = Outcome { po: PurchaseOrderId::new(order, 1), supplier_id: northwind.clone(), kind };
        assert!(w.catalog.record(&o).await.expect("record"));
    }
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let after = reliability(&r, "northwind-us");
    // Acceptance (0.98 x 380 + 500) / 2380 = 0.366; cancellations 0.01 x 380 / (380 + 500)
    // accepted; on-time shipping and tracking as configured (nothing shipped yet).
    let acceptance = (0.98 * 380.0 + 500.0) / 2380.0;
    let kept = 1.0 - 0.01 * 380.0 / 880.0;
    let expected = before * (acceptance / 0.98) * (kept / 0.99);
    assert!((after - expected).abs() < 1e-3, "{after} vs {expected}");
    let plans = &r.routing.last().expect("decision").plans;
    let northwind_plan = plans.iter().find(|p| p.suppliers[0] == northwind).expect("plan");
    assert!(northwind_plan.reliability_score < 0.7, "the explanation shows it: {northwind_plan:?}");
}

#[tokio::test]
async fn stuck_orders_are_swept_once_per_round() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    // The validate message is lost: take it and never process it.
    let taken = w.queues.receive(Step::Validate, 10).await.expect("receive");
    for m in &taken {
        w.queues.delete(Step::Validate, &m.receipt).await.expect("delete");
    }
    w.clock.advance(Duration::minutes(6));
    let first = w.pipeline.escalate().await;
    assert_eq!((first.escalated, first.requeued), (1, 1));
    let second = w.pipeline.escalate().await;
    assert_eq!(second.escalated, 0, "same round: nothing new");
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Submitted);
    assert_eq!(w.suppliers.requests(), 1);
}

fn updated(case: &str, delivery_id: &str, change: impl Fn(&mut serde_json::Value)) -> demo::Delivery {
    let mut d = delivery(case);
    d.delivery_id = delivery_id.into();
    d.topic = "orders/updated".into();
    let p = d.payload.as_mut().expect("payload");
    p["updated_at"] = serde_json::json!("2026-11-21T10:00:00-05:00");
    change(p);
    d
}

#[tokio::test]
async fn a_held_unpaid_order_paid_later_in_the_store_reaches_its_supplier() {
    let w = world();
    let id = ingest(&w, "unpaid_pending").await;
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::OnHold);
    assert_eq!(r.holds[0].code, "payment_not_accepted");

    let paid = updated("unpaid_pending", "upd-1", |p| p["financial_status"] = serde_json::json!("paid"));
    let answer = w.pipeline.ingest.handle(paid.request(paid.secret())).await;
    assert_eq!((answer.status, answer.body["status"].as_str()), (200, Some("updated")), "{}", answer.body);
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Submitted, "{:?}", r.timeline);
    assert_eq!(w.suppliers.requests(), 1);
    // The same update again changes nothing.
    let again = w.pipeline.ingest.handle(paid.request(paid.secret())).await;
    assert_eq!(again.body["duplicate_delivery"], true);
}

#[tokio::test]
async fn an_order_cancelled_in_the_store_before_routing_never_reaches_a_supplier() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    let cancel = updated("ok_us_single", "upd-2", |p| {
        p["cancelled_at"] = serde_json::json!("2026-11-21T10:00:00-05:00");
        p["cancel_reason"] = serde_json::json!("customer");
    });
    let answer = w.pipeline.ingest.handle(cancel.request(cancel.secret())).await;
    assert_eq!((answer.status, answer.body["status"].as_str()), (200, Some("cancelled")), "{}", answer.body);
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Cancelled);
    assert_eq!(w.suppliers.requests(), 0);
}

#[tokio::test]
async fn an_order_cancelled_after_its_purchase_order_went_out_is_held_for_a_human() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let cancel =
        updated("ok_us_single", "upd-3", |p| p["cancelled_at"] = serde_json::json!("2026-11-21T10:00:00-05:00"));
    let answer = w.pipeline.ingest.handle(cancel.request(cancel.secret())).await;
    assert_eq!(answer.body["status"], "held");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::OnHold);
    assert_eq!(r.holds[0].code, "cancelled_after_submission");
}

#[tokio::test]
async fn validation_normalizes_the_address_records_it_and_warnings_do_not_hold() {
    let w = world();
    let mut d = delivery("ok_ca_multi");
    let p = d.payload.as_mut().expect("payload");
    let a = &mut p["shipping_address"];
    a["zip"] = serde_json::json!(" m5v2t6 ");
    a["province_code"] = serde_json::Value::Null;
    a["province"] = serde_json::json!("ontario");
    a["address1"] = serde_json::json!("King Street West");
    a["address2"] = serde_json::json!("");
    let answer = w.pipeline.ingest.handle(d.request(d.secret())).await;
    assert_eq!(answer.status, 200);
    let id = OrderId::new(answer.body["order_id"].as_str().expect("id")).expect("id");
    w.pipeline.pump(Step::Validate).await.expect("pump");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Validated, "a warning never holds: {:?}", r.holds);
    assert_eq!(r.warnings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), vec!["street_number_missing"]);
    assert!(r.warnings[0].resolution.is_some());
    let address = r.order.shipping_address.as_ref().expect("address");
    assert_eq!((address.postal_code.as_str(), address.region.as_str()), ("M5V 2T6", "ON"));
    let note = r.timeline.iter().find(|e| e.note.starts_with("address normalized")).expect("recorded on the timeline");
    assert!(note.note.contains("postal_code") && note.note.contains("region"), "{}", note.note);
}

fn reserved(w: &DemoWorld, sku: &str) -> u32 {
    let sku = dropline_domain::primitives::ids::Sku::new(sku).expect("sku");
    w.catalog.lookup(std::slice::from_ref(&sku), false).offers_for(&sku).iter().map(|o| o.reserved).sum()
}

/// A supplier's acknowledgment of a purchase order.
fn ack(po: &PurchaseOrderId, status: AckStatus, code: Option<&str>, message: Option<&str>) -> SupplierEvent {
    SupplierEvent::Acknowledgment {
        purchase_order_id: po.to_string(),
        status,
        reason_code: code.map(String::from),
        message: message.map(String::from),
        supplier_reference: None,
    }
}

/// Signed as the supplier signs it, sent when the demo world starts (its clock never runs a week
/// ahead in these tests).
fn signed_callback(supplier: &str, event: &SupplierEvent) -> WebRequest {
    let sent_at = chrono::DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z").expect("time").to_utc();
    let body = serde_json::to_vec(&SupplierCallback::new(event.clone(), sent_at)).expect("json");
    let sig = signature::sign(supplier_secret(supplier).as_bytes(), &body);
    WebRequest::post(
        &format!("/suppliers/{supplier}/events"),
        &[("content-type", "application/json"), (SIGNATURE_HEADER, sig.as_str())],
        body,
    )
}

#[tokio::test]
async fn reservations_are_taken_at_routing_and_released_once_when_the_supplier_rejects() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    assert_eq!(reserved(&w, "TEE-BLK-M"), 0, "validation reserves nothing");
    w.pipeline.pump(Step::Route).await.expect("route");
    assert_eq!(reserved(&w, "TEE-BLK-M"), 1, "routing holds the unit");
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let po = &r.purchase_orders[0];
    let reject = ack(&po.id, AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK"), None);
    for _ in 0..2 {
        // The second delivery is a supplier's retry: nothing changes, nothing is released twice.
        let answer = w.pipeline.ingest.handle(signed_callback(po.supplier_id.as_str(), &reject)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(reserved(&w, "TEE-BLK-M"), 0);
    }
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Validated);
    // The reservation moves with the order: route holds the unit at the next supplier.
    w.pipeline.pump(Step::Route).await.expect("route");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.purchase_orders[1].supplier_id.as_str(), "pacific-au");
    let sku = dropline_domain::primitives::ids::Sku::new("TEE-BLK-M").expect("sku");
    let view = w.catalog.lookup(std::slice::from_ref(&sku), false);
    let held: Vec<(&str, u32)> = view.offers_for(&sku).iter().map(|o| (o.supplier_id.as_str(), o.reserved)).collect();
    assert_eq!(held, vec![("northwind-us", 0), ("eurodrop-de", 0), ("pacific-au", 1)]);
}

#[tokio::test]
async fn an_order_cancelled_after_routing_before_sending_gives_its_stock_back() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    w.pipeline.pump(Step::Route).await.expect("route");
    assert_eq!(reserved(&w, "TEE-BLK-M"), 1);
    let cancel =
        updated("ok_us_single", "upd-9", |p| p["cancelled_at"] = serde_json::json!("2026-11-21T10:00:00-05:00"));
    let answer = w.pipeline.ingest.handle(cancel.request(cancel.secret())).await;
    assert_eq!(answer.body["status"], "cancelled", "{}", answer.body);
    assert_eq!(reserved(&w, "TEE-BLK-M"), 0);
    w.settle().await.expect("settle");
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Cancelled);
    assert_eq!(w.suppliers.requests(), 0);
}

#[tokio::test]
async fn a_rejected_order_released_by_an_operator_is_routed_afresh_and_sent_once_more() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let first = r.purchase_orders[0].clone();
    let reject = ack(&first.id, AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK"), None);
    let answer = w.pipeline.ingest.handle(signed_callback(first.supplier_id.as_str(), &reject)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(reserved(&w, "TEE-BLK-M"), 0);
    // Rerouted to pacific-au, which rejects too: nobody else ships the tee to the US.
    w.pipeline.pump(Step::Route).await.expect("route");
    let r = w.store.get(&id).await.expect("get").expect("order");
    let second = r.purchase_orders[1].clone();
    assert_eq!(second.supplier_id.as_str(), "pacific-au");
    w.pipeline.pump(Step::NotifySupplier).await.expect("notify");
    let reject = ack(&second.id, AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK"), None);
    assert_eq!(w.pipeline.ingest.handle(signed_callback("pacific-au", &reject)).await.status, 200);
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::OnHold);
    assert_eq!(r.holds[0].code, "no_supplier_for_line");
    assert!(r.holds[0].message.contains("northwind-us: purchase order 1001-1"), "{}", r.holds[0].message);
    assert_eq!(reserved(&w, "TEE-BLK-M"), 0);

    // The operator learns northwind restocked and releases: routing starts afresh.
    let now = w.clock.now();
    dropline_cli::holds::release(w.store.as_ref(), w.queues.as_ref(), w.catalog.as_ref(), &id, "restocked", "al", now)
        .await
        .expect("release");
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Submitted, "{:?}", r.holds);
    let statuses: Vec<(String, &str, PoStatus)> =
        r.purchase_orders.iter().map(|p| (p.number.clone(), p.supplier_id.as_str(), p.status)).collect();
    assert_eq!(
        statuses,
        vec![
            ("1001-1".to_string(), "northwind-us", PoStatus::Cancelled),
            ("1001-2".to_string(), "pacific-au", PoStatus::Cancelled),
            ("1001-3".to_string(), "northwind-us", PoStatus::Submitted)
        ],
        "the rejected POs are superseded, the new one numbered on"
    );
    assert_eq!(reserved(&w, "TEE-BLK-M"), 1, "the new PO holds its unit");
    assert_eq!(w.suppliers.requests(), 3, "one send per purchase order");

    // Once a purchase order is with a supplier, a release is refused.
    let cancel =
        updated("ok_us_single", "upd-10", |p| p["cancelled_at"] = serde_json::json!("2026-11-21T10:00:00-05:00"));
    w.pipeline.ingest.handle(cancel.request(cancel.secret())).await;
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::OnHold);
    let e = dropline_cli::holds::release(w.store.as_ref(), w.queues.as_ref(), w.catalog.as_ref(), &id, "", "al", now)
        .await
        .unwrap_err();
    assert!(e.contains("1001-3 already went to their suppliers"), "{e}");
}

#[tokio::test]
async fn a_supplier_silent_past_its_acknowledgment_deadline_is_replaced() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Submitted);
    let first = r.purchase_orders[0].clone();
    assert_eq!(first.supplier_id.as_str(), "northwind-us");
    let ack_by = first.promise.as_ref().expect("promise").ack_by;
    assert!(ack_by > first.status_since);

    // Within the deadline (12 h for northwind-us) nothing happens.
    w.clock.advance(chrono::Duration::hours(11));
    assert_eq!(w.pipeline.escalate().await.ack_deadlines_missed, 0);
    w.clock.advance(chrono::Duration::hours(2));
    let s = w.pipeline.escalate().await;
    assert_eq!(s.ack_deadlines_missed, 1, "{s:?}");
    assert_eq!(w.pipeline.escalate().await.ack_deadlines_missed, 0, "once");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Validated);
    assert_eq!(r.po(&first.id).expect("po").status, PoStatus::Cancelled);
    assert_eq!(r.routing_exclusions[0].code, "ack_deadline_missed");

    w.settle().await.expect("settle");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Submitted);
    assert_eq!(r.purchase_orders[1].supplier_id.as_str(), "pacific-au");
    // northwind-us was told not to ship it, once, however often the message comes.
    assert_eq!(w.suppliers.cancellations(), vec![first.id.to_string()]);
    let again = w.pipeline.notify.handle(event_for(&[WorkMessage::purchase_order(first.id.clone(), "test")])).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(w.suppliers.cancellations().len(), 1, "sent once");
    assert_eq!(reserved(&w, "TEE-BLK-M"), 1, "the unit moved with the order");
    let sku = dropline_domain::primitives::ids::Sku::new("TEE-BLK-M").expect("sku");
    let view = w.catalog.lookup(std::slice::from_ref(&sku), false);
    let northwind = view.offers_for(&sku).iter().find(|o| o.supplier_id.as_str() == "northwind-us").expect("offer");
    assert_eq!(northwind.reserved, 0);

    // The supplier wakes up and accepts: too late, and told so (the purchase order is void, and
    // the notice already sent is not sent again).
    let late = ack(&first.id, AckStatus::Accepted, None, None);
    let answer = w.pipeline.ingest.handle(signed_callback("northwind-us", &late)).await;
    assert_eq!((answer.status, answer.body["status"].as_str()), (200, Some("void")), "{}", answer.body);
    w.pipeline.drain().await.expect("drain");
    assert_eq!(w.suppliers.cancellations().len(), 1, "the void notice is sent once");
    assert_eq!(measured(&w, "northwind-us").await, Outcomes { answered: 1, ..Outcomes::default() }, "silence counted");
}

/// Route on the demo world's ports with another validation policy.
fn route_with(w: &DemoWorld, policy: dropline_domain::validation::ValidationPolicy) -> dropline_route::Route {
    use dropline_adapters::memory::MemoryRoutingConfig;
    use dropline_app::caches::ConfigCache;
    dropline_route::Route {
        store: w.store.clone(),
        catalog: w.catalog.clone(),
        queue: w.queues.clone(),
        events: w.bus.clone(),
        clock: w.clock.clone(),
        stock: w.catalog.clone(),
        policy,
        config: Arc::new(ConfigCache::new(
            Arc::new(MemoryRoutingConfig::with_text("routing.json", demo::ROUTING)),
            std::time::Duration::MAX,
        )),
        measured: Arc::new(dropline_app::caches::MeasuredCache::new(w.catalog.clone(), std::time::Duration::ZERO)),
        outcomes: w.catalog.clone(),
    }
}

#[tokio::test]
async fn the_chosen_route_must_still_clear_the_margin_floor() {
    use dropline_domain::validation::{MarginFloor, ValidationPolicy};
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Validated);
    // A stricter floor than validation applied: northwind-us's configured shipping and fee miss it.
    let strict =
        ValidationPolicy { margin_floor: MarginFloor::parse("90%").expect("floor"), ..ValidationPolicy::default() };
    route_with(&w, strict).process(WorkMessage::order(id.clone(), "test")).await.expect("route");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::OnHold);
    assert_eq!(r.holds[0].code, "margin_below_floor");
    assert!(r.holds[0].message.contains("with the route chosen"), "{}", r.holds[0].message);
    assert!(r.purchase_orders.is_empty());
    assert_eq!(reserved(&w, "TEE-BLK-M"), 0, "nothing held for a plan not taken");

    // Under the default floor the same order routes.
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    route_with(&w, ValidationPolicy::default()).process(WorkMessage::order(id.clone(), "test")).await.expect("route");
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Routed);
}

/// Issue 12, defect 4: callbacks carried no order, so a retried old "rejected" arriving after
/// "accepted" rerouted a purchase order the supplier was shipping; and a supplier accepting
/// after its rejection was answered 409 and shipped the lines a second supplier also shipped.
#[tokio::test]
async fn callbacks_apply_in_the_order_they_were_sent_and_a_late_acceptance_is_voided() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    for step in [Step::Validate, Step::Route, Step::NotifySupplier] {
        w.pipeline.pump(step).await.expect("pump");
    }
    let po = w.store.get(&id).await.expect("get").expect("order").purchase_orders[0].clone();
    let supplier = po.supplier_id.to_string();
    let t0 = w.clock.now();
    let post = |event: SupplierEvent, at: chrono::DateTime<chrono::Utc>| {
        let body = serde_json::to_vec(&SupplierCallback::new(event, at)).expect("json");
        let sig = signature::sign(supplier_secret(&supplier).as_bytes(), &body);
        WebRequest::post(&format!("/suppliers/{supplier}/events"), &[(SIGNATURE_HEADER, sig.as_str())], body)
    };
    let rejected = ack(&po.id, AckStatus::Rejected, Some("INVENTORY_OUT_OF_STOCK"), None);
    let accepted = ack(&po.id, AckStatus::Accepted, None, None);

    // Accepted (sent at t0 + 2 min) arrives first; the rejection sent at t0 + 1 min arrives after.
    w.clock.advance(Duration::minutes(3));
    let a = w.pipeline.ingest.handle(post(accepted.clone(), t0 + Duration::minutes(2))).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let stale = w.pipeline.ingest.handle(post(rejected.clone(), t0 + Duration::minutes(1))).await;
    assert_eq!((stale.status, stale.body["status"].as_str()), (200, Some("unchanged")), "{}", stale.body);
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.purchase_orders[0].status, PoStatus::Accepted, "the stale rejection changed nothing");

    // A newer rejection (a stockout after acceptance) still applies.
    let newer = w.pipeline.ingest.handle(post(rejected, t0 + Duration::minutes(3))).await;
    assert_eq!(newer.status, 200, "{}", newer.body);
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").purchase_orders[0].status, PoStatus::Rejected);

    // The supplier changes its mind and accepts again: the purchase order is void, and the
    // supplier is told so (once), instead of a 409 it ignores.
    w.clock.advance(Duration::minutes(2));
    let late = w.pipeline.ingest.handle(post(accepted.clone(), t0 + Duration::minutes(4))).await;
    assert_eq!((late.status, late.body["status"].as_str()), (200, Some("void")), "{}", late.body);
    w.pipeline.drain().await.expect("drain");
    assert_eq!(w.suppliers.cancellations(), vec![po.id.to_string()]);
    let again = w.pipeline.ingest.handle(post(accepted, t0 + Duration::minutes(4))).await;
    assert_eq!(again.status, 200, "{}", again.body);
    w.pipeline.drain().await.expect("drain");
    assert_eq!(w.suppliers.cancellations().len(), 1, "told once");

    // Replays outside the window are refused, naming the field.
    let old =
        w.pipeline.ingest.handle(post(ack(&po.id, AckStatus::Accepted, None, None), t0 - Duration::days(8))).await;
    assert_eq!((old.status, old.body["field"].as_str()), (422, Some("sent_at")), "{}", old.body);
    let unsigned_time = serde_json::to_vec(&ack(&po.id, AckStatus::Accepted, None, None)).expect("json");
    let sig = signature::sign(supplier_secret(&supplier).as_bytes(), &unsigned_time);
    let missing = w
        .pipeline
        .ingest
        .handle(WebRequest::post(
            &format!("/suppliers/{supplier}/events"),
            &[(SIGNATURE_HEADER, sig.as_str())],
            unsigned_time,
        ))
        .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(missing.body["message"].as_str().unwrap_or("").contains("sent_at"), "{}", missing.body);
}

/// An event bus that is down: every publish fails.
struct DownBus;
#[async_trait::async_trait]
impl dropline_app::ports::EventPublisher for DownBus {
    async fn publish(&self, _: &[dropline_domain::wire::events::DomainEvent]) -> PortResult<()> {
        Err(PortError::Transient("event bus unreachable".into()))
    }
}

/// Issue 12, defect 6: an event whose publish failed was only logged, and an operator's release
/// published nothing at all. Each transition's event is now written with it, in the order's
/// outbox, and escalate's sweep delivers what a step could not.
#[tokio::test]
async fn an_event_the_bus_refused_is_delivered_later_from_the_orders_outbox() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    let validate_blind = dropline_validate::Validate {
        store: w.store.clone(),
        catalog: w.catalog.clone(),
        queue: w.queues.clone(),
        events: Arc::new(DownBus),
        policy: dropline_domain::validation::ValidationPolicy::default(),
        clock: w.clock.clone(),
        fingerprints: w.pipeline.validate.fingerprints.clone(),
    };
    let batch = w.queues.receive(Step::Validate, 10).await.expect("receive");
    let response = validate_blind.handle(dropline_local::pipeline::sqs_event(&batch)).await;
    assert!(response.batch_item_failures.is_empty(), "the state is saved; the message is done");
    for m in &batch {
        w.queues.delete(Step::Validate, &m.receipt).await.expect("delete");
    }
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Validated);
    let validated = format!("{}/OrderValidated/{}", id, r.status_since.timestamp_millis());
    assert!(r.outbox.iter().any(|e| e.id == validated), "kept in the outbox: {:?}", r.outbox);
    assert!(!w.bus.events().iter().any(|e| e.id == validated));

    // Escalate's sweep (a minute later) delivers it and empties the outbox.
    w.clock.advance(Duration::minutes(2));
    let summary = w.pipeline.escalate().await;
    assert_eq!(summary.errors, 0, "{summary:?}");
    assert!(w.bus.events().iter().any(|e| e.id == validated), "published by the sweep");
    assert!(w.store.get(&id).await.expect("get").expect("order").outbox.is_empty());
    assert!(summary.events_republished >= 1, "{summary:?}");
}

/// Defect 5: the shop header is not signed. A body verified by the app-wide secret, re-posted
/// under another shop's name, used to become a second order (and a second purchase order).
#[tokio::test]
async fn a_signed_body_replayed_under_another_shop_is_refused_and_makes_no_second_order() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    let mut replay = delivery("ok_us_single");
    replay.store = "attacker.myshopify.com".into();
    replay.delivery_id = "replayed-delivery".into();
    let answer = w.pipeline.ingest.handle(replay.request(replay.secret())).await;
    assert_eq!((answer.status, answer.body["error"].as_str()), (403, Some("store_mismatch")), "{}", answer.body);
    // The real shop's redeliveries and updates still go through.
    let again = w.pipeline.ingest.handle(delivery("ok_us_single").request(SHOPIFY_SECRET)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    w.settle().await.expect("settle");
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Submitted);
    assert_eq!(w.suppliers.requests(), 1, "one order, one purchase order");
}

/// A shop with its own secret is verified by that secret alone: the app-wide one is no fallback.
#[tokio::test]
async fn a_shop_with_its_own_secret_is_not_verified_by_the_app_secret() {
    let w = world();
    let d = delivery("ok_us_single");
    let i = &w.pipeline.ingest;
    let own = dropline_ingest::Ingest {
        store: i.store.clone(),
        idempotency: i.idempotency.with_ttl(i.idempotency.ttl),
        queue: i.queue.clone(),
        events: i.events.clone(),
        secrets: dropline_app::secrets::SecretCache::fixed(
            dropline_domain::wire::secrets::SecretBook::new()
                .with("shopify", SHOPIFY_SECRET)
                .with(&format!("shopify/{}", d.store), "the-shops-own-secret"),
        ),
        clock: i.clock.clone(),
        stock: i.stock.clone(),
        outcomes: i.outcomes.clone(),
        time_zones: i.time_zones.clone(),
    };
    assert_eq!(own.handle(d.request(SHOPIFY_SECRET)).await.status, 401);
    assert_eq!(own.handle(d.request("the-shops-own-secret")).await.status, 200);
}

/// An order store whose records of some orders cannot be read (a corrupt item, a bad deploy):
/// they are listed by the indexes but every attempt to act on them fails.
struct Poisoned {
    inner: Arc<dyn OrderStore>,
    ids: std::collections::HashSet<OrderId>,
    /// Reads in flight now and at most, each held for a moment (`None`: reads answer at once).
    gauge: Option<Arc<InFlight>>,
}

/// Counts calls in flight at once.
#[derive(Default)]
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl OrderStore for Poisoned {
    async fn create(&self, r: &dropline_domain::order::OrderRecord) -> PortResult<dropline_app::ports::Created> {
        self.inner.create(r).await
    }
    async fn get(&self, id: &OrderId) -> PortResult<Option<dropline_domain::order::OrderRecord>> {
        if self.ids.contains(id) {
            return Err(PortError::Permanent(format!("order {id}: item does not parse")));
        }
        if let Some(g) = &self.gauge {
            use std::sync::atomic::Ordering::SeqCst;
            let now = g.now.fetch_add(1, SeqCst) + 1;
            g.most.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            g.now.fetch_sub(1, SeqCst);
        }
        self.inner.get(id).await
    }
    async fn save(&self, r: &dropline_domain::order::OrderRecord) -> PortResult<dropline_domain::order::OrderRecord> {
        self.inner.save(r).await
    }
    async fn in_status_since_before(
        &self,
        status: OrderStatus,
        before: chrono::DateTime<chrono::Utc>,
        limit: usize,
        after: Option<&dropline_app::ports::OrderRef>,
    ) -> PortResult<Vec<dropline_app::ports::OrderRef>> {
        self.inner.in_status_since_before(status, before, limit, after).await
    }
    async fn tracking_due(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
        after: Option<&dropline_app::ports::IndexPosition>,
        slice: dropline_app::sharding::Slice,
    ) -> PortResult<Vec<dropline_app::ports::IndexPosition>> {
        self.inner.tracking_due(now, limit, after, slice).await
    }
    async fn outbox_due(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: usize,
        after: Option<&dropline_app::ports::IndexPosition>,
    ) -> PortResult<Vec<dropline_app::ports::IndexPosition>> {
        self.inner.outbox_due(before, limit, after).await
    }
    async fn sweep_cursor(&self, sweep: &str) -> PortResult<Option<dropline_app::ports::IndexPosition>> {
        self.inner.sweep_cursor(sweep).await
    }
    async fn save_sweep_cursor(
        &self,
        sweep: &str,
        cursor: Option<&dropline_app::ports::IndexPosition>,
    ) -> PortResult<()> {
        self.inner.save_sweep_cursor(sweep, cursor).await
    }
    async fn same_customer(
        &self,
        key: &dropline_domain::validation::duplicates::CustomerKey,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> PortResult<Vec<dropline_domain::validation::duplicates::PriorOrder>> {
        self.inner.same_customer(key, from, to).await
    }
}

/// Takes every message off the validate queue (as if lost); returns how many there were.
async fn lose_validate_messages(w: &DemoWorld) -> usize {
    let mut lost = 0;
    loop {
        let taken = w.queues.receive(Step::Validate, 10).await.expect("receive");
        if taken.is_empty() {
            return lost;
        }
        lost += taken.len();
        for m in &taken {
            w.queues.delete(Step::Validate, &m.receipt).await.expect("delete");
        }
    }
}

/// The demo's escalation sweep over another order store, in pages of `batch_size` with
/// `concurrency` orders at once.
fn escalate_over(
    w: &DemoWorld,
    store: Arc<dyn OrderStore>,
    batch_size: usize,
    concurrency: usize,
) -> dropline_escalate::Escalate {
    let e = &w.pipeline.escalate;
    dropline_escalate::Escalate {
        store,
        queue: e.queue.clone(),
        events: e.events.clone(),
        clock: e.clock.clone(),
        outcomes: e.outcomes.clone(),
        thresholds: e.thresholds.clone(),
        batch_size,
        concurrency,
    }
}

/// Defect 8: the sweep read at most 1,000 rows per status, oldest first, every run. With 1,050
/// poisoned orders ahead of it, a newer stuck order was never reached. Now each sweep goes on
/// from where the last run stopped.
#[tokio::test]
async fn a_stuck_order_behind_a_thousand_poisoned_ones_is_reached_within_two_runs() {
    let w = world();
    let mut poisoned = std::collections::HashSet::new();
    for n in 0..1050u64 {
        let mut d = updated("ok_us_single", &format!("poison-{n}"), |p| p["id"] = serde_json::json!(9_000_000 + n));
        d.topic = "orders/create".into();
        let answer = w.pipeline.ingest.handle(d.request(d.secret())).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        poisoned.insert(OrderId::new(answer.body["order_id"].as_str().expect("id")).expect("id"));
    }
    w.clock.advance(Duration::minutes(1));
    let victim = ingest(&w, "ok_us_single").await;
    lose_validate_messages(&w).await;
    w.clock.advance(Duration::minutes(6));

    let e = &w.pipeline.escalate;
    let poisoned = Arc::new(Poisoned { inner: w.store.clone(), ids: poisoned, gauge: None });
    let sweep = escalate_over(&w, poisoned, e.batch_size, e.concurrency);
    // Out of time before it starts, a run touches nothing (and loses no place).
    let none = sweep.run_within(Some(std::time::Duration::ZERO)).await.expect("run");
    assert_eq!((none.overdue, none.errors), (0, 0), "{none:?}");
    let first = sweep.run().await.expect("run");
    assert!(first.errors >= 1000, "{first:?}");
    let second = sweep.run().await.expect("run");
    assert_eq!(second.escalated, 1, "{second:?}");
    let r = w.store.get(&victim).await.expect("get").expect("order");
    assert_eq!(r.escalations.len(), 1, "reached on the second run");
    assert_eq!(w.queues.receive(Step::Validate, 10).await.expect("receive").len(), 1, "and re-enqueued");
}

/// Issue 13: the sweep works its orders `concurrency` at a time (a run no longer takes an hour
/// at tens of milliseconds a request), never more, and two runs side by side still escalate each
/// order once.
#[tokio::test]
async fn escalation_works_orders_side_by_side_and_overlapping_runs_escalate_each_once() {
    let w = world();
    let mut stuck = Vec::new();
    for n in 0..40u64 {
        let mut d = updated("ok_us_single", &format!("stuck-{n}"), |p| p["id"] = serde_json::json!(9_100_000 + n));
        d.topic = "orders/create".into();
        let answer = w.pipeline.ingest.handle(d.request(d.secret())).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        stuck.push(OrderId::new(answer.body["order_id"].as_str().expect("id")).expect("id"));
    }
    lose_validate_messages(&w).await;
    w.clock.advance(Duration::minutes(6));

    let gauge = Arc::new(InFlight::default());
    let gauged = Arc::new(Poisoned { inner: w.store.clone(), ids: Default::default(), gauge: Some(gauge.clone()) });
    let (a, b) = (escalate_over(&w, gauged.clone(), 100, 8), escalate_over(&w, gauged, 100, 8));
    let (ra, rb) = tokio::join!(a.run(), b.run());
    let (ra, rb) = (ra.expect("run"), rb.expect("run"));
    let most = gauge.most.load(std::sync::atomic::Ordering::SeqCst);
    assert!((3..=16).contains(&most), "two runs of 8 at once: {most} reads in flight at most");
    assert_eq!(ra.escalated + rb.escalated, 40, "{ra:?} {rb:?}");
    for id in &stuck {
        let r = w.store.get(id).await.expect("get").expect("order");
        assert_eq!(r.escalations.len(), 1, "{id} escalated once");
    }
    assert_eq!(lose_validate_messages(&w).await, 40, "each stuck order re-enqueued once");
}

/// A supplier whose first request never answers: the invocation sending it dies mid-send.
struct HangsOnce {
    inner: Arc<dyn dropline_app::ports::SupplierGateway>,
    hung: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl dropline_app::ports::SupplierGateway for HangsOnce {
    async fn submit(
        &self,
        supplier: &dropline_domain::catalog::Supplier,
        po: &dropline_domain::wire::supplier::PurchaseOrderDocument,
    ) -> Result<dropline_domain::wire::supplier::SubmitReceipt, dropline_app::ports::GatewayError> {
        if !self.hung.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.submit(supplier, po).await
    }
    async fn cancel(
        &self,
        supplier: &dropline_domain::catalog::Supplier,
        notice: &dropline_domain::wire::supplier::CancellationNotice,
    ) -> Result<(), dropline_app::ports::GatewayError> {
        self.inner.cancel(supplier, notice).await
    }
}

/// The demo's notify-supplier with another gateway, queue and retry delay.
fn notify_like(
    n: &dropline_notify_supplier::NotifySupplier,
    gateway: Arc<dyn dropline_app::ports::SupplierGateway>,
    queue: Arc<dyn dropline_app::ports::WorkQueue>,
    retry_after: Option<Duration>,
) -> dropline_notify_supplier::NotifySupplier {
    dropline_notify_supplier::NotifySupplier {
        store: n.store.clone(),
        catalog: n.catalog.clone(),
        gateway,
        idempotency: n.idempotency.with_ttl(n.idempotency.ttl),
        events: n.events.clone(),
        clock: n.clock.clone(),
        stock: n.stock.clone(),
        queue,
        send_lock: n.send_lock,
        retry_after,
    }
}

/// Receives the purchase order's message and runs `crashing` on it (Lambda's deadline 30 s
/// away) until it hangs mid-send, then kills it there.
async fn crash_mid_send(
    w: &DemoWorld,
    crashing: &dropline_notify_supplier::NotifySupplier,
    queue: &dyn dropline_app::ports::QueueConsumer,
) {
    let batch = queue.receive(Step::NotifySupplier, 10).await.expect("receive");
    assert_eq!(batch.len(), 1);
    let deadline = w.clock.now() + Duration::seconds(30);
    let run = crashing.handle_by(sqs_event(&batch), Some(deadline));
    let crashed = tokio::time::timeout(std::time::Duration::from_millis(50), run).await;
    assert!(crashed.is_err(), "the send hung until the crash");
}

/// Defect 3b: a crash mid-send left the purchase order's 15-minute send lock held by a dead
/// invocation, so every redelivery in that time was refused ("being sent by another
/// invocation") and spent its receive count. The lock now ends with its invocation.
#[tokio::test]
async fn a_send_cut_short_by_a_crash_is_taken_up_by_the_first_redelivery() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    w.pipeline.pump(Step::Route).await.expect("route");
    let n = &w.pipeline.notify;
    let hangs = Arc::new(HangsOnce { inner: w.suppliers.clone(), hung: false.into() });
    let crashing = notify_like(n, hangs, n.queue.clone(), n.retry_after);
    crash_mid_send(&w, &crashing, w.queues.as_ref()).await;
    // SQS shows the message again after its visibility timeout (180 s in the template).
    w.clock.advance(Duration::seconds(181));
    let again = w.queues.receive(Step::NotifySupplier, 10).await.expect("receive");
    assert_eq!(again.len(), 1, "redelivered");
    let answer = n.handle_by(sqs_event(&again), Some(w.clock.now() + Duration::seconds(30))).await;
    assert!(answer.batch_item_failures.is_empty(), "the redelivery sends it: the dead holder's lock ended");
    assert_eq!(w.suppliers.requests(), 1, "sent once");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Submitted);
}

/// Defect 3b, the message's side: the queue hides a received message for 180 s (six times the
/// function's timeout, as AWS advises), so a send cut short by a crash waited three minutes for
/// its redelivery even once its lock had ended. Notify-supplier now leases its messages for as
/// long as its locks (the deadline plus the margin, plus a second): the crashed invocation's
/// message is back 36 s after it began, and sent then. A message that failed is hidden for the
/// queue's own timeout again, so retries keep their pace.
#[tokio::test]
async fn a_crashed_sends_message_comes_back_when_its_lease_ends_not_after_the_queues_timeout() {
    use dropline_app::ports::{QueueConsumer, WorkQueue};
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    w.pipeline.pump(Step::Route).await.expect("route");
    // The template's queue: 180 s visibility.
    let mut q = dropline_adapters::memory::MemoryQueues::new(w.clock.clone());
    q.visibility_timeout = Duration::seconds(180);
    let queue = Arc::new(q);
    let pending = w.queues.receive(Step::NotifySupplier, 10).await.expect("receive");
    let messages: Vec<WorkMessage> = pending.iter().map(|m| WorkMessage::parse(&m.body).expect("message")).collect();
    queue.enqueue(Step::NotifySupplier, &messages).await.expect("enqueue");
    let n = &w.pipeline.notify;
    let notify = |gateway: Arc<dyn dropline_app::ports::SupplierGateway>| {
        notify_like(n, gateway, queue.clone(), Some(Duration::seconds(180)))
    };
    let crashing = notify(Arc::new(HangsOnce { inner: w.suppliers.clone(), hung: false.into() }));
    crash_mid_send(&w, &crashing, queue.as_ref()).await;
    w.clock.advance(Duration::seconds(35));
    assert!(queue.receive(Step::NotifySupplier, 10).await.expect("receive").is_empty(), "leased while its locks stand");
    w.clock.advance(Duration::seconds(2));
    let again = queue.receive(Step::NotifySupplier, 10).await.expect("receive");
    assert_eq!(again.len(), 1, "back when the lease ended, not after 180 s");
    let answer =
        notify(w.suppliers.clone()).handle_by(sqs_event(&again), Some(w.clock.now() + Duration::seconds(30))).await;
    assert!(answer.batch_item_failures.is_empty(), "sent on the first redelivery");
    queue.delete(Step::NotifySupplier, &again[0].receipt).await.expect("delete, as Lambda does");
    assert_eq!(w.suppliers.requests(), 1, "sent once");
    assert_eq!(w.store.get(&id).await.expect("get").expect("order").status, OrderStatus::Submitted);

    // A message that fails is hidden for the queue's timeout again, not the lease.
    queue.enqueue(Step::NotifySupplier, &[WorkMessage::order(id.clone(), "test")]).await.expect("enqueue");
    let poison = queue.receive(Step::NotifySupplier, 10).await.expect("receive");
    let answer =
        notify(w.suppliers.clone()).handle_by(sqs_event(&poison), Some(w.clock.now() + Duration::seconds(30))).await;
    assert_eq!(answer.batch_item_failures.len(), 1, "a message without a purchase order fails");
    w.clock.advance(Duration::seconds(60));
    assert!(queue.receive(Step::NotifySupplier, 10).await.expect("receive").is_empty(), "not back after the lease");
    w.clock.advance(Duration::seconds(121));
    assert_eq!(queue.receive(Step::NotifySupplier, 10).await.expect("receive").len(), 1, "back after 180 s");
}

/// An order of any size that passes the signature is stored and visible (it used to be a 503
/// the store retried for hours, then a 413: lost either way); only a body over Lambda's payload
/// limit, which API Gateway refuses before us, is a 413.
#[tokio::test]
async fn a_2500_line_order_is_stored_and_held_with_one_reason_naming_its_lines() {
    let w = world();
    let mut big = delivery("ok_us_single");
    let p = big.payload.as_mut().expect("payload");
    let line = p["line_items"][0].clone();
    let lines: Vec<serde_json::Value> = (0..2500)
        .map(|i| {
            let mut l = line.clone();
            l["id"] = serde_json::json!(800_000 + i);
            l["sku"] = serde_json::json!(format!("NOT-IN-CATALOG-{i}"));
            l
        })
        .collect();
    p["line_items"] = serde_json::Value::Array(lines);
    let answer = w.pipeline.ingest.handle(big.request(big.secret())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    w.pipeline.drain().await.expect("drain");
    let id = OrderId::new(answer.body["order_id"].as_str().expect("id")).expect("id");
    let r = w.store.get(&id).await.expect("get").expect("stored");
    assert_eq!(r.status, OrderStatus::OnHold);
    let unmapped: Vec<_> = r.holds.iter().filter(|h| h.code == "sku_unmapped").collect();
    assert_eq!(unmapped.len(), 1, "one reason, not 2,500: {:?}", r.holds.len());
    assert!(unmapped[0].message.starts_with("2500 lines (1-2500)"), "{}", unmapped[0].message);

    let mut huge = delivery("ok_us_single");
    huge.payload.as_mut().expect("payload")["note"] = serde_json::json!("x".repeat(dropline_ingest::MAX_BODY_BYTES));
    let answer = w.pipeline.ingest.handle(huge.request(huge.secret())).await;
    assert_eq!((answer.status, answer.body["error"].as_str()), (413, Some("payload_too_large")), "{}", answer.body);
}

/// A SKU no store should send (4 KB) is data Dropline cannot process: the order is stored and
/// held with a reason quoting its start, never refused.
#[tokio::test]
async fn an_unusable_sku_holds_the_order_instead_of_refusing_it() {
    let w = world();
    let mut d = delivery("ok_us_single");
    d.payload.as_mut().expect("payload")["line_items"][0]["sku"] = serde_json::json!("Z".repeat(4096));
    let answer = w.pipeline.ingest.handle(d.request(d.secret())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    w.pipeline.drain().await.expect("drain");
    let id = OrderId::new(answer.body["order_id"].as_str().expect("id")).expect("id");
    let r = w.store.get(&id).await.expect("get").expect("stored");
    assert_eq!(r.status, OrderStatus::OnHold);
    let h = r.holds.iter().find(|h| h.code == "sku_invalid").expect("sku_invalid hold");
    assert_eq!(h.field.as_deref(), Some("lines[0].sku"));
    assert!(h.message.contains("4096 characters"), "{}", h.message);
    assert!(h.message.len() < 300, "quotes the start only: {}", h.message.len());
}

/// Events leave Dropline (EventBridge subscribers, archives): an order held for its address says
/// what holds it, never the address values a hold message may quote.
#[tokio::test]
async fn held_order_events_name_the_reasons_not_the_customers_details() {
    let w = world();
    let mut d = delivery("ok_us_single");
    let p = d.payload.as_mut().expect("payload");
    p["shipping_address"]["zip"] = serde_json::json!("9021X");
    p["shipping_address"]["province_code"] = serde_json::json!("Atlantis");
    let answer = w.pipeline.ingest.handle(d.request(d.secret())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    w.settle().await.expect("settle");
    let held: Vec<_> = w.bus.events().into_iter().filter(|e| e.detail_type.as_str() == "OrderHeld").collect();
    assert_eq!(held.len(), 1);
    let text = serde_json::to_string(&held[0]).expect("json");
    assert!(held[0].detail["reasons"].as_array().is_some_and(|r| !r.is_empty()), "{text}");
    for secret in ["9021X", "Atlantis", "\"message\""] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

/// A store whose secret was rotated (or a store added) after the function started: its first
/// webhook fails with the loaded secrets, the secrets are read again at once, and it verifies.
#[tokio::test]
async fn a_secret_rotated_after_init_is_read_again_when_a_signature_fails() {
    struct Ssm;
    #[async_trait::async_trait]
    impl dropline_app::ports::SecretSource for Ssm {
        async fn load(&self) -> PortResult<dropline_domain::wire::secrets::SecretBook> {
            Ok(dropline_domain::wire::secrets::SecretBook::new().with("shopify", "rotated-secret"))
        }
    }
    let w = world();
    let i = &w.pipeline.ingest;
    let rotating = dropline_ingest::Ingest {
        store: i.store.clone(),
        idempotency: i.idempotency.with_ttl(i.idempotency.ttl),
        queue: i.queue.clone(),
        events: i.events.clone(),
        secrets: dropline_app::secrets::SecretCache::new(
            Arc::new(Ssm),
            dropline_domain::wire::secrets::SecretBook::new().with("shopify", SHOPIFY_SECRET),
            std::time::Duration::MAX,
        )
        .with_min_refresh(std::time::Duration::ZERO),
        clock: i.clock.clone(),
        stock: i.stock.clone(),
        outcomes: i.outcomes.clone(),
        time_zones: i.time_zones.clone(),
    };
    let d = delivery("ok_us_single");
    assert_eq!(rotating.handle(d.request("rotated-secret")).await.status, 200);
    assert_eq!(rotating.handle(d.request("never-configured")).await.status, 401);
}

/// Defect 7 (part): route saved the order and crashed before giving back units it reserved and
/// did not use. The redelivery used to go straight to the notify step, leaving them held; it now
/// gives them back, and only them (the purchase orders' own holds stay).
#[tokio::test]
async fn a_redelivered_route_message_gives_back_what_a_crashed_attempt_left_held() {
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    w.pipeline.pump(Step::Route).await.expect("route");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Routed);
    let line = &r.purchase_orders[0].lines[0];
    let sku = line.sku.as_str().to_string();
    let before = reserved(&w, &sku);
    // What a crashed attempt reserved under a purchase order it never saved.
    let leftover = dropline_domain::catalog::Reservation {
        holder: dropline_domain::catalog::Reservation::holder_for(
            &PurchaseOrderId::new(id.clone(), 9),
            &line.line_id,
            &r.purchase_orders[0].supplier_id,
        ),
        sku: line.sku.clone(),
        supplier_id: r.purchase_orders[0].supplier_id.clone(),
        quantity: 1,
        at: w.clock.now(),
    };
    use dropline_app::ports::{StockLedger, WorkQueue};
    w.catalog.reserve(&leftover, &|_| dropline_domain::stock::HoldLimit::Unlimited).await.expect("reserve");
    assert_eq!(reserved(&w, &sku), before + 1);
    w.queues.enqueue(Step::Route, &[WorkMessage::order(id.clone(), "redelivery")]).await.expect("enqueue");
    w.pipeline.pump(Step::Route).await.expect("route again");
    assert_eq!(reserved(&w, &sku), before, "the leftover is given back, the purchase order's hold stays");
}

/// Defect 7 (the expiry): a hold that no purchase order owns (a routing attempt that died
/// before saving) used to block its units until an owner check found it. Each order's holds are
/// now its own record, found by key: the attempt that takes the order up again sees them as its
/// own units (not someone else's), routes on them and gives back what it does not use.
#[tokio::test]
async fn a_crashed_attempts_holds_are_the_orders_own_when_it_is_routed_again() {
    use dropline_app::ports::StockLedger;
    use dropline_domain::catalog::Reservation;
    use dropline_domain::stock::HoldLimit;
    let w = world();
    let id = ingest(&w, "ok_us_single").await;
    w.pipeline.pump(Step::Validate).await.expect("validate");
    let r = w.store.get(&id).await.expect("get").expect("order");
    // The order's own crashed attempt took every unit of every offer of its SKUs.
    let mut leftovers = Vec::new();
    for line in &r.order.lines {
        let sku = line.sku.clone().expect("sku");
        for offer in w.catalog.lookup(std::slice::from_ref(&sku), false).offers_for(&sku) {
            let hold = Reservation {
                holder: Reservation::holder_for(
                    &PurchaseOrderId::new(id.clone(), 7),
                    &line.line_id,
                    &offer.supplier_id,
                ),
                sku: sku.clone(),
                supplier_id: offer.supplier_id.clone(),
                quantity: offer.stock - offer.reserved,
                at: w.clock.now(),
            };
            w.catalog.reserve(&hold, &|o| HoldLimit::Units(o.stock)).await.expect("reserve");
            leftovers.push(hold);
        }
    }
    let skus: Vec<_> = leftovers.iter().map(|h| h.sku.clone()).collect();
    assert_eq!(w.catalog.holds_of(&id, &skus).await.expect("holds").len(), leftovers.len(), "found by key");
    w.pipeline.pump(Step::Route).await.expect("route");
    let r = w.store.get(&id).await.expect("get").expect("order");
    assert_eq!(r.status, OrderStatus::Routed, "its own holds did not hold it as out of stock: {:?}", r.holds);
    let holds = w.catalog.holds_of(&id, &skus).await.expect("holds");
    let owned: Vec<String> = r
        .purchase_orders
        .iter()
        .flat_map(|p| p.lines.iter().map(|l| Reservation::holder_for(&p.id, &l.line_id, &p.supplier_id)))
        .collect();
    assert!(
        !holds.is_empty() && holds.iter().all(|h| owned.contains(&h.holder)),
        "only the purchase orders' own holds stand: {holds:?}"
    );
}

/// The bench's throughput run (issue 13) on memory adapters: every load order goes through
/// ingest, validate, route and notify-supplier, each phase counted (its rate is the bench's).
#[tokio::test]
async fn the_throughput_run_takes_every_order_through_every_step() {
    use dropline_tests::load::{LoadPlan, load_catalog};
    let plan = LoadPlan::default();
    let w = demo::world(&load_catalog(demo::catalog().expect("catalog"), plan.skus));
    let rates = dropline_tests::throughput::measure(&w.pipeline, &plan, 60, 4).await;
    let steps: Vec<(&str, usize)> = rates.iter().map(|r| (r.step, r.orders)).collect();
    assert_eq!(steps, [("ingest", 60), ("validate", 60), ("route", 60), ("notify-supplier", 60)]);
    let submitted = w.store.all().iter().filter(|r| r.status == OrderStatus::Submitted).count();
    assert_eq!(submitted, 60, "every order's purchase order sent");
    assert!(dropline_tests::throughput::render(&rates).contains("orders/s"));
}
