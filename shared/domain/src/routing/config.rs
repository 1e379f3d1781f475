//! The routing configuration: suppliers (tier, calendar, where they ship from and to, service
//! levels with transit and shipping cost per destination zone, fees, preference, measured
//! performance), destination zones, rules and the routing policy (score weights, split policy,
//! ship-by promises). One versioned document, checked whole at load: an error names the file,
//! the field and the problem, and a bad document is rejected, never half applied.

use crate::order::ServiceLevel;
use crate::order::SplitPolicy;
use crate::performance::Performance;
use crate::primitives::calendar::{CalendarError, SupplierCalendar};
use crate::primitives::config_error::ConfigError;
use crate::primitives::ids::SupplierId;
use crate::primitives::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How fast a supplier hands an order to the carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    SameDay,
    OneDay,
    TwoDays,
    /// Made to order: `handling_days` says how long.
    MadeToOrder,
}

/// Transit estimate in carrier business days, fewest to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "[u32; 2]")]
pub struct Transit {
    pub min: u32,
    pub max: u32,
}

impl TryFrom<[u32; 2]> for Transit {
    type Error = ConfigError;
    fn try_from([min, max]: [u32; 2]) -> Result<Self, ConfigError> {
        if min > max {
            return Err(format!("transit [{min}, {max}]: the fewest days come first").into());
        }
        Ok(Self { min, max })
    }
}

/// One service level a supplier offers into one zone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneService {
    pub transit: Transit,
    /// Shipping cost of one purchase order.
    pub cost: Money,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: String,
    cutoff: String,
    #[serde(default = "weekdays")]
    working_days: Vec<String>,
    #[serde(default)]
    holidays: Vec<String>,
}

fn weekdays() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupplier {
    id: SupplierId,
    tier: Tier,
    #[serde(default)]
    handling_days: Option<u32>,
    calendar: RawCalendar,
    ships_from: String,
    /// Zone names it delivers to.
    destinations: Vec<String>,
    /// Service level -> zone -> transit and cost.
    services: BTreeMap<ServiceLevel, BTreeMap<String, ZoneService>>,
    #[serde(default)]
    order_fee: Money,
    #[serde(default = "one")]
    preference: f64,
    #[serde(default)]
    performance: Option<Performance>,
    #[serde(default = "day")]
    ack_deadline_hours: u32,
}

fn one() -> f64 {
    1.0
}

fn day() -> u32 {
    24
}

/// The score's weights (any non-negative numbers; they are normalized by their sum).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    pub cost: f64,
    pub speed: f64,
    pub reliability: f64,
    pub preference: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { cost: 0.5, speed: 0.25, reliability: 0.15, preference: 0.1 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    weights: Weights,
    #[serde(default)]
    split: SplitPolicy,
    #[serde(default)]
    split_extra_cost_limit: Option<Money>,
    /// Service level -> hours from the order's placement by which it must ship.
    #[serde(default)]
    ship_within_hours: BTreeMap<ServiceLevel, u32>,
    /// Service levels routed by speed first.
    #[serde(default = "fast_levels")]
    speed_first: Vec<ServiceLevel>,
}

impl Default for RawPolicy {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            split: SplitPolicy::default(),
            split_extra_cost_limit: None,
            ship_within_hours: BTreeMap::new(),
            speed_first: fast_levels(),
        }
    }
}

fn fast_levels() -> Vec<ServiceLevel> {
    vec![ServiceLevel::Expedited, ServiceLevel::Overnight]
}

/// How the engine chooses among what qualifies.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub weights: Weights,
    pub split: SplitPolicy,
    /// A split whose extra shipments cost more than this holds for review (none: no limit).
    pub split_extra_cost_limit: Option<Money>,
    /// Hours from the order's placement by which it must ship, per service level paid for.
    pub ship_within_hours: BTreeMap<ServiceLevel, u32>,
    pub speed_first: BTreeSet<ServiceLevel>,
}

/// When a rule applies: every condition given must hold; a condition holds when any of its
/// values matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default)]
    pub channels: Vec<String>,
    /// Countries (ISO alpha-2) or zone names.
    #[serde(default)]
    pub destinations: Vec<String>,
    /// Tags of the catalog items: the rule's pin or exclusion applies to those lines only.
    #[serde(default)]
    pub product_tags: Vec<String>,
    #[serde(default)]
    pub customer_tags: Vec<String>,
    #[serde(default)]
    pub order_tags: Vec<String>,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Earliest delivery first, then the score.
    Speed,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub when: When,
    /// Only these suppliers may fill the lines the rule applies to.
    #[serde(default)]
    pub pin: Vec<SupplierId>,
    /// These suppliers may not.
    #[serde(default)]
    pub exclude: Vec<SupplierId>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: u32,
    /// Zone name -> ISO countries.
    zones: BTreeMap<String, Vec<String>>,
    suppliers: Vec<RawSupplier>,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    rules: Vec<Rule>,
}

