//! WooCommerce's order webhook (REST API v3 order shape) and its ping.

use super::*;
use crate::order::{
    Address, CanonicalOrder, Contact, FinancialStatus, LineItem, ShippingMethod, Totals, VariantOption,
};
use crate::primitives::ids::Channel;
use crate::primitives::ids::StoreId;
use crate::primitives::money::Money;
use serde::Deserialize;

#[derive(Deserialize)]
struct WooOrder {
    id: Flex,
    #[serde(default)]
    number: Option<Flex>,
    status: String,
    currency: String,
    total: Flex,
    #[serde(default)]
    total_tax: Option<Flex>,
    #[serde(default)]
    shipping_total: Option<Flex>,
    #[serde(default)]
    discount_total: Option<Flex>,
    #[serde(default)]
    date_created_gmt: Option<String>,
    #[serde(default)]
    date_created: Option<String>,
    #[serde(default)]
    date_modified_gmt: Option<String>,
    #[serde(default)]
    billing: Option<WooAddress>,
    #[serde(default)]
    shipping: Option<WooAddress>,
    line_items: Vec<WooLine>,
    #[serde(default)]
    shipping_lines: Vec<WooShippingLine>,
    /// Fees added at checkout; a negative fee is a discount.
    #[serde(default)]
    fee_lines: Vec<WooFeeLine>,
}

#[derive(Deserialize)]
struct WooFeeLine {
    #[serde(default)]
    total: Option<Flex>,
}

