//! Write-sharded index keys: an index whose partition key would be one value for many orders
//! (a status, "due") takes one of several values instead, chosen from the order id, so no
//! partition takes more than its share of the writes; queries fan out over every shard and
//! merge.

/// Shards of the `by-status` index per status. Each order enters and leaves each status once
/// (2 index writes), so at 1,000 orders/s a status takes ~2,000 writes/s: 32 shards keep each
/// near 62 (6% of a partition's 1,000).
pub const STATUS_SHARDS: u32 = 32;
/// Shards of the sparse `tracking-due` and `outbox-due` indexes. Every save that moves a due
/// time writes its index twice (leave the old key, enter the new); an order takes ~8 such
/// writes in tracking and ~18 in its outbox, so at 1,000 orders/s 256 shards keep each near 70.
pub const DUE_SHARDS: u32 = 256;

/// The shard of `id` among `shards` (FNV-1a: stable across processes and releases, which a
/// std hasher is not).
pub fn shard_of(id: &str, shards: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(shards.max(1))) as u32
}

/// The index partition value of shard `shard` under `prefix` (`DUE#17`, `SHIPPED#3`).
pub fn shard_value(prefix: &str, shard: u32) -> String {
    format!("{prefix}#{shard}")
}

/// Every partition value of `prefix`'s shards.
pub fn all_shards(prefix: &str, shards: u32) -> Vec<String> {
    (0..shards).map(|s| shard_value(prefix, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_stable_and_in_range_and_ids_spread_over_every_shard() {
        assert_eq!(shard_of("o_KXWA4RRACXSYPGE6", 256), shard_of("o_KXWA4RRACXSYPGE6", 256));
        let mut counts = vec![0u32; 32];
        for i in 0..32_000 {
            let s = shard_of(&format!("o_{i:016}"), 32);
            counts[s as usize] += 1;
        }
        // 1,000 expected per shard; none far off.
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
        assert_eq!(shard_value("DUE", 7), "DUE#7");
        assert_eq!(all_shards("SHIPPED", 3), vec!["SHIPPED#0", "SHIPPED#1", "SHIPPED#2"]);
    }
}
