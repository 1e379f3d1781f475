//! `dropline route preview`: the routing engine on one order, with no side effects: nothing is
//! stored, reserved, sent or published. Shows what validation would say, every candidate with
//! its figures or the constraints that ruled it out, and the ranked plans.

use crate::preview_inputs::Inputs;
use chrono::{DateTime, Utc};
use dropline_domain::catalog::CatalogView;
use dropline_domain::findings::{HoldReason, apply_overrides};
use dropline_domain::order::{CanonicalOrder, OrderRecord, ServiceLevel};
use dropline_domain::routing::config::RoutingConfig;
use dropline_domain::routing::{Request, Routed, route};
use dropline_domain::validation::{ValidationPolicy, validate};
use dropline_domain::wire::channels::{StoreTimeZones, shopify_order, woocommerce_order};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// What a preview routes: an order, and the stored record it came from when it was given one.
pub struct Subject {
    pub order: CanonicalOrder,
    pub record: Option<OrderRecord>,
}

/// Reads what to preview: a stored order record (as `dropline order show ID --json` prints it),
/// Dropline's canonical order, or a raw Shopify or WooCommerce order payload (told apart by
/// their fields).
pub fn read_subject(name: &str, text: &str) -> Result<Subject, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    let record = v.get("status").is_some() && v.get("order").is_some_and(|o| o.get("channel_order_id").is_some());
    if record {
        let r: OrderRecord = serde_json::from_value(v).map_err(|e| format!("{name}: order record: {e}"))?;
        return Ok(Subject { order: r.order.clone(), record: Some(r) });
    }
    read_order(name, text).map(|order| Subject { order, record: None })
}

/// Reads an order: Dropline's canonical JSON, a raw Shopify order payload or a raw WooCommerce
/// order payload (told apart by their fields).
pub fn read_order(name: &str, text: &str) -> Result<CanonicalOrder, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    if v.get("channel").is_some() && v.get("channel_order_id").is_some() {
        return serde_json::from_value(v).map_err(|e| format!("{name}: canonical order: {e}"));
    }
    let body = text.as_bytes();
    let legacy_woo = v.get("order").is_some_and(|o| o.get("line_items").is_some());
    if legacy_woo || v.get("billing").is_some() || v.get("date_created").is_some() {
        // wc/v1 times are site-local: read them on the clock ingest would use.
        let zones = std::env::var("DROPLINE_STORE_TIME_ZONES").unwrap_or_default();
        let zones = StoreTimeZones::parse(&zones).map_err(|e| format!("DROPLINE_STORE_TIME_ZONES: {e}"))?;
        return woocommerce_order("preview", body, &zones).map_err(|e| format!("{name}: WooCommerce order: {e}"));
    }
    if v.get("line_items").is_some() {
        return shopify_order("preview.myshopify.com", body).map_err(|e| format!("{name}: Shopify order: {e}"));
    }
    Err(format!("{name}: neither a canonical order nor a Shopify or WooCommerce order payload"))
}

/// What a preview found.
pub struct Preview {
    pub findings: Vec<HoldReason>,
    pub service_level: ServiceLevel,
    pub routed: Routed,
    /// What routing was fed besides the order, catalog and configuration.
    pub inputs: Inputs,
}

impl Preview {
    /// Validation's findings that hold the order: the pipeline would stop there, before routing.
    pub fn validation_holds(&self) -> Vec<&HoldReason> {
        self.findings.iter().filter(|f| f.holds()).collect()
    }

    /// Whether the pipeline would hold the order, in validation or in routing.
    pub fn held(&self) -> bool {
        !self.validation_holds().is_empty() || self.routed.result.is_err()
    }

    /// What the pipeline would do: validation's holds come first (routing never runs on a held
    /// order), then routing's own outcome.
    pub fn outcome(&self) -> String {
        let held = self.validation_holds();
        if held.is_empty() {
            return self.routed.decision.outcome.clone();
        }
        let codes: std::collections::BTreeSet<&str> = held.iter().map(|h| h.code.as_str()).collect();
        let codes: Vec<&str> = codes.into_iter().collect();
        format!(
            "held in validation: {} (once released, routing would give: {})",
            codes.join(", "),
            self.routed.decision.outcome
        )
    }
}

