//! The validation policy: accepted payment states and currencies, the margin floor and fees,
//! shipping-method names, stale-stock handling; read from `DROPLINE_*` variables.

use crate::order::{FinancialStatus, ServiceLevel, ShippingMethod};
use crate::primitives::config_error::ConfigError;
use crate::primitives::money::{Currency, Money};
use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What to do with a line whose only offers have stale (unknown) stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownStock {
    /// Hold the order as `stock_unknown` (default: overselling costs more than waiting).
    #[default]
    Hold,
    /// Proceed and store a warning.
    Proceed,
}

impl UnknownStock {
    /// `hold` or `proceed`.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        match s.trim() {
            "hold" => Ok(Self::Hold),
            "proceed" => Ok(Self::Proceed),
            other => Err(format!("{other:?} must be hold or proceed").into()),
        }
    }
}

/// The lowest acceptable margin of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginFloor {
    /// At least this much, in the order's currency (`0` holds orders that lose money).
    Absolute(Money),
    /// At least this percentage of the order's net revenue.
    Percent(Decimal),
    /// No margin check.
    Off,
}

impl MarginFloor {
    /// `5.00`, `12%`, `off`.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        if let Some(p) = s.strip_suffix('%') {
            let d = Decimal::from_str_exact(p.trim()).map_err(|_| format!("{s:?}: not a percentage"))?;
            return Ok(Self::Percent(d));
        }
        Ok(Money::parse(s).map(Self::Absolute).map_err(|e| format!("{s:?}: {e} (use 5.00, 12% or off)"))?)
    }
}

/// `p` percent of `amount`, saturating (absurd amounts never panic).
pub(super) fn percent_of(amount: Decimal, p: Decimal) -> Decimal {
    amount.saturating_mul(p).checked_div(Decimal::ONE_HUNDRED).unwrap_or(Decimal::MAX)
}

/// Payment processing fees: a percentage of the total plus a fixed amount (`2.9%+0.30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fees {
    pub percent: Decimal,
    pub fixed: Money,
}

impl Fees {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let mut out = Fees::default();
        for part in s.split('+').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(p) = part.strip_suffix('%') {
                out.percent = Decimal::from_str_exact(p.trim()).map_err(|_| format!("{part:?}: not a percentage"))?;
            } else {
                out.fixed = Money::parse(part).map_err(|e| format!("{part:?}: {e}"))?;
            }
        }
        Ok(out)
    }
    pub fn on(&self, total: Money) -> Money {
        let pct = percent_of(total.amount(), self.percent).max(Decimal::ZERO);
        Money::new(pct).unwrap_or(Money::ZERO).plus(self.fixed)
    }
}

/// How store shipping methods map to service levels: the merchant's own names first (matched on
/// the method's code or title, ignoring case and spacing), then common words (`express`,
/// `overnight`, `standard`, `free`...). `*` names the level of an order with no method or an
/// unknown one; without it such an order holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShippingMap {
    pub names: Vec<(String, ServiceLevel)>,
    pub fallback: Option<ServiceLevel>,
}

/// Whether two option or attribute values name the same thing (case, spacing and punctuation
/// aside): how validation and `catalog verify` compare variants.
pub fn same_value(a: &str, b: &str) -> bool {
    squash(a) == squash(b)
}

pub(super) fn squash(s: &str) -> String {
    // One pass, one allocation: words of letters and digits, lower-cased, one space apart.
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            gap = true;
        }
    }
    out
}

/// Where the words of `hay` (squashed: words one space apart) start.
fn word_starts(hay: &str) -> Vec<usize> {
    std::iter::once(0).chain(hay.bytes().enumerate().filter(|(_, b)| *b == b' ').map(|(i, _)| i + 1)).collect()
}

/// Whether `needle` (words separated by single spaces) occurs in `hay` (the same), whose words
/// start at `starts`, on word boundaries.
fn has_words_at(hay: &str, starts: &[usize], needle: &str) -> bool {
    starts.iter().any(|&i| {
        hay.as_bytes().get(i..).is_some_and(|rest| {
            rest.starts_with(needle.as_bytes()) && rest.get(needle.len()).is_none_or(|&b| b == b' ')
        })
    })
}

impl ShippingMap {
    /// `Express Shipping=expedited, DHL Next Day=overnight, *=standard`.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let mut out = ShippingMap::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, level) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected NAME=LEVEL"))?;
            let level = ServiceLevel::parse(level)
                .ok_or_else(|| format!("{part:?}: level must be standard, expedited or overnight"))?;
            if name.trim() == "*" {
                out.fallback = Some(level);
            } else if squash(name).is_empty() {
                return Err(format!("{part:?}: empty method name").into());
            } else {
                out.names.push((squash(name), level));
            }
        }
        Ok(out)
    }

    /// The service level of a method, or `None` when nothing maps it.
    pub fn level_of(&self, method: Option<&ShippingMethod>) -> Option<ServiceLevel> {
        let Some(m) = method else { return self.fallback };
        let (code, title) = (squash(&m.code), squash(&m.title));
        if let Some((_, l)) = self.names.iter().find(|(n, _)| *n == code || *n == title) {
            return Some(*l);
        }
        const WORDS: [(ServiceLevel, &[&str]); 3] = [
            (ServiceLevel::Overnight, &["overnight", "next day", "nextday", "one day", "1 day", "same day"]),
            (ServiceLevel::Expedited, &["express", "expedited", "priority", "2 day", "two day", "rush", "fast"]),
            (
                ServiceLevel::Standard,
                &["standard", "free", "economy", "ground", "regular", "flat rate", "basic", "normal", "tracked"],
            ),
        ];
        let (code_starts, title_starts) = (word_starts(&code), word_starts(&title));
        for (level, keys) in WORDS {
            if keys.iter().any(|k| has_words_at(&code, &code_starts, k) || has_words_at(&title, &title_starts, k)) {
                return Some(level);
            }
        }
        self.fallback
    }
}

