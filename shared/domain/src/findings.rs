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
    pub const ALL: [FindingCode; 34] = [
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_codes_serialize_to_their_names_and_parse_back() {
        for c in FindingCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(c.as_str().into()));
            assert_eq!(FindingCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(FindingCode::parse("pigeon"), None);
    }
}
