//! `make bench`: Dropline's measurements. Sections (all by default):
//!
//! * `cpu`: parse + validate + route of a 3-line order against a 100k-SKU catalog; the ingest
//!   handler's own work (signature, parse, mapping, record) on memory adapters.
//! * `init`: each release binary, exec to its first Runtime API poll, and its size.
//! * `latency`: ingest over HTTP against the emulators, p50 / p99.
//! * `requests`: AWS requests per order on the happy path, by service and operation.
//! * `bill`: the AWS bill per 1,000 orders at list prices, from a run's real requests.
//! * `sweep`: poll-tracking's checks per minute in one invocation against a carrier that takes
//!   200 ms per answer (memory adapters, the template's batch size and concurrency).
//!
//! `init`, `latency` and `requests` need the emulators (`scripts/bench.sh` starts them).
//! Nothing here asserts a time: it measures and prints.

/// The functions' allocator (their main.rs), so that the CPU figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::Utc;
use dropline_adapters::memory::{
    ManualClock, MemoryCatalog, MemoryEventBus, MemoryIdempotencyStore, MemoryOrderStore, MemoryQueues,
};
use dropline_domain::catalog::{CatalogDocument, Offer, Supplier};
use dropline_domain::order::ServiceLevel;
use dropline_domain::primitives::ids::{Sku, SupplierId};
use dropline_domain::primitives::money::Money;
use dropline_domain::routing::config::RoutingConfig;
use dropline_domain::routing::{Request, route};
use dropline_domain::validation::{UnknownStock, ValidationPolicy, validate};
use dropline_domain::wire::channels::shopify_order;
use dropline_domain::wire::secrets::SecretBook;
use dropline_domain::wire::signature;
use dropline_ingest::{Ingest, WebRequest};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CATALOG_SKUS: usize = 100_000;
const SUPPLIERS: usize = 50;

fn sku_name(i: usize) -> String {
    format!("SKU-{i:06}")
}

/// 100k SKUs, 50 suppliers, 1 to 3 offers per SKU.
fn big_catalog() -> CatalogDocument {
    let countries = ["US", "CA", "GB", "DE", "FR", "AU", "NL", "ES", "IT", "JP"];
    let suppliers: Vec<Supplier> = (0..SUPPLIERS)
        .map(|i| {
            Supplier::new(
                SupplierId::new(format!("supplier-{i:02}")).expect("id"),
                format!("Supplier {i}"),
                // Everyone ships to the US (the bench order's destination) and to three more countries.
                std::iter::once("US")
                    .chain(countries.iter().copied().cycle().skip(1 + i % 9).take(3))
                    .map(String::from)
                    .collect(),
                format!("https://supplier-{i}.example.com/po"),
            )
        })
        .collect();
    let mut offers = Vec::with_capacity(CATALOG_SKUS * 2);
    for i in 0..CATALOG_SKUS {
        for k in 0..(1 + i % 3) {
            let s = (i * 7 + k * 13) % SUPPLIERS;
            offers.push(Offer::new(
                Sku::new(sku_name(i)).expect("sku"),
                suppliers[s].id.clone(),
                format!("S{s}-{i}"),
                20 + ((i * 31 + k) % 480) as u32,
                Money::parse("7.25").expect("money"),
            ));
        }
    }
    CatalogDocument { suppliers, offers }
}

/// The routing configuration of the bench catalog's 50 suppliers: one zone per country, each
/// supplier with its own time zone, cut-off, tier, transit and costs.
fn bench_routing(doc: &CatalogDocument) -> RoutingConfig {
    let zones: std::collections::BTreeMap<String, Vec<String>> =
        ["US", "CA", "GB", "DE", "FR", "AU", "NL", "ES", "IT", "JP"]
            .iter()
            .map(|c| (c.to_lowercase(), vec![c.to_string()]))
            .collect();
    let tzs = ["America/Chicago", "America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Sydney"];
    let tiers = ["same_day", "one_day", "two_days"];
    let suppliers: Vec<serde_json::Value> = doc
        .suppliers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let dest: Vec<String> = s.ships_to.iter().map(|c| c.to_lowercase()).collect();
            let standard: serde_json::Map<String, serde_json::Value> = dest
                .iter()
                .map(|z| {
                    (
                        z.clone(),
                        serde_json::json!({"transit": [2 + i % 3, 5 + i % 4], "cost": format!("{}.50", 4 + i % 7)}),
                    )
                })
                .collect();
            serde_json::json!({
                "id": s.id, "tier": tiers[i % 3],
                "calendar": {"time_zone": tzs[i % 5], "cutoff": "14:00", "holidays": ["2026-12-25"]},
                "ships_from": "US", "destinations": dest, "services": {"standard": standard},
                "order_fee": format!("{}.00", i % 3), "preference": 1.0 + (i % 5) as f64 / 10.0
            })
        })
        .collect();
    let text = serde_json::json!({"version": 1, "zones": zones, "suppliers": suppliers}).to_string();
    RoutingConfig::parse("bench-routing.json", &text).expect("bench routing configuration")
}

