//! The routing decision stored on an order: what was asked, every candidate the engine
//! considered (with its figures or the constraints that ruled it out) and the ranked plans. It
//! is part of the order aggregate; the engine in `routing` produces it.

use crate::order::ServiceLevel;
use crate::primitives::ids::SupplierId;
use crate::primitives::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Whether an order may be split over several suppliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitPolicy {
    /// One supplier fills the whole order, or the order holds.
    Required,
    /// Split only when no single supplier can fill the order.
    #[default]
    Preferred,
    /// Any plan competes on score (fewest shipments is not forced).
    Allowed,
}

/// One constraint that ruled a candidate out (for one line, or for the whole order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    pub constraint: String,
    pub detail: String,
}

/// A candidate's raw figures for the lines it can fill, as one shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub item_cost: Money,
    pub shipping: Money,
    pub fee: Money,
    pub landed_cost: Money,
    pub ship_by: DateTime<Utc>,
    pub delivery: (NaiveDate, NaiveDate),
    pub reliability: f64,
    pub preference: f64,
}

/// A supplier the engine considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub supplier_id: SupplierId,
    /// Line ids it can fill.
    pub fills: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ruled_out: Vec<Ruled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
}

/// A plan's figures and its score, each component normalized over the plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPlan {
    /// Supplier per shipment, in the order of the lines they fill.
    pub suppliers: Vec<SupplierId>,
    pub landed_cost: Money,
    /// What the shipments beyond the cheapest one add in shipping and fees.
    pub extra_cost: Money,
    pub latest_delivery: NaiveDate,
    pub reliability: f64,
    pub preference: f64,
    pub cost_score: f64,
    pub speed_score: f64,
    pub reliability_score: f64,
    pub preference_score: f64,
    pub score: f64,
}

/// The decision stored on the order: what was asked, every candidate, the ranked plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingDecision {
    pub at: DateTime<Utc>,
    pub config_version: u32,
    pub service_level: ServiceLevel,
    pub split: SplitPolicy,
    pub speed_first: bool,
    /// Rules that applied, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Line ids routed.
    pub lines: Vec<String>,
    pub candidates: Vec<Candidate>,
    /// Best first (at most five kept).
    pub plans: Vec<ScoredPlan>,
    /// `routed: 1001-1 -> acme-us` or the hold's codes.
    pub outcome: String,
}