/// What the merchant accepts; from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationPolicy {
    /// Payment states that may proceed (default: paid only).
    pub accepted_financial_statuses: Vec<FinancialStatus>,
    /// Currencies the business sells in (its suppliers bill and its margins are computed in them).
    pub currencies: Vec<Currency>,
    pub shipping: ShippingMap,
    pub unknown_stock: UnknownStock,
    pub margin_floor: MarginFloor,
    pub payment_fees: Fees,
    /// How far apart two orders of the same customer for the same items make a probable duplicate.
    #[serde(with = "duration_secs")]
    pub duplicate_window: Duration,
}

mod duration_secs {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::seconds)
    }
}

/// The environment variables the validation policy reads, with their defaults.
pub const POLICY_VARIABLES: [(&str, &str); 7] = [
    ("DROPLINE_ACCEPTED_FINANCIAL_STATUSES", "paid"),
    ("DROPLINE_CURRENCIES", "USD,CAD,EUR,GBP,AUD"),
    ("DROPLINE_SHIPPING_METHODS", ""),
    ("DROPLINE_UNKNOWN_STOCK", "hold"),
    ("DROPLINE_MARGIN_FLOOR", "0"),
    ("DROPLINE_PAYMENT_FEES", "2.9%+0.30"),
    ("DROPLINE_DUPLICATE_WINDOW", "24h"),
];

impl Default for ValidationPolicy {
    fn default() -> Self {
        // The defaults above are well-formed, so this cannot fail; the fallback keeps it total.
        Self::from_lookup(|_| None).unwrap_or_else(|_| Self {
            accepted_financial_statuses: vec![FinancialStatus::Paid],
            currencies: Vec::new(),
            shipping: ShippingMap::default(),
            unknown_stock: UnknownStock::Hold,
            margin_floor: MarginFloor::Absolute(Money::ZERO),
            payment_fees: Fees::default(),
            duplicate_window: Duration::hours(24),
        })
    }
}

impl ValidationPolicy {
    /// Reads the policy from variables (`POLICY_VARIABLES`), unset ones taking their default;
    /// an error names the variable and the problem.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            let default = POLICY_VARIABLES.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).unwrap_or("");
            get(name).filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_string())
        };
        let named = |name: &'static str| move |e: ConfigError| e.at(name);
        let statuses = statuses(&var("DROPLINE_ACCEPTED_FINANCIAL_STATUSES"))
            .map_err(named("DROPLINE_ACCEPTED_FINANCIAL_STATUSES"))?;
        let mut currencies = Vec::new();
        for c in var("DROPLINE_CURRENCIES").split(',').map(str::trim).filter(|c| !c.is_empty()) {
            currencies.push(
                Currency::parse(c)
                    .map_err(|e| ConfigError::from(e.to_string()))
                    .map_err(named("DROPLINE_CURRENCIES"))?,
            );
        }
        if currencies.is_empty() {
            return Err(ConfigError::from("at least one currency").at("DROPLINE_CURRENCIES"));
        }
        let unknown_stock =
            UnknownStock::parse(&var("DROPLINE_UNKNOWN_STOCK")).map_err(named("DROPLINE_UNKNOWN_STOCK"))?;
        Ok(Self {
            accepted_financial_statuses: statuses,
            currencies,
            shipping: ShippingMap::parse(&var("DROPLINE_SHIPPING_METHODS"))
                .map_err(named("DROPLINE_SHIPPING_METHODS"))?,
            unknown_stock,
            margin_floor: MarginFloor::parse(&var("DROPLINE_MARGIN_FLOOR")).map_err(named("DROPLINE_MARGIN_FLOOR"))?,
            payment_fees: Fees::parse(&var("DROPLINE_PAYMENT_FEES")).map_err(named("DROPLINE_PAYMENT_FEES"))?,
            duplicate_window: crate::primitives::duration::parse_duration(&var("DROPLINE_DUPLICATE_WINDOW"))
                .map_err(named("DROPLINE_DUPLICATE_WINDOW"))?,
        })
    }

    /// The default policy accepting these payment states (`paid,authorized`).
    pub fn parse_statuses(s: &str) -> Result<Self, ConfigError> {
        Ok(Self { accepted_financial_statuses: statuses(s)?, ..Self::default() })
    }
}

fn statuses(s: &str) -> Result<Vec<FinancialStatus>, ConfigError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.push(FinancialStatus::parse(part).ok_or_else(|| format!("unknown financial status {part:?}"))?);
    }
    if out.is_empty() {
        return Err("at least one financial status must be accepted".into());
    }
    Ok(out)
}