/// A supplier as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingSupplier {
    pub id: SupplierId,
    pub tier: Tier,
    /// Working days between processing and handing over to the carrier.
    pub handling_days: u32,
    pub calendar: SupplierCalendar,
    pub ships_from: String,
    pub destinations: BTreeSet<String>,
    pub services: BTreeMap<ServiceLevel, BTreeMap<String, ZoneService>>,
    pub order_fee: Money,
    /// Lower is preferred (Duoplane's multiplier); 1 is neutral. A score weight, not money.
    pub preference: f64,
    pub performance: Performance,
    /// Hours a supplier has to acknowledge a purchase order before it is rerouted.
    pub ack_deadline_hours: u32,
}

impl RoutingSupplier {
    /// Its `level` service to `zone` (transit and shipping cost), if it offers one.
    pub fn service(&self, level: ServiceLevel, zone: &str) -> Option<&ZoneService> {
        self.services.get(&level).and_then(|zs| zs.get(zone))
    }
}

/// The checked configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingConfig {
    pub version: u32,
    /// Country -> zone.
    pub zone_of: BTreeMap<String, String>,
    pub suppliers: Vec<RoutingSupplier>,
    pub policy: Policy,
    pub rules: Vec<Rule>,
    /// Supplier id -> position in `suppliers`.
    index: crate::primitives::fast_map::FastMap<SupplierId, usize>,
}

