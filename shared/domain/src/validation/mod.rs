//! Validation rules: pure functions from an order and the catalog to every reason it must wait
//! for a human. No I/O; the validate function loads the inputs and stores the verdict.

pub mod address;
pub mod duplicates;

use crate::catalog::{Availability, CatalogView, Offer, Supplier};
use crate::findings::{HoldCategory, HoldReason};
use crate::order::{CanonicalOrder, FinancialStatus, LineItem, ServiceLevel, ShippingMethod};
use crate::primitives::ids::SupplierId;
use crate::primitives::money::{Currency, Money};
use crate::validation::address::AddressVerdict;
use chrono::{DateTime, Duration, Utc};
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
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "hold" => Ok(Self::Hold),
            "proceed" => Ok(Self::Proceed),
            other => Err(format!("{other:?} must be hold or proceed")),
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
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        if let Some(p) = s.strip_suffix('%') {
            let d = Decimal::from_str_exact(p.trim()).map_err(|_| format!("{s:?}: not a percentage"))?;
            return Ok(Self::Percent(d));
        }
        Money::parse(s).map(Self::Absolute).map_err(|e| format!("{s:?}: {e} (use 5.00, 12% or off)"))
    }
}

/// `p` percent of `amount`, saturating (absurd amounts never panic).
fn percent_of(amount: Decimal, p: Decimal) -> Decimal {
    amount.saturating_mul(p).checked_div(Decimal::ONE_HUNDRED).unwrap_or(Decimal::MAX)
}

/// Payment processing fees: a percentage of the total plus a fixed amount (`2.9%+0.30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fees {
    pub percent: Decimal,
    pub fixed: Money,
}

impl Fees {
    pub fn parse(s: &str) -> Result<Self, String> {
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

fn squash(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Whether `needle` (words separated by single spaces) occurs in `hay` (the same) on word
/// boundaries.
fn has_words(hay: &str, needle: &str) -> bool {
    // Only word starts can begin a match: compare there (no substring searcher to set up).
    let starts = std::iter::once(0).chain(hay.match_indices(' ').map(|(i, _)| i + 1));
    starts.into_iter().any(|i| {
        hay.get(i..).is_some_and(|rest| {
            rest.starts_with(needle) && rest.as_bytes().get(needle.len()).is_none_or(|&b| b == b' ')
        })
    })
}

impl ShippingMap {
    /// `Express Shipping=expedited, DHL Next Day=overnight, *=standard`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = ShippingMap::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, level) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected NAME=LEVEL"))?;
            let level = ServiceLevel::parse(level)
                .ok_or_else(|| format!("{part:?}: level must be standard, expedited or overnight"))?;
            if name.trim() == "*" {
                out.fallback = Some(level);
            } else if squash(name).is_empty() {
                return Err(format!("{part:?}: empty method name"));
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
        for (level, keys) in WORDS {
            if keys.iter().any(|k| has_words(&code, k) || has_words(&title, k)) {
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
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| {
            let default = POLICY_VARIABLES.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).unwrap_or("");
            get(name).filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_string())
        };
        let named = |name: &'static str| move |problem: String| format!("{name}: {problem}");
        let statuses = statuses(&var("DROPLINE_ACCEPTED_FINANCIAL_STATUSES"))
            .map_err(named("DROPLINE_ACCEPTED_FINANCIAL_STATUSES"))?;
        let mut currencies = Vec::new();
        for c in var("DROPLINE_CURRENCIES").split(',').map(str::trim).filter(|c| !c.is_empty()) {
            currencies.push(Currency::parse(c).map_err(|e| e.to_string()).map_err(named("DROPLINE_CURRENCIES"))?);
        }
        if currencies.is_empty() {
            return Err("DROPLINE_CURRENCIES: at least one currency".into());
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
    pub fn parse_statuses(s: &str) -> Result<Self, String> {
        Ok(Self { accepted_financial_statuses: statuses(s)?, ..Self::default() })
    }
}

fn statuses(s: &str) -> Result<Vec<FinancialStatus>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.push(FinancialStatus::parse(part).ok_or_else(|| format!("unknown financial status {part:?}"))?);
    }
    if out.is_empty() {
        return Err("at least one financial status must be accepted".into());
    }
    Ok(out)
}

fn reason(code: &str, category: HoldCategory, field: &str, message: String) -> HoldReason {
    HoldReason::new(code, category, Some(field.to_string()), message)
}

/// What validation found about an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationReport {
    /// Holds (it cannot proceed) and warnings (stored on it). No hold means it may proceed.
    pub findings: Vec<HoldReason>,
    /// The shipping address after normalization, with what changed.
    pub address: Option<AddressVerdict>,
    /// The service level the customer paid for, when the shipping method maps to one.
    pub service_level: Option<ServiceLevel>,
}

impl ValidationReport {
    pub fn holds(&self) -> impl Iterator<Item = &HoldReason> {
        self.findings.iter().filter(|f| f.holds())
    }
    pub fn passes(&self) -> bool {
        self.holds().next().is_none()
    }
}

/// Why an offer can't fill a line. Validation and routing ask the same question through
/// [`refusal`], so they never disagree about an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Discontinued,
    /// The supplier variant's attribute disagrees with what the customer ordered.
    VariantMismatch {
        attribute: String,
        ordered: String,
        offered: String,
    },
    SupplierUnknown,
    NoShipping {
        country: String,
    },
    /// The snapshot is too old to trust (and the policy holds on unknown stock).
    StaleStock {
        as_of: Option<DateTime<Utc>>,
    },
    Short {
        available: u32,
        needed: u32,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Discontinued => write!(f, "discontinued"),
            Refusal::VariantMismatch { attribute, ordered, offered } => {
                write!(f, "{attribute} is {offered:?}, the customer ordered {ordered:?}")
            }
            Refusal::SupplierUnknown => write!(f, "supplier not configured"),
            Refusal::NoShipping { country } => write!(f, "does not ship to {country}"),
            Refusal::StaleStock { as_of: Some(at) } => write!(f, "stock snapshot from {} is stale", at.to_rfc3339()),
            Refusal::StaleStock { as_of: None } => write!(f, "stock snapshot has no time"),
            Refusal::Short { available, needed } => write!(f, "{available} available, {needed} needed"),
        }
    }
}

