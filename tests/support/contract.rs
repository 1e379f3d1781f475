//! Contract suites: what every adapter of a port must do. Each runs against the memory adapter
//! and the AWS adapter (on the emulators) in `tests/contract.rs`.

use chrono::{DateTime, Duration, Utc};
use dropline_app::idempotency::{Begin, Idempotency, IdempotencyError, IdempotencyRecord, IdempotencyStatus};
use dropline_app::ports::{
    Catalog, Created, EventPublisher, OrderStore, PortError, QueueConsumer, StockLedger, WorkQueue,
};
use dropline_app::ports::{IdempotencyStore, IndexPosition, PutOutcome};
use dropline_app::sharding::Slice;
use dropline_domain::catalog::Reserved;
use dropline_domain::catalog::{CatalogDocument, CatalogView, Offer, Reservation};
use dropline_domain::order::{OrderRecord, PurchaseOrder, Receipt, Shipment};
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::primitives::ids::{ChannelOrderId, OrderId, PurchaseOrderId, Sku, SupplierId};
use dropline_domain::stock::HoldLimit;
use dropline_domain::testing::{sample_catalog_document, sample_order};
use dropline_domain::tracking::TrackingStatus;
use dropline_domain::wire::events::DomainEvent;
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A fresh order record with a distinct channel order id.
pub fn new_record(n: u32, at: DateTime<Utc>) -> OrderRecord {
    let mut o = sample_order();
    o.channel_order_id = ChannelOrderId::new(format!("{}{n}", uuid::Uuid::new_v4().simple())).expect("id");
    OrderRecord::received(o, Receipt { delivery_id: None, topic: "orders/create".into(), received_at: at })
}

/// A purchase order without lines, shipped at `at` (in transit with DHL as `tracking_number`),
/// due for its next tracking check at `next_check_at`.
pub fn shipped_po(
    id: PurchaseOrderId,
    tracking_number: &str,
    at: DateTime<Utc>,
    next_check_at: DateTime<Utc>,
) -> PurchaseOrder {
    PurchaseOrder {
        number: format!("{}-1", id.order_id()),
        id,
        supplier_id: SupplierId::new("acme-us").expect("id"),
        lines: vec![],
        status: PoStatus::Shipped,
        status_since: at,
        created_at: None,
        submitted_at: None,
        accepted_at: None,
        supplier_reference: None,
        rejection: None,
        shipment: Some(Shipment {
            carrier: "dhl".into(),
            tracking_number: tracking_number.into(),
            shipped_at: at,
            reported_at: None,
            status: TrackingStatus::InTransit,
            last_checked_at: None,
            next_check_at: Some(next_check_at),
            checkpoints: vec![],
        }),
        promise: None,
        last_word: None,
        void_notice: None,
        void_notice_sent: false,
    }
}

