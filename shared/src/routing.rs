//! Routing: which supplier fills each line. Pure; the route function loads the catalog and
//! stores the plan.
//!
//! Foundation rule: for each line, the first offer (in catalog order) that validation's
//! `refusal` accepts: active, the ordered variant, shipping there, the quantity available after
//! buffer and reservations. One purchase order per
//! supplier, numbered from the order (`1001-1`, `1001-2`) in the order suppliers first appear.

use crate::catalog::CatalogView;
use crate::ids::{OrderId, PurchaseOrderId, SupplierId};
use crate::order::CanonicalOrder;
use crate::record::{HoldCategory, HoldReason, PoLine, PurchaseOrder};
use crate::status::PoStatus;
use crate::validation::{UnknownStock, order_needs, refusal, unfillable_line};
use chrono::{DateTime, Utc};

/// A purchase order the router wants created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPo {
    pub supplier_id: SupplierId,
    pub lines: Vec<PoLine>,
}

impl PlannedPo {
    pub fn into_purchase_order(self, order_id: &OrderId, number: &str, seq: u16, now: DateTime<Utc>) -> PurchaseOrder {
        PurchaseOrder {
            id: PurchaseOrderId::new(order_id.clone(), seq),
            number: format!("{number}-{seq}"),
            supplier_id: self.supplier_id,
            lines: self.lines,
            status: PoStatus::Pending,
            status_since: now,
            submitted_at: None,
            supplier_reference: None,
            rejection: None,
            shipment: None,
        }
    }
}

/// Plans purchase orders for a validated order, or says why some line can't be placed.
pub fn plan(
    order: &CanonicalOrder,
    catalog: &CatalogView,
    now: DateTime<Utc>,
    unknown_stock: UnknownStock,
) -> Result<Vec<PlannedPo>, Vec<HoldReason>> {
    let country = order.destination_country().unwrap_or("");
    let mut plans: Vec<PlannedPo> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in order.lines.iter().enumerate() {
        let field = Some(format!("lines[{i}]"));
        let Some(sku) = &line.sku else {
            problems.push(HoldReason::new(
                "sku_missing",
                HoldCategory::Mapping,
                field,
                format!("line {} has no SKU", i + 1),
            ));
            continue;
        };
        let mut why_not = Vec::new();
        let chosen = catalog.offers_for(sku).iter().find(|offer| {
            let supplier = catalog.supplier(&offer.supplier_id);
            match refusal(line, order_needs(order, sku), offer, supplier, country, now, unknown_stock) {
                Some(r) => {
                    why_not.push((&offer.supplier_id, r));
                    false
                }
                None => true,
            }
        });
        let Some(offer) = chosen else {
            problems.push(unfillable_line(i, line, sku, &why_not));
            continue;
        };
        let po_line = PoLine {
            line_id: line.line_id.clone(),
            sku: sku.clone(),
            supplier_sku: offer.supplier_sku.clone(),
            title: line.title.clone(),
            quantity: line.quantity,
            unit_cost: offer.cost,
        };
        match plans.iter_mut().find(|p| p.supplier_id == offer.supplier_id) {
            Some(p) => p.lines.push(po_line),
            None => plans.push(PlannedPo { supplier_id: offer.supplier_id.clone(), lines: vec![po_line] }),
        }
    }
    if problems.is_empty() { Ok(plans) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{sample_catalog, sample_order};

    #[test]
    fn one_po_per_supplier_in_first_seen_order() {
        let plans = plan(&sample_order(), &sample_catalog(), Utc::now(), UnknownStock::Hold).unwrap();
        let suppliers: Vec<&str> = plans.iter().map(|p| p.supplier_id.as_str()).collect();
        assert_eq!(suppliers, vec!["acme-us", "beta-eu"]);
        assert_eq!(plans[0].lines.len(), 2);
        let po = plans[0].clone().into_purchase_order(
            &crate::ids::OrderId::new("o_0000000000000000").unwrap(),
            "1001",
            1,
            Utc::now(),
        );
        assert_eq!(po.number, "1001-1");
        assert_eq!(po.id.to_string(), "o_0000000000000000-1");
    }

    #[test]
    fn out_of_stock_and_destination_explained() {
        let mut o = sample_order();
        o.lines[0].quantity = 1000;
        o.shipping_address.as_mut().unwrap().country = "JP".into();
        let reasons = plan(&o, &sample_catalog(), Utc::now(), UnknownStock::Hold).unwrap_err();
        assert_eq!(reasons.len(), 3);
        assert!(reasons[1].message.contains("acme-us: does not ship to JP"), "{}", reasons[1].message);
        o.shipping_address.as_mut().unwrap().country = "US".into();
        let reasons = plan(&o, &sample_catalog(), Utc::now(), UnknownStock::Hold).unwrap_err();
        assert!(reasons[0].message.contains("acme-us: 50 available, 1000 needed"), "{}", reasons[0].message);
    }

    #[test]
    fn falls_to_the_next_offer_when_the_first_cannot_fill() {
        let mut o = sample_order();
        o.lines[2].quantity = 60; // beta-eu has 5, acme-us has 80 of MUG-WHT
        let plans = plan(&o, &sample_catalog(), Utc::now(), UnknownStock::Hold).unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].supplier_id.as_str(), "acme-us");
        assert_eq!(plans[0].lines.len(), 3);
    }
}
