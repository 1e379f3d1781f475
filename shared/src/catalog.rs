//! Suppliers and what they offer for each store SKU.

use crate::ids::{Sku, SupplierId};
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplier {
    pub id: SupplierId,
    pub name: String,
    /// ISO 3166-1 alpha-2 destination countries served.
    pub ships_to: Vec<String>,
    /// Where purchase orders go: an `https://` URL, or `sim://<name>` for the simulated supplier.
    pub endpoint: String,
}

impl Supplier {
    pub fn ships_to(&self, country: &str) -> bool {
        self.ships_to.iter().any(|c| c.eq_ignore_ascii_case(country))
    }
}

/// One supplier's offer for a store SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub sku: Sku,
    pub supplier_id: SupplierId,
    pub supplier_sku: String,
    /// Units available at the last stock snapshot.
    pub stock: u32,
    pub cost: Money,
    /// False once the supplier discontinued the item.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// The catalog as one JSON document (the demo's bundled catalog, `dropline catalog load`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogDocument {
    pub suppliers: Vec<Supplier>,
    pub offers: Vec<Offer>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl CatalogDocument {
    /// Parses and checks a catalog document: every offer names a known supplier, no supplier is
    /// listed twice, no (SKU, supplier) pair is offered twice.
    pub fn parse(file: &str, text: &str) -> Result<Self, CatalogError> {
        let invalid = |message: String| CatalogError::Invalid { file: file.to_string(), message };
        let de = &mut serde_json::Deserializer::from_str(text);
        let doc: CatalogDocument =
            serde_path_to_error::deserialize(de).map_err(|e| invalid(format!("{}: {}", e.path(), e.inner())))?;
        let mut seen = std::collections::HashSet::new();
        for (i, s) in doc.suppliers.iter().enumerate() {
            if !seen.insert(&s.id) {
                return Err(invalid(format!("suppliers[{i}].id: supplier {} listed twice", s.id)));
            }
        }
        for (i, s) in doc.suppliers.iter().enumerate() {
            if !endpoint_allowed(&s.endpoint) {
                return Err(invalid(format!(
                    "suppliers[{i}].endpoint: {:?} must be an https:// URL (http:// only on loopback, sim:// in the demo)",
                    s.endpoint
                )));
            }
        }
        let mut pairs = std::collections::HashSet::new();
        for (i, o) in doc.offers.iter().enumerate() {
            if !seen.contains(&o.supplier_id) {
                return Err(invalid(format!("offers[{i}].supplier_id: unknown supplier {}", o.supplier_id)));
            }
            if !pairs.insert((&o.sku, &o.supplier_id)) {
                return Err(invalid(format!("offers[{i}]: {} offered twice by {}", o.sku, o.supplier_id)));
            }
        }
        Ok(doc)
    }
}

/// Purchase orders carry customers' addresses: only TLS, except to this machine and the demo's
/// in-process simulator.
pub fn endpoint_allowed(endpoint: &str) -> bool {
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
    endpoint.starts_with("https://")
        || endpoint.starts_with("sim://")
        || loopback
            .iter()
            .any(|p| endpoint.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/'])))
}

/// The part of the catalog one order needs: the offers for its SKUs and the suppliers behind them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogView {
    pub offers: HashMap<Sku, Vec<Offer>>,
    pub suppliers: HashMap<SupplierId, Supplier>,
}

impl CatalogView {
    pub fn offers_for(&self, sku: &Sku) -> &[Offer] {
        self.offers.get(sku).map(Vec::as_slice).unwrap_or(&[])
    }
}
