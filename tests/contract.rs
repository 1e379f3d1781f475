//! The contract suites against both adapters of each port: memory, and AWS on the emulators.

use dropline_adapters::aws::{
    DynamoCatalog, DynamoIdempotencyStore, DynamoOrderStore, EventBridgePublisher, SqsWorkQueue,
};
use dropline_adapters::memory::{
    ManualClock, MemoryCatalog, MemoryEventBus, MemoryIdempotencyStore, MemoryOrderStore, MemoryQueues,
};
use dropline_domain::testing::sample_catalog_document;
use dropline_local::provision::{QueueSettings, provision};
use dropline_tests::contract::{self, PassTime};
use dropline_tests::{aws, unique};
use std::sync::Arc;

#[tokio::test]
async fn order_store_memory() {
    contract::order_store(&MemoryOrderStore::new()).await;
}

#[tokio::test]
async fn order_store_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("ct"), QueueSettings::default()).await.expect("provision");
    contract::order_store(&DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table)).await;
}

#[tokio::test]
async fn customer_index_memory() {
    contract::customer_index(&MemoryOrderStore::new()).await;
}

#[tokio::test]
async fn customer_index_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("ci"), QueueSettings::default()).await.expect("provision");
    contract::customer_index(&DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table)).await;
}

#[tokio::test]
async fn idempotency_memory() {
    contract::idempotency_store(Arc::new(MemoryIdempotencyStore::new())).await;
}

#[tokio::test]
async fn idempotency_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("ct"), QueueSettings::default()).await.expect("provision");
    contract::idempotency_store(Arc::new(DynamoIdempotencyStore::new(
        aws.dynamodb().clone(),
        &infra.idempotency_table,
    )))
    .await;
}

#[tokio::test]
async fn work_queue_memory() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let mut q = MemoryQueues::new(clock.clone());
    q.visibility_timeout = chrono::Duration::seconds(2);
    q.max_receive_count = 3;
    let c = clock.clone();
    let pass: PassTime = Box::new(move |s| {
        c.advance(chrono::Duration::seconds(s as i64));
        Box::pin(async {})
    });
    contract::work_queue(&q, pass, 2, 3).await;
}

#[tokio::test]
async fn work_queue_sqs() {
    let aws = aws().await;
    let settings = QueueSettings { visibility_timeout_s: 1, max_receive_count: 3 };
    let infra = provision(&aws, &unique("ct"), settings).await.expect("provision");
    let mut q = SqsWorkQueue::new(aws.sqs().clone(), infra.queues.clone());
    q.wait_seconds = 0;
    let pass: PassTime = Box::new(|s| Box::pin(tokio::time::sleep(std::time::Duration::from_secs(s))));
    contract::work_queue(&q, pass, 1, 3).await;
}

#[tokio::test]
async fn work_queue_sqs_finds_its_dead_letter_queue_from_the_redrive_policy() {
    use dropline_app::ports::QueueConsumer;
    use dropline_domain::wire::messages::Step;
    let aws = aws().await;
    let infra = provision(&aws, &unique("ct"), QueueSettings::default()).await.expect("provision");
    let mut urls = infra.queues.clone();
    urls.dead_letter_urls.clear();
    let q = SqsWorkQueue::new(aws.sqs().clone(), urls);
    assert!(q.peek_dead_letters(Step::Route, 10).await.expect("peek via RedrivePolicy").is_empty());
}

#[tokio::test]
async fn event_publisher_memory() {
    let bus = MemoryEventBus::new();
    contract::event_publisher(&bus).await;
    assert_eq!(bus.events().len(), 12);
}

#[tokio::test]
async fn event_publisher_eventbridge() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("ct"), QueueSettings::default()).await.expect("provision");
    aws.requests().reset();
    contract::event_publisher(&EventBridgePublisher::new(aws.eventbridge().clone(), &infra.event_bus)).await;
    let calls = aws.requests().snapshot();
    assert_eq!(
        calls.get("EventBridge.PutEvents"),
        Some(&2),
        "12 events in two PutEvents calls, none for an empty list: {calls:?}"
    );
}

