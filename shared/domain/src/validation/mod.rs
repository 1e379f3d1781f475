//! Validation rules: pure functions from an order and the catalog to every reason it must wait
//! for a human. No I/O; the validate function loads the inputs and stores the verdict.

pub mod address;
pub mod countries;
pub mod duplicates;
mod margin;
mod policy;
mod refusal;
pub mod required_letters;
mod totals;

#[cfg(test)]
mod tests;
use crate::catalog::{Availability, CatalogView, Offer};
use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::{CanonicalOrder, ServiceLevel};
use crate::primitives::ids::SupplierId;
use crate::validation::address::AddressVerdict;
use chrono::{DateTime, Utc};
pub use margin::*;
pub use policy::*;
pub use refusal::*;
pub use totals::*;

fn reason(code: FindingCode, category: HoldCategory, field: &str, message: String) -> HoldReason {
    HoldReason::new(code, category, Some(field.to_string()), message)
}

/// What validation found about an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationReport {
    /// Holds (it cannot proceed) and warnings (stored on it). No hold means it may proceed.
    pub findings: Vec<HoldReason>,
    /// The shipping address after normalization, with what changed.
    pub address: Option<AddressVerdict>,
    /// The service level the customer paid for, when the shipping method maps to one.
    pub service_level: Option<ServiceLevel>,
}

impl ValidationReport {
    pub fn holds(&self) -> impl Iterator<Item = &HoldReason> {
        self.findings.iter().filter(|f| f.holds())
    }
    pub fn passes(&self) -> bool {
        self.holds().next().is_none()
    }
}

/// Every finding about the order, its normalized address and its service level.
pub fn validate(
    order: &CanonicalOrder,
    catalog: &CatalogView,
    policy: &ValidationPolicy,
    now: DateTime<Utc>,
) -> ValidationReport {
    let mut out = Vec::new();

    if order.cancelled_at.is_some() {
        out.push(reason(
            FindingCode::OrderCancelled,
            HoldCategory::Order,
            "cancelled_at",
            "the store cancelled this order".into(),
        ));
    }
    if order.test {
        out.push(reason(
            FindingCode::TestOrder,
            HoldCategory::Order,
            "test",
            "a test order never goes to a supplier".into(),
        ));
    }
    if !policy.accepted_financial_statuses.contains(&order.financial_status) {
        let accepted: Vec<&str> = policy.accepted_financial_statuses.iter().map(|s| s.as_str()).collect();
        out.push(reason(
            FindingCode::PaymentNotAccepted,
            HoldCategory::Payment,
            "financial_status",
            payment_message(order, &accepted),
        ));
    }
    if !policy.currencies.contains(&order.currency) {
        let supported: Vec<&str> = policy.currencies.iter().map(|c| c.as_str()).collect();
        out.push(reason(
            FindingCode::CurrencyUnsupported,
            HoldCategory::Payment,
            "currency",
            format!("the order is in {}; supported: {}", order.currency, supported.join(", ")),
        ));
    }
    out.extend(totals_findings(order));

    let mut address = None;
    match &order.shipping_address {
        None => out.push(reason(
            FindingCode::AddressMissing,
            HoldCategory::Address,
            "shipping_address",
            "the order has no shipping address".into(),
        )),
        Some(a) => {
            let verdict = crate::validation::address::check(a, crate::validation::address::AddressRules::bundled());
            out.extend(verdict.findings.iter().cloned());
            address = Some(verdict);
        }
    }

    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !has(&order.contact.email) && !has(&order.contact.phone) {
        out.push(reason(
            FindingCode::ContactMissing,
            HoldCategory::Contact,
            "contact",
            "neither an email nor a phone number to reach the customer".into(),
        ));
    }

    let service_level = policy.shipping.level_of(order.shipping_method.as_ref());
    if service_level.is_none() {
        let message = match &order.shipping_method {
            None => "the order has no shipping method and no default service level is configured".to_string(),
            Some(m) => format!("shipping method {:?} ({}) maps to no service level", m.title, m.code),
        };
        out.push(reason(FindingCode::ShippingMethodUnmapped, HoldCategory::Mapping, "shipping_method", message));
    }

    let country = address
        .as_ref()
        .map(|v| v.address.country.as_str())
        .unwrap_or_else(|| order.destination_country().unwrap_or(""));
    out.extend(line_id_findings(order));
    // The offer routing will choose for each line, for the margin check.
    let mut chosen: Vec<Option<&Offer>> = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        chosen.push(None);
        let field = |f: &str| format!("lines[{i}].{f}");
        if line.quantity == 0 {
            out.push(reason(
                FindingCode::QuantityNotPositive,
                HoldCategory::Order,
                &field("quantity"),
                format!("line {} ({}) has quantity 0", i + 1, line.title),
            ));
            continue;
        }
        let Some(sku) = &line.sku else {
            if let Some(problem) = &line.sku_problem {
                out.push(reason(
                    FindingCode::SkuInvalid,
                    HoldCategory::Mapping,
                    &field("sku"),
                    format!("line {} ({}): {problem}", i + 1, line.title),
                ));
                continue;
            }
            out.push(reason(
                FindingCode::SkuMissing,
                HoldCategory::Mapping,
                &field("sku"),
                format!("line {} ({}) has no SKU to map to a supplier item", i + 1, line.title),
            ));
            continue;
        };
        let offers = catalog.offers_for(sku);
        if offers.is_empty() {
            out.push(reason(
                FindingCode::SkuUnmapped,
                HoldCategory::Mapping,
                &field("sku"),
                format!("SKU {sku} is not mapped to any supplier item"),
            ));
            continue;
        }
        let active: Vec<&Offer> = offers.iter().filter(|o| o.active).collect();
        if active.is_empty() {
            out.push(reason(
                FindingCode::SkuDiscontinued,
                HoldCategory::Mapping,
                &field("sku"),
                format!("every supplier item mapped to SKU {sku} is discontinued"),
            ));
            continue;
        }
        let mismatches: Vec<String> = active
            .iter()
            .filter_map(|o| variant_mismatch(line, o).map(|r| format!("{} ({}): {r}", o.supplier_id, o.supplier_sku)))
            .collect();
        if !mismatches.is_empty() {
            // Only when no supplier has the right variant does the line wait for a human; a
            // wrong mapping elsewhere is a warning (routing rules those offers out on its own).
            if active.iter().all(|o| variant_mismatch(line, o).is_some()) {
                out.push(reason(
                    FindingCode::VariantMismatch,
                    HoldCategory::Mapping,
                    &field("variant_title"),
                    format!("SKU {sku} is mapped to a different variant: {}", mismatches.join("; ")),
                ));
                continue;
            }
            out.push(HoldReason::warning(
                FindingCode::VariantMismatch,
                HoldCategory::Mapping,
                Some(field("variant_title")),
                format!(
                    "SKU {sku}: these suppliers are mapped to a different variant and can't fill it: {}",
                    mismatches.join("; ")
                ),
            ));
        }
        // Stock, after buffers and reservations, from suppliers that ship there.
        let verdicts: Vec<(&Offer, Option<Refusal>)> = active
            .iter()
            .map(|o| {
                let supplier = catalog.supplier(&o.supplier_id);
                (*o, refusal(line, order_needs(order, sku), o, supplier, country, now, policy.unknown_stock))
            })
            .collect();
        // The offer routing will choose: the first that can fill the line, in catalog order.
        chosen[i] = verdicts.iter().find(|(_, r)| r.is_none()).map(|(o, _)| *o);
        if chosen[i].is_some() {
            // Filled only by trusting stale snapshots (the policy allows it): say so on the order.
            let fresh = || {
                verdicts.iter().any(|(o, r)| {
                    r.is_none()
                        && matches!(o.availability(catalog.supplier(&o.supplier_id), now), Availability::Known(_))
                })
            };
            if policy.unknown_stock == UnknownStock::Proceed && !fresh() {
                out.push(HoldReason::warning(
                    FindingCode::StockUnknown,
                    HoldCategory::Stock,
                    Some(field("sku")),
                    format!("SKU {sku}: only stale stock snapshots can fill it; proceeding as configured"),
                ));
            }
            continue;
        }
        let refusals: Vec<(&SupplierId, Refusal)> =
            verdicts.into_iter().filter_map(|(o, r)| r.map(|r| (&o.supplier_id, r))).collect();
        out.push(unfillable_line(i, line, sku, &refusals));
    }
    if chosen.iter().all(Option::is_some) && !chosen.is_empty() {
        let offers: Vec<&Offer> = chosen.into_iter().flatten().collect();
        out.extend(margin_finding(order, &offers, catalog, policy));
    }
    ValidationReport { findings: out, address, service_level }
}

