//! The load run: many orders through the whole pipeline on the emulators, a share of them on
//! one hot SKU, with every DynamoDB call metered (consumed capacity, and the write units each
//! partition key took). Its figures are per order, so a short run and a long one agree; the
//! bench's run is the long one (`make load`), `tests/scale.rs` runs a short slice.

use crate::{SHOPIFY_SECRET, Stack, StackOptions};
use dropline_adapters::aws::{CapacityMeter, Metered};
use dropline_app::ports::OrderStore;
use dropline_domain::catalog::{CatalogDocument, Offer};
use dropline_domain::order::OrderStatus;
use dropline_domain::primitives::ids::{OrderId, Sku};
use dropline_domain::tracking::TrackingStatus;
use dropline_local::demo::Delivery;
use std::time::{Duration, Instant};

/// DynamoDB's write limit per partition (write units per second).
pub const PARTITION_WRITE_LIMIT: f64 = 1000.0;
/// The rate the figures are scaled to.
pub const DESIGN_ORDERS_PER_SECOND: f64 = 1000.0;
/// The SKU a share of the orders buy.
pub const HOT_SKU: &str = "LOAD-HOT";
/// The template order's SKU, whose offers the load SKUs copy.
const TEMPLATE_SKU: &str = "TEE-BLK-M";

/// Tracking sweeps per batch before its orders count as stuck (the carrier's journeys end
/// within a few days of 6-hour steps).
const MAX_TRACKING_ROUNDS: usize = 40;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    pub orders: usize,
    /// The share of orders on `HOT_SKU` (the rest spread over `skus` others).
    pub hot_share: f64,
    pub skus: usize,
    /// Orders in flight through ingest at once, and per pipeline round.
    pub batch: usize,
}

impl Default for LoadPlan {
    fn default() -> Self {
        Self { orders: 20_000, hot_share: 0.3, skus: 500, batch: 250 }
    }
}

/// What a load run measured.
#[derive(Debug)]
pub struct LoadRun {
    pub plan: LoadPlan,
    pub delivered: usize,
    /// Orders whose parcel the simulated carrier reported lost or returned.
    pub exceptions: usize,
    /// The orders not delivered by the end, by status.
    pub undelivered: std::collections::BTreeMap<String, usize>,
    /// Every order of the run, to tell the keys of one order from the keys orders share.
    pub order_ids: std::collections::HashSet<String>,
    pub elapsed: Duration,
    pub metered: Metered,
}

/// Every SKU's name in the run: the hot one, then `skus` others.
pub fn load_skus(skus: usize) -> Vec<String> {
    std::iter::once(HOT_SKU.to_string()).chain((0..skus).map(cold_sku)).collect()
}

/// The demo catalog with the load SKUs, each offered as the template SKU is, with stock for
/// any run.
pub fn load_catalog(mut doc: CatalogDocument, skus: usize) -> CatalogDocument {
    let template: Vec<Offer> = doc.offers.iter().filter(|o| o.sku.as_str() == TEMPLATE_SKU).cloned().collect();
    for name in load_skus(skus) {
        for o in &template {
            let mut copy = o.clone();
            copy.sku = Sku::new(&name).expect("load SKU");
            copy.supplier_sku = format!("{}-{name}", o.supplier_sku);
            copy.stock = LOAD_STOCK;
            doc.offers.push(copy);
        }
    }
    doc
}

/// The `i`th order: the demo's one-line US order, its customer and SKU made the run's own (a
/// customer per order, so no order looks like another's duplicate).
pub fn load_delivery(i: usize, sku: &str) -> Delivery {
    let mut d = crate::shopify_delivery();
    let id = 7_000_000_000_000u64 + i as u64;
    d.delivery_id = format!("load-{i}");
    let p = d.payload.as_mut().expect("payload");
    p["id"] = serde_json::json!(id);
    p["admin_graphql_api_id"] = serde_json::json!(format!("gid://shopify/Order/{id}"));
    p["name"] = serde_json::json!(format!("#L{i}"));
    p["order_number"] = serde_json::json!(100_000 + i);
    let email = format!("load.{i}@example.com");
    p["email"] = serde_json::json!(email);
    p["contact_email"] = serde_json::json!(email);
    p["customer"]["email"] = serde_json::json!(email);
    p["customer"]["id"] = serde_json::json!(8_000_000_000_000u64 + i as u64);
    for a in ["shipping_address", "billing_address"] {
        p[a]["address1"] = serde_json::json!(format!("{} Cedar Glen Dr", 100 + i));
    }
    p["line_items"][0]["sku"] = serde_json::json!(sku);
    d
}

