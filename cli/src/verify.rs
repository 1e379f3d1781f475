//! `dropline catalog verify`: before go-live, every store SKU that can't reach a supplier, or
//! would reach the wrong one: unmapped SKUs, ambiguous mappings, discontinued targets and
//! variant attribute mismatches, found with the same rules validation applies to orders.

use dropline_domain::catalog::{CatalogDocument, Offer};
use dropline_domain::order::{LineItem, VariantOption};
use dropline_domain::primitives::ids::Sku;
use dropline_domain::primitives::money::Money;
use dropline_domain::validation::{same_value, variant_mismatch};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A variant the store sells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreVariant {
    pub sku: String,
    pub title: String,
    pub variant_title: Option<String>,
    pub options: Vec<VariantOption>,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `unmapped`, `discontinued`, `ambiguous`, `attribute_mismatch`.
    pub kind: &'static str,
    pub sku: String,
    pub message: String,
}

/// Reads the store's variants: a JSON array of `{sku, title, variant_title, options: {name:
/// value}}`, a CSV with `sku`, `title`, `variant_title` and `option:NAME` columns, or Shopify's
/// product export CSV (`Handle`, `Variant SKU`, `Option1 Name`, `Option1 Value`, ...).
pub fn read_store_variants(name: &str, text: &str) -> Result<Vec<StoreVariant>, String> {
    if name.to_ascii_lowercase().ends_with(".json") {
        let rows: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        return rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                // A misspelled field would silently drop what the check compares.
                const FIELDS: [&str; 4] = ["sku", "title", "variant_title", "options"];
                if let Some(k) = r.as_object().and_then(|o| o.keys().find(|k| !FIELDS.contains(&k.as_str()))) {
                    return Err(format!("{name}: [{i}].{k}: unknown field; expected one of {}", FIELDS.join(", ")));
                }
                let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::trim).unwrap_or("").to_string();
                let options = r
                    .get("options")
                    .and_then(|o| o.as_object())
                    .map(|o| {
                        o.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| VariantOption { name: k.clone(), value: v.into() }))
                            .collect()
                    })
                    .unwrap_or_default();
                let sku = s("sku");
                if sku.is_empty() {
                    return Err(format!("{name}: [{i}].sku: missing"));
                }
                let vt = s("variant_title");
                Ok(StoreVariant { sku, title: s("title"), variant_title: (!vt.is_empty()).then_some(vt), options })
            })
            .collect();
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{name}: header row: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |h: &str| headers.iter().position(|x| x.eq_ignore_ascii_case(h));
    let shopify = col("Variant SKU").is_some();
    let mut out = Vec::new();
    // Shopify names a product's options on its first row only.
    let mut option_names: HashMap<String, [String; 3]> = HashMap::new();
    let mut titles: HashMap<String, String> = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("{name}: row {}: {e}", i + 2))?;
        let get = |h: &str| col(h).and_then(|c| rec.get(c)).map(str::trim).unwrap_or("").to_string();
        if shopify {
            let handle = get("Handle");
            let names = option_names.entry(handle.clone()).or_default();
            for (k, n) in names.iter_mut().enumerate() {
                let v = get(&format!("Option{} Name", k + 1));
                if !v.is_empty() {
                    *n = v;
                }
            }
            let names = names.clone();
            let title = get("Title");
            if !title.is_empty() {
                titles.insert(handle.clone(), title);
            }
            let sku = get("Variant SKU");
            if sku.is_empty() {
                continue;
            }
            let options: Vec<VariantOption> = (0..3)
                .filter_map(|k| {
                    let value = get(&format!("Option{} Value", k + 1));
                    (!value.is_empty() && value != "Default Title" && !names[k].is_empty())
                        .then(|| VariantOption { name: names[k].clone(), value })
                })
                .collect();
            let title = titles.get(&handle).cloned().unwrap_or(handle);
            out.push(StoreVariant { sku, title, variant_title: None, options });
        } else {
            let sku = get("sku");
            if sku.is_empty() {
                return Err(format!("{name}: row {}: no sku", i + 2));
            }
            let options = headers
                .iter()
                .enumerate()
                .filter_map(|(c, h)| {
                    let n = h.strip_prefix("option:")?;
                    let v = rec.get(c).map(str::trim).filter(|v| !v.is_empty())?;
                    Some(VariantOption { name: n.to_string(), value: v.to_string() })
                })
                .collect();
            let vt = get("variant_title");
            out.push(StoreVariant { sku, title: get("title"), variant_title: (!vt.is_empty()).then_some(vt), options });
        }
    }
    Ok(out)
}

