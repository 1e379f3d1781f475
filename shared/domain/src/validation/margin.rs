//! The margin of a sale against the floor.

use super::*;
use crate::catalog::{CatalogView, Offer};
use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::CanonicalOrder;
use rust_decimal::Decimal;

/// The order's margin with the offer routing will choose for each line: net revenue (total less tax and
/// pass-through amounts) less item costs, each supplier's shipping estimate and fee, and payment
/// fees. Below the floor -> hold as pricing. Costs are taken in the order's currency.
pub(super) fn margin_finding(
    order: &CanonicalOrder,
    offers: &[&Offer],
    catalog: &CatalogView,
    policy: &ValidationPolicy,
) -> Option<HoldReason> {
    if policy.margin_floor == MarginFloor::Off {
        return None;
    }
    let mut cost = Decimal::ZERO;
    let mut suppliers: Vec<&crate::primitives::ids::SupplierId> = Vec::new();
    for (line, offer) in order.lines.iter().zip(offers) {
        cost = cost.saturating_add(offer.cost.times(line.quantity).amount());
        if !suppliers.contains(&&offer.supplier_id) {
            suppliers.push(&offer.supplier_id);
            if let Some(s) = catalog.supplier(&offer.supplier_id) {
                cost = cost.saturating_add(s.shipping_estimate.amount()).saturating_add(s.order_fee.amount());
            }
        }
    }
    margin_below_floor(order, cost, policy, "")
}

/// The `margin_below_floor` hold when the order's net revenue less `supply_cost` (items,
/// shipping and supplier fees, in the order's currency) and payment fees is under the floor.
/// Validation asks it with its estimate; route again with the plan it chose (`context` says so).
pub fn margin_below_floor(
    order: &CanonicalOrder,
    supply_cost: Decimal,
    policy: &ValidationPolicy,
    context: &str,
) -> Option<HoldReason> {
    let t = &order.totals;
    let revenue = t.total.amount().saturating_sub(t.tax.amount()).saturating_sub(t.other.amount());
    let cost = policy.payment_fees.on(t.total).amount().saturating_add(supply_cost);
    let margin = revenue.saturating_sub(cost);
    let floor = match policy.margin_floor {
        MarginFloor::Absolute(m) => m.amount(),
        MarginFloor::Percent(p) => percent_of(revenue, p),
        MarginFloor::Off => return None,
    };
    let c = order.currency;
    let round = |d: Decimal| crate::primitives::money::in_minor_units(d, c);
    (margin < floor).then(|| {
        reason(
            FindingCode::MarginBelowFloor,
            HoldCategory::Pricing,
            "totals",
            format!(
                "margin {} {c} (revenue {} less costs {}){context} is below the floor of {} {c}",
                round(margin),
                round(revenue),
                round(cost),
                round(floor)
            ),
        )
    })
}