fn shopify_body(id: u64, skus: [&str; 3]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": id, "name": format!("#{}", 1000 + id % 100000), "email": "buyer@example.com", "phone": null,
        "created_at": "2026-11-20T09:12:44-05:00", "updated_at": "2026-11-20T09:12:45-05:00",
        "currency": "USD", "total_price": "86.48", "subtotal_price": "76.48", "total_tax": "5.00",
        "total_discounts": "0.00", "financial_status": "paid", "cancelled_at": null, "test": false, "tags": "",
        "line_items": [
            {"id": 1, "variant_id": 11, "product_id": 111, "sku": skus[0], "title": "Tee", "variant_title": "Black / M", "quantity": 2, "price": "19.99", "requires_shipping": true, "grams": 200},
            {"id": 2, "variant_id": 12, "product_id": 112, "sku": skus[1], "title": "Mug", "variant_title": null, "quantity": 1, "price": "12.50", "requires_shipping": true, "grams": 400},
            {"id": 3, "variant_id": 13, "product_id": 113, "sku": skus[2], "title": "Hoodie", "variant_title": "L", "quantity": 1, "price": "24.00", "requires_shipping": true, "grams": 600}
        ],
        "shipping_address": {"first_name": "Ada", "last_name": "Byron", "address1": "12 Main St", "address2": "", "city": "Springfield", "province": "Illinois", "province_code": "IL", "zip": "62701", "country": "United States", "country_code": "US", "phone": "555-0100"},
        "shipping_lines": [{"code": "standard", "title": "Standard", "price": "5.00"}],
        "customer": {"id": 9, "email": "buyer@example.com"}
    }))
    .expect("json")
}

/// Runs `f` `n` times per round for `rounds` rounds; returns (median, best) mean time per call.
fn measure(rounds: usize, n: usize, mut f: impl FnMut(usize)) -> (Duration, Duration) {
    for i in 0..n.min(1000) {
        f(i);
    }
    let mut per_call: Vec<Duration> = (0..rounds)
        .map(|r| {
            let start = Instant::now();
            for i in 0..n {
                f(r * n + i);
            }
            start.elapsed() / n as u32
        })
        .collect();
    per_call.sort();
    (per_call[rounds / 2], per_call[0])
}

fn us(d: Duration) -> String {
    format!("{:.2} us", d.as_secs_f64() * 1e6)
}

/// The CPU section's order and catalog: a 3-line Shopify order against 100k SKUs from 50
/// suppliers, every supplier with a history.
struct CpuFixture {
    doc: CatalogDocument,
    catalog: MemoryCatalog,
    skus: [String; 3],
    body: Vec<u8>,
    policy: ValidationPolicy,
    config: RoutingConfig,
    measured: dropline_domain::performance::Measured,
    now: chrono::DateTime<Utc>,
}

impl CpuFixture {
    fn new() -> Self {
        let doc = big_catalog();
        let catalog = MemoryCatalog::new(&doc);
        let skus = [sku_name(123), sku_name(50_001), sku_name(99_998)];
        let body = shopify_body(4_500_000_001, [&skus[0], &skus[1], &skus[2]]);
        let config = bench_routing(&doc);
        let measured = doc
            .suppliers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = 100 + i as u32;
                let o = dropline_domain::performance::Outcomes {
                    answered: n,
                    accepted: n - 3,
                    shipped: n - 5,
                    shipped_on_time: n - 9,
                    cancelled_after_acceptance: 1,
                    tracking_hours_total: u64::from(n) * 6,
                };
                (s.id.clone(), o)
            })
            .collect();
        Self { doc, catalog, skus, body, policy: ValidationPolicy::default(), config, measured, now: Utc::now() }
    }

    fn route_once(
        &self,
        order: &dropline_domain::order::CanonicalOrder,
        view: &dropline_domain::catalog::CatalogView,
    ) -> dropline_domain::routing::Routed {
        let all_lines: Vec<usize> = (0..order.lines.len()).collect();
        let req = Request {
            order,
            lines: &all_lines,
            service_level: ServiceLevel::Standard,
            excluded: &[],
            waived: &[],
            now: self.now,
            unknown_stock: UnknownStock::Hold,
            measured: &self.measured,
        };
        route(&req, view, &self.config)
    }
}

