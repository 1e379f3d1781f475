//! The ports' adapters, one cargo feature per technology, so that a function links only the
//! clients it uses: `memory` (the demo, the local runner and the tests), `http` (supplier
//! gateway, carrier tracker), and one feature per AWS service (`dynamodb`, `sqs`,
//! `eventbridge`, `ssm`).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "memory")]
pub mod memory;
