//! The engine on a small catalog: constraints named, scores, rules, splits, ties, reroutes.

use super::*;
use crate::catalog::{CatalogDocument, Offer, Supplier};
use crate::findings::FindingCode;
use crate::order::RoutingExclusion;
use crate::performance::{Outcomes, expected_performance, reliability};
use crate::primitives::ids::Sku;
use crate::primitives::money::Money;
use crate::routing::config::RoutingConfig;
use crate::testing::{sample_order, view_of};
use chrono::NaiveDate;
use serde_json::{Value, json};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}
fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
fn sid(s: &str) -> SupplierId {
    SupplierId::new(s).unwrap()
}
fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// Three US suppliers: `atlas` (cheap shipping, one day), `bolt` (same day, dear shipping),
/// `crafty` (made to order, ten days). SKU A: all three; B: atlas, bolt; C: bolt, crafty.
fn config() -> Value {
    json!({
        "version": 7,
        "zones": {"us": ["US"], "eu": ["DE"]},
        "suppliers": [
            {"id": "atlas", "tier": "one_day", "calendar": {"time_zone": "America/Chicago", "cutoff": "14:00"},
             "ships_from": "US", "destinations": ["us"],
             "services": {"standard": {"us": {"transit": [4, 6], "cost": "4.00"}},
                          "expedited": {"us": {"transit": [1, 2], "cost": "18.00"}}}},
            {"id": "bolt", "tier": "same_day", "calendar": {"time_zone": "America/New_York", "cutoff": "15:00"},
             "ships_from": "US", "destinations": ["us"],
             "services": {"standard": {"us": {"transit": [2, 3], "cost": "14.00"}},
                          "expedited": {"us": {"transit": [1, 1], "cost": "20.00"}}},
             "order_fee": "1.00"},
            {"id": "crafty", "tier": "made_to_order", "handling_days": 10,
             "calendar": {"time_zone": "America/Los_Angeles", "cutoff": "12:00"},
             "ships_from": "US", "destinations": ["us"],
             "services": {"standard": {"us": {"transit": [3, 5], "cost": "3.00"}}}}
        ],
        "policy": {"ship_within_hours": {"expedited": 48}}
    })
}

fn catalog() -> CatalogDocument {
    let offer = |sku: &str, sup: &str, cost: &str| {
        Offer::new(Sku::new(sku).unwrap(), sid(sup), format!("{sup}-{sku}"), 10, money(cost))
    };
    let supplier = |id: &str| Supplier::new(sid(id), id, vec!["US".into()], format!("sim://{id}"));
    CatalogDocument {
        suppliers: vec![supplier("atlas"), supplier("bolt"), supplier("crafty"), supplier("ghost")],
        offers: vec![
            offer("A", "atlas", "10.00"),
            offer("A", "bolt", "10.00"),
            offer("A", "crafty", "9.00"),
            offer("B", "atlas", "5.00"),
            offer("B", "bolt", "5.00"),
            offer("C", "bolt", "7.00"),
            offer("C", "crafty", "6.00"),
        ],
    }
}

/// A US order for the given SKUs (one unit each), placed Friday 20 Nov 2026 14:00 UTC
/// (08:00 in Chicago, before every cut-off).
fn order(skus: &[&str]) -> CanonicalOrder {
    let mut o = sample_order();
    let template = o.lines[0].clone();
    o.lines = skus.iter().enumerate().map(|(i, s)| LineItemExt::with(&template, &(i + 1).to_string(), s)).collect();
    o
}

trait LineItemExt {
    fn with(&self, id: &str, sku: &str) -> Self;
}
impl LineItemExt for crate::order::LineItem {
    fn with(&self, id: &str, sku: &str) -> Self {
        let mut l = self.clone();
        l.line_id = id.into();
        l.sku = Some(Sku::new(sku).unwrap());
        l.title = format!("Item {sku}");
        l.quantity = 1;
        l
    }
}

struct Case {
    order: CanonicalOrder,
    config: Value,
    catalog: CatalogDocument,
    level: ServiceLevel,
    excluded: Vec<RoutingExclusion>,
    waived: Vec<FindingCode>,
    now: DateTime<Utc>,
    measured: Measured,
}