/// Validation (for its findings and the service level), then the engine, at `at`, fed `inputs`.
pub fn preview(
    order: &CanonicalOrder,
    view: &CatalogView,
    config: &RoutingConfig,
    policy: &ValidationPolicy,
    at: DateTime<Utc>,
    inputs: Inputs,
) -> Preview {
    let view = inputs.view(view);
    let report = validate(order, &view, policy, at);
    let findings = apply_overrides(&report.findings, &inputs.overrides);
    let service_level = inputs.level.or(report.service_level).unwrap_or(ServiceLevel::Standard);
    let lines = inputs.lines(order);
    let request = Request {
        order,
        lines: &lines,
        service_level,
        excluded: &inputs.excluded,
        waived: &inputs.waived,
        now: at,
        unknown_stock: policy.unknown_stock,
        measured: &inputs.measured,
    };
    let routed = route(&request, &view, config);
    Preview { findings, service_level, routed, inputs }
}

pub fn to_json(p: &Preview) -> Value {
    // Validation's holds stop the order before routing: no purchase order would be created.
    let mut holds: Vec<HoldReason> = p.validation_holds().into_iter().cloned().collect();
    let mut pos = Vec::new();
    match &p.routed.result {
        Ok(planned) if holds.is_empty() => {
            pos = planned
                .iter()
                .map(|po| {
                    json!({
                        "supplier_id": po.supplier_id,
                        "lines": po.lines.iter().map(|l| json!({"line_id": l.line_id, "sku": l.sku, "supplier_sku": l.supplier_sku, "quantity": l.quantity, "unit_cost": l.unit_cost})).collect::<Vec<_>>(),
                        "promise": po.promise,
                    })
                })
                .collect();
        }
        Ok(_) => {}
        Err(h) => holds.extend(h.iter().cloned()),
    }
    json!({
        "outcome": p.outcome(),
        "held": p.held(),
        "validation": p.findings,
        "service_level": p.service_level,
        "purchase_orders": pos,
        "holds": holds,
        "warnings": p.routed.warnings,
        "decision": p.routed.decision,
        "inputs": {
            // The lines routed are the decision's `lines`.
            "order_id": p.inputs.order_id,
            "excluded": p.inputs.excluded,
            "waived": p.inputs.waived,
            "reservations": p.inputs.reservations,
            "measured": p.inputs.measured.iter().map(|(k, v)| (k.to_string(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        },
    })
}

/// The table an operator reads.
pub fn render(p: &Preview) -> String {
    let d = &p.routed.decision;
    let mut out = String::new();
    writeln!(
        out,
        "Routing preview (configuration version {}, {} service, split {:?}{}{})",
        d.config_version,
        p.service_level,
        d.split,
        if d.speed_first { ", speed first" } else { "" },
        if d.rules.is_empty() { String::new() } else { format!(", rules: {}", d.rules.join(", ")) }
    )
    .ok();
    for f in &p.findings {
        writeln!(out, "  validation {:?} {}: {}", f.severity, f.code, f.message).ok();
    }
    writeln!(out, "\nCandidates").ok();
    writeln!(
        out,
        "  {:<16} {:<8} {:>9} {:>8} {:>6} {:>9}  {:<25} {:>6} {:>5}  ruled out",
        "supplier", "fills", "items", "ship", "fee", "landed", "ship by / delivery", "rel.", "pref"
    )
    .ok();
    for c in &d.candidates {
        let fills = if c.fills.is_empty() { "-".to_string() } else { c.fills.join(",") };
        let ruled: Vec<String> = c
            .ruled_out
            .iter()
            .map(|r| match &r.line {
                Some(l) => format!("line {l}: {} ({})", r.constraint, r.detail),
                None => format!("{} ({})", r.constraint, r.detail),
            })
            .collect();
        match &c.figures {
            Some(f) => writeln!(
                out,
                "  {:<16} {:<8} {:>9} {:>8} {:>6} {:>9}  {:<25} {:>6.3} {:>5.2}  {}",
                c.supplier_id.as_str(),
                fills,
                f.item_cost.to_string(),
                f.shipping.to_string(),
                f.fee.to_string(),
                f.landed_cost.to_string(),
                format!(
                    "{} / {}..{}",
                    f.ship_by.format("%m-%d %H:%MZ"),
                    f.delivery.0.format("%m-%d"),
                    f.delivery.1.format("%m-%d")
                ),
                f.reliability,
                f.preference,
                ruled.join("; ")
            ),
            None => writeln!(out, "  {:<16} {:<8} {:>79}  {}", c.supplier_id.as_str(), fills, "", ruled.join("; ")),
        }
        .ok();
    }
    if !d.plans.is_empty() {
        writeln!(out, "\nPlans (best first; components normalized over the plans, 1 = best)").ok();
        writeln!(
            out,
            "  {:<4} {:<30} {:>9} {:>7} {:>10} {:>6} {:>6} {:>6} {:>6} {:>7}",
            "rank", "suppliers", "landed", "extra", "delivered", "cost", "speed", "rel.", "pref", "score"
        )
        .ok();
        for (i, pl) in d.plans.iter().enumerate() {
            let ids: Vec<&str> = pl.suppliers.iter().map(|s| s.as_str()).collect();
            writeln!(
                out,
                "  {:<4} {:<30} {:>9} {:>7} {:>10} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>7.4}",
                i + 1,
                ids.join(" + "),
                pl.landed_cost.to_string(),
                pl.extra_cost.to_string(),
                pl.latest_delivery.to_string(),
                pl.cost_score,
                pl.speed_score,
                pl.reliability_score,
                pl.preference_score,
                pl.score
            )
            .ok();
        }
    }
    writeln!(out, "\nOutcome: {}", p.outcome()).ok();
    match &p.routed.result {
        Ok(pos) => {
            for po in pos {
                let lines: Vec<String> = po.lines.iter().map(|l| format!("{} x{}", l.sku, l.quantity)).collect();
                let promise = po
                    .promise
                    .as_ref()
                    .map(|pr| {
                        format!(
                            "ack by {}, ship by {}, delivery {}..{}",
                            pr.ack_by.to_rfc3339(),
                            pr.ship_by.to_rfc3339(),
                            pr.delivery_earliest,
                            pr.delivery_latest
                        )
                    })
                    .unwrap_or_default();
                writeln!(out, "  {} <- {} ({promise})", po.supplier_id, lines.join(", ")).ok();
            }
        }
        Err(holds) => {
            for h in holds {
                writeln!(out, "  hold {}: {}", h.code, h.message).ok();
            }
        }
    }
    for w in &p.routed.warnings {
        writeln!(out, "  warning {}: {}", w.code, w.message).ok();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_a_raw_shopify_payload_against_the_demo_configuration() {
        let order = demo_case("ok_split_two_suppliers");
        let p = demo_preview(&order, Inputs::default());
        assert_eq!(chosen(&p), vec!["northwind-us", "pacific-au"]);
        let table = render(&p);
        assert!(table.contains("Outcome: routed: northwind-us + pacific-au"), "{table}");
        assert!(table.contains("not_carried (does not carry MUG-CER-15OZ)"), "{table}");
        let v = to_json(&p);
        assert_eq!(v["decision"]["plans"][0]["suppliers"], json!(["northwind-us", "pacific-au"]));
        assert_eq!(v["service_level"], "standard");

        // The canonical form reads too.
        let canonical = serde_json::to_string(&order).unwrap();
        assert_eq!(read_order("c.json", &canonical).unwrap(), order);
        assert!(read_order("x.json", "{\"hello\": 1}").unwrap_err().contains("neither"));
    }

    /// Issue 11, defect 2: the preview said "routed: northwind-us" beside validation's
    /// `margin_below_floor`, though the pipeline holds that order.
    #[test]
    fn the_outcome_is_what_the_pipeline_would_do_when_validation_holds() {
        let order = demo_case("below_margin");
        let p = demo_preview(&order, Inputs::default());
        assert!(p.routed.result.is_ok(), "routing alone would route it");
        assert!(p.held());
        assert!(p.outcome().starts_with("held in validation: margin_below_floor"), "{}", p.outcome());
        let table = render(&p);
        assert!(table.contains("Outcome: held in validation: margin_below_floor"), "{table}");
        let v = to_json(&p);
        assert_eq!(v["held"], json!(true));
        assert!(v["holds"].as_array().unwrap().iter().any(|h| h["code"] == "margin_below_floor"), "{}", v["holds"]);
        assert_eq!(v["purchase_orders"], json!([]), "no purchase order for a held order");
    }

    fn demo_case(case: &str) -> CanonicalOrder {
        let deliveries: Value = serde_json::from_str(include_str!("../../local/demo/deliveries.json")).unwrap();
        let d = deliveries.as_array().unwrap().iter().find(|d| d["case"] == case).unwrap();
        read_order("case.json", &d["payload"].to_string()).unwrap()
    }

    fn demo_preview(order: &CanonicalOrder, inputs: Inputs) -> Preview {
        let doc = dropline_local::demo::catalog().unwrap();
        let view = dropline_domain::testing::view_of(&doc);
        let config = dropline_local::demo::routing().unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z").unwrap().with_timezone(&Utc);
        preview(order, &view, &config, &ValidationPolicy::default(), at, inputs)
    }

    fn chosen(p: &Preview) -> Vec<String> {
        p.routed.result.as_ref().unwrap().iter().map(|p| p.supplier_id.to_string()).collect()
    }

    /// Issue 11, defect 7: a reroute could not be previewed: exclusions, reservations and
    /// measured outcomes had no way in.
    #[test]
    fn exclusions_reservations_and_measured_outcomes_change_the_route_as_they_would_in_the_pipeline() {
        let order = demo_case("ok_us_single");
        assert_eq!(chosen(&demo_preview(&order, Inputs::default())), vec!["northwind-us"]);
        let at = Utc::now();

        // An earlier failure at northwind-us.
        let mut inputs = Inputs::default();
        inputs.exclude("northwind-us:ack_deadline_missed", at).unwrap();
        let p = demo_preview(&order, inputs);
        assert_eq!(chosen(&p), vec!["pacific-au"]);
        assert_eq!(to_json(&p)["inputs"]["excluded"][0]["code"], "ack_deadline_missed");
        let mut bad = Inputs::default();
        assert!(bad.exclude("northwind-us:tired", at).unwrap_err().contains("rejected_earlier"));

        // Other orders hold all of northwind-us's units.
        let mut inputs = Inputs::default();
        let held = json!([{"holder": "o-other-1/1@northwind-us", "sku": "TEE-BLK-M", "supplier_id": "northwind-us",
                           "quantity": 140, "at": "2026-11-20T14:00:00Z"}]);
        inputs.read_reservations("held.json", &held.to_string()).unwrap();
        assert_eq!(chosen(&demo_preview(&order, inputs)), vec!["pacific-au"]);
        let mut bad = Inputs::default();
        let typo = json!([{"holder": "h", "sku": "TEE-BLK-M", "supplier_id": "northwind-us", "qty": 1, "at": "2026-11-20T14:00:00Z"}]);
        assert!(bad.read_reservations("typo.json", &typo.to_string()).unwrap_err().contains("[0].qty: unknown field"));

        // Measured outcomes: northwind-us answering half its orders loses reliability.
        let reliability = |p: &Preview| {
            p.routed
                .decision
                .candidates
                .iter()
                .find(|c| c.supplier_id.as_str() == "northwind-us")
                .unwrap()
                .figures
                .as_ref()
                .unwrap()
                .reliability
        };
        let before = reliability(&demo_preview(&order, Inputs::default()));
        let mut inputs = Inputs::default();
        inputs
            .read_outcomes("o.json", &json!({"northwind-us": {"answered": 400, "accepted": 200}}).to_string())
            .unwrap();
        let after = reliability(&demo_preview(&order, inputs));
        assert!(after < before, "{after} < {before}");
        let mut bad = Inputs::default();
        let e = bad.read_outcomes("o.json", &json!({"northwind-us": {"answerd": 4}}).to_string()).unwrap_err();
        assert!(e.contains("northwind-us.answerd: unknown field"), "{e}");
    }

    /// A stored record previews as its reroute: the lines its live purchase orders leave, its
    /// exclusions, and its own reservations not counted against it.
    #[test]
    fn a_stored_record_previews_its_reroute() {
        use dropline_domain::order::{OrderStatus, Receipt, RoutingExclusion};
        let order = demo_case("ok_us_single");
        let now = Utc::now();
        let mut record = OrderRecord::received(
            order,
            Receipt { delivery_id: None, topic: "orders/create".into(), received_at: now },
        );
        record.transition(OrderStatus::Validated, "validate", "", now).unwrap();
        record.routing_exclusions.push(RoutingExclusion {
            supplier_id: dropline_domain::primitives::ids::SupplierId::new("northwind-us").unwrap(),
            code: "rejected_earlier".into(),
            reason: "out of stock".into(),
            po: format!("{}-1", record.id),
            at: now,
        });
        let text = serde_json::to_string_pretty(&record).unwrap();
        let subject = read_subject("record.json", &text).unwrap();
        assert!(subject.record.is_some());
        let mut inputs = Inputs::of_record(subject.record.as_ref().unwrap());
        // Its own units at pacific-au (held by its earlier attempt) are its to use.
        let own = json!([{"holder": format!("{}-1/1@pacific-au", record.id), "sku": "TEE-BLK-M", "supplier_id": "pacific-au",
                          "quantity": 45, "at": "2026-11-20T14:00:00Z"}]);
        inputs.read_reservations("own.json", &own.to_string()).unwrap();
        let p = demo_preview(&subject.order, inputs);
        assert_eq!(chosen(&p), vec!["pacific-au"]);
        assert_eq!(to_json(&p)["inputs"]["order_id"], json!(record.id.as_str()));
    }
}
