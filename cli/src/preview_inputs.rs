//! What `route preview` can be fed besides the order, catalog and configuration, so a reroute
//! previews as the pipeline would run it: a stored order record (its remaining lines, earlier
//! supplier failures, overrides and own reservations), more exclusions, current reservations
//! and measured supplier outcomes.

use dropline_domain::catalog::{CatalogView, Reservation};
use dropline_domain::findings::FindingCode;
use dropline_domain::order::{CanonicalOrder, OrderRecord, RoutingExclusion, ServiceLevel};
use dropline_domain::performance::{COUNTERS, Measured, Outcomes};
use dropline_domain::primitives::ids::{OrderId, SupplierId};
use serde_json::Value;

/// Routing's inputs other than the order, the catalog and the configuration.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The service level instead of the one validation maps the shipping method to.
    pub level: Option<ServiceLevel>,
    /// Indices of the lines to route; all of them when `None`.
    pub lines: Option<Vec<usize>>,
    /// Suppliers the order may not use again.
    pub excluded: Vec<RoutingExclusion>,
    /// Routing holds an operator overrode (they become warnings).
    pub waived: Vec<FindingCode>,
    /// Units other orders hold, counted against the offers' stock.
    pub reservations: Vec<Reservation>,
    /// Outcomes the pipeline counted per supplier.
    pub measured: Measured,
    /// A stored order's id: its own reservations are not counted against it (as route does).
    pub order_id: Option<OrderId>,
    /// The stored record's overrides, applied to validation's findings.
    pub overrides: Vec<dropline_domain::findings::Override>,
}

/// Exclusion codes as the pipeline writes them.
pub const EXCLUSION_CODES: [&str; 3] = ["rejected_earlier", "ack_deadline_missed", "stockout_after_acceptance"];

/// Routing holds an operator may override (as route waives them).
const WAIVABLE: [FindingCode; 2] = [FindingCode::ShipByUnmet, FindingCode::SplitCostExceedsLimit];

impl Inputs {
    /// What a stored record says: the lines its live purchase orders do not cover, its
    /// exclusions, its service level, waived routing holds and overrides.
    pub fn of_record(record: &OrderRecord) -> Self {
        Inputs {
            level: record.service_level,
            lines: Some(record.uncovered_lines()),
            excluded: record.routing_exclusions.clone(),
            waived: record.overrides.iter().map(|o| o.code).filter(|c| WAIVABLE.contains(c)).collect(),
            order_id: Some(record.id.clone()),
            overrides: record.overrides.clone(),
            ..Inputs::default()
        }
    }

    /// Adds `--exclude SUPPLIER[:CODE]` (the code defaults to `rejected_earlier`).
    pub fn exclude(&mut self, arg: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
        let (supplier, code) = arg.split_once(':').unwrap_or((arg, "rejected_earlier"));
        let supplier_id = SupplierId::new(supplier.trim()).map_err(|e| format!("--exclude {arg:?}: {e}"))?;
        if !EXCLUSION_CODES.contains(&code) {
            return Err(format!("--exclude {arg:?}: the code is one of {}", EXCLUSION_CODES.join(", ")));
        }
        self.excluded.push(RoutingExclusion {
            supplier_id,
            code: code.to_string(),
            reason: "excluded for this preview".into(),
            po: String::new(),
            at,
        });
        Ok(())
    }

    /// Reads `--reservations FILE`: a JSON list of reservations as the catalog stores them
    /// (`holder`, `sku`, `supplier_id`, `quantity`, `at`).
    pub fn read_reservations(&mut self, name: &str, text: &str) -> Result<(), String> {
        let list: Vec<Value> = serde_json::from_str(text).map_err(|e| format!("{name}: a JSON list: {e}"))?;
        for (i, v) in list.into_iter().enumerate() {
            known_fields(name, &format!("[{i}]"), &v, &["holder", "sku", "supplier_id", "quantity", "at"])?;
            let r: Reservation = serde_json::from_value(v).map_err(|e| format!("{name}: [{i}]: {e}"))?;
            self.reservations.push(r);
        }
        Ok(())
    }

    /// Reads `--outcomes FILE`: `{"supplier-id": {"answered": 120, "accepted": 118, ...}}`, the
    /// counters the pipeline keeps (see `dropline routing outcomes`).
    pub fn read_outcomes(&mut self, name: &str, text: &str) -> Result<(), String> {
        let map: serde_json::Map<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("{name}: a JSON object of suppliers: {e}"))?;
        for (supplier, counters) in map {
            known_fields(name, &supplier, &counters, &COUNTERS)?;
            let id = SupplierId::new(&supplier).map_err(|e| format!("{name}: {supplier}: {e}"))?;
            let o: Outcomes = serde_json::from_value(counters).map_err(|e| format!("{name}: {supplier}: {e}"))?;
            if o.accepted > o.answered || o.shipped_on_time > o.shipped {
                return Err(format!(
                    "{name}: {supplier}: accepted must not exceed answered, nor shipped_on_time shipped"
                ));
            }
            self.measured.insert(id, o);
        }
        Ok(())
    }

    /// The view routing sees: `reservations` counted in, the stored order's own left out.
    pub fn view(&self, view: &CatalogView) -> CatalogView {
        let mut v = view.clone();
        v.count_reservations(self.reservations.clone());
        match &self.order_id {
            Some(id) => v.without_reservations_of(id),
            None => v,
        }
    }

    /// The lines to route.
    pub fn lines(&self, order: &CanonicalOrder) -> Vec<usize> {
        self.lines.clone().unwrap_or_else(|| (0..order.lines.len()).collect())
    }
}

/// Refuses a field the file format does not have, naming it and where.
fn known_fields(name: &str, at: &str, v: &Value, known: &[&str]) -> Result<(), String> {
    let Some(obj) = v.as_object() else {
        return Err(format!("{name}: {at}: expected an object"));
    };
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("{name}: {at}.{k}: unknown field; expected one of {}", known.join(", "))),
        None => Ok(()),
    }
}
