//! Supplier feeds: a supplier's stock and cost file (CSV or JSON), its columns mapped by a
//! configuration file, matched to the catalog's offers on supplier SKU, store SKU or barcode.
//! Every row either updates an offer or is rejected with its line and reason; nothing is
//! half-applied from a row.

use crate::catalog::Offer;
use crate::primitives::config_error::ConfigError;
use crate::primitives::ids::SupplierId;
use crate::primitives::money::Money;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// Which offer field a feed row names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOn {
    #[default]
    SupplierSku,
    Sku,
    Barcode,
}

/// The feed's column (CSV header, or JSON field) for each offer field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub supplier_sku: Option<String>,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub stock: Option<String>,
    pub cost: Option<String>,
    /// When the supplier counted the row's stock (RFC 3339, or `YYYY-MM-DD HH:MM:SS` in UTC).
    pub as_of: Option<String>,
    /// `true`/`false`, `1`/`0`, `yes`/`no`, `active`/`discontinued`.
    pub active: Option<String>,
}

/// How to read one supplier's feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedMapping {
    #[serde(default)]
    pub match_on: MatchOn,
    pub columns: Columns,
    /// CSV field delimiter (default `,`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Costs written with a decimal comma (`12,50`).
    #[serde(default)]
    pub decimal_comma: bool,
    /// JSON: the field holding the rows (default: the document is the array of rows).
    #[serde(default)]
    pub records: Option<String>,
}

impl FeedMapping {
    /// Parses and checks a mapping file: the match column is mapped, and stock or cost is.
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let m: FeedMapping = serde_path_to_error::deserialize(de)
            .map_err(|e| ConfigError::new(file, e.path().to_string(), e.inner().to_string()))?;
        let key = match m.match_on {
            MatchOn::SupplierSku => ("supplier_sku", &m.columns.supplier_sku),
            MatchOn::Sku => ("sku", &m.columns.sku),
            MatchOn::Barcode => ("barcode", &m.columns.barcode),
        };
        if key.1.is_none() {
            return Err(ConfigError::new(
                file,
                format!("columns.{}", key.0),
                "rows are matched on it, so it must be mapped",
            ));
        }
        if m.columns.stock.is_none() && m.columns.cost.is_none() && m.columns.active.is_none() {
            return Err(ConfigError::new(file, "columns", "map at least one of stock, cost, active"));
        }
        Ok(m)
    }
}

/// One row of a feed: its line (CSV: the file line; JSON: the index + 1) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: usize,
    pub fields: HashMap<String, String>,
}

/// Reads the rows of a CSV feed (with a header row).
pub fn read_csv(text: &str, mapping: &FeedMapping) -> Result<Vec<RawRow>, String> {
    let delimiter = u8::try_from(mapping.delimiter.unwrap_or(',')).map_err(|_| "the delimiter must be ASCII")?;
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|e| format!("header row: {e}"))?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", i + 2))?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        let fields = headers.iter().cloned().zip(record.iter().map(|v| v.trim().to_string())).collect();
        rows.push(RawRow { line, fields });
    }
    Ok(rows)
}

/// Reads the rows of a JSON feed: an array of objects (or the array under `records`).
pub fn read_json(text: &str, mapping: &FeedMapping) -> Result<Vec<RawRow>, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let rows = match &mapping.records {
        Some(field) => doc.get(field).ok_or_else(|| format!("no field {field:?} holding the rows"))?,
        None => &doc,
    };
    let rows = rows.as_array().ok_or("the rows must be a JSON array of objects")?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let obj = row.as_object().ok_or_else(|| format!("row {}: not an object", i + 1))?;
            let fields = obj
                .iter()
                .filter_map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.trim().to_string(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), v))
                })
                .collect();
            Ok(RawRow { line: i + 1, fields })
        })
        .collect()
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedReport {
    pub rows: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// (line, reason) of every row not applied.
    pub rejected: Vec<(usize, String)>,
}

fn parse_stock(v: &str) -> Result<u32, String> {
    let d = Decimal::from_str(v.trim()).map_err(|_| format!("stock {v:?} is not a number"))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(format!("stock {v:?} is negative"));
    }
    if d.fract() != Decimal::ZERO {
        return Err(format!("stock {v:?} is not a whole number"));
    }
    use rust_decimal::prelude::ToPrimitive;
    d.to_u32().ok_or_else(|| format!("stock {v:?} is too large"))
}

