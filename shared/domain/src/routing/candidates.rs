//! The candidates: every supplier with an offer for a routed line, each either ruled out by a
//! named hard constraint (for the whole order or for a line) or qualified with its offers,
//! shipping, promise and reliability.

use super::Request;
use crate::catalog::{CatalogView, Offer};
use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::{Candidate, CanonicalOrder, Figures, Ruled};
use crate::performance::{Outcomes, expected_performance, reliability};
use crate::primitives::calendar::delivery_window;
use crate::primitives::ids::{Sku, SupplierId};
use crate::primitives::money::Money;
use crate::routing::config::{RoutingConfig, RoutingSupplier, Rule};
use crate::routing::score::round6;
use crate::validation::{Refusal, refusal};
use chrono::{DateTime, NaiveDate, Utc};

/// Order line index -> the offer a supplier would use for it: a slot per order line (orders
/// have a few lines; a map would cost more than it saves).
pub(super) struct LineOffers<'a>(Vec<Option<&'a Offer>>);

impl<'a> LineOffers<'a> {
    pub(super) fn new(lines: usize) -> Self {
        Self(vec![None; lines])
    }
    pub(super) fn insert(&mut self, i: usize, o: &'a Offer) {
        if let Some(slot) = self.0.get_mut(i) {
            *slot = Some(o);
        }
    }
    pub(super) fn remove(&mut self, i: &usize) {
        if let Some(slot) = self.0.get_mut(*i) {
            *slot = None;
        }
    }
    pub(super) fn get(&self, i: &usize) -> Option<&'a Offer> {
        self.0.get(*i).copied().flatten()
    }
    pub(super) fn contains_key(&self, i: &usize) -> bool {
        self.get(i).is_some()
    }
    pub(super) fn keys(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().filter(|(_, o)| o.is_some()).map(|(i, _)| i)
    }
    pub(super) fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
    /// The item cost of `lines` (each must have an offer; a line without one costs nothing).
    pub(super) fn cost(&self, order: &CanonicalOrder, lines: impl Iterator<Item = usize>) -> Money {
        lines.fold(Money::ZERO, |acc, i| match self.get(&i) {
            Some(o) => acc.plus(o.cost.times(order.lines[i].quantity)),
            None => acc,
        })
    }
}

/// A qualifying supplier's working data.
pub(super) struct Qualified<'a> {
    pub(super) supplier: &'a RoutingSupplier,
    pub(super) offers: LineOffers<'a>,
    pub(super) shipping: Money,
    pub(super) ship_by: DateTime<Utc>,
    pub(super) delivery: (NaiveDate, NaiveDate),
    pub(super) reliability: f64,
}

/// What every candidate is judged against.
pub(super) struct Context<'a> {
    pub(super) req: &'a Request<'a>,
    pub(super) catalog: &'a CatalogView,
    pub(super) config: &'a RoutingConfig,
    pub(super) country: &'a str,
    pub(super) zone: Option<&'a str>,
    pub(super) rules: &'a [(&'a Rule, Vec<usize>)],
    /// The units each SKU needs across the routed lines (lines of one SKU draw on one offer).
    pub(super) needs: Vec<(&'a Sku, u32)>,
    /// When an order of this service level must ship, if the policy says.
    pub(super) deadline: Option<DateTime<Utc>>,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        req: &'a Request<'a>,
        catalog: &'a CatalogView,
        config: &'a RoutingConfig,
        country: &'a str,
        zone: Option<&'a str>,
        rules: &'a [(&'a Rule, Vec<usize>)],
    ) -> Self {
        let order = req.order;
        let mut needs: Vec<(&Sku, u32)> = Vec::with_capacity(req.lines.len());
        for &i in req.lines {
            if let Some(s) = &order.lines[i].sku {
                match needs.iter_mut().find(|(k, _)| *k == s) {
                    Some((_, n)) => *n = n.saturating_add(order.lines[i].quantity),
                    None => needs.push((s, order.lines[i].quantity)),
                }
            }
        }
        let deadline = config
            .policy
            .ship_within_hours
            .get(&req.service_level)
            .map(|h| order.created_at + chrono::Duration::hours(i64::from(*h)));
        Self { req, catalog, config, country, zone, rules, needs, deadline }
    }

    fn waived(&self, code: FindingCode) -> bool {
        self.req.waived.contains(&code)
    }

    /// Judges supplier `id`: its candidate entry for the decision, and its working data when it
    /// qualifies for some line. A waived `ship_by_unmet` becomes a warning.
    pub(super) fn consider(
        &self,
        id: &SupplierId,
        warnings: &mut Vec<HoldReason>,
    ) -> (Candidate, Option<Qualified<'a>>) {
        let (req, config, order, now) = (self.req, self.config, self.req.order, self.req.now);
        let (country, zone, level) = (self.country, self.zone, req.service_level);
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
        if let (Some(ship_by), Some(deadline)) = (ship_by, self.deadline)
            && ship_by > deadline
        {
            let detail = format!(
                "ships by {} at the earliest; {level} orders must ship by {}",
                ship_by.to_rfc3339(),
                deadline.to_rfc3339()
            );
            if self.waived(FindingCode::ShipByUnmet) {
                warnings.push(HoldReason::warning(
                    FindingCode::ShipByUnmet,
                    HoldCategory::Routing,
                    None,
                    format!("{id}: {detail} (overridden)"),
                ));
            } else {
                ruled.push(whole("ship_by_unmet", detail));
            }
        }
        let offers = self.line_offers(id, &mut ruled);
        let whole_ruled = ruled.iter().any(|r| r.line.is_none());
        let fills: Vec<String> =
            if whole_ruled { Vec::new() } else { offers.keys().map(|i| order.lines[i].line_id.clone()).collect() };
        let mut figures = None;
        let mut qualified = None;
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
            qualified = Some(q);
        }
        (Candidate { supplier_id: id.clone(), fills, ruled_out: ruled, figures }, qualified)
    }

    /// The offer supplier `id` would use for each routed line it may fill; what rules a line
    /// out (a rule, not carried, validation's refusal) is added to `ruled`.
    fn line_offers(&self, id: &SupplierId, ruled: &mut Vec<Ruled>) -> LineOffers<'a> {
        let (req, catalog, order, now) = (self.req, self.catalog, self.req.order, self.req.now);
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
            for (rule, lines) in self.rules {
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
                let need = self.needs.iter().find(|(k, _)| *k == sku).map(|(_, n)| *n).unwrap_or(line.quantity);
                let mut best: Option<&Offer> = None;
                let mut why = None;
                for o in mine {
                    match refusal(line, need, o, catalog_supplier, self.country, now, req.unknown_stock) {
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
        offers
    }
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
