//! What crosses the system's edge, as bytes or as messages: store payloads, the supplier
//! protocol, queue messages, domain events, webhook signatures and the secrets that sign them.

pub mod channels;
pub mod events;
pub mod messages;
pub mod secrets;
pub mod signature;
pub mod supplier;
