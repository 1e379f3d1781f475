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

mod candidates;
pub mod config;
mod holds;
mod plans;
mod rules;
mod score;
use crate::catalog::CatalogView;
use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::{CanonicalOrder, PoLine, PoStatus, Promise, PurchaseOrder, RoutingDecision, RoutingExclusion};
use crate::order::{ServiceLevel, SplitPolicy};
use crate::performance::Measured;
use crate::primitives::ids::{OrderId, PurchaseOrderId, SupplierId};
use crate::routing::config::{MIN_ACK_DEADLINE_HOURS, Priority, RoutingConfig};
use crate::validation::UnknownStock;
use candidates::{Context, Qualified};
use chrono::{DateTime, Duration, Utc};
use plans::Plan;
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
    pub waived: &'a [FindingCode],
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
            created_at: Some(now),
            submitted_at: None,
            accepted_at: None,
            supplier_reference: None,
            rejection: None,
            shipment: None,
            promise: self.promise,
            last_word: None,
            void_notice: None,
            void_notice_sent: false,
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

/// Runs the engine.
pub fn route(req: &Request<'_>, catalog: &CatalogView, config: &RoutingConfig) -> Routed {
    let order = req.order;
    let now = req.now;
    let country = order.destination_country().unwrap_or("").to_ascii_uppercase();
    let zone = config.zone(&country);
    let level = req.service_level;

    let rules = rules::applicable(req, catalog, config, &country, zone);
    let speed_first =
        config.policy.speed_first.contains(&level) || rules.iter().any(|(r, _)| r.priority == Some(Priority::Speed));
    let mut warnings = Vec::new();

    // Candidates: every supplier with an offer for a routed line, in id order.
    let mut ids: BTreeSet<&SupplierId> = BTreeSet::new();
    for &i in req.lines {
        if let Some(s) = &order.lines[i].sku {
            ids.extend(catalog.offers_for(s).iter().map(|o| &o.supplier_id));
        }
    }
    let context = Context::new(req, catalog, config, &country, zone, &rules);
    let mut candidates = Vec::with_capacity(ids.len());
    let mut qualified: Vec<Qualified<'_>> = Vec::with_capacity(ids.len());
    for id in ids {
        let (candidate, q) = context.consider(id, &mut warnings);
        candidates.push(candidate);
        qualified.extend(q);
    }

    let mut decision = RoutingDecision {
        at: now,
        config_version: config.version,
        service_level: level,
        split: config.policy.split,
        speed_first,
        rules: rules.iter().map(|(r, _)| r.name.clone()).collect(),
        lines: req.lines.iter().map(|&i| order.lines[i].line_id.clone()).collect(),
        candidates,
        plans: Vec::new(),
        outcome: String::new(),
    };

    // Lines nobody can fill: hold, naming every candidate's constraint.
    let holds = unfilled_lines(req, &qualified, &decision.candidates);
    if !holds.is_empty() {
        decision.outcome = holds::outcome_of_holds(&holds);
        return Routed { result: Err(holds), warnings, decision };
    }

    let mut plans = plans::plans_for(req, &qualified, config.policy.split);
    if plans.is_empty() {
        // Only possible under `required`: every line has a supplier, but no one has them all.
        let holds = vec![
            HoldReason::new(
                FindingCode::SplitRequired,
                HoldCategory::Routing,
                Some("lines".into()),
                format!(
                    "no single supplier can fill every line and the split policy requires one: {}",
                    holds::fills_summary(&decision.candidates)
                ),
            )
            .resolve("change the policy to preferred, restock, or cancel a line in the store; then release"),
        ];
        decision.outcome = holds::outcome_of_holds(&holds);
        return Routed { result: Err(holds), warnings, decision };
    }
    for p in &mut plans {
        score::measure(order, &qualified, p);
    }
    score::score(&mut plans, now, &config.policy.weights);
    score::rank(&mut plans, &qualified, config.policy.split == SplitPolicy::Allowed, speed_first);
    decision.plans = plans.iter().take(5).map(|p| score::scored(p, &qualified)).collect();

    let best = &plans[0];
    if best.shipments.len() > 1
        && let Some(limit) = config.policy.split_extra_cost_limit
        && best.extra > limit
    {
        let detail = format!(
            "the best plan splits the order over {} shipments ({}) and they add {} {c} in shipping and fees, above the limit of {} {c}",
            best.shipments.len(),
            score::supplier_ids(best, &qualified).join(" + "),
            best.extra.in_minor_units(order.currency),
            limit.in_minor_units(order.currency),
            c = order.currency
        );
        if req.waived.contains(&FindingCode::SplitCostExceedsLimit) {
            warnings.push(HoldReason::warning(FindingCode::SplitCostExceedsLimit, HoldCategory::Routing, None, detail));
        } else {
            let holds = vec![
                HoldReason::new(
                    FindingCode::SplitCostExceedsLimit,
                    HoldCategory::Routing,
                    Some("lines".into()),
                    detail,
                )
                .resolve("review the split: override with a note to accept it, or cancel a line; then release"),
            ];
            decision.outcome = holds::outcome_of_holds(&holds);
            return Routed { result: Err(holds), warnings, decision };
        }
    }

    let pos = purchase_orders(order, best, &qualified, now);
    for po in pos.iter().filter(|p| p.promise.as_ref().is_some_and(|pr| pr.no_time_to_reroute)) {
        let ship_by = po.promise.as_ref().map(|p| p.ship_by.to_rfc3339()).unwrap_or_default();
        warnings.push(HoldReason::warning(
            FindingCode::NoTimeToReroute,
            HoldCategory::Routing,
            None,
            format!(
                "{} must ship by {ship_by}: too soon to replace it if it stays silent past its acknowledgment deadline",
                po.supplier_id
            ),
        ));
    }
    decision.outcome = format!("routed: {}", score::supplier_ids(best, &qualified).join(" + "));
    Routed { result: Ok(pos), warnings, decision }
}