#[tokio::test]
async fn catalog_memory() {
    let doc = sample_catalog_document();
    contract::catalog(&MemoryCatalog::new(&doc), &doc).await;
}

#[tokio::test]
async fn stock_ledger_memory() {
    contract::stock_ledger(&MemoryCatalog::new(&sample_catalog_document())).await;
    let bulk = MemoryCatalog::new(&contract::bulk_catalog());
    contract::stock_ledger_sharded(&bulk).await;
    contract::stock_ledger_over_time(&bulk).await;
}

#[tokio::test]
async fn stock_ledger_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("sl"), QueueSettings::default()).await.expect("provision");
    let c = DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table);
    c.load(&contract::bulk_catalog()).await.expect("load");
    contract::stock_ledger(&c).await;
    contract::stock_ledger_sharded(&c).await;
    aged_counter_stays_small(&aws, &infra.catalog_table, &c).await;
    // A newer snapshot, counted after the acceptance, has those units in it: they stop counting,
    // and each shard recounts against it when a hold next finds it behind.
    let bulk = dropline_domain::primitives::ids::Sku::new("BULK-1").unwrap();
    let counted = chrono::Utc::now() + chrono::Duration::minutes(2);
    let patch = |offers: &mut Vec<dropline_domain::catalog::Offer>| {
        for o in offers.iter_mut() {
            o.stock = 970;
            o.stock_as_of = Some(counted);
        }
    };
    assert!(c.patch_offers(&bulk, &patch).await.expect("feed"));
    let reserved = |v: dropline_domain::catalog::CatalogView| v.offers_for(&bulk)[0].reserved;
    let view = dropline_app::ports::Catalog::view(&c, std::slice::from_ref(&bulk)).await.unwrap();
    assert_eq!(reserved(view), 0, "the accepted units are in the newer count");
    use dropline_app::ports::StockLedger;
    use dropline_domain::catalog::{Reservation, Reserved};
    use dropline_domain::stock::HoldLimit;
    let acme = dropline_domain::primitives::ids::SupplierId::new("acme-us").unwrap();
    let hold = |i: u32, quantity| Reservation {
        holder: Reservation::holder_for(
            &dropline_domain::primitives::ids::PurchaseOrderId::new(
                dropline_domain::primitives::ids::OrderId::new(format!("o_feed{i:012}")).unwrap(),
                1,
            ),
            "1",
            &acme,
        ),
        sku: bulk.clone(),
        supplier_id: acme.clone(),
        quantity,
        at: chrono::Utc::now(),
    };
    let to_stock = |o: &dropline_domain::catalog::Offer| HoldLimit::Units(o.stock);
    assert_eq!(c.reserve(&hold(1, 970), &to_stock).await.expect("all of it"), Reserved::Taken);
    match c.reserve(&hold(2, 1), &to_stock).await.expect("none left") {
        Reserved::Refused(o) => assert_eq!((o.stock, o.reserved), (970, 970)),
        other => panic!("{other:?}"),
    }
    assert!(c.release(&bulk, &hold(1, 970).holder).await.expect("release"));
    c.load(&sample_catalog_document()).await.expect("reload");
    let sku = dropline_domain::primitives::ids::Sku::new("HOODIE-GRY-L").unwrap();
    let view = dropline_app::ports::Catalog::view(&c, std::slice::from_ref(&sku)).await.unwrap();
    assert_eq!(view.offers_for(&sku)[0].stock, 20, "loading offers leaves reservations alone");
}

