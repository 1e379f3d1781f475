//! A short seeded slice of the fault-injecting simulation (`make soak` runs 10,000 orders):
//! the same seed gives the same history, and the checker finds no violation (a class the
//! simulation finds before its fix lands is listed in `OPEN` with its defect; the list is empty).

use dropline_soak::{SoakConfig, faults::Rates, run};

/// Violation classes the simulation finds today, with the defect of issue 12 each belongs to.
const OPEN: [(&str, &str); 0] = [];

fn simulate(seed: u64, orders: u32) -> dropline_soak::SoakReport {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    rt.block_on(run(SoakConfig { seed, orders, faults: Rates::DEFAULT, emulators: false })).expect("simulation")
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let (a, b) = (simulate(11, 120), simulate(11, 120));
    assert_eq!(a.digest, b.digest, "seed 11 ran twice to different histories");
    assert_eq!(a.faults, b.faults);
    assert!(a.faults_total > 50, "faults were injected: {:?}", a.faults);
    let c = simulate(12, 120);
    assert_ne!(a.digest, c.digest, "another seed, another history");
}

#[test]
fn a_few_seeds_of_a_few_hundred_orders_break_no_promise() {
    for seed in [1, 2, 3] {
        let report = simulate(seed, 300);
        assert!(report.acknowledged > 250, "{}", report.render());
        let unexpected: Vec<_> =
            report.violations.iter().filter(|v| !OPEN.iter().any(|(class, _)| *class == v.invariant)).collect();
        assert!(unexpected.is_empty(), "{}", report.render());
    }
}

/// The same simulation on DynamoDB Local and moto (the real SDK over HTTP, the real adapters
/// behind the fault wrappers), checked against DynamoDB's state. `make soak-emulators` runs
/// 1,000 orders; this is its short slice.
#[test]
fn a_slice_on_the_emulators_breaks_no_promise() {
    dropline_tests::require_emulators();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let report = rt
        .block_on(run(SoakConfig { seed: 5, orders: 20, faults: Rates::DEFAULT, emulators: true }))
        .expect("simulation");
    assert!(report.acknowledged >= 15 && report.faults_total > 15, "{}", report.render());
    assert!(report.violations.is_empty(), "{}", report.render());
}
