//! The figures a Shopify order states about its lines and discounts, reconciled with the lines'
//! own sum: the discount every figure agrees on, or each relation among them that breaks.

use super::super::PayloadError;
use super::super::fields::{Flex, money};
use crate::order::{Figure, FigureDisagreement};
use crate::primitives::money::{Currency, Money};

pub(super) fn money_opt(field: &str, v: Option<&Flex>) -> Result<Option<Money>, PayloadError> {
    match v {
        Some(f) if !f.0.trim().is_empty() => money(field, Some(f)).map(Some),
        _ => Ok(None),
    }
}

/// The figures a Shopify order states about its lines and discounts, beside the lines' own sum.
pub(super) struct StatedFigures {
    /// Quantity x price over the lines.
    pub lines: Money,
    pub line_items_price: Option<Money>,
    pub total_discounts: Option<Money>,
    /// The lines after line and order discounts.
    pub subtotal_price: Option<Money>,
    pub shipping: Money,
    /// `price - discounted_price` over the shipping lines.
    pub shipping_discount: Money,
}

impl StatedFigures {
    /// Every discount given, read so that all the figures agree, and each relation among them
    /// that does not hold. No figure is trusted over another: `lines - subtotal_price` is the
    /// item discount, and `total_discounts` must be it, with or without the shipping discount.
    pub fn reconcile(&self, c: Currency) -> (Money, Vec<FigureDisagreement>) {
        let eq = |a: Money, b: Money| a.rounded(c) == b.rounded(c);
        let lines = Figure::new("lines (quantity x price)", self.lines);
        let mut out = Vec::new();
        if let Some(stated) = self.line_items_price.filter(|s| !eq(*s, self.lines)) {
            out.push(FigureDisagreement {
                relation: "lines (quantity x price) = total_line_items_price".into(),
                figures: vec![lines.clone(), Figure::new("total_line_items_price", stated)],
            });
        }
        let discounts = match (self.subtotal_price, self.total_discounts) {
            (Some(after), stated) if after.rounded(c) > self.lines.rounded(c) => {
                let mut figures = vec![lines.clone(), Figure::new("subtotal_price", after)];
                figures.extend(stated.map(|d| Figure::new("total_discounts", d)));
                out.push(FigureDisagreement { relation: "subtotal_price <= lines (quantity x price)".into(), figures });
                stated.unwrap_or(Money::ZERO).max(self.shipping_discount)
            }
            (Some(after), Some(stated)) => {
                let item = self.lines.minus(after);
                let with_shipping = item.plus(self.shipping_discount);
                if eq(stated, with_shipping) {
                    stated
                } else if eq(stated, item) {
                    with_shipping
                } else if self.shipping_discount.amount().is_zero()
                    && stated.rounded(c) > item.rounded(c)
                    && stated.minus(item).rounded(c) <= self.shipping.rounded(c)
                {
                    // A shipping discount the shipping lines do not itemise (no `discounted_price`).
                    stated
                } else {
                    out.push(FigureDisagreement {
                        relation: "lines (quantity x price) - subtotal_price = total_discounts (less any shipping \
                                   discount)"
                            .into(),
                        figures: vec![
                            lines,
                            Figure::new("subtotal_price", after),
                            Figure::new("total_discounts", stated),
                            Figure::new("shipping discount", self.shipping_discount),
                        ],
                    });
                    with_shipping
                }
            }
            (Some(after), None) => self.lines.minus(after).plus(self.shipping_discount),
            (None, Some(stated)) => stated.max(self.shipping_discount),
            (None, None) => self.shipping_discount,
        };
        (discounts, out)
    }
}
