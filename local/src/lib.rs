//! The pipeline on one machine: the in-process runner that plays Lambda's SQS event source
//! mappings and the schedules (`pipeline`), the bundled demo (`demo`), simulated suppliers and
//! carrier (`sim`), local provisioning of what the SAM template creates (`provision`), the
//! ingest HTTP server (`server`), and `make dev` on the emulators (`dev`).
//!
//! It wires adapters, as each function's `main.rs` does: memory ones for the demo and the
//! handler tests, AWS ones for `make dev` and the integration tests.

pub mod demo;
pub mod dev;
pub mod pipeline;
pub mod provision;
pub mod server;
pub mod sim;
