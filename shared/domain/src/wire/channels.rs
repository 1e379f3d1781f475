//! Store payloads (Shopify, WooCommerce) mapped into the canonical order.
//!
//! Parsing is typed (serde) with the path of the first bad field kept, so a malformed payload
//! gets an error that names the problem (`line_items[1].quantity: invalid type ...`).

use crate::order::{
    Address, CanonicalOrder, Contact, FinancialStatus, LineItem, ShippingMethod, Totals, VariantOption,
};
use crate::primitives::ids::Channel;
use crate::primitives::ids::{ChannelOrderId, Sku, StoreId};
use crate::primitives::money::{Currency, Money};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};

/// Why a payload is not an order we can accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PayloadError {
    /// Where in the payload (`line_items[0].price`), or `body` for the whole.
    pub field: String,
    pub message: String,
}

impl PayloadError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

fn parse_json<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, PayloadError> {
    // The common case pays nothing for error paths; a failure is parsed again to say where.
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if matches!(path.as_str(), "." | "?" | "") { "body".to_string() } else { path };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            // serde's message carries "at line L column C"; the path already says where.
            let m = inner.to_string();
            m.split(" at line ").next().unwrap_or(&m).to_string()
        };
        PayloadError::new(field, message)
    })
}

/// A JSON value that may be a number or a numeric string (ids, prices).
#[derive(Debug, Clone)]
struct Flex(String);

impl<'de> Deserialize<'de> for Flex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor, not an untagged enum: untagged buffers every value and tries each variant,
        // which made parsing several times slower.
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Flex;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Flex, E> {
                Ok(Flex(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
            // Display gives the shortest text that round-trips, so 19.99 stays "19.99".
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn money(field: impl std::fmt::Display, v: Option<&Flex>) -> Result<Money, PayloadError> {
    match v {
        None => Ok(Money::ZERO),
        Some(f) if f.0.trim().is_empty() => Ok(Money::ZERO),
        Some(f) => Money::parse(&f.0).map_err(|e| PayloadError::new(field.to_string(), e.to_string())),
    }
}

/// A field path (`line_items[2].sku`), written out only when an error names it.
#[derive(Clone, Copy)]
struct Indexed(&'static str, usize, &'static str);

impl std::fmt::Display for Indexed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}].{}", self.0, self.1, self.2)
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn quantity(field: impl std::fmt::Display, q: i64) -> Result<u32, PayloadError> {
    u32::try_from(q)
        .map_err(|_| PayloadError::new(field.to_string(), format!("quantity {q} is not a non-negative integer")))
}

fn sku(field: impl std::fmt::Display, s: Option<String>) -> Result<Option<Sku>, PayloadError> {
    match non_empty(s) {
        None => Ok(None),
        Some(s) => Sku::new(s).map(Some).map_err(|e| PayloadError::new(field.to_string(), e.to_string())),
    }
}

fn rfc3339(field: &str, s: &str) -> Result<DateTime<Utc>, PayloadError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| PayloadError::new(field, format!("not an ISO 8601 timestamp with offset: {e}")))
}

fn gmt(field: &str, s: &str) -> Result<DateTime<Utc>, PayloadError> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .map(|n| n.and_utc())
        .map_err(|e| PayloadError::new(field, format!("not a GMT timestamp: {e}")))
}

fn channel_order_id(field: &str, id: &Flex) -> Result<ChannelOrderId, PayloadError> {
    ChannelOrderId::new(id.0.trim()).map_err(|e| PayloadError::new(field, e.to_string()))
}

fn currency(s: &str) -> Result<Currency, PayloadError> {
    Currency::parse(s).map_err(|e| PayloadError::new("currency", e.to_string()))
}

fn country_code(code: Option<String>, name: Option<String>) -> String {
    match non_empty(code) {
        Some(c) => c.to_ascii_uppercase(),
        None => non_empty(name).map(|n| n.to_ascii_uppercase()).unwrap_or_default(),
    }
}

