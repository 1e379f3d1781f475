//! Throughput of each step: `orders` load orders through ingest, then each queue drained by its
//! step one batch (one invocation) at a time, each phase timed. On memory adapters on a
//! single-threaded runtime this is the step's own work, in orders per second per core; on the
//! emulators it is what one invocation at a time gets through them (loopback latency included).

use crate::load::{LoadPlan, load_delivery, sku_of};
use dropline_domain::wire::messages::Step;
use dropline_local::pipeline::Pipeline;
use std::time::{Duration, Instant};

/// One phase: a step, the orders it took, and how long.
#[derive(Debug, Clone)]
pub struct StepRate {
    pub step: &'static str,
    pub orders: usize,
    pub elapsed: Duration,
}

impl StepRate {
    pub fn per_second(&self) -> f64 {
        self.orders as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Ingests `orders` load orders (`in_flight` webhooks at once), then drains validate, route and
/// notify-supplier in turn; returns each phase's rate. Panics if an order is not taken (the
/// measurement would be of something else).
pub async fn measure(pipeline: &Pipeline, plan: &LoadPlan, orders: usize, in_flight: usize) -> Vec<StepRate> {
    use futures_util::StreamExt;
    let mut rates = Vec::new();
    let requests: Vec<_> = (0..orders)
        .map(|i| {
            let d = load_delivery(i, &sku_of(i, plan));
            d.request(d.secret())
        })
        .collect();
    let start = Instant::now();
    let answers: Vec<u16> = futures_util::stream::iter(requests.into_iter().map(|r| async move {
        let answer = pipeline.ingest.handle(r).await;
        answer.status
    }))
    .buffer_unordered(in_flight.max(1))
    .collect()
    .await;
    rates.push(StepRate { step: "ingest", orders, elapsed: start.elapsed() });
    let refused = answers.iter().filter(|s| **s != 200).count();
    assert_eq!(refused, 0, "every load order is accepted: {refused} were not");
    for step in [Step::Validate, Step::Route, Step::NotifySupplier] {
        let start = Instant::now();
        let mut handled = 0;
        loop {
            let p = pipeline.pump(step).await.expect("pump");
            if p.received == 0 {
                break;
            }
            assert_eq!(p.failed, 0, "{step}: a load order failed");
            handled += p.received;
        }
        rates.push(StepRate { step: step.as_str(), orders: handled, elapsed: start.elapsed() });
    }
    rates
}

/// The rates as report lines.
pub fn render(rates: &[StepRate]) -> String {
    rates
        .iter()
        .map(|r| {
            format!(
                "  {:<16} {:>6} orders in {:>8.3} s: {:>9.0} orders/s\n",
                r.step,
                r.orders,
                r.elapsed.as_secs_f64(),
                r.per_second()
            )
        })
        .collect()
}