fn case(skus: &[&str]) -> Case {
    Case {
        order: order(skus),
        config: config(),
        catalog: catalog(),
        level: ServiceLevel::Standard,
        excluded: Vec::new(),
        waived: Vec::new(),
        now: utc("2026-11-20T14:00:00Z"),
        measured: Measured::new(),
    }
}

impl Case {
    fn run(&self) -> Routed {
        let cfg = RoutingConfig::parse("routing.json", &self.config.to_string()).unwrap();
        let lines: Vec<usize> = (0..self.order.lines.len()).collect();
        let req = Request {
            order: &self.order,
            lines: &lines,
            service_level: self.level,
            excluded: &self.excluded,
            waived: &self.waived,
            now: self.now,
            unknown_stock: UnknownStock::Hold,
            measured: &self.measured,
        };
        route(&req, &view_of(&self.catalog), &cfg)
    }

    fn exclude(&mut self, supplier: &str) {
        self.excluded.push(RoutingExclusion {
            supplier_id: sid(supplier),
            code: "rejected_earlier".into(),
            reason: "purchase order 1001-1: gone (INVENTORY_OUT_OF_STOCK)".into(),
            po: "1001-1".into(),
            at: self.now,
        });
    }

    fn supplier(&mut self, id: &str) -> &mut Value {
        let list = self.config["suppliers"].as_array_mut().unwrap();
        list.iter_mut().find(|s| s["id"] == id).unwrap()
    }
}

fn chosen(r: &Routed) -> Vec<String> {
    match &r.result {
        Ok(pos) => pos.iter().map(|p| p.supplier_id.to_string()).collect(),
        Err(h) => panic!("held: {h:?}"),
    }
}

fn holds(r: &Routed) -> &[HoldReason] {
    r.result.as_ref().err().map(Vec::as_slice).unwrap_or_else(|| panic!("routed: {:?}", r.decision.outcome))
}

fn ruled<'a>(r: &'a Routed, supplier: &str) -> Vec<&'a str> {
    let c = r.decision.candidates.iter().find(|c| c.supplier_id.as_str() == supplier).unwrap();
    c.ruled_out.iter().map(|x| x.constraint.as_str()).collect()
}

#[test]
fn the_best_score_wins_and_every_candidate_is_explained() {
    let r = case(&["A", "B"]).run();
    assert_eq!(chosen(&r), vec!["atlas"]);
    let d = &r.decision;
    assert_eq!(
        (d.config_version, d.service_level, d.split, d.speed_first),
        (7, ServiceLevel::Standard, SplitPolicy::Preferred, false)
    );
    let ids: Vec<&str> = d.candidates.iter().map(|c| c.supplier_id.as_str()).collect();
    assert_eq!(ids, vec!["atlas", "bolt", "crafty"], "every supplier with an offer, in id order");
    // crafty fills A but doesn't carry B: it is shown with its figures and the constraint.
    let crafty = &d.candidates[2];
    assert_eq!(crafty.fills, vec!["1"]);
    assert_eq!(crafty.ruled_out[0].line.as_deref(), Some("2"));
    assert_eq!(crafty.ruled_out[0].constraint, "not_carried");
    let atlas = d.candidates[0].figures.as_ref().unwrap();
    assert_eq!(
        (atlas.item_cost, atlas.shipping, atlas.fee, atlas.landed_cost),
        (money("15"), money("4"), money("0"), money("19"))
    );
    // Plans: atlas 19.00 delivered by 1 Dec; bolt 30.00 by 25 Nov. Cost weighs most.
    assert_eq!(d.plans.len(), 2);
    let (a, b) = (&d.plans[0], &d.plans[1]);
    assert_eq!((a.landed_cost, a.latest_delivery), (money("19"), date("2026-12-01")));
    assert_eq!((b.landed_cost, b.latest_delivery), (money("30"), date("2026-11-25")));
    assert_eq!((a.cost_score, a.speed_score), (1.0, 0.454545));
    assert_eq!((b.cost_score, b.speed_score), (0.633333, 1.0));
    assert_eq!(a.score, 0.863636);
    assert_eq!(b.score, 0.816667);
    assert_eq!(d.outcome, "routed: atlas");
}

