//! Which routing rules apply to an order, and to which of its lines.

use super::Request;
use crate::catalog::CatalogView;
use crate::order::CanonicalOrder;
use crate::routing::config::{RoutingConfig, Rule};

/// The rules that apply, each with the routed lines it applies to (those with a matching
/// product tag, or all when it names none), in configuration order.
pub(super) fn applicable<'c>(
    req: &Request<'_>,
    catalog: &CatalogView,
    config: &'c RoutingConfig,
    country: &str,
    zone: Option<&str>,
) -> Vec<(&'c Rule, Vec<usize>)> {
    let order = req.order;
    let line_tags = |i: usize| -> Vec<String> {
        order.lines[i]
            .sku
            .as_ref()
            .map(|s| catalog.offers_for(s).iter().flat_map(|o| o.tags.iter().cloned()).collect())
            .unwrap_or_default()
    };
    let mut applied = Vec::new();
    for rule in &config.rules {
        if !rule_applies_to_order(rule, order, country, zone) {
            continue;
        }
        let lines: Vec<usize> = req
            .lines
            .iter()
            .copied()
            .filter(|&i| rule.when.product_tags.is_empty() || matches_any(&rule.when.product_tags, &line_tags(i)))
            .collect();
        if !lines.is_empty() {
            applied.push((rule, lines));
        }
    }
    applied
}

fn matches_any(values: &[String], have: &[String]) -> bool {
    values.iter().any(|v| have.iter().any(|h| h.trim().eq_ignore_ascii_case(v.trim())))
}

/// Whether a rule's order-level conditions hold.
fn rule_applies_to_order(rule: &Rule, order: &CanonicalOrder, country: &str, zone: Option<&str>) -> bool {
    let w = &rule.when;
    (w.channels.is_empty() || w.channels.iter().any(|c| c.trim().eq_ignore_ascii_case(order.channel.as_str())))
        && (w.destinations.is_empty()
            || w.destinations.iter().any(|d| d.eq_ignore_ascii_case(country) || Some(d.as_str()) == zone))
        && (w.customer_tags.is_empty() || matches_any(&w.customer_tags, &order.customer_tags))
        && (w.order_tags.is_empty() || matches_any(&w.order_tags, &order.tags))
}