/// The CPU target's unit of work: parse, validate and route one order (its catalog reads
/// included). Never inlined: the instruction count collects inside it by name.
#[inline(never)]
fn dropline_one_order(f: &CpuFixture) {
    let order = shopify_order("bench.myshopify.com", black_box(&f.body)).expect("maps");
    let skus: Vec<Sku> = order.lines.iter().filter_map(|l| l.sku.clone()).collect();
    let view = f.catalog.lookup(&skus, true);
    assert!(validate(&order, &view, &f.policy, f.now).passes());
    let view = f.catalog.lookup(&skus, true);
    black_box(f.route_once(&order, &view).result.expect("routes"));
}

/// Instructions per order, counted by callgrind (stable whatever else the machine does): this
/// program again under `valgrind --tool=callgrind`, collecting only inside `dropline_one_order`,
/// for 1 and for 1 + N orders; the difference over N.
fn instructions() {
    println!("\n== instructions per order (valgrind --tool=callgrind, collected inside dropline_one_order)");
    let Ok(exe) = std::env::current_exe() else { return println!("no executable path") };
    let run = |n: u32| -> Option<u64> {
        let out = std::process::Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", "--toggle-collect=*dropline_one_order*"])
            .arg(&exe)
            .args(["--bench", "instructions-child", &n.to_string()])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stderr);
        let line = text.lines().find(|l| l.contains("Collected :"))?;
        line.rsplit(':').next()?.trim().replace(',', "").parse().ok()
    };
    // 1 and 1 + N orders: the first order's one-time work (the address rules parsed on first
    // use, caches filled) is in both and cancels out.
    let n = 200;
    match (run(1), run(1 + n)) {
        (Some(base), Some(total)) => {
            let per = total.saturating_sub(base) / u64::from(n);
            println!("parse + validate + route, 3 lines, 100k SKUs: {per} instructions per order ({n} orders)");
        }
        _ => println!("valgrind not available or its output not understood: not measured"),
    }
}

/// What `instructions` runs under valgrind: `n` orders, nothing printed.
fn instructions_child(n: u32) {
    let f = CpuFixture::new();
    for _ in 0..n {
        dropline_one_order(&f);
    }
}