#[derive(Deserialize)]
struct WooAddress {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    address_1: Option<String>,
    #[serde(default)]
    address_2: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    postcode: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
struct WooLine {
    id: Flex,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    product_id: Option<Flex>,
    #[serde(default)]
    variation_id: Option<Flex>,
    quantity: i64,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    price: Option<Flex>,
    #[serde(default)]
    subtotal: Option<Flex>,
    #[serde(default)]
    meta_data: Vec<WooMeta>,
}

#[derive(Deserialize)]
struct WooMeta {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    display_key: Option<String>,
    #[serde(default)]
    display_value: Option<serde_json::Value>,
    #[serde(default)]
    value: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WooShippingLine {
    #[serde(default)]
    method_id: Option<String>,
    #[serde(default)]
    method_title: Option<String>,
    #[serde(default)]
    total: Option<Flex>,
}

/// Woo's order status as a payment state. Plugins add statuses of their own (`partially-paid`,
/// `awaiting-shipment`): they map to Unknown, which validation holds for a human.
pub(super) fn woo_financial_status(status: &str) -> FinancialStatus {
    match status.trim_start_matches("wc-") {
        "processing" | "completed" => FinancialStatus::Paid,
        "pending" | "on-hold" | "checkout-draft" => FinancialStatus::Pending,
        "failed" => FinancialStatus::Failed,
        "refunded" => FinancialStatus::Refunded,
        "cancelled" => FinancialStatus::Voided,
        _ => FinancialStatus::Unknown,
    }
}

/// The variant options of a Woo line: its visible attribute metadata (`pa_size: M`), by name
/// (`display_key`, else the key without its `pa_` prefix).
fn woo_options(meta: &[WooMeta]) -> Vec<VariantOption> {
    meta.iter()
        .filter_map(|m| {
            let key = m.key.as_deref().filter(|k| !k.starts_with('_'))?;
            let value = match m.display_value.as_ref().or(m.value.as_ref())? {
                serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            };
            let name = m
                .display_key
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| key.strip_prefix("pa_").unwrap_or(key))
                .to_string();
            Some(VariantOption { name, value })
        })
        .collect()
}

/// A WooCommerce site's identity: its host and path, lower case, without scheme or trailing
/// slash, so a move from http to https does not make every order look new.
pub fn woo_store(source: &str) -> String {
    let s = source.trim().to_ascii_lowercase();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(&s);
    s.trim_end_matches('/').to_string()
}

/// Maps a WooCommerce order webhook body (`order.created`, `order.updated`).
pub fn woocommerce_order(source: &str, body: &[u8]) -> Result<CanonicalOrder, PayloadError> {
    let o: WooOrder = parse_json(body)?;
    let store = StoreId::new(woo_store(source)).map_err(|e| PayloadError::new("X-WC-Webhook-Source", e.to_string()))?;
    let channel_order_id = channel_order_id("id", &o.id)?;
    if o.line_items.is_empty() {
        return Err(PayloadError::new("line_items", "an order needs at least one line item"));
    }
    let financial_status = woo_financial_status(o.status.trim());
    let mut lines = Vec::with_capacity(o.line_items.len());
    // The sum of the lines' own subtotals: exact, where unit price times quantity may not be.
    let mut subtotal = Money::ZERO;
    for (i, l) in o.line_items.into_iter().enumerate() {
        let at = |f: &'static str| Indexed("line_items", i, f);
        let qty = quantity(at("quantity"), l.quantity)?;
        // Woo's `price` is the unit price after discounts; `subtotal` is the line before them.
        let (unit_price, line_total) = match (&l.subtotal, qty) {
            (Some(sub), q) if q > 0 && !sub.0.trim().is_empty() => {
                let line = money(at("subtotal"), Some(sub))?;
                let unit = Money::new(line.amount() / rust_decimal::Decimal::from(q))
                    .map_err(|e| PayloadError::new(at("subtotal").to_string(), e.to_string()))?;
                (unit, line)
            }
            _ => {
                let unit = money(at("price"), l.price.as_ref())?;
                (unit, unit.times(qty))
            }
        };
        subtotal = subtotal.plus(line_total);
        let options = woo_options(&l.meta_data);
        let variant_title =
            (!options.is_empty()).then(|| options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>().join(" / "));
        let variation = l.variation_id.map(|f| f.0).filter(|v| v != "0");
        lines.push(LineItem {
            line_id: l.id.0,
            sku: sku(at("sku"), l.sku)?,
            product_id: l.product_id.map(|f| f.0),
            variant_id: variation,
            title: l.name.unwrap_or_default(),
            variant_title,
            options,
            quantity: qty,
            unit_price,
        });
    }
    let shipping = money("shipping_total", o.shipping_total.as_ref())?;
    let shipping_method = o.shipping_lines.first().map(|s| ShippingMethod {
        code: s.method_id.clone().unwrap_or_default(),
        title: s.method_title.clone().unwrap_or_default(),
        price: shipping,
    });
    if let Some((i, s)) = o.shipping_lines.iter().enumerate().find(|(_, s)| s.total.is_some()) {
        money(Indexed("shipping_lines", i, "total"), s.total.as_ref())?;
    }
    let created_at = match (non_empty(o.date_created_gmt), non_empty(o.date_created)) {
        (Some(g), _) => gmt("date_created_gmt", &g)?,
        (None, Some(local)) => gmt("date_created", &local)?,
        (None, None) => return Err(PayloadError::new("date_created_gmt", "missing")),
    };
    let updated_at = match non_empty(o.date_modified_gmt) {
        Some(m) => gmt("date_modified_gmt", &m)?,
        None => created_at,
    };
    let billing = o.billing;
    let contact = Contact {
        email: billing.as_ref().and_then(|b| non_empty(b.email.clone())),
        phone: billing
            .as_ref()
            .and_then(|b| non_empty(b.phone.clone()))
            .or_else(|| o.shipping.as_ref().and_then(|s| non_empty(s.phone.clone()))),
    };
    let shipping_address = o.shipping.map(|a| Address {
        name: full_name(a.first_name, a.last_name, None),
        company: non_empty(a.company).unwrap_or_default(),
        line1: non_empty(a.address_1).unwrap_or_default(),
        line2: non_empty(a.address_2).unwrap_or_default(),
        city: non_empty(a.city).unwrap_or_default(),
        region: non_empty(a.state).unwrap_or_default(),
        postal_code: non_empty(a.postcode).unwrap_or_default(),
        country: country_code(a.country, None),
        phone: non_empty(a.phone).unwrap_or_default(),
    });
    let (mut fees, mut fee_discounts) = (Money::ZERO, Money::ZERO);
    for (i, f) in o.fee_lines.iter().enumerate() {
        let field = format!("fee_lines[{i}].total");
        let amount = f.total.as_ref().map(|t| t.0.trim()).filter(|t| !t.is_empty()).unwrap_or("0");
        let d = rust_decimal::Decimal::from_str_exact(amount)
            .map_err(|_| PayloadError::new(&field, format!("not a decimal amount: {amount:?}")))?;
        let m = Money::new(d.abs()).map_err(|e| PayloadError::new(&field, e.to_string()))?;
        if d.is_sign_negative() { fee_discounts = fee_discounts.plus(m) } else { fees = fees.plus(m) }
    }
    let number = o.number.map(|n| n.0).unwrap_or_else(|| channel_order_id.to_string());
    Ok(CanonicalOrder {
        channel: Channel::WooCommerce,
        store,
        channel_order_id,
        name: format!("#{number}"),
        lines,
        shipping_address,
        contact,
        financial_status,
        shipping_method,
        currency: currency(&o.currency)?,
        totals: Totals {
            subtotal,
            shipping,
            tax: money("total_tax", o.total_tax.as_ref())?,
            discounts: money("discount_total", o.discount_total.as_ref())?.plus(fee_discounts),
            total: money("total", Some(&o.total))?,
            // Woo's line subtotals and discounts are before tax; `total_tax` is added on top.
            taxes_included: false,
            other: fees,
        },
        created_at,
        updated_at,
        cancelled_at: (o.status == "cancelled").then_some(updated_at),
        test: false,
        tags: Vec::new(),
        customer_tags: Vec::new(),
    })
}

/// True for WooCommerce's activation ping: a form-encoded `webhook_id=N` body, not JSON.
pub fn is_woocommerce_ping(content_type: Option<&str>, body: &[u8]) -> bool {
    let form = content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let looks_like_ping = body.starts_with(b"webhook_id=");
    (form || looks_like_ping)
        && serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .is_ok_and(|pairs| pairs.iter().any(|(k, _)| k == "webhook_id"))
}
