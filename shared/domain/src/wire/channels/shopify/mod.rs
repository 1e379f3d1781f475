//! Shopify's order webhook (`orders/create`, `orders/updated`) and its address JSON.

mod figures;

use super::*;
use crate::order::{Address, CanonicalOrder, Contact, FinancialStatus, LineItem, ShippingMethod, Totals};
use crate::primitives::ids::Channel;
use crate::primitives::ids::StoreId;
use crate::primitives::money::Money;
use figures::{StatedFigures, money_opt};
use serde::Deserialize;

#[derive(Deserialize)]
struct ShopifyOrder {
    id: Id,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    order_number: Option<Flex>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    contact_email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    created_at: String,
    #[serde(default)]
    updated_at: Option<String>,
    currency: String,
    total_price: Flex,
    #[serde(default)]
    total_tax: Option<Flex>,
    #[serde(default)]
    total_discounts: Option<Flex>,
    /// The lines before any discount, as the store adds them up.
    #[serde(default)]
    total_line_items_price: Option<Flex>,
    /// The lines after line and order discounts, before shipping, tax and tips.
    #[serde(default)]
    subtotal_price: Option<Flex>,
    #[serde(default)]
    taxes_included: Option<bool>,
    #[serde(default)]
    total_tip_received: Option<Flex>,
    #[serde(default)]
    original_total_duties_set: Option<ShopifyMoneySet>,
    #[serde(default)]
    financial_status: Option<String>,
    #[serde(default)]
    cancelled_at: Option<String>,
    #[serde(default)]
    test: Option<bool>,
    #[serde(default)]
    tags: Option<String>,
    line_items: Vec<ShopifyLine>,
    #[serde(default)]
    shipping_address: Option<ShopifyAddress>,
    #[serde(default)]
    shipping_lines: Vec<ShopifyShippingLine>,
    #[serde(default)]
    customer: Option<ShopifyCustomer>,
    #[serde(default)]
    refunds: Option<Vec<ShopifyRefund>>,
}

#[derive(Deserialize)]
struct ShopifyRefund {
    #[serde(default)]
    transactions: Option<Vec<ShopifyTransaction>>,
}

#[derive(Deserialize)]
struct ShopifyTransaction {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    amount: Option<Flex>,
}

#[derive(Deserialize)]
struct ShopifyLine {
    id: Id,
    #[serde(default)]
    variant_id: Option<Id>,
    #[serde(default)]
    product_id: Option<Id>,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    variant_title: Option<String>,
    quantity: i64,
    price: Flex,
}

