//! The order aggregate: the canonical order a store sent, and everything the pipeline decided
//! about it. Every item is re-exported here: `order::OrderRecord`, `order::PoStatus`, ...

mod canonical;
mod record;
mod routing_decision;
mod status;
mod supplier_event;

pub use canonical::*;
pub use record::*;
pub use routing_decision::*;
pub use status::*;
pub use supplier_event::*;