fn parse_cost(v: &str, decimal_comma: bool) -> Result<Money, String> {
    let t: String = v.trim().trim_start_matches(['$', '€', '£']).trim().to_string();
    // "12,50" without `decimal_comma` is a decimal comma, not twelve hundred and fifty.
    let comma_decimals = t.rsplit_once(',').is_some_and(|(_, tail)| (1..=2).contains(&tail.len()));
    if !decimal_comma && comma_decimals {
        return Err(format!("cost {v:?} has a decimal comma: set \"decimal_comma\": true in the mapping"));
    }
    let t = if decimal_comma { t.replace('.', "").replace(',', ".") } else { t.replace(',', "") };
    Money::parse(&t).map_err(|e| format!("cost {v:?}: {e}"))
}

fn parse_time(v: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|_| format!("as-of time {v:?} is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS"))
}

fn parse_active(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "active" | "available" => Ok(true),
        "false" | "0" | "no" | "n" | "inactive" | "discontinued" => Ok(false),
        _ => Err(format!("active {v:?} is not yes/no")),
    }
}

/// Applies a feed to `supplier`'s offers (others are left alone). `as_of` is the snapshot time
/// of rows without their own. A row is rejected when it names no offer, several offers, an
/// offer an earlier row already set, has a field that does not parse, or is older than the
/// offer's stored snapshot.
pub fn apply(
    mapping: &FeedMapping,
    supplier: &SupplierId,
    offers: &mut [Offer],
    rows: &[RawRow],
    as_of: DateTime<Utc>,
) -> FeedReport {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in offers.iter().enumerate().filter(|(_, o)| &o.supplier_id == supplier) {
        let key = match mapping.match_on {
            MatchOn::SupplierSku => Some(o.supplier_sku.clone()),
            MatchOn::Sku => Some(o.sku.as_str().to_string()),
            MatchOn::Barcode => o.barcode.clone(),
        };
        if let Some(k) = key.filter(|k| !k.trim().is_empty()) {
            index.entry(k.trim().to_string()).or_default().push(i);
        }
    }
    let (key_name, key_col) = match mapping.match_on {
        MatchOn::SupplierSku => ("supplier SKU", mapping.columns.supplier_sku.as_deref()),
        MatchOn::Sku => ("store SKU", mapping.columns.sku.as_deref()),
        MatchOn::Barcode => ("barcode", mapping.columns.barcode.as_deref()),
    };
    let mut report = FeedReport { rows: rows.len(), ..FeedReport::default() };
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    for row in rows {
        let field = |col: &Option<String>| col.as_deref().and_then(|c| row.fields.get(c)).filter(|v| !v.is_empty());
        let outcome = (|| -> Result<bool, String> {
            let key = key_col
                .and_then(|c| row.fields.get(c))
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("no {key_name} (column {:?})", key_col.unwrap_or("")))?;
            let i = match index.get(key.as_str()).map(Vec::as_slice) {
                None | Some([]) => return Err(format!("no offer of {supplier} has {key_name} {key:?}")),
                Some([i]) => *i,
                Some(many) => return Err(format!("{key_name} {key:?} matches {} offers of {supplier}", many.len())),
            };
            if let Some(first) = seen.get(&i) {
                return Err(format!("{key_name} {key:?} was already set by line {first}"));
            }
            let stock = field(&mapping.columns.stock).map(|v| parse_stock(v)).transpose()?;
            let cost = field(&mapping.columns.cost).map(|v| parse_cost(v, mapping.decimal_comma)).transpose()?;
            let active = field(&mapping.columns.active).map(|v| parse_active(v)).transpose()?;
            let at = field(&mapping.columns.as_of).map(|v| parse_time(v)).transpose()?.unwrap_or(as_of);
            let o = &mut offers[i];
            if stock.is_some()
                && let Some(stored) = o.stock_as_of
                && at < stored
            {
                return Err(format!(
                    "snapshot from {} is older than the stored one ({})",
                    at.to_rfc3339(),
                    stored.to_rfc3339()
                ));
            }
            seen.insert(i, row.line);
            let before = o.clone();
            if let Some(s) = stock {
                // The supplier counted at `at`: what it accepted from us after that is not in
                // its count yet, and already left our stock; it stays out.
                let since: u32 = o.settled.iter().filter(|x| x.at > at).map(|x| x.quantity).sum();
                o.stock = s.saturating_sub(since);
                o.settled.retain(|x| x.at > at);
                o.stock_as_of = Some(at);
            }
            if let Some(c) = cost {
                o.cost = c;
            }
            if let Some(a) = active {
                o.active = a;
            }
            Ok(*o != before)
        })();
        match outcome {
            Ok(true) => report.updated += 1,
            Ok(false) => report.unchanged += 1,
            Err(reason) => report.rejected.push((row.line, reason)),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_catalog_document;

    fn mapping(json: &str) -> FeedMapping {
        FeedMapping::parse("m.json", json).unwrap()
    }

    /// Defect 7 (the feed): a snapshot the supplier counted before it accepted one of our orders,
    /// imported after that acceptance settled, used to put the settled units back (oversell).
    #[test]
    fn a_snapshot_counted_before_an_acceptance_does_not_put_its_units_back() {
        let m = mapping(r#"{"columns": {"supplier_sku": "Item", "stock": "Qty", "as_of": "At"}}"#);
        let mut doc = sample_catalog_document();
        let i = doc.offers.iter().position(|o| o.supplier_id.as_str() == "acme-us").expect("an acme offer");
        let (supplier, item) = (doc.offers[i].supplier_id.clone(), doc.offers[i].supplier_sku.clone());
        doc.offers[i].stock = 10;
        let t = |h: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, h, 0, 0).single().expect("time");
        // An earlier version settled 3 units the supplier accepted at 10:00 into the snapshot.
        doc.offers[i].stock = 7;
        doc.offers[i].settled.push(crate::catalog::Settled { at: t(10), quantity: 3 });
        let row = |qty: &str, at: &str| RawRow {
            line: 2,
            fields: [("Item", item.as_str()), ("Qty", qty), ("At", at)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        // Counted at 09:30, before the acceptance: 10 there means 7 left for us.
        let report = apply(&m, &supplier, &mut doc.offers, &[row("10", "2026-11-27T09:30:00Z")], t(12));
        assert_eq!((report.updated, doc.offers[i].stock), (1, 7), "{report:?}");
        // Counted at 11:00, after it: the supplier's count already has it.
        let report = apply(&m, &supplier, &mut doc.offers, &[row("7", "2026-11-27T11:00:00Z")], t(12));
        assert_eq!((report.unchanged + report.updated, doc.offers[i].stock), (1, 7), "{report:?}");
        assert!(doc.offers[i].settled.is_empty(), "a newer count makes the memory unnecessary");
    }

    #[test]
    fn mappings_are_checked_at_load() {
        assert!(
            FeedMapping::parse("m.json", r#"{"columns": {"stock": "Qty"}}"#)
                .unwrap_err()
                .to_string()
                .contains("supplier_sku")
        );
        assert!(
            FeedMapping::parse("m.json", r#"{"columns": {"supplier_sku": "Item"}}"#)
                .unwrap_err()
                .to_string()
                .contains("at least one")
        );
        let e = FeedMapping::parse("m.json", r#"{"columns": {"supplier_sku": "Item", "qty": "Q"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.json: columns"), "{e}");
        assert!(
            FeedMapping::parse("m.json", r#"{"match_on": "isbn", "columns": {}}"#)
                .unwrap_err()
                .to_string()
                .contains("match_on")
        );
    }

    #[test]
    fn a_csv_feed_updates_matched_offers_and_rejects_the_rest_with_reasons() {
        let m = mapping(
            r#"{"match_on": "supplier_sku", "delimiter": ";", "decimal_comma": true,
                "columns": {"supplier_sku": "Item", "stock": "Qty", "cost": "Price", "active": "Status"}}"#,
        );
        let csv = "Item;Qty;Price;Status\n\
                   acme-us:TEE-BLK-M;12;4,75;active\n\
                   acme-us:HOODIE-GRY-L;20;5,00;active\n\
                   acme-us:NOPE;3;1,00;active\n\
                   acme-us:MUG-WHT;-2;1,00;active\n\
                   acme-us:OLD-1;many;1,00;active\n\
                   acme-us:TEE-BLK-M;1;1,00;active\n\
                   ;5;1,00;active\n\
                   acme-us:OLD-1;0;5,00;discontinued\n";
        let rows = read_csv(csv, &m).unwrap();
        let mut doc = sample_catalog_document();
        let now = Utc::now();
        let acme = SupplierId::new("acme-us").unwrap();
        let r = apply(&m, &acme, &mut doc.offers, &rows, now);
        // The hoodie row repeats the stored numbers but refreshes the snapshot time: updated.
        assert_eq!((r.rows, r.updated, r.unchanged), (8, 3, 0), "{:?}", r.rejected);
        let reasons: Vec<(usize, &str)> = r.rejected.iter().map(|(l, s)| (*l, s.as_str())).collect();
        assert_eq!(
            reasons,
            vec![
                (4, "no offer of acme-us has supplier SKU \"acme-us:NOPE\""),
                (5, "stock \"-2\" is negative"),
                (6, "stock \"many\" is not a number"),
                (7, "supplier SKU \"acme-us:TEE-BLK-M\" was already set by line 2"),
                (8, "no supplier SKU (column \"Item\")"),
            ]
        );
        let tee = doc.offers.iter().find(|o| o.supplier_sku == "acme-us:TEE-BLK-M").unwrap();
        assert_eq!((tee.stock, tee.cost, tee.stock_as_of), (12, Money::parse("4.75").unwrap(), Some(now)));
        let old = doc.offers.iter().find(|o| o.supplier_sku == "acme-us:OLD-1").unwrap();
        assert!(!old.active);
        let beta_mug = doc.offers.iter().find(|o| o.supplier_sku == "beta-eu:MUG-WHT").unwrap();
        assert_eq!(beta_mug.stock, 5, "another supplier's offers are left alone");
    }

    #[test]
    fn costs_with_a_decimal_comma_need_the_flag() {
        assert!(parse_cost("12,50", false).unwrap_err().to_string().contains("decimal_comma"));
        assert_eq!(parse_cost("12,50", true).unwrap(), Money::parse("12.50").unwrap());
        assert_eq!(parse_cost("1.250,00", true).unwrap(), Money::parse("1250").unwrap());
        assert_eq!(parse_cost("$1,250.00", false).unwrap(), Money::parse("1250").unwrap());
        assert_eq!(parse_stock("4000000000").unwrap(), 4_000_000_000);
        assert!(parse_stock("5000000000").is_err());
    }

    #[test]
    fn a_json_feed_matched_on_barcode_with_per_row_times() {
        let m = mapping(
            r#"{"match_on": "barcode", "records": "items",
                "columns": {"barcode": "upc", "stock": "available", "as_of": "counted_at"}}"#,
        );
        let mut doc = sample_catalog_document();
        for (o, code) in doc.offers.iter_mut().zip(["0001", "0002", "0003", "0004", "0004"]) {
            o.barcode = Some(code.into());
        }
        let t = "2026-11-20T10:00:00Z";
        let json = format!(
            r#"{{"items": [{{"upc": "0001", "available": 7, "counted_at": "{t}"}},
                         {{"upc": "0004", "available": 1}},
                         {{"upc": "0002", "available": 3, "counted_at": "2026-11-20 09:00:00"}}]}}"#
        );
        let rows = read_json(&json, &m).unwrap();
        let acme = SupplierId::new("acme-us").unwrap();
        let now = Utc::now();
        let r = apply(&m, &acme, &mut doc.offers, &rows, now);
        assert_eq!(r.updated, 2);
        assert_eq!(r.rejected, vec![(2, "barcode \"0004\" matches 2 offers of acme-us".to_string())]);
        assert_eq!(doc.offers[0].stock_as_of, Some(parse_time(t).unwrap()));
        // An older snapshot than the stored one is refused.
        let stale =
            read_json(r#"{"items": [{"upc": "0001", "available": 99, "counted_at": "2026-11-19T10:00:00Z"}]}"#, &m)
                .unwrap();
        let r = apply(&m, &acme, &mut doc.offers, &stale, now);
        assert!(r.rejected[0].1.contains("older than the stored one"), "{:?}", r.rejected);
        assert_eq!(doc.offers[0].stock, 7);
        assert!(read_json("[1, 2]", &m).is_err());
        assert!(read_json("{", &m).unwrap_err().starts_with("malformed JSON"));
    }
}