/// Which SKU the `i`th order buys: every order whose slot in a window of 10 falls under the
/// hot share buys the hot SKU, the others cycle through the rest.
pub fn sku_of(i: usize, plan: &LoadPlan) -> String {
    let hot_in_ten = (plan.hot_share * 10.0).round() as usize;
    if i % 10 < hot_in_ten { HOT_SKU.to_string() } else { cold_sku((i * 7919) % plan.skus.max(1)) }
}

fn cold_sku(i: usize) -> String {
    format!("LOAD-{i:04}")
}

/// A stack on the emulators whose DynamoDB calls report to `meter`, with the load catalog.
pub async fn load_stack(meter: &CapacityMeter, plan: &LoadPlan) -> Stack {
    let base = dropline_local::demo::catalog().expect("demo catalog");
    Stack::start(StackOptions {
        meter: Some(meter.clone()),
        catalog: Some(load_catalog(base, plan.skus)),
        lease_messages: true,
        ..Default::default()
    })
    .await
}

/// Runs `plan` through `stack`: each batch posted to ingest over HTTP, pumped through
/// validate, route and notify-supplier, the suppliers' callbacks delivered, then the tracking
/// sweep run (the clock moved on) until the batch is delivered. The meter is reset after the
/// setup, so it measures the orders only.
pub async fn run(stack: &Stack, meter: &CapacityMeter, plan: LoadPlan) -> LoadRun {
    // The run's own checks read through a client of their own, outside the meter.
    let observer = crate::aws().await;
    let store = dropline_adapters::aws::DynamoOrderStore::new(observer.dynamodb().clone(), &stack.infra.orders_table);
    meter.reset();
    let started = Instant::now();
    let mut delivered = 0;
    let mut exceptions = 0;
    let mut order_ids = std::collections::HashSet::new();
    let mut undelivered = std::collections::BTreeMap::new();
    let mut next = 0;
    while next < plan.orders {
        // The suppliers sign their callbacks with the real time, which ingest checks against
        // the clock: each batch starts on it.
        stack.clock.set(chrono::Utc::now());
        let end = (next + plan.batch).min(plan.orders);
        let ids = post_batch(stack, next..end, &plan).await;
        order_ids.extend(ids.iter().map(|i| i.to_string()));
        stack.settle().await;
        stack.suppliers.deliver_callbacks().await;
        stack.settle().await;
        let mut pending: Vec<OrderId> = ids;
        for _ in 0..MAX_TRACKING_ROUNDS {
            if pending.is_empty() {
                break;
            }
            stack.clock.advance(chrono::Duration::hours(6));
            stack.pipeline.poll_tracking().await;
            let mut still = Vec::new();
            for id in pending {
                match store.get(&id).await.expect("get order") {
                    Some(r) if r.status == OrderStatus::Delivered => delivered += 1,
                    // The simulated carrier loses some parcels: their journey ends there.
                    Some(r)
                        if r.purchase_orders
                            .iter()
                            .any(|p| p.shipment.as_ref().is_some_and(|s| s.status == TrackingStatus::Exception)) =>
                    {
                        exceptions += 1
                    }
                    _ => still.push(id),
                }
            }
            pending = still;
        }
        for id in pending {
            let status = store.get(&id).await.expect("get order").map(|r| r.status.as_str().to_string());
            *undelivered.entry(status.unwrap_or_else(|| "missing".into())).or_default() += 1;
        }
        next = end;
    }
    LoadRun {
        plan,
        delivered,
        exceptions,
        undelivered,
        order_ids,
        elapsed: started.elapsed(),
        metered: meter.snapshot(),
    }
}