fn cpu() {
    println!("== cpu (one thread; run under `taskset -c 0` for one core)");
    let t = Instant::now();
    let fixture = CpuFixture::new();
    let CpuFixture { doc, catalog, skus, body, policy, now, .. } = &fixture;
    let (policy, now) = (policy.clone(), *now);
    println!(
        "catalog: {} SKUs, {} offers, {} suppliers (built in {:.1} s)",
        CATALOG_SKUS,
        doc.offers.len(),
        SUPPLIERS,
        t.elapsed().as_secs_f64()
    );
    let order = shopify_order("bench.myshopify.com", body).expect("maps");
    let view = catalog.lookup(&order.lines.iter().filter_map(|l| l.sku.clone()).collect::<Vec<_>>(), true);
    let report = validate(&order, &view, &policy, now);
    assert!(report.passes(), "the bench order is valid: {:?}", report.findings);
    let route_once = |order: &dropline_domain::order::CanonicalOrder, view: &dropline_domain::catalog::CatalogView| {
        fixture.route_once(order, view)
    };
    let routed = route_once(&order, &view);
    assert!(routed.result.is_ok(), "the bench order routes: {:?}", routed.result);
    println!(
        "routing: {} candidates, {} plans, chosen {}",
        routed.decision.candidates.len(),
        routed.decision.plans.len(),
        routed.decision.outcome
    );

    let (p50, best) = measure(7, 20_000, |_| {
        black_box(shopify_order("bench.myshopify.com", black_box(body)).expect("maps"));
    });
    println!("parse + map (Shopify JSON -> canonical order):      median {} best {}", us(p50), us(best));
    let (p50, best) = measure(7, 20_000, |_| {
        let skus: Vec<Sku> = order.lines.iter().filter_map(|l| l.sku.clone()).collect();
        let view = catalog.lookup(&skus, true);
        black_box(validate(black_box(&order), &view, &policy, now));
    });
    println!("validate (catalog lookup + rules):                  median {} best {}", us(p50), us(best));
    let (p50, best) = measure(7, 20_000, |_| {
        let skus: Vec<Sku> = order.lines.iter().filter_map(|l| l.sku.clone()).collect();
        black_box(catalog.lookup(black_box(&skus), true));
    });
    println!("  of which the catalog lookup (3 SKUs + suppliers):  median {} best {}", us(p50), us(best));
    let (p50, best) = measure(7, 20_000, |_| {
        black_box(dropline_domain::validation::address::check(
            black_box(order.shipping_address.as_ref().expect("address")),
            dropline_domain::validation::address::AddressRules::bundled(),
        ));
    });
    println!("  of which the address rules:                        median {} best {}", us(p50), us(best));
    let (p50, best) = measure(7, 20_000, |_| {
        let skus: Vec<Sku> = order.lines.iter().filter_map(|l| l.sku.clone()).collect();
        let view = catalog.lookup(&skus, true);
        black_box(route_once(black_box(&order), &view).result.expect("routes"));
    });
    println!("route (catalog lookup + engine):                    median {} best {}", us(p50), us(best));
    let (p50, best) = measure(7, 20_000, |_| {
        black_box(route_once(black_box(&order), &view).result.expect("routes"));
    });
    println!("  routing engine alone (50 suppliers configured):    median {} best {}", us(p50), us(best));
    println!("  = {:.0} routing decisions/s on one core", 1.0 / p50.as_secs_f64());
    let (p50, best) = measure(7, 20_000, |_| dropline_one_order(&fixture));
    println!(
        "parse + validate + route, 3 lines, 100k SKUs:       median {} best {}  (target < 20 us)",
        us(p50),
        us(best)
    );
    println!("  = {:.0} orders/s on one core", 1.0 / p50.as_secs_f64());

    // The ingest handler's own work beside its AWS calls: memory adapters stand in for them.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let ingest = Ingest {
        store: Arc::new(MemoryOrderStore::new()),
        idempotency: dropline_app::idempotency::Idempotency::new(
            Arc::new(MemoryIdempotencyStore::new()),
            chrono::Duration::hours(1),
        ),
        queue: Arc::new(MemoryQueues::new(clock.clone())),
        events: Arc::new(MemoryEventBus::new()),
        secrets: dropline_app::secrets::SecretCache::fixed(SecretBook::new().with("shopify", "bench-secret")),
        clock,
        stock: Arc::new(MemoryCatalog::default()),
        outcomes: Arc::new(MemoryCatalog::default()),
        time_zones: Default::default(),
    };
    let n = 20_000;
    let requests: Vec<WebRequest> = (0..n * 8 + 1000)
        .map(|i| {
            let body = shopify_body(5_000_000_000 + i as u64, [&skus[0], &skus[1], &skus[2]]);
            let sig = signature::sign(b"bench-secret", &body);
            WebRequest::post(
                "/webhooks/shopify",
                &[
                    ("x-shopify-shop-domain", "bench.myshopify.com"),
                    ("x-shopify-topic", "orders/create"),
                    ("x-shopify-webhook-id", &format!("d-{i}")),
                    ("x-shopify-hmac-sha256", &sig),
                ],
                body,
            )
        })
        .collect();
    let mut requests = requests.into_iter();
    let (p50, best) = measure(7, n, |_| {
        let req = requests.next().expect("enough requests");
        let answer = rt.block_on(ingest.handle(req));
        assert_eq!(answer.status, 200);
    });
    println!(
        "ingest handler (verify + parse + map + dedupe + record), memory ports: median {} best {}  (target < 200 us)",
        us(p50),
        us(best)
    );
    let req = {
        let body = shopify_body(42, [&skus[0], &skus[1], &skus[2]]);
        let sig = signature::sign(b"bench-secret", &body);
        (body, sig)
    };
    let (p50, _) = measure(7, 50_000, |_| {
        black_box(signature::verify(&["bench-secret"], black_box(&req.0), black_box(&req.1)));
    });
    println!("  of which signature verification (HMAC-SHA256, {} B body): {}", req.0.len(), us(p50));
}

