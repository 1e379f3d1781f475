//! Adapters: the ports implemented for memory, HTTP and AWS.

#[cfg(feature = "aws")]
pub mod aws;
pub mod http;
pub mod memory;
