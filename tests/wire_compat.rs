//! Wire formats survive the move to three crates: what the old layout (one `dropline-shared`
//! crate) wrote reads with today's code and writes back exactly as it was. The fixtures are
//! the demo's order records and domain events as the old code serialized them
//! (`tests/fixtures/old-layout/`); the orders item layout on DynamoDB is checked in
//! `tests/contract.rs`.

use dropline_domain::order::OrderRecord;
use dropline_domain::wire::events::DomainEvent;
use dropline_domain::wire::messages::WorkMessage;
use serde_json::Value;

fn fixture(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/old-layout").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("a JSON array")
}

/// `value` with every decimal string in its shortest form: money reads as a decimal whatever its
/// scale (`"0.00"` is zero), so a value read and written again may drop trailing zeros, as it
/// always did.
fn normalized(value: &Value) -> Value {
    match value {
        Value::String(s) if is_decimal(s) => {
            let t = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s };
            Value::String(if t.is_empty() || t == "-" { "0".into() } else { t.to_string() })
        }
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
        v => v.clone(),
    }
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && parts.next().is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn order_records_of_the_old_layout_read_and_write_back_unchanged() {
    let records = fixture("orders.json");
    assert!(records.len() > 20, "the demo's orders and the extra record");
    for old in records {
        let id = old["id"].as_str().unwrap_or("?").to_string();
        let record: OrderRecord = serde_json::from_value(old.clone()).unwrap_or_else(|e| panic!("{id}: {e}"));
        let written = serde_json::to_value(&record).expect("serializes");
        assert_eq!(normalized(&written), normalized(&old), "{id} writes back as it was read");
        // And what is written reads back to the same record.
        let again: OrderRecord = serde_json::from_value(written).expect("reads back");
        assert_eq!(again, record);
    }
}

#[test]
fn the_old_fixtures_cover_what_the_aggregate_stores() {
    let records = fixture("orders.json");
    for field in ["holds", "warnings", "overrides", "purchase_orders", "routing", "routing_exclusions", "escalations"] {
        assert!(
            records.iter().any(|r| r[field].as_array().is_some_and(|a| !a.is_empty())),
            "no fixture record has {field}"
        );
    }
}

#[test]
fn domain_events_of_the_old_layout_read_and_write_back_unchanged() {
    let events = fixture("events.json");
    assert!(events.len() > 100);
    for old in events {
        let event: DomainEvent = serde_json::from_value(old.clone()).unwrap_or_else(|e| panic!("{old}: {e}"));
        assert_eq!(event.detail_type.as_str(), old["detail_type"].as_str().unwrap_or_default());
        assert_eq!(normalized(&serde_json::to_value(&event).expect("serializes")), normalized(&old));
    }
}

#[test]
fn work_messages_keep_their_shape() {
    let order = r#"{"order_id":"o_ZFGSRDHX4DP8Z8MY","cause":"ingest"}"#;
    let po = r#"{"order_id":"o_ZFGSRDHX4DP8Z8MY","po_id":"o_ZFGSRDHX4DP8Z8MY-1","cause":"route"}"#;
    for body in [order, po] {
        let m = WorkMessage::parse(body).expect("parses");
        assert_eq!(m.to_json(), body);
    }
}
