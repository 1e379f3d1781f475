//! Counts operations by name (what a memory adapter was asked to do).

use super::sync::lock;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts calls per operation, like the AWS adapters' request counters.
#[derive(Debug, Default)]
pub struct OpCounter(Mutex<BTreeMap<&'static str, u64>>);

impl OpCounter {
    pub fn hit(&self, op: &'static str) {
        *lock(&self.0).entry(op).or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.0).clone()
    }
}