pub async fn order_store(store: &dyn OrderStore) {
    let t0 = Utc::now() - Duration::hours(3);
    let r = new_record(1, t0);

    // Create once; the second create returns the stored record and changes nothing.
    let created = match store.create(&r).await.expect("create") {
        Created::Created(c) => c,
        Created::Existing(_) => panic!("a new order must be created"),
    };
    assert_eq!(created.version, 1);
    let got = store.get(&r.id).await.expect("get").expect("stored");
    assert_eq!(got, created);
    let mut other = r.clone();
    other.order.name = "#changed".into();
    match store.create(&other).await.expect("create again") {
        Created::Existing(e) => assert_eq!(e, created, "the stored record, unchanged"),
        Created::Created(_) => panic!("a second create must not overwrite"),
    }
    assert!(store.get(&new_record(9, t0).id).await.expect("get").is_none());

    // Optimistic concurrency: a save from a stale version is a conflict.
    let mut v1 = got.clone();
    v1.transition(OrderStatus::Validated, "test", "", t0 + Duration::minutes(1)).expect("move");
    let v2 = store.save(&v1).await.expect("save");
    assert_eq!(v2.version, 2);
    assert_eq!(store.get(&r.id).await.expect("get").expect("stored"), v2);
    match store.save(&v1).await {
        Err(PortError::Conflict(_)) => {}
        other => panic!("stale save must conflict, got {other:?}"),
    }
    // Two writers from the same version: exactly one wins.
    let (a, b) = (v2.clone(), v2.clone());
    let (ra, rb) = tokio::join!(store.save(&a), store.save(&b));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|x| **x).count(), 1, "one of two concurrent saves wins");
    assert_eq!(store.get(&r.id).await.expect("get").expect("stored").version, 3);

    // The status index: orders in a status since before a time, oldest first, limited.
    let mut ids = Vec::new();
    for (i, mins) in [50i64, 40, 30].iter().enumerate() {
        let rec = new_record(10 + i as u32, Utc::now() - Duration::minutes(*mins));
        store.create(&rec).await.expect("create");
        ids.push(rec.id);
    }
    let found = store
        .in_status_since_before(OrderStatus::Received, Utc::now() - Duration::minutes(35), 10, None)
        .await
        .expect("query");
    let found_ids: Vec<_> = found.iter().map(|o| o.id.clone()).collect();
    assert_eq!(found_ids, vec![ids[0].clone(), ids[1].clone()], "oldest first, only those before the cutoff");
    let limited = store.in_status_since_before(OrderStatus::Received, Utc::now(), 1, None).await.expect("query");
    assert_eq!(limited.len(), 1);
    assert!(store.in_status_since_before(OrderStatus::Shipped, Utc::now(), 10, None).await.expect("query").is_empty());
    // Paging: one row at a time, each page after the last row of the previous one.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .in_status_since_before(OrderStatus::Received, Utc::now() - Duration::minutes(35), 1, after.as_ref())
            .await
            .expect("page");
        let Some(last) = page.last().cloned() else { break };
        paged.push(last.id.clone());
        after = Some(last);
    }
    assert_eq!(paged, vec![ids[0].clone(), ids[1].clone()], "pages walk the index in order, once");

    // The tracking index: only orders with a shipped purchase order due now.
    let now = Utc::now();
    let mut shipped = new_record(20, now - Duration::hours(2));
    let po_id = PurchaseOrderId::new(shipped.id.clone(), 1);
    shipped.purchase_orders.push(shipped_po(po_id.clone(), "JD1", now, now - Duration::minutes(1)));
    let mut later = shipped.clone();
    later.id = new_record(21, now).id;
    if let Some(s) = later.purchase_orders[0].shipment.as_mut() {
        s.next_check_at = Some(now + Duration::hours(1));
    }
    let stored = match store.create(&shipped).await.expect("create") {
        Created::Created(c) => c,
        Created::Existing(_) => panic!("new"),
    };
    store.create(&later).await.expect("create");
    let due = |rows: Vec<IndexPosition>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = Slice::ALL;
    assert_eq!(due(store.tracking_due(now, 10, None, all).await.expect("due")), vec![shipped.id.clone()]);
    // Paged oldest first, and shared by slices: each due order in exactly one of a count's.
    let both = due(store.tracking_due(now + Duration::hours(2), 10, None, all).await.expect("due"));
    assert_eq!(both, vec![shipped.id.clone(), later.id.clone()]);
    let first = store.tracking_due(now + Duration::hours(2), 1, None, all).await.expect("due");
    assert_eq!(due(first.clone()), vec![shipped.id.clone()]);
    let next = store.tracking_due(now + Duration::hours(2), 10, first.last(), all).await.expect("due");
    assert_eq!(due(next), vec![later.id.clone()]);
    let mut sliced = Vec::new();
    for i in 0..4 {
        let slice = Slice::new(i, 4).expect("slice");
        let rows = due(store.tracking_due(now + Duration::hours(2), 10, None, slice).await.expect("due"));
        assert!(rows.iter().all(|id| slice.takes(id)), "slice {i}: {rows:?}");
        sliced.extend(rows);
    }
    sliced.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut expected = both.clone();
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(sliced, expected, "the slices cover every due order once");
    // Once nothing is left to check, the order leaves the index.
    let mut done = stored.clone();
    if let Some(s) = done.purchase_orders[0].shipment.as_mut() {
        s.next_check_at = None;
    }
    store.save(&done).await.expect("save");
    assert!(store.tracking_due(now, 10, None, all).await.expect("due").is_empty());

    // The outbox index: an order whose outbox holds an event is due once the event is older
    // than `before`; published and removed, it leaves the index.
    let mut owing = new_record(22, now);
    owing.transition(OrderStatus::Validated, "validate", "", now).expect("move");
    assert!(!owing.outbox.is_empty(), "the transition put its event in the outbox");
    let owing = match store.create(&owing).await.expect("create") {
        Created::Created(c) => c,
        Created::Existing(_) => panic!("new"),
    };
    let due = due_ids(store.outbox_due(now + Duration::minutes(1), 10, None).await.expect("outbox due"));
    assert!(due.contains(&owing.id), "{due:?}");
    assert!(
        !due_ids(store.outbox_due(now - Duration::minutes(1), 10, None).await.expect("outbox due")).contains(&owing.id)
    );
    // Pages resume after a row: past its own position it is not listed again; from just before
    // it, it is.
    let at = owing.outbox_due_at().expect("due");
    let past = IndexPosition { id: owing.id.clone(), at };
    let after = due_ids(store.outbox_due(now + Duration::minutes(1), 10, Some(&past)).await.expect("outbox due"));
    assert!(!after.contains(&owing.id), "{after:?}");
    let before = IndexPosition { id: owing.id.clone(), at: at - Duration::milliseconds(1) };
    let from = store.outbox_due(now + Duration::minutes(1), 10, Some(&before)).await.expect("outbox due");
    // (DynamoDB keeps milliseconds.)
    assert!(from.iter().any(|r| r.id == owing.id && r.at.timestamp_millis() == at.timestamp_millis()), "{from:?}");
    let mut published = owing.clone();
    let ids: Vec<String> = published.outbox.iter().map(|e| e.id.clone()).collect();
    published.published(&ids);
    store.save(&published).await.expect("save");
    assert!(
        !due_ids(store.outbox_due(now + Duration::minutes(1), 10, None).await.expect("outbox due")).contains(&owing.id)
    );

    // A sweep's cursor: absent, saved, read back, cleared.
    let sweep = format!("contract/{}", uuid::Uuid::new_v4());
    assert_eq!(store.sweep_cursor(&sweep).await.expect("cursor"), None);
    let ms = DateTime::from_timestamp_millis(at.timestamp_millis() - 1).expect("in range");
    let cursor = IndexPosition { id: owing.id.clone(), at: ms };
    store.save_sweep_cursor(&sweep, Some(&cursor)).await.expect("save cursor");
    assert_eq!(store.sweep_cursor(&sweep).await.expect("cursor"), Some(cursor));
    store.save_sweep_cursor(&sweep, None).await.expect("clear cursor");
    assert_eq!(store.sweep_cursor(&sweep).await.expect("cursor"), None);
}

