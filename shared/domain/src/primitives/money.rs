//! Money: decimal amounts (never floats) and ISO 4217 currency codes.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal amount: {0:?}")]
    NotDecimal(String),
    #[error("negative amount: {0}")]
    Negative(Decimal),
    #[error("not an ISO 4217 currency code: {0:?}")]
    Currency(String),
}

/// A non-negative amount in an order's currency, kept as a decimal with the store's precision.
///
/// In JSON it is a decimal string with at least two decimals, and more only when the amount has
/// them (`"6.40"`, `"18.00"`, `"0.00"`, `"3.3333"`), whatever arithmetic produced it. It reads
/// from any decimal string or JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative decimal amount (\"19.99\" or 19.99)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                Money::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }
            // The shortest text that round-trips, so 19.99 reads as 19.99, not its binary neighbour.
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                Money::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_json_text())
    }
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative(amount));
        }
        Ok(Self(amount.normalize()))
    }

    /// Parses a store's decimal string ("19.99") or JSON number text.
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let d = Decimal::from_str(s.trim()).map_err(|_| MoneyError::NotDecimal(s.to_string()))?;
        Self::new(d)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Multiplies a unit price by a quantity (saturating: absurd amounts never panic; the
    /// totals check flags them).
    pub fn times(self, qty: u32) -> Money {
        Money(self.0.saturating_mul(Decimal::from(qty)))
    }

    /// Adds two amounts (saturating, as `times`).
    pub fn plus(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// Subtracts, never below zero (a difference that would be negative is a data problem the
    /// totals check reports).
    pub fn minus(self, other: Money) -> Money {
        Money((self.0 - other.0).max(Decimal::ZERO))
    }

    /// Rounded to the currency's minor unit (half away from zero, as stores round).
    pub fn rounded(self, currency: Currency) -> Decimal {
        round_to_minor_units(self.0, currency)
    }

    /// Written with exactly the currency's minor units (`398.00` USD, `398` JPY), as every message
    /// about money shows it.
    pub fn in_minor_units(self, currency: Currency) -> String {
        in_minor_units(self.0, currency)
    }

    /// The amount as JSON carries it: at least two decimals, more only when it has them.
    pub fn to_json_text(self) -> String {
        let n = self.0.normalize();
        if n.scale() < 2 { format!("{n:.2}") } else { n.to_string() }
    }

    /// Rounded to cents, as stores present totals.
    pub fn cents(self) -> Decimal {
        self.0.round_dp(2)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;
    fn try_from(d: Decimal) -> Result<Self, MoneyError> {
        Self::new(d)
    }
}
impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        m.0
    }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}
impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Money::plus)
    }
}

/// An ISO 4217 alphabetic code (three upper-case letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(MoneyError::Currency(s.to_string()));
        }
        Ok(Self([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase(), b[2].to_ascii_uppercase()]))
    }
    /// Digits after the decimal point in the currency's minor unit (ISO 4217): 0 for JPY,
    /// 3 for KWD, 2 for most.
    pub fn minor_units(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF" | b"UGX"
            | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }

    pub fn as_str(&self) -> &str {
        // The bytes are ASCII letters by construction, so this is always valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}
impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        Self::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// `amount` rounded to the currency's minor unit, half away from zero, as stores round.
pub fn round_to_minor_units(amount: Decimal, currency: Currency) -> Decimal {
    amount.round_dp_with_strategy(currency.minor_units(), rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// `amount` rounded to the currency's minor unit and written with exactly that many decimals.
pub fn in_minor_units(amount: Decimal, currency: Currency) -> String {
    let mut d = round_to_minor_units(amount, currency);
    d.rescale(currency.minor_units());
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_store_amounts_exactly() {
        let a = Money::parse("19.99").unwrap();
        let b = Money::parse("0.01").unwrap();
        assert_eq!(a.plus(b), Money::parse("20.00").unwrap());
        assert_eq!(Money::parse("0.10").unwrap().times(3), Money::parse("0.3").unwrap());
        assert!(Money::parse("-1").is_err());
        assert!(Money::parse("abc").is_err());
        assert_eq!(Money::parse("5").unwrap().to_string(), "5.00");
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
    }

    /// Issue 11, defect 15: money in messages was uneven (`398` beside `388.00`).
    #[test]
    fn money_is_written_with_the_currency_minor_units() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse("398").unwrap().in_minor_units(usd), "398.00");
        assert_eq!(Money::parse("388.005").unwrap().in_minor_units(usd), "388.01");
        assert_eq!(Money::parse("12.0").unwrap().in_minor_units(usd), "12.00");
        assert_eq!(Money::parse("398").unwrap().in_minor_units(jpy), "398");
        assert_eq!(in_minor_units(Decimal::new(-15, 1), usd), "-1.50");
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    /// Issue 11, defect 9: `"16"` beside `"12.0"` in the same JSON, depending on how each amount
    /// was computed.
    #[test]
    fn money_in_json_has_one_format_whatever_computed_it() {
        let m = |s: &str| Money::parse(s).unwrap();
        let cases = [
            (m("16"), "\"16.00\""),
            (m("12.0"), "\"12.00\""),
            (m("6.4").times(3), "\"19.20\""),
            (m("10.00").minus(m("10.0")), "\"0.00\""),
            (m("0.1").plus(m("0.20")), "\"0.30\""),
            (m("3.3333"), "\"3.3333\""),
            (m("1234567.5"), "\"1234567.50\""),
        ];
        for (money, json) in cases {
            assert_eq!(serde_json::to_string(&money).unwrap(), json);
            assert_eq!(serde_json::from_str::<Money>(json).unwrap(), money, "{json} reads back");
        }
        // Numbers and strings of any scale still read.
        assert_eq!(serde_json::from_str::<Money>("16").unwrap(), m("16"));
        assert_eq!(serde_json::from_str::<Money>("\"12.000\"").unwrap(), m("12"));
    }
}