impl RoutingConfig {
    /// Parses and checks a whole configuration (JSON).
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let err = |field: String, problem: String| ConfigError::new(file, field, problem);
        let de = &mut serde_json::Deserializer::from_str(text);
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            err(if path == "." { "(document)".into() } else { path }, e.inner().to_string())
        })?;
        if raw.version == 0 {
            return Err(err("version".into(), "versions start at 1".into()));
        }
        let mut zone_of = BTreeMap::new();
        for (zone, countries) in &raw.zones {
            for (i, c) in countries.iter().enumerate() {
                let c = c.trim().to_ascii_uppercase();
                if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(err(
                        format!("zones.{zone}[{i}]"),
                        format!("{c:?} is not an ISO 3166-1 alpha-2 country"),
                    ));
                }
                if let Some(other) = zone_of.insert(c.clone(), zone.clone()) {
                    return Err(err(format!("zones.{zone}[{i}]"), format!("{c} is already in zone {other}")));
                }
            }
        }
        let mut seen = BTreeSet::new();
        let mut suppliers = Vec::with_capacity(raw.suppliers.len());
        for (i, s) in raw.suppliers.into_iter().enumerate() {
            let at = |f: &str| format!("suppliers[{i}].{f}");
            if !seen.insert(s.id.clone()) {
                return Err(err(at("id"), format!("supplier {} listed twice", s.id)));
            }
            let handling_days = match (s.tier, s.handling_days) {
                (Tier::SameDay, None) => 0,
                (Tier::OneDay, None) => 1,
                (Tier::TwoDays, None) => 2,
                (Tier::MadeToOrder, Some(d)) => d,
                (Tier::MadeToOrder, None) => {
                    return Err(err(at("handling_days"), "a made-to-order supplier says how many days".into()));
                }
                (_, Some(_)) => return Err(err(at("handling_days"), "only made-to-order suppliers set it".into())),
            };
            let c = &s.calendar;
            let days: Vec<&str> = c.working_days.iter().map(String::as_str).collect();
            let hols: Vec<&str> = c.holidays.iter().map(String::as_str).collect();
            let calendar = SupplierCalendar::parse(&c.time_zone, &c.cutoff, &days, &hols)
                .map_err(|e: CalendarError| err(at("calendar"), e.to_string()))?;
            let known_zone = |z: &str| raw.zones.contains_key(z);
            for (k, z) in s.destinations.iter().enumerate() {
                if !known_zone(z) {
                    return Err(err(at(&format!("destinations[{k}]")), format!("unknown zone {z:?}")));
                }
            }
            if s.services.is_empty() {
                return Err(err(at("services"), "a supplier offers at least one service level".into()));
            }
            for (level, zones) in &s.services {
                for z in zones.keys() {
                    if !s.destinations.contains(z) {
                        return Err(err(
                            at(&format!("services.{level}.{z}")),
                            format!("zone {z:?} is not among the supplier's destinations"),
                        ));
                    }
                }
            }
            if !(s.preference > 0.0 && s.preference.is_finite()) {
                return Err(err(at("preference"), "must be positive (1 is neutral, lower is preferred)".into()));
            }
            if s.ack_deadline_hours < MIN_ACK_DEADLINE_HOURS {
                return Err(err(
                    at("ack_deadline_hours"),
                    format!("at least {MIN_ACK_DEADLINE_HOURS} (escalation looks at orders older than that)"),
                ));
            }
            let performance = s.performance.unwrap_or(Performance::PRIOR);
            for (name, rate) in [
                ("acceptance_rate", performance.acceptance_rate),
                ("on_time_ship_rate", performance.on_time_ship_rate),
                ("cancellation_rate", performance.cancellation_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(err(at(&format!("performance.{name}")), format!("{rate} is not between 0 and 1")));
                }
            }
            if !(performance.tracking_upload_hours >= 0.0 && performance.tracking_upload_hours.is_finite()) {
                return Err(err(at("performance.tracking_upload_hours"), "must be a non-negative number".into()));
            }
            suppliers.push(RoutingSupplier {
                id: s.id,
                tier: s.tier,
                handling_days,
                calendar,
                ships_from: s.ships_from.trim().to_ascii_uppercase(),
                destinations: s.destinations.into_iter().collect(),
                services: s.services,
                order_fee: s.order_fee,
                preference: s.preference,
                performance,
                ack_deadline_hours: s.ack_deadline_hours,
            });
        }
        let p = raw.policy;
        let w = p.weights;
        for (name, v) in
            [("cost", w.cost), ("speed", w.speed), ("reliability", w.reliability), ("preference", w.preference)]
        {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(err(format!("policy.weights.{name}"), format!("{v} is not a non-negative number")));
            }
        }
        if w.cost + w.speed + w.reliability + w.preference <= 0.0 {
            return Err(err("policy.weights".into(), "at least one weight must be positive".into()));
        }
        let mut names = BTreeSet::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            if r.name.trim().is_empty() {
                return Err(err(at("name"), "a rule needs a name (it is quoted in every explanation)".into()));
            }
            if !names.insert(r.name.as_str()) {
                return Err(err(at("name"), format!("rule {:?} listed twice", r.name)));
            }
            if r.pin.is_empty() && r.exclude.is_empty() && r.priority.is_none() {
                return Err(err(at("name"), "a rule pins, excludes or sets a priority".into()));
            }
            for (field, list) in [("pin", &r.pin), ("exclude", &r.exclude)] {
                for (k, s) in list.iter().enumerate() {
                    if !seen.contains(s) {
                        return Err(err(at(&format!("{field}[{k}]")), format!("unknown supplier {s}")));
                    }
                }
            }
            for (k, c) in r.when.channels.iter().enumerate() {
                if !["shopify", "woocommerce", "bigcommerce"].contains(&c.trim().to_ascii_lowercase().as_str()) {
                    return Err(err(at(&format!("when.channels[{k}]")), format!("unknown channel {c:?}")));
                }
            }
            for (k, d) in r.when.destinations.iter().enumerate() {
                let country = d.len() == 2 && d.bytes().all(|b| b.is_ascii_alphabetic());
                if !country && !raw.zones.contains_key(d) {
                    return Err(err(
                        at(&format!("when.destinations[{k}]")),
                        format!("{d:?} is neither a zone nor an ISO country"),
                    ));
                }
            }
        }
        let policy = Policy {
            weights: w,
            split: p.split,
            split_extra_cost_limit: p.split_extra_cost_limit,
            ship_within_hours: p.ship_within_hours,
            speed_first: p.speed_first.into_iter().collect(),
        };
        let index = suppliers.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        Ok(Self { version: raw.version, zone_of, suppliers, policy, rules: raw.rules, index })
    }

    pub fn supplier(&self, id: &SupplierId) -> Option<&RoutingSupplier> {
        self.index.get(id).and_then(|&i| self.suppliers.get(i))
    }

    /// The destination zone of a country, if any zone holds it.
    pub fn zone(&self, country: &str) -> Option<&str> {
        self.zone_of.get(&country.trim().to_ascii_uppercase()).map(String::as_str)
    }
}

/// The shortest acknowledgment deadline a supplier may have. Escalation only looks for late
/// purchase orders among orders older than this in their status.
pub const MIN_ACK_DEADLINE_HOURS: u32 = 1;