fn due_ids(rows: Vec<IndexPosition>) -> Vec<OrderId> {
    rows.into_iter().map(|r| r.id).collect()
}

pub async fn idempotency_store(store: Arc<dyn IdempotencyStore>) {
    let now = Utc::now();
    let key = format!("contract:{}", uuid::Uuid::new_v4());
    let rec = |status, expiration: i64, lock: Option<i64>| IdempotencyRecord {
        id: key.clone(),
        status,
        expiration,
        in_progress_expiration: lock,
        data: None,
        validation: "h1".into(),
    };
    let live = rec(
        IdempotencyStatus::InProgress,
        (now + Duration::hours(1)).timestamp(),
        Some((now + Duration::seconds(30)).timestamp_millis()),
    );
    assert_eq!(store.put_in_progress(&live, now).await.expect("put"), PutOutcome::Acquired);
    match store.put_in_progress(&live, now).await.expect("put") {
        PutOutcome::Exists(e) => {
            assert_eq!(e.status, IdempotencyStatus::InProgress);
            assert_eq!(e.validation, "h1");
        }
        PutOutcome::Acquired => panic!("a live lock must block"),
    }
    // A lock past its in_progress_expiration frees the key.
    let later = now + Duration::seconds(31);
    assert_eq!(store.put_in_progress(&live, later).await.expect("put"), PutOutcome::Acquired);
    store.complete(&key, "{\"answer\":1}", (now + Duration::hours(1)).timestamp()).await.expect("complete");
    let got = store.get(&key).await.expect("get").expect("exists");
    assert_eq!(got.status, IdempotencyStatus::Completed);
    assert_eq!(got.data.as_deref(), Some("{\"answer\":1}"));
    assert_eq!(got.in_progress_expiration, None);
    match store.put_in_progress(&live, later).await.expect("put") {
        PutOutcome::Exists(e) => assert_eq!(e.status, IdempotencyStatus::Completed),
        PutOutcome::Acquired => panic!("a completed record must block until it expires"),
    }
    // Expired completed records are overwritten (TTL may lag; expiry is checked in the condition).
    let much_later = now + Duration::hours(2);
    assert_eq!(store.put_in_progress(&live, much_later).await.expect("put"), PutOutcome::Acquired);
    store.delete(&key).await.expect("delete");
    assert!(store.get(&key).await.expect("get").is_none());
    match store.complete(&key, "x", now.timestamp()).await {
        Err(PortError::Conflict(_)) => {}
        other => panic!("completing a missing record is a conflict, got {other:?}"),
    }

    // The protocol on top.
    let idem = Idempotency::new(store.clone(), Duration::hours(1));
    let k2 = format!("contract:{}", uuid::Uuid::new_v4());
    assert_eq!(idem.begin(&k2, "p", now, now + Duration::seconds(5)).await.expect("begin"), Begin::Proceed);
    assert!(matches!(idem.begin(&k2, "p", now, now).await, Err(IdempotencyError::InProgress(_))));
    assert!(matches!(idem.begin(&k2, "other", now, now).await, Err(IdempotencyError::PayloadMismatch(_))));
    idem.complete(&k2, "result", now).await.expect("complete");
    assert_eq!(idem.begin(&k2, "p", now, now).await.expect("begin"), Begin::Completed("result".into()));
    let k3 = format!("contract:{}", uuid::Uuid::new_v4());
    assert_eq!(idem.begin(&k3, "p", now, now).await.expect("begin"), Begin::Proceed);
    idem.abandon(&k3).await.expect("abandon");
    assert_eq!(idem.begin(&k3, "p", now, now).await.expect("begin"), Begin::Proceed, "after a failure the key is free");
    // A deadline already past still locks until now: never "no lock".
    let k4 = format!("contract:{}", uuid::Uuid::new_v4());
    assert_eq!(idem.begin(&k4, "p", now, now - Duration::seconds(10)).await.expect("begin"), Begin::Proceed);
    assert!(matches!(idem.begin(&k4, "p", now, now).await, Err(IdempotencyError::InProgress(_))));
}

