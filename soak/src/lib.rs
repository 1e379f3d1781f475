//! The fault-injecting simulation (`make soak`; a short seeded slice in `make test`).
//!
//! Every port is wrapped with seeded faults (`faults`); a workload of orders on several stores
//! (`workload`) runs through the real handlers (`driver`) while simulated suppliers keep books
//! per order line (`suppliers`); at the end a history checker (`checker`) verifies the promises:
//! nothing accepted is lost or silently stuck, no line is live at two suppliers or asked twice,
//! stock is conserved, each supplier outcome is counted once, every transition has its event,
//! and no personal data reaches a log line or an event. The same seed gives the same history.

pub mod checker;
pub mod driver;
pub mod emulators;
pub mod faults;
pub mod logs;
pub mod rng;
pub mod suppliers;
pub mod workload;
pub mod world;

use chrono::Duration;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct SoakConfig {
    pub seed: u64,
    pub orders: u32,
    pub faults: faults::Rates,
    /// On DynamoDB Local and moto (endpoints from the environment) instead of memory.
    pub emulators: bool,
}

/// What a run did and found.
#[derive(Debug)]
pub struct SoakReport {
    pub seed: u64,
    pub orders: u32,
    pub acknowledged: usize,
    pub faults: BTreeMap<&'static str, u64>,
    pub faults_total: u64,
    pub checks: u64,
    pub violations: Vec<checker::Violation>,
    /// Traces of the first orders with violations.
    pub traces: String,
    pub tally: driver::Tally,
    pub log_lines: u64,
    pub simulated: Duration,
    /// A digest of the final history: equal for equal seeds.
    pub digest: u64,
}

impl SoakReport {
    /// `soak: <orders> orders, <faults> faults injected, <violations> violations`.
    pub fn summary_line(&self) -> String {
        format!(
            "soak: {} orders, {} faults injected, {} violations",
            self.orders,
            self.faults_total,
            self.violations.len()
        )
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let t = &self.tally;
        out.push_str(&format!("seed {} - {} orders, {} answered 2xx\n", self.seed, self.orders, self.acknowledged));
        out.push_str(&format!(
            "simulated {:.1} h: {} chaos ticks, {} quiet rounds; {} invocations, {} crashed\n",
            self.simulated.num_minutes() as f64 / 60.0,
            t.chaos_ticks,
            t.quiet_rounds,
            t.invocations,
            t.crashes
        ));
        out.push_str(&format!(
            "webhooks: {} sent {:?}, {} abandoned; supplier callbacks: {} sent {:?}\n",
            t.webhooks_sent, t.webhooks_answered, t.webhooks_abandoned, t.callbacks_sent, t.callbacks_answered
        ));
        if !t.callbacks_refused.is_empty() {
            out.push_str(&format!("supplier callbacks refused: {:?}\n", t.callbacks_refused));
        }
        out.push_str(&format!(
            "operator releases: {}; escalation runs: {}; tracking runs: {}; log lines: {}\n",
            t.releases, t.escalation_runs, t.tracking_runs, self.log_lines
        ));
        out.push_str(&format!(
            "signed bodies replayed under another shop: {}, accepted: {}\n",
            t.replays_sent, t.replays_accepted
        ));
        out.push_str("faults injected:\n");
        for (k, n) in &self.faults {
            out.push_str(&format!("  {k:<40} {n}\n"));
        }
        out.push_str(&format!("invariant checks: {}; violations: {}\n", self.checks, self.violations.len()));
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &self.violations {
            *by.entry(v.invariant).or_default() += 1;
        }
        for (k, n) in by {
            out.push_str(&format!("  {k}: {n}\n"));
        }
        let limit = std::env::var("SOAK_SHOW").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
        for v in self.violations.iter().take(limit) {
            out.push_str(&format!("  - [{}] {}: {}\n", v.invariant, v.order.as_deref().unwrap_or("-"), v.detail));
        }
        if !self.traces.is_empty() {
            out.push_str("traces (reproduce with make soak SEED=");
            out.push_str(&format!("{} ORDERS={}):\n{}", self.seed, self.orders, self.traces));
        }
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }
}

/// Runs one simulation. Call it on a current-thread runtime: the history is then a function
/// of the seed.
pub async fn run(cfg: SoakConfig) -> Result<SoakReport, String> {
    let world = if cfg.emulators {
        world::build_on_emulators(cfg.seed, cfg.orders, cfg.faults).await?
    } else {
        world::build(cfg.seed, cfg.orders, cfg.faults)?
    };
    let mut rng = rng::Rng::new(cfg.seed);
    let span = Duration::seconds(i64::from(cfg.orders) * 3);
    let orders = workload::orders(&mut rng, cfg.orders, world.start, span);
    let canaries = workload::canaries(&orders);
    let scanner = logs::LogScanner::new(canaries.clone());
    let guard = logs::capture(&scanner);
    let driver = driver::Driver::new(&world, orders, cfg.seed);
    driver.chaos().await;
    driver.quiet().await;
    drop(guard);
    let acknowledged = driver.acknowledged.lock().map_err(|e| e.to_string())?.clone();
    // Read before the books are locked (the emulators' ledgers are read over HTTP).
    let ledgers = world.ledgers().await?;
    let view_differences = match &world.backend {
        world::Backend::Emulators(e) => emulators::view_differences(&e.orders, &world.store).await?,
        world::Backend::Memory { .. } => Vec::new(),
    };
    let books = faults::lock(&world.suppliers.books);
    let update_times = driver.updates_acknowledged.lock().map_err(|e| e.to_string())?.clone();
    let updates: Vec<checker::StoreUpdate<'_>> = driver
        .orders
        .iter()
        .filter_map(|o| update_times.get(&o.n).map(|at| checker::StoreUpdate { order: o, acknowledged_at: *at }))
        .collect();
    let mut found = checker::check(&world, &ledgers, &acknowledged, &updates, &books, &scanner.hits(), &canaries);
    if cfg.emulators {
        // The checker read DynamoDB's state only if the view is it.
        for d in view_differences {
            found.violations.push(checker::Violation {
                invariant: "the checked state is DynamoDB's",
                order: None,
                detail: d,
            });
        }
        found.checks += 1;
    }
    let mut traces = String::new();
    let mut traced = std::collections::BTreeSet::new();
    for v in &found.violations {
        if let Some(o) = &v.order {
            let focus = std::env::var("SOAK_TRACE").ok();
            let wanted = match &focus {
                Some(f) => f == o,
                None => traced.len() < 3,
            };
            if wanted && traced.insert(o.clone()) {
                traces.push_str(&checker::trace(&world, &books, o));
            }
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut records = world.store.all();
    records.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    for r in &records {
        serde_json::to_string(r).unwrap_or_default().hash(&mut hasher);
    }
    books.asks.len().hash(&mut hasher);
    use dropline_app::ports::Clock;
    let simulated = world.clock.now() - world.start;
    let tally = driver.tally.lock().map_err(|e| e.to_string())?.clone();
    Ok(SoakReport {
        seed: cfg.seed,
        orders: cfg.orders,
        acknowledged: acknowledged.len(),
        faults: world.faults.counts(),
        faults_total: world.faults.total(),
        checks: found.checks,
        violations: found.violations,
        traces,
        tally,
        log_lines: scanner.lines(),
        simulated,
        digest: hasher.finish(),
    })
}
