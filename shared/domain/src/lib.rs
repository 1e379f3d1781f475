//! Dropline's domain: orders, rules, state transitions and decisions as plain, synchronous Rust.
//!
//! No AWS type, no I/O, no async: the crate's dependencies name none of tokio, reqwest, hyper,
//! `aws-*` or `lambda_*` (a test in `tests/architecture.rs` checks it). The modules depend on
//! each other one way only (the graph is in docs/ARCHITECTURE.md, and the same test checks it).

pub mod catalog;
pub mod escalation;
pub mod feed;
pub mod findings;
pub mod order;
pub mod performance;
pub mod primitives;
pub mod routing;
pub mod stock;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod tracking;
pub mod validation;
pub mod wire;
