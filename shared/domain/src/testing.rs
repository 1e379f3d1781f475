//! Small, fixed fixtures for unit tests and benchmarks across the workspace.

use crate::catalog::{CatalogDocument, CatalogView, Offer, Supplier};
use crate::order::{Address, CanonicalOrder, Contact, FinancialStatus, LineItem, ShippingMethod, Totals};
use crate::primitives::ids::Channel;
use crate::primitives::ids::{ChannelOrderId, Sku, StoreId, SupplierId};
use crate::primitives::money::{Currency, Money};
use chrono::{TimeZone, Utc};

fn m(s: &str) -> Money {
    Money::parse(s).unwrap_or(Money::ZERO)
}

fn sku(s: &str) -> Sku {
    Sku::new(s).unwrap_or_else(|e| panic!("fixture SKU {s}: {e}"))
}

fn supplier_id(s: &str) -> SupplierId {
    SupplierId::new(s).unwrap_or_else(|e| panic!("fixture supplier {s}: {e}"))
}

fn line(id: &str, s: &str, title: &str, qty: u32, price: &str) -> LineItem {
    LineItem {
        line_id: id.into(),
        sku: Some(sku(s)),
        sku_problem: None,
        product_id: None,
        variant_id: None,
        title: title.into(),
        variant_title: None,
        options: Vec::new(),
        quantity: qty,
        unit_price: m(price),
    }
}

/// A paid, valid three-line US order.
pub fn sample_order() -> CanonicalOrder {
    let created = Utc.with_ymd_and_hms(2026, 11, 20, 14, 0, 0).single().unwrap_or_default();
    CanonicalOrder {
        channel: Channel::Shopify,
        store: StoreId::new("demo-apparel.myshopify.com").unwrap_or_else(|e| panic!("{e}")),
        channel_order_id: ChannelOrderId::new("5001").unwrap_or_else(|e| panic!("{e}")),
        name: "#1001".into(),
        lines: vec![
            line("1", "TEE-BLK-M", "Classic Tee", 2, "19.99"),
            line("2", "HOODIE-GRY-L", "Hoodie", 1, "49.00"),
            line("3", "MUG-WHT", "Mug", 1, "12.50"),
        ],
        shipping_address: Some(Address {
            name: "Ada Lovelace".into(),
            company: String::new(),
            line1: "12 Main St".into(),
            line2: String::new(),
            city: "Springfield".into(),
            region: "IL".into(),
            postal_code: "62701".into(),
            country: "US".into(),
            phone: String::new(),
        }),
        contact: Contact { email: Some("ada@example.com".into()), phone: None },
        financial_status: FinancialStatus::Paid,
        shipping_method: Some(ShippingMethod { code: "standard".into(), title: "Standard".into(), price: m("5.00") }),
        currency: Currency::parse("USD").unwrap_or_else(|e| panic!("{e}")),
        totals: Totals {
            subtotal: m("101.48"),
            shipping: m("5.00"),
            tax: m("0"),
            discounts: m("0"),
            total: m("106.48"),
            taxes_included: false,
            other: Money::ZERO,
            refunded: Money::ZERO,
            disagreements: Vec::new(),
        },
        created_at: created,
        updated_at: created,
        cancelled_at: None,
        test: false,
        tags: vec![],
        customer_tags: vec![],
    }
}

/// Two suppliers: `acme-us` (US, CA) and `beta-eu` (DE, FR, US).
pub fn sample_catalog_document() -> CatalogDocument {
    let offer = |s: &str, sup: &str, stock: u32, active: bool| Offer {
        active,
        ..Offer::new(sku(s), supplier_id(sup), format!("{sup}:{s}"), stock, m("5.00"))
    };
    CatalogDocument {
        suppliers: vec![
            Supplier::new(supplier_id("acme-us"), "Acme US", vec!["US".into(), "CA".into()], "sim://acme-us"),
            Supplier::new(
                supplier_id("beta-eu"),
                "Beta EU",
                vec!["DE".into(), "FR".into(), "US".into()],
                "sim://beta-eu",
            ),
        ],
        offers: vec![
            offer("TEE-BLK-M", "acme-us", 50, true),
            offer("HOODIE-GRY-L", "acme-us", 20, true),
            offer("MUG-WHT", "beta-eu", 5, true),
            offer("MUG-WHT", "acme-us", 80, true),
            offer("OLD-1", "acme-us", 10, false),
        ],
    }
}

pub fn sample_catalog() -> CatalogView {
    view_of(&sample_catalog_document())
}

/// The whole document as a view (fine for small catalogs and tests).
pub fn view_of(doc: &CatalogDocument) -> CatalogView {
    CatalogView::of_document(doc)
}

/// The routing configuration of the sample catalog's suppliers: `acme-us` (Chicago, one day,
/// US and Canada, standard and expedited) and `beta-eu` (Berlin, two days, EU and US, standard).
pub const SAMPLE_ROUTING: &str = r#"{
  "version": 1,
  "zones": {"us": ["US"], "canada": ["CA"], "eu": ["DE", "FR"]},
  "suppliers": [
    {"id": "acme-us", "tier": "one_day",
     "calendar": {"time_zone": "America/Chicago", "cutoff": "14:00"},
     "ships_from": "US", "destinations": ["us", "canada"],
     "services": {"standard": {"us": {"transit": [3, 5], "cost": "6.00"}, "canada": {"transit": [5, 8], "cost": "12.00"}},
                  "expedited": {"us": {"transit": [1, 2], "cost": "15.00"}}},
     "order_fee": "1.00"},
    {"id": "beta-eu", "tier": "two_days",
     "calendar": {"time_zone": "Europe/Berlin", "cutoff": "12:00"},
     "ships_from": "DE", "destinations": ["eu", "us"],
     "services": {"standard": {"eu": {"transit": [2, 4], "cost": "5.00"}, "us": {"transit": [6, 10], "cost": "14.00"}}},
     "order_fee": "0.50"}
  ],
  "policy": {"ship_within_hours": {"expedited": 48, "overnight": 24}}
}"#;

pub fn sample_routing() -> crate::routing::config::RoutingConfig {
    crate::routing::config::RoutingConfig::parse("sample-routing.json", SAMPLE_ROUTING)
        .unwrap_or_else(|e| panic!("fixture routing configuration: {e}"))
}