#[test]
fn the_purchase_order_carries_its_promise() {
    let r = case(&["A", "B"]).run();
    let po = &r.result.as_ref().unwrap()[0];
    let p = po.promise.as_ref().unwrap();
    // Friday 08:00 in Chicago, before the 14:00 cut-off: processed Friday, one day of handling
    // ships by the end of Monday (CST); 4-6 business days of transit.
    assert_eq!(p.ship_by, utc("2026-11-24T05:59:59Z"));
    assert_eq!((p.delivery_earliest, p.delivery_latest), (date("2026-11-27"), date("2026-12-01")));
    assert_eq!(p.ack_by, utc("2026-11-21T14:00:00Z"), "24 hours to acknowledge by default");
    assert_eq!(po.lines.iter().map(|l| l.supplier_sku.as_str()).collect::<Vec<_>>(), vec!["atlas-A", "atlas-B"]);

    // After the cut-off on Friday (15:30 in Chicago), the weekend waits: processed Monday.
    let mut c = case(&["A", "B"]);
    c.now = utc("2026-11-20T21:30:00Z");
    let r = c.run();
    let p = r.result.as_ref().unwrap()[0].promise.clone().unwrap();
    assert_eq!(p.ship_by, utc("2026-11-25T05:59:59Z"), "end of Tuesday in Chicago");
    assert_eq!(p.delivery_latest, date("2026-12-02"));
}

#[test]
fn weights_preference_and_reliability_change_the_choice() {
    let mut c = case(&["A", "B"]);
    c.config["policy"]["weights"] = json!({"cost": 0.1, "speed": 0.9});
    assert_eq!(chosen(&c.run()), vec!["bolt"], "speed weighs most");

    let mut c = case(&["A", "B"]);
    c.supplier("atlas")["preference"] = json!(3);
    assert_eq!(chosen(&c.run()), vec!["bolt"], "a multiplier above 1 pushes a supplier down");

    let mut c = case(&["A", "B"]);
    c.supplier("atlas")["performance"] = json!({"acceptance_rate": 0.5, "on_time_ship_rate": 0.9,
        "tracking_upload_hours": 24, "cancellation_rate": 0.02, "samples": 1000});
    let r = c.run();
    assert_eq!(chosen(&r), vec!["bolt"], "half its orders rejected");
    assert!(r.decision.plans[1].reliability_score < 0.6);
}

#[test]
fn measured_outcomes_update_the_prior() {
    let prior = crate::performance::Performance::PRIOR;
    assert_eq!(expected_performance(&prior, &Outcomes::default()), prior, "nothing measured: the prior");
    let bad = Outcomes { answered: 20, accepted: 10, ..Outcomes::default() };
    let p = expected_performance(&prior, &bad);
    assert!((p.acceptance_rate - (0.95 * 20.0 + 10.0) / 40.0).abs() < 1e-12, "{}", p.acceptance_rate);
    assert_eq!(p.samples, 40);
    let many = Outcomes { answered: 2000, accepted: 2000, shipped: 2000, shipped_on_time: 2000, ..Outcomes::default() };
    let p = expected_performance(&prior, &many);
    assert!(p.acceptance_rate > 0.999 && p.on_time_ship_rate > 0.99, "the data outweighs the prior");
    assert!(reliability(&p) > reliability(&prior));
}

#[test]
fn what_the_pipeline_measured_changes_the_choice() {
    let c = case(&["A", "B"]);
    assert_eq!(chosen(&c.run()), vec!["atlas"], "atlas is cheaper, and both start from the prior");
    // atlas answered 60 purchase orders and accepted 20; it shipped late and uploaded late.
    let mut c = case(&["A", "B"]);
    c.measured.insert(
        sid("atlas"),
        Outcomes {
            answered: 60,
            accepted: 20,
            shipped: 20,
            shipped_on_time: 8,
            tracking_hours_total: 20 * 72,
            ..Outcomes::default()
        },
    );
    let r = c.run();
    assert_eq!(chosen(&r), vec!["bolt"], "the measured outcomes outweigh atlas's lower cost");
    let atlas = r.decision.candidates.iter().find(|x| x.supplier_id.as_str() == "atlas").unwrap();
    let bolt = r.decision.candidates.iter().find(|x| x.supplier_id.as_str() == "bolt").unwrap();
    assert!(atlas.figures.as_ref().unwrap().reliability < 0.3 * bolt.figures.as_ref().unwrap().reliability);
    // Good measured outcomes for atlas keep it first.
    let mut c = case(&["A", "B"]);
    c.measured.insert(
        sid("atlas"),
        Outcomes { answered: 60, accepted: 60, shipped: 60, shipped_on_time: 60, ..Outcomes::default() },
    );
    assert_eq!(chosen(&c.run()), vec!["atlas"]);
}

