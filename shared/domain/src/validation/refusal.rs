//! Whether an offer can fill a line now: the one answer validation and routing both ask.

use super::*;
use crate::catalog::{Availability, Offer, Supplier};
use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::{CanonicalOrder, LineItem};
use crate::primitives::ids::SupplierId;
use chrono::{DateTime, Utc};

/// Why an offer can't fill a line. Validation and routing ask the same question through
/// [`refusal`], so they never disagree about an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Discontinued,
    /// The supplier variant's attribute disagrees with what the customer ordered.
    VariantMismatch {
        attribute: String,
        ordered: String,
        offered: String,
    },
    SupplierUnknown,
    NoShipping {
        country: String,
    },
    /// The snapshot is too old to trust (and the policy holds on unknown stock).
    StaleStock {
        as_of: Option<DateTime<Utc>>,
    },
    Short {
        available: u32,
        needed: u32,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Discontinued => write!(f, "discontinued"),
            Refusal::VariantMismatch { attribute, ordered, offered } => {
                write!(f, "{attribute} is {offered:?}, the customer ordered {ordered:?}")
            }
            Refusal::SupplierUnknown => write!(f, "supplier not configured"),
            Refusal::NoShipping { country } => write!(f, "does not ship to {country}"),
            Refusal::StaleStock { as_of: Some(at) } => write!(f, "stock snapshot from {} is stale", at.to_rfc3339()),
            Refusal::StaleStock { as_of: None } => write!(f, "stock snapshot has no time"),
            Refusal::Short { available, needed } => write!(f, "{available} available, {needed} needed"),
        }
    }
}

/// The first attribute of `offer` that disagrees with the line's options (by name) or, when the
/// channel sent no option of that name, with its variant title (`M / Black`): an offer's
/// attributes are its variant's options, so each value must be one of the title's parts.
/// Comparison ignores case and spacing; a line with neither options nor title agrees.
pub fn variant_mismatch(line: &LineItem, offer: &Offer) -> Option<Refusal> {
    if offer.attributes.is_empty() || (line.options.is_empty() && line.variant_title.is_none()) {
        return None;
    }
    let title_parts: Vec<String> = line
        .variant_title
        .as_deref()
        .map(|t| t.split('/').map(squash).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    for (name, value) in &offer.attributes {
        let (n, v) = (squash(name), squash(value));
        if v.is_empty() {
            continue;
        }
        let ordered = match line.options.iter().find(|o| squash(&o.name) == n) {
            Some(o) => Some(o.value.clone()).filter(|_| squash(&o.value) != v),
            None if !title_parts.is_empty() && !title_parts.contains(&v) => line.variant_title.clone(),
            None => None,
        };
        if let Some(ordered) = ordered {
            return Some(Refusal::VariantMismatch { attribute: name.clone(), ordered, offered: value.clone() });
        }
    }
    None
}

/// The units of `sku` the whole order needs: lines of one SKU draw on the same stock.
pub fn order_needs(order: &CanonicalOrder, sku: &crate::primitives::ids::Sku) -> u32 {
    order.lines.iter().filter(|l| l.sku.as_ref() == Some(sku)).map(|l| l.quantity).fold(0, u32::saturating_add)
}

/// Why `offer` can't fill `line` (the order needing `need` units of its SKU in all) for an
/// order to `country` now, or `None` when it can.
pub fn refusal(
    line: &LineItem,
    need: u32,
    offer: &Offer,
    supplier: Option<&Supplier>,
    country: &str,
    now: DateTime<Utc>,
    unknown_stock: UnknownStock,
) -> Option<Refusal> {
    if !offer.active {
        return Some(Refusal::Discontinued);
    }
    if let Some(m) = variant_mismatch(line, offer) {
        return Some(m);
    }
    let Some(supplier) = supplier else { return Some(Refusal::SupplierUnknown) };
    if !supplier.ships_to(country) {
        return Some(Refusal::NoShipping { country: country.to_string() });
    }
    match offer.availability(Some(supplier), now) {
        Availability::Known(n) if n >= need => None,
        Availability::Known(n) => Some(Refusal::Short { available: n, needed: need }),
        Availability::Stale { .. } if unknown_stock == UnknownStock::Proceed => None,
        Availability::Stale { as_of } => Some(Refusal::StaleStock { as_of }),
    }
}

/// The hold for a line no offer can fill, from each offer's refusal: a stock problem when stock
/// is what stops an offer that otherwise fits (`out_of_stock`, or `stock_unknown` when a stale
/// snapshot is among them), else `no_supplier_for_line`.
pub fn unfillable_line(
    i: usize,
    line: &LineItem,
    sku: &crate::primitives::ids::Sku,
    refusals: &[(&SupplierId, Refusal)],
) -> HoldReason {
    let stock = |r: &Refusal| matches!(r, Refusal::Short { .. } | Refusal::StaleStock { .. });
    let (code, category) = if refusals.iter().any(|(_, r)| matches!(r, Refusal::StaleStock { .. })) {
        (FindingCode::StockUnknown, HoldCategory::Stock)
    } else if refusals.iter().any(|(_, r)| stock(r)) {
        (FindingCode::OutOfStock, HoldCategory::Stock)
    } else {
        (FindingCode::NoSupplierForLine, HoldCategory::Routing)
    };
    let detail: Vec<String> = refusals.iter().map(|(s, r)| format!("{s}: {r}")).collect();
    let detail = if detail.is_empty() { "no supplier carries it".to_string() } else { detail.join("; ") };
    reason(
        code,
        category,
        &format!("lines[{i}].sku"),
        format!("no supplier can fill line {} (SKU {sku} x{}): {detail}", i + 1, line.quantity),
    )
}
