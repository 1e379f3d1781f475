//! Whether an order's totals add up, to the currency's minor unit.

use super::*;
use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::CanonicalOrder;
use crate::primitives::money::Money;
use crate::primitives::money::{in_minor_units, round_to_minor_units};
use rust_decimal::Decimal;

/// `subtotal + shipping + other - discounts (+ tax unless included) = total`, and the lines add
/// up to the subtotal, each to the currency's minor unit; and every disagreement among the
/// store's own figures noted when the payload was read.
pub fn totals_findings(order: &CanonicalOrder) -> Vec<HoldReason> {
    let t = &order.totals;
    let c = order.currency;
    let mut out = Vec::new();
    for d in &t.disagreements {
        let figures: Vec<String> =
            d.figures.iter().map(|f| format!("{} {}", f.name, f.amount.in_minor_units(c))).collect();
        out.push(reason(
            FindingCode::TotalsMismatch,
            HoldCategory::Payment,
            "totals",
            format!("the store's own figures disagree: {} does not hold ({}, in {c})", d.relation, figures.join(", ")),
        ));
    }
    let lines: Money = order.lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    if lines.rounded(c) != t.subtotal.rounded(c) {
        out.push(reason(
            FindingCode::TotalsMismatch,
            HoldCategory::Payment,
            "totals.subtotal",
            format!(
                "the lines add up to {} {c} but the subtotal is {} {c}",
                lines.in_minor_units(c),
                t.subtotal.in_minor_units(c)
            ),
        ));
    }
    let tax = if t.taxes_included { Decimal::ZERO } else { t.tax.amount() };
    // Saturating: absurd amounts make a mismatch, never a panic.
    let expected = t
        .subtotal
        .amount()
        .saturating_add(t.shipping.amount())
        .saturating_add(t.other.amount())
        .saturating_sub(t.discounts.amount())
        .saturating_add(tax);
    let expected = round_to_minor_units(expected, c);
    if expected != t.total.rounded(c) {
        let tax_note = if t.taxes_included { "tax included in prices" } else { "+ tax" };
        out.push(reason(
            FindingCode::TotalsMismatch,
            HoldCategory::Payment,
            "totals.total",
            format!(
                "subtotal {} + shipping {} + other {} - discounts {} ({tax_note} {}) = {} {c}, but the total is {} {c}",
                t.subtotal.in_minor_units(c),
                t.shipping.in_minor_units(c),
                t.other.in_minor_units(c),
                t.discounts.in_minor_units(c),
                t.tax.in_minor_units(c),
                in_minor_units(expected, c),
                t.total.in_minor_units(c)
            ),
        ));
    }
    out
}
