//! Every body shape WooCommerce's webhook API versions send, mapped to the same order.

use super::*;
use crate::order::FinancialStatus;
use serde_json::{Value, json};

fn v3() -> Value {
    json!({
        "id": 901, "number": "901", "status": "processing", "currency": "EUR", "total": "53.90",
        "total_tax": "0.00", "shipping_total": "4.90", "discount_total": "0.00",
        "date_created": "2026-11-20T16:03:11", "date_created_gmt": "2026-11-20T15:03:11",
        "date_modified": "2026-11-20T16:03:14", "date_modified_gmt": "2026-11-20T15:03:14",
        "billing": {"first_name": "Jonas", "last_name": "Becker", "email": "j@example.org", "phone": ""},
        "shipping": {"first_name": "Jonas", "last_name": "Becker", "company": "", "address_1": "Lindenhofweg 12",
                     "address_2": "", "city": "Berlin", "state": "", "postcode": "10115", "country": "DE"},
        "line_items": [{"id": 1, "name": "Tee", "product_id": 412, "variation_id": 416, "quantity": 2,
                        "subtotal": "49.00", "total": "49.00", "sku": "TEE-BLK-M", "price": 24.5,
                        "meta_data": [{"id": 7, "key": "pa_size", "value": "m", "display_key": "Size", "display_value": "M"}]}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "DHL", "total": "4.90"}],
        "fee_lines": [], "refunds": []
    })
}

fn map(body: &Value, zones: &str) -> Result<CanonicalOrder, PayloadError> {
    woocommerce_order("shop.example.org", &serde_json::to_vec(body).unwrap(), &StoreTimeZones::parse(zones).unwrap())
}

fn legacy() -> Value {
    json!({"order": {
        "id": 901, "order_number": "901", "status": "processing", "currency": "EUR", "total": "53.90",
        "subtotal": "49.00", "total_tax": "0.00", "total_shipping": "4.90", "total_discount": "0.00",
        "created_at": "2026-11-20T15:03:11Z", "updated_at": "2026-11-20T15:03:14Z",
        "billing_address": {"first_name": "Jonas", "last_name": "Becker", "email": "j@example.org", "phone": ""},
        "shipping_address": {"first_name": "Jonas", "last_name": "Becker", "company": "", "address_1": "Lindenhofweg 12",
                             "address_2": "", "city": "Berlin", "state": "", "postcode": "10115", "country": "DE"},
        "line_items": [{"id": 1, "subtotal": "49.00", "total": "49.00", "price": "24.50", "quantity": 2,
                        "tax_class": null, "name": "Tee", "product_id": 416, "sku": "TEE-BLK-M",
                        "meta": [{"key": "pa_size", "label": "Size", "value": "M"}]}],
        "shipping_lines": [{"id": 2, "method_id": "flat_rate", "method_title": "DHL", "total": "4.90"}],
        "tax_lines": [], "fee_lines": [], "coupon_lines": []
    }})
}

/// What must come out the same whichever version sent the order.
fn essentials(o: &CanonicalOrder) -> (String, String, String, String, Vec<(String, String)>, String) {
    (
        o.channel_order_id.to_string(),
        o.name.clone(),
        o.created_at.to_rfc3339(),
        o.totals.total.to_string(),
        o.lines[0].options.iter().map(|x| (x.name.clone(), x.value.clone())).collect(),
        o.shipping_address.as_ref().map(|a| a.city.clone()).unwrap_or_default(),
    )
}

#[test]
fn the_legacy_v3_envelope_maps_like_wc_v3() {
    let rest = map(&v3(), "").unwrap();
    let old = map(&legacy(), "").unwrap();
    assert_eq!(essentials(&old), essentials(&rest));
    assert_eq!(old.updated_at, rest.updated_at);
    assert_eq!(old.totals, rest.totals);
    assert_eq!(old.contact, rest.contact);
}