/// The first attribute of `offer` that disagrees with the line's options (by name) or, when the
/// channel sent no option of that name, with its variant title (`M / Black`): an offer's
/// attributes are its variant's options, so each value must be one of the title's parts.
/// Comparison ignores case and spacing; a line with neither options nor title agrees.
pub fn variant_mismatch(line: &LineItem, offer: &Offer) -> Option<Refusal> {
    if offer.attributes.is_empty() || (line.options.is_empty() && line.variant_title.is_none()) {
        return None;
    }
    let title_parts: Vec<String> = line
        .variant_title
        .as_deref()
        .map(|t| t.split('/').map(squash).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    for (name, value) in &offer.attributes {
        let (n, v) = (squash(name), squash(value));
        if v.is_empty() {
            continue;
        }
        let ordered = match line.options.iter().find(|o| squash(&o.name) == n) {
            Some(o) => Some(o.value.clone()).filter(|_| squash(&o.value) != v),
            None if !title_parts.is_empty() && !title_parts.contains(&v) => line.variant_title.clone(),
            None => None,
        };
        if let Some(ordered) = ordered {
            return Some(Refusal::VariantMismatch { attribute: name.clone(), ordered, offered: value.clone() });
        }
    }
    None
}

/// The units of `sku` the whole order needs: lines of one SKU draw on the same stock.
pub fn order_needs(order: &CanonicalOrder, sku: &crate::primitives::ids::Sku) -> u32 {
    order.lines.iter().filter(|l| l.sku.as_ref() == Some(sku)).map(|l| l.quantity).fold(0, u32::saturating_add)
}

/// Why `offer` can't fill `line` (the order needing `need` units of its SKU in all) for an
/// order to `country` now, or `None` when it can.
pub fn refusal(
    line: &LineItem,
    need: u32,
    offer: &Offer,
    supplier: Option<&Supplier>,
    country: &str,
    now: DateTime<Utc>,
    unknown_stock: UnknownStock,
) -> Option<Refusal> {
    if !offer.active {
        return Some(Refusal::Discontinued);
    }
    if let Some(m) = variant_mismatch(line, offer) {
        return Some(m);
    }
    let Some(supplier) = supplier else { return Some(Refusal::SupplierUnknown) };
    if !supplier.ships_to(country) {
        return Some(Refusal::NoShipping { country: country.to_string() });
    }
    match offer.availability(Some(supplier), now) {
        Availability::Known(n) if n >= need => None,
        Availability::Known(n) => Some(Refusal::Short { available: n, needed: need }),
        Availability::Stale { .. } if unknown_stock == UnknownStock::Proceed => None,
        Availability::Stale { as_of } => Some(Refusal::StaleStock { as_of }),
    }
}

/// The hold for a line no offer can fill, from each offer's refusal: a stock problem when stock
/// is what stops an offer that otherwise fits (`out_of_stock`, or `stock_unknown` when a stale
/// snapshot is among them), else `no_supplier_for_line`.
pub fn unfillable_line(
    i: usize,
    line: &LineItem,
    sku: &crate::primitives::ids::Sku,
    refusals: &[(&SupplierId, Refusal)],
) -> HoldReason {
    let stock = |r: &Refusal| matches!(r, Refusal::Short { .. } | Refusal::StaleStock { .. });
    let (code, category) = if refusals.iter().any(|(_, r)| matches!(r, Refusal::StaleStock { .. })) {
        ("stock_unknown", HoldCategory::Stock)
    } else if refusals.iter().any(|(_, r)| stock(r)) {
        ("out_of_stock", HoldCategory::Stock)
    } else {
        ("no_supplier_for_line", HoldCategory::Routing)
    };
    let detail: Vec<String> = refusals.iter().map(|(s, r)| format!("{s}: {r}")).collect();
    let detail = if detail.is_empty() { "no supplier carries it".to_string() } else { detail.join("; ") };
    reason(
        code,
        category,
        &format!("lines[{i}].sku"),
        format!("no supplier can fill line {} (SKU {sku} x{}): {detail}", i + 1, line.quantity),
    )
}

/// Every finding about the order, its normalized address and its service level.
pub fn validate(
    order: &CanonicalOrder,
    catalog: &CatalogView,
    policy: &ValidationPolicy,
    now: DateTime<Utc>,
) -> ValidationReport {
    let mut out = Vec::new();

    if order.cancelled_at.is_some() {
        out.push(reason(
            "order_cancelled",
            HoldCategory::Order,
            "cancelled_at",
            "the store cancelled this order".into(),
        ));
    }
    if order.test {
        out.push(reason("test_order", HoldCategory::Order, "test", "a test order never goes to a supplier".into()));
    }
    if !policy.accepted_financial_statuses.contains(&order.financial_status) {
        let accepted: Vec<&str> = policy.accepted_financial_statuses.iter().map(|s| s.as_str()).collect();
        out.push(reason(
            "payment_not_accepted",
            HoldCategory::Payment,
            "financial_status",
            format!("payment is {}; accepted: {}", order.financial_status.as_str(), accepted.join(", ")),
        ));
    }
    if !policy.currencies.contains(&order.currency) {
        let supported: Vec<&str> = policy.currencies.iter().map(|c| c.as_str()).collect();
        out.push(reason(
            "currency_unsupported",
            HoldCategory::Payment,
            "currency",
            format!("the order is in {}; supported: {}", order.currency, supported.join(", ")),
        ));
    }
    out.extend(totals_findings(order));

    let mut address = None;
    match &order.shipping_address {
        None => out.push(reason(
            "address_missing",
            HoldCategory::Address,
            "shipping_address",
            "the order has no shipping address".into(),
        )),
        Some(a) => {
            let verdict = crate::validation::address::check(a, crate::validation::address::AddressRules::bundled());
            out.extend(verdict.findings.iter().cloned());
            address = Some(verdict);
        }
    }

    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !has(&order.contact.email) && !has(&order.contact.phone) {
        out.push(reason(
            "contact_missing",
            HoldCategory::Contact,
            "contact",
            "neither an email nor a phone number to reach the customer".into(),
        ));
    }

    let service_level = policy.shipping.level_of(order.shipping_method.as_ref());
    if service_level.is_none() {
        let message = match &order.shipping_method {
            None => "the order has no shipping method and no default service level is configured".to_string(),
            Some(m) => format!("shipping method {:?} ({}) maps to no service level", m.title, m.code),
        };
        out.push(reason("shipping_method_unmapped", HoldCategory::Mapping, "shipping_method", message));
    }

    let country = address
        .as_ref()
        .map(|v| v.address.country.as_str())
        .unwrap_or_else(|| order.destination_country().unwrap_or(""));
    // The offer routing will choose for each line, for the margin check.
    let mut chosen: Vec<Option<&Offer>> = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        chosen.push(None);
        let field = |f: &str| format!("lines[{i}].{f}");
        if line.quantity == 0 {
            out.push(reason(
                "quantity_not_positive",
                HoldCategory::Order,
                &field("quantity"),
                format!("line {} ({}) has quantity 0", i + 1, line.title),
            ));
            continue;
        }
        let Some(sku) = &line.sku else {
            out.push(reason(
                "sku_missing",
                HoldCategory::Mapping,
                &field("sku"),
                format!("line {} ({}) has no SKU to map to a supplier item", i + 1, line.title),
            ));
            continue;
        };
        let offers = catalog.offers_for(sku);
        if offers.is_empty() {
            out.push(reason(
                "sku_unmapped",
                HoldCategory::Mapping,
                &field("sku"),
                format!("SKU {sku} is not mapped to any supplier item"),
            ));
            continue;
        }
        let active: Vec<&Offer> = offers.iter().filter(|o| o.active).collect();
        if active.is_empty() {
            out.push(reason(
                "sku_discontinued",
                HoldCategory::Mapping,
                &field("sku"),
                format!("every supplier item mapped to SKU {sku} is discontinued"),
            ));
            continue;
        }
        let mismatches: Vec<String> = active
            .iter()
            .filter_map(|o| variant_mismatch(line, o).map(|r| format!("{} ({}): {r}", o.supplier_id, o.supplier_sku)))
            .collect();
        if !mismatches.is_empty() {
            out.push(reason(
                "variant_mismatch",
                HoldCategory::Mapping,
                &field("variant_title"),
                format!("SKU {sku} is mapped to a different variant: {}", mismatches.join("; ")),
            ));
            continue;
        }
        // Stock, after buffers and reservations, from suppliers that ship there.
        let verdicts: Vec<(&Offer, Option<Refusal>)> = active
            .iter()
            .map(|o| {
                let supplier = catalog.supplier(&o.supplier_id);
                (*o, refusal(line, order_needs(order, sku), o, supplier, country, now, policy.unknown_stock))
            })
            .collect();
        // The offer routing will choose: the first that can fill the line, in catalog order.
        chosen[i] = verdicts.iter().find(|(_, r)| r.is_none()).map(|(o, _)| *o);
        if chosen[i].is_some() {
            // Filled only by trusting stale snapshots (the policy allows it): say so on the order.
            let fresh = || {
                verdicts.iter().any(|(o, r)| {
                    r.is_none()
                        && matches!(o.availability(catalog.supplier(&o.supplier_id), now), Availability::Known(_))
                })
            };
            if policy.unknown_stock == UnknownStock::Proceed && !fresh() {
                out.push(HoldReason::warning(
                    "stock_unknown",
                    HoldCategory::Stock,
                    Some(field("sku")),
                    format!("SKU {sku}: only stale stock snapshots can fill it; proceeding as configured"),
                ));
            }
            continue;
        }
        let refusals: Vec<(&SupplierId, Refusal)> =
            verdicts.into_iter().filter_map(|(o, r)| r.map(|r| (&o.supplier_id, r))).collect();
        out.push(unfillable_line(i, line, sku, &refusals));
    }
    if chosen.iter().all(Option::is_some) && !chosen.is_empty() {
        let offers: Vec<&Offer> = chosen.into_iter().flatten().collect();
        out.extend(margin_finding(order, &offers, catalog, policy));
    }
    ValidationReport { findings: out, address, service_level }
}

