//! How held and accepted units are counted against an offer's stock snapshot, and how a hot
//! SKU's count is split over shards so that no one item takes every order's write.
//!
//! Units an order holds count against the offer until the supplier answers. Units the supplier
//! accepted keep counting against the snapshot they were taken from until a newer snapshot
//! arrives: the supplier's own count then includes them. Acceptances are remembered by their
//! minute, so a snapshot counted in the middle of a minute still has that whole minute's
//! acceptances held against it: never too few units counted. So that a counter stays a small
//! item however long no snapshot comes, it keeps at most [`ACCEPTANCE_BUCKETS_MAX`] buckets per
//! supplier: the older ones are merged into later ones ([`bucket_merges`]); the recent minutes
//! stay exact and an old bucket spans up to a few times its age. A merged bucket counts against every
//! snapshot its parts would, and some they would not (too many units, never too few), until a
//! snapshot newer than the bucket arrives.
//!
//! A SKU's count lives in `shards` counters; shard `k` may take at most its share of the limit
//! (`allotment`). An order takes its units from its own shard (chosen by its id), and from
//! several only when its own is full, so orders of one hot SKU write to different items.

use crate::catalog::{Offer, Reserved};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The most counters one SKU's stock is split over.
pub const MAX_STOCK_SHARDS: u32 = 16;
/// A SKU is split only so far that each shard has at least this many units to give.
pub const UNITS_PER_SHARD: u32 = 256;

/// How many counters a SKU whose largest offer has `stock` units uses: one for small stock (an
/// exact count in one item), up to [`MAX_STOCK_SHARDS`] for a large one. Adapters never lower a
/// SKU's shard count (held units may sit on any shard it ever had).
pub fn shards_for(stock: u32) -> u32 {
    (stock / UNITS_PER_SHARD).clamp(1, MAX_STOCK_SHARDS)
}

/// Shard `k`'s share of `limit` units split over `shards`: the shares add up to `limit`.
pub fn allotment(limit: u32, shards: u32, k: u32) -> u32 {
    let shards = shards.max(1);
    limit / shards + u32::from(k < limit % shards)
}

/// How much of an offer a hold may take, decided on the offer as stored when it is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldLimit {
    /// The held and accepted units together may not exceed this.
    Units(u32),
    /// No limit (stock of unknown age, when policy proceeds anyway).
    Unlimited,
    /// No hold may be taken (stock of unknown age, when policy holds the order).
    Refused,
}

/// Acceptance buckets a counter keeps per supplier before the older ones are merged.
pub const ACCEPTANCE_BUCKETS_MAX: usize = 16;
/// How many a merge leaves (so that merges are a write every few minutes, not every minute).
pub const ACCEPTANCE_BUCKETS_KEPT: usize = 10;

/// How to merge acceptance buckets (their minutes; a bucket holds the units accepted after the
/// previous bucket's minute and up to its own) down to `keep` of them: each surviving minute
/// that takes others, with the minutes folded into it. A bucket is only ever folded into a
/// later one (so its units count against every snapshot they did), never into the newest (the
/// one acceptances are still added to), the oldest stays (it may hold everything before it),
/// and the cheapest merge goes first: the one whose merged span is smallest against its age,
/// so recent minutes stay exact and old buckets grow geometrically. Empty when there are `keep` or fewer (`keep` is at least 3).
pub fn bucket_merges(minutes: &[i64], keep: usize) -> BTreeMap<i64, Vec<i64>> {
    let mut keys: Vec<i64> = minutes.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let keep = keep.max(3);
    // minute -> the minutes already folded into it.
    let mut folded: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    while keys.len() > keep {
        let n = keys.len();
        let newest = keys[n - 1];
        // Folding `keys[i]` into `keys[i + 1]`: the merged bucket's span and age, in minutes.
        // Neither the oldest (whose start is not known: it may hold everything before it) nor
        // the newest is folded.
        let cost = |i: usize| (i128::from(keys[i + 1] - keys[i - 1]), i128::from(newest - keys[i + 1]));
        let mut best = 1;
        for i in 2..n - 2 {
            let ((span, age), (best_span, best_age)) = (cost(i), cost(best));
            // span / age < best_span / best_age (ages are at least 1: the minutes differ).
            if span * best_age < best_span * age {
                best = i;
            }
        }
        let (from, into) = (keys[best], keys[best + 1]);
        let mut moved = folded.remove(&from).unwrap_or_default();
        moved.push(from);
        folded.entry(into).or_default().extend(moved);
        keys.remove(best);
    }
    for parts in folded.values_mut() {
        parts.sort_unstable();
    }
    folded
}