#[derive(Deserialize)]
struct ShopifyAddress {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    address1: Option<String>,
    #[serde(default)]
    address2: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    province_code: Option<String>,
    #[serde(default)]
    zip: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
struct ShopifyShippingLine {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    price: Option<Flex>,
    /// The price after shipping discounts.
    #[serde(default)]
    discounted_price: Option<Flex>,
}

#[derive(Deserialize)]
struct ShopifyMoneySet {
    shop_money: ShopifyAmount,
}

#[derive(Deserialize)]
struct ShopifyAmount {
    amount: Flex,
}

#[derive(Deserialize)]
struct ShopifyCustomer {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    tags: Option<String>,
}

impl ShopifyAddress {
    fn into_address(self) -> Address {
        Address {
            name: full_name(self.first_name, self.last_name, self.name),
            company: non_empty(self.company).unwrap_or_default(),
            line1: non_empty(self.address1).unwrap_or_default(),
            line2: non_empty(self.address2).unwrap_or_default(),
            city: non_empty(self.city).unwrap_or_default(),
            region: non_empty(self.province_code).or(non_empty(self.province)).unwrap_or_default(),
            postal_code: non_empty(self.zip).unwrap_or_default(),
            country: country_code(self.country_code, self.country),
            phone: non_empty(self.phone).unwrap_or_default(),
        }
    }
}

/// Reads one address as JSON: a Shopify-style `shipping_address` object (`address1`, `zip`,
/// `province_code`, ...), the canonical form (`line1`, `postal_code`, `region`, ...), or either
/// wrapped in `{"shipping_address": ...}`.
pub fn address_json(body: &[u8]) -> Result<Address, PayloadError> {
    let value: serde_json::Value = parse_json(body)?;
    let value = match value.get("shipping_address") {
        Some(inner) if inner.is_object() => inner.clone(),
        _ => value,
    };
    if !value.is_object() {
        return Err(PayloadError::new("body", "an address is a JSON object"));
    }
    let canonical = value.get("line1").is_some() || value.get("postal_code").is_some();
    let text = value.to_string();
    if canonical {
        // The canonical form is Dropline's own: a misspelled field is refused, not dropped.
        const FIELDS: [&str; 9] =
            ["name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone"];
        if let Some(k) = value.as_object().and_then(|o| o.keys().find(|k| !FIELDS.contains(&k.as_str()))) {
            return Err(PayloadError::new(k.as_str(), format!("unknown field; expected one of {}", FIELDS.join(", "))));
        }
        parse_json::<Address>(text.as_bytes())
    } else {
        parse_json::<ShopifyAddress>(text.as_bytes()).map(ShopifyAddress::into_address)
    }
}

/// Maps a Shopify order webhook body (`orders/create`, `orders/updated`, ...).
pub fn shopify_order(shop_domain: &str, body: &[u8]) -> Result<CanonicalOrder, PayloadError> {
    let o: ShopifyOrder = parse_json(body)?;
    let store = StoreId::new(shop_domain.trim().to_ascii_lowercase())
        .map_err(|e| PayloadError::new("X-Shopify-Shop-Domain", e.to_string()))?;
    let channel_order_id = channel_order_id("id", &o.id)?;
    if o.line_items.is_empty() {
        return Err(PayloadError::new("line_items", "an order needs at least one line item"));
    }
    let mut lines = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.into_iter().enumerate() {
        let at = |f: &'static str| Indexed("line_items", i, f);
        let (sku, sku_problem) = sku(l.sku);
        lines.push(LineItem {
            line_id: l.id.0,
            sku,
            sku_problem,
            product_id: l.product_id.map(|f| f.0),
            variant_id: l.variant_id.map(|f| f.0),
            title: l.title.unwrap_or_default(),
            variant_title: non_empty(l.variant_title),
            options: Vec::new(),
            quantity: quantity(at("quantity"), l.quantity)?,
            unit_price: money(at("price"), Some(&l.price))?,
        });
    }
    let mut shipping = Money::ZERO;
    let mut shipping_discount = Money::ZERO;
    for (i, s) in o.shipping_lines.iter().enumerate() {
        let price = money(Indexed("shipping_lines", i, "price"), s.price.as_ref())?;
        shipping = shipping.plus(price);
        if let Some(d) = &s.discounted_price {
            let after = money(Indexed("shipping_lines", i, "discounted_price"), Some(d))?;
            shipping_discount = shipping_discount.plus(price.minus(after));
        }
    }
    let shipping_method = o.shipping_lines.first().map(|s| ShippingMethod {
        code: s.code.clone().unwrap_or_default(),
        title: s.title.clone().unwrap_or_default(),
        price: shipping,
    });
    let created_at = rfc3339("created_at", &o.created_at)?;
    let updated_at = match &o.updated_at {
        Some(u) if !u.is_empty() => rfc3339("updated_at", u)?,
        _ => created_at,
    };
    let cancelled_at = match non_empty(o.cancelled_at) {
        Some(c) => Some(rfc3339("cancelled_at", &c)?),
        None => None,
    };
    // A status we don't know is not a malformed order: it maps to Unknown, which validation
    // holds (a 400 would make Shopify retry and finally drop the subscription).
    let financial_status =
        non_empty(o.financial_status).and_then(|s| FinancialStatus::parse(&s)).unwrap_or(FinancialStatus::Unknown);
    let address_phone = o.shipping_address.as_ref().and_then(|a| non_empty(a.phone.clone()));
    let customer = o.customer.unwrap_or(ShopifyCustomer { email: None, phone: None, tags: None });
    let customer_tags = split_tags(customer.tags.as_deref());
    let contact = Contact {
        email: non_empty(o.email).or(non_empty(o.contact_email)).or(non_empty(customer.email)),
        phone: non_empty(o.phone).or(non_empty(customer.phone)).or(address_phone),
    };
    let shipping_address = o.shipping_address.map(ShopifyAddress::into_address);
    let currency = currency(&o.currency)?;
    let subtotal: Money = lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    let figures = StatedFigures {
        lines: subtotal,
        line_items_price: money_opt("total_line_items_price", o.total_line_items_price.as_ref())?,
        total_discounts: money_opt("total_discounts", o.total_discounts.as_ref())?,
        subtotal_price: money_opt("subtotal_price", o.subtotal_price.as_ref())?,
        shipping,
        shipping_discount,
    };
    let (discounts, disagreements) = figures.reconcile(currency);
    // What went back to the customer: the refunds' successful refund transactions.
    let mut refunded = Money::ZERO;
    for (i, r) in o.refunds.iter().flatten().enumerate() {
        for (j, t) in r.transactions.iter().flatten().enumerate() {
            if t.kind.as_deref() == Some("refund") && t.status.as_deref().is_none_or(|s| s == "success") {
                let field = format!("refunds[{i}].transactions[{j}].amount");
                refunded = refunded.plus(money(&field, t.amount.as_ref())?);
            }
        }
    }
    let mut other = money("total_tip_received", o.total_tip_received.as_ref())?;
    if let Some(duties) = &o.original_total_duties_set {
        other = other.plus(money("original_total_duties_set.shop_money.amount", Some(&duties.shop_money.amount))?);
    }
    let name = non_empty(o.name)
        .or_else(|| o.order_number.map(|n| format!("#{}", n.0)))
        .unwrap_or_else(|| format!("#{}", channel_order_id));
    Ok(CanonicalOrder {
        channel: Channel::Shopify,
        store,
        channel_order_id,
        name,
        lines,
        shipping_address,
        contact,
        financial_status,
        shipping_method,
        currency,
        totals: Totals {
            subtotal,
            shipping,
            tax: money("total_tax", o.total_tax.as_ref())?,
            discounts,
            total: money("total_price", Some(&o.total_price))?,
            taxes_included: o.taxes_included.unwrap_or(false),
            other,
            refunded,
            disagreements,
        },
        created_at,
        updated_at,
        cancelled_at,
        test: o.test.unwrap_or(false),
        tags: split_tags(o.tags.as_deref()),
        customer_tags,
    })
}

/// Shopify's comma-separated tag list.
fn split_tags(tags: Option<&str>) -> Vec<String> {
    tags.unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
}
