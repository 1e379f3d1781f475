//! The workload: orders on several stores (two Shopify shops, one WooCommerce site), one to four
//! lines over hot SKUs with little stock and plentiful ones, to destinations each supplier
//! serves; some paid later, some with their address edited, some cancelled, racing validation.
//! Each order carries personal-data canaries (email, street, phone) the checker looks for in
//! logs and events.

use crate::rng::Rng;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

pub const SHOPS: [&str; 2] = ["soak-a.myshopify.com", "soak-b.myshopify.com"];
pub const WOO_SITE: &str = "https://shop.soak.example";

/// A destination with an address validation accepts.
#[derive(Debug, Clone, Copy)]
pub struct Destination {
    pub country: &'static str,
    pub region: &'static str,
    pub postal: &'static str,
    pub city: &'static str,
}

const DESTINATIONS: [Destination; 7] = [
    Destination { country: "US", region: "CA", postal: "90210", city: "Beverly Hills" },
    Destination { country: "US", region: "NY", postal: "10001", city: "New York" },
    Destination { country: "CA", region: "ON", postal: "M5V 2T6", city: "Toronto" },
    Destination { country: "GB", region: "", postal: "EC1A 1BB", city: "London" },
    Destination { country: "DE", region: "", postal: "10115", city: "Berlin" },
    Destination { country: "FR", region: "", postal: "75001", city: "Paris" },
    Destination { country: "AU", region: "NSW", postal: "2000", city: "Sydney" },
];

/// SKUs and their store prices; the first three are the hot ones (little stock).
pub const SKUS: [(&str, &str); 12] = [
    ("CANDLE-SOY-CEDAR", "26.00"),
    ("HOODIE-GRY-L", "54.00"),
    ("MUG-CER-15OZ", "19.00"),
    ("TEE-BLK-M", "24.00"),
    ("TEE-BLK-S", "24.00"),
    ("TEE-BLK-L", "24.00"),
    ("TEE-WHT-M", "23.00"),
    ("HOODIE-GRY-M", "54.00"),
    ("MUG-CER-11OZ", "18.00"),
    ("CASE-IP15-CLR", "19.50"),
    ("TOTE-CNV-NAT", "22.00"),
    ("TEE-WHT-L", "23.00"),
];

/// Where the order is sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    Shopify(&'static str),
    WooCommerce,
}

/// What the store does to the order after creating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Created pending, paid later.
    Paid,
    /// The customer's street edited.
    AddressEdited,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct PlannedOrder {
    pub n: u32,
    pub store: Store,
    pub lines: Vec<(String, u32, String)>,
    pub destination: Destination,
    pub created_at: DateTime<Utc>,
    pub change: Option<(Change, Duration)>,
}

impl PlannedOrder {
    pub fn email(&self) -> String {
        format!("canary.{}@soak-mail.example", self.n)
    }
    pub fn street(&self, edited: bool) -> String {
        format!("{} Canary{} Street", 100 + self.n, if edited { " Upper" } else { "" })
    }
    pub fn phone(&self) -> String {
        format!("+1 555 0199 {:04}", self.n % 10_000)
    }
    pub fn channel_id(&self) -> u64 {
        7_000_000 + u64::from(self.n)
    }
}

