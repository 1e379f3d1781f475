//! Validation rules: pure functions from an order and the catalog to every reason it must wait
//! for a human. No I/O; the validate function loads the inputs and stores the verdict.

use crate::address::AddressVerdict;
use crate::catalog::CatalogView;
use crate::order::{CanonicalOrder, FinancialStatus};
use crate::record::{HoldCategory, HoldReason};
use serde::{Deserialize, Serialize};

/// What the merchant accepts; from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationPolicy {
    /// Payment states that may proceed (default: paid only).
    pub accepted_financial_statuses: Vec<FinancialStatus>,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        Self { accepted_financial_statuses: vec![FinancialStatus::Paid] }
    }
}

impl ValidationPolicy {
    /// Parses a comma-separated list (`paid,authorized`).
    pub fn parse_statuses(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(FinancialStatus::parse(part).ok_or_else(|| format!("unknown financial status {part:?}"))?);
        }
        if out.is_empty() {
            return Err("at least one financial status must be accepted".into());
        }
        Ok(Self { accepted_financial_statuses: out })
    }
}

fn reason(code: &str, category: HoldCategory, field: &str, message: String) -> HoldReason {
    HoldReason::new(code, category, Some(field.to_string()), message)
}

/// What validation found about an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationReport {
    /// Holds (it cannot proceed) and warnings (stored on it). No hold means it may proceed.
    pub findings: Vec<HoldReason>,
    /// The shipping address after normalization, with what changed.
    pub address: Option<AddressVerdict>,
}

impl ValidationReport {
    pub fn holds(&self) -> impl Iterator<Item = &HoldReason> {
        self.findings.iter().filter(|f| f.holds())
    }
    pub fn passes(&self) -> bool {
        self.holds().next().is_none()
    }
}

/// Every finding about the order, and its normalized address.
pub fn validate(order: &CanonicalOrder, catalog: &CatalogView, policy: &ValidationPolicy) -> ValidationReport {
    let mut out = Vec::new();

    if order.cancelled_at.is_some() {
        out.push(reason(
            "order_cancelled",
            HoldCategory::Order,
            "cancelled_at",
            "the store cancelled this order".into(),
        ));
    }
    if order.test {
        out.push(reason("test_order", HoldCategory::Order, "test", "a test order never goes to a supplier".into()));
    }
    if !policy.accepted_financial_statuses.contains(&order.financial_status) {
        let accepted: Vec<&str> = policy.accepted_financial_statuses.iter().map(|s| s.as_str()).collect();
        out.push(reason(
            "payment_not_accepted",
            HoldCategory::Payment,
            "financial_status",
            format!("payment is {}; accepted: {}", order.financial_status.as_str(), accepted.join(", ")),
        ));
    }

    let mut address = None;
    match &order.shipping_address {
        None => out.push(reason(
            "address_missing",
            HoldCategory::Address,
            "shipping_address",
            "the order has no shipping address".into(),
        )),
        Some(a) => {
            let verdict = crate::address::check(a, crate::address::AddressRules::bundled());
            out.extend(verdict.findings.iter().cloned());
            address = Some(verdict);
        }
    }

    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !has(&order.contact.email) && !has(&order.contact.phone) {
        out.push(reason(
            "contact_missing",
            HoldCategory::Contact,
            "contact",
            "neither an email nor a phone number to reach the customer".into(),
        ));
    }

    for (i, line) in order.lines.iter().enumerate() {
        let field = |f: &str| format!("lines[{i}].{f}");
        if line.quantity == 0 {
            out.push(reason(
                "quantity_not_positive",
                HoldCategory::Order,
                &field("quantity"),
                format!("line {} ({}) has quantity 0", i + 1, line.title),
            ));
        }
        match &line.sku {
            None => out.push(reason(
                "sku_missing",
                HoldCategory::Mapping,
                &field("sku"),
                format!("line {} ({}) has no SKU to map to a supplier item", i + 1, line.title),
            )),
            Some(sku) => {
                let offers = catalog.offers_for(sku);
                if offers.is_empty() {
                    out.push(reason(
                        "sku_unmapped",
                        HoldCategory::Mapping,
                        &field("sku"),
                        format!("SKU {sku} is not mapped to any supplier item"),
                    ));
                } else if !offers.iter().any(|o| o.active) {
                    out.push(reason(
                        "sku_discontinued",
                        HoldCategory::Mapping,
                        &field("sku"),
                        format!("every supplier item mapped to SKU {sku} is discontinued"),
                    ));
                }
            }
        }
    }
    ValidationReport { findings: out, address }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{sample_catalog, sample_order};

    fn codes(r: &ValidationReport) -> Vec<&str> {
        r.findings.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn a_good_order_passes() {
        let r = validate(&sample_order(), &sample_catalog(), &ValidationPolicy::default());
        assert!(r.findings.is_empty(), "{:?}", codes(&r));
        assert!(r.passes());
    }

    #[test]
    fn every_failing_rule_is_reported() {
        let mut o = sample_order();
        o.financial_status = FinancialStatus::Pending;
        o.contact = Default::default();
        let a = o.shipping_address.as_mut().unwrap();
        a.postal_code.clear();
        a.line1 = "  ".into();
        o.lines[0].quantity = 0;
        o.lines[1].sku = Some(crate::ids::Sku::new("NOPE").unwrap());
        let r = validate(&o, &sample_catalog(), &ValidationPolicy::default());
        assert_eq!(
            codes(&r),
            vec![
                "payment_not_accepted",
                "address_field_missing",
                "address_field_missing",
                "contact_missing",
                "quantity_not_positive",
                "sku_unmapped"
            ]
        );
        assert_eq!(r.findings[1].field.as_deref(), Some("shipping_address.line1"));
        assert_eq!(r.findings[2].field.as_deref(), Some("shipping_address.postal_code"));
    }

    #[test]
    fn policy_can_accept_authorized_payments() {
        let mut o = sample_order();
        o.financial_status = FinancialStatus::Authorized;
        let strict = ValidationPolicy::default();
        assert_eq!(codes(&validate(&o, &sample_catalog(), &strict)), vec!["payment_not_accepted"]);
        let lenient = ValidationPolicy::parse_statuses("paid, authorized").unwrap();
        assert!(validate(&o, &sample_catalog(), &lenient).findings.is_empty());
        assert!(ValidationPolicy::parse_statuses("").is_err());
        assert!(ValidationPolicy::parse_statuses("paid,bogus").is_err());
    }

    #[test]
    fn discontinued_and_missing_skus_hold() {
        let mut o = sample_order();
        o.lines[0].sku = None;
        o.lines[1].sku = Some(crate::ids::Sku::new("OLD-1").unwrap());
        let r = validate(&o, &sample_catalog(), &ValidationPolicy::default());
        assert_eq!(codes(&r), vec!["sku_missing", "sku_discontinued"]);
    }

    #[test]
    fn postal_code_optional_where_countries_have_none() {
        let mut o = sample_order();
        let a = o.shipping_address.as_mut().unwrap();
        a.country = "HK".into();
        a.region.clear();
        a.postal_code.clear();
        assert!(validate(&o, &sample_catalog(), &ValidationPolicy::default()).findings.is_empty());
    }
}
