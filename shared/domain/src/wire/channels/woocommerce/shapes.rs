//! The body shapes WooCommerce's webhook API versions send, as typed serde structs.
//!
//! * **wc/v3** (WooCommerce 3.5+) and **wc/v2** (3.0+): the order object, with `*_gmt` times and
//!   line `meta_data` (`display_key`/`display_value` from v3 on).
//! * **wc/v1** (2.6): no `*_gmt` times (`date_created` is site-local, without offset) and line
//!   attributes in `meta` (`key`, `label`, `value`).
//! * **legacy v3** (`/wc-api/v3`, deprecated): the order wrapped as `{"order": {...}}`, with
//!   `created_at`/`updated_at` in UTC, `total_shipping`, `total_discount`, `order_number`,
//!   `billing_address`/`shipping_address` and line `meta`.
//!
//! PHP writes an empty list as `[]` wherever it might have written an object, and any field can
//! be `null`: every list here reads `null` as empty and every address reads `[]` as absent.

use super::super::fields::{Flex, Id};
use serde::{Deserialize, Deserializer};

/// The REST API's order (wc/v1, v2, v3), or the legacy envelope when `order` is present.
#[derive(Deserialize, Default)]
pub(super) struct WooOrder {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub number: Option<Flex>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub total: Option<Flex>,
    #[serde(default)]
    pub total_tax: Option<Flex>,
    #[serde(default)]
    pub shipping_total: Option<Flex>,
    #[serde(default)]
    pub discount_total: Option<Flex>,
    #[serde(default)]
    pub date_created_gmt: Option<String>,
    /// Site-local time; the only creation time wc/v1 sends.
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_modified_gmt: Option<String>,
    #[serde(default)]
    pub date_modified: Option<String>,
    #[serde(default, deserialize_with = "address")]
    pub billing: Option<WooAddress>,
    #[serde(default, deserialize_with = "address")]
    pub shipping: Option<WooAddress>,
    #[serde(default, deserialize_with = "list")]
    pub line_items: Vec<WooLine>,
    #[serde(default, deserialize_with = "list")]
    pub shipping_lines: Vec<WooShippingLine>,
    /// Fees added at checkout; a negative fee is a discount.
    #[serde(default, deserialize_with = "list")]
    pub fee_lines: Vec<WooFeeLine>,
    /// Refunds so far, each with a negative `total`.
    #[serde(default, deserialize_with = "list")]
    pub refunds: Vec<WooRefund>,
    /// The legacy API's envelope: `{"order": {...}}`.
    #[serde(default)]
    pub order: Option<Box<LegacyOrder>>,
}

/// The legacy REST API v3 order (inside `{"order": ...}`).
#[derive(Deserialize)]
pub(super) struct LegacyOrder {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub order_number: Option<Flex>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub total: Option<Flex>,
    #[serde(default)]
    pub total_tax: Option<Flex>,
    #[serde(default)]
    pub total_shipping: Option<Flex>,
    #[serde(default)]
    pub total_discount: Option<Flex>,
    /// UTC (`2015-01-21T19:24:38Z`).
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "address")]
    pub billing_address: Option<WooAddress>,
    #[serde(default, deserialize_with = "address")]
    pub shipping_address: Option<WooAddress>,
    #[serde(default, deserialize_with = "list")]
    pub line_items: Vec<WooLine>,
    #[serde(default, deserialize_with = "list")]
    pub shipping_lines: Vec<WooShippingLine>,
    #[serde(default, deserialize_with = "list")]
    pub fee_lines: Vec<WooFeeLine>,
}

impl LegacyOrder {
    /// The same order in the REST API's field names (its times are UTC, so they are `*_gmt`).
    pub fn into_rest(self) -> WooOrder {
        WooOrder {
            id: self.id,
            number: self.order_number,
            status: self.status,
            currency: self.currency,
            total: self.total,
            total_tax: self.total_tax,
            shipping_total: self.total_shipping,
            discount_total: self.total_discount,
            date_created_gmt: self.created_at,
            date_modified_gmt: self.updated_at,
            billing: self.billing_address,
            shipping: self.shipping_address,
            line_items: self.line_items,
            shipping_lines: self.shipping_lines,
            fee_lines: self.fee_lines,
            ..WooOrder::default()
        }
    }

    /// A REST field name, as the legacy body spells it (for error messages).
    pub fn field(rest: &str) -> String {
        let legacy = match rest {
            "number" => "order_number",
            "shipping_total" => "total_shipping",
            "discount_total" => "total_discount",
            "date_created_gmt" => "created_at",
            "date_modified_gmt" => "updated_at",
            other => other,
        };
        format!("order.{legacy}")
    }
}

#[derive(Deserialize)]
pub(super) struct WooFeeLine {
    #[serde(default)]
    pub total: Option<Flex>,
}

#[derive(Deserialize)]
pub(super) struct WooRefund {
    #[serde(default)]
    pub total: Option<Flex>,
}

#[derive(Deserialize)]
pub(super) struct WooAddress {
    #[serde(default, deserialize_with = "text")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub company: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address_1: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address_2: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub postcode: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub phone: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WooLine {
    pub id: Id,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub product_id: Option<Id>,
    #[serde(default)]
    pub variation_id: Option<Id>,
    pub quantity: i64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub price: Option<Flex>,
    #[serde(default)]
    pub subtotal: Option<Flex>,
    /// wc/v2 and v3.
    #[serde(default, deserialize_with = "list")]
    pub meta_data: Vec<WooMeta>,
    /// wc/v1 and legacy v3.
    #[serde(default, deserialize_with = "list")]
    pub meta: Vec<WooMeta>,
}

#[derive(Deserialize)]
pub(super) struct WooMeta {
    #[serde(default)]
    pub key: Option<String>,
    /// wc/v3.
    #[serde(default)]
    pub display_key: Option<String>,
    /// wc/v1 and legacy v3.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub display_value: Option<serde_json::Value>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct WooShippingLine {
    #[serde(default)]
    pub method_id: Option<String>,
    #[serde(default)]
    pub method_title: Option<String>,
    #[serde(default)]
    pub total: Option<Flex>,
}

/// A list that may be `null`.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An address object that may be `null` or PHP's empty `[]`.
fn address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WooAddress>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<WooAddress>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an address object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            WooAddress::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// Text that PHP may have written as a number (a postcode, a phone) or `null`.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Flex>::deserialize(d)?.map(|f| f.0))
}
