//! Identifier newtypes. Each one validates on construction, so a value of the type is always
//! well-formed and can be used as a key or in a log line without further checks.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub reason: String,
}

fn check(kind: &'static str, s: &str, max: usize, allowed: impl Fn(char) -> bool) -> Result<(), InvalidId> {
    if s.is_empty() {
        return Err(InvalidId { kind, reason: "empty".into() });
    }
    if s.len() > max {
        return Err(InvalidId { kind, reason: format!("longer than {max} characters") });
    }
    if let Some(c) = s.chars().find(|c| !allowed(*c)) {
        return Err(InvalidId { kind, reason: format!("character {c:?} not allowed") });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident, $kind:literal, $max:expr, $allowed:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                check($kind, &s, $max, $allowed)?;
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn printable(c: char) -> bool {
    !c.is_control()
}
fn token(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

string_id!(
    /// Dropline's own order id: `o_` followed by 16 Crockford base32 characters, derived
    /// deterministically from (channel, store, channel order id), so a redelivered or re-sent
    /// order maps to the same id and a conditional create dedupes it.
    OrderId, "order id", 18, |c: char| c.is_ascii_alphanumeric() || c == '_'
);
string_id!(
    /// The store's identity within its channel (Shopify shop domain, WooCommerce site URL).
    StoreId, "store id", 200, printable
);
string_id!(
    /// The order id the channel assigned (Shopify's numeric `id`, WooCommerce's `id`).
    ChannelOrderId, "channel order id", 64, token
);
string_id!(
    /// A store SKU: what the merchant's catalog calls the item, as the store sent it (spaces
    /// included: real catalogs have them; control characters never).
    Sku, "SKU", 255, printable
);
string_id!(
    /// A supplier's id in the catalog (`northwind-us`).
    SupplierId, "supplier id", 64, |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
);
string_id!(
    /// A webhook delivery id (`X-Shopify-Webhook-Id`, `X-WC-Webhook-Delivery-ID`).
    DeliveryId, "delivery id", 128, |c: char| c.is_ascii_graphic()
);

impl OrderId {
    /// The deterministic id of a channel order. Same inputs, same id, on every machine.
    pub fn derive(channel: Channel, store: &StoreId, channel_order_id: &ChannelOrderId) -> Self {
        let mut h = Sha256::new();
        h.update(channel.as_str().as_bytes());
        h.update([0u8]);
        h.update(store.as_str().as_bytes());
        h.update([0u8]);
        h.update(channel_order_id.as_str().as_bytes());
        let digest = h.finalize();
        // 16 base32 characters = 80 bits of the digest: collisions are not a practical concern.
        let mut bits: u128 = 0;
        for b in &digest[..10] {
            bits = (bits << 8) | u128::from(*b);
        }
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut out = String::with_capacity(18);
        out.push_str("o_");
        for i in (0..16).rev() {
            let idx = ((bits >> (i * 5)) & 0x1f) as usize;
            out.push(char::from(ALPHABET[idx]));
        }
        Self(out)
    }
}

/// A purchase order's id: the order id plus a 1-based sequence (`o_7K3M9QX2ZB4TAB12-2`). Its
/// human number (`1001-2`) is derived from the store's order name; the id is what suppliers echo
/// back, and it leads straight to the order without an index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PurchaseOrderId {
    order: OrderId,
    seq: u16,
}

impl PurchaseOrderId {
    pub fn new(order: OrderId, seq: u16) -> Self {
        Self { order, seq }
    }
    pub fn order_id(&self) -> &OrderId {
        &self.order
    }
    pub fn seq(&self) -> u16 {
        self.seq
    }
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        let bad = |reason: &str| InvalidId { kind: "purchase order id", reason: reason.into() };
        let (order, seq) = s.rsplit_once('-').ok_or_else(|| bad("expected <order id>-<n>"))?;
        let seq: u16 = seq.parse().map_err(|_| bad("sequence is not a number"))?;
        if seq == 0 {
            return Err(bad("sequence starts at 1"));
        }
        let order = OrderId::new(order).map_err(|e| bad(&e.reason))?;
        Ok(Self { order, seq })
    }
}

impl fmt::Display for PurchaseOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.order, self.seq)
    }
}
impl TryFrom<String> for PurchaseOrderId {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, InvalidId> {
        Self::parse(&s)
    }
}
impl From<PurchaseOrderId> for String {
    fn from(v: PurchaseOrderId) -> String {
        v.to_string()
    }
}

/// The store platform an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Shopify,
    #[serde(rename = "woocommerce")]
    WooCommerce,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::WooCommerce => "woocommerce",
        }
    }
}
impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_id_is_deterministic_and_channel_scoped() {
        let store = StoreId::new("demo.myshopify.com").unwrap();
        let id = ChannelOrderId::new("450789469").unwrap();
        let a = OrderId::derive(Channel::Shopify, &store, &id);
        let b = OrderId::derive(Channel::Shopify, &store, &id);
        let c = OrderId::derive(Channel::WooCommerce, &store, &id);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str().len(), 18);
        assert!(OrderId::new(a.as_str()).is_ok());
    }

    #[test]
    fn purchase_order_id_round_trips() {
        let order = OrderId::new("o_0123456789ABCDEF").unwrap();
        let po = PurchaseOrderId::new(order.clone(), 2);
        let parsed = PurchaseOrderId::parse(&po.to_string()).unwrap();
        assert_eq!(parsed, po);
        assert_eq!(parsed.order_id(), &order);
        assert!(PurchaseOrderId::parse("o_0123456789ABCDEF-0").is_err());
        assert!(PurchaseOrderId::parse("nothing").is_err());
        assert!(PurchaseOrderId::parse("o_0123456789ABCDEF-x").is_err());
    }

    #[test]
    fn ids_refuse_bad_input() {
        assert!(Sku::new("").is_err());
        // Issue 11, defect 11: a SKU with a space was refused, and its order lost with a 400.
        assert_eq!(Sku::new("TEE BLK M").unwrap().as_str(), "TEE BLK M");
        assert!(Sku::new("A\tB").is_err(), "control characters never");
        assert!(Sku::new("x".repeat(255)).is_ok() && Sku::new("x".repeat(256)).is_err());
        assert!(SupplierId::new("Upper").is_err());
        assert!(ChannelOrderId::new("12/3").is_err());
        let json = serde_json::to_string(&Sku::new("TEE-1").unwrap()).unwrap();
        assert_eq!(json, "\"TEE-1\"");
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
    }
}