#[test]
fn legacy_errors_name_the_legacy_fields() {
    let mut b = legacy();
    b["order"]["total_shipping"] = json!("free");
    assert_eq!(map(&b, "").unwrap_err().field, "order.total_shipping");
    let mut b = legacy();
    b["order"]["line_items"][0]["quantity"] = json!("two");
    assert_eq!(map(&b, "").unwrap_err().field, "order.line_items[0].quantity");
    let mut b = legacy();
    b["order"]["line_items"] = json!([]);
    assert_eq!(map(&b, "").unwrap_err().field, "order.line_items");
    // No order at all: the REST shape's own complaint.
    assert_eq!(map(&json!({"foo": 1}), "").unwrap_err().field, "id");
}

#[test]
fn wc_v1_reads_meta_and_site_local_time_on_the_stores_clock() {
    let mut b = v3();
    let o = b.as_object_mut().unwrap();
    for k in ["date_created_gmt", "date_modified_gmt"] {
        o.remove(k);
    }
    let line = b["line_items"][0].as_object_mut().unwrap();
    line.remove("meta_data");
    line.insert("meta".into(), json!([{"key": "pa_size", "label": "Size", "value": "M"}]));
    let berlin = map(&b, "shop.example.org=Europe/Berlin").unwrap();
    assert_eq!(essentials(&berlin), essentials(&map(&v3(), "").unwrap()));
    assert_eq!(berlin.updated_at.to_rfc3339(), "2026-11-20T15:03:14+00:00");
    // A store on UTC (WordPress's default) reads the same text as UTC.
    assert_eq!(map(&b, "").unwrap().created_at.to_rfc3339(), "2026-11-20T16:03:11+00:00");
    assert_eq!(map(&b, "*=UTC+5.5").unwrap().created_at.to_rfc3339(), "2026-11-20T10:33:11+00:00");
}

#[test]
fn wc_v2_meta_without_display_keys_names_the_attribute() {
    let mut b = v3();
    b["line_items"][0]["meta_data"] =
        json!([{"id": 7, "key": "pa_size", "value": "m"}, {"id": 8, "key": "_reduced_stock", "value": "2"}]);
    let o = map(&b, "").unwrap();
    let options: Vec<(&str, &str)> = o.lines[0].options.iter().map(|x| (x.name.as_str(), x.value.as_str())).collect();
    assert_eq!(options, vec![("size", "m")]);
}

#[test]
fn nulls_empty_lists_and_php_empty_arrays_are_absent_values() {
    let mut b = v3();
    b["fee_lines"] = Value::Null;
    b["refunds"] = Value::Null;
    b["shipping_lines"] = Value::Null;
    b["billing"] = json!([]);
    b["line_items"][0]["meta_data"] = Value::Null;
    b["shipping"]["postcode"] = json!(10115);
    let o = map(&b, "").unwrap();
    assert_eq!(o.contact.email, None);
    assert_eq!(o.shipping_address.unwrap().postal_code, "10115");
    assert!(o.lines[0].options.is_empty());
    b["shipping"] = json!("Berlin");
    let e = map(&b, "").unwrap_err();
    assert_eq!(e.field, "shipping", "{e}");
}

#[test]
fn refunds_make_the_payment_partial_or_refunded() {
    let mut b = v3();
    b["refunds"] = json!([{"id": 5, "reason": "", "total": "-20.00"}, {"id": 6, "refund": "", "total": "-4.50"}]);
    let o = map(&b, "").unwrap();
    assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
    assert_eq!(o.totals.refunded.to_string(), "24.50");
    b["refunds"] = json!([{"id": 5, "total": "-53.90"}]);
    assert_eq!(map(&b, "").unwrap().financial_status, FinancialStatus::Refunded);
    b["refunds"] = json!([{"id": 5, "total": "-a lot"}]);
    assert_eq!(map(&b, "").unwrap_err().field, "refunds[0].total");
    // Refunds on an order that was never paid do not make it paid.
    b["refunds"] = json!([{"id": 5, "total": "-1.00"}]);
    b["status"] = json!("pending");
    assert_eq!(map(&b, "").unwrap().financial_status, FinancialStatus::Pending);
}