#[test]
fn ties_are_broken_by_supplier_id_whatever_the_configuration_order() {
    let twin = |c: &mut Case, id: &str| {
        let mut s = c.supplier("atlas").clone();
        s["id"] = json!(id);
        c.config["suppliers"].as_array_mut().unwrap().insert(0, s);
        for sku in ["A", "B"] {
            let o =
                c.catalog.offers.iter().find(|o| o.supplier_id.as_str() == "atlas" && o.sku.as_str() == sku).unwrap();
            let mut o = o.clone();
            o.supplier_id = sid(id);
            c.catalog.offers.insert(0, o);
        }
        c.catalog.suppliers.push(Supplier::new(sid(id), id, vec!["US".into()], "sim://twin"));
    };
    let mut c = case(&["A", "B"]);
    twin(&mut c, "zeta");
    twin(&mut c, "alpha");
    let r = c.run();
    assert_eq!(chosen(&r), vec!["alpha"], "atlas, alpha and zeta score the same: alphabetical");
    assert_eq!(r.decision.plans[0].score, r.decision.plans[1].score);
    assert_eq!(c.run().decision, r.decision, "deterministic");
    c.config["suppliers"].as_array_mut().unwrap().reverse();
    c.catalog.offers.reverse();
    assert_eq!(chosen(&c.run()), vec!["alpha"]);
}

#[test]
fn constraints_each_rule_a_supplier_out_by_name() {
    // Not in the routing configuration.
    let mut c = case(&["A"]);
    c.catalog.offers.push(Offer::new(Sku::new("A").unwrap(), sid("ghost"), "g-A", 10, money("1")));
    let r = c.run();
    assert_eq!(ruled(&r, "ghost"), vec!["not_configured"]);
    assert_eq!(chosen(&r), vec!["crafty"], "ghost's 1.00 doesn't count");

    // Rejected earlier.
    let mut c = case(&["A", "B"]);
    c.exclude("atlas");
    let r = c.run();
    assert_eq!(ruled(&r, "atlas"), vec!["rejected_earlier"]);
    assert_eq!(chosen(&r), vec!["bolt"]);

    // A destination in no zone, and a zone not served.
    let mut c = case(&["A"]);
    c.order.shipping_address.as_mut().unwrap().country = "JP".into();
    c.catalog.suppliers.iter_mut().for_each(|s| s.ships_to.push("JP".into()));
    let r = c.run();
    assert_eq!(ruled(&r, "atlas"), vec!["destination_not_served"]);
    assert_eq!(holds(&r)[0].code, "no_supplier_for_line");
    assert!(holds(&r)[0].message.contains("\"JP\" is in no zone"), "{}", holds(&r)[0].message);
    let mut c = case(&["A"]);
    c.order.shipping_address.as_mut().unwrap().country = "DE".into();
    c.catalog.suppliers.iter_mut().for_each(|s| s.ships_to.push("DE".into()));
    assert!(holds(&c.run())[0].message.contains("atlas: does not deliver to zone eu (destination_not_served)"));

    // The service level paid for.
    let mut c = case(&["A"]);
    c.level = ServiceLevel::Overnight;
    let r = c.run();
    assert_eq!(ruled(&r, "bolt"), vec!["service_level_not_offered"]);
    assert!(holds(&r)[0].message.contains("no overnight service to zone us"));

    // Stock after buffer and reservations (validation's refusal).
    let mut c = case(&["A", "B"]);
    c.catalog.offers[0].stock = 0;
    let r = c.run();
    assert_eq!(ruled(&r, "atlas"), vec!["out_of_stock"]);
    assert_eq!(chosen(&r), vec!["bolt"]);
}

#[test]
fn expedited_orders_need_a_supplier_that_ships_in_time_and_go_by_speed() {
    let mut c = case(&["A", "B"]);
    c.level = ServiceLevel::Expedited;
    let r = c.run();
    assert!(r.decision.speed_first);
    // Must ship within 48 h of Friday 14:00 UTC: atlas (Monday) can't; bolt ships Friday.
    assert_eq!(ruled(&r, "atlas"), vec!["ship_by_unmet"]);
    assert_eq!(chosen(&r), vec!["bolt"]);

    // With bolt gone, the only obstacle left is the promise: the hold says so, and an
    // operator's override turns it into a warning.
    c.exclude("bolt");
    let r = c.run();
    assert_eq!(holds(&r)[0].code, "ship_by_unmet");
    c.waived = vec![FindingCode::ShipByUnmet];
    let r = c.run();
    assert_eq!(chosen(&r), vec!["atlas"]);
    assert!(r.warnings.iter().any(|w| w.code == "ship_by_unmet"));
}