fn full_name(first: Option<String>, last: Option<String>, name: Option<String>) -> String {
    if let Some(n) = non_empty(name) {
        return n;
    }
    [non_empty(first), non_empty(last)].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// Shopify
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct ShopifyOrder {
    id: Flex,
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
}

#[derive(Deserialize)]
struct ShopifyLine {
    id: Flex,
    #[serde(default)]
    variant_id: Option<Flex>,
    #[serde(default)]
    product_id: Option<Flex>,
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
        lines.push(LineItem {
            line_id: l.id.0,
            sku: sku(at("sku"), l.sku)?,
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
    let subtotal: Money = lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    // `subtotal_price` is after line and order discounts; the difference from the lines is the
    // item discount whatever `total_discounts` counts. Without it, `total_discounts` stands in.
    let item_discount = match &o.subtotal_price {
        Some(after) => subtotal.minus(money("subtotal_price", Some(after))?),
        None => money("total_discounts", o.total_discounts.as_ref())?.minus(shipping_discount),
    };
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
        currency: currency(&o.currency)?,
        totals: Totals {
            subtotal,
            shipping,
            tax: money("total_tax", o.total_tax.as_ref())?,
            discounts: item_discount.plus(shipping_discount),
            total: money("total_price", Some(&o.total_price))?,
            taxes_included: o.taxes_included.unwrap_or(false),
            other,
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

// ---------------------------------------------------------------------------------------------
// WooCommerce
// ---------------------------------------------------------------------------------------------

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
fn woo_financial_status(status: &str) -> FinancialStatus {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shopify_body() -> serde_json::Value {
        json!({
            "id": 450789469u64, "name": "#1001", "email": "ada@example.com", "phone": null,
            "created_at": "2026-11-20T09:12:44-05:00", "updated_at": "2026-11-20T09:12:45-05:00",
            "currency": "USD", "total_price": "47.97", "subtotal_price": "39.98", "total_tax": "3.00",
            "total_discounts": "0.00", "financial_status": "paid", "cancelled_at": null, "test": false,
            "tags": "vip, summer",
            "line_items": [
                {"id": 1, "variant_id": 11, "product_id": 111, "sku": "TEE-BLK-M", "title": "Tee", "variant_title": "Black / M", "quantity": 2, "price": "19.99"}
            ],
            "shipping_address": {"first_name": "Ada", "last_name": "Lovelace", "address1": "12 Main St", "address2": "", "city": "Springfield", "province": "Illinois", "province_code": "IL", "zip": "62701", "country": "United States", "country_code": "US", "phone": "555-0100"},
            "shipping_lines": [{"code": "standard", "title": "Standard", "price": "4.99"}],
            "customer": {"id": 7, "email": "ada@example.com", "tags": "VIP,  wholesale"}
        })
    }

    #[test]
    fn maps_a_shopify_order() {
        let body = serde_json::to_vec(&shopify_body()).unwrap();
        let o = shopify_order("Demo.myshopify.com", &body).unwrap();
        assert_eq!(o.channel, Channel::Shopify);
        assert_eq!(o.store.as_str(), "demo.myshopify.com");
        assert_eq!(o.channel_order_id.as_str(), "450789469");
        assert_eq!(o.number(), "1001");
        assert_eq!(o.lines[0].sku.as_ref().unwrap().as_str(), "TEE-BLK-M");
        assert_eq!(o.lines[0].quantity, 2);
        assert_eq!(o.totals.subtotal, Money::parse("39.98").unwrap());
        assert_eq!(o.totals.shipping, Money::parse("4.99").unwrap());
        assert_eq!(o.totals.total, Money::parse("47.97").unwrap());
        assert_eq!(o.financial_status, FinancialStatus::Paid);
        let a = o.shipping_address.as_ref().unwrap();
        assert_eq!((a.region.as_str(), a.country.as_str(), a.name.as_str()), ("IL", "US", "Ada Lovelace"));
        assert_eq!(o.contact.phone.as_deref(), Some("555-0100"));
        assert_eq!(o.tags, vec!["vip", "summer"]);
        assert_eq!(o.customer_tags, vec!["VIP", "wholesale"]);
        assert_eq!(o.created_at.to_rfc3339(), "2026-11-20T14:12:44+00:00");
    }

    #[test]
    fn shopify_errors_name_the_field() {
        let mut b = shopify_body();
        b["line_items"][0]["quantity"] = json!("two");
        let e = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap_err();
        assert_eq!(e.field, "line_items[0].quantity");

        let mut b = shopify_body();
        b["line_items"][0]["price"] = json!("cheap");
        let e = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap_err();
        assert_eq!(e.field, "line_items[0].price");

        let mut b = shopify_body();
        b.as_object_mut().unwrap().remove("line_items");
        let e = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap_err();
        assert!(e.message.contains("line_items"), "{e}");

        let e = shopify_order("d.myshopify.com", b"{not json").unwrap_err();
        assert_eq!(e.field, "body");
        assert!(e.message.starts_with("malformed JSON"));

        let e = shopify_order("d.myshopify.com", br#"{"id": 5, "title": "a product"}"#).unwrap_err();
        assert!(e.message.contains("missing field"), "{e}");

        let mut b = shopify_body();
        b["line_items"][0]["quantity"] = json!(-1);
        let e = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap_err();
        assert_eq!(e.field, "line_items[0].quantity");
    }

    #[test]
    fn maps_a_woocommerce_order() {
        let body = json!({
            "id": 727, "number": "727", "status": "processing", "currency": "EUR", "total": "58.90",
            "total_tax": "9.40", "shipping_total": "4.50", "discount_total": "0.00",
            "date_created_gmt": "2026-11-20T14:03:11", "date_modified_gmt": "2026-11-20T14:03:12",
            "billing": {"email": "max@example.org", "phone": ""},
            "shipping": {"first_name": "Max", "last_name": "Muster", "address_1": "Hauptstr. 5", "city": "Berlin", "state": "", "postcode": "10115", "country": "DE"},
            "line_items": [{"id": 9, "name": "Mug", "product_id": 3, "variation_id": 0, "quantity": 2, "sku": "MUG-WHT", "price": 22.5, "subtotal": "45.00",
                            "meta_data": [{"id": 1, "key": "pa_colour", "value": "white", "display_key": "Colour", "display_value": "White"}]}],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.50"}]
        });
        let o = woocommerce_order("https://shop.example.org/", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(o.store.as_str(), "shop.example.org");
        assert_eq!(woo_store("HTTP://Shop.example.org/"), "shop.example.org");
        assert_eq!(woo_store("https://example.org/shop"), "example.org/shop");
        assert_eq!(o.financial_status, FinancialStatus::Paid);
        assert_eq!(o.lines[0].unit_price, Money::parse("22.5").unwrap());
        assert_eq!(o.lines[0].variant_title.as_deref(), Some("White"));
        assert_eq!(o.lines[0].options, vec![VariantOption { name: "Colour".into(), value: "White".into() }]);
        assert!(crate::validation::totals_findings(&o).is_empty());
        assert_eq!(o.lines[0].variant_id, None);
        assert_eq!(o.contact.email.as_deref(), Some("max@example.org"));
        assert_eq!(o.contact.phone, None);
        assert_eq!(o.shipping_method.as_ref().unwrap().code, "flat_rate");
        assert_eq!(o.name, "#727");
    }

    fn totals_codes(o: &CanonicalOrder) -> Vec<String> {
        crate::validation::totals_findings(o)
            .into_iter()
            .map(|f| format!("{}: {}", f.field.unwrap(), f.message))
            .collect()
    }

    #[test]
    fn shopify_totals_balance_with_discounts_shipping_discounts_included_tax_and_tips() {
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&shopify_body()).unwrap()).unwrap();
        assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
        // A 10% code on the items, free shipping (a shipping discount), a tip; total_discounts
        // counts the shipping discount too, which `subtotal_price` lets us ignore.
        let mut b = shopify_body();
        b["subtotal_price"] = json!("35.98");
        b["total_discounts"] = json!("8.99");
        b["shipping_lines"][0]["discounted_price"] = json!("0.00");
        b["total_tip_received"] = json!("2.00");
        b["total_price"] = json!("40.98");
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(o.totals.discounts, Money::parse("8.99").unwrap());
        assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
        // Prices include VAT: the tax is inside the total, not added.
        let mut b = shopify_body();
        b["taxes_included"] = json!(true);
        b["total_tax"] = json!("7.33");
        b["total_price"] = json!("44.97");
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
        // Duties are paid by the customer too.
        let mut b = shopify_body();
        b["original_total_duties_set"] = json!({"shop_money": {"amount": "4.10", "currency_code": "USD"}});
        b["total_price"] = json!("52.07");
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
        // A line lost in transit (or a total edited by hand) shows.
        let mut b = shopify_body();
        b["total_price"] = json!("57.97");
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(
            totals_codes(&o),
            vec![
                "totals.total: subtotal 39.98 + shipping 4.99 + other 0.00 - discounts 0.00 (+ tax 3.00) = 47.97 USD, but the total is 57.97 USD"
            ]
        );
    }

    #[test]
    fn woocommerce_totals_balance_with_fees_and_negative_fees() {
        let body = |fees: serde_json::Value, total: &str| {
            json!({
                "id": 728, "status": "processing", "currency": "EUR", "total": total,
                "total_tax": "1.90", "shipping_total": "4.50", "discount_total": "3.00",
                "date_created_gmt": "2026-11-20T14:03:11",
                "line_items": [{"id": 9, "name": "Mug", "quantity": 3, "sku": "MUG-WHT", "price": 3.3333, "subtotal": "10.00"}],
                "fee_lines": fees
            })
        };
        let o = woocommerce_order("shop.example.org", &serde_json::to_vec(&body(json!([]), "13.40")).unwrap()).unwrap();
        assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
        let fees = json!([{"name": "Gift wrap", "total": "2.00"}, {"name": "Loyalty", "total": "-1.00"}]);
        let o = woocommerce_order("shop.example.org", &serde_json::to_vec(&body(fees, "14.40")).unwrap()).unwrap();
        assert_eq!((o.totals.other, o.totals.discounts), (Money::parse("2").unwrap(), Money::parse("4").unwrap()));
        assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
        let e =
            woocommerce_order("s", &serde_json::to_vec(&body(json!([{"total": "lots"}]), "1")).unwrap()).unwrap_err();
        assert_eq!(e.field, "fee_lines[0].total");
    }

    #[test]
    fn unknown_statuses_are_not_malformed_orders() {
        let mut b = shopify_body();
        b["financial_status"] = json!("expired");
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(o.financial_status, FinancialStatus::Unknown);
        assert_eq!(woo_financial_status("wc-partially-paid"), FinancialStatus::Unknown);
        assert_eq!(woo_financial_status("wc-processing"), FinancialStatus::Paid);
    }

    #[test]
    fn absurd_amounts_do_not_panic() {
        let mut b = shopify_body();
        b["line_items"][0]["price"] = json!("79000000000000000000000000000");
        b["line_items"][0]["quantity"] = json!(4000000000u64);
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert!(o.totals.subtotal > Money::ZERO);
    }

    #[test]
    fn woo_ping_is_recognized() {
        assert!(is_woocommerce_ping(Some("application/x-www-form-urlencoded"), b"webhook_id=7"));
        assert!(is_woocommerce_ping(None, b"webhook_id=7"));
        assert!(!is_woocommerce_ping(Some("application/json"), br#"{"id":1}"#));
        assert!(!is_woocommerce_ping(Some("application/x-www-form-urlencoded"), b"foo=bar"));
    }
}
