//! Findings: what validation and routing say about an order (a code, its category and severity,
//! the field concerned, a message and a resolution), and the overrides operators give them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A category of hold reason (extended by the validation rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldCategory {
    Address,
    Payment,
    Contact,
    Order,
    Duplicate,
    Mapping,
    Stock,
    Pricing,
    Routing,
    Supplier,
}

/// What a finding is about: one code per rule, serialized as its snake_case name (the strings
/// stored on orders, shown to operators and given to `dropline holds override`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    OrderCancelled,
    TestOrder,
    PaymentNotAccepted,
    CurrencyUnsupported,
    TotalsMismatch,
    ContactMissing,
    QuantityNotPositive,
    LineIdInvalid,
    AddressMissing,
    AddressFieldMissing,
    AddressCountryInvalid,
    AddressUnchecked,
    PostalCodeInvalid,
    PostalCodeRegionMismatch,
    RegionUnknown,
    StreetNumberMissing,
    PoBox,
    SkuMissing,
    /// The store's SKU cannot be used as one (too long, control characters).
    SkuInvalid,
    SkuUnmapped,
    SkuDiscontinued,
    VariantMismatch,
    OutOfStock,
    StockUnknown,
    NoSupplierForLine,
    ShippingMethodUnmapped,
    MarginBelowFloor,
    PossibleDuplicate,
    ShipByUnmet,
    SplitRequired,
    SplitCostExceedsLimit,
    NoTimeToReroute,
    SupplierRejected,
    CancelledAfterSubmission,
    RefundedAfterSubmission,
}