async fn post_batch(stack: &Stack, range: std::ops::Range<usize>, plan: &LoadPlan) -> Vec<OrderId> {
    use futures_util::StreamExt;
    let posts = range.map(|i| {
        let d = load_delivery(i, &sku_of(i, plan));
        async move {
            let (status, body) = stack.post_delivery(&d, SHOPIFY_SECRET).await;
            assert_eq!(status, 200, "order {i}: {body}");
            OrderId::new(body["order_id"].as_str().expect("order id")).expect("order id")
        }
    });
    futures_util::stream::iter(posts).buffer_unordered(8).collect().await
}

/// One partition key's load at the design rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Heat {
    /// `table` or `table/index`.
    pub space: String,
    pub key: String,
    /// Whether orders share the key (its load grows with the order rate), or it is one
    /// order's (an order item, a delivery's idempotency record, a purchase order's marker).
    pub shared: bool,
    pub write_units_per_order: f64,
    /// Write units per second at `DESIGN_ORDERS_PER_SECOND`: a shared key's units per order
    /// times the rate; one order's key, the most it took in any second of the run (its load
    /// does not grow with the rate).
    pub at_design_rate: f64,
    /// Its share of `PARTITION_WRITE_LIMIT` at that rate.
    pub share: f64,
}

/// Whether the key belongs to one order of the run: it names the order (or one of its
/// purchase orders), or it is an idempotency record (one delivery or message each).
fn one_orders(run: &LoadRun, space: &str, key: &str) -> bool {
    if space.ends_with("-idempotency") {
        return true;
    }
    key.match_indices("o_").any(|(i, _)| key.get(i..i + 18).is_some_and(|id| run.order_ids.contains(id)))
}

/// Every partition key's load at the design rate, hottest first.
pub fn heat(run: &LoadRun, n: usize) -> Vec<Heat> {
    let orders = run.plan.orders.max(1) as f64;
    let mut all: Vec<Heat> = run
        .metered
        .heat
        .iter()
        .map(|((space, key), h)| {
            let per_order = h.write_units / orders;
            let shared = !one_orders(run, space, key);
            let rate = if shared { per_order * DESIGN_ORDERS_PER_SECOND } else { h.peak_per_second };
            Heat {
                space: space.clone(),
                key: key.clone(),
                shared,
                write_units_per_order: per_order,
                at_design_rate: rate,
                share: rate / PARTITION_WRITE_LIMIT,
            }
        })
        .collect();
    all.sort_by(|a, b| b.at_design_rate.total_cmp(&a.at_design_rate).then_with(|| a.key.cmp(&b.key)));
    all.truncate(n);
    all
}

/// A shared key's family: the key without its shard suffix (`DUE#17` -> `DUE`), and how many
/// shards the family has (none for a key that is not sharded).
/// Every load SKU's stock at each supplier: more than any run takes.
pub const LOAD_STOCK: u32 = 10_000_000;

fn family(space: &str, key: &str) -> (String, Option<u32>) {
    use dropline_adapters::aws::shards::{DUE_SHARDS, STATUS_SHARDS};
    let stem = match key.rsplit_once('#') {
        Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => return (key.to_string(), None),
    };
    let shards = if space.ends_with("/by-status") {
        Some(STATUS_SHARDS)
    } else if space.ends_with("/tracking-due") || space.ends_with("/outbox-due") {
        Some(DUE_SHARDS)
    } else if stem.starts_with("PERFORMANCE#") {
        Some(dropline_adapters::aws::PERFORMANCE_SHARDS)
    } else if stem.starts_with("STOCK#") {
        Some(dropline_domain::stock::shards_for(LOAD_STOCK))
    } else {
        None
    };
    match shards {
        Some(k) => (stem.to_string(), Some(k)),
        None => (key.to_string(), None),
    }
}

/// Each sharded family's load per shard at the design rate, if its writes spread evenly over
/// its shards (a short run sees too few orders per shard for its hottest shard to say that),
/// hottest first: (space, family, shards, share of the partition limit).
pub fn expected_shard_heat(run: &LoadRun) -> Vec<(String, String, u32, f64)> {
    let orders = run.plan.orders.max(1) as f64;
    let mut families: std::collections::BTreeMap<(String, String), (u32, f64)> = Default::default();
    for ((space, key), h) in &run.metered.heat {
        if one_orders(run, space, key) {
            continue;
        }
        if let (stem, Some(k)) = family(space, key) {
            families.entry((space.clone(), stem)).or_insert((k, 0.0)).1 += h.write_units;
        }
    }
    let mut out: Vec<_> = families
        .into_iter()
        .map(|((space, stem), (k, units))| {
            let share = units / orders * DESIGN_ORDERS_PER_SECOND / f64::from(k) / PARTITION_WRITE_LIMIT;
            (space, stem, k, share)
        })
        .collect();
    out.sort_by(|a, b| b.3.total_cmp(&a.3));
    out
}

