//! Field readers every store's payload shares: flexible numbers and strings, money, quantities,
//! SKUs, times, names and countries, each error naming the field.

use super::*;
use crate::primitives::ids::{ChannelOrderId, Sku};
use crate::primitives::money::{Currency, Money};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};

/// A JSON value that may be a number or a numeric string (ids, prices).
#[derive(Debug, Clone)]
pub(super) struct Flex(pub(super) String);

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

/// An identifier that may be a JSON integer or a string. A number with a fraction or beyond
/// 2^64 is refused: it would reach us through a float and lose its digits.
#[derive(Debug, Clone)]
pub(super) struct Id(pub(super) String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer or a string id")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Id, E> {
                Err(E::custom(format!(
                    "{v} is not an exact integer id (beyond 2^64 or with a fraction, its digits would be lost): send ids as strings"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

pub(super) fn money(field: impl std::fmt::Display, v: Option<&Flex>) -> Result<Money, PayloadError> {
    match v {
        None => Ok(Money::ZERO),
        Some(f) if f.0.trim().is_empty() => Ok(Money::ZERO),
        Some(f) => Money::parse(&f.0).map_err(|e| PayloadError::new(field.to_string(), e.to_string())),
    }
}

/// A field path (`line_items[2].sku`), written out only when an error names it.
#[derive(Clone, Copy)]
pub(super) struct Indexed(pub(super) &'static str, pub(super) usize, pub(super) &'static str);

impl std::fmt::Display for Indexed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}].{}", self.0, self.1, self.2)
    }
}

pub(super) fn non_empty(s: Option<String>) -> Option<String> {
    // Trimmed in place: most fields need no trimming, and none a second allocation.
    let mut s = s?;
    s.truncate(s.trim_end().len());
    let start = s.len() - s.trim_start().len();
    s.drain(..start);
    (!s.is_empty()).then_some(s)
}

pub(super) fn quantity(field: impl std::fmt::Display, q: i64) -> Result<u32, PayloadError> {
    u32::try_from(q)
        .map_err(|_| PayloadError::new(field.to_string(), format!("quantity {q} is not a non-negative integer")))
}

/// The line's SKU, or why the store's could not be one: never an error, since a line with an
/// unusable SKU is data Dropline holds for a human, not a malformed request.
pub(super) fn sku(s: Option<String>) -> (Option<Sku>, Option<String>) {
    match non_empty(s) {
        None => (None, None),
        Some(s) => match Sku::new(s.as_str()) {
            Ok(sku) => (Some(sku), None),
            Err(e) => {
                let start: String = s.chars().filter(|c| !c.is_control()).take(SKU_QUOTE_CHARS).collect();
                let problem = format!(
                    "the store's SKU ({} characters, starting \"{start}…\") cannot be used: {e}",
                    s.chars().count()
                );
                (None, Some(problem))
            }
        },
    }
}

/// How much of an unusable SKU a hold quotes.
const SKU_QUOTE_CHARS: usize = 40;

pub(super) fn rfc3339(field: &str, s: &str) -> Result<DateTime<Utc>, PayloadError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| PayloadError::new(field, format!("not an ISO 8601 timestamp with offset: {e}")))
}

pub(super) fn gmt(field: &str, s: &str) -> Result<DateTime<Utc>, PayloadError> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .map(|n| n.and_utc())
        .map_err(|e| PayloadError::new(field, format!("not a GMT timestamp: {e}")))
}

pub(super) fn channel_order_id(field: &str, id: &Id) -> Result<ChannelOrderId, PayloadError> {
    ChannelOrderId::new(id.0.trim()).map_err(|e| PayloadError::new(field, e.to_string()))
}

pub(super) fn currency(s: &str) -> Result<Currency, PayloadError> {
    Currency::parse(s).map_err(|e| PayloadError::new("currency", e.to_string()))
}

pub(super) fn country_code(code: Option<String>, name: Option<String>) -> String {
    match non_empty(code) {
        Some(c) => c.to_ascii_uppercase(),
        None => non_empty(name).map(|n| n.to_ascii_uppercase()).unwrap_or_default(),
    }
}

pub(super) fn full_name(first: Option<String>, last: Option<String>, name: Option<String>) -> String {
    if let Some(n) = non_empty(name) {
        return n;
    }
    [non_empty(first), non_empty(last)].into_iter().flatten().collect::<Vec<_>>().join(" ")
}