impl FindingCode {
    pub const ALL: [FindingCode; 35] = [
        Self::OrderCancelled,
        Self::TestOrder,
        Self::PaymentNotAccepted,
        Self::CurrencyUnsupported,
        Self::TotalsMismatch,
        Self::ContactMissing,
        Self::QuantityNotPositive,
        Self::LineIdInvalid,
        Self::AddressMissing,
        Self::AddressFieldMissing,
        Self::AddressCountryInvalid,
        Self::AddressUnchecked,
        Self::PostalCodeInvalid,
        Self::PostalCodeRegionMismatch,
        Self::RegionUnknown,
        Self::StreetNumberMissing,
        Self::PoBox,
        Self::SkuMissing,
        Self::SkuInvalid,
        Self::SkuUnmapped,
        Self::SkuDiscontinued,
        Self::VariantMismatch,
        Self::OutOfStock,
        Self::StockUnknown,
        Self::NoSupplierForLine,
        Self::ShippingMethodUnmapped,
        Self::MarginBelowFloor,
        Self::PossibleDuplicate,
        Self::ShipByUnmet,
        Self::SplitRequired,
        Self::SplitCostExceedsLimit,
        Self::NoTimeToReroute,
        Self::SupplierRejected,
        Self::CancelledAfterSubmission,
        Self::RefundedAfterSubmission,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderCancelled => "order_cancelled",
            Self::TestOrder => "test_order",
            Self::PaymentNotAccepted => "payment_not_accepted",
            Self::CurrencyUnsupported => "currency_unsupported",
            Self::TotalsMismatch => "totals_mismatch",
            Self::ContactMissing => "contact_missing",
            Self::QuantityNotPositive => "quantity_not_positive",
            Self::LineIdInvalid => "line_id_invalid",
            Self::AddressMissing => "address_missing",
            Self::AddressFieldMissing => "address_field_missing",
            Self::AddressCountryInvalid => "address_country_invalid",
            Self::AddressUnchecked => "address_unchecked",
            Self::PostalCodeInvalid => "postal_code_invalid",
            Self::PostalCodeRegionMismatch => "postal_code_region_mismatch",
            Self::RegionUnknown => "region_unknown",
            Self::StreetNumberMissing => "street_number_missing",
            Self::PoBox => "po_box",
            Self::SkuMissing => "sku_missing",
            Self::SkuInvalid => "sku_invalid",
            Self::SkuUnmapped => "sku_unmapped",
            Self::SkuDiscontinued => "sku_discontinued",
            Self::VariantMismatch => "variant_mismatch",
            Self::OutOfStock => "out_of_stock",
            Self::StockUnknown => "stock_unknown",
            Self::NoSupplierForLine => "no_supplier_for_line",
            Self::ShippingMethodUnmapped => "shipping_method_unmapped",
            Self::MarginBelowFloor => "margin_below_floor",
            Self::PossibleDuplicate => "possible_duplicate",
            Self::ShipByUnmet => "ship_by_unmet",
            Self::SplitRequired => "split_required",
            Self::SplitCostExceedsLimit => "split_cost_exceeds_limit",
            Self::NoTimeToReroute => "no_time_to_reroute",
            Self::SupplierRejected => "supplier_rejected",
            Self::CancelledAfterSubmission => "cancelled_after_submission",
            Self::RefundedAfterSubmission => "refunded_after_submission",
        }
    }

    /// The code named `s`, if there is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The suggested resolution of each finding code: one table for every rule.
    pub fn resolution(self) -> Option<&'static str> {
        Some(match self {
            Self::OrderCancelled => "nothing to send: the store cancelled the order",
            Self::TestOrder => "nothing to send: test orders never reach a supplier",
            Self::PaymentNotAccepted => {
                "wait for the store to capture the payment (its update validates the order again), or override with a note"
            }
            Self::AddressMissing | Self::AddressFieldMissing | Self::AddressCountryInvalid => {
                "correct the shipping address in the store (its update validates the order again)"
            }
            Self::AddressUnchecked => "check the address by hand: Dropline bundles no address rules for its country",
            Self::ContactMissing => "add the customer's email or phone in the store",
            Self::QuantityNotPositive => "correct or remove the line in the store",
            Self::LineIdInvalid => "the store sent lines Dropline cannot tell apart: recreate the order in the store",
            Self::SkuMissing => "give the product variant a SKU in the store and map it to a supplier item",
            Self::SkuInvalid => {
                "give the product variant a usable SKU in the store (at most 255 printable characters), then release the hold"
            }
            Self::SkuUnmapped => "map the SKU to a supplier item in the catalog (dropline catalog load)",
            Self::SkuDiscontinued => "map the SKU to an active supplier item, or cancel the line",
            Self::NoSupplierForLine => "restock, add a supplier that ships there, or cancel the line",
            Self::CurrencyUnsupported => {
                "add the currency to DROPLINE_CURRENCIES if suppliers bill in it, or override with a note"
            }
            Self::TotalsMismatch => {
                "compare the order in the store with its payment; override with a note if the store is right"
            }
            Self::ShippingMethodUnmapped => {
                "map the method in DROPLINE_SHIPPING_METHODS (NAME=standard|expedited|overnight), then release"
            }
            Self::VariantMismatch => {
                "fix the SKU's supplier mapping (attributes) in the catalog, then release; dropline catalog verify lists them"
            }
            Self::OutOfStock => {
                "wait for a stock feed (dropline feed import), add a supplier, or cancel the line; then release"
            }
            Self::StockUnknown => "import a fresh stock feed from the supplier (dropline feed import), then release",
            Self::MarginBelowFloor => {
                "update the supplier cost or the store price, or override with a note if the sale is intended"
            }
            Self::PossibleDuplicate => {
                "compare with the earlier order; cancel one in the store, or override with a note"
            }
            Self::SupplierRejected => "resolve the supplier's reason, or route the order to another supplier",
            Self::NoTimeToReroute => {
                "call the supplier to confirm the purchase order now: a silent supplier cannot be replaced before the ship-by"
            }
            Self::CancelledAfterSubmission => "ask the supplier to cancel the purchase order, then cancel the order",
            Self::RefundedAfterSubmission => {
                "ask the supplier to cancel or amend the purchase order; cancel the order if nothing ships"
            }
            _ => return None,
        })
    }

    /// Hold reasons no override can lift: the order itself says no (cancelled, a test), or nothing
    /// could be sent (no item, no stock, no supplier): those are fixed at the source.
    pub fn overridable(self) -> bool {
        !matches!(
            self,
            Self::OrderCancelled
                | Self::TestOrder
                | Self::QuantityNotPositive
                | Self::LineIdInvalid
                | Self::SkuMissing
                | Self::SkuInvalid
                | Self::SkuUnmapped
                | Self::SkuDiscontinued
                | Self::OutOfStock
                | Self::NoSupplierForLine
                | Self::CancelledAfterSubmission
                | Self::RefundedAfterSubmission
                | Self::AddressMissing
                | Self::AddressCountryInvalid
                // Routing checks these again on its own: an override could not lift them.
                | Self::StockUnknown
                | Self::VariantMismatch
        )
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<str> for FindingCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for FindingCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How much a finding matters: a hold stops the order; a warning is stored on it and never
/// stops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Hold,
    Warning,
}

