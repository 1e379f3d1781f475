//! The JSON examples the README and docs show an operator read as what they describe (issue 11,
//! defect 6: the README's buffer example was refused). Every inline `{...}` example is JSON; the
//! ones that follow a catalog field's name read as that field; and the demo's catalog, which the
//! README points to as the format, passes the catalog's check.

use dropline_domain::catalog::{Buffer, CatalogDocument};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every inline code span that holds a JSON object, with the words just before it.
fn inline_json(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("`{") {
        let Some(len) = rest[start + 1..].find('`') else { break };
        let example = &rest[start + 1..start + 1 + len];
        let before: String = rest[..start].chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        out.push((before, example.to_string()));
        rest = &rest[start + 1 + len + 1..];
    }
    out
}

#[test]
fn every_json_example_in_the_docs_reads_as_what_it_describes() {
    let mut files = vec![root().join("README.md"), root().join("infra/README.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "md") {
            files.push(p);
        }
    }
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (before, example) in inline_json(&text) {
            let at = format!("{}: {example}", file.display());
            let value: serde_json::Value =
                serde_json::from_str(&example).unwrap_or_else(|e| panic!("{at}: not JSON: {e}"));
            if before.contains("`buffer` (") {
                serde_json::from_value::<Buffer>(value).unwrap_or_else(|e| panic!("{at}: not a buffer: {e}"));
            } else if before.contains("`attributes`") {
                serde_json::from_value::<BTreeMap<String, String>>(value)
                    .unwrap_or_else(|e| panic!("{at}: not attributes: {e}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 2, "the README's buffer and attributes examples were found");
}

#[test]
fn the_demo_catalog_the_readme_points_to_passes_the_check() {
    let path = root().join("local/demo/catalog.json");
    let text = std::fs::read_to_string(&path).expect("local/demo/catalog.json");
    CatalogDocument::parse("local/demo/catalog.json", &text).expect("the documented format");
}
