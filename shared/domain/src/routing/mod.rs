//! The routing engine: which supplier fills each line, why, and what it promises. Pure: the
//! route function loads the catalog, the configuration and the order, and stores the result.
//!
//! 1. **Hard constraints** rule candidates out, each with the constraint named: the supplier is
//!    in the routing configuration, did not reject this order before, serves the destination's
//!    zone, offers the service level paid for there, and can ship by the order's promise given
//!    its cut-off, working days and handling; no rule excludes it (or pins others); its offer
//!    for the line passes validation's `refusal` (active, the ordered variant, stock after
//!    buffer and other orders' reservations).
//! 2. **Plans**: one supplier for every line, or (by the split policy) several. Within a split,
//!    each line goes to the supplier of the set with the lowest item cost.
//! 3. **Score**, each component normalized over the plans (1 is the best among them): landed
//!    cost (items + shipping + fees), expected delivery (latest day of the window), reliability
//!    (measured performance blended with the prior) and preference (lower multipliers win);
//!    weighted by the configuration.
//! 4. **Ranking** (deterministic): fewest shipments first unless splitting is allowed; earliest
//!    delivery first when the service level or a rule asks for speed; then the higher score
//!    (to 1e-9), lower landed cost, earlier delivery, fewer shipments, and finally the supplier
//!    ids in alphabetical order.
//!
//! The decision lists every candidate with its components or the constraints that excluded it.

pub mod config;

use crate::catalog::{CatalogView, Offer};
use crate::findings::{HoldCategory, HoldReason};
use crate::order::PoStatus;
use crate::order::SplitPolicy;
use crate::order::{Candidate, Figures, RoutingDecision, Ruled, ScoredPlan};
use crate::order::{CanonicalOrder, ServiceLevel};
use crate::order::{PoLine, Promise, PurchaseOrder, RoutingExclusion};
pub use crate::performance::{Measured, Outcomes, expected_performance, reliability};
use crate::primitives::calendar::delivery_window;
use crate::primitives::ids::{OrderId, PurchaseOrderId, SupplierId};
use crate::primitives::money::Money;
use crate::routing::config::{Priority, RoutingConfig, RoutingSupplier, Rule};
use crate::validation::{Refusal, UnknownStock, refusal};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::BTreeSet;

/// What to route.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub order: &'a CanonicalOrder,
    /// Indices of the lines to route: all of them, or those a rejected purchase order left.
    pub lines: &'a [usize],
    pub service_level: ServiceLevel,
    /// Suppliers this order may not use again, and why.
    pub excluded: &'a [RoutingExclusion],
    /// Routing holds an operator overrode (`ship_by_unmet`, `split_cost_exceeds_limit`): the
    /// constraint becomes a warning.
    pub waived: &'a [String],
    pub now: DateTime<Utc>,
    pub unknown_stock: UnknownStock,
    /// Outcomes the pipeline counted per supplier, blended with each supplier's configured
    /// performance (or the prior) into its reliability.
    pub measured: &'a Measured,
}

/// A purchase order the engine wants created.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPo {
    pub supplier_id: SupplierId,
    pub lines: Vec<PoLine>,
    pub promise: Option<Promise>,
}

impl PlannedPo {
    pub fn into_purchase_order(self, order_id: &OrderId, number: &str, seq: u16, now: DateTime<Utc>) -> PurchaseOrder {
        PurchaseOrder {
            id: PurchaseOrderId::new(order_id.clone(), seq),
            number: format!("{number}-{seq}"),
            supplier_id: self.supplier_id,
            lines: self.lines,
            status: PoStatus::Pending,
            status_since: now,
            submitted_at: None,
            accepted_at: None,
            supplier_reference: None,
            rejection: None,
            shipment: None,
            promise: self.promise,
        }
    }
}

/// What the engine decided: purchase orders, or the holds; warnings either way; and the
/// explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub result: Result<Vec<PlannedPo>, Vec<HoldReason>>,
    pub warnings: Vec<HoldReason>,
    pub decision: RoutingDecision,
}

