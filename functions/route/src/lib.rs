//! Route: runs the routing engine on a validated order's lines (all of them, or those a
//! rejected, late or out-of-stock purchase order left) and creates one purchase order per
//! supplier (`1001-1`, `1001-2`), or holds the order with every candidate's constraint. The
//! decision, with each candidate's figures, is stored on the order.
//!
//! Idempotent under redelivery: purchase orders are created in the same conditional write that
//! moves the order from VALIDATED to ROUTED; a message for an order already routed re-sends its
//! still-pending purchase orders to notify-supplier.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use dropline_app::batch::{StepError, process_batch};
use dropline_app::caches::ConfigCache;
use dropline_app::caches::MeasuredCache;
use dropline_app::order_update::{load_order, update_from};
use dropline_app::outbox;
use dropline_app::outcomes::record_outcomes;
use dropline_app::ports::{Catalog, Clock, EventPublisher, OrderStore, OutcomeLedger, StockLedger, WorkQueue};
use dropline_app::stock::release_orphans;
use dropline_domain::catalog::Reserved;
use dropline_domain::catalog::{Availability, CatalogView, Offer, Reservation};
use dropline_domain::findings::FindingCode;
use dropline_domain::findings::{HoldCategory, HoldReason};
use dropline_domain::order::RoutingDecision;
use dropline_domain::order::ServiceLevel;
use dropline_domain::order::{OrderRecord, PurchaseOrder};
use dropline_domain::order::{OrderStatus, PoStatus};
use dropline_domain::performance::OutcomeSlot;
use dropline_domain::primitives::ids::Sku;
use dropline_domain::primitives::money::Money;
use dropline_domain::routing::{Request, route};
use dropline_domain::stock::HoldLimit;
use dropline_domain::validation::{Refusal, UnknownStock, ValidationPolicy, margin_below_floor};
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::sync::Arc;

pub const ACTOR: &str = "route";

/// Reserves every line of `pos`. When one can't be held, gives back what this call took (not
/// what an earlier attempt held: that is cleaned up once the outcome is stored) and says why.
/// The order's own earlier holds (`view.reservations`: a crashed attempt's) are its units, so
/// each limit is raised by them: they never hold the order as out of stock, and they end once
/// the outcome is stored (a concurrent attempt of the same order holds as much at most, and
/// only one attempt's purchase orders are saved). Returns the holders this call took, and the
/// refusal if any.
pub async fn reserve_pos(
    stock: &dyn StockLedger,
    pos: &[PurchaseOrder],
    view: &CatalogView,
    now: DateTime<Utc>,
    unknown_stock: UnknownStock,
) -> Result<(Vec<(Sku, String)>, Option<String>), StepError> {
    let mut taken = Vec::new();
    for po in pos {
        let supplier = view.supplier(&po.supplier_id);
        for line in &po.lines {
            let r = Reservation {
                holder: Reservation::holder_for(&po.id, &line.line_id, &po.supplier_id),
                sku: line.sku.clone(),
                supplier_id: po.supplier_id.clone(),
                quantity: line.quantity,
                at: now,
            };
            let need = line.quantity;
            let own = view
                .reservations
                .iter()
                .filter(|h| h.sku == line.sku && h.supplier_id == po.supplier_id)
                .fold(0u32, |n, h| n.saturating_add(h.quantity));
            let limit = |o: &Offer| match o.stock_limit(supplier, now) {
                Ok(units) => HoldLimit::Units(units.saturating_add(own)),
                Err(_) if unknown_stock == UnknownStock::Proceed => HoldLimit::Unlimited,
                Err(_) => HoldLimit::Refused,
            };
            let refusal = match stock.reserve(&r, &limit).await? {
                Reserved::Taken => {
                    taken.push((r.sku, r.holder));
                    continue;
                }
                Reserved::AlreadyHeld => continue,
                Reserved::Refused(o) => {
                    let why = match o.availability(supplier, now) {
                        Availability::Known(n) => Refusal::Short { available: n.saturating_add(own), needed: need },
                        Availability::Stale { as_of } => Refusal::StaleStock { as_of },
                    };
                    format!("{} {}: {why}", po.supplier_id, line.sku)
                }
                Reserved::NoOffer => format!("{} no longer offers {}", po.supplier_id, line.sku),
            };
            for (sku, holder) in &taken {
                stock.release(sku, holder).await?;
            }
            return Ok((Vec::new(), Some(refusal)));
        }
    }
    Ok((taken, None))
}

