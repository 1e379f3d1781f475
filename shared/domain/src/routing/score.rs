//! Measuring plans (landed cost, overheads beyond the cheapest shipment, latest delivery,
//! reliability, preference), scoring them (each component normalized over the plans, weighed by
//! the configuration), and ranking them deterministically.

use super::candidates::Qualified;
use super::plans::Plan;
use crate::order::{CanonicalOrder, ScoredPlan};
use crate::primitives::money::Money;
use crate::routing::config::Weights;
use chrono::{DateTime, NaiveDate, Utc};
use std::cmp::Ordering;

pub(super) fn measure(order: &CanonicalOrder, qualified: &[Qualified<'_>], p: &mut Plan) {
    let mut landed = Money::ZERO;
    let mut overheads = Vec::with_capacity(p.shipments.len());
    let mut weighted_pref = 0.0;
    let mut weights = 0.0;
    p.reliability = 1.0;
    for (qi, lines) in &p.shipments {
        let q = &qualified[*qi];
        let overhead = q.shipping.plus(q.supplier.order_fee);
        let cost = q.offers.cost(order, lines.iter().copied()).plus(overhead);
        landed = landed.plus(cost);
        overheads.push(overhead);
        let w = to_f64(cost).max(1e-9);
        weighted_pref += q.supplier.preference * w;
        weights += w;
        p.reliability *= q.reliability;
        p.latest = p.latest.max(q.delivery.1);
    }
    let total: Money = overheads.iter().fold(Money::ZERO, |a, o| a.plus(*o));
    let cheapest = overheads.iter().min().copied().unwrap_or(Money::ZERO);
    p.landed = landed;
    p.landed_f64 = to_f64(landed);
    p.extra = total.minus(cheapest);
    p.preference = if weights > 0.0 { weighted_pref / weights } else { 1.0 };
}

fn to_f64(m: Money) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    m.amount().to_f64().unwrap_or(0.0)
}

/// Normalizes each component over the plans (1 = best among them) and weighs them.
pub(super) fn score(plans: &mut [Plan], now: DateTime<Utc>, w: &Weights) {
    let min_cost = plans.iter().map(|p| p.landed_f64).fold(f64::INFINITY, f64::min);
    let min_days = plans.iter().map(|p| days_until(now, p.latest)).fold(f64::INFINITY, f64::min);
    let max_rel = plans.iter().map(|p| p.reliability).fold(0.0, f64::max);
    let min_pref = plans.iter().map(|p| p.preference).fold(f64::INFINITY, f64::min);
    let total = w.cost + w.speed + w.reliability + w.preference;
    for p in plans {
        let cost = p.landed_f64;
        let c = if cost <= 0.0 { 1.0 } else { min_cost / cost };
        let s = min_days / days_until(now, p.latest);
        let r = if max_rel <= 0.0 { 1.0 } else { p.reliability / max_rel };
        let f = if p.preference <= 0.0 { 1.0 } else { min_pref / p.preference };
        let total_score = (w.cost * c + w.speed * s + w.reliability * r + w.preference * f) / total;
        p.score = [c, s, r, f, total_score];
    }
}

pub(super) fn scored(p: &Plan, qualified: &[Qualified<'_>]) -> ScoredPlan {
    ScoredPlan {
        suppliers: p.shipments.iter().map(|(q, _)| qualified[*q].supplier.id.clone()).collect(),
        landed_cost: p.landed,
        extra_cost: p.extra,
        latest_delivery: p.latest,
        reliability: round6(p.reliability),
        preference: round6(p.preference),
        cost_score: round6(p.score[0]),
        speed_score: round6(p.score[1]),
        reliability_score: round6(p.score[2]),
        preference_score: round6(p.score[3]),
        score: round6(p.score[4]),
    }
}

/// Sorts the plans best first: fewest shipments unless splitting is allowed; earliest delivery
/// when speed comes first; among splits the lower landed cost; then the higher score (to 1e-9),
/// the lower landed cost, the earlier delivery, fewer shipments, and the supplier ids.
pub(super) fn rank(plans: &mut [Plan], qualified: &[Qualified<'_>], allowed: bool, speed_first: bool) {
    let key_ids = |p: &Plan| -> Vec<&str> { supplier_ids(p, qualified) };
    plans.sort_by(|a, b| {
        let fewest = if allowed { Ordering::Equal } else { a.shipments.len().cmp(&b.shipments.len()) };
        let speed = if speed_first { a.latest.cmp(&b.latest) } else { Ordering::Equal };
        let split_cost = if !allowed && a.shipments.len() > 1 && b.shipments.len() > 1 {
            a.landed.cmp(&b.landed)
        } else {
            Ordering::Equal
        };
        let score = |p: &Plan| (p.score[4] * 1e9).round() as i64;
        fewest
            .then(speed)
            .then(split_cost)
            .then(score(b).cmp(&score(a)))
            .then(a.landed.cmp(&b.landed))
            .then(a.latest.cmp(&b.latest))
            .then(a.shipments.len().cmp(&b.shipments.len()))
            .then_with(|| key_ids(a).cmp(&key_ids(b)))
    });
}

/// The plan's suppliers, one per shipment, in the order of the lines they fill.
pub(super) fn supplier_ids<'q>(p: &Plan, qualified: &'q [Qualified<'_>]) -> Vec<&'q str> {
    p.shipments.iter().map(|(q, _)| qualified[*q].supplier.id.as_str()).collect()
}

fn days_until(now: DateTime<Utc>, day: NaiveDate) -> f64 {
    ((day - now.date_naive()).num_days().max(1)) as f64
}

pub(super) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
