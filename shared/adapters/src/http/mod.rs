//! HTTP adapters: the supplier gateway (purchase orders and notices as signed JSON) and the
//! carrier tracker.

mod carrier_tracker;
mod egress;
mod retry;
mod supplier_gateway;

#[cfg(test)]
mod tests;
pub use carrier_tracker::HttpCarrierTracker;
pub use egress::{Egress, is_public, read_capped};
pub use retry::{RetryPolicy, http_client};
pub use supplier_gateway::HttpSupplierGateway;
