//! Suppliers and what they offer for each store SKU.

use crate::primitives::config_error::ConfigError;
use crate::primitives::fast_map::FastMap;
use crate::primitives::ids::{Sku, SupplierId};
use crate::primitives::money::Money;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Units held back from a stock snapshot before any count as available: a fixed number and/or a
/// percentage of the snapshot (rounded up), against overselling from stale feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buffer {
    #[serde(default)]
    pub units: u32,
    /// A JSON number (`10`) or a decimal string (`"12.5"`).
    #[serde(default, deserialize_with = "number_or_string")]
    pub percent: Decimal,
}

/// A decimal written as a JSON number or as a string: operators write either.
fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Number(serde_json::Number),
    }
    let text = match Written::deserialize(d)? {
        Written::Text(t) => t,
        Written::Number(n) => n.to_string(),
    };
    let t = text.trim();
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a decimal number")))
}

impl Buffer {
    pub fn is_zero(&self) -> bool {
        self.units == 0 && self.percent.is_zero()
    }
    pub fn percent_valid(&self) -> bool {
        (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&self.percent)
    }
    /// What is left of `stock` after the buffer.
    pub fn apply(&self, stock: u32) -> u32 {
        use rust_decimal::prelude::ToPrimitive;
        if self.percent.is_zero() {
            return stock.saturating_sub(self.units);
        }
        let share = Decimal::from(stock)
            .saturating_mul(self.percent)
            .checked_div(Decimal::ONE_HUNDRED)
            .unwrap_or(Decimal::MAX)
            .ceil();
        let share = share.to_u32().unwrap_or(if share.is_sign_negative() { 0 } else { u32::MAX });
        stock.saturating_sub(self.units).saturating_sub(share)
    }
}

/// How old a supplier's stock snapshot may be before its counts mean nothing (`6h`, `2d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MaxAge(Duration);

impl MaxAge {
    pub fn duration(self) -> Duration {
        self.0
    }
}
impl TryFrom<String> for MaxAge {
    type Error = ConfigError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        crate::primitives::duration::parse_duration(&s).map(MaxAge)
    }
}
impl From<MaxAge> for String {
    fn from(a: MaxAge) -> String {
        let secs = a.0.num_seconds();
        match secs {
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3_600 == 0 => format!("{}h", s / 3_600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    pub id: SupplierId,
    pub name: String,
    /// ISO 3166-1 alpha-2 destination countries served.
    pub ships_to: Vec<String>,
    /// Where purchase orders go: an `https://` URL, or `sim://<name>` for the simulated supplier.
    pub endpoint: String,
    /// A stock snapshot older than this counts as unknown stock (none: snapshots never expire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_max_age: Option<MaxAge>,
    /// Held back from every snapshot of this supplier (an offer's own buffer replaces it).
    #[serde(default, skip_serializing_if = "Buffer::is_zero")]
    pub buffer: Buffer,
    /// Estimated shipping cost of one purchase order, for the margin check.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shipping_estimate: Money,
    /// The supplier's fee per purchase order (dropship fee).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order_fee: Money,
}

fn is_zero(m: &Money) -> bool {
    *m == Money::ZERO
}

impl Supplier {
    /// A supplier with no stock limit, buffer, shipping estimate or fee.
    pub fn new(id: SupplierId, name: impl Into<String>, ships_to: Vec<String>, endpoint: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            ships_to,
            endpoint: endpoint.into(),
            stock_max_age: None,
            buffer: Buffer::default(),
            shipping_estimate: Money::ZERO,
            order_fee: Money::ZERO,
        }
    }

    pub fn ships_to(&self, country: &str) -> bool {
        self.ships_to.iter().any(|c| c.eq_ignore_ascii_case(country))
    }
}

/// One supplier's offer for a store SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub sku: Sku,
    pub supplier_id: SupplierId,
    pub supplier_sku: String,
    /// Units in the supplier's last stock snapshot.
    pub stock: u32,
    /// When the supplier counted `stock` (none: unknown age, stale wherever a limit applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_as_of: Option<DateTime<Utc>>,
    /// Units our settlements took from `stock` since its snapshot, with when the supplier
    /// accepted them: a feed snapshot counted before an acceptance does not include it, so
    /// importing it must not put those units back (see `feed::apply`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled: Vec<Settled>,
    /// Units held for orders routed to this offer and not yet answered, and units the supplier
    /// accepted since this snapshot was counted (`stock` does not know of them yet); counted from
    /// the stock ledger into a view, never read from or written to a document.
    #[serde(skip)]
    pub reserved: u32,
    /// Replaces the supplier's buffer for this item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<Buffer>,
    pub cost: Money,
    /// False once the supplier discontinued the item.
    #[serde(default = "yes")]
    pub active: bool,
    /// The supplier variant's attributes (`size: M`, `color: Black`), checked against the
    /// options the customer ordered.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// GTIN/UPC/EAN, for matching supplier feeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// Product tags (`fragile`, `handmade`), matched by routing rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// What an offer can promise for an order now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Units free after the buffer and the reservations of other orders.
    Known(u32),
    /// The snapshot is older than the supplier's limit (or has no time): unknown stock.
    Stale { as_of: Option<DateTime<Utc>> },
}

impl Offer {
    /// An active offer with a snapshot of unknown time, no buffer, attributes or barcode.
    pub fn new(sku: Sku, supplier_id: SupplierId, supplier_sku: impl Into<String>, stock: u32, cost: Money) -> Self {
        Self {
            sku,
            supplier_id,
            supplier_sku: supplier_sku.into(),
            stock,
            stock_as_of: None,
            settled: Vec::new(),
            reserved: 0,
            buffer: None,
            cost,
            active: true,
            attributes: BTreeMap::new(),
            barcode: None,
            tags: Vec::new(),
        }
    }