/// Order line index -> the offer a supplier would use for it: a slot per order line (orders
/// have a few lines; a map would cost more than it saves).
struct LineOffers<'a>(Vec<Option<&'a Offer>>);

impl<'a> LineOffers<'a> {
    fn new(lines: usize) -> Self {
        Self(vec![None; lines])
    }
    fn insert(&mut self, i: usize, o: &'a Offer) {
        if let Some(slot) = self.0.get_mut(i) {
            *slot = Some(o);
        }
    }
    fn remove(&mut self, i: &usize) {
        if let Some(slot) = self.0.get_mut(*i) {
            *slot = None;
        }
    }
    fn get(&self, i: &usize) -> Option<&'a Offer> {
        self.0.get(*i).copied().flatten()
    }
    fn contains_key(&self, i: &usize) -> bool {
        self.get(i).is_some()
    }
    fn keys(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().filter(|(_, o)| o.is_some()).map(|(i, _)| i)
    }
    fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
    /// The item cost of `lines` (each must have an offer; a line without one costs nothing).
    fn cost(&self, order: &CanonicalOrder, lines: impl Iterator<Item = usize>) -> Money {
        lines.fold(Money::ZERO, |acc, i| match self.get(&i) {
            Some(o) => acc.plus(o.cost.times(order.lines[i].quantity)),
            None => acc,
        })
    }
}

/// A qualifying supplier's working data.
struct Qualified<'a> {
    supplier: &'a RoutingSupplier,
    offers: LineOffers<'a>,
    shipping: Money,
    ship_by: DateTime<Utc>,
    delivery: (NaiveDate, NaiveDate),
    reliability: f64,
}

struct Plan {
    /// (qualified index, line indices), in the order of the first line.
    shipments: Vec<(usize, Vec<usize>)>,
    landed: Money,
    /// `landed` as a float, for the score.
    landed_f64: f64,
    extra: Money,
    latest: NaiveDate,
    reliability: f64,
    preference: f64,
    score: [f64; 5],
}

fn matches_any(values: &[String], have: &[String]) -> bool {
    values.iter().any(|v| have.iter().any(|h| h.trim().eq_ignore_ascii_case(v.trim())))
}

/// Whether a rule's order-level conditions hold.
fn rule_applies_to_order(rule: &Rule, order: &CanonicalOrder, country: &str, zone: Option<&str>) -> bool {
    let w = &rule.when;
    (w.channels.is_empty() || w.channels.iter().any(|c| c.trim().eq_ignore_ascii_case(order.channel.as_str())))
        && (w.destinations.is_empty()
            || w.destinations.iter().any(|d| d.eq_ignore_ascii_case(country) || Some(d.as_str()) == zone))
        && (w.customer_tags.is_empty() || matches_any(&w.customer_tags, &order.customer_tags))
        && (w.order_tags.is_empty() || matches_any(&w.order_tags, &order.tags))
}

fn refusal_code(r: &Refusal) -> &'static str {
    match r {
        Refusal::Discontinued => "discontinued",
        Refusal::VariantMismatch { .. } => "variant_mismatch",
        Refusal::SupplierUnknown => "supplier_unknown",
        Refusal::NoShipping { .. } => "no_shipping",
        Refusal::StaleStock { .. } => "stock_unknown",
        Refusal::Short { .. } => "out_of_stock",
    }
}

fn days_until(now: DateTime<Utc>, day: NaiveDate) -> f64 {
    ((day - now.date_naive()).num_days().max(1)) as f64
}