/// What routing decided, and the stock it touched on the way.
pub struct Decision {
    pub outcome: Result<Vec<PurchaseOrder>, Vec<HoldReason>>,
    /// The engine's explanation and warnings (none when stock raced away three times).
    pub explanation: Option<RoutingDecision>,
    pub warnings: Vec<HoldReason>,
    /// Reservations this invocation took.
    pub taken: Vec<(Sku, String)>,
    /// Reservations the order held before (a crashed or concurrent attempt's), from the last view.
    pub held_before: Vec<Reservation>,
}

pub struct Route {
    pub store: Arc<dyn OrderStore>,
    pub catalog: Arc<dyn Catalog>,
    pub queue: Arc<dyn WorkQueue>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    pub stock: Arc<dyn StockLedger>,
    /// The validation policy: whether an offer with a stale stock snapshot may be chosen, and
    /// the margin floor the chosen plan must still clear.
    pub policy: ValidationPolicy,
    /// The routing configuration (suppliers, zones, rules, policy).
    pub config: Arc<ConfigCache>,
    /// Supplier outcomes the pipeline counted, read through a cache, scored as reliability.
    pub measured: Arc<MeasuredCache>,
    /// Where a rerouted order's failed purchase orders are counted (again: idempotent), in case
    /// the step that failed them crashed before it counted them.
    pub outcomes: Arc<dyn OutcomeLedger>,
}

/// Routing holds an operator may override (the constraint then becomes a warning).
const WAIVABLE: [FindingCode; 2] = [FindingCode::ShipByUnmet, FindingCode::SplitCostExceedsLimit];

impl Route {
    /// Plans purchase orders on a fresh view and reserves their stock; when another order took
    /// the units first, plans again (up to three times) and finally holds as out of stock.
    async fn decide(&self, record: &OrderRecord, now: DateTime<Utc>) -> Result<Decision, StepError> {
        let config = self.config.get().await.map_err(|e| StepError::Retry(e.to_string()))?;
        let measured = self.measured.get(&config).await;
        let lines = record.uncovered_lines();
        let skus: Vec<Sku> = lines.iter().filter_map(|&i| record.order.lines[i].sku.clone()).collect();
        let waived: Vec<FindingCode> =
            record.overrides.iter().map(|o| o.code).filter(|c| WAIVABLE.contains(c)).collect();
        let number = record.order.number().to_string();
        // Continue after any earlier purchase orders (a re-route), so ids, idempotency keys and
        // reservation holders never repeat.
        let first = record.purchase_orders.iter().map(|p| p.id.seq()).max().unwrap_or(0);
        let mut lost = Vec::new();
        let mut held_before = Vec::new();
        for _ in 0..3 {
            let view = self.catalog.view_for(&skus, &record.id).await?;
            held_before = view.reservations.clone();
            let request = Request {
                order: &record.order,
                lines: &lines,
                service_level: record.service_level.unwrap_or(ServiceLevel::Standard),
                excluded: &record.routing_exclusions,
                waived: &waived,
                now,
                unknown_stock: self.policy.unknown_stock,
                measured: &measured,
            };
            let routed = route(&request, &view, &config);
            let explanation = Some(routed.decision);
            let plans = match routed.result {
                Ok(plans) => plans,
                Err(reasons) => {
                    return Ok(Decision {
                        outcome: Err(reasons),
                        explanation,
                        warnings: routed.warnings,
                        taken: Vec::new(),
                        held_before,
                    });
                }
            };
            let mut pos = Vec::with_capacity(plans.len());
            for (i, p) in plans.into_iter().enumerate() {
                let seq = u16::try_from(i + 1)
                    .ok()
                    .and_then(|n| first.checked_add(n))
                    .ok_or_else(|| StepError::Poison("too many purchase orders".into()))?;
                pos.push(p.into_purchase_order(&record.id, &number, seq, now));
            }
            if let Some(hold) = self.margin_hold(record, &pos, &config) {
                return Ok(Decision {
                    outcome: Err(vec![hold]),
                    explanation,
                    warnings: routed.warnings,
                    taken: Vec::new(),
                    held_before,
                });
            }
            match reserve_pos(self.stock.as_ref(), &pos, &view, now, self.policy.unknown_stock).await? {
                (taken, None) => {
                    return Ok(Decision {
                        outcome: Ok(pos),
                        explanation,
                        warnings: routed.warnings,
                        taken,
                        held_before,
                    });
                }
                (_, Some(refusal)) => {
                    tracing::info!(order_id = %record.id, %refusal, "stock taken by another order; planning again");
                    lost.push(refusal);
                }
            }
        }
        let hold = HoldReason::new(
            FindingCode::OutOfStock,
            HoldCategory::Stock,
            Some("lines".into()),
            format!("other orders took the stock while routing: {}", lost.join("; ")),
        );
        Ok(Decision {
            outcome: Err(vec![hold]),
            explanation: None,
            warnings: Vec::new(),
            taken: Vec::new(),
            held_before,
        })
    }