    /// Units available now: stale snapshots are unknown; otherwise the snapshot less the buffer
    /// (the offer's own, else the supplier's) less what is reserved.
    pub fn availability(&self, supplier: Option<&Supplier>, now: DateTime<Utc>) -> Availability {
        match self.stock_limit(supplier, now) {
            Ok(limit) => Availability::Known(limit.saturating_sub(self.reserved)),
            Err(as_of) => Availability::Stale { as_of },
        }
    }

    /// The most units orders may hold and have accepted against this snapshot: the snapshot
    /// less the buffer; the snapshot's time (`Err`) when it is older than the supplier's limit.
    pub fn stock_limit(&self, supplier: Option<&Supplier>, now: DateTime<Utc>) -> Result<u32, Option<DateTime<Utc>>> {
        if let Some(limit) = supplier.and_then(|s| s.stock_max_age) {
            match self.stock_as_of {
                Some(at) if now.signed_duration_since(at) <= limit.duration() => {}
                as_of => return Err(as_of),
            }
        }
        let buffer = self.buffer.or(supplier.map(|s| s.buffer)).unwrap_or_default();
        Ok(buffer.apply(self.stock))
    }
}

fn yes() -> bool {
    true
}

/// The catalog as one JSON document (the demo's bundled catalog, `dropline catalog load`).
/// The catalog an operator writes: every field known, a misspelled one refused with its path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDocument {
    pub suppliers: Vec<Supplier>,
    pub offers: Vec<Offer>,
}