/// A hold for every routed line no qualified supplier can take (or that has no SKU).
fn unfilled_lines(
    req: &Request<'_>,
    qualified: &[Qualified<'_>],
    candidates: &[crate::order::Candidate],
) -> Vec<HoldReason> {
    let order = req.order;
    let mut holds = Vec::new();
    for &i in req.lines {
        let line = &order.lines[i];
        let Some(sku) = &line.sku else {
            holds.push(HoldReason::new(
                FindingCode::SkuMissing,
                HoldCategory::Mapping,
                Some(format!("lines[{i}]")),
                format!("line {} has no SKU", i + 1),
            ));
            continue;
        };
        if qualified.iter().any(|q| q.offers.contains_key(&i)) {
            continue;
        }
        holds.push(holds::unroutable_line(i, line.quantity, sku, &line.line_id, candidates));
    }
    holds
}

/// The chosen plan's purchase orders, each with its supplier's offers for its lines and its
/// promise (acknowledge by, ship by, delivery window).
fn purchase_orders(
    order: &CanonicalOrder,
    best: &Plan,
    qualified: &[Qualified<'_>],
    now: DateTime<Utc>,
) -> Vec<PlannedPo> {
    best.shipments
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
                promise: Some({
                    let (ack_by, no_time_to_reroute) = ack_by(now, q.supplier.ack_deadline_hours, q.ship_by);
                    Promise {
                        ack_by,
                        ship_by: q.ship_by,
                        delivery_earliest: q.delivery.0,
                        delivery_latest: q.delivery.1,
                        no_time_to_reroute,
                        ack_window_minutes: u32::try_from((ack_by - now).num_minutes().max(0)).ok(),
                    }
                }),
            }
        })
        .collect()
}

/// When the supplier must acknowledge: its deadline, but no later than halfway to the ship-by,
/// so a silent supplier is replaced while another can still ship in time; never sooner than the
/// shortest deadline escalation watches for. The flag says that floor won: the ship-by is too
/// close to leave time to reroute.
fn ack_by(now: DateTime<Utc>, deadline_hours: u32, ship_by: DateTime<Utc>) -> (DateTime<Utc>, bool) {
    let deadline = now + Duration::hours(i64::from(deadline_hours));
    let halfway = now + (ship_by - now) / 2;
    let floor = now + Duration::hours(i64::from(MIN_ACK_DEADLINE_HOURS));
    let ack_by = deadline.min(halfway).max(floor);
    (ack_by, ack_by > halfway)
}

#[cfg(test)]
mod tests;
