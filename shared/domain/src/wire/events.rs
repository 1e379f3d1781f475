//! Domain events as they cross the edge (EventBridge in AWS). The event itself lives with the
//! aggregate (`order::DomainEvent`): every transition puts its event in the order's outbox in
//! the same write, and the outbox is drained until the bus acknowledged it.

pub use crate::order::{DomainEvent, SOURCE_PREFIX};
