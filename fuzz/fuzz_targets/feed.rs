//! A supplier's stock and cost feed, CSV or JSON (the first byte chooses), applied to the demo
//! catalog's offers of one supplier.
#![no_main]
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::feed::{FeedMapping, apply, read_csv, read_json};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const CATALOG: &str = include_str!("../../local/demo/catalog.json");
const MAPPING: &str = r#"{"match_on":"supplier_sku","columns":{"supplier_sku":"sku","stock":"qty","cost":"price",
  "as_of":"as_of","active":"active"},"decimal_comma":false}"#;

/// The catalog and mapping are the same for every input: read once, not per execution (reading
/// the demo catalog took most of each run's time).
fn fixtures() -> Option<&'static (CatalogDocument, FeedMapping)> {
    static FIXTURES: OnceLock<Option<(CatalogDocument, FeedMapping)>> = OnceLock::new();
    FIXTURES
        .get_or_init(|| {
            Some((CatalogDocument::parse("catalog.json", CATALOG).ok()?, FeedMapping::parse("m.json", MAPPING).ok()?))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some((doc, mapping)) = fixtures() else { return };
    let Some((kind, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let rows = if kind % 2 == 0 { read_csv(text, mapping) } else { read_json(text, mapping) };
    if let (Ok(rows), Some(supplier)) = (rows, doc.suppliers.first()) {
        let mut offers = doc.offers.clone();
        let as_of = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let _ = apply(mapping, &supplier.id, &mut offers, &rows, as_of);
    }
});