/// Every problem with the catalog, for the store's variants when given (without them, only
/// the catalog's own problems: ambiguity and discontinued targets).
pub fn verify(doc: &CatalogDocument, store: Option<&[StoreVariant]>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_sku: BTreeMap<&Sku, Vec<&Offer>> = BTreeMap::new();
    for o in &doc.offers {
        by_sku.entry(&o.sku).or_default().push(o);
    }
    let finding = |kind, sku: &str, message: String| Finding { kind, sku: sku.to_string(), message };

    if let Some(store) = store {
        for v in store {
            let offers = Sku::new(v.sku.as_str()).ok().and_then(|s| by_sku.get(&s).cloned()).unwrap_or_default();
            if offers.is_empty() {
                out.push(finding("unmapped", &v.sku, format!("{} is sold but mapped to no supplier item", v.title)));
                continue;
            }
            let line = LineItem {
                line_id: String::new(),
                sku: None,
                sku_problem: None,
                product_id: None,
                variant_id: None,
                title: v.title.clone(),
                variant_title: v.variant_title.clone(),
                options: v.options.clone(),
                quantity: 1,
                unit_price: Money::ZERO,
            };
            for o in offers.iter().filter(|o| o.active) {
                if let Some(m) = variant_mismatch(&line, o) {
                    out.push(finding(
                        "attribute_mismatch",
                        &v.sku,
                        format!("{} ({}): {m}", o.supplier_id, o.supplier_sku),
                    ));
                }
            }
        }
    }
    for (sku, offers) in &by_sku {
        let inactive: Vec<String> =
            offers.iter().filter(|o| !o.active).map(|o| format!("{} ({})", o.supplier_id, o.supplier_sku)).collect();
        if !inactive.is_empty() {
            let all = inactive.len() == offers.len();
            out.push(finding(
                "discontinued",
                sku.as_str(),
                format!(
                    "mapped to discontinued item(s) {}{}",
                    inactive.join(", "),
                    if all { ": no active offer left, orders will hold" } else { "" }
                ),
            ));
        }
        // Two active offers that say different things about one attribute can't both be the
        // variant the store sells.
        let active: Vec<&&Offer> = offers.iter().filter(|o| o.active).collect();
        for (i, a) in active.iter().enumerate() {
            for b in &active[i + 1..] {
                for (name, va) in &a.attributes {
                    let same_name = b.attributes.iter().find(|(n, _)| same_value(n, name));
                    if let Some((_, vb)) = same_name
                        && !same_value(vb, va)
                    {
                        out.push(finding(
                            "ambiguous",
                            sku.as_str(),
                            format!(
                                "{} says {name} {va:?}, {} says {vb:?}: which variant is it?",
                                a.supplier_id, b.supplier_id
                            ),
                        ));
                    }
                }
            }
        }
    }
    // One supplier item behind several store SKUs: at most one of them is right.
    let mut items: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for o in doc.offers.iter().filter(|o| o.active) {
        items.entry((o.supplier_id.as_str(), o.supplier_sku.as_str())).or_default().push(o.sku.as_str());
    }
    for ((supplier, item), skus) in items.into_iter().filter(|(_, s)| s.len() > 1) {
        for sku in &skus {
            out.push(finding(
                "ambiguous",
                sku,
                format!("{supplier} item {item} is mapped from {} store SKUs: {}", skus.len(), skus.join(", ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropline_domain::testing::sample_catalog_document;

    #[test]
    fn finds_every_kind_of_problem() {
        let mut doc = sample_catalog_document();
        doc.offers[0].attributes.insert("size".into(), "M".into()); // TEE-BLK-M at acme-us
        doc.offers[2].attributes.insert("color".into(), "White".into()); // MUG-WHT at beta-eu
        doc.offers[3].attributes.insert("Color".into(), "Black".into()); // MUG-WHT at acme-us
        doc.offers[1].supplier_sku = doc.offers[0].supplier_sku.clone(); // hoodie -> the tee's item
        let store = read_store_variants(
            "variants.csv",
            "sku,title,option:Size,option:Color\nTEE-BLK-M,Tee,L,Black\nHOODIE-GRY-L,Hoodie,,\nBEANIE,Beanie,,\nOLD-1,Old,,\n",
        )
        .unwrap();
        let findings = verify(&doc, Some(&store));
        let mut got: Vec<(&str, &str)> = findings.iter().map(|f| (f.kind, f.sku.as_str())).collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("ambiguous", "HOODIE-GRY-L"),
                ("ambiguous", "MUG-WHT"),
                ("ambiguous", "TEE-BLK-M"),
                ("attribute_mismatch", "TEE-BLK-M"),
                ("discontinued", "OLD-1"),
                ("unmapped", "BEANIE"),
            ]
        );
        assert!(verify(&sample_catalog_document(), None).iter().all(|f| f.kind == "discontinued"));
    }

    #[test]
    fn reads_shopify_product_exports() {
        let csv = "Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Variant SKU\n\
                   tee,Classic Tee,Size,M,Color,Black,TEE-BLK-M\n\
                   tee,,,L,,Black,TEE-BLK-L\n\
                   mug,Mug,Title,Default Title,,,MUG-WHT\n";
        let v = read_store_variants("products_export.csv", csv).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].title, "Classic Tee");
        assert_eq!(
            v[1].options,
            vec![
                VariantOption { name: "Size".into(), value: "L".into() },
                VariantOption { name: "Color".into(), value: "Black".into() }
            ]
        );
        assert!(v[2].options.is_empty());
        let j = read_store_variants("v.json", r#"[{"sku": "A", "options": {"Size": "S"}}]"#).unwrap();
        assert_eq!(j[0].options[0].value, "S");
        assert!(read_store_variants("v.json", r#"[{"title": "no sku"}]"#).unwrap_err().contains("[0].sku"));
        // Issue 11, defect 5: a misspelled field is refused by name, not dropped.
        let e = read_store_variants("v.json", r#"[{"sku": "A", "variant_tite": "S"}]"#).unwrap_err();
        assert!(e.contains("[0].variant_tite: unknown field"), "{e}");
    }
}