/// How a suite lets time pass (a manual clock for memory, real sleeps for SQS).
pub type PassTime = Box<dyn Fn(u64) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// `visibility_s` and `max_receive` must be the queue's settings.
pub async fn work_queue<Q: WorkQueue + QueueConsumer + ?Sized>(
    q: &Q,
    pass_time: PassTime,
    visibility_s: u64,
    max_receive: u32,
) {
    let order = new_record(1, Utc::now()).id;
    let messages: Vec<WorkMessage> =
        (1..=3u16).map(|i| WorkMessage::purchase_order(PurchaseOrderId::new(order.clone(), i), "contract")).collect();
    q.enqueue(Step::NotifySupplier, &messages).await.expect("enqueue");
    q.enqueue(Step::Validate, &[]).await.expect("enqueuing nothing is fine");

    let mut got = Vec::new();
    for _ in 0..10 {
        got.extend(q.receive(Step::NotifySupplier, 10).await.expect("receive"));
        if got.len() >= 3 {
            break;
        }
    }
    assert_eq!(got.len(), 3, "every message is delivered");
    let mut bodies: Vec<WorkMessage> = got.iter().map(|m| WorkMessage::parse(&m.body).expect("parse")).collect();
    bodies.sort_by_key(|m| m.po_id.as_ref().map(|p| p.seq()));
    assert_eq!(bodies, messages);
    assert!(got.iter().all(|m| m.receive_count == 1));
    assert!(q.receive(Step::NotifySupplier, 10).await.expect("receive").is_empty(), "in flight: invisible");
    for m in &got[..2] {
        q.delete(Step::NotifySupplier, &m.receipt).await.expect("delete");
    }
    assert!(q.receive(Step::Route, 10).await.expect("receive").is_empty(), "queues are separate");

    // A lease on the third: kept hidden past the queue's timeout, then let go at once.
    let lease = u32::try_from(visibility_s + 3).expect("small");
    q.keep_hidden(Step::NotifySupplier, std::slice::from_ref(&got[2].receipt), lease).await.expect("lease");
    pass_time(visibility_s + 1).await;
    assert!(q.receive(Step::NotifySupplier, 10).await.expect("receive").is_empty(), "hidden past the queue's timeout");
    q.keep_hidden(Step::NotifySupplier, std::slice::from_ref(&got[2].receipt), 0).await.expect("let go");
    let mut back = Vec::new();
    for _ in 0..5 {
        back = q.receive(Step::NotifySupplier, 10).await.expect("receive");
        if !back.is_empty() {
            break;
        }
    }
    assert_eq!(back.len(), 1, "visible again once let go");
    assert_eq!((back[0].message_id.as_str(), back[0].receive_count), (got[2].message_id.as_str(), 2));

    // The third is never deleted: it comes back after the visibility timeout, then, past
    // maxReceiveCount, lands in the dead-letter queue.
    let mut receives = 2;
    for _ in 0..(max_receive * 4) {
        pass_time(visibility_s + 1).await;
        let again = q.receive(Step::NotifySupplier, 10).await.expect("receive");
        if again.is_empty() {
            break;
        }
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].message_id, got[2].message_id);
        receives += 1;
    }
    assert_eq!(receives, max_receive, "received exactly maxReceiveCount times");
    let mut dead = Vec::new();
    for _ in 0..5 {
        dead = q.peek_dead_letters(Step::NotifySupplier, 10).await.expect("peek");
        if !dead.is_empty() {
            break;
        }
        pass_time(1).await;
    }
    assert_eq!(dead.len(), 1, "the unprocessed message is in the dead-letter queue");
    assert_eq!(dead[0].body, got[2].body);
    let again = q.peek_dead_letters(Step::NotifySupplier, 10).await.expect("peek again");
    assert_eq!(again.len(), 1, "peeking leaves the dead letters where they are");
    assert_eq!(q.redrive(Step::NotifySupplier, 10).await.expect("redrive"), 1);
    let mut back = Vec::new();
    for _ in 0..5 {
        back = q.receive(Step::NotifySupplier, 10).await.expect("receive");
        if !back.is_empty() {
            break;
        }
    }
    assert_eq!(back.len(), 1, "redriven message is back in its queue");
    assert_eq!(back[0].body, got[2].body);
    q.delete(Step::NotifySupplier, &back[0].receipt).await.expect("delete");
}

pub async fn event_publisher(p: &dyn EventPublisher) {
    let r = new_record(1, Utc::now());
    let events: Vec<DomainEvent> = (0..12)
        .map(|i| {
            DomainEvent::about(
                "contract",
                dropline_domain::order::EventType::OrderReceived,
                &r,
                &i.to_string(),
                serde_json::json!({"i": i}),
                Utc::now(),
            )
        })
        .collect();
    p.publish(&events).await.expect("publish more than one PutEvents batch");
    p.publish(&[]).await.expect("publishing nothing is fine");
}