/// One poll-tracking invocation against a carrier that answers in 200 ms: how many checks a
/// minute it sustains with the configured page size and concurrency (the goal: 2,000).
async fn sweep_rate() {
    use dropline_poll_tracking::{DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY};
    println!("\n== poll-tracking sweep rate (memory adapters, carrier answering in 200 ms)");
    let orders = 3000;
    let (store, carrier, clock) = dropline_tests::sweep::world(orders, Duration::from_millis(200)).await;
    let mut poll = dropline_tests::sweep::poll(&store, &carrier, &clock);
    poll.batch_size = DEFAULT_BATCH_SIZE;
    poll.concurrency = DEFAULT_CONCURRENCY;
    let start = Instant::now();
    let summary = poll.run().await.expect("run");
    let elapsed = start.elapsed().as_secs_f64();
    let most = carrier.most_in_flight.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "{} parcels checked in {elapsed:.1} s by one invocation (pages of {DEFAULT_BATCH_SIZE}, at most {most} at once): {:.0} checks/minute",
        summary.parcels_checked,
        summary.parcels_checked as f64 / elapsed * 60.0
    );
}

/// Each step's own work on memory adapters, one core (a single-threaded runtime, one request
/// or batch at a time): orders per second per core.
fn throughput_memory() {
    use dropline_tests::load::{LoadPlan, load_catalog};
    let plan = LoadPlan::default();
    let orders = 2_000;
    println!("\n== throughput per step, memory adapters, one core ({orders} load orders, 30% on one SKU)");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let catalog = load_catalog(dropline_local::demo::catalog().expect("catalog"), plan.skus);
    let world = dropline_local::demo::world(&catalog);
    let rates = rt.block_on(dropline_tests::throughput::measure(&world.pipeline, &plan, orders, 1));
    print!("{}", dropline_tests::throughput::render(&rates));
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.first().map(String::as_str) == Some("instructions-child") {
        return instructions_child(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(0));
    }
    let all = args.is_empty() || args.iter().any(|a| a == "all");
    let want = |s: &str| all || args.iter().any(|a| a == s);
    if want("cpu") {
        // The CPU section builds its own single-threaded runtime.
        tokio::task::spawn_blocking(cpu).await.expect("cpu bench");
    }
    if want("instructions") {
        instructions();
    }
    if want("init") {
        aws_benches::init().await;
    }
    if want("latency") {
        aws_benches::latency().await;
    }
    if want("requests") {
        aws_benches::requests().await;
    }
    if want("bill") {
        aws_benches::bill().await;
    }
    if want("sweep") {
        sweep_rate().await;
    }
    if want("throughput") {
        tokio::task::spawn_blocking(throughput_memory).await.expect("throughput bench");
        aws_benches::throughput().await;
    }
}

mod aws_benches {
    use super::*;
    use dropline_adapters::aws::{AwsClients, SqsWorkQueue};
    use dropline_app::ports::OrderStore;
    use dropline_domain::order::OrderStatus;
    use dropline_domain::wire::messages::Step;
    use dropline_local::provision::{QueueSettings, provision, put_secret};
    use dropline_tests::runtime_api::RuntimeApi;
    use dropline_tests::{Stack, StackOptions, shopify_delivery, unique};
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::process::Stdio;

    fn release_binary(name: &str) -> Option<PathBuf> {
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
        let p = target.join("release").join(name);
        p.exists().then_some(p)
    }

    /// The same on the emulators: one invocation at a time per step, ingest 8 webhooks at once.
    pub async fn throughput() {
        use dropline_tests::load::{LoadPlan, load_stack};
        let plan = LoadPlan::default();
        let orders = 100;
        println!("\n== throughput per step, DynamoDB Local and moto ({orders} load orders, one invocation at a time)");
        let meter = dropline_adapters::aws::CapacityMeter::new(&dropline_adapters::aws::INDEX_PARTITION_KEYS);
        let stack = load_stack(&meter, &plan).await;
        let rates = dropline_tests::throughput::measure(&stack.pipeline, &plan, orders, 8).await;
        print!("{}", dropline_tests::throughput::render(&rates));
    }

