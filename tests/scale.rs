//! Scale on the emulators: a short slice of the load run (one SKU taking 30% of the orders),
//! its partition heat scaled to 1,000 orders/s. The figures are per order, so the slice
//! checks the design the long run (`make load`) measures; nothing here is timed.

use dropline_adapters::aws::{CapacityMeter, INDEX_PARTITION_KEYS};
use dropline_tests::load::{self, LoadPlan};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_partition_key_takes_a_tenth_of_its_write_limit_at_1000_orders_a_second_with_a_hot_sku() {
    let plan = LoadPlan { orders: 120, batch: 60, skus: 40, ..Default::default() };
    let meter = CapacityMeter::new(&INDEX_PARTITION_KEYS);
    let stack = load::load_stack(&meter, &plan).await;
    let run = load::run(&stack, &meter, plan).await;
    let report = load::report(&run);
    println!("{report}");
    assert!(run.undelivered.is_empty(), "every order delivered or lost by the carrier\n{report}");
    assert!(run.metered.write_units() > 0.0, "the emulator reported consumed capacity\n{report}");
    // A sharded key is judged by its family's writes spread over the shards (too few orders
    // per shard here for the hottest shard to say); every other key by its own.
    for h in load::heat(&run, 50).into_iter().filter(|h| !load::is_sharded(&h.space, &h.key)) {
        let share = h.share * 100.0;
        assert!(h.share < 0.10, "{} {} takes {share:.1}% of its partition's write limit\n{report}", h.space, h.key);
    }
    for (space, family, shards, share) in load::expected_shard_heat(&run) {
        let share = share * 100.0;
        assert!(share < 10.0, "{space} {family} takes {share:.1}% of each of its {shards} shards\n{report}");
    }
}

/// The load run itself (`make load`): `DROPLINE_LOAD_ORDERS` orders (20,000 by default), 30% on
/// one SKU, through the emulator pipeline; the same judgement as the slice, on every shard's
/// own figure once each has seen enough orders. Hours on the emulators: not part of `make test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the long run: make load"]
async fn the_load_run() {
    let orders = std::env::var("DROPLINE_LOAD_ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let plan = LoadPlan { orders, ..Default::default() };
    let meter = CapacityMeter::new(&INDEX_PARTITION_KEYS);
    let stack = load::load_stack(&meter, &plan).await;
    let run = load::run(&stack, &meter, plan).await;
    let report = load::report(&run);
    println!("{report}");
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")).ok();
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/load-report.txt"), &report).ok();
    assert!(run.undelivered.is_empty(), "every order delivered or lost by the carrier\n{report}");
    let line = report.lines().find(|l| l.starts_with("hottest partition key:")).expect("the heat line");
    let share: f64 =
        line["hottest partition key: ".len()..].split('%').next().and_then(|s| s.trim().parse().ok()).expect("a share");
    assert!(share < 10.0, "{line}\n{report}");
}