/// One finding about an order: a machine-readable code, its category and severity, the field
/// concerned, a message for a human and, where there is one, how to resolve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldReason {
    pub code: FindingCode,
    pub category: HoldCategory,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

impl HoldReason {
    /// A finding that holds the order, with the standard resolution for its code.
    pub fn new(code: FindingCode, category: HoldCategory, field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            category,
            severity: Severity::Hold,
            field,
            message: message.into(),
            resolution: code.resolution().map(String::from),
        }
    }

    /// A finding stored on the order that does not hold it.
    pub fn warning(
        code: FindingCode,
        category: HoldCategory,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self { severity: Severity::Warning, ..Self::new(code, category, field, message) }
    }

    /// The suggested way to resolve it.
    pub fn resolve(mut self, resolution: impl Into<String>) -> Self {
        self.resolution = Some(resolution.into());
        self
    }

    pub fn holds(&self) -> bool {
        self.severity == Severity::Hold
    }
}
/// An operator's decision that a hold reason does not stop this order, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub code: FindingCode,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The findings with every hold an operator overrode turned into a warning that says who
/// overrode it and why. Codes no override can lift stay holds.
pub fn apply_overrides(findings: &[HoldReason], overrides: &[Override]) -> Vec<HoldReason> {
    findings
        .iter()
        .map(|f| match overrides.iter().find(|o| o.code == f.code) {
            Some(o) if f.holds() && f.code.overridable() => HoldReason {
                severity: Severity::Warning,
                message: format!("{} (overridden by {}: {})", f.message, o.by, o.note),
                ..f.clone()
            },
            _ => f.clone(),
        })
        .collect()
}

/// More findings of one code than this, each about a line, become one finding naming them all.
pub const GROUP_LINES_OVER: usize = 3;
/// The line messages a grouped finding quotes (the rest it counts).
const GROUP_QUOTES: usize = 3;

/// The line a finding's field names (`lines[4].sku` -> 4), if it names one.
fn line_of(field: Option<&str>) -> Option<(usize, String)> {
    let rest = field?.strip_prefix("lines[")?;
    let (n, tail) = rest.split_once(']')?;
    Some((n.parse().ok()?, tail.to_string()))
}