/// Runs the engine.
pub fn route(req: &Request<'_>, catalog: &CatalogView, config: &RoutingConfig) -> Routed {
    let order = req.order;
    let now = req.now;
    let country = order.destination_country().unwrap_or("").to_ascii_uppercase();
    let zone = config.zone(&country);
    let level = req.service_level;

    // Rules: which apply to the order, and to which lines.
    let line_tags = |i: usize| -> Vec<String> {
        order.lines[i]
            .sku
            .as_ref()
            .map(|s| catalog.offers_for(s).iter().flat_map(|o| o.tags.iter().cloned()).collect())
            .unwrap_or_default()
    };
    let mut rules_applied: Vec<&Rule> = Vec::new();
    let mut rule_lines: Vec<Vec<usize>> = Vec::new();
    for rule in &config.rules {
        if !rule_applies_to_order(rule, order, &country, zone) {
            continue;
        }
        let lines: Vec<usize> = req
            .lines
            .iter()
            .copied()
            .filter(|&i| rule.when.product_tags.is_empty() || matches_any(&rule.when.product_tags, &line_tags(i)))
            .collect();
        if !lines.is_empty() {
            rules_applied.push(rule);
            rule_lines.push(lines);
        }
    }
    let speed_first =
        config.policy.speed_first.contains(&level) || rules_applied.iter().any(|r| r.priority == Some(Priority::Speed));
    let waived = |code: &str| req.waived.iter().any(|w| w == code);
    let mut warnings = Vec::new();

    // The units each SKU needs across the routed lines (lines of one SKU draw on one offer).
    let mut needs: Vec<(&crate::primitives::ids::Sku, u32)> = Vec::with_capacity(req.lines.len());
    for &i in req.lines {
        if let Some(s) = &order.lines[i].sku {
            match needs.iter_mut().find(|(k, _)| *k == s) {
                Some((_, n)) => *n = n.saturating_add(order.lines[i].quantity),
                None => needs.push((s, order.lines[i].quantity)),
            }
        }
    }

    // Candidates: every supplier with an offer for a routed line, in id order.
    let mut ids: BTreeSet<&SupplierId> = BTreeSet::new();
    for &i in req.lines {
        if let Some(s) = &order.lines[i].sku {
            ids.extend(catalog.offers_for(s).iter().map(|o| &o.supplier_id));
        }
    }
    let deadline =
        config.policy.ship_within_hours.get(&level).map(|h| order.created_at + Duration::hours(i64::from(*h)));
    let mut candidates = Vec::with_capacity(ids.len());
    let mut qualified: Vec<Qualified<'_>> = Vec::with_capacity(ids.len());
    for id in ids {
        let mut ruled = Vec::new();
        let whole = |constraint: &str, detail: String| Ruled { line: None, constraint: constraint.into(), detail };
        let supplier = config.supplier(id);
        let mut service = None;
        match supplier {
            None => ruled.push(whole(
                "not_configured",
                format!("not in the routing configuration (version {})", config.version),
            )),
            Some(s) => {
                if let Some(x) = req.excluded.iter().find(|x| &x.supplier_id == id) {
                    ruled.push(whole(&x.code, x.reason.clone()));
                }
                match zone {
                    None => ruled.push(whole(
                        "destination_not_served",
                        format!("{country:?} is in no zone of the routing configuration"),
                    )),
                    Some(z) if !s.destinations.contains(z) => {
                        ruled.push(whole("destination_not_served", format!("does not deliver to zone {z}")))
                    }
                    Some(z) => match s.service(level, z) {
                        None => {
                            ruled.push(whole("service_level_not_offered", format!("no {level} service to zone {z}")))
                        }
                        Some(svc) => service = Some(svc),
                    },
                }
            }
        }
        let ship_by_day = supplier.map(|s| s.calendar.ship_by_day(now, s.handling_days));
        let ship_by = ship_by_day.map(|(t, _)| t);
        if let (Some(ship_by), Some(deadline)) = (ship_by, deadline)
            && ship_by > deadline
        {
            let detail = format!(
                "ships by {} at the earliest; {level} orders must ship by {}",
                ship_by.to_rfc3339(),
                deadline.to_rfc3339()
            );
            if waived("ship_by_unmet") {
                warnings.push(HoldReason::warning(
                    "ship_by_unmet",
                    HoldCategory::Routing,
                    None,
                    format!("{id}: {detail} (overridden)"),
                ));
            } else {
                ruled.push(whole("ship_by_unmet", detail));
            }
        }
        // Per line.
        let mut offers = LineOffers::new(order.lines.len());
        let catalog_supplier = catalog.supplier(id);
        for &i in req.lines {
            let line = &order.lines[i];
            let on = |constraint: &str, detail: String| Ruled {
                line: Some(line.line_id.clone()),
                constraint: constraint.into(),
                detail,
            };
            let Some(sku) = &line.sku else { continue };
            let mut line_ruled = Vec::new();
            for (rule, lines) in rules_applied.iter().zip(&rule_lines) {
                if !lines.contains(&i) {
                    continue;
                }
                if rule.exclude.contains(id) {
                    line_ruled.push(on("excluded_by_rule", format!("rule {:?} excludes it", rule.name)));
                }
                if !rule.pin.is_empty() && !rule.pin.contains(id) {
                    let pinned: Vec<&str> = rule.pin.iter().map(SupplierId::as_str).collect();
                    line_ruled
                        .push(on("not_pinned", format!("rule {:?} pins the line to {}", rule.name, pinned.join(", "))));
                }
            }
            let mut mine = catalog.offers_for(sku).iter().filter(|o| &o.supplier_id == id).peekable();
            if mine.peek().is_none() {
                line_ruled.push(on("not_carried", format!("does not carry {sku}")));
            } else {
                let need = needs.iter().find(|(k, _)| *k == sku).map(|(_, n)| *n).unwrap_or(line.quantity);
                let mut best: Option<&Offer> = None;
                let mut why = None;
                for o in mine {
                    match refusal(line, need, o, catalog_supplier, &country, now, req.unknown_stock) {
                        None => {
                            if best.is_none_or(|b| o.cost < b.cost) {
                                best = Some(o);
                            }
                        }
                        Some(r) => why = why.or(Some(r)),
                    }
                }
                match (best, why) {
                    (Some(o), _) => {
                        if line_ruled.is_empty() {
                            offers.insert(i, o);
                        }
                    }
                    (None, Some(r)) => line_ruled.push(on(refusal_code(&r), r.to_string())),
                    (None, None) => {}
                }
            }
            if !line_ruled.is_empty() {
                offers.remove(&i);
                ruled.extend(line_ruled);
            }
        }
        let whole_ruled = ruled.iter().any(|r| r.line.is_none());
        let fills: Vec<String> =
            if whole_ruled { Vec::new() } else { offers.keys().map(|i| order.lines[i].line_id.clone()).collect() };
        let mut figures = None;
        if let (false, Some(s), Some(svc), Some(ship_by)) =
            (whole_ruled || offers.is_empty(), supplier, service, ship_by)
        {
            // The parcel leaves on the supplier's local ship-by day.
            let shipped_on = ship_by_day.map_or(ship_by.date_naive(), |(_, d)| d);
            let delivery = delivery_window(shipped_on, (svc.transit.min, svc.transit.max));
            let q = Qualified {
                supplier: s,
                offers,
                shipping: svc.cost,
                ship_by,
                delivery,
                reliability: reliability(&expected_performance(
                    &s.performance,
                    req.measured.get(id).unwrap_or(&Outcomes::default()),
                )),
            };
            let item_cost = q.offers.cost(order, q.offers.keys());
            figures = Some(Figures {
                item_cost,
                shipping: q.shipping,
                fee: s.order_fee,
                landed_cost: item_cost.plus(q.shipping).plus(s.order_fee),
                ship_by,
                delivery,
                reliability: round6(q.reliability),
                preference: s.preference,
            });
            qualified.push(q);
        }
        candidates.push(Candidate { supplier_id: id.clone(), fills, ruled_out: ruled, figures });
    }

    let mut decision = RoutingDecision {
        at: now,
        config_version: config.version,
        service_level: level,
        split: config.policy.split,
        speed_first,
        rules: rules_applied.iter().map(|r| r.name.clone()).collect(),
        lines: req.lines.iter().map(|&i| order.lines[i].line_id.clone()).collect(),
        candidates,
        plans: Vec::new(),
        outcome: String::new(),
    };

    // Lines nobody can fill: hold, naming every candidate's constraint.
    let mut holds = Vec::new();
    for &i in req.lines {
        let line = &order.lines[i];
        let Some(sku) = &line.sku else {
            holds.push(HoldReason::new(
                "sku_missing",
                HoldCategory::Mapping,
                Some(format!("lines[{i}]")),
                format!("line {} has no SKU", i + 1),
            ));
            continue;
        };
        if qualified.iter().any(|q| q.offers.contains_key(&i)) {
            continue;
        }
        holds.push(unroutable_line(i, line.quantity, sku, &line.line_id, &decision.candidates));
    }
    if !holds.is_empty() {
        decision.outcome = outcome_of_holds(&holds);
        return Routed { result: Err(holds), warnings, decision };
    }

    let mut plans = plans_for(req, &qualified, config.policy.split);
    if plans.is_empty() {
        // Only possible under `required`: every line has a supplier, but no one has them all.
        let holds = vec![
            HoldReason::new(
                "split_required",
                HoldCategory::Routing,
                Some("lines".into()),
                format!(
                    "no single supplier can fill every line and the split policy requires one: {}",
                    fills_summary(&decision.candidates)
                ),
            )
            .resolve("change the policy to preferred, restock, or cancel a line in the store; then release"),
        ];
        decision.outcome = outcome_of_holds(&holds);
        return Routed { result: Err(holds), warnings, decision };
    }
    for p in &mut plans {
        measure(order, &qualified, p);
    }
    score(&mut plans, now, &config.policy.weights);
    let allowed = config.policy.split == SplitPolicy::Allowed;
    let key_ids =
        |p: &Plan| -> Vec<&str> { p.shipments.iter().map(|(q, _)| qualified[*q].supplier.id.as_str()).collect() };
    plans.sort_by(|a, b| {
        let fewest = if allowed { std::cmp::Ordering::Equal } else { a.shipments.len().cmp(&b.shipments.len()) };
        let speed = if speed_first { a.latest.cmp(&b.latest) } else { std::cmp::Ordering::Equal };
        let split_cost = if !allowed && a.shipments.len() > 1 && b.shipments.len() > 1 {
            a.landed.cmp(&b.landed)
        } else {
            std::cmp::Ordering::Equal
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
    decision.plans = plans.iter().take(5).map(|p| scored(p, &qualified)).collect();

    let best = &plans[0];
    if best.shipments.len() > 1
        && let Some(limit) = config.policy.split_extra_cost_limit
        && best.extra > limit
    {
        let detail = format!(
            "the best plan splits the order over {} shipments ({}) and they add {} in shipping and fees, above the limit of {limit}",
            best.shipments.len(),
            key_ids(best).join(" + "),
            best.extra
        );
        if waived("split_cost_exceeds_limit") {
            warnings.push(HoldReason::warning("split_cost_exceeds_limit", HoldCategory::Routing, None, detail));
        } else {
            let holds = vec![
                HoldReason::new("split_cost_exceeds_limit", HoldCategory::Routing, Some("lines".into()), detail)
                    .resolve("review the split: override with a note to accept it, or cancel a line; then release"),
            ];
            decision.outcome = outcome_of_holds(&holds);
            return Routed { result: Err(holds), warnings, decision };
        }
    }

    let pos: Vec<PlannedPo> = best
        .shipments
        .iter()
        .map(|(qi, lines)| {
            let q = &qualified[*qi];
            let lines = lines
                .iter()
                .filter_map(|&i| {
                    let line = &order.lines[i];
                    // Plans give a shipment only lines its supplier has an offer for.
                    let offer = q.offers.get(&i)?;
                    Some(PoLine {
                        line_id: line.line_id.clone(),
                        sku: offer.sku.clone(),
                        supplier_sku: offer.supplier_sku.clone(),
                        title: line.title.clone(),
                        quantity: line.quantity,
                        unit_cost: offer.cost,
                    })
                })
                .collect();
            PlannedPo {
                supplier_id: q.supplier.id.clone(),
                lines,
                promise: Some(Promise {
                    ack_by: now + Duration::hours(i64::from(q.supplier.ack_deadline_hours)),
                    ship_by: q.ship_by,
                    delivery_earliest: q.delivery.0,
                    delivery_latest: q.delivery.1,
                }),
            }
        })
        .collect();
    decision.outcome = format!("routed: {}", key_ids(best).join(" + "));
    Routed { result: Ok(pos), warnings, decision }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Candidate plans by the split policy: every single supplier that fills all lines; splits
/// when allowed, or (preferred) when no single supplier can, over the fewest suppliers.
fn plans_for(req: &Request<'_>, qualified: &[Qualified<'_>], split: SplitPolicy) -> Vec<Plan> {
    let all = req.lines;
    let fills_all = |q: &Qualified<'_>| all.iter().all(|i| q.offers.contains_key(i));
    let mut plans: Vec<Plan> =
        (0..qualified.len()).filter(|&q| fills_all(&qualified[q])).map(|q| new_plan(vec![(q, all.to_vec())])).collect();
    let want_splits = match split {
        SplitPolicy::Required => false,
        SplitPolicy::Preferred => plans.is_empty(),
        SplitPolicy::Allowed => true,
    };
    if !want_splits || all.len() < 2 {
        return plans;
    }
    // Suppliers worth combining: those filling some line. Exact search over pairs and triples
    // (an order's lines are few and each SKU has few suppliers); greedy beyond.
    let useful: Vec<usize> = (0..qualified.len()).filter(|&q| !qualified[q].offers.is_empty()).collect();
    // Which routed lines each supplier fills, as bits (orders past 64 lines skip the pre-check).
    let bits = |q: usize| -> u64 {
        all.iter()
            .enumerate()
            .filter(|(_, i)| qualified[q].offers.contains_key(i))
            .fold(0, |m, (k, _)| m | 1u64 << (k % 64))
    };
    let masks: Vec<u64> = (0..qualified.len()).map(bits).collect();
    let full = if all.len() >= 64 { u64::MAX } else { (1u64 << all.len()) - 1 };
    let mut found_size = None;
    for size in 2..=3.min(all.len()) {
        if split == SplitPolicy::Preferred && found_size.is_some() {
            break;
        }
        for_each_combination(&useful, size, 2000, |set| {
            if all.len() <= 64 && set.iter().fold(0, |m, &q| m | masks[q]) != full {
                return;
            }
            if let Some(p) = split_plan(req, qualified, set) {
                plans.push(p);
                found_size = Some(size);
            }
        });
    }
    if found_size.is_none()
        && let Some(p) = greedy(req, qualified, &useful)
    {
        plans.push(p);
    }
    plans
}

fn new_plan(shipments: Vec<(usize, Vec<usize>)>) -> Plan {
    Plan {
        shipments,
        landed: Money::ZERO,
        landed_f64: 0.0,
        extra: Money::ZERO,
        latest: NaiveDate::MIN,
        reliability: 0.0,
        preference: 0.0,
        score: [0.0; 5],
    }
}

/// Calls `f` with up to `cap` combinations of `size` items, in lexicographic order (one buffer,
/// reused).
fn for_each_combination(items: &[usize], size: usize, cap: usize, mut f: impl FnMut(&[usize])) {
    if size == 0 || size > items.len() {
        return;
    }
    let mut idx: Vec<usize> = (0..size).collect();
    let mut set: Vec<usize> = idx.iter().map(|&i| items[i]).collect();
    for _ in 0..cap {
        f(&set);
        // The rightmost position that can still move right.
        let Some(k) = (0..size).rev().find(|&k| idx[k] < items.len() - size + k) else { return };
        idx[k] += 1;
        for j in k + 1..size {
            idx[j] = idx[j - 1] + 1;
        }
        for j in k..size {
            set[j] = items[idx[j]];
        }
    }
}

/// Each line to the set's supplier with the lowest item cost for it (ties: the earlier in the
/// set, which is id order). None when a line has no taker or a supplier gets no line (a smaller
/// set covers the order).
fn split_plan(req: &Request<'_>, qualified: &[Qualified<'_>], set: &[usize]) -> Option<Plan> {
    let mut shipments: Vec<(usize, Vec<usize>)> = Vec::with_capacity(set.len());
    for &i in req.lines {
        let taker = set
            .iter()
            .copied()
            .filter_map(|q| qualified[q].offers.get(&i).map(|o| (q, o.cost)))
            .min_by(|a, b| a.1.cmp(&b.1))?;
        match shipments.iter_mut().find(|(q, _)| *q == taker.0) {
            Some((_, lines)) => lines.push(i),
            None => shipments.push((taker.0, vec![i])),
        }
    }
    if shipments.len() != set.len() {
        return None;
    }
    // Already in the order of their first line: shipments were opened line by line.
    Some(new_plan(shipments))
}

/// Greedy cover: the supplier filling the most uncovered lines (then the lowest cost for them,
/// then id order), until every line is covered.
fn greedy(req: &Request<'_>, qualified: &[Qualified<'_>], useful: &[usize]) -> Option<Plan> {
    let mut left: BTreeSet<usize> = req.lines.iter().copied().collect();
    let mut shipments: Vec<(usize, Vec<usize>)> = Vec::new();
    while !left.is_empty() {
        let best = useful
            .iter()
            .copied()
            .filter(|q| !shipments.iter().any(|(s, _)| s == q))
            .map(|q| {
                let takes: Vec<usize> = left.iter().copied().filter(|i| qualified[q].offers.contains_key(i)).collect();
                let cost = takes.iter().fold(Money::ZERO, |a, i| {
                    a.plus(qualified[q].offers.get(i).map(|o| o.cost).unwrap_or(Money::ZERO))
                });
                (q, takes, cost)
            })
            .filter(|(_, takes, _)| !takes.is_empty())
            .min_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.2.cmp(&b.2)))?;
        for i in &best.1 {
            left.remove(i);
        }
        shipments.push((best.0, best.1));
    }
    shipments.sort_by_key(|(_, lines)| lines.first().copied());
    Some(new_plan(shipments))
}