/// A unit accepted in each of 90 minutes: the SKU's counter keeps a bounded number of minutes
/// and stays under 1 KB (one write unit, two in a transaction, however long no snapshot comes);
/// a newer snapshot counted 30 minutes before the last acceptance has the units before it taken
/// off, and at most as many again of the merged minutes counted too many (never too few).
async fn aged_counter_stays_small(aws: &dropline_adapters::aws::AwsClients, table: &str, c: &DynamoCatalog) {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dropline_domain::stock::ACCEPTANCE_BUCKETS_MAX;
    let start = contract::stock_ledger_over_time(c).await;
    let key = format!("STOCK#{}#0", contract::AGED_SKU);
    let got = aws
        .dynamodb()
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(key.clone()))
        .send()
        .await
        .expect("get counter");
    let item = got.item().expect("the counter");
    let buckets = item.keys().filter(|k| k.starts_with("acc#")).count();
    assert!((2..=ACCEPTANCE_BUCKETS_MAX).contains(&buckets), "{buckets} acceptance buckets in {key}");
    // DynamoDB's item size: attribute names plus values (a number: its digits, about).
    let size: usize = item
        .iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => n.len(),
                    _ => 8,
                }
        })
        .sum();
    assert!(size < 1024, "{key} is {size} bytes: {item:?}");
    let sku = dropline_domain::primitives::ids::Sku::new(contract::AGED_SKU).unwrap();
    let counted = start + chrono::Duration::minutes(i64::from(contract::AGED_MINUTES) - 30);
    let feed = |offers: &mut Vec<dropline_domain::catalog::Offer>| {
        for o in offers.iter_mut() {
            o.stock_as_of = Some(counted);
        }
    };
    assert!(c.patch_offers(&sku, &feed).await.expect("feed"));
    let view = dropline_app::ports::Catalog::view(c, std::slice::from_ref(&sku)).await.expect("view");
    let reserved = view.offers_for(&sku)[0].reserved;
    assert!((30..=60).contains(&reserved), "30 units accepted after the newer count; {reserved} counted");
}

#[tokio::test]
async fn catalog_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("ct"), QueueSettings::default()).await.expect("provision");
    let doc = sample_catalog_document();
    let c = DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table);
    c.load(&doc).await.expect("load");
    contract::catalog(&c, &doc).await;
}

#[tokio::test]
async fn outcome_ledger_memory() {
    contract::outcome_ledger(&MemoryCatalog::default()).await;
}

#[tokio::test]
async fn outcome_ledger_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("ol"), QueueSettings::default()).await.expect("provision");
    contract::outcome_ledger(&DynamoCatalog::new(aws.dynamodb().clone(), &infra.catalog_table)).await;
}

#[tokio::test]
async fn routing_config_memory_and_file() {
    contract::routing_config_store(&dropline_adapters::memory::MemoryRoutingConfig::new()).await;
    let dir = std::env::temp_dir().join(unique("routing"));
    std::fs::create_dir_all(&dir).expect("dir");
    contract::routing_config_store(&dropline_adapters::memory::MemoryRoutingConfig::file(dir.join("routing.json")))
        .await;
}

#[tokio::test]
async fn routing_config_dynamodb() {
    let aws = aws().await;
    let infra = provision(&aws, &unique("rc"), QueueSettings::default()).await.expect("provision");
    let store = dropline_adapters::aws::DynamoRoutingConfig::new(aws.dynamodb().clone(), &infra.catalog_table);
    contract::routing_config_store(&store).await;
}

#[tokio::test]
async fn routing_config_ssm() {
    let aws = aws().await;
    let name = format!("/dropline/{}/routing", unique("rc"));
    contract::routing_config_store(&dropline_adapters::aws::SsmRoutingConfig::new(aws.ssm().clone(), name)).await;
}

