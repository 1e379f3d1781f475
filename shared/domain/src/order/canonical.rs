//! The canonical order: one shape for every sales channel. Channel payloads are mapped into it
//! at the edge (`channels`), and every later step reads only this.

use crate::primitives::ids::{Channel, ChannelOrderId, Sku, StoreId};
use crate::primitives::money::{Currency, Money};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Payment state, normalized across channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinancialStatus {
    Pending,
    Authorized,
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Failed,
    Unknown,
}

impl FinancialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FinancialStatus::Pending => "pending",
            FinancialStatus::Authorized => "authorized",
            FinancialStatus::PartiallyPaid => "partially_paid",
            FinancialStatus::Paid => "paid",
            FinancialStatus::PartiallyRefunded => "partially_refunded",
            FinancialStatus::Refunded => "refunded",
            FinancialStatus::Voided => "voided",
            FinancialStatus::Failed => "failed",
            FinancialStatus::Unknown => "unknown",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "authorized" => Self::Authorized,
            "partially_paid" => Self::PartiallyPaid,
            "paid" => Self::Paid,
            "partially_refunded" => Self::PartiallyRefunded,
            "refunded" => Self::Refunded,
            "voided" => Self::Voided,
            "failed" => Self::Failed,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }
}

/// A postal address as the customer entered it (after mapping, before validation).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub company: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub line2: String,
    pub city: String,
    /// State, province or region code as sent (`CA`, `ON`), empty when the country has none.
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// The channel's line id.
    pub line_id: String,
    /// `None` when the store sent no SKU, or one that cannot be a SKU (`sku_problem` says
    /// why): validation holds such a line.
    pub sku: Option<Sku>,
    /// Why the store's SKU could not be used (too long, control characters), quoting its start:
    /// the order is stored and held, never refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_problem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    /// The variant's options by name where the channel sends them (`size: M`); Shopify sends
    /// only `variant_title` (`M / Black`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<VariantOption>,
    pub quantity: u32,
    pub unit_price: Money,
}

/// One option of a product variant (`size` = `M`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantOption {
    pub name: String,
    pub value: String,
}

/// How fast the customer paid to receive the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevel {
    Standard,
    Expedited,
    Overnight,
}

impl ServiceLevel {
    pub const ALL: [ServiceLevel; 3] = [Self::Standard, Self::Expedited, Self::Overnight];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Expedited => "expedited",
            Self::Overnight => "overnight",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for ServiceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingMethod {
    pub code: String,
    pub title: String,
    pub price: Money,
}

/// The order's money as the store computed it. The totals rule checks
/// `subtotal + shipping + other - discounts (+ tax unless included) = total`, to the cent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// The lines before any discount.
    pub subtotal: Money,
    /// Shipping before shipping discounts.
    pub shipping: Money,
    pub tax: Money,
    /// Every discount: on items, on the order and on shipping.
    pub discounts: Money,
    pub total: Money,
    /// Whether the prices already include `tax` (then it is not added again).
    #[serde(default)]
    pub taxes_included: bool,
    /// What else the customer paid: tips, duties, fees.
    #[serde(default)]
    pub other: Money,
    /// What the store has refunded so far (the total stays what was charged).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refunded: Money,
    /// Where the store's own figures disagree with each other (its line total, discounts and
    /// subtotal against its lines), noted as the payload was read: validation holds on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<FigureDisagreement>,
}

fn is_zero(m: &Money) -> bool {
    m.amount().is_zero()
}

/// A relation among a store's figures that does not hold, with the figures it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureDisagreement {
    /// What should hold, in the store's field names
    /// (`lines (quantity x price) = total_line_items_price`).
    pub relation: String,
    /// The figures, in the order the relation names them.
    pub figures: Vec<Figure>,
}

/// One of a store's figures, by its name in the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub name: String,
    pub amount: Money,
}

impl Figure {
    pub fn new(name: &str, amount: Money) -> Self {
        Self { name: name.to_string(), amount }
    }
}

/// The canonical order every step works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalOrder {
    pub channel: Channel,
    pub store: StoreId,
    pub channel_order_id: ChannelOrderId,
    /// The store's human order name (`#1001`).
    pub name: String,
    pub lines: Vec<LineItem>,
    pub shipping_address: Option<Address>,
    pub contact: Contact,
    pub financial_status: FinancialStatus,
    pub shipping_method: Option<ShippingMethod>,
    pub currency: Currency,
    pub totals: Totals,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub test: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The customer's tags in the store (`vip`, `wholesale`), matched by routing rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_tags: Vec<String>,
}

impl CanonicalOrder {
    /// The order name without a leading `#`, used to number purchase orders (`1001-1`).
    pub fn number(&self) -> &str {
        self.name.trim().trim_start_matches('#')
    }

    pub fn destination_country(&self) -> Option<&str> {
        self.shipping_address.as_ref().map(|a| a.country.as_str()).filter(|c| !c.is_empty())
    }
}
