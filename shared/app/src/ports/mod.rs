//! Ports: what the pipeline needs from the outside world, as traits, one file per port. The
//! adapters in `dropline-adapters` implement them (memory for the demo and the handler tests;
//! AWS and HTTP in Lambda), and every adapter of a port passes the same contract suite
//! (`tests/support/contract.rs`). Every item is re-exported here: `ports::OrderStore`, ...

mod carrier;
mod catalog;
mod clock;
mod error;
mod events;
mod idempotency;
mod orders;
mod outcomes;
mod queue;
mod routing_config;
mod secrets;
mod stock;
mod supplier;
pub use carrier::CarrierTracker;
pub use catalog::Catalog;
pub use clock::{Clock, SystemClock};
pub use error::{PortError, PortResult};
pub use events::EventPublisher;
pub use idempotency::{IdempotencyStore, PutOutcome};
pub use orders::{Created, IndexPosition, OrderRef, OrderStore};
pub use outcomes::OutcomeLedger;
pub use queue::{QueueConsumer, ReceivedMessage, WorkQueue};
pub use routing_config::{ConfigText, RoutingConfigStore};
pub use secrets::SecretSource;
pub use stock::StockLedger;
pub use supplier::{GatewayError, SupplierGateway};
