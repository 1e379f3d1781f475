//! A supplier's stock and cost feed, CSV or JSON (the first byte chooses), applied to the demo
//! catalog's offers of one supplier.
#![no_main]
use dropline_domain::catalog::CatalogDocument;
use dropline_domain::feed::{FeedMapping, apply, read_csv, read_json};
use libfuzzer_sys::fuzz_target;

const CATALOG: &str = include_str!("../../local/demo/catalog.json");
const MAPPING: &str = r#"{"match_on":"supplier_sku","columns":{"supplier_sku":"sku","stock":"qty","cost":"price",
  "as_of":"as_of","active":"active"},"decimal_comma":false}"#;

fuzz_target!(|data: &[u8]| {
    let (Ok(doc), Ok(mapping)) =
        (CatalogDocument::parse("catalog.json", CATALOG), FeedMapping::parse("m.json", MAPPING))
    else {
        return;
    };
    let Some((kind, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let rows = if kind % 2 == 0 { read_csv(text, &mapping) } else { read_json(text, &mapping) };
    if let (Ok(rows), Some(supplier)) = (rows, doc.suppliers.first()) {
        let mut offers = doc.offers.clone();
        let as_of = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let _ = apply(&mapping, &supplier.id, &mut offers, &rows, as_of);
    }
});