#[tokio::test]
async fn a_bad_configuration_is_rejected_whole_and_routing_keeps_the_loaded_one() {
    use dropline_app::caches::{ConfigCache, LoadError};
    use dropline_app::ports::RoutingConfigStore;
    let aws = aws().await;
    let infra = provision(&aws, &unique("rk"), QueueSettings::default()).await.expect("provision");
    let store =
        Arc::new(dropline_adapters::aws::DynamoRoutingConfig::new(aws.dynamodb().clone(), &infra.catalog_table));
    let cache = ConfigCache::new(store.clone(), std::time::Duration::ZERO);
    assert!(matches!(cache.get().await, Err(LoadError::Missing(_))));
    let mut bad: serde_json::Value = serde_json::from_str(dropline_local::demo::ROUTING).unwrap();
    bad["version"] = serde_json::json!(1);
    bad["suppliers"][0]["tier"] = serde_json::json!("whenever");
    store.publish(1, &bad.to_string()).await.expect("publish");
    let e = cache.get().await.unwrap_err().to_string();
    assert!(e.contains("suppliers[0].tier"), "{e}");
    assert!(e.contains(&infra.catalog_table), "names where it came from: {e}");
    store
        .publish(2, &dropline_local::demo::ROUTING.replace("\"version\": 1", "\"version\": 2"))
        .await
        .expect("publish");
    assert_eq!(cache.get().await.expect("good").version, 2);
    bad["version"] = serde_json::json!(3);
    store.publish(3, &bad.to_string()).await.expect("publish");
    assert_eq!(cache.get().await.expect("kept").version, 2, "the bad version 3 is not half applied");
}

/// Orders stored before the `by-status` index was sharded (no `status_shard`) are out of the
/// index; `dropline upgrade status-index`'s backfill puts them back, leaves orders of today's
/// layout alone, and finds nothing to do when run again.
#[tokio::test]
async fn the_status_index_backfill_brings_old_orders_back_into_the_index_on_dynamodb() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dropline_adapters::aws::Backfill;
    use dropline_app::ports::OrderStore;
    use dropline_domain::order::OrderStatus;
    let aws = aws().await;
    let infra = provision(&aws, &unique("bf"), QueueSettings::default()).await.expect("provision");
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table);
    let since = chrono::Utc::now() - chrono::Duration::hours(3);
    let old_ids = ["o_0LDHELD000000001", "o_0LDHELD000000002"];
    for id in old_ids {
        aws.dynamodb()
            .put_item()
            .table_name(&infra.orders_table)
            .item("pk", AttributeValue::S(id.into()))
            .item("version", AttributeValue::N("3".into()))
            .item("status", AttributeValue::S(OrderStatus::OnHold.as_str().into()))
            .item("status_since", AttributeValue::N(since.timestamp_millis().to_string()))
            .item("body", AttributeValue::S("{}".into()))
            .send()
            .await
            .expect("old item");
    }
    let held = || async {
        let rows =
            store.in_status_since_before(OrderStatus::OnHold, chrono::Utc::now(), 100, None).await.expect("query");
        let mut ids: Vec<String> = rows.into_iter().map(|r| r.id.to_string()).collect();
        ids.sort();
        ids
    };
    assert!(held().await.is_empty(), "out of the sharded index before the backfill");
    let dry = store.backfill_status_shards(true).await.expect("dry run");
    assert_eq!(dry, Backfill { found: 2, written: 0, changed_meanwhile: 0 });
    assert!(held().await.is_empty(), "a dry run writes nothing");
    let done = store.backfill_status_shards(false).await.expect("backfill");
    assert_eq!(done, Backfill { found: 2, written: 2, changed_meanwhile: 0 });
    assert_eq!(held().await, old_ids.map(String::from).to_vec(), "back in the index");
    let item = aws
        .dynamodb()
        .get_item()
        .table_name(&infra.orders_table)
        .key("pk", AttributeValue::S(old_ids[0].into()))
        .send()
        .await
        .expect("get")
        .item
        .expect("item");
    assert_eq!(item.get("version"), Some(&AttributeValue::N("3".into())), "the version is not touched");
    assert_eq!(store.backfill_status_shards(false).await.expect("again"), Backfill::default(), "nothing left");
}

