//! In-memory adapters for the demo, the local runner and the handler tests, one file per port.
//! They keep the semantics of their AWS counterparts (conditional writes, visibility timeouts,
//! maxReceiveCount redrive, idempotency conditions) and pass the same contract suites.

mod catalog;
mod clock;
mod counter;
mod events;
mod idempotency;
mod orders;
mod queues;
mod routing_config;
mod sync;
pub use catalog::MemoryCatalog;
pub use clock::ManualClock;
pub use counter::OpCounter;
pub use events::MemoryEventBus;
pub use idempotency::MemoryIdempotencyStore;
pub use orders::MemoryOrderStore;
pub use queues::MemoryQueues;
pub use routing_config::MemoryRoutingConfig;