/// `[0, 1, 2, 5]` as "1-3, 6" (counted from `base`: 1 as messages name lines, 0 as fields do).
fn ranges(lines: &[usize], base: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j + 1 < lines.len() && lines[j + 1] == lines[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            format!("{}", lines[i] + base)
        } else {
            format!("{}-{}", lines[i] + base, lines[j] + base)
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Findings as a human reads them, and as an order of any size can store them: more than
/// `GROUP_LINES_OVER` findings of one code and severity about lines become one, whose field
/// names every line (`lines[0-499].sku`) and whose message counts them and quotes the first
/// few. Others are kept as they are, in their order.
pub fn grouped(findings: Vec<HoldReason>) -> Vec<HoldReason> {
    use std::collections::BTreeMap;
    let mut per_code: BTreeMap<(String, bool, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some((_, tail)) = line_of(f.field.as_deref()) {
            per_code.entry((f.code.as_str().to_string(), f.severity == Severity::Hold, tail)).or_default().push(i);
        }
    }
    let big: Vec<Vec<usize>> = per_code.into_values().filter(|v| v.len() > GROUP_LINES_OVER).collect();
    if big.is_empty() {
        return findings;
    }
    let mut merged_into: BTreeMap<usize, usize> = BTreeMap::new();
    for (g, members) in big.iter().enumerate() {
        for m in members {
            merged_into.insert(*m, g);
        }
    }
    let mut out = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        match merged_into.get(&i) {
            None => out.push(f.clone()),
            // The group stands where its first member stood.
            Some(g) if big[*g][0] == i => {
                let members: Vec<&HoldReason> = big[*g].iter().map(|m| &findings[*m]).collect();
                let mut lines: Vec<usize> =
                    members.iter().filter_map(|m| line_of(m.field.as_deref()).map(|(n, _)| n)).collect();
                lines.sort_unstable();
                lines.dedup();
                let tail = line_of(f.field.as_deref()).map(|(_, t)| t).unwrap_or_default();
                let quoted: Vec<&str> = members.iter().take(GROUP_QUOTES).map(|m| m.message.as_str()).collect();
                let more = members.len().saturating_sub(GROUP_QUOTES);
                let mut message = format!("{} lines ({}): {}", members.len(), ranges(&lines, 1), quoted.join("; "));
                if more > 0 {
                    message.push_str(&format!("; and {more} more like these"));
                }
                out.push(HoldReason {
                    field: Some(format!("lines[{}]{tail}", ranges(&lines, 0).replace(", ", ","))),
                    message,
                    ..f.clone()
                });
            }
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_finding(i: usize, code: FindingCode) -> HoldReason {
        HoldReason::new(
            code,
            HoldCategory::Mapping,
            Some(format!("lines[{i}].sku")),
            format!("line {} is wrong", i + 1),
        )
    }

    #[test]
    fn many_findings_of_one_code_about_lines_become_one_naming_every_line() {
        let mut findings: Vec<HoldReason> = (0..500).map(|i| line_finding(i, FindingCode::SkuUnmapped)).collect();
        findings.insert(0, HoldReason::new(FindingCode::TotalsMismatch, HoldCategory::Order, None, "totals"));
        findings.push(line_finding(7, FindingCode::SkuMissing));
        let g = grouped(findings);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[0].code, FindingCode::TotalsMismatch);
        assert_eq!(g[1].code, FindingCode::SkuUnmapped);
        assert_eq!(g[1].field.as_deref(), Some("lines[0-499].sku"));
        assert!(
            g[1].message
                .starts_with("500 lines (1-500): line 1 is wrong; line 2 is wrong; line 3 is wrong; and 497 more")
        );
        assert!(g[1].message.len() < 200, "bounded: {}", g[1].message);
        assert_eq!(g[2].code, FindingCode::SkuMissing, "a lone finding stays as it is");
        // A few stay separate, and grouping is idempotent.
        let few: Vec<HoldReason> = (0..3).map(|i| line_finding(i * 2, FindingCode::OutOfStock)).collect();
        assert_eq!(grouped(few.clone()), few);
        let again = grouped(g.clone());
        assert_eq!(again, g);
    }

    #[test]
    fn line_ranges_are_compact() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8], 1), "1-3, 6, 8-9");
        assert_eq!(ranges(&[0, 1, 2, 5], 0), "0-2, 5");
    }

    #[test]
    fn finding_codes_serialize_to_their_names_and_parse_back() {
        for c in FindingCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(c.as_str().into()));
            assert_eq!(FindingCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(FindingCode::parse("pigeon"), None);
    }
}