    /// Validation estimated the margin with the cheapest offers and the catalog's shipping
    /// estimates; the plan chosen may cost more (a split, a dearer supplier, a reroute). The
    /// order's live purchase orders plus the new ones, each with its configured shipping to the
    /// order's zone and its fee, must still clear the floor, unless an operator accepted the
    /// margin already.
    fn margin_hold(
        &self,
        record: &OrderRecord,
        new: &[PurchaseOrder],
        config: &dropline_domain::routing::config::RoutingConfig,
    ) -> Option<HoldReason> {
        if record.overrides.iter().any(|o| o.code == FindingCode::MarginBelowFloor) {
            return None;
        }
        let level = record.service_level.unwrap_or(ServiceLevel::Standard);
        let country = record.order.destination_country().unwrap_or("");
        let zone = config.zone(country);
        let live =
            record.purchase_orders.iter().filter(|p| !matches!(p.status, PoStatus::Rejected | PoStatus::Cancelled));
        let mut cost = Money::ZERO;
        for po in live.chain(new) {
            for l in &po.lines {
                cost = cost.plus(l.unit_cost.times(l.quantity));
            }
            if let Some(s) = config.supplier(&po.supplier_id) {
                let shipping = zone.and_then(|z| s.service(level, z)).map(|svc| svc.cost);
                cost = cost.plus(shipping.unwrap_or(Money::ZERO)).plus(s.order_fee);
            }
        }
        margin_below_floor(&record.order, cost.amount(), &self.policy, " with the route chosen")
    }

    /// Gives back every reservation of this order that the stored record does not use: all of
    /// them when this invocation's outcome was stored (earlier attempts' leftovers included),
    /// only its own when another change won (the winner's are the winner's).
    async fn release_unused(&self, d: &Decision, stored: &OrderRecord, ours: bool) -> Result<(), StepError> {
        let live: std::collections::HashSet<String> = stored
            .purchase_orders
            .iter()
            .filter(|p| !matches!(p.status, PoStatus::Rejected | PoStatus::Cancelled))
            .flat_map(|p| p.lines.iter().map(|l| Reservation::holder_for(&p.id, &l.line_id, &p.supplier_id)))
            .collect();
        let earlier = d.held_before.iter().filter(|_| ours).map(|r| (&r.sku, &r.holder));
        for (sku, holder) in d.taken.iter().map(|(s, h)| (s, h)).chain(earlier) {
            if !live.contains(holder) {
                self.stock.release(sku, holder).await?;
            }
        }
        Ok(())
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(ACTOR, event, |m| self.process(m)).await
    }

