//! The order aggregate: the canonical order a store sent, and everything the pipeline decided
//! about it. Every item is re-exported here: `order::OrderRecord`, `order::PoStatus`, ...

mod canonical;
mod domain_event;
mod event_type;
mod holds;
mod purchase_order;
mod record;
mod routing_decision;
mod status;
mod store_update;
mod supplier_event;
mod timeline;

#[cfg(test)]
mod tests;
pub use canonical::*;
pub use domain_event::*;
pub use event_type::*;
pub use holds::*;
pub use purchase_order::*;
pub use record::*;
pub use routing_decision::*;
pub use status::*;
pub use store_update::*;
pub use supplier_event::*;
pub use timeline::*;
