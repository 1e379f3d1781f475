//! Spreading orders over shards: the write-sharded index keys, and the slices of a sweep that
//! several runs share. Pure: the same order always falls in the same shard, in every process
//! and release.

/// The shards of the sweeps' due indexes (`tracking-due`, `outbox-due`): a slice of a sweep
/// takes whole shards.
pub const SWEEP_SHARDS: u32 = 256;

/// The shard of `id` among `shards` (FNV-1a: stable across processes and releases, which a
/// std hasher is not).
pub fn shard_of(id: &str, shards: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Below `shards`, a u32.
    (h % u64::from(shards.max(1))) as u32
}

/// The share of a sweep one run takes: the orders whose sweep shard `s` has `s % count ==
/// index`. Runs with the same `count` and every `index` cover each order exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    index: u32,
    count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("slice {index} of {count}: the count must divide {SWEEP_SHARDS} and the index be below it")]
pub struct SliceError {
    pub index: u32,
    pub count: u32,
}

impl Slice {
    /// The whole sweep.
    pub const ALL: Slice = Slice { index: 0, count: 1 };

    /// Slice `index` of `count` (`count` a divisor of `SWEEP_SHARDS`, so every slice takes
    /// the same number of shards).
    pub fn new(index: u32, count: u32) -> Result<Slice, SliceError> {
        if count == 0 || index >= count || !SWEEP_SHARDS.is_multiple_of(count) {
            return Err(SliceError { index, count });
        }
        Ok(Slice { index, count })
    }

    pub fn index(&self) -> u32 {
        self.index
    }
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether sweep shard `shard` falls to this slice.
    pub fn takes_shard(&self, shard: u32) -> bool {
        shard % self.count == self.index
    }

    /// Whether the order falls to this slice.
    pub fn takes(&self, id: &dropline_domain::primitives::ids::OrderId) -> bool {
        self.takes_shard(shard_of(id.as_str(), SWEEP_SHARDS))
    }

    /// This slice's shards.
    pub fn shards(&self) -> impl Iterator<Item = u32> + '_ {
        (0..SWEEP_SHARDS).filter(|s| self.takes_shard(*s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_stable_and_ids_spread_over_every_shard() {
        assert_eq!(shard_of("o_KXWA4RRACXSYPGE6", 256), shard_of("o_KXWA4RRACXSYPGE6", 256));
        let mut counts = vec![0u32; 32];
        for i in 0..32_000 {
            counts[shard_of(&format!("o_{i:016}"), 32) as usize] += 1;
        }
        // 1,000 expected per shard; none far off.
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }

    #[test]
    fn the_slices_of_a_count_cover_every_shard_exactly_once() {
        for count in [1, 2, 4, 8, 256] {
            let mut seen = vec![0u32; SWEEP_SHARDS as usize];
            for index in 0..count {
                for s in Slice::new(index, count).expect("slice").shards() {
                    seen[s as usize] += 1;
                }
            }
            assert!(seen.iter().all(|n| *n == 1), "count {count}");
        }
        assert!(Slice::new(0, 3).is_err(), "3 does not divide 256");
        assert!(Slice::new(2, 2).is_err());
        assert!(Slice::new(0, 0).is_err());
        assert_eq!(Slice::new(0, 1), Ok(Slice::ALL));
    }
}
