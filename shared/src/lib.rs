//! Dropline's shared library: the domain (orders, statuses, rules, decisions) as plain Rust,
//! the ports it needs from the world, and the adapters that implement them.
//!
//! Nothing outside `adapters::aws` knows an AWS type.

pub mod adapters;
pub mod address;
pub mod caches;
pub mod calendar;
pub mod catalog;
pub mod channels;
pub mod config;
pub mod duplicates;
pub mod duration;
pub mod escalation;
pub mod events;
pub mod findings;
pub mod idempotency;
pub mod ids;
pub mod messages;
pub mod money;
pub mod order;
pub mod performance;
pub mod ports;
pub mod record;
pub mod routing;
pub mod routing_config;
pub mod routing_decision;
pub mod secrets;
pub mod signature;
pub mod status;
pub mod supplier;
pub mod supplier_event;
pub mod telemetry;
pub mod testing;
pub mod tracking;
pub mod validation;
pub mod worker;