    pub async fn process(&self, message: WorkMessage) -> Result<(), StepError> {
        let id = &message.order_id;
        let mut record = load_order(self.store.as_ref(), id).await?;
        let mut changed = false;
        if record.status == OrderStatus::Validated {
            for po in
                record.purchase_orders.iter().filter(|p| matches!(p.status, PoStatus::Rejected | PoStatus::Cancelled))
            {
                record_outcomes(self.outcomes.as_ref(), po, &OutcomeSlot::ALL).await?;
            }
            let now = self.clock.now();
            let decision = self.decide(&record, now).await?;
            let planned_from = record.purchase_orders.len();
            let updated = update_from(self.store.as_ref(), id, Some(record.clone()), |r| {
                // The purchase order ids were chosen (and their stock reserved) against the
                // record as read; a record changed since is somebody else's business.
                if r.status != OrderStatus::Validated || r.purchase_orders.len() != planned_from {
                    return Ok(None);
                }
                if let Some(explanation) = &decision.explanation {
                    r.routing.push(explanation.clone());
                    let excess = r.routing.len().saturating_sub(5);
                    r.routing.drain(..excess);
                }
                for w in &decision.warnings {
                    if !r.warnings.iter().any(|x| x.code == w.code) {
                        r.warnings.push(w.clone());
                    }
                }
                let result = match &decision.outcome {
                    Ok(pos) => {
                        r.purchase_orders.extend(pos.iter().cloned());
                        let mut summary: Vec<String> =
                            pos.iter().map(|p| format!("{} -> {}", p.number, p.supplier_id)).collect();
                        if planned_from > 0 {
                            let replaced: Vec<String> =
                                r.routing_exclusions.iter().map(|x| format!("{} ({})", x.po, x.code)).collect();
                            summary.push(format!("rerouted after {}", replaced.join(", ")));
                        }
                        r.transition(OrderStatus::Routed, ACTOR, summary.join(", "), now)
                    }
                    Err(reasons) => r.hold(reasons.clone(), ACTOR, now),
                };
                result.map_err(|e| StepError::Poison(e.to_string()))?;
                Ok(Some(()))
            })
            .await?;
            self.release_unused(&decision, &updated.record, updated.changed).await?;
            if updated.record.status == OrderStatus::OnHold {
                // Held: nothing of the order's stays held, whatever an earlier attempt took.
                release_orphans(self.stock.as_ref(), &updated.record).await?;
            }
            record = updated.record;
            changed = updated.changed;
            if changed {
                match record.status {
                    OrderStatus::Routed => {
                        tracing::info!(order_id = %id, purchase_orders = record.purchase_orders.len(), "order routed")
                    }
                    OrderStatus::OnHold => tracing::info!(order_id = %id, "order held: no route"),
                    _ => {}
                }
            }
        }
        if record.status_set_by() != Some(ACTOR) || !matches!(record.status, OrderStatus::Routed | OrderStatus::OnHold)
        {
            tracing::debug!(order_id = %id, status = %record.status, "nothing to route");
            return Ok(());
        }
        if !changed {
            tracing::info!(order_id = %id, status = %record.status, "redelivered; finishing what the first attempt began");
            // The first attempt may have died between its write and giving back what it
            // reserved and did not use (or an earlier attempt's leftovers): give them back now.
            release_orphans(self.stock.as_ref(), &record).await?;
        }
        let pending: Vec<WorkMessage> = record
            .purchase_orders
            .iter()
            .filter(|p| p.status == PoStatus::Pending)
            .map(|p| WorkMessage::purchase_order(p.id.clone(), ACTOR))
            .collect();
        self.queue.enqueue(Step::NotifySupplier, &pending).await?;
        // The status event went into the outbox with the transition; publish it now.
        outbox::drain(self.events.as_ref(), self.store.as_ref(), record).await;
        Ok(())
    }
}