/// Issue 11, defect 3: an expedited order that must ship within hours got the default 24 hours
/// to be acknowledged, so a silent supplier was replaced only after the promise was broken.
#[test]
fn the_acknowledgment_deadline_leaves_time_to_reroute_before_the_ship_by() {
    let mut c = case(&["A", "B"]);
    c.level = ServiceLevel::Expedited;
    let r = c.run();
    assert_eq!(chosen(&r), vec!["bolt"]);
    let p = r.result.as_ref().unwrap()[0].promise.clone().unwrap();
    let now = c.now;
    assert!(p.ack_by < p.ship_by, "ack by {} after ship by {}", p.ack_by, p.ship_by);
    assert!(p.ack_by <= now + (p.ship_by - now) / 2, "half the time left to reroute: {} / {}", p.ack_by, p.ship_by);
    assert!(p.ack_by >= now + Duration::hours(1), "never sooner than escalation looks");
    assert!(!p.no_time_to_reroute);
    assert!(!r.warnings.iter().any(|w| w.code == "no_time_to_reroute"));
}

/// Issue 11, defect 3 (rest): when the ship-by is too close for any acknowledgment deadline to
/// leave half the time to reroute, the decision says so instead of promising a reroute.
#[test]
fn a_ship_by_too_close_to_reroute_is_flagged() {
    let mut c = case(&["A", "B"]);
    c.level = ServiceLevel::Expedited;
    // bolt takes orders until 23:30 New York time and ships them that day: at 22:45 the ship-by
    // (23:59:59) is 75 minutes away, and the one-hour floor is past halfway.
    c.config["suppliers"][1]["calendar"]["cutoff"] = json!("23:30");
    c.now = utc("2026-11-21T03:45:00Z");
    let r = c.run();
    assert_eq!(chosen(&r), vec!["bolt"]);
    let p = r.result.as_ref().unwrap()[0].promise.clone().unwrap();
    assert!(p.no_time_to_reroute, "{p:?}");
    assert_eq!(p.ack_by, c.now + Duration::hours(1));
    let w = r.warnings.iter().find(|w| w.code == "no_time_to_reroute").expect("warned");
    assert!(!w.holds(), "a warning, not a hold");
    assert!(serde_json::to_value(&p).unwrap()["no_time_to_reroute"] == serde_json::json!(true));
}

#[test]
fn rules_pin_exclude_and_prioritize_by_channel_destination_and_tags() {
    // A VIP customer tag routes by speed first.
    let mut c = case(&["A", "B"]);
    c.config["rules"] = json!([{"name": "vip fast", "when": {"customer_tags": ["vip"]}, "priority": "speed"}]);
    assert_eq!(chosen(&c.run()), vec!["atlas"], "not a VIP");
    c.order.customer_tags = vec!["VIP".into()];
    let r = c.run();
    assert_eq!(chosen(&r), vec!["bolt"]);
    assert_eq!(r.decision.rules, vec!["vip fast"]);

    // Exclude by channel and destination.
    let mut c = case(&["A", "B"]);
    c.config["rules"] =
        json!([{"name": "no atlas", "when": {"channels": ["shopify"], "destinations": ["us"]}, "exclude": ["atlas"]}]);
    let r = c.run();
    assert_eq!(ruled(&r, "atlas"), vec!["excluded_by_rule", "excluded_by_rule"]);
    assert_eq!(chosen(&r), vec!["bolt"]);
    c.config["rules"][0]["when"]["channels"] = json!(["woocommerce"]);
    assert_eq!(chosen(&c.run()), vec!["atlas"], "a rule for another channel");

    // Pin by product tag: only the tagged line is pinned.
    let mut c = case(&["A", "C"]);
    c.config["rules"] = json!([{"name": "fragile via bolt", "when": {"product_tags": ["fragile"]}, "pin": ["bolt"]}]);
    assert_eq!(chosen(&c.run()), vec!["crafty"], "no item is tagged yet");
    for o in c.catalog.offers.iter_mut().filter(|o| o.sku.as_str() == "C") {
        o.tags = vec!["Fragile".into()];
    }
    let r = c.run();
    assert_eq!(ruled(&r, "crafty"), vec!["not_pinned"]);
    assert_eq!(r.decision.candidates[2].fills, vec!["1"], "crafty may still fill A");
    assert_eq!(chosen(&r), vec!["bolt"]);
}