/// The version a stored configuration text declares (0 when it declares none or can't be read),
/// for stores that refuse to publish over a higher version.
pub fn declared_version(text: &str) -> u32 {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64))
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> serde_json::Value {
        json!({
            "version": 1,
            "zones": {"us": ["US"], "canada": ["CA"], "eu": ["DE", "FR"]},
            "suppliers": [
                {"id": "northwind-us", "tier": "one_day",
                 "calendar": {"time_zone": "America/Los_Angeles", "cutoff": "14:00", "holidays": ["2026-11-26"]},
                 "ships_from": "us", "destinations": ["us", "canada"],
                 "services": {"standard": {"us": {"transit": [3, 5], "cost": "5.00"}, "canada": {"transit": [5, 8], "cost": "9.00"}},
                              "expedited": {"us": {"transit": [1, 2], "cost": "14.00"}}},
                 "order_fee": "1.50", "preference": 1,
                 "performance": {"acceptance_rate": 0.99, "on_time_ship_rate": 0.97, "tracking_upload_hours": 6, "cancellation_rate": 0.005, "samples": 412}},
                {"id": "atelier-fr", "tier": "made_to_order", "handling_days": 10,
                 "calendar": {"time_zone": "Europe/Paris", "cutoff": "12:00", "working_days": ["mon", "tue", "wed", "thu"]},
                 "ships_from": "FR", "destinations": ["eu"],
                 "services": {"standard": {"eu": {"transit": [2, 4], "cost": "7.00"}}}, "preference": 0.8}
            ]
        })
    }

    fn parse(v: &serde_json::Value) -> Result<RoutingConfig, String> {
        RoutingConfig::parse("routing.json", &v.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_configuration_loads_with_priors_and_handling_days() {
        let c = parse(&good()).unwrap();
        assert_eq!(c.version, 1);
        assert_eq!(c.zone("de"), Some("eu"));
        assert_eq!(c.zone("JP"), None);
        assert_eq!(c.suppliers[0].handling_days, 1);
        assert_eq!(c.suppliers[0].ships_from, "US");
        assert_eq!(c.suppliers[1].handling_days, 10);
        assert_eq!(c.suppliers[1].performance, Performance::PRIOR, "no history: the prior");
        assert_eq!(c.suppliers[0].services[&ServiceLevel::Expedited]["us"].transit, Transit { min: 1, max: 2 });
    }

    #[test]
    fn a_bad_configuration_is_rejected_whole_naming_file_field_and_problem() {
        type Case = (&'static str, fn(&mut serde_json::Value), &'static str);
        let cases: [Case; 13] = [
            ("version 0", |c| c["version"] = json!(0), "routing.json: version: versions start at 1"),
            ("not JSON shape", |c| c["zones"] = json!([]), "routing.json: zones: invalid type"),
            ("bad country", |c| c["zones"]["us"] = json!(["USA"]), "routing.json: zones.us[0]: \"USA\" is not an ISO"),
            ("country in two zones", |c| c["zones"]["canada"] = json!(["US"]), "is already in zone"),
            (
                "duplicate supplier",
                |c| c["suppliers"][1]["id"] = json!("northwind-us"),
                "suppliers[1].id: supplier northwind-us listed twice",
            ),
            ("unknown tier", |c| c["suppliers"][0]["tier"] = json!("fast"), "suppliers[0].tier: unknown variant"),
            (
                "made to order without days",
                |c| {
                    c["suppliers"][1].as_object_mut().unwrap().remove("handling_days");
                },
                "suppliers[1].handling_days: a made-to-order",
            ),
            (
                "bad time zone",
                |c| c["suppliers"][0]["calendar"]["time_zone"] = json!("PST"),
                "suppliers[0].calendar: time_zone",
            ),
            (
                "unknown destination",
                |c| c["suppliers"][0]["destinations"][1] = json!("mexico"),
                "suppliers[0].destinations[1]: unknown zone \"mexico\"",
            ),
            (
                "service outside destinations",
                |c| c["suppliers"][1]["services"]["standard"]["us"] = json!({"transit": [1, 2], "cost": "1"}),
                "suppliers[1].services.standard.us",
            ),
            (
                "transit backwards",
                |c| c["suppliers"][0]["services"]["standard"]["us"]["transit"] = json!([5, 3]),
                "the fewest days come first",
            ),
            (
                "rate above 1",
                |c| c["suppliers"][0]["performance"]["acceptance_rate"] = json!(1.5),
                "suppliers[0].performance.acceptance_rate: 1.5",
            ),
            (
                "unknown field",
                |c| c["suppliers"][0]["colour"] = json!("red"),
                "suppliers[0].colour: unknown field `colour`",
            ),
        ];
        for (name, break_it, expected) in cases {
            let mut c = good();
            break_it(&mut c);
            let e = parse(&c).unwrap_err();
            assert!(e.contains(expected), "{name}: {e}");
            assert!(e.starts_with("routing.json: "), "{name}: {e}");
        }
    }
}