pub async fn catalog(c: &dyn Catalog, doc: &CatalogDocument) {
    let sku = |s: &str| Sku::new(s).expect("sku");
    let view = c.view(&[sku("TEE-BLK-M"), sku("MUG-WHT"), sku("NOPE"), sku("MUG-WHT")]).await.expect("view");
    assert_eq!(view.offers_for(&sku("TEE-BLK-M")).len(), 1);
    let mugs = view.offers_for(&sku("MUG-WHT"));
    assert_eq!(mugs.len(), 2);
    assert_eq!(mugs[0].supplier_id.as_str(), "beta-eu", "offers keep their catalog order");
    assert!(view.offers_for(&sku("NOPE")).is_empty());
    let mut suppliers: Vec<&str> = view.suppliers.keys().map(|s| s.as_str()).collect();
    suppliers.sort();
    assert_eq!(suppliers, vec!["acme-us", "beta-eu"]);
    let acme = c.supplier(&SupplierId::new("acme-us").expect("id")).await.expect("supplier").expect("exists");
    assert_eq!(&acme, &doc.suppliers[0]);
    assert!(c.supplier(&SupplierId::new("nobody").expect("id")).await.expect("supplier").is_none());
    assert!(c.view(&[]).await.expect("empty view").offers.is_empty());
    let offers = c.offers(&[sku("MUG-WHT"), sku("NOPE")]).await.expect("offers");
    assert_eq!(offers.offers_for(&sku("MUG-WHT")), mugs, "the same offers, without suppliers");
    assert!(offers.suppliers.is_empty());
}

/// Stock reservations: atomic per SKU, idempotent per holder, never more than the limit allows
/// even when many orders race for the same units; an order's holds found by key.
pub async fn stock_ledger<C: Catalog + StockLedger>(c: &C) {
    let sku = Sku::new("HOODIE-GRY-L").expect("sku"); // acme-us has 20
    let acme = SupplierId::new("acme-us").expect("id");
    let at = Utc::now();
    let hold = |holder: &str, quantity: u32| Reservation {
        holder: holder.to_string(),
        sku: sku.clone(),
        supplier_id: acme.clone(),
        quantity,
        at,
    };
    let to_stock = |o: &Offer| HoldLimit::Units(o.stock);
    let order = |tag: &str| OrderId::new(format!("o_{tag:a>16}")).expect("id");
    let holder = |o: &OrderId, seq: u16| Reservation::holder_for(&PurchaseOrderId::new(o.clone(), seq), "1", &acme);
    let order_a = order("a");
    let a = holder(&order_a, 1);

    assert_eq!(c.reserve(&hold(&a, 3), &to_stock).await.expect("reserve"), Reserved::Taken);
    assert_eq!(c.reserve(&hold(&a, 3), &to_stock).await.expect("again"), Reserved::AlreadyHeld, "idempotent");
    let view = c.view(std::slice::from_ref(&sku)).await.expect("view");
    assert_eq!(view.offers_for(&sku)[0].reserved, 3);
    assert!(view.reservations.is_empty(), "a plain view lists no order's holds");
    let own = c.view_for(std::slice::from_ref(&sku), &order_a).await.expect("view for a");
    assert_eq!(own.offers_for(&sku)[0].reserved, 0, "an order's own units are not someone else's");
    assert_eq!(own.reservations, vec![hold(&a, 3)]);

    match c.reserve(&hold(&holder(&order("b"), 1), 18), &to_stock).await.expect("reserve") {
        Reserved::Refused(o) => assert_eq!((o.stock, o.reserved), (20, 3)),
        other => panic!("18 of 17 left: {other:?}"),
    }
    let ghost = Reservation { supplier_id: SupplierId::new("nobody").expect("id"), ..hold(&holder(&order("c"), 1), 1) };
    assert_eq!(c.reserve(&ghost, &to_stock).await.expect("reserve"), Reserved::NoOffer);
    let refused = c.reserve(&hold(&holder(&order("c"), 1), 1), &|_| HoldLimit::Refused).await.expect("reserve");
    assert!(matches!(refused, Reserved::Refused(_)), "a refused limit takes nothing: {refused:?}");

    // Ten orders race for two units each; 17 are left: exactly eight win.
    let racers: Vec<String> = (0..10).map(|i| holder(&order(&format!("race{i}")), 1)).collect();
    let results = futures_util::future::join_all(racers.iter().map(|h| {
        let r = hold(h, 2);
        async move { c.reserve(&r, &to_stock).await }
    }))
    .await;
    let taken = results.iter().filter(|r| matches!(r, Ok(Reserved::Taken))).count();
    let refused = results.iter().filter(|r| matches!(r, Ok(Reserved::Refused(_)))).count();
    assert_eq!((taken, refused), (8, 2), "{results:?}");
    let view = c.view(std::slice::from_ref(&sku)).await.expect("view");
    assert_eq!(view.offers_for(&sku)[0].reserved, 3 + 16);
    // Stock of unknown age, when policy proceeds: no limit.
    let over = holder(&order("d"), 1);
    assert_eq!(c.reserve(&hold(&over, 5), &|_| HoldLimit::Unlimited).await.expect("reserve"), Reserved::Taken);
    assert!(c.release(&sku, &over).await.expect("release"));

    // Release gives units back once; a settlement keeps counting against the snapshot the
    // units came from (the supplier's count does not know of them yet), once.
    assert!(c.release(&sku, &a).await.expect("release"));
    assert!(!c.release(&sku, &a).await.expect("release again"), "nothing left to release");
    let winner = results.iter().zip(&racers).find(|(r, _)| matches!(r, Ok(Reserved::Taken))).expect("a winner").1;
    assert!(c.settle(&sku, winner, Utc::now()).await.expect("settle"));
    assert!(!c.settle(&sku, winner, Utc::now()).await.expect("settle again"));
    let view = c.view(std::slice::from_ref(&sku)).await.expect("view");
    let o = &view.offers_for(&sku)[0];
    assert_eq!((o.stock, o.reserved), (20, 16), "14 held and 2 accepted against the snapshot of 20");
    for h in &racers {
        c.release(&sku, h).await.expect("clean up");
    }

    // Orphans: order a holds under two purchase orders, one of them never saved; releasing
    // its others ends only that one, and no other order's holds.
    let live = holder(&order_a, 2);
    let orphan = holder(&order_a, 3);
    let other = holder(&order("e"), 1);
    for h in [&live, &orphan, &other] {
        assert_eq!(c.reserve(&hold(h, 1), &to_stock).await.expect("reserve"), Reserved::Taken);
    }
    let mut mine: Vec<String> =
        c.holds_of(&order_a, &[sku.clone(), sku.clone()]).await.expect("holds").into_iter().map(|r| r.holder).collect();
    mine.sort();
    let mut expected = vec![live.clone(), orphan.clone()];
    expected.sort();
    assert_eq!(mine, expected, "the order's holds, each once");
    assert_eq!(c.release_others(&sku, &order_a, std::slice::from_ref(&live)).await.expect("orphans"), 1);
    assert_eq!(c.release_others(&sku, &order_a, std::slice::from_ref(&live)).await.expect("again"), 0, "idempotent");
    let mine: Vec<String> =
        c.holds_of(&order_a, std::slice::from_ref(&sku)).await.expect("holds").into_iter().map(|r| r.holder).collect();
    assert_eq!(mine, vec![live.clone()]);
    let view = c.view(std::slice::from_ref(&sku)).await.expect("view");
    assert_eq!(view.offers_for(&sku)[0].reserved, 2 + 2, "live and other held, two accepted");
    c.release(&sku, &live).await.expect("clean up");
    c.release(&sku, &other).await.expect("clean up");
}

