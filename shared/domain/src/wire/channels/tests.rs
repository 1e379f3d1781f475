//! Store payloads mapped, and malformed ones refused with the field named.

use super::woocommerce::woo_financial_status;
use super::*;
use crate::order::{CanonicalOrder, FinancialStatus, VariantOption};
use crate::primitives::ids::Channel;
use crate::primitives::money::Money;
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

/// Issue 11, defect 11: a SKU containing a space got a 400 (`character ' ' not allowed`) and the
/// order was lost. It is stored as the store sent it; mapping it is validation's business.
#[test]
fn a_sku_with_a_space_is_kept_as_the_store_sent_it() {
    let mut b = shopify_body();
    b["line_items"][0]["sku"] = json!("TEE BLK M");
    let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).expect("maps");
    assert_eq!(o.lines[0].sku.as_ref().unwrap().as_str(), "TEE BLK M");
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
    let o =
        woocommerce_order("https://shop.example.org/", &serde_json::to_vec(&body).unwrap(), &StoreTimeZones::default())
            .unwrap();
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
    crate::validation::totals_findings(o).into_iter().map(|f| format!("{}: {}", f.field.unwrap(), f.message)).collect()
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
    let o = woocommerce_order(
        "shop.example.org",
        &serde_json::to_vec(&body(json!([]), "13.40")).unwrap(),
        &StoreTimeZones::default(),
    )
    .unwrap();
    assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
    let fees = json!([{"name": "Gift wrap", "total": "2.00"}, {"name": "Loyalty", "total": "-1.00"}]);
    let o = woocommerce_order(
        "shop.example.org",
        &serde_json::to_vec(&body(fees, "14.40")).unwrap(),
        &StoreTimeZones::default(),
    )
    .unwrap();
    assert_eq!((o.totals.other, o.totals.discounts), (Money::parse("2").unwrap(), Money::parse("4").unwrap()));
    assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));
    let e = woocommerce_order(
        "s",
        &serde_json::to_vec(&body(json!([{"total": "lots"}]), "1")).unwrap(),
        &StoreTimeZones::default(),
    )
    .unwrap_err();
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

/// The relations a Shopify order's own figures break, as validation reports them.
fn disagreements(b: &serde_json::Value) -> Vec<String> {
    let o = shopify_order("d.myshopify.com", &serde_json::to_vec(b).unwrap()).unwrap();
    o.totals.disagreements.iter().map(|d| d.relation.clone()).collect()
}

#[test]
fn shopify_figures_that_disagree_hold_instead_of_inventing_a_discount() {
    // 2 x 19.99 = 39.98 of lines, but the store says its line items total 29.99, discounts 0.
    let mut b = shopify_body();
    b["total_line_items_price"] = json!("29.99");
    b["subtotal_price"] = json!("29.99");
    b["total_price"] = json!("37.98");
    let found = disagreements(&b);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("total_line_items_price") && found[1].contains("total_discounts"), "{found:?}");
    let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
    let codes = totals_codes(&o);
    assert!(codes[0].starts_with("totals: the store's own figures disagree"), "{codes:?}");
    assert!(codes[0].contains("lines (quantity x price) 39.98, total_line_items_price 29.99, in USD"), "{codes:?}");

    // A subtotal above the lines is no negative discount either.
    let mut b = shopify_body();
    b["subtotal_price"] = json!("49.98");
    assert_eq!(disagreements(&b), vec!["subtotal_price <= lines (quantity x price)"]);
}

#[test]
fn shopify_figures_that_agree_do_not_hold() {
    // The consistent body.
    let mut b = shopify_body();
    b["total_line_items_price"] = json!("39.98");
    assert!(disagreements(&b).is_empty());
    let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
    assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));

    // total_discounts counts a free-shipping discount the shipping line does not itemise:
    // trusting subtotal_price alone used to flag this consistent order.
    let mut b = shopify_body();
    b["total_discounts"] = json!("4.99");
    b["total_price"] = json!("42.98");
    let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
    assert!(o.totals.disagreements.is_empty());
    assert!(totals_codes(&o).is_empty(), "{:?}", totals_codes(&o));

    // Item and shipping discounts itemised, total_discounts with or without the shipping one.
    for stated in ["4.00", "8.99"] {
        let mut b = shopify_body();
        b["subtotal_price"] = json!("35.98");
        b["total_discounts"] = json!(stated);
        b["shipping_lines"][0]["discounted_price"] = json!("0.00");
        b["total_price"] = json!("38.98");
        let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
        assert!(totals_codes(&o).is_empty(), "{stated}: {:?}", totals_codes(&o));
        assert_eq!(o.totals.discounts, Money::parse("8.99").unwrap());
    }
}

#[test]
fn shopify_refund_transactions_are_the_amount_refunded() {
    let mut b = shopify_body();
    b["financial_status"] = json!("partially_refunded");
    b["refunds"] = json!([{"id": 1, "transactions": [
        {"kind": "refund", "status": "success", "amount": "19.99"},
        {"kind": "refund", "status": "failure", "amount": "19.99"},
        {"kind": "sale", "status": "success", "amount": "47.97"}
    ], "refund_line_items": []}]);
    let o = shopify_order("d.myshopify.com", &serde_json::to_vec(&b).unwrap()).unwrap();
    assert_eq!(o.totals.refunded, Money::parse("19.99").unwrap());
    assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
}

/// Issue 11, defect 5: the canonical address form is Dropline's own; a misspelled field is
/// refused by name instead of leaving the postal code empty. Shopify's form keeps its extras.
#[test]
fn a_canonical_address_with_a_misspelled_field_is_refused() {
    let e = address_json(br#"{"line1": "1 Main St", "city": "Springfield", "postcode": "62701", "country": "US"}"#)
        .unwrap_err();
    assert_eq!(e.field, "postcode");
    assert!(e.message.contains("expected one of"), "{e}");
    let shopify =
        br#"{"address1": "1 Main St", "city": "Springfield", "zip": "62701", "country_code": "US", "latitude": 39.8}"#;
    assert_eq!(address_json(shopify).unwrap().postal_code, "62701");
}

/// Issue 12, defect 9: an integer id beyond what an exact integer holds reaches serde as a float
/// and loses its digits; it is refused, naming the field, instead of becoming another id.
#[test]
fn ids_that_would_lose_digits_are_refused() {
    let body = shopify_body().to_string().replace("\"id\":450789469", "\"id\":123456789012345678901234567890");
    let e = shopify_order("d.myshopify.com", body.as_bytes()).unwrap_err();
    assert_eq!(e.field, "id", "{e}");
    assert!(e.message.contains("send ids as strings"), "{e}");
    // Up to 2^64 an integer id is exact.
    let body = shopify_body().to_string().replace("\"id\":450789469", "\"id\":18446744073709551615");
    assert_eq!(
        shopify_order("d.myshopify.com", body.as_bytes()).unwrap().channel_order_id.as_str(),
        "18446744073709551615"
    );
}
