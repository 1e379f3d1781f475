//! What every step shares, over the domain: the ports (traits the adapters implement) and their
//! errors, per-message batch processing, loading and updating an order, stock reconciliation,
//! the idempotency orchestrator, the caches functions keep between invocations, and reading the
//! environment and setting up telemetry.
//!
//! No adapter is named here: a function's `lib.rs` is written against these traits, and only its
//! `main.rs` (or the local runner) picks the adapters.

pub mod batch;
pub mod caches;
pub mod env;
pub mod idempotency;
pub mod order_update;
pub mod outbox;
pub mod outcomes;
pub mod ports;
pub mod reroute;
pub mod secrets;
pub mod sharding;
pub mod stock;
pub mod telemetry;
