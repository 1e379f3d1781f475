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

/// The suggested resolution of each finding code: one table for every rule.
pub fn resolution_for(code: &str) -> Option<&'static str> {
    Some(match code {
        "order_cancelled" => "nothing to send: the store cancelled the order",
        "test_order" => "nothing to send: test orders never reach a supplier",
        "payment_not_accepted" => {
            "wait for the store to capture the payment (its update validates the order again), or override with a note"
        }
        "address_missing" | "address_field_missing" | "address_country_invalid" => {
            "correct the shipping address in the store (its update validates the order again)"
        }
        "contact_missing" => "add the customer's email or phone in the store",
        "quantity_not_positive" => "correct or remove the line in the store",
        "sku_missing" => "give the product variant a SKU in the store and map it to a supplier item",
        "sku_unmapped" => "map the SKU to a supplier item in the catalog (dropline catalog load)",
        "sku_discontinued" => "map the SKU to an active supplier item, or cancel the line",
        "no_supplier_for_line" => "restock, add a supplier that ships there, or cancel the line",
        "currency_unsupported" => {
            "add the currency to DROPLINE_CURRENCIES if suppliers bill in it, or override with a note"
        }
        "totals_mismatch" => {
            "compare the order in the store with its payment; override with a note if the store is right"
        }
        "shipping_method_unmapped" => {
            "map the method in DROPLINE_SHIPPING_METHODS (NAME=standard|expedited|overnight), then release"
        }
        "variant_mismatch" => {
            "fix the SKU's supplier mapping (attributes) in the catalog, then release; dropline catalog verify lists them"
        }
        "out_of_stock" => {
            "wait for a stock feed (dropline feed import), add a supplier, or cancel the line; then release"
        }
        "stock_unknown" => "import a fresh stock feed from the supplier (dropline feed import), then release",
        "margin_below_floor" => {
            "update the supplier cost or the store price, or override with a note if the sale is intended"
        }
        "possible_duplicate" => "compare with the earlier order; cancel one in the store, or override with a note",
        "supplier_rejected" => "resolve the supplier's reason, or route the order to another supplier",
        "cancelled_after_submission" => "ask the supplier to cancel the purchase order, then cancel the order",
        _ => return None,
    })
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
    pub code: String,
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
    pub fn new(code: &str, category: HoldCategory, field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            category,
            severity: Severity::Hold,
            field,
            message: message.into(),
            resolution: resolution_for(code).map(String::from),
        }
    }

    /// A finding stored on the order that does not hold it.
    pub fn warning(code: &str, category: HoldCategory, field: Option<String>, message: impl Into<String>) -> Self {
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
    pub code: String,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Hold reasons no override can lift: the order itself says no (cancelled, a test), or nothing
/// could be sent (no item, no stock, no supplier): those are fixed at the source.
pub fn overridable(code: &str) -> bool {
    !matches!(
        code,
        "order_cancelled"
            | "test_order"
            | "quantity_not_positive"
            | "sku_missing"
            | "sku_unmapped"
            | "sku_discontinued"
            | "out_of_stock"
            | "no_supplier_for_line"
            | "cancelled_after_submission"
            | "address_missing"
            | "address_country_invalid"
            // Routing checks these again on its own: an override could not lift them.
            | "stock_unknown"
            | "variant_mismatch"
    )
}

/// The findings with every hold an operator overrode turned into a warning that says who
/// overrode it and why. Codes no override can lift stay holds.
pub fn apply_overrides(findings: &[HoldReason], overrides: &[Override]) -> Vec<HoldReason> {
    findings
        .iter()
        .map(|f| match overrides.iter().find(|o| o.code == f.code) {
            Some(o) if f.holds() && overridable(&f.code) => HoldReason {
                severity: Severity::Warning,
                message: format!("{} (overridden by {}: {})", f.message, o.by, o.note),
                ..f.clone()
            },
            _ => f.clone(),
        })
        .collect()
}