/// Whether the key is one of a sharded family (its share is judged spread over the family).
pub fn is_sharded(space: &str, key: &str) -> bool {
    family(space, key).1.is_some()
}

/// The load run's report: units per order per table and index, the hottest keys, and the line
/// the bench reports (`hottest partition key: NN% of the per-partition write limit at 1,000
/// orders/s`).
pub fn report(run: &LoadRun) -> String {
    use std::fmt::Write;
    let orders = run.plan.orders.max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} orders ({}% on {HOT_SKU}, the rest over {} SKUs), {} delivered, {} lost by the carrier, in {:.1} s ({:.1} orders/s on the emulators)",
        run.plan.orders,
        (run.plan.hot_share * 100.0).round(),
        run.plan.skus,
        run.delivered,
        run.exceptions,
        run.elapsed.as_secs_f64(),
        orders / run.elapsed.as_secs_f64().max(1e-9)
    );
    if !run.undelivered.is_empty() {
        let _ = writeln!(out, "not delivered, by status: {:?}", run.undelivered);
    }
    let _ = writeln!(out, "capacity per order (from ReturnConsumedCapacity):");
    for (space, u) in &run.metered.units {
        let _ =
            writeln!(out, "  {space:<52} {:>7.2} write units  {:>7.2} read units", u.write / orders, u.read / orders);
    }
    let _ = writeln!(
        out,
        "  {:<52} {:>7.2} write units  {:>7.2} read units  ({} refused conditional writes)",
        "total",
        run.metered.write_units() / orders,
        run.metered.read_units() / orders,
        run.metered.refused_writes
    );
    let _ = writeln!(out, "hottest partition keys, scaled to {DESIGN_ORDERS_PER_SECOND} orders/s:");
    let all = heat(run, usize::MAX);
    let (sharded, single): (Vec<&Heat>, Vec<&Heat>) = all.iter().partition(|h| is_sharded(&h.space, &h.key));
    for h in single.iter().take(8).chain(sharded.iter().take(2)) {
        let _ = writeln!(
            out,
            "  {:<40} {:<44} {:<10} {:>6.3} units/order {:>7.1} WCU/s {:>5.1}%",
            h.space,
            truncate(&h.key, 44),
            if is_sharded(&h.space, &h.key) {
                "a shard"
            } else if h.shared {
                "shared"
            } else {
                "one order"
            },
            h.write_units_per_order,
            h.at_design_rate,
            h.share * 100.0
        );
    }
    let _ = writeln!(out, "sharded keys, each family's writes spread over its shards:");
    let spread = expected_shard_heat(run);
    for (space, stem, k, share) in spread.iter().take(6) {
        let _ = writeln!(out, "  {space:<40} {stem:<44} {k:>4} shards {:>5.1}% each", share * 100.0);
    }
    // A shard of a short run sees a handful of orders, so its own peak says little: the family
    // is judged by its writes spread over its shards, until each shard has seen enough orders
    // (MIN_ORDERS_PER_SHARD) for its own figure to count.
    let enough = run.plan.orders as f64 / f64::from(dropline_adapters::aws::shards::DUE_SHARDS) >= MIN_ORDERS_PER_SHARD;
    let top_single = single.first().map_or(0.0, |h| h.share);
    let top_sharded =
        if enough { sharded.first().map_or(0.0, |h| h.share) } else { spread.first().map_or(0.0, |s| s.3) };
    let top = top_single.max(top_sharded) * 100.0;
    let basis = if enough { "each shard as measured" } else { "shards judged by their family's spread" };
    let _ =
        writeln!(out, "hottest partition key: {top:.0}% of the per-partition write limit at 1,000 orders/s ({basis})");
    out
}

/// Orders each shard of the widest sharded family must see before its own peak is reported.
pub const MIN_ORDERS_PER_SHARD: f64 = 50.0;

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}