/// An orders item as the layout before the three crates wrote it (`pk`, `version`, `status`,
/// `status_since`, `body` and the projected keys) reads with today's store, and saving it
/// writes the same attributes with the record as its `body`.
#[tokio::test]
async fn an_orders_item_of_the_old_layout_reads_and_saves_unchanged_on_dynamodb() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dropline_app::ports::OrderStore;
    use dropline_domain::order::OrderRecord;
    let aws = aws().await;
    let infra = provision(&aws, &unique("ol"), QueueSettings::default()).await.expect("provision");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/old-layout/orders.json");
    let fixtures: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let old = fixtures.iter().find(|r| r["status"] == "DELIVERED").expect("a delivered order").clone();
    let (id, version) = (old["id"].as_str().expect("id"), old["version"].as_u64().expect("version"));
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: i64| AttributeValue::N(v.to_string());
    let since = chrono::DateTime::parse_from_rfc3339(old["status_since"].as_str().expect("since")).expect("time");
    aws.dynamodb()
        .put_item()
        .table_name(&infra.orders_table)
        .item("pk", s(id))
        .item("version", n(version as i64))
        .item("status", s("DELIVERED"))
        .item("status_since", n(since.timestamp_millis()))
        .item("body", s(&old.to_string()))
        .send()
        .await
        .expect("old item written");
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table);
    let id = dropline_domain::primitives::ids::OrderId::new(id).expect("id");
    let record = store.get(&id).await.expect("reads").expect("found");
    let expected: OrderRecord = serde_json::from_value(old.clone()).expect("fixture reads");
    assert_eq!(record, expected);

    store.save(&record).await.expect("saves at the stored version");
    let item = aws
        .dynamodb()
        .get_item()
        .table_name(&infra.orders_table)
        .key("pk", s(id.as_str()))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .expect("item");
    let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
    names.sort_unstable();
    for attr in ["items_key", "order_name", "pk", "placed_at", "status", "status_since", "version"] {
        assert!(names.contains(&attr), "{attr} missing from {names:?}");
    }
    assert_eq!(item["version"], n(version as i64 + 1));
    assert_eq!(item["status"], s("DELIVERED"));
    // Saved as this version stores bodies: past one write unit, deflated.
    let json = match (item.get("body"), item.get("body_z")) {
        (Some(text), None) => text.as_s().expect("text").clone(),
        (None, Some(z)) => {
            dropline_adapters::aws::StoredBody::inflate(z.as_b().expect("bytes").as_ref()).expect("inflates")
        }
        other => panic!("one body: {other:?}"),
    };
    let body: OrderRecord = serde_json::from_str(&json).expect("body reads");
    assert_eq!(body, OrderRecord { version: version + 1, ..expected });
}

/// Orders written before the due indexes were sharded carry the one bucket `DUE`: a shipped
/// parcel's order gets no write until it is checked, so the sweeps must still find it there
/// (the whole sweep, or the first of its slices only), and the outbox sweep likewise.
#[tokio::test]
async fn orders_in_the_unsharded_due_buckets_are_still_swept_on_dynamodb() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dropline_app::ports::OrderStore;
    use dropline_app::sharding::Slice;
    let aws = aws().await;
    let infra = provision(&aws, &unique("ub"), QueueSettings::default()).await.expect("provision");
    let due = chrono::Utc::now() - chrono::Duration::hours(1);
    let ms = AttributeValue::N(due.timestamp_millis().to_string());
    let id = "o_0000000000000abc";
    aws.dynamodb()
        .put_item()
        .table_name(&infra.orders_table)
        .item("pk", AttributeValue::S(id.into()))
        .item("tracking_bucket", AttributeValue::S("DUE".into()))
        .item("tracking_due_at", ms.clone())
        .item("outbox_bucket", AttributeValue::S("DUE".into()))
        .item("outbox_due_at", ms)
        .send()
        .await
        .expect("old item written");
    let store = DynamoOrderStore::new(aws.dynamodb().clone(), &infra.orders_table);
    let now = chrono::Utc::now();
    let ids =
        |rows: Vec<dropline_app::ports::IndexPosition>| rows.into_iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(store.tracking_due(now, 10, None, Slice::ALL).await.expect("query")), [id]);
    let first = Slice::new(0, 4).expect("slice");
    let second = Slice::new(1, 4).expect("slice");
    assert_eq!(ids(store.tracking_due(now, 10, None, first).await.expect("query")), [id]);
    assert!(store.tracking_due(now, 10, None, second).await.expect("query").is_empty(), "one slice takes it");
    assert_eq!(ids(store.outbox_due(now, 10, None).await.expect("query")), [id]);
}