/// Merges `buckets` (units by minute) in place as [`bucket_merges`] plans, when there are more
/// than [`ACCEPTANCE_BUCKETS_MAX`]: what a counter held in memory does; a stored counter writes
/// the same plan under conditions instead.
pub fn merge_buckets(buckets: &mut BTreeMap<i64, u32>) {
    if buckets.len() <= ACCEPTANCE_BUCKETS_MAX {
        return;
    }
    let minutes: Vec<i64> = buckets.keys().copied().collect();
    for (into, parts) in bucket_merges(&minutes, ACCEPTANCE_BUCKETS_KEPT) {
        let moved = parts.iter().fold(0u32, |n, m| n.saturating_add(buckets.remove(m).unwrap_or(0)));
        let b = buckets.entry(into).or_default();
        *b = b.saturating_add(moved);
    }
}

/// The minute an acceptance is remembered by (minutes since the Unix epoch).
pub fn acceptance_minute(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

/// Whether units accepted in `minute` still count against a snapshot counted at `as_of`: they
/// may be later than the count (the minute ends after it). A snapshot of unknown time has every
/// acceptance counted against it.
pub fn counts_against(minute: i64, as_of: Option<DateTime<Utc>>) -> bool {
    as_of.is_none_or(|t| (minute + 1) * 60_000 > t.timestamp_millis())
}

/// A snapshot's time as adapters store it: milliseconds, 0 for a snapshot of unknown time.
pub fn snapshot_millis(as_of: Option<DateTime<Utc>>) -> i64 {
    as_of.map_or(0, |t| t.timestamp_millis())
}

/// The snapshot time [`snapshot_millis`] stored.
pub fn snapshot_of_millis(ms: i64) -> Option<DateTime<Utc>> {
    if ms == 0 { None } else { DateTime::from_timestamp_millis(ms) }
}

/// The answer to a hold of `quantity` on `offer` whose held and accepted units (`used`, every
/// holder counted) are as stored: `None` when it fits, else the refusal (the offer as stored,
/// `reserved` counting `used`).
pub fn hold_refusal(offer: &Offer, used: u32, quantity: u32, limit: HoldLimit) -> Option<Reserved> {
    let fits = match limit {
        HoldLimit::Units(l) => used.checked_add(quantity).is_some_and(|n| n <= l),
        HoldLimit::Unlimited => true,
        HoldLimit::Refused => false,
    };
    (!fits).then(|| Reserved::Refused(Box::new(Offer { reserved: used, ..offer.clone() })))
}

/// Which shards a hold of `quantity` takes its units from, given each shard's free units
/// (`free[k]`): its own shard `home` first, then the others in order. None when they do not
/// have enough together.
pub fn split_hold(free: &[u32], home: usize, quantity: u32) -> Option<Vec<(u32, u32)>> {
    let n = free.len();
    let mut left = quantity;
    let mut parts = Vec::new();
    for k in (0..n).map(|i| (home + i) % n) {
        if left == 0 {
            break;
        }
        let take = free[k].min(left);
        if take > 0 {
            parts.push((u32::try_from(k).ok()?, take));
            left -= take;
        }
    }
    (left == 0 && quantity > 0).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shares_add_up_to_the_limit_and_small_stock_stays_in_one_counter() {
        for (limit, shards) in [(0, 1), (5, 1), (1000, 3), (10_000_000, 16), (17, 16)] {
            let sum: u32 = (0..shards).map(|k| allotment(limit, shards, k)).sum();
            assert_eq!(sum, limit, "{limit} over {shards}");
        }
        assert_eq!(shards_for(0), 1);
        assert_eq!(shards_for(300), 1);
        assert_eq!(shards_for(1024), 4);
        assert_eq!(shards_for(u32::MAX), MAX_STOCK_SHARDS);
    }

    #[test]
    fn an_acceptance_counts_against_a_snapshot_until_one_counted_after_its_minute() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 30).single().expect("time");
        let m = acceptance_minute(at);
        assert!(counts_against(m, None), "unknown time: counted");
        assert!(counts_against(m, Some(at - chrono::Duration::minutes(5))), "an older snapshot");
        assert!(
            counts_against(m, Some(at + chrono::Duration::seconds(10))),
            "the same minute: counted (too many, never too few)"
        );
        assert!(!counts_against(m, Some(at + chrono::Duration::seconds(30))), "a snapshot after the minute has it");
        assert_eq!(snapshot_of_millis(snapshot_millis(Some(at))), Some(at));
        assert_eq!(snapshot_of_millis(snapshot_millis(None)), None);
    }

    const WEEK: i64 = 7 * 24 * 60;

    /// `minutes` of acceptances, a unit a minute, merged as a counter merges them: the buckets
    /// and the newest minute.
    fn buckets_over(minutes: i64) -> (BTreeMap<i64, u32>, i64) {
        let mut buckets: BTreeMap<i64, u32> = BTreeMap::new();
        for minute in 0..minutes {
            *buckets.entry(minute).or_default() += 1;
            merge_buckets(&mut buckets);
        }
        (buckets, minutes - 1)
    }

    #[test]
    fn merged_buckets_keep_their_units_move_later_and_spare_the_newest() {
        let minutes: Vec<i64> = (100..120).collect();
        let plan = bucket_merges(&minutes, 10);
        let folded: usize = plan.values().map(Vec::len).sum();
        assert_eq!(minutes.len() - folded, 10, "{plan:?}");
        for (into, parts) in &plan {
            assert!(parts.iter().all(|m| m < into), "folded into a later minute: {plan:?}");
            assert!(parts.iter().all(|m| !plan.contains_key(m)), "a folded minute does not survive");
        }
        assert!(!plan.contains_key(&119) && plan.values().all(|p| !p.contains(&119)), "the newest is left alone");
        assert!(bucket_merges(&minutes, 20).is_empty() && bucket_merges(&[5, 6, 7], 0).is_empty());

        let (buckets, newest) = buckets_over(WEEK);
        assert!(buckets.len() <= ACCEPTANCE_BUCKETS_MAX);
        assert_eq!(i64::from(buckets.values().sum::<u32>()), WEEK, "no unit lost or made up");
        for m in newest - 3..=newest {
            assert_eq!(buckets.get(&m), Some(&1), "minute {m} is exact");
        }
    }

    #[test]
    fn a_merged_bucket_counts_too_many_units_never_too_few_and_a_few_times_its_age_at_most() {
        // Over an hour without a snapshot, a snapshot of age A counts at most 2A minutes'
        // acceptances; over four hours 3A; over a week 4A.
        for (minutes, factor) in [(60, 2), (4 * 60, 3), (WEEK, 4)] {
            let (buckets, newest) = buckets_over(minutes);
            for age in 0..minutes {
                // A snapshot counted at the start of minute `t` has every unit accepted before it.
                let t = newest - age;
                let counted: i64 = buckets.iter().filter(|(m, _)| **m >= t).map(|(_, q)| i64::from(*q)).sum();
                let after = age + 1;
                assert!(counted >= after, "{minutes} min, age {age}: {counted} counted of {after}");
                assert!(counted <= factor * after, "{minutes} min, age {age}: {counted} counted of {after}");
            }
        }
    }

    #[test]
    fn a_hold_fits_within_the_limit_and_splits_from_its_own_shard_first() {
        use crate::primitives::ids::{Sku, SupplierId};
        let offer = Offer::new(
            Sku::new("TEE").expect("sku"),
            SupplierId::new("acme").expect("id"),
            "T-1",
            10,
            crate::primitives::money::Money::ZERO,
        );
        assert_eq!(hold_refusal(&offer, 7, 3, HoldLimit::Units(10)), None);
        match hold_refusal(&offer, 8, 3, HoldLimit::Units(10)) {
            Some(Reserved::Refused(o)) => assert_eq!(o.reserved, 8),
            other => panic!("{other:?}"),
        }
        assert_eq!(hold_refusal(&offer, u32::MAX, 1, HoldLimit::Unlimited), None);
        assert!(hold_refusal(&offer, 0, 1, HoldLimit::Refused).is_some());
        assert_eq!(split_hold(&[5, 0, 2, 9], 2, 4), Some(vec![(2, 2), (3, 2)]));
        assert_eq!(split_hold(&[5, 0, 2, 9], 3, 4), Some(vec![(3, 4)]));
        assert_eq!(split_hold(&[1, 1], 0, 3), None);
        assert_eq!(split_hold(&[1, 1], 0, 0), None, "nothing to hold");
    }
}