/// Orders `count` orders arriving over `span`, from `start`.
pub fn orders(rng: &mut Rng, count: u32, start: DateTime<Utc>, span: Duration) -> Vec<PlannedOrder> {
    let step_ms = (span.num_milliseconds() / i64::from(count.max(1))).max(1);
    (0..count)
        .map(|n| {
            let store = match rng.between(0, 9) {
                0..=3 => Store::Shopify(SHOPS[0]),
                4..=6 => Store::Shopify(SHOPS[1]),
                _ => Store::WooCommerce,
            };
            let destination = *rng.pick(&DESTINATIONS);
            let mut lines: Vec<(String, u32, String)> = Vec::new();
            for _ in 0..rng.between(1, 4) {
                // One in three lines is a hot SKU.
                let (sku, price) =
                    if rng.chance(0.33) { SKUS[rng.between(0, 2) as usize] } else { *rng.pick(&SKUS[3..]) };
                if lines.iter().any(|(s, _, _)| s == sku) {
                    continue;
                }
                lines.push((sku.to_string(), rng.between(1, 3) as u32, price.to_string()));
            }
            let change = match rng.between(0, 99) {
                0..=9 => Some((Change::Paid, Duration::seconds(rng.between(5, 900) as i64))),
                10..=14 => Some((Change::AddressEdited, Duration::seconds(rng.between(5, 1800) as i64))),
                15..=19 => Some((Change::Cancelled, Duration::seconds(rng.between(5, 7200) as i64))),
                _ => None,
            };
            PlannedOrder {
                n,
                store,
                lines,
                destination,
                created_at: start + Duration::milliseconds(step_ms * i64::from(n)),
                change,
            }
        })
        .collect()
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn cents(price: &str) -> i64 {
    let (whole, frac) = price.split_once('.').unwrap_or((price, "0"));
    whole.parse::<i64>().unwrap_or(0) * 100 + format!("{frac:0<2}")[..2].parse::<i64>().unwrap_or(0)
}

/// The store's body for the order as it stands at `version` (0: created; 1: after its change).
pub fn body(o: &PlannedOrder, version: u32) -> Vec<u8> {
    let changed = version > 0;
    let change = o.change.map(|(c, _)| c);
    let paid = change != Some(Change::Paid) || changed;
    let cancelled = changed && change == Some(Change::Cancelled);
    let edited = changed && change == Some(Change::AddressEdited);
    let updated_at = match o.change {
        Some((_, after)) if changed => o.created_at + after,
        _ => o.created_at,
    };
    let subtotal: i64 = o.lines.iter().map(|(_, q, p)| i64::from(*q) * cents(p)).sum();
    let shipping = 500;
    let total = subtotal + shipping;
    let d = o.destination;
    match &o.store {
        Store::Shopify(_) => serde_json::to_vec(&json!({
            "id": o.channel_id(),
            "name": format!("#S{}", o.n),
            "email": o.email(),
            "phone": null,
            "created_at": o.created_at.to_rfc3339(),
            "updated_at": updated_at.to_rfc3339(),
            "cancelled_at": if cancelled { Value::String(updated_at.to_rfc3339()) } else { Value::Null },
            "currency": "USD",
            "financial_status": if paid { "paid" } else { "pending" },
            "total_price": money(total),
            "subtotal_price": money(subtotal),
            "total_line_items_price": money(subtotal),
            "total_tax": "0.00",
            "total_discounts": "0.00",
            "test": false,
            "line_items": o.lines.iter().enumerate().map(|(i, (sku, q, p))| json!({
                "id": 90_000_000 + u64::from(o.n) * 10 + i as u64,
                "sku": sku, "title": sku, "quantity": q, "price": p,
                "variant_id": 1000 + i, "product_id": 2000 + i
            })).collect::<Vec<_>>(),
            "shipping_address": {
                "first_name": "Canary", "last_name": format!("Person{}", o.n),
                "address1": o.street(edited), "address2": "", "city": d.city,
                "province_code": d.region, "zip": d.postal, "country_code": d.country,
                "phone": o.phone()
            },
            "shipping_lines": [{"code": "standard", "title": "Standard Shipping", "price": money(shipping)}]
        }))
        .unwrap_or_default(),
        Store::WooCommerce => serde_json::to_vec(&json!({
            "id": o.channel_id(),
            "number": format!("W{}", o.n),
            "status": if cancelled { "cancelled" } else if paid { "processing" } else { "pending" },
            "currency": "USD",
            "total": money(total),
            "total_tax": "0.00",
            "shipping_total": money(shipping),
            "discount_total": "0.00",
            "date_created_gmt": o.created_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "date_modified_gmt": updated_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "billing": {"first_name": "Canary", "last_name": format!("Person{}", o.n), "email": o.email(), "phone": o.phone()},
            "shipping": {
                "first_name": "Canary", "last_name": format!("Person{}", o.n), "company": "",
                "address_1": o.street(edited), "address_2": "", "city": d.city, "state": d.region,
                "postcode": d.postal, "country": d.country, "phone": ""
            },
            "line_items": o.lines.iter().enumerate().map(|(i, (sku, q, p))| json!({
                "id": 80_000_000 + u64::from(o.n) * 10 + i as u64,
                "name": sku, "product_id": 3000 + i, "variation_id": 0, "quantity": q, "sku": sku,
                "subtotal": money(i64::from(*q) * cents(p)), "total": money(i64::from(*q) * cents(p)), "price": p,
                "meta_data": []
            })).collect::<Vec<_>>(),
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Standard Shipping", "total": money(shipping)}],
            "fee_lines": [], "refunds": []
        }))
        .unwrap_or_default(),
    }
}

/// The canaries a run seeded: none may appear in a log line or an event.
pub fn canaries(orders: &[PlannedOrder]) -> Vec<String> {
    let mut out = vec!["soak-mail.example".to_string(), "Canary Street".to_string(), "Canary Upper".to_string()];
    out.extend(orders.iter().take(50).map(|o| o.phone()));
    out
}
