//! Store payloads (Shopify, WooCommerce) mapped into the canonical order.
//!
//! Parsing is typed (serde) with the path of the first bad field kept, so a malformed payload
//! gets an error that names the problem (`line_items[1].quantity: invalid type ...`).

mod fields;
mod shopify;
mod time_zones;
mod woocommerce;

#[cfg(test)]
mod tests;
use fields::*;
use serde::Deserialize;
pub use shopify::{address_json, shopify_order};
pub use time_zones::{StoreTimeZones, StoreTimeZonesError};
pub use woocommerce::{is_woocommerce_ping, woo_store, woocommerce_order};

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

/// Parses a JSON body into `T`; an error names the first bad field's path (`body` for the whole).
pub fn parse_json<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, PayloadError> {
    // The common case pays nothing for error paths; a failure is parsed again to say where.
    // The body is checked as UTF-8 once, so that its strings are not checked one by one.
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(v) = serde_json::from_str(text)
    {
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
