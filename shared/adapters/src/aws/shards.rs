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
pub const DUE_SHARDS: u32 = dropline_app::sharding::SWEEP_SHARDS;

pub use dropline_app::sharding::shard_of;

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
    fn shard_values_name_their_shard() {
        assert_eq!(shard_value("DUE", 7), "DUE#7");
        assert_eq!(all_shards("SHIPPED", 3), vec!["SHIPPED#0", "SHIPPED#1", "SHIPPED#2"]);
    }
}