impl CatalogDocument {
    /// Parses and checks a catalog document: every offer names a known supplier, no supplier is
    /// listed twice, no (SKU, supplier) pair is offered twice.
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::from(message).at(file);
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
            if let Some(b) = &o.buffer
                && !b.percent_valid()
            {
                return Err(invalid(format!("offers[{i}].buffer.percent: {} is not between 0 and 100", b.percent)));
            }
        }
        for (i, s) in doc.suppliers.iter().enumerate() {
            if !s.buffer.percent_valid() {
                return Err(invalid(format!(
                    "suppliers[{i}].buffer.percent: {} is not between 0 and 100",
                    s.buffer.percent
                )));
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

/// Units of one offer held for one order line until the supplier accepts (then they leave the
/// supplier's stock) or the order lets them go (cancelled, rejected, rerouted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Who holds the units: `<purchase order id>/<line id>@<supplier>`. A purchase order id is
    /// never reused (a re-route numbers on), so a late message about an old one can't touch a
    /// new one; the supplier in it keeps two attempts that planned differently apart.
    pub holder: String,
    pub sku: Sku,
    pub supplier_id: SupplierId,
    pub quantity: u32,
    pub at: DateTime<Utc>,
}

/// Units that left an offer's stock when its supplier accepted them, as earlier versions
/// recorded it (feed imports still honour what is stored; acceptances are now counted by the
/// stock ledger, see the `stock` module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    pub at: DateTime<Utc>,
    pub quantity: u32,
}

impl Reservation {
    pub fn holder_for(po: &crate::primitives::ids::PurchaseOrderId, line_id: &str, supplier: &SupplierId) -> String {
        format!("{po}/{line_id}@{supplier}")
    }
    /// Whether one of `order`'s purchase orders holds it.
    pub fn held_by(&self, order: &crate::primitives::ids::OrderId) -> bool {
        self.holder.strip_prefix(order.as_str()).is_some_and(|rest| rest.starts_with('-'))
    }
    /// The order whose purchase order holds the units (None for a holder not in Dropline's form).
    pub fn order_id(&self) -> Option<crate::primitives::ids::OrderId> {
        Self::order_of(&self.holder)
    }
    /// The order a holder (`<purchase order id>/<line id>@<supplier>`) names.
    pub fn order_of(holder: &str) -> Option<crate::primitives::ids::OrderId> {
        let (po, _) = holder.split_once('/')?;
        crate::primitives::ids::PurchaseOrderId::parse(po).ok().map(|p| p.order_id().clone())
    }
}

/// The part of the catalog one order needs: the offers for its SKUs and the suppliers behind them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogView {
    /// Shared with the adapter's cache where it has one: a view is cheap to make.
    pub offers: FastMap<Sku, Arc<Vec<Offer>>>,
    pub suppliers: FastMap<SupplierId, Arc<Supplier>>,
    /// The holds listed with the view: the order's own (not counted in `reserved`) in a view
    /// made for an order; those counted in with `count_reservations` in a preview's.
    pub reservations: Vec<Reservation>,
}

impl CatalogView {
    /// A whole document as a view, without reservations (previews, tests, small catalogs).
    pub fn of_document(doc: &CatalogDocument) -> CatalogView {
        let mut v = CatalogView::default();
        for s in &doc.suppliers {
            v.suppliers.insert(s.id.clone(), Arc::new(s.clone()));
        }
        for o in &doc.offers {
            Arc::make_mut(v.offers.entry(o.sku.clone()).or_default()).push(o.clone());
        }
        v
    }

    pub fn offers_for(&self, sku: &Sku) -> &[Offer] {
        self.offers.get(sku).map(|o| o.as_slice()).unwrap_or(&[])
    }

    pub fn supplier(&self, id: &SupplierId) -> Option<&Supplier> {
        self.suppliers.get(id).map(Arc::as_ref)
    }

    /// The offer a reservation draws on, for changing (copied first if shared).
    pub fn offer_mut(&mut self, sku: &Sku, supplier: &SupplierId) -> Option<&mut Offer> {
        self.offers.get_mut(sku).and_then(|os| Arc::make_mut(os).iter_mut().find(|o| &o.supplier_id == supplier))
    }

    /// Counts `reservations` into the offers' `reserved` (a preview's own list of holds).
    pub fn count_reservations(&mut self, reservations: Vec<Reservation>) {
        for r in &reservations {
            if let Some(o) = self.offer_mut(&r.sku, &r.supplier_id) {
                o.reserved = o.reserved.saturating_add(r.quantity);
            }
        }
        self.reservations.extend(reservations);
    }