/// `subtotal + shipping + other - discounts (+ tax unless included) = total`, and the lines add
/// up to the subtotal, each to the currency's minor unit.
pub fn totals_findings(order: &CanonicalOrder) -> Vec<HoldReason> {
    let t = &order.totals;
    let c = order.currency;
    let mut out = Vec::new();
    let lines: Money = order.lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    if lines.rounded(c) != t.subtotal.rounded(c) {
        out.push(reason(
            "totals_mismatch",
            HoldCategory::Payment,
            "totals.subtotal",
            format!("the lines add up to {} {c} but the subtotal is {} {c}", lines, t.subtotal),
        ));
    }
    let tax = if t.taxes_included { Decimal::ZERO } else { t.tax.amount() };
    // Saturating: absurd amounts make a mismatch, never a panic.
    let expected = t
        .subtotal
        .amount()
        .saturating_add(t.shipping.amount())
        .saturating_add(t.other.amount())
        .saturating_sub(t.discounts.amount())
        .saturating_add(tax);
    let expected =
        expected.round_dp_with_strategy(c.minor_units(), rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    if expected != t.total.rounded(c) {
        let tax_note = if t.taxes_included { "tax included in prices" } else { "+ tax" };
        out.push(reason(
            "totals_mismatch",
            HoldCategory::Payment,
            "totals.total",
            format!(
                "subtotal {} + shipping {} + other {} - discounts {} ({tax_note} {}) = {expected} {c}, but the total is {} {c}",
                t.subtotal, t.shipping, t.other, t.discounts, t.tax, t.total
            ),
        ));
    }
    out
}

/// The order's margin with the offer routing will choose for each line: net revenue (total less tax and
/// pass-through amounts) less item costs, each supplier's shipping estimate and fee, and payment
/// fees. Below the floor -> hold as pricing. Costs are taken in the order's currency.
fn margin_finding(
    order: &CanonicalOrder,
    offers: &[&Offer],
    catalog: &CatalogView,
    policy: &ValidationPolicy,
) -> Option<HoldReason> {
    if policy.margin_floor == MarginFloor::Off {
        return None;
    }
    let mut cost = Decimal::ZERO;
    let mut suppliers: Vec<&crate::primitives::ids::SupplierId> = Vec::new();
    for (line, offer) in order.lines.iter().zip(offers) {
        cost = cost.saturating_add(offer.cost.times(line.quantity).amount());
        if !suppliers.contains(&&offer.supplier_id) {
            suppliers.push(&offer.supplier_id);
            if let Some(s) = catalog.supplier(&offer.supplier_id) {
                cost = cost.saturating_add(s.shipping_estimate.amount()).saturating_add(s.order_fee.amount());
            }
        }
    }
    margin_below_floor(order, cost, policy, "")
}

/// The `margin_below_floor` hold when the order's net revenue less `supply_cost` (items,
/// shipping and supplier fees, in the order's currency) and payment fees is under the floor.
/// Validation asks it with its estimate; route again with the plan it chose (`context` says so).
pub fn margin_below_floor(
    order: &CanonicalOrder,
    supply_cost: Decimal,
    policy: &ValidationPolicy,
    context: &str,
) -> Option<HoldReason> {
    let t = &order.totals;
    let revenue = t.total.amount().saturating_sub(t.tax.amount()).saturating_sub(t.other.amount());
    let cost = policy.payment_fees.on(t.total).amount().saturating_add(supply_cost);
    let margin = revenue.saturating_sub(cost);
    let floor = match policy.margin_floor {
        MarginFloor::Absolute(m) => m.amount(),
        MarginFloor::Percent(p) => percent_of(revenue, p),
        MarginFloor::Off => return None,
    };
    let c = order.currency;
    let round = |d: Decimal| d.round_dp(c.minor_units());
    (margin < floor).then(|| {
        reason(
            "margin_below_floor",
            HoldCategory::Pricing,
            "totals",
            format!(
                "margin {} {c} (revenue {} less costs {}){context} is below the floor of {} {c}",
                round(margin),
                round(revenue),
                round(cost),
                round(floor)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Buffer, CatalogDocument, MaxAge};
    use crate::order::VariantOption;
    use crate::testing::{sample_catalog, sample_catalog_document, sample_order, view_of};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 15, 0, 0).unwrap()
    }
    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    fn codes(r: &ValidationReport) -> Vec<&str> {
        r.findings.iter().map(|r| r.code.as_str()).collect()
    }

    /// One case: what to change in a valid order, its catalog and the policy; the codes expected.
    struct Ctx {
        order: CanonicalOrder,
        doc: CatalogDocument,
        policy: ValidationPolicy,
    }
    type Case = (&'static str, fn(&mut Ctx), &'static [&'static str]);

    fn offer<'a>(c: &'a mut Ctx, sku: &str, supplier: &str) -> &'a mut Offer {
        c.doc.offers.iter_mut().find(|o| o.sku.as_str() == sku && o.supplier_id.as_str() == supplier).unwrap()
    }

    fn run(case: fn(&mut Ctx)) -> ValidationReport {
        let mut c = Ctx { order: sample_order(), doc: sample_catalog_document(), policy: ValidationPolicy::default() };
        case(&mut c);
        validate(&c.order, &view_of(&c.doc), &c.policy, now())
    }

    const CASES: &[Case] = &[
        ("the sample order", |_| {}, &[]),
        ("cancelled", |c| c.order.cancelled_at = Some(now()), &["order_cancelled"]),
        ("test order", |c| c.order.test = true, &["test_order"]),
        ("pending payment", |c| c.order.financial_status = FinancialStatus::Pending, &["payment_not_accepted"]),
        (
            "authorized, accepted by policy",
            |c| {
                c.order.financial_status = FinancialStatus::Authorized;
                c.policy = ValidationPolicy::parse_statuses("paid,authorized").unwrap();
            },
            &[],
        ),
        ("no contact", |c| c.order.contact = Default::default(), &["contact_missing"]),
        (
            "phone is enough",
            |c| c.order.contact = crate::order::Contact { email: None, phone: Some("+1 555 0100".into()) },
            &[],
        ),
        ("currency not supported", |c| c.order.currency = Currency::parse("JPY").unwrap(), &["currency_unsupported"]),
        ("currency supported by policy", |c| c.policy.currencies.push(Currency::parse("CHF").unwrap()), &[]),
        ("quantity zero", |c| c.order.lines[0].quantity = 0, &["quantity_not_positive", "totals_mismatch"]),
        // Totals: to the cent.
        ("total one cent off", |c| c.order.totals.total = m("106.49"), &["totals_mismatch"]),
        ("subtotal not the lines", |c| c.order.totals.subtotal = m("100.00"), &["totals_mismatch", "totals_mismatch"]),
        (
            "discount and tax balance",
            |c| {
                c.order.totals.discounts = m("10.00");
                c.order.totals.tax = m("7.70");
                c.order.totals.total = m("104.18");
            },
            &[],
        ),
        (
            "tax included in prices is not added",
            |c| {
                c.order.totals.tax = m("17.75");
                c.order.totals.taxes_included = true;
            },
            &[],
        ),
        (
            "tips and duties count",
            |c| {
                c.order.totals.other = m("3.00");
                c.order.totals.total = m("109.48");
            },
            &[],
        ),
        (
            "sub-cent tax rounds like the store",
            |c| {
                c.order.totals.tax = m("1.005");
                c.order.totals.total = m("107.49");
            },
            &[],
        ),
        // Shipping method -> service level.
        (
            "unknown shipping method",
            |c| {
                let m = c.order.shipping_method.as_mut().unwrap();
                m.code = "pigeon".into();
                m.title = "Carrier pigeon".into();
            },
            &["shipping_method_unmapped"],
        ),
        (
            "unknown method, default level configured",
            |c| {
                c.order.shipping_method.as_mut().unwrap().code = "pigeon".into();
                c.policy.shipping = ShippingMap::parse("*=standard").unwrap();
            },
            &[],
        ),
        ("no shipping method", |c| c.order.shipping_method = None, &["shipping_method_unmapped"]),
        // Mapping and variants.
        ("no SKU", |c| c.order.lines[0].sku = None, &["sku_missing"]),
        (
            "unmapped SKU",
            |c| c.order.lines[1].sku = Some(crate::primitives::ids::Sku::new("NOPE").unwrap()),
            &["sku_unmapped"],
        ),
        (
            "discontinued SKU",
            |c| c.order.lines[1].sku = Some(crate::primitives::ids::Sku::new("OLD-1").unwrap()),
            &["sku_discontinued"],
        ),
        (
            "variant title disagrees with the mapped variant",
            |c| {
                offer(c, "TEE-BLK-M", "acme-us").attributes.insert("size".into(), "M".into());
                c.order.lines[0].variant_title = Some("L / Black".into());
            },
            &["variant_mismatch"],
        ),
        (
            "variant title agrees (case and spacing ignored)",
            |c| {
                let o = offer(c, "TEE-BLK-M", "acme-us");
                o.attributes.insert("size".into(), "m".into());
                o.attributes.insert("Color".into(), "Black".into());
                c.order.lines[0].variant_title = Some("M /  black".into());
            },
            &[],
        ),
        (
            "named option disagrees",
            |c| {
                offer(c, "TEE-BLK-M", "acme-us").attributes.insert("Color".into(), "Black".into());
                c.order.lines[0].options = vec![VariantOption { name: "color".into(), value: "Navy".into() }];
            },
            &["variant_mismatch"],
        ),
        (
            "a line that names no variant agrees",
            |c| {
                offer(c, "TEE-BLK-M", "acme-us").attributes.insert("size".into(), "M".into());
                c.order.lines[0].variant_title = None;
            },
            &[],
        ),
        (
            "a variant title without the attribute's value disagrees",
            |c| {
                offer(c, "TEE-BLK-M", "acme-us").attributes.insert("color".into(), "Navy".into());
                c.order.lines[0].variant_title = Some("M / Black".into());
            },
            &["variant_mismatch"],
        ),
        // Stock.
        ("not enough stock", |c| c.order.lines[0].quantity = 51, &["out_of_stock", "totals_mismatch"]),
        (
            "two lines of one SKU draw on the same stock",
            |c| {
                c.order.lines[2].sku = Some(crate::primitives::ids::Sku::new("HOODIE-GRY-L").unwrap());
                offer(c, "HOODIE-GRY-L", "acme-us").stock = 1;
            },
            &["out_of_stock", "out_of_stock"],
        ),
        (
            "buffer units hold back stock",
            |c| {
                offer(c, "HOODIE-GRY-L", "acme-us").buffer = Some(Buffer { units: 20, percent: Decimal::ZERO });
            },
            &["out_of_stock"],
        ),
        (
            "supplier percent buffer, rounded up",
            |c| {
                // 20 in stock, 95% held back = 19 (ceil), 1 left: the order's 1 still fits.
                c.doc.suppliers[0].buffer = Buffer { units: 0, percent: Decimal::from(95) };
            },
            &[],
        ),
        (
            "reservations of other orders count",
            |c| offer(c, "HOODIE-GRY-L", "acme-us").reserved = 20,
            &["out_of_stock"],
        ),
        (
            "stale snapshot holds by default",
            |c| {
                c.doc.suppliers[0].stock_max_age = Some(MaxAge::try_from("6h".to_string()).unwrap());
                offer(c, "HOODIE-GRY-L", "acme-us").stock_as_of = Some(now() - Duration::hours(7));
                offer(c, "TEE-BLK-M", "acme-us").stock_as_of = Some(now() - Duration::hours(5));
                offer(c, "MUG-WHT", "acme-us").stock_as_of = Some(now());
            },
            &["stock_unknown"],
        ),
        (
            "stale snapshot proceeds with a warning when configured",
            |c| {
                c.doc.suppliers[0].stock_max_age = Some(MaxAge::try_from("6h".to_string()).unwrap());
                c.policy.unknown_stock = UnknownStock::Proceed;
            },
            &["stock_unknown", "stock_unknown"],
        ),
        (
            "another supplier's fresh stock fills the line",
            |c| {
                offer(c, "MUG-WHT", "beta-eu").stock = 0;
            },
            &[],
        ),
        (
            "supplier that does not ship there",
            |c| {
                let a = c.order.shipping_address.as_mut().unwrap();
                a.country = "DE".into();
                a.region.clear();
                a.postal_code = "10115".into();
                a.city = "Berlin".into();
            },
            &["no_supplier_for_line", "no_supplier_for_line"],
        ),
        // Margin.
        ("cost above the price", |c| offer(c, "HOODIE-GRY-L", "acme-us").cost = m("95.00"), &["margin_below_floor"]),
        ("percent floor", |c| c.policy.margin_floor = MarginFloor::parse("80%").unwrap(), &["margin_below_floor"]),
        (
            "shipping estimate and fee count",
            |c| {
                c.doc.suppliers[0].shipping_estimate = m("60.00");
                c.doc.suppliers[0].order_fee = m("30.00");
            },
            &["margin_below_floor"],
        ),
        (
            "margin check off",
            |c| {
                offer(c, "HOODIE-GRY-L", "acme-us").cost = m("95.00");
                c.policy.margin_floor = MarginFloor::Off;
            },
            &[],
        ),
    ];

    #[test]
    fn every_rule_both_outcomes() {
        for (name, case, expected) in CASES {
            let r = run(*case);
            let mut got = codes(&r);
            got.sort_unstable();
            let mut want = expected.to_vec();
            want.sort_unstable();
            assert_eq!(got, want, "case {name:?}: {:#?}", r.findings);
        }
    }

    #[test]
    fn a_good_order_passes_with_its_service_level() {
        let r = validate(&sample_order(), &sample_catalog(), &ValidationPolicy::default(), now());
        assert!(r.findings.is_empty(), "{:?}", codes(&r));
        assert!(r.passes());
        assert_eq!(r.service_level, Some(ServiceLevel::Standard));
    }

    #[test]
    fn every_failing_rule_is_reported() {
        let mut o = sample_order();
        o.financial_status = FinancialStatus::Pending;
        o.contact = Default::default();
        let a = o.shipping_address.as_mut().unwrap();
        a.postal_code.clear();
        a.line1 = "  ".into();
        o.lines[0].quantity = 0;
        o.lines[1].sku = Some(crate::primitives::ids::Sku::new("NOPE").unwrap());
        let r = validate(&o, &sample_catalog(), &ValidationPolicy::default(), now());
        assert_eq!(
            codes(&r),
            vec![
                "payment_not_accepted",
                "totals_mismatch",
                "address_field_missing",
                "address_field_missing",
                "contact_missing",
                "quantity_not_positive",
                "sku_unmapped"
            ]
        );
        let f = |code: &str| r.findings.iter().find(|f| f.code == code).unwrap();
        assert_eq!(f("address_field_missing").field.as_deref(), Some("shipping_address.line1"));
        assert_eq!(f("sku_unmapped").category, HoldCategory::Mapping);
        assert!(r.findings.iter().all(|f| f.resolution.is_some()), "every code has a resolution");
    }

    #[test]
    fn messages_name_what_to_fix() {
        let r = run(|c| c.order.totals.total = m("106.49"));
        assert!(
            r.findings[0].message.contains("= 106.48 USD, but the total is 106.49 USD"),
            "{}",
            r.findings[0].message
        );
        let r = run(|c| c.order.lines[0].quantity = 51);
        let stock = r.findings.iter().find(|f| f.code == "out_of_stock").unwrap();
        assert!(stock.message.contains("acme-us: 50 available, 51 needed"), "{}", stock.message);
        let r = run(|c| offer(c, "HOODIE-GRY-L", "acme-us").cost = m("95.00"));
        assert!(r.findings[0].message.starts_with("margin -"), "{}", r.findings[0].message);
    }

    #[test]
    fn policy_reads_every_variable_and_names_the_bad_one() {
        let p = ValidationPolicy::default();
        assert_eq!(p.accepted_financial_statuses, vec![FinancialStatus::Paid]);
        assert_eq!(p.margin_floor, MarginFloor::Absolute(Money::ZERO));
        assert_eq!(p.duplicate_window, Duration::hours(24));
        assert_eq!(p.payment_fees.on(m("100")), m("3.20"));
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let p = ValidationPolicy::from_lookup(env(&[
            ("DROPLINE_CURRENCIES", "usd, chf"),
            ("DROPLINE_SHIPPING_METHODS", "Colissimo=standard, DHL Next Day=overnight"),
            ("DROPLINE_UNKNOWN_STOCK", "proceed"),
            ("DROPLINE_MARGIN_FLOOR", "12.5%"),
            ("DROPLINE_DUPLICATE_WINDOW", "2d"),
        ]))
        .unwrap();
        assert_eq!(p.currencies.len(), 2);
        assert_eq!(p.unknown_stock, UnknownStock::Proceed);
        assert_eq!(p.margin_floor, MarginFloor::Percent(Decimal::new(125, 1)));
        assert_eq!(p.duplicate_window, Duration::days(2));
        let method = |t: &str| ShippingMethod { code: String::new(), title: t.into(), price: Money::ZERO };
        assert_eq!(p.shipping.level_of(Some(&method("dhl next-day"))), Some(ServiceLevel::Overnight));
        assert_eq!(p.shipping.level_of(Some(&method("Colissimo"))), Some(ServiceLevel::Standard));
        assert_eq!(p.shipping.level_of(Some(&method("UPS Express Saver"))), Some(ServiceLevel::Expedited));
        assert_eq!(p.shipping.level_of(None), None);
        for (var, bad) in [
            ("DROPLINE_CURRENCIES", "US"),
            ("DROPLINE_SHIPPING_METHODS", "Colissimo"),
            ("DROPLINE_SHIPPING_METHODS", "x=fastest"),
            ("DROPLINE_UNKNOWN_STOCK", "maybe"),
            ("DROPLINE_MARGIN_FLOOR", "lots"),
            ("DROPLINE_PAYMENT_FEES", "x%"),
            ("DROPLINE_DUPLICATE_WINDOW", "1w"),
            ("DROPLINE_ACCEPTED_FINANCIAL_STATUSES", "paid,bogus"),
        ] {
            let err = ValidationPolicy::from_lookup(|k| (k == var).then(|| bad.to_string())).unwrap_err();
            assert!(err.starts_with(var), "{var}={bad}: {err}");
        }
    }

    #[test]
    fn absurd_amounts_hold_and_never_panic() {
        let huge = Money::new(Decimal::MAX).unwrap();
        let r = run(|c| {
            c.order.lines[0].unit_price = Money::new(Decimal::MAX).unwrap();
            c.order.totals.subtotal = Money::new(Decimal::MAX).unwrap();
            c.order.totals.shipping = Money::new(Decimal::MAX).unwrap();
            c.order.totals.total = m("1.00");
            c.policy.margin_floor = MarginFloor::Percent(Decimal::MAX);
        });
        assert!(r.findings.iter().any(|f| f.code == "totals_mismatch"), "{:?}", r.findings);
        assert_eq!(Fees { percent: Decimal::MAX, fixed: huge }.on(huge), huge);
        assert!(crate::primitives::duration::parse_duration("9999999999999d").is_err());
    }

    #[test]
    fn postal_code_optional_where_countries_have_none() {
        let mut o = sample_order();
        let a = o.shipping_address.as_mut().unwrap();
        a.country = "HK".into();
        a.region.clear();
        a.postal_code.clear();
        let mut doc = sample_catalog_document();
        doc.suppliers[0].ships_to.push("HK".into());
        assert!(validate(&o, &view_of(&doc), &ValidationPolicy::default(), now()).findings.is_empty());
    }
}
