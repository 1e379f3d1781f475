//! The hash map for identifiers looked up on every order (SKUs, supplier ids): foldhash instead
//! of the standard SipHash, which was 7% of parse + validate + route. Seeded per map at random,
//! so a crafted set of SKUs cannot aim at its buckets.

/// A `HashMap` with foldhash's randomly seeded hasher; make one with `FastMap::default()`.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
