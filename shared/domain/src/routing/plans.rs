//! Plans: one supplier for every line, or (by the split policy) several, each line going to the
//! supplier of the set with the lowest item cost for it.

use super::Request;
use super::candidates::Qualified;
use crate::order::SplitPolicy;
use crate::primitives::money::Money;
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// A way to fill the order, with its figures and score once measured.
pub(super) struct Plan {
    /// (qualified index, line indices), in the order of the first line.
    pub(super) shipments: Vec<(usize, Vec<usize>)>,
    pub(super) landed: Money,
    /// `landed` as a float, for the score.
    pub(super) landed_f64: f64,
    pub(super) extra: Money,
    pub(super) latest: NaiveDate,
    pub(super) reliability: f64,
    pub(super) preference: f64,
    pub(super) score: [f64; 5],
}

/// Candidate plans by the split policy: every single supplier that fills all lines; splits
/// when allowed, or (preferred) when no single supplier can, over the fewest suppliers.
pub(super) fn plans_for(req: &Request<'_>, qualified: &[Qualified<'_>], split: SplitPolicy) -> Vec<Plan> {
    let all = req.lines;
    let fills_all = |q: &Qualified<'_>| all.iter().all(|i| q.offers.contains_key(i));
    let mut plans: Vec<Plan> =
        (0..qualified.len()).filter(|&q| fills_all(&qualified[q])).map(|q| new_plan(vec![(q, all.to_vec())])).collect();
    let want_splits = match split {
        SplitPolicy::Required => false,
        SplitPolicy::Preferred => plans.is_empty(),
        SplitPolicy::Allowed => true,
    };
    if !want_splits || all.len() < 2 {
        return plans;
    }
    // Suppliers worth combining: those filling some line. Exact search over pairs and triples
    // (an order's lines are few and each SKU has few suppliers); greedy beyond.
    let useful: Vec<usize> = (0..qualified.len()).filter(|&q| !qualified[q].offers.is_empty()).collect();
    // Which routed lines each supplier fills, as bits (orders past 64 lines skip the pre-check).
    let bits = |q: usize| -> u64 {
        all.iter()
            .enumerate()
            .filter(|(_, i)| qualified[q].offers.contains_key(i))
            .fold(0, |m, (k, _)| m | 1u64 << (k % 64))
    };
    let masks: Vec<u64> = (0..qualified.len()).map(bits).collect();
    let full = if all.len() >= 64 { u64::MAX } else { (1u64 << all.len()) - 1 };
    let mut found_size = None;
    for size in 2..=3.min(all.len()) {
        if split == SplitPolicy::Preferred && found_size.is_some() {
            break;
        }
        for_each_combination(&useful, size, 2000, |set| {
            if all.len() <= 64 && set.iter().fold(0, |m, &q| m | masks[q]) != full {
                return;
            }
            if let Some(p) = split_plan(req, qualified, set) {
                plans.push(p);
                found_size = Some(size);
            }
        });
    }
    if found_size.is_none()
        && let Some(p) = greedy(req, qualified, &useful)
    {
        plans.push(p);
    }
    plans
}

fn new_plan(shipments: Vec<(usize, Vec<usize>)>) -> Plan {
    Plan {
        shipments,
        landed: Money::ZERO,
        landed_f64: 0.0,
        extra: Money::ZERO,
        latest: NaiveDate::MIN,
        reliability: 0.0,
        preference: 0.0,
        score: [0.0; 5],
    }
}

/// Calls `f` with up to `cap` combinations of `size` items, in lexicographic order (one buffer,
/// reused).
fn for_each_combination(items: &[usize], size: usize, cap: usize, mut f: impl FnMut(&[usize])) {
    if size == 0 || size > items.len() {
        return;
    }
    let mut idx: Vec<usize> = (0..size).collect();
    let mut set: Vec<usize> = idx.iter().map(|&i| items[i]).collect();
    for _ in 0..cap {
        f(&set);
        // The rightmost position that can still move right.
        let Some(k) = (0..size).rev().find(|&k| idx[k] < items.len() - size + k) else { return };
        idx[k] += 1;
        for j in k + 1..size {
            idx[j] = idx[j - 1] + 1;
        }
        for j in k..size {
            set[j] = items[idx[j]];
        }
    }
}

/// Each line to the set's supplier with the lowest item cost for it (ties: the earlier in the
/// set, which is id order). None when a line has no taker or a supplier gets no line (a smaller
/// set covers the order).
fn split_plan(req: &Request<'_>, qualified: &[Qualified<'_>], set: &[usize]) -> Option<Plan> {
    let mut shipments: Vec<(usize, Vec<usize>)> = Vec::with_capacity(set.len());
    for &i in req.lines {
        let taker = set
            .iter()
            .copied()
            .filter_map(|q| qualified[q].offers.get(&i).map(|o| (q, o.cost)))
            .min_by(|a, b| a.1.cmp(&b.1))?;
        match shipments.iter_mut().find(|(q, _)| *q == taker.0) {
            Some((_, lines)) => lines.push(i),
            None => shipments.push((taker.0, vec![i])),
        }
    }
    if shipments.len() != set.len() {
        return None;
    }
    // Already in the order of their first line: shipments were opened line by line.
    Some(new_plan(shipments))
}

/// Greedy cover: the supplier filling the most uncovered lines (then the lowest cost for them,
/// then id order), until every line is covered.
fn greedy(req: &Request<'_>, qualified: &[Qualified<'_>], useful: &[usize]) -> Option<Plan> {
    let mut left: BTreeSet<usize> = req.lines.iter().copied().collect();
    let mut shipments: Vec<(usize, Vec<usize>)> = Vec::new();
    while !left.is_empty() {
        let best = useful
            .iter()
            .copied()
            .filter(|q| !shipments.iter().any(|(s, _)| s == q))
            .map(|q| {
                let takes: Vec<usize> = left.iter().copied().filter(|i| qualified[q].offers.contains_key(i)).collect();
                let cost = takes.iter().fold(Money::ZERO, |a, i| {
                    a.plus(qualified[q].offers.get(i).map(|o| o.cost).unwrap_or(Money::ZERO))
                });
                (q, takes, cost)
            })
            .filter(|(_, takes, _)| !takes.is_empty())
            .min_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.2.cmp(&b.2)))?;
        for i in &best.1 {
            left.remove(i);
        }
        shipments.push((best.0, best.1));
    }
    shipments.sort_by_key(|(_, lines)| lines.first().copied());
    Some(new_plan(shipments))
}