/// "payment is partially_refunded (12.00 USD of 50.00 USD refunded); accepted: paid".
fn payment_message(order: &CanonicalOrder, accepted: &[&str]) -> String {
    let t = &order.totals;
    let refunded = if t.refunded.amount().is_zero() {
        String::new()
    } else {
        let c = order.currency;
        format!(" ({} {c} of {} {c} refunded)", t.refunded.in_minor_units(c), t.total.in_minor_units(c))
    };
    format!("payment is {}{refunded}; accepted: {}", order.financial_status.as_str(), accepted.join(", "))
}

/// The longest line id Dropline keeps: it is part of every reservation holder and supplier
/// document, and a store's line ids are numbers or short keys.
pub const MAX_LINE_ID_LEN: usize = 64;

/// Line ids must tell the lines apart: each names a reservation holder and a supplier's line,
/// so two lines sharing one would share their stock hold and undercount it.
fn line_id_findings(order: &CanonicalOrder) -> Vec<HoldReason> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in order.lines.iter().enumerate() {
        let id = line.line_id.trim();
        let problem = if id.is_empty() {
            Some("has no line id".to_string())
        } else if id.len() > MAX_LINE_ID_LEN {
            Some(format!("has a line id of {} characters (at most {MAX_LINE_ID_LEN})", id.len()))
        } else if !seen.insert(id) {
            Some(format!("repeats the line id {id:?} of an earlier line"))
        } else {
            None
        };
        if let Some(p) = problem {
            out.push(reason(
                FindingCode::LineIdInvalid,
                HoldCategory::Order,
                &format!("lines[{i}].line_id"),
                format!("line {} ({}) {p}", i + 1, line.title),
            ));
        }
    }
    out
}