#[test]
fn split_policies() {
    let cost_only = json!({"cost": 1, "speed": 0, "reliability": 0, "preference": 0});
    // B: atlas, bolt. C: bolt, crafty. bolt alone costs 27.00; atlas + crafty 18.00.
    let mut c = case(&["B", "C"]);
    c.config["policy"]["weights"] = cost_only.clone();
    assert_eq!(chosen(&c.run()), vec!["bolt"], "preferred: one supplier when one can");

    c.config["policy"]["split"] = json!("allowed");
    let r = c.run();
    assert_eq!(chosen(&r), vec!["atlas", "crafty"], "allowed: the cheaper split");
    assert_eq!((r.decision.plans[0].landed_cost, r.decision.plans[0].extra_cost), (money("18"), money("4")));

    // The split adds 4.00 of shipping beyond the cheapest shipment: above a 3.00 limit it holds.
    c.config["policy"]["split_extra_cost_limit"] = json!("3.00");
    let r = c.run();
    assert_eq!(holds(&r)[0].code, "split_cost_exceeds_limit");
    c.waived = vec![FindingCode::SplitCostExceedsLimit];
    assert_eq!(chosen(&c.run()), vec!["atlas", "crafty"]);

    // Without bolt nobody fills both lines.
    let mut c = case(&["B", "C"]);
    c.exclude("bolt");
    assert_eq!(chosen(&c.run()), vec!["atlas", "crafty"], "preferred: split when it must");
    c.config["policy"]["split"] = json!("required");
    let r = c.run();
    assert_eq!(holds(&r)[0].code, "split_required");
    assert!(holds(&r)[0].message.contains("atlas fills line 1; crafty fills line 2"), "{}", holds(&r)[0].message);
}

#[test]
fn splits_use_the_fewest_shipments_then_the_lowest_cost() {
    // Three lines. Without bolt: A (atlas, crafty), B (atlas), C (crafty): two shipments.
    let mut c = case(&["A", "B", "C"]);
    c.exclude("bolt");
    let r = c.run();
    assert_eq!(chosen(&r), vec!["crafty", "atlas"], "in the order of the lines they fill");
    let pos = r.result.as_ref().unwrap();
    assert_eq!(
        pos[0].lines.iter().map(|l| l.line_id.as_str()).collect::<Vec<_>>(),
        vec!["1", "3"],
        "A is cheaper at crafty"
    );
    // A fourth supplier able to take C alone, cheaper, would make three shipments: not chosen.
    let mut d = case(&["A", "B", "C"]);
    d.exclude("bolt");
    let mut dio = d.supplier("atlas").clone();
    dio["id"] = json!("dio");
    d.config["suppliers"].as_array_mut().unwrap().push(dio);
    d.catalog.offers.push(Offer::new(Sku::new("C").unwrap(), sid("dio"), "dio-C", 10, money("0.50")));
    d.catalog.suppliers.push(Supplier::new(sid("dio"), "dio", vec!["US".into()], "sim://dio"));
    let r = d.run();
    assert_eq!(r.decision.plans[0].suppliers.len(), 2);
}

#[test]
fn a_reroute_routes_only_the_lines_left() {
    let c = case(&["A", "B", "C"]);
    let cfg = RoutingConfig::parse("routing.json", &c.config.to_string()).unwrap();
    let req = Request {
        order: &c.order,
        lines: &[2],
        service_level: ServiceLevel::Standard,
        excluded: &[],
        waived: &[],
        now: c.now,
        unknown_stock: UnknownStock::Hold,
        measured: &Measured::new(),
    };
    let r = route(&req, &view_of(&c.catalog), &cfg);
    assert_eq!(r.decision.lines, vec!["3"]);
    let pos = r.result.unwrap();
    assert_eq!((pos.len(), pos[0].lines.len(), pos[0].lines[0].line_id.as_str()), (1, 1, "3"));
}
