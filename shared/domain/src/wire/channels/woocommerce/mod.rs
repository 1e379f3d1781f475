//! WooCommerce's order webhook, in every body shape its webhook API versions send (wc/v1, v2,
//! v3 and the legacy v3 envelope: see `shapes`), and its activation ping.

mod shapes;
#[cfg(test)]
mod tests;

use super::time_zones::StoreTimeZones;
use super::*;
use crate::order::{
    Address, CanonicalOrder, Contact, FinancialStatus, LineItem, ShippingMethod, Totals, VariantOption,
};
use crate::primitives::ids::Channel;
use crate::primitives::ids::StoreId;
use crate::primitives::local_time::LocalClock;
use crate::primitives::money::Money;
use chrono::{DateTime, NaiveDateTime, Utc};
use shapes::{LegacyOrder, WooMeta, WooOrder};

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
/// (`display_key` in wc/v3, `label` in wc/v1 and legacy v3, else the key without its `pa_`
/// prefix).
fn woo_options<'a>(meta: impl Iterator<Item = &'a WooMeta>) -> Vec<VariantOption> {
    meta.filter_map(|m| {
        let key = m.key.as_deref().filter(|k| !k.starts_with('_'))?;
        let value = match m.display_value.as_ref().or(m.value.as_ref())? {
            serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let name = [m.display_key.as_deref(), m.label.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|k| !k.is_empty())
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

/// Maps a WooCommerce order webhook body (`order.created`, `order.updated`) of any API version.
/// Site-local times without an offset (wc/v1's `date_created`) are read on the store's clock
/// from `zones`.
pub fn woocommerce_order(source: &str, body: &[u8], zones: &StoreTimeZones) -> Result<CanonicalOrder, PayloadError> {
    let envelope: WooOrder = parse_json(body)?;
    let store = StoreId::new(woo_store(source)).map_err(|e| PayloadError::new("X-WC-Webhook-Source", e.to_string()))?;
    let clock = zones.clock(store.as_str());
    match envelope.order {
        // The legacy API's errors name its own fields.
        Some(legacy) => map_order(store, legacy.into_rest(), clock)
            .map_err(|e| PayloadError { field: LegacyOrder::field(&e.field), ..e }),
        None => map_order(store, envelope, clock),
    }
}

fn map_order(store: StoreId, o: WooOrder, clock: LocalClock) -> Result<CanonicalOrder, PayloadError> {
    let id = o.id.as_ref().ok_or_else(|| PayloadError::new("id", "missing"))?;
    let channel_order_id = channel_order_id("id", id)?;
    let status = non_empty(o.status).ok_or_else(|| PayloadError::new("status", "missing"))?;
    let status = status.trim_start_matches("wc-").to_string();
    let currency = currency(o.currency.as_deref().ok_or_else(|| PayloadError::new("currency", "missing"))?)?;
    let total = money("total", Some(o.total.as_ref().ok_or_else(|| PayloadError::new("total", "missing"))?))?;
    if o.line_items.is_empty() {
        return Err(PayloadError::new("line_items", "an order needs at least one line item"));
    }
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
        let options = woo_options(l.meta_data.iter().chain(&l.meta));
        let variant_title =
            (!options.is_empty()).then(|| options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>().join(" / "));
        let variation = l.variation_id.map(|f| f.0).filter(|v| v != "0");
        let (sku, sku_problem) = sku(l.sku);
        lines.push(LineItem {
            line_id: l.id.0,
            sku,
            sku_problem,
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
        (None, Some(local)) => site_local("date_created", &local, clock)?,
        (None, None) => return Err(PayloadError::new("date_created_gmt", "missing")),
    };
    let updated_at = match (non_empty(o.date_modified_gmt), non_empty(o.date_modified)) {
        (Some(g), _) => gmt("date_modified_gmt", &g)?,
        (None, Some(local)) => site_local("date_modified", &local, clock)?,
        (None, None) => created_at,
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
        let (m, negative) = signed_money(&format!("fee_lines[{i}].total"), f.total.as_ref())?;
        if negative { fee_discounts = fee_discounts.plus(m) } else { fees = fees.plus(m) }
    }
    // Refunds are listed with negative totals; their sum is what the customer got back.
    let mut refunded = Money::ZERO;
    for (i, r) in o.refunds.iter().enumerate() {
        refunded = refunded.plus(signed_money(&format!("refunds[{i}].total"), r.total.as_ref())?.0);
    }
    let financial_status = match woo_financial_status(&status) {
        // A refund leaves the order `processing`: what was paid is no longer all there.
        FinancialStatus::Paid if refunded > Money::ZERO && refunded.rounded(currency) >= total.rounded(currency) => {
            FinancialStatus::Refunded
        }
        FinancialStatus::Paid if refunded > Money::ZERO => FinancialStatus::PartiallyRefunded,
        other => other,
    };
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
        currency,
        totals: Totals {
            subtotal,
            shipping,
            tax: money("total_tax", o.total_tax.as_ref())?,
            discounts: money("discount_total", o.discount_total.as_ref())?.plus(fee_discounts),
            total,
            // Woo's line subtotals and discounts are before tax; `total_tax` is added on top.
            taxes_included: false,
            other: fees,
            refunded,
            ..Totals::default()
        },
        created_at,
        updated_at,
        cancelled_at: (status == "cancelled").then_some(updated_at),
        test: false,
        tags: Vec::new(),
        customer_tags: Vec::new(),
    })
}

/// An amount that may be negative (a fee that is a discount, a refund): its size and sign.
fn signed_money(field: &str, v: Option<&Flex>) -> Result<(Money, bool), PayloadError> {
    let amount = v.map(|t| t.0.trim()).filter(|t| !t.is_empty()).unwrap_or("0");
    let d = rust_decimal::Decimal::from_str_exact(amount)
        .or_else(|_| amount.parse::<rust_decimal::Decimal>())
        .map_err(|_| PayloadError::new(field, format!("not a decimal amount: {amount:?}")))?;
    let m = Money::new(d.abs()).map_err(|e| PayloadError::new(field, e.to_string()))?;
    Ok((m, d.is_sign_negative() && !d.is_zero()))
}

/// A site-local time: with an offset it says its own; without one (wc/v1), the store's clock.
fn site_local(field: &str, s: &str, clock: LocalClock) -> Result<DateTime<Utc>, PayloadError> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .map(|local| clock.to_utc(local))
        .map_err(|e| PayloadError::new(field, format!("not a site-local timestamp (2016-05-03T17:59:00): {e}")))
}

/// True for WooCommerce's activation ping: a form-encoded `webhook_id=N` body, not JSON.
pub fn is_woocommerce_ping(content_type: Option<&str>, body: &[u8]) -> bool {
    let form = content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let looks_like_ping = body.starts_with(b"webhook_id=");
    (form || looks_like_ping)
        && serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .is_ok_and(|pairs| pairs.iter().any(|(k, _)| k == "webhook_id"))
}