/// A SKU with stock enough to be counted in several shards (`BULK-1`: 1,000 units at acme-us):
/// many orders racing take exactly the stock, a line takes from several shards when its own is
/// full, and giving back returns every unit where it came from.
pub async fn stock_ledger_sharded<C: Catalog + StockLedger>(c: &C) {
    let sku = Sku::new("BULK-1").expect("sku");
    let acme = SupplierId::new("acme-us").expect("id");
    let to_stock = |o: &Offer| HoldLimit::Units(o.stock);
    let holder = |i: usize| {
        let o = OrderId::new(format!("o_bulk{i:012}")).expect("id");
        Reservation::holder_for(&PurchaseOrderId::new(o, 1), "1", &acme)
    };
    let hold = |h: String, quantity: u32| Reservation {
        holder: h,
        sku: sku.clone(),
        supplier_id: acme.clone(),
        quantity,
        at: Utc::now(),
    };
    // 40 orders of 30 units race for 1,000: 33 fit (990), whatever shard each one's id picks.
    let results = futures_util::future::join_all((0..40).map(|i| {
        let r = hold(holder(i), 30);
        async move { c.reserve(&r, &to_stock).await }
    }))
    .await;
    let taken: Vec<usize> = (0..40).filter(|i| matches!(results[*i], Ok(Reserved::Taken))).collect();
    let refused = results.iter().filter(|r| matches!(r, Ok(Reserved::Refused(_)))).count();
    assert_eq!((taken.len(), refused), (33, 7), "{results:?}");
    let reserved = |v: CatalogView| v.offers_for(&sku)[0].reserved;
    assert_eq!(reserved(c.view(std::slice::from_ref(&sku)).await.expect("view")), 990);
    // The last 10 units, wherever they are left, go to one order; then nothing is left.
    assert_eq!(c.reserve(&hold(holder(100), 10), &to_stock).await.expect("last"), Reserved::Taken);
    match c.reserve(&hold(holder(101), 1), &to_stock).await.expect("none left") {
        Reserved::Refused(o) => assert_eq!(o.reserved, 1000),
        other => panic!("nothing left: {other:?}"),
    }
    // Giving back and settling: each unit once.
    assert!(c.release(&sku, &holder(100)).await.expect("release"));
    assert!(c.settle(&sku, &holder(taken[0]), Utc::now()).await.expect("settle"));
    assert_eq!(reserved(c.view(std::slice::from_ref(&sku)).await.expect("view")), 990, "30 accepted still count");
    for i in &taken[1..] {
        assert!(c.release(&sku, &holder(*i)).await.expect("release"));
    }
    assert_eq!(reserved(c.view(std::slice::from_ref(&sku)).await.expect("view")), 30);
}

