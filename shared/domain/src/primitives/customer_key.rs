//! A customer's fingerprint as an index key (computed in `validation::duplicates`, kept on the
//! order record, projected into the duplicate indexes).

use serde::{Deserialize, Serialize};

/// One way of recognizing a customer, as an index key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKey {
    Email(String),
    Address(String),
}

impl CustomerKey {
    pub fn value(&self) -> &str {
        match self {
            CustomerKey::Email(k) | CustomerKey::Address(k) => k,
        }
    }
}