    /// The view as the order holding `own` sees it (a stock ledger's `view_for`): its own holds
    /// are its units, not someone else's, so they leave `reserved`; `reservations` lists them.
    pub fn seen_by(mut self, own: Vec<Reservation>) -> Self {
        for r in &own {
            if let Some(o) = self.offer_mut(&r.sku, &r.supplier_id) {
                o.reserved = o.reserved.saturating_sub(r.quantity);
            }
        }
        self.reservations = own;
        self
    }

    /// The view as `order` sees it: its own reservations are its units, not someone else's.
    pub fn without_reservations_of(mut self, order: &crate::primitives::ids::OrderId) -> Self {
        let (own, others): (Vec<Reservation>, Vec<Reservation>) =
            std::mem::take(&mut self.reservations).into_iter().partition(|r| r.held_by(order));
        for r in &own {
            if let Some(o) = self.offer_mut(&r.sku, &r.supplier_id) {
                o.reserved = o.reserved.saturating_sub(r.quantity);
            }
        }
        self.reservations = others;
        self
    }
}

/// What a reservation attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// The units are now held for the holder.
    Taken,
    /// The holder already held them (a redelivery): nothing changed.
    AlreadyHeld,
    /// The offer as stored now (its `reserved` counting every holder's held and accepted units)
    /// did not leave room for the hold.
    Refused(Box<Offer>),
    /// No such offer.
    NoOffer,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_catalog_document;

    fn parse(doc: &serde_json::Value) -> Result<CatalogDocument, String> {
        CatalogDocument::parse("c.json", &doc.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn documents_are_checked_whole_with_errors_naming_the_field() {
        let good = serde_json::to_value(sample_catalog_document()).unwrap();
        assert!(parse(&good).is_ok());
        type Case = (&'static str, fn(&mut serde_json::Value), &'static str);
        let cases: [Case; 9] = [
            ("unknown supplier", |d| d["offers"][0]["supplier_id"] = "nobody".into(), "offers[0].supplier_id"),
            (
                "offered twice",
                |d| d["offers"][1]["sku"] = d["offers"][0]["sku"].clone(),
                "offers[1]: TEE-BLK-M offered twice",
            ),
            ("plain http", |d| d["suppliers"][0]["endpoint"] = "http://example.com/po".into(), "suppliers[0].endpoint"),
            ("bad age", |d| d["suppliers"][0]["stock_max_age"] = "6 hours".into(), "suppliers[0].stock_max_age"),
            (
                "buffer over 100%",
                |d| d["offers"][2]["buffer"] = serde_json::json!({"percent": 120}),
                "offers[2].buffer.percent",
            ),
            (
                "unknown buffer field",
                |d| d["suppliers"][1]["buffer"] = serde_json::json!({"unit": 2}),
                "suppliers[1].buffer",
            ),
            // Issue 11, defect 5: a misspelled field was dropped, and stock sold into the buffer.
            (
                "misspelled supplier field",
                |d| d["suppliers"][0]["bufer"] = serde_json::json!({"units": 2}),
                "suppliers[0].bufer",
            ),
            ("misspelled offer field", |d| d["offers"][1]["cots"] = "3.00".into(), "offers[1].cots"),
            ("unknown top-level field", |d| d["supplier"] = serde_json::json!([]), "supplier"),
        ];
        for (name, break_it, field) in cases {
            let mut d = good.clone();
            break_it(&mut d);
            let e = parse(&d).unwrap_err();
            assert!(e.starts_with("c.json: ") && e.contains(field), "{name}: {e}");
        }
    }

    /// Issue 11, defect 6: the README's buffer (`"percent": 10`) was refused; a number and a
    /// string both read.
    #[test]
    fn buffer_percentages_read_as_numbers_or_strings() {
        for (written, expected) in [("10", "10"), ("\"10\"", "10"), ("12.5", "12.5"), ("\"12.5\"", "12.5")] {
            let b: Buffer = serde_json::from_str(&format!(r#"{{"units": 2, "percent": {written}}}"#)).unwrap();
            assert_eq!(b.percent, Decimal::from_str_exact(expected).unwrap(), "{written}");
            assert_eq!(b.units, 2);
        }
        assert!(serde_json::from_str::<Buffer>(r#"{"percent": "ten"}"#).unwrap_err().to_string().contains("\"ten\""));
        let mut doc = serde_json::to_value(sample_catalog_document()).unwrap();
        doc["suppliers"][0]["buffer"] = serde_json::json!({"units": 2, "percent": 10});
        let parsed = parse(&doc).unwrap();
        assert_eq!(parsed.suppliers[0].buffer.apply(100), 88, "2 units and 10% of 100 held back");
    }

    #[test]
    fn availability_counts_buffers_reservations_and_staleness() {
        let now = Utc::now();
        let doc = sample_catalog_document();
        let mut supplier = doc.suppliers[0].clone();
        let mut offer = doc.offers[1].clone(); // 20 in stock
        assert_eq!(offer.availability(Some(&supplier), now), Availability::Known(20));
        supplier.buffer = Buffer { units: 2, percent: Decimal::from(10) };
        assert_eq!(offer.availability(Some(&supplier), now), Availability::Known(16), "20 - 2 - ceil(2.0)");
        offer.buffer = Some(Buffer { units: 0, percent: Decimal::new(125, 1) });
        assert_eq!(
            offer.availability(Some(&supplier), now),
            Availability::Known(17),
            "the offer's own: 20 - ceil(2.5)"
        );
        offer.reserved = 17;
        assert_eq!(offer.availability(Some(&supplier), now), Availability::Known(0));
        supplier.stock_max_age = Some(MaxAge::try_from("6h".to_string()).unwrap());
        assert_eq!(offer.availability(Some(&supplier), now), Availability::Stale { as_of: None }, "no time: stale");
        offer.stock_as_of = Some(now - Duration::hours(6));
        assert_eq!(offer.availability(Some(&supplier), now), Availability::Known(0), "at the limit: fresh");
        offer.stock_as_of = Some(now - Duration::hours(7));
        assert!(matches!(offer.availability(Some(&supplier), now), Availability::Stale { .. }));
        assert_eq!(String::from(MaxAge::try_from("90m".to_string()).unwrap()), "90m");
        assert_eq!(String::from(MaxAge::try_from("48h".to_string()).unwrap()), "2d");
        assert_eq!(Buffer { units: 5, percent: Decimal::ZERO }.apply(3), 0);
    }

    #[test]
    fn an_order_sees_its_own_reservations_as_its_own() {
        let mut view = crate::testing::sample_catalog();
        let sku = Sku::new("HOODIE-GRY-L").unwrap();
        let order = crate::primitives::ids::OrderId::new("o_aaaaaaaaaaaaaaaa").unwrap();
        let po = crate::primitives::ids::PurchaseOrderId::new(order.clone(), 1);
        let r = |holder: String, quantity| Reservation {
            holder,
            sku: sku.clone(),
            supplier_id: SupplierId::new("acme-us").unwrap(),
            quantity,
            at: Utc::now(),
        };
        let acme = SupplierId::new("acme-us").unwrap();
        view.count_reservations(vec![
            r(Reservation::holder_for(&po, "2", &acme), 3),
            r("o_bbbbbbbbbbbbbbbb-1/1@acme-us".into(), 4),
        ]);
        assert_eq!(view.offers_for(&sku)[0].reserved, 7);
        let own = view.without_reservations_of(&order);
        assert_eq!(own.offers_for(&sku)[0].reserved, 4);
        assert_eq!(own.reservations.len(), 1);
    }
}
