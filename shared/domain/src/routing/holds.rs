//! The holds routing gives, and the decision's one-line outcome.

use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::{Candidate, Ruled};
use crate::primitives::ids::Sku;
use std::collections::BTreeSet;

pub(super) fn fills_summary(candidates: &[Candidate]) -> String {
    candidates
        .iter()
        .filter(|c| !c.fills.is_empty())
        .map(|c| format!("{} fills line {}", c.supplier_id, c.fills.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn outcome_of_holds(holds: &[HoldReason]) -> String {
    let codes: BTreeSet<&str> = holds.iter().map(|h| h.code.as_str()).collect();
    format!("held: {}", codes.into_iter().collect::<Vec<_>>().join(", "))
}

/// The hold for a line no candidate can take: a stock problem when stock is all that stops
/// some candidate, `ship_by_unmet` when the promise is, else `no_supplier_for_line`; the
/// message names every candidate and what ruled it out.
pub(super) fn unroutable_line(
    i: usize,
    quantity: u32,
    sku: &Sku,
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
        (FindingCode::StockUnknown, HoldCategory::Stock)
    } else if only.contains("out_of_stock") {
        (FindingCode::OutOfStock, HoldCategory::Stock)
    } else if only.contains("ship_by_unmet") {
        (FindingCode::ShipByUnmet, HoldCategory::Routing)
    } else {
        (FindingCode::NoSupplierForLine, HoldCategory::Routing)
    };
    let detail = if detail.is_empty() { "no supplier carries it".to_string() } else { detail.join("; ") };
    HoldReason::new(
        code,
        category,
        Some(format!("lines[{i}].sku")),
        format!("no supplier can fill line {} (SKU {sku} x{quantity}): {detail}", i + 1),
    )
}
