//! How held and accepted units are counted against an offer's stock snapshot, and how a hot
//! SKU's count is split over shards so that no one item takes every order's write.
//!
//! Units an order holds count against the offer until the supplier answers. Units the supplier
//! accepted keep counting against the snapshot they were taken from until a newer snapshot
//! arrives: the supplier's own count then includes them. Acceptances are remembered by their
//! minute, so a snapshot counted in the middle of a minute still has that whole minute's
//! acceptances held against it: never too few units counted, at most one minute's too many.
//!
//! A SKU's count lives in `shards` counters; shard `k` may take at most its share of the limit
//! (`allotment`). An order takes its units from its own shard (chosen by its id), and from
//! several only when its own is full, so orders of one hot SKU write to different items.

use crate::catalog::{Offer, Reserved};
use chrono::{DateTime, Utc};

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