    pub async fn init() {
        println!("\n== init: exec to first Runtime API poll, release binaries (median of 7)");
        let aws = AwsClients::from_env().await;
        let infra = provision(&aws, &unique("bench"), QueueSettings::default()).await.expect("provision");
        put_secret(&aws, &infra, "shopify", "x").await.expect("secret");
        put_secret(&aws, &infra, "suppliers/acme-us", "y").await.expect("secret");
        let env = vec![
            ("DROPLINE_ORDERS_TABLE", infra.orders_table.clone()),
            ("DROPLINE_IDEMPOTENCY_TABLE", infra.idempotency_table.clone()),
            ("DROPLINE_CATALOG_TABLE", infra.catalog_table.clone()),
            ("DROPLINE_EVENT_BUS", infra.event_bus.clone()),
            ("DROPLINE_SECRETS_PATH", infra.secrets_path.clone()),
            ("DROPLINE_VALIDATE_QUEUE_URL", infra.queues.urls[&Step::Validate].clone()),
            ("DROPLINE_ROUTE_QUEUE_URL", infra.queues.urls[&Step::Route].clone()),
            ("DROPLINE_NOTIFY_QUEUE_URL", infra.queues.urls[&Step::NotifySupplier].clone()),
            ("DROPLINE_CARRIER_API_URL", "http://127.0.0.1:9".to_string()),
        ];
        for name in ["ingest", "validate", "route", "notify-supplier", "poll-tracking", "escalate"] {
            let Some(bin) = release_binary(name) else {
                println!("{name:<16} no release binary (cargo build --release --bins)");
                continue;
            };
            let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
            let mut times = Vec::new();
            for _ in 0..7 {
                let api = RuntimeApi::start().await;
                let mut cmd = tokio::process::Command::new(&bin);
                cmd.env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
                    .env("AWS_LAMBDA_FUNCTION_NAME", name)
                    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                    .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true);
                for (k, v) in &env {
                    cmd.env(k, v);
                }
                let start = Instant::now();
                let mut child = cmd.spawn().expect("spawn");
                if let Some(t) = api.wait_first_poll(Duration::from_secs(10)).await {
                    times.push(t.duration_since(start));
                }
                let _ = child.kill().await;
            }
            times.sort();
            let median = times.get(times.len() / 2).copied().unwrap_or_default();
            println!(
                "{name:<16} init median {:>6.1} ms (min {:>5.1})   x86_64 release binary {:.1} MB",
                median.as_secs_f64() * 1000.0,
                times.first().copied().unwrap_or_default().as_secs_f64() * 1000.0,
                size as f64 / 1e6
            );
        }
        println!(
            "(ingest and notify-supplier read their secrets from SSM during init: one GetParametersByPath to moto on loopback)"
        );
    }

    pub async fn latency() {
        println!("\n== ingest latency over HTTP against the emulators (sequential requests)");
        let stack = Stack::start(StackOptions::default()).await;
        let d = shopify_delivery();
        let n = 300;
        let mut times = Vec::with_capacity(n);
        for i in 0..n {
            let mut di = d.clone();
            di.delivery_id = format!("bench-{i}-{}", uuid::Uuid::new_v4());
            if let Some(p) = di.payload.as_mut() {
                p["id"] = serde_json::json!(9_000_000_000u64 + i as u64);
            }
            let start = Instant::now();
            let (status, _) = stack.post_delivery(&di, dropline_tests::SHOPIFY_SECRET).await;
            times.push(start.elapsed());
            assert_eq!(status, 200);
        }
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
        println!(
            "{n} webhooks: p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0)
        );
        println!(
            "(each: 2 DynamoDB writes for the idempotency record, 1 conditional order write, 1 SQS send, 1 EventBridge put)"
        );
    }

    /// The runner plays Lambda's event source mapping: its receives and deletes are AWS's, not
    /// the functions', so it gets clients of its own that are not counted; so does the store
    /// the run's own checks read through.
    async fn as_lambda_polls(stack: &mut Stack) -> dropline_adapters::aws::DynamoOrderStore {
        let observer = AwsClients::from_env().await;
        let mut q = SqsWorkQueue::new(observer.sqs().clone(), stack.infra.queues.clone());
        q.wait_seconds = 0;
        stack.pipeline.consumer = Arc::new(q);
        dropline_adapters::aws::DynamoOrderStore::new(observer.dynamodb().clone(), &stack.infra.orders_table)
    }

    pub async fn requests() {
        println!("\n== AWS requests per order, happy path (webhook to delivered)");
        // Notify-supplier leases its messages as in Lambda (one ChangeMessageVisibilityBatch).
        let mut stack = Stack::start(StackOptions { lease_messages: true, ..Default::default() }).await;
        let store = as_lambda_polls(&mut stack).await;
        stack.aws.requests().reset();
        let mut phases: Vec<(String, BTreeMap<String, u64>)> = Vec::new();
        let mut last = BTreeMap::new();
        let mut mark = |name: &str, stack: &Stack| {
            let now = stack.aws.requests().snapshot();
            let delta: BTreeMap<String, u64> = now
                .iter()
                .map(|(k, v)| (k.clone(), v - last.get(k).copied().unwrap_or(0)))
                .filter(|(_, v)| *v > 0)
                .collect();
            phases.push((name.to_string(), delta));
            last = now;
        };
        let d = shopify_delivery();
        let (status, body) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
        assert_eq!(status, 200, "{body}");
        let id = dropline_domain::primitives::ids::OrderId::new(body["order_id"].as_str().expect("id")).expect("id");
        mark("ingest (webhook)", &stack);
        for (step, name) in
            [(Step::Validate, "validate"), (Step::Route, "route"), (Step::NotifySupplier, "notify-supplier")]
        {
            stack.pipeline.pump(step).await.expect("pump");
            mark(name, &stack);
        }
        stack.suppliers.deliver_callbacks().await;
        mark("ingest (2 supplier callbacks)", &stack);
        let mut runs = 0;
        for _ in 0..8 {
            stack.clock.advance(chrono::Duration::hours(6));
            stack.pipeline.poll_tracking().await;
            runs += 1;
            if store.get(&id).await.expect("get").map(|r| r.status) == Some(OrderStatus::Delivered) {
                break;
            }
        }
        mark(&format!("poll-tracking ({runs} runs until delivered)"), &stack);
        let mut total: BTreeMap<String, u64> = BTreeMap::new();
        for (name, delta) in &phases {
            let n: u64 = delta.values().sum();
            println!("{name:<40} {n:>3}  {delta:?}");
            for (k, v) in delta {
                *total.entry(k.clone()).or_default() += v;
            }
        }
        println!("{:<40} {:>3}  {total:?}", "total", total.values().sum::<u64>());
        assert!(!total.keys().any(|k| k.ends_with("Scan")), "no scans");
        assert_eq!(store.get(&id).await.expect("get").map(|r| r.status), Some(OrderStatus::Delivered));
    }

    /// Bytes the functions log, counted as CloudWatch would ingest them (JSON lines).
    #[derive(Clone, Default)]
    struct LogBytes(Arc<std::sync::atomic::AtomicU64>);

    impl std::io::Write for LogBytes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBytes {
        type Writer = LogBytes;
        fn make_writer(&'a self) -> LogBytes {
            self.clone()
        }
    }

    /// Lambda's own lines per invocation (START, END, REPORT: about 300 bytes), and API
    /// Gateway's access log line per request (the template's format: about 250 bytes). These
    /// two are estimates; the functions' own lines are counted.
    const PLATFORM_LOG_BYTES: u64 = 300;
    const ACCESS_LOG_BYTES: u64 = 250;

    /// The functions' memory, as the template configures it.
    fn memory_gb() -> f64 {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml")).expect("template");
        let t: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
        t["Globals"]["Function"]["MemorySize"].as_f64().expect("MemorySize") / 1024.0
    }

    pub async fn bill() {
        use dropline_tests::bill::{Usage, render};
        use dropline_tests::load::{self, LoadPlan};
        println!("\n== the AWS bill per 1,000 orders, happy path (webhook to delivered)");
        let logs = LogBytes::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(logs.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        let plan = LoadPlan { orders: 40, batch: 40, skus: 10, ..Default::default() };
        let meter = dropline_adapters::aws::CapacityMeter::new(&dropline_adapters::aws::INDEX_PARTITION_KEYS);
        let mut stack = load::load_stack(&meter, &plan).await;
        // Lambda's pollers' receives and deletes are billed on their own line.
        let store = as_lambda_polls(&mut stack).await;
        stack.clock.set(chrono::Utc::now());
        meter.reset();
        stack.aws.requests().reset();
        logs.0.store(0, std::sync::atomic::Ordering::Relaxed);
        let gb = memory_gb();
        let mut u = Usage { orders: plan.orders as u64, ..Default::default() };
        let mut seconds = 0.0;
        let mut ids = Vec::new();
        for i in 0..plan.orders {
            let d = load::load_delivery(i, &load::sku_of(i, &plan));
            let start = Instant::now();
            let (status, body) = stack.post_delivery(&d, dropline_tests::SHOPIFY_SECRET).await;
            seconds += start.elapsed().as_secs_f64();
            assert_eq!(status, 200, "{body}");
            ids.push(
                dropline_domain::primitives::ids::OrderId::new(body["order_id"].as_str().expect("id")).expect("id"),
            );
            u.lambda_invocations += 1;
            u.http_requests += 1;
        }
        println!(
            "{:<18} {:>4} invocations {:>8.2} ms each",
            "ingest (webhooks)",
            plan.orders,
            seconds * 1000.0 / plan.orders as f64
        );
        for (step, name) in
            [(Step::Validate, "validate"), (Step::Route, "route"), (Step::NotifySupplier, "notify-supplier")]
        {
            let (mut calls, mut messages, mut step_seconds) = (0u64, 0u64, 0.0);
            loop {
                let start = Instant::now();
                let pumped = stack.pipeline.pump(step).await.expect("pump");
                if pumped.received == 0 {
                    break;
                }
                step_seconds += start.elapsed().as_secs_f64();
                calls += 1;
                messages += pumped.received as u64;
            }
            u.lambda_invocations += calls;
            u.sqs_messages_consumed += messages;
            seconds += step_seconds;
            println!(
                "{name:<18} {calls:>4} invocations {:>8.2} ms each ({messages} messages in batches of up to 10)",
                step_seconds * 1000.0 / calls.max(1) as f64
            );
        }
        let start = Instant::now();
        let callbacks = stack.suppliers.deliver_callbacks().await;
        let callback_seconds = start.elapsed().as_secs_f64();
        seconds += callback_seconds;
        u.lambda_invocations += callbacks.len() as u64;
        u.http_requests += callbacks.len() as u64;
        println!(
            "{:<18} {:>4} invocations {:>8.2} ms each",
            "ingest (callbacks)",
            callbacks.len(),
            callback_seconds * 1000.0 / callbacks.len().max(1) as f64
        );
        let mut runs = 0u64;
        let mut poll_seconds = 0.0;
        for _ in 0..8 {
            stack.clock.advance(chrono::Duration::hours(6));
            let start = Instant::now();
            stack.pipeline.poll_tracking().await;
            poll_seconds += start.elapsed().as_secs_f64();
            runs += 1;
            let mut open = 0;
            for id in &ids {
                let r = store.get(id).await.expect("get").expect("order");
                let lost = r.purchase_orders.iter().any(|p| {
                    p.shipment
                        .as_ref()
                        .is_some_and(|s| s.status == dropline_domain::tracking::TrackingStatus::Exception)
                });
                if r.status != OrderStatus::Delivered && !lost {
                    open += 1;
                }
            }
            if open == 0 {
                break;
            }
        }
        seconds += poll_seconds;
        u.lambda_invocations += runs;
        println!(
            "{:<18} {runs:>4} invocations {:>8.2} ms each (until every parcel arrived)",
            "poll-tracking",
            poll_seconds * 1000.0 / runs as f64
        );
        let metered = meter.snapshot();
        u.dynamodb_write_units = metered.write_units();
        u.dynamodb_read_units = metered.read_units();
        let billed = stack.aws.requests().billed();
        u.sqs_units = billed.iter().filter(|(k, _)| k.starts_with("SQS.")).map(|(_, v)| v).sum();
        u.eventbridge_events = billed.iter().filter(|(k, _)| k.starts_with("EventBridge.")).map(|(_, v)| v).sum();
        u.lambda_gb_seconds = seconds * gb;
        u.log_bytes = logs.0.load(std::sync::atomic::Ordering::Relaxed)
            + u.lambda_invocations * PLATFORM_LOG_BYTES
            + u.http_requests * ACCESS_LOG_BYTES;
        println!(
            "(durations measured here, against the emulators on loopback, at {gb} GB; each batch is one invocation)"
        );
        print!("{}", render(&u));
    }
}