fn measure(order: &CanonicalOrder, qualified: &[Qualified<'_>], p: &mut Plan) {
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
fn score(plans: &mut [Plan], now: DateTime<Utc>, w: &crate::routing::config::Weights) {
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

fn scored(p: &Plan, qualified: &[Qualified<'_>]) -> ScoredPlan {
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

fn fills_summary(candidates: &[Candidate]) -> String {
    candidates
        .iter()
        .filter(|c| !c.fills.is_empty())
        .map(|c| format!("{} fills line {}", c.supplier_id, c.fills.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn outcome_of_holds(holds: &[HoldReason]) -> String {
    let codes: BTreeSet<&str> = holds.iter().map(|h| h.code.as_str()).collect();
    format!("held: {}", codes.into_iter().collect::<Vec<_>>().join(", "))
}

/// The hold for a line no candidate can take: a stock problem when stock is all that stops
/// some candidate, `ship_by_unmet` when the promise is, else `no_supplier_for_line`; the
/// message names every candidate and what ruled it out.
fn unroutable_line(
    i: usize,
    quantity: u32,
    sku: &crate::primitives::ids::Sku,
    line_id: &str,
    candidates: &[Candidate],
) -> HoldReason {
    let mut detail = Vec::new();
    let mut only = BTreeSet::new();
    for c in candidates {
        let reasons: Vec<&Ruled> =
            c.ruled_out.iter().filter(|r| r.line.is_none() || r.line.as_deref() == Some(line_id)).collect();
        if reasons.iter().any(|r| r.constraint == "not_carried") {
            continue;
        }
        if let [one] = reasons.as_slice() {
            only.insert(one.constraint.as_str());
        }
        let why: Vec<String> = reasons.iter().map(|r| format!("{} ({})", r.detail, r.constraint)).collect();
        detail.push(format!("{}: {}", c.supplier_id, why.join(", ")));
    }
    let (code, category) = if only.contains("stock_unknown") {
        ("stock_unknown", HoldCategory::Stock)
    } else if only.contains("out_of_stock") {
        ("out_of_stock", HoldCategory::Stock)
    } else if only.contains("ship_by_unmet") {
        ("ship_by_unmet", HoldCategory::Routing)
    } else {
        ("no_supplier_for_line", HoldCategory::Routing)
    };
    let detail = if detail.is_empty() { "no supplier carries it".to_string() } else { detail.join("; ") };
    HoldReason::new(
        code,
        category,
        Some(format!("lines[{i}].sku")),
        format!("no supplier can fill line {} (SKU {sku} x{quantity}): {detail}", i + 1),
    )
}

#[cfg(test)]
mod tests;