/// The duplicate indexes: orders of one customer (by email, by address) in a time range, with
/// what the duplicate rule needs, kept current as orders change.
pub async fn customer_index(store: &dyn OrderStore) {
    use dropline_domain::validation::duplicates::{CustomerKey, customer_keys, items_key};
    // Indexes keep milliseconds.
    let t0 = DateTime::from_timestamp_millis((Utc::now() - Duration::hours(5)).timestamp_millis()).expect("time");
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("buyer-{tag}@example.com");
    let mut a = new_record(1, t0);
    a.order.contact.email = Some(email.clone());
    a.order.shipping_address.as_mut().expect("address").line1 = format!("1 {tag} Rd");
    a.order.created_at = t0;
    let mut b = new_record(2, t0);
    b.order.contact.email = Some(email.to_uppercase());
    b.order.shipping_address.as_mut().expect("address").line1 = format!("2 {tag} Rd");
    b.order.created_at = t0 + Duration::hours(1);
    b.order.lines.pop();
    let mut c = new_record(3, t0);
    c.order.shipping_address.as_mut().expect("address").line1 = format!("1 {tag} Road");
    c.order.created_at = t0 + Duration::hours(2);
    // The keys validation computes and the order keeps (the store indexes what the record holds).
    let key = dropline_domain::validation::duplicates::FingerprintKey::new("contract");
    for r in [&mut a, &mut b, &mut c] {
        r.customer_keys = customer_keys(&r.order, &key);
        store.create(r).await.expect("create");
    }
    let keys = customer_keys(&a.order, &key);
    let (by_email, by_address) = (&keys[0], &keys[1]);
    assert!(matches!(by_email, CustomerKey::Email(_)) && matches!(by_address, CustomerKey::Address(_)));
    let ids = |v: Vec<dropline_domain::validation::duplicates::PriorOrder>| {
        let mut ids: Vec<String> = v.iter().map(|p| p.id.to_string()).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let range = (t0 - Duration::hours(1), t0 + Duration::hours(3));
    let found = store.same_customer(by_email, range.0, range.1).await.expect("query");
    assert_eq!(ids(found.clone()), sorted(vec![a.id.to_string(), b.id.to_string()]), "same email, any case");
    let a_row = found.iter().find(|p| p.id == a.id).expect("a");
    assert_eq!(
        (a_row.name.as_str(), a_row.status, a_row.placed_at),
        (a.order.name.as_str(), OrderStatus::Received, t0)
    );
    assert_eq!(a_row.items_key, items_key(&a.order));
    let found = store.same_customer(by_address, range.0, range.1).await.expect("query");
    assert_eq!(ids(found), sorted(vec![a.id.to_string(), c.id.to_string()]), "same address, Rd or Road");
    let later = store.same_customer(by_email, t0 + Duration::minutes(30), range.1).await.expect("query");
    assert_eq!(ids(later), vec![b.id.to_string()], "only the range");
    // The index follows the order: a status change shows.
    let mut stored = store.get(&a.id).await.expect("get").expect("a");
    stored.transition(OrderStatus::Cancelled, "test", "", Utc::now()).expect("cancel");
    store.save(&stored).await.expect("save");
    let found = store.same_customer(by_email, range.0, range.1).await.expect("query");
    assert_eq!(found.iter().find(|p| p.id == a.id).map(|p| p.status), Some(OrderStatus::Cancelled));
}

/// The routing configuration store: empty at first; a publish is read back whole; only a
/// higher version replaces the stored one.
pub async fn routing_config_store(s: &dyn dropline_app::ports::RoutingConfigStore) {
    use dropline_app::ports::PortError;
    assert_eq!(s.fetch().await.expect("fetch"), None, "nothing stored yet");
    let v1 = r#"{"version": 1, "zones": {}, "suppliers": []}"#;
    s.publish(1, v1).await.expect("publish v1");
    let got = s.fetch().await.expect("fetch").expect("stored");
    assert_eq!(got.text, v1);
    assert!(!got.source.is_empty(), "a source to name in errors");
    for stale in [0, 1] {
        let e = s.publish(stale, r#"{"version": 0}"#).await.unwrap_err();
        assert!(matches!(e, PortError::Conflict(_)), "version {stale}: {e}");
    }
    assert_eq!(s.fetch().await.expect("fetch").expect("stored").text, v1, "a refused publish changes nothing");
    let v3 = r#"{"version": 3, "zones": {"us": ["US"]}, "suppliers": []}"#;
    s.publish(3, v3).await.expect("publish v3");
    assert_eq!(s.fetch().await.expect("fetch").expect("stored").text, v3);
}

/// Supplier outcomes: each (purchase order, slot) counts once, under redelivery and under
/// concurrent recording; slots of one purchase order count separately; suppliers apart.
pub async fn outcome_ledger(l: &dyn dropline_app::ports::OutcomeLedger) {
    use dropline_domain::performance::{Outcome, OutcomeKind, Outcomes};
    let run = uuid::Uuid::new_v4().simple().to_string();
    let atlas = SupplierId::new(format!("atlas-{}", &run[..8])).expect("id");
    let bolt = SupplierId::new(format!("bolt-{}", &run[..8])).expect("id");
    let fresh = SupplierId::new(format!("fresh-{}", &run[..8])).expect("id");
    let po = |n: u16| PurchaseOrderId::new(OrderId::new(format!("o_{}", &run[..16])).expect("id"), n);
    let outcome =
        |n: u16, supplier: &SupplierId, kind: OutcomeKind| Outcome { po: po(n), supplier_id: supplier.clone(), kind };

    assert!(
        l.measured(std::slice::from_ref(&fresh)).await.expect("measured").is_empty(),
        "nothing counted: nothing measured"
    );
    assert!(l.record(&outcome(1, &atlas, OutcomeKind::Accepted)).await.expect("record"));
    assert!(!l.record(&outcome(1, &atlas, OutcomeKind::Accepted)).await.expect("again"), "a redelivery counts nothing");
    assert!(
        !l.record(&outcome(1, &atlas, OutcomeKind::Rejected)).await.expect("late"),
        "one answer per purchase order: a later, different answer is not counted"
    );
    let shipped = OutcomeKind::Shipped { on_time: false, tracking_hours: 30 };
    assert!(l.record(&outcome(1, &atlas, shipped)).await.expect("shipment"), "another slot of the same purchase order");
    assert!(l.record(&outcome(1, &atlas, OutcomeKind::CancelledAfterAcceptance)).await.expect("cancellation"));
    assert!(l.record(&outcome(2, &atlas, OutcomeKind::AckMissed)).await.expect("ack missed"));

    // Eight invocations record the same outcome at once, and eight more record eight different
    // purchase orders' answers of the same supplier at once.
    let same = outcome(3, &bolt, OutcomeKind::Rejected);
    let counted = futures_util::future::join_all((0..8).map(|_| l.record(&same))).await;
    let counted: Vec<bool> = counted.into_iter().map(|r| r.expect("record")).collect();
    assert_eq!(counted.iter().filter(|c| **c).count(), 1, "counted once: {counted:?}");
    let others: Vec<Outcome> = (10..18).map(|n| outcome(n, &bolt, OutcomeKind::Accepted)).collect();
    let counted = futures_util::future::join_all(others.iter().map(|o| l.record(o))).await;
    assert!(counted.into_iter().all(|r| r.expect("record")), "different purchase orders all count");

    let m = l.measured(&[atlas.clone(), bolt.clone(), fresh.clone()]).await.expect("measured");
    assert_eq!(
        m.get(&atlas).copied(),
        Some(Outcomes {
            answered: 2,
            accepted: 1,
            shipped: 1,
            shipped_on_time: 0,
            cancelled_after_acceptance: 1,
            tracking_hours_total: 30
        })
    );
    assert_eq!(m.get(&bolt).copied(), Some(Outcomes { answered: 9, accepted: 8, ..Outcomes::default() }));
    assert!(!m.contains_key(&fresh));
    assert_eq!(
        l.measured(std::slice::from_ref(&bolt)).await.expect("measured").len(),
        1,
        "only the suppliers asked for"
    );
}

/// The sample catalog with `BULK-1`: 1,000 units at acme-us (several stock counter shards).
pub fn bulk_catalog() -> CatalogDocument {
    let mut doc = sample_catalog_document();
    let mut bulk = doc.offers.iter().find(|o| o.supplier_id.as_str() == "acme-us").cloned().expect("an acme offer");
    bulk.sku = Sku::new("BULK-1").expect("sku");
    bulk.stock = 1000;
    doc.offers.push(bulk.clone());
    // Counted a day ago, in one counter: the SKU [`stock_ledger_over_time`] settles on.
    let mut aged = bulk;
    aged.sku = Sku::new(AGED_SKU).expect("sku");
    aged.stock = 200;
    aged.stock_as_of = Some(Utc::now() - Duration::days(1));
    doc.offers.push(aged);
    doc
}

/// The SKU of [`bulk_catalog`] whose snapshot is a day old.
pub const AGED_SKU: &str = "AGED-1";
/// The minutes [`stock_ledger_over_time`] accepts a unit in, the first this many minutes ago.
pub const AGED_MINUTES: u32 = 90;

/// A unit accepted in each of many minutes and no newer snapshot: every unit keeps counting
/// against the snapshot, once, however the adapter merges the minutes it remembers them by.
/// Returns the first acceptance's time.
pub async fn stock_ledger_over_time<C: Catalog + StockLedger>(c: &C) -> DateTime<Utc> {
    let sku = Sku::new(AGED_SKU).expect("sku");
    let acme = SupplierId::new("acme-us").expect("id");
    let to_stock = |o: &Offer| HoldLimit::Units(o.stock);
    let start = Utc::now() - Duration::minutes(i64::from(AGED_MINUTES));
    for i in 0..AGED_MINUTES {
        let o = OrderId::new(format!("o_aged{i:012}")).expect("id");
        let at = start + Duration::minutes(i64::from(i));
        let r = Reservation {
            holder: Reservation::holder_for(&PurchaseOrderId::new(o, 1), "1", &acme),
            sku: sku.clone(),
            supplier_id: acme.clone(),
            quantity: 1,
            at,
        };
        assert_eq!(c.reserve(&r, &to_stock).await.expect("reserve"), Reserved::Taken, "minute {i}");
        assert!(c.settle(&sku, &r.holder, at).await.expect("settle"), "minute {i}");
        let view = c.view(std::slice::from_ref(&sku)).await.expect("view");
        assert_eq!(view.offers_for(&sku)[0].reserved, i + 1, "every accepted unit counts once, minute {i}");
    }
    start
}
